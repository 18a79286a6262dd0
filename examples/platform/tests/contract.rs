//! One contract, four stores: the generated repositories on Postgres, on an SQLite file, on
//! in-memory SQLite, and the in-memory mock must all give the same answers to the same calls.

use archgen_platform::generated::storage::StorageRepositories;
use archgen_platform::generated::storage::repository::{LABEL_TABLE, LabelPatch, NewLabel};
use archgen_runtime as rt;
use rt::RepoError;
use rt::prelude::*;

const ORG: Uuid = Uuid::from_u128(0x1111_1111_1111_4111_8111_1111_1111_1111);
const OTHER: Uuid = Uuid::from_u128(0x2222_2222_2222_4222_8222_2222_2222_2222);

fn label(name: &str, org: Uuid) -> NewLabel {
    NewLabel {
        name: name.into(),
        color: "#808080".into(),
        organization_id: org,
    }
}

/// The contract. Everything it observes is returned, so the stores can be compared with each other too.
async fn contract(repos: StorageRepositories) -> Vec<String> {
    let labels = &repos.labels;
    let mut seen = Vec::new();
    let a = labels.create(label("alpha", ORG)).await.unwrap();
    let b = labels.create(label("beta", ORG)).await.unwrap();
    labels.create(label("alpha", OTHER)).await.unwrap();
    assert_eq!(labels.get(a.id).await.unwrap().as_ref(), Some(&a));
    assert_eq!(labels.get(Uuid::nil()).await.unwrap(), None);

    // Unique (organizationID, name): a typed conflict naming the fields.
    match labels.create(label("alpha", ORG)).await {
        Err(RepoError::Conflict { constraint, .. }) => {
            seen.push(format!("conflict {constraint:?}"))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    match labels
        .update(
            b.id,
            LabelPatch {
                name: Patch::Value("alpha".into()),
                ..Default::default()
            },
        )
        .await
    {
        Err(RepoError::Conflict { constraint, .. }) => {
            seen.push(format!("update conflict {constraint:?}"))
        }
        other => panic!("expected a conflict, got {other:?}"),
    }

    // Absent keeps, a value replaces; the update time moves.
    let patched = labels
        .update(
            b.id,
            LabelPatch {
                color: Patch::Value("#000000".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (patched.name.as_str(), patched.color.as_str()),
        ("beta", "#000000")
    );
    assert!(patched.updated_at >= b.updated_at);
    assert_eq!(
        labels
            .update(Uuid::nil(), LabelPatch::default())
            .await
            .unwrap(),
        None
    );

    // Additional methods, each return kind.
    let by_name = labels
        .get_label_by_name("alpha".into(), OTHER)
        .await
        .unwrap()
        .unwrap();
    seen.push(format!("by name {}", by_name.organization_id == OTHER));
    seen.push(format!(
        "exists {} {}",
        labels
            .label_exists_by_name("beta".into(), ORG)
            .await
            .unwrap(),
        labels
            .label_exists_by_name("beta".into(), OTHER)
            .await
            .unwrap()
    ));
    let in_org: Vec<String> = labels
        .list_labels_by_organization(ORG)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    seen.push(format!("in org {in_org:?}"));

    // Lists: filters, sort, paging, exact totals.
    let query = |raw: &str| rt::ListQuery::from_query(raw, &LABEL_TABLE).unwrap();
    for raw in [
        "sort=name,-organizationID",
        "limit=1&offset=1&sort=name,organizationID",
        "filter[type]=startsWith&filter[field]=name&filter[value]=al&sort=organizationID",
        "filter[type]=ne&filter[field]=color&filter[value]=%23808080",
        "filter[type]=or&filter[children][0][field]=name&filter[children][0][value]=beta&filter[children][1][type]=gt&filter[children][1][field]=name&filter[children][1][value]=alpha&sort=-name",
    ] {
        let page = labels.list(&query(raw)).await.unwrap();
        let names: Vec<String> = page
            .data
            .iter()
            .map(|l| {
                format!(
                    "{}@{}",
                    l.name,
                    if l.organization_id == ORG {
                        "org"
                    } else {
                        "other"
                    }
                )
            })
            .collect();
        seen.push(format!("{raw} -> {} {names:?}", page.meta.total));
    }

    assert!(labels.delete(a.id).await.unwrap());
    assert!(!labels.delete(a.id).await.unwrap());
    seen.push(format!(
        "after delete {}",
        labels.list(&query("")).await.unwrap().meta.total
    ));

    let artifacts = &repos.artifacts;
    for _ in 0..3 {
        artifacts
            .create(
                archgen_platform::generated::storage::repository::NewArtifact {
                    name: None,
                    description: None,
                    credits: 0,
                    mime_type: "text/plain".into(),
                    organization_id: ORG,
                    producer_id: None,
                    text: None,
                    url: None,
                    size_bytes: None,
                    checksum: None,
                },
            )
            .await
            .unwrap();
    }
    seen.push(format!(
        "count {}",
        artifacts
            .count_artifacts_by_organization(ORG)
            .await
            .unwrap()
    ));
    seen
}

async fn expected() -> Vec<String> {
    contract(StorageRepositories::in_memory()).await
}

#[tokio::test]
async fn mock_keeps_the_contract() {
    let seen = expected().await;
    assert!(seen.iter().any(|s| s == "exists true false"), "{seen:?}");
    assert!(seen.iter().any(|s| s == "count 3"), "{seen:?}");
}

#[tokio::test]
async fn sqlite_memory_matches_the_mock() {
    let db = rt::testing::sqlite_memory().await;
    db.migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(
        contract(StorageRepositories::new(&db)).await,
        expected().await
    );
}

#[tokio::test]
async fn sqlite_file_matches_the_mock() {
    let dir = tempfile::tempdir().unwrap();
    let db = rt::sql::Db::connect(&format!("sqlite://{}", dir.path().join("c.db").display()))
        .await
        .unwrap();
    db.migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(
        contract(StorageRepositories::new(&db)).await,
        expected().await
    );
}

#[tokio::test]
async fn postgres_matches_the_mock() {
    let Some(pg) = rt::testing::postgres("contract").await else {
        return;
    };
    pg.db
        .migrate(&archgen_platform::generated::MIGRATIONS)
        .await
        .unwrap();
    assert_eq!(
        contract(StorageRepositories::new(&pg.db)).await,
        expected().await
    );
}
