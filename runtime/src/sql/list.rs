//! The one query shape built at run time: `SELECT … WHERE <filter> ORDER BY … LIMIT … OFFSET …`.
//! Identifiers come only from the static [`Table`]; every value is a bind parameter.

use std::fmt::Write;

use crate::filter::{FilterNode, FilterValue, Op};
use crate::repo::{Column, ColumnKind, ListQuery, SortOrder, Table};

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
    /// Arguments of the WHERE clause, shared by both statements. The page query binds limit and
    /// offset after them.
    pub args: Vec<FilterValue>,
}

pub fn build_list(
    table: &Table,
    select_columns: &str,
    query: &ListQuery,
    style: Placeholders,
) -> ListSql {
    let mut args = Vec::new();
    let mut where_sql = String::new();
    let mut conditions = Vec::new();
    if table.soft_delete {
        conditions.push("\"deleted_at\" IS NULL".to_string());
    }
    if let Some(filter) = &query.filter {
        conditions.push(condition(filter, style, &mut args));
    }
    if !conditions.is_empty() {
        let _ = write!(where_sql, " WHERE {}", conditions.join(" AND "));
    }
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
    let count = format!("SELECT COUNT(*) FROM \"{}\"{where_sql}", table.name);
    ListSql {
        select,
        count,
        args,
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

fn placeholder(style: Placeholders, n: usize) -> String {
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
