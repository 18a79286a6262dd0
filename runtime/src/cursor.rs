//! Keyset (cursor) pagination. A cursor names the last row of a page by its sort key values and
//! `id`; the next page is "the rows strictly after it" in the list's total order, so rows inserted
//! or deleted meanwhile never shift a page the way they shift an offset.
//!
//! The token is base64url (no padding) of a small JSON document,
//! `{"sort":"-createdAt,name","values":["2024-05-01T10:00:00Z",null],"id":"0190…"}`:
//! the sort it was made for (as `sort` is written in a query string), one value per sort key as
//! the row serialises it, and the row's `id`. It is opaque to clients but not secret, and it is
//! typed on the way in exactly like a filter value, so a forged one can do no more than a filter.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::field::FieldError;
use crate::filter::{FilterNode, FilterValue};
use crate::table::{Column, SortKey, SortOrder, Table};

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// One value per key of the query's `sort`, in the same order; `Null` where the row had none.
    pub values: Vec<FilterValue>,
    /// The last row's `id`, which breaks ties between equal sort keys.
    pub id: FilterValue,
}

/// The token's JSON document.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    sort: String,
    values: Vec<Value>,
    id: Value,
}

/// The field every cursor problem is reported on.
const FIELD: &str = "cursor";

/// Generated tables always have a UUID `id` column; tables written by hand may leave it out.
static ID: Column = Column::uuid("id", "id");

impl Cursor {
    /// Check `token` against the request's `sort` and type its values for `table`.
    pub fn decode(token: &str, sort: &[SortKey], table: &Table) -> Result<Self, FieldError> {
        let malformed = || {
            FieldError::new(
                FIELD,
                "is not a valid cursor; pass `nextCursor` from a previous page unchanged",
            )
        };
        let bytes = base64url_decode(token).ok_or_else(malformed)?;
        let doc: Document = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
        let expected = sort_spec(sort);
        if doc.sort != expected {
            return Err(FieldError::new(
                FIELD,
                format!(
                    "was made for {}, but this request sorts by {}; send the same sort with the cursor",
                    describe_sort(&doc.sort),
                    describe_sort(&expected)
                ),
            ));
        }
        if doc.values.len() != sort.len() {
            return Err(malformed());
        }
        let values = sort
            .iter()
            .zip(&doc.values)
            .map(|(key, raw)| typed(key.column, raw))
            .collect::<Result<Vec<_>, _>>()?;
        let id = typed(id_column(table), &doc.id)?;
        Ok(Self { values, id })
    }

    /// The cursor after `row` (a row as serde serialises it, keyed by API field names), or `None`
    /// when the row lacks a value the cursor needs or has one that would not decode again.
    pub fn encode_row(sort: &[SortKey], row: &Value) -> Option<String> {
        let mut values = Vec::with_capacity(sort.len());
        for key in sort {
            let value = match row.get(key.column.field) {
                Some(v) => v.clone(),
                // `skip_serializing_if = "Option::is_none"` leaves out what is NULL.
                None if key.column.nullable => Value::Null,
                None => return None,
            };
            // Never hand out a cursor that the next request would refuse.
            typed(key.column, &value).ok()?;
            values.push(value);
        }
        let id = row.get("id").filter(|v| v.is_string() || v.is_number())?;
        let doc = json!({ "sort": sort_spec(sort), "values": values, "id": id });
        Some(base64url_encode(doc.to_string().as_bytes()))
    }
}

/// The column the list's final tiebreaker sorts on.
fn id_column(table: &Table) -> &'static Column {
    table
        .columns
        .iter()
        .find(|c| c.column == "id")
        .unwrap_or(&ID)
}

/// A sort as a query string writes it, `-createdAt,name`: the same sort always gives the same
/// text however it was requested (`createdAt:desc`, `sort[0][field]=…`).
pub fn sort_spec(sort: &[SortKey]) -> String {
    sort.iter()
        .map(|k| match k.order {
            SortOrder::Asc => k.column.field.to_string(),
            SortOrder::Desc => format!("-{}", k.column.field),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn describe_sort(spec: &str) -> String {
    if spec.is_empty() {
        "the default order (no `sort`)".into()
    } else {
        format!("`sort={spec}`")
    }
}

/// Type a cursor value the way a filter value for `column` is typed (an `eq` leaf), so a cursor
/// binds exactly like a filter on the same column on every database.
fn typed(column: &'static Column, raw: &Value) -> Result<FilterValue, FieldError> {
    let table = Table {
        entity: "",
        name: "",
        columns: std::slice::from_ref(column),
        unique: &[],
        sortable: &[],
        soft_delete: false,
        default_limit: 1,
        max_limit: 1,
    };
    let leaf = json!({ "type": "eq", "field": column.field, "value": raw });
    let problem = |message: &str| {
        FieldError::new(
            FIELD,
            format!("holds a bad value for `{}`: {message}", column.field),
        )
    };
    match FilterNode::parse(&leaf, &table) {
        Ok(FilterNode::Leaf { value, .. }) => Ok(value),
        Ok(_) => Err(problem("not a single value")),
        Err(errors) => Err(problem(
            errors
                .first()
                .map_or("not a valid value", |e| e.message.as_str()),
        )),
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// RFC 4648 §5 base64url without padding.
pub fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // A chunk of k bytes carries k + 1 significant sextets.
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The inverse of [`base64url_encode`]; `None` for anything it could not have written
/// (padding, other alphabets, impossible lengths, stray low bits).
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let sextet = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32);
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= sextet(c)? << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        // Bits below the last whole byte must be zero, so each token has one spelling.
        if n & ((1 << (8 * (3 - bytes))) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..=bytes]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    static TABLE: Table = Table::new(
        "Label",
        "labels",
        &[
            Column::uuid("id", "id"),
            Column::date_time("createdAt", "created_at"),
            Column::integer("credits", "credits").nullable(),
        ],
    )
    .limits(10, 100);

    fn keys() -> Vec<SortKey> {
        vec![
            SortKey {
                column: &TABLE.columns[1],
                order: SortOrder::Desc,
            },
            SortKey {
                column: &TABLE.columns[2],
                order: SortOrder::Asc,
            },
        ]
    }

    #[test]
    fn base64url_round_trips_every_length() {
        let data: Vec<u8> = (0..=255).collect();
        for n in 0..40 {
            let encoded = base64url_encode(&data[..n]);
            assert!(!encoded.contains('='));
            assert_eq!(base64url_decode(&encoded).as_deref(), Some(&data[..n]));
        }
        assert_eq!(base64url_encode(b"\xfb\xff"), "-_8");
    }

    #[test]
    fn base64url_rejects_what_it_never_writes() {
        for bad in ["A", "AAAAA", "ab=", "a+", "a/", "Zm9v!", "AB"] {
            assert_eq!(base64url_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_serialised_row_round_trips_to_typed_values() {
        let created = chrono::DateTime::parse_from_rfc3339("2024-05-01T10:00:00.123456Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let id = uuid::Uuid::now_v7();
        let row = json!({ "id": id, "createdAt": created, "credits": null });
        let token = Cursor::encode_row(&keys(), &row).unwrap();
        let cursor = Cursor::decode(&token, &keys(), &TABLE).unwrap();
        assert_eq!(
            cursor,
            Cursor {
                values: vec![FilterValue::DateTime(created), FilterValue::Null],
                id: FilterValue::Uuid(id),
            }
        );
    }

    #[test]
    fn rows_that_could_not_be_resumed_get_no_cursor() {
        let id = uuid::Uuid::nil();
        // A non-nullable key left out of the serialised row, and one of the wrong type.
        assert_eq!(
            Cursor::encode_row(&keys(), &json!({ "id": id, "credits": 1 })),
            None
        );
        assert_eq!(
            Cursor::encode_row(&keys(), &json!({ "id": id, "createdAt": "soon" })),
            None
        );
        assert_eq!(
            Cursor::encode_row(&keys(), &json!({ "createdAt": "2024-05-01T10:00:00Z" })),
            None
        );
    }

    #[test]
    fn sort_spec_is_canonical() {
        assert_eq!(sort_spec(&keys()), "-createdAt,credits");
        assert_eq!(sort_spec(&[]), "");
    }
}
