//! Entities: component schemas marked `x-codegen-schema-type: entity`, with their table, fields,
//! indices, foreign keys and additional repository methods.

use super::literal::Literal;
use super::names::{Namespace, field_ident, loose_eq, plain_snake, plural, snake};
use super::schema::{S, SRef};
use super::type_ref::Builtin;
use super::types::{Storage, TypeSpace};
use super::{
    CacheModel, Entity, Field, ForeignKey, Index, Method, MethodCache, MethodParam, Returns,
    ServerSet,
};
use crate::annotate::{
    AdditionalMethod, Annotator, FieldAnnotations, Repository, SchemaAnnotations, Spanned,
};
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
    types: &mut TypeSpace<'_>,
    annotator: &mut Annotator<'_>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<Entity> {
    let repo = input.annotations.repository.clone().unwrap_or_default();
    let snake_name = plain_snake(&input.rust_name);
    let mut cx = EntityLowering {
        input,
        repo: &repo,
        table: repo
            .table_name
            .clone()
            .unwrap_or_else(|| plural(&snake_name)),
        pointer: format!("/components/schemas/{}", input.component),
        sources,
        diags,
    };
    let mut idents = Namespace::default();
    let (mut fields, field_indices) = cx.declared_fields(types, annotator, &mut idents)?;
    cx.check_id(&fields)?;
    cx.server_managed(&mut fields, &mut idents)?;
    let events = lower_events(input, &snake_name, sources, cx.diags);
    let cache = input.annotations.cache.as_ref().and_then(|c| {
        let scope = format!("{}:{snake_name}", plain_snake(&input.domain));
        super::cache::lower_cache(c, &fields, scope, sources, cx.diags)
    });
    cx.exclude(&mut fields);
    let indices = cx.indices(&fields, field_indices);
    let foreign_keys = cx.foreign_keys(&fields);
    let methods = cx.methods(&fields, cache.as_ref());
    let server_set = |set| fields.iter().find(|f| f.server_set == Some(set));
    Some(Entity {
        name: input.rust_name.clone(),
        plural: plural(&snake_name),
        snake: snake_name,
        table: cx.table,
        has_created_at: server_set(ServerSet::CreatedAt).is_some(),
        has_updated_at: server_set(ServerSet::UpdatedAt).is_some(),
        soft_delete: repo.soft_delete,
        version: server_set(ServerSet::Version).map(|f| f.ident.clone()),
        tenant: server_set(ServerSet::Tenant).cloned(),
        cache,
        events,
        default_limit: 20,
        max_limit: 100,
        sortable: Vec::new(),
        unique_sets: unique_sets(&indices, &fields),
        fields,
        indices,
        foreign_keys,
        methods,
    })
}

/// What every step of lowering one entity needs: its annotations, where it is written, and where
/// problems go.
struct EntityLowering<'a, 'd> {
    input: &'a EntityInput<'a>,
    repo: &'a Repository,
    table: String,
    /// The component schema's pointer.
    pointer: String,
    sources: &'a SourceMap,
    diags: &'d mut Diagnostics,
}

impl EntityLowering<'_, '_> {
    /// The schema's properties as fields, with the single-column indices their annotations ask
    /// for; `None` when the schema is no object.
    fn declared_fields(
        &mut self,
        types: &mut TypeSpace<'_>,
        annotator: &mut Annotator<'_>,
        idents: &mut Namespace,
    ) -> Option<(Vec<Field>, Vec<Index>)> {
        let Some(obj) = types.flatten(&SRef::Ref(self.input.component.to_string())) else {
            self.diags.push(
                Diagnostic::error(format!(
                    "entity `{}` is not an object",
                    self.input.component
                ))
                .at(self.sources.locate(&self.pointer))
                .hint("an entity needs properties, directly or through allOf"),
            );
            return None;
        };
        let mut fields = Vec::new();
        let mut indices = Vec::new();
        for (json, prop) in &obj.properties {
            let required = obj.required.contains(json);
            let (field, ann) = self.declared_field(json, prop, required, types, annotator, idents);
            self.check_read_only(&field);
            if ann.unique || ann.index {
                let prefix = if ann.unique { "uq" } else { "idx" };
                indices.push(Index {
                    name: format!("{prefix}_{}_{}", self.table, field.column),
                    columns: vec![field.column.clone()],
                    unique: ann.unique,
                    condition: None,
                });
            }
            fields.push(field);
        }
        Some((fields, indices))
    }

    fn declared_field(
        &mut self,
        json: &str,
        prop: &SRef,
        required: bool,
        types: &mut TypeSpace<'_>,
        annotator: &mut Annotator<'_>,
        idents: &mut Namespace,
    ) -> (Field, FieldAnnotations) {
        let hint = format!("{}{}", self.input.rust_name, super::names::variant(json));
        let ty = types.ty(prop, &hint, Some(&self.input.domain));
        let resolved = types.resolve(prop).cloned().unwrap_or_default();
        // Field annotations are written on the property itself; a `$ref` target's own
        // `x-codegen` is schema-level and belongs to that schema. `x-sensitive` travels with a type.
        let own = match prop {
            SRef::Inline(s) => Some(&s.extensions),
            SRef::Ref(_) => None,
        };
        let inherited = resolved.extensions.get_key_value("x-sensitive");
        let field_ptr = property_pointer(self.sources, &self.pointer, json);
        let ann = annotator.field(own.into_iter().flatten().chain(inherited), &field_ptr);
        let server_set = self.declared_server_set(json);
        let (pg_type, sqlite_type) = sql_types(ty.storage);
        let field = Field {
            name: json.to_string(),
            ident: idents.claim(&field_ident(json)),
            column: plain_snake(json),
            default: resolved
                .default
                .as_ref()
                .and_then(|v| Literal::of(v, &ty.ty, enum_kind(&ty))),
            sql_default: sql_default(&resolved, ty.storage),
            base: ty.ty,
            nullable: server_set.is_none() && (types.nullable(prop) || !required),
            absent_when_none: server_set.is_none() && !types.nullable(prop) && !required,
            storage: ty.storage,
            enum_values: ty.enum_values,
            server_set,
            hidden: false,
            // writeOnly: accepted, stored, never answered. readOnly: answered, never accepted.
            sensitive: ann.sensitive || resolved.write_only,
            read_only: resolved.read_only,
            updatable: server_set.is_none() && !resolved.read_only,
            creatable: server_set.is_none() && !resolved.read_only,
            doc: resolved.description.clone(),
            pg_type: pg_type.into(),
            sqlite_type: sqlite_type.into(),
        };
        (field, ann)
    }

    /// A readOnly field no request may set must get its value somewhere: a spec default, or
    /// null. Otherwise a create could only store a made-up one (or not compile, for a type
    /// with no `Default`).
    fn check_read_only(&mut self, field: &Field) {
        if !field.read_only
            || field.server_set.is_some()
            || field.nullable
            || field.default.is_some()
        {
            return;
        }
        let pointer = property_pointer(self.sources, &self.pointer, &field.name);
        self.diags.push(
            Diagnostic::error(format!(
                "`{}` of entity `{}` is readOnly and required, with no default: no request can set it, so a create has no value to store",
                field.name, self.input.component
            ))
            .at(self.sources.locate(&pointer))
            .hint("give it a `default`, make it nullable, or drop `readOnly`"),
        );
    }

    /// `id`, and the timestamps unless `timestamps: false`, are the server's to set.
    fn declared_server_set(&self, json: &str) -> Option<ServerSet> {
        let timestamps = self.repo.timestamps != Some(false);
        if loose_eq(json, "id") {
            Some(ServerSet::Id)
        } else if timestamps && loose_eq(json, "createdAt") {
            Some(ServerSet::CreatedAt)
        } else if timestamps && loose_eq(json, "updatedAt") {
            Some(ServerSet::UpdatedAt)
        } else {
            None
        }
    }

    /// Rows are keyed by a UUID `id`.
    fn check_id(&mut self, fields: &[Field]) -> Option<()> {
        let component = self.input.component;
        let diagnostic = match fields.iter().find(|f| f.server_set == Some(ServerSet::Id)) {
            Some(id) if id.storage == Storage::Uuid => return Some(()),
            Some(_) => Diagnostic::error(format!("entity `{component}` has an `id` that is not a UUID"))
                .hint("give `id` `type: string, format: uuid` (ArchesAI's Base schema does)"),
            None => Diagnostic::error(format!("entity `{component}` has no `id` field"))
                .hint("add `allOf: [{$ref: '#/components/schemas/Base'}]` or an `id` property of format uuid"),
        };
        self.diags
            .push(diagnostic.at(self.sources.locate(&self.pointer)));
        None
    }

    /// Fields the repository keeps itself: hidden timestamps (`timestamps: true`), the version
    /// of `optimisticLocking`, and the organization of `tenant`. A column the schema does not
    /// declare is added as a hidden field: stored and carried in the Rust type, never serialised.
    fn server_managed(&mut self, fields: &mut Vec<Field>, idents: &mut Namespace) -> Option<()> {
        if self.repo.timestamps == Some(true) {
            for (name, set) in [
                ("createdAt", ServerSet::CreatedAt),
                ("updatedAt", ServerSet::UpdatedAt),
            ] {
                if !fields.iter().any(|f| f.server_set == Some(set)) {
                    fields.push(hidden_field(name, Storage::DateTime, set, idents));
                }
            }
        }
        if self.repo.optimistic_locking {
            self.version(fields, idents)?;
        }
        if let Some(name) = &self.repo.tenant {
            self.tenant(fields, name)?;
        }
        Some(())
    }

    /// The integer `version` the schema declares, else a hidden one.
    fn version(&mut self, fields: &mut Vec<Field>, idents: &mut Namespace) -> Option<()> {
        match fields.iter_mut().find(|f| loose_eq(&f.name, "version")) {
            Some(f) if matches!(f.storage, Storage::Int32 | Storage::Int64) => {
                f.server_set = Some(ServerSet::Version);
                f.nullable = false;
                f.base = Builtin::I64.into();
                f.storage = Storage::Int64;
                (f.pg_type, f.sqlite_type) = ("BIGINT".into(), "INTEGER".into());
                f.updatable = false;
                f.creatable = false;
                f.sql_default = Some("1".into());
            }
            Some(_) => {
                let entity = self.input.component;
                self.diags.push(
                    Diagnostic::error(format!(
                        "`optimisticLocking` on `{entity}` needs an integer `version`, but its `version` field is not one"
                    ))
                    .at(self.sources.locate(&self.repo.pointer))
                    .hint("make `version` `type: integer`, or rename the field so that archgen can add its own hidden version"),
                );
                return None;
            }
            None => fields.push(hidden_field(
                "version",
                Storage::Int64,
                ServerSet::Version,
                idents,
            )),
        }
        Some(())
    }

    /// The UUID field `tenant` names holds the caller's organization.
    fn tenant(&mut self, fields: &mut [Field], name: &Spanned<String>) -> Option<()> {
        let i = self.check(fields, name, "tenant")?;
        let f = &mut fields[i];
        if f.storage != Storage::Uuid || f.server_set.is_some() {
            self.diags.push(
                Diagnostic::error(format!(
                    "`tenant` names `{}`, which is not a UUID field of `{}`",
                    f.name, self.input.component
                ))
                .at(self.sources.locate(&name.pointer))
                .hint("the tenant field holds the organization's id: `type: string, format: uuid`"),
            );
            return None;
        }
        f.server_set = Some(ServerSet::Tenant);
        f.nullable = false;
        f.updatable = false;
        f.creatable = false;
        Some(())
    }

    /// `excludeFromCreate` and `excludeFromUpdate`.
    fn exclude(&mut self, fields: &mut [Field]) {
        for name in &self.repo.exclude_from_create {
            if let Some(i) = self.check(fields, name, "excludeFromCreate") {
                fields[i].creatable = false;
            }
        }
        for name in &self.repo.exclude_from_update {
            if let Some(i) = self.check(fields, name, "excludeFromUpdate") {
                fields[i].updatable = false;
            }
        }
    }

    /// The repository's indices, then those fields ask for that are not among them.
    fn indices(&mut self, fields: &[Field], field_indices: Vec<Index>) -> Vec<Index> {
        let mut indices = Vec::new();
        for index in &self.repo.indices {
            let cols: Vec<String> = index
                .fields
                .iter()
                .filter_map(|f| self.check(fields, f, "an index"))
                .map(|i| fields[i].column.clone())
                .collect();
            if cols.len() != index.fields.len() {
                continue;
            }
            let prefix = if index.unique { "uq" } else { "idx" };
            let name = index
                .name
                .clone()
                .unwrap_or_else(|| format!("{prefix}_{}_{}", self.table, cols.join("_")));
            indices.push(Index {
                name,
                columns: cols,
                unique: index.unique,
                condition: None,
            });
        }
        for extra in field_indices {
            if !indices
                .iter()
                .any(|i| i.columns == extra.columns && i.unique == extra.unique)
            {
                indices.push(extra);
            }
        }
        if self.repo.soft_delete {
            self.soft_delete(fields, &mut indices);
        }
        indices
    }

    fn soft_delete(&mut self, fields: &[Field], indices: &mut [Index]) {
        if fields.iter().any(|f| f.column == "deleted_at") {
            self.diags.push(
                Diagnostic::error(format!(
                    "entity `{}` has a `deletedAt` field and `softDelete`",
                    self.input.component
                ))
                .at(self.sources.locate(&self.repo.pointer))
                .hint("remove the field: softDelete adds and manages the column itself"),
            );
        }
        // A deleted row must not block a new one with the same unique values.
        for index in indices.iter_mut().filter(|i| i.unique) {
            index.condition = Some("\"deleted_at\" IS NULL".into());
        }
    }

    /// The relations, as foreign keys whose targets are filled in once all entities are
    /// lowered.
    fn foreign_keys(&mut self, fields: &[Field]) -> Vec<ForeignKey> {
        let mut out = Vec::new();
        for rel in &self.repo.relations {
            let Some(i) = self.check(fields, &rel.field, "a relation") else {
                continue;
            };
            out.push(ForeignKey {
                pointer: rel.references.pointer.clone(),
                field: String::new(),
                field_ident: String::new(),
                nullable: false,
                target_field: String::new(),
                column: fields[i].column.clone(),
                table: rel.references.value.clone(),
                target_column: rel
                    .references_field
                    .as_ref()
                    .map(|f| snake(f))
                    .unwrap_or_else(|| "id".into()),
                on_delete: rel.on_delete.clone(),
                on_update: rel.on_update.clone(),
            });
        }
        out
    }

    /// `additionalMethods`, named apart from the CRUD methods and from each other.
    fn methods(&mut self, fields: &[Field], cache: Option<&CacheModel>) -> Vec<Method> {
        let mut names = Namespace::default();
        // The repository trait's own methods.
        let own = [
            "create",
            "get",
            "update",
            "delete",
            "list",
            "emit",
            "in_tx",
            "with_cache",
        ];
        for reserved in own {
            names.reserve(reserved);
        }
        let mut out = Vec::new();
        for m in &self.repo.additional_methods {
            if let Some(method) = self.method(m, fields, cache, &mut names) {
                out.push(method);
            }
        }
        out
    }

    /// One additional method, or `None` (with a diagnostic) when it cannot be generated.
    fn method(
        &mut self,
        m: &AdditionalMethod,
        fields: &[Field],
        cache: Option<&CacheModel>,
        names: &mut Namespace,
    ) -> Option<Method> {
        let params = self.method_params(m, fields)?;
        let tenant = fields
            .iter()
            .any(|f| f.server_set == Some(ServerSet::Tenant));
        if params.is_empty() && m.returns != Returns::Void && !tenant {
            self.diags.push(
                Diagnostic::error(format!("method `{}` has no params", m.name.value))
                    .at(self.sources.locate(&m.name.pointer))
                    .hint("list the fields it filters on, e.g. `params: [organizationID]`; `list` already returns every row"),
            );
            return None;
        }
        let wanted = snake(&m.name.value);
        let name = names.claim(&wanted);
        if name != wanted {
            self.diags.push(
                Diagnostic::warning(format!(
                    "method `{}` collides with another repository method; generated as `{name}`",
                    m.name.value
                ))
                .at(self.sources.locate(&m.name.pointer)),
            );
        }
        if m.returns == Returns::Void {
            self.check_delete(m, &name, &params)?;
        }
        Some(Method {
            cached: self.method_cache(m, &params, fields, cache),
            name,
            returns: m.returns,
            params,
        })
    }

    /// The fields a method filters on, except the tenant: the caller's organization already
    /// scopes a tenant's every statement. `None` when one names no field.
    fn method_params(
        &mut self,
        m: &AdditionalMethod,
        fields: &[Field],
    ) -> Option<Vec<MethodParam>> {
        let what = format!("method {}", m.name.value);
        let resolved: Vec<usize> = (m.params.iter())
            .filter_map(|p| self.check(fields, p, &what))
            .collect();
        if resolved.len() != m.params.len() {
            return None;
        }
        let params = resolved
            .into_iter()
            .map(|i| &fields[i])
            .filter(|f| f.server_set != Some(ServerSet::Tenant))
            .map(|f| MethodParam {
                ident: f.ident.clone(),
                ty: f.base.clone(),
                column: f.column.clone(),
                storage: f.storage,
            })
            .collect();
        Some(params)
    }

    /// A `void` method deletes the rows its params match: it must say so in its name, and
    /// filter on something.
    fn check_delete(
        &mut self,
        m: &AdditionalMethod,
        name: &str,
        params: &[MethodParam],
    ) -> Option<()> {
        let at = self.sources.locate(&m.name.pointer);
        if !name.starts_with("delete") && !name.starts_with("remove") {
            self.diags.push(
                Diagnostic::error(format!(
                    "method `{}` returns void but is not a delete",
                    m.name.value
                ))
                .at(at)
                .hint("a `void` method deletes the rows matching its params: name it `Delete…`"),
            );
            return None;
        }
        if params.is_empty() {
            self.diags.push(
                Diagnostic::warning(format!(
                    "method `{}` has no params and would delete every row; skipped",
                    m.name.value
                ))
                .at(at),
            );
            return None;
        }
        Some(())
    }

    /// How a method's results are cached, when it asks to be and its entity is cached.
    fn method_cache(
        &mut self,
        m: &AdditionalMethod,
        params: &[MethodParam],
        fields: &[Field],
        cache: Option<&CacheModel>,
    ) -> Option<MethodCache> {
        if !m.cache {
            return None;
        }
        let Some(c) = cache else {
            self.diags.push(
                Diagnostic::warning(format!(
                    "method `{}` asks for `cache`, but `{}` has no `x-codegen.cache` with `enabled: true`; not cached",
                    m.name.value, self.input.component
                ))
                .at(self.sources.locate(&m.name.pointer)),
            );
            return None;
        };
        // A single row whose key the params spell is cached like get-by-id; anything else is a
        // query result, forgotten on every write.
        let spelled = c.key_fields.iter().all(|(name, _)| {
            fields.iter().any(|f| {
                &f.name == name
                    && (f.server_set == Some(ServerSet::Tenant)
                        || params.iter().any(|p| p.ident == f.ident))
            })
        });
        // A param outside the key narrows the query: sharing the entry of the key alone would
        // answer calls that the database would not.
        let only_key = params
            .iter()
            .all(|p| c.key_fields.iter().any(|(_, ident)| *ident == p.ident));
        Some(if m.returns == Returns::Single && spelled && only_key {
            MethodCache::Entity
        } else {
            MethodCache::Query
        })
    }

    /// The index of the field an annotation names, or an error with "did you mean".
    fn check(&mut self, fields: &[Field], name: &Spanned<String>, what: &str) -> Option<usize> {
        let entity = self.input.component;
        let found = fields.iter().position(|f| loose_eq(&f.name, &name.value));
        if found.is_none() {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            let hint = did_you_mean(&name.value, names.iter().copied())
                .unwrap_or_else(|| format!("fields of {entity}: {}", names.join(", ")));
            let message = format!(
                "{what} names `{}`, which is not a field of `{entity}`",
                name.value
            );
            // A repository method is an addition, not part of the data: the rest of the spec
            // still deserves a service (ArchesAI's own platform spec has such a method).
            let diagnostic = if what.starts_with("method ") {
                Diagnostic::warning(format!("{message}; the method is left out"))
            } else {
                Diagnostic::error(message)
            };
            self.diags.push(
                diagnostic
                    .at(self.sources.locate(&name.pointer))
                    .pointer(&name.pointer)
                    .hint(hint),
            );
        }
        found
    }
}

/// A column the schema does not declare, set by the server and never serialised.
fn hidden_field(name: &str, storage: Storage, set: ServerSet, idents: &mut Namespace) -> Field {
    let (pg_type, sqlite_type) = sql_types(storage);
    let int = storage == Storage::Int64;
    Field {
        name: name.into(),
        ident: idents.claim(&field_ident(name)),
        column: plain_snake(name),
        base: if int { Builtin::I64 } else { Builtin::DateTime }.into(),
        // Existing rows get a value when the column arrives in a later migration.
        sql_default: Some(
            if int {
                "1"
            } else {
                "'1970-01-01T00:00:00.000000Z'"
            }
            .into(),
        ),
        nullable: false,
        absent_when_none: false,
        storage,
        enum_values: Vec::new(),
        server_set: Some(set),
        hidden: true,
        sensitive: true,
        read_only: false,
        updatable: false,
        creatable: false,
        default: None,
        doc: None,
        pg_type: pg_type.into(),
        sqlite_type: sqlite_type.into(),
    }
}

/// The API names of the fields of each unique index, for the mock store.
fn unique_sets(indices: &[Index], fields: &[Field]) -> Vec<Vec<String>> {
    indices
        .iter()
        .filter(|i| i.unique)
        .map(|i| {
            i.columns
                .iter()
                .filter_map(|c| fields.iter().find(|f| &f.column == c))
                .map(|f| f.name.clone())
                .collect()
        })
        .collect()
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

/// Which kind of enum a field's type is: named types stored as text or integers are enums.
fn enum_kind(ty: &super::types::Ty) -> super::literal::EnumKind {
    use super::literal::EnumKind;
    match (&ty.ty, ty.storage) {
        (_, Storage::Enum) => EnumKind::Strings,
        (super::TypeRef::Named(_), Storage::Int64) => EnumKind::Integers,
        _ => EnumKind::None,
    }
}
