//! The loader's working tree. It is serde_json::Value plus a source location on every node, so
//! positions travel with nodes through bundling and normalization instead of being patched up by
//! pointer after every move. It becomes a `serde_json::Value` and a `SourceMap` only at the end.

use std::fmt::Write as _;

use rustc_hash::FxHashMap;

use indexmap::IndexMap;

use super::append_segment;

/// Where a node came from: an index into the loader's file list and a 1-based line and column.
/// `line == 0` marks a node the loader made up (an empty `components` map, say); such nodes get
/// no entry in the source map and are located through their parent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Loc {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

impl Loc {
    pub const NONE: Loc = Loc {
        file: 0,
        line: 0,
        col: 0,
    };

    pub fn is_known(self) -> bool {
        self.line != 0
    }
}

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    /// The source text is kept because a few fields that must be strings (`info.version`) are
    /// often written unquoted (`version: 1.10`), and only the text gives back what was meant.
    Number(serde_json::Number, Box<str>),
    String(String),
    Seq(Vec<Node>),
    Map(IndexMap<String, Node>),
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub loc: Loc,
}

impl Node {
    pub fn new(kind: Kind, loc: Loc) -> Self {
        Self { kind, loc }
    }

    pub fn string(s: impl Into<String>, loc: Loc) -> Self {
        Self::new(Kind::String(s.into()), loc)
    }

    pub fn map(entries: IndexMap<String, Node>, loc: Loc) -> Self {
        Self::new(Kind::Map(entries), loc)
    }

    pub fn as_map(&self) -> Option<&IndexMap<String, Node>> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut IndexMap<String, Node>> {
        match &mut self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?.get(key)
    }

    /// The `$ref` string of a reference object.
    pub fn ref_str(&self) -> Option<&str> {
        self.get("$ref")?.as_str()
    }

    /// What the user would call this kind of value, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Number(..) => "a number",
            Kind::String(_) => "a string",
            Kind::Seq(_) => "a sequence",
            Kind::Map(_) => "a mapping",
        }
    }

    /// Number of nodes in this subtree, counted against the loader's node budget when a subtree
    /// is copied (alias expansion, hoisting).
    pub fn count(&self) -> usize {
        1 + match &self.kind {
            Kind::Seq(items) => items.iter().map(Node::count).sum(),
            Kind::Map(entries) => entries.values().map(Node::count).sum(),
            _ => 0,
        }
    }

    /// Nesting depth (a scalar is 0). Only called on trees already held to the depth limit.
    pub fn depth(&self) -> usize {
        match &self.kind {
            Kind::Seq(items) => 1 + items.iter().map(Node::depth).max().unwrap_or(0),
            Kind::Map(entries) => 1 + entries.values().map(Node::depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// The first node found nested deeper than `limit` below this one, if any.
    pub fn deeper_than(&self, limit: usize) -> Option<Loc> {
        let children: Box<dyn Iterator<Item = &Node>> = match &self.kind {
            Kind::Seq(items) => Box::new(items.iter()),
            Kind::Map(entries) => Box::new(entries.values()),
            _ => return None,
        };
        if limit == 0 {
            return Some(self.loc);
        }
        children.into_iter().find_map(|c| c.deeper_than(limit - 1))
    }

    /// Follows already-split pointer segments. On failure returns how many segments matched, so
    /// the caller can suggest names from the deepest node that exists.
    pub fn lookup(&self, segments: &[String]) -> Result<&Node, usize> {
        let mut node = self;
        for (depth, seg) in segments.iter().enumerate() {
            let next = match &node.kind {
                Kind::Map(m) => m.get(seg.as_str()),
                Kind::Seq(items) => array_index(seg).and_then(|i| items.get(i)),
                _ => None,
            };
            node = next.ok_or(depth)?;
        }
        Ok(node)
    }
}

/// RFC 6901 array index: digits without a leading zero.
fn array_index(seg: &str) -> Option<usize> {
    if seg.is_empty()
        || !seg.bytes().all(|b| b.is_ascii_digit())
        || (seg.len() > 1 && seg.starts_with('0'))
    {
        return None;
    }
    seg.parse().ok()
}

/// Splits a JSON pointer ("" or "/a/b~1c") into unescaped segments; `None` if it is malformed.
pub(crate) fn split_pointer(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    rest.split('/').map(unescape_segment).collect()
}

fn unescape_segment(seg: &str) -> Option<String> {
    let mut out = String::with_capacity(seg.len());
    let mut chars = seg.chars();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

pub(crate) fn join_pointer(segments: &[String]) -> String {
    let mut out = String::new();
    for seg in segments {
        append_segment(&mut out, seg);
    }
    out
}

/// A node budget shared by every file of one load, so neither an alias bomb nor a web of files
/// that hoist copies of each other can exhaust memory.
pub(crate) struct Budget {
    pub remaining: usize,
}

impl Budget {
    pub fn take(&mut self, n: usize) -> bool {
        match self.remaining.checked_sub(n) {
            Some(left) => {
                self.remaining = left;
                true
            }
            None => {
                self.remaining = 0;
                false
            }
        }
    }
}

pub(crate) fn too_deep(loc: Loc) -> Problem {
    Problem::new(
        format!(
            "the document is nested more than {} levels deep",
            super::MAX_DEPTH
        ),
        loc,
    )
    .hint(Some(
        "move deeply nested schemas into components and reference them with $ref".into(),
    ))
}

/// An error before it is turned into a `Diagnostic`: modules below `mod.rs` only know file ids.
#[derive(Debug)]
pub(crate) struct Problem {
    pub message: String,
    pub loc: Loc,
    pub pointer: Option<String>,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(message: impl Into<String>, loc: Loc) -> Self {
        Self {
            message: message.into(),
            loc,
            pointer: None,
            hint: None,
        }
    }

    pub fn pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    pub fn hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

/// Converts the tree to JSON, recording the location of every node under its pointer.
pub(crate) fn into_json(
    node: Node,
    pointer: &mut String,
    locs: &mut FxHashMap<String, Loc>,
) -> serde_json::Value {
    if node.loc.is_known() {
        locs.insert(pointer.clone(), node.loc);
    }
    match node.kind {
        Kind::Null => serde_json::Value::Null,
        Kind::Bool(b) => serde_json::Value::Bool(b),
        Kind::Number(n, _) => serde_json::Value::Number(n),
        Kind::String(s) => serde_json::Value::String(s),
        Kind::Seq(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let len = pointer.len();
                let _ = write!(pointer, "/{i}");
                out.push(into_json(item, pointer, locs));
                pointer.truncate(len);
            }
            serde_json::Value::Array(out)
        }
        Kind::Map(entries) => {
            let mut out = serde_json::Map::with_capacity(entries.len());
            for (key, value) in entries {
                let len = pointer.len();
                append_segment(pointer, &key);
                out.insert(key, into_json(value, pointer, locs));
                pointer.truncate(len);
            }
            serde_json::Value::Object(out)
        }
    }
}
