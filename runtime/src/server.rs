//! Start-up: configuration from the environment, logging, and serving with graceful shutdown.

use std::net::SocketAddr;

use axum::Router;
use tracing_subscriber::EnvFilter;

use crate::BoxError;

/// Settings every generated service reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PORT`, default 8080.
    pub port: u16,
    /// `DATABASE_URL`, default an SQLite file named after the service in the working directory.
    pub database_url: String,
}

impl Config {
    pub fn from_env(service: &str) -> Result<Self, BoxError> {
        let port = match std::env::var("PORT") {
            Ok(p) => p
                .parse()
                .map_err(|_| format!("PORT must be a port number, got `{p}`"))?,
            Err(_) => 8080,
        };
        let database_url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{service}.db"));
        Ok(Self { port, database_url })
    }
}

/// Log to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Serve `router` on `0.0.0.0:port` until Ctrl-C or SIGTERM, letting requests in flight finish.
pub async fn serve(router: Router, port: u16) -> Result<(), BoxError> {
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    // The client's address reaches handlers and the rate limit.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Until a security scheme names the caller (issue 6), `ARCHGEN_DEV_ORGANIZATION=<uuid>` makes every
/// request act for that organization, so tenant-scoped operations can be tried by hand. For
/// development only: anyone who can reach the service acts as that caller, and it says so loudly.
pub fn dev_caller(router: Router) -> Result<Router, BoxError> {
    let Ok(raw) = std::env::var("ARCHGEN_DEV_ORGANIZATION") else {
        return Ok(router);
    };
    let organization: uuid::Uuid = raw
        .parse()
        .map_err(|_| format!("ARCHGEN_DEV_ORGANIZATION must be a UUID, got `{raw}`"))?;
    tracing::warn!(
        %organization,
        "ARCHGEN_DEV_ORGANIZATION is set: every request acts for this organization. Never set it in production"
    );
    Ok(router.layer(axum::Extension(crate::Principal {
        subject: "dev".into(),
        organization: Some(organization),
        roles: Vec::new(),
    })))
}
