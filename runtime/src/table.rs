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
    /// Stored but never filtered, sorted on or answered: a sensitive or hidden field, which
    /// either would leak bit by bit.
    pub hidden: bool,
    /// An integer enum's values: a filter may compare only with these. Empty: any integer.
    pub integers: &'static [i64],
}

/// Constructors, so that a generated table lists one column per line.
impl Column {
    const fn of(field: &'static str, column: &'static str, kind: ColumnKind) -> Self {
        Self {
            field,
            column,
            kind,
            nullable: false,
            hidden: false,
            integers: &[],
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

    /// An integer column holding an integer enum (`rt::int_enum!`'s `VALUES`).
    pub const fn integers(self, values: &'static [i64]) -> Self {
        Self {
            integers: values,
            ..self
        }
    }

    pub const fn hidden(self) -> Self {
        Self {
            hidden: true,
            ..self
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub entity: &'static str,
    pub name: &'static str,
    /// Every stored column, hidden ones included, in the order of `Record::values` and of every
    /// `SELECT`.
    pub columns: &'static [Column],
    /// Unique indices: (index name, API field names), to name the fields of a conflict the same
    /// way on every database.
    pub unique: &'static [(&'static str, &'static [&'static str])],
    /// The fields a list may sort on, as the spec's `sort` parameter declares them; empty means
    /// every column that is neither JSON nor hidden.
    pub sortable: &'static [&'static str],
    /// Rows with a `deleted_at` are deleted: lists skip them.
    pub soft_delete: bool,
    pub default_limit: u32,
    pub max_limit: u32,
}

/// A table is declared as `Table::new(…)` and the options that differ from the defaults.
impl Table {
    pub const fn new(entity: &'static str, name: &'static str, columns: &'static [Column]) -> Self {
        Self {
            entity,
            name,
            columns,
            unique: &[],
            sortable: &[],
            soft_delete: false,
            default_limit: 20,
            max_limit: 100,
        }
    }

    pub const fn unique(self, unique: &'static [(&'static str, &'static [&'static str])]) -> Self {
        Self { unique, ..self }
    }

    pub const fn sortable(self, sortable: &'static [&'static str]) -> Self {
        Self { sortable, ..self }
    }

    pub const fn soft_delete(self) -> Self {
        Self {
            soft_delete: true,
            ..self
        }
    }

    /// The page size of a list that names none, and the largest it may ask for.
    pub const fn limits(self, default_limit: u32, max_limit: u32) -> Self {
        Self {
            default_limit,
            max_limit,
            ..self
        }
    }
}

impl Table {
    /// The column `field`, if filters and sorting may name it.
    pub fn column(&self, field: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.field == field && !c.hidden)
    }

    /// The fields filters and sorting may name.
    pub fn field_names(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .filter(|c| !c.hidden)
            .map(|c| c.field)
            .collect()
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
