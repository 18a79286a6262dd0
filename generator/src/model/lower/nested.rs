//! Nested collections. `/stores/{storeID}/orders/{orderID}/lines` is CRUD on lines within one
//! order of one store: each parameter before the last collection names a parent, each level's
//! entity has a field holding the id of the level above (`Line.orderID`, `Order.storeID`), and
//! the default service checks the chain before it reads or writes.

use super::Lowering;
use super::entities::Entities;
use super::names::{Domains, SpecOperation};
use crate::diagnostic::Diagnostic;
use crate::model::classify::{PathParent, entity_of_collection, path_parents};
use crate::model::names::{Namespace, field_ident, loose_eq};
use crate::model::type_ref::Builtin;
use crate::model::{Entity, Field, Link, Parent, ServerSet};

/// A nested operation's parents and the field of its entity scoped by the innermost one.
#[derive(Default)]
pub(super) struct Nesting {
    pub parents: Vec<Parent>,
    pub scope: Option<Link>,
}

impl Lowering<'_> {
    /// The parents of a CRUD operation's path; `None` when the path looks nested but a level
    /// has no field that holds its parent's id, which leaves the operation to a custom handler.
    pub(super) fn nesting(
        &mut self,
        o: &SpecOperation<'_>,
        entity: &Entity,
        domains: &Domains,
        entities: &Entities,
    ) -> Option<Nesting> {
        let path = path_parents(o.path).unwrap_or_default();
        let Some(innermost) = path.last() else {
            return Some(Nesting {
                parents: Vec::new(),
                scope: None,
            });
        };
        // The service method's own arguments come first; a parent never shadows them.
        let mut idents = Namespace::default();
        // …nor the locals of the handler, the service method and the client method.
        for taken in [
            "cx", "id", "query", "body", "org", "record", "updated", "deleted", "call", "s", "row",
            "repos", "params", "input", "if_match", "item", "version", "response", "request",
            "status", "OP",
        ] {
            idents.claim(taken);
        }
        // A parent that is the caller's organization (the entity's tenant field) is checked
        // against the caller, with no entity of its own to read.
        let tenant_parent = holder(entity, &innermost.param, None)
            .is_some_and(|f| f.server_set == Some(ServerSet::Tenant));
        let mut parents: Vec<Parent> = Vec::new();
        for (i, p) in path.iter().enumerate() {
            let ident = idents.claim(&field_ident(&p.param));
            // Below the outermost, a missing entity is refused below, with a warning of its own.
            let quiet = (tenant_parent && i + 1 == path.len()) || !parents.is_empty();
            let parent_entity = self.parent_entity(o, p, domains, entities, quiet);
            // A parent below another must be read to check that it belongs to the one above;
            // without its entity, rows would be reachable through any outer parent.
            if let (Some(_), None) = (parents.last(), parent_entity) {
                self.unlinked(o, &p.param);
                return None;
            }
            let up = match (parents.last(), parent_entity) {
                (Some(above), Some(e)) => {
                    let above_param = &path[parents.len() - 1];
                    let named = above.entity.as_deref();
                    let Some(field) = holder(e, &above_param.param, named) else {
                        self.not_nested(o, &e.name, &above_param.param);
                        return None;
                    };
                    Some(link(field, &above.ident))
                }
                _ => None,
            };
            parents.push(Parent {
                param: p.param.clone(),
                position: p.position,
                ident,
                entity: parent_entity.map(|e| e.name.clone()),
                plural: parent_entity.map(|e| e.plural.clone()),
                tenant: parent_entity.is_some_and(|e| e.tenant.is_some()),
                up,
            });
        }
        let innermost_parent = &parents[parents.len() - 1];
        let named = innermost_parent.entity.as_deref();
        let Some(field) = holder(entity, &innermost.param, named) else {
            self.not_nested(o, &entity.name, &innermost.param);
            return None;
        };
        let scope = link(field, &innermost_parent.ident);
        Some(Nesting {
            parents,
            scope: Some(scope),
        })
    }

    /// The entity of a parent collection, when the default service can read it: one of the
    /// operation's domain. Otherwise only the scope is checked, and the user is told (unless
    /// `quiet`: the parent is the caller's organization).
    fn parent_entity<'e>(
        &mut self,
        o: &SpecOperation<'_>,
        p: &PathParent,
        domains: &Domains,
        entities: &'e Entities,
        quiet: bool,
    ) -> Option<&'e Entity> {
        let component = entity_of_collection(&p.collection, &entities.plurals);
        let entity = component
            .as_deref()
            .filter(|c| domains.of_entity.get(*c) == Some(&o.domain))
            .and_then(|c| entities.of(c, &self.types));
        if entity.is_none() && !quiet {
            let why = match component {
                Some(c) => format!(
                    "its entity `{c}` belongs to domain `{}`",
                    domains.of_entity[&c]
                ),
                None => format!("`{}` names no entity", p.collection),
            };
            self.diags.push(
                Diagnostic::warning(format!(
                    "{} {}: the parent `{{{}}}` is not checked to exist, since {why}; rows are still scoped to it",
                    o.method.to_uppercase(),
                    o.path,
                    p.param
                ))
                .at(self.loaded.sources.locate(&o.pointer))
                .hint("override the service method to check the parent, or serve it from the parent's domain"),
            );
        }
        entity
    }

    fn unlinked(&mut self, o: &SpecOperation<'_>, param: &str) {
        self.diags.push(
            Diagnostic::warning(format!(
                "{} {}: the parent `{{{param}}}` names no entity of this domain, so nothing can check that it belongs to the parent above it; it is served by a custom handler",
                o.method.to_uppercase(),
                o.path
            ))
            .at(self.loaded.sources.locate(&o.pointer))
            .hint("serve the operation from the domain of the parent's entity, or mark it `x-codegen-custom-handler: true`"),
        );
    }

    fn not_nested(&mut self, o: &SpecOperation<'_>, entity: &str, param: &str) {
        self.diags.push(
            Diagnostic::warning(format!(
                "{} {} looks nested, but `{entity}` has no UUID field for its parameter `{{{param}}}`; it is served by a custom handler",
                o.method.to_uppercase(),
                o.path
            ))
            .at(self.loaded.sources.locate(&o.pointer))
            .hint(format!(
                "give `{entity}` a field `{param}` (`type: string, format: uuid`) that holds the parent's id, or mark the operation `x-codegen-custom-handler: true`"
            )),
        );
    }
}

/// The field of `entity` that holds the id named by the path parameter `param` (`storeID`, or
/// `store` for a field `storeID`; for `/stores/{id}/orders`, the parent entity's name `named`
/// gives `storeID`).
fn holder<'e>(entity: &'e Entity, param: &str, named: Option<&str>) -> Option<&'e Field> {
    let candidates = [Some(param.to_string()), Some(format!("{param}Id"))]
        .into_iter()
        .chain([named.map(|n| format!("{n}Id"))]);
    let holds = |f: &Field, name: &str| {
        f.server_set != Some(ServerSet::Id)
            && !f.hidden
            && f.base == Builtin::Uuid.into()
            && loose_eq(&f.name, name)
    };
    candidates
        .flatten()
        .find_map(|name| entity.fields.iter().find(|f| holds(f, &name)))
}

/// `field` as the link to a parent: it must equal the service method's argument `parent`.
fn link(field: &Field, parent: &str) -> Link {
    Link {
        name: field.name.clone(),
        field: field.ident.clone(),
        nullable: field.nullable,
        parent: parent.to_string(),
        tenant: field.server_set == Some(ServerSet::Tenant),
    }
}
