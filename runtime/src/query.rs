//! Query strings as OpenAPI serialises them: `form` + `explode` for scalars and flat objects
//! (`limit=10&offset=0`), `deepObject` for nested ones (`filter[type]=eq&filter[field]=name`).
//! They are parsed into a JSON tree first, so one code path checks both styles.

use serde_json::{Map, Value};

use crate::cursor::Cursor;
use crate::field::FieldError;
use crate::filter::FilterNode;
use crate::repo::{ListQuery, SortKey, SortOrder, Table};

/// Most parameters one query string may carry; more is abuse, not a real client.
const MAX_PAIRS: usize = 256;
const MAX_SORT_KEYS: usize = 10;
/// Deepest `a[b][c]…` key; a filter tree of the deepest accepted depth fits.
const MAX_KEY_DEPTH: usize = 40;

/// `filter[children][0][field]` as errors spell paths: `filter.children.0.field`.
fn dotted(key: &str) -> String {
    key.replace("][", ".").replace('[', ".").replace(']', "")
}

/// Parse a raw query string into a JSON object, expanding `a[b][0]=v` brackets into nesting.
/// Repeated plain keys (`tag=a&tag=b`) become arrays.
/// Refuse the keys of a query string that are not among `known`: an operation whose
/// parameters are closed would otherwise ignore a misspelt one silently.
pub fn only_keys(raw: &str, known: &[&str]) -> Result<(), Vec<FieldError>> {
    let params = parse_query(raw).map_err(|e| vec![e])?;
    let errors: Vec<FieldError> = params
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| FieldError::new(k.clone(), "is not a parameter of this operation"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

pub fn parse_query(raw: &str) -> Result<Map<String, Value>, FieldError> {
    let mut root = Map::new();
    for (i, (key, value)) in form_urlencoded::parse(raw.as_bytes()).enumerate() {
        if i >= MAX_PAIRS {
            return Err(FieldError::new(
                "query",
                format!("more than {MAX_PAIRS} parameters"),
            ));
        }
        // A key whose brackets do not pair up is a plain name, not a deepObject path: an open
        // object parameter allows any name. A broken `filter[…` is still an error, which
        // would otherwise be ignored and widen the list to every row.
        let path = match split_brackets(&key) {
            Some(path) => path,
            None if key.starts_with("filter[") => {
                return Err(FieldError::new(dotted(&key), "malformed brackets"));
            }
            None => vec![key.to_string()],
        };
        if path.len() > MAX_KEY_DEPTH {
            return Err(FieldError::new(
                dotted(&key),
                format!("nested more than {MAX_KEY_DEPTH} levels deep"),
            ));
        }
        insert(&mut root, &path, Value::String(value.into_owned()))
            .map_err(|msg| FieldError::new(key.to_string(), msg))?;
    }
    Ok(root)
}

fn split_brackets(key: &str) -> Option<Vec<String>> {
    let Some(open) = key.find('[') else {
        return Some(vec![key.to_string()]);
    };
    let mut parts = vec![key[..open].to_string()];
    let mut rest = &key[open..];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        parts.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    Some(parts)
}

fn insert(map: &mut Map<String, Value>, path: &[String], value: Value) -> Result<(), &'static str> {
    let (head, tail) = path.split_first().ok_or("empty key")?;
    if tail.is_empty() {
        match map.get_mut(head) {
            None => {
                map.insert(head.clone(), value);
            }
            Some(Value::Array(items)) => items.push(value),
            Some(existing @ Value::String(_)) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
            Some(_) => return Err("key is used both as a value and an object"),
        }
        return Ok(());
    }
    let child = map
        .entry(head.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    match child {
        Value::Object(inner) => insert(inner, tail, value),
        _ => Err("key is used both as a value and an object"),
    }
}

impl ListQuery {
    /// Check a list request's query string against `table`, collecting every problem at once.
    pub fn from_query(raw: &str, table: &Table) -> Result<Self, Vec<FieldError>> {
        let params = parse_query(raw).map_err(|e| vec![e])?;
        let mut errors = Vec::new();
        let mut query = ListQuery::first(table);

        // `page` is declared as an exploded object, so its members arrive as top-level keys;
        // `page[limit]` is accepted too because clients often send deepObject by habit.
        let page = params.get("page").and_then(Value::as_object);
        let lookup = |name: &str| params.get(name).or_else(|| page.and_then(|p| p.get(name)));
        if let Some(v) = lookup("limit") {
            match scalar(v).and_then(|s| s.parse::<u32>().ok()) {
                Some(n) if (1..=table.max_limit).contains(&n) => query.limit = n,
                _ => errors.push(FieldError::new(
                    "limit",
                    format!("must be an integer from 1 to {}", table.max_limit),
                )),
            }
        }
        if let Some(v) = lookup("offset") {
            match scalar(v).and_then(|s| s.parse::<u64>().ok()) {
                Some(n) if n <= i64::MAX as u64 => query.offset = n,
                _ => errors.push(FieldError::new("offset", "must be a non-negative integer")),
            }
        }
        if let Some(raw_filter) = params.get("filter") {
            let tree = match raw_filter {
                // A whole filter as JSON in one parameter is accepted as well.
                Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                other => other.clone(),
            };
            match FilterNode::parse(&tree, table) {
                Ok(f) => query.filter = Some(f),
                Err(mut e) => errors.append(&mut e),
            }
        }
        let mut sort_ok = true;
        if let Some(raw_sort) = params.get("sort") {
            match parse_sort(raw_sort, table) {
                Ok(keys) => query.sort = keys,
                Err(mut e) => {
                    sort_ok = false;
                    errors.append(&mut e);
                }
            }
        }
        // A cursor is checked against the sort, so a sort that failed is reported alone rather
        // than also as a cursor "for a different sort".
        if let Some(v) = lookup("cursor").filter(|_| sort_ok) {
            match parse_cursor(v, &query, table) {
                Ok(cursor) => query.cursor = cursor,
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(errors)
        }
    }
}

fn scalar(v: &Value) -> Option<&str> {
    v.as_str()
}

/// `cursor=<token>` for a query whose limit, offset and sort are already parsed. An empty token
/// asks for the first page, so clients can send the parameter unconditionally.
fn parse_cursor(v: &Value, query: &ListQuery, table: &Table) -> Result<Option<Cursor>, FieldError> {
    let token = scalar(v).ok_or_else(|| FieldError::new("cursor", "must be a single token"))?;
    if token.is_empty() {
        return Ok(None);
    }
    if query.offset != 0 {
        return Err(FieldError::new(
            "cursor",
            "use either offset or cursor, not both",
        ));
    }
    Cursor::decode(token, &query.sort, table).map(Some)
}

/// Accepts `sort=-createdAt,name`, `sort=createdAt:desc`, and `sort[0][field]=..&sort[0][order]=..`.
fn parse_sort(raw: &Value, table: &Table) -> Result<Vec<SortKey>, Vec<FieldError>> {
    let mut specs: Vec<(String, Option<String>)> = Vec::new();
    match raw {
        Value::String(s) => specs.extend(s.split(',').map(|p| (p.trim().to_string(), None))),
        Value::Array(items) => {
            for item in items {
                if let Some(s) = item.as_str() {
                    specs.extend(s.split(',').map(|p| (p.trim().to_string(), None)));
                }
            }
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by_key(|(k, _)| k.parse::<usize>().unwrap_or(usize::MAX));
            for (_, entry) in entries {
                let field = entry
                    .get("field")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let order = entry
                    .get("order")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                specs.push((field.to_string(), order));
            }
        }
        _ => {}
    }
    let mut errors = Vec::new();
    let mut keys = Vec::new();
    if specs.len() > MAX_SORT_KEYS {
        errors.push(FieldError::new(
            "sort",
            format!("at most {MAX_SORT_KEYS} sort keys"),
        ));
    }
    for (i, (spec, order)) in specs.into_iter().enumerate().take(MAX_SORT_KEYS) {
        if spec.is_empty() {
            continue;
        }
        let (name, mut dir) = match spec.strip_prefix('-') {
            Some(rest) => (rest.to_string(), SortOrder::Desc),
            None => (
                spec.strip_prefix('+').unwrap_or(&spec).to_string(),
                SortOrder::Asc,
            ),
        };
        let (name, suffix) = match name.split_once(':') {
            Some((n, o)) => (n.to_string(), Some(o.to_string())),
            None => (name, order),
        };
        match suffix.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None => {}
            Some("asc") => dir = SortOrder::Asc,
            Some("desc") => dir = SortOrder::Desc,
            Some(other) => errors.push(FieldError::new(
                format!("sort.{i}.order"),
                format!("`{other}` is not asc or desc"),
            )),
        }
        match table.sort_column(&name) {
            // A field twice is a mistake: the second key could never order anything.
            Some(c) if keys.iter().any(|k: &SortKey| k.column.field == c.field) => {
                errors.push(FieldError::new(
                    format!("sort.{i}.field"),
                    format!("`{name}` is sorted on twice"),
                ))
            }
            Some(c) => keys.push(SortKey {
                column: c,
                order: dir,
            }),
            None => errors.push(FieldError::new(
                format!("sort.{i}.field"),
                format!(
                    "cannot sort on `{name}`; sortable fields are {}",
                    table.sortable_names().join(", ")
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(keys)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{FilterValue, Op};

    #[test]
    fn closed_parameters_refuse_unknown_keys_and_name_them() {
        let known = ["page", "limit", "offset"];
        assert!(only_keys("limit=5&offset=10&page[limit]=3", &known).is_ok());
        let errors = only_keys("limit=5&limt=6&x[y]=1", &known).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limt", "x"]);
    }

    #[test]
    fn a_key_with_broken_brackets_is_a_name_unless_it_is_a_filter() {
        let params = parse_query("x[=1&a]b=2").unwrap();
        assert_eq!(params.get("x[").and_then(Value::as_str), Some("1"));
        assert_eq!(params.get("a]b").and_then(Value::as_str), Some("2"));
        let refused = parse_query("filter[status=open").unwrap_err();
        assert_eq!(refused.message, "malformed brackets");
    }
    use crate::repo::{Column, ColumnKind};

    static TABLE: Table = Table {
        entity: "Label",
        name: "labels",
        columns: &[
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

    #[test]
    fn deep_object_filter_and_paging() {
        let q = ListQuery::from_query(
            "limit=5&offset=10&filter[type]=and&filter[children][0][type]=eq&filter[children][0][field]=name&filter[children][0][value]=x&filter[children][1][type]=gt&filter[children][1][field]=credits&filter[children][1][value]=3&sort=-credits",
            &TABLE,
        )
        .unwrap();
        assert_eq!((q.limit, q.offset), (5, 10));
        let Some(FilterNode::And(children)) = q.filter else {
            panic!("expected and")
        };
        assert_eq!(children.len(), 2);
        assert!(matches!(
            &children[1],
            FilterNode::Leaf {
                op: Op::Gt,
                value: FilterValue::Integer(3),
                ..
            }
        ));
        assert_eq!(q.sort[0].order, SortOrder::Desc);
    }

    #[test]
    fn every_problem_is_reported() {
        let errs = ListQuery::from_query(
            "limit=0&filter[type]=contains&filter[field]=credits&filter[value]=1&sort=nope",
            &TABLE,
        )
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "filter.type", "sort.0.field"]);
    }

    #[test]
    fn what_a_spec_would_refuse_is_refused() {
        let long = "x".repeat(crate::filter::MAX_VALUE_CHARS + 1);
        let errs = ListQuery::from_query(
            &format!(
                "sort=name,-name&filter[type]=eq&filter[field]=name&filter[value]={long}&filter[junk]=1"
            ),
            &TABLE,
        )
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["filter.junk", "sort.1.field"], "{errs:?}");
        let errs = ListQuery::from_query(
            &format!("filter[type]=eq&filter[field]=name&filter[value]={long}"),
            &TABLE,
        )
        .unwrap_err();
        assert_eq!(errs[0].field, "filter.value");
    }

    #[test]
    fn over_deep_keys_are_rejected_by_name() {
        let key = format!("filter{}", "[children][0]".repeat(25));
        let errs = ListQuery::from_query(&format!("{key}[field]=name"), &TABLE).unwrap_err();
        assert!(
            errs[0].field.starts_with("filter.children.0.children"),
            "{errs:?}"
        );
        assert!(errs[0].message.contains("nested more than"), "{errs:?}");
    }

    fn token(doc: Value) -> String {
        crate::cursor::base64url_encode(doc.to_string().as_bytes())
    }

    #[test]
    fn cursor_round_trips_through_the_query_string() {
        let id = uuid::Uuid::now_v7();
        let sort = ListQuery::from_query("sort=-credits,name", &TABLE)
            .unwrap()
            .sort;
        let row = serde_json::json!({ "id": id, "credits": 7, "name": "x" });
        let t = Cursor::encode_row(&sort, &row).unwrap();
        let expected = Cursor {
            values: vec![FilterValue::Integer(7), FilterValue::Text("x".into())],
            id: FilterValue::Uuid(id),
        };
        // The same sort spelled differently, and the deepObject spelling of the parameter.
        for raw in [
            format!("sort=-credits,name&cursor={t}"),
            format!("sort=credits:desc,name&page[cursor]={t}&limit=3"),
        ] {
            let q = ListQuery::from_query(&raw, &TABLE).unwrap();
            assert_eq!(q.cursor.as_ref(), Some(&expected), "{raw}");
        }
    }

    #[test]
    fn an_empty_cursor_asks_for_the_first_page() {
        let q = ListQuery::from_query("cursor=&offset=0", &TABLE).unwrap();
        assert_eq!(q.cursor, None);
    }

    #[test]
    fn bad_cursors_are_rejected_on_the_cursor_field() {
        let id = uuid::Uuid::nil();
        let cases = [
            ("cursor=%%%".to_string(), "not a valid cursor"),
            (
                format!("cursor={}", crate::cursor::base64url_encode(b"{no")),
                "not a valid cursor",
            ),
            (
                format!(
                    "cursor={}",
                    token(serde_json::json!({ "sort": "", "values": [], "id": id, "x": 1 }))
                ),
                "not a valid cursor",
            ),
            (
                format!(
                    "sort=-credits&cursor={}",
                    token(serde_json::json!({ "sort": "name", "values": ["x"], "id": id }))
                ),
                "send the same sort",
            ),
            (
                format!(
                    "cursor={}",
                    token(serde_json::json!({ "sort": "name", "values": ["x"], "id": id }))
                ),
                "send the same sort",
            ),
            (
                format!(
                    "sort=credits&cursor={}",
                    token(serde_json::json!({ "sort": "credits", "values": ["seven"], "id": id }))
                ),
                "`seven` is not a valid integer",
            ),
            (
                format!(
                    "sort=credits&cursor={}",
                    token(serde_json::json!({ "sort": "credits", "values": [null], "id": id }))
                ),
                "a value is required",
            ),
            (
                format!(
                    "sort=credits&cursor={}",
                    token(serde_json::json!({ "sort": "credits", "values": [], "id": id }))
                ),
                "not a valid cursor",
            ),
            (
                format!(
                    "cursor={}",
                    token(serde_json::json!({ "sort": "", "values": [], "id": "nope" }))
                ),
                "not a valid UUID",
            ),
            (
                format!(
                    "offset=4&cursor={}",
                    token(serde_json::json!({ "sort": "", "values": [], "id": id }))
                ),
                "use either offset or cursor",
            ),
            ("cursor=a&cursor=b".to_string(), "single token"),
        ];
        for (raw, message) in cases {
            let errs = ListQuery::from_query(&raw, &TABLE).unwrap_err();
            assert_eq!(errs.len(), 1, "{raw}: {errs:?}");
            assert_eq!(errs[0].field, "cursor", "{raw}");
            assert!(errs[0].message.contains(message), "{raw}: {errs:?}");
        }
    }

    #[test]
    fn cursor_errors_are_collected_with_the_others() {
        let errs = ListQuery::from_query("limit=0&cursor=x", &TABLE).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["limit", "cursor"]);
        // A sort that fails is the one problem: the cursor cannot be checked against it.
        let errs = ListQuery::from_query("sort=nope&cursor=x", &TABLE).unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sort.0.field"]);
    }

    #[test]
    fn unknown_filter_field_is_rejected() {
        let errs =
            ListQuery::from_query("filter[field]=password&filter[value]=x", &TABLE).unwrap_err();
        assert_eq!(errs[0].field, "filter.field");
    }
}
