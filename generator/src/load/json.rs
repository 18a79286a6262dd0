//! JSON text to a `Node` tree, the fast way. JSON is YAML, so `yaml::parse` reads it too, but
//! at about 15 MB/s and with a large working set; a spec as big as GitHub's (13 MB) spent most
//! of its load there. This reader gives the same tree, locations included (a test holds it to
//! that on every JSON fixture). It takes only well-formed JSON: on anything else (a syntax
//! error, a duplicate key, a number YAML reads differently) it gives up and the YAML reader
//! runs, so errors are reported one way, by the YAML reader.
//!
//! String escapes and numbers are decoded by serde_json and by the YAML reader's own number
//! rules; this module only walks the structure and counts lines and columns.

use indexmap::IndexMap;

use super::MAX_DEPTH;
use super::node::{Budget, Kind, Loc, Node, Problem, too_deep};

/// `text` as a tree, or `None` when the YAML reader should read it instead.
pub(crate) fn parse(text: &str, file: u32, budget: &mut Budget) -> Option<Result<Node, Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if !text.trim_start().starts_with(['{', '[']) {
        return None;
    }
    let mut reader = Reader {
        text: text.as_bytes(),
        source: text,
        pos: 0,
        file,
        line: 1,
        line_start: 0,
        col: 1,
        col_pos: 0,
        budget,
    };
    let node = match reader.value(0) {
        Ok(Some(node)) => node,
        Ok(None) => return None,
        Err(problem) => return Some(Err(problem)),
    };
    reader.skip_ws();
    (reader.pos == reader.text.len()).then_some(Ok(node))
}

struct Reader<'t, 'b> {
    text: &'t [u8],
    source: &'t str,
    pos: usize,
    file: u32,
    line: u32,
    line_start: usize,
    /// The column of byte `col_pos`, counted in characters, as the YAML reader counts them;
    /// moved forward token by token so that a minified document is not counted quadratically.
    col: u32,
    col_pos: usize,
    budget: &'b mut Budget,
}

/// `Err`: a limit was hit, reported as the YAML reader would. `Ok(None)`: not plain JSON.
type Step<T> = Result<Option<T>, Problem>;

impl Reader<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.line_start = self.pos + 1;
                }
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    /// Where the next token starts (after whitespace).
    fn loc(&mut self) -> Loc {
        self.skip_ws();
        if self.col_pos < self.line_start {
            self.col = 1;
            self.col_pos = self.line_start;
        }
        let chars = self.text[self.col_pos..self.pos]
            .iter()
            .filter(|b| (**b & 0xC0) != 0x80)
            .count();
        self.col += u32::try_from(chars).unwrap_or(u32::MAX);
        self.col_pos = self.pos;
        Loc {
            file: self.file,
            line: self.line,
            col: self.col,
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        let found = self.peek() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn take_budget(&mut self, loc: Loc) -> Result<(), Problem> {
        if self.budget.take(1) {
            return Ok(());
        }
        Err(Problem::new(
            "the document is too large (too many nodes)",
            loc,
        ))
    }

    fn value(&mut self, depth: usize) -> Step<Node> {
        let loc = self.loc();
        let kind = match self.peek() {
            Some(b'{' | b'[') if depth >= MAX_DEPTH => return Err(too_deep(loc)),
            Some(b'{') => {
                self.take_budget(loc)?;
                return self.map(loc, depth);
            }
            Some(b'[') => {
                self.take_budget(loc)?;
                return self.seq(loc, depth);
            }
            Some(b'"') => match self.string()? {
                Some(s) => Kind::String(s),
                None => return Ok(None),
            },
            Some(b't') if self.literal("true") => Kind::Bool(true),
            Some(b'f') if self.literal("false") => Kind::Bool(false),
            Some(b'n') if self.literal("null") => Kind::Null,
            Some(b'-' | b'0'..=b'9') => match self.number() {
                Some(kind) => kind,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        self.take_budget(loc)?;
        Ok(Some(Node::new(kind, loc)))
    }

    fn literal(&mut self, word: &str) -> bool {
        let found = self.text[self.pos..].starts_with(word.as_bytes());
        if found {
            self.pos += word.len();
        }
        found
    }

    /// As the YAML reader has it: a map is located at its first key, an entry at its key.
    fn map(&mut self, start: Loc, depth: usize) -> Step<Node> {
        self.pos += 1;
        let mut entries = IndexMap::new();
        let mut first_key = None;
        if !self.eat(b'}') {
            loop {
                let key_loc = self.loc();
                let Some(key) = self.string()? else {
                    return Ok(None);
                };
                if !self.eat(b':') {
                    return Ok(None);
                }
                let Some(mut node) = self.value(depth + 1)? else {
                    return Ok(None);
                };
                node.loc = key_loc;
                first_key.get_or_insert(key_loc);
                // A duplicate is an error the YAML reader words.
                if entries.insert(key, node).is_some() {
                    return Ok(None);
                }
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return Ok(None);
                }
            }
        }
        Ok(Some(Node::map(entries, first_key.unwrap_or(start))))
    }

    fn seq(&mut self, start: Loc, depth: usize) -> Step<Node> {
        self.pos += 1;
        let mut items = Vec::new();
        if !self.eat(b']') {
            loop {
                let Some(node) = self.value(depth + 1)? else {
                    return Ok(None);
                };
                items.push(node);
                if self.eat(b']') {
                    break;
                }
                if !self.eat(b',') {
                    return Ok(None);
                }
            }
        }
        Ok(Some(Node::new(Kind::Seq(items), start)))
    }

    /// A string token; escapes are decoded by serde_json. `None` for a string JSON forbids
    /// (a raw control character, a bad escape).
    fn string(&mut self) -> Step<String> {
        if self.peek() != Some(b'"') {
            return Ok(None);
        }
        let start = self.pos;
        let mut escaped = false;
        let mut i = start + 1;
        loop {
            match self.text.get(i) {
                None => return Ok(None),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                Some(b) if *b < 0x20 => return Ok(None),
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        let Some(raw) = self.source.get(start..=i) else {
            return Ok(None);
        };
        Ok(if escaped {
            serde_json::from_str(raw).ok()
        } else {
            Some(raw[1..raw.len() - 1].to_string())
        })
    }

    /// A number token, read by the YAML reader's rules, so that both readers agree; its text is
    /// kept, as the YAML reader keeps it.
    fn number(&mut self) -> Option<Kind> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
        ) {
            self.pos += 1;
        }
        let raw = self.source.get(start..self.pos)?;
        // JSON forbids leading zeros, which YAML would read as an integer all the same.
        let digits = raw.strip_prefix('-').unwrap_or(raw);
        if digits.len() > 1 && digits.starts_with('0') && !digits[1..].starts_with(['.', 'e', 'E'])
        {
            return None;
        }
        let number = super::yaml::number(raw)?;
        Some(Kind::Number(number, raw.into()))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::load::yaml;

    fn budget() -> Budget {
        Budget {
            remaining: crate::load::MAX_NODES,
        }
    }

    /// Both readers on `text`: the fast one must give the YAML reader's tree, node for node,
    /// locations included.
    fn same_as_yaml(name: &str, text: &str) {
        let fast = parse(text, 0, &mut budget())
            .unwrap_or_else(|| panic!("{name}: the fast reader gave up"))
            .unwrap_or_else(|p| panic!("{name}: {}", p.message));
        let slow =
            yaml::parse(text, 0, &mut budget()).unwrap_or_else(|p| panic!("{name}: {}", p.message));
        assert_same(&fast, &slow, &mut format!("{name}#"));
    }

    fn assert_same(a: &Node, b: &Node, at: &mut String) {
        assert_eq!(a.loc, b.loc, "location of {at}");
        match (&a.kind, &b.kind) {
            (Kind::Map(x), Kind::Map(y)) => {
                assert!(x.keys().eq(y.keys()), "keys of {at}");
                for ((key, x), y) in x.iter().zip(y.values()) {
                    let len = at.len();
                    crate::load::append_segment(at, key);
                    assert_same(x, y, at);
                    at.truncate(len);
                }
            }
            (Kind::Seq(x), Kind::Seq(y)) => {
                assert_eq!(x.len(), y.len(), "length of {at}");
                for (i, (x, y)) in x.iter().zip(y).enumerate() {
                    let len = at.len();
                    at.push_str(&format!("/{i}"));
                    assert_same(x, y, at);
                    at.truncate(len);
                }
            }
            (Kind::Number(x, xt), Kind::Number(y, yt)) => assert!(x == y && xt == yt, "{at}"),
            (Kind::String(x), Kind::String(y)) => assert_eq!(x, y, "{at}"),
            (Kind::Bool(x), Kind::Bool(y)) => assert_eq!(x, y, "{at}"),
            (Kind::Null, Kind::Null) => {}
            (x, y) => panic!("{at}: {x:?} against {y:?}"),
        }
    }

    #[test]
    fn small_documents_read_as_yaml_reads_them() {
        same_as_yaml(
            "flat",
            r#"{"a": 1, "b": [true, false, null, -2.5e3, "x\"y\u00e9"]}"#,
        );
        same_as_yaml(
            "nested",
            "{\n  \"é\": {\"k\": {}},\n\t\"list\": [[], [{}], 10000000000000000000000]\n}",
        );
        same_as_yaml("top-level array", " [1, \"two\", {\"three\": 3}] ");
        same_as_yaml(
            "minified",
            r#"{"openapi":"3.0.0","info":{"title":"ü","version":"1"},"paths":{}}"#,
        );
    }

    #[test]
    fn what_is_not_plain_json_is_left_to_the_yaml_reader() {
        for text in [
            "openapi: 3.0.0",
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": 01}"#,
            r#"{"a": 1,}"#,
            r#"{"a": 1} trailing"#,
            "{\"a\": \"tab\there\"}",
            r#"{"a": tru}"#,
            r#"{"a": "\x"}"#,
            r#"{"a": 1"#,
        ] {
            assert!(parse(text, 0, &mut budget()).is_none(), "{text}");
        }
    }

    #[test]
    fn limits_hold_as_in_the_yaml_reader() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        let fast = parse(&deep, 0, &mut budget()).unwrap().unwrap_err();
        let slow = yaml::parse(&deep, 0, &mut budget()).unwrap_err();
        assert_eq!((fast.message, fast.loc), (slow.message, slow.loc));
        let mut small = Budget { remaining: 3 };
        let too_many = parse("[1, 2, 3]", 0, &mut small).unwrap().unwrap_err();
        assert!(
            too_many.message.contains("too large"),
            "{}",
            too_many.message
        );
    }

    /// Every JSON spec of the corpus (tests/corpus/specs): 33 real documents, 11 MB.
    #[test]
    fn corpus_specs_read_as_yaml_reads_them() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/specs");
        let mut read = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if !path.to_string_lossy().ends_with(".json.gz") {
                continue;
            }
            let mut text = String::new();
            flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            same_as_yaml(&path.display().to_string(), &text);
            read += 1;
        }
        assert!(read >= 30, "only {read} specs read from {dir}");
    }
}
