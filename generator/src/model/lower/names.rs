//! The names pass: which domains exist, where each entity belongs, and the names of the spec's
//! types, with the names generated code derives from domains and entities taken first so that
//! no spec type can collide with them.

use std::collections::BTreeSet;

use indexmap::IndexMap;
use openapiv3::{PathItem, ReferenceOr, StatusCode};

use super::{Lowering, resolve};
use crate::annotate::{OperationAnnotations, SchemaType};
use crate::load::push_pointer;
use crate::model::classify::{Shape, classify};
use crate::model::names::{domain_derived, domain_module, entity_derived, pascal, plural, snake};

/// The domain of whatever names none.
const DEFAULT_DOMAIN: &str = "api";

/// An operation of the spec, with its annotations and the domain it belongs to.
pub(super) struct SpecOperation<'a> {
    pub path: &'a String,
    pub method: String,
    pub op: &'a openapiv3::Operation,
    /// The path item, for the parameters all its operations share.
    pub item: &'a PathItem,
    pub ann: OperationAnnotations,
    /// Module name: its `x-internal`, else its first tag, else `api`.
    pub domain: String,
    pub pointer: String,
}

impl SpecOperation<'_> {
    pub fn shape(&self) -> Shape<'_> {
        Shape {
            method: &self.method,
            path: self.path,
            custom: self.ann.custom_handler,
        }
    }
}

/// Which domains exist and where each entity belongs.
pub(super) struct Domains {
    /// Entity component → its domain, in component order.
    pub of_entity: IndexMap<String, String>,
    /// Every domain, of operations and of entities.
    pub names: BTreeSet<String>,
}

impl<'a> Lowering<'a> {
    /// The spec's operations in spec order, with their annotations and domains.
    pub(super) fn read_operations(&mut self) -> Vec<SpecOperation<'a>> {
        let mut out = Vec::new();
        for (path, item) in &self.spec.paths.paths {
            let ReferenceOr::Item(item) = item else {
                continue;
            };
            for (method, op) in item.iter() {
                let pointer = push_pointer(&push_pointer("/paths", path), method);
                let ann = self.annotator.operation(&op.extensions, &pointer);
                let domain = ann
                    .internal
                    .clone()
                    .or_else(|| op.tags.first().cloned())
                    .map(|d| domain_module(&d))
                    .unwrap_or_else(|| DEFAULT_DOMAIN.into());
                out.push(SpecOperation {
                    path,
                    method: method.to_string(),
                    op,
                    item,
                    ann,
                    domain,
                    pointer,
                });
            }
        }
        out
    }

    /// Reserve what generated code derives from domain and entity names, name the spec's
    /// component types, and place each entity in a domain.
    pub(super) fn names(&mut self, ops: &[SpecOperation<'_>]) -> Domains {
        let default_domain = DEFAULT_DOMAIN.to_string();
        self.reserve_domain_derived(ops.iter().map(|o| &o.domain).chain([&default_domain]));
        let entities: BTreeSet<String> = self.entity_components().cloned().collect();
        self.types.name_components(&entities, entity_derived);
        let of_entity = self.entity_domains(ops);
        let names: BTreeSet<String> = ops
            .iter()
            .map(|o| o.domain.clone())
            .chain(of_entity.values().cloned())
            .collect();
        // Domains that only an entity names (`x-internal`) are known only now.
        self.reserve_domain_derived(&names);
        Domains { of_entity, names }
    }

    fn reserve_domain_derived<'d>(&mut self, domains: impl IntoIterator<Item = &'d String>) {
        for domain in domains {
            for derived in domain_derived(domain) {
                self.types.namespace.reserve(&derived);
            }
        }
    }

    /// Component schemas marked `x-codegen-schema-type: entity`, in spec order.
    fn entity_components(&self) -> impl Iterator<Item = &String> {
        self.annotations
            .iter()
            .filter(|(_, a)| a.schema_type == Some(SchemaType::Entity))
            .map(|(name, _)| name)
    }

    /// Entity domains: their own `x-internal`, else the domain of the first operation that
    /// serves them (by ArchesAI's response conventions), else that of the first operation
    /// tagged with their name, else `api`.
    fn entity_domains(&self, ops: &[SpecOperation<'_>]) -> IndexMap<String, String> {
        let served_by = self.served_by(ops);
        let tagged = |name: &str| {
            ops.iter()
                .find(|o| o.op.tags.iter().any(|t| pascal(t) == pascal(name)))
                .map(|o| o.domain.clone())
        };
        self.entity_components()
            .map(|name| {
                let domain = self.annotations[name]
                    .internal
                    .as_ref()
                    .map(|d| domain_module(d))
                    .or_else(|| served_by.get(name).cloned())
                    .or_else(|| tagged(name))
                    .unwrap_or_else(|| DEFAULT_DOMAIN.into());
                (name.clone(), domain)
            })
            .collect()
    }

    /// Entity component → the domain of the first operation whose success response holds it.
    fn served_by(&self, ops: &[SpecOperation<'_>]) -> IndexMap<String, String> {
        let plurals: Vec<(String, String)> = self
            .entity_components()
            .map(|name| (name.clone(), plural(&snake(&self.types.rust_name(name)))))
            .collect();
        let mut served_by = IndexMap::new();
        for o in ops {
            // The first 2xx response that resolves.
            let success =
                o.op.responses
                    .responses
                    .iter()
                    .find_map(|(code, r)| match code {
                        StatusCode::Code(c) if (200..300).contains(c) => {
                            resolve(r, self.spec, "#/components/responses/", |c| &c.responses)
                        }
                        _ => None,
                    });
            if let (_, Some(entity)) = classify(&o.shape(), success, &plurals) {
                served_by.entry(entity).or_insert_with(|| o.domain.clone());
            }
        }
        served_by
    }
}
