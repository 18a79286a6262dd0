//! Only the types the service uses are emitted. A spec's components often hold far more than
//! its operations touch: GitHub's declares 4,500 webhook payload types that no path refers to,
//! three fifths of what archgen would otherwise emit and rustc compile. Roots are what the
//! generated code names (entities, and each operation's body, parameters, input and output);
//! a type is kept when a root reaches it through fields, union members or defaults.

use std::collections::{BTreeMap, BTreeSet};

use super::{Entity, Operation, TypeDef};

/// Drop every definition of `defs` that no entity or operation reaches.
pub fn keep_used<'a>(
    defs: &mut Vec<TypeDef>,
    entities: &[Entity],
    operations: impl IntoIterator<Item = &'a Operation>,
) {
    let by_name: BTreeMap<&str, &TypeDef> = defs
        .iter()
        .map(|d| (d.name.trim_start_matches("r#"), d))
        .collect();
    let mut pending: Vec<&str> = Vec::new();
    for e in entities {
        mention(&by_name, &e.name, &mut pending);
        for f in &e.fields {
            mention(&by_name, &f.base, &mut pending);
        }
    }
    for op in operations {
        let params = op
            .path_params
            .iter()
            .chain(&op.query_params)
            .chain(&op.header_params)
            .chain(&op.cookie_params);
        for text in params
            .map(|p| p.ty.as_str())
            .chain(op.body.as_ref().map(|b| b.ty.as_str()))
            .chain(op.output.as_deref())
            .chain(op.input.as_deref())
            .chain(op.assign.iter().filter_map(|a| a.from.default()))
        {
            mention(&by_name, text, &mut pending);
        }
    }
    let mut kept: BTreeSet<&str> = BTreeSet::new();
    while let Some(name) = pending.pop() {
        if !kept.insert(name) {
            continue;
        }
        let Some(def) = by_name.get(name) else {
            continue;
        };
        for f in &def.fields {
            mention(&by_name, &f.ty, &mut pending);
            if let Some(default) = &f.default {
                mention(&by_name, default, &mut pending);
            }
        }
        for m in &def.members {
            mention(&by_name, &m.ty, &mut pending);
        }
    }
    let kept: BTreeSet<String> = kept.into_iter().map(str::to_string).collect();
    defs.retain(|d| kept.contains(d.name.trim_start_matches("r#")));
}

/// Queue the defined types that `text` names.
fn mention<'d>(by_name: &BTreeMap<&'d str, &'d TypeDef>, text: &str, pending: &mut Vec<&'d str>) {
    pending.extend(idents(text).filter_map(|i| by_name.get_key_value(i).map(|(k, _)| *k)));
}

/// The identifiers in a Rust type or expression: type names are identifiers the names pass made
/// unique, so a type is mentioned exactly when its name appears as one.
fn idents(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::idents;

    #[test]
    fn identifiers_of_a_type() {
        let found: Vec<&str> = idents("Option<Vec<Box<r#Match>>>").collect();
        assert_eq!(found, ["Option", "Vec", "Box", "r", "Match"]);
    }
}
