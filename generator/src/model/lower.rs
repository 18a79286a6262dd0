//! From a loaded spec to the [`Model`]: read annotations, name everything, lower entities and
//! operations, and check that annotations only name things that exist.

use std::collections::{BTreeMap, BTreeSet};

use indexmap::IndexMap;
use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, ReferenceOr, StatusCode};

use super::body::crud_body;
use super::classify::{Shape, classify, resolve_response};
use super::entity::{EntityInput, lower_entity};
use super::list_params::{page_limits, sort_fields};
use super::names::{Namespace, field_ident, pascal, snake};
use super::relations::{order_tables, resolve_foreign_keys};
use super::rules::Rule;
use super::schema::{S, SKind, from_ref, from_schema};
use super::types::{TypeDef, Types, rule_static};
use super::{Body, Domain, Entity, Model, NamedRule, Operation, OperationKind, Param};
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
                .map(|d| super::names::domain_module(&d))
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
    // What generated code derives from domain names, then from entity names, is taken before
    // any spec type is named, so no spec type can collide with it.
    for domain in raw_ops.iter().map(|o| &o.5).chain([&"api".to_string()]) {
        for derived in super::names::domain_derived(domain) {
            types.namespace.reserve(&derived);
        }
    }
    let entity_schemas: BTreeSet<String> = annotations
        .iter()
        .filter(|(_, a)| a.schema_type == Some(SchemaType::Entity))
        .map(|(name, _)| name.clone())
        .collect();
    types.name_components(&entity_schemas, super::names::entity_derived);
    // Entity domains: their own x-internal, else the domain of the first operation that serves
    // them (by ArchesAI's response conventions), else the first tag that names them.
    let plurals: Vec<(String, String)> = annotations
        .iter()
        .filter(|(_, a)| a.schema_type == Some(SchemaType::Entity))
        .map(|(name, _)| {
            (
                name.clone(),
                super::names::plural(&snake(&types.rust_name(name))),
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
                .map(|d| super::names::domain_module(&d))
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

    // Domains that only an entity names (`x-internal`) are known only now.
    for d in &domain_names {
        for derived in super::names::domain_derived(d) {
            types.namespace.reserve(&derived);
        }
    }

    let mut entities: Vec<Entity> = Vec::new();
    let mut entity_components = Vec::new();
    for (component, domain) in &entity_domains {
        let rust_name = types.rust_name(component);
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

    let security_schemes = super::security::schemes(&spec, &loaded.sources, &mut diags);

    // Operations.
    let mut fn_names: BTreeMap<String, Namespace> = BTreeMap::new();
    let mut ops_by_domain: BTreeMap<String, Vec<Operation>> = BTreeMap::new();
    let mut rules_by_domain: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut extra_rules: BTreeMap<String, Vec<NamedRule>> = BTreeMap::new();
    let mut seen_ids = Namespace::default();
    // Secured operations whose spec does not say they can answer 401.
    let mut undeclared_401: Vec<String> = Vec::new();
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
        let covers_any = op.responses.default.is_some();
        let validation_status = if declared.contains(&422) {
            422
        } else if declared.contains(&400) {
            400
        } else {
            422
        };
        // A malformed path parameter names no resource: when the operation declares neither 400
        // nor 422 but does declare 404, that is the answer its clients expect.
        let path_invalid_status =
            if !declared.contains(&422) && !declared.contains(&400) && declared.contains(&404) {
                404
            } else {
                validation_status
            };
        let next_cursor = success.is_none_or(|(c, _)| {
            super::list_params::next_cursor_allowed(
                &loaded.doc,
                &format!("{pointer}/responses/{c}"),
            )
        });
        let status = success.map(|(c, _)| c).unwrap_or(match kind {
            OperationKind::Create => 201,
            OperationKind::Delete => 204,
            _ => 200,
        });
        // CRUD defaults use their domain's repositories: an operation on another domain's
        // entity is served as a custom operation instead.
        let entity = entity_component
            .as_ref()
            .filter(|c| entity_domains.get(*c) == Some(domain))
            .and_then(|c| entities.iter().find(|e| types.rust_name(c) == e.name));
        let kind = if entity.is_some() {
            kind
        } else {
            OperationKind::Custom
        };
        let needed = rules_by_domain.entry(domain.clone()).or_default();
        let fn_name = fn_names
            .entry(domain.clone())
            .or_default()
            .claim(&snake(&id));
        // Operation-level parameters override path-level ones of the same name and location.
        let mut params: Vec<&Parameter> = Vec::new();
        for p in item.parameters.iter().chain(op.parameters.iter()) {
            if let Some(param) = resolve_parameter(p, &spec) {
                let key = |q: &Parameter| {
                    let location = match q {
                        Parameter::Query { .. } => 0,
                        Parameter::Header { .. } => 1,
                        Parameter::Path { .. } => 2,
                        Parameter::Cookie { .. } => 3,
                    };
                    (location, q.parameter_data_ref().name.clone())
                };
                params.retain(|q| key(q) != key(param));
                params.push(param);
            }
        }
        let template = super::names::path_template_params(path);
        let (mut path_params, mut query_params) = (Vec::new(), Vec::new());
        let (mut header_params, mut cookie_params) = (Vec::new(), Vec::new());
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
                position: template
                    .iter()
                    .position(|t| *t == data.name)
                    .unwrap_or(template.len()),
                ident: idents.claim(&field_ident(&data.name)),
                ty,
                required: data.required,
                // CRUD operations parse their parameters in the runtime; only custom ones need rules.
                rule: (kind == OperationKind::Custom).then(|| types.rule(&sref, needed)),
            };
            match p {
                Parameter::Path { .. } => path_params.push(param),
                Parameter::Query { .. } => query_params.push(param),
                Parameter::Header { .. } => header_params.push(param),
                Parameter::Cookie { .. } => cookie_params.push(param),
            }
        }
        if kind == OperationKind::List {
            let component = entity_component.clone().unwrap_or_default();
            if let Some(limits) = page_limits(&params, &types) {
                page_limits_by_entity.insert(component.clone(), limits);
            }
            if let Some(fields) = sort_fields(&params, &types) {
                sortable_by_entity.insert(component, fields);
            }
            if super::list_params::sort_is_free_text(&params, &types) {
                diags.push(
                    Diagnostic::warning(format!(
                        "the `sort` parameter of {} {path} accepts any text, but the service sorts only on the entity's fields and answers 422 for others",
                        method.to_uppercase()
                    ))
                    .at(loaded.sources.locate(pointer))
                    .hint("list the keys: `items: {type: string, enum: [name, -name, …]}` (or a `pattern`), so clients and conformance tools send only those"),
                );
            }
            if super::list_params::sort_is_object_array(&params, &types) {
                diags.push(
                    Diagnostic::warning(format!(
                        "the `sort` parameter of {} {path} is an array of objects, which OpenAPI cannot put in a query string; the service reads `sort=-createdAt,name`",
                        method.to_uppercase()
                    ))
                    .at(loaded.sources.locate(pointer))
                    .hint("declare `sort` as `type: array, items: {type: string, enum: [name, -name, …]}` with `explode: false`, so clients and conformance tools send what the service reads"),
                );
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
        let request_media = body_schema
            .as_ref()
            .and_then(|b| super::media::choose(&b.content));
        let json_body = request_media
            .as_ref()
            .filter(|(f, _, _)| *f == super::media::Format::Json)
            .and_then(|(_, s, _)| s.clone());

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
            path_invalid_status,
            path_params,
            query_params,
            header_params,
            cookie_params,
            body: None,
            output: None,
            output_format: super::media::Format::Json,
            input: None,
            assign: Vec::new(),
            caller_organization: None,
            next_cursor,
            security: super::security::operation(
                &spec,
                op.security.as_ref(),
                ann.public,
                ann.permissions.as_ref(),
                &loaded.sources,
                &mut diags,
            ),
        };
        if operation.security.is_some() && !covers_any && !declared.contains(&401) {
            undeclared_401.push(format!("{} {path}", method.to_uppercase()));
        }
        match (kind, entity) {
            (OperationKind::Create | OperationKind::Update, Some(e)) => {
                let body_name = types.namespace.claim(&format!("{id}Body"));
                let super::body::CrudBody {
                    def,
                    rule,
                    assign,
                    caller_organization,
                } = crud_body(
                    kind,
                    e,
                    entity_component.as_deref(),
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
                    .push(NamedRule {
                        name: rule_name.clone(),
                        rule,
                    });
                operation.body = Some(Body {
                    ty: body_name,
                    rule: Some(Rule::Static(rule_name.clone())),
                    format: super::media::Format::Json,
                    media: Vec::new(),
                    // OpenAPI's default: a request body is optional unless it says `required`.
                    required: body_required,
                });
                operation.assign = assign;
                operation.caller_organization = caller_organization;
                types.defs.push(TypeDef {
                    owner: Some(domain.clone()),
                    ..def
                });
            }
            (OperationKind::Custom, _) | (_, None) => {
                operation.kind = OperationKind::Custom;
                use super::media::{Format, RAW_TYPE};
                if let Some((format, sref, media)) = request_media {
                    let any = super::schema::SRef::Inline(Box::default());
                    let sref = sref.unwrap_or(any);
                    let (ty, rule) = match format {
                        Format::Json | Format::Form => (
                            types.ty(&sref, &format!("{id}Body"), Some(domain)).rust,
                            Some(types.rule(&sref, needed)),
                        ),
                        Format::Text => ("String".into(), None),
                        Format::Raw => (RAW_TYPE.into(), None),
                    };
                    operation.body = Some(Body {
                        ty,
                        rule,
                        format,
                        media,
                        required: body_required,
                    });
                }
                if let Some((format, sref, _)) =
                    success_resp.and_then(|r| super::media::choose(&r.content))
                {
                    operation.output_format = format;
                    operation.output = Some(match (format, sref) {
                        (Format::Json | Format::Form, Some(sref)) => {
                            types.ty(&sref, &format!("{id}Response"), Some(domain)).rust
                        }
                        (Format::Json | Format::Form, None) => "rt::deps::serde_json::Value".into(),
                        (Format::Text, _) => "String".into(),
                        (Format::Raw, _) => RAW_TYPE.into(),
                    });
                }
                let input = types.namespace.claim(&format!("{id}Input"));
                // Path and query parameters, then the body: each optional unless required.
                let field =
                    |ident: &str, json: &str, ty: &str, required: bool| super::StructField {
                        ident: ident.to_string(),
                        json: json.to_string(),
                        ty: if required {
                            ty.to_string()
                        } else {
                            format!("Option<{ty}>")
                        },
                        doc: None,
                        optional: !required,
                        // Path, query and body can share a name; the idents are unique.
                        rename: false,
                        sensitive: false,
                        patch: false,
                        default: None,
                    };
                let mut fields: Vec<super::StructField> = operation
                    .path_params
                    .iter()
                    .chain(&operation.query_params)
                    .chain(&operation.header_params)
                    .chain(&operation.cookie_params)
                    .map(|p| field(&p.ident, &p.name, &p.ty, p.required))
                    .collect();
                if let Some(b) = &operation.body {
                    fields.push(field("body", "body", &b.ty, b.required));
                }
                types.defs.push(TypeDef::record(
                    &input,
                    Some(format!("Input of `{id}`.")),
                    fields,
                    Some(domain),
                ));
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
        let rust = types.rust_name(component);
        if let Some(e) = entities.iter_mut().find(|e| e.name == rust) {
            e.default_limit = *default;
            e.max_limit = *max;
        }
    }
    for (component, fields) in &sortable_by_entity {
        let rust = types.rust_name(component);
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
    super::reach::keep_used(&mut types.defs, &entities, ops_by_domain.values().flatten());
    super::cycles::box_cycles(&mut types.defs);
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
                rules.push(NamedRule {
                    name: rule_static(&c),
                    rule: types.rule_of(s, &mut needed, 0),
                });
            }
        }
        rules.sort_by(|a, b| a.name.cmp(&b.name));
        let mut operations = ops_by_domain.remove(name).unwrap_or_default();
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
            requirements: super::security::name_requirements(
                operations.iter_mut().filter_map(|op| op.security.as_mut()),
            ),
            operations,
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
    if let Some(first) = undeclared_401.first() {
        diags.push(
            Diagnostic::warning(format!(
                "{} operation(s) need credentials but declare no 401 response (first: {first}); they answer 401 without them all the same",
                undeclared_401.len()
            ))
            .hint("declare `'401'` (or `default`) on them, so clients and conformance tools expect it; the served /openapi.json already does"),
        );
    }
    let tables = tables_order;
    Ok((
        Model {
            title,
            service: heck::ToKebabCase::to_kebab_case(service.as_str()),
            routes: super::routes::plan(&domains, &mut diags),
            document: super::document::served(&loaded.doc, &domains),
            runtime: super::features::RuntimeFeatures::of(&domains, &security_schemes),
            domains,
            common_types: defs_by_owner.remove(&None).unwrap_or_default(),
            tables,
            security_schemes,
            problem: super::problem::shape(&loaded.doc),
        },
        diags.sorted(),
    ))
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
