//! The build.rs-generated router serves CRUD through the in-memory mocks.

use archgen_runtime::deps::axum::body::Body;
use archgen_runtime::deps::axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[tokio::test]
async fn crud_through_mocks() {
    // The caller an authentication layer would name; labels belong to its organization.
    let caller = archgen_runtime::Principal {
        subject: "tester".into(),
        organization: Some("11111111-1111-4111-8111-111111111111".parse().unwrap()),
        roles: Vec::new(),
    };
    let router =
        archgen_build_rs_example::in_memory().layer(archgen_runtime::deps::axum::Extension(caller));
    let create = Request::post("/labels")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"name":"prod"}"#))
        .unwrap();
    let response = router.clone().oneshot(create).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let again = Request::post("/labels")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"name":"prod"}"#))
        .unwrap();
    assert_eq!(
        router.clone().oneshot(again).await.unwrap().status(),
        StatusCode::CONFLICT,
        "the mock keeps unique indices"
    );

    let list = router
        .clone()
        .oneshot(
            Request::get("/labels?filter[type]=eq&filter[field]=name&filter[value]=prod")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(list.status(), StatusCode::OK);
    let body: serde_json::Value =
        serde_json::from_slice(&list.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(body["meta"]["total"], 1);

    let health = router
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::NOT_IMPLEMENTED);
}
