//! Only the types the service uses are emitted. A spec's components often hold far more than
//! its operations touch: GitHub's declares 4,500 webhook payload types that no path refers to,
//! three fifths of what archgen would otherwise emit and rustc compile. Roots are what the
//! generated code names (entities, and each operation's body, parameters, input and output);
//! a type is kept when a root reaches it, by id, through the fields and union members of the
//! types it reaches. The same walk tells which ways the server moves each kept type through
//! serde ([`mark_serde_use`]).

use std::collections::{BTreeSet, HashMap};

use super::type_ref::{TypeId, TypeRef};
use super::types::{SerdeUse, TypeSpace};
use super::{Entity, Operation, TypeDef};

/// Drop every definition of the type space that no entity or operation reaches.
pub fn keep_used<'a>(
    types: &mut TypeSpace<'_>,
    entities: &[Entity],
    operations: impl IntoIterator<Item = &'a Operation>,
) {
    let (reads, writes) = roots(types, entities, operations);
    let kept = reach(types, reads.iter().chain(&writes).copied().collect());
    types.defs.retain(|d| kept.contains(&d.id));
    mark_serde_use(types, reads, writes);
}

/// Mark each definition with the ways the server moves it: read when a request's parameters or
/// body reach it, written when a response reaches it; an entity's types both (the cache and
/// event subscribers read back what was written).
fn mark_serde_use(types: &mut TypeSpace<'_>, reads: Vec<TypeId>, writes: Vec<TypeId>) {
    let reads = reach(types, reads);
    let writes = reach(types, writes);
    for def in &mut types.defs {
        def.serde = SerdeUse {
            reads: reads.contains(&def.id),
            writes: writes.contains(&def.id),
        };
    }
}

/// Every type `from` reaches through fields and union members, `from` included.
fn reach(types: &TypeSpace<'_>, mut pending: Vec<TypeId>) -> BTreeSet<TypeId> {
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
    kept
}

/// The types generated code names outside type definitions, as (what the server reads, what
/// it writes): entities (both), and what each operation's parameters, body and input hold (read)
/// and its output (written).
fn roots<'a>(
    types: &TypeSpace<'_>,
    entities: &[Entity],
    operations: impl IntoIterator<Item = &'a Operation>,
) -> (Vec<TypeId>, Vec<TypeId>) {
    let mut reads: Vec<TypeId> = Vec::new();
    for e in entities {
        reads.extend(types.lookup(&e.name));
        reads.extend(e.fields.iter().flat_map(|f| f.base.mentioned()));
    }
    let mut writes = reads.clone();
    for op in operations {
        let params = op
            .path_params
            .iter()
            .chain(&op.query_params)
            .chain(&op.header_params)
            .chain(&op.cookie_params);
        let read = params
            .map(|p| &p.ty)
            .chain(op.body.as_ref().map(|b| &b.ty))
            .chain(&op.input);
        reads.extend(read.flat_map(TypeRef::mentioned));
        writes.extend(op.output.iter().flat_map(TypeRef::mentioned));
        let replies = op.reply.iter().flat_map(|r| &r.variants);
        writes.extend(replies.flat_map(|v| &v.ty).flat_map(TypeRef::mentioned));
    }
    (reads, writes)
}
