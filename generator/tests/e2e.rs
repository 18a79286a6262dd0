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

/// A minimal HTTP/1.1 client: one request per connection, JSON body.
fn http(port: u16, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    request(
        port,
        method,
        path,
        &[("Content-Type", "application/json")],
        body.unwrap_or(""),
    )
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
    let child = Command::new(binary)
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
    let (status, body) = http(
        port,
        "POST",
        "/artifacts",
        Some(&format!(r#"{{"text":"first","organizationID":"{org}"}}"#)),
    );
    assert_eq!(status, 201, "{body}");
    let created = json(&body)["data"].clone();
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
    let members: Vec<String> = specs.iter().map(|(n, _)| format!("{n:?}")).collect();
    std::fs::write(
        work.path().join("Cargo.toml"),
        format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n",
            members.join(", ")
        ),
    )
    .unwrap();

    let (ok, out) = cargo(
        work.path(),
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
    );
    assert!(ok, "generated code must build without warnings:\n{out}");
    let (ok, out) = cargo(work.path(), &["test", "--quiet", "-p", "constructs"]);
    assert!(ok, "generated types round-trip through serde:\n{out}");
    let (ok, out) = cargo(
        work.path(),
        &[
            "build",
            "--quiet",
            "-p",
            "arches-storage",
            "-p",
            "constructs",
        ],
    );
    assert!(ok, "{out}");
    let (server, port) = serve(
        &repo().join("target/e2e/debug/constructs"),
        &constructs,
        &format!("sqlite://{}", work.path().join("constructs.db").display()),
    );
    constructs_over_http(port);
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

    let rt = tokio::runtime::Runtime::new().unwrap();
    if let Some(pg) = rt.block_on(archgen_runtime::testing::postgres("e2e_scaffold")) {
        let url = format!(
            "{}/{}",
            archgen_runtime::testing::postgres_url()
                .rsplit_once('/')
                .unwrap()
                .0,
            pg.name()
        );
        let (server, port) = serve(&binary, &service, &url);
        crud(port);
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
