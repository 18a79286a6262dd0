//! Requests read by an operation's declaration (`http::Operation`, `http::Call`): each part is
//! read in order, checked against its rules, and refused with the status the operation declares,
//! as problem+json.

use std::sync::Arc;

use archgen_runtime::http::{self, Answer, Call, Operation, Param};
use archgen_runtime::validate as v;
use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use http_body_util::BodyExt;
use serde::{Deserialize, Serialize};
use tower::ServiceExt;

#[derive(Debug, Deserialize, Serialize)]
struct Input {
    id: i64,
    verbose: Option<bool>,
    tag: String,
    body: Option<serde_json::Value>,
}

static TAG: v::Schema = v::string().max_len(5);
static BODY: v::Schema = v::object(&[v::required("name", &v::string())]).deny_unknown();
static OP: Operation = Operation::new(202)
    .invalid(400)
    .params(&[
        Param::path("petId", "id", 0, &v::integer().min(1.0)),
        Param::query("verbose", "verbose", &v::boolean(), false),
        Param::header("x-tag", "tag", &TAG, true),
    ])
    .json(&BODY, false);

async fn echo(call: Call<()>) -> Answer {
    let (_, _, input, _): (_, _, Input, _) = call.input(&OP).await?;
    OP.output(input)
}

fn app() -> Router {
    Router::new()
        .route("/pets/{petId}", post(echo))
        .layer(DefaultBodyLimit::max(64))
        .with_state(Arc::new(()))
}

async fn send(uri: &str, tag: Option<&str>, body: &str) -> (StatusCode, String, String) {
    let mut request = Request::post(uri).header("content-type", "application/json");
    if let Some(tag) = tag {
        request = request.header("x-tag", tag);
    }
    let response = app()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, media, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn every_part_reaches_the_input_typed() {
    let (status, _, body) = send("/pets/7?verbose=true", Some("ab"), r#"{"name": "Rex"}"#).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let echoed: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(echoed["id"], 7);
    assert_eq!(echoed["verbose"], true);
    assert_eq!(echoed["tag"], "ab");
    assert_eq!(echoed["body"]["name"], "Rex");
    let (status, _, body) = send("/pets/7", Some("ab"), "").await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "an optional body may be absent: {body}"
    );
}

#[tokio::test]
async fn bad_parts_are_the_declared_status_naming_the_part() {
    for (uri, tag, body, named) in [
        ("/pets/0", Some("ab"), "", "petId"),
        ("/pets/7?verbose=maybe", Some("ab"), "", "verbose"),
        ("/pets/7", None, "", "x-tag"),
        ("/pets/7", Some("too-long"), "", "x-tag"),
        (
            "/pets/7",
            Some("ab"),
            r#"{"name": "Rex", "legs": 4}"#,
            "legs",
        ),
    ] {
        let (status, media, answer) = send(uri, tag, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {answer}");
        assert!(media.starts_with("application/problem+json"), "{media}");
        assert!(answer.contains(named), "{uri} names {named}: {answer}");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_as_problem_json() {
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(100));
    let (status, media, answer) = send("/pets/7", Some("ab"), &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert!(media.starts_with("application/problem+json"), "{media}");
}

#[tokio::test]
async fn answers_carry_the_declared_status() {
    static GONE: Operation = Operation::new(204);
    let response = GONE.empty().unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let page = http::Operation::new(200).without_next_cursor();
    let mut meta = archgen_runtime::Page::new(vec![1], 1);
    meta.meta.next_cursor = Some("c".into());
    let response = page.page(meta).unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(!String::from_utf8_lossy(&bytes).contains("nextCursor"));
}
