//! The SQL that archgen and its runtime both write: a schema as data (tables, columns, indices,
//! foreign keys, the tenant column that row-level security checks) and its DDL for Postgres and
//! SQLite. The generator renders a spec's migrations with it; the runtime renders the tables it
//! owns (the outbox, the credentials) with it, so both speak the same dialect.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Schema {
    #[serde(default, rename = "table")]
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    #[serde(rename = "column")]
    pub columns: Vec<Column>,
    #[serde(default, rename = "index")]
    pub indices: Vec<Index>,
    #[serde(default, rename = "foreign_key")]
    pub foreign_keys: Vec<ForeignKey>,
    /// The organization column of a tenant-scoped table, which a row-level-security policy
    /// checks on Postgres.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub postgres: String,
    pub sqlite: String,
    pub nullable: bool,
    #[serde(default)]
    pub primary: bool,
    #[serde(default)]
    pub default: Option<String>,
    /// Allowed values of an enum column (a CHECK constraint).
    #[serde(default)]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    pub column: String,
    pub table: String,
    pub target_column: String,
    pub on_delete: Option<String>,
    pub on_update: Option<String>,
}

/// The two databases archgen writes SQL for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

pub fn column_def(c: &Column, d: Dialect) -> String {
    let ty = if d == Dialect::Postgres {
        &c.postgres
    } else {
        &c.sqlite
    };
    let mut s = format!("\"{}\" {ty}", c.name);
    if c.primary {
        s.push_str(" PRIMARY KEY");
    } else if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if let Some(default) = &c.default {
        s.push_str(&format!(" DEFAULT {default}"));
    }
    if let Some(check) = check_clause(c) {
        s.push(' ');
        s.push_str(&check);
    }
    s
}

/// `CHECK ("status" IN ('a', 'b'))` for an enum column.
pub fn check_clause(c: &Column) -> Option<String> {
    if c.values.is_empty() {
        return None;
    }
    let values: Vec<String> = c
        .values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect();
    Some(format!("CHECK (\"{}\" IN ({}))", c.name, values.join(", ")))
}

/// `FOREIGN KEY ("a") REFERENCES "t" ("id") ON DELETE …`, shared by CREATE and ALTER.
pub fn foreign_key_clause(fk: &ForeignKey) -> String {
    let mut s = format!(
        "FOREIGN KEY (\"{}\") REFERENCES \"{}\" (\"{}\")",
        fk.column, fk.table, fk.target_column
    );
    if let Some(a) = &fk.on_delete {
        s.push_str(&format!(" ON DELETE {a}"));
    }
    if let Some(a) = &fk.on_update {
        s.push_str(&format!(" ON UPDATE {a}"));
    }
    s
}

pub fn create_table(t: &Table, name: &str, d: Dialect) -> String {
    let mut lines: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("    {}", column_def(c, d)))
        .collect();
    lines.extend(
        t.foreign_keys
            .iter()
            .map(|fk| format!("    {}", foreign_key_clause(fk))),
    );
    format!(
        "CREATE TABLE IF NOT EXISTS \"{name}\" (\n{}\n);\n",
        lines.join(",\n")
    )
}

pub fn create_index(t: &Table, i: &Index) -> String {
    let cols: Vec<String> = i.columns.iter().map(|c| format!("\"{c}\"")).collect();
    let unique = if i.unique { "UNIQUE " } else { "" };
    let condition = i
        .condition
        .as_ref()
        .map(|c| format!(" WHERE {c}"))
        .unwrap_or_default();
    format!(
        "CREATE {unique}INDEX IF NOT EXISTS \"{}\" ON \"{}\" ({}){condition};\n",
        i.name,
        t.name,
        cols.join(", ")
    )
}

/// The policy that limits a tenant-scoped table to the organization the repository set for the
/// transaction: a second wall behind the repository's own `WHERE`. `FORCE` subjects the table's
/// owner too, which is usually the role the service connects as. Migrations that must see every
/// row set `archgen.tenant_bypass` for their own transaction.
pub fn row_security(t: &Table) -> String {
    let Some(column) = &t.tenant else {
        return String::new();
    };
    let check = format!(
        "(\"{column}\" = NULLIF(current_setting('archgen.organization_id', true), '')::uuid OR current_setting('archgen.tenant_bypass', true) = 'on')"
    );
    format!(
        "ALTER TABLE \"{0}\" ENABLE ROW LEVEL SECURITY;\nALTER TABLE \"{0}\" FORCE ROW LEVEL SECURITY;\nDROP POLICY IF EXISTS \"{0}_tenant\" ON \"{0}\";\nCREATE POLICY \"{0}_tenant\" ON \"{0}\" USING {check} WITH CHECK {check};\n",
        t.name
    )
}

pub fn drop_row_security(t: &Table) -> String {
    format!(
        "DROP POLICY IF EXISTS \"{0}_tenant\" ON \"{0}\";\nALTER TABLE \"{0}\" NO FORCE ROW LEVEL SECURITY;\nALTER TABLE \"{0}\" DISABLE ROW LEVEL SECURITY;\n",
        t.name
    )
}

pub fn create_all(schema: &Schema, d: Dialect) -> String {
    let mut out = String::new();
    for t in &schema.tables {
        out.push_str(&create_table(t, &t.name, d));
        for i in &t.indices {
            out.push_str(&create_index(t, i));
        }
        if d == Dialect::Postgres {
            out.push_str(&row_security(t));
        }
        out.push('\n');
    }
    out.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        let column = |name: &str, nullable| Column {
            name: name.into(),
            postgres: "TEXT".into(),
            sqlite: "TEXT".into(),
            nullable,
            primary: name == "id",
            default: None,
            values: Vec::new(),
        };
        Table {
            name: "pets".into(),
            columns: vec![
                column("id", false),
                Column {
                    values: vec!["cat".into(), "o'dog".into()],
                    ..column("kind", false)
                },
                column("note", true),
            ],
            indices: vec![Index {
                name: "idx_pets_kind".into(),
                columns: vec!["kind".into()],
                unique: true,
                condition: None,
            }],
            foreign_keys: Vec::new(),
            tenant: Some("kind".into()),
        }
    }

    #[test]
    fn tables_render_quoted_with_checks_and_row_security_on_postgres_only() {
        let t = table();
        let pg = create_all(
            &Schema {
                tables: vec![t.clone()],
            },
            Dialect::Postgres,
        );
        assert!(
            pg.contains("CREATE TABLE IF NOT EXISTS \"pets\" (\n    \"id\" TEXT PRIMARY KEY,"),
            "{pg}"
        );
        assert!(pg.contains("CHECK (\"kind\" IN ('cat', 'o''dog'))"), "{pg}");
        assert!(
            pg.contains(
                "CREATE UNIQUE INDEX IF NOT EXISTS \"idx_pets_kind\" ON \"pets\" (\"kind\");"
            ),
            "{pg}"
        );
        assert!(pg.contains("CREATE POLICY \"pets_tenant\""), "{pg}");
        let lite = create_all(&Schema { tables: vec![t] }, Dialect::Sqlite);
        assert!(!lite.contains("POLICY"), "{lite}");
    }
}
