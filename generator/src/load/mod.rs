//! The load stage: read an OpenAPI file and the files it references, bundle them into one
//! document whose references are all local, and normalize 3.1/3.2 constructs into the 3.0 shape
//! that `openapiv3` deserializes. Every node keeps the file, line and column it came from.
//!
//! Untrusted input must not crash or hang the generator, so nesting depth, the total number of
//! nodes (which bounds YAML alias expansion and hoisted copies), the number of files and the
//! depth of in-place copies are all limited, and errors are returned instead.

mod bundle;
mod check;
mod json;
mod node;
mod normalize;
mod refs;
mod shape;
mod version;
mod yaml;

use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Diagnostics, Location};

use node::{Budget, Loc, Problem};

/// How deeply the document may nest, in the file and after bundling and normalization. Real
/// specs stay under 20. The limit protects the later stages as much as this one: `openapiv3`
/// deserializes recursively with large frames (a 2 MiB debug-build thread overflows at about
/// 128 levels), so the limit leaves room below that.
const MAX_DEPTH: usize = 100;

/// Total nodes one load may create, across all files, alias expansions and hoisted copies.
/// Far above any real spec (the largest fixture has about 25,000).
const MAX_NODES: usize = 2_000_000;

#[derive(Debug, Clone)]
pub struct Loaded {
    /// Bundled + normalized, 3.0-shaped.
    pub doc: serde_json::Value,
    /// Original `openapi` value, e.g. "3.2.0".
    pub version: String,
    pub sources: SourceMap,
    /// Every file read, root first, in read order (for cargo rerun-if-changed).
    pub files: Vec<PathBuf>,
}

pub fn load(path: &Path) -> Result<Loaded, Diagnostics> {
    let bytes = std::fs::read(path).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "file not found".to_string()
        } else {
            e.to_string()
        };
        let error = Diagnostic::error(format!("cannot read {}: {why}", path.display()));
        Diagnostics::from(match refs::similar_file(path) {
            Some(hint) => error.hint(hint),
            None => error,
        })
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostics::from(Diagnostic::error(format!(
            "{} is not UTF-8 text",
            path.display()
        )))
    })?;
    load_str(path, &text)
}

/// Same, from text already in memory (for tests and fuzzing); `name` is used as the file name in
/// locations. References to other files are resolved relative to `name`'s directory.
pub fn load_str(name: &Path, text: &str) -> Result<Loaded, Diagnostics> {
    let mut files = vec![name.to_path_buf()];
    let mut budget = Budget {
        remaining: MAX_NODES,
    };
    let fail = |problems: Vec<Problem>, files: &[PathBuf]| diagnostics(problems, files);

    let mut root = parse(text, 0, &mut budget).map_err(|p| fail(vec![p], &files))?;
    let version = version::check_root(&root).map_err(|p| fail(vec![p], &files))?;
    normalize::drop_unused(&mut root);

    let mut problems = Vec::new();
    bundle::bundle(&mut root, &mut files, &mut budget, &mut problems);
    normalize::normalize(&mut root, &version, &mut budget, &mut problems);
    check::check_depth(&root, &mut problems);
    check::check_refs(&mut root, &mut problems);
    if !problems.is_empty() {
        return Err(fail(problems, &files));
    }

    // Every node has a location: a pointer map, hashed fast (the pointers are ours, not an
    // adversary's).
    let mut locs = FxHashMap::default();
    let doc = node::into_json(root, &mut String::new(), &mut locs);
    Ok(Loaded {
        doc,
        version,
        sources: SourceMap {
            files: files.clone(),
            locs,
        },
        files,
    })
}

/// A file's text as a tree: JSON by the fast reader where it can, everything else (YAML, and
/// JSON with an error to report) by the YAML reader.
fn parse(text: &str, file: u32, budget: &mut Budget) -> Result<node::Node, Problem> {
    let before = budget.remaining;
    json::parse(text, file, budget).unwrap_or_else(|| {
        // What the fast reader counted before it gave up is counted again by the YAML reader.
        budget.remaining = before;
        yaml::parse(text, file, budget)
    })
}

/// Where each node of the bundled document came from.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<PathBuf>,
    locs: FxHashMap<String, Loc>,
}

impl SourceMap {
    /// Location of the node at `pointer`, or of its nearest ancestor that has one.
    /// A leading `#` (as in a `$ref`) is accepted.
    pub fn locate(&self, pointer: &str) -> Option<Location> {
        let mut p = pointer.strip_prefix('#').unwrap_or(pointer);
        loop {
            if let Some(location) = self.get(p) {
                return Some(location);
            }
            if p.is_empty() {
                return None;
            }
            p = &p[..p.rfind('/').unwrap_or(0)];
        }
    }

    /// Location recorded for exactly this node, without falling back to an ancestor.
    pub fn get(&self, pointer: &str) -> Option<Location> {
        self.locs
            .get(pointer)
            .and_then(|loc| location(*loc, &self.files))
    }
}

/// Build a JSON pointer by appending an escaped segment.
pub fn push_pointer(base: &str, segment: &str) -> String {
    let mut out = base.to_string();
    append_segment(&mut out, segment);
    out
}

pub(crate) fn append_segment(pointer: &mut String, segment: &str) {
    pointer.push('/');
    for c in segment.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

fn location(loc: Loc, files: &[PathBuf]) -> Option<Location> {
    let file = files.get(loc.file as usize)?;
    loc.is_known().then(|| Location {
        file: file.clone(),
        line: loc.line as usize,
        column: loc.col as usize,
    })
}

fn diagnostics(problems: Vec<Problem>, files: &[PathBuf]) -> Diagnostics {
    let all = problems.into_iter().map(|p| {
        let mut d = Diagnostic::error(p.message).at(location(p.loc, files));
        d.pointer = p.pointer;
        d.hint = p.hint;
        d
    });
    Diagnostics(all.collect()).sorted()
}
