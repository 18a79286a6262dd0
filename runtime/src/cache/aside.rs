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
use crate::memory::record;
use crate::repo::{ListQuery, Page, RepoResult};
use crate::sql::{Later, Tx, Value};
use crate::store::{Record, Store};

/// How an entity is cached: what generated code declares, once per cached entity.
pub struct CachePolicy<E> {
    /// `artifact:{id}`: each placeholder the API name of a field. The key of a row is filled
    /// from its [`crate::memory::record`].
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
    /// A row back from what the cache keeps, its [`crate::memory::record`]; `None` for anything
    /// else.
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

impl<E: Record> CachePolicy<E> {
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
        let record = record(row);
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
            self.keep(key, &record(row)).await;
        }
        Ok(found)
    }

    /// The result of `method` for `args`: when the policy caches it, under the entity's current
    /// stamp, with `to` and `from` turning it into JSON and back.
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
        if self.policy.read(method) != Read::Query {
            return load(args).await;
        }
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

    /// The row a write will change, when forgetting its key needs it read first.
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
        if let Read::Row(parts) = self.policy.read(method)
            && let Some(key) = self.policy.key_of_read(parts, org, None, &args)
        {
            return self
                .row(org, &key, self.inner.fetch_one(org, method, args))
                .await;
        }
        let from_record = self.policy.from_record;
        let load = |args| self.inner.fetch_one(org, method, args);
        let to = move |row: &Option<E>| row.as_ref().map_or(Json::Null, record::<E>);
        let from = move |hit: Json| match hit {
            Json::Null => Some(None),
            hit => from_record(hit).map(Some),
        };
        self.query(org, method, args, load, to, from).await
    }

    async fn fetch_all(
        &self,
        org: Option<Uuid>,
        method: usize,
        args: Vec<Value>,
    ) -> RepoResult<Vec<E>> {
        let from_record = self.policy.from_record;
        let load = |args| self.inner.fetch_all(org, method, args);
        let to = move |rows: &Vec<E>| Json::Array(rows.iter().map(record::<E>).collect());
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
        let load = |args| self.inner.count(org, method, args);
        let to = |n: &u64| Json::from(*n);
        self.query(org, method, args, load, to, |hit| hit.as_u64())
            .await
    }

    async fn exists(&self, org: Option<Uuid>, method: usize, args: Vec<Value>) -> RepoResult<bool> {
        let load = |args| self.inner.exists(org, method, args);
        let to = |b: &bool| Json::from(*b);
        self.query(org, method, args, load, to, |hit| hit.as_bool())
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::cache::{Cache, CacheError, MemoryCache};
    use crate::memory::{MemoryDb, MemoryRepository};
    use crate::sql::{Mapping, Method, Returns, Row};
    use crate::store::Changes;
    use crate::table::{Column, Table};

    /// A tenant-scoped row keyed by a field that can change: `note:{org}:{slug}`.
    #[derive(Debug, Clone, PartialEq, serde::Serialize)]
    struct Note {
        id: Uuid,
        org: Uuid,
        slug: String,
        body: String,
    }

    struct NotePatch {
        slug: Option<String>,
        body: Option<String>,
    }

    static TABLE: Table = Table::new(
        "Note",
        "notes",
        &[
            Column::uuid("id", "id"),
            Column::uuid("org", "org"),
            Column::text("slug", "slug"),
            Column::text("body", "body"),
        ],
    )
    .limits(10, 10);
    static ORG_COLUMN: Column = Column::uuid("org", "org");
    static MAPPING: Mapping = Mapping::new(&TABLE)
        .updatable(&["slug", "body"])
        .tenant(&ORG_COLUMN)
        .methods(&[
            Method::new("by_slug", &["slug"], Returns::Single),
            Method::new("count_by_slug", &["slug"], Returns::Count),
            Method::new("delete_by_slug", &["slug"], Returns::Delete),
        ]);
    static POLICY: CachePolicy<Note> = CachePolicy {
        key: "note:{org}:{slug}",
        ttl: Duration::from_secs(60),
        scope: "test:note",
        by_id: None,
        forget_on_update: true,
        forget_on_delete: true,
        methods: &[
            Read::Row(&[("org", Arg::Org), ("slug", Arg::Param(0))]),
            Read::Query,
        ],
        from_record: |v| {
            let text = |k: &str| v.get(k)?.as_str().map(str::to_string);
            Some(Note {
                id: text("id")?.parse().ok()?,
                org: text("org")?.parse().ok()?,
                slug: text("slug")?,
                body: text("body")?,
            })
        },
    };

    impl Record for Note {
        type New = Note;
        type Patch = NotePatch;
        type Access = crate::crud::Tenant;
        fn from_new(
            new: Note,
            id: Uuid,
            _: chrono::DateTime<chrono::Utc>,
            org: Option<Uuid>,
        ) -> Self {
            Note {
                id,
                org: org.unwrap_or_default(),
                ..new
            }
        }
        fn mapping() -> &'static Mapping {
            &MAPPING
        }
        fn id(&self) -> Uuid {
            self.id
        }
        fn tenant(&self) -> Option<Uuid> {
            Some(self.org)
        }
        fn values(self) -> Vec<Value> {
            vec![
                self.id.into(),
                self.org.into(),
                self.slug.into(),
                self.body.into(),
            ]
        }
        fn decode(_: &Row) -> Result<Self, sqlx::Error> {
            Err(sqlx::Error::RowNotFound)
        }
    }

    impl Changes<Note> for NotePatch {
        fn sets(self) -> Vec<(bool, Value)> {
            vec![
                (self.slug.is_some(), self.slug.into()),
                (self.body.is_some(), self.body.into()),
            ]
        }
        fn apply(self, row: &mut Note) {
            row.slug = self.slug.unwrap_or(row.slug.clone());
            row.body = self.body.unwrap_or(row.body.clone());
        }
    }

    const ORG: Option<Uuid> = Some(Uuid::from_u128(1));
    const OTHER: Option<Uuid> = Some(Uuid::from_u128(2));

    fn note(org: Option<Uuid>, slug: &str) -> Note {
        let (id, org) = (Uuid::now_v7(), org.unwrap_or_default());
        Note {
            id,
            org,
            slug: slug.into(),
            body: "first".into(),
        }
    }

    fn body(text: &str) -> NotePatch {
        NotePatch {
            slug: None,
            body: Some(text.into()),
        }
    }

    /// A store, the same store read through a fresh memory cache, and the cache.
    fn stores() -> (
        MemoryRepository<Note>,
        CachedStore<MemoryRepository<Note>, Note>,
        Cached,
    ) {
        let plain = MemoryRepository::new(&MemoryDb::default(), Vec::new());
        let cache = Cached::new(Arc::new(MemoryCache::new(100)));
        (
            plain.clone(),
            CachedStore::over(&plain, &cache, &POLICY),
            cache,
        )
    }

    async fn by_slug(store: &impl Store<Note>, org: Option<Uuid>, slug: &str) -> Option<Note> {
        store.fetch_one(org, 0, vec![slug.into()]).await.unwrap()
    }

    async fn body_of(store: &impl Store<Note>, org: Option<Uuid>, slug: &str) -> Option<String> {
        by_slug(store, org, slug).await.map(|n| n.body)
    }

    #[tokio::test]
    async fn keyed_reads_are_cached_per_organization_and_writes_forget_old_and_new_keys() {
        let (plain, cached, cache) = stores();
        let made = cached.insert(ORG, note(ORG, "a")).await.unwrap();
        cached.insert(OTHER, note(OTHER, "a")).await.unwrap();
        assert_eq!(by_slug(&cached, ORG, "a").await.as_ref(), Some(&made));
        let key = format!("note:{}:a", ORG.unwrap());
        assert_eq!(
            cache
                .get(&key)
                .await
                .map(|b| serde_json::from_slice(&b).unwrap()),
            Some(json!(made))
        );

        // Behind the cache's back: the keyed read is a hit, another organization's key is its own.
        plain
            .change(ORG, made.id, body("sneaky"), None)
            .await
            .unwrap();
        assert_eq!(body_of(&cached, ORG, "a").await.as_deref(), Some("first"));
        assert_eq!(body_of(&cached, OTHER, "a").await.as_deref(), Some("first"));
        // Get-by-id cannot spell `{slug}`: never cached.
        assert_eq!(
            cached.find(ORG, made.id).await.unwrap().unwrap().body,
            "sneaky"
        );

        // A change of the key field forgets the old key (read first) and the new one.
        assert_eq!(body_of(&cached, ORG, "b").await, None);
        let renamed = NotePatch {
            slug: Some("b".into()),
            body: None,
        };
        cached.change(ORG, made.id, renamed, None).await.unwrap();
        assert_eq!(body_of(&cached, ORG, "a").await, None);
        assert_eq!(body_of(&cached, ORG, "b").await.as_deref(), Some("sneaky"));

        // Deleting by a method forgets the rows it deleted.
        assert_eq!(
            cached
                .delete_matching(ORG, 2, vec!["b".into()])
                .await
                .unwrap(),
            1
        );
        assert_eq!(by_slug(&cached, ORG, "b").await, None);
        assert!(by_slug(&cached, OTHER, "a").await.is_some());
    }

    #[tokio::test]
    async fn query_results_last_until_a_write_through_the_cache() {
        let (plain, cached, _) = stores();
        let count =
            async |store: &CachedStore<_, _>| store.count(ORG, 1, vec!["a".into()]).await.unwrap();
        cached.insert(ORG, note(ORG, "a")).await.unwrap();
        assert_eq!(count(&cached).await, 1);
        plain.insert(ORG, note(ORG, "a")).await.unwrap();
        assert_eq!(count(&cached).await, 1, "cached");
        cached.insert(ORG, note(ORG, "a")).await.unwrap();
        assert_eq!(count(&cached).await, 3, "the write replaced the stamp");
    }

    #[tokio::test]
    async fn transactions_read_past_the_cache_and_forget_again_after_commit() {
        let (plain, cached, _) = stores();
        let made = cached.insert(ORG, note(ORG, "a")).await.unwrap();
        assert_eq!(body_of(&cached, ORG, "a").await.as_deref(), Some("first"));
        plain
            .change(ORG, made.id, body("behind"), None)
            .await
            .unwrap();

        let tx = Tx::memory();
        let in_tx = cached.join(&tx).unwrap();
        assert_eq!(
            body_of(&in_tx, ORG, "a").await.as_deref(),
            Some("behind"),
            "no cache inside"
        );
        in_tx
            .change(ORG, made.id, body("in tx"), None)
            .await
            .unwrap();
        // A reader outside refills the key before the commit, then the row moves on again.
        assert_eq!(body_of(&cached, ORG, "a").await.as_deref(), Some("in tx"));
        plain
            .change(ORG, made.id, body("after"), None)
            .await
            .unwrap();
        assert_eq!(body_of(&cached, ORG, "a").await.as_deref(), Some("in tx"));
        tx.commit().await.unwrap();
        assert_eq!(
            body_of(&cached, ORG, "a").await.as_deref(),
            Some("after"),
            "forgotten at commit"
        );
    }

    struct Down;

    #[async_trait::async_trait]
    impl Cache for Down {
        async fn get(&self, _: &str) -> Result<Option<Vec<u8>>, CacheError> {
            Err(CacheError("down".into()))
        }
        async fn set(&self, _: &str, _: Vec<u8>, _: Duration) -> Result<(), CacheError> {
            Err(CacheError("down".into()))
        }
        async fn delete(&self, _: &[String]) -> Result<(), CacheError> {
            Err(CacheError("down".into()))
        }
        fn backend(&self) -> &'static str {
            "down"
        }
    }

    #[tokio::test]
    async fn a_cache_that_is_down_fails_no_call() {
        let (plain, _, _) = stores();
        let cached = CachedStore::over(&plain, &Cached::new(Arc::new(Down)), &POLICY);
        let made = cached.insert(ORG, note(ORG, "a")).await.unwrap();
        assert_eq!(by_slug(&cached, ORG, "a").await, Some(made.clone()));
        assert_eq!(cached.count(ORG, 1, vec!["a".into()]).await.unwrap(), 1);
        cached.change(ORG, made.id, body("x"), None).await.unwrap();
        assert!(cached.remove(ORG, made.id, None).await.unwrap());
        assert_eq!(by_slug(&cached, ORG, "a").await, None);
    }

    #[test]
    fn a_second_cache_replaces_the_first() {
        let (_, cached, cache) = stores();
        let again: CachedStore<MemoryRepository<Note>, Note> =
            CachedStore::over(&cached, &cache, &POLICY);
        let _ = again;
    }
}
