//! Recursive types: a struct (or union) that contains itself, directly or through other structs, has no
//! finite size. Fields that close such a cycle are boxed; fields that reach a type only through
//! `Vec` or a map already have indirection and are left alone.

use std::collections::HashMap;

use super::type_ref::{Builtin, TypeId, TypeRef};
use super::types::{TypeDef, TypeKind};

/// Boxes every field whose type is a struct in the same strongly connected component as the
/// struct holding it (Tarjan's algorithm, iterative so that deep specs cannot overflow the stack).
pub fn box_cycles(defs: &mut [TypeDef]) {
    let index: HashMap<TypeId, usize> = defs
        .iter()
        .enumerate()
        .filter(|(_, d)| !matches!(d.kind, TypeKind::Enum | TypeKind::IntEnum))
        .map(|(i, d)| (d.id, i))
        .collect();
    let edges: Vec<Vec<(usize, usize)>> = defs
        .iter()
        .map(|d| {
            d.held()
                .enumerate()
                .filter_map(|(f, ty)| index.get(&held_inline(ty)?).map(|&target| (f, target)))
                .collect()
        })
        .collect();
    let component = strongly_connected(&edges);
    for (from, out) in edges.iter().enumerate() {
        for &(field, to) in out {
            if component[from] == component[to]
                && let Some(ty) = defs[from].held_mut().nth(field)
            {
                box_held(ty);
            }
        }
    }
}

/// The defined type a field holds inline: `Option<T>`, `rt::Patch<T>` and `T` hold a `T`;
/// anything else (`Vec<T>`, maps, `Box<T>`) holds it behind a pointer.
fn held_inline(ty: &TypeRef) -> Option<TypeId> {
    let inner = match ty {
        TypeRef::Option(inner) | TypeRef::Patch(inner) => inner,
        _ => ty,
    };
    inner.named().map(|n| n.id)
}

/// Box what `ty` holds inline, inside its `Option` or `Patch` (`Option<Box<T>>`), so that
/// absence stays cheap to test.
fn box_held(ty: &mut TypeRef) {
    let held = match ty {
        TypeRef::Option(inner) | TypeRef::Patch(inner) => &mut **inner,
        _ => ty,
    };
    // A stand-in only while the held type moves into its box.
    let inner = std::mem::replace(held, TypeRef::Builtin(Builtin::Json));
    *held = TypeRef::Boxed(Box::new(inner));
}

/// The component number of every node.
fn strongly_connected(edges: &[Vec<(usize, usize)>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let (mut order, mut low, mut component) = (vec![UNSEEN; n], vec![0; n], vec![UNSEEN; n]);
    let (mut on_stack, mut stack) = (vec![false; n], Vec::new());
    let (mut counter, mut components) = (0, 0);
    for root in 0..n {
        if order[root] != UNSEEN {
            continue;
        }
        // (node, next edge to look at)
        let mut work = vec![(root, 0)];
        while let Some(&mut (node, ref mut next)) = work.last_mut() {
            if *next == 0 && order[node] == UNSEEN {
                order[node] = counter;
                low[node] = counter;
                counter += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            if let Some(&(_, to)) = edges[node].get(*next) {
                *next += 1;
                if order[to] == UNSEEN {
                    work.push((to, 0));
                } else if on_stack[to] {
                    low[node] = low[node].min(order[to]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == order[node] {
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component[member] = components;
                    if member == node {
                        break;
                    }
                }
                components += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::type_ref::{TypeIds, TypeName};
    use crate::model::types::StructField;

    fn field(ident: &str, ty: TypeRef) -> StructField {
        StructField {
            ident: ident.into(),
            json: ident.into(),
            ty,
            doc: None,
            optional: false,
            rename: false,
            sensitive: false,
            patch: false,
            default: None,
        }
    }

    fn rust_of(def: &TypeDef) -> Vec<String> {
        def.held().map(crate::emit::types::rust).collect()
    }

    #[test]
    fn boxes_fields_that_close_a_cycle_inside_their_option() {
        let mut ids = TypeIds::default();
        let (a, b): (TypeName, TypeName) = (ids.declare("A"), ids.declare("B"));
        let named = |n: &TypeName| TypeRef::Named(n.clone());
        let mut defs = [
            TypeDef::record(&a, None, vec![field("b", named(&b).optional())], None),
            TypeDef::record(
                &b,
                None,
                vec![
                    field("a", named(&a)),
                    field("all", TypeRef::Vec(Box::new(named(&a)))),
                ],
                None,
            ),
        ];
        box_cycles(&mut defs);
        assert_eq!(rust_of(&defs[0]), ["Option<Box<B>>"]);
        assert_eq!(rust_of(&defs[1]), ["Box<A>", "Vec<A>"]);
    }
}
