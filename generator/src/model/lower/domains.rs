//! The last passes: the component types nothing else placed, then each domain with its
//! entities, operations, types and rules.

use std::collections::{BTreeMap, BTreeSet};

use super::Lowering;
use super::names::Domains;
use super::operations::Operations;
use crate::model::names::{pascal, plain_snake, snake};
use crate::model::types::{TypeDef, TypeSpace, rule_static};
use crate::model::{Domain, Entity, NamedRule, Operation, security};

/// Types by the domain that owns them; `None` for the common module.
type TypesByOwner = BTreeMap<Option<String>, Vec<TypeDef>>;

impl Lowering<'_> {
    /// Named component types other than entities, each into the domain its `x-internal` names,
    /// else into the common module.
    pub(super) fn component_types(&mut self, domains: &Domains) {
        for component in self.components.keys() {
            if domains.of_entity.contains_key(component) {
                continue;
            }
            let owner = self.annotations[component]
                .internal
                .as_ref()
                .map(|d| snake(d))
                .filter(|d| domains.names.contains(d));
            self.types.component_def(component, owner.as_deref());
        }
    }
}

/// Every domain with what it owns, and the types of the common module.
pub(super) fn assemble(
    domains: &Domains,
    entities: &[Entity],
    mut operations: Operations,
    types: &mut TypeSpace<'_>,
) -> (Vec<Domain>, Vec<TypeDef>) {
    let mut types_by_owner = place_types(types, entities, &operations.by_domain, &domains.names);
    let mut out = Vec::new();
    for name in &domains.names {
        let needed = operations.rules_needed.remove(name).unwrap_or_default();
        let body_rules = operations.body_rules.remove(name).unwrap_or_default();
        let mut domain_operations = operations.by_domain.remove(name).unwrap_or_default();
        out.push(Domain {
            name: name.clone(),
            base: plain_snake(name),
            pascal: pascal(name),
            entities: domain_entities(name, domains, entities, types),
            requirements: security::name_requirements(
                domain_operations
                    .iter_mut()
                    .filter_map(|op| op.security.as_mut()),
            ),
            operations: domain_operations,
            types: types_by_owner
                .remove(&Some(name.clone()))
                .unwrap_or_default(),
            rules: domain_rules(types, needed, body_rules),
        });
    }
    (out, types_by_owner.remove(&None).unwrap_or_default())
}

/// The types the service uses, cycles boxed, by the domain that owns them.
fn place_types(
    types: &mut TypeSpace<'_>,
    entities: &[Entity],
    operations: &BTreeMap<String, Vec<Operation>>,
    domain_names: &BTreeSet<String>,
) -> TypesByOwner {
    crate::model::reach::keep_used(types, entities, operations.values().flatten());
    crate::model::cycles::box_cycles(&mut types.defs);
    let mut out = TypesByOwner::new();
    for def in std::mem::take(&mut types.defs) {
        let owner = def.owner.clone().filter(|o| domain_names.contains(o));
        out.entry(owner).or_default().push(def);
    }
    out
}

fn domain_entities(
    name: &str,
    domains: &Domains,
    entities: &[Entity],
    types: &TypeSpace<'_>,
) -> Vec<Entity> {
    let rust_name = |c: &String| types.names.get(c).map_or(pascal(c), |n| n.clone());
    entities
        .iter()
        .filter(|e| (domains.of_entity.iter()).any(|(c, d)| d == name && rust_name(c) == e.name))
        .cloned()
        .collect()
}

/// A domain's rule statics, by name: those of its CRUD bodies, and those of the components its
/// validators name, closed over the components that these name in turn.
fn domain_rules(
    types: &TypeSpace<'_>,
    mut needed: BTreeSet<String>,
    mut rules: Vec<NamedRule>,
) -> Vec<NamedRule> {
    let mut done = BTreeSet::new();
    while let Some(c) = needed.iter().find(|c| !done.contains(*c)).cloned() {
        done.insert(c.clone());
        if let Some(s) = types.components.get(&c) {
            rules.push(NamedRule {
                name: rule_static(&c),
                rule: types.rule_of(s, &mut needed, 0),
            });
        }
    }
    rules.sort_by(|a, b| a.name.cmp(&b.name));
    rules
}
