//! Get a label by id and list labels, written by hand with the same SQL the generated repository
//! runs, so the benchmark measures what generation costs over code a person would write.

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
    })
}

const COLUMNS: &str = r#""id", "created_at", "updated_at", "name", "color", "organization_id""#;

async fn get_label(State(pool): State<PgPool>, Path(id): Path<Uuid>) -> Result<Json<One>, StatusCode> {
    let sql = format!(r#"SELECT {COLUMNS} FROM "labels" WHERE "id" = $1"#);
    let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&pool).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let row = row.ok_or(StatusCode::NOT_FOUND)?;
    let data = decode(&row).map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(One { data }))
}

async fn list_labels(State(pool): State<PgPool>, Query(p): Query<Paging>) -> Result<Json<Many>, StatusCode> {
    let total: i64 = sqlx::query_scalar(r#"SELECT COUNT(*) FROM "labels""#).fetch_one(&pool).await.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let sql = format!(r#"SELECT {COLUMNS} FROM "labels" ORDER BY "id" ASC LIMIT $1 OFFSET $2"#);
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(p.limit.unwrap_or(10))
        .bind(p.offset.unwrap_or(0))
        .fetch_all(&pool)
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let data = rows.iter().map(decode).collect::<Result<Vec<_>, _>>().map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(Json(Many { data, meta: Meta { total } }))
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8081);
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(&url).await.expect("connect");
    let app = Router::new().route("/labels", get(list_labels)).route("/labels/{id}", get(get_label)).with_state(pool);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
