//! Entities: component schemas marked `x-codegen-schema-type: entity`, with their table, fields,
//! indices, foreign keys and additional repository methods.

use super::names::{Namespace, field_ident, loose_eq, plain_snake, plural, snake};
use super::schema::{S, SRef};
use super::types::{Storage, Types};
use super::{
    Entity, Field, ForeignKey, Index, Method, MethodCache, MethodParam, Returns, ServerSet,
};
use crate::annotate::{self, Annotator, SchemaAnnotations, Spanned};
use crate::diagnostic::{Diagnostic, Diagnostics, did_you_mean};
use crate::load::{SourceMap, push_pointer};

pub struct EntityInput<'a> {
    pub component: &'a str,
    pub rust_name: String,
    pub domain: String,
    pub annotations: &'a SchemaAnnotations,
}

pub fn lower_entity(
    input: &EntityInput<'_>,
    types: &mut Types<'_>,
    annotator: &mut Annotator<'_>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<Entity> {
    let pointer = format!("/components/schemas/{}", input.component);
    let r = SRef::Ref(input.component.to_string());
    let Some(obj) = types.flatten(&r) else {
        diags.push(
            Diagnostic::error(format!("entity `{}` is not an object", input.component))
                .at(sources.locate(&pointer))
                .hint("an entity needs properties, directly or through allOf"),
        );
        return None;
    };
    let repo = input.annotations.repository.clone().unwrap_or_default();
    let snake_name = plain_snake(&input.rust_name);
    let table = repo
        .table_name
        .clone()
        .unwrap_or_else(|| plural(&snake_name));
    let mut idents = Namespace::default();
    let mut fields = Vec::new();
    let mut extra_indices = Vec::new();
    for (json, prop) in &obj.properties {
        let ty = types.ty(
            prop,
            &format!("{}{}", input.rust_name, super::names::variant(json)),
            Some(&input.domain),
        );
        let required = obj.required.contains(json);
        let resolved = types.resolve(prop).cloned().unwrap_or_default();
        // Field annotations are written on the property itself; a `$ref` target's own
        // `x-codegen` is schema-level and belongs to that schema. `x-sensitive` travels with a type.
        let own = match prop {
            SRef::Inline(s) => Some(&s.extensions),
            SRef::Ref(_) => None,
        };
        let inherited = resolved.extensions.get_key_value("x-sensitive");
        let field_ptr = property_pointer(sources, &pointer, json);
        let ann = annotator.field(own.into_iter().flatten().chain(inherited), &field_ptr);
        let timestamps = repo.timestamps != Some(false);
        let server_set = if loose_eq(json, "id") {
            Some(ServerSet::Id)
        } else if timestamps && loose_eq(json, "createdAt") {
            Some(ServerSet::CreatedAt)
        } else if timestamps && loose_eq(json, "updatedAt") {
            Some(ServerSet::UpdatedAt)
        } else {
            None
        };
        let nullable = server_set.is_none() && (types.nullable(prop) || !required);
        let column = plain_snake(json);
        if ann.unique || ann.index {
            extra_indices.push(Index {
                name: format!("{}_{table}_{column}", if ann.unique { "uq" } else { "idx" }),
                columns: vec![column.clone()],
                unique: ann.unique,
                condition: None,
            });
        }
        let (pg_type, sqlite_type) = sql_types(ty.storage);
        fields.push(Field {
            name: json.clone(),
            ident: idents.claim(&field_ident(json)),
            column,
            default_expr: default_expr(&resolved, &ty.rust, ty.storage),
            sql_default: sql_default(&resolved, ty.storage),
            base: ty.rust,
            nullable,
            storage: ty.storage,
            enum_values: ty.enum_values,
            server_set,
            hidden: false,
            sensitive: ann.sensitive,
            updatable: server_set.is_none(),
            creatable: server_set.is_none(),
            doc: resolved.description.clone(),
            pg_type: pg_type.into(),
            sqlite_type: sqlite_type.into(),
        });
    }
    match fields.iter().find(|f| f.server_set == Some(ServerSet::Id)) {
        Some(id) if id.storage == Storage::Uuid => {}
        Some(_) => {
            diags.push(
                Diagnostic::error(format!(
                    "entity `{}` has an `id` that is not a UUID",
                    input.component
                ))
                .at(sources.locate(&pointer))
                .hint("give `id` `type: string, format: uuid` (ArchesAI's Base schema does)"),
            );
            return None;
        }
        None => {
            diags.push(
                Diagnostic::error(format!("entity `{}` has no `id` field", input.component))
                    .at(sources.locate(&pointer))
                    .hint("add `allOf: [{$ref: '#/components/schemas/Base'}]` or an `id` property of format uuid"),
            );
            return None;
        }
    }

    server_managed(
        &mut fields,
        &mut idents,
        input.component,
        &repo,
        sources,
        diags,
    )?;
    let events = lower_events(input, &snake_name, sources, diags);
    let cache = input.annotations.cache.as_ref().and_then(|c| {
        let scope = format!("{}:{snake_name}", plain_snake(&input.domain));
        super::cache::lower_cache(c, &fields, scope, sources, diags)
    });

    for name in &repo.exclude_from_create {
        if let Some(i) = check(
            &fields,
            input.component,
            name,
            "excludeFromCreate",
            sources,
            diags,
        ) {
            fields[i].creatable = false;
        }
    }
    for name in &repo.exclude_from_update {
        if let Some(i) = check(
            &fields,
            input.component,
            name,
            "excludeFromUpdate",
            sources,
            diags,
        ) {
            fields[i].updatable = false;
        }
    }
    let mut indices = Vec::new();
    for index in &repo.indices {
        let cols: Vec<String> = index
            .fields
            .iter()
            .filter_map(|f| check(&fields, input.component, f, "an index", sources, diags))
            .map(|i| fields[i].column.clone())
            .collect();
        if cols.len() != index.fields.len() {
            continue;
        }
        let prefix = if index.unique { "uq" } else { "idx" };
        let name = index
            .name
            .clone()
            .unwrap_or_else(|| format!("{prefix}_{table}_{}", cols.join("_")));
        indices.push(Index {
            name,
            columns: cols,
            unique: index.unique,
            condition: None,
        });
    }
    for extra in extra_indices {
        if !indices
            .iter()
            .any(|i| i.columns == extra.columns && i.unique == extra.unique)
        {
            indices.push(extra);
        }
    }
    if repo.soft_delete {
        if fields.iter().any(|f| f.column == "deleted_at") {
            diags.push(
                Diagnostic::error(format!(
                    "entity `{}` has a `deletedAt` field and `softDelete`",
                    input.component
                ))
                .at(sources.locate(&repo.pointer))
                .hint("remove the field: softDelete adds and manages the column itself"),
            );
        }
        // A deleted row must not block a new one with the same unique values.
        for index in indices.iter_mut().filter(|i| i.unique) {
            index.condition = Some("\"deleted_at\" IS NULL".into());
        }
    }
    let unique_sets = indices
        .iter()
        .filter(|i| i.unique)
        .map(|i| {
            i.columns
                .iter()
                .filter_map(|c| fields.iter().find(|f| &f.column == c))
                .map(|f| f.name.clone())
                .collect()
        })
        .collect();

    let mut relations = Vec::new();
    for rel in &repo.relations {
        if let Some(i) = check(
            &fields,
            input.component,
            &rel.field,
            "a relation",
            sources,
            diags,
        ) {
            relations.push((fields[i].column.clone(), rel.clone()));
        }
    }
    let mut method_names = Namespace::default();
    for reserved in ["create", "get", "update", "delete", "list"] {
        method_names.reserve(reserved);
    }
    let mut methods = Vec::new();
    let tenant = fields
        .iter()
        .any(|f| f.server_set == Some(ServerSet::Tenant));
    for m in &repo.additional_methods {
        let resolved: Vec<usize> = m
            .params
            .iter()
            .filter_map(|p| {
                check(
                    &fields,
                    input.component,
                    p,
                    &format!("method {}", m.name.value),
                    sources,
                    diags,
                )
            })
            .collect();
        if resolved.len() != m.params.len() {
            continue;
        }
        // The caller's organization already scopes a tenant's every statement.
        let params: Vec<MethodParam> = resolved
            .into_iter()
            .filter(|i| fields[*i].server_set != Some(ServerSet::Tenant))
            .map(|i| {
                let f = &fields[i];
                MethodParam {
                    ident: f.ident.clone(),
                    ty: f.base.clone(),
                    column: f.column.clone(),
                    storage: f.storage,
                }
            })
            .collect();
        if params.is_empty() && m.returns != annotate::Returns::Void && !tenant {
            diags.push(
                Diagnostic::error(format!("method `{}` has no params", m.name.value))
                    .at(sources.locate(&m.name.pointer))
                    .hint("list the fields it filters on, e.g. `params: [organizationID]`; `list` already returns every row"),
            );
            continue;
        }
        let wanted = snake(&m.name.value);
        let name = method_names.claim(&wanted);
        if name != wanted {
            diags.push(
                Diagnostic::warning(format!(
                    "method `{}` collides with another repository method; generated as `{name}`",
                    m.name.value
                ))
                .at(sources.locate(&m.name.pointer)),
            );
        }
        let returns = match m.returns {
            annotate::Returns::Single => Returns::Single,
            annotate::Returns::Multiple => Returns::Multiple,
            annotate::Returns::Count => Returns::Count,
            annotate::Returns::Exists => Returns::Exists,
            annotate::Returns::Void => {
                if !name.starts_with("delete") && !name.starts_with("remove") {
                    diags.push(
                        Diagnostic::error(format!("method `{}` returns void but is not a delete", m.name.value))
                            .at(sources.locate(&m.name.pointer))
                            .hint("a `void` method deletes the rows matching its params: name it `Delete…`"),
                    );
                    continue;
                }
                if params.is_empty() {
                    diags.push(
                        Diagnostic::warning(format!(
                            "method `{}` has no params and would delete every row; skipped",
                            m.name.value
                        ))
                        .at(sources.locate(&m.name.pointer)),
                    );
                    continue;
                }
                Returns::Void
            }
        };
        let cached = match (&cache, m.cache) {
            (_, false) => None,
            (None, true) => {
                diags.push(
                    Diagnostic::warning(format!(
                        "method `{}` asks for `cache`, but `{}` has no `x-codegen.cache` with `enabled: true`; not cached",
                        m.name.value, input.component
                    ))
                    .at(sources.locate(&m.name.pointer)),
                );
                None
            }
            // A single row whose key the params spell is cached like get-by-id; anything else is
            // a query result, forgotten on every write.
            (Some(c), true) => {
                let spelled = c.key_fields.iter().all(|(name, _)| {
                    fields.iter().any(|f| {
                        &f.name == name
                            && (f.server_set == Some(ServerSet::Tenant)
                                || params.iter().any(|p| p.ident == f.ident))
                    })
                });
                // A param outside the key narrows the query: sharing the entry of the key alone
                // would answer calls that the database would not.
                let only_key = params
                    .iter()
                    .all(|p| c.key_fields.iter().any(|(_, ident)| *ident == p.ident));
                Some(if returns == Returns::Single && spelled && only_key {
                    MethodCache::Entity
                } else {
                    MethodCache::Query
                })
            }
        };
        methods.push(Method {
            name,
            cached,
            returns,
            params,
        });
    }

    Some(Entity {
        name: input.rust_name.clone(),
        snake: snake_name.clone(),
        plural: plural(&snake_name),
        table,
        has_created_at: fields
            .iter()
            .any(|f| f.server_set == Some(ServerSet::CreatedAt)),
        has_updated_at: fields
            .iter()
            .any(|f| f.server_set == Some(ServerSet::UpdatedAt)),
        soft_delete: repo.soft_delete,
        version: fields
            .iter()
            .find(|f| f.server_set == Some(ServerSet::Version))
            .map(|f| f.ident.clone()),
        tenant: fields
            .iter()
            .find(|f| f.server_set == Some(ServerSet::Tenant))
            .cloned(),
        cache,
        events,
        default_limit: 20,
        max_limit: 100,
        sortable: Vec::new(),
        fields,
        indices,
        // Resolved against the other entities once all are lowered.
        foreign_keys: relations
            .into_iter()
            .map(|(column, rel)| ForeignKey {
                pointer: rel.references.pointer.clone(),
                // Filled in with the target when relations are resolved.
                field: String::new(),
                field_ident: String::new(),
                nullable: false,
                target_field: String::new(),
                column,
                table: rel.references.value.clone(),
                target_column: rel
                    .references_field
                    .clone()
                    .map(|f| snake(&f))
                    .unwrap_or_else(|| "id".into()),
                on_delete: rel.on_delete.clone(),
                on_update: rel.on_update.clone(),
            })
            .collect(),
        methods,
        unique_sets,
    })
}

/// Fields the repository keeps itself: hidden timestamps (`timestamps: true`), the version of
/// `optimisticLocking`, and the organization of `tenant`. A column the schema does not declare is
/// added as a hidden field: stored and carried in the Rust type, never serialised.
fn server_managed(
    fields: &mut Vec<Field>,
    idents: &mut Namespace,
    entity: &str,
    repo: &crate::annotate::Repository,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<()> {
    let mut hidden = |fields: &mut Vec<Field>, name: &str, storage: Storage, set: ServerSet| {
        let (pg_type, sqlite_type) = sql_types(storage);
        fields.push(Field {
            name: name.into(),
            ident: idents.claim(&field_ident(name)),
            column: plain_snake(name),
            base: if storage == Storage::Int64 {
                "i64"
            } else {
                "DateTime<Utc>"
            }
            .into(),
            // Existing rows get a value when the column arrives in a later migration.
            sql_default: Some(
                if storage == Storage::Int64 {
                    "1"
                } else {
                    "'1970-01-01T00:00:00.000000Z'"
                }
                .into(),
            ),
            nullable: false,
            storage,
            enum_values: Vec::new(),
            server_set: Some(set),
            hidden: true,
            sensitive: true,
            updatable: false,
            creatable: false,
            default_expr: None,
            doc: None,
            pg_type: pg_type.into(),
            sqlite_type: sqlite_type.into(),
        });
    };
    if repo.timestamps == Some(true) {
        for (name, set) in [
            ("createdAt", ServerSet::CreatedAt),
            ("updatedAt", ServerSet::UpdatedAt),
        ] {
            if !fields.iter().any(|f| f.server_set == Some(set)) {
                hidden(fields, name, Storage::DateTime, set);
            }
        }
    }
    if repo.optimistic_locking {
        match fields.iter_mut().find(|f| loose_eq(&f.name, "version")) {
            Some(f) if matches!(f.storage, Storage::Int32 | Storage::Int64) => {
                f.server_set = Some(ServerSet::Version);
                f.nullable = false;
                f.base = "i64".into();
                f.storage = Storage::Int64;
                (f.pg_type, f.sqlite_type) = ("BIGINT".into(), "INTEGER".into());
                f.updatable = false;
                f.creatable = false;
                f.sql_default = Some("1".into());
            }
            Some(_) => {
                diags.push(
                    Diagnostic::error(format!(
                        "`optimisticLocking` on `{entity}` needs an integer `version`, but its `version` field is not one"
                    ))
                    .at(sources.locate(&repo.pointer))
                    .hint("make `version` `type: integer`, or rename the field so that archgen can add its own hidden version"),
                );
                return None;
            }
            None => hidden(fields, "version", Storage::Int64, ServerSet::Version),
        }
    }
    if let Some(name) = &repo.tenant {
        let i = check(fields, entity, name, "tenant", sources, diags)?;
        let f = &mut fields[i];
        if f.storage != Storage::Uuid || f.server_set.is_some() {
            diags.push(
                Diagnostic::error(format!(
                    "`tenant` names `{}`, which is not a UUID field of `{entity}`",
                    f.name
                ))
                .at(sources.locate(&name.pointer))
                .hint("the tenant field holds the organization's id: `type: string, format: uuid`"),
            );
            return None;
        }
        f.server_set = Some(ServerSet::Tenant);
        f.nullable = false;
        f.updatable = false;
        f.creatable = false;
    }
    Some(())
}

/// `x-codegen.events`: each name becomes a variant and a subject `<domain>.<entity>.<event>`.
fn lower_events(
    input: &EntityInput<'_>,
    entity: &str,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Vec<super::EventModel> {
    let domain = plain_snake(&input.domain);
    let mut out: Vec<super::EventModel> = Vec::new();
    for e in &input.annotations.events {
        let name = plain_snake(&e.value);
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            diags.push(
                Diagnostic::error(format!("event name `{}` is not a word", e.value))
                    .at(sources.locate(&e.pointer))
                    .hint("name events like `created` or `password_reset`"),
            );
            continue;
        }
        if out.iter().any(|o| o.name == name) {
            diags.push(
                Diagnostic::warning(format!("event `{}` is listed twice", e.value))
                    .at(sources.locate(&e.pointer)),
            );
            continue;
        }
        out.push(super::EventModel {
            variant: super::names::pascal(&name),
            subject: format!("{domain}.{entity}.{name}"),
            name,
        });
    }
    out
}

/// The index of the field an annotation names, or an error with "did you mean".
fn check(
    fields: &[Field],
    entity: &str,
    name: &Spanned<String>,
    what: &str,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<usize> {
    let found = fields.iter().position(|f| loose_eq(&f.name, &name.value));
    if found.is_none() {
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        let hint = did_you_mean(&name.value, names.iter().copied())
            .unwrap_or_else(|| format!("fields of {entity}: {}", names.join(", ")));
        let message = format!(
            "{what} names `{}`, which is not a field of `{entity}`",
            name.value
        );
        // A repository method is an addition, not part of the data: the rest of the spec still
        // deserves a service (ArchesAI's own platform spec has such a method).
        let diagnostic = if what.starts_with("method ") {
            Diagnostic::warning(format!("{message}; the method is left out"))
        } else {
            Diagnostic::error(message)
        };
        diags.push(
            diagnostic
                .at(sources.locate(&name.pointer))
                .pointer(&name.pointer)
                .hint(hint),
        );
    }
    found
}

/// Where a property is written: directly under `properties`, or in one of the `allOf` members.
fn property_pointer(sources: &SourceMap, entity: &str, field: &str) -> String {
    let direct = push_pointer(&push_pointer(entity, "properties"), field);
    if sources.get(&direct).is_some() {
        return direct;
    }
    (0..16)
        .map(|i| {
            push_pointer(
                &push_pointer(&format!("{entity}/allOf/{i}"), "properties"),
                field,
            )
        })
        .find(|p| sources.get(p).is_some())
        .unwrap_or(direct)
}

pub fn sql_types(storage: Storage) -> (&'static str, &'static str) {
    match storage {
        Storage::Text | Storage::Enum => ("TEXT", "TEXT"),
        Storage::Uuid => ("UUID", "TEXT"),
        Storage::Int32 => ("INTEGER", "INTEGER"),
        Storage::Int64 => ("BIGINT", "INTEGER"),
        Storage::Float => ("DOUBLE PRECISION", "REAL"),
        Storage::Bool => ("BOOLEAN", "BOOLEAN"),
        Storage::DateTime => ("TIMESTAMPTZ", "TEXT"),
        Storage::Date => ("DATE", "TEXT"),
        Storage::Json => ("JSONB", "TEXT"),
    }
}

/// The schema default as an SQL literal both databases read the same way.
fn sql_default(s: &S, storage: Storage) -> Option<String> {
    let v = s.default.as_ref()?;
    Some(match storage {
        Storage::Text | Storage::Enum => format!("'{}'", v.as_str()?.replace('\'', "''")),
        Storage::Int32 | Storage::Int64 => v.as_i64()?.to_string(),
        Storage::Float => v.as_f64().filter(|f| f.is_finite())?.to_string(),
        Storage::Bool => if v.as_bool()? { "TRUE" } else { "FALSE" }.to_string(),
        _ => return None,
    })
}

fn default_expr(s: &S, rust: &str, storage: Storage) -> Option<String> {
    let v = s.default.as_ref()?;
    Some(match storage {
        Storage::Text => format!("{:?}.to_string()", v.as_str()?),
        Storage::Int32 | Storage::Int64 => format!("{}", v.as_i64()?),
        Storage::Float => format!("{:?}", v.as_f64()?),
        Storage::Bool => format!("{}", v.as_bool()?),
        Storage::Enum => format!("{rust}::from_wire({:?}).unwrap_or_default()", v.as_str()?),
        _ => return None,
    })
}
