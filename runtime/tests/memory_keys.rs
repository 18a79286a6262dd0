//! The mock store keeps foreign keys as the databases do: dangling writes are conflicts, and a
//! delete restricts, cascades or clears, all or nothing, and undone by a rolled-back transaction.

use std::sync::Arc;

use archgen_runtime::memory::{ForeignKey, MemoryDb, MemoryTable, OnDelete};
use archgen_runtime::sql::Tx;
use archgen_runtime::{RepoError, RepoResult};
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq)]
struct Row {
    id: u32,
    parent: Option<u32>,
}

fn fields(r: &Row) -> Value {
    json!({"id": r.id, "parent": r.parent})
}

fn table(
    db: &MemoryDb,
    name: &'static str,
    parent: Option<(&'static str, OnDelete)>,
) -> Arc<MemoryTable<Row>> {
    let keys = parent
        .map(|(table, on_delete)| ForeignKey {
            field: "parent",
            table,
            target: "id",
            on_delete,
            clear: Some(|r: &mut Row| r.parent = None),
        })
        .into_iter()
        .collect();
    MemoryTable::new("Row", &[], fields).related(name, db, keys)
}

fn row(id: u32, parent: Option<u32>) -> Row {
    Row { id, parent }
}

fn ids(t: &MemoryTable<Row>) -> Vec<u32> {
    t.snapshot().iter().map(|r| r.id).collect()
}

fn conflict<T: std::fmt::Debug>(result: RepoResult<T>) {
    assert!(
        matches!(result, Err(RepoError::Conflict { .. })),
        "expected a conflict, got {result:?}"
    );
}

#[test]
fn a_key_to_a_missing_row_is_a_conflict() {
    let db = MemoryDb::default();
    let authors = table(&db, "authors", None);
    let books = table(&db, "books", Some(("authors", OnDelete::Cascade)));
    authors.insert(row(1, None)).unwrap();
    books.insert(row(10, Some(1))).unwrap();
    books.insert(row(11, None)).unwrap();
    conflict(books.insert(row(12, Some(2))));
    conflict(books.update(|r| r.id == 11, |r| r.parent = Some(2)));
    assert_eq!(ids(&books), [10, 11]);
}

#[test]
fn deletes_cascade_clear_and_restrict_all_or_nothing() {
    let db = MemoryDb::default();
    let authors = table(&db, "authors", None);
    let books = table(&db, "books", Some(("authors", OnDelete::Cascade)));
    let reviews = table(&db, "reviews", Some(("books", OnDelete::SetNull)));
    let loans = table(&db, "loans", Some(("books", OnDelete::Restrict)));
    authors.insert(row(1, None)).unwrap();
    books.insert(row(10, Some(1))).unwrap();
    books.insert(row(11, Some(1))).unwrap();
    reviews.insert(row(100, Some(10))).unwrap();
    loans.insert(row(1000, Some(11))).unwrap();

    // The loan holds book 11, so deleting the author, which would cascade to it, changes nothing.
    conflict(authors.delete_where(|r| r.id == 1, None));
    assert_eq!((ids(&authors), ids(&books)), (vec![1], vec![10, 11]));
    assert_eq!(reviews.snapshot()[0].parent, Some(10));

    loans.delete_where(|r| r.id == 1000, None).unwrap();
    assert_eq!(authors.delete_where(|r| r.id == 1, None).unwrap(), 1);
    assert!(ids(&books).is_empty(), "books went with their author");
    assert_eq!(
        reviews.snapshot(),
        [row(100, None)],
        "the review outlives its book"
    );
}

#[tokio::test]
async fn a_rolled_back_transaction_restores_every_table_a_cascade_touched() {
    let db = MemoryDb::default();
    let authors = table(&db, "authors", None);
    let books = table(&db, "books", Some(("authors", OnDelete::Cascade)));
    authors.insert(row(1, None)).unwrap();
    books.insert(row(10, Some(1))).unwrap();

    let tx = Tx::memory();
    let log = tx.memory_log().unwrap();
    authors.delete_where(|r| r.id == 1, Some(&log)).unwrap();
    assert!(ids(&books).is_empty());
    drop(log);
    tx.rollback().await.unwrap();
    assert_eq!((ids(&authors), ids(&books)), (vec![1], vec![10]));
}

#[test]
fn a_table_may_refer_to_itself() {
    let db = MemoryDb::default();
    let folders = table(&db, "folders", Some(("folders", OnDelete::Cascade)));
    folders.insert(row(1, None)).unwrap();
    folders.insert(row(2, Some(1))).unwrap();
    folders.insert(row(3, Some(2))).unwrap();
    conflict(folders.insert(row(4, Some(9))));
    folders.delete_where(|r| r.id == 1, None).unwrap();
    assert!(ids(&folders).is_empty(), "the whole subtree goes");
}

#[test]
fn soft_deletes_keep_keys_holding_as_sql_does() {
    let db = MemoryDb::default();
    let authors = MemoryTable::new("Row", &[], fields)
        .soft_deleting(true)
        .related("authors", &db, Vec::new());
    let books = table(&db, "books", Some(("authors", OnDelete::Restrict)));
    authors.insert(row(1, None)).unwrap();
    books.insert(row(10, Some(1))).unwrap();
    // SQL marks the author deleted: no key fires, and the book may still point at it.
    assert_eq!(authors.delete_where(|r| r.id == 1, None).unwrap(), 1);
    assert!(ids(&authors).is_empty(), "invisible to reads");
    books.insert(row(11, Some(1))).unwrap();
    assert_eq!(ids(&books), [10, 11]);
}
