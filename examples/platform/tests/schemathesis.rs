//! Conformance, judged by a fuzzer nobody here wrote: schemathesis runs against the real binary
//! (bearer JWTs checked against JWT_SECRET) and fails the test on any finding: a 5xx, a status,
//! content type, header or body the spec does not declare, invalid input accepted, valid input
//! refused, or an operation that ignores its security.

use std::net::TcpListener;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

const SECRET: &str = "schemathesis-secret-of-at-least-32-bytes";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_until_up(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "the service did not start on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn schemathesis_finds_nothing() {
    let Some(st) = archgen_runtime::testing::schemathesis() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_archgen-platform"))
            .env("PORT", port.to_string())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/st.db?mode=rwc", dir.path().display()),
            )
            .env("JWT_SECRET", SECRET)
            .env("ARCHGEN_CACHE", "memory")
            .env("RUST_LOG", "warn")
            .env_remove("NATS_URL")
            .env_remove("REDIS_URL")
            .spawn()
            .unwrap(),
    );
    wait_until_up(port);
    let token = encode(
        &Header::default(),
        &json!({
            "sub": "schemathesis",
            "org": "11111111-1111-4111-8111-111111111111",
            "permissions": ["artifacts:delete"],
            "exp": chrono::Utc::now().timestamp() + 3600,
        }),
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let output = Command::new(st)
        .args([
            "--config-file",
            concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis.toml"),
        ])
        .arg("run")
        .arg(format!("{base}/openapi.json"))
        .args(["--url", &base])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "--max-examples",
            "40",
            "--seed",
            "20261122",
            "--workers",
            "2",
        ])
        .args(["--report", "junit", "--report-dir"])
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("No issues found"), "{report}");
}
