//! Keyset paging through the generated-SQL path (`build_list` and the `bind` helpers, bound the way
//! generated repositories bind them) on SQLite and, when it is reachable, Postgres: following
//! `nextCursor` page by page must give exactly the rows of one offset listing, which must in turn
//! be the in-memory store's order.

use archgen_runtime::memory::MemoryTable;
use archgen_runtime::repo::{Column, ColumnKind, Table};
use archgen_runtime::sql::{self, Db, Placeholders, build_list};
use archgen_runtime::{ListQuery, Page, testing};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::{Executor, Row};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize)]
struct Item {
    id: Uuid,
    group: String,
    name: Option<String>,
    score: Option<i64>,
    at: DateTime<Utc>,
}

static TABLE: Table = Table {
    entity: "Item",
    name: "items",
    columns: &[
        Column {
            field: "id",
            column: "id",
            kind: ColumnKind::Uuid,
            nullable: false,
            hidden: false,
            integers: &[],
        },
        Column {
            field: "group",
            column: "grp",
            kind: ColumnKind::Text,
            nullable: false,
            hidden: false,
            integers: &[],
        },
        Column {
            field: "name",
            column: "name",
            kind: ColumnKind::Text,
            nullable: true,
            hidden: false,
            integers: &[],
        },
        Column {
            field: "score",
            column: "score",
            kind: ColumnKind::Integer,
            nullable: true,
            hidden: false,
            integers: &[],
        },
        Column {
            field: "at",
            column: "at",
            kind: ColumnKind::DateTime,
            nullable: false,
            hidden: false,
            integers: &[],
        },
    ],
    unique: &[],
    sortable: &[],
    soft_delete: false,
    default_limit: 10,
    max_limit: 100,
};

const COLUMNS: &str = "\"id\", \"grp\", \"name\", \"score\", \"at\"";

const PARAMS: &[&str] = &[
    "sort=",
    "sort=score",
    "sort=-score",
    "sort=group",
    "sort=-group,name",
    "sort=name",
    "sort=-name,-score",
    "sort=-at",
    "sort=at,-score,name",
    "sort=-id",
    "sort=-at,name&filter[type]=gte&filter[field]=at&filter[value]=2024-05-01T10:00:00.5Z",
];

/// 25 rows out of id order, with repeated and NULL values, bytewise-ordered text (`_`, capitals)
/// and timestamps whose fractions need all six digits.
fn items() -> Vec<Item> {
    let base = DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    (0..25i64)
        .map(|i| Item {
            id: Uuid::from_u128(
                (i as u128 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835),
            ),
            group: ["b", "a", "_c", "B"][(i % 4) as usize].into(),
            name: (i % 5 != 0).then(|| ["x", "y", "Y"][(i % 3) as usize].into()),
            score: (i % 3 != 0).then_some(i % 5),
            at: base + Duration::microseconds((i % 6) * 250_001),
        })
        .collect()
}

enum Backend<'a> {
    Sqlite(&'a sqlx::SqlitePool),
    Postgres(&'a sqlx::PgPool),
}

impl Backend<'_> {
    async fn list(&self, query: &ListQuery) -> Page<Item> {
        let (data, total) = match self {
            Backend::Sqlite(pool) => list_sqlite(pool, query).await,
            Backend::Postgres(pool) => list_postgres(pool, query).await,
        };
        Page::new(data, total).with_next_cursor(query)
    }
}

fn offset(query: &ListQuery) -> i64 {
    i64::try_from(query.offset).unwrap_or(i64::MAX)
}

async fn list_sqlite(pool: &sqlx::SqlitePool, query: &ListQuery) -> (Vec<Item>, u64) {
    let sql = build_list(&TABLE, COLUMNS, query, Placeholders::Question);
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.count));
    for arg in &sql.args[..sql.count_args] {
        count = sql::sqlite::bind_scalar(count, arg);
    }
    let mut select = sqlx::query(sqlx::AssertSqlSafe(sql.select));
    for arg in &sql.args {
        select = sql::sqlite::bind(select, arg);
    }
    let total = count.fetch_one(pool).await.unwrap();
    let rows = select
        .bind(i64::from(query.limit))
        .bind(offset(query))
        .fetch_all(pool)
        .await
        .unwrap();
    let data = rows
        .iter()
        .map(|r| Item {
            id: r.get::<uuid::fmt::Hyphenated, _>("id").into_uuid(),
            group: r.get("grp"),
            name: r.get("name"),
            score: r.get("score"),
            at: r.get("at"),
        })
        .collect();
    (data, total as u64)
}

async fn list_postgres(pool: &sqlx::PgPool, query: &ListQuery) -> (Vec<Item>, u64) {
    let sql = build_list(&TABLE, COLUMNS, query, Placeholders::Dollar);
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.count));
    for arg in &sql.args[..sql.count_args] {
        count = sql::pg::bind_scalar(count, arg);
    }
    let mut select = sqlx::query(sqlx::AssertSqlSafe(sql.select));
    for arg in &sql.args {
        select = sql::pg::bind(select, arg);
    }
    let total = count.fetch_one(pool).await.unwrap();
    let rows = select
        .bind(i64::from(query.limit))
        .bind(offset(query))
        .fetch_all(pool)
        .await
        .unwrap();
    let data = rows
        .iter()
        .map(|r| Item {
            id: r.get("id"),
            group: r.get("grp"),
            name: r.get("name"),
            score: r.get("score"),
            at: r.get("at"),
        })
        .collect();
    (data, total as u64)
}

async fn fill_sqlite(pool: &sqlx::SqlitePool) {
    pool.execute(
        "CREATE TABLE \"items\" (\"id\" TEXT PRIMARY KEY, \"grp\" TEXT NOT NULL, \"name\" TEXT, \
         \"score\" INTEGER, \"at\" TEXT NOT NULL)",
    )
    .await
    .unwrap();
    for item in items() {
        sqlx::query("INSERT INTO \"items\" VALUES (?1, ?2, ?3, ?4, ?5)")
            .bind(sql::sqlite::uuid(&item.id))
            .bind(item.group)
            .bind(item.name)
            .bind(item.score)
            .bind(sql::sqlite::timestamp(&item.at))
            .execute(pool)
            .await
            .unwrap();
    }
}

async fn fill_postgres(pool: &sqlx::PgPool) {
    pool.execute(
        "CREATE TABLE \"items\" (\"id\" uuid PRIMARY KEY, \"grp\" text NOT NULL, \"name\" text, \
         \"score\" bigint, \"at\" timestamptz NOT NULL)",
    )
    .await
    .unwrap();
    for item in items() {
        sqlx::query("INSERT INTO \"items\" VALUES ($1, $2, $3, $4, $5)")
            .bind(item.id)
            .bind(item.group)
            .bind(item.name)
            .bind(item.score)
            .bind(item.at)
            .execute(pool)
            .await
            .unwrap();
    }
}

fn ids(page: &Page<Item>) -> Vec<Uuid> {
    page.data.iter().map(|r| r.id).collect()
}

/// Follow `nextCursor` from the first page to the last, as a client would, checking that every
/// page reports the same total.
async fn walk(db: &Backend<'_>, params: &str) -> (Vec<Uuid>, u64) {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut totals = Vec::new();
    for _ in 0..30 {
        let raw = format!("limit=4&{params}&cursor={cursor}");
        let query = ListQuery::from_query(&raw, &TABLE).unwrap();
        let page = db.list(&query).await;
        seen.extend(ids(&page));
        totals.push(page.meta.total);
        match page.meta.next_cursor {
            Some(next) => cursor = next,
            None => {
                totals.dedup();
                assert_eq!(totals.len(), 1, "{params}: totals {totals:?}");
                return (seen, totals[0]);
            }
        }
    }
    panic!("{params}: the walk never ended");
}

async fn check(db: Backend<'_>) {
    let memory = MemoryTable::new("Item", &[], |r: &Item| {
        serde_json::to_value(r).unwrap_or_default()
    });
    for item in items() {
        memory.insert(item).unwrap();
    }
    for params in PARAMS {
        let all = ListQuery::from_query(&format!("limit=100&{params}"), &TABLE).unwrap();
        let listed = db.list(&all).await;
        assert_eq!(
            ids(&listed),
            ids(&memory.list(&all).unwrap()),
            "{params}: the database and the in-memory store disagree on the order"
        );
        let (walked, total) = walk(&db, params).await;
        assert_eq!(walked, ids(&listed), "{params}");
        assert_eq!(total, listed.meta.total, "{params}");
        assert!(walked.len() > 8, "{params}: too few rows to page through");
    }
}

#[tokio::test]
async fn keyset_walk_matches_offset_paging_on_sqlite() {
    let Db::Sqlite(pool) = testing::sqlite_memory().await else {
        unreachable!("an SQLite URL gives an SQLite pool")
    };
    fill_sqlite(&pool).await;
    check(Backend::Sqlite(&pool)).await;
}

#[tokio::test]
async fn keyset_walk_matches_offset_paging_on_postgres() {
    let Some(pg) = testing::postgres("keyset").await else {
        return;
    };
    let Db::Postgres(pool) = &pg.db else {
        unreachable!("a Postgres URL gives a Postgres pool")
    };
    fill_postgres(pool).await;
    check(Backend::Postgres(pool)).await;
}
