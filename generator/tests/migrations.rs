//! Migrations evolve with the spec: a change becomes a new migration, released ones are never
//! rewritten, data survives on both databases, and unsafe changes stop generation.

use std::path::Path;

use archgen_runtime::sql::{Db, MigrationFile, Migrations};

fn spec(dir: &Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("openapi.yaml");
    std::fs::write(&path, format!("openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n{body}")).unwrap();
    path
}

const V1: &str = r#"    Book:
      x-codegen-schema-type: entity
      type: object
      required: [id, title]
      properties:
        id: {type: string, format: uuid}
        title: {type: string}
        pages: {type: [integer, 'null'], format: int32}
"#;

const V2: &str = r#"    Author:
      x-codegen-schema-type: entity
      type: object
      required: [id, name]
      properties:
        id: {type: string, format: uuid}
        name: {type: string}
    Book:
      x-codegen-schema-type: entity
      x-codegen: {repository: {indices: [title]}}
      type: object
      required: [id, title, pages]
      properties:
        id: {type: string, format: uuid}
        title: {type: string}
        pages: {type: integer, format: int32, default: 1}
        isbn: {type: [string, 'null']}
"#;

/// Versions, hidden timestamps and a tenant-scoped table arrive on a database that holds rows.
fn v3() -> String {
    V2.replace(
        "{repository: {indices: [title]}}",
        "{repository: {indices: [title], optimisticLocking: true, timestamps: true}}",
    ) + r#"    Rack:
      x-codegen-schema-type: entity
      x-codegen: {repository: {tenant: organizationID}}
      type: object
      required: [id, organizationID]
      properties:
        id: {type: string, format: uuid}
        organizationID: {type: string, format: uuid}
"#
}

fn generate(spec: &Path, out: &Path) -> archgen::Generated {
    let generated = archgen::generate_in(spec, None, Some(out)).unwrap_or_else(|d| panic!("{d}"));
    archgen::write::write(out, &generated.files).unwrap();
    generated
}

/// The migrations on disk, as the generated `migrations.rs` embeds them.
fn migrations(out: &Path) -> Migrations {
    let released = archgen::migrate::read_released(out).unwrap();
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let files =
        |pick: fn(&archgen::migrate::Migration) -> (&String, bool)| -> &'static [MigrationFile] {
            let list: Vec<MigrationFile> = released
                .migrations
                .iter()
                .map(|m| {
                    let (sql, no_tx) = pick(m);
                    MigrationFile {
                        version: i64::from(m.version),
                        name: leak(m.name.clone()),
                        sql: leak(sql.clone()),
                        no_tx,
                    }
                })
                .collect();
            Box::leak(list.into_boxed_slice())
        };
    Migrations {
        owned: &[],
        postgres: files(|m| (&m.postgres, false)),
        sqlite: files(|m| (&m.sqlite, m.sqlite_no_tx)),
    }
}

async fn exec(db: &Db, sql: &'static str) {
    match db {
        Db::Postgres(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
        Db::Sqlite(p) => {
            sqlx::query(sql).execute(p).await.unwrap();
        }
    }
}

async fn count(db: &Db, sql: &'static str) -> i64 {
    match db {
        Db::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
    }
}

async fn evolve(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    let path = spec(dir.path(), V1);
    generate(&path, &out);
    db.migrate(&migrations(&out)).await.unwrap();
    exec(db, "INSERT INTO books (id, title, pages) VALUES ('0195a0f2-0000-7000-8000-000000000001', 'Dune', 412)").await;
    exec(
        db,
        "INSERT INTO books (id, title) VALUES ('0195a0f2-0000-7000-8000-000000000002', 'Emma')",
    )
    .await;
    let first = std::fs::read_to_string(out.join("migrations/postgres/0001_init.sql")).unwrap();

    spec(dir.path(), V2);
    let before = archgen::generate_in(&path, None, Some(&out)).unwrap();
    let findings: Vec<String> = archgen::write::check(&out, &before.files)
        .iter()
        .map(|f| f.to_string())
        .collect();
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("missing:") && f.contains("0002_update.sql")),
        "{findings:?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("stale:") && f.contains("schema.toml")),
        "{findings:?}"
    );
    generate(&path, &out);
    assert_eq!(
        std::fs::read_to_string(out.join("migrations/postgres/0001_init.sql")).unwrap(),
        first,
        "released migrations are never rewritten"
    );
    let second = std::fs::read_to_string(out.join("migrations/postgres/0002_update.sql")).unwrap();
    assert!(
        second.contains(r#"CREATE TABLE IF NOT EXISTS "authors""#),
        "{second}"
    );
    assert!(
        second.contains(r#"ALTER TABLE "books" ADD COLUMN "isbn" TEXT;"#),
        "{second}"
    );
    assert!(
        second.contains(r#"SET "pages" = 1 WHERE "pages" IS NULL"#),
        "{second}"
    );

    db.migrate(&migrations(&out)).await.unwrap();
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM books").await,
        2,
        "rows survive"
    );
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM books WHERE pages = 1 AND title = 'Emma'"
        )
        .await,
        1,
        "nulls filled"
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM books WHERE pages = 412").await,
        1
    );
    exec(
        db,
        "INSERT INTO authors (id, name) VALUES ('0195a0f2-0000-7000-8000-000000000003', 'Herbert')",
    )
    .await;

    spec(dir.path(), &v3());
    generate(&path, &out);
    let third = std::fs::read_to_string(out.join("migrations/postgres/0003_update.sql")).unwrap();
    for expected in [
        r#"ALTER TABLE "books" ADD COLUMN "version" BIGINT NOT NULL DEFAULT 1;"#,
        r#"ALTER TABLE "books" ADD COLUMN "created_at" TIMESTAMPTZ NOT NULL DEFAULT '1970-01-01T00:00:00.000000Z';"#,
        r#"CREATE POLICY "racks_tenant" ON "racks""#,
        r#"ALTER TABLE "racks" FORCE ROW LEVEL SECURITY;"#,
    ] {
        assert!(third.contains(expected), "{expected} in {third}");
    }
    db.migrate(&migrations(&out)).await.unwrap();
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM books WHERE version = 1").await,
        2,
        "existing rows start at version 1"
    );
    exec(db, "INSERT INTO racks (id, organization_id) VALUES ('0195a0f2-0000-7000-8000-000000000004', '0195a0f2-0000-7000-8000-000000000005')").await;
    if db.backend() == "postgres" {
        assert_eq!(
            count(
                db,
                "SELECT COUNT(*) FROM pg_policies WHERE tablename = 'racks'"
            )
            .await,
            1
        );
    }

    // Regenerating with no spec change writes no new migration.
    let again = archgen::generate_in(&path, None, Some(&out)).unwrap();
    assert!(archgen::write::check(&out, &again.files).is_empty());
}

#[tokio::test]
async fn data_survives_a_schema_change_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("m.db").display()))
        .await
        .unwrap();
    evolve(&db).await;
}

#[tokio::test]
async fn data_survives_a_schema_change_on_postgres() {
    let Some(pg) = archgen_runtime::testing::postgres("migrations").await else {
        return;
    };
    evolve(&pg.db).await;
}

#[test]
fn unsafe_changes_stop_generation_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    let path = spec(dir.path(), V1);
    generate(&path, &out);
    for (body, expected) in [
        (
            V1.replace(
                "        pages: {type: [integer, 'null'], format: int32}\n",
                "",
            ),
            "column `books.pages` is gone from the spec",
        ),
        (
            V1.replace("format: int32}", "format: int64}"),
            "changes type from INTEGER to BIGINT",
        ),
        (
            V1.replace("required: [id, title]", "required: [id, title, pages]")
                .replace("[integer, 'null']", "integer"),
            "has no default",
        ),
        (
            format!("{V1}        isbn: {{type: string}}\n")
                .replace("required: [id, title]", "required: [id, title, isbn]"),
            "cannot be null and has no default",
        ),
    ] {
        spec(dir.path(), &body);
        let err = archgen::generate_in(&path, None, Some(&out))
            .unwrap_err()
            .to_string();
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(err.contains("hint:"), "{err}");
    }
}

#[test]
fn an_edited_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("generated");
    let path = spec(dir.path(), V1);
    generate(&path, &out);
    let file = out.join("migrations/sqlite/0001_init.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("TEXT NOT NULL", "TEXT")).unwrap();
    let err = archgen::generate_in(&path, None, Some(&out))
        .unwrap_err()
        .to_string();
    assert!(err.contains("was edited by hand"), "{err}");
}
