//! The `x-codegen` dialect (ArchesAI's, camelCase or snake_case), read into typed structs.
//!
//! Unknown keys are errors with "did you mean", because a misspelt annotation that is silently
//! ignored produces a service that quietly breaks its promises. Field names inside annotations are
//! checked later, in the model stage, which knows each entity's fields.

mod reader;

use serde_json::Value;

use crate::diagnostic::Diagnostics;
use crate::load::SourceMap;
use reader::Reader;

/// A string from the spec with the JSON pointer it came from, for errors raised later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub pointer: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaType {
    Entity,
    ValueObject,
}

#[derive(Debug, Clone, Default)]
pub struct SchemaAnnotations {
    pub schema_type: Option<SchemaType>,
    pub internal: Option<String>,
    pub repository: Option<Repository>,
    pub cache: Option<Cache>,
    pub events: Vec<Spanned<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct Repository {
    pub pointer: String,
    pub indices: Vec<Index>,
    pub exclude_from_create: Vec<Spanned<String>>,
    pub exclude_from_update: Vec<Spanned<String>>,
    pub relations: Vec<Relation>,
    pub additional_methods: Vec<AdditionalMethod>,
    pub table_name: Option<String>,
    /// Deletes mark rows (`deleted_at`) instead of removing them.
    pub soft_delete: bool,
    /// `Some(false)` turns off the upkeep of `createdAt`/`updatedAt`; `Some(true)` also adds the
    /// columns when the schema has no such fields.
    pub timestamps: Option<bool>,
    /// A `version` column guards updates and deletes (ETag / If-Match).
    pub optimistic_locking: bool,
    /// The field holding the owning organization: every statement is scoped to the caller's.
    pub tenant: Option<Spanned<String>>,
}

#[derive(Debug, Clone)]
pub struct Index {
    pub fields: Vec<Spanned<String>>,
    pub unique: bool,
    pub name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Relation {
    pub field: Spanned<String>,
    pub references: Spanned<String>,
    pub references_field: Option<String>,
    pub on_delete: Option<String>,
    pub on_update: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    Single,
    Multiple,
    Count,
    Exists,
    Void,
}

#[derive(Debug, Clone)]
pub struct AdditionalMethod {
    pub name: Spanned<String>,
    pub params: Vec<Spanned<String>>,
    pub returns: Returns,
    pub cache: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Cache {
    pub pointer: String,
    pub enabled: bool,
    pub ttl: Option<u64>,
    pub key_pattern: Option<Spanned<String>>,
    /// `None` when not written: then both update and delete invalidate.
    pub invalidate_on: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Clone, Default)]
pub struct FieldAnnotations {
    pub unique: bool,
    pub index: bool,
    pub sensitive: bool,
}

#[derive(Debug, Clone, Default)]
pub struct OperationAnnotations {
    pub custom_handler: bool,
    pub public: bool,
    pub internal: Option<String>,
    /// `x-codegen-permissions`: what the caller must hold before the handler runs.
    pub permissions: Option<Permissions>,
}

/// `x-codegen-permissions`: either a list (every entry needed) or `{roles: [...], permissions: [...]}`
/// where one of the roles and every permission are needed.
#[derive(Debug, Clone, Default)]
pub struct Permissions {
    pub pointer: String,
    pub any_role: Vec<String>,
    pub all_of: Vec<String>,
}

/// Reads annotations from extension maps, collecting diagnostics as it goes.
pub struct Annotator<'a> {
    reader: Reader<'a>,
}

impl<'a> Annotator<'a> {
    pub fn new(sources: &'a SourceMap) -> Self {
        Self {
            reader: Reader::new(sources),
        }
    }

    pub fn finish(self) -> Diagnostics {
        self.reader.diagnostics
    }

    /// `extensions` are the `x-…` keys of a component schema at `pointer`.
    pub fn schema<'v>(
        &mut self,
        extensions: impl IntoIterator<Item = (&'v String, &'v Value)>,
        pointer: &str,
    ) -> SchemaAnnotations {
        let mut out = SchemaAnnotations::default();
        for (key, value) in extensions {
            let ptr = crate::load::push_pointer(pointer, key);
            match key.as_str() {
                "x-codegen-schema-type" => {
                    out.schema_type = match self.reader.string(value, &ptr).as_deref() {
                        Some("entity") => Some(SchemaType::Entity),
                        Some("valueobject" | "value-object" | "valueObject") => {
                            Some(SchemaType::ValueObject)
                        }
                        Some(other) => {
                            self.reader.error(
                                &ptr,
                                format!("unknown schema type `{other}`"),
                                Some("use `entity` or `valueobject`".into()),
                            );
                            None
                        }
                        None => None,
                    }
                }
                // Redocly and Stoplight hide operations with a boolean `x-internal`; only ArchesAI's
                // string form (the owning service) is ours.
                "x-internal" if value.is_boolean() => {}
                "x-internal" => out.internal = self.reader.string(value, &ptr),
                "x-codegen" => self.schema_codegen(value, &ptr, &mut out),
                k if k.starts_with("x-codegen") => {
                    self.reader.unknown_extension(&ptr, k, SCHEMA_EXTENSIONS)
                }
                _ => {} // Other tools' extensions are none of our business.
            }
        }
        out
    }

    fn schema_codegen(&mut self, value: &Value, ptr: &str, out: &mut SchemaAnnotations) {
        let known = [
            "repository",
            "cache",
            "events",
            "handler",
            "adapter",
            "service",
            "database",
        ];
        let Some(entries) = self.reader.object(value, ptr, &known) else {
            return;
        };
        for (key, value, p) in entries {
            match key {
                "repository" => out.repository = self.repository(value, &p),
                "cache" => out.cache = self.cache(value, &p),
                "events" => out.events = self.reader.string_list(value, &p),
                _ => self.reader.warning(
                    &p,
                    format!("`x-codegen.{key}` is accepted for compatibility with ArchesAI but has no effect"),
                ),
            }
        }
    }

    fn repository(&mut self, value: &Value, ptr: &str) -> Option<Repository> {
        let known = [
            "indices",
            "excludeFromCreate",
            "excludeFromUpdate",
            "relations",
            "additionalMethods",
            "uniqueConstraints",
            "operations",
            "tableName",
            "postgres",
            "sqlite",
            "softDelete",
            "timestamps",
            "optimisticLocking",
            "tenant",
        ];
        let entries = self.reader.object(value, ptr, &known)?;
        let mut repo = Repository {
            pointer: ptr.to_string(),
            ..Default::default()
        };
        for (key, value, p) in entries {
            match key {
                "indices" => repo.indices.extend(self.indices(value, &p)),
                "uniqueConstraints" => {
                    for (i, item) in self.reader.list(value, &p).iter().enumerate() {
                        let ip = crate::load::push_pointer(&p, &i.to_string());
                        let fields = self.reader.string_list(item, &ip);
                        if fields.is_empty() {
                            self.reader.error(
                                &ip,
                                "a unique constraint needs at least one field".into(),
                                None,
                            );
                            continue;
                        }
                        repo.indices.push(Index {
                            fields,
                            unique: true,
                            name: None,
                        });
                    }
                }
                "excludeFromCreate" => {
                    repo.exclude_from_create = self.reader.string_list(value, &p)
                }
                "excludeFromUpdate" => {
                    repo.exclude_from_update = self.reader.string_list(value, &p)
                }
                "relations" => repo.relations = self.relations(value, &p),
                "additionalMethods" => repo.additional_methods = self.methods(value, &p),
                "tableName" => repo.table_name = self.reader.string(value, &p),
                "postgres" | "sqlite" => {
                    if let Some(entries) = self.reader.object(value, &p, &["tableName", "schema"]) {
                        for (k, v, pp) in entries {
                            if k == "tableName" {
                                repo.table_name = self.reader.string(v, &pp);
                            }
                        }
                    }
                }
                // Every CRUD operation is always generated; these only matter to ArchesAI's Go output.
                "softDelete" => repo.soft_delete = self.reader.bool(value, &p).unwrap_or(false),
                "timestamps" => repo.timestamps = self.reader.bool(value, &p),
                "optimisticLocking" => {
                    repo.optimistic_locking = self.reader.bool(value, &p).unwrap_or(false)
                }
                // `tenant: true` means the conventional field name.
                "tenant" => {
                    repo.tenant = match value.as_bool() {
                        Some(true) => Some(Spanned {
                            value: "organizationID".into(),
                            pointer: p.clone(),
                        }),
                        Some(false) => None,
                        None => self.reader.string(value, &p).map(|value| Spanned {
                            value,
                            pointer: p.clone(),
                        }),
                    }
                }
                "operations" => self.reader.warning(
                    &p,
                    format!(
                        "`repository.{key}` is accepted for compatibility but has no effect yet"
                    ),
                ),
                _ => unreachable!("reader only yields known keys"),
            }
        }
        Some(repo)
    }

    fn indices(&mut self, value: &Value, ptr: &str) -> Vec<Index> {
        let mut out = Vec::new();
        for (i, item) in self.reader.list(value, ptr).iter().enumerate() {
            let p = crate::load::push_pointer(ptr, &i.to_string());
            if let Some(field) = item.as_str() {
                out.push(Index {
                    fields: vec![Spanned {
                        value: field.to_string(),
                        pointer: p,
                    }],
                    unique: false,
                    name: None,
                });
                continue;
            }
            let Some(entries) =
                self.reader
                    .object(item, &p, &["fields", "unique", "name", "where", "method"])
            else {
                continue;
            };
            let mut index = Index {
                fields: Vec::new(),
                unique: false,
                name: None,
            };
            for (k, v, pp) in entries {
                match k {
                    "fields" => index.fields = self.reader.string_list(v, &pp),
                    "unique" => index.unique = self.reader.bool(v, &pp).unwrap_or(false),
                    "name" => index.name = self.reader.string(v, &pp),
                    _ => self.reader.warning(
                        &pp,
                        format!("index `{k}` is not supported yet and is ignored"),
                    ),
                }
            }
            if index.fields.is_empty() {
                self.reader.error(
                    &p,
                    "an index needs at least one field".into(),
                    Some("add `fields: [name]`".into()),
                );
            } else {
                out.push(index);
            }
        }
        out
    }

    fn relations(&mut self, value: &Value, ptr: &str) -> Vec<Relation> {
        let mut out = Vec::new();
        for (i, item) in self.reader.list(value, ptr).iter().enumerate() {
            let p = crate::load::push_pointer(ptr, &i.to_string());
            let known = [
                "field",
                "references",
                "referencesField",
                "onDelete",
                "onUpdate",
            ];
            let Some(entries) = self.reader.object(item, &p, &known) else {
                continue;
            };
            let (mut field, mut references, mut references_field, mut on_delete, mut on_update) =
                (None, None, None, None, None);
            for (k, v, pp) in entries {
                match k {
                    "field" => {
                        field = self.reader.string(v, &pp).map(|s| Spanned {
                            value: s,
                            pointer: pp.clone(),
                        })
                    }
                    "references" => {
                        references = self.reader.string(v, &pp).map(|s| Spanned {
                            value: s,
                            pointer: pp.clone(),
                        })
                    }
                    "referencesField" => references_field = self.reader.string(v, &pp),
                    "onDelete" => on_delete = self.action(v, &pp),
                    "onUpdate" => on_update = self.action(v, &pp),
                    _ => unreachable!("reader only yields known keys"),
                }
            }
            match (field, references) {
                (Some(field), Some(references)) => out.push(Relation {
                    field,
                    references,
                    references_field,
                    on_delete,
                    on_update,
                }),
                _ => {
                    self.reader
                        .error(&p, "a relation needs `field` and `references`".into(), None)
                }
            }
        }
        out
    }

    fn action(&mut self, value: &Value, ptr: &str) -> Option<String> {
        let raw = self.reader.string(value, ptr)?;
        let normal = raw.to_ascii_uppercase().replace(['_', '-'], " ");
        const ACTIONS: [&str; 5] = [
            "CASCADE",
            "SET NULL",
            "SET DEFAULT",
            "RESTRICT",
            "NO ACTION",
        ];
        if ACTIONS.contains(&normal.as_str()) {
            Some(normal)
        } else {
            self.reader.error(
                ptr,
                format!("unknown referential action `{raw}`"),
                Some(format!("use one of {}", ACTIONS.join(", "))),
            );
            None
        }
    }

    fn methods(&mut self, value: &Value, ptr: &str) -> Vec<AdditionalMethod> {
        let mut out = Vec::new();
        for (i, item) in self.reader.list(value, ptr).iter().enumerate() {
            let p = crate::load::push_pointer(ptr, &i.to_string());
            let Some(entries) =
                self.reader
                    .object(item, &p, &["name", "params", "returns", "query", "cache"])
            else {
                continue;
            };
            let (mut name, mut params, mut returns, mut cache) =
                (None, Vec::new(), Returns::Single, false);
            for (k, v, pp) in entries {
                match k {
                    "name" => name = self.reader.string(v, &pp).map(|s| Spanned { value: s, pointer: pp.clone() }),
                    "params" => params = self.params(v, &pp),
                    "returns" => {
                        returns = match self.reader.string(v, &pp).as_deref() {
                            Some("single") | None => Returns::Single,
                            Some("multiple") => Returns::Multiple,
                            Some("count") => Returns::Count,
                            Some("exists") => Returns::Exists,
                            Some("void") => Returns::Void,
                            Some(other) => {
                                self.reader.error(&pp, format!("unknown return kind `{other}`"), Some("use single, multiple, count, exists or void".into()));
                                Returns::Single
                            }
                        }
                    }
                    "cache" => cache = self.reader.bool(v, &pp).unwrap_or(false),
                    "query" => self.reader.warning(&pp, "custom SQL in `query` is not supported; the query is derived from `params`".into()),
                    _ => unreachable!("reader only yields known keys"),
                }
            }
            match name {
                Some(name) => out.push(AdditionalMethod {
                    name,
                    params,
                    returns,
                    cache,
                }),
                None => self
                    .reader
                    .error(&p, "an additional method needs a `name`".into(), None),
            }
        }
        out
    }

    /// Params are field names, either bare (`[email]`) or as objects (`[{name: email, type: string}]`).
    fn params(&mut self, value: &Value, ptr: &str) -> Vec<Spanned<String>> {
        let mut out = Vec::new();
        for (i, item) in self.reader.list(value, ptr).iter().enumerate() {
            let p = crate::load::push_pointer(ptr, &i.to_string());
            if let Some(s) = item.as_str() {
                out.push(Spanned {
                    value: s.to_string(),
                    pointer: p,
                });
                continue;
            }
            let known = [
                "name",
                "type",
                "format",
                "maxLength",
                "minLength",
                "pattern",
            ];
            let Some(entries) = self.reader.object(item, &p, &known) else {
                continue;
            };
            if !entries.iter().any(|(k, _, _)| *k == "name") {
                self.reader.error(
                    &p,
                    "a method parameter needs a `name`".into(),
                    Some("name the entity field it matches".into()),
                );
            }
            for (k, v, pp) in entries {
                if k == "name"
                    && let Some(s) = self.reader.string(v, &pp)
                {
                    out.push(Spanned {
                        value: s,
                        pointer: pp,
                    });
                }
            }
        }
        out
    }

    fn cache(&mut self, value: &Value, ptr: &str) -> Option<Cache> {
        let known = [
            "enabled",
            "ttl",
            "keyPattern",
            "invalidateOn",
            "warmOnStartup",
            "redis",
        ];
        let entries = self.reader.object(value, ptr, &known)?;
        let mut cache = Cache {
            pointer: ptr.to_string(),
            ..Cache::default()
        };
        for (k, v, p) in entries {
            match k {
                "enabled" => cache.enabled = self.reader.bool(v, &p).unwrap_or(false),
                "ttl" => {
                    cache.ttl = v.as_u64().or_else(|| {
                        self.reader.error(
                            &p,
                            "`ttl` must be a whole number of seconds".into(),
                            None,
                        );
                        None
                    })
                }
                "keyPattern" => {
                    cache.key_pattern = self.reader.string(v, &p).map(|value| Spanned {
                        value,
                        pointer: p.clone(),
                    })
                }
                "invalidateOn" => cache.invalidate_on = Some(self.reader.string_list(v, &p)),
                _ => self
                    .reader
                    .warning(&p, format!("`cache.{k}` has no effect yet")),
            }
        }
        Some(cache)
    }

    pub fn field<'v>(
        &mut self,
        extensions: impl IntoIterator<Item = (&'v String, &'v Value)>,
        pointer: &str,
    ) -> FieldAnnotations {
        let mut out = FieldAnnotations::default();
        for (key, value) in extensions {
            let ptr = crate::load::push_pointer(pointer, key);
            match key.as_str() {
                "x-sensitive" => out.sensitive = self.reader.bool(value, &ptr).unwrap_or(false),
                "x-codegen" => {
                    let Some(entries) = self.reader.object(
                        value,
                        &ptr,
                        &["unique", "index", "validation", "searchable"],
                    ) else {
                        continue;
                    };
                    for (k, v, p) in entries {
                        match k {
                            "unique" => out.unique = self.reader.bool(v, &p).unwrap_or(false),
                            "index" => out.index = self.reader.bool(v, &p).unwrap_or(false),
                            _ => {} // validation/searchable: format and pattern already express these.
                        }
                    }
                }
                "x-internal" | "x-codegen-schema-type" => {}
                k if k.starts_with("x-codegen") => {
                    self.reader.unknown_extension(&ptr, k, SCHEMA_EXTENSIONS)
                }
                _ => {}
            }
        }
        out
    }

    pub fn operation<'v>(
        &mut self,
        extensions: impl IntoIterator<Item = (&'v String, &'v Value)>,
        pointer: &str,
    ) -> OperationAnnotations {
        let mut out = OperationAnnotations::default();
        for (key, value) in extensions {
            let ptr = crate::load::push_pointer(pointer, key);
            match key.as_str() {
                "x-codegen-custom-handler" => {
                    out.custom_handler = self.reader.bool(value, &ptr).unwrap_or(false)
                }
                "x-public-endpoint" => out.public = self.reader.bool(value, &ptr).unwrap_or(false),
                "x-codegen-permissions" => out.permissions = Some(self.permissions(value, &ptr)),
                // Redocly and Stoplight hide operations with a boolean `x-internal`; only ArchesAI's
                // string form (the owning service) is ours.
                "x-internal" if value.is_boolean() => {}
                "x-internal" => out.internal = self.reader.string(value, &ptr),
                "x-public" => self
                    .reader
                    .unknown_key(&ptr, "x-public", OPERATION_EXTENSIONS),
                k if k.starts_with("x-codegen") => {
                    self.reader.unknown_extension(&ptr, k, OPERATION_EXTENSIONS)
                }
                _ => {}
            }
        }
        out
    }
}

impl Annotator<'_> {
    fn permissions(&mut self, value: &Value, pointer: &str) -> Permissions {
        let mut out = Permissions {
            pointer: pointer.to_string(),
            ..Permissions::default()
        };
        let names = |list: Vec<Spanned<String>>| list.into_iter().map(|s| s.value).collect();
        if value.is_array() {
            out.all_of = names(self.reader.string_list(value, pointer));
            return out;
        }
        for (key, v, p) in self
            .reader
            .object(value, pointer, &["roles", "permissions"])
            .unwrap_or_default()
        {
            match key {
                "roles" => out.any_role = names(self.reader.string_list(v, &p)),
                _ => out.all_of = names(self.reader.string_list(v, &p)),
            }
        }
        if out.any_role.is_empty() && out.all_of.is_empty() {
            self.reader.error(
                pointer,
                "`x-codegen-permissions` names nothing".into(),
                Some("list the permissions every caller needs, or `roles: [...]` of which one is needed".into()),
            );
        }
        out
    }
}

const SCHEMA_EXTENSIONS: &[&str] = &["x-codegen", "x-codegen-schema-type", "x-internal"];
const OPERATION_EXTENSIONS: &[&str] = &[
    "x-codegen-custom-handler",
    "x-codegen-permissions",
    "x-public-endpoint",
    "x-internal",
];
