//! The in-memory [`Store`] behind generated mocks: the same promises as the SQL repository
//! (unique and foreign keys, filters, sorting and paging, versions, tenants, events and
//! transactions, undone on rollback though not isolated), for any [`Record`].

use std::sync::Arc;

use uuid::Uuid;

use crate::events::Envelope;
use crate::memory::{ForeignKey, MemoryDb, MemoryTable};
use crate::repo::{ListQuery, Page, RepoError, RepoResult};
use crate::sql::{MemoryTx, Tx, Value, journal};
use crate::store::{Change, Changes, Record, Store};

/// Every field of `row` by API name, hidden ones included, as serde writes each value: what the
/// memory store compares and a cache keeps.
pub fn record<E: Record>(row: &E) -> serde_json::Value {
    let columns = E::mapping().table.columns.iter();
    let fields = columns
        .zip(row.clone().values())
        .map(|(c, v)| (c.field.to_string(), v.to_json()));
    serde_json::Value::Object(fields.collect())
}

/// Rows of `E` in memory.
pub struct MemoryRepository<E> {
    table: Arc<MemoryTable<E>>,
    tx: Option<Arc<MemoryTx>>,
    /// The store, whose outbox records the events.
    db: MemoryDb,
}

impl<E> Clone for MemoryRepository<E> {
    fn clone(&self) -> Self {
        Self {
            table: self.table.clone(),
            tx: self.tx.clone(),
            db: self.db.clone(),
        }
    }
}

impl<E: Record> MemoryRepository<E> {
    /// A table of `db`, whose foreign `keys` are kept against the other tables of `db`. Rows
    /// compare by their [`record`] (every field by API name, hidden ones included), for unique
    /// keys and for the keys of other tables.
    pub fn new(db: &MemoryDb, keys: Vec<ForeignKey<E>>) -> Self {
        let table = E::mapping().table;
        let rows = MemoryTable::new(table.entity, table.unique, record::<E>)
            .soft_deleting(table.soft_delete)
            .related(table.name, db, keys);
        Self {
            table: rows,
            tx: None,
            db: db.clone(),
        }
    }

    /// Before a write: inside a transaction, remember how to undo it.
    fn journal(&self) -> RepoResult<()> {
        journal(&self.table, self.tx.as_deref())
    }

    /// Before a read: a finished transaction refuses, as a SQL one does.
    fn open(&self) -> RepoResult<()> {
        self.tx.as_deref().map_or(Ok(()), MemoryTx::check_open)
    }

    fn record(&self, change: Change, row: &E) -> RepoResult<()> {
        match E::event(change, row) {
            Some(event) => self.db.record(event, self.tx.as_deref()),
            None => Ok(()),
        }
    }

    /// The row `id` of the caller's organization, at the version a write expects.
    fn the(org: Option<Uuid>, id: Uuid, expected: Option<i64>) -> impl Fn(&E) -> bool {
        move |r| r.id() == id && mine(org, r) && expected.is_none_or(|v| r.version() == Some(v))
    }

    /// A guarded write matched nothing: stale when the row is still there.
    fn stale(&self, org: Option<Uuid>, id: Uuid, expected: Option<i64>) -> RepoResult<()> {
        match expected {
            Some(expected) if self.table.find(Self::the(org, id, None)).is_some() => {
                Err(RepoError::Stale {
                    entity: E::mapping().table.entity,
                    id: id.to_string(),
                    expected,
                })
            }
            _ => Ok(()),
        }
    }

    /// Rows of the caller's organization whose method columns equal `args`, as SQL compares
    /// them (a NULL equals nothing).
    fn matches(org: Option<Uuid>, method: usize, args: Vec<Value>) -> impl Fn(&E) -> bool {
        let m = E::mapping();
        let positions: Vec<usize> = m.methods[method]
            .columns
            .iter()
            .map(|c| m.columns().position(|col| col == *c).unwrap_or(usize::MAX))
            .collect();
        move |r| {
            let values = r.clone().values();
            mine(org, r)
                && positions
                    .iter()
                    .zip(&args)
                    .all(|(&i, arg)| values.get(i).is_some_and(|v| v == arg))
        }
    }

    fn sorted(&self, org: Option<Uuid>, method: usize, args: Vec<Value>) -> RepoResult<Vec<E>> {
        self.open()?;
        let mut rows = self.table.select(Self::matches(org, method, args));
        rows.sort_by_key(Record::id);
        Ok(rows)
    }
}

/// Whether `row` belongs to the caller's organization (always, for an entity without tenants).
fn mine<E: Record>(org: Option<Uuid>, row: &E) -> bool {
    org.is_none() || row.tenant() == org
}

impl<E: Record> Store<E> for MemoryRepository<E> {
    async fn insert(&self, _org: Option<Uuid>, row: E) -> RepoResult<E> {
        self.journal()?;
        let created = self.table.insert(row)?;
        self.record(Change::Created, &created)?;
        Ok(created)
    }

    async fn find(&self, org: Option<Uuid>, id: Uuid) -> RepoResult<Option<E>> {
        self.open()?;
        Ok(self.table.find(Self::the(org, id, None)))
    }

    async fn change(
        &self,
        org: Option<Uuid>,
        id: Uuid,
        patch: E::Patch,
        expected: Option<i64>,
    ) -> RepoResult<Option<E>> {
        self.journal()?;
        let found = self.table.update(Self::the(org, id, expected), |r| {
            patch.apply(r);
            r.touch(crate::sql::now());
        })?;
        match &found {
            Some(row) => self.record(Change::Updated, row)?,
            None => self.stale(org, id, expected)?,
        }
        Ok(found)
    }

    async fn remove(&self, org: Option<Uuid>, id: Uuid, expected: Option<i64>) -> RepoResult<bool> {
        self.journal()?;
        let before = self.table.find(Self::the(org, id, expected));
        let gone = self
            .table
            .delete_where(Self::the(org, id, expected), self.tx.as_deref())?
            > 0;
        match (gone, before) {
            (true, Some(row)) => self.record(Change::Deleted, &row)?,
            (false, _) => self.stale(org, id, expected)?,
            (true, None) => {}
        }
        Ok(gone)
    }

    async fn page(&self, org: Option<Uuid>, query: &ListQuery) -> RepoResult<Page<E>> {
        self.open()?;
        match (E::mapping().tenant, org) {
            (Some(tenant), Some(org)) => self.table.list(&query.scoped_to(tenant, org)),
            _ => self.table.list(query),
        }
    }

    async fn fetch_one(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Option<E>> {
        Ok(self.sorted(org, method, args)?.into_iter().next())
    }

    async fn fetch_all(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Vec<E>> {
        self.sorted(org, method, args)
    }

    async fn matching(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Vec<E>> {
        self.open()?;
        Ok(self.table.select(Self::matches(org, method, args)))
    }

    async fn count(&self, org: Option<Uuid>, method: usize, args: Vec<Value>) -> RepoResult<u64> {
        self.open()?;
        Ok(self.table.select(Self::matches(org, method, args)).len() as u64)
    }

    async fn exists(&self, org: Option<Uuid>, method: usize, args: Vec<Value>) -> RepoResult<bool> {
        self.open()?;
        Ok(self.table.find(Self::matches(org, method, args)).is_some())
    }

    async fn delete_matching(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<u64> {
        self.journal()?;
        let doomed = self.table.select(Self::matches(org, method, args.clone()));
        let gone = self
            .table
            .delete_where(Self::matches(org, method, args), self.tx.as_deref())?;
        for row in &doomed {
            self.record(Change::Deleted, row)?;
        }
        Ok(gone)
    }

    async fn outbox(&self, event: Envelope) -> RepoResult<()> {
        self.db.record(event, self.tx.as_deref())
    }

    fn join(&self, tx: &Tx) -> RepoResult<Self> {
        Ok(Self {
            table: self.table.clone(),
            tx: Some(tx.memory_log()?),
            db: self.db.clone(),
        })
    }

    type Uncached = Self;

    fn uncached(&self) -> Self {
        self.clone()
    }
}
