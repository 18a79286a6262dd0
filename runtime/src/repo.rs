//! What every repository shares: errors, list queries and pages, and the static description of
//! an entity's table that filters and sorting are checked against.

use serde::Serialize;

use crate::cursor::Cursor;
use crate::field::FieldError;
use crate::filter::{FilterNode, FilterValue, Op};
pub use crate::table::{Column, ColumnKind, SortKey, SortOrder, Table};

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{entity} {id} not found")]
    NotFound { entity: &'static str, id: String },
    /// A unique or foreign-key constraint refused the write.
    #[error("{message}")]
    Conflict {
        constraint: Option<String>,
        message: String,
    },
    /// An optimistic-concurrency write named a version the row no longer has.
    #[error("{entity} {id} has changed since version {expected}")]
    Stale {
        entity: &'static str,
        id: String,
        expected: i64,
    },
    /// The request cannot be run as asked (a filter on an unknown field, say).
    #[error("invalid query")]
    Invalid(Vec<FieldError>),
    #[error(transparent)]
    Database(Box<dyn std::error::Error + Send + Sync>),
}

pub type RepoResult<T> = Result<T, RepoError>;

/// A checked list request: every field it names exists on the table.
#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub limit: u32,
    pub offset: u64,
    pub filter: Option<FilterNode>,
    pub sort: Vec<SortKey>,
    /// Start after this row instead of skipping `offset` rows; its values line up with `sort`.
    pub cursor: Option<Cursor>,
}

impl ListQuery {
    /// The same query within one parent of a nested collection: only rows whose `field` holds
    /// `parent` (`/stores/{storeID}/orders` lists the orders whose `storeID` is the path's).
    /// The parent's condition is ANDed with the caller's filter, which cannot widen it.
    pub fn within(
        self,
        table: &Table,
        field: &str,
        parent: uuid::Uuid,
    ) -> Result<Self, crate::ApiError> {
        let column = table
            .columns
            .iter()
            .find(|c| c.field == field)
            .ok_or_else(|| {
                crate::ApiError::internal(format!("{} has no column {field}", table.entity))
            })?;
        Ok(self.scoped_to(column, parent))
    }

    pub fn first(table: &Table) -> Self {
        Self {
            limit: table.default_limit,
            offset: 0,
            filter: None,
            sort: Vec::new(),
            cursor: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageMeta {
    pub total: u64,
    /// Pass as `cursor` (with the same `sort`) for the page after this one; absent on a page
    /// that is not full, since nothing follows it.
    #[serde(rename = "nextCursor", skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A page of results with the exact total of matching rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub meta: PageMeta,
}

impl<T> Page<T> {
    pub fn new(data: Vec<T>, total: u64) -> Self {
        Self {
            data,
            meta: PageMeta {
                total,
                next_cursor: None,
            },
        }
    }
}

impl<T: Serialize> Page<T> {
    /// Set `nextCursor` from the last row when the page is full. Rows are read as serde writes
    /// them (sort keys by API name, and `id`), so the cursor holds what the client saw.
    pub fn with_next_cursor(mut self, query: &ListQuery) -> Self {
        let full = !self.data.is_empty() && self.data.len() == query.limit as usize;
        self.meta.next_cursor = self
            .data
            .last()
            .filter(|_| full)
            .and_then(|last| serde_json::to_value(last).ok())
            .and_then(|row| Cursor::encode_row(&query.sort, &row));
        self
    }
}

/// "a Label", "an Artifact": for messages that name an entity.
pub fn article(noun: &str) -> String {
    let vowel = noun
        .chars()
        .next()
        .is_some_and(|c| "AEIOUaeiou".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

impl ListQuery {
    /// This query limited to the rows whose `column` (a tenant's organization) is `org`: the
    /// caller's filter still applies inside that.
    pub fn scoped_to(&self, column: &'static Column, org: uuid::Uuid) -> Self {
        let scope = FilterNode::Leaf {
            column,
            op: Op::Eq,
            value: FilterValue::Uuid(org),
        };
        let mut scoped = self.clone();
        scoped.filter = Some(match scoped.filter.take() {
            Some(filter) => FilterNode::And(vec![scope, filter]),
            None => scope,
        });
        scoped
    }
}
