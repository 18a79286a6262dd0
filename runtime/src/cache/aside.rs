//! Cache-aside over any [`Store`]: [`CachedStore`] serves the reads that an entity's
//! [`CachePolicy`] can key from the cache, fills it on a miss, and makes every write forget
//! what it changed, in the same call and again after the commit of a transaction. It is a
//! `Store` itself, so an entity's repository trait comes with it. The cache never fails a call
//! ([`Cached`] turns its errors into misses): when it is down, every read goes to the store.

use std::future::Future;
use std::time::Duration;

use serde_json::Value as Json;
use uuid::Uuid;

use super::{Cached, fill, wire};
use crate::events::Envelope;
use crate::repo::{ListQuery, Page, RepoResult};
use crate::sql::{Later, Tx, Value};
use crate::store::{Record, Store};

/// How an entity is cached: what generated code declares, once per cached entity.
pub struct CachePolicy<E> {
    /// `artifact:{id}`: each placeholder the API name of a field. The key of a row is filled
    /// from its [`CachePolicy::record`].
    pub key: &'static str,
    pub ttl: Duration,
    /// `<domain>:<entity>`: where cached query results and their stamp live.
    pub scope: &'static str,
    /// What fills each placeholder of the key in a get-by-id; `None` when the key names fields
    /// that get-by-id does not know. Then get-by-id is not cached, and a write reads the row
    /// first to forget its old key.
    pub by_id: Option<&'static [(&'static str, Arg)]>,
    /// Whether an update forgets the key of the row it changed.
    pub forget_on_update: bool,
    /// Whether a delete forgets the keys of the rows it deleted.
    pub forget_on_delete: bool,
    /// How each additional method (in the order of [`crate::sql::Mapping::methods`]) reads
    /// through the cache; a method past the end is not cached.
    pub methods: &'static [Read],
    /// Every field by API name, hidden and sensitive ones included: what the cache keeps.
    pub record: fn(&E) -> Json,
    /// A row back from [`CachePolicy::record`]; `None` for anything else.
    pub from_record: fn(Json) -> Option<E>,
}

/// Where a read finds the value of a key placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arg {
    /// The id that get-by-id takes.
    Id,
    /// The caller's organization.
    Org,
    /// The method's argument at this position.
    Param(usize),
}

/// How an additional method reads through the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Straight to the store (deleting methods always: they forget what they delete).
    Uncached,
    /// A single row whose key the arguments spell, cached like get-by-id.
    Row(&'static [(&'static str, Arg)]),
    /// The result under the entity's stamp, which every write replaces.
    Query,
}

impl<E> CachePolicy<E> {
    /// Whether some query result is cached: then every write replaces the stamp.
    fn caches_queries(&self) -> bool {
        self.methods.contains(&Read::Query)
    }

    fn read(&self, method: usize) -> Read {
        self.methods.get(method).copied().unwrap_or(Read::Uncached)
    }

    /// The key of a read, from its arguments; `None` when a placeholder has no value.
    fn key_of_read(
        &self,
        parts: &[(&str, Arg)],
        org: Option<Uuid>,
        id: Option<Uuid>,
        args: &[Value],
    ) -> Option<String> {
        fill(self.key, |name| {
            let (_, arg) = parts.iter().find(|(n, _)| *n == name)?;
            match arg {
                Arg::Id => id.as_ref().map(wire),
                Arg::Org => org.as_ref().map(wire),
                Arg::Param(i) => args.get(*i).map(|v| wire(&json(v))),
            }
        })
    }

    /// The key of `row`, from its own fields.
    fn key_of_row(&self, row: &E) -> Option<String> {
        let record = (self.record)(row);
        fill(self.key, |name| record.get(name).map(wire))
    }
}

/// An SQL argument as JSON, as its Rust value would serialize.
fn json(value: &Value) -> Json {
    let json = match value {
        Value::Text(v) => serde_json::to_value(v),
        Value::Uuid(v) => serde_json::to_value(v),
        Value::Int32(v) => serde_json::to_value(v),
        Value::Int64(v) => serde_json::to_value(v),
        Value::Float(v) => serde_json::to_value(v),
        Value::Bool(v) => serde_json::to_value(v),
        Value::DateTime(v) => serde_json::to_value(v),
        Value::Date(v) => serde_json::to_value(v),
        Value::Json(v) => Ok(v.clone().unwrap_or_default()),
    };
    json.unwrap_or_default()
}

/// `inner` read through `cache` as `policy` says.
pub struct CachedStore<S, E: 'static> {
    inner: S,
    cache: Cached,
    policy: &'static CachePolicy<E>,
    /// Inside a transaction, reads skip the cache (they may see uncommitted rows) and writes
    /// forget their keys again once it commits.
    tx: Option<Tx>,
}

impl<S: Clone, E> Clone for CachedStore<S, E> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            cache: self.cache.clone(),
            policy: self.policy,
            tx: self.tx.clone(),
        }
    }
}

impl<S: Store<E>, E: Record> CachedStore<S, E> {
    /// `store` read through `cache` (in place of any cache it already reads through).
    pub fn over<T: Store<E, Uncached = S>>(
        store: &T,
        cache: &Cached,
        policy: &'static CachePolicy<E>,
    ) -> Self {
        Self {
            inner: store.uncached(),
            cache: cache.clone(),
            policy,
            tx: None,
        }
    }

    /// What the cache holds under `key`, outside a transaction.
    async fn recall(&self, key: &str) -> Option<Json> {
        if self.tx.is_some() {
            return None;
        }
        let bytes = self.cache.get(key).await?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The row the cache holds under `key`.
    async fn recall_row(&self, key: &str) -> Option<E> {
        (self.policy.from_record)(self.recall(key).await?)
    }

    async fn keep(&self, key: &str, value: &Json) {
        if self.tx.is_none() {
            let bytes = serde_json::to_vec(value).unwrap_or_default();
            self.cache.set(key, bytes, self.policy.ttl).await;
        }
    }

    /// A single row under `key`: from the cache when it holds one of the caller's organization
    /// (another organization's row is not there for this caller), else from `load`, then kept.
    async fn row(
        &self,
        org: Option<Uuid>,
        key: &str,
        load: impl Future<Output = RepoResult<Option<E>>> + Send,
    ) -> RepoResult<Option<E>> {
        if let Some(row) = self.recall_row(key).await
            && row.tenant() == org
        {
            return Ok(Some(row));
        }
        let found = load.await?;
        if let Some(row) = &found {
            self.keep(key, &(self.policy.record)(row)).await;
        }
        Ok(found)
    }

    /// The result of `method` for `args`, cached under the entity's current stamp: `to` and
    /// `from` turn it into JSON and back.
    async fn query<T, F>(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
        load: impl FnOnce(Vec<Value>) -> F + Send,
        to: impl Fn(&T) -> Json + Send,
        from: impl Fn(Json) -> Option<T> + Send,
    ) -> RepoResult<T>
    where
        F: Future<Output = RepoResult<T>> + Send,
    {
        let scope = self.policy.scope;
        let stamp = self.cache.stamp(scope).await;
        // The arguments as JSON: no two calls share a key, whatever their text holds.
        let all: Vec<Json> = org
            .map(|o| Json::from(o.to_string()))
            .into_iter()
            .chain(args.iter().map(json))
            .collect();
        let name = E::mapping().methods[method].name;
        let key = format!("{scope}:{name}:{stamp}:{}", Json::Array(all));
        if let Some(hit) = self.recall(&key).await.and_then(from) {
            return Ok(hit);
        }
        let result = load(args).await?;
        self.keep(&key, &to(&result)).await;
        Ok(result)
    }

    /// Forget `keys`, and every cached query result, now and, inside a transaction, after it
    /// commits.
    async fn forget(&self, keys: Vec<String>) {
        let queries = self.policy.caches_queries();
        if keys.is_empty() && !queries {
            return;
        }
        let (cache, scope) = (self.cache.clone(), self.policy.scope);
        let forget = move || -> Later {
            Box::pin(async move {
                cache.forget(keys).await;
                if queries {
                    cache.restamp(scope).await;
                }
            })
        };
        if let Some(tx) = &self.tx {
            tx.after_commit(forget.clone());
        }
        forget().await;
    }

    /// The rows a write will change, when forgetting their keys needs them read first.
    async fn before(&self, org: Option<Uuid>, id: Uuid, forgets: bool) -> RepoResult<Option<E>> {
        if forgets && self.policy.by_id.is_none() {
            self.inner.find(org, id).await
        } else {
            Ok(None)
        }
    }

    /// The keys a write of row `id` forgets: by id, or those of the rows it read and wrote.
    fn keys_of_write<'a>(
        &self,
        org: Option<Uuid>,
        id: Uuid,
        rows: impl Iterator<Item = &'a E>,
    ) -> Vec<String> {
        match self.policy.by_id {
            Some(parts) => self
                .policy
                .key_of_read(parts, org, Some(id), &[])
                .into_iter()
                .collect(),
            None => rows.filter_map(|row| self.policy.key_of_row(row)).collect(),
        }
    }
}

impl<S: Store<E>, E: Record> Store<E> for CachedStore<S, E> {
    async fn insert(&self, org: Option<Uuid>, row: E) -> RepoResult<E> {
        let row = self.inner.insert(org, row).await?;
        self.forget(Vec::new()).await;
        Ok(row)
    }

    async fn find(&self, org: Option<Uuid>, id: Uuid) -> RepoResult<Option<E>> {
        let key = self
            .policy
            .by_id
            .and_then(|parts| self.policy.key_of_read(parts, org, Some(id), &[]));
        let Some(key) = key else {
            return self.inner.find(org, id).await;
        };
        self.row(org, &key, self.inner.find(org, id)).await
    }

    async fn change(
        &self,
        org: Option<Uuid>,
        id: Uuid,
        patch: E::Patch,
        expected: Option<i64>,
    ) -> RepoResult<Option<E>> {
        let forgets = self.policy.forget_on_update;
        let before = self.before(org, id, forgets).await?;
        let after = self.inner.change(org, id, patch, expected).await?;
        let keys = match forgets {
            true => self.keys_of_write(org, id, before.iter().chain(&after)),
            false => Vec::new(),
        };
        self.forget(keys).await;
        Ok(after)
    }

    async fn remove(&self, org: Option<Uuid>, id: Uuid, expected: Option<i64>) -> RepoResult<bool> {
        let forgets = self.policy.forget_on_delete;
        let before = self.before(org, id, forgets).await?;
        let gone = self.inner.remove(org, id, expected).await?;
        if gone {
            let keys = match forgets {
                true => self.keys_of_write(org, id, before.iter()),
                false => Vec::new(),
            };
            self.forget(keys).await;
        }
        Ok(gone)
    }

    async fn page(&self, org: Option<Uuid>, query: &ListQuery) -> RepoResult<Page<E>> {
        self.inner.page(org, query).await
    }

    async fn fetch_one(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Option<E>> {
        let (record, from_record) = (self.policy.record, self.policy.from_record);
        match self.policy.read(method) {
            Read::Row(parts) => match self.policy.key_of_read(parts, org, None, &args) {
                Some(key) => {
                    let load = self.inner.fetch_one(org, method, args);
                    self.row(org, &key, load).await
                }
                None => self.inner.fetch_one(org, method, args).await,
            },
            Read::Query => {
                let load = |args| self.inner.fetch_one(org, method, args);
                let to = move |row: &Option<E>| row.as_ref().map_or(Json::Null, record);
                let from = move |hit: Json| match hit {
                    Json::Null => Some(None),
                    hit => from_record(hit).map(Some),
                };
                self.query(org, method, args, load, to, from).await
            }
            Read::Uncached => self.inner.fetch_one(org, method, args).await,
        }
    }

    async fn fetch_all(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Vec<E>> {
        if self.policy.read(method) != Read::Query {
            return self.inner.fetch_all(org, method, args).await;
        }
        let (record, from_record) = (self.policy.record, self.policy.from_record);
        let load = |args| self.inner.fetch_all(org, method, args);
        let to = move |rows: &Vec<E>| Json::Array(rows.iter().map(record).collect());
        let from = move |hit: Json| match hit {
            Json::Array(rows) => rows.into_iter().map(from_record).collect(),
            _ => None,
        };
        self.query(org, method, args, load, to, from).await
    }

    async fn matching(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Vec<E>> {
        self.inner.matching(org, method, args).await
    }

    async fn count(&self, org: Option<Uuid>, method: usize, args: Vec<Value>) -> RepoResult<u64> {
        if self.policy.read(method) != Read::Query {
            return self.inner.count(org, method, args).await;
        }
        let load = |args| self.inner.count(org, method, args);
        self.query(
            org,
            method,
            args,
            load,
            |n| Json::from(*n),
            |hit| hit.as_u64(),
        )
        .await
    }

    async fn exists(&self, org: Option<Uuid>, method: usize, args: Vec<Value>) -> RepoResult<bool> {
        if self.policy.read(method) != Read::Query {
            return self.inner.exists(org, method, args).await;
        }
        let load = |args| self.inner.exists(org, method, args);
        self.query(
            org,
            method,
            args,
            load,
            |b| Json::from(*b),
            |hit| hit.as_bool(),
        )
        .await
    }

    async fn delete_matching(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<u64> {
        let rows = match self.policy.forget_on_delete {
            true => self.inner.matching(org, method, args.clone()).await?,
            false => Vec::new(),
        };
        let gone = self.inner.delete_matching(org, method, args).await?;
        if gone > 0 {
            let keys = rows.iter().filter_map(|row| self.policy.key_of_row(row));
            self.forget(keys.collect()).await;
        }
        Ok(gone)
    }

    async fn outbox(&self, event: Envelope) -> RepoResult<()> {
        self.inner.outbox(event).await
    }

    fn join(&self, tx: &Tx) -> RepoResult<Self> {
        Ok(Self {
            inner: self.inner.join(tx)?,
            cache: self.cache.clone(),
            policy: self.policy,
            tx: Some(tx.clone()),
        })
    }

    type Uncached = S::Uncached;

    fn uncached(&self) -> S::Uncached {
        self.inner.uncached()
    }
}
