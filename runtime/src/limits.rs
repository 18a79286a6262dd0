//! Protections every service gets, each with a safe default and an environment variable: a
//! limit on request bodies, a deadline per request, and CORS, closed unless origins are named.
//! Whatever they refuse is answered as problem+json, like every other error.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// `ARCHGEN_BODY_LIMIT`, bytes; default 1 MiB.
    pub body_limit: usize,
    /// `ARCHGEN_REQUEST_TIMEOUT`, seconds; default 30.
    pub request_timeout: Duration,
    /// `ARCHGEN_CORS_ORIGINS`, comma-separated origins or `*`; default none: browsers may not
    /// call the service from other origins.
    pub cors_origins: Vec<String>,
    /// `ARCHGEN_RATE_LIMIT`, requests per minute per caller (the principal, else the client's
    /// address); default none.
    pub rate_per_minute: Option<u32>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_limit: 1 << 20,
            request_timeout: Duration::from_secs(30),
            cors_origins: Vec::new(),
            rate_per_minute: None,
        }
    }
}

impl Limits {
    pub fn from_env() -> Result<Self, String> {
        let mut limits = Self::default();
        if let Ok(v) = std::env::var("ARCHGEN_BODY_LIMIT") {
            limits.body_limit = v
                .parse()
                .map_err(|_| format!("ARCHGEN_BODY_LIMIT must be a number of bytes, got `{v}`"))?;
        }
        if let Ok(v) = std::env::var("ARCHGEN_REQUEST_TIMEOUT") {
            let secs: f64 = v
                .parse()
                .ok()
                .filter(|s: &f64| *s > 0.0 && s.is_finite())
                .ok_or_else(|| {
                    format!(
                        "ARCHGEN_REQUEST_TIMEOUT must be a positive number of seconds, got `{v}`"
                    )
                })?;
            limits.request_timeout = Duration::from_secs_f64(secs);
        }
        if let Ok(v) = std::env::var("ARCHGEN_RATE_LIMIT") {
            limits.rate_per_minute = Some(v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                format!(
                    "ARCHGEN_RATE_LIMIT must be a positive number of requests per minute, got `{v}`"
                )
            })?);
        }
        if let Ok(v) = std::env::var("ARCHGEN_CORS_ORIGINS") {
            limits.cors_origins = v
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_string)
                .collect();
        }
        Ok(limits)
    }

    /// `router` behind these limits.
    pub fn apply(&self, router: Router) -> Router {
        self.layers(router, None)
    }

    /// `router` behind these limits and `auth`, which runs before the rate limit so that an
    /// authenticated caller is counted as itself rather than by its address.
    pub fn apply_with_auth(&self, router: Router, auth: crate::auth::Authenticator) -> Router {
        self.layers(router, Some(auth))
    }

    fn layers(&self, router: Router, auth: Option<crate::auth::Authenticator>) -> Router {
        let timeout = self.request_timeout;
        let mut router = router.layer(DefaultBodyLimit::max(self.body_limit));
        if let Some(per_minute) = self.rate_per_minute.and_then(NonZeroU32::new) {
            let limiter = Arc::new(
                RateLimiter::keyed(Quota::per_minute(per_minute))
                    .with_middleware::<StateInformationMiddleware>(),
            );
            router = router.layer(middleware::from_fn(move |request: Request, next: Next| {
                throttle(limiter.clone(), request, next)
            }));
        }
        if let Some(auth) = auth {
            router = auth.layer(router);
        }
        // The deadline covers everything a request costs, checking its credentials included;
        // the same layer answers errors raised below the handlers as problem+json.
        router = router.layer(middleware::from_fn(move |request: Request, next: Next| {
            guarded(timeout, request, next)
        }));
        if !self.cors_origins.is_empty() {
            let origins = if self.cors_origins.iter().any(|o| o == "*") {
                AllowOrigin::any()
            } else {
                AllowOrigin::list(
                    self.cors_origins
                        .iter()
                        .filter_map(|o| HeaderValue::from_str(o).ok()),
                )
            };
            router = router.layer(
                CorsLayer::new()
                    .allow_origin(origins)
                    .allow_methods([
                        Method::GET,
                        Method::POST,
                        Method::PUT,
                        Method::PATCH,
                        Method::DELETE,
                    ])
                    // Whatever the browser asks to send: a spec's API key header, any of its
                    // header parameters. Which origins may ask is what CORS guards here.
                    .allow_headers(tower_http::cors::AllowHeaders::mirror_request())
                    .expose_headers([
                        header::ETAG,
                        header::WWW_AUTHENTICATE,
                        header::RETRY_AFTER,
                        header::HeaderName::from_static("x-request-id"),
                        header::HeaderName::from_static("x-ratelimit-limit"),
                        header::HeaderName::from_static("x-ratelimit-remaining"),
                        header::HeaderName::from_static("x-ratelimit-reset"),
                    ]),
            );
        }
        router
    }
}

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// Who a request counts against: its principal, else the client's address.
fn caller(request: &Request) -> String {
    if let Some(p) = request.extensions().get::<crate::Principal>() {
        return format!("principal:{}", p.subject);
    }
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "anonymous".into(), |c| format!("ip:{}", c.0.ip()))
}

static CHECKS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// 429 with `Retry-After` once a caller has used up its requests for now. Every answer says
/// where the caller stands (`X-RateLimit-Limit`, `-Remaining`, and `-Reset` as a Unix time), the
/// headers specs declare for rate-limited operations.
async fn throttle(limiter: Arc<Limiter>, request: Request, next: Next) -> Response {
    // Callers seen once would otherwise be remembered forever.
    if CHECKS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 4096 == 4095 {
        limiter.retain_recent();
    }
    match limiter.check_key(&caller(&request)) {
        Ok(state) => {
            let quota = state.quota();
            let limit = quota.burst_size().get();
            let remaining = state.remaining_burst_capacity();
            // The window is full again once every used request has been replenished.
            let refill = quota.replenish_interval() * (limit - remaining);
            let mut response = next.run(request).await;
            rate_headers(&mut response, limit, remaining, refill);
            response
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many requests; retry in {secs} s"),
            )
            .into_response();
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            let quota = not_until.quota();
            rate_headers(&mut response, quota.burst_size().get(), 0, wait);
            response
        }
    }
}

fn rate_headers(response: &mut Response, limit: u32, remaining: u32, refill: Duration) {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        + refill;
    let reset = reset.as_secs() + u64::from(reset.subsec_nanos() > 0);
    for (name, value) in [
        ("x-ratelimit-limit", u64::from(limit)),
        ("x-ratelimit-remaining", u64::from(remaining)),
        ("x-ratelimit-reset", reset),
    ] {
        response.headers_mut().insert(
            header::HeaderName::from_static(name),
            HeaderValue::from(value),
        );
    }
}

/// Answer 503 when a request takes longer than `timeout`; its work is dropped.
/// One layer for two jobs, so that a request pays for one: the request deadline, and
/// problem+json for errors raised below the handlers.
async fn guarded(timeout: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => as_problem(response),
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the request took longer than {} s", timeout.as_secs_f64()),
        )
        .into_response(),
    }
}

/// Errors raised below the handlers (a body over the limit, a malformed request line) come back
/// as plain text; answer them as problem+json like every other error.
fn as_problem(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .extensions()
        .get::<crate::error::Problem>()
        .is_some()
        || response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let detail = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than this service accepts",
            _ => "the request could not be served",
        };
        let mut problem = ApiError::new(status, detail).into_response();
        // Keep headers such as Allow or WWW-Authenticate that say how to do better.
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                problem.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return problem;
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::{get, post};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    fn app(limits: &Limits) -> Router {
        limits.apply(
            Router::new()
                .route(
                    "/echo",
                    post(|body: axum::body::Bytes| async move { body.len().to_string() }),
                )
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        "late"
                    }),
                ),
        )
    }

    async fn send(router: Router, request: Request) -> (StatusCode, String, String) {
        let response = router.oneshot(request).await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            content_type,
            String::from_utf8_lossy(&body).to_string(),
        )
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_413_problem_json() {
        let limits = Limits {
            body_limit: 16,
            ..Limits::default()
        };
        let small = Request::post("/echo")
            .body(Body::from("0123456789"))
            .unwrap();
        assert_eq!(send(app(&limits), small).await.0, StatusCode::OK);
        let big = Request::post("/echo")
            .body(Body::from("x".repeat(64)))
            .unwrap();
        let (status, content_type, body) = send(app(&limits), big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
        assert_eq!(content_type, "application/problem+json");
        assert!(body.contains("\"status\":413"), "{body}");
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_503_problem_json() {
        let limits = Limits {
            request_timeout: Duration::from_millis(50),
            ..Limits::default()
        };
        let (status, content_type, _) = send(
            app(&limits),
            Request::get("/slow").body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(content_type, "application/problem+json");
    }

    #[tokio::test]
    async fn a_caller_over_its_rate_gets_429_with_retry_after() {
        let limits = Limits {
            rate_per_minute: Some(2),
            ..Limits::default()
        };
        let router = app(&limits);
        let as_caller = |subject: &str| {
            let mut request = Request::post("/echo").body(Body::from("x")).unwrap();
            request.extensions_mut().insert(crate::Principal {
                subject: subject.into(),
                ..crate::Principal::default()
            });
            request
        };
        let header = |response: &Response, name: &str| -> u64 {
            response.headers()[name].to_str().unwrap().parse().unwrap()
        };
        for left in [1, 0] {
            let response = router.clone().oneshot(as_caller("a")).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(header(&response, "x-ratelimit-limit"), 2);
            assert_eq!(header(&response, "x-ratelimit-remaining"), left);
        }
        let response = router.clone().oneshot(as_caller("a")).await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(header(&response, "x-ratelimit-remaining"), 0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let reset = header(&response, "x-ratelimit-reset");
        assert!((now..=now + 61).contains(&reset), "{reset} vs {now}");
        let retry: u64 = response.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        // Another caller has its own allowance.
        assert_eq!(send(router, as_caller("b")).await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn cors_is_closed_unless_origins_are_named() {
        let preflight = || {
            Request::options("/echo")
                .header(header::ORIGIN, "https://app.example")
                .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
                .body(Body::empty())
                .unwrap()
        };
        let closed = app(&Limits::default()).oneshot(preflight()).await.unwrap();
        assert!(
            closed
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );

        let open = Limits {
            cors_origins: vec!["https://app.example".into()],
            ..Limits::default()
        };
        let allowed = app(&open).oneshot(preflight()).await.unwrap();
        assert_eq!(
            allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://app.example"
        );
        let other = Request::options("/echo")
            .header(header::ORIGIN, "https://evil.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .body(Body::empty())
            .unwrap();
        let refused = app(&open).oneshot(other).await.unwrap();
        assert!(
            refused
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .is_none()
        );
    }
}
