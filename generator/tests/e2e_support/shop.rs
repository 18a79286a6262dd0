//! The shop spec (`fixtures/specs/shop.yaml`), written for what a user expects of nested
//! collections, several success responses, readOnly and writeOnly fields, optional fields and
//! integer enums: driven over HTTP, then fuzzed by schemathesis with every check on.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::http;

/// `AuditStore` as its user writes it: it answers either of the two success responses the
/// spec declares, through the generated reply enum.
pub const AUDIT_STORE: &str = r#"//! `POST /stores/{id}/audit`: a store with few orders is audited now (200), others later (202),
//! and a large one not at all (409, with a body of its own).
use archgen_runtime as rt;
use rt::prelude::*;
use crate::generated::prelude::*;
use crate::generated::shop::repository::ORDER_TABLE;

use crate::app::App;

pub async fn handle(app: &App, cx: &rt::Context, input: AuditStoreInput) -> Result<AuditStoreReply, rt::ApiError> {
    let _ = cx;
    let repos = &app.repos.shop;
    let store = rt::found(repos.stores.get(input.id).await?, "Store", input.id)?;
    if store.tier == Tier::V3 {
        let reason = "large stores are audited by hand".to_string();
        return Ok(AuditStoreReply::Conflict(AuditStore409Response { reason }));
    }
    let query = rt::ListQuery::first(&ORDER_TABLE).within(&ORDER_TABLE, "storeID", input.id)?;
    let orders = repos.orders.list(&query).await?.meta.total;
    if orders < 2 {
        let data = Audit { orders: orders as i64, lines: 0 };
        Ok(AuditStoreReply::Ok(AuditStoreResponse { data }))
    } else {
        Ok(AuditStoreReply::Accepted(AuditStore202Response { ticket: Uuid::now_v7() }))
    }
}
"#;

fn call(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let (status, body) = http(port, method, path, body);
    let value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap_or(Value::String(body))
    };
    (status, value)
}

fn created(port: u16, path: &str, body: &str) -> Value {
    let (status, value) = call(port, "POST", path, Some(body));
    assert_eq!(status, 201, "POST {path}: {value}");
    value["data"].clone()
}

pub fn shop_over_http(port: u16) {
    let store = created(port, "/stores", r#"{"name":"Corner"}"#);
    // Optional and not nullable: left out, never `null`; the integer enum's default.
    assert!(store.get("region").is_none(), "{store}");
    assert_eq!(store["tier"], 1, "{store}");
    let s = store["id"].as_str().unwrap();
    for _ in 0..2 {
        // The second read comes from the cache.
        let (status, read) = call(port, "GET", &format!("/stores/{s}"), None);
        assert_eq!((status, &read["data"]), (200, &store), "{read}");
    }
    assert_eq!(
        call(port, "POST", "/stores", Some(r#"{"name":"X","tier":4}"#)).0,
        422
    );
    let (status, big) = call(
        port,
        "PATCH",
        &format!("/stores/{s}"),
        Some(r#"{"tier":2}"#),
    );
    assert_eq!(
        (status, big["data"]["tier"].clone()),
        (200, 2.into()),
        "{big}"
    );

    let orders = format!("/stores/{s}/orders");
    let order = created(
        port,
        &orders,
        r#"{"reference":"A-1","pin":"1234","priority":2}"#,
    );
    // writeOnly: taken, never answered. readOnly: answered with its default.
    assert!(order.get("pin").is_none(), "{order}");
    assert!(order.get("note").is_none(), "{order}");
    assert_eq!(
        (order["status"].as_str(), order["priority"].as_i64()),
        (Some("open"), Some(2))
    );
    assert_eq!(order["storeID"], s, "{order}");
    let refused = call(
        port,
        "POST",
        &orders,
        Some(r#"{"reference":"A-2","status":"shipped"}"#),
    );
    assert_eq!(
        refused.0, 422,
        "a read-only field is refused: {}",
        refused.1
    );
    let o = order["id"].as_str().unwrap();
    // An integer enum filters by its values only.
    let by = |v: &str| format!("{orders}?filter[type]=eq&filter[field]=priority&filter[value]={v}");
    let (status, page) = call(port, "GET", &by("2"), None);
    assert_eq!(
        (status, page["meta"]["total"].clone()),
        (200, 1.into()),
        "{page}"
    );
    assert_eq!(call(port, "GET", &by("9"), None).0, 422);

    // Two levels: a line belongs to an order of a store, and only that path reaches it.
    let lines = format!("{orders}/{o}/lines");
    let line = created(port, &lines, r#"{"sku":"SKU-1","quantity":2}"#);
    assert_eq!(line["orderID"], o, "{line}");
    let l = line["id"].as_str().unwrap();
    let other = created(port, "/stores", r#"{"name":"Other"}"#);
    let other = other["id"].as_str().unwrap();
    for path in [
        format!("/stores/{other}/orders/{o}/lines/{l}"),
        format!("/stores/{other}/orders/{o}/lines"),
        format!("/stores/{other}/orders/{o}"),
        format!("/stores/{s}/orders/{l}/lines"),
    ] {
        assert_eq!(call(port, "GET", &path, None).0, 404, "GET {path}");
    }
    let (status, page) = call(port, "GET", &lines, None);
    assert_eq!(
        (status, page["meta"]["total"].clone()),
        (200, 1.into()),
        "{page}"
    );
    let (status, _) = call(
        port,
        "PATCH",
        &format!("{lines}/{l}"),
        Some(r#"{"quantity":5}"#),
    );
    assert_eq!(status, 200);

    // Several success responses: the handler picks one, and the status follows.
    let (status, audit) = call(port, "POST", &format!("/stores/{s}/audit"), None);
    assert_eq!(
        (status, audit["data"]["orders"].clone()),
        (200, 1.into()),
        "{audit}"
    );
    created(port, &orders, r#"{"reference":"A-3"}"#);
    let (status, queued) = call(port, "POST", &format!("/stores/{s}/audit"), None);
    assert_eq!(status, 202, "{queued}");
    assert!(queued["ticket"].is_string(), "{queued}");
    let (status, _) = call(
        port,
        "PATCH",
        &format!("/stores/{s}"),
        Some(r#"{"tier":3}"#),
    );
    assert_eq!(status, 200);
    let (status, refused) = call(port, "POST", &format!("/stores/{s}/audit"), None);
    assert_eq!(status, 409, "{refused}");
    assert_eq!(
        refused,
        serde_json::json!({"reason": "large stores are audited by hand"})
    );

    assert_eq!(call(port, "DELETE", &format!("/stores/{s}"), None).0, 204);
    assert_eq!(
        call(port, "GET", &lines, None).0,
        404,
        "the store took its orders along"
    );
}

/// schemathesis with every check on, against the running shop.
pub fn schemathesis(port: u16, reports: &Path) {
    let Some(st) = archgen_runtime::testing::schemathesis() else {
        return;
    };
    let base = format!("http://127.0.0.1:{port}");
    let output = Command::new(st)
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args(["--url", &base, "--checks", "all"])
        .args([
            "--max-examples",
            "40",
            "--seed",
            "20261207",
            "--workers",
            "2",
        ])
        .args(["--report", "junit", "--report-dir"])
        .arg(reports)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && !report.contains("failures"),
        "schemathesis found problems in the shop:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
