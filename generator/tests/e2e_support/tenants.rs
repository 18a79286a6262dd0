//! Nested collections of tenant-scoped entities (`fixtures/specs/tenants.yaml`), driven by
//! callers of two organizations: the path's organization must be the caller's, and a parent of
//! another organization is as absent as one that does not exist.

use serde_json::Value;

use super::{JWT_SECRET, request};

const ACME: &str = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
const GLOBEX: &str = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb";

/// A request by a caller acting for `org`.
fn call(port: u16, org: &str, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let claims = serde_json::json!({
        "sub": "e2e",
        "org": org,
        "exp": chrono::Utc::now().timestamp() + 600,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes());
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap();
    let bearer = format!("Bearer {token}");
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", bearer.as_str()),
    ];
    let (status, body) = request(port, method, path, &headers, body.unwrap_or(""));
    let value = serde_json::from_str(&body).unwrap_or(Value::Null);
    (status, value)
}

pub fn tenants_over_http(port: u16) {
    // Security comes before the path: a caller without credentials learns nothing from it.
    let (status, _) = request(port, "GET", "/organizations/not-a-uuid/projects", &[], "");
    assert_eq!(status, 401);

    let projects = format!("/organizations/{ACME}/projects");
    let (status, project) = call(port, ACME, "POST", &projects, Some(r#"{"name":"Rocket"}"#));
    assert_eq!(status, 201, "{project}");
    assert_eq!(project["data"]["organizationID"], ACME);
    let p = project["data"]["id"].as_str().unwrap();

    // Another organization's path is nobody's, for the caller: 404, not an empty page.
    let theirs = format!("/organizations/{GLOBEX}/projects");
    assert_eq!(call(port, ACME, "GET", &theirs, None).0, 404);
    assert_eq!(
        call(port, ACME, "POST", &theirs, Some(r#"{"name":"X"}"#)).0,
        404
    );
    assert_eq!(call(port, GLOBEX, "GET", &projects, None).0, 404);
    assert_eq!(
        call(port, GLOBEX, "GET", &format!("{projects}/{p}"), None).0,
        404
    );
    let (status, page) = call(port, ACME, "GET", &projects, None);
    assert_eq!(
        (status, page["meta"]["total"].clone()),
        (200, 1.into()),
        "{page}"
    );

    // A task under the project, and the project is invisible to Globex.
    let tasks = format!("/projects/{p}/tasks");
    let (status, task) = call(port, ACME, "POST", &tasks, Some(r#"{"title":"Fuel"}"#));
    assert_eq!(status, 201, "{task}");
    assert_eq!(task["data"]["projectID"], p);
    let t = task["data"]["id"].as_str().unwrap();
    assert_eq!(call(port, GLOBEX, "GET", &tasks, None).0, 404);
    assert_eq!(
        call(port, GLOBEX, "POST", &tasks, Some(r#"{"title":"X"}"#)).0,
        404
    );
    assert_eq!(
        call(port, GLOBEX, "DELETE", &format!("{tasks}/{t}"), None).0,
        404
    );
    let (status, page) = call(port, ACME, "GET", &tasks, None);
    assert_eq!(
        (status, page["meta"]["total"].clone()),
        (200, 1.into()),
        "{page}"
    );
    assert_eq!(
        call(port, ACME, "DELETE", &format!("{tasks}/{t}"), None).0,
        204
    );
}
