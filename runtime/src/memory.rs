//! The store behind generated mock repositories. It applies the same filter, sort, paging and
//! unique-constraint rules as the SQL repositories, so tests written against a mock hold on a
//! real database too.

use std::cmp::Ordering;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use crate::filter::{FilterNode, FilterValue, Op};
use crate::memory_relations::broken_key;
pub use crate::memory_relations::{ForeignKey, MemoryDb, OnDelete, Relational};
pub use crate::memory_repository::{MemoryRepository, record};
use crate::repo::{ListQuery, Page, RepoError, RepoResult, SortOrder};
use crate::sql::MemoryTx;

pub struct MemoryTable<T> {
    entity: &'static str,
    /// Every field of a row by API name, sensitive ones included (serde would skip those), so
    /// uniqueness holds on every field just as in SQL.
    to_fields: fn(&T) -> Value,
    rows: RwLock<Vec<T>>,
    /// Unique keys: (name, API fields whose combined values must be unique), as
    /// [`crate::repo::Table::unique`] lists them.
    unique: &'static [(&'static str, &'static [&'static str])],
    /// The table's name, as keys of other tables name it.
    table: &'static str,
    keys: Vec<ForeignKey<T>>,
    db: MemoryDb,
    /// Soft delete: in SQL the row stays (marked), so keys still find it and nothing cascades.
    soft_delete: bool,
    /// Rows deleted softly, as keys of other tables still see them.
    tombstones: RwLock<Vec<Value>>,
}

impl<T: Clone> MemoryTable<T> {
    pub fn new(
        entity: &'static str,
        unique: &'static [(&'static str, &'static [&'static str])],
        to_fields: fn(&T) -> Value,
    ) -> Self {
        Self {
            entity,
            to_fields,
            rows: RwLock::new(Vec::new()),
            unique,
            table: entity,
            keys: Vec::new(),
            db: MemoryDb::default(),
            soft_delete: false,
            tombstones: RwLock::new(Vec::new()),
        }
    }

    /// Deletes mark rows in SQL rather than removing them: keys to them keep holding, and no
    /// delete restricts, cascades or clears.
    pub fn soft_deleting(mut self, soft: bool) -> Self {
        self.soft_delete = soft;
        self
    }

    /// This table as `table` in `db`, with its foreign keys: writes check them against the
    /// other tables of `db`, and deletes elsewhere restrict, cascade or clear through them.
    pub fn related(
        mut self,
        table: &'static str,
        db: &MemoryDb,
        keys: Vec<ForeignKey<T>>,
    ) -> Arc<Self>
    where
        T: Send + Sync + 'static,
    {
        self.table = table;
        self.keys = keys;
        self.db = db.clone();
        let table = Arc::new(self);
        let shared: Arc<dyn Relational> = table.clone();
        db.register(table.table, &shared);
        table
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<T>> {
        self.rows.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Vec<T>> {
        self.rows.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Every row, for a transaction to restore on rollback.
    pub fn snapshot(&self) -> Vec<T> {
        self.read().clone()
    }

    pub fn restore(&self, rows: Vec<T>) {
        *self.write() = rows;
    }

    pub fn insert(&self, row: T) -> RepoResult<T> {
        self.check_foreign_keys(&row)?;
        let mut rows = self.write();
        self.check_own_keys(&rows, &row)?;
        self.check_unique(&rows, &row, None)?;
        rows.push(row.clone());
        Ok(row)
    }

    pub fn find(&self, pred: impl Fn(&T) -> bool) -> Option<T> {
        self.read().iter().find(|r| pred(r)).cloned()
    }

    pub fn select(&self, pred: impl Fn(&T) -> bool) -> Vec<T> {
        self.read().iter().filter(|r| pred(r)).cloned().collect()
    }

    /// Update the first row matching `pred`; `None` when there is none.
    pub fn update(
        &self,
        pred: impl Fn(&T) -> bool,
        change: impl FnOnce(&mut T),
    ) -> RepoResult<Option<T>> {
        let (index, updated) = {
            let rows = self.read();
            let Some(index) = rows.iter().position(&pred) else {
                return Ok(None);
            };
            let mut updated = rows[index].clone();
            change(&mut updated);
            (index, updated)
        };
        // Other tables are read without this one locked, so two tables that refer to each other
        // cannot wait on each other.
        self.check_foreign_keys(&updated)?;
        let mut rows = self.write();
        if !rows.get(index).is_some_and(&pred) {
            return Ok(None);
        }
        self.check_own_keys(&rows, &updated)?;
        self.check_unique(&rows, &updated, Some(index))?;
        rows[index] = updated.clone();
        Ok(Some(updated))
    }

    /// Delete every row matching `pred`, returning how many went. Rows of other tables that
    /// refer to them restrict, cascade or clear as their keys say; when one restricts, nothing is
    /// deleted anywhere. Inside `tx`, every table it touches is journaled for rollback.
    pub fn delete_where(
        self: &Arc<Self>,
        pred: impl Fn(&T) -> bool,
        tx: Option<&MemoryTx>,
    ) -> RepoResult<u64>
    where
        T: Send + Sync + 'static,
    {
        let statement = MemoryTx::default();
        let journals: Vec<&MemoryTx> = std::iter::once(&statement).chain(tx).collect();
        match self.delete_rows(&pred, &journals) {
            Ok(n) => {
                statement.finish();
                Ok(n)
            }
            Err(e) => {
                statement.undo();
                Err(e)
            }
        }
    }

    fn delete_rows(
        self: &Arc<Self>,
        pred: &dyn Fn(&T) -> bool,
        journals: &[&MemoryTx],
    ) -> RepoResult<u64>
    where
        T: Send + Sync + 'static,
    {
        let doomed: Vec<Value> = self
            .read()
            .iter()
            .filter(|r| pred(r))
            .map(self.to_fields)
            .collect();
        if doomed.is_empty() {
            return Ok(0);
        }
        if self.soft_delete {
            for journal in journals {
                Arc::clone(self).journal(journal)?;
            }
            self.tombstones
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .extend(doomed);
            let mut rows = self.write();
            let before = rows.len();
            rows.retain(|r| !pred(r));
            return Ok((before - rows.len()) as u64);
        }
        let mut referrers = Vec::new();
        for other in self.db.all() {
            for (field, target, action) in other.keys_to(self.table) {
                let values: Vec<Value> = doomed
                    .iter()
                    .map(|row| row[target].clone())
                    .filter(|v| !v.is_null())
                    .collect();
                let holds = |v: &Value| other.has(field, v);
                if matches!(
                    action,
                    OnDelete::NoAction | OnDelete::Restrict | OnDelete::SetDefault
                ) && values.iter().any(holds)
                {
                    return Err(broken_key());
                }
                referrers.push((other.clone(), field, values, action));
            }
        }
        for journal in journals {
            Arc::clone(self).journal(journal)?;
        }
        let gone = {
            let mut rows = self.write();
            let before = rows.len();
            rows.retain(|r| !pred(r));
            (before - rows.len()) as u64
        };
        for (other, field, values, action) in referrers {
            if matches!(action, OnDelete::Cascade | OnDelete::SetNull) && !values.is_empty() {
                other.parent_deleted(field, &values, action, journals)?;
            }
        }
        Ok(gone)
    }

    /// Keys into other tables must find their row.
    fn check_foreign_keys(&self, row: &T) -> RepoResult<()> {
        let fields = (self.to_fields)(row);
        for key in self.keys.iter().filter(|k| k.table != self.table) {
            let value = &fields[key.field];
            // A table this store does not hold (another service's) cannot be checked.
            let Some(target) = self.db.get(key.table) else {
                continue;
            };
            if !value.is_null() && !target.has(key.target, value) {
                return Err(broken_key());
            }
        }
        Ok(())
    }

    /// Keys into this same table, checked against the rows already locked.
    fn check_own_keys(&self, rows: &[T], row: &T) -> RepoResult<()> {
        let fields = (self.to_fields)(row);
        for key in self.keys.iter().filter(|k| k.table == self.table) {
            let value = &fields[key.field];
            let found = fields[key.target] == *value
                || rows
                    .iter()
                    .any(|r| (self.to_fields)(r)[key.target] == *value);
            if !value.is_null() && !found {
                return Err(broken_key());
            }
        }
        Ok(())
    }

    pub fn list(&self, query: &ListQuery) -> RepoResult<Page<T>>
    where
        T: serde::Serialize,
    {
        let rows = self.read();
        let mut matching: Vec<(Value, &T)> = rows
            .iter()
            .map(|r| ((self.to_fields)(r), r))
            .filter(|(v, _)| query.filter.as_ref().is_none_or(|f| matches(f, v)))
            .collect();
        matching.sort_by(|(a, _), (b, _)| row_order(&query.sort, a, b));
        let total = matching.len() as u64;
        let start = query.cursor.as_ref().map(|c| cursor_row(&query.sort, c));
        let data = matching
            .into_iter()
            .filter(|(v, _)| {
                start
                    .as_ref()
                    .is_none_or(|s| row_order(&query.sort, v, s) == Ordering::Greater)
            })
            .skip(usize::try_from(query.offset).unwrap_or(usize::MAX))
            .take(query.limit as usize)
            .map(|(_, r)| r.clone())
            .collect();
        Ok(Page::new(data, total).with_next_cursor(query))
    }

    fn check_unique(&self, rows: &[T], row: &T, skip: Option<usize>) -> RepoResult<()> {
        let candidate = (self.to_fields)(row);
        for (_, fields) in self.unique {
            // As in SQL, a NULL never conflicts.
            if fields.iter().any(|f| candidate[*f].is_null()) {
                continue;
            }
            let clash = rows
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != skip)
                .any(|(_, other)| {
                    let other = (self.to_fields)(other);
                    fields.iter().all(|f| other[*f] == candidate[*f])
                });
            if clash {
                let constraint = fields.join(", ");
                return Err(RepoError::Conflict {
                    message: format!(
                        "{} with the same {constraint} already exists",
                        crate::repo::article(self.entity)
                    ),
                    constraint: Some(constraint),
                });
            }
        }
        Ok(())
    }
}

impl<T: Clone + Send + Sync + 'static> Relational for MemoryTable<T> {
    fn has(&self, field: &str, value: &Value) -> bool {
        self.read()
            .iter()
            .any(|r| (self.to_fields)(r)[field] == *value)
            || self
                .tombstones
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .any(|r| r[field] == *value)
    }

    fn keys_to(&self, table: &str) -> Vec<(&'static str, &'static str, OnDelete)> {
        self.keys
            .iter()
            .filter(|k| k.table == table)
            .map(|k| (k.field, k.target, k.on_delete))
            .collect()
    }

    fn journal(self: Arc<Self>, tx: &MemoryTx) -> RepoResult<()> {
        crate::sql::journal(&self, Some(tx))
    }

    fn parent_deleted(
        self: Arc<Self>,
        field: &'static str,
        values: &[Value],
        action: OnDelete,
        journals: &[&MemoryTx],
    ) -> RepoResult<()> {
        let orphan = |r: &T| values.contains(&(self.to_fields)(r)[field]);
        if action == OnDelete::Cascade {
            return self.delete_rows(&orphan, journals).map(|_| ());
        }
        let clear = self
            .keys
            .iter()
            .find(|k| k.field == field)
            .and_then(|k| k.clear)
            .ok_or_else(|| {
                RepoError::Invalid(vec![crate::error::FieldError::new(field, "cannot be null")])
            })?;
        for journal in journals {
            Arc::clone(&self).journal(journal)?;
        }
        let mut rows = self.write();
        for row in rows.iter_mut().filter(|r| orphan(r)) {
            clear(row);
        }
        Ok(())
    }
}

fn matches(node: &FilterNode, row: &Value) -> bool {
    match node {
        FilterNode::And(children) => children.iter().all(|c| matches(c, row)),
        FilterNode::Or(children) => children.iter().any(|c| matches(c, row)),
        FilterNode::Leaf { column, op, value } => {
            let actual = &row[column.field];
            if *value == FilterValue::Null {
                return if *op == Op::Ne {
                    !actual.is_null()
                } else {
                    actual.is_null()
                };
            }
            if actual.is_null() {
                // SQL: comparisons with NULL are unknown, except our `ne`, which includes NULLs.
                return *op == Op::Ne;
            }
            let expected = to_json(value);
            let ord = compare(actual, &expected);
            match op {
                Op::Eq => ord == Ordering::Equal,
                Op::Ne => ord != Ordering::Equal,
                Op::Gt => ord == Ordering::Greater,
                Op::Gte => ord != Ordering::Less,
                Op::Lt => ord == Ordering::Less,
                Op::Lte => ord != Ordering::Greater,
                Op::Contains | Op::StartsWith | Op::EndsWith => {
                    let (Some(a), Some(e)) = (actual.as_str(), expected.as_str()) else {
                        return false;
                    };
                    match op {
                        Op::Contains => a.contains(e),
                        Op::StartsWith => a.starts_with(e),
                        _ => a.ends_with(e),
                    }
                }
            }
        }
    }
}

fn to_json(v: &FilterValue) -> Value {
    match v {
        FilterValue::Null => Value::Null,
        FilterValue::Text(s) => Value::String(s.clone()),
        FilterValue::Uuid(u) => Value::String(u.to_string()),
        FilterValue::Integer(i) => Value::from(*i),
        FilterValue::Float(f) => Value::from(*f),
        FilterValue::Boolean(b) => Value::Bool(*b),
        FilterValue::DateTime(t) => serde_json::to_value(t).unwrap_or(Value::Null),
        FilterValue::Date(d) => Value::String(d.format("%F").to_string()),
    }
}

/// The list's total order, as its ORDER BY: each sort key, then `id`.
fn row_order(sort: &[crate::repo::SortKey], a: &Value, b: &Value) -> Ordering {
    sort.iter()
        .map(|key| compare_nulls_last(&a[key.column.field], &b[key.column.field], key.order))
        .find(|ord| *ord != Ordering::Equal)
        .unwrap_or_else(|| compare(&a["id"], &b["id"]))
}

/// The cursor as a row holding only the fields the order reads, to compare rows against.
fn cursor_row(sort: &[crate::repo::SortKey], cursor: &crate::cursor::Cursor) -> Value {
    let mut row = serde_json::Map::new();
    for (key, value) in sort.iter().zip(&cursor.values) {
        row.insert(key.column.field.to_string(), to_json(value));
    }
    row.insert("id".into(), to_json(&cursor.id));
    Value::Object(row)
}

fn compare_nulls_last(a: &Value, b: &Value, order: SortOrder) -> Ordering {
    match (a.is_null(), b.is_null(), order) {
        (true, true, _) => Ordering::Equal,
        (true, false, SortOrder::Asc) | (false, true, SortOrder::Desc) => Ordering::Greater,
        (false, true, SortOrder::Asc) | (true, false, SortOrder::Desc) => Ordering::Less,
        (false, false, SortOrder::Asc) => compare(a, b),
        (false, false, SortOrder::Desc) => compare(b, a),
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .partial_cmp(&y.as_f64().unwrap_or(0.0))
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => {
            // Timestamps serialise with varying fraction digits; compare them as times.
            match (
                x.parse::<chrono::DateTime<chrono::Utc>>(),
                y.parse::<chrono::DateTime<chrono::Utc>>(),
            ) {
                (Ok(t1), Ok(t2)) => t1.cmp(&t2),
                _ => x.cmp(y),
            }
        }
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::{Column, ColumnKind, ListQuery, SortKey, Table};

    #[derive(Debug, Clone, serde::Serialize)]
    struct Key {
        id: String,
        #[serde(skip_serializing)]
        secret: String,
        uses: Option<i64>,
    }

    fn fields(k: &Key) -> Value {
        serde_json::json!({"id": k.id, "secret": k.secret, "uses": k.uses})
    }

    static TABLE: Table = Table {
        entity: "Key",
        name: "keys",
        columns: &[Column {
            field: "uses",
            column: "uses",
            kind: ColumnKind::Integer,
            nullable: true,
            hidden: false,
            integers: &[],
        }],
        unique: &[],
        sortable: &[],
        soft_delete: false,
        default_limit: 10,
        max_limit: 100,
    };

    fn key(id: &str, secret: &str, uses: Option<i64>) -> Key {
        Key {
            id: id.into(),
            secret: secret.into(),
            uses,
        }
    }

    #[test]
    fn unique_holds_on_fields_serde_skips() {
        let table = MemoryTable::new("Key", &[("secret", &["secret"])], fields);
        table.insert(key("a", "s1", None)).unwrap();
        let err = table.insert(key("b", "s1", None)).unwrap_err();
        assert!(matches!(err, RepoError::Conflict { .. }));
        table.insert(key("c", "s2", None)).unwrap();
    }

    #[test]
    fn sorts_nulls_last_ascending_like_sql() {
        let table = MemoryTable::new("Key", &[], fields);
        for (id, uses) in [("a", Some(2)), ("b", None), ("c", Some(1))] {
            table.insert(key(id, id, uses)).unwrap();
        }
        let mut q = ListQuery::first(&TABLE);
        q.sort = vec![SortKey {
            column: &TABLE.columns[0],
            order: SortOrder::Asc,
        }];
        let ids: Vec<String> = table
            .list(&q)
            .unwrap()
            .data
            .into_iter()
            .map(|k| k.id)
            .collect();
        assert_eq!(ids, ["c", "a", "b"]);
    }

    #[derive(Debug, Clone, serde::Serialize)]
    struct Item {
        id: String,
        group: String,
        score: Option<i64>,
        at: chrono::DateTime<chrono::Utc>,
    }

    static ITEMS: Table = Table {
        entity: "Item",
        name: "items",
        columns: &[
            Column {
                field: "id",
                column: "id",
                kind: ColumnKind::Text,
                nullable: false,
                hidden: false,
                integers: &[],
            },
            Column {
                field: "group",
                column: "group",
                kind: ColumnKind::Text,
                nullable: false,
                hidden: false,
                integers: &[],
            },
            Column {
                field: "score",
                column: "score",
                kind: ColumnKind::Integer,
                nullable: true,
                hidden: false,
                integers: &[],
            },
            Column {
                field: "at",
                column: "at",
                kind: ColumnKind::DateTime,
                nullable: false,
                hidden: false,
                integers: &[],
            },
        ],
        unique: &[],
        sortable: &[],
        soft_delete: false,
        default_limit: 10,
        max_limit: 100,
    };

    /// 25 rows inserted out of id order, with repeated groups, scores and times, and NULL scores.
    fn items() -> MemoryTable<Item> {
        let table = MemoryTable::new("Item", &[], |r: &Item| {
            serde_json::to_value(r).unwrap_or_default()
        });
        let base = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        for i in 0..25i64 {
            table
                .insert(Item {
                    id: format!("r{:02}", (i * 7) % 25),
                    group: ["b", "a", "_c", "B"][(i % 4) as usize].into(),
                    score: (i % 3 != 0).then_some(i % 5),
                    // Whole seconds and fractions, which serialise with different digit counts.
                    at: base + chrono::Duration::microseconds((i % 6) * 250_000),
                })
                .unwrap();
        }
        table
    }

    fn ids(page: &Page<Item>) -> Vec<String> {
        page.data.iter().map(|r| r.id.clone()).collect()
    }

    /// Follow `nextCursor` from the first page to the last, as a client would.
    fn walk(table: &MemoryTable<Item>, params: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        for _ in 0..30 {
            let raw = format!("limit=4&{params}&cursor={cursor}");
            let query = ListQuery::from_query(&raw, &ITEMS).unwrap();
            let page = table.list(&query).unwrap();
            seen.extend(ids(&page));
            match page.meta.next_cursor {
                Some(next) => cursor = next,
                None => return seen,
            }
        }
        panic!("{params}: the walk never ended");
    }

    #[test]
    fn cursor_walk_matches_offset_listing() {
        let table = items();
        for params in [
            "sort=",
            "sort=score",
            "sort=-score",
            "sort=group",
            "sort=-at",
            "sort=group,-score",
            "sort=-score,at",
            "sort=at,-group,score",
            "sort=-id",
            // 24 rows: the last page is full, so one more (empty) page ends the walk.
            "sort=score&filter[type]=ne&filter[field]=id&filter[value]=r03",
        ] {
            let all = ListQuery::from_query(&format!("limit=100&{params}"), &ITEMS).unwrap();
            let expected = ids(&table.list(&all).unwrap());
            assert_eq!(walk(&table, params), expected, "{params}");
        }
    }

    #[test]
    fn a_cursor_page_keeps_the_filtered_total() {
        let table = items();
        let first = ListQuery::from_query("limit=4&sort=-score", &ITEMS).unwrap();
        let page = table.list(&first).unwrap();
        let cursor = page.meta.next_cursor.unwrap();
        let next =
            ListQuery::from_query(&format!("limit=4&sort=-score&cursor={cursor}"), &ITEMS).unwrap();
        let page = table.list(&next).unwrap();
        assert_eq!((page.data.len(), page.meta.total), (4, 25));
    }
}
