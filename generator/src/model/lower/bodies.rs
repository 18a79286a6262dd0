//! Request bodies and outputs: a CRUD operation's body is typed as its entity's fields, a
//! custom operation's body and output as the spec's schemas, with an input struct gathering
//! what its handler receives.

use std::collections::BTreeSet;

use openapiv3::{OpenAPI, Response};

use super::names::SpecOperation;
use super::{Lowering, resolve};
use crate::model::body::{CrudBody, crud_body};
use crate::model::media::{Format, choose};
use crate::model::rules::Rule;
use crate::model::schema::SRef;
use crate::model::type_ref::{Builtin, TypeRef};
use crate::model::types::TypeDef;
use crate::model::{Body, Entity, NamedRule, Operation, Reply, ReplyVariant, StructField};

/// An operation's request body.
pub(super) struct RequestBody {
    /// OpenAPI's default: a request body is optional unless it says `required`.
    required: bool,
    /// Its format, schema and media types (see `media::choose`); `None` without content.
    media: Option<(Format, Option<SRef>, Vec<String>)>,
}

impl RequestBody {
    pub fn of(op: &openapiv3::Operation, spec: &OpenAPI) -> Self {
        let body = op.request_body.as_ref().and_then(|b| {
            resolve(b, spec, "#/components/requestBodies/", |c| {
                &c.request_bodies
            })
        });
        Self {
            required: body.is_some_and(|b| b.required),
            media: body.and_then(|b| choose(&b.content)),
        }
    }

    fn json_schema(&self) -> Option<&SRef> {
        match &self.media {
            Some((Format::Json, schema, _)) => schema.as_ref(),
            _ => None,
        }
    }
}

impl Lowering<'_> {
    /// A create or update body, typed as the entity types its fields; returns its rule.
    pub(super) fn crud_body(
        &mut self,
        operation: &mut Operation,
        entity: &Entity,
        component: Option<&str>,
        body: &RequestBody,
        needed: &mut BTreeSet<String>,
        o: &SpecOperation<'_>,
    ) -> NamedRule {
        let name = self.types.namespace.claim(&format!("{}Body", operation.id));
        let name = self.types.declare(&name);
        let CrudBody {
            def,
            rule,
            assign,
            caller_organization,
        } = crud_body(
            operation.kind,
            entity,
            component,
            body.json_schema(),
            &name,
            &self.types,
            needed,
            &mut self.diags,
            &self.loaded.sources,
            &o.pointer,
            operation.scope.as_ref().map(|s| s.name.as_str()),
        );
        let rule_name = format!(
            "RULE_{}",
            heck::ToShoutySnakeCase::to_shouty_snake_case(name.name.as_str())
        );
        operation.body = Some(Body {
            ty: TypeRef::Named(name),
            rule: Some(Rule::Static(rule_name.clone())),
            format: Format::Json,
            media: Vec::new(),
            required: body.required,
        });
        operation.assign = assign;
        operation.caller_organization = caller_organization;
        self.types.defs.push(TypeDef {
            owner: Some(o.domain.clone()),
            ..def
        });
        NamedRule {
            name: rule_name,
            rule,
        }
    }

    /// A custom operation's body and output, typed from the spec's schemas, and its input.
    pub(super) fn custom_io(
        &mut self,
        operation: &mut Operation,
        body: RequestBody,
        success: Option<&Response>,
        needed: &mut BTreeSet<String>,
        domain: &str,
    ) {
        let id = operation.id.clone();
        if let Some((format, schema, media)) = body.media {
            // A body without a schema takes any JSON.
            let schema = schema.unwrap_or_else(|| SRef::Inline(Box::default()));
            let (ty, rule) = match format {
                Format::Json | Format::Form => (
                    self.types
                        .ty(&schema, &format!("{id}Body"), Some(domain))
                        .ty,
                    Some(self.types.rule(&schema, needed)),
                ),
                Format::Text => (Builtin::String.into(), None),
                Format::Raw => (Builtin::RawBody.into(), None),
            };
            operation.body = Some(Body {
                ty,
                rule,
                format,
                media,
                required: body.required,
            });
        }
        if let Some((format, schema, _)) = success.and_then(|r| choose(&r.content)) {
            operation.output_format = format;
            let hint = format!("{id}Response");
            operation.output = Some(self.output_type(format, schema, &hint, domain));
        }
        operation.input = Some(self.custom_input(operation, domain));
    }

    /// The type of a response body: its schema's for JSON and forms (any JSON without one), text
    /// as a `String`, anything else raw.
    fn output_type(
        &mut self,
        format: Format,
        schema: Option<SRef>,
        hint: &str,
        domain: &str,
    ) -> TypeRef {
        match (format, schema) {
            (Format::Json | Format::Form, Some(schema)) => {
                self.types.ty(&schema, hint, Some(domain)).ty
            }
            (Format::Json | Format::Form, None) => Builtin::Json.into(),
            (Format::Text, _) => Builtin::String.into(),
            (Format::Raw, _) => Builtin::RawBody.into(),
        }
    }

    /// `<Id>Reply`: a variant per success response (the first typed as the operation's output)
    /// and per typed error response.
    pub(super) fn reply(&mut self, id: &str, answers: &[(u16, &Response)], domain: &str) -> Reply {
        let name = self.types.namespace.claim(&format!("{id}Reply"));
        let mut variants = Vec::new();
        for (i, (status, response)) in answers.iter().enumerate() {
            // The first is the operation's output, typed under the same name.
            let hint = if i == 0 {
                format!("{id}Response")
            } else {
                format!("{id}{status}Response")
            };
            let (format, ty) = match choose(&response.content) {
                None => (Format::Json, None),
                Some((format, schema, _)) => {
                    let ty = self.output_type(format, schema, &hint, domain);
                    (format, Some(ty))
                }
            };
            variants.push(ReplyVariant {
                status: *status,
                variant: status_variant(*status),
                ty,
                format,
                doc: Some(response.description.clone()).filter(|d| !d.is_empty()),
            });
        }
        let has_errors = variants.iter().any(|v| v.status >= 400);
        Reply {
            name,
            variants,
            has_errors,
        }
    }

    /// `<Id>Input`, what a custom handler receives: path, query, header and cookie parameters,
    /// then the body, each optional unless required.
    fn custom_input(&mut self, operation: &Operation, domain: &str) -> TypeRef {
        let id = &operation.id;
        let input = self.types.namespace.claim(&format!("{id}Input"));
        let input = self.types.declare(&input);
        let mut fields: Vec<StructField> = operation
            .path_params
            .iter()
            .chain(&operation.query_params)
            .chain(&operation.header_params)
            .chain(&operation.cookie_params)
            .map(|p| input_field(&p.ident, &p.name, &p.ty, p.required))
            .collect();
        if let Some(b) = &operation.body {
            fields.push(input_field("body", "body", &b.ty, b.required));
        }
        let doc = Some(format!("Input of `{id}`."));
        let def = TypeDef::record(&input, doc, fields, Some(domain));
        self.types.defs.push(def);
        TypeRef::Named(input)
    }
}

fn input_field(ident: &str, json: &str, ty: &TypeRef, required: bool) -> StructField {
    StructField {
        ident: ident.to_string(),
        json: json.to_string(),
        ty: if required {
            ty.clone()
        } else {
            ty.clone().optional()
        },
        doc: None,
        optional: !required,
        // Path, query and body can share a name; the idents are unique.
        rename: false,
        sensitive: false,
        patch: false,
        default: None,
    }
}

/// A reply variant's name, from its status's reason phrase (`202` → `Accepted`).
fn status_variant(status: u16) -> String {
    let name = match status {
        200 => "Ok",
        201 => "Created",
        202 => "Accepted",
        203 => "NonAuthoritative",
        204 => "NoContent",
        205 => "ResetContent",
        206 => "PartialContent",
        207 => "MultiStatus",
        208 => "AlreadyReported",
        226 => "ImUsed",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Gone",
        412 => "PreconditionFailed",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        422 => "UnprocessableEntity",
        423 => "Locked",
        429 => "TooManyRequests",
        500 => "InternalServerError",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        _ => return format!("Status{status}"),
    };
    name.to_string()
}
