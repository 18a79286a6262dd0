//! The contract between generated entities and the repositories that store them.
//!
//! Generated code declares each entity as a [`Record`]: its [`Mapping`] (table, columns,
//! options, additional methods), how its fields bind and decode, and the events its changes
//! raise. A [`Store`] does the rest for any record: [`crate::sql::SqlRepository`] on Postgres and
//! SQLite, [`crate::memory::MemoryRepository`] in memory for tests. Each entity's repository
//! trait is implemented once, by generated code, over every `Store` of that entity.

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::events::Envelope;
use crate::repo::{ListQuery, Page, RepoResult};
use crate::sql::{Mapping, Row, Tx, Value};

/// An entity as repositories store it.
pub trait Record: Clone + serde::Serialize + Send + Sync + Sized + 'static {
    /// What a create takes: every field but those the repository sets.
    type New: Send + 'static;
    /// The change an update makes: fields to set, absent ones kept.
    type Patch: Changes<Self>;
    /// Which of the CRUD traits of [`crate::crud`] its repository extends.
    type Access: crate::crud::Access;

    /// A new row: `new` with the fields the repository sets (id, times, version, the
    /// organization `org` of a tenant-scoped entity).
    fn from_new(new: Self::New, id: Uuid, now: DateTime<Utc>, org: Option<Uuid>) -> Self;

    fn mapping() -> &'static Mapping;
    fn id(&self) -> Uuid;
    /// The organization the row belongs to, for a tenant-scoped entity.
    fn tenant(&self) -> Option<Uuid> {
        None
    }
    /// The row's version, for an entity with optimistic concurrency.
    fn version(&self) -> Option<i64> {
        None
    }
    /// After an update: set `updatedAt` and move the version on, where the entity has them.
    fn touch(&mut self, now: DateTime<Utc>) {
        let _ = now;
    }
    /// Every column's value, in the order of [`Mapping::columns`].
    fn values(self) -> Vec<Value>;
    fn decode(row: &Row) -> Result<Self, sqlx::Error>;
    /// The event a change writes to the outbox, for the changes [`Mapping::events`] names.
    fn event(change: Change, row: &Self) -> Option<Envelope> {
        let _ = (change, row);
        None
    }
}

/// A patch of `E`, applied by SQL (as `(set, value)` pairs in the order of
/// [`Mapping::updatable`]) or in memory.
pub trait Changes<E>: Send + 'static {
    fn sets(self) -> Vec<(bool, Value)>;
    /// `null` on a field that cannot be null was refused by validation and is ignored here.
    fn apply(self, row: &mut E);
}

/// A change that raises an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Created,
    Updated,
    Deleted,
}

/// Where rows of `E` live. `org` is the caller's organization for a tenant-scoped entity (every
/// call sees that organization's rows only) and `None` otherwise; `expected` is the version a
/// write expects (`None`: any); `method` indexes [`Mapping::methods`], whose columns `args`
/// match in order.
pub trait Store<E: Record>: Clone + Send + Sync + 'static {
    fn insert(&self, org: Option<Uuid>, row: E) -> impl Future<Output = RepoResult<E>> + Send;
    fn find(
        &self,
        org: Option<Uuid>,
        id: Uuid,
    ) -> impl Future<Output = RepoResult<Option<E>>> + Send;
    /// `None` when no row has this id; [`crate::RepoError::Stale`] when it moved on.
    fn change(
        &self,
        org: Option<Uuid>,
        id: Uuid,
        patch: E::Patch,
        expected: Option<i64>,
    ) -> impl Future<Output = RepoResult<Option<E>>> + Send;
    /// `false` when no row has this id. Soft where the entity deletes softly.
    fn remove(
        &self,
        org: Option<Uuid>,
        id: Uuid,
        expected: Option<i64>,
    ) -> impl Future<Output = RepoResult<bool>> + Send;
    fn page(
        &self,
        org: Option<Uuid>,
        query: &ListQuery,
    ) -> impl Future<Output = RepoResult<Page<E>>> + Send;
    /// The first row (by id) that `method` matches.
    fn fetch_one(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> impl Future<Output = RepoResult<Option<E>>> + Send;
    /// Every row (by id) that `method` matches.
    fn fetch_all(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> impl Future<Output = RepoResult<Vec<E>>> + Send;
    /// The rows a deleting `method` would delete, so that a cache can forget them.
    fn matching(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> impl Future<Output = RepoResult<Vec<E>>> + Send;
    fn count(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> impl Future<Output = RepoResult<u64>> + Send;
    fn exists(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> impl Future<Output = RepoResult<bool>> + Send;
    /// Delete what `method` matches; how many rows went.
    fn delete_matching(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> impl Future<Output = RepoResult<u64>> + Send;
    /// Record `event` in the outbox: inside this store's transaction when it has one, so that
    /// it goes out exactly when the change it describes commits.
    fn outbox(&self, event: Envelope) -> impl Future<Output = RepoResult<()>> + Send;
    /// The same store with its statements inside `tx` (an error when `tx` belongs to another
    /// database).
    fn join(&self, tx: &Tx) -> RepoResult<Self>;
    /// What a cache goes in front of: the store itself, except for a cache
    /// (`crate::cache::CachedStore`), which is replaced rather than stacked on.
    type Uncached: Store<E>;
    fn uncached(&self) -> Self::Uncached;
}
