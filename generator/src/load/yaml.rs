//! YAML (and so JSON, which is YAML) text to a `Node` tree with positions.
//!
//! yaml-rust2's own `Parser::load` recurses once per nesting level, so a 10,000-deep document
//! would overflow the stack before any limit of ours applied. This module pulls events one at a
//! time and keeps its own stack, which is also where the depth and size limits are enforced.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;

use indexmap::IndexMap;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::MAX_DEPTH;
use super::node::{Budget, Kind, Loc, Node, Problem};

pub(crate) fn parse(text: &str, file: u32, budget: &mut Budget) -> Result<Node, Problem> {
    // Editors on Windows like to prepend a BOM; it is invisible, so columns ignore it too.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let run = AssertUnwindSafe(|| Builder::new(file, budget).run(text));
    // yaml-rust2 is not known to panic, but a parser bug must not take the generator down with it.
    std::panic::catch_unwind(run).unwrap_or_else(|_| {
        Err(Problem::new(
            "the YAML parser failed on this file (internal error)",
            Loc {
                file,
                line: 1,
                col: 1,
            },
        ))
    })
}

struct Frame {
    start: Loc,
    anchor: usize,
    /// Nodes in this subtree so far, and the depth of its deepest child (a scalar is depth 0),
    /// both remembered for anchors so an alias can be checked against the limits before copying.
    count: usize,
    depth: usize,
    body: Body,
}

enum Body {
    Seq(Vec<Node>),
    Map(MapFrame),
}

#[derive(Default)]
struct MapFrame {
    entries: IndexMap<String, Node>,
    key: Option<Key>,
    first_key: Option<Loc>,
    merges: Vec<Node>,
}

enum Key {
    Name(String, Loc),
    /// `<<: *base`, YAML 1.1's merge key; not in 1.2, but common enough in hand-written specs.
    Merge,
}

#[derive(Clone)]
struct Anchored {
    node: Node,
    count: usize,
    depth: usize,
}

struct Builder<'b> {
    file: u32,
    budget: &'b mut Budget,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    root: Option<Node>,
    documents: usize,
}

impl<'b> Builder<'b> {
    fn new(file: u32, budget: &'b mut Budget) -> Self {
        Self {
            file,
            budget,
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            documents: 0,
        }
    }

    fn loc(&self, mark: &Marker) -> Loc {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).max(1);
        Loc {
            file: self.file,
            line: clamp(mark.line()),
            col: clamp(mark.col().saturating_add(1)),
        }
    }

    fn run(mut self, text: &str) -> Result<Node, Problem> {
        let mut parser = Parser::new_from_str(text);
        loop {
            let (event, mark) = parser.next_token().map_err(|e| self.syntax_error(&e))?;
            let loc = self.loc(&mark);
            match event {
                Event::StreamEnd => break,
                Event::DocumentStart => {
                    self.documents += 1;
                    if self.documents > 1 {
                        return Err(Problem::new(
                            "a spec file must hold a single YAML document",
                            loc,
                        )
                        .hint(Some("remove this `---` and the documents after it".into())));
                    }
                }
                Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
                Event::Scalar(value, style, anchor, tag) => {
                    self.scalar(value, style, anchor, tag.as_ref(), loc)?
                }
                Event::Alias(id) => self.alias(id, loc)?,
                Event::SequenceStart(anchor, _) => self.open(Body::Seq(Vec::new()), anchor, loc)?,
                Event::MappingStart(anchor, _) => {
                    self.open(Body::Map(MapFrame::default()), anchor, loc)?
                }
                Event::SequenceEnd | Event::MappingEnd => self.close()?,
            }
        }
        Ok(self.root.unwrap_or(Node::new(
            Kind::Null,
            Loc {
                file: self.file,
                line: 1,
                col: 1,
            },
        )))
    }

    fn syntax_error(&self, e: &ScanError) -> Problem {
        let hint = e
            .info()
            .contains("tab")
            .then(|| "YAML does not allow tabs for indentation; use spaces".to_string());
        Problem::new(
            format!("YAML syntax error: {}", e.info()),
            self.loc(e.marker()),
        )
        .hint(hint)
    }

    fn take_budget(&mut self, n: usize, loc: Loc) -> Result<(), Problem> {
        if self.budget.take(n) {
            return Ok(());
        }
        Err(Problem::new("the document is too large (too many nodes)", loc)
            .hint(Some("this is usually a YAML alias bomb: aliases that expand to each other many times over".into())))
    }

    fn depth_error(loc: Loc) -> Problem {
        super::node::too_deep(loc)
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Frame { body: Body::Map(m), .. }) if m.key.is_none())
    }

    fn scalar(
        &mut self,
        value: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        loc: Loc,
    ) -> Result<(), Problem> {
        self.take_budget(1, loc)?;
        if self.expecting_key() {
            // Keys keep their text as written: `200:` is the key "200", not a number.
            if anchor != 0 {
                let node = Node::new(resolve(value.clone(), style, tag), loc);
                self.anchors.insert(
                    anchor,
                    Anchored {
                        node,
                        count: 1,
                        depth: 0,
                    },
                );
            }
            let key = if style == TScalarStyle::Plain && value == "<<" {
                Key::Merge
            } else {
                Key::Name(value, loc)
            };
            return self.set_key(key, loc);
        }
        let node = Node::new(resolve(value, style, tag), loc);
        self.finish(node, 1, 0, anchor)
    }

    fn alias(&mut self, id: usize, loc: Loc) -> Result<(), Problem> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(Problem::new(
                "this alias refers to the node that contains it",
                loc,
            ));
        };
        if self.stack.len() + anchored.depth > MAX_DEPTH {
            return Err(Self::depth_error(loc));
        }
        let Anchored { count, depth, .. } = *anchored;
        self.take_budget(count, loc)?;
        let mut node = self.anchors[&id].node.clone();
        node.loc = loc;
        if self.expecting_key() {
            let key = match &node.kind {
                Kind::String(s) => s.clone(),
                Kind::Number(_, raw) => raw.to_string(),
                Kind::Bool(b) => b.to_string(),
                Kind::Null => "null".to_string(),
                Kind::Seq(_) | Kind::Map(_) => return Err(Self::complex_key(loc)),
            };
            return self.set_key(Key::Name(key, loc), loc);
        }
        self.deliver(node, count, depth)
    }

    fn complex_key(loc: Loc) -> Problem {
        Problem::new(
            "mapping keys must be plain strings, not sequences or mappings",
            loc,
        )
    }

    fn set_key(&mut self, key: Key, loc: Loc) -> Result<(), Problem> {
        let Some(Frame {
            body: Body::Map(m), ..
        }) = self.stack.last_mut()
        else {
            return Ok(());
        };
        if let Key::Name(name, _) = &key
            && let Some(first) = m.entries.get(name)
        {
            return Err(
                Problem::new(format!("duplicate key `{name}`"), loc).hint(Some(format!(
                    "the first `{name}` is on line {}",
                    first.loc.line
                ))),
            );
        }
        m.first_key.get_or_insert(loc);
        m.key = Some(key);
        Ok(())
    }

    fn open(&mut self, body: Body, anchor: usize, loc: Loc) -> Result<(), Problem> {
        if self.expecting_key() {
            return Err(Self::complex_key(loc));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(Self::depth_error(loc));
        }
        self.take_budget(1, loc)?;
        self.stack.push(Frame {
            start: loc,
            anchor,
            count: 1,
            depth: 0,
            body,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), Problem> {
        let Some(frame) = self.stack.pop() else {
            return Ok(());
        };
        let node = match frame.body {
            Body::Seq(items) => Node::new(Kind::Seq(items), frame.start),
            Body::Map(mut m) => {
                apply_merges(&mut m)?;
                // A block mapping's start mark sits one column past its first key; the key is the
                // place a reader would point at anyway.
                Node::map(m.entries, m.first_key.unwrap_or(frame.start))
            }
        };
        self.finish(node, frame.count, frame.depth + 1, frame.anchor)
    }

    fn finish(
        &mut self,
        node: Node,
        count: usize,
        depth: usize,
        anchor: usize,
    ) -> Result<(), Problem> {
        if anchor != 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    count,
                    depth,
                },
            );
        }
        self.deliver(node, count, depth)
    }

    fn deliver(&mut self, mut node: Node, count: usize, depth: usize) -> Result<(), Problem> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        frame.count += count;
        frame.depth = frame.depth.max(depth);
        match &mut frame.body {
            Body::Seq(items) => items.push(node),
            Body::Map(m) => match m.key.take() {
                Some(Key::Name(key, key_loc)) => {
                    // An entry is best pointed at by its key, whatever the value looks like.
                    node.loc = key_loc;
                    m.entries.insert(key, node);
                }
                Some(Key::Merge) => m.merges.push(node),
                // Cannot happen: `open` refuses a container where a key is expected.
                None => return Err(Self::complex_key(node.loc)),
            },
        }
        Ok(())
    }
}

fn apply_merges(m: &mut MapFrame) -> Result<(), Problem> {
    for merge in std::mem::take(&mut m.merges) {
        let loc = merge.loc;
        let sources = match merge.kind {
            Kind::Map(entries) => vec![entries],
            Kind::Seq(items) => items
                .into_iter()
                .map(|item| match item.kind {
                    Kind::Map(entries) => Ok(entries),
                    _ => Err(()),
                })
                .collect::<Result<Vec<_>, ()>>()
                .map_err(|()| merge_error(loc))?,
            _ => return Err(merge_error(loc)),
        };
        for source in sources {
            for (key, value) in source {
                // Keys written out in the mapping win over merged ones, as YAML 1.1 specifies.
                m.entries.entry(key).or_insert(value);
            }
        }
    }
    Ok(())
}

fn merge_error(loc: Loc) -> Problem {
    Problem::new(
        "the value of a `<<` merge key must be a mapping or a list of mappings",
        loc,
    )
}

/// YAML 1.2 core schema: only plain scalars can be null, booleans or numbers.
fn resolve(value: String, style: TScalarStyle, tag: Option<&Tag>) -> Kind {
    let forced_string = tag.is_some_and(|t| {
        (t.handle == "tag:yaml.org,2002:" && t.suffix == "str") || t.handle == "!"
    });
    if style != TScalarStyle::Plain || forced_string {
        return Kind::String(value);
    }
    match value.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => Kind::Null,
        "true" | "True" | "TRUE" => Kind::Bool(true),
        "false" | "False" | "FALSE" => Kind::Bool(false),
        _ => match number(&value) {
            Some(n) => Kind::Number(n, value.into_boxed_str()),
            // Includes `.inf` and `.nan`, which JSON cannot hold.
            None => Kind::String(value),
        },
    }
}

pub(crate) fn number(s: &str) -> Option<serde_json::Number> {
    if let Some(hex) = s.strip_prefix("0x") {
        return radix_int(hex, 16);
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return radix_int(oct, 8);
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        let s = s.strip_prefix('+').unwrap_or(s);
        if let Ok(i) = s.parse::<i64>() {
            return Some(i.into());
        }
        if let Ok(u) = s.parse::<u64>() {
            return Some(u.into());
        }
        // Too large for 64 bits: approximate rather than reject, as JSON parsers do.
        return s.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
    }
    if is_core_float(unsigned) {
        return s.parse::<f64>().ok().and_then(serde_json::Number::from_f64);
    }
    None
}

fn radix_int(digits: &str, radix: u32) -> Option<serde_json::Number> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    match u64::from_str_radix(digits, radix) {
        Ok(u) => Some(i64::try_from(u).map_or_else(|_| u.into(), Into::into)),
        Err(_) => {
            let value = digits
                .chars()
                .filter_map(|c| c.to_digit(radix))
                .fold(0f64, |acc, d| acc * f64::from(radix) + f64::from(d));
            serde_json::Number::from_f64(value)
        }
    }
}

/// `( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?` without its sign; integers are
/// matched earlier.
fn is_core_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}
