//! Graceful shutdown: requests in flight finish, new connections are refused, and the server
//! returns; past the deadline, what still runs is answered 503 and the server returns anyway.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use archgen_runtime::BoxError;
use archgen_runtime::server::{serve_until, serve_until_within};
use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;

/// Send `GET path` over a fresh connection and read the whole response.
async fn request(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

fn status(response: &str) -> &str {
    response.lines().next().unwrap_or_default()
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

struct Server {
    addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<Result<(), BoxError>>,
}

/// `router` served on a free local port, stopping when `shutdown` is sent; `grace` is the drain
/// deadline, or `None` for `serve_until`'s own (`ARCHGEN_SHUTDOWN_TIMEOUT`, default 30 s).
async fn start(router: Router, grace: Option<Duration>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, signal) = oneshot::channel::<()>();
    let signal = async move {
        let _ = signal.await;
    };
    let task = tokio::spawn(async move {
        match grace {
            None => serve_until(listener, router, signal).await,
            Some(grace) => serve_until_within(listener, router, signal, grace).await,
        }
    });
    Server {
        addr,
        shutdown,
        task,
    }
}

/// Whether connecting to `addr` is refused within `within`.
async fn refused_within(addr: SocketAddr, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        match TcpStream::connect(addr).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return true,
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    false
}

/// A route that says when it has started, then takes `takes` to answer "done".
fn slow(started: Arc<Notify>, takes: Duration) -> Router {
    Router::new().route(
        "/slow",
        get(move || {
            let started = started.clone();
            async move {
                started.notify_one();
                tokio::time::sleep(takes).await;
                "done"
            }
        }),
    )
}

#[tokio::test]
async fn a_request_in_flight_finishes_and_the_server_then_returns() {
    let started = Arc::new(Notify::new());
    let server = start(slow(started.clone(), Duration::from_millis(500)), None).await;
    let sent = Instant::now();
    let client = tokio::spawn(request(server.addr, "/slow"));
    started.notified().await;
    server.shutdown.send(()).unwrap();

    let response = tokio::time::timeout(Duration::from_secs(10), client)
        .await
        .expect("the response arrives")
        .unwrap()
        .unwrap();
    assert_eq!(status(&response), "HTTP/1.1 200 OK", "{response}");
    assert_eq!(body(&response), "done", "{response}");
    assert!(sent.elapsed() >= Duration::from_millis(500));

    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("serve_until returns once the request is answered")
        .unwrap()
        .unwrap();
    assert!(
        refused_within(server.addr, Duration::from_secs(1)).await,
        "a connection after shutdown was accepted"
    );
}

#[tokio::test]
async fn new_connections_are_refused_while_draining() {
    let started = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let router = {
        let (started, release) = (started.clone(), release.clone());
        Router::new().route(
            "/gated",
            get(move || {
                let (started, release) = (started.clone(), release.clone());
                async move {
                    started.notify_one();
                    release.notified().await;
                    "released"
                }
            }),
        )
    };
    let server = start(router, None).await;
    let client = tokio::spawn(request(server.addr, "/gated"));
    started.notified().await;
    server.shutdown.send(()).unwrap();

    assert!(
        refused_within(server.addr, Duration::from_secs(5)).await,
        "still accepting connections after the shutdown signal"
    );
    assert!(!client.is_finished(), "the request in flight was cut");
    assert!(
        !server.task.is_finished(),
        "returned with a request in flight"
    );

    release.notify_one();
    let response = tokio::time::timeout(Duration::from_secs(10), client)
        .await
        .expect("the response arrives")
        .unwrap()
        .unwrap();
    assert_eq!(status(&response), "HTTP/1.1 200 OK", "{response}");
    assert_eq!(body(&response), "released");
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("serve_until returns")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn past_the_deadline_requests_are_cut_and_the_server_returns() {
    let started = Arc::new(Notify::new());
    let grace = Duration::from_millis(200);
    let server = start(
        slow(started.clone(), Duration::from_secs(3600)),
        Some(grace),
    )
    .await;
    let client = tokio::spawn(request(server.addr, "/slow"));
    started.notified().await;
    let signalled = Instant::now();
    server.shutdown.send(()).unwrap();

    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("serve_until returns after the deadline")
        .unwrap()
        .unwrap();
    assert!(signalled.elapsed() >= grace);

    let response = tokio::time::timeout(Duration::from_secs(10), client)
        .await
        .expect("the cut request is answered")
        .unwrap()
        .unwrap();
    assert_eq!(
        status(&response),
        "HTTP/1.1 503 Service Unavailable",
        "{response}"
    );
    assert!(response.contains("application/problem+json"), "{response}");
}

#[tokio::test]
async fn without_a_signal_the_server_keeps_serving() {
    let started = Arc::new(Notify::new());
    let server = start(slow(started, Duration::ZERO), Some(Duration::ZERO)).await;
    for _ in 0..3 {
        let response = request(server.addr, "/slow").await.unwrap();
        assert_eq!(status(&response), "HTTP/1.1 200 OK", "{response}");
    }
    assert!(!server.task.is_finished());
    server.shutdown.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server.task)
        .await
        .expect("serve_until returns")
        .unwrap()
        .unwrap();
}
