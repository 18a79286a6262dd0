//! The entities pass, and what list operations later tell about entities' paging and sorting.

use std::collections::BTreeMap;

use super::Lowering;
use super::names::Domains;
use crate::model::Entity;
use crate::model::entity::{EntityInput, lower_entity};
use crate::model::relations::resolve_foreign_keys;
use crate::model::types::TypeSpace;

/// The entities that lowered without error.
pub(super) struct Entities {
    pub all: Vec<Entity>,
    /// (component, plural) of each, for classifying operations.
    pub plurals: Vec<(String, String)>,
}

impl Entities {
    /// The entity lowered from `component`.
    pub fn of(&self, component: &str, types: &TypeSpace<'_>) -> Option<&Entity> {
        let rust = types.rust_name(component);
        self.all.iter().find(|e| e.name == rust)
    }
}

impl Lowering<'_> {
    /// Lower each entity schema in its domain, then point its relations at the others.
    pub(super) fn entities(&mut self, domains: &Domains) -> Entities {
        let mut out = Entities {
            all: Vec::new(),
            plurals: Vec::new(),
        };
        for (component, domain) in &domains.of_entity {
            let input = EntityInput {
                component,
                rust_name: self.types.rust_name(component),
                domain: domain.clone(),
                annotations: &self.annotations[component],
            };
            let sources = &self.loaded.sources;
            let lowered = lower_entity(
                &input,
                &mut self.types,
                &mut self.annotator,
                sources,
                &mut self.diags,
            );
            if let Some(e) = lowered {
                out.plurals.push((component.clone(), e.plural.clone()));
                out.all.push(e);
            }
        }
        resolve_foreign_keys(&mut out.all, &self.loaded.sources, &mut self.diags);
        out
    }
}

/// Paging and sorting of entities, by component, from the parameters of their list operations
/// (the last list operation of an entity wins).
#[derive(Default)]
pub(super) struct ListParams {
    /// (default, maximum) page size.
    pub page_limits: BTreeMap<String, (u32, u32)>,
    /// API names `sort` allows.
    pub sortable: BTreeMap<String, Vec<String>>,
}

impl ListParams {
    pub fn apply(&self, entities: &mut [Entity], types: &TypeSpace<'_>) {
        for (component, (default, max)) in &self.page_limits {
            if let Some(e) = entity_mut(entities, component, types) {
                e.default_limit = *default;
                e.max_limit = *max;
            }
        }
        // Sensitive fields never leave the service, so they sort nothing.
        for (component, fields) in &self.sortable {
            if let Some(e) = entity_mut(entities, component, types) {
                e.sortable = fields
                    .iter()
                    .filter(|f| e.fields.iter().any(|ef| &ef.name == *f && !ef.sensitive))
                    .cloned()
                    .collect();
            }
        }
    }
}

fn entity_mut<'e>(
    entities: &'e mut [Entity],
    component: &str,
    types: &TypeSpace<'_>,
) -> Option<&'e mut Entity> {
    let rust = types.rust_name(component);
    entities.iter_mut().find(|e| e.name == rust)
}
