//! The generated clients against the real platform over TCP: every operation of the storage spec
//! goes through `storage::client::StorageClient` or `server::client::ServerClient`, so what the
//! client writes is what the server parses, and what the server answers is what the client reads.

use std::net::SocketAddr;

use archgen_platform::generated::prelude::*;
use archgen_platform::generated::server::client::ServerClient;
use archgen_platform::generated::storage::client::StorageClient;
use archgen_runtime as rt;
use rt::client::{Client, Error, Filter, ListParams};
use rt::deps::uuid::Uuid;

const ORG: &str = "11111111-1111-4111-8111-111111111111";
const OTHER_ORG: &str = "22222222-2222-4222-8222-222222222222";

/// Stands in for the authentication layer: the caller's organization comes from a test header,
/// or from a bearer token `test:<organization>`; its permissions from `x-test-roles`.
async fn caller(
    mut request: rt::deps::axum::extract::Request,
    next: rt::deps::axum::middleware::Next,
) -> rt::deps::axum::response::Response {
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let org: Option<Uuid> = text("x-test-organization")
        .or_else(|| text("authorization").and_then(|v| v.strip_prefix("Bearer test:")))
        .and_then(|v| v.parse().ok());
    let roles: Vec<String> = text("x-test-roles")
        .map(|v| v.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    if let Some(org) = org {
        request.extensions_mut().insert(rt::Principal {
            subject: "tester".into(),
            organization: Some(org),
            roles,
        });
    }
    next.run(request).await
}

/// The platform on SQLite, served on a free port until the test ends.
struct Platform {
    addr: SocketAddr,
    _db: rt::sql::Db,
}

impl Platform {
    async fn start() -> Self {
        let db = rt::testing::sqlite_memory().await;
        let router = archgen_platform::router(&db)
            .await
            .unwrap()
            .layer(rt::deps::axum::middleware::from_fn(caller));
        let listener = rt::deps::tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        rt::deps::tokio::spawn(async move {
            rt::deps::axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Self { addr, _db: db }
    }

    /// A client acting for `org` (`None`: anonymous).
    fn client(&self, org: Option<&str>) -> Client {
        let client = Client::new(format!("http://{}/", self.addr));
        match org {
            Some(org) => client.with_header("x-test-organization", org),
            None => client,
        }
    }

    /// A caller of `ORG` that may do everything.
    fn storage(&self) -> StorageClient {
        StorageClient::new(
            self.client(Some(ORG))
                .with_header("x-test-roles", "artifacts:delete"),
        )
    }
}

fn org() -> Uuid {
    ORG.parse().unwrap()
}

fn artifact(text: &str) -> CreateArtifactBody {
    CreateArtifactBody {
        name: None,
        description: None,
        credits: None,
        mime_type: None,
        organization_id: org(),
        producer_id: None,
        text: Some(text.into()),
        url: None,
        size_bytes: None,
        checksum: None,
    }
}

fn artifact_patch() -> UpdateArtifactBody {
    UpdateArtifactBody {
        name: rt::Patch::Absent,
        description: rt::Patch::Absent,
        credits: rt::Patch::Absent,
        mime_type: rt::Patch::Absent,
        text: rt::Patch::Absent,
        url: rt::Patch::Absent,
        size_bytes: rt::Patch::Absent,
        checksum: rt::Patch::Absent,
    }
}

fn label(name: &str) -> CreateLabelBody {
    CreateLabelBody {
        name: name.into(),
        description: None,
        color: None,
    }
}

fn color(c: &str) -> UpdateLabelBody {
    UpdateLabelBody {
        name: rt::Patch::Absent,
        description: rt::Patch::Absent,
        color: rt::Patch::Value(c.into()),
    }
}

/// The status and problem of a failed call.
fn problem<T: std::fmt::Debug>(result: Result<T, Error>) -> (u16, rt::client::Problem) {
    match result {
        Err(Error::Problem { status, problem }) => {
            assert_eq!(problem.status, status, "{problem:?}");
            (status, *problem)
        }
        other => panic!("expected a problem, got {other:?}"),
    }
}

/// The fields a problem names, each once.
fn field_names(p: &rt::client::Problem) -> Vec<&str> {
    let mut fields: Vec<&str> = p.errors.iter().map(|e| e.field.as_str()).collect();
    fields.dedup();
    fields
}

#[tokio::test]
async fn artifacts_round_trip() {
    let platform = Platform::start().await;
    let api = platform.storage();

    let created = api
        .create_artifact(&CreateArtifactBody {
            name: Some("Q3".into()),
            credits: Some(3),
            checksum: Some(format!("sha256:{}", "0".repeat(64))),
            ..artifact("report")
        })
        .await
        .unwrap();
    assert_eq!(created.credits, 3);
    assert_eq!(created.organization_id, org());
    assert_eq!(
        created.mime_type, "application/octet-stream",
        "schema default"
    );
    assert_eq!(created.checksum, None, "x-sensitive fields never leave");
    assert_eq!(created.created_at, created.updated_at);

    let got = api.get_artifact(created.id).await.unwrap();
    assert_eq!(got, created);

    // Absent keeps, null clears, a value sets.
    let patched = api
        .update_artifact(
            created.id,
            &UpdateArtifactBody {
                text: rt::Patch::Null,
                credits: rt::Patch::Value(5),
                ..artifact_patch()
            },
        )
        .await
        .unwrap();
    assert_eq!(patched.text, None);
    assert_eq!(patched.credits, 5);
    assert_eq!(patched.name.as_deref(), Some("Q3"));
    assert_ne!(patched.updated_at, created.updated_at);

    // Deleting takes a permission the spec names (x-codegen-permissions).
    let plain = StorageClient::new(platform.client(Some(ORG)));
    let (status, denied) = problem(plain.delete_artifact(created.id).await);
    assert_eq!(status, 403);
    assert!(
        denied
            .detail
            .as_deref()
            .unwrap()
            .contains("artifacts:delete"),
        "{denied:?}"
    );
    api.delete_artifact(created.id).await.unwrap();
    let (status, gone) = problem(api.get_artifact(created.id).await);
    assert_eq!(status, 404);
    assert_eq!(gone.kind, "about:blank");
    assert_eq!(gone.title, "Not Found");
    assert_eq!(
        gone.detail.as_deref(),
        Some(format!("Artifact {} not found", created.id).as_str())
    );
    let (status, _) = problem(api.delete_artifact(created.id).await);
    assert_eq!(status, 404);
    let (status, _) = problem(api.update_artifact(created.id, &artifact_patch()).await);
    assert_eq!(status, 404);
}

#[tokio::test]
async fn validation_failures_are_422_with_every_field() {
    let platform = Platform::start().await;
    let api = platform.storage();

    let (status, p) = problem(
        api.create_label(&CreateLabelBody {
            name: " padded ".into(),
            description: None,
            color: Some("red".into()),
        })
        .await,
    );
    assert_eq!(status, 422);
    assert_eq!(p.title, "Validation failed");
    assert_eq!(field_names(&p), ["name", "color"], "{p:?}");
    assert!(p.error_for("color").is_some());

    let (status, p) = problem(
        api.create_artifact(&CreateArtifactBody {
            credits: Some(-1),
            url: Some(String::new()),
            ..artifact("x")
        })
        .await,
    );
    assert_eq!(status, 422);
    assert_eq!(field_names(&p), ["credits", "url"], "{p:?}");

    let (status, p) = problem(
        api.update_artifact(
            Uuid::now_v7(),
            &UpdateArtifactBody {
                credits: rt::Patch::Null,
                ..artifact_patch()
            },
        )
        .await,
    );
    assert_eq!(status, 422, "a non-nullable field cannot be cleared");
    assert_eq!(field_names(&p), ["credits"]);

    // Bad list requests are refused field by field, as the server names them.
    for (params, field) in [
        (ListParams::new().limit(0), "limit"),
        (ListParams::new().limit(101), "limit"),
        (ListParams::new().asc("nope"), "sort.0.field"),
        (
            ListParams::new().filter(Filter::eq("password", "x")),
            "filter.field",
        ),
        (
            ListParams::new().filter(Filter::contains("credits", 1)),
            "filter.type",
        ),
        (
            ListParams::new().filter(Filter::gt("credits", "many")),
            "filter.value",
        ),
        (ListParams::new().cursor("not-a-cursor"), "cursor"),
    ] {
        let (status, p) = problem(api.list_artifacts(&params).await);
        assert_eq!(status, 422, "{params:?}");
        assert_eq!(field_names(&p), [field], "{params:?}");
    }
}

#[tokio::test]
async fn lists_filter_sort_and_page() {
    let platform = Platform::start().await;
    let api = platform.storage();
    for (i, text) in ["alpha", "beta", "gamma", "delta"].into_iter().enumerate() {
        let credits = i32::try_from(i).unwrap();
        api.create_artifact(&CreateArtifactBody {
            credits: Some(credits),
            name: (i % 2 == 0).then(|| format!("n{i}")),
            ..artifact(text)
        })
        .await
        .unwrap();
    }
    let texts = |page: &rt::Page<Artifact>| {
        page.data
            .iter()
            .map(|a| a.text.clone().unwrap())
            .collect::<Vec<_>>()
    };

    let page = api.list_artifacts(&ListParams::new()).await.unwrap();
    assert_eq!(page.meta.total, 4);
    // Offset paging, sorting by a value of the spec's sort enum (`-credits`) or by name.
    let page = api
        .list_artifacts(
            &ListParams::new()
                .limit(2)
                .offset(1)
                .sort_key(ListArtifactsSortItem::Credits2),
        )
        .await
        .unwrap();
    assert_eq!(texts(&page), ["gamma", "beta"]);
    assert_eq!(page.meta.total, 4);

    for (filter, expected) in [
        (Filter::gte("credits", 2), vec!["gamma", "delta"]),
        (Filter::eq("text", "beta"), vec!["beta"]),
        (Filter::ne("credits", 0), vec!["beta", "gamma", "delta"]),
        (Filter::lt("credits", 1), vec!["alpha"]),
        (Filter::lte("credits", 1), vec!["alpha", "beta"]),
        (
            Filter::or([
                Filter::starts_with("text", "al"),
                Filter::ends_with("text", "ta"),
            ]),
            vec!["alpha", "beta", "delta"],
        ),
        (
            Filter::and([Filter::contains("text", "a"), Filter::gt("credits", 1)]),
            vec!["gamma", "delta"],
        ),
        (Filter::contains("text", "ELT"), vec![]),
        // Null goes as a JSON filter: a query string cannot tell it from the text "null".
        (Filter::eq("name", None::<String>), vec!["beta", "delta"]),
        (Filter::ne("name", None::<String>), vec!["alpha", "gamma"]),
        (
            Filter::eq("organizationID", org()),
            vec!["alpha", "beta", "gamma", "delta"],
        ),
        (
            Filter::lt("createdAt", chrono::Utc::now() + chrono::Duration::hours(1)),
            vec!["alpha", "beta", "gamma", "delta"],
        ),
    ] {
        let params = ListParams::new().filter(filter).asc("credits");
        let page = api.list_artifacts(&params).await.unwrap();
        assert_eq!(texts(&page), expected, "{params:?}");
        assert_eq!(page.meta.total as usize, expected.len());
    }

    // Cursor pages walk every row once, in the order of one big page.
    for i in 0..7 {
        api.create_artifact(&CreateArtifactBody {
            credits: Some(i % 3),
            ..artifact("more")
        })
        .await
        .unwrap();
    }
    let sort = ListParams::new().desc("credits");
    let all = api.list_artifacts(&sort.clone().limit(100)).await.unwrap();
    assert_eq!(all.data.len(), 11);
    assert_eq!(
        all.meta.next_cursor, None,
        "a page that is not full ends the list"
    );
    let mut walked = Vec::new();
    let mut params = Some(sort.limit(3));
    let mut pages = 0;
    while let Some(p) = params {
        let page = api.list_artifacts(&p).await.unwrap();
        assert_eq!(page.meta.total, 11, "the total counts every match");
        walked.extend(page.data.iter().map(|a| a.id));
        params = p.next(&page);
        pages += 1;
    }
    assert_eq!(pages, 4);
    assert_eq!(walked, all.data.iter().map(|a| a.id).collect::<Vec<_>>());
}

#[tokio::test]
async fn labels_are_versioned_and_guarded_by_if_match() {
    let platform = Platform::start().await;
    let api = platform.storage();

    let created = api.create_label(&label("v")).await.unwrap();
    assert_eq!(created.etag(), Some("\"1\""));
    assert_eq!(created.version, 1, "the version comes from the ETag");
    assert_eq!(created.color, "#808080", "schema default");
    assert_eq!(created.organization_id, org(), "the caller's organization");
    let id = created.id;

    let got = api.get_label(id).await.unwrap();
    assert_eq!(got, created);

    let updated = api
        .update_label(id, &color("#000000"), created.etag())
        .await
        .unwrap();
    assert_eq!((updated.etag(), updated.version), (Some("\"2\""), 2));
    assert_eq!(updated.color, "#000000");

    // The ETag first read is stale now: 412, and nothing changes.
    let (status, stale) = problem(
        api.update_label(id, &color("#ffffff"), created.etag())
            .await,
    );
    assert_eq!(status, 412);
    assert!(
        stale.detail.as_deref().unwrap().contains("If-Match"),
        "{stale:?}"
    );
    let (status, _) = problem(api.delete_label(id, created.etag()).await);
    assert_eq!(status, 412);
    let (status, _) = problem(
        api.update_label(id, &color("#ffffff"), Some("W/\"2\""))
            .await,
    );
    assert_eq!(status, 412, "a tag this service never issued cannot match");
    assert_eq!(api.get_label(id).await.unwrap().color, "#000000");

    // No If-Match (or `*`) writes unconditionally.
    let renamed = api
        .update_label(
            id,
            &UpdateLabelBody {
                name: rt::Patch::Value("renamed".into()),
                description: rt::Patch::Absent,
                color: rt::Patch::Absent,
            },
            None,
        )
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.version), ("renamed", 3));
    let starred = api
        .update_label(id, &color("#111111"), Some("*"))
        .await
        .unwrap();
    assert_eq!(starred.version, 4);

    // Lists of labels: the same paging, filters and sorts.
    api.create_label(&label("team-a")).await.unwrap();
    api.create_label(&label("team-b")).await.unwrap();
    let page = api
        .list_labels(
            &ListParams::new()
                .filter(Filter::starts_with("name", "team-"))
                .desc("name"),
        )
        .await
        .unwrap();
    let names: Vec<&str> = page.data.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["team-b", "team-a"]);

    // A unique conflict is 409, naming the fields.
    let (status, conflict) = problem(api.create_label(&label("team-a")).await);
    assert_eq!(status, 409);
    assert_eq!(field_names(&conflict), ["organizationID", "name"]);

    api.delete_label(id, starred.etag()).await.unwrap();
    let (status, gone) = problem(api.get_label(id).await);
    assert_eq!(status, 404);
    assert_eq!(
        gone.detail.as_deref(),
        Some(format!("Label {id} not found").as_str())
    );
    let (status, _) = problem(api.delete_label(id, None).await);
    assert_eq!(status, 404);
    // Its name is free again.
    api.create_label(&label("renamed")).await.unwrap();
}

#[tokio::test]
async fn labels_stay_inside_the_callers_organization() {
    let platform = Platform::start().await;
    let mine = platform.storage();
    let theirs = StorageClient::new(platform.client(Some(OTHER_ORG)));
    let anonymous = StorageClient::from(platform.client(None));

    let created = mine.create_label(&label("mine")).await.unwrap();
    assert_eq!(problem(theirs.get_label(created.id).await).0, 404);
    assert_eq!(
        problem(
            theirs
                .update_label(created.id, &color("#000000"), None)
                .await
        )
        .0,
        404
    );
    assert_eq!(problem(theirs.delete_label(created.id, None).await).0, 404);
    let page = theirs
        .list_labels(&ListParams::new().filter(Filter::eq("organizationID", org())))
        .await
        .unwrap();
    assert_eq!(page.meta.total, 0);

    // Without a caller, operations the spec secures are 401 with the scheme named.
    let (status, p) = problem(anonymous.list_labels(&ListParams::new()).await);
    assert_eq!(status, 401, "{p:?}");
    let (status, _) = problem(anonymous.list_artifacts(&ListParams::new()).await);
    assert_eq!(status, 401);

    // A bearer token names the caller (the test's stand-in for JWT verification).
    let bearer = StorageClient::new(platform.client(None).with_bearer(format!("test:{ORG}")));
    let page = bearer.list_labels(&ListParams::new()).await.unwrap();
    assert_eq!(
        page.data.iter().map(|l| l.id).collect::<Vec<_>>(),
        [created.id]
    );
}

#[tokio::test]
async fn custom_operations() {
    let platform = Platform::start().await;
    let api = platform.storage();
    let server = ServerClient::new(platform.client(None));

    let health = server.get_health(&GetHealthInput {}).await.unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert!(health.uptime >= 0);

    let stored = api
        .create_artifact(&CreateArtifactBody {
            url: Some("https://files.example/a.pdf".into()),
            ..artifact("with content")
        })
        .await
        .unwrap();
    let before = chrono::Utc::now();
    let link = api
        .download_artifact(&DownloadArtifactInput { id: stored.id })
        .await
        .unwrap();
    assert_eq!(link.data.url, "https://files.example/a.pdf");
    assert!(link.data.expires_at > before);

    let empty = api.create_artifact(&artifact("no content")).await.unwrap();
    let (status, p) = problem(
        api.download_artifact(&DownloadArtifactInput { id: empty.id })
            .await,
    );
    // The artifact exists but has nothing to link to (409; 404 before that distinction).
    assert!(matches!(status, 404 | 409), "{status} {p:?}");
    assert!(p.detail.unwrap().contains("has no stored content"));
    let missing = Uuid::now_v7();
    let (status, p) = problem(
        api.download_artifact(&DownloadArtifactInput { id: missing })
            .await,
    );
    assert_eq!(status, 404);
    assert_eq!(p.detail, Some(format!("Artifact {missing} not found")));
}

#[tokio::test]
async fn failures_outside_the_api_are_told_apart() {
    // Nothing listens: a transport error, with no status.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = StorageClient::new(Client::new(format!("http://127.0.0.1:{port}")));
    let err = nowhere.get_artifact(Uuid::nil()).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(err.status(), None);

    // A header that cannot be sent fails before any request.
    let platform = Platform::start().await;
    let bad = StorageClient::new(platform.client(Some(ORG)).with_header("bad header", "x"));
    let err = bad.list_artifacts(&ListParams::new()).await.unwrap_err();
    assert!(matches!(err, Error::Encode(_)), "{err:?}");

    // A path no operation serves is still problem+json.
    let raw = platform
        .client(Some(ORG))
        .request(rt::client::Method::GET, "/nowhere/{x}")
        .path("a b")
        .send()
        .await
        .unwrap_err();
    assert_eq!(raw.status(), Some(404));
    assert!(raw.problem().is_some(), "{raw:?}");
    // A bearer token is kept out of debug output.
    let client = platform.client(None).with_bearer("secret-token");
    assert!(!format!("{client:?}").contains("secret-token"));
}
