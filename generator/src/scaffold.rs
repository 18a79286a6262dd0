//! `archgen init`: a new service crate that builds and serves its spec straight away. Files the
//! user owns (main.rs, app.rs, custom operation stubs) are written once and never overwritten.

use std::path::{Component, Path, PathBuf};

use heck::ToKebabCase;

use crate::model::features::RuntimeFeatures;
use crate::model::{Model, Operation};

/// Stub sources for custom operations, by path relative to the stubs directory.
pub fn stubs(model: &Model, generated_mod: &str) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut mods = Vec::new();
    for domain in &model.domains {
        for op in domain
            .operations
            .iter()
            .filter(|o| o.kind == crate::model::OperationKind::Custom)
        {
            mods.push(op.fn_name.clone());
            out.push((
                PathBuf::from(format!("{}.rs", op.fn_name)),
                stub(op, generated_mod),
            ));
        }
    }
    mods.sort();
    let mut root = String::from(
        "//! Custom operations: one file each. This file is yours; archgen writes it once.\n",
    );
    for m in mods {
        root.push_str(&format!("pub mod {m};\n"));
    }
    out.push((PathBuf::from("mod.rs"), root));
    out
}

/// What a custom handler returns: the reply enum of an operation with several success
/// responses, else its output.
fn answer(op: &Operation) -> String {
    match &op.reply {
        Some(reply) => reply.name.clone(),
        None => crate::emit::types::rust_or_unit(op.output.as_ref()),
    }
}

fn stub(op: &Operation, generated_mod: &str) -> String {
    let output = answer(op);
    format!(
        r#"//! `{method} {path}`{summary}.
//! Fill in `handle`; archgen never overwrites this file. Until then the operation answers 501.
#![allow(unused_imports)]
use archgen_runtime as rt;
use rt::prelude::*;
use {generated_mod}::prelude::*;

use crate::app::App;

pub async fn handle(app: &App, cx: &rt::Context, input: {input}) -> Result<{output}, rt::ApiError> {{
    let _ = (app, cx, input);
    Err(rt::ApiError::not_implemented({id:?}))
}}
"#,
        method = op.method.to_uppercase(),
        path = op.path,
        summary = op
            .summary
            .as_ref()
            .map(|s| format!(": {}", crate::emit::helpers::one_line(s)))
            .unwrap_or_default(),
        input = op
            .input
            .as_ref()
            .map(crate::emit::types::rust)
            .unwrap_or_default(),
        id = op.id,
    )
}

/// `src/app.rs`: implements every domain's service with the generated defaults and routes custom
/// operations to their stubs.
pub fn app(model: &Model) -> String {
    let mut s = String::from(
        "//! The service: archgen's generated defaults plus your custom operations. This file is yours.\n#![allow(unused_imports)]\nuse archgen_runtime as rt;\nuse rt::prelude::*;\n\nuse crate::generated::{self, prelude::*};\n\npub struct App {\n    pub repos: generated::Repositories,\n    /// Where events go; subscribe here to react to them.\n    pub bus: Arc<dyn rt::events::EventBus>,\n}\n",
    );
    for d in &model.domains {
        s.push_str(&format!(
            "\n#[rt::async_trait]\nimpl generated::{}::{}Service for App {{\n",
            d.name, d.pascal
        ));
        if !d.entities.is_empty() {
            s.push_str(&format!(
                "    fn {2}_repositories(&self) -> &generated::{0}::{1}Repositories {{\n        &self.repos.{0}\n    }}\n",
                d.name, d.pascal, d.base
            ));
        }
        for op in d
            .operations
            .iter()
            .filter(|o| o.kind == crate::model::OperationKind::Custom)
        {
            s.push_str(&format!(
                "\n    async fn {0}(&self, cx: &rt::Context, input: {1}) -> Result<{2}, rt::ApiError> {{\n        crate::custom::{0}::handle(self, cx, input).await\n    }}\n",
                op.fn_name,
                op.input.as_ref().map(crate::emit::types::rust).unwrap_or_default(),
                answer(op)
            ));
        }
        s.push_str("}\n");
    }
    s
}

pub fn lib_rs() -> String {
    r#"//! The service as a library, so tests can drive its router without a network. This file is yours.
use std::sync::Arc;

use archgen_runtime as rt;

pub mod app;
pub mod custom;
// Generated code is formatted by archgen; rustfmt would make `archgen check` see it as edited.
#[rustfmt::skip]
pub mod generated;

/// Migrate `db` and build the router that serves every operation of the spec.
pub async fn router(db: &rt::sql::Db) -> Result<rt::deps::axum::Router, rt::BoxError> {
    db.migrate(&generated::MIGRATIONS).await?;
    let mut repos = generated::Repositories::new(db);
    // The in-memory cache (feature `cache`), Redis with REDIS_URL (feature `redis`), or none with
    // ARCHGEN_CACHE=off.
    let cache = rt::cache::Cached::from_env()?;
    if let Some(cache) = &cache {
        repos = repos.with_cache(cache);
    }
    // Events wait in the outbox until the relay publishes them: in process, or to NATS JetStream
    // with NATS_URL (feature `nats`; Redis Streams with ARCHGEN_EVENTS=redis, feature `redis`).
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
    // The spec's security schemes: bearer tokens checked against JWT_SECRET, JWT_PUBLIC_KEY or
    // JWT_JWKS (feature `jwt`), and API keys or sessions found, by their hash only, in the database.
    let credentials = rt::auth::SqlCredentials::new(db.clone()).await?;
    let auth = rt::auth::Authenticator::from_env(generated::SECURITY_SCHEMES)?
        .with_credentials(Arc::new(credentials));
    let routes = generated::router(app).merge(generated::ops_router(readiness));
    Ok(limits.apply_with_auth(routes, auth))
}
"#
    .to_string()
}

pub fn main_rs(service: &str, krate: &str) -> String {
    format!(
        r#"//! Serves every operation of the spec. `--help` lists the settings, each an environment variable
//! with a default (`PORT` 8080, `DATABASE_URL` an SQLite file here, …). This file is yours.
use archgen_runtime as rt;

#[tokio::main]
async fn main() -> Result<(), rt::BoxError> {{
    // Every setting, its variable and its default (docs/configuration.md in archgen).
    if rt::settings::help_requested() {{
        print!("{{}}", rt::settings::help({service:?}));
        return Ok(());
    }}
    rt::server::init_tracing();
    let config = rt::server::Config::from_env({service:?})?;
    let db = rt::sql::Db::connect(&config.database_url).await?;
    let router = rt::server::dev_caller({krate}::router(&db).await?)?;
    rt::deps::tracing::info!(database = db.backend(), "migrations applied");
    rt::server::serve(router, config.port).await
}}
"#
    )
}

/// The new crate's manifest. archgen-runtime comes with exactly the features the spec uses
/// ([`RuntimeFeatures::for_crate`]), by version and path, so the dependency still resolves once
/// the crates are published and the path is gone.
pub fn cargo_toml(
    name: &str,
    runtime: &str,
    features: &RuntimeFeatures,
    workspace: bool,
) -> String {
    let list = features
        .for_crate()
        .iter()
        .map(|f| format!("{f:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
# What the spec uses of the runtime, each a feature (archgen's docs/architecture.md, "The runtime"):
# `cache` in-memory cache, `redis` Redis cache and Redis Streams, `nats` JetStream, `jwt` bearer
# JWTs, `docs` the /docs page. A setting that needs one left out stops the service at start-up.
archgen-runtime = {{ version = "{version}", path = "{runtime}", default-features = false, features = [{list}] }}
serde = {{ version = "1", features = ["derive"] }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread", "net", "signal"] }}

[features]
# The typed clients (`generated::<domain>::client`), for crates that call this service: they
# depend on it with `features = ["client"]` (and `archgen-runtime/client-tls` for HTTPS).
client = ["archgen-runtime/client"]
{}"#,
        if workspace {
            "\n# A workspace of its own, so it builds wherever it is created.\n[workspace]\n"
        } else {
            ""
        },
        version = runtime_version(),
    )
}

/// The archgen-runtime release this archgen generates for: the same `major.minor` (the two crates
/// are released together).
fn runtime_version() -> &'static str {
    let version = env!("CARGO_PKG_VERSION");
    let minor_end = version
        .match_indices('.')
        .nth(1)
        .map_or(version.len(), |(i, _)| i);
    &version[..minor_end]
}

pub fn archgen_toml(spec: &str) -> String {
    format!(
        "# archgen generate / archgen check read this file.\nspec = \"{spec}\"\nout = \"src/generated\"\nstubs = \"src/custom\"\n"
    )
}

pub fn crate_name(model: &Model, dir: &Path) -> String {
    let from_dir = dir.file_name().map(|n| n.to_string_lossy().to_kebab_case());
    let name = from_dir
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| model.service.clone());
    let name: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        format!("service-{name}")
    }
}

/// `to` relative to `from` (both absolute), for path dependencies that survive a move of the repo.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component> = from.components().collect();
    let to_c: Vec<Component> = to.components().collect();
    let common = from.iter().zip(&to_c).take_while(|(a, b)| a == b).count();
    if common <= 1 {
        return to.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to_c[common..] {
        out.push(c);
    }
    out
}
