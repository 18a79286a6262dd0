//! `rt::auth` end to end: requests go through an axum router behind `Authenticator::layer`, and
//! handlers call `authorized` the way generated ones do. JWTs are signed here with the test keys in
//! `tests/keys/` (generated with openssl for these tests only); API keys and sessions live in
//! `SqlCredentials` on in-memory SQLite and, when it is reachable, Postgres.

use std::sync::Arc;
use std::time::Duration;

use archgen_runtime::auth::{
    Authenticator, CredentialKind, CredentialStore, JwtConfig, Location, MemoryCredentials, NO_KEY,
    Permissions, Requirement, Scheme, SchemeKind, SqlCredentials, authorized, hash_secret,
};
use archgen_runtime::sql::Db;
use archgen_runtime::{ApiError, BoxError, Context, Principal, async_trait, testing};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::{MethodRouter, get};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http_body_util::BodyExt;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use serde_json::{Value, json};
use tower::ServiceExt;
use uuid::Uuid;

const SECRET: &[u8] = b"a test secret that is long enough for HS256!";
const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");

static SCHEMES: &[Scheme] = &[
    Scheme {
        name: "bearer",
        kind: SchemeKind::Bearer,
    },
    Scheme {
        name: "oauth",
        kind: SchemeKind::OAuth2,
    },
    Scheme {
        name: "headerKey",
        kind: SchemeKind::ApiKey {
            location: Location::Header,
            name: "X-API-Key",
        },
    },
    Scheme {
        name: "queryKey",
        kind: SchemeKind::ApiKey {
            location: Location::Query,
            name: "api_key",
        },
    },
    Scheme {
        name: "session",
        kind: SchemeKind::ApiKey {
            location: Location::Cookie,
            name: "sid",
        },
    },
    Scheme {
        name: "basic",
        kind: SchemeKind::Basic,
    },
];

static ADMIN: Permissions = Permissions {
    any_role: &["admin", "owner"],
    all_of: &["items:delete"],
};

/// A handler as generated: `authorized` first, then the work (here: say who called).
fn guarded(security: &'static [Requirement], perms: &'static Permissions) -> MethodRouter {
    get(move |cx: Context| async move {
        let cx = authorized(cx, security, perms)?;
        let p = cx.principal.unwrap_or_default();
        Ok::<_, ApiError>(format!(
            "{}|{}|{}",
            p.subject,
            p.organization.map(|o| o.to_string()).unwrap_or_default(),
            p.roles.join(",")
        ))
    })
}

fn routes() -> Router {
    Router::new()
        .route("/public", guarded(&[], &Permissions::NONE))
        .route(
            "/bearer",
            guarded(&[&[("bearer", &[])]], &Permissions::NONE),
        )
        .route(
            "/scoped",
            guarded(&[&[("bearer", &["items:write"])]], &Permissions::NONE),
        )
        .route(
            "/oauth",
            guarded(&[&[("oauth", &["items:read"])]], &Permissions::NONE),
        )
        .route("/admin", guarded(&[&[("bearer", &[])]], &ADMIN))
        .route(
            "/key-scoped",
            guarded(&[&[("headerKey", &["items:read"])]], &Permissions::NONE),
        )
        .route(
            "/bearer-scoped-read",
            guarded(&[&[("bearer", &["items:read"])]], &Permissions::NONE),
        )
        .route(
            "/both",
            guarded(
                &[&[("bearer", &[]), ("headerKey", &[])]],
                &Permissions::NONE,
            ),
        )
        .route(
            "/either",
            guarded(
                &[&[("bearer", &[])], &[("headerKey", &[])]],
                &Permissions::NONE,
            ),
        )
        .route(
            "/key",
            guarded(&[&[("headerKey", &[])]], &Permissions::NONE),
        )
        .route(
            "/query",
            guarded(&[&[("queryKey", &[])]], &Permissions::NONE),
        )
        .route(
            "/session",
            guarded(&[&[("session", &[])]], &Permissions::NONE),
        )
        .route("/basic", guarded(&[&[("basic", &[])]], &Permissions::NONE))
}

fn app(authenticator: Authenticator) -> Router {
    authenticator.layer(routes())
}

fn hs256_app() -> Router {
    app(Authenticator::new(SCHEMES).with_jwt(JwtConfig::hs256(SECRET)))
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    content_type: String,
    challenges: Vec<String>,
    body: String,
}

impl Answer {
    fn challenge(&self) -> &str {
        self.challenges.first().map_or("", String::as_str)
    }

    /// A refusal as problem+json with a challenge.
    fn assert_refused(&self, status: StatusCode, challenge_part: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert_eq!(self.content_type, "application/problem+json", "{self:?}");
        assert!(
            self.challenges.iter().any(|c| c.contains(challenge_part)),
            "no challenge with `{challenge_part}`: {self:?}"
        );
    }
}

async fn call(app: &Router, uri: &str, headers: &[(&str, &str)]) -> Answer {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let text = |v: &axum::http::HeaderValue| v.to_str().unwrap().to_string();
    Answer {
        status: response.status(),
        content_type: response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(text)
            .unwrap_or_default(),
        challenges: response
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .map(text)
            .collect(),
        body: String::from_utf8_lossy(&response.into_body().collect().await.unwrap().to_bytes())
            .into_owned(),
    }
}

async fn with_token(app: &Router, uri: &str, token: &str) -> Answer {
    call(app, uri, &[("authorization", &format!("Bearer {token}"))]).await
}

fn now() -> i64 {
    get_current_timestamp() as i64
}

fn claims(extra: Value) -> Value {
    let mut claims = json!({ "sub": "alice", "exp": now() + 600 });
    claims
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    claims
}

fn sign(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_string);
    encode(&header, claims, key).unwrap()
}

fn hs256(claims: &Value) -> String {
    sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(SECRET),
        claims,
    )
}

fn key_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{KEYS}/{name}")).unwrap()
}

fn rsa_private() -> EncodingKey {
    EncodingKey::from_rsa_pem(&key_file("rsa_private.pem")).unwrap()
}

fn ec_private() -> EncodingKey {
    EncodingKey::from_ec_pem(&key_file("ec_private.pem")).unwrap()
}

// ---- JWT bearer tokens --------------------------------------------------------------------------

#[tokio::test]
async fn a_valid_hs256_token_names_the_caller_with_roles_permissions_and_scopes() {
    let org = Uuid::from_u128(42);
    let token = hs256(&claims(json!({
        "org": org.to_string(),
        "roles": ["admin"],
        "permissions": ["items:delete"],
        "scope": "items:read items:write",
    })));
    let answer = with_token(&hs256_app(), "/bearer", &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        answer.body,
        format!("alice|{org}|admin,items:delete,items:read,items:write")
    );
    // OAuth2 access tokens are bearer tokens too, and `scp` arrays count as scopes.
    let token = hs256(&claims(json!({ "scp": ["items:read"] })));
    assert_eq!(with_token(&hs256_app(), "/oauth", &token).await.status, 200);
}

#[tokio::test]
async fn without_credentials_the_401_is_a_plain_bearer_challenge() {
    let answer = call(&hs256_app(), "/bearer", &[]).await;
    answer.assert_refused(StatusCode::UNAUTHORIZED, "Bearer");
    assert_eq!(answer.challenges, ["Bearer realm=\"api\""]);
    let body: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(body["status"], 401);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("needs credentials")
    );
}

#[tokio::test]
async fn refused_tokens_say_why_in_the_challenge() {
    let app = hs256_app();
    let wrong_key = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(b"another secret, also long enough for HS256"),
        &claims(json!({})),
    );
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims(json!({})).to_string())
    );
    let cases = [
        (
            hs256(&claims(json!({ "exp": now() - 120 }))),
            "token expired",
        ),
        (
            hs256(&claims(json!({ "nbf": now() + 600 }))),
            "token not valid yet",
        ),
        (wrong_key, "bad signature"),
        ("abc.def.ghi".to_string(), "malformed token"),
        (unsigned, "algorithm not accepted"),
        (
            hs256(&json!({ "exp": now() + 600 })),
            "claim sub is missing",
        ),
        (hs256(&json!({ "sub": "alice" })), "claim exp is missing"),
        (
            hs256(&claims(json!({ "org": "not-a-uuid" }))),
            "claim org is not a UUID",
        ),
    ];
    for (token, why) in cases {
        let answer = with_token(&app, "/bearer", &token).await;
        answer.assert_refused(StatusCode::UNAUTHORIZED, "error=\"invalid_token\"");
        assert!(
            answer
                .challenge()
                .contains(&format!("error_description=\"{why}")),
            "{why}: {answer:?}"
        );
        assert!(answer.body.contains(why), "{why}: {}", answer.body);
    }
}

#[tokio::test]
async fn the_leeway_forgives_small_clock_skew_only() {
    let app = app(Authenticator::new(SCHEMES).with_jwt(JwtConfig::hs256(SECRET).with_leeway(60)));
    let just_expired = hs256(&claims(json!({ "exp": now() - 10 })));
    assert_eq!(with_token(&app, "/bearer", &just_expired).await.status, 200);
    let long_expired = hs256(&claims(json!({ "exp": now() - 120 })));
    assert_eq!(with_token(&app, "/bearer", &long_expired).await.status, 401);
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured() {
    let app = app(Authenticator::new(SCHEMES).with_jwt(
        JwtConfig::hs256(SECRET)
            .with_issuer("https://issuer.test")
            .with_audience("items-api"),
    ));
    let good = claims(json!({ "iss": "https://issuer.test", "aud": ["other", "items-api"] }));
    assert_eq!(with_token(&app, "/bearer", &hs256(&good)).await.status, 200);
    let cases = [
        (
            json!({ "iss": "https://issuer.test", "aud": "other" }),
            "wrong audience",
        ),
        (
            json!({ "iss": "https://evil.test", "aud": "items-api" }),
            "wrong issuer",
        ),
        (
            json!({ "iss": "https://issuer.test" }),
            "claim aud is missing",
        ),
        (json!({ "aud": "items-api" }), "claim iss is missing"),
    ];
    for (extra, why) in cases {
        let answer = with_token(&app, "/bearer", &hs256(&claims(extra))).await;
        answer.assert_refused(StatusCode::UNAUTHORIZED, why);
    }
    // Without an audience configured, `aud` is not checked.
    let token = hs256(&claims(json!({ "aud": "anything" })));
    assert_eq!(
        with_token(&hs256_app(), "/bearer", &token).await.status,
        200
    );
}

#[tokio::test]
async fn rs256_and_es256_public_keys_from_pem() {
    let rsa = app(Authenticator::new(SCHEMES)
        .with_jwt(JwtConfig::public_key_pem(key_file("rsa_public.pem")).unwrap()));
    let token = sign(Algorithm::RS256, None, &rsa_private(), &claims(json!({})));
    assert_eq!(with_token(&rsa, "/bearer", &token).await.status, 200);

    let ec = app(Authenticator::new(SCHEMES)
        .with_jwt(JwtConfig::public_key_pem(key_file("ec_public.pem")).unwrap()));
    let token = sign(Algorithm::ES256, None, &ec_private(), &claims(json!({})));
    assert_eq!(with_token(&ec, "/bearer", &token).await.status, 200);

    // A key of the other type, or a token signed by another key, is refused.
    let rs_token = sign(Algorithm::RS256, None, &rsa_private(), &claims(json!({})));
    with_token(&ec, "/bearer", &rs_token)
        .await
        .assert_refused(StatusCode::UNAUTHORIZED, "algorithm not accepted");
    let mut tampered = token.clone();
    tampered.replace_range(
        tampered.rfind('.').unwrap() + 1..tampered.rfind('.').unwrap() + 5,
        "AAAA",
    );
    with_token(&ec, "/bearer", &tampered)
        .await
        .assert_refused(StatusCode::UNAUTHORIZED, "bad signature");

    assert!(JwtConfig::public_key_pem(key_file("rsa_private.pem")).is_err());
    assert!(JwtConfig::public_key_pem(b"not a key").is_err());
}

#[tokio::test]
async fn algorithm_confusion_is_refused() {
    // The classic attack: HS256 "signed" with the RSA public key, which the attacker knows.
    let public_pem = key_file("rsa_public.pem");
    let forged = sign(
        Algorithm::HS256,
        None,
        &EncodingKey::from_secret(&public_pem),
        &claims(json!({ "roles": ["admin"] })),
    );
    let rsa =
        app(Authenticator::new(SCHEMES).with_jwt(JwtConfig::public_key_pem(&public_pem).unwrap()));
    let answer = with_token(&rsa, "/bearer", &forged).await;
    answer.assert_refused(StatusCode::UNAUTHORIZED, "algorithm not accepted");
    assert!(answer.challenge().contains("RS256"));
    // And an RS256 token is no good where only the HS256 secret is configured.
    let rs_token = sign(Algorithm::RS256, None, &rsa_private(), &claims(json!({})));
    with_token(&hs256_app(), "/bearer", &rs_token)
        .await
        .assert_refused(StatusCode::UNAUTHORIZED, "algorithm not accepted");
}

#[tokio::test]
async fn jwks_keys_are_chosen_by_kid() {
    let jwks = JwtConfig::jwks_file(format!("{KEYS}/jwks.json")).unwrap();
    assert_eq!(jwks.algorithms(), [Algorithm::RS256, Algorithm::ES256]);
    let app = app(Authenticator::new(SCHEMES).with_jwt(jwks));
    let body = claims(json!({}));
    let rs = sign(Algorithm::RS256, Some("rsa-1"), &rsa_private(), &body);
    let es = sign(Algorithm::ES256, Some("ec-1"), &ec_private(), &body);
    assert_eq!(with_token(&app, "/bearer", &rs).await.status, 200);
    assert_eq!(with_token(&app, "/bearer", &es).await.status, 200);
    let refused = [
        (
            sign(Algorithm::RS256, Some("gone"), &rsa_private(), &body),
            "unknown key id",
        ),
        (
            sign(Algorithm::RS256, None, &rsa_private(), &body),
            "token names no key",
        ),
        (
            sign(Algorithm::RS256, Some("ec-1"), &rsa_private(), &body),
            "algorithm not accepted",
        ),
        (
            sign(Algorithm::ES256, Some("ec-1"), &stranger_ec(), &body),
            "bad signature",
        ),
    ];
    for (token, why) in refused {
        with_token(&app, "/bearer", &token)
            .await
            .assert_refused(StatusCode::UNAUTHORIZED, why);
    }
}

/// Another P-256 key, to sign with a key the JWKS does not hold (generated for this test only).
fn stranger_ec() -> EncodingKey {
    const OTHER_EC: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0snKzYrpILNAnyMb
71C02bJYuQTRLqfouPfcF/+Kr4KhRANCAATzo0O02H2BuMJHHIBZdtRg7KylYUFY
OVUduQalQjdoihracmLm3S1eD89dTTvOaokmyWIAbRunpjcvSOy5v41c
-----END PRIVATE KEY-----";
    EncodingKey::from_ec_pem(OTHER_EC.as_bytes()).unwrap()
}

#[tokio::test]
async fn without_a_key_bearer_jwts_are_refused_with_a_clear_reason() {
    let app = app(Authenticator::new(SCHEMES));
    let answer = with_token(&app, "/bearer", &hs256(&claims(json!({})))).await;
    answer.assert_refused(StatusCode::UNAUTHORIZED, "no JWT key is configured");
    assert!(answer.body.contains(NO_KEY));
}

// ---- Scopes, roles, requirements ----------------------------------------------------------------

#[tokio::test]
async fn missing_scopes_are_403_insufficient_scope() {
    let app = hs256_app();
    let reader = hs256(&claims(json!({ "scope": "items:read" })));
    let answer = with_token(&app, "/scoped", &reader).await;
    answer.assert_refused(StatusCode::FORBIDDEN, "error=\"insufficient_scope\"");
    assert!(answer.challenge().contains("scope=\"items:write\""));
    assert!(answer.body.contains("items:write"));
    let writer = hs256(&claims(json!({ "scope": "items:read items:write" })));
    assert_eq!(with_token(&app, "/scoped", &writer).await.status, 200);
}

#[tokio::test]
async fn permissions_need_one_role_and_all_permissions() {
    let app = hs256_app();
    let call_as = |extra: Value| {
        let app = app.clone();
        async move { with_token(&app, "/admin", &hs256(&claims(extra))).await }
    };
    let ok = call_as(json!({ "roles": ["owner"], "permissions": ["items:delete"] })).await;
    assert_eq!(ok.status, 200);
    let no_role = call_as(json!({ "permissions": ["items:delete"] })).await;
    assert_eq!(no_role.status, 403);
    assert_eq!(no_role.content_type, "application/problem+json");
    assert!(no_role.body.contains("admin, owner"), "{}", no_role.body);
    let no_permission = call_as(json!({ "roles": ["admin"] })).await;
    assert_eq!(no_permission.status, 403);
    assert!(no_permission.body.contains("items:delete"));
    assert_eq!(call(&app, "/admin", &[]).await.status, 401);
}

#[tokio::test]
async fn public_operations_need_nothing_and_ignore_bad_tokens() {
    let app = hs256_app();
    assert_eq!(call(&app, "/public", &[]).await.status, 200);
    assert_eq!(
        with_token(&app, "/public", "garbage.token.here")
            .await
            .status,
        200
    );
}

// ---- API keys, sessions, Basic: the credential store ---------------------------------------------

fn caller() -> Principal {
    Principal {
        subject: "svc-reporting".into(),
        organization: Some(Uuid::from_u128(7)),
        roles: vec!["items:read".into()],
    }
}

async fn stored_hashes(db: &Db) -> Vec<(String, String)> {
    const SQL: &str = "SELECT hash, kind FROM archgen_credentials ORDER BY hash";
    match db {
        Db::Postgres(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
        Db::Sqlite(pool) => sqlx::query_as(SQL).fetch_all(pool).await.unwrap(),
    }
}

async fn api_keys_sessions_and_basic(db: Db) {
    let store = SqlCredentials::new(db.clone()).await.unwrap();
    // Creating the table again is harmless.
    SqlCredentials::new(db.clone()).await.unwrap();
    let app = app(Authenticator::new(SCHEMES)
        .with_jwt(JwtConfig::hs256(SECRET))
        .with_credentials(Arc::new(store.clone())));
    let p = caller();
    let expected = format!("svc-reporting|{}|items:read", Uuid::from_u128(7));

    let key = store.issue_api_key(&p, None, None).await.unwrap();
    assert!(key.starts_with("ak_") && key.len() >= 46, "{key}");
    let answer = call(&app, "/key", &[("X-Api-KEY", &key)]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body, expected);
    let answer = call(&app, &format!("/query?x=1&api_key={key}"), &[]).await;
    assert_eq!(answer.status, 200, "{answer:?}");

    let session = store
        .issue_session(&p, Some("session"), Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(session.starts_with("ses_"));
    let cookie = format!("theme=dark; sid={session}");
    let answer = call(&app, "/session", &[("cookie", &cookie)]).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    // A session restricted to its scheme is no API key.
    let answer = call(&app, "/key", &[("x-api-key", &session)]).await;
    answer.assert_refused(StatusCode::UNAUTHORIZED, "ApiKey");

    // Basic: the whole `user:password` is the secret.
    store
        .register(
            "svc:pw-0123456789",
            CredentialKind::ApiKey,
            &p,
            Some("basic"),
            None,
        )
        .await
        .unwrap();
    let basic = format!("Basic {}", STANDARD.encode("svc:pw-0123456789"));
    assert_eq!(
        call(&app, "/basic", &[("authorization", &basic)])
            .await
            .status,
        200
    );
    let wrong = format!("Basic {}", STANDARD.encode("svc:guess"));
    call(&app, "/basic", &[("authorization", &wrong)])
        .await
        .assert_refused(StatusCode::UNAUTHORIZED, "Basic realm=\"api\"");

    // An opaque (non-JWT) bearer token goes to the store as well.
    store
        .register(
            "opaque-token-0123456789",
            CredentialKind::Session,
            &p,
            Some("bearer"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        with_token(&app, "/bearer", "opaque-token-0123456789")
            .await
            .status,
        200
    );

    // Only hashes are stored.
    let rows = stored_hashes(&db).await;
    assert_eq!(rows.len(), 4);
    for secret in [&key, &session] {
        assert!(rows.iter().any(|(hash, _)| *hash == hash_secret(secret)));
    }
    for (hash, kind) in &rows {
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&key[3..]) && !hash.contains(&session[4..]));
        assert!(kind == "api_key" || kind == "session");
    }
    assert!(
        rows.iter()
            .any(|(hash, kind)| *hash == hash_secret(&session) && kind == "session")
    );

    // Expired and revoked keys are refused, and so is a key restricted to another scheme.
    let expired = store
        .issue_api_key(&p, None, Some(Duration::ZERO))
        .await
        .unwrap();
    let answer = call(&app, "/key", &[("x-api-key", &expired)]).await;
    answer.assert_refused(
        StatusCode::UNAUTHORIZED,
        "ApiKey realm=\"api\", in=\"header\", name=\"X-API-Key\"",
    );
    assert!(answer.body.contains("unknown, expired or revoked"));
    assert!(store.revoke(&key).await.unwrap());
    assert!(!store.revoke(&key).await.unwrap());
    assert_eq!(call(&app, "/key", &[("x-api-key", &key)]).await.status, 401);
    let query_only = store
        .issue_api_key(&p, Some("queryKey"), None)
        .await
        .unwrap();
    assert_eq!(
        call(&app, "/key", &[("x-api-key", &query_only)])
            .await
            .status,
        401
    );
    assert_eq!(
        call(&app, &format!("/query?api_key={query_only}"), &[])
            .await
            .status,
        200
    );

    // No key at all: the challenge names the key and where it goes.
    let answer = call(&app, "/query", &[]).await;
    answer.assert_refused(StatusCode::UNAUTHORIZED, "in=\"query\", name=\"api_key\"");
}

#[tokio::test]
async fn api_keys_sessions_and_basic_on_sqlite() {
    api_keys_sessions_and_basic(testing::sqlite_memory().await).await;
}

#[tokio::test]
async fn api_keys_sessions_and_basic_on_postgres() {
    let Some(pg) = testing::postgres("auth_credentials").await else {
        return;
    };
    api_keys_sessions_and_basic(pg.db.clone()).await;
}

#[tokio::test]
async fn a_requirement_with_two_schemes_needs_both() {
    let store = Arc::new(MemoryCredentials::new());
    let key = store.issue_api_key(&caller(), None, None).unwrap();
    let app = app(Authenticator::new(SCHEMES)
        .with_jwt(JwtConfig::hs256(SECRET))
        .with_credentials(store));
    let bearer = format!("Bearer {}", hs256(&claims(json!({}))));
    let only_token = call(&app, "/both", &[("authorization", &bearer)]).await;
    only_token.assert_refused(StatusCode::UNAUTHORIZED, "ApiKey realm=\"api\"");
    let only_key = call(&app, "/both", &[("x-api-key", &key)]).await;
    only_key.assert_refused(StatusCode::UNAUTHORIZED, "Bearer realm=\"api\"");
    let both = call(
        &app,
        "/both",
        &[("authorization", &bearer), ("x-api-key", &key)],
    )
    .await;
    assert_eq!(both.status, 200, "{both:?}");
    // The principal is the first declared scheme's: the token's.
    assert!(both.body.starts_with("alice|"));
    // Either alternative alone is enough where the operation lists them separately.
    assert_eq!(
        call(&app, "/either", &[("x-api-key", &key)]).await.status,
        200
    );
    assert_eq!(
        call(&app, "/either", &[("authorization", &bearer)])
            .await
            .status,
        200
    );
    // With both credentials, an operation that accepts only one sees that one's caller and
    // that one's scopes: the key's `items:read` does not lend itself to the token.
    let both = [
        ("authorization", bearer.as_str()),
        ("x-api-key", key.as_str()),
    ];
    let keyed = call(&app, "/key-scoped", &both).await;
    assert_eq!(keyed.status, 200, "{keyed:?}");
    assert!(keyed.body.starts_with("svc-reporting|"), "{keyed:?}");
    let borrowed = call(&app, "/bearer-scoped-read", &both).await;
    assert_eq!(borrowed.status, 403, "{borrowed:?}");
    // A refused token does not spoil the key that verified.
    let bad = call(
        &app,
        "/either",
        &[("authorization", "Bearer x.y.z"), ("x-api-key", &key)],
    )
    .await;
    assert_eq!(bad.status, 200);
}

struct BrokenStore;

#[async_trait]
impl CredentialStore for BrokenStore {
    async fn verify(&self, _: &str, _: &str) -> Result<Option<Principal>, BoxError> {
        Err("connection refused to db.internal:5432 (password=hunter2)".into())
    }
}

#[tokio::test]
async fn a_failing_store_is_503_without_details() {
    let app = app(Authenticator::new(SCHEMES).with_credentials(Arc::new(BrokenStore)));
    let answer = call(&app, "/key", &[("x-api-key", "ak_whatever")]).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.content_type, "application/problem+json");
    assert!(!answer.body.contains("hunter2") && !answer.body.contains("db.internal"));
}

#[tokio::test]
async fn a_principal_placed_by_the_application_is_trusted() {
    let dev = Principal {
        subject: "dev".into(),
        organization: None,
        roles: vec!["items:write".into()],
    };
    // Inside the authenticator (closer to the handlers) and outside it.
    let inside = Authenticator::new(SCHEMES).layer(routes().layer(axum::Extension(dev.clone())));
    let outside = hs256_app().layer(axum::Extension(dev));
    for app in [inside, outside] {
        let answer = call(&app, "/scoped", &[]).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(answer.body.starts_with("dev|"));
    }
    // A verified credential still names the caller over the application's principal.
    let app = hs256_app().layer(axum::Extension(Principal::default()));
    let token = hs256(&claims(json!({})));
    assert!(
        with_token(&app, "/bearer", &token)
            .await
            .body
            .starts_with("alice|")
    );
}

struct SlowStore;

#[async_trait]
impl CredentialStore for SlowStore {
    async fn verify(&self, _: &str, _: &str) -> Result<Option<Principal>, BoxError> {
        tokio::time::sleep(Duration::from_secs(5)).await;
        Ok(None)
    }
}

#[tokio::test]
async fn the_request_deadline_covers_checking_credentials() {
    let limits = archgen_runtime::limits::Limits {
        request_timeout: Duration::from_millis(100),
        ..Default::default()
    };
    let auth = Authenticator::new(SCHEMES).with_credentials(Arc::new(SlowStore));
    let app = limits.apply_with_auth(routes(), auth);
    let started = std::time::Instant::now();
    let answer = call(&app, "/bearer", &[("x-api-key", "ak_slow")]).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
