//! How an entity is stored, as generated code declares it ([`Mapping`]), and the statements the
//! generic repository runs for it, rendered here for each dialect when a repository is made.
//! This is the one place that writes repository SQL; identifiers come only from the declaration,
//! values always go through binds.

use super::Placeholders;
use crate::repo::{Column, Table};

/// An entity's table as its repository sees it. Generated code declares one per entity, as a
/// static: `Mapping::new(&TABLE)` and the options the entity has.
#[derive(Debug, Clone, Copy)]
pub struct Mapping {
    /// The columns (their order is that of `Record::values` and of every `SELECT`), unique
    /// keys, soft delete, page sizes.
    pub table: &'static Table,
    /// The columns an update may set, in the order of its `(set, value)` pairs.
    pub updatable: &'static [&'static str],
    /// Set to the time of every update.
    pub updated_at: Option<&'static str>,
    /// Optimistic concurrency: updated to `version + 1` by every write that expects a version.
    pub version: Option<&'static str>,
    /// Every statement is limited to the caller's organization in this column.
    pub tenant: Option<&'static Column>,
    /// Which changes write an event to the outbox, in the transaction of the change.
    pub events: Events,
    /// The spec's additional repository methods.
    pub methods: &'static [Method],
}

impl Mapping {
    pub const fn new(table: &'static Table) -> Self {
        Self {
            table,
            updatable: &[],
            updated_at: None,
            version: None,
            tenant: None,
            events: Events::NONE,
            methods: &[],
        }
    }

    pub const fn updatable(self, updatable: &'static [&'static str]) -> Self {
        Self { updatable, ..self }
    }

    pub const fn updated_at(self, column: &'static str) -> Self {
        Self {
            updated_at: Some(column),
            ..self
        }
    }

    pub const fn version(self, column: &'static str) -> Self {
        Self {
            version: Some(column),
            ..self
        }
    }

    pub const fn tenant(self, column: &'static Column) -> Self {
        Self {
            tenant: Some(column),
            ..self
        }
    }

    pub const fn events(self, events: Events) -> Self {
        Self { events, ..self }
    }

    pub const fn methods(self, methods: &'static [Method]) -> Self {
        Self { methods, ..self }
    }

    /// Every stored column, in the order of `Record::values`.
    pub fn columns(&self) -> impl Iterator<Item = &'static str> {
        self.table.columns.iter().map(|c| c.column)
    }

    /// Every statement a repository of this entity runs, in the dialect of `style`.
    pub fn statements(&self, style: Placeholders) -> Statements {
        Render { m: self, style }.statements()
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Events {
    pub created: bool,
    pub updated: bool,
    pub deleted: bool,
}

impl Events {
    pub const NONE: Self = Self::of(false, false, false);
    pub const ALL: Self = Self::of(true, true, true);

    pub const fn of(created: bool, updated: bool, deleted: bool) -> Self {
        Self {
            created,
            updated,
            deleted,
        }
    }
}

/// An additional repository method (`x-codegen.repository.additionalMethods`): rows whose
/// `columns` equal the arguments, in that order.
#[derive(Debug, Clone, Copy)]
pub struct Method {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub returns: Returns,
}

impl Method {
    pub const fn new(
        name: &'static str,
        columns: &'static [&'static str],
        returns: Returns,
    ) -> Self {
        Self {
            name,
            columns,
            returns,
        }
    }

    pub const fn one(name: &'static str, columns: &'static [&'static str]) -> Self {
        Self::new(name, columns, Returns::Single)
    }

    pub const fn many(name: &'static str, columns: &'static [&'static str]) -> Self {
        Self::new(name, columns, Returns::Multiple)
    }

    pub const fn count(name: &'static str, columns: &'static [&'static str]) -> Self {
        Self::new(name, columns, Returns::Count)
    }

    pub const fn exists(name: &'static str, columns: &'static [&'static str]) -> Self {
        Self::new(name, columns, Returns::Exists)
    }

    pub const fn delete(name: &'static str, columns: &'static [&'static str]) -> Self {
        Self::new(name, columns, Returns::Delete)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// The first row, by id.
    Single,
    /// Every row, by id.
    Multiple,
    Count,
    Exists,
    /// Delete every matching row (soft, where the entity deletes softly).
    Delete,
}

/// Every statement a generic repository runs for an entity, in one dialect. Bind order:
/// - `insert`: every column;
/// - `get`, `exists`: id, then the tenant;
/// - `update`: id, a `(set, value)` pair per updatable column, `updated_at`, then the guard
///   (expected version, tenant);
/// - `delete`: id, the deletion time when soft, then the guard;
/// - `methods[i]`: the method's columns, the deletion time for a soft delete, then the tenant.
#[derive(Debug)]
pub struct Statements {
    pub columns: String,
    pub insert: String,
    pub get: String,
    pub update: String,
    pub delete: String,
    pub exists: String,
    pub methods: Vec<String>,
    /// For each method, the rows it matches: what a cache must forget before a delete.
    pub method_rows: Vec<String>,
}

struct Render<'a> {
    m: &'a Mapping,
    style: Placeholders,
}

impl Render<'_> {
    fn ph(&self, n: usize) -> String {
        super::list::placeholder(self.style, n)
    }

    fn statements(&self) -> Statements {
        let m = self.m;
        let table = m.table.name;
        let cols = self.columns();
        let live = self.live();
        let insert = format!(
            "INSERT INTO \"{table}\" ({cols}) VALUES ({}) RETURNING {cols}",
            (1..=m.table.columns.len())
                .map(|n| self.ph(n))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let get = format!(
            "SELECT {cols} FROM \"{table}\" WHERE \"id\" = {}{live}{}",
            self.ph(1),
            self.scope(2)
        );
        let exists = format!(
            "SELECT EXISTS (SELECT 1 FROM \"{table}\" WHERE \"id\" = {}{live}{})",
            self.ph(1),
            self.scope(2)
        );
        let methods = m.methods.iter().map(|meth| self.method(meth)).collect();
        let method_rows = m
            .methods
            .iter()
            .map(|meth| {
                format!(
                    "SELECT {cols} FROM \"{table}\" WHERE {}{live}{}",
                    self.matching(meth),
                    self.scope(meth.columns.len() + 1)
                )
            })
            .collect();
        Statements {
            insert,
            get,
            update: self.update(),
            delete: self.delete(),
            exists,
            methods,
            method_rows,
            columns: cols,
        }
    }

    fn columns(&self) -> String {
        self.m
            .columns()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// With soft delete, deleted rows are invisible to every statement but the insert.
    fn live(&self) -> &'static str {
        if self.m.table.soft_delete {
            " AND \"deleted_at\" IS NULL"
        } else {
            ""
        }
    }

    fn scope(&self, n: usize) -> String {
        match self.m.tenant {
            Some(t) => format!(" AND \"{}\" = {}", t.column, self.ph(n)),
            None => String::new(),
        }
    }

    /// A write's guard from placeholder `n`: the expected version (NULL: any), then the tenant.
    fn guard(&self, n: usize) -> String {
        match self.m.version {
            Some(v) => format!(
                " AND \"{v}\" = COALESCE({}, \"{v}\"){}",
                self.ph(n),
                self.scope(n + 1)
            ),
            None => self.scope(n),
        }
    }

    fn returning(&self, wanted: bool) -> String {
        if wanted {
            format!(" RETURNING {}", self.columns())
        } else {
            String::new()
        }
    }

    /// Each updatable column changes only when its flag is bound true, so one static statement
    /// serves every combination of fields in a PATCH.
    fn update(&self) -> String {
        let m = self.m;
        let mut sets: Vec<String> = m
            .updatable
            .iter()
            .enumerate()
            .map(|(i, col)| {
                format!(
                    "\"{col}\" = CASE WHEN {} THEN {} ELSE \"{col}\" END",
                    self.ph(2 + 2 * i),
                    self.ph(3 + 2 * i)
                )
            })
            .collect();
        let mut next = 2 + 2 * m.updatable.len();
        if let Some(col) = m.updated_at {
            sets.push(format!("\"{col}\" = {}", self.ph(next)));
            next += 1;
        }
        if let Some(v) = m.version {
            sets.push(format!("\"{v}\" = \"{v}\" + 1"));
        }
        if sets.is_empty() {
            sets.push("\"id\" = \"id\"".into());
        }
        format!(
            "UPDATE \"{}\" SET {} WHERE \"id\" = {}{}{}{}",
            m.table.name,
            sets.join(", "),
            self.ph(1),
            self.live(),
            self.guard(next),
            self.returning(true)
        )
    }

    fn delete(&self) -> String {
        let m = self.m;
        let returning = self.returning(m.events.deleted);
        if m.table.soft_delete {
            format!(
                "UPDATE \"{}\" SET \"deleted_at\" = {} WHERE \"id\" = {}{}{}{returning}",
                m.table.name,
                self.ph(2),
                self.ph(1),
                self.live(),
                self.guard(3)
            )
        } else {
            format!(
                "DELETE FROM \"{}\" WHERE \"id\" = {}{}{returning}",
                m.table.name,
                self.ph(1),
                self.guard(2)
            )
        }
    }

    fn matching(&self, meth: &Method) -> String {
        if meth.columns.is_empty() {
            // A tenant's method may filter on nothing but the caller's organization.
            return "1 = 1".into();
        }
        meth.columns
            .iter()
            .enumerate()
            .map(|(i, col)| format!("\"{col}\" = {}", self.ph(i + 1)))
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    fn method(&self, meth: &Method) -> String {
        let m = self.m;
        let (table, cols, live) = (m.table.name, self.columns(), self.live());
        let matching = format!("{}{live}", self.matching(meth));
        let n = meth.columns.len();
        match meth.returns {
            Returns::Single => format!(
                "SELECT {cols} FROM \"{table}\" WHERE {matching}{} ORDER BY \"id\" LIMIT 1",
                self.scope(n + 1)
            ),
            Returns::Multiple => format!(
                "SELECT {cols} FROM \"{table}\" WHERE {matching}{} ORDER BY \"id\"",
                self.scope(n + 1)
            ),
            Returns::Count => format!(
                "SELECT COUNT(*) FROM \"{table}\" WHERE {matching}{}",
                self.scope(n + 1)
            ),
            Returns::Exists => format!(
                "SELECT EXISTS (SELECT 1 FROM \"{table}\" WHERE {matching}{})",
                self.scope(n + 1)
            ),
            Returns::Delete if m.table.soft_delete => format!(
                "UPDATE \"{table}\" SET \"deleted_at\" = {} WHERE {matching}{}{}",
                self.ph(n + 1),
                self.scope(n + 2),
                self.returning(m.events.deleted)
            ),
            Returns::Delete => format!(
                "DELETE FROM \"{table}\" WHERE {matching}{}{}",
                self.scope(n + 1),
                self.returning(m.events.deleted)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::{Column, Table};

    static TENANT: Column = Column::uuid("organizationID", "organization_id");
    static TABLE: Table = Table::new(
        "Label",
        "labels",
        &[
            Column::uuid("id", "id"),
            Column::date_time("updatedAt", "updated_at"),
            Column::text("name", "name"),
            Column::uuid("organizationID", "organization_id"),
            Column::integer("version", "version"),
        ],
    )
    .soft_delete();
    static LABELS: Mapping = Mapping::new(&TABLE)
        .updatable(&["name"])
        .updated_at("updated_at")
        .version("version")
        .tenant(&TENANT)
        .events(Events::ALL)
        .methods(&[Method::new("by_name", &["name"], Returns::Delete)]);

    const COLUMNS: &str = r#""id", "updated_at", "name", "organization_id", "version""#;

    /// Every option at once: soft delete, a version guard, a tenant and events (RETURNING).
    #[test]
    fn statements_carry_every_option_in_bind_order() {
        let pg = LABELS.statements(Placeholders::Dollar);
        assert_eq!(
            pg.insert,
            format!(
                r#"INSERT INTO "labels" ({COLUMNS}) VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"#
            )
        );
        assert_eq!(
            pg.get,
            format!(
                r#"SELECT {COLUMNS} FROM "labels" WHERE "id" = $1 AND "deleted_at" IS NULL AND "organization_id" = $2"#
            )
        );
        assert_eq!(
            pg.update,
            format!(
                r#"UPDATE "labels" SET "name" = CASE WHEN $2 THEN $3 ELSE "name" END, "updated_at" = $4, "version" = "version" + 1 WHERE "id" = $1 AND "deleted_at" IS NULL AND "version" = COALESCE($5, "version") AND "organization_id" = $6 RETURNING {COLUMNS}"#
            )
        );
        assert_eq!(
            pg.delete,
            format!(
                r#"UPDATE "labels" SET "deleted_at" = $2 WHERE "id" = $1 AND "deleted_at" IS NULL AND "version" = COALESCE($3, "version") AND "organization_id" = $4 RETURNING {COLUMNS}"#
            )
        );
        assert_eq!(
            pg.methods[0],
            format!(
                r#"UPDATE "labels" SET "deleted_at" = $2 WHERE "name" = $1 AND "deleted_at" IS NULL AND "organization_id" = $3 RETURNING {COLUMNS}"#
            )
        );
        let sqlite = LABELS.statements(Placeholders::Question);
        assert_eq!(
            sqlite.exists,
            r#"SELECT EXISTS (SELECT 1 FROM "labels" WHERE "id" = ?1 AND "deleted_at" IS NULL AND "organization_id" = ?2)"#
        );
        assert_eq!(
            sqlite.method_rows[0],
            format!(
                r#"SELECT {COLUMNS} FROM "labels" WHERE "name" = ?1 AND "deleted_at" IS NULL AND "organization_id" = ?2"#
            )
        );
    }
}
