//! archgen as a new user meets it: `init` on specs this repository did not write, build with no
//! warnings (clippy included), run the service, do CRUD over real HTTP on SQLite and Postgres,
//! and catch drift with `archgen check`.
//!
//! The scaffolds build in `target/e2e` so this test never waits on the lock of the build that runs it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "e2e_support/shop.rs"]
mod shop;
#[path = "e2e_support/tenants.rs"]
mod tenants;

const ARCHGEN: &str = env!("CARGO_BIN_EXE_archgen");

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn fixtures() -> PathBuf {
    repo().join("../shared/fixtures/arches/head-2025-12")
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("command runs");
    // stderr first: the last line of stdout is the verdict users read.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    (out.status.success(), text)
}

fn cargo(dir: &Path, args: &[&str]) -> (bool, String) {
    run(Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", repo().join("target/e2e")))
}

/// Every scaffolded service here whose spec takes bearer tokens checks them against this secret
/// (JWT_SECRET).
const JWT_SECRET: &str = "e2e-secret-of-at-least-32-bytes-long";

/// An HS256 token signed with `secret`, expiring `expires_in` seconds from now.
fn jwt(secret: &str, expires_in: i64) -> String {
    let claims = serde_json::json!({
        "sub": "e2e",
        "org": "33333333-3333-4333-8333-333333333333",
        "exp": chrono::Utc::now().timestamp() + expires_in,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A minimal HTTP/1.1 client: one request per connection, JSON body, a valid bearer token.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let bearer = format!("Bearer {}", jwt(JWT_SECRET, 600));
    request(
        port,
        method,
        path,
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &bearer),
        ],
        body.unwrap_or(""),
    )
}

/// The library spec's bearer scheme as a new user would probe it: valid, missing, expired and
/// wrongly signed tokens, and the one public operation.
fn library_security(port: u16) {
    let get = |bearer: Option<String>| {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        request(port, "GET", "/books", &headers, "")
    };
    assert_eq!(get(Some(jwt(JWT_SECRET, 600))).0, 200);
    for (what, token) in [
        ("no token", None),
        ("expired", Some(jwt(JWT_SECRET, -120))),
        (
            "wrongly signed",
            Some(jwt("another-secret-of-at-least-32-bytes", 600)),
        ),
        ("malformed", Some("abc.def.ghi".to_string())),
    ] {
        let (status, body) = get(token);
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(json(&body)["status"], 401, "{what}: {body}");
    }
    let (status, body) = request(port, "GET", "/authors", &[], "");
    assert_eq!(status, 200, "the public operation: {body}");
}

fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Requests to the constructs spec's operations, which answer 501 until implemented: every
/// status other than 501 comes from parsing and validation in the generated handler.
fn constructs_over_http(port: u16) {
    const JSON: (&str, &str) = ("Content-Type", "application/json");
    let pet = r#"{"petType": "dog", "name": "Rex"}"#;
    let (status, body) = request(port, "POST", "/pets", &[JSON], pet);
    assert_eq!(status, 422, "a required header is missing: {body}");
    assert!(body.contains("X-Request-Tag"), "{body}");
    let tag = ("X-Request-Tag", "t1");
    assert_eq!(request(port, "POST", "/pets", &[JSON, tag], pet).0, 501);
    let long = ("x-request-tag", "a-tag-longer-than-twenty");
    assert_eq!(request(port, "POST", "/pets", &[JSON, long], pet).0, 422);
    let (status, body) = request(port, "POST", "/pets", &[JSON, tag, ("X-Trace", "x")], pet);
    assert_eq!(status, 422, "X-Trace is an integer: {body}");
    let cookie = ("Cookie", "a=1; session=abc");
    assert_eq!(
        request(port, "POST", "/pets", &[JSON, tag, cookie], pet).0,
        501
    );
    let bird = r#"{"petType": "bird", "name": "Tweety"}"#;
    assert_eq!(request(port, "POST", "/pets", &[JSON, tag], bird).0, 422);

    let octets = ("Content-Type", "application/octet-stream");
    assert_eq!(
        request(port, "PUT", "/pets/7/photo", &[octets], "\x01\x02").0,
        501
    );
    assert_eq!(request(port, "PUT", "/pets/7/photo", &[JSON], "{}").0, 415);
    assert_eq!(request(port, "PUT", "/pets/0/photo", &[octets], "x").0, 422);
    assert_eq!(
        request(port, "PUT", "/pets/seven/photo", &[octets], "x").0,
        422
    );

    let form = ("Content-Type", "application/x-www-form-urlencoded");
    assert_eq!(
        request(port, "POST", "/pets/1/form", &[form], "name=Rex&age=3").0,
        501
    );
    let (status, body) = request(port, "POST", "/pets/1/form", &[form], "age=3");
    assert_eq!(status, 422, "name is required: {body}");
    assert_eq!(
        request(port, "POST", "/pets/1/form", &[form], "name=Rex&age=-1").0,
        422
    );
    assert_eq!(request(port, "POST", "/pets/1/form", &[JSON], "{}").0, 415);

    let multipart = ("Content-Type", "multipart/form-data; boundary=b");
    let parts = "--b\r\nContent-Disposition: form-data; name=note\r\n\r\nhi\r\n--b--\r\n";
    let path = "/pets/1/documents?kinds=cat,red%20panda&filter[limit]=2";
    assert_eq!(request(port, "POST", path, &[multipart], parts).0, 501);
    let path = "/pets/1/documents?kinds=cow";
    assert_eq!(request(port, "POST", path, &[multipart], parts).0, 422);
    let path = "/pets/1/documents?filter[limit]=many";
    assert_eq!(request(port, "POST", path, &[multipart], parts).0, 422);
    assert_eq!(request(port, "GET", "/trees", &[], "").0, 501);
}

/// The library's repositories keep the same promises about keys on the mock, SQLite and
/// Postgres: run as a test of the generated crate.
const LIBRARY_CONTRACT: &str = r#"
use archgen_runtime as rt;
use library::generated::library::repository::*;
use library::generated::prelude::*;
use library::generated::{MIGRATIONS, Repositories};
use rt::prelude::*;

async fn contract(repos: Repositories, begin: impl AsyncFn() -> rt::sql::Tx) -> Vec<String> {
    let l = &repos.library;
    let mut seen = Vec::new();
    let books = async || l.books.list(&rt::ListQuery::first(&BOOK_TABLE)).await.unwrap().meta.total;
    let author = l.authors.create(NewAuthor { name: "Le Guin".into() }).await.unwrap();
    let book = |title: &str, author_id| NewBook {
        title: title.into(),
        author_id,
        pages: None,
        genre: BookGenre::Fiction,
        published_on: None,
        price: None,
    };
    let a = l.books.create(book("A", author.id)).await.unwrap();
    let b = l.books.create(book("B", author.id)).await.unwrap();
    let dangling = l.books.create(book("C", Uuid::nil())).await;
    seen.push(format!("dangling {}", matches!(dangling, Err(rt::RepoError::Conflict { .. }))));
    let review = l.reviews.create(NewReview { book_id: Some(a.id), stars: 4, text: None }).await.unwrap();
    let loan = l.loans.create(NewLoan { book_id: b.id, borrower: "Ged".into() }).await.unwrap();
    let held = l.authors.delete(author.id).await;
    seen.push(format!("restricted {}", matches!(held, Err(rt::RepoError::Conflict { .. }))));
    seen.push(format!("books kept {}", books().await));

    // Inside a transaction the cascade happens, and a rollback brings every table back.
    let tx = begin().await;
    let in_tx = repos.in_tx(&tx).unwrap();
    // A conflict inside the transaction fails that call only: the transaction goes on.
    let again = in_tx.library.authors.create(NewAuthor { name: "Le Guin".into() }).await;
    assert!(matches!(again, Err(rt::RepoError::Conflict { .. })), "{again:?}");
    assert!(in_tx.library.loans.delete(loan.id).await.unwrap());
    assert!(in_tx.library.authors.delete(author.id).await.unwrap());
    tx.rollback().await.unwrap();
    seen.push(format!("after rollback {} books, loan {:?}", books().await, l.loans.get(loan.id).await.unwrap().map(|x| x.borrower)));

    assert!(l.loans.delete(loan.id).await.unwrap());
    assert!(l.authors.delete(author.id).await.unwrap());
    seen.push(format!("books left {}", books().await));
    seen.push(format!("review's book {:?}", l.reviews.get(review.id).await.unwrap().unwrap().book_id));
    seen
}

async fn on_the_mock() -> Vec<String> {
    contract(Repositories::in_memory(), async || rt::sql::Tx::memory()).await
}

#[tokio::test]
async fn the_mock_keeps_keys() {
    assert_eq!(
        on_the_mock().await,
        ["dangling true", "restricted true", "books kept 2", "after rollback 2 books, loan Some(\"Ged\")", "books left 0", "review's book None"]
    );
}

#[tokio::test]
async fn sqlite_keeps_keys_like_the_mock() {
    let db = rt::testing::sqlite_memory().await;
    db.migrate(&MIGRATIONS).await.unwrap();
    assert_eq!(contract(Repositories::new(&db), async || db.begin().await.unwrap()).await, on_the_mock().await);
}

#[tokio::test]
async fn postgres_keeps_keys_like_the_mock() {
    let Some(pg) = rt::testing::postgres("library_contract").await else { return };
    pg.db.migrate(&MIGRATIONS).await.unwrap();
    assert_eq!(contract(Repositories::new(&pg.db), async || pg.db.begin().await.unwrap()).await, on_the_mock().await);
}
"#;

/// Serde behaviour of the constructs spec's types, run as a test of the generated crate.
const CONSTRUCTS_ROUNDTRIP: &str = r#"
use archgen_runtime::deps::serde_json::{self, json};
use constructs::generated::prelude::*;

#[test]
fn a_discriminator_picks_the_member_and_the_tag_stays_in_the_value() {
    let pet: Pet = serde_json::from_value(json!({"petType": "kitty", "name": "Tom"})).unwrap();
    assert!(matches!(&pet, Pet::Cat(c) if c.name == "Tom" && c.pet_type == "kitty"));
    // `indoor` is absent, so the spec's default fills it in.
    assert_eq!(
        serde_json::to_value(&pet).unwrap(),
        json!({"petType": "kitty", "name": "Tom", "indoor": true})
    );
    let cat: Cat = serde_json::from_value(json!({"petType": "cat", "name": "Tom", "indoor": false})).unwrap();
    assert!(!cat.indoor);
    let dog: Pet = serde_json::from_value(json!({"petType": "dog", "name": "Rex"})).unwrap();
    assert!(matches!(dog, Pet::Dog(_)));
    assert!(serde_json::from_value::<Pet>(json!({"petType": "bird", "name": "x"})).is_err());
}

#[test]
fn an_untagged_union_tries_members_in_order() {
    let s: Shape = serde_json::from_value(json!({"side": 2.0})).unwrap();
    assert!(matches!(s, Shape::Shape2(Shape2 { side }) if side == 2.0));
    let s: Shape = serde_json::from_value(json!("round")).unwrap();
    assert_eq!(s, Shape::String("round".into()));
    assert_eq!(serde_json::to_value(&s).unwrap(), json!("round"));
}

#[test]
fn recursive_types_nest_and_round_trip() {
    let value = json!({"value": 1, "children": [{"value": 2}], "parent": {"value": 0},
        "sibling": {"first": {"value": 3}, "labels": {"a": "b"}}});
    let tree: Tree = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(tree.parent.as_ref().unwrap().value, 0);
    assert_eq!(serde_json::to_value(&tree).unwrap(), value);
}

#[test]
fn absent_null_and_a_value_stay_distinct() {
    for value in [
        json!({"petType": "dog", "name": "a"}),
        json!({"petType": "dog", "name": "a", "bark": null}),
        json!({"petType": "dog", "name": "a", "bark": "woof"}),
    ] {
        let dog: Dog = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(serde_json::to_value(&dog).unwrap(), value);
    }
}

#[test]
fn read_only_fields_may_be_absent_and_write_only_fields_never_leave() {
    let audited: Audited = serde_json::from_value(json!({"secret": "s3", "kind": "fixed"})).unwrap();
    assert_eq!(audited.secret.as_deref(), Some("s3"));
    assert!(audited.id.is_none());
    let sent = serde_json::to_value(&audited).unwrap();
    assert!(sent.get("secret").is_none(), "{sent}");
    assert_eq!(sent["kind"], json!("fixed"));
}

#[test]
fn enum_values_keep_their_spelling() {
    let kinds: Vec<Kind> = serde_json::from_value(json!(["red panda", "1st", "", "Cat", "cat"])).unwrap();
    assert_eq!(kinds, [Kind::RedPanda, Kind::N1st, Kind::Empty, Kind::Cat2, Kind::Cat]);
    assert_eq!(Kind::RedPanda.as_str(), "red panda");
}
"#;

fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(binary: &Path, dir: &Path, database_url: &str) -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(binary);
    // Only a service whose spec takes bearer tokens has the runtime's `jwt` feature; one without
    // it refuses to start with a JWT setting, rather than ignore it.
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    if manifest.contains(r#""jwt""#) {
        command.env("JWT_SECRET", JWT_SECRET);
    }
    let child = command
        .current_dir(dir)
        .env("PORT", port.to_string())
        .env("DATABASE_URL", database_url)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

/// CRUD on ArchesAI's own storage spec, which this repository's specs only imitate.
fn crud(port: u16) {
    let org = "33333333-3333-4333-8333-333333333333";
    let (status, body) = http(port, "POST", "/artifacts", Some(r#"{"text":"first"}"#));
    assert_eq!(status, 201, "{body}");
    let created = json(&body)["data"].clone();
    // ArchesAI's create body leaves the organization out: it is the caller's (the token's).
    assert_eq!(created["organizationID"], org, "{body}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["credits"], 0);

    let (status, body) = http(port, "GET", &format!("/artifacts/{id}"), None);
    assert_eq!(
        (status, json(&body)["data"].clone()),
        (200, created.clone())
    );

    let (status, body) = http(
        port,
        "PATCH",
        &format!("/artifacts/{id}"),
        Some(r#"{"name":"Renamed"}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["data"]["name"], "Renamed");
    assert_eq!(json(&body)["data"]["text"], "first");

    let (status, body) = http(port, "POST", "/artifacts", Some(r#"{"text":""}"#));
    assert_eq!(status, 422, "{body}");
    let (status, body) = http(
        port,
        "GET",
        "/artifacts?limit=10&filter[type]=eq&filter[field]=name&filter[value]=Renamed",
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["meta"]["total"], 1);
    let (status, _) = http(
        port,
        "GET",
        "/artifacts?filter[type]=eq&filter[field]=nope&filter[value]=1",
        None,
    );
    assert_eq!(status, 422);

    let (status, _) = http(port, "DELETE", &format!("/artifacts/{id}"), None);
    assert_eq!(status, 204);
    let (status, body) = http(port, "GET", &format!("/artifacts/{id}"), None);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains(r#""status":404"#));

    // A custom operation whose stub has not been written yet.
    let (status, body) = http(port, "GET", "/health", None);
    assert_eq!(status, 501, "{body}");
}

/// The URL of a test database on the machine's Postgres.
fn pg_url(db: &archgen_runtime::testing::PgTestDb) -> String {
    let server = archgen_runtime::testing::postgres_url();
    format!("{}/{}", server.rsplit_once('/').unwrap().0, db.name())
}

/// A user row, which ArchesAI's platform creates only through its custom `Register`.
async fn seed_user(database_url: &str, id: &str) {
    use sqlx::Connection;
    if database_url.starts_with("sqlite:") {
        let mut db = sqlx::SqliteConnection::connect(database_url).await.unwrap();
        sqlx::query("INSERT INTO users (created_at, id, updated_at, name, email) VALUES ('2026-01-01T00:00:00Z', ?, '2026-01-01T00:00:00Z', 'Ann', 'ann@example.com')")
            .bind(id)
            .execute(&mut db)
            .await
            .unwrap();
    } else {
        let mut db = sqlx::PgConnection::connect(database_url).await.unwrap();
        sqlx::query("INSERT INTO users (created_at, id, updated_at, name, email) VALUES (now(), $1::uuid, now(), 'Ann', 'ann@example.com')")
            .bind(id)
            .execute(&mut db)
            .await
            .unwrap();
    }
}

/// ArchesAI's platform, scaffolded with no hand-written code: its members and invitations are
/// nested under `/organizations/{organizationID}`, so every operation is scoped by the path's
/// organization, which must exist, and no path reaches another organization's rows.
fn nested_over_http(port: u16, database_url: &str) {
    let call = |method: &str, path: &str, body: Option<&str>| {
        let (status, body) = http(port, method, path, body);
        (
            status,
            if body.is_empty() {
                serde_json::Value::Null
            } else {
                json(&body)
            },
        )
    };
    let org = |name: &str| {
        let body = format!(
            r#"{{"organizationID":"33333333-3333-4333-8333-333333333333","name":"{name}","slug":"{name}","stripeCustomerIdentifier":"cus_1","billingEmail":"billing@example.com"}}"#
        );
        let (status, body) = call("POST", "/organizations", Some(&body));
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_str().unwrap().to_string()
    };
    let (acme, other) = (org("acme"), org("other"));
    let user = "44444444-4444-4444-8444-444444444444";
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(seed_user(database_url, user));
    let members = format!("/organizations/{acme}/members");
    let (status, member) = call(
        "POST",
        &members,
        Some(&format!(r#"{{"role":"admin","userID":"{user}"}}"#)),
    );
    assert_eq!(status, 201, "{member}");
    assert_eq!(
        member["data"]["organizationID"],
        acme.as_str(),
        "from the path"
    );
    let id = member["data"]["id"].as_str().unwrap();
    let mine = format!("{members}/{id}");
    // The body may not move the member to another organization, on create or update.
    let moving = format!(r#"{{"role":"admin","userID":"{user}","organizationID":"{other}"}}"#);
    assert_eq!(call("POST", &members, Some(&moving)).0, 422);
    let (status, page) = call("GET", &members, None);
    assert_eq!(
        (status, page["meta"]["total"].clone()),
        (200, 1.into()),
        "{page}"
    );
    assert_eq!(call("GET", &mine, None).1["data"], member["data"]);
    let (status, updated) = call("PATCH", &mine, Some(r#"{"role":"owner"}"#));
    assert_eq!(
        (status, updated["data"]["role"].as_str()),
        (200, Some("owner"))
    );

    // Through another organization's path, the member does not exist.
    let (status, page) = call("GET", &format!("/organizations/{other}/members"), None);
    assert_eq!(
        (status, page["meta"]["total"].clone()),
        (200, 0.into()),
        "{page}"
    );
    let theirs = format!("/organizations/{other}/members/{id}");
    assert_eq!(call("GET", &theirs, None).0, 404);
    assert_eq!(call("PATCH", &theirs, Some(r#"{"role":"admin"}"#)).0, 404);
    assert_eq!(call("DELETE", &theirs, None).0, 404);
    assert_eq!(
        call("GET", &mine, None).1["data"]["role"],
        "owner",
        "untouched"
    );

    // An organization that does not exist is a 404, never an empty page.
    let nowhere = "/organizations/55555555-5555-4555-8555-555555555555/members";
    assert_eq!(call("GET", nowhere, None).0, 404);
    let body = format!(r#"{{"role":"admin","userID":"{user}"}}"#);
    assert_eq!(call("POST", nowhere, Some(&body)).0, 404);
    assert_eq!(
        call("GET", "/organizations/not-a-uuid/members", None).0,
        422
    );

    // Invitations are nested the same way, with their filters inside the scope.
    let invitations = format!("/organizations/{acme}/invitations");
    let invite = format!(
        r#"{{"email":"bo@example.com","role":"admin","expiresAt":"2030-01-01T00:00:00Z","inviterID":"{user}"}}"#
    );
    let (status, invitation) = call("POST", &invitations, Some(&invite));
    assert_eq!(status, 201, "{invitation}");
    assert_eq!(invitation["data"]["status"], "pending");
    let filtered =
        format!("{invitations}?filter[type]=eq&filter[field]=organizationID&filter[value]={other}");
    let (status, page) = call("GET", &filtered, None);
    assert_eq!(
        (status, page["meta"]["total"].clone()),
        (200, 0.into()),
        "{page}"
    );
    let invitation = invitation["data"]["id"].as_str().unwrap();
    assert_eq!(
        call(
            "DELETE",
            &format!("/organizations/{other}/invitations/{invitation}"),
            None
        )
        .0,
        404
    );
    assert_eq!(
        call("DELETE", &format!("{invitations}/{invitation}"), None).0,
        204
    );
    assert_eq!(call("DELETE", &mine, None).0, 204);
    assert_eq!(call("GET", &mine, None).0, 404);
}

/// The library spec as a new user would drive it: conflicts, cascades, restrictions, nulls,
/// pagination (offset and cursor), filters and bad filters.
fn library_over_http(port: u16) {
    let post = |path: &str, body: &str| {
        let (status, body) = http(port, "POST", path, Some(body));
        assert_eq!(status, 201, "POST {path}: {body}");
        json(&body)["data"]["id"].as_str().unwrap().to_string()
    };
    let status = |method: &str, path: &str, body: Option<&str>| http(port, method, path, body);
    let author = post("/authors", r#"{"name":"Le Guin"}"#);
    let (code, body) = status("POST", "/authors", Some(r#"{"name":"Le Guin"}"#));
    assert_eq!(code, 409, "{body}");
    assert_eq!(json(&body)["errors"][0]["field"], "name", "{body}");

    let book = |title: &str, extra: &str| {
        post(
            "/books",
            &format!(r#"{{"title":"{title}","authorID":"{author}","genre":"fiction"{extra}}}"#),
        )
    };
    let earthsea = book("Earthsea", r#","pages":200,"publishedOn":"1968-11-01""#);
    let dispossessed = book(
        "The Dispossessed",
        r#","pages":387,"genre":"science","price":9.5"#,
    );
    book("The Lathe of Heaven", "");
    // A reference to nothing is the client's mistake, never a 500.
    let (code, body) = status(
        "POST",
        "/books",
        Some(
            r#"{"title":"Ghost","authorID":"0195a0f2-0000-7000-8000-00000000dead","genre":"fiction"}"#,
        ),
    );
    assert!(code == 409 || code == 422, "{code} {body}");
    // Unique (authorID, title).
    let (code, _) = status(
        "POST",
        "/books",
        Some(&format!(
            r#"{{"title":"Earthsea","authorID":"{author}","genre":"history"}}"#
        )),
    );
    assert_eq!(code, 409);

    // A loan holds its book (RESTRICT); a review lets go of it (SET NULL).
    let loan = post(
        "/loans",
        &format!(r#"{{"bookID":"{earthsea}","borrower":"Ged"}}"#),
    );
    let review = post(
        "/reviews",
        &format!(r#"{{"bookID":"{dispossessed}","stars":5}}"#),
    );
    let (code, body) = status("DELETE", &format!("/books/{earthsea}"), None);
    assert_eq!(code, 409, "a loaned book cannot go: {body}");

    // Lists: offset and cursor pages, filters of every kind, and the bad ones.
    let (_, body) = status("GET", "/books?limit=2&sort=title", None);
    let page = json(&body);
    assert_eq!(
        (
            page["data"].as_array().unwrap().len(),
            page["meta"]["total"].as_i64()
        ),
        (2, Some(3)),
        "{body}"
    );
    let cursor = page["meta"]["nextCursor"].as_str().unwrap().to_string();
    let (_, body) = status(
        "GET",
        &format!("/books?limit=2&sort=title&cursor={cursor}"),
        None,
    );
    assert_eq!(
        json(&body)["data"][0]["title"],
        "The Lathe of Heaven",
        "{body}"
    );
    for (query, total) in [
        ("filter[type]=gt&filter[field]=pages&filter[value]=250", 1),
        ("filter[field]=genre&filter[value]=science", 1),
        (
            "filter[type]=lt&filter[field]=publishedOn&filter[value]=1970-01-01",
            1,
        ),
        ("filter[type]=eq&filter[field]=pages&filter[value]=null", 1),
        (
            "filter[type]=or&filter[children][0][field]=title&filter[children][0][value]=Earthsea&filter[children][1][type]=gte&filter[children][1][field]=price&filter[children][1][value]=9",
            2,
        ),
        (
            // Case-sensitive: "Lathe" matches, "The" does not.
            "filter[type]=contains&filter[field]=title&filter[value]=the",
            1,
        ),
        (
            "filter[type]=startsWith&filter[field]=title&filter[value]=The",
            2,
        ),
    ] {
        let (code, body) = status("GET", &format!("/books?{query}"), None);
        assert_eq!(
            (code, json(&body)["meta"]["total"].as_i64()),
            (200, Some(total)),
            "{query}: {body}"
        );
    }
    for query in [
        "filter[type]=contains&filter[field]=pages&filter[value]=2",
        "filter[field]=nope&filter[value]=1",
        "filter[field]=genre&filter[value]=poetry",
        "filter[type]=gt&filter[field]=publishedOn&filter[value]=yesterday",
        "filter[type]=like&filter[field]=title&filter[value]=x",
        "sort=nope",
        "limit=0",
    ] {
        let (code, body) = status("GET", &format!("/books?{query}"), None);
        assert_eq!(code, 422, "{query}: {body}");
        assert!(body.contains(r#""errors""#), "{body}");
    }

    // Returning the loan frees the book; deleting the author takes its books with it (CASCADE),
    // and the review outlives its book with no book (SET NULL).
    assert_eq!(status("DELETE", &format!("/loans/{loan}"), None).0, 204);
    assert_eq!(status("DELETE", &format!("/books/{earthsea}"), None).0, 204);
    assert_eq!(status("DELETE", &format!("/authors/{author}"), None).0, 204);
    let (_, body) = status("GET", "/books", None);
    assert_eq!(json(&body)["meta"]["total"], 0, "{body}");
    let (code, body) = status("GET", &format!("/reviews/{review}"), None);
    assert_eq!(code, 200, "{body}");
    assert!(json(&body)["data"]["bookID"].is_null(), "{body}");
}

#[test]
fn scaffolds_build_serve_and_detect_drift() {
    if !fixtures().exists() {
        assert!(
            std::env::var("CI").is_err(),
            "shared fixtures are missing under CI"
        );
        eprintln!("\n!!! SKIPPING e2e: ../shared/fixtures is not next to the repository !!!\n");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let specs = [
        (
            "arches-storage",
            fixtures().join("storage.openapi.bundled.yaml"),
        ),
        (
            "arches-pipelines",
            fixtures().join("pipelines.openapi.bundled.yaml"),
        ),
        (
            "arches-platform",
            fixtures().join("platform.openapi.bundled.yaml"),
        ),
        (
            "arches-todo",
            fixtures().join("example-basic-todo.openapi.yaml"),
        ),
        (
            "hostile-names",
            repo().join("generator/tests/fixtures/specs/names.yaml"),
        ),
        (
            "constructs",
            repo().join("generator/tests/fixtures/specs/constructs.yaml"),
        ),
        (
            "library",
            repo().join("generator/tests/fixtures/specs/library.yaml"),
        ),
        (
            "shop",
            repo().join("generator/tests/fixtures/specs/shop.yaml"),
        ),
        (
            "tenants",
            repo().join("generator/tests/fixtures/specs/tenants.yaml"),
        ),
    ];
    for (name, spec) in &specs {
        let (ok, out) = run(Command::new(ARCHGEN)
            .arg("init")
            .arg(work.path().join(name))
            .arg("--spec")
            .arg(spec)
            .arg("--no-workspace"));
        assert!(ok, "init {name}: {out}");
    }
    let constructs = work.path().join("constructs");
    std::fs::create_dir_all(constructs.join("tests")).unwrap();
    std::fs::write(constructs.join("tests/roundtrip.rs"), CONSTRUCTS_ROUNDTRIP).unwrap();
    let shop = work.path().join("shop");
    std::fs::write(shop.join("src/custom/audit_store.rs"), shop::AUDIT_STORE).unwrap();
    let library = work.path().join("library");
    std::fs::create_dir_all(library.join("tests")).unwrap();
    std::fs::write(library.join("tests/contract.rs"), LIBRARY_CONTRACT).unwrap();
    let members: Vec<String> = specs.iter().map(|(n, _)| format!("{n:?}")).collect();
    std::fs::write(
        work.path().join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();

    // Every feature, so the typed clients (each crate's `client` feature) are built too.
    let (ok, out) = cargo(
        work.path(),
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
    );
    assert!(ok, "generated code must build without warnings:\n{out}");
    // Alone, a crate gets only the runtime features its Cargo.toml names (the workspace build
    // above unites every member's): a spec with no cache, events or security builds on the core.
    let todo = std::fs::read_to_string(work.path().join("arches-todo/Cargo.toml")).unwrap();
    assert!(
        todo.contains(r#"default-features = false, features = ["docs"]"#),
        "{todo}"
    );
    let (ok, out) = cargo(
        work.path(),
        &[
            "clippy",
            "--quiet",
            "-p",
            "arches-todo",
            "--",
            "-D",
            "warnings",
        ],
    );
    assert!(
        ok,
        "a scaffold must build with the features init chose:\n{out}"
    );
    let (ok, out) = cargo(
        work.path(),
        // With the typed clients: a type the server only answers is read back only by a client.
        &[
            "test",
            "--quiet",
            "--features",
            "constructs/client,library/client",
            "-p",
            "constructs",
            "-p",
            "library",
        ],
    );
    assert!(
        ok,
        "generated types round-trip through serde, and the library's stores keep keys alike:\n{out}"
    );
    let (ok, out) = cargo(
        work.path(),
        &[
            "build",
            "--quiet",
            "-p",
            "arches-storage",
            "-p",
            "arches-platform",
            "-p",
            "shop",
            "-p",
            "tenants",
            "-p",
            "constructs",
            "-p",
            "library",
        ],
    );
    assert!(ok, "{out}");
    let library = repo().join("target/e2e/debug/library");
    let (server, port) = serve(
        &library,
        &work.path().join("library"),
        &format!("sqlite://{}", work.path().join("library.db").display()),
    );
    library_security(port);
    library_over_http(port);
    drop(server);
    let (server, port) = serve(
        &repo().join("target/e2e/debug/constructs"),
        &constructs,
        &format!("sqlite://{}", work.path().join("constructs.db").display()),
    );
    constructs_over_http(port);
    drop(server);
    let (server, port) = serve(
        &repo().join("target/e2e/debug/shop"),
        &shop,
        &format!("sqlite://{}", work.path().join("shop.db").display()),
    );
    shop::shop_over_http(port);
    shop::schemathesis(port, work.path());
    drop(server);
    let (server, port) = serve(
        &repo().join("target/e2e/debug/tenants"),
        &work.path().join("tenants"),
        &format!("sqlite://{}", work.path().join("tenants.db").display()),
    );
    tenants::tenants_over_http(port);
    drop(server);
    let binary = repo().join("target/e2e/debug/arches-storage");
    let service = work.path().join("arches-storage");

    let (server, port) = serve(
        &binary,
        &service,
        &format!("sqlite://{}", work.path().join("e2e.db").display()),
    );
    crud(port);
    drop(server);
    // ArchesAI marks 29 of its platform's operations custom; everything else is generated.
    let platform = work.path().join("arches-platform");
    let stubs = std::fs::read_dir(platform.join("src/custom"))
        .unwrap()
        .count()
        - 1;
    assert_eq!(stubs, 29, "stubs besides mod.rs");
    let platform_binary = repo().join("target/e2e/debug/arches-platform");
    let url = format!("sqlite://{}", work.path().join("platform.db").display());
    let (server, port) = serve(&platform_binary, &platform, &url);
    nested_over_http(port, &url);
    drop(server);

    let rt = tokio::runtime::Runtime::new().unwrap();
    if let Some(pg) = rt.block_on(archgen_runtime::testing::postgres("e2e_scaffold")) {
        let url = pg_url(&pg);
        let (server, port) = serve(&binary, &service, &url);
        crud(port);
        drop(server);
        let platform_db = rt
            .block_on(archgen_runtime::testing::postgres("e2e_platform"))
            .expect("Postgres answered a moment ago");
        let url = pg_url(&platform_db);
        let (server, port) = serve(&platform_binary, &platform, &url);
        nested_over_http(port, &url);
        drop(server);
        let library_db = rt
            .block_on(archgen_runtime::testing::postgres("e2e_library"))
            .expect("Postgres answered a moment ago");
        let url = pg_url(&library_db);
        let (server, port) = serve(&library, &work.path().join("library"), &url);
        library_over_http(port);
        drop(server);
    }

    // The drift check, as CI runs it.
    let check = || run(Command::new(ARCHGEN).arg("check").current_dir(&service));
    let (ok, out) = check();
    assert!(ok, "{out}");
    let types = service.join("src/generated/storage/types.rs");
    let text = std::fs::read_to_string(&types).unwrap();
    std::fs::write(
        &types,
        text.replacen(
            "pub struct Artifact",
            "pub struct Artifact /* tweaked */",
            1,
        ),
    )
    .unwrap();
    let stub = service.join("src/custom/get_health.rs");
    std::fs::write(&stub, "// my implementation\n").unwrap();
    let (ok, out) = check();
    assert!(!ok);
    assert!(
        out.contains("edited by hand:") && out.contains("types.rs"),
        "{out}"
    );
    assert!(
        out.contains("+pub struct Artifact {"),
        "a unified diff: {out}"
    );
    assert!(
        out.trim_end()
            .ends_with("run `archgen generate` to regenerate"),
        "{out}"
    );
    let (ok, out) = run(Command::new(ARCHGEN).arg("generate").current_dir(&service));
    assert!(ok, "{out}");
    assert!(check().0);
    assert_eq!(
        std::fs::read_to_string(&stub).unwrap(),
        "// my implementation\n",
        "stubs are never overwritten"
    );
}
