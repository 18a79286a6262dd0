//! `/docs`: the page, the renderer it loads, and how the operational routes carry them.

use std::io::Read;

use archgen_runtime::docs::{self, ASSET_PATH, CONTENT_SECURITY_POLICY, REDOC_VERSION};
use archgen_runtime::ops::{self, Readiness};
use archgen_runtime::sql::Db;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(
    app: &Router,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn header(headers: &HeaderMap, name: header::HeaderName) -> &str {
    headers
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

#[tokio::test]
async fn the_page_is_html_that_loads_the_renderer_and_the_document() {
    let app = docs::docs_router("Pets <& Owners>");
    let (status, headers, body) = get(&app, "/docs", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&headers, header::CONTENT_TYPE).starts_with("text/html"));
    let html = String::from_utf8(body).unwrap();
    assert!(
        html.contains("<title>Pets &lt;&amp; Owners&gt;</title>"),
        "{html}"
    );
    // Relative URLs, resolved against /docs: the renderer under /docs/, the document at the root.
    let asset = ASSET_PATH.trim_start_matches('/');
    assert!(
        html.contains(&format!("<script src=\"{asset}\"></script>")),
        "{html}"
    );
    assert!(html.contains("spec-url=\"openapi.json\""), "{html}");
    // No inline script: the policy would refuse it.
    assert_eq!(html.matches("<script").count(), 1, "{html}");
}

#[tokio::test]
async fn the_page_has_a_strict_content_security_policy() {
    let app = docs::docs_router("API");
    let (_, headers, _) = get(&app, "/docs", &[]).await;
    let csp = header(&headers, header::CONTENT_SECURITY_POLICY);
    assert_eq!(csp, CONTENT_SECURITY_POLICY);
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix(name)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no {name} in {csp}"))
            .to_string()
    };
    assert_eq!(directive("default-src"), "'none'");
    assert_eq!(directive("script-src"), "'self'");
    assert_eq!(directive("connect-src"), "'self'");
    assert!(!csp.contains("unsafe-eval"));
    assert!(!csp.contains("http:") && !csp.contains("https:"));
    assert_eq!(header(&headers, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
}

#[tokio::test]
async fn the_renderer_is_served_gzip_and_decompresses_to_javascript() {
    let app = docs::docs_router("API");
    // Served compressed whether or not the client says it accepts gzip: every browser does.
    for accept in [&[("accept-encoding", "gzip, br")][..], &[]] {
        let (status, headers, body) = get(&app, ASSET_PATH, accept).await;
        assert_eq!(status, StatusCode::OK);
        assert!(header(&headers, header::CONTENT_TYPE).starts_with("text/javascript"));
        assert_eq!(header(&headers, header::CONTENT_ENCODING), "gzip");
        let cache = header(&headers, header::CACHE_CONTROL);
        assert!(
            cache.contains("max-age=31536000") && cache.contains("immutable"),
            "{cache}"
        );
        let etag = header(&headers, header::ETAG);
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

        let mut js = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut js)
            .expect("the body is gzip of UTF-8 text");
        assert!(
            js.len() > 500_000,
            "{} bytes is too small for Redoc",
            js.len()
        );
        assert!(js.contains("Redoc"), "not Redoc");
        assert!(
            js.contains(&format!("\"{REDOC_VERSION}\"")),
            "not Redoc {REDOC_VERSION}"
        );
    }
}

#[tokio::test]
async fn the_renderer_revalidates_by_etag() {
    let app = docs::docs_router("API");
    let (_, headers, _) = get(&app, ASSET_PATH, &[]).await;
    let etag = header(&headers, header::ETAG).to_string();
    let (status, headers, body) = get(&app, ASSET_PATH, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&headers, header::ETAG), etag);
    let (status, _, _) = get(&app, ASSET_PATH, &[("if-none-match", "\"something-else\"")]).await;
    assert_eq!(status, StatusCode::OK);
}

fn readiness() -> Readiness {
    Readiness {
        db: Db::Sqlite(
            sqlx::sqlite::SqlitePoolOptions::new()
                .connect_lazy("sqlite::memory:")
                .unwrap(),
        ),
        cache: None,
        bus: None,
    }
}

const DOCUMENT: &str =
    r#"{"openapi":"3.1.0","info":{"title":"Pet Store","version":"1"},"paths":{}}"#;

#[tokio::test]
async fn the_operational_routes_carry_the_docs_titled_after_the_spec() {
    let app = ops::routes(readiness(), DOCUMENT, &["/health"]);
    let (status, _, body) = get(&app, "/docs", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("<title>Pet Store</title>")
    );
    let (status, _, _) = get(&app, ASSET_PATH, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, body) = get(&app, "/openapi.json", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, DOCUMENT.as_bytes());
}

#[tokio::test]
async fn a_spec_that_serves_docs_itself_keeps_it() {
    let app = ops::routes(readiness(), DOCUMENT, &["/docs"]);
    let (status, _, _) = get(&app, "/docs", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // So it can be merged with the spec's own /docs without a clash.
    let _ = app.merge(Router::new().route("/docs", axum::routing::get(|| async { "mine" })));
}

#[tokio::test]
async fn a_document_without_a_title_is_called_api() {
    let app = ops::routes(readiness(), r#"{"openapi":"3.0.3","paths":{}}"#, &[]);
    let (_, _, body) = get(&app, "/docs", &[]).await;
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("<title>API</title>")
    );
}
