//! The service as a library, so tests can drive its router without a network. This file is yours.
use std::sync::Arc;

use archgen_runtime as rt;

pub mod app;
pub mod custom;
// Generated code is formatted by archgen; rustfmt would make `archgen check` see it as edited.
#[rustfmt::skip]
pub mod generated;

/// Migrate `db` and build the router that serves every operation of the spec. Bearer tokens are
/// checked against JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS.
pub async fn router(db: &rt::sql::Db) -> Result<rt::deps::axum::Router, rt::BoxError> {
    let auth = rt::auth::Authenticator::from_env(generated::SECURITY_SCHEMES)?;
    router_with_auth(db, auth).await
}

/// The same router, verifying callers with `auth` (tests bring their own keys).
pub async fn router_with_auth(
    db: &rt::sql::Db,
    auth: rt::auth::Authenticator,
) -> Result<rt::deps::axum::Router, rt::BoxError> {
    db.migrate(&generated::MIGRATIONS).await?;
    let mut repos = generated::Repositories::new(db);
    // The in-memory cache, Redis with REDIS_URL, or none with ARCHGEN_CACHE=off.
    let cache = rt::cache::Cached::from_env()?;
    if let Some(cache) = &cache {
        repos = repos.with_cache(cache);
    }
    // Events wait in the outbox until the relay publishes them: in process, or to NATS JetStream
    // with NATS_URL (Redis Streams with ARCHGEN_EVENTS=redis).
    let bus = rt::events::bus_from_env().await?;
    rt::events::start(db, bus.clone(), generated::EVENT_DOMAINS);
    let readiness = rt::ops::Readiness {
        db: db.clone(),
        cache,
        bus: Some(bus.clone()),
    };
    let app = Arc::new(app::App { repos, bus });
    // /health, /ready, /metrics and /openapi.json, where the spec does not serve them itself;
    // all behind the body limit, the request deadline and CORS (ARCHGEN_BODY_LIMIT, …).
    let limits = rt::limits::Limits::from_env()?;
    // API keys and sessions are found by their hash only, in the database.
    let credentials = rt::auth::SqlCredentials::new(db.clone()).await?;
    let auth = auth.with_credentials(Arc::new(credentials));
    let routes = generated::router(app).merge(generated::ops_router(readiness));
    Ok(limits.apply_with_auth(routes, auth))
}
