//! Start-up: configuration from the environment, logging, and serving with graceful shutdown
//! that drains requests in flight within a deadline.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing_subscriber::EnvFilter;

use crate::BoxError;
use crate::error::ApiError;

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

/// Log to stderr, filtered by `RUST_LOG` (default `info`): readable text, or one JSON object per
/// line with `ARCHGEN_LOG_FORMAT=json` for log collectors.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match std::env::var("ARCHGEN_LOG_FORMAT").as_deref() {
        Ok("json") => builder.json().flatten_event(true).try_init(),
        _ => builder.try_init(),
    };
}

/// Serve `router` on `0.0.0.0:port` until Ctrl-C or SIGTERM, letting requests in flight finish
/// within `ARCHGEN_SHUTDOWN_TIMEOUT` (see [`serve_until`]).
pub async fn serve(router: Router, port: u16) -> Result<(), BoxError> {
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "listening");
    serve_until(listener, router, shutdown_signal()).await
}

/// Serve `router` on `listener` until `shutdown` completes. Then stop accepting connections and
/// give the requests in flight `ARCHGEN_SHUTDOWN_TIMEOUT` seconds (default 30) to finish; any
/// still running after that are answered 503 and the server returns anyway.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), BoxError> {
    let grace = shutdown_timeout()?;
    serve_until_within(listener, router, shutdown, grace).await
}

/// `ARCHGEN_SHUTDOWN_TIMEOUT`: how long requests in flight may run on after the shutdown signal,
/// in seconds (fractions allowed, `0` cuts them at once); default 30.
pub fn shutdown_timeout() -> Result<Duration, BoxError> {
    match std::env::var("ARCHGEN_SHUTDOWN_TIMEOUT") {
        Err(_) => Ok(DEFAULT_SHUTDOWN_TIMEOUT),
        Ok(v) => v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| *s >= 0.0 && s.is_finite())
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                format!(
                    "ARCHGEN_SHUTDOWN_TIMEOUT must be a number of seconds (0 or more), got `{v}`"
                )
                .into()
            }),
    }
}

const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the server waits, once requests past the deadline have been answered 503, for their
/// connections to close before it returns regardless (a response body may still be streaming).
const AFTER_CUT: Duration = Duration::from_secs(1);

/// [`serve_until`] with the drain deadline given rather than read from the environment.
pub async fn serve_until_within(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> Result<(), BoxError> {
    let drain = Arc::new(Drain::default());
    let tracked = {
        let drain = drain.clone();
        router.layer(axum::middleware::from_fn(
            move |request: Request, next: Next| run_cuttable(drain.clone(), request, next),
        ))
    };
    let (signalled_tx, mut signalled) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = signalled_tx.send(true);
    };
    // The client's address reaches handlers and the rate limit.
    let server = axum::serve(
        listener,
        tracked.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .into_future();
    tokio::pin!(server);

    tokio::select! {
        // The server first: once it has returned it must not be polled again.
        biased;
        result = &mut server => return result.map_err(Into::into),
        Ok(_) = signalled.wait_for(|s| *s) => {}
    }
    let in_flight = drain.in_flight.load(Ordering::SeqCst);
    tracing::info!(
        in_flight,
        deadline_secs = grace.as_secs_f64(),
        "no longer accepting connections; letting requests in flight finish"
    );
    if let Ok(result) = tokio::time::timeout(grace, &mut server).await {
        tracing::info!("every request finished; stopped");
        return result.map_err(Into::into);
    }
    let cut = drain.in_flight.load(Ordering::SeqCst);
    tracing::warn!(
        cut,
        deadline_secs = grace.as_secs_f64(),
        "shutdown deadline passed: answering the requests still in flight 503 and stopping"
    );
    let _ = drain.cut.send(true);
    if tokio::time::timeout(AFTER_CUT, &mut server).await.is_err() {
        tracing::warn!("connections still open after the deadline; stopping without them");
    }
    Ok(())
}

/// Requests in flight, and the switch that cuts them once the shutdown deadline has passed.
struct Drain {
    in_flight: AtomicUsize,
    cut: tokio::sync::watch::Sender<bool>,
}

impl Default for Drain {
    fn default() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            cut: tokio::sync::watch::Sender::new(false),
        }
    }
}

/// Counts the request while it runs; answers 503 in its place if the deadline cuts it.
async fn run_cuttable(drain: Arc<Drain>, request: Request, next: Next) -> Response {
    struct InFlight<'a>(&'a AtomicUsize);
    impl Drop for InFlight<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    drain.in_flight.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight(&drain.in_flight);
    let mut cut = drain.cut.subscribe();
    tokio::select! {
        response = next.run(request) => response,
        Ok(_) = cut.wait_for(|c| *c) => {
            let mut response = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the service shut down before the request finished",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
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

/// `ARCHGEN_DEV_ORGANIZATION=<uuid>` makes every request act for that organization, so that
/// tenant-scoped operations can be tried by hand without minting tokens. The caller it places is
/// trusted like any an application layer places: it satisfies every security scheme (its roles are
/// empty, so permissions still apply). For development only: anyone who can reach the service
/// acts as that caller, and it says so loudly at start-up.
pub fn dev_caller(router: Router) -> Result<Router, BoxError> {
    let Ok(raw) = std::env::var("ARCHGEN_DEV_ORGANIZATION") else {
        return Ok(router);
    };
    let organization: uuid::Uuid = raw
        .parse()
        .map_err(|_| format!("ARCHGEN_DEV_ORGANIZATION must be a UUID, got `{raw}`"))?;
    tracing::warn!(
        %organization,
        "ARCHGEN_DEV_ORGANIZATION is set: every request acts for this organization and passes the spec's security schemes. Never set it in production"
    );
    Ok(router.layer(axum::Extension(crate::Principal {
        subject: "dev".into(),
        organization: Some(organization),
        roles: Vec::new(),
    })))
}
