//! Render the model through the templates into an output map: relative path → file text.
//! The map is ordered, so output is deterministic whatever order things were computed in.

pub(crate) mod helpers;
pub(crate) mod literal;
pub(crate) mod rules;
pub(crate) mod security;
pub(crate) mod serde_names;
pub mod templates;
pub(crate) mod types;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::{Environment, context};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Model;

/// Generated files by path relative to the output directory, before formatting.
pub type Output = BTreeMap<PathBuf, String>;

#[derive(Serialize)]
struct MigrationFile {
    version: u32,
    name: String,
    sql: String,
    no_tx: bool,
}

/// Above this many shared types, `common` is split into one file per initial.
const SPLIT_COMMON_AT: usize = 400;

pub fn emit(
    model: &Model,
    migrations: &[crate::migrate::Migration],
    template_dir: Option<&Path>,
) -> Result<Output, Diagnostics> {
    let mut env = Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    helpers::register(&mut env);
    let sources = templates::sources(template_dir).map_err(Diagnostics::from)?;
    for (name, source) in sources {
        env.add_template_owned(name.clone(), source)
            .map_err(|e| Diagnostics::from(template_error(&name, &e)))?;
    }
    let routes = &model.routes;
    let mut out = Output::new();
    let mut files = BTreeMap::new();
    for m in migrations {
        out.insert(crate::migrate::file_path("postgres", m), m.postgres.clone());
        out.insert(crate::migrate::file_path("sqlite", m), m.sqlite.clone());
    }
    let embed = |sql: fn(&crate::migrate::Migration) -> &String,
                 no_tx: fn(&crate::migrate::Migration) -> bool| {
        migrations
            .iter()
            .map(|m| MigrationFile {
                version: m.version,
                name: m.name.clone(),
                sql: sql(m).clone(),
                no_tx: no_tx(m),
            })
            .collect::<Vec<_>>()
    };
    files.insert("postgres", embed(|m| &m.postgres, |_| false));
    files.insert("sqlite", embed(|m| &m.sqlite, |m| m.sqlite_no_tx));
    out.insert(
        crate::migrate::SCHEMA_FILE.into(),
        crate::migrate::schema_text(&crate::migrate::schema_of(model)),
    );
    let migrations = context! { postgres => files["postgres"], sqlite => files["sqlite"] };

    let mut render =
        |template: &str, path: PathBuf, ctx: minijinja::Value| -> Result<(), Diagnostics> {
            let text = env
                .get_template(template)
                .and_then(|t| t.render(ctx))
                .map_err(|e| Diagnostics::from(template_error(template, &e)))?;
            out.insert(path, text);
            Ok(())
        };

    render(
        "root_mod.rs.jinja",
        "mod.rs".into(),
        context! { model, routes },
    )?;
    render(
        "migrations.rs.jinja",
        "migrations.rs".into(),
        context! { migrations, events => model.runtime.events },
    )?;
    if model.common_types.len() > SPLIT_COMMON_AT {
        // rustc and the formatter work on files in parallel; one huge module would serialise
        // both. Grouping by initial keeps a type in the same file as the spec grows.
        let mut groups: BTreeMap<String, Vec<&crate::model::TypeDef>> = BTreeMap::new();
        for t in &model.common_types {
            let initial = t.name.chars().next().unwrap_or('x').to_ascii_lowercase();
            let group = if initial.is_ascii_lowercase() {
                format!("types_{initial}")
            } else {
                "types_other".into()
            };
            groups.entry(group).or_default().push(t);
        }
        let modules: Vec<&String> = groups.keys().collect();
        render(
            "common_mod.rs.jinja",
            "common/mod.rs".into(),
            context! { modules },
        )?;
        for (group, types) in &groups {
            render(
                "common.rs.jinja",
                PathBuf::from("common").join(format!("{group}.rs")),
                context! { types, prelude => "super::super::prelude" },
            )?;
        }
    } else if !model.common_types.is_empty() {
        render(
            "common.rs.jinja",
            "common.rs".into(),
            context! { types => model.common_types, prelude => "super::prelude" },
        )?;
    }
    for domain in &model.domains {
        let dir = PathBuf::from(&domain.name);
        let ctx = || context! { domain };
        render("domain_mod.rs.jinja", dir.join("mod.rs"), ctx())?;
        render("types.rs.jinja", dir.join("types.rs"), ctx())?;
        render("service.rs.jinja", dir.join("service.rs"), ctx())?;
        render("http.rs.jinja", dir.join("http.rs"), ctx())?;
        render("client.rs.jinja", dir.join("client.rs"), ctx())?;
        if !domain.entities.is_empty() {
            render("repository.rs.jinja", dir.join("repository.rs"), ctx())?;
            render("store.rs.jinja", dir.join("store.rs"), ctx())?;
        }
    }
    // A string of megabytes (a large spec) needs no template: one escaped literal.
    out.insert(
        "openapi.rs".into(),
        format!(
            "//! The spec this service was generated from, bundled into one document: what\n//! `/openapi.json` serves.\n\npub const DOCUMENT: &str = {:?};\n",
            model.document
        ),
    );
    Ok(out)
}

/// A template failing to render is a bug in archgen or in a user's override, never in the spec.
fn template_error(name: &str, e: &minijinja::Error) -> Diagnostic {
    let mut detail = format!("template {name} failed: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(&format!(": {s}"));
        source = s.source();
    }
    Diagnostic::error(detail).hint(
        "this is a bug in archgen (or in a --templates override); please report it with the spec",
    )
}
