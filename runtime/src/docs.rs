//! `GET /docs`: the service's own OpenAPI document (`/openapi.json`) rendered by Redoc, served by
//! the binary itself so it works offline, behind a firewall and without a CDN.
//!
//! The renderer is Redoc's standalone bundle, vendored gzip-compressed in `runtime/assets/` (see
//! the README there for its version, licence and how to update it) and embedded with
//! `include_bytes!`. It is always sent as stored, with `Content-Encoding: gzip`: no decompressor is
//! in this crate's dependency tree, and every browser (the only client that runs the bundle)
//! accepts gzip, so adding one just for clients that refuse it is not worth it.
//!
//! The page carries no inline script: Redoc starts itself on the `<redoc spec-url>` element, so the
//! Content-Security-Policy allows scripts from the service only. It does allow inline styles (Redoc
//! injects its CSS at run time), `blob:` workers (its search index runs in one) and `data:` images.

use std::sync::{Arc, LazyLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Redoc's version, part of the asset's path so a new bundle is a new URL and browsers can cache
/// the old one forever. Change it together with `runtime/assets/redoc.standalone.js.gz`.
pub const REDOC_VERSION: &str = "2.5.4";

/// Where the page lives.
pub const PAGE_PATH: &str = "/docs";

/// Where the renderer lives: versioned, so it can be cached as immutable.
pub const ASSET_PATH: &str = "/docs/redoc-2.5.4.standalone.js";

/// The Content-Security-Policy of the page: scripts and everything fetched come from the service
/// only; inline styles, `blob:` workers and `data:` images are what Redoc needs to render.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Redoc's standalone bundle, gzip -9.
static BUNDLE_GZ: &[u8] = include_bytes!("../assets/redoc.standalone.js.gz");

/// A strong ETag for the bundle: FNV-1a over its compressed bytes, worked out on first use.
static BUNDLE_ETAG: LazyLock<HeaderValue> = LazyLock::new(|| {
    let hash = BUNDLE_GZ.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    HeaderValue::from_str(&format!("\"redoc-{REDOC_VERSION}-{hash:016x}\""))
        .expect("an ETag of ASCII letters and digits is a valid header value")
});

/// `/docs` (a page titled `title` that renders `/openapi.json`) and the renderer it loads, for
/// merging next to the route that serves the document.
pub fn docs_router(title: &str) -> Router {
    let page: Arc<str> = page(title).into();
    Router::new()
        .route(
            PAGE_PATH,
            get(move || {
                let page = page.clone();
                async move { page_response(&page) }
            }),
        )
        .route(ASSET_PATH, get(bundle))
}

/// The HTML of the page. URLs are relative (`/docs` sees `openapi.json` as `/openapi.json`), so
/// the page still works behind a proxy that mounts the service under a prefix.
/// The document's `info.title`, for the docs page; "API" when it has none.
pub(crate) fn title(document: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Document {
        info: Option<Info>,
    }
    #[derive(serde::Deserialize)]
    struct Info {
        title: Option<String>,
    }
    serde_json::from_str::<Document>(document)
        .ok()
        .and_then(|d| d.info?.title)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| "API".to_string())
}

fn page(title: &str) -> String {
    let title = escape(title);
    let asset = ASSET_PATH.trim_start_matches('/');
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body {{ margin: 0; padding: 0; }}</style>
</head>
<body>
<noscript>This page needs JavaScript to render the API document; the document itself is at <a href="openapi.json">openapi.json</a>.</noscript>
<redoc spec-url="openapi.json"></redoc>
<script src="{asset}"></script>
</body>
</html>
"#
    )
}

fn page_response(page: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page.to_string(),
    )
        .into_response()
}

async fn bundle(headers: HeaderMap) -> Response {
    let etag = &*BUNDLE_ETAG;
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag.to_str().unwrap_or(""));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Body::from(BUNDLE_GZ).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/javascript; charset=utf-8"),
        );
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `text` safe inside an HTML element or attribute.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_asset_path_names_the_version() {
        assert!(ASSET_PATH.contains(REDOC_VERSION));
        assert!(ASSET_PATH.starts_with("/docs/") && ASSET_PATH.ends_with(".js"));
    }

    #[test]
    fn titles_are_escaped() {
        let html = page("<script>alert('x')</script> & co");
        assert!(
            html.contains(
                "<title>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</title>"
            )
        );
        assert!(!html.contains("<script>alert"));
    }

    #[test]
    fn the_bundle_is_gzip() {
        assert_eq!(&BUNDLE_GZ[..2], &[0x1f, 0x8b]);
    }
}
