//! The generated platform over HTTP, on SQLite and on Postgres: every test runs on both, through
//! the real router, so the two backends must keep identical promises.

use archgen_runtime as rt;
use http_body_util::BodyExt;
use rt::deps::axum::Router;
use rt::deps::axum::body::Body;
use rt::deps::axum::http::{HeaderMap, Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

const ORG: &str = "11111111-1111-4111-8111-111111111111";
const OTHER_ORG: &str = "22222222-2222-4222-8222-222222222222";

/// Stands in for the authentication layer: the caller's organization comes from a test header.
async fn caller(
    mut request: rt::deps::axum::extract::Request,
    next: rt::deps::axum::middleware::Next,
) -> rt::deps::axum::response::Response {
    let org = request
        .headers()
        .get("x-test-organization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    if let Some(org) = org {
        request.extensions_mut().insert(rt::Principal {
            subject: "tester".into(),
            organization: Some(org),
            roles: vec!["artifacts:delete".into()],
        });
    }
    next.run(request).await
}

struct Api {
    router: Router,
    _pg: Option<rt::testing::PgTestDb>,
}

impl Api {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, String, Value) {
        let (status, headers, json) = self.call_as(Some(ORG), method, uri, body, &[]).await;
        let content_type = headers
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, content_type, json)
    }

    /// A request from `org` (`None`: anonymous) with extra headers; the answer's headers too.
    async fn call_as(
        &self,
        org: Option<&str>,
        method: &str,
        uri: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        if let Some(org) = org {
            request = request.header("x-test-organization", org);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, headers, json)
    }

    async fn create_label(&self, name: &str) -> Value {
        let (status, _, body) = self
            .call("POST", "/labels", Some(json!({"name": name})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"].clone()
    }

    async fn create_artifact(&self, body: Value) -> Value {
        let (status, _, body) = self.call("POST", "/artifacts", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"].clone()
    }
}

async fn sqlite() -> Option<Api> {
    let db = rt::testing::sqlite_memory().await;
    Some(Api {
        router: archgen_platform::router(&db)
            .await
            .unwrap()
            .layer(rt::deps::axum::middleware::from_fn(caller)),
        _pg: None,
    })
}

async fn postgres(label: &str) -> Option<Api> {
    let pg = rt::testing::postgres(label).await?;
    let router = archgen_platform::router(&pg.db)
        .await
        .unwrap()
        .layer(rt::deps::axum::middleware::from_fn(caller));
    Some(Api {
        router,
        _pg: Some(pg),
    })
}

/// Each case runs once per backend.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite { $( #[tokio::test] async fn $name() { if let Some(api) = super::sqlite().await { super::$name(api).await } } )* }
        mod on_postgres { $( #[tokio::test] async fn $name() { if let Some(api) = super::postgres(stringify!($name)).await { super::$name(api).await } } )* }
    };
}

on_both!(
    crud_round_trip,
    validation_names_every_field,
    unique_conflict_is_409,
    patch_tells_absent_from_null,
    lists_page_filter_and_sort,
    bad_list_queries_are_422,
    custom_operations_run_their_handlers,
    protocol_errors_are_problem_json,
    text_sorts_bytewise_on_every_backend,
    sort_is_limited_to_the_fields_the_spec_declares,
    soft_deleted_labels_free_their_name,
    labels_stay_inside_the_callers_organization,
    if_match_guards_writes_with_412,
    cursor_pages_walk_every_row_once,
    operators_get_the_document_readiness_and_metrics,
    an_absent_optional_field_is_left_out_not_null,
);

/// `description` is optional and not nullable: a label without one is answered without the
/// key (a `null` would break the schema), on create, get, update and list alike.
async fn an_absent_optional_field_is_left_out_not_null(api: Api) {
    let plain = api.create_label("plain").await;
    assert!(plain.get("description").is_none(), "{plain}");
    let described = api
        .call(
            "POST",
            "/labels",
            Some(json!({"name": "described", "description": "for review"})),
        )
        .await;
    assert_eq!(described.0, StatusCode::CREATED, "{}", described.2);
    assert_eq!(described.2["data"]["description"], "for review");
    let id = plain["id"].as_str().unwrap();
    let (status, _, got) = api.call("GET", &format!("/labels/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert!(got["data"].get("description").is_none(), "{got}");
    let (status, _, patched) = api
        .call(
            "PATCH",
            &format!("/labels/{id}"),
            Some(json!({"color": "#000000"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert!(patched["data"].get("description").is_none(), "{patched}");
    let (_, _, list) = api.call("GET", "/labels?sort=name", None).await;
    let rows = list["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{list}");
    assert_eq!(rows[0]["description"], "for review");
    assert!(rows[1].get("description").is_none(), "{list}");
}

async fn crud_round_trip(api: Api) {
    let created = api
        .create_artifact(json!({"organizationID": ORG, "text": "report", "credits": 3}))
        .await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["credits"], 3);
    assert_eq!(
        created["mimeType"], "application/octet-stream",
        "schema default applied"
    );
    assert_eq!(created["createdAt"], created["updatedAt"]);

    let (status, _, got) = api.call("GET", &format!("/artifacts/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["data"], created);

    let (status, _, _) = api.call("DELETE", &format!("/artifacts/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, content_type, problem) = api.call("GET", &format!("/artifacts/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(problem["status"], 404);
    let (status, _, _) = api.call("DELETE", &format!("/artifacts/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _, problem) = api.call("GET", "/artifacts/not-a-uuid", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "id");
}

async fn validation_names_every_field(api: Api) {
    let (status, content_type, problem) = api
        .call("POST", "/labels", Some(json!({"name": "", "organizationID": "nope", "id": ORG, "extra": 1, "color": "red"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(content_type, "application/problem+json");
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.dedup();
    assert_eq!(
        fields,
        ["name", "color", "extra", "id", "organizationID"],
        "{problem}"
    );

    let (_, _, problem) = api
        .call(
            "POST",
            "/labels",
            Some(json!({"name": "x", "organizationID": ORG})),
        )
        .await;
    assert_eq!(
        problem["errors"][0],
        json!({"field": "organizationID", "message": "is the caller's organization and is set by the server"})
    );

    let (status, _, problem) = api.call("POST", "/labels", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "body");
}

async fn unique_conflict_is_409(api: Api) {
    api.create_label("production").await;
    let (status, content_type, problem) = api
        .call("POST", "/labels", Some(json!({"name": "production"})))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(
        problem["detail"],
        "a Label with the same organizationID, name already exists"
    );
    // The same name in another organization is fine.
    let (status, _, _) = api
        .call_as(
            Some(OTHER_ORG),
            "POST",
            "/labels",
            Some(json!({"name": "production"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn patch_tells_absent_from_null(api: Api) {
    let a = api
        .create_artifact(json!({"organizationID": ORG, "name": "Q3", "text": "body"}))
        .await;
    let uri = format!("/artifacts/{}", a["id"].as_str().unwrap());

    let (status, _, patched) = api.call("PATCH", &uri, Some(json!({"text": null}))).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["data"]["text"], Value::Null, "explicit null clears");
    assert_eq!(patched["data"]["name"], "Q3", "absent keeps");
    assert_ne!(patched["data"]["updatedAt"], a["updatedAt"]);

    let (status, _, problem) = api
        .call("PATCH", &uri, Some(json!({"credits": null})))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a non-nullable field cannot be cleared: {problem}"
    );
    let (status, _, problem) = api
        .call("PATCH", &uri, Some(json!({"organizationID": ORG})))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "excludeFromUpdate: {problem}"
    );
    assert_eq!(problem["errors"][0]["field"], "organizationID");

    let (status, _, _) = api
        .call(
            "PATCH",
            "/artifacts/01a2014e-13c4-746a-b6ac-88fb7defe839",
            Some(json!({"name": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn lists_page_filter_and_sort(api: Api) {
    for (i, text) in ["alpha", "beta", "gamma", "delta"].iter().enumerate() {
        api.create_artifact(json!({"organizationID": ORG, "text": text, "credits": i}))
            .await;
    }
    let texts = |v: &Value| {
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["text"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };

    let (status, _, page) = api
        .call("GET", "/artifacts?limit=2&offset=1&sort=-credits", None)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["meta"]["total"], 4);
    assert_eq!(texts(&page), ["gamma", "beta"]);

    let (_, _, page) = api
        .call(
            "GET",
            "/artifacts?filter[type]=gte&filter[field]=credits&filter[value]=2&sort=credits",
            None,
        )
        .await;
    assert_eq!(texts(&page), ["gamma", "delta"]);
    assert_eq!(page["meta"]["total"], 2);

    let uri = "/artifacts?filter[type]=or&filter[children][0][type]=startsWith&filter[children][0][field]=text&filter[children][0][value]=al\
               &filter[children][1][type]=endsWith&filter[children][1][field]=text&filter[children][1][value]=ta&sort=credits:asc";
    let (_, _, page) = api.call("GET", uri, None).await;
    assert_eq!(texts(&page), ["alpha", "beta", "delta"]);

    let (_, _, page) = api
        .call(
            "GET",
            "/artifacts?filter[type]=contains&filter[field]=text&filter[value]=ELT",
            None,
        )
        .await;
    assert_eq!(
        page["meta"]["total"], 0,
        "contains is case-sensitive on both backends"
    );

    let (_, _, page) = api
        .call(
            "GET",
            "/artifacts?filter[type]=eq&filter[field]=name&filter[value]=",
            None,
        )
        .await;
    assert_eq!(page["meta"]["total"], 0);
}

async fn bad_list_queries_are_422(api: Api) {
    for (uri, field) in [
        (
            "/artifacts?filter[type]=eq&filter[field]=password&filter[value]=x",
            "filter.field",
        ),
        (
            "/artifacts?filter[type]=contains&filter[field]=credits&filter[value]=1",
            "filter.type",
        ),
        (
            "/artifacts?filter[type]=gt&filter[field]=credits&filter[value]=many",
            "filter.value",
        ),
        (
            "/artifacts?filter[type]=eq&filter[field]=checksum&filter[value]=x",
            "filter.field",
        ),
        ("/artifacts?sort=nope", "sort.0.field"),
        ("/artifacts?limit=0", "limit"),
        ("/artifacts?limit=101", "limit"),
    ] {
        let (status, content_type, problem) = api.call("GET", uri, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{uri}: {problem}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(problem["errors"][0]["field"], field, "{uri}: {problem}");
    }
}

async fn custom_operations_run_their_handlers(api: Api) {
    let (status, _, health) = api.call("GET", "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");

    let stored = api.create_artifact(json!({"organizationID": ORG, "url": "https://files.example/a.pdf", "checksum": format!("sha256:{}", "0".repeat(64))})).await;
    assert!(
        stored.get("checksum").is_none(),
        "x-sensitive fields never leave the server: {stored}"
    );
    let (status, _, link) = api
        .call(
            "GET",
            &format!("/artifacts/{}/download", stored["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{link}");
    assert_eq!(link["data"]["url"], "https://files.example/a.pdf");

    let empty = api.create_artifact(json!({"organizationID": ORG})).await;
    let (status, _, _) = api
        .call(
            "GET",
            &format!("/artifacts/{}/download", empty["id"].as_str().unwrap()),
            None,
        )
        .await;
    // The artifact exists but has nothing to link to: a conflict, not a missing record.
    assert_eq!(status, StatusCode::CONFLICT);
}

async fn protocol_errors_are_problem_json(api: Api) {
    let (status, content_type, problem) = api.call("GET", "/nowhere", None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::NOT_FOUND, "application/problem+json"),
        "{problem}"
    );
    let (status, content_type, _) = api.call("PUT", "/labels", None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "application/problem+json")
    );

    let request = Request::builder()
        .method("POST")
        .uri("/labels")
        .header("x-test-organization", ORG)
        .header("content-type", "text/plain")
        .body(Body::from(r#"{"name":"x"}"#))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Postgres cannot store NUL: it is refused up front on both backends, in bodies and filters.
    let (status, _, problem) = api
        .call("POST", "/labels", Some(json!({"name": "a\u{0}b"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    let (status, _, _) = api
        .call(
            "GET",
            "/labels?filter[type]=eq&filter[field]=name&filter[value]=a%00b",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn text_sorts_bytewise_on_every_backend(api: Api) {
    for name in ["banana", "Zebra", "_under", "apple"] {
        api.create_label(name).await;
    }
    let (_, _, page) = api.call("GET", "/labels?sort=name", None).await;
    let names: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Zebra", "_under", "apple", "banana"]);
}

async fn sort_is_limited_to_the_fields_the_spec_declares(api: Api) {
    // specs/storage declares sort on Artifact without `description`, `text`, `url` or `checksum`.
    let (status, _, problem) = api.call("GET", "/artifacts?sort=description", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert!(
        !problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("description,"),
        "{problem}"
    );
    let (status, _, _) = api.call("GET", "/artifacts?sort=-credits,name", None).await;
    assert_eq!(status, StatusCode::OK);
}

async fn soft_deleted_labels_free_their_name(api: Api) {
    let label = api.create_label("staging").await;
    let uri = format!("/labels/{}", label["id"].as_str().unwrap());
    let (status, _, _) = api.call("DELETE", &uri, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(json!({"name": "x"}))),
        ("DELETE", None),
    ] {
        let (status, _, _) = api.call(method, &uri, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} on a deleted label");
    }
    let (_, _, page) = api.call("GET", "/labels", None).await;
    assert_eq!(page["meta"]["total"], 0);
    // The unique index ignores deleted rows.
    api.create_label("staging").await;
}

async fn labels_stay_inside_the_callers_organization(api: Api) {
    let mine = api.create_label("mine").await;
    assert_eq!(
        mine["organizationID"], ORG,
        "the organization is the caller's"
    );
    let uri = format!("/labels/{}", mine["id"].as_str().unwrap());

    // Another organization cannot see, change or delete it: to them it does not exist.
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(json!({"name": "theirs"}))),
        ("DELETE", None),
    ] {
        let (status, _, problem) = api.call_as(Some(OTHER_ORG), method, &uri, body, &[]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}: {problem}");
    }
    let (_, _, page) = api
        .call_as(Some(OTHER_ORG), "GET", "/labels", None, &[])
        .await;
    assert_eq!(page["meta"]["total"], 0, "{page}");
    // A filter naming the other organization finds nothing either: the scope is ANDed in.
    let (_, _, page) = api
        .call_as(
            Some(OTHER_ORG),
            "GET",
            &format!("/labels?filter[field]=organizationID&filter[value]={ORG}"),
            None,
            &[],
        )
        .await;
    assert_eq!(page["meta"]["total"], 0, "{page}");

    // Without a caller, secured operations are 401 with a challenge; the spec's public one is not.
    for path in ["/labels", "/artifacts"] {
        let (status, headers, problem) = api.call_as(None, "GET", path, None, &[]).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{problem}");
        assert_eq!(headers["www-authenticate"], "Bearer realm=\"api\"");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    let (status, _, _) = api.call_as(None, "GET", "/health", None, &[]).await;
    assert_eq!(status, StatusCode::OK);
}

async fn if_match_guards_writes_with_412(api: Api) {
    let (status, headers, created) = api
        .call_as(
            Some(ORG),
            "POST",
            "/labels",
            Some(json!({"name": "v"})),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(headers["etag"], "\"1\"");
    assert!(
        created["data"].get("version").is_none(),
        "the version column stays out of the body"
    );
    let uri = format!("/labels/{}", created["data"]["id"].as_str().unwrap());
    let (_, headers, _) = api.call_as(Some(ORG), "GET", &uri, None, &[]).await;
    assert_eq!(headers["etag"], "\"1\"");

    let (status, headers, _) = api
        .call_as(
            Some(ORG),
            "PATCH",
            &uri,
            Some(json!({"color": "#000000"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["etag"], "\"2\"");

    // The ETag it read is now stale: 412, and nothing changes.
    let (status, headers, problem) = api
        .call_as(
            Some(ORG),
            "PATCH",
            &uri,
            Some(json!({"color": "#ffffff"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{problem}");
    assert_eq!(headers["content-type"], "application/problem+json");
    let (status, _, _) = api
        .call_as(Some(ORG), "DELETE", &uri, None, &[("if-match", "\"1\"")])
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    // A tag this service never issued cannot match.
    let (status, _, _) = api
        .call_as(
            Some(ORG),
            "PATCH",
            &uri,
            Some(json!({"color": "#ffffff"})),
            &[("if-match", "W/\"2\"")],
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (_, _, current) = api.call_as(Some(ORG), "GET", &uri, None, &[]).await;
    assert_eq!(current["data"]["color"], "#000000");

    // `*` and no If-Match at all write unconditionally.
    let (status, headers, _) = api
        .call_as(
            Some(ORG),
            "PATCH",
            &uri,
            Some(json!({"color": "#111111"})),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(
        (status, &headers["etag"]),
        (StatusCode::OK, &"\"3\"".parse().unwrap())
    );
    let (status, _, _) = api
        .call_as(Some(ORG), "DELETE", &uri, None, &[("if-match", "\"3\"")])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

async fn cursor_pages_walk_every_row_once(api: Api) {
    for i in 0..11 {
        api.create_artifact(json!({"organizationID": ORG, "text": "t", "credits": i % 4}))
            .await;
    }
    let (_, _, all) = api
        .call("GET", "/artifacts?limit=100&sort=-credits", None)
        .await;
    let expected: Vec<Value> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    let mut walked = Vec::new();
    let mut uri = "/artifacts?limit=4&sort=-credits".to_string();
    loop {
        let (status, _, page) = api.call("GET", &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(
            page["meta"]["total"], 11,
            "the total counts every match, not what is left"
        );
        walked.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["id"].clone()),
        );
        match page["meta"]["nextCursor"].as_str() {
            Some(cursor) => uri = format!("/artifacts?limit=4&sort=-credits&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(walked, expected);

    // A cursor is bound to its sort, and cannot be combined with an offset.
    let (_, _, first) = api
        .call("GET", "/artifacts?limit=4&sort=-credits", None)
        .await;
    let cursor = first["meta"]["nextCursor"].as_str().unwrap().to_string();
    for bad in [
        format!("/artifacts?sort=credits&cursor={cursor}"),
        format!("/artifacts?sort=-credits&offset=4&cursor={cursor}"),
        "/artifacts?cursor=not-a-cursor".to_string(),
    ] {
        let (status, _, problem) = api.call("GET", &bad, None).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {problem}");
        assert_eq!(problem["errors"][0]["field"], "cursor", "{problem}");
    }
}

async fn operators_get_the_document_readiness_and_metrics(api: Api) {
    let (status, _, document) = api.call("GET", "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(document["paths"]["/labels"].is_object(), "{document}");

    let (status, _, ready) = api.call("GET", "/ready", None).await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["checks"]["database"], "ok", "{ready}");
    assert_eq!(ready["checks"]["events"], "ok", "{ready}");

    // The spec's own /health wins over the built-in one.
    let (status, _, health) = api.call("GET", "/health", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(health["uptime"].is_number(), "{health}");

    api.call("GET", "/labels", None).await;
    let response = api
        .router
        .clone()
        .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",operation="/labels",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains("http_request_duration_seconds_bucket"),
        "{text}"
    );
}
