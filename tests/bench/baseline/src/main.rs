//! Get a label by id and list labels, written by hand with the same SQL the generated repository
//! runs, so the benchmark measures what generation costs over code a person would write. Labels
//! are tenant-scoped: like the generated code, each request filters on the caller's organization
//! (`ORG`) and, for Postgres row-level security, names it for its own transaction.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Serialize)]
struct Label {
    id: Uuid,
    #[serde(rename = "createdAt")]
    created_at: DateTime<Utc>,
    #[serde(rename = "updatedAt")]
    updated_at: DateTime<Utc>,
    name: String,
    color: String,
    #[serde(rename = "organizationID")]
    organization_id: Uuid,
    #[serde(skip)]
    _version: i64,
}

#[derive(Serialize)]
struct One {
    data: Label,
}

#[derive(Serialize)]
struct Meta {
    total: i64,
}

#[derive(Serialize)]
struct Many {
    data: Vec<Label>,
    meta: Meta,
}

#[derive(Deserialize)]
struct Paging {
    limit: Option<i64>,
    offset: Option<i64>,
}

fn decode(row: &sqlx::postgres::PgRow) -> Result<Label, sqlx::Error> {
    use sqlx::Row;
    Ok(Label {
        id: row.try_get("id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        name: row.try_get("name")?,
        color: row.try_get("color")?,
        organization_id: row.try_get("organization_id")?,
        _version: row.try_get("version")?,
    })
}

const COLUMNS: &str = r#""id", "created_at", "updated_at", "name", "color", "organization_id", "version""#;

#[derive(Clone)]
struct AppState {
    pool: PgPool,
    org: Uuid,
}

const ERR: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;

async fn scoped(state: &AppState) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StatusCode> {
    let mut tx = state.pool.begin().await.map_err(|_| ERR)?;
    sqlx::query("SELECT set_config('archgen.organization_id', $1, true)")
        .bind(state.org.to_string())
        .execute(&mut *tx)
        .await
        .map_err(|_| ERR)?;
    Ok(tx)
}

async fn get_label(State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Json<One>, StatusCode> {
    let sql = format!(r#"SELECT {COLUMNS} FROM "labels" WHERE "id" = $1 AND "deleted_at" IS NULL AND "organization_id" = $2"#);
    let mut tx = scoped(&state).await?;
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(state.org).fetch_optional(&mut *tx).await.map_err(|_| ERR)?;
    tx.commit().await.map_err(|_| ERR)?;
    let row = row.ok_or(StatusCode::NOT_FOUND)?;
    let data = decode(&row).map_err(|_| ERR)?;
    Ok(Json(One { data }))
}

async fn list_labels(State(state): State<AppState>, Query(p): Query<Paging>) -> Result<Json<Many>, StatusCode> {
    let mut tx = scoped(&state).await?;
    let total: i64 = sqlx::query_scalar(r#"SELECT COUNT(*) FROM "labels" WHERE "deleted_at" IS NULL AND "organization_id" = $1"#)
        .bind(state.org)
        .fetch_one(&mut *tx)
        .await
        .map_err(|_| ERR)?;
    let sql = format!(r#"SELECT {COLUMNS} FROM "labels" WHERE "deleted_at" IS NULL AND "organization_id" = $1 ORDER BY "id" ASC LIMIT $2 OFFSET $3"#);
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(state.org)
        .bind(p.limit.unwrap_or(10))
        .bind(p.offset.unwrap_or(0))
        .fetch_all(&mut *tx)
        .await
        .map_err(|_| ERR)?;
    tx.commit().await.map_err(|_| ERR)?;
    let data = rows.iter().map(decode).collect::<Result<Vec<_>, _>>().map_err(|_| ERR)?;
    Ok(Json(Many { data, meta: Meta { total } }))
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8081);
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(&url).await.expect("connect");
    let org: Uuid = std::env::var("ORG").expect("ORG").parse().expect("ORG is a UUID");
    let app = Router::new().route("/labels", get(list_labels)).route("/labels/{id}", get(get_label)).with_state(AppState { pool, org });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
