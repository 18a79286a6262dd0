//! Functions and filters the templates call for the fiddly bits of SQL and naming.

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};
use serde_json::Value as Json;

pub fn register(env: &mut Environment<'_>) {
    env.add_filter("lines", |s: String| doc_lines(&s));
    env.add_filter("oneline", |s: String| one_line(&s));
    env.add_filter("rstr", |s: String| format!("{s:?}"));
    env.add_filter("snake", |s: String| crate::model::names::plain_snake(&s));
    env.add_function("id_field", |e: Value| field_where(e, "id"));
    env.add_function("updated_field", |e: Value| field_where(e, "updated_at"));
    env.add_function("version_field", |e: Value| field_where(e, "version"));
    env.add_function("column_field", column_field);
    env.add_function("cache_key", cache_key);
    env.add_function("serde_names", super::serde_names::serde_names);
}

fn json(v: &Value) -> Result<Json, Error> {
    serde_json::to_value(v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

fn field_where(entity: Value, server_set: &str) -> Result<Value, Error> {
    let fields = entity.get_attr("fields")?;
    for f in fields.try_iter()? {
        if f.get_attr("server_set")?.as_str() == Some(server_set) {
            return Ok(f);
        }
    }
    Err(Error::new(
        ErrorKind::InvalidOperation,
        format!("entity has no {server_set} field"),
    ))
}

/// The API name of the field stored in `column`.
fn column_field(entity: Value, column: String) -> Result<String, Error> {
    let entity = json(&entity)?;
    entity["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["column"] == Json::String(column.clone()))
        .and_then(|f| f["name"].as_str().map(str::to_string))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidOperation,
                format!("no field for column {column}"),
            )
        })
}

/// Text from a spec on one line, for a `//` comment.
pub(crate) fn one_line(s: &str) -> String {
    let lines = doc_lines(s);
    let words: Vec<&str> = lines.iter().flat_map(|l| l.split_whitespace()).collect();
    words.join(" ")
}

/// Text from a spec split into lines that are safe inside `///` comments. Rust ends a line only
/// at `\n` and rejects a bare `\r` in doc comments; specs written on any platform (or pasted from
/// word processors) contain every other line terminator and control character as well.
fn doc_lines(s: &str) -> Vec<String> {
    s.replace("\r\n", "\n")
        .split([
            '\n', '\r', '\u{2028}', '\u{2029}', '\u{85}', '\u{0b}', '\u{0c}',
        ])
        .map(|line| {
            line.chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

/// What fills each placeholder of the cache key in a read, as `rt::cache::Arg`s: the id and the
/// tenant's organization for get-by-id, the params (and the organization) for a method whose
/// params spell the key.
fn cache_key(entity: Value, method: Value) -> Result<String, Error> {
    let entity = json(&entity)?;
    let method = json(&method)?;
    let fields = entity["fields"].as_array().cloned().unwrap_or_default();
    let params: Vec<&str> = method["params"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["ident"].as_str())
        .collect();
    let mut parts = Vec::new();
    for kf in entity["cache"]["key_fields"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (name, ident) = (
            kf[0].as_str().unwrap_or_default(),
            kf[1].as_str().unwrap_or_default(),
        );
        let field = fields.iter().find(|f| f["name"] == kf[0]);
        let arg = match field.and_then(|f| f["server_set"].as_str()) {
            Some("tenant") => "Org".to_string(),
            Some("id") if method.is_null() => "Id".to_string(),
            _ => match params.iter().position(|p| *p == ident) {
                Some(i) => format!("Param({i})"),
                None => {
                    return Err(Error::new(
                        ErrorKind::InvalidOperation,
                        format!("cache key field `{name}` is not an argument of this read"),
                    ));
                }
            },
        };
        parts.push(format!("({name:?}, rt::cache::Arg::{arg})"));
    }
    Ok(format!("&[{}]", parts.join(", ")))
}

impl serde::Serialize for crate::model::Assign {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Assign", 3)?;
        s.serialize_field("field", &self.field)?;
        s.serialize_field("expr", &fill_expr(&self.field, &self.from))?;
        s.serialize_field("absent", &(self.from == crate::model::Fill::Absent))?;
        s.end()
    }
}

/// The expression over `body` that fills `field`.
fn fill_expr(field: &str, fill: &crate::model::Fill) -> String {
    use super::literal;
    use crate::model::Fill;
    match fill {
        Fill::Body => format!("body.{field}"),
        // Literals need no closure (clippy: unnecessary_lazy_evaluations); calls do.
        Fill::BodyOr(Some(d)) if literal::is_constant(d) => {
            format!("body.{field}.unwrap_or({})", literal::rust(d))
        }
        Fill::BodyOr(Some(d)) => format!("body.{field}.unwrap_or_else(|| {})", literal::rust(d)),
        Fill::BodyOr(None) => format!("body.{field}.unwrap_or_default()"),
        Fill::Default {
            default: Some(d),
            nullable: true,
        } => format!("Some({})", literal::rust(d)),
        Fill::Default {
            default: Some(d),
            nullable: false,
        } => literal::rust(d),
        Fill::Default {
            default: None,
            nullable: true,
        } => "None".into(),
        Fill::Default {
            default: None,
            nullable: false,
        } => "Default::default()".into(),
        Fill::Absent => "rt::Patch::Absent".into(),
    }
}
