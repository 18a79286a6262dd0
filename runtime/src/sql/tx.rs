//! Executors and transactions. A generated repository runs its statements on an [`Executor`]: the
//! pool, or a transaction shared with other repositories, so that a caller can compose calls to
//! several repositories (of several domains) and commit or roll them back together:
//!
//! ```ignore
//! let tx = db.begin().await?;
//! let repos = repos.in_tx(&tx)?;
//! let pipeline = repos.pipelines.pipelines.create(new_pipeline).await?;
//! repos.pipelines.steps.create(first_step(pipeline.id)).await?;
//! tx.commit().await?;
//! ```
//!
//! The transaction sits behind an async mutex because repositories are shared trait objects: calls
//! inside one transaction run one at a time, as they must on one connection.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex as StdMutex};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool, Postgres, Sqlite, Transaction};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use super::{Db, map_error};
use crate::repo::{RepoError, RepoResult};

type Shared<DB> = Arc<Mutex<Option<Transaction<'static, DB>>>>;

/// Where a repository runs its statements.
#[derive(Debug)]
pub enum Executor<DB: Database> {
    Pool(Pool<DB>),
    Tx(Shared<DB>),
}

impl<DB: Database> Clone for Executor<DB> {
    fn clone(&self) -> Self {
        match self {
            Executor::Pool(p) => Executor::Pool(p.clone()),
            Executor::Tx(t) => Executor::Tx(t.clone()),
        }
    }
}

pub type PgExecutor = Executor<Postgres>;
pub type SqliteExecutor = Executor<Sqlite>;

/// A connection for one repository call: pooled, or the transaction's own.
pub enum Conn<'a, DB: Database> {
    Pooled(PoolConnection<DB>),
    Tx(MappedMutexGuard<'a, Transaction<'static, DB>>),
}

impl<DB: Database> Deref for Conn<'_, DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &Self::Target {
        match self {
            Conn::Pooled(c) => c,
            Conn::Tx(t) => t,
        }
    }
}

impl<DB: Database> DerefMut for Conn<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Conn::Pooled(c) => c,
            Conn::Tx(t) => t,
        }
    }
}

impl<DB: Database> Executor<DB> {
    /// The connection to run the next statements on. Inside a transaction, other calls on the
    /// same transaction wait until it is dropped.
    pub async fn conn(&self) -> RepoResult<Conn<'_, DB>> {
        match self {
            Executor::Pool(pool) => Ok(Conn::Pooled(pool.acquire().await.map_err(map_error)?)),
            Executor::Tx(shared) => MutexGuard::try_map(shared.lock().await, Option::as_mut)
                .map(Conn::Tx)
                .map_err(|_| finished()),
        }
    }

    pub fn in_transaction(&self) -> bool {
        matches!(self, Executor::Tx(_))
    }
}

fn finished() -> RepoError {
    RepoError::Database("the transaction was already committed or rolled back".into())
}

/// A transaction that repositories of any domain can join through their `in_tx`. Dropping it
/// without [`Tx::commit`] rolls it back once no repository bound to it is left.
#[derive(Clone)]
pub struct Tx {
    kind: Kind,
    /// Run once the transaction has committed: work that must not see uncommitted data, such as
    /// forgetting cache entries that a concurrent reader could have refilled meanwhile.
    after_commit: Arc<StdMutex<Vec<Hook>>>,
}

/// Work to run later, on any task.
pub type Later = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'static>>;

type Hook = Box<dyn FnOnce() -> Later + Send>;

#[derive(Clone)]
enum Kind {
    Postgres(Shared<Postgres>),
    Sqlite(Shared<Sqlite>),
    /// For the in-memory mock repositories.
    Memory(Arc<MemoryTx>),
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tx({})", self.backend())
    }
}

impl Db {
    pub async fn begin(&self) -> RepoResult<Tx> {
        Ok(Tx::of(match self {
            Db::Postgres(pool) => Kind::Postgres(Arc::new(Mutex::new(Some(
                pool.begin().await.map_err(map_error)?,
            )))),
            // IMMEDIATE takes the write lock at once: a deferred transaction that reads and then
            // writes fails when another connection wrote in between (SQLITE_BUSY_SNAPSHOT).
            Db::Sqlite(pool) => Kind::Sqlite(Arc::new(Mutex::new(Some(
                pool.begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(map_error)?,
            )))),
        }))
    }
}

impl Tx {
    /// A transaction for mock repositories: writes are undone on rollback. It isolates nothing:
    /// other callers see its writes before the commit.
    pub fn memory() -> Self {
        Self::of(Kind::Memory(Arc::new(MemoryTx::default())))
    }

    fn of(kind: Kind) -> Self {
        Self {
            kind,
            after_commit: Arc::default(),
        }
    }

    /// Run `hook` after a successful commit (never after a rollback).
    pub fn after_commit(&self, hook: impl FnOnce() -> Later + Send + 'static) {
        self.after_commit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Box::new(hook));
    }

    pub fn backend(&self) -> &'static str {
        match &self.kind {
            Kind::Postgres(_) => "postgres",
            Kind::Sqlite(_) => "sqlite",
            Kind::Memory(_) => "memory",
        }
    }

    pub async fn commit(self) -> RepoResult<()> {
        match &self.kind {
            Kind::Postgres(t) => commit(t).await?,
            Kind::Sqlite(t) => commit(t).await?,
            Kind::Memory(m) => m.finish(),
        }
        let hooks =
            std::mem::take(&mut *self.after_commit.lock().unwrap_or_else(|e| e.into_inner()));
        for hook in hooks {
            hook().await;
        }
        // Events written inside it can go out now.
        crate::events::wake();
        Ok(())
    }

    pub async fn rollback(self) -> RepoResult<()> {
        match &self.kind {
            Kind::Postgres(t) => rollback(t).await,
            Kind::Sqlite(t) => rollback(t).await,
            Kind::Memory(m) => {
                m.undo();
                Ok(())
            }
        }
    }

    /// The executor for a Postgres repository, or an error naming both databases.
    pub fn postgres(&self) -> RepoResult<PgExecutor> {
        match &self.kind {
            Kind::Postgres(t) => Ok(Executor::Tx(t.clone())),
            _ => Err(self.mismatch("postgres")),
        }
    }

    pub fn sqlite(&self) -> RepoResult<SqliteExecutor> {
        match &self.kind {
            Kind::Sqlite(t) => Ok(Executor::Tx(t.clone())),
            _ => Err(self.mismatch("sqlite")),
        }
    }

    pub fn memory_log(&self) -> RepoResult<Arc<MemoryTx>> {
        match &self.kind {
            Kind::Memory(m) => Ok(m.clone()),
            _ => Err(self.mismatch("memory")),
        }
    }

    fn mismatch(&self, repository: &str) -> RepoError {
        RepoError::Database(
            format!(
                "a {repository} repository cannot join a {} transaction",
                self.backend()
            )
            .into(),
        )
    }
}

async fn commit<DB: Database>(shared: &Shared<DB>) -> RepoResult<()> {
    let tx = shared.lock().await.take().ok_or_else(finished)?;
    tx.commit().await.map_err(map_error)
}

async fn rollback<DB: Database>(shared: &Shared<DB>) -> RepoResult<()> {
    let tx = shared.lock().await.take().ok_or_else(finished)?;
    tx.rollback().await.map_err(map_error)
}

type Undo = Box<dyn FnOnce() + Send>;

/// The undo log of a mock transaction: each write records how to restore what it changed.
/// `None` once committed or rolled back.
pub struct MemoryTx {
    undo: StdMutex<Option<Vec<Undo>>>,
}

impl Default for MemoryTx {
    fn default() -> Self {
        Self {
            undo: StdMutex::new(Some(Vec::new())),
        }
    }
}

impl MemoryTx {
    /// Remember how to undo a write made inside this transaction.
    pub fn record(&self, undo: Undo) -> RepoResult<()> {
        let mut log = self.undo.lock().unwrap_or_else(|e| e.into_inner());
        let entries = log.as_mut().ok_or_else(finished)?;
        entries.push(undo);
        Ok(())
    }

    /// Fails once the transaction is over, as a finished SQL transaction does.
    pub fn check_open(&self) -> RepoResult<()> {
        let log = self.undo.lock().unwrap_or_else(|e| e.into_inner());
        log.as_ref().map(|_| ()).ok_or_else(finished)
    }

    /// Forget the undo log: its writes stand.
    pub(crate) fn finish(&self) {
        *self.undo.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Undo every write recorded so far, newest first, so each table ends as it was before its
    /// first write.
    pub(crate) fn undo(&self) {
        let entries = self
            .undo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_default();
        for undo in entries.into_iter().rev() {
            undo();
        }
    }
}

impl Drop for MemoryTx {
    fn drop(&mut self) {
        self.undo();
    }
}

/// Before a mock repository writes to `table` inside `tx`, remember how to put it back.
pub fn journal<T: Clone + Send + Sync + 'static>(
    table: &Arc<crate::memory::MemoryTable<T>>,
    tx: Option<&MemoryTx>,
) -> RepoResult<()> {
    let Some(tx) = tx else { return Ok(()) };
    let snapshot = table.snapshot();
    let table = Arc::clone(table);
    tx.record(Box::new(move || table.restore(snapshot)))
}

/// One repository call's hold on its connection: the connection itself, or inside a caller's
/// transaction a savepoint, so that a failing statement (a conflict the caller handles, say)
/// rolls back only itself. On Postgres a failed statement would otherwise abort the whole
/// transaction and fail every later call in it.
pub enum Scope<'c, DB: Database> {
    Plain(&'c mut DB::Connection),
    Nested(Transaction<'c, DB>),
}

impl<'c, DB: Database> Scope<'c, DB> {
    pub async fn open(conn: &'c mut DB::Connection, nested: bool) -> Result<Self, sqlx::Error> {
        if nested {
            Ok(Scope::Nested(sqlx::Connection::begin(conn).await?))
        } else {
            Ok(Scope::Plain(conn))
        }
    }

    /// Keep what the call did. Dropping a nested scope instead rolls back to its savepoint.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Scope::Plain(_) => Ok(()),
            Scope::Nested(tx) => tx.commit().await,
        }
    }
}

impl<DB: Database> Deref for Scope<'_, DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &Self::Target {
        match self {
            Scope::Plain(c) => c,
            Scope::Nested(t) => t,
        }
    }
}

impl<DB: Database> DerefMut for Scope<'_, DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Scope::Plain(c) => c,
            Scope::Nested(t) => t,
        }
    }
}
