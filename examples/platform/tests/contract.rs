//! One contract, four stores: the generated repositories on Postgres, on an SQLite file, on
//! in-memory SQLite, and the in-memory mock must all give the same answers to the same calls.

use archgen_platform::generated::storage::StorageRepositories;
use archgen_platform::generated::storage::repository::{
    LABEL_TABLE, LabelPatch, NewArtifact, NewLabel,
};
use archgen_runtime as rt;
use rt::RepoError;
use rt::prelude::*;

const ORG: Uuid = Uuid::from_u128(0x1111_1111_1111_4111_8111_1111_1111_1111);
const OTHER: Uuid = Uuid::from_u128(0x2222_2222_2222_4222_8222_2222_2222_2222);

fn label(name: &str) -> NewLabel {
    NewLabel {
        name: name.into(),
        description: None,
        color: "#808080".into(),
    }
}

fn artifact(org: Uuid) -> NewArtifact {
    NewArtifact {
        name: None,
        description: None,
        credits: 0,
        mime_type: "text/plain".into(),
        organization_id: org,
        producer_id: None,
        text: None,
        url: None,
        size_bytes: None,
        checksum: None,
    }
}

fn rename(name: &str) -> LabelPatch {
    LabelPatch {
        name: Patch::Value(name.into()),
        ..Default::default()
    }
}

/// The contract. Everything it observes is returned, so the stores can be compared with each
/// other too. `begin` opens a transaction on the store under test.
async fn contract(repos: StorageRepositories, begin: impl AsyncFn() -> rt::sql::Tx) -> Vec<String> {
    let labels = &repos.labels;
    let mut seen = Vec::new();
    let a = labels.create(ORG, label("alpha")).await.unwrap();
    let b = labels.create(ORG, label("beta")).await.unwrap();
    let other = labels.create(OTHER, label("alpha")).await.unwrap();
    assert_eq!(a.organization_id, ORG, "the tenant comes from the caller");
    assert_eq!(labels.get(ORG, a.id).await.unwrap().as_ref(), Some(&a));
    assert_eq!(labels.get(ORG, Uuid::nil()).await.unwrap(), None);

    // Tenancy: another organization's row does not exist for this caller.
    assert_eq!(labels.get(ORG, other.id).await.unwrap(), None);
    assert_eq!(
        labels
            .update(ORG, other.id, rename("x"), None)
            .await
            .unwrap(),
        None
    );
    assert!(!labels.delete(ORG, other.id, None).await.unwrap());
    assert_eq!(
        labels.get(OTHER, other.id).await.unwrap().unwrap().name,
        "alpha"
    );

    // Unique (organizationID, name): a typed conflict naming the fields.
    match labels.create(ORG, label("alpha")).await {
        Err(RepoError::Conflict { constraint, .. }) => {
            seen.push(format!("conflict {constraint:?}"))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    match labels.update(ORG, b.id, rename("alpha"), None).await {
        Err(RepoError::Conflict { constraint, .. }) => {
            seen.push(format!("update conflict {constraint:?}"))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    // Absent keeps, a value replaces; the update time and the version move.
    let patched = labels
        .update(
            ORG,
            b.id,
            LabelPatch {
                color: Patch::Value("#000000".into()),
                ..Default::default()
            },
            Some(b.version),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (patched.name.as_str(), patched.color.as_str()),
        ("beta", "#000000")
    );
    assert!(patched.updated_at >= b.updated_at);
    assert_eq!((b.version, patched.version), (1, 2));
    assert_eq!(
        labels
            .update(ORG, Uuid::nil(), LabelPatch::default(), None)
            .await
            .unwrap(),
        None
    );

    // Optimistic concurrency: a write naming an old version is refused and changes nothing.
    match labels.update(ORG, b.id, rename("gamma"), Some(1)).await {
        Err(RepoError::Stale { expected, .. }) => seen.push(format!("stale update {expected}")),
        other => panic!("expected a stale write, got {other:?}"),
    }
    match labels.delete(ORG, b.id, Some(1)).await {
        Err(RepoError::Stale { .. }) => seen.push("stale delete".into()),
        other => panic!("expected a stale delete, got {other:?}"),
    }
    assert_eq!(labels.get(ORG, b.id).await.unwrap().unwrap(), patched);
    // A version of a row that is not there is a plain miss, not a stale write.
    assert_eq!(
        labels
            .update(ORG, Uuid::nil(), rename("x"), Some(1))
            .await
            .unwrap(),
        None
    );

    // Additional methods, each return kind; the tenant param is the caller's organization.
    let by_name = labels
        .get_label_by_name(OTHER, "alpha".into())
        .await
        .unwrap()
        .unwrap();
    seen.push(format!("by name {}", by_name.organization_id == OTHER));
    seen.push(format!(
        "exists {} {}",
        labels
            .label_exists_by_name(ORG, "beta".into())
            .await
            .unwrap(),
        labels
            .label_exists_by_name(OTHER, "beta".into())
            .await
            .unwrap()
    ));
    let in_org: Vec<String> = labels
        .list_labels_by_organization(ORG)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    seen.push(format!("in org {in_org:?}"));

    // Lists: filters, sort, paging, exact totals, all inside the caller's organization.
    let query = |raw: &str| rt::ListQuery::from_query(raw, &LABEL_TABLE).unwrap();
    for raw in [
        "sort=name,-organizationID",
        "limit=1&offset=1&sort=name,organizationID",
        "filter[type]=startsWith&filter[field]=name&filter[value]=al&sort=organizationID",
        "filter[type]=ne&filter[field]=color&filter[value]=%23808080",
        "filter[type]=or&filter[children][0][field]=name&filter[children][0][value]=beta&filter[children][1][type]=gt&filter[children][1][field]=name&filter[children][1][value]=alpha&sort=-name",
    ] {
        for org in [ORG, OTHER] {
            let page = labels.list(org, &query(raw)).await.unwrap();
            let names: Vec<&str> = page.data.iter().map(|l| l.name.as_str()).collect();
            assert!(page.data.iter().all(|l| l.organization_id == org));
            seen.push(format!("{raw} -> {} {names:?}", page.meta.total));
        }
    }

    // Keyset paging walks the same rows as offset paging, with the same total.
    for i in 0..7 {
        labels.create(ORG, label(&format!("k{i}"))).await.unwrap();
    }
    let mut walked = Vec::new();
    let mut raw = "limit=3&sort=-name".to_string();
    loop {
        let page = labels.list(ORG, &query(&raw)).await.unwrap();
        walked.extend(page.data.iter().map(|l| l.name.clone()));
        match page.meta.next_cursor {
            Some(cursor) => raw = format!("limit=3&sort=-name&cursor={cursor}"),
            None => break,
        }
    }
    let all: Vec<String> = labels
        .list(ORG, &query("limit=100&sort=-name"))
        .await
        .unwrap()
        .data
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(walked, all);
    seen.push(format!("keyset {walked:?}"));

    assert!(labels.delete(ORG, a.id, None).await.unwrap());
    assert!(!labels.delete(ORG, a.id, None).await.unwrap());
    seen.push(format!(
        "after delete {}",
        labels.list(ORG, &query("")).await.unwrap().meta.total
    ));

    // Transactions: calls on several repositories commit or roll back together.
    let tx = begin().await;
    let in_tx = repos.in_tx(&tx).unwrap();
    in_tx.labels.create(ORG, label("tx-a")).await.unwrap();
    in_tx.artifacts.create(artifact(ORG)).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(
        !labels
            .label_exists_by_name(ORG, "tx-a".into())
            .await
            .unwrap()
    );
    assert_eq!(
        repos
            .artifacts
            .count_artifacts_by_organization(ORG)
            .await
            .unwrap(),
        0
    );
    assert!(
        in_tx.labels.get(ORG, b.id).await.is_err(),
        "a finished transaction refuses calls"
    );

    let tx = begin().await;
    let in_tx = repos.in_tx(&tx).unwrap();
    let made = in_tx.labels.create(ORG, label("tx-b")).await.unwrap();
    in_tx
        .labels
        .update(ORG, made.id, rename("tx-c"), Some(1))
        .await
        .unwrap();
    for _ in 0..3 {
        in_tx.artifacts.create(artifact(ORG)).await.unwrap();
    }
    tx.commit().await.unwrap();
    assert_eq!(
        labels.get(ORG, made.id).await.unwrap().unwrap().name,
        "tx-c"
    );
    seen.push(format!(
        "count {}",
        repos
            .artifacts
            .count_artifacts_by_organization(ORG)
            .await
            .unwrap()
    ));
    seen
}

async fn expected() -> Vec<String> {
    contract(StorageRepositories::in_memory(), async || {
        rt::sql::Tx::memory()
    })
    .await
}

#[tokio::test]
async fn mock_keeps_the_contract() {
    let seen = expected().await;
    assert!(seen.iter().any(|s| s == "exists true false"), "{seen:?}");
    assert!(seen.iter().any(|s| s == "count 3"), "{seen:?}");
}

#[tokio::test]
async fn sqlite_memory_matches_the_mock() {
    let db = rt::testing::sqlite_memory().await;
    db.migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(
        contract(StorageRepositories::new(&db), async || db
            .begin()
            .await
            .unwrap())
        .await,
        expected().await
    );
}

#[tokio::test]
async fn sqlite_file_matches_the_mock() {
    let dir = tempfile::tempdir().unwrap();
    let db = rt::sql::Db::connect(&format!("sqlite://{}", dir.path().join("c.db").display()))
        .await
        .unwrap();
    db.migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(
        contract(StorageRepositories::new(&db), async || db
            .begin()
            .await
            .unwrap())
        .await,
        expected().await
    );
}

#[tokio::test]
async fn the_memory_cache_keeps_the_contract() {
    let cache = rt::cache::Cached::new(std::sync::Arc::new(rt::cache::MemoryCache::new(1000)));
    let repos = StorageRepositories::in_memory().with_cache(&cache);
    assert_eq!(
        contract(repos, async || rt::sql::Tx::memory()).await,
        expected().await
    );
}

#[tokio::test]
async fn postgres_behind_redis_matches_the_mock() {
    let Some(pg) = rt::testing::postgres("contract_redis").await else {
        return;
    };
    let Some(prefix) = rt::testing::redis("contract").await else {
        return;
    };
    pg.db
        .migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    let redis = rt::cache::RedisCache::new(&rt::testing::redis_url());
    let cache = rt::cache::Cached::new(std::sync::Arc::new(redis)).with_prefix(prefix);
    let repos = StorageRepositories::new(&pg.db).with_cache(&cache);
    assert_eq!(
        contract(repos, async || pg.db.begin().await.unwrap()).await,
        expected().await
    );
}

#[tokio::test]
async fn postgres_matches_the_mock() {
    let Some(pg) = rt::testing::postgres("contract").await else {
        return;
    };
    pg.db
        .migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(
        contract(StorageRepositories::new(&pg.db), async || pg
            .db
            .begin()
            .await
            .unwrap())
        .await,
        expected().await
    );
}

/// On Postgres, a row-level-security policy backs up the repository's own tenant filter: a role
/// that is not a superuser sees no label until its transaction names an organization, then only
/// that organization's, and cannot write into another. The generated repository, connected as
/// such a role, names the organization itself and keeps working.
#[tokio::test]
async fn postgres_row_security_is_a_second_wall() {
    use rt::deps::sqlx::{self, Connection};
    let Some(pg) = rt::testing::postgres("rls").await else {
        return;
    };
    pg.db
        .migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    let rt::sql::Db::Postgres(admin) = &pg.db else {
        unreachable!()
    };
    let repos = StorageRepositories::new(&pg.db);
    repos.labels.create(ORG, label("mine")).await.unwrap();
    repos.labels.create(OTHER, label("theirs")).await.unwrap();

    // A login role of its own (roles are global to the cluster, so it carries the database's name).
    let role = format!("{}_app", pg.name());
    for sql in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT USAGE ON SCHEMA public TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(admin)
            .await
            .unwrap();
    }
    let url = rt::testing::postgres_url();
    let (base, _) = url.rsplit_once('/').unwrap();
    let as_role = format!(
        "{}/{}",
        base.replace("postgres@", &format!("{role}@")),
        pg.name()
    );
    let mut conn = sqlx::PgConnection::connect(&as_role).await.unwrap();

    let count = "SELECT COUNT(*) FROM labels";
    let mut tx = conn.begin().await.unwrap();
    let unscoped: i64 = sqlx::query_scalar(count).fetch_one(&mut *tx).await.unwrap();
    assert_eq!(unscoped, 0, "without an organization, no row is visible");
    rt::sql::pg::scope(&mut tx, ORG).await.unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM labels")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(names, ["mine"]);
    let foreign = sqlx::query(
        "INSERT INTO labels (id, created_at, updated_at, name, color, organization_id, version) \
         VALUES ($1, now(), now(), 'sneaky', '#000000', $2, 1)",
    )
    .bind(Uuid::now_v7())
    .bind(OTHER)
    .execute(&mut *tx)
    .await;
    assert!(
        foreign.is_err(),
        "the policy refuses rows of another organization"
    );
    tx.rollback().await.unwrap();
    conn.close().await.unwrap();

    let app = rt::sql::Db::connect(&as_role).await.unwrap();
    let as_app = StorageRepositories::new(&app);
    let made = as_app
        .labels
        .create(ORG, label("through the app"))
        .await
        .unwrap();
    assert_eq!(as_app.labels.get(ORG, made.id).await.unwrap(), Some(made));
    assert_eq!(
        as_app
            .labels
            .list(ORG, &rt::ListQuery::first(&LABEL_TABLE))
            .await
            .unwrap()
            .meta
            .total,
        2
    );
    assert_eq!(
        as_app
            .labels
            .list(OTHER, &rt::ListQuery::first(&LABEL_TABLE))
            .await
            .unwrap()
            .meta
            .total,
        1
    );
    if let rt::sql::Db::Postgres(pool) = app {
        pool.close().await;
    }
    for sql in [format!("DROP OWNED BY {role}"), format!("DROP ROLE {role}")] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(admin)
            .await
            .unwrap();
    }
}
