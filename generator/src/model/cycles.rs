//! Recursive types: a struct (or union) that contains itself, directly or through other structs, has no
//! finite size. Fields that close such a cycle are boxed; fields that reach a type only through
//! `Vec` or a map already have indirection and are left alone.

use std::collections::HashMap;

use super::types::{TypeDef, TypeKind};

/// Boxes every field whose type is a struct in the same strongly connected component as the
/// struct holding it (Tarjan's algorithm, iterative so that deep specs cannot overflow the stack).
pub fn box_cycles(defs: &mut [TypeDef]) {
    let index: HashMap<&str, usize> = defs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind != TypeKind::Enum)
        .map(|(i, d)| (d.name.as_str(), i))
        .collect();
    let edges: Vec<Vec<(usize, usize)>> = defs
        .iter()
        .map(|d| {
            held_types(d)
                .enumerate()
                .filter_map(|(f, ty)| index.get(direct_type(ty)).map(|&target| (f, target)))
                .collect()
        })
        .collect();
    let component = strongly_connected(&edges);
    for (from, out) in edges.iter().enumerate() {
        for &(field, to) in out {
            if component[from] == component[to] {
                let Some(ty) = held_types_mut(&mut defs[from]).nth(field) else {
                    continue;
                };
                *ty = match wrapper(ty) {
                    Some((outer, inner)) => format!("{outer}Box<{inner}>>"),
                    None => format!("Box<{ty}>"),
                };
            }
        }
    }
}

/// The types a struct's fields or a union's members hold, in a fixed order.
fn held_types(d: &TypeDef) -> impl Iterator<Item = &String> {
    d.fields
        .iter()
        .map(|f| &f.ty)
        .chain(d.members.iter().map(|m| &m.ty))
}

fn held_types_mut(d: &mut TypeDef) -> impl Iterator<Item = &mut String> {
    d.fields
        .iter_mut()
        .map(|f| &mut f.ty)
        .chain(d.members.iter_mut().map(|m| &mut m.ty))
}

/// The type a field holds inline: `Option<T>`, `rt::Patch<T>` and `T` hold a `T`; anything else (`Vec<T>`,
/// maps, `Box<T>`) holds it behind a pointer.
fn direct_type(ty: &str) -> &str {
    let inner = wrapper(ty).map_or(ty, |(_, inner)| inner);
    if inner.contains('<') { "" } else { inner }
}

/// `Option<T>` or `rt::Patch<T>` split into the wrapper's opening and `T`.
fn wrapper(ty: &str) -> Option<(&'static str, &str)> {
    ["Option<", "rt::Patch<"].into_iter().find_map(|outer| {
        let inner = ty.strip_prefix(outer)?.strip_suffix('>')?;
        Some((outer, inner))
    })
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
