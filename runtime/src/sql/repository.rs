//! The one SQL repository: create, get, update, delete, list and the spec's additional methods
//! for any entity that generated code declares as a [`Record`], on Postgres and SQLite alike.
//!
//! Every call takes one connection (a [`Session`]). It runs in a transaction (a savepoint inside
//! the caller's) when the change writes an event, which must commit with it; on Postgres also
//! for a tenant-scoped call, which tells the row-level-security policy whose rows these are, and
//! for every call inside a caller's transaction, so that a failed statement (a conflict the
//! caller handles) rolls back only itself instead of aborting the caller's transaction.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Mutex;

use uuid::Uuid;

use super::mapping::Statements;
use super::session::{AnyConn, Plan, Session};
use super::value::{Row, Value};
use super::{Db, PgExecutor, Placeholders, SqliteExecutor, Tx, table_error};
use crate::events::Envelope;
use crate::repo::{ListQuery, Page, RepoError, RepoResult};
use crate::store::{Change, Changes, Record, Store};

/// Rows of `E` on Postgres or SQLite, through the pool or inside a shared [`Tx`].
pub struct SqlRepository<E> {
    ex: AnyExecutor,
    /// Rendered from the entity's mapping, in the repository's dialect.
    statements: &'static Statements,
    entity: PhantomData<fn() -> E>,
}

#[derive(Debug, Clone)]
enum AnyExecutor {
    Postgres(PgExecutor),
    Sqlite(SqliteExecutor),
}

impl<E> Clone for SqlRepository<E> {
    fn clone(&self) -> Self {
        Self {
            ex: self.ex.clone(),
            statements: self.statements,
            entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for SqlRepository<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlRepository")
            .field("entity", &std::any::type_name::<E>())
            .field("ex", &self.ex)
            .finish()
    }
}

/// The statements of `E` in one dialect, rendered the first time a repository of `E` is made
/// and kept for the life of the process (statements bind `&'static str`).
fn rendered<E: Record>(style: Placeholders) -> &'static Statements {
    type Rendered = BTreeMap<(TypeId, bool), &'static Statements>;
    static RENDERED: Mutex<Rendered> = Mutex::new(BTreeMap::new());
    let key = (TypeId::of::<E>(), style == Placeholders::Dollar);
    let mut rendered = RENDERED.lock().unwrap_or_else(|e| e.into_inner());
    rendered
        .entry(key)
        .or_insert_with(|| Box::leak(Box::new(E::mapping().statements(style))))
}

fn style(ex: &AnyExecutor) -> Placeholders {
    match ex {
        AnyExecutor::Postgres(_) => Placeholders::Dollar,
        AnyExecutor::Sqlite(_) => Placeholders::Question,
    }
}

impl<E: Record> SqlRepository<E> {
    pub fn new(db: &Db) -> Self {
        let ex = match db {
            Db::Postgres(pool) => AnyExecutor::Postgres(super::Executor::Pool(pool.clone())),
            Db::Sqlite(pool) => AnyExecutor::Sqlite(super::Executor::Pool(pool.clone())),
        };
        Self {
            statements: rendered::<E>(style(&ex)),
            ex,
            entity: PhantomData,
        }
    }

    fn style(&self) -> Placeholders {
        style(&self.ex)
    }

    fn statements(&self) -> &'static Statements {
        self.statements
    }

    fn error(err: sqlx::Error) -> RepoError {
        table_error(E::mapping().table, err)
    }

    /// Bind the tenant after a statement's own values, when the entity has one.
    fn scoped(org: Option<Uuid>, mut args: Vec<Value>) -> Vec<Value> {
        if E::mapping().tenant.is_some() {
            args.push(org.into());
        }
        args
    }

    async fn conn(&self) -> RepoResult<AnyConn<'_>> {
        Ok(match &self.ex {
            AnyExecutor::Postgres(ex) => AnyConn::Postgres(ex.conn().await?),
            AnyExecutor::Sqlite(ex) => AnyConn::Sqlite(ex.conn().await?),
        })
    }

    fn in_transaction(&self) -> bool {
        match &self.ex {
            AnyExecutor::Postgres(ex) => ex.in_transaction(),
            AnyExecutor::Sqlite(ex) => ex.in_transaction(),
        }
    }

    /// Write the event of `change` to `row`, when the entity has one.
    async fn record(session: &mut Session<'_>, change: Change, row: &E) -> RepoResult<()> {
        match E::event(change, row) {
            Some(event) => session.outbox(&event).await.map_err(Self::error),
            None => Ok(()),
        }
    }

    /// How a call holds its connection (see the module's documentation).
    fn plan(&self, org: Option<Uuid>, evented: bool) -> Plan {
        let postgres = matches!(self.ex, AnyExecutor::Postgres(_));
        let tenant = E::mapping().tenant.and(org);
        Plan {
            transaction: evented || (postgres && (tenant.is_some() || self.in_transaction())),
            tenant: tenant.filter(|_| postgres),
            evented,
        }
    }

    /// After a guarded write changed nothing: stale when the row is still there.
    async fn stale_or_missing(
        &self,
        s: &mut Session<'_>,
        org: Option<Uuid>,
        id: Uuid,
        expected: Option<i64>,
    ) -> RepoResult<()> {
        let (Some(expected), Some(_)) = (expected, E::mapping().version) else {
            return Ok(());
        };
        let exists = s.scalar::<bool>(
            &self.statements().exists,
            Self::scoped(org, vec![id.into()]),
        );
        if exists.await.map_err(Self::error)? {
            return Err(RepoError::Stale {
                entity: E::mapping().table.entity,
                id: id.to_string(),
                expected,
            });
        }
        Ok(())
    }

    /// The first row `sql` reads, with the tenant bound after `args`.
    async fn read_one(
        &self,
        org: Option<Uuid>,
        sql: &'static str,
        args: Vec<Value>,
    ) -> RepoResult<Option<E>> {
        let mut conn = self.conn().await?;
        let mut s = conn
            .session(self.plan(org, false))
            .await
            .map_err(Self::error)?;
        let found = s.optional(sql, Self::scoped(org, args)).await;
        let found = decode::<E>(found.map_err(Self::error)?)?;
        s.commit().await.map_err(Self::error)?;
        Ok(found)
    }

    /// The value `sql` (a count, an `EXISTS`) reads, with the tenant bound after `args`.
    async fn read_scalar<T>(
        &self,
        org: Option<Uuid>,
        sql: &'static str,
        args: Vec<Value>,
    ) -> RepoResult<T>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
        T: Send + Unpin,
    {
        let mut conn = self.conn().await?;
        let mut s = conn
            .session(self.plan(org, false))
            .await
            .map_err(Self::error)?;
        let value = s.scalar(sql, Self::scoped(org, args)).await;
        let value = value.map_err(Self::error)?;
        s.commit().await.map_err(Self::error)?;
        Ok(value)
    }

    async fn rows(
        &self,
        org: Option<Uuid>,
        sql: &'static str,
        args: Vec<Value>,
    ) -> RepoResult<Vec<E>> {
        let mut conn = self.conn().await?;
        let mut s = conn
            .session(self.plan(org, false))
            .await
            .map_err(Self::error)?;
        let rows = s
            .all(sql, Self::scoped(org, args))
            .await
            .map_err(Self::error)?;
        s.commit().await.map_err(Self::error)?;
        rows.iter()
            .map(E::decode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Self::error)
    }

    /// The version guard's and the tenant's binds, after a write's own.
    fn guarded(
        &self,
        org: Option<Uuid>,
        mut args: Vec<Value>,
        expected: Option<i64>,
    ) -> Vec<Value> {
        if E::mapping().version.is_some() {
            args.push(expected.into());
        }
        Self::scoped(org, args)
    }
}

impl<E: Record> Store<E> for SqlRepository<E> {
    async fn insert(&self, org: Option<Uuid>, row: E) -> RepoResult<E> {
        let evented = E::mapping().events.created;
        let mut conn = self.conn().await?;
        let mut s = conn
            .session(self.plan(org, evented))
            .await
            .map_err(Self::error)?;
        let found = s.optional(&self.statements().insert, row.values()).await;
        let created = decode::<E>(found.map_err(Self::error)?)?
            .ok_or_else(|| Self::error(sqlx::Error::RowNotFound))?;
        if evented {
            Self::record(&mut s, Change::Created, &created).await?;
        }
        s.commit().await.map_err(Self::error)?;
        Ok(created)
    }

    async fn find(&self, org: Option<Uuid>, id: Uuid) -> RepoResult<Option<E>> {
        self.read_one(org, &self.statements().get, vec![id.into()])
            .await
    }

    /// Set the columns whose flag is true; `None` when no row has this id. With a version,
    /// `expected` guards the write, and a row that moved on is [`RepoError::Stale`].
    async fn change(
        &self,
        org: Option<Uuid>,
        id: Uuid,
        patch: E::Patch,
        expected: Option<i64>,
    ) -> RepoResult<Option<E>> {
        let m = E::mapping();
        let mut args = vec![Value::from(id)];
        for (set, value) in patch.sets() {
            args.push(set.into());
            args.push(value);
        }
        if m.updated_at.is_some() {
            args.push(super::now().into());
        }
        let evented = m.events.updated;
        let mut conn = self.conn().await?;
        let mut s = conn
            .session(self.plan(org, evented))
            .await
            .map_err(Self::error)?;
        let found = s
            .optional(&self.statements().update, self.guarded(org, args, expected))
            .await;
        let updated = decode::<E>(found.map_err(Self::error)?)?;
        if updated.is_none() {
            self.stale_or_missing(&mut s, org, id, expected).await?;
        }
        if let (Some(row), true) = (&updated, evented) {
            Self::record(&mut s, Change::Updated, row).await?;
        }
        s.commit().await.map_err(Self::error)?;
        Ok(updated)
    }

    /// `false` when no row has this id. Soft where the entity deletes softly.
    async fn remove(&self, org: Option<Uuid>, id: Uuid, expected: Option<i64>) -> RepoResult<bool> {
        let m = E::mapping();
        let mut args = vec![Value::from(id)];
        if m.table.soft_delete {
            args.push(super::now().into());
        }
        let evented = m.events.deleted;
        let sql = &self.statements().delete;
        let args = self.guarded(org, args, expected);
        let mut conn = self.conn().await?;
        let mut s = conn
            .session(self.plan(org, evented))
            .await
            .map_err(Self::error)?;
        let gone = if evented {
            let gone = decode::<E>(s.optional(sql, args).await.map_err(Self::error)?)?;
            if let Some(row) = &gone {
                Self::record(&mut s, Change::Deleted, row).await?;
            }
            gone.is_some()
        } else {
            s.execute(sql, args).await.map_err(Self::error)? > 0
        };
        if !gone {
            self.stale_or_missing(&mut s, org, id, expected).await?;
        }
        s.commit().await.map_err(Self::error)?;
        Ok(gone)
    }

    async fn page(&self, org: Option<Uuid>, query: &ListQuery) -> RepoResult<Page<E>> {
        let m = E::mapping();
        let scoped;
        let query = match (m.tenant, org) {
            (Some(tenant), Some(org)) => {
                scoped = query.scoped_to(tenant, org);
                &scoped
            }
            _ => query,
        };
        let sql = super::build_list(m.table, &self.statements().columns, query, self.style());
        let mut conn = self.conn().await?;
        let mut s = conn
            .session(self.plan(org, false))
            .await
            .map_err(Self::error)?;
        let (total, rows) = s.page(sql, query).await.map_err(Self::error)?;
        s.commit().await.map_err(Self::error)?;
        let data = rows.iter().map(E::decode).collect::<Result<Vec<_>, _>>();
        let total = u64::try_from(total).unwrap_or_default();
        Ok(Page::new(data.map_err(Self::error)?, total).with_next_cursor(query))
    }

    /// The first row additional method `method` finds.
    async fn fetch_one(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Option<E>> {
        self.read_one(org, &self.statements().methods[method], args)
            .await
    }

    /// Every row additional method `method` finds.
    async fn fetch_all(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Vec<E>> {
        self.rows(org, &self.statements().methods[method], args)
            .await
    }

    /// The rows additional method `method` would delete, so that a cache can forget them.
    async fn matching(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Vec<E>> {
        self.rows(org, &self.statements().method_rows[method], args)
            .await
    }

    async fn count(&self, org: Option<Uuid>, method: usize, args: Vec<Value>) -> RepoResult<u64> {
        let sql = &self.statements().methods[method];
        let n: i64 = self.read_scalar(org, sql, args).await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    async fn exists(&self, org: Option<Uuid>, method: usize, args: Vec<Value>) -> RepoResult<bool> {
        self.read_scalar(org, &self.statements().methods[method], args)
            .await
    }

    /// Delete the rows additional method `method` matches; how many went.
    async fn delete_matching(
        &self,
        org: Option<Uuid>,
        method: usize,
        mut args: Vec<Value>,
    ) -> RepoResult<u64> {
        let m = E::mapping();
        if m.table.soft_delete {
            args.push(super::now().into());
        }
        let sql = &self.statements().methods[method];
        let args = Self::scoped(org, args);
        let evented = m.events.deleted;
        let mut conn = self.conn().await?;
        let mut s = conn
            .session(self.plan(org, evented))
            .await
            .map_err(Self::error)?;
        let gone = if evented {
            let rows = s.all(sql, args).await.map_err(Self::error)?;
            for row in &rows {
                let gone = E::decode(row).map_err(Self::error)?;
                Self::record(&mut s, Change::Deleted, &gone).await?;
            }
            rows.len() as u64
        } else {
            s.execute(sql, args).await.map_err(Self::error)?
        };
        s.commit().await.map_err(Self::error)?;
        Ok(gone)
    }

    /// Record `event` in the outbox: inside this repository's transaction when it has one, so
    /// that it goes out exactly when the change it describes commits.
    fn join(&self, tx: &Tx) -> RepoResult<Self> {
        let ex = match &self.ex {
            AnyExecutor::Postgres(_) => AnyExecutor::Postgres(tx.postgres()?),
            AnyExecutor::Sqlite(_) => AnyExecutor::Sqlite(tx.sqlite()?),
        };
        Ok(Self {
            ex,
            statements: self.statements,
            entity: PhantomData,
        })
    }

    type Uncached = Self;

    fn uncached(&self) -> Self {
        self.clone()
    }

    async fn outbox(&self, event: Envelope) -> RepoResult<()> {
        let mut conn = self.conn().await?;
        let mut s = conn.session(Plan::plain()).await.map_err(Self::error)?;
        s.outbox(&event).await.map_err(Self::error)?;
        s.commit().await.map_err(Self::error)?;
        Ok(())
    }
}

fn decode<E: Record>(row: Option<Row>) -> RepoResult<Option<E>> {
    row.as_ref()
        .map(E::decode)
        .transpose()
        .map_err(|e| table_error(E::mapping().table, e))
}
