//! The one query shape built at run time: `SELECT … WHERE <filter> [AND <after cursor>] ORDER BY …
//! LIMIT … OFFSET …`. Identifiers come only from the static [`Table`]; every value is a bind
//! parameter.

use crate::cursor::Cursor;
use crate::filter::{FilterNode, FilterValue, Op};
use crate::repo::{Column, ColumnKind, ListQuery, SortKey, SortOrder, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholders {
    /// `$1`, `$2`, … (Postgres)
    Dollar,
    /// `?1`, `?2`, … (SQLite)
    Question,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListSql {
    pub select: String,
    pub count: String,
    /// Arguments of the page query's WHERE clause; the page query binds limit and offset after
    /// them.
    pub args: Vec<FilterValue>,
    /// How many leading `args` the count binds: the filter's, not the cursor's, so `total` stays
    /// the number of rows matching the filter whichever page is asked for.
    pub count_args: usize,
}

pub fn build_list(
    table: &Table,
    select_columns: &str,
    query: &ListQuery,
    style: Placeholders,
) -> ListSql {
    let mut args = Vec::new();
    let mut conditions = Vec::new();
    if table.soft_delete {
        conditions.push("\"deleted_at\" IS NULL".to_string());
    }
    if let Some(filter) = &query.filter {
        conditions.push(condition(filter, style, &mut args));
    }
    let count_where = where_clause(&conditions);
    let count_args = args.len();
    if let Some(cursor) = &query.cursor {
        conditions.push(after_cursor(&query.sort, cursor, style, &mut args));
    }
    let where_sql = where_clause(&conditions);
    let mut order = Vec::new();
    for key in &query.sort {
        let dir = match key.order {
            SortOrder::Asc => "ASC NULLS LAST",
            SortOrder::Desc => "DESC NULLS FIRST",
        };
        order.push(format!("{} {dir}", collated(key.column, style)));
    }
    // A total order makes offset paging stable: ties are broken by the primary key.
    order.push("\"id\" ASC".to_string());
    let limit = placeholder(style, args.len() + 1);
    let offset = placeholder(style, args.len() + 2);
    let select = format!(
        "SELECT {select_columns} FROM \"{}\"{where_sql} ORDER BY {} LIMIT {limit} OFFSET {offset}",
        table.name,
        order.join(", ")
    );
    let count = format!("SELECT COUNT(*) FROM \"{}\"{count_where}", table.name);
    ListSql {
        select,
        count,
        args,
        count_args,
    }
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// One key of the list's total order as the cursor condition compares it.
struct Key<'a> {
    column: String,
    order: SortOrder,
    nullable: bool,
    value: &'a FilterValue,
}

/// Rows strictly after the cursor in the ORDER BY's total order, written out as
/// `(k1 after) OR (k1 = c1 AND k2 after) OR … OR (k1 = c1 AND … AND id > c_id)`: row-value
/// comparison `(k1, k2) > (c1, c2)` cannot mix directions or place NULLs.
fn after_cursor(
    sort: &[SortKey],
    cursor: &Cursor,
    style: Placeholders,
    args: &mut Vec<FilterValue>,
) -> String {
    let keys = sort
        .iter()
        .zip(&cursor.values)
        .map(|(key, value)| Key {
            column: collated(key.column, style),
            order: key.order,
            nullable: key.column.nullable,
            value,
        })
        .chain(std::iter::once(Key {
            column: "\"id\"".into(),
            order: SortOrder::Asc,
            nullable: false,
            value: &cursor.id,
        }));
    let mut equal_so_far: Vec<String> = Vec::new();
    let mut alternatives = Vec::new();
    for key in keys {
        // Each value is bound once and its placeholder reused by both comparisons.
        let param = (*key.value != FilterValue::Null).then(|| {
            args.push(key.value.clone());
            placeholder(style, args.len())
        });
        if let Some(after) = after_key(&key, param.as_deref()) {
            alternatives.push(if equal_so_far.is_empty() {
                after
            } else {
                format!("({} AND {after})", equal_so_far.join(" AND "))
            });
        }
        equal_so_far.push(match &param {
            Some(p) => format!("{} = {p}", key.column),
            None => format!("{} IS NULL", key.column),
        });
    }
    format!("({})", alternatives.join(" OR "))
}

/// `key` strictly after the cursor's value (`None`: the value is NULL), with NULLs last in
/// ascending order and first in descending order, as the ORDER BY places them. `None` when
/// nothing can follow it.
fn after_key(key: &Key, param: Option<&str>) -> Option<String> {
    let col = &key.column;
    match (key.order, param) {
        (SortOrder::Asc, Some(p)) if key.nullable => {
            Some(format!("({col} > {p} OR {col} IS NULL)"))
        }
        (SortOrder::Asc, Some(p)) => Some(format!("{col} > {p}")),
        // NULLs sort last and are all equal: nothing is after a NULL.
        (SortOrder::Asc, None) => None,
        (SortOrder::Desc, Some(p)) => Some(format!("{col} < {p}")),
        (SortOrder::Desc, None) => Some(format!("{col} IS NOT NULL")),
    }
}

/// Text compares byte by byte on both databases: SQLite's BINARY collation, and on Postgres
/// `COLLATE "C"`, whatever the database's own collation (en_US would sort `_x` before `a`).
fn collated(column: &Column, style: Placeholders) -> String {
    match (column.kind, style) {
        (ColumnKind::Text | ColumnKind::Enum(_), Placeholders::Dollar) => {
            format!("\"{}\" COLLATE \"C\"", column.column)
        }
        _ => format!("\"{}\"", column.column),
    }
}

pub(crate) fn placeholder(style: Placeholders, n: usize) -> String {
    match style {
        Placeholders::Dollar => format!("${n}"),
        Placeholders::Question => format!("?{n}"),
    }
}

fn condition(node: &FilterNode, style: Placeholders, args: &mut Vec<FilterValue>) -> String {
    match node {
        FilterNode::And(children) | FilterNode::Or(children) if children.is_empty() => {
            // An empty AND matches everything, an empty OR nothing, as in logic.
            if matches!(node, FilterNode::And(_)) {
                "1=1".into()
            } else {
                "1=0".into()
            }
        }
        FilterNode::And(children) => group(children, " AND ", style, args),
        FilterNode::Or(children) => group(children, " OR ", style, args),
        FilterNode::Leaf { column, op, value } => {
            let col = collated(column, style);
            if *value == FilterValue::Null {
                return match op {
                    Op::Ne => format!("{col} IS NOT NULL"),
                    _ => format!("{col} IS NULL"),
                };
            }
            args.push(value.clone());
            let p = placeholder(style, args.len());
            // Case-sensitive text matching written with functions both databases share, so
            // contains/startsWith/endsWith behave the same on Postgres and SQLite and need no
            // LIKE escaping.
            match (op, style) {
                (Op::Eq, _) => format!("{col} = {p}"),
                (Op::Ne, _) => format!("({col} <> {p} OR {col} IS NULL)"),
                (Op::Gt, _) => format!("{col} > {p}"),
                (Op::Gte, _) => format!("{col} >= {p}"),
                (Op::Lt, _) => format!("{col} < {p}"),
                (Op::Lte, _) => format!("{col} <= {p}"),
                (Op::Contains, Placeholders::Dollar) => format!("strpos({col}, {p}) > 0"),
                (Op::Contains, Placeholders::Question) => format!("instr({col}, {p}) > 0"),
                (Op::StartsWith, Placeholders::Dollar) => format!("left({col}, length({p})) = {p}"),
                (Op::StartsWith, Placeholders::Question) => {
                    format!("substr({col}, 1, length({p})) = {p}")
                }
                (Op::EndsWith, Placeholders::Dollar) => format!("right({col}, length({p})) = {p}"),
                (Op::EndsWith, Placeholders::Question) => {
                    format!("(length({p}) = 0 OR substr({col}, -length({p})) = {p})")
                }
            }
        }
    }
}

fn group(
    children: &[FilterNode],
    sep: &str,
    style: Placeholders,
    args: &mut Vec<FilterValue>,
) -> String {
    let parts: Vec<String> = children.iter().map(|c| condition(c, style, args)).collect();
    format!("({})", parts.join(sep))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::FilterNode;

    static TABLE: Table = Table {
        entity: "Label",
        name: "labels",
        columns: &[
            Column {
                field: "id",
                column: "id",
                kind: ColumnKind::Uuid,
                nullable: false,
                hidden: false,
                integers: &[],
            },
            Column {
                field: "name",
                column: "name",
                kind: ColumnKind::Text,
                nullable: false,
                hidden: false,
                integers: &[],
            },
            Column {
                field: "credits",
                column: "credits",
                kind: ColumnKind::Integer,
                nullable: true,
                hidden: false,
                integers: &[],
            },
        ],
        unique: &[],
        sortable: &[],
        soft_delete: true,
        default_limit: 10,
        max_limit: 100,
    };

    fn key(i: usize, order: SortOrder) -> SortKey {
        SortKey {
            column: &TABLE.columns[i],
            order,
        }
    }

    fn query(sort: Vec<SortKey>, values: Vec<FilterValue>) -> ListQuery {
        ListQuery {
            sort,
            cursor: Some(Cursor {
                values,
                id: FilterValue::Uuid(uuid::Uuid::nil()),
            }),
            ..ListQuery::first(&TABLE)
        }
    }

    #[test]
    fn without_a_cursor_both_statements_share_every_arg() {
        let sql = build_list(
            &TABLE,
            "\"id\"",
            &ListQuery::first(&TABLE),
            Placeholders::Question,
        );
        assert_eq!(sql.count_args, 0);
        assert_eq!(
            sql.select,
            "SELECT \"id\" FROM \"labels\" WHERE \"deleted_at\" IS NULL ORDER BY \"id\" ASC LIMIT ?1 OFFSET ?2"
        );
    }

    #[test]
    fn one_key_cursor_narrows_the_page_but_not_the_count() {
        let mut q = query(
            vec![key(1, SortOrder::Asc)],
            vec![FilterValue::Text("m".into())],
        );
        q.filter = Some(FilterNode::Leaf {
            column: &TABLE.columns[2],
            op: Op::Gt,
            value: FilterValue::Integer(3),
        });
        let sql = build_list(&TABLE, "\"id\"", &q, Placeholders::Question);
        assert_eq!(
            sql.select,
            "SELECT \"id\" FROM \"labels\" WHERE \"deleted_at\" IS NULL AND \"credits\" > ?1 \
             AND (\"name\" > ?2 OR (\"name\" = ?2 AND \"id\" > ?3)) \
             ORDER BY \"name\" ASC NULLS LAST, \"id\" ASC LIMIT ?4 OFFSET ?5"
        );
        assert_eq!(
            sql.count,
            "SELECT COUNT(*) FROM \"labels\" WHERE \"deleted_at\" IS NULL AND \"credits\" > ?1"
        );
        assert_eq!(sql.count_args, 1);
        assert_eq!(
            sql.args,
            [
                FilterValue::Integer(3),
                FilterValue::Text("m".into()),
                FilterValue::Uuid(uuid::Uuid::nil())
            ]
        );
    }

    #[test]
    fn several_keys_with_a_nullable_desc_key_on_postgres() {
        let sort = || vec![key(2, SortOrder::Desc), key(1, SortOrder::Asc)];
        let name = FilterValue::Text("m".into());
        let sql = build_list(
            &TABLE,
            "\"id\"",
            &query(sort(), vec![FilterValue::Integer(5), name.clone()]),
            Placeholders::Dollar,
        );
        assert_eq!(
            sql.select,
            "SELECT \"id\" FROM \"labels\" WHERE \"deleted_at\" IS NULL AND \
             (\"credits\" < $1 \
             OR (\"credits\" = $1 AND \"name\" COLLATE \"C\" > $2) \
             OR (\"credits\" = $1 AND \"name\" COLLATE \"C\" = $2 AND \"id\" > $3)) \
             ORDER BY \"credits\" DESC NULLS FIRST, \"name\" COLLATE \"C\" ASC NULLS LAST, \"id\" ASC \
             LIMIT $4 OFFSET $5"
        );
        assert_eq!(sql.count_args, 0);

        // A NULL sorts first when descending: every non-NULL row follows it, and the NULL itself
        // is never bound.
        let sql = build_list(
            &TABLE,
            "\"id\"",
            &query(sort(), vec![FilterValue::Null, name]),
            Placeholders::Dollar,
        );
        assert!(
            sql.select.contains(
                "(\"credits\" IS NOT NULL \
                 OR (\"credits\" IS NULL AND \"name\" COLLATE \"C\" > $1) \
                 OR (\"credits\" IS NULL AND \"name\" COLLATE \"C\" = $1 AND \"id\" > $2))"
            ),
            "{}",
            sql.select
        );
        assert_eq!(sql.args.len(), 2);
    }

    #[test]
    fn nullable_asc_key_places_nulls_last() {
        let asc = || vec![key(2, SortOrder::Asc)];
        let sql = build_list(
            &TABLE,
            "\"id\"",
            &query(asc(), vec![FilterValue::Integer(5)]),
            Placeholders::Question,
        );
        assert!(
            sql.select.contains(
                "((\"credits\" > ?1 OR \"credits\" IS NULL) OR (\"credits\" = ?1 AND \"id\" > ?2))"
            ),
            "{}",
            sql.select
        );
        // Nothing sorts after a NULL but another NULL with a greater id.
        let sql = build_list(
            &TABLE,
            "\"id\"",
            &query(asc(), vec![FilterValue::Null]),
            Placeholders::Question,
        );
        assert!(
            sql.select
                .contains("((\"credits\" IS NULL AND \"id\" > ?1)) ORDER BY"),
            "{}",
            sql.select
        );
    }
}
