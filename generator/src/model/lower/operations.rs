//! The operations pass: each operation of the spec becomes an [`Operation`] of its domain,
//! classified as CRUD on an entity or custom, with its statuses, parameters and security. Bodies
//! and outputs are in `bodies`.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::{OpenAPI, Parameter, ParameterSchemaOrContent, Response, StatusCode};

use super::bodies::RequestBody;
use super::entities::{Entities, ListParams};
use super::names::{Domains, SpecOperation};
use super::nested::Nesting;
use super::{Lowering, resolve};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::classify::classify;
use crate::model::list_params::{
    closed_query_keys, next_cursor_allowed, page_limits, sort_fields, sort_is_free_text,
    sort_is_object_array,
};
use crate::model::media::Format;
use crate::model::names::{Namespace, field_ident, pascal, path_template_params, snake, variant};
use crate::model::schema::from_ref;
use crate::model::{Entity, NamedRule, Operation, OperationKind, Param, security};

/// The operations of every domain, and what they need of the domains' modules.
#[derive(Default)]
pub(super) struct Operations {
    pub by_domain: BTreeMap<String, Vec<Operation>>,
    /// Components whose rules each domain's validators name.
    pub rules_needed: BTreeMap<String, BTreeSet<String>>,
    /// The rules of CRUD bodies, by domain.
    pub body_rules: BTreeMap<String, Vec<NamedRule>>,
    pub list_params: ListParams,
    /// Secured operations whose spec does not say they can answer 401.
    undeclared_401: Vec<String>,
    /// Operation ids, unique in the spec.
    ids: Namespace,
    /// Handler names, unique in each domain.
    fn_names: BTreeMap<String, Namespace>,
}

impl Operations {
    pub fn warn_undeclared_401(&self, diags: &mut Diagnostics) {
        let Some(first) = self.undeclared_401.first() else {
            return;
        };
        diags.push(
            Diagnostic::warning(format!(
                "{} operation(s) need credentials but declare no 401 response (first: {first}); they answer 401 without them all the same",
                self.undeclared_401.len()
            ))
            .hint("declare `'401'` (or `default`) on them, so clients and conformance tools expect it; the served /openapi.json already does"),
        );
    }
}

impl Lowering<'_> {
    pub(super) fn operations(
        &mut self,
        ops: &[SpecOperation<'_>],
        domains: &Domains,
        entities: &Entities,
    ) -> Operations {
        let mut out = Operations::default();
        for o in ops {
            let operation = self.operation(o, domains, entities, &mut out);
            let domain = out.by_domain.entry(o.domain.clone()).or_default();
            domain.push(operation);
        }
        out
    }

    fn operation(
        &mut self,
        o: &SpecOperation<'_>,
        domains: &Domains,
        entities: &Entities,
        out: &mut Operations,
    ) -> Operation {
        let id = self.operation_id(o, &mut out.ids);
        let responses = Responses::of(o.op, self.spec);
        let (kind, component) = classify(&o.shape(), responses.success_body(), &entities.plurals);
        // The default success status follows the shape, even when served as custom below.
        let statuses = Statuses::of(&responses, kind);
        let entity = self.served_entity(component.as_deref(), o, domains, entities);
        // A nested path whose levels cannot be linked leaves the operation custom.
        let nesting = entity.and_then(|e| self.nesting(o, e, domains, entities));
        let (kind, entity, nesting) = match nesting {
            Some(nesting) => (kind, entity, nesting),
            None => (OperationKind::Custom, None, Nesting::default()),
        };
        let needed = out.rules_needed.entry(o.domain.clone()).or_default();
        let fn_name = out.fn_names.entry(o.domain.clone()).or_default();
        let fn_name = fn_name.claim(&snake(&id));
        let spec_params = parameters(o, self.spec);
        let params = self.params(&spec_params, o, &id, kind, needed);
        if kind == OperationKind::List {
            let component = component.clone().unwrap_or_default();
            self.list_params(&spec_params, o, component, &mut out.list_params);
        }
        let body = RequestBody::of(o.op, self.spec);
        let mut operation = Operation {
            id,
            fn_name,
            method: o.method.clone(),
            path: o.path.clone(),
            kind,
            summary: o.op.summary.clone(),
            entity: entity.map(|e| e.name.clone()),
            entity_plural: entity.map(|e| e.plural.clone()),
            status: statuses.success,
            validation_status: statuses.validation,
            path_invalid_status: statuses.path_invalid,
            path_params: params.path,
            query_params: params.query,
            header_params: params.header,
            cookie_params: params.cookie,
            body: None,
            output: None,
            output_format: Format::Json,
            input: None,
            assign: Vec::new(),
            caller_organization: None,
            next_cursor: responses.next_cursor_allowed(&self.loaded.doc, &o.pointer),
            query_keys: (kind == OperationKind::List)
                .then(|| closed_query_keys(&spec_params, &self.types))
                .flatten(),
            security: self.security(o),
            reply: None,
            parents: nesting.parents,
            scope: nesting.scope,
        };
        if operation.security.is_some() && !responses.may_answer(401) {
            (out.undeclared_401).push(format!("{} {}", o.method.to_uppercase(), o.path));
        }
        match (kind, entity) {
            (OperationKind::Create | OperationKind::Update, Some(e)) => {
                let body =
                    self.crud_body(&mut operation, e, component.as_deref(), &body, needed, o);
                out.body_rules
                    .entry(o.domain.clone())
                    .or_default()
                    .push(body);
            }
            (OperationKind::Custom, _) | (_, None) => {
                self.custom_io(
                    &mut operation,
                    body,
                    responses.success_body(),
                    needed,
                    &o.domain,
                );
                let typed_errors = self.typed_errors(o, &responses);
                if !responses.successes.is_empty()
                    && (responses.successes.len() > 1 || !typed_errors.is_empty())
                {
                    let answers: Vec<_> = (responses.successes.iter())
                        .chain(&typed_errors)
                        .copied()
                        .collect();
                    operation.reply = Some(self.reply(&operation.id, &answers, &o.domain));
                }
            }
            _ => {}
        }
        operation
    }

    /// The error responses whose JSON body is not the spec's common problem: a custom handler
    /// may answer them typed, through its reply enum.
    fn typed_errors<'s>(
        &self,
        o: &SpecOperation<'_>,
        responses: &Responses<'s>,
    ) -> Vec<(u16, &'s Response)> {
        let common = self.problem_key.as_deref();
        (responses.errors.iter())
            .filter(|(code, _)| {
                let pointer = format!("{}/responses/{code}", o.pointer);
                crate::model::problem::is_typed_error(&self.loaded.doc, &pointer, common)
            })
            .copied()
            .collect()
    }

    /// The entity a CRUD operation serves. CRUD defaults use their domain's repositories: an
    /// operation on another domain's entity is served as a custom operation instead.
    fn served_entity<'e>(
        &self,
        component: Option<&str>,
        o: &SpecOperation<'_>,
        domains: &Domains,
        entities: &'e Entities,
    ) -> Option<&'e Entity> {
        component
            .filter(|c| domains.of_entity.get(*c) == Some(&o.domain))
            .and_then(|c| entities.of(c, &self.types))
    }

    /// The operation's id, made unique and Rust-cased; one the spec leaves out is made up.
    fn operation_id(&mut self, o: &SpecOperation<'_>, ids: &mut Namespace) -> String {
        let raw = o.op.operation_id.clone();
        let raw = raw.unwrap_or_else(|| format!("{} {}", o.method, o.path));
        let id = ids.claim(&pascal(&raw));
        if o.op.operation_id.is_none() {
            self.diags.push(
                Diagnostic::warning(format!(
                    "operation {} {} has no operationId; named `{id}`",
                    o.method.to_uppercase(),
                    o.path
                ))
                .at(self.loaded.sources.locate(&o.pointer)),
            );
        }
        id
    }

    fn security(&mut self, o: &SpecOperation<'_>) -> Option<security::Access> {
        security::operation(
            self.spec,
            o.op.security.as_ref(),
            o.ann.public,
            o.ann.permissions.as_ref(),
            &self.loaded.sources,
            &mut self.diags,
        )
    }

    /// Parameters typed and named, by where they arrive.
    fn params(
        &mut self,
        spec_params: &[&Parameter],
        o: &SpecOperation<'_>,
        id: &str,
        kind: OperationKind,
        needed: &mut BTreeSet<String>,
    ) -> Params {
        let template = path_template_params(o.path);
        let mut out = Params::default();
        let mut idents = Namespace::default();
        for p in spec_params {
            let data = p.parameter_data_ref();
            let ParameterSchemaOrContent::Schema(schema) = &data.format else {
                continue;
            };
            let sref = from_ref(schema);
            let hint = format!("{id}{}", variant(&data.name));
            let ty = self.types.ty(&sref, &hint, Some(&o.domain)).ty;
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
                rule: (kind == OperationKind::Custom).then(|| self.types.rule(&sref, needed)),
            };
            match p {
                Parameter::Path { .. } => out.path.push(param),
                Parameter::Query { .. } => out.query.push(param),
                Parameter::Header { .. } => out.header.push(param),
                Parameter::Cookie { .. } => out.cookie.push(param),
            }
        }
        out
    }

    /// What a list operation's `page` and `sort` parameters say about its entity, with a
    /// warning for a `sort` that clients cannot send as the service reads it.
    fn list_params(
        &mut self,
        spec_params: &[&Parameter],
        o: &SpecOperation<'_>,
        component: String,
        out: &mut ListParams,
    ) {
        if let Some(limits) = page_limits(spec_params, &self.types) {
            out.page_limits.insert(component.clone(), limits);
        }
        if let Some(fields) = sort_fields(spec_params, &self.types) {
            out.sortable.insert(component, fields);
        }
        let (method, path) = (o.method.to_uppercase(), o.path);
        let at = self.loaded.sources.locate(&o.pointer);
        if sort_is_free_text(spec_params, &self.types) {
            self.diags.push(
                Diagnostic::warning(format!(
                    "the `sort` parameter of {method} {path} accepts any text, but the service sorts only on the entity's fields and answers 422 for others"
                ))
                .at(at.clone())
                .hint("list the keys: `items: {type: string, enum: [name, -name, …]}` (or a `pattern`), so clients and conformance tools send only those"),
            );
        }
        if sort_is_object_array(spec_params, &self.types) {
            self.diags.push(
                Diagnostic::warning(format!(
                    "the `sort` parameter of {method} {path} is an array of objects, which OpenAPI cannot put in a query string; the service reads `sort=-createdAt,name`"
                ))
                .at(at)
                .hint("declare `sort` as `type: array, items: {type: string, enum: [name, -name, …]}` with `explode: false`, so clients and conformance tools send what the service reads"),
            );
        }
    }
}

/// What an operation's responses declare.
struct Responses<'s> {
    /// Every 2xx status with its response, resolved, in the spec's order: the first is the
    /// operation's success.
    successes: Vec<(u16, &'s Response)>,
    /// Every 4xx and 5xx status with its response, resolved.
    errors: Vec<(u16, &'s Response)>,
    /// Every status declared.
    declared: Vec<u16>,
    /// A `default` response stands for every status.
    covers_any: bool,
}

impl<'s> Responses<'s> {
    fn of(op: &'s openapiv3::Operation, spec: &'s OpenAPI) -> Self {
        let responses = &op.responses.responses;
        let within = |range: std::ops::Range<u16>| {
            responses
                .iter()
                .filter_map(|(code, r)| match code {
                    StatusCode::Code(c) if range.contains(c) => {
                        resolve(r, spec, "#/components/responses/", |c| &c.responses)
                            .map(|r| (*c, r))
                    }
                    _ => None,
                })
                .collect()
        };
        Self {
            successes: within(200..300),
            errors: within(400..600),
            declared: responses
                .keys()
                .filter_map(|c| match c {
                    StatusCode::Code(c) => Some(*c),
                    _ => None,
                })
                .collect(),
            covers_any: op.responses.default.is_some(),
        }
    }

    /// The first 2xx status.
    fn success(&self) -> Option<u16> {
        self.successes.first().map(|(code, _)| *code)
    }

    /// Its response.
    fn success_body(&self) -> Option<&'s Response> {
        self.successes.first().map(|(_, response)| *response)
    }

    /// Whether the success response's schema lets `meta.nextCursor` appear (a list's).
    fn next_cursor_allowed(&self, doc: &serde_json::Value, op_pointer: &str) -> bool {
        self.success()
            .is_none_or(|c| next_cursor_allowed(doc, &format!("{op_pointer}/responses/{c}")))
    }

    fn may_answer(&self, status: u16) -> bool {
        self.covers_any || self.declared.contains(&status)
    }
}

/// The statuses an operation answers with.
struct Statuses {
    success: u16,
    /// For a request that breaks the operation's rules.
    validation: u16,
    /// For a malformed path parameter.
    path_invalid: u16,
}

impl Statuses {
    fn of(responses: &Responses<'_>, kind: OperationKind) -> Self {
        let declares = |status| responses.declared.contains(&status);
        let validation = if declares(422) {
            422
        } else if declares(400) {
            400
        } else {
            422
        };
        // A malformed path parameter names no resource: when the operation declares neither 400
        // nor 422 but does declare 404, that is the answer its clients expect.
        let path_invalid = if !declares(422) && !declares(400) && declares(404) {
            404
        } else {
            validation
        };
        let success = responses.success().unwrap_or(match kind {
            OperationKind::Create => 201,
            OperationKind::Delete => 204,
            _ => 200,
        });
        Self {
            success,
            validation,
            path_invalid,
        }
    }
}

/// An operation's parameters by where they arrive.
#[derive(Default)]
struct Params {
    path: Vec<Param>,
    query: Vec<Param>,
    header: Vec<Param>,
    cookie: Vec<Param>,
}

/// The operation's parameters, resolved: operation-level ones override path-level ones of the
/// same name and location.
fn parameters<'s>(o: &SpecOperation<'s>, spec: &'s OpenAPI) -> Vec<&'s Parameter> {
    let key = |q: &Parameter| {
        let location = match q {
            Parameter::Query { .. } => 0,
            Parameter::Header { .. } => 1,
            Parameter::Path { .. } => 2,
            Parameter::Cookie { .. } => 3,
        };
        (location, q.parameter_data_ref().name.clone())
    };
    let mut params: Vec<&Parameter> = Vec::new();
    for p in o.item.parameters.iter().chain(o.op.parameters.iter()) {
        if let Some(param) = resolve(p, spec, "#/components/parameters/", |c| &c.parameters) {
            params.retain(|q| key(q) != key(param));
            params.push(param);
        }
    }
    params
}
