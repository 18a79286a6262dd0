//! Checks on the finished document: every local reference must lead somewhere, and no chain of
//! bare references may loop (`A: {$ref: B}`, `B: {$ref: A}`), because later stages follow such
//! chains to find what a name means and would never stop.

use std::collections::{HashMap, HashSet};

use super::append_segment;
use super::bundle::{looks_like_ref, missing_hint};
use super::node::{Loc, Node, Problem, join_pointer, split_pointer};
use super::refs::percent_decode;
use super::shape::{self, Slot};

struct Site {
    /// Pointer of the object holding the reference.
    at: String,
    raw: String,
    loc: Loc,
    /// Only a `$ref` (perhaps with a description): following it gives no content of its own.
    bare: bool,
}

/// Hoisting, copying and normalizing can nest a document deeper than any one file was allowed to.
pub(crate) fn check_depth(root: &Node, problems: &mut Vec<Problem>) {
    if let Some(loc) = root.deeper_than(super::MAX_DEPTH) {
        problems.push(super::node::too_deep(loc));
    }
}

pub(crate) fn check_refs(root: &mut Node, problems: &mut Vec<Problem>) {
    let mut sites = Vec::new();
    collect(root, Slot::Document, &mut String::new(), &mut sites);

    let mut edges: HashMap<String, String> = HashMap::new();
    for site in &sites {
        // Anything else is a reference that bundling could not follow, reported already.
        let Some(fragment) = site.raw.strip_prefix('#') else {
            continue;
        };
        let Some(segments) = split_pointer(&percent_decode(fragment)) else {
            continue;
        };
        match root.lookup(&segments) {
            Ok(_) if site.bare => {
                edges.insert(site.at.clone(), join_pointer(&segments));
            }
            Ok(_) => {}
            Err(matched) => {
                let problem =
                    Problem::new(format!("unresolved reference `{}`", site.raw), site.loc);
                problems.push(
                    problem
                        .pointer(format!("{}/$ref", site.at))
                        .hint(missing_hint(root, &segments, matched)),
                );
            }
        }
    }
    report_cycles(&sites, &edges, problems);
}

fn collect(node: &mut Node, slot: Slot, at: &mut String, sites: &mut Vec<Site>) {
    if let Some(map) = node.as_map() {
        if let Some(r) = map.get("$ref")
            && let Some(raw) = r.as_str()
        {
            let bare = map
                .keys()
                .all(|k| matches!(k.as_str(), "$ref" | "description" | "summary"));
            sites.push(Site {
                at: at.clone(),
                raw: raw.to_string(),
                loc: r.loc,
                bare,
            });
        }
        if slot == Slot::Schema {
            let mapping = map
                .get("discriminator")
                .and_then(|d| d.get("mapping"))
                .and_then(Node::as_map);
            for (key, value) in mapping.into_iter().flatten() {
                if let Some(raw) = value.as_str().filter(|s| looks_like_ref(s)) {
                    let mut here = format!("{at}/discriminator/mapping");
                    append_segment(&mut here, key);
                    sites.push(Site {
                        at: here,
                        raw: raw.to_string(),
                        loc: value.loc,
                        bare: false,
                    });
                }
            }
        }
    }
    shape::for_each_child(node, slot, &mut |segments, child, child_slot| {
        let len = at.len();
        for s in segments {
            append_segment(at, s);
        }
        collect(child, child_slot, at, sites);
        at.truncate(len);
    });
}

/// Each object has at most one outgoing bare reference, so following edges from every start and
/// remembering finished nodes finds every cycle in linear time.
fn report_cycles(sites: &[Site], edges: &HashMap<String, String>, problems: &mut Vec<Problem>) {
    let locs: HashMap<&str, Loc> = sites
        .iter()
        .filter(|s| s.bare)
        .map(|s| (s.at.as_str(), s.loc))
        .collect();
    let mut done: HashSet<&str> = HashSet::new();
    for site in sites.iter().filter(|s| s.bare) {
        let mut path: Vec<&str> = Vec::new();
        let mut cur = site.at.as_str();
        while !done.contains(cur) {
            if let Some(i) = path.iter().position(|p| *p == cur) {
                let cycle = &path[i..];
                let first = cycle.iter().min().copied().unwrap_or(cur);
                let shown: Vec<String> = cycle.iter().map(|p| format!("`#{p}`")).collect();
                let loc = locs.get(first).copied().unwrap_or(Loc::NONE);
                let problem = Problem::new(
                    format!("reference cycle: {} → back to the start", shown.join(" → ")),
                    loc,
                );
                problems.push(
                    problem.pointer(format!("{first}/$ref")).hint(Some(
                        "a component that is only a `$ref` must eventually lead to a real definition".into(),
                    )),
                );
                break;
            }
            path.push(cur);
            match edges.get(cur) {
                Some(next) => cur = next,
                None => break,
            }
        }
        for p in path {
            done.insert(p);
        }
    }
}
