//! From a loaded spec to the [`Model`]: read annotations, name everything, lower entities and
//! operations, and check that annotations only name things that exist.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, StatusCode};

use super::classify::{Shape, classify, resolve_response};
use super::entity::{EntityInput, lower_entity};
use super::names::{Namespace, field_ident, pascal, snake};
use super::schema::{ObjectS, S, SKind, SRef, from_ref, from_schema};
use super::types::{TypeDef, Types, rule_static};
use super::{Body, Domain, Entity, Model, Operation, Param};
use crate::annotate::{Annotator, SchemaAnnotations, SchemaType};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::load::{Loaded, push_pointer};

/// Lower a loaded spec. Warnings come back with the model; errors instead of it.
pub fn lower(loaded: &Loaded) -> Result<(Model, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::default();
    let spec: OpenAPI = serde_path_to_error::deserialize(&loaded.doc).map_err(|e| {
        let pointer = format!("/{}", e.path().to_string().replace('.', "/"));
        Diagnostics::from(
            Diagnostic::error(format!("not a valid OpenAPI document: {}", e.inner()))
                .at(loaded.sources.locate(&pointer))
                .pointer(pointer),
        )
    })?;
    let components: IndexMap<String, S> = spec
        .components
        .as_ref()
        .map(|c| {
            c.schemas
                .iter()
                .map(|(k, v)| (k.clone(), from_ref_schema(v)))
                .collect()
        })
        .unwrap_or_default();

    let mut annotator = Annotator::new(&loaded.sources);
    let annotations: IndexMap<String, SchemaAnnotations> = components
        .iter()
        .map(|(name, s)| {
            (
                name.clone(),
                annotator.schema(&s.extensions, &format!("/components/schemas/{name}")),
            )
        })
        .collect();

    // Operations first: they decide which domains exist.
    let mut raw_ops = Vec::new();
    for (path, item) in &spec.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let pointer = push_pointer(&push_pointer("/paths", path), method);
            let ann = annotator.operation(&op.extensions, &pointer);
            let domain = ann
                .internal
                .clone()
                .or_else(|| op.tags.first().cloned())
                .map(|d| snake(&d))
                .unwrap_or_else(|| "api".into());
            raw_ops.push((
                path.clone(),
                method.to_string(),
                op,
                item,
                ann,
                domain,
                pointer,
            ));
        }
    }
    let mut types = Types::new(&components);
    types.name_components();
    // Entity domains: their own x-internal, else the domain of the first operation that serves
    // them (by ArchesAI's response conventions), else the first tag that names them.
    let plurals: Vec<(String, String)> = annotations
        .iter()
        .filter(|(_, a)| a.schema_type == Some(SchemaType::Entity))
        .map(|(name, _)| {
            (
                name.clone(),
                super::names::plural(&snake(
                    &types
                        .names
                        .get(name)
                        .cloned()
                        .unwrap_or_else(|| pascal(name)),
                )),
            )
        })
        .collect();
    let mut served_by: IndexMap<String, String> = IndexMap::new();
    for (path, method, op, _, ann, domain, _) in &raw_ops {
        let success = op
            .responses
            .responses
            .iter()
            .find_map(|(code, r)| match code {
                StatusCode::Code(c) if (200..300).contains(c) => resolve_response(r, &spec),
                _ => None,
            });
        let shape = Shape {
            method,
            path,
            custom: ann.custom_handler,
        };
        if let (_, Some(entity)) = classify(&shape, success, &plurals) {
            served_by.entry(entity).or_insert_with(|| domain.clone());
        }
    }
    let mut entity_domains: IndexMap<String, String> = IndexMap::new();
    for (name, ann) in &annotations {
        if ann.schema_type == Some(SchemaType::Entity) {
            let domain = ann
                .internal
                .clone()
                .map(|d| snake(&d))
                .or_else(|| served_by.get(name).cloned())
                .or_else(|| {
                    raw_ops
                        .iter()
                        .find(|o| o.2.tags.iter().any(|t| pascal(t) == pascal(name)))
                        .map(|o| o.5.clone())
                });
            entity_domains.insert(name.clone(), domain.unwrap_or_else(|| "api".into()));
        }
    }
    let domain_names: BTreeSet<String> = raw_ops
        .iter()
        .map(|o| o.5.clone())
        .chain(entity_domains.values().cloned())
        .collect();

    // Reserve the names generated code derives from entities and domains.
    for name in entity_domains.keys() {
        let rust = types
            .names
            .get(name)
            .cloned()
            .unwrap_or_else(|| pascal(name));
        for derived in [
            "New{}",
            "{}Patch",
            "{}Repository",
            "Pg{}Repository",
            "Sqlite{}Repository",
            "Mock{}Repository",
        ] {
            types.namespace.reserve(&derived.replace("{}", &rust));
        }
    }
    for d in &domain_names {
        types.namespace.reserve(&format!("{}Service", pascal(d)));
        types
            .namespace
            .reserve(&format!("{}Repositories", pascal(d)));
    }

    let mut entities: Vec<Entity> = Vec::new();
    let mut entity_components = Vec::new();
    for (component, domain) in &entity_domains {
        let rust_name = types
            .names
            .get(component)
            .cloned()
            .unwrap_or_else(|| pascal(component));
        let input = EntityInput {
            component,
            rust_name,
            domain: domain.clone(),
            annotations: &annotations[component],
        };
        if let Some(e) = lower_entity(
            &input,
            &mut types,
            &mut annotator,
            &loaded.sources,
            &mut diags,
        ) {
            entity_components.push((component.clone(), e.plural.clone()));
            entities.push(e);
        }
    }
    resolve_foreign_keys(&mut entities, &loaded.sources, &mut diags);

    // Operations.
    let mut fn_names: BTreeMap<String, Namespace> = BTreeMap::new();
    let mut ops_by_domain: BTreeMap<String, Vec<Operation>> = BTreeMap::new();
    let mut rules_by_domain: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut extra_rules: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut seen_ids = Namespace::default();
    let mut page_limits_by_entity: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    let mut sortable_by_entity: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, method, op, item, ann, domain, pointer) in &raw_ops {
        let raw_id = op
            .operation_id
            .clone()
            .unwrap_or_else(|| format!("{method} {path}"));
        let id = seen_ids.claim(&pascal(&raw_id));
        if op.operation_id.is_none() {
            diags.push(
                Diagnostic::warning(format!(
                    "operation {} {path} has no operationId; named `{id}`",
                    method.to_uppercase()
                ))
                .at(loaded.sources.locate(pointer)),
            );
        }
        let success = op
            .responses
            .responses
            .iter()
            .find_map(|(code, r)| match code {
                StatusCode::Code(c) if (200..300).contains(c) => Some((*c, r)),
                _ => None,
            });
        let success_resp = success.and_then(|(_, r)| resolve_response(r, &spec));
        let custom = ann.custom_handler;
        let (kind, entity_component) = classify(
            &Shape {
                method,
                path,
                custom,
            },
            success_resp,
            &entity_components,
        );
        let declared: Vec<u16> = op
            .responses
            .responses
            .keys()
            .filter_map(|c| match c {
                StatusCode::Code(c) => Some(*c),
                _ => None,
            })
            .collect();
        let validation_status = if declared.contains(&422) {
            422
        } else if declared.contains(&400) {
            400
        } else {
            422
        };
        let status = success.map(|(c, _)| c).unwrap_or(match kind {
            "create" => 201,
            "delete" => 204,
            _ => 200,
        });
        // CRUD defaults use their domain's repositories: an operation on another domain's
        // entity is served as a custom operation instead.
        let entity = entity_component
            .as_ref()
            .filter(|c| entity_domains.get(*c) == Some(domain))
            .and_then(|c| {
                entities
                    .iter()
                    .find(|e| types.names.get(c).cloned().unwrap_or_else(|| pascal(c)) == e.name)
            });
        let kind = if entity.is_some() { kind } else { "custom" };
        let needed = rules_by_domain.entry(domain.clone()).or_default();
        let fn_name = fn_names
            .entry(domain.clone())
            .or_default()
            .claim(&snake(&id));
        let mut params = Vec::new();
        for p in item.parameters.iter().chain(op.parameters.iter()) {
            if let Some(param) = resolve_parameter(p, &spec) {
                params.push(param);
            }
        }
        let mut path_params = Vec::new();
        let mut query_params = Vec::new();
        let mut idents = Namespace::default();
        for p in &params {
            let data = p.parameter_data_ref();
            let ParameterSchemaOrContent::Schema(schema) = &data.format else {
                continue;
            };
            let sref = from_ref(schema);
            let hint = format!("{id}{}", super::names::variant(&data.name));
            let ty = types.ty(&sref, &hint, Some(domain)).rust;
            let param = Param {
                name: data.name.clone(),
                ident: idents.claim(&field_ident(&data.name)),
                ty,
                required: data.required,
                // CRUD operations parse their parameters in the runtime; only custom ones need rules.
                rule: if kind == "custom" {
                    types.rule(&sref, needed)
                } else {
                    String::new()
                },
            };
            match p {
                Parameter::Path { .. } => path_params.push(param),
                Parameter::Query { .. } => query_params.push(param),
                // Headers and cookies are not read by generated handlers yet.
                _ => {}
            }
        }
        if kind == "list" {
            let component = entity_component.clone().unwrap_or_default();
            if let Some(limits) = page_limits(&params, &types) {
                page_limits_by_entity.insert(component.clone(), limits);
            }
            if let Some(fields) = sort_fields(&params, &types) {
                sortable_by_entity.insert(component, fields);
            }
        }
        let body_schema = op.request_body.as_ref().and_then(|rb| match rb {
            ReferenceOr::Item(b) => Some(b.clone()),
            ReferenceOr::Reference { reference } => {
                let name = reference.strip_prefix("#/components/requestBodies/")?;
                match spec.components.as_ref()?.request_bodies.get(name)? {
                    ReferenceOr::Item(b) => Some(b.clone()),
                    _ => None,
                }
            }
        });
        let body_required = body_schema.as_ref().is_some_and(|b| b.required);
        let json_body = body_schema.as_ref().and_then(|b| {
            b.content
                .iter()
                .find(|(k, _)| k.contains("json"))
                .and_then(|(_, m)| m.schema.as_ref())
                .map(from_ref)
        });

        let mut operation = Operation {
            id: id.clone(),
            fn_name,
            method: method.clone(),
            path: path.clone(),
            kind,
            summary: op.summary.clone(),
            entity: entity.map(|e| e.name.clone()),
            entity_plural: entity.map(|e| e.plural.clone()),
            status,
            validation_status,
            path_params,
            query_params,
            body: None,
            output: None,
            input: None,
            assign: Vec::new(),
            public: ann.public,
        };
        match (kind, entity) {
            ("create" | "update", Some(e)) => {
                let body_name = types.namespace.claim(&format!("{id}Body"));
                let (def, rule, assign) = crud_body(
                    kind,
                    e,
                    json_body.as_ref(),
                    &body_name,
                    &types,
                    needed,
                    &mut diags,
                    &loaded.sources,
                    pointer,
                );
                let rule_name = format!(
                    "RULE_{}",
                    heck::ToShoutySnakeCase::to_shouty_snake_case(body_name.as_str())
                );
                extra_rules
                    .entry(domain.clone())
                    .or_default()
                    .push((rule_name.clone(), rule));
                operation.body = Some(Body {
                    ty: body_name,
                    rule: format!("&{rule_name}"),
                    required: true,
                });
                operation.assign = assign;
                types.defs.push(TypeDef {
                    owner: Some(domain.clone()),
                    ..def
                });
            }
            ("custom", _) | (_, None) => {
                operation.kind = "custom";
                if let Some(sref) = &json_body {
                    let ty = types.ty(sref, &format!("{id}Body"), Some(domain)).rust;
                    let rule = types.rule(sref, needed);
                    operation.body = Some(Body {
                        ty,
                        rule,
                        required: body_required,
                    });
                }
                operation.output = success_resp.and_then(|r| {
                    let media = r.content.iter().find(|(k, _)| k.contains("json"))?.1;
                    let sref = from_ref(media.schema.as_ref()?);
                    Some(types.ty(&sref, &format!("{id}Response"), Some(domain)).rust)
                });
                let input = types.namespace.claim(&format!("{id}Input"));
                let mut fields: Vec<super::StructField> = operation
                    .path_params
                    .iter()
                    .chain(&operation.query_params)
                    .map(|p| super::StructField {
                        ident: p.ident.clone(),
                        json: p.name.clone(),
                        ty: if p.required {
                            p.ty.clone()
                        } else {
                            format!("Option<{}>", p.ty)
                        },
                        doc: None,
                        optional: !p.required,
                        rename: p.ident != p.name,
                        sensitive: false,
                        patch: false,
                    })
                    .collect();
                if let Some(b) = &operation.body {
                    fields.push(super::StructField {
                        ident: "body".into(),
                        json: "body".into(),
                        ty: if b.required {
                            b.ty.clone()
                        } else {
                            format!("Option<{}>", b.ty)
                        },
                        doc: None,
                        optional: !b.required,
                        rename: false,
                        sensitive: false,
                        patch: false,
                    });
                }
                types.defs.push(TypeDef {
                    name: input.clone(),
                    doc: Some(format!("Input of `{id}`.")),
                    kind: "struct",
                    fields,
                    variants: Vec::new(),
                    owner: Some(domain.clone()),
                });
                operation.input = Some(input);
                operation.entity = None;
                operation.entity_plural = None;
            }
            _ => {}
        }
        ops_by_domain
            .entry(domain.clone())
            .or_default()
            .push(operation);
    }

    // Named component types, each into the domain that owns it.
    let entity_set: BTreeSet<&String> = entity_domains.keys().collect();
    for (component, _) in components.iter() {
        if entity_set.contains(component) {
            continue;
        }
        let owner = annotations[component]
            .internal
            .as_ref()
            .map(|d| snake(d))
            .filter(|d| domain_names.contains(d));
        types.component_def(component, owner.as_deref());
    }

    diags.extend(std::mem::take(&mut types.diagnostics));
    diags.extend(annotator.finish());
    if diags.has_errors() {
        return Err(diags.sorted());
    }

    for (component, (default, max)) in &page_limits_by_entity {
        let rust = types
            .names
            .get(component)
            .cloned()
            .unwrap_or_else(|| pascal(component));
        if let Some(e) = entities.iter_mut().find(|e| e.name == rust) {
            e.default_limit = *default;
            e.max_limit = *max;
        }
    }
    for (component, fields) in &sortable_by_entity {
        let rust = types
            .names
            .get(component)
            .cloned()
            .unwrap_or_else(|| pascal(component));
        if let Some(e) = entities.iter_mut().find(|e| e.name == rust) {
            e.sortable = fields
                .iter()
                .filter(|f| e.fields.iter().any(|ef| &ef.name == *f && !ef.sensitive))
                .cloned()
                .collect();
        }
    }
    let tables_order = order_tables(&entities);
    let mut defs_by_owner: BTreeMap<Option<String>, Vec<TypeDef>> = BTreeMap::new();
    for def in std::mem::take(&mut types.defs) {
        let owner = def.owner.clone().filter(|o| domain_names.contains(o));
        defs_by_owner.entry(owner).or_default().push(def);
    }
    let mut domains = Vec::new();
    for name in &domain_names {
        let mut needed = rules_by_domain.remove(name).unwrap_or_default();
        let mut rules = extra_rules.remove(name).unwrap_or_default();
        // Component rules may name further components: close over them.
        let mut done = BTreeSet::new();
        while let Some(c) = needed.iter().find(|c| !done.contains(*c)).cloned() {
            done.insert(c.clone());
            if let Some(s) = components.get(&c) {
                let expr = types.rule_of(s, &mut needed, 0);
                let expr = expr.strip_prefix('&').unwrap_or(&expr).to_string();
                rules.push((rule_static(&c), expr));
            }
        }
        rules.sort();
        domains.push(Domain {
            name: name.clone(),
            base: super::names::plain_snake(name),
            pascal: pascal(name),
            entities: entities
                .iter()
                .filter(|e| {
                    entity_domains.iter().any(|(c, d)| {
                        d == name && types.names.get(c).map_or(pascal(c), |n| n.clone()) == e.name
                    })
                })
                .cloned()
                .collect(),
            operations: ops_by_domain.remove(name).unwrap_or_default(),
            types: defs_by_owner
                .remove(&Some(name.clone()))
                .unwrap_or_default(),
            rules,
        });
    }
    let title = spec.info.title.clone();
    let service = spec
        .extensions
        .get("x-project-name")
        .and_then(|v| v.as_str())
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_string())
        .unwrap_or_else(|| title.clone());
    let tables = tables_order;
    Ok((
        Model {
            title,
            service: heck::ToKebabCase::to_kebab_case(service.as_str()),
            domains,
            common_types: defs_by_owner.remove(&None).unwrap_or_default(),
            tables,
        },
        diags.sorted(),
    ))
}

/// `limit`'s default and maximum, from a `page` object parameter (ArchesAI) or a plain `limit`.
fn page_limits(params: &[&Parameter], types: &Types<'_>) -> Option<(u32, u32)> {
    let schema_of = |name: &str| {
        params
            .iter()
            .find(|p| p.parameter_data_ref().name == name)
            .and_then(|p| match &p.parameter_data_ref().format {
                ParameterSchemaOrContent::Schema(s) => Some(from_ref(s)),
                ParameterSchemaOrContent::Content(_) => None,
            })
    };
    let limit = match schema_of("page") {
        Some(page) => types.flatten(&page)?.properties.get("limit")?.clone(),
        None => schema_of("limit")?,
    };
    let s = types.resolve(&limit)?;
    let SKind::Integer(n) = &s.kind else {
        return None;
    };
    let max = n
        .maximum
        .filter(|m| *m >= 1.0)
        .map_or(100, |m| m.min(10_000.0) as u32);
    let default = s
        .default
        .as_ref()
        .and_then(|d| d.as_u64())
        .map_or(max.min(20), |d| (d as u32).clamp(1, max));
    Some((default, max))
}

/// The `field` enum of an ArchesAI-style `sort` parameter (an array of `{field, order}`).
fn sort_fields(params: &[&Parameter], types: &Types<'_>) -> Option<Vec<String>> {
    let param = params
        .iter()
        .find(|p| p.parameter_data_ref().name == "sort")?;
    let ParameterSchemaOrContent::Schema(schema) = &param.parameter_data_ref().format else {
        return None;
    };
    let sref = from_ref(schema);
    let SKind::Array {
        items: Some(items), ..
    } = &types.resolve(&sref)?.kind
    else {
        return None;
    };
    let field = types.flatten(items)?.properties.get("field")?.clone();
    match &types.resolve(&field)?.kind {
        SKind::String(st) if !st.enumeration.is_empty() => Some(st.enumeration.clone()),
        _ => None,
    }
}

fn from_ref_schema(r: &ReferenceOr<openapiv3::Schema>) -> S {
    match r {
        ReferenceOr::Item(s) => from_schema(s),
        ReferenceOr::Reference { .. } => S {
            kind: SKind::AllOf(vec![from_ref(r)]),
            ..S::default()
        },
    }
}

fn resolve_parameter<'a>(
    p: &'a ReferenceOr<Parameter>,
    spec: &'a OpenAPI,
) -> Option<&'a Parameter> {
    match p {
        ReferenceOr::Item(p) => Some(p),
        ReferenceOr::Reference { reference } => {
            let name = reference.strip_prefix("#/components/parameters/")?;
            match spec.components.as_ref()?.parameters.get(name)? {
                ReferenceOr::Item(p) => Some(p),
                _ => None,
            }
        }
    }
}

/// The body of a create or update: the entity's settable fields the request schema lists, typed
/// as the entity types them so the default service can move them across without conversion.
#[allow(clippy::too_many_arguments)]
fn crud_body(
    kind: &str,
    entity: &Entity,
    schema: Option<&SRef>,
    name: &str,
    types: &Types<'_>,
    needed: &mut BTreeSet<String>,
    diags: &mut Diagnostics,
    sources: &crate::load::SourceMap,
    pointer: &str,
) -> (TypeDef, String, Vec<(String, String)>) {
    let declared: ObjectS = schema.and_then(|s| types.flatten(s)).unwrap_or_default();
    let create = kind == "create";
    let settable = |f: &super::Field| if create { f.creatable } else { f.updatable };
    let mut rule_obj = ObjectS {
        additional: declared.additional.clone(),
        ..ObjectS::default()
    };
    let mut fields = Vec::new();
    let mut forbidden = Vec::new();
    for f in &entity.fields {
        let listed = declared
            .properties
            .iter()
            .find(|(k, _)| super::names::loose_eq(k, &f.name));
        if f.server_set.is_some() {
            forbidden.push((f.name.clone(), "is set by the server".to_string()));
            continue;
        }
        if !settable(f) {
            let why = if create {
                "cannot be set on create"
            } else {
                "cannot be changed once set"
            };
            forbidden.push((f.name.clone(), why.to_string()));
            if listed.is_some() {
                diags.push(Diagnostic::warning(format!("`{}` is in the {kind} body but excluded from {kind} on `{}`; it will be rejected", f.name, entity.name)).at(sources.locate(pointer)));
            }
            continue;
        }
        // Without a declared body every settable field is accepted.
        if schema.is_some()
            && listed.is_none()
            && (!create || f.nullable || f.default_expr.is_some())
        {
            continue;
        }
        let prop_rule_src = listed.map(|(_, s)| s.clone());
        let declared_required = listed.is_some_and(|(k, _)| declared.required.contains(k));
        let required = create && (declared_required || (!f.nullable && f.default_expr.is_none()));
        if create && listed.is_some() && !declared_required && required {
            diags.push(
                Diagnostic::warning(format!(
                    "`{}` is optional in the create body but required by entity `{}` (no default, not nullable); requests without it get 422",
                    f.name, entity.name
                ))
                .at(sources.locate(pointer))
                .hint("mark it required in the body, give the field a default, or make it nullable"),
            );
        }
        if create && listed.is_none() && schema.is_some() {
            diags.push(
                Diagnostic::warning(format!("`{}` is required by entity `{}` but missing from the create body; accepting it in the body", f.name, entity.name))
                    .at(sources.locate(pointer)),
            );
        }
        let prop = prop_rule_src.unwrap_or_else(|| entity_prop(f));
        let prop = if f.nullable { nullable(prop) } else { prop };
        rule_obj.properties.insert(f.name.clone(), prop);
        if required {
            rule_obj.required.push(f.name.clone());
        }
        let ty = if create {
            if required && !f.nullable {
                f.base.clone()
            } else {
                format!("Option<{}>", f.base)
            }
        } else {
            format!("rt::Patch<{}>", f.base)
        };
        fields.push(super::StructField {
            ident: f.ident.clone(),
            json: f.name.clone(),
            ty,
            doc: f.doc.clone(),
            optional: !required,
            rename: f.ident.trim_start_matches("r#") != f.name,
            sensitive: false,
            patch: !create,
        });
    }
    let rule = types.object_rule(&rule_obj, &forbidden, needed, 0);
    let assign = if create {
        create_assignments(entity, &fields)
    } else {
        let in_body = |f: &super::Field| fields.iter().any(|b| b.ident == f.ident);
        entity
            .fields
            .iter()
            .filter(|f| f.updatable)
            .map(|f| {
                (
                    f.ident.clone(),
                    if in_body(f) {
                        format!("body.{}", f.ident)
                    } else {
                        "rt::Patch::Absent".into()
                    },
                )
            })
            .collect()
    };
    let doc = Some(
        format!("Body of `{name}` for {}.", entity.name).replace("Body of `", "Request body `"),
    );
    (
        TypeDef {
            name: name.to_string(),
            doc,
            kind: "struct",
            fields,
            variants: Vec::new(),
            owner: None,
        },
        rule,
        assign,
    )
}

/// How each field of `New<Entity>` is filled from a create body.
fn create_assignments(entity: &Entity, body: &[super::StructField]) -> Vec<(String, String)> {
    entity
        .fields
        .iter()
        .filter(|f| f.server_set.is_none())
        .map(|f| {
            let in_body = body.iter().find(|b| b.ident == f.ident);
            let default = f.default_expr.clone();
            let expr = match (in_body, f.nullable, default) {
                (Some(_), true, _) => format!("body.{}", f.ident),
                (Some(b), false, _) if !b.ty.starts_with("Option<") => format!("body.{}", f.ident),
                // Literals need no closure (clippy: unnecessary_lazy_evaluations); calls do.
                (Some(_), false, Some(d)) if !d.contains('(') => {
                    format!("body.{}.unwrap_or({d})", f.ident)
                }
                (Some(_), false, Some(d)) => format!("body.{}.unwrap_or_else(|| {d})", f.ident),
                (Some(_), false, None) => format!("body.{}.unwrap_or_default()", f.ident),
                (None, true, Some(d)) => format!("Some({d})"),
                (None, true, None) => "None".into(),
                (None, false, Some(d)) => d,
                (None, false, None) => "Default::default()".into(),
            };
            (f.ident.clone(), expr)
        })
        .collect()
}

fn nullable(r: SRef) -> SRef {
    match r {
        SRef::Inline(mut s) => {
            s.nullable = true;
            SRef::Inline(s)
        }
        SRef::Ref(_) => SRef::Inline(Box::new(S {
            nullable: true,
            kind: SKind::AllOf(vec![r]),
            ..S::default()
        })),
    }
}

/// A plain schema for a field that the request schema does not declare.
fn entity_prop(f: &super::Field) -> SRef {
    use super::schema::{NumberS, StringS};
    use super::types::Storage;
    let kind = match f.storage {
        Storage::Text => SKind::String(StringS::default()),
        Storage::Enum => SKind::String(StringS {
            enumeration: f.enum_values.clone(),
            ..StringS::default()
        }),
        Storage::Uuid => SKind::String(StringS {
            format: Some("uuid".into()),
            ..StringS::default()
        }),
        Storage::DateTime => SKind::String(StringS {
            format: Some("date-time".into()),
            ..StringS::default()
        }),
        Storage::Date => SKind::String(StringS {
            format: Some("date".into()),
            ..StringS::default()
        }),
        Storage::Int32 => SKind::Integer(NumberS {
            format: Some("int32".into()),
            ..NumberS::default()
        }),
        Storage::Int64 => SKind::Integer(NumberS::default()),
        Storage::Float => SKind::Number(NumberS::default()),
        Storage::Bool => SKind::Boolean,
        Storage::Json => SKind::Any,
    };
    SRef::Inline(Box::new(S {
        kind,
        ..S::default()
    }))
}

/// Point each relation at the table of the entity it names; relations to entities this spec does
/// not define are dropped with a warning (the table would not exist).
fn resolve_foreign_keys(
    entities: &mut [Entity],
    sources: &crate::load::SourceMap,
    diags: &mut Diagnostics,
) {
    let targets: Vec<(String, String, String, Vec<String>)> = entities
        .iter()
        .map(|e| {
            (
                e.name.clone(),
                e.snake.clone(),
                e.table.clone(),
                e.fields.iter().map(|f| f.column.clone()).collect(),
            )
        })
        .collect();
    for e in entities.iter_mut() {
        let name = e.name.clone();
        let fields = e.fields.clone();
        e.foreign_keys.retain_mut(|fk| {
            let wanted = fk.table.clone();
            let at = sources.locate(&fk.pointer);
            let field = fields.iter().find(|f| f.column == fk.column);
            let field_name = field.map_or(fk.column.as_str(), |f| f.name.as_str());
            let target = targets.iter().find(|(n, s, t, _)| {
                super::names::loose_eq(n, &wanted) || super::names::loose_eq(s, &wanted) || super::names::loose_eq(t, &wanted)
            });
            let Some((target_name, _, table, columns)) = target else {
                let mut d = Diagnostic::warning(format!(
                    "relation {name}.{field_name} references `{wanted}`, which is not an entity of this spec; no foreign key is created"
                ))
                .at(at);
                if let Some(hint) = crate::diagnostic::did_you_mean(&wanted, targets.iter().map(|t| t.0.as_str())) {
                    d = d.hint(hint);
                }
                diags.push(d);
                return false;
            };
            if !columns.contains(&fk.target_column) {
                diags.push(
                    Diagnostic::error(format!(
                        "relation {name}.{field_name} references field `{}` of `{target_name}`, which has no such field",
                        fk.target_column
                    ))
                    .at(at)
                    .hint("leave out `referencesField` to reference the id"),
                );
                return false;
            }
            fk.table = table.clone();
            let sets_null = [&fk.on_delete, &fk.on_update].iter().any(|a| a.as_deref() == Some("SET NULL"));
            if sets_null && field.is_some_and(|f| !f.nullable) {
                diags.push(
                    Diagnostic::warning(format!(
                        "relation {name}.{field_name} sets NULL on a field that cannot be null: the database will refuse that change"
                    ))
                    .at(sources.locate(&fk.pointer)),
                );
            }
            true
        });
    }
}

/// Tables in an order where every foreign key points backwards, so one migration can create them.
fn order_tables(entities: &[Entity]) -> Vec<Entity> {
    let mut done: Vec<Entity> = Vec::new();
    let mut left: Vec<&Entity> = entities.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|e| {
            let ready = e
                .foreign_keys
                .iter()
                .all(|fk| fk.table == e.table || done.iter().any(|d| d.table == fk.table));
            if ready {
                done.push((*e).clone());
            }
            !ready
        });
        if left.len() == before {
            // A cycle: take the rest as they come (SQLite and Postgres accept forward references
            // only when deferred, so cycles are rare in practice and reported by the database).
            done.extend(left.drain(..).cloned());
        }
    }
    done
}
