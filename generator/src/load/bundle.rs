//! Follows `$ref`s into other files and bundles their targets into the root document, so that
//! later stages see one self-contained spec in which every reference is `#/...`.
//!
//! A target is hoisted under `components/<section>/<Name>` (the section chosen by where the
//! reference occurs) and the reference rewritten to point there. Targets are named before their
//! content is walked, so references that cycle between files find the name already taken and
//! stop. Path items and media types cannot be referenced from components by `openapiv3`, so they
//! are copied in place instead, with a guard against cycles.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::append_segment;
use super::node::{Budget, Kind, Loc, Node, Problem, split_pointer, too_deep};
use super::refs::{self, RefParts, parse_ref};
use super::shape::{self, SECTIONS, Slot};
use crate::diagnostic::did_you_mean;

/// Guards against specs spread over absurdly many files (or a generated web of them).
const MAX_FILES: usize = 1000;
/// How deep in-place copies (path items, media types) may nest through other files.
const MAX_INLINE_DEPTH: usize = 32;

/// Bundles in place. `files[0]` is the root; files read along the way are appended.
pub(crate) fn bundle(
    root: &mut Node,
    files: &mut Vec<PathBuf>,
    budget: &mut Budget,
    problems: &mut Vec<Problem>,
) {
    let mut b = Bundler {
        ids: HashMap::from([(refs::identity(&files[0]), Some(0))]),
        files,
        budget,
        problems,
        trees: vec![None],
        assigned: HashMap::new(),
        taken: HashMap::new(),
        queue: VecDeque::new(),
        skip: HashSet::new(),
        inlining: Vec::new(),
        root_refs: HashMap::new(),
    };
    b.reserve_root_names(root);
    b.claim_component_refs(root);
    b.walk(root, Slot::Document, 0, &mut String::new());
    while let Some(hoist) = b.queue.pop_front() {
        b.hoist(root, hoist);
    }
}

/// Where a reference leads: a pointer into the root document, or a file and pointer elsewhere.
enum Target {
    Root(String),
    File(u32, String),
}

struct Hoist {
    file: u32,
    pointer: String,
    section: String,
    name: String,
    slot: Slot,
}

struct Bundler<'a> {
    files: &'a mut Vec<PathBuf>,
    budget: &'a mut Budget,
    problems: &'a mut Vec<Problem>,
    /// File identity → file id, or `None` for a file that was read but did not parse (its
    /// error is reported once, not at every reference to it).
    ids: HashMap<PathBuf, Option<u32>>,
    /// Parsed files by id; the root's slot is empty because the root is walked in place.
    trees: Vec<Option<Node>>,
    /// (file, pointer) → the local `#/components/...` reference it was given.
    assigned: HashMap<(u32, String), String>,
    /// Component names in use, per section.
    taken: HashMap<String, HashSet<String>>,
    queue: VecDeque<Hoist>,
    /// Root components that are bare references to other files and are replaced by their target.
    skip: HashSet<String>,
    inlining: Vec<(u32, String)>,
    /// Where each hoisted root-internal target was first referenced, for errors.
    root_refs: HashMap<String, (Loc, String)>,
}

impl Bundler<'_> {
    fn reserve_root_names(&mut self, root: &Node) {
        let Some(components) = root.get("components").and_then(Node::as_map) else {
            return;
        };
        for (section, entries) in components {
            if let Some(entries) = entries.as_map() {
                self.taken
                    .entry(section.clone())
                    .or_default()
                    .extend(entries.keys().cloned());
            }
        }
    }

    /// `components: {schemas: {Pet: {$ref: ./Pet.yaml}}}` is how split specs name their files.
    /// Such a component becomes the file's content under its own name, rather than an alias of
    /// a hoisted `Pet2`; claiming these first keeps the name whatever order references come in.
    fn claim_component_refs(&mut self, root: &Node) {
        let Some(components) = root.get("components").and_then(Node::as_map) else {
            return;
        };
        for (section, slot) in SECTIONS {
            let Some(entries) = components.get(*section).and_then(Node::as_map) else {
                continue;
            };
            for (name, node) in entries {
                let (Some(raw), Some(1)) = (node.ref_str(), node.as_map().map(IndexMap::len))
                else {
                    continue;
                };
                let mut at = format!("/components/{section}");
                append_segment(&mut at, name);
                let loc = node.get("$ref").map_or(node.loc, |r| r.loc);
                let ref_at = format!("{at}/$ref");
                match self.target(raw, 0, loc, &ref_at) {
                    None => {
                        // Already reported; the walk must not report it again.
                        self.skip.insert(at);
                    }
                    Some(Target::File(file, pointer))
                        if !self.assigned.contains_key(&(file, pointer.clone())) =>
                    {
                        if self.exists(file, &pointer, raw, loc, &ref_at) {
                            self.assigned
                                .insert((file, pointer.clone()), format!("#{at}"));
                            let hoist = Hoist {
                                file,
                                pointer,
                                section: (*section).into(),
                                name: name.clone(),
                                slot: *slot,
                            };
                            self.queue.push_back(hoist);
                        }
                        self.skip.insert(at);
                    }
                    Some(_) => {}
                }
            }
        }
    }

    /// `file` is the file whose text `node` came from: references resolve relative to it.
    fn walk(&mut self, node: &mut Node, slot: Slot, file: u32, at: &mut String) {
        if slot == Slot::Literal || (file == 0 && self.skip.contains(at.as_str())) {
            return;
        }
        if let Some(r) = node.get("$ref") {
            match r.as_str() {
                Some(raw) => {
                    let (raw, loc) = (raw.to_string(), r.loc);
                    if self.follow(node, &raw, loc, slot, file, at) {
                        return;
                    }
                }
                None => self.problems.push(
                    Problem::new(
                        format!("`$ref` must be a string, not {}", r.kind_name()),
                        r.loc,
                    )
                    .pointer(format!("{at}/$ref")),
                ),
            }
        }
        if slot == Slot::Schema {
            self.discriminator_mapping(node, file, at);
        }
        self.descend(node, slot, file, at);
    }

    fn descend(&mut self, node: &mut Node, slot: Slot, file: u32, at: &mut String) {
        shape::for_each_child(node, slot, &mut |segments, child, child_slot| {
            let len = at.len();
            for s in segments {
                append_segment(at, s);
            }
            self.walk(child, child_slot, file, at);
            at.truncate(len);
        });
    }

    /// Rewrites or replaces the reference object `node`. Returns true when `node` was replaced
    /// by an in-place copy, which has then been walked already.
    fn follow(
        &mut self,
        node: &mut Node,
        raw: &str,
        loc: Loc,
        slot: Slot,
        file: u32,
        at: &str,
    ) -> bool {
        let has_path = raw.split('#').next().is_some_and(|p| !p.is_empty());
        let ref_at = format!("{at}/$ref");
        match self.target(raw, file, loc, &ref_at) {
            None => false,
            Some(Target::Root(pointer)) => {
                // A reference deep into the root (`#/paths/.../schema`, `#/components/schemas/A/
                // properties/b`) is hoisted into components, so later stages only ever meet
                // references to named components.
                if let Some(section) = shape::section(slot).filter(|s| is_deep(&pointer, s)) {
                    if let Some(local) = self.assign_root(pointer, section, slot, loc, &ref_at) {
                        set_ref(node, local);
                    }
                    return false;
                }
                // Local references in the root stay exactly as written.
                if file != 0 || has_path {
                    set_ref(node, format!("#{pointer}"));
                }
                false
            }
            Some(Target::File(target_file, pointer)) => match shape::section(slot) {
                Some(section) => {
                    if let Some(local) =
                        self.assign(target_file, pointer, section, slot, raw, loc, &ref_at)
                    {
                        set_ref(node, local);
                    }
                    false
                }
                None => {
                    self.inline(node, raw, loc, slot, (file, target_file), pointer, at);
                    true
                }
            },
        }
    }

    /// Resolves a reference string found in `file` to a target, reading the file it names.
    fn target(&mut self, raw: &str, file: u32, loc: Loc, at: &str) -> Option<Target> {
        let RefParts { path, pointer } = match parse_ref(raw) {
            Ok(parts) => parts,
            Err(bad) => {
                self.problems
                    .push(Problem::new(bad.message, loc).pointer(at).hint(bad.hint));
                return None;
            }
        };
        let target_file = match path {
            None => file,
            Some(path) => {
                let base = self.files[file as usize].parent().unwrap_or(Path::new(""));
                self.read(refs::clean(&base.join(path)), raw, loc, at)?
            }
        };
        Some(if target_file == 0 {
            Target::Root(pointer)
        } else {
            Target::File(target_file, pointer)
        })
    }

    /// Reads and parses a file once; `None` if it cannot be (the problem is reported).
    fn read(&mut self, path: PathBuf, raw: &str, loc: Loc, at: &str) -> Option<u32> {
        let id = refs::identity(&path);
        if let Some(known) = self.ids.get(&id) {
            return *known;
        }
        if self.files.len() >= MAX_FILES {
            self.problems.push(
                Problem::new(
                    format!("the spec references more than {MAX_FILES} files"),
                    loc,
                )
                .pointer(at),
            );
            return None;
        }
        let text = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                let why = if e.kind() == std::io::ErrorKind::NotFound {
                    "file not found".to_string()
                } else {
                    e.to_string()
                };
                let problem = Problem::new(
                    format!("unresolved reference `{raw}`: {}: {why}", path.display()),
                    loc,
                );
                self.problems
                    .push(problem.pointer(at).hint(refs::similar_file(&path)));
                return None;
            }
        };
        let file = u32::try_from(self.files.len()).unwrap_or(u32::MAX);
        self.files.push(path.clone());
        let tree = match String::from_utf8(text) {
            Ok(text) => super::parse(&text, file, self.budget)
                .map_err(|p| self.problems.push(p))
                .ok(),
            Err(_) => {
                let problem =
                    Problem::new(format!("{} is not UTF-8 text", path.display()), loc).pointer(at);
                self.problems.push(problem);
                None
            }
        };
        let known = tree.is_some().then_some(file);
        self.trees.push(tree);
        self.ids.insert(id, known);
        known
    }

    /// Whether a pointer names a node in a parsed file; reports a dangling pointer. A file that
    /// failed to parse has had its error reported already and quietly resolves nothing.
    fn exists(&mut self, file: u32, pointer: &str, raw: &str, loc: Loc, at: &str) -> bool {
        let Some(tree) = self.trees.get(file as usize).and_then(Option::as_ref) else {
            return false;
        };
        let segments = split_pointer(pointer).unwrap_or_default();
        let Err(matched) = tree.lookup(&segments) else {
            return true;
        };
        let hint = missing_hint(tree, &segments, matched);
        let shown = self.files[file as usize].display();
        let problem = Problem::new(
            format!("unresolved reference `{raw}`: {shown} has no `#{pointer}`"),
            loc,
        );
        self.problems.push(problem.pointer(at).hint(hint));
        false
    }

    /// Gives a target its component name (once) and queues its content for hoisting. `at` is
    /// the pointer of the reference string, for errors.
    #[allow(clippy::too_many_arguments)]
    fn assign(
        &mut self,
        file: u32,
        pointer: String,
        section: &str,
        slot: Slot,
        raw: &str,
        loc: Loc,
        at: &str,
    ) -> Option<String> {
        if let Some(local) = self.assigned.get(&(file, pointer.clone())) {
            return Some(local.clone());
        }
        if !self.exists(file, &pointer, raw, loc, at) {
            return None;
        }
        let name = self.unique_name(section, base_name(&pointer, &self.files[file as usize]));
        let local = format!("#/components/{section}{}", super::push_pointer("", &name));
        self.assigned.insert((file, pointer.clone()), local.clone());
        self.queue.push_back(Hoist {
            file,
            pointer,
            section: section.into(),
            name,
            slot,
        });
        Some(local)
    }

    /// `assign` for a target inside the root, which is being walked and cannot be looked at
    /// yet: whether it exists is checked when it is hoisted.
    fn assign_root(
        &mut self,
        pointer: String,
        section: &str,
        slot: Slot,
        loc: Loc,
        at: &str,
    ) -> Option<String> {
        if let Some(local) = self.assigned.get(&(0, pointer.clone())) {
            return Some(local.clone());
        }
        let name = self.unique_name(section, deep_name(&pointer));
        let local = format!("#/components/{section}{}", super::push_pointer("", &name));
        self.assigned.insert((0, pointer.clone()), local.clone());
        self.root_refs
            .insert(pointer.clone(), (loc, at.to_string()));
        self.queue.push_back(Hoist {
            file: 0,
            pointer,
            section: section.into(),
            name,
            slot,
        });
        Some(local)
    }

    fn unique_name(&mut self, section: &str, base: String) -> String {
        let taken = self.taken.entry(section.into()).or_default();
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        taken.insert(name.clone());
        name
    }

    /// Copies a target into the root under its component name, resolving its own references
    /// relative to the file it came from.
    fn hoist(&mut self, root: &mut Node, hoist: Hoist) {
        let content = if hoist.file == 0 {
            self.copy_root(root, &hoist.pointer)
        } else {
            self.copy(hoist.file, &hoist.pointer, root.loc)
        };
        let Some(mut content) = content else {
            return;
        };
        let mut at = format!("/components/{}", hoist.section);
        append_segment(&mut at, &hoist.name);
        self.walk(&mut content, hoist.slot, hoist.file, &mut at);
        let Some(root_map) = root.as_map_mut() else {
            return;
        };
        let components = root_map
            .entry("components".to_string())
            .or_insert_with(empty_map);
        let Kind::Map(components) = &mut components.kind else {
            self.problems.push(
                Problem::new("`components` must be a mapping", components.loc)
                    .pointer("/components"),
            );
            return;
        };
        let section = components
            .entry(hoist.section.clone())
            .or_insert_with(empty_map);
        match &mut section.kind {
            Kind::Map(entries) => {
                entries.insert(hoist.name, content);
            }
            _ => {
                let problem = Problem::new(
                    format!("`components.{}` must be a mapping", hoist.section),
                    section.loc,
                );
                self.problems
                    .push(problem.pointer(format!("/components/{}", hoist.section)));
            }
        }
    }

    /// A copy of a target inside the root, charged to the node budget; a dangling pointer is
    /// reported at the reference that used it.
    fn copy_root(&mut self, root: &Node, pointer: &str) -> Option<Node> {
        let (loc, at) = self.root_refs.get(pointer).cloned()?;
        let segments = split_pointer(pointer).unwrap_or_default();
        match root.lookup(&segments) {
            Ok(source) => self.charged_clone(source, loc),
            Err(matched) => {
                let hint = missing_hint(root, &segments, matched);
                let problem = Problem::new(
                    format!("unresolved reference `#{pointer}`: the document has no such node"),
                    loc,
                );
                self.problems.push(problem.pointer(at).hint(hint));
                None
            }
        }
    }

    /// A copy of a target, charged to the node budget.
    fn copy(&mut self, file: u32, pointer: &str, loc: Loc) -> Option<Node> {
        let segments = split_pointer(pointer)?;
        let source = self
            .trees
            .get(file as usize)?
            .as_ref()?
            .lookup(&segments)
            .ok()?;
        // `source` borrows `self.trees`; the budget is charged on a copy of the count first.
        let count = source.count();
        if !self.budget.take(count) {
            self.problems.push(too_large(loc));
            return None;
        }
        Some(source.clone())
    }

    fn charged_clone(&mut self, source: &Node, loc: Loc) -> Option<Node> {
        if !self.budget.take(source.count()) {
            self.problems.push(too_large(loc));
            return None;
        }
        Some(source.clone())
    }

    /// Replaces a reference to a path item or media type by a copy of its target. Keys written
    /// beside the `$ref` override the target's, as most tools do.
    #[allow(clippy::too_many_arguments)]
    fn inline(
        &mut self,
        node: &mut Node,
        raw: &str,
        loc: Loc,
        slot: Slot,
        (file, target_file): (u32, u32),
        pointer: String,
        at: &str,
    ) {
        let key = (target_file, pointer);
        if self.inlining.contains(&key) || self.inlining.len() >= MAX_INLINE_DEPTH {
            let problem = Problem::new(
                format!("circular reference `{raw}`: this object includes itself"),
                loc,
            );
            self.problems.push(problem.pointer(format!("{at}/$ref")));
            return;
        }
        if !self.exists(target_file, &key.1, raw, loc, &format!("{at}/$ref")) {
            return;
        }
        let Some(mut content) = self.copy(target_file, &key.1, loc) else {
            return;
        };
        // Copies nest inside each other, so without this a chain of them could nest (and make
        // this walk recurse) far past the limit each file was held to.
        if at.matches('/').count() + content.depth() > super::MAX_DEPTH {
            self.problems
                .push(too_deep(loc).pointer(format!("{at}/$ref")));
            return;
        }
        let mut here = at.to_string();
        self.inlining.push(key);
        self.walk(&mut content, slot, target_file, &mut here);
        self.inlining.pop();

        let entry_loc = node.loc;
        let Some(entries) = node.as_map_mut() else {
            return;
        };
        entries.shift_remove("$ref");
        let mut siblings = Node::map(std::mem::take(entries), entry_loc);
        self.descend(&mut siblings, slot, file, &mut here);
        if let (Some(target), Kind::Map(siblings)) = (content.as_map_mut(), siblings.kind) {
            target.extend(siblings);
        }
        // The entry itself stays where the referring file declared it; its content points into
        // the file it came from.
        content.loc = entry_loc;
        *node = content;
    }

    /// Discriminator mappings name schemas by reference strings, which must move with them.
    fn discriminator_mapping(&mut self, node: &mut Node, file: u32, at: &str) {
        let mapping = node
            .as_map_mut()
            .and_then(|m| m.get_mut("discriminator"))
            .and_then(Node::as_map_mut)
            .and_then(|d| d.get_mut("mapping"))
            .and_then(Node::as_map_mut);
        let Some(mapping) = mapping else { return };
        for (key, value) in mapping.iter_mut() {
            let Some(raw) = value
                .as_str()
                .filter(|s| looks_like_ref(s))
                .map(str::to_string)
            else {
                continue;
            };
            let mut here = format!("{at}/discriminator/mapping");
            append_segment(&mut here, key);
            let rewritten = match self.target(&raw, file, value.loc, &here) {
                Some(Target::Root(pointer)) if file != 0 || !raw.starts_with('#') => {
                    Some(format!("#{pointer}"))
                }
                Some(Target::File(target_file, pointer)) => self.assign(
                    target_file,
                    pointer,
                    "schemas",
                    Slot::Schema,
                    &raw,
                    value.loc,
                    &here,
                ),
                _ => None,
            };
            if let Some(local) = rewritten {
                value.kind = Kind::String(local);
            }
        }
    }
}

/// A mapping value is either a schema name (`Cat`) or a reference (`#/...`, `./Cat.yaml`).
pub(crate) fn looks_like_ref(s: &str) -> bool {
    s.contains(['#', '/'])
        || [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| s.ends_with(ext))
}

/// A container the loader creates has no place in any file.
fn empty_map() -> Node {
    Node::map(IndexMap::new(), Loc::NONE)
}

fn set_ref(node: &mut Node, local: String) {
    if let Some(r) = node.as_map_mut().and_then(|m| m.get_mut("$ref")) {
        r.kind = Kind::String(local);
    }
}

fn too_large(loc: Loc) -> Problem {
    Problem::new("the bundled document is too large (too many nodes)", loc)
}

/// Whether a root-internal pointer names something other than a component of `section`.
fn is_deep(pointer: &str, section: &str) -> bool {
    let segments = split_pointer(pointer).unwrap_or_default();
    !(segments.len() == 3 && segments[0] == "components" && segments[1] == section)
}

/// A component name for a target deep in the root, from the meaningful segments of its
/// pointer: `/components/schemas/Db/properties/allow_list` gives `Db_allow_list`, and
/// `/paths/~1orders/get/responses/200/content/application~1json/schema` gives `orders_get`.
fn deep_name(pointer: &str) -> String {
    const STRUCTURE: &[&str] = &[
        "components",
        "schemas",
        "paths",
        "properties",
        "items",
        "schema",
        "content",
        "responses",
        "parameters",
        "requestBody",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "additionalProperties",
        "definitions",
        "$defs",
        "headers",
    ];
    let segments = split_pointer(pointer).unwrap_or_default();
    let meaningful: Vec<String> = segments
        .iter()
        .filter(|s| s.starts_with('/') || (!STRUCTURE.contains(&s.as_str()) && !s.contains('/')))
        .filter(|s| !s.bytes().all(|b| b.is_ascii_digit()))
        .map(|s| sanitize(s).trim_matches('_').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let tail = &meaningful[meaningful.len().saturating_sub(2)..];
    if tail.is_empty() {
        "Inline".into()
    } else {
        tail.join("_")
    }
}

fn sanitize(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The component name for a target: its last pointer segment, or the file's stem for a
/// whole-file reference, reduced to the characters OpenAPI allows in component names.
fn base_name(pointer: &str, file: &Path) -> String {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("Unnamed");
    let segments = split_pointer(pointer).unwrap_or_default();
    let raw = match segments.last() {
        None => stem.to_string(),
        Some(s) if s.is_empty() => stem.to_string(),
        // `#/allOf/0` would be named "0"; the file's name says more.
        Some(s) if s.bytes().all(|b| b.is_ascii_digit()) => format!("{stem}{s}"),
        Some(s) => s.clone(),
    };
    let name = sanitize(&raw);
    if name.is_empty() {
        "Unnamed".into()
    } else {
        name
    }
}

/// Suggests a name from the deepest part of the pointer that exists.
pub(crate) fn missing_hint(tree: &Node, segments: &[String], matched: usize) -> Option<String> {
    let parent = tree.lookup(&segments[..matched]).ok()?;
    let wanted = segments.get(matched)?;
    let keys: Vec<&str> = parent.as_map()?.keys().map(String::as_str).collect();
    did_you_mean(wanted, keys.iter().copied()).or_else(|| match keys.len() {
        0 => None,
        1..=8 => Some(format!("it has: {}", keys.join(", "))),
        n => Some(format!("it has {n} entries, none named `{wanted}`")),
    })
}
