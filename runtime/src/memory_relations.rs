//! Foreign keys between mock tables, kept the way the databases keep them: a write that refers to
//! a missing row is a conflict, and deleting a referenced row restricts, cascades or clears as the
//! relation says. The tables of one service find each other through a [`MemoryDb`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock, Weak};

use serde_json::Value;

use crate::events::Envelope;
use crate::repo::{RepoError, RepoResult};
use crate::sql::MemoryTx;

/// What deleting a referenced row does to the rows that refer to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// The default: refuse while rows refer to it (checked at once, as SQL does without
    /// deferred constraints).
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    /// Treated as `NoAction`: the mock has no column defaults to fall back on.
    SetDefault,
}

/// A key of a table of `T` rows.
pub struct ForeignKey<T> {
    /// The referring field, by API name.
    pub field: &'static str,
    /// The referenced table and field.
    pub table: &'static str,
    pub target: &'static str,
    pub on_delete: OnDelete,
    /// Empties the field, for `SET NULL`; `None` when it cannot be null.
    pub clear: Option<fn(&mut T)>,
}

impl<T> ForeignKey<T> {
    /// `field` refers to `target` of `table`.
    pub fn new(
        field: &'static str,
        table: &'static str,
        target: &'static str,
        on_delete: OnDelete,
    ) -> Self {
        Self {
            field,
            table,
            target,
            on_delete,
            clear: None,
        }
    }

    /// How to empty the field, for a nullable one.
    pub fn clear(self, clear: fn(&mut T)) -> Self {
        Self {
            clear: Some(clear),
            ..self
        }
    }
}

/// The mock tables of one service, by table name. Tables hold it; it holds them weakly.
#[derive(Clone, Default)]
pub struct MemoryDb {
    tables: Arc<RwLock<BTreeMap<&'static str, Weak<dyn Relational>>>>,
    /// The mocks' outbox: events in the order their changes happened.
    events: Arc<Mutex<Vec<Envelope>>>,
}

impl MemoryDb {
    pub fn register(&self, name: &'static str, table: &Arc<dyn Relational>) {
        self.tables
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, Arc::downgrade(table));
    }

    /// Every event the mocks have recorded, oldest first.
    pub fn events(&self) -> Vec<Envelope> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Record `event`, as a repository's outbox would; inside `tx`, a rollback takes it back.
    pub fn record(&self, event: Envelope, tx: Option<&MemoryTx>) -> RepoResult<()> {
        if let Some(tx) = tx {
            let (id, log) = (event.id, Arc::clone(&self.events));
            tx.record(Box::new(move || {
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|e| e.id != id);
            }))?;
        }
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(event);
        Ok(())
    }

    pub(crate) fn get(&self, name: &str) -> Option<Arc<dyn Relational>> {
        let tables = self.tables.read().unwrap_or_else(|e| e.into_inner());
        tables.get(name).and_then(Weak::upgrade)
    }

    pub(crate) fn all(&self) -> Vec<Arc<dyn Relational>> {
        let tables = self.tables.read().unwrap_or_else(|e| e.into_inner());
        tables.values().filter_map(Weak::upgrade).collect()
    }
}

/// A mock table as other tables see it.
pub trait Relational: Send + Sync {
    /// Whether a row holds `value` in `field`.
    fn has(&self, field: &str, value: &Value) -> bool;
    /// This table's keys that reference `table`: (field, target field, action).
    fn keys_to(&self, table: &str) -> Vec<(&'static str, &'static str, OnDelete)>;
    /// Remember the table's rows in `tx`, to restore them on rollback.
    fn journal(self: Arc<Self>, tx: &MemoryTx) -> RepoResult<()>;
    /// The rows whose `field` is one of `values` lost the row they referred to.
    fn parent_deleted(
        self: Arc<Self>,
        field: &'static str,
        values: &[Value],
        action: OnDelete,
        journals: &[&MemoryTx],
    ) -> RepoResult<()>;
}

/// The error a database gives for a broken key, worded the same.
pub(crate) fn broken_key() -> RepoError {
    RepoError::Conflict {
        message:
            "the request refers to a row that does not exist, or that other rows still refer to"
                .into(),
        constraint: None,
    }
}
