//! What operators need from every service: `/health` (the process answers), `/ready` (its
//! database, cache and broker answer), `/metrics` (Prometheus: requests, latencies and errors by
//! operation, cache hits and misses), `/openapi.json` (the service's own document) and `/docs`
//! (that document rendered, with the `docs` feature: see `docs.rs`).

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde_json::json;

use crate::cache::Cached;
use crate::events::EventBus;
use crate::sql::Db;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    /// The route as the spec writes it (`/labels/{id}`), never the raw path: ids would make
    /// one series per row.
    operation: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    operation: &'static str,
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    cache: Family<CacheLabels, Gauge>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    outcome: &'static str,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let requests = Family::<RequestLabels, Counter>::default();
    let errors = Family::<RequestLabels, Counter>::default();
    let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
        Histogram::new(exponential_buckets(0.0005, 2.0, 16))
    });
    let cache = Family::<CacheLabels, Gauge>::default();
    registry.register(
        "http_requests",
        "Requests answered, by operation and status",
        requests.clone(),
    );
    registry.register(
        "http_errors",
        "Requests answered with a 5xx, by operation",
        errors.clone(),
    );
    registry.register(
        "http_request_duration_seconds",
        "Time to answer, by operation",
        latency.clone(),
    );
    registry.register(
        "cache_lookups",
        "Cache reads since start: hits, misses, and failures that fell through to the database",
        cache.clone(),
    );
    Metrics {
        registry,
        requests,
        errors,
        latency,
        cache,
    }
});

/// Middleware: count and time every request by its operation.
pub async fn track(request: Request, next: Next) -> Response {
    let operation = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| operation_label(p.as_str()));
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let metrics = &*METRICS;
    let labels = RequestLabels {
        method,
        operation,
        status,
    };
    metrics.requests.get_or_create(&labels).inc();
    if status >= 500 {
        metrics.errors.get_or_create(&labels).inc();
    }
    metrics
        .latency
        .get_or_create(&RouteLabels { method, operation })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// A method as a label, without allocating per request: the ones HTTP defines, else `OTHER`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// A route template as a label, kept once for the life of the process: there are as many as
/// the router has routes, so labels need not be allocated per request.
fn operation_label(path: &str) -> &'static str {
    static KNOWN: std::sync::RwLock<BTreeSet<&'static str>> =
        std::sync::RwLock::new(BTreeSet::new());
    if let Some(known) = KNOWN.read().unwrap_or_else(|e| e.into_inner()).get(path) {
        return known;
    }
    let mut known = KNOWN.write().unwrap_or_else(|e| e.into_inner());
    match known.get(path) {
        Some(label) => label,
        None => {
            let label: &'static str = Box::leak(path.to_string().into_boxed_str());
            known.insert(label);
            label
        }
    }
}

async fn metrics() -> Response {
    let metrics = &*METRICS;
    let (hits, misses, failures) = crate::cache::counters();
    for (outcome, n) in [("hit", hits), ("miss", misses), ("failure", failures)] {
        metrics
            .cache
            .get_or_create(&CacheLabels { outcome })
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// What `/ready` checks: the database always, the cache and the broker when the service has them.
#[derive(Clone)]
pub struct Readiness {
    pub db: Db,
    pub cache: Option<Cached>,
    pub bus: Option<Arc<dyn EventBus>>,
}

async fn ready(State(ready): State<Arc<Readiness>>) -> Response {
    let db = ready.db.ping().await.map_err(|e| e.to_string());
    let cache = match &ready.cache {
        Some(cache) => Some(cache.ping().await.map_err(|e| e.to_string())),
        None => None,
    };
    let bus = match &ready.bus {
        Some(bus) => Some(bus.ping().await.map_err(|e| e.to_string())),
        None => None,
    };
    let describe = |r: &Option<Result<(), String>>| match r {
        None => json!("not configured"),
        Some(Ok(())) => json!("ok"),
        Some(Err(e)) => json!({ "error": e }),
    };
    let ok = db.is_ok()
        && cache.as_ref().is_none_or(Result::is_ok)
        && bus.as_ref().is_none_or(Result::is_ok);
    let body = json!({
        "status": if ok { "ready" } else { "unavailable" },
        "checks": {
            "database": describe(&Some(db)),
            "cache": describe(&cache),
            "events": describe(&bus),
        }
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn health() -> Response {
    axum::Json(json!({ "status": "ok" })).into_response()
}

/// `/health`, `/ready`, `/metrics`, `/openapi.json` (serving `document`) and `/docs` (rendering
/// it), leaving out any of them that `taken` lists because the spec serves that path itself.
pub fn routes(readiness: Readiness, document: &'static str, taken: &[&str]) -> Router {
    let free = |path: &str| !taken.contains(&path);
    let mut router = Router::new();
    if free("/health") {
        router = router.route("/health", get(health));
    }
    if free("/metrics") {
        router = router.route("/metrics", get(metrics));
    }
    if free("/openapi.json") {
        router = router.route(
            "/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], document) }),
        );
        // The page renders /openapi.json, so it is there wherever the document is.
        #[cfg(feature = "docs")]
        if free(crate::docs::PAGE_PATH) && free(crate::docs::ASSET_PATH) {
            router = router.merge(crate::docs::docs_router(&crate::docs::title(document)));
        }
    }
    if free("/ready") {
        router = router.route("/ready", get(ready).with_state(Arc::new(readiness)));
    }
    router
}
