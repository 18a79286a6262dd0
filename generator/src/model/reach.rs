//! Only the types the service uses are emitted. A spec's components often hold far more than
//! its operations touch: GitHub's declares 4,500 webhook payload types that no path refers to,
//! three fifths of what archgen would otherwise emit and rustc compile. Roots are what the
//! generated code names (entities, and each operation's body, parameters, input and output);
//! a type is kept when a root reaches it, by id, through the fields and union members of the
//! types it reaches.

use std::collections::{BTreeSet, HashMap};

use super::type_ref::{TypeId, TypeRef};
use super::types::TypeSpace;
use super::{Entity, Operation, TypeDef};

/// Drop every definition of the type space that no entity or operation reaches.
pub fn keep_used<'a>(
    types: &mut TypeSpace<'_>,
    entities: &[Entity],
    operations: impl IntoIterator<Item = &'a Operation>,
) {
    let mut pending = roots(types, entities, operations);
    let by_id: HashMap<TypeId, &TypeDef> = types.defs.iter().map(|d| (d.id, d)).collect();
    let mut kept: BTreeSet<TypeId> = BTreeSet::new();
    while let Some(id) = pending.pop() {
        if !kept.insert(id) {
            continue;
        }
        if let Some(def) = by_id.get(&id) {
            // A field's default names only the field's own type, so it reaches nothing more.
            pending.extend(def.held().flat_map(TypeRef::mentioned));
        }
    }
    types.defs.retain(|d| kept.contains(&d.id));
}

/// The types generated code names outside type definitions: entities, and what each
/// operation's parameters, body, input and output hold.
fn roots<'a>(
    types: &TypeSpace<'_>,
    entities: &[Entity],
    operations: impl IntoIterator<Item = &'a Operation>,
) -> Vec<TypeId> {
    let mut roots: Vec<TypeId> = Vec::new();
    for e in entities {
        roots.extend(types.lookup(&e.name));
        roots.extend(e.fields.iter().flat_map(|f| f.base.mentioned()));
    }
    for op in operations {
        let params = op
            .path_params
            .iter()
            .chain(&op.query_params)
            .chain(&op.header_params)
            .chain(&op.cookie_params);
        let held = params
            .map(|p| &p.ty)
            .chain(op.body.as_ref().map(|b| &b.ty))
            .chain(&op.output)
            .chain(&op.input);
        roots.extend(held.flat_map(TypeRef::mentioned));
    }
    roots
}
