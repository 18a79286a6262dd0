//! Filter trees (`and`/`or` over leaf comparisons), checked against a table before any SQL exists,
//! so an unknown field or an operator that makes no sense for a column's type is a 4xx.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::field::FieldError;
use crate::table::{Column, ColumnKind, Table};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Contains,
    StartsWith,
    EndsWith,
}

impl Op {
    pub const NAMES: &'static [&'static str] = &[
        "and",
        "or",
        "eq",
        "ne",
        "gt",
        "gte",
        "lt",
        "lte",
        "contains",
        "startsWith",
        "endsWith",
    ];

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "contains" => Op::Contains,
            "startsWith" => Op::StartsWith,
            "endsWith" => Op::EndsWith,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Contains => "contains",
            Op::StartsWith => "startsWith",
            Op::EndsWith => "endsWith",
        }
    }

    pub fn is_text_match(self) -> bool {
        matches!(self, Op::Contains | Op::StartsWith | Op::EndsWith)
    }
}

/// A typed comparison value, ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    Null,
    Text(String),
    Uuid(uuid::Uuid),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterNode {
    And(Vec<FilterNode>),
    Or(Vec<FilterNode>),
    Leaf {
        column: &'static Column,
        op: Op,
        value: FilterValue,
    },
}

/// Deepest filter tree accepted; deeper ones are almost certainly abuse.
const MAX_DEPTH: usize = 16;
/// Most leaves in one filter.
const MAX_NODES: usize = 100;

impl FilterNode {
    /// Check a raw filter (`{type, field, value, children}`) against `table`.
    pub fn parse(raw: &Value, table: &Table) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut count = 0;
        let node = parse_node(raw, table, "filter", 0, &mut count, &mut errors);
        match node {
            Some(n) if errors.is_empty() => Ok(n),
            _ => Err(errors),
        }
    }
}

fn parse_node(
    raw: &Value,
    table: &Table,
    path: &str,
    depth: usize,
    count: &mut usize,
    errors: &mut Vec<FieldError>,
) -> Option<FilterNode> {
    *count += 1;
    if depth > MAX_DEPTH || *count > MAX_NODES {
        errors.push(FieldError::new(path, "filter is too deep or too large"));
        return None;
    }
    let Some(obj) = raw.as_object() else {
        errors.push(FieldError::new(path, "must be an object with `type`"));
        return None;
    };
    // A key the grammar does not know is a mistake (a misspelt `feild` would otherwise widen the
    // filter silently), and the spec's filter schema refuses it too.
    let mut unknown = false;
    for key in obj.keys() {
        if !["type", "field", "value", "children", "conditions"].contains(&key.as_str()) {
            errors.push(FieldError::new(
                format!("{path}.{key}"),
                "unknown key; a filter node has type, field, value and children",
            ));
            unknown = true;
        }
    }
    if unknown {
        return None;
    }
    let kind = obj.get("type").and_then(Value::as_str).unwrap_or("eq");
    if kind == "and" || kind == "or" {
        let children = match obj.get("children").or_else(|| obj.get("conditions")) {
            Some(Value::Array(items)) => items.clone(),
            // deepObject style sends `children[0][...]`, which arrives as an object keyed by index.
            Some(Value::Object(map)) => {
                let mut entries: Vec<(usize, Value)> = Vec::new();
                for (k, v) in map {
                    match k.parse() {
                        Ok(i) => entries.push((i, v.clone())),
                        Err(_) => errors.push(FieldError::new(
                            format!("{path}.children"),
                            "keys must be indices",
                        )),
                    }
                }
                entries.sort_by_key(|(i, _)| *i);
                entries.into_iter().map(|(_, v)| v).collect()
            }
            _ => {
                errors.push(FieldError::new(
                    format!("{path}.children"),
                    "`and`/`or` needs a list of children",
                ));
                return None;
            }
        };
        let nodes: Vec<FilterNode> = children
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                parse_node(
                    c,
                    table,
                    &format!("{path}.children.{i}"),
                    depth + 1,
                    count,
                    errors,
                )
            })
            .collect();
        return Some(if kind == "and" {
            FilterNode::And(nodes)
        } else {
            FilterNode::Or(nodes)
        });
    }
    let Some(op) = Op::parse(kind) else {
        errors.push(FieldError::new(
            format!("{path}.type"),
            format!(
                "unknown operator `{kind}`; expected one of {}",
                Op::NAMES.join(", ")
            ),
        ));
        return None;
    };
    let Some(field) = obj.get("field").and_then(Value::as_str) else {
        errors.push(FieldError::new(format!("{path}.field"), "is required"));
        return None;
    };
    let Some(column) = table.column(field) else {
        errors.push(FieldError::new(
            format!("{path}.field"),
            format!(
                "unknown field `{field}`; filterable fields are {}",
                filterable(table).join(", ")
            ),
        ));
        return None;
    };
    if let Err(msg) = check_op(column, op) {
        // A field that cannot be filtered at all is the field's fault, not the operator's.
        let at = if column.kind == ColumnKind::Json {
            "field"
        } else {
            "type"
        };
        errors.push(FieldError::new(format!("{path}.{at}"), msg));
        return None;
    }
    let raw_value = obj.get("value").unwrap_or(&Value::Null);
    if raw_value
        .as_str()
        .is_some_and(|v| v.chars().count() > MAX_VALUE_CHARS)
    {
        errors.push(FieldError::new(
            format!("{path}.value"),
            format!("must be at most {MAX_VALUE_CHARS} characters"),
        ));
        return None;
    }
    match coerce(column, op, raw_value) {
        Ok(value) => Some(FilterNode::Leaf { column, op, value }),
        Err(msg) => {
            errors.push(FieldError::new(format!("{path}.value"), msg));
            None
        }
    }
}

/// The longest value a filter compares with: longer ones are mistakes or attacks, and a spec's
/// filter schema usually says as much (ours declares `maxLength: 1024`).
pub const MAX_VALUE_CHARS: usize = 1024;

fn filterable(table: &Table) -> Vec<&'static str> {
    table
        .columns
        .iter()
        .filter(|c| c.kind != ColumnKind::Json && !c.hidden)
        .map(|c| c.field)
        .collect()
}

fn check_op(column: &Column, op: Op) -> Result<(), String> {
    let ok = match column.kind {
        ColumnKind::Json => false,
        ColumnKind::Text => true,
        ColumnKind::Boolean | ColumnKind::Uuid | ColumnKind::Enum(_) => {
            matches!(op, Op::Eq | Op::Ne)
        }
        ColumnKind::Integer | ColumnKind::Float | ColumnKind::DateTime | ColumnKind::Date => {
            !op.is_text_match()
        }
    };
    if ok {
        Ok(())
    } else if column.kind == ColumnKind::Json {
        Err(format!("field `{}` cannot be filtered", column.field))
    } else {
        Err(format!(
            "operator `{}` does not apply to field `{}`",
            op.name(),
            column.field
        ))
    }
}

/// Query strings carry every value as text, JSON filters carry typed values: accept both.
fn coerce(column: &Column, op: Op, raw: &Value) -> Result<FilterValue, String> {
    // A query string has no null, so `filter[value]=null` means NULL where the text "null"
    // could never be a value of the column.
    let literal_null = raw.as_str() == Some("null")
        && !matches!(column.kind, ColumnKind::Text | ColumnKind::Enum(_));
    if raw.is_null() || literal_null {
        return if column.nullable && matches!(op, Op::Eq | Op::Ne) {
            Ok(FilterValue::Null)
        } else {
            Err("a value is required".into())
        };
    }
    let text = match raw {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return Err("must be a scalar".into()),
    };
    if text.contains('\0') {
        return Err("must not contain NUL characters".into());
    }
    let bad = |what: &str| format!("`{text}` is not a valid {what}");
    Ok(match column.kind {
        ColumnKind::Text => FilterValue::Text(text),
        ColumnKind::Enum(values) => {
            if !values.contains(&text.as_str()) {
                return Err(format!("must be one of {}", values.join(", ")));
            }
            FilterValue::Text(text)
        }
        ColumnKind::Uuid => FilterValue::Uuid(text.parse().map_err(|_| bad("UUID"))?),
        ColumnKind::Integer => {
            let n: i64 = text.parse().map_err(|_| bad("integer"))?;
            if !column.integers.is_empty() && !column.integers.contains(&n) {
                let values: Vec<String> = column.integers.iter().map(i64::to_string).collect();
                return Err(format!("must be one of {}", values.join(", ")));
            }
            FilterValue::Integer(n)
        }
        ColumnKind::Float => {
            let f: f64 = text.parse().map_err(|_| bad("number"))?;
            if !f.is_finite() {
                return Err(bad("number"));
            }
            FilterValue::Float(f)
        }
        ColumnKind::Boolean => FilterValue::Boolean(text.parse().map_err(|_| bad("boolean"))?),
        ColumnKind::DateTime => FilterValue::DateTime(
            DateTime::parse_from_rfc3339(&text)
                .map_err(|_| bad("RFC 3339 date-time"))?
                .with_timezone(&Utc),
        ),
        ColumnKind::Date => FilterValue::Date(text.parse().map_err(|_| bad("date (YYYY-MM-DD)"))?),
        ColumnKind::Json => return Err("cannot filter on this field".into()),
    })
}
