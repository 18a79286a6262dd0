//! Migrations that evolve with the spec. The schema archgen last generated is recorded in
//! `migrations/schema.toml` next to the migrations; on every run the new schema is compared with
//! it, and a difference becomes a *new* numbered migration. Released migrations are never
//! rewritten. A change that cannot be made without losing or guessing data (a dropped or renamed
//! column, a type change) stops generation with an explanation and a hint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::format::{Stamp, read_stamp};
use crate::model::Model;
pub use archgen_sql::{Column, Dialect, ForeignKey, Index, Schema, Table};
use archgen_sql::{
    check_clause, column_def, create_all, create_index, create_table, drop_row_security,
    foreign_key_clause, row_security,
};

/// One migration, in both dialects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Migration {
    pub version: u32,
    pub name: String,
    pub postgres: String,
    pub sqlite: String,
    /// SQLite table rebuilds switch foreign keys off, which only works outside a transaction.
    pub sqlite_no_tx: bool,
}

/// What is already on disk: the recorded schema and the released migrations.
#[derive(Debug, Default)]
pub struct Released {
    pub schema: Option<Schema>,
    pub migrations: Vec<Migration>,
}

pub const SCHEMA_FILE: &str = "migrations/schema.toml";

pub fn schema_of(model: &Model) -> Schema {
    let tables: Vec<Table> = model
        .tables
        .iter()
        .map(|e| Table {
            name: e.table.clone(),
            columns: e
                .fields
                .iter()
                .map(|f| Column {
                    name: f.column.clone(),
                    postgres: f.pg_type.clone(),
                    sqlite: f.sqlite_type.clone(),
                    nullable: f.nullable,
                    primary: f.server_set == Some(crate::model::ServerSet::Id),
                    default: f.sql_default.clone(),
                    values: f.enum_values.clone(),
                })
                // Soft delete keeps its marker out of the API: a column with no field.
                .chain(e.soft_delete.then(|| Column {
                    name: "deleted_at".into(),
                    postgres: "TIMESTAMPTZ".into(),
                    sqlite: "TEXT".into(),
                    nullable: true,
                    primary: false,
                    default: None,
                    values: Vec::new(),
                }))
                .collect(),
            tenant: e.tenant.as_ref().map(|f| f.column.clone()),
            indices: e
                .indices
                .iter()
                .map(|i| Index {
                    name: i.name.clone(),
                    columns: i.columns.clone(),
                    unique: i.unique,
                    condition: i.condition.clone(),
                })
                .collect(),
            foreign_keys: e
                .foreign_keys
                .iter()
                .map(|fk| ForeignKey {
                    column: fk.column.clone(),
                    table: fk.table.clone(),
                    target_column: fk.target_column.clone(),
                    on_delete: fk.on_delete.clone(),
                    on_update: fk.on_update.clone(),
                })
                .collect(),
        })
        .collect();
    Schema { tables }
}

/// Tables the runtime owns and migrates itself (`rt::sql::Owned`: the outbox, the credentials).
/// Schemas recorded before it did may list them; they are no business of the spec's history.
fn owned_by_runtime(table: &Table) -> bool {
    table.name.starts_with("archgen_")
}

/// Read the recorded schema and released migrations under `out`.
pub fn read_released(out: &Path) -> Result<Released, Diagnostics> {
    let mut released = Released::default();
    let schema_path = out.join(SCHEMA_FILE);
    if let Ok(text) = std::fs::read_to_string(&schema_path) {
        let body = released_body(&schema_path, &text)?;
        let schema: Schema = toml::from_str(&body).map_err(|e| {
            Diagnostics::from(Diagnostic::error(format!("{}: {e}", schema_path.display())))
        })?;
        released.schema = Some(schema);
    }
    let mut by_version: BTreeMap<u32, (String, Option<String>, Option<String>)> = BTreeMap::new();
    for dialect in ["postgres", "sqlite"] {
        let dir = out.join("migrations").join(dialect);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let file = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let Some((version, name)) = parse_name(&file) else {
                continue;
            };
            let text = std::fs::read_to_string(&path).map_err(|e| {
                Diagnostics::from(Diagnostic::error(format!("{}: {e}", path.display())))
            })?;
            let body = released_body(&path, &text)?;
            let slot = by_version
                .entry(version)
                .or_insert_with(|| (name.clone(), None, None));
            if dialect == "postgres" {
                slot.1 = Some(body)
            } else {
                slot.2 = Some(body)
            }
        }
    }
    for (version, (name, pg, lite)) in by_version {
        let (Some(postgres), Some(sqlite)) = (pg, lite) else {
            return Err(Diagnostic::error(format!(
                "migration {version:04}_{name} exists for only one database"
            ))
            .hint("restore the missing file from version control")
            .into());
        };
        let sqlite_no_tx = sqlite.contains("PRAGMA foreign_keys = OFF");
        released.migrations.push(Migration {
            version,
            name,
            postgres,
            sqlite,
            sqlite_no_tx,
        });
    }
    if released.schema.is_none() && !released.migrations.is_empty() {
        return Err(Diagnostic::error(format!("{} is missing, but migrations exist", schema_path.display()))
            .hint("restore it from version control: archgen needs it to know what the released migrations created")
            .into());
    }
    Ok(released)
}

/// The body of a released file, which must still carry archgen's intact stamp.
fn released_body(path: &Path, text: &str) -> Result<String, Diagnostics> {
    match read_stamp(text) {
        Stamp::Intact => Ok(text.splitn(3, '\n').nth(2).unwrap_or_default().to_string()),
        Stamp::Edited => Err(Diagnostic::error(format!("released migration file {} was edited by hand", path.display()))
            .hint("restore it from version control; to change the schema, change the spec and a new migration is written")
            .into()),
        Stamp::None => Err(Diagnostic::error(format!("{} was not generated by archgen", path.display()))
            .hint("keep hand-written files out of the generated migrations directory")
            .into()),
    }
}

fn parse_name(file: &str) -> Option<(u32, String)> {
    let stem = file.strip_suffix(".sql")?;
    let (num, name) = stem.split_once('_')?;
    Some((num.parse().ok()?, name.to_string()))
}

pub fn file_path(dialect: &str, m: &Migration) -> PathBuf {
    PathBuf::from(format!(
        "migrations/{dialect}/{:04}_{}.sql",
        m.version, m.name
    ))
}

/// Every migration the output should hold: the released ones, plus one for any difference
/// between the recorded schema and `current`.
pub fn plan(current: &Schema, released: Released) -> Result<Vec<Migration>, Diagnostics> {
    let Some(previous) = released.schema else {
        return Ok(vec![Migration {
            version: 1,
            name: "init".into(),
            postgres: create_all(current, Dialect::Postgres),
            sqlite: create_all(current, Dialect::Sqlite),
            sqlite_no_tx: false,
        }]);
    };
    let mut previous = previous;
    previous.tables.retain(|t| !owned_by_runtime(t));
    let mut migrations = released.migrations;
    if &previous == current {
        return Ok(migrations);
    }
    let change = diff(&previous, current)?;
    if change.postgres.trim().is_empty() && change.sqlite.trim().is_empty() {
        return Ok(migrations);
    }
    let version = migrations.iter().map(|m| m.version).max().unwrap_or(0) + 1;
    migrations.push(Migration {
        version,
        name: change.name,
        postgres: change.postgres,
        sqlite: change.sqlite,
        sqlite_no_tx: change.sqlite_no_tx,
    });
    Ok(migrations)
}

struct Change {
    name: String,
    postgres: String,
    sqlite: String,
    sqlite_no_tx: bool,
}

fn refuse(message: String, hint: &str) -> Diagnostics {
    Diagnostic::error(message).hint(hint.to_string()).into()
}

fn diff(old: &Schema, new: &Schema) -> Result<Change, Diagnostics> {
    let mut errors = Diagnostics::default();
    let (mut pg, mut lite) = (String::new(), String::new());
    let mut names: Vec<String> = Vec::new();
    let mut rebuilds: Vec<String> = Vec::new();
    for t in &old.tables {
        if !new.tables.iter().any(|n| n.name == t.name) {
            errors.extend(refuse(
                format!(
                    "table `{}` is gone from the spec; dropping it would lose its data",
                    t.name
                ),
                "keep the entity in the spec; archgen never drops tables",
            ));
        }
    }
    for t in &new.tables {
        let Some(before) = old.tables.iter().find(|o| o.name == t.name) else {
            pg.push_str(&create_table(t, &t.name, Dialect::Postgres));
            lite.push_str(&create_table(t, &t.name, Dialect::Sqlite));
            for i in &t.indices {
                pg.push_str(&create_index(t, i));
                lite.push_str(&create_index(t, i));
            }
            pg.push_str(&row_security(t));
            names.push(format!("create_{}", t.name));
            continue;
        };
        if before.tenant != t.tenant {
            pg.push_str(&match t.tenant {
                Some(_) => row_security(t),
                None => drop_row_security(t),
            });
            names.push(format!("tenant_{}", t.name));
        }
        let mut rebuild = false;
        for c in &before.columns {
            if !t.columns.iter().any(|n| n.name == c.name) {
                errors.extend(refuse(
                    format!("column `{}.{}` is gone from the spec: a rename or a removal, which would lose its data", t.name, c.name),
                    "keep the field (it may be excluded from create and update), or add the new name as a new field",
                ));
            }
        }
        for c in &t.columns {
            let Some(was) = before.columns.iter().find(|o| o.name == c.name) else {
                if !c.nullable && c.default.is_none() {
                    errors.extend(refuse(
                        format!("new column `{}.{}` cannot be null and has no default, so existing rows have no value for it", t.name, c.name),
                        "make the field nullable, or give it a `default` in the spec",
                    ));
                    continue;
                }
                pg.push_str(&format!(
                    "ALTER TABLE \"{}\" ADD COLUMN {};\n",
                    t.name,
                    column_def(c, Dialect::Postgres)
                ));
                lite.push_str(&format!(
                    "ALTER TABLE \"{}\" ADD COLUMN {};\n",
                    t.name,
                    column_def(c, Dialect::Sqlite)
                ));
                names.push(format!("add_{}_{}", t.name, c.name));
                continue;
            };
            if was.postgres != c.postgres || was.sqlite != c.sqlite || was.primary != c.primary {
                errors.extend(refuse(
                    format!("column `{}.{}` changes type from {} to {}", t.name, c.name, was.postgres, c.postgres),
                    "archgen does not convert data between types; add a new field and keep the old one",
                ));
                continue;
            }
            if was.nullable && !c.nullable {
                let Some(default) = &c.default else {
                    errors.extend(refuse(
                        format!("column `{}.{}` can no longer be null, but has no default for the rows that are", t.name, c.name),
                        "give the field a `default` in the spec, so existing nulls can be filled",
                    ));
                    continue;
                };
                pg.push_str(&format!(
                    "UPDATE \"{0}\" SET \"{1}\" = {default} WHERE \"{1}\" IS NULL;\n",
                    t.name, c.name
                ));
                pg.push_str(&format!(
                    "ALTER TABLE \"{}\" ALTER COLUMN \"{}\" SET NOT NULL;\n",
                    t.name, c.name
                ));
                names.push(format!("require_{}_{}", t.name, c.name));
                rebuild = true;
            } else if !was.nullable && c.nullable {
                pg.push_str(&format!(
                    "ALTER TABLE \"{}\" ALTER COLUMN \"{}\" DROP NOT NULL;\n",
                    t.name, c.name
                ));
                names.push(format!("relax_{}_{}", t.name, c.name));
                rebuild = true;
            }
            if was.default != c.default {
                match &c.default {
                    Some(d) => pg.push_str(&format!(
                        "ALTER TABLE \"{}\" ALTER COLUMN \"{}\" SET DEFAULT {d};\n",
                        t.name, c.name
                    )),
                    None => pg.push_str(&format!(
                        "ALTER TABLE \"{}\" ALTER COLUMN \"{}\" DROP DEFAULT;\n",
                        t.name, c.name
                    )),
                }
                rebuild = true;
            }
            if was.values != c.values {
                let constraint = format!("{}_{}_check", t.name, c.name);
                pg.push_str(&format!(
                    "ALTER TABLE \"{}\" DROP CONSTRAINT IF EXISTS \"{constraint}\";\n",
                    t.name
                ));
                if let Some(check) = check_clause(c) {
                    pg.push_str(&format!(
                        "ALTER TABLE \"{}\" ADD CONSTRAINT \"{constraint}\" {check} NOT VALID;\n",
                        t.name
                    ));
                }
                names.push(format!("values_{}_{}", t.name, c.name));
                rebuild = true;
            }
        }
        if before.foreign_keys != t.foreign_keys {
            for fk in &before.foreign_keys {
                pg.push_str(&format!(
                    "ALTER TABLE \"{}\" DROP CONSTRAINT IF EXISTS \"{}_{}_fkey\";\n",
                    t.name, t.name, fk.column
                ));
            }
            for fk in &t.foreign_keys {
                pg.push_str(&format!(
                    "ALTER TABLE \"{0}\" ADD CONSTRAINT \"{0}_{1}_fkey\" {2};\n",
                    t.name,
                    fk.column,
                    foreign_key_clause(fk)
                ));
            }
            names.push(format!("relations_{}", t.name));
            rebuild = true;
        }
        for i in &before.indices {
            if !t.indices.contains(i) {
                pg.push_str(&format!("DROP INDEX IF EXISTS \"{}\";\n", i.name));
                if !rebuild {
                    lite.push_str(&format!("DROP INDEX IF EXISTS \"{}\";\n", i.name));
                }
                names.push(format!("drop_{}", i.name));
            }
        }
        for i in &t.indices {
            if !before.indices.contains(i) {
                pg.push_str(&create_index(t, i));
                if !rebuild {
                    lite.push_str(&create_index(t, i));
                }
                names.push(format!("index_{}", i.name));
            }
        }
        if rebuild {
            lite.push_str(&sqlite_rebuild(before, t));
            rebuilds.push(t.name.clone());
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    // Fixing existing rows (defaults for new NOT NULL columns) must reach every tenant's rows.
    if old.tables.iter().any(|t| t.tenant.is_some()) && !pg.is_empty() {
        pg.insert_str(
            0,
            "SELECT set_config('archgen.tenant_bypass', 'on', true);\n",
        );
    }
    let sqlite_no_tx = !rebuilds.is_empty();
    if sqlite_no_tx {
        lite = format!(
            "PRAGMA foreign_keys = OFF;\nBEGIN;\n{lite}COMMIT;\nPRAGMA foreign_keys = ON;\n"
        );
    }
    let name = match names.as_slice() {
        [one] => one.clone(),
        _ => "update".to_string(),
    };
    let name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(60)
        .collect();
    Ok(Change {
        name,
        postgres: pg,
        sqlite: lite,
        sqlite_no_tx,
    })
}

/// SQLite cannot alter a column's constraints: the table is rebuilt with its new definition and
/// the rows copied across, filling defaults where a column became required.
fn sqlite_rebuild(before: &Table, after: &Table) -> String {
    let temp = format!("{}__archgen_new", after.name);
    let mut sql = create_table(after, &temp, Dialect::Sqlite);
    let copied: Vec<&Column> = after
        .columns
        .iter()
        .filter(|c| before.columns.iter().any(|b| b.name == c.name))
        .collect();
    let targets: Vec<String> = copied.iter().map(|c| format!("\"{}\"", c.name)).collect();
    let sources: Vec<String> = copied
        .iter()
        .map(|c| match (&c.default, c.nullable) {
            (Some(d), false) => format!("COALESCE(\"{}\", {d})", c.name),
            _ => format!("\"{}\"", c.name),
        })
        .collect();
    sql.push_str(&format!(
        "INSERT INTO \"{temp}\" ({}) SELECT {} FROM \"{}\";\nDROP TABLE \"{}\";\nALTER TABLE \"{temp}\" RENAME TO \"{}\";\n",
        targets.join(", "),
        sources.join(", "),
        after.name,
        after.name,
        after.name
    ));
    for i in &after.indices {
        sql.push_str(&create_index(after, i));
    }
    sql
}

pub fn schema_text(schema: &Schema) -> String {
    format!(
        "# The schema that the migrations in this directory create, recorded so that the next change to\n# the spec becomes a new migration instead of an edit to a released one.\n{}",
        toml::to_string(schema).unwrap_or_default()
    )
}
