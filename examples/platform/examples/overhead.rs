//! What the generated stack costs per request, against a bare axum handler, over the same data.
//!
//! One process, one in-memory SQLite database seeded with labels and artifacts for one
//! organization, served on four ports (`OVERHEAD_PORT`, default 18620, plus 1 to 4):
//!
//! - `+1` **generated**: `archgen_platform::router_with_auth` as a user ships it (request id,
//!   metrics, the body limit, the request deadline, problem+json, authentication, request
//!   validation), served by `rt::server::serve_until` (shutdown drain, client address), with
//!   every request carrying an HS256 JWT that is verified.
//! - `+2` **generated, trusted caller**: the same router and server, with the caller placed in
//!   the request extensions by an outer layer (as `rt::server::dev_caller` or a gateway would),
//!   so the authentication layer runs but verifies no token: the difference with `+1` is the JWT.
//! - `+3` **generated routes only**: `generated::router` (handlers, request id, metrics,
//!   validation, problem+json) with the same trusted caller, no limits, no authentication layer,
//!   plain `axum::serve`.
//! - `+4` **bare**: hand-written axum handlers for `GET /labels/{id}` and `GET /labels` running
//!   the same SQL as the generated SQLite repository (tenant and soft-delete filters included)
//!   and answering the same JSON with serde. No middleware, no authentication.
//!
//! On start it prints `auth_ns` (what the authentication layer alone costs, with and without
//! a token), `token <jwt>`, `label <uuid>` and `ready` on stdout (for `tests/bench/overhead.sh`),
//! then serves until killed. With `--in-process` it serves nothing: it calls the four routers in
//! the process instead (see [`in_process`]), prints one `inproc` line per request and variant,
//! and exits.
//!
//!     cargo run --release -p archgen-platform --example overhead [-- --in-process]

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use archgen_platform::{app, generated};
use archgen_runtime as rt;
use chrono::{DateTime, Duration, Utc};
use http_body_util::BodyExt;
use jsonwebtoken::{EncodingKey, Header};
use rt::deps::axum::extract::{Path, Query, State};
use rt::deps::axum::http::StatusCode;
use rt::deps::axum::response::{IntoResponse, Response};
use rt::deps::axum::routing::get;
use rt::deps::axum::{self, Extension, Json, Router};
use rt::deps::sqlx::sqlite::{SqlitePool, SqliteRow};
use rt::deps::sqlx::{self, Row};
use rt::deps::uuid::{Uuid, fmt::Hyphenated};
use serde::Serialize;
use serde_json::json;
use tower::ServiceExt;

const SECRET: &str = "overhead-benchmark-secret-of-32-bytes-or-more";
const ORG: Uuid = Uuid::from_u128(0x1111_1111_1111_4111_8111_1111_1111_1111);
const OTHER_ORG: Uuid = Uuid::from_u128(0x2222_2222_2222_4222_8222_2222_2222_2222);
const LABELS: usize = 1000;
const ARTIFACTS: usize = 1000;
const WORDS: [&str; 5] = ["amber", "beige", "coral", "denim", "ebony"];
/// The validation-heavy list: a limit, a sort and a filter, each checked against the spec.
const LIST: &str = "/labels?limit=10&sort=-createdAt&filter%5Bfield%5D=name\
                    &filter%5Btype%5D=startsWith&filter%5Bvalue%5D=a";

#[tokio::main]
async fn main() -> Result<(), rt::BoxError> {
    rt::server::init_tracing();
    let base: u16 = match std::env::var("OVERHEAD_PORT") {
        Ok(p) => p.parse()?,
        Err(_) => 18620,
    };
    let db = rt::testing::sqlite_memory().await;

    // The full stack, as `archgen_platform::router` builds it, with the key given here.
    let auth = rt::auth::Authenticator::new(generated::SECURITY_SCHEMES)
        .with_jwt(rt::auth::JwtConfig::hs256(SECRET));
    let probe = auth.clone();
    let full = archgen_platform::router_with_auth(&db, auth).await?;
    let label = seed(&db).await?;

    let caller = rt::Principal {
        subject: "bench".into(),
        organization: Some(ORG),
        roles: Vec::new(),
    };
    let trusted = full.clone().layer(Extension(caller.clone()));
    let routes_only = generated::router(Arc::new(app::App {
        repos: generated::Repositories::new(&db),
        bus: Arc::new(rt::events::InProcessBus::default()),
    }))
    .layer(Extension(caller));
    let rt::sql::Db::Sqlite(pool) = db else {
        return Err("the benchmark runs on SQLite".into());
    };
    let bare = Router::new()
        .route("/labels", get(bare_list))
        .route("/labels/{id}", get(bare_get))
        .with_state(pool);

    let claims = json!({
        "sub": "bench-user",
        "org": ORG.to_string(),
        "exp": (Utc::now() + Duration::days(1)).timestamp(),
    });
    let token = jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )?;

    if std::env::args().any(|a| a == "--in-process") {
        // Rounds are short (a fraction of a second): more of them, for a steadier median.
        let rounds = match std::env::var("OVERHEAD_ROUNDS") {
            Ok(r) => r.parse()?,
            Err(_) => 11,
        };
        let variants = vec![
            ("generated (JWT)", full, true),
            ("generated (trusted caller)", trusted, false),
            ("generated routes only", routes_only, false),
            ("bare axum + sqlx", bare, false),
        ];
        let lines = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
                .block_on(in_process(variants, &token, label, rounds))
        })
        .join()
        .map_err(|_| "the in-process measurement panicked")??;
        print!("{lines}");
        return Ok(());
    }

    let listen = |offset: u16| {
        tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], base + offset)))
    };
    let (l1, l2, l3, l4) = (
        listen(1).await?,
        listen(2).await?,
        listen(3).await?,
        listen(4).await?,
    );
    let forever = std::future::pending::<()>;
    let servers = [
        tokio::spawn(rt::server::serve_until(l1, full, forever())),
        tokio::spawn(rt::server::serve_until(l2, trusted, forever())),
        tokio::spawn(async move { Ok(axum::serve(l3, routes_only).await?) }),
        tokio::spawn(async move { Ok(axum::serve(l4, bare).await?) }),
    ];

    let (with_token, without) = authentication_cost(&probe, &token).await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "auth_ns {with_token:.0} {without:.0}")?;
    writeln!(out, "token {token}")?;
    writeln!(out, "label {label}")?;
    writeln!(out, "ready")?;
    out.flush()?;
    drop(out);

    for server in servers {
        server.await??;
    }
    Ok(())
}

/// Each variant's router called in the process with tower's `oneshot` (no socket, no wrk, no
/// HTTP parsing) on this thread, a few requests at a time, the variants alternating over
/// `rounds` rounds. One line per request and variant: `inproc`, the request, the variant, then the median
/// of the rounds' wall time per request and of this thread's CPU time per request (which leaves
/// out the SQLite connection's own thread, so the query itself is not counted), in nanoseconds.
async fn in_process(
    variants: Vec<(&'static str, Router, bool)>,
    token: &str,
    label: Uuid,
    rounds: usize,
) -> Result<String, rt::BoxError> {
    let bearer: axum::http::HeaderValue = format!("Bearer {token}").parse()?;
    let cases = [
        ("get-by-id", format!("/labels/{label}"), 3000_u32),
        ("list, validated", LIST.to_string(), 300),
    ];
    let mut out = String::new();
    for (case, path, n) in cases {
        let mut samples = vec![(Vec::new(), Vec::new()); variants.len()];
        for (_, router, with_token) in &variants {
            batch(router, &path, with_token.then(|| bearer.clone()), n / 10).await?;
        }
        for round in 0..rounds {
            for k in 0..variants.len() {
                let i = (k + round) % variants.len();
                let (_, router, with_token) = &variants[i];
                let (wall, cpu) = (std::time::Instant::now(), thread_cpu_ns());
                batch(router, &path, with_token.then(|| bearer.clone()), n).await?;
                let per = |total: f64| total / f64::from(n);
                samples[i].0.push(per(wall.elapsed().as_nanos() as f64));
                samples[i].1.push(per((thread_cpu_ns() - cpu) as f64));
            }
        }
        for ((name, _, _), (wall, cpu)) in variants.iter().zip(samples) {
            out += &format!(
                "inproc\t{case}\t{name}\t{:.0}\t{:.0}\n",
                median(wall),
                median(cpu)
            );
        }
    }
    Ok(out)
}

/// `n` requests through `router`, `IN_FLIGHT` at a time on this thread: while one waits for
/// the database's thread, the others run, so the thread is busy, as it is under load, rather than
/// asleep between requests (waking a sleeping thread costs more than the layers measured here).
async fn batch(
    router: &Router,
    path: &str,
    bearer: Option<axum::http::HeaderValue>,
    n: u32,
) -> Result<(), rt::BoxError> {
    const IN_FLIGHT: u32 = 8;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..IN_FLIGHT {
        let (router, path, bearer) = (router.clone(), path.to_string(), bearer.clone());
        tasks.spawn(async move {
            for _ in (worker..n).step_by(IN_FLIGHT as usize) {
                call(&router, &path, bearer.as_ref()).await?;
            }
            Ok::<(), rt::BoxError>(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// One request through `router`, its body read to the end; an error unless it answers 200.
async fn call(
    router: &Router,
    path: &str,
    bearer: Option<&axum::http::HeaderValue>,
) -> Result<(), rt::BoxError> {
    let mut request = axum::http::Request::get(path);
    if let Some(bearer) = bearer {
        request = request.header(axum::http::header::AUTHORIZATION, bearer.clone());
    }
    let response = router
        .clone()
        .oneshot(request.body(axum::body::Body::empty())?)
        .await?;
    if response.status() != StatusCode::OK {
        return Err(format!("{path} answered {}", response.status()).into());
    }
    std::hint::black_box(response.into_body().collect().await?.to_bytes());
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Nanoseconds this thread has run on a CPU (Linux: the first field of its `schedstat`).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// What the authentication layer's own work costs, without the network: nanoseconds per
/// request carrying `token` (its HS256 signature and claims checked), and per request carrying no
/// credentials (what the trusted-caller variant pays).
async fn authentication_cost(
    auth: &rt::auth::Authenticator,
    token: &str,
) -> Result<(f64, f64), rt::BoxError> {
    const N: u32 = 20_000;
    let uri: axum::http::Uri = "/labels/01a20332-6574-707e-a6f1-4a86eb64795b".parse()?;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );
    if auth.authenticate(&headers, &uri).await.principal.is_none() {
        return Err("the benchmark's token does not verify".into());
    }
    let mut per_request = Vec::new();
    for headers in [headers, axum::http::HeaderMap::new()] {
        let started = std::time::Instant::now();
        for _ in 0..N {
            std::hint::black_box(auth.authenticate(&headers, &uri).await);
        }
        per_request.push(started.elapsed().as_nanos() as f64 / f64::from(N));
    }
    Ok((per_request[0], per_request[1]))
}

/// 1,000 labels and 1,000 artifacts for `ORG` (a fifth of the labels start with `a`), plus
/// soft-deleted labels and another organization's, which every query must skip. Returns the id
/// of a label in the middle.
async fn seed(db: &rt::sql::Db) -> Result<Uuid, rt::BoxError> {
    let rt::sql::Db::Sqlite(pool) = db else {
        return Err("the benchmark runs on SQLite".into());
    };
    let start = Utc::now() - Duration::days(30);
    let mut tx = pool.begin().await?;
    let mut middle = Uuid::nil();
    for i in 0..LABELS + 100 {
        let (org, deleted) = match i {
            i if i < LABELS => (ORG, None),
            i if i < LABELS + 50 => (ORG, Some(rt::sql::sqlite::timestamp(&Utc::now()))),
            _ => (OTHER_ORG, None),
        };
        let id = Uuid::now_v7();
        if i == LABELS / 2 {
            middle = id;
        }
        let at = rt::sql::sqlite::timestamp(&(start + Duration::seconds(i as i64)));
        sqlx::query(
            "INSERT INTO labels (id, created_at, updated_at, name, color, organization_id, deleted_at)
             VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(rt::sql::sqlite::uuid(&id))
        .bind(at)
        .bind(format!("{}-{i:04}", WORDS[i % WORDS.len()]))
        .bind(format!("#{:06x}", (i * 2654435761) & 0xff_ffff))
        .bind(rt::sql::sqlite::uuid(&org))
        .bind(deleted)
        .execute(&mut *tx)
        .await?;
    }
    for i in 0..ARTIFACTS {
        let at = rt::sql::sqlite::timestamp(&(start + Duration::seconds(i as i64)));
        sqlx::query(
            "INSERT INTO artifacts (id, created_at, updated_at, name, credits, mime_type, organization_id, text)
             VALUES (?1, ?2, ?2, ?3, 0, 'text/plain', ?4, ?5)",
        )
        .bind(rt::sql::sqlite::uuid(&Uuid::now_v7()))
        .bind(at)
        .bind(format!("artifact-{i:04}"))
        .bind(rt::sql::sqlite::uuid(&ORG))
        .bind(format!("artifact {i}"))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(middle)
}

// ---- The bare side: what one would write by hand with axum, serde and sqlx. ----

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

impl Label {
    fn from_row(row: &SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get::<Hyphenated, _>("id")?.into_uuid(),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            name: row.try_get("name")?,
            color: row.try_get("color")?,
            organization_id: row.try_get::<Hyphenated, _>("organization_id")?.into_uuid(),
        })
    }
}

#[derive(Serialize)]
struct One<T> {
    data: T,
}

#[derive(Serialize)]
struct Meta {
    total: i64,
    #[serde(rename = "nextCursor", skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct Many<T> {
    data: Vec<T>,
    meta: Meta,
}

fn internal(e: sqlx::Error) -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response()
}

fn bad_request(why: &str) -> Response {
    (StatusCode::BAD_REQUEST, why.to_string()).into_response()
}

async fn bare_get(State(pool): State<SqlitePool>, Path(id): Path<Uuid>) -> Response {
    let row = sqlx::query(
        "SELECT id, created_at, updated_at, name, color, organization_id, version FROM labels \
         WHERE id = ?1 AND deleted_at IS NULL AND organization_id = ?2",
    )
    .bind(id.hyphenated().to_string())
    .bind(ORG.hyphenated().to_string())
    .fetch_optional(&pool)
    .await;
    match row {
        Ok(Some(row)) => match Label::from_row(&row) {
            Ok(label) => Json(One { data: label }).into_response(),
            Err(e) => internal(e),
        },
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => internal(e),
    }
}

/// `limit`, `sort` (`createdAt` or `name`, `-` for descending) and one
/// `filter[field]`/`filter[type]`/`filter[value]` (`name` or `color`, `eq` or `startsWith`):
/// what the benchmark asks, checked by hand.
async fn bare_list(
    State(pool): State<SqlitePool>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let limit: i64 = match params.get("limit").map(|l| l.parse()) {
        None => 20,
        Some(Ok(n)) if (1..=100).contains(&n) => n,
        Some(_) => return bad_request("limit must be between 1 and 100"),
    };
    let (sort_field, order) = match params.get("sort").map(String::as_str) {
        None | Some("createdAt") => ("createdAt", "\"created_at\" ASC NULLS LAST"),
        Some("-createdAt") => ("createdAt", "\"created_at\" DESC NULLS FIRST"),
        Some("name") => ("name", "\"name\" ASC NULLS LAST"),
        Some("-name") => ("name", "\"name\" DESC NULLS FIRST"),
        Some(_) => return bad_request("sort must be createdAt or name"),
    };
    let filter = match (
        params.get("filter[field]").map(String::as_str),
        params.get("filter[type]").map(String::as_str),
        params.get("filter[value]"),
    ) {
        (None, None, None) => None,
        (Some(field @ ("name" | "color")), Some(op @ ("eq" | "startsWith")), Some(value)) => {
            let column = if field == "name" {
                "\"name\""
            } else {
                "\"color\""
            };
            Some(if op == "eq" {
                (format!("{column} = ?2"), value.clone())
            } else {
                (
                    format!("substr({column}, 1, length(?2)) = ?2"),
                    value.clone(),
                )
            })
        }
        _ => return bad_request("filter: field name or color, type eq or startsWith, a value"),
    };
    let mut condition = "\"deleted_at\" IS NULL AND \"organization_id\" = ?1".to_string();
    if let Some((sql, _)) = &filter {
        condition = format!("{condition} AND {sql}");
    }
    let (limit_at, offset_at) = if filter.is_some() { (3, 4) } else { (2, 3) };
    let count_sql = format!("SELECT COUNT(*) FROM \"labels\" WHERE {condition}");
    let select_sql = format!(
        "SELECT \"id\", \"created_at\", \"updated_at\", \"name\", \"color\", \"organization_id\", \
         \"version\" FROM \"labels\" WHERE {condition} ORDER BY {order}, \"id\" ASC \
         LIMIT ?{limit_at} OFFSET ?{offset_at}"
    );
    let org = ORG.hyphenated().to_string();
    let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(count_sql)).bind(&org);
    let mut select = sqlx::query(sqlx::AssertSqlSafe(select_sql)).bind(&org);
    if let Some((_, value)) = &filter {
        count = count.bind(value);
        select = select.bind(value);
    }
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => return internal(e),
    };
    let total = match count.fetch_one(&mut *conn).await {
        Ok(total) => total,
        Err(e) => return internal(e),
    };
    let rows = match select.bind(limit).bind(0_i64).fetch_all(&mut *conn).await {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let data = match rows
        .iter()
        .map(Label::from_row)
        .collect::<Result<Vec<_>, _>>()
    {
        Ok(data) => data,
        Err(e) => return internal(e),
    };
    // A full page gets the cursor of its last row, as the generated list hands out.
    let next_cursor = data
        .last()
        .filter(|_| data.len() as i64 == limit)
        .map(|last| {
            let value = match sort_field {
                "name" => json!(last.name),
                _ => json!(last.created_at),
            };
            let sort = params.get("sort").map_or("createdAt", String::as_str);
            let doc = json!({ "sort": sort, "values": [value], "id": last.id });
            base64url(doc.to_string().as_bytes())
        });
    Json(Many {
        data,
        meta: Meta { total, next_cursor },
    })
    .into_response()
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}
