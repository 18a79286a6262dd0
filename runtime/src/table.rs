//! The static description of an entity's table that filters, sorting and cursors are checked
//! against. The bottom of the query modules: `filter`, `cursor` and `repo` build on it.

/// How a column's values are stored and compared. Filters are type-checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Text,
    Uuid,
    Integer,
    Float,
    Boolean,
    DateTime,
    Date,
    /// A string enum: only the listed values are accepted in filters.
    Enum(&'static [&'static str]),
    /// Arrays and objects, stored as JSON; not filterable or sortable.
    Json,
}

#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Name in the API (and in filters and sort keys), e.g. `createdAt`.
    pub field: &'static str,
    /// Name in the database, e.g. `created_at`. Never built from input.
    pub column: &'static str,
    pub kind: ColumnKind,
    pub nullable: bool,
}

/// Constructors, so that a generated table lists one column per line.
impl Column {
    const fn of(field: &'static str, column: &'static str, kind: ColumnKind) -> Self {
        Self {
            field,
            column,
            kind,
            nullable: false,
        }
    }

    pub const fn text(field: &'static str, column: &'static str) -> Self {
        Self::of(field, column, ColumnKind::Text)
    }

    pub const fn uuid(field: &'static str, column: &'static str) -> Self {
        Self::of(field, column, ColumnKind::Uuid)
    }

    pub const fn integer(field: &'static str, column: &'static str) -> Self {
        Self::of(field, column, ColumnKind::Integer)
    }

    pub const fn float(field: &'static str, column: &'static str) -> Self {
        Self::of(field, column, ColumnKind::Float)
    }

    pub const fn boolean(field: &'static str, column: &'static str) -> Self {
        Self::of(field, column, ColumnKind::Boolean)
    }

    pub const fn date_time(field: &'static str, column: &'static str) -> Self {
        Self::of(field, column, ColumnKind::DateTime)
    }

    pub const fn date(field: &'static str, column: &'static str) -> Self {
        Self::of(field, column, ColumnKind::Date)
    }

    pub const fn json(field: &'static str, column: &'static str) -> Self {
        Self::of(field, column, ColumnKind::Json)
    }

    /// A string enum of `values`.
    pub const fn one_of(
        field: &'static str,
        column: &'static str,
        values: &'static [&'static str],
    ) -> Self {
        Self::of(field, column, ColumnKind::Enum(values))
    }

    pub const fn nullable(self) -> Self {
        Self {
            nullable: true,
            ..self
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub entity: &'static str,
    pub name: &'static str,
    pub columns: &'static [Column],
    /// Unique indices: (index name, API field names), to name the fields of a conflict the same
    /// way on every database.
    pub unique: &'static [(&'static str, &'static [&'static str])],
    /// The fields a list may sort on, as the spec's `sort` parameter declares them; empty means
    /// every column that is not JSON.
    pub sortable: &'static [&'static str],
    /// Rows with a `deleted_at` are deleted: lists skip them.
    pub soft_delete: bool,
    pub default_limit: u32,
    pub max_limit: u32,
}

impl Table {
    pub fn column(&self, field: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.field == field)
    }

    pub fn field_names(&self) -> Vec<&'static str> {
        self.columns.iter().map(|c| c.field).collect()
    }

    /// The column `field` if a list may sort on it.
    pub fn sort_column(&self, field: &str) -> Option<&'static Column> {
        let declared = self.sortable.is_empty() || self.sortable.contains(&field);
        self.column(field)
            .filter(|c| declared && c.kind != ColumnKind::Json)
    }

    pub fn sortable_names(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .filter(|c| self.sort_column(c.field).is_some())
            .map(|c| c.field)
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub column: &'static Column,
    pub order: SortOrder,
}

impl PartialEq for Column {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field && self.column == other.column
    }
}
impl Eq for Column {}
