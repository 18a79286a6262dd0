//! Request bodies of create and update operations, typed as the entity types its fields so the
//! default service moves them into repository records without conversion.

use std::collections::BTreeSet;

use super::schema::{ObjectS, S, SKind, SRef};
use super::type_ref::{Builtin, TypeName};
use super::types::{TypeDef, TypeSpace};
use super::{Assign, Entity, Fill, OperationKind, ServerSet};
use crate::diagnostic::{Diagnostic, Diagnostics};

/// The body of a create or update: the entity's settable fields the request schema lists, typed
/// as the entity types them so the default service can move them across without conversion.
#[allow(clippy::too_many_arguments)]
pub(super) fn crud_body(
    kind: OperationKind,
    entity: &Entity,
    component: Option<&str>,
    schema: Option<&SRef>,
    name: &TypeName,
    types: &TypeSpace<'_>,
    needed: &mut BTreeSet<String>,
    diags: &mut Diagnostics,
    sources: &crate::load::SourceMap,
    pointer: &str,
    parent_field: Option<&str>,
) -> CrudBody {
    let declared: ObjectS = schema.and_then(|s| types.flatten(s)).unwrap_or_default();
    // The entity's own property schemas: what a response promises about each field.
    let entity_props = component
        .and_then(|c| types.flatten(&SRef::Ref(c.to_string())))
        .map(|o| o.properties)
        .unwrap_or_default();
    let create = kind == OperationKind::Create;
    let kind = if create { "create" } else { "update" };
    let settable = |f: &super::Field| if create { f.creatable } else { f.updatable };
    let mut rule_obj = ObjectS {
        additional: declared.additional.clone(),
        ..ObjectS::default()
    };
    let mut fields = Vec::new();
    let mut forbidden = Vec::new();
    let mut caller_organization = None;
    let warn = |diags: &mut Diagnostics, message: String, hint: Option<&str>| {
        let warning = Diagnostic::warning(message).at(sources.locate(pointer));
        diags.push(match hint {
            Some(hint) => warning.hint(hint.to_string()),
            None => warning,
        });
    };
    for f in &entity.fields {
        let listed = declared
            .properties
            .iter()
            .find(|(k, _)| super::names::loose_eq(k, &f.name));
        // A nested collection's parent comes from the path; the body may not move the row.
        if parent_field == Some(f.name.as_str()) && f.server_set.is_none() {
            forbidden.push((f.name.clone(), "is set from the path".to_string()));
            if listed.is_some() {
                let message = format!(
                    "`{}` is in the {kind} body but is set from the path of a nested `{}`; requests that send it get 422",
                    f.name, entity.name
                );
                warn(
                    diags,
                    message,
                    Some("remove it from the request body schema"),
                );
            }
            continue;
        }
        match refusal(f, create, settable(f)) {
            Refusal::Skip => continue,
            Refusal::Forbid(why) => {
                forbidden.push((f.name.clone(), why.to_string()));
                if listed.is_some()
                    && let Some((message, hint)) = refused_but_listed(f, kind, entity)
                {
                    warn(diags, message, hint);
                }
                continue;
            }
            Refusal::Accept => {}
        }
        // Without a declared body every settable field is accepted.
        if schema.is_some() && listed.is_none() && (!create || f.nullable || f.default.is_some()) {
            continue;
        }
        let prop_rule_src = listed.map(|(_, s)| match entity_props.get(&f.name) {
            Some(own) => tighten(types, s, own),
            None => s.clone(),
        });
        let declared_required = listed.is_some_and(|(k, _)| declared.required.contains(k));
        let required = create && (declared_required || (!f.nullable && f.default.is_none()));
        if create && listed.is_some() && !declared_required && required {
            warn(
                diags,
                format!(
                    "`{}` is optional in the create body but required by entity `{}` (no default, not nullable); requests without it get 422",
                    f.name, entity.name
                ),
                Some("mark it required in the body, give the field a default, or make it nullable"),
            );
        }
        // ArchesAI leaves the organization out of create bodies: it is the caller's.
        if create && listed.is_none() && schema.is_some() && is_organization(f) {
            caller_organization = Some(f.ident.clone());
            continue;
        }
        if create && listed.is_none() && schema.is_some() {
            warn(
                diags,
                format!(
                    "`{}` is required by entity `{}` but missing from the create body; accepting it in the body",
                    f.name, entity.name
                ),
                None,
            );
        }
        let prop = prop_rule_src.unwrap_or_else(|| entity_prop(f));
        // A declared property keeps its own nullability: the entity may allow null (a column
        // that starts empty) while the request schema refuses it.
        let prop = if f.nullable && listed.is_none() {
            nullable(prop)
        } else {
            prop
        };
        rule_obj.properties.insert(f.name.clone(), prop);
        if required {
            rule_obj.required.push(f.name.clone());
        }
        fields.push(body_field(f, create, required));
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
            .map(|f| Assign {
                field: f.ident.clone(),
                from: if in_body(f) { Fill::Body } else { Fill::Absent },
            })
            .collect()
    };
    let doc = Some(format!("Request body `{}` for {}.", name.name, entity.name));
    CrudBody {
        def: TypeDef::record(name, doc, fields, None),
        rule,
        assign,
        caller_organization,
    }
}

pub(super) struct CrudBody {
    pub def: TypeDef,
    pub rule: super::rules::Rule,
    /// For create and update: how each field of the repository record is filled.
    pub assign: Vec<Assign>,
    /// The organization field a create body leaves out, filled from the caller.
    pub caller_organization: Option<String>,
}

/// Whether a body may carry an entity field, before what the request schema says about it.
enum Refusal {
    /// Never part of the API (hidden fields).
    Skip,
    /// Refused with this reason when sent.
    Forbid(&'static str),
    Accept,
}

fn refusal(f: &super::Field, create: bool, settable: bool) -> Refusal {
    match f.server_set {
        _ if f.hidden => Refusal::Skip,
        Some(ServerSet::Tenant) => {
            Refusal::Forbid("is the caller's organization and is set by the server")
        }
        Some(_) => Refusal::Forbid("is set by the server"),
        None if f.read_only => Refusal::Forbid("is read-only"),
        None if settable => Refusal::Accept,
        None if create => Refusal::Forbid("cannot be set on create"),
        None => Refusal::Forbid("cannot be changed once set"),
    }
}

/// The warning for a refused field the request schema lists anyway, with its hint.
fn refused_but_listed(
    f: &super::Field,
    kind: &str,
    entity: &Entity,
) -> Option<(String, Option<&'static str>)> {
    match f.server_set {
        Some(ServerSet::Tenant) => Some((
            format!(
                "`{}` is in the {kind} body but is `{}`'s tenant field, set from the caller; requests that send it get 422",
                f.name, entity.name
            ),
            Some("remove it from the request body schema"),
        )),
        // The schema says readOnly too: the client knows not to send it.
        Some(_) => None,
        None if f.read_only => None,
        None => Some((
            format!(
                "`{}` is in the {kind} body but excluded from {kind} on `{}`; it will be rejected",
                f.name, entity.name
            ),
            None,
        )),
    }
}

/// ArchesAI's organization field, which its create bodies leave out.
fn is_organization(f: &super::Field) -> bool {
    !f.nullable
        && f.base == Builtin::Uuid.into()
        && super::names::loose_eq(&f.name, "organizationId")
}

/// A body's field, typed as the entity types it: optional on create unless required, a `Patch`
/// on update.
fn body_field(f: &super::Field, create: bool, required: bool) -> super::StructField {
    let ty = match (create, required && !f.nullable) {
        (true, true) => f.base.clone(),
        (true, false) => f.base.clone().optional(),
        (false, _) => f.base.clone().patch(),
    };
    super::StructField {
        ident: f.ident.clone(),
        json: f.name.clone(),
        ty,
        doc: f.doc.clone(),
        optional: !required,
        rename: f.ident.trim_start_matches("r#") != f.name,
        sensitive: false,
        patch: !create,
        default: None,
    }
}

/// How each field of `New<Entity>` is filled from a create body.
fn create_assignments(entity: &Entity, body: &[super::StructField]) -> Vec<Assign> {
    entity
        .fields
        .iter()
        .filter(|f| f.server_set.is_none())
        .map(|f| {
            let in_body = body.iter().find(|b| b.ident == f.ident);
            let default = f.default.clone();
            let from = match (in_body, f.nullable, default) {
                (Some(_), true, _) => Fill::Body,
                (Some(b), false, _) if !b.ty.is_option() => Fill::Body,
                (Some(_), false, default) => Fill::BodyOr(default),
                (None, nullable, default) => Fill::Default { default, nullable },
            };
            Assign {
                field: f.ident.clone(),
                from,
            }
        })
        .collect()
}

/// A body property with the constraints its entity property adds: a value the server stores must
/// be one its responses may show, so a body looser than the entity (no `pattern`, no `maxLength`)
/// is held to the entity's rules too.
fn tighten(types: &TypeSpace<'_>, body: &SRef, entity: &SRef) -> SRef {
    let (Some(b), Some(e)) = (types.resolve(body), types.resolve(entity)) else {
        return body.clone();
    };
    let kind = match (&b.kind, &e.kind) {
        (SKind::String(bs), SKind::String(es)) => {
            let before = bs.clone();
            let mut s = bs.clone();
            s.min_length = s.min_length.max(es.min_length);
            s.max_length = match (s.max_length, es.max_length) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if s.pattern.is_none() {
                s.pattern = es.pattern.clone();
            }
            if s.format.is_none() {
                s.format = es.format.clone();
            }
            if s.enumeration.is_empty() {
                s.enumeration = es.enumeration.clone();
            }
            if s == before {
                return body.clone();
            }
            SKind::String(s)
        }
        (SKind::Integer(bn), SKind::Integer(en)) if tighter_number(bn, en) != *bn => {
            SKind::Integer(tighter_number(bn, en))
        }
        (SKind::Number(bn), SKind::Number(en)) if tighter_number(bn, en) != *bn => {
            SKind::Number(tighter_number(bn, en))
        }
        _ => return body.clone(),
    };
    SRef::Inline(Box::new(S { kind, ..b.clone() }))
}

fn tighter_number(
    b: &super::schema::NumberS,
    e: &super::schema::NumberS,
) -> super::schema::NumberS {
    let mut n = b.clone();
    if n.minimum.is_none() {
        n.minimum = e.minimum;
        n.exclusive_minimum = e.exclusive_minimum;
    }
    if n.maximum.is_none() {
        n.maximum = e.maximum;
        n.exclusive_maximum = e.exclusive_maximum;
    }
    if n.enumeration.is_empty() {
        n.enumeration = e.enumeration.clone();
    }
    n
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
