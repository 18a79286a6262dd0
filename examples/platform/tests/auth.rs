//! The spec's security over HTTP, with real tokens: the platform's operations need a bearer JWT
//! (HS256 here), `/health` is public, and deleting an artifact needs `artifacts:delete`.

use archgen_runtime as rt;
use http_body_util::BodyExt;
use jsonwebtoken::{EncodingKey, Header, encode};
use rt::deps::axum::Router;
use rt::deps::axum::body::Body;
use rt::deps::axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "a-test-secret-of-at-least-32-bytes!!";
const AUDIENCE: &str = "archgen-platform";
const ORG: &str = "11111111-1111-4111-8111-111111111111";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A token for `ORG` signed with `secret`, with `extra` claims over the defaults.
fn token(secret: &str, extra: Value) -> String {
    let mut claims = json!({
        "sub": "user-1",
        "org": ORG,
        "aud": AUDIENCE,
        "exp": now() + 600,
    });
    for (k, v) in extra.as_object().unwrap() {
        claims[k] = v.clone();
    }
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn api() -> (Router, rt::sql::Db) {
    let db = rt::testing::sqlite_memory().await;
    let auth = rt::auth::Authenticator::new(archgen_platform::generated::SECURITY_SCHEMES)
        .with_jwt(
            rt::auth::JwtConfig::hs256(SECRET)
                .with_audience(AUDIENCE)
                .with_leeway(0),
        );
    let router = archgen_platform::router_with_auth(&db, auth).await.unwrap();
    (router, db)
}

async fn call(
    router: &Router,
    method: &str,
    uri: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(t) = bearer {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(b) => {
            request = request.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let response = router
        .clone()
        .oneshot(request.body(body).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, json)
}

/// 401 problem+json with a Bearer challenge; `error` is RFC 6750's code when a token was sent.
fn assert_refused(
    (status, headers, problem): &(StatusCode, HeaderMap, Value),
    error: Option<&str>,
) {
    assert_eq!(*status, StatusCode::UNAUTHORIZED, "{problem}");
    assert_eq!(headers["content-type"], "application/problem+json");
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer realm=\"api\""), "{challenge}");
    match error {
        Some(e) => assert!(challenge.contains(&format!("error=\"{e}\"")), "{challenge}"),
        None => assert!(!challenge.contains("error="), "{challenge}"),
    }
    // The reason is for the caller; the token itself is never echoed.
    assert!(!problem.to_string().contains("eyJ"), "{problem}");
}

#[tokio::test]
async fn tokens_are_checked_before_anything_else() {
    let (router, _db) = api().await;
    let body = Some(json!({"name": "x"}));
    assert_refused(&call(&router, "GET", "/labels", None, None).await, None);
    // Even a path that cannot be decoded, or an invalid body, is answered 401 first: an
    // unauthorized caller learns nothing.
    assert_refused(
        &call(&router, "GET", "/artifacts/%FF", None, None).await,
        None,
    );
    assert_refused(
        &call(&router, "POST", "/labels", None, Some(json!({"name": 7}))).await,
        None,
    );
    let expired = token(SECRET, json!({"exp": now() - 60}));
    assert_refused(
        &call(&router, "GET", "/labels", Some(&expired), None).await,
        Some("invalid_token"),
    );
    let not_yet = token(SECRET, json!({"nbf": now() + 600}));
    assert_refused(
        &call(&router, "GET", "/labels", Some(&not_yet), None).await,
        Some("invalid_token"),
    );
    let wrong_key = token("another-secret-of-at-least-32-bytes!!", json!({}));
    assert_refused(
        &call(&router, "POST", "/labels", Some(&wrong_key), body.clone()).await,
        Some("invalid_token"),
    );
    let wrong_audience = token(SECRET, json!({"aud": "someone-else"}));
    assert_refused(
        &call(&router, "GET", "/labels", Some(&wrong_audience), None).await,
        Some("invalid_token"),
    );
    assert_refused(
        &call(&router, "GET", "/labels", Some("not.a.jwt"), None).await,
        Some("invalid_token"),
    );
}

#[tokio::test]
async fn a_valid_token_names_the_caller_and_its_organization() {
    let (router, _db) = api().await;
    let valid = token(SECRET, json!({}));
    let (status, _, created) = call(
        &router,
        "POST",
        "/labels",
        Some(&valid),
        Some(json!({"name": "mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    // The organization comes from the token's `org` claim, not from the request.
    assert_eq!(created["data"]["organizationID"], ORG);
    let (status, _, page) = call(&router, "GET", "/labels", Some(&valid), None).await;
    assert_eq!(
        (status, page["meta"]["total"].clone()),
        (StatusCode::OK, json!(1))
    );
}

#[tokio::test]
async fn a_missing_permission_is_403_and_public_operations_need_nothing() {
    let (router, _db) = api().await;
    let plain = token(SECRET, json!({}));
    let (_, _, artifact) = call(
        &router,
        "POST",
        "/artifacts",
        Some(&plain),
        Some(json!({"organizationID": ORG, "text": "t"})),
    )
    .await;
    let uri = format!("/artifacts/{}", artifact["data"]["id"].as_str().unwrap());
    let (status, _, problem) = call(&router, "DELETE", &uri, Some(&plain), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("artifacts:delete"),
        "{problem}"
    );
    let allowed = token(SECRET, json!({"permissions": ["artifacts:delete"]}));
    let (status, _, _) = call(&router, "DELETE", &uri, Some(&allowed), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // `security: [{}]` and x-public-endpoint: no token, or a bad one, is fine.
    for bearer in [None, Some("garbage")] {
        let (status, _, _) = call(&router, "GET", "/health", bearer, None).await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn opaque_tokens_are_found_by_their_hash_in_the_database() {
    let (router, db) = api().await;
    let store = rt::auth::SqlCredentials::new(db.clone()).await.unwrap();
    let caller = rt::Principal {
        subject: "ci-bot".into(),
        organization: ORG.parse().ok(),
        roles: vec![],
    };
    let key = store.issue_api_key(&caller, None, None).await.unwrap();
    let (status, _, page) = call(&router, "GET", "/labels", Some(&key), None).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    store.revoke(&key).await.unwrap();
    assert_refused(
        &call(&router, "GET", "/labels", Some(&key), None).await,
        Some("invalid_token"),
    );
}
