//! Taking `$ref` strings and file paths apart.

use std::path::{Component, Path, PathBuf};

use super::node::split_pointer;

/// A parsed `$ref`: an optional relative file path and a JSON pointer ("" for the whole file),
/// both percent-decoded, the pointer still in its escaped (`~1`) form.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RefParts {
    pub path: Option<String>,
    pub pointer: String,
}

/// Why a `$ref` string cannot be followed, with a hint.
pub(crate) struct BadRef {
    pub message: String,
    pub hint: Option<String>,
}

pub(crate) fn parse_ref(raw: &str) -> Result<RefParts, BadRef> {
    let (path, fragment) = raw.split_once('#').unwrap_or((raw, ""));
    if is_remote(path) {
        return Err(BadRef {
            message: format!("remote reference `{raw}` is not supported"),
            hint: Some(
                "download the file next to the spec and refer to it by a relative path".into(),
            ),
        });
    }
    let pointer = percent_decode(fragment);
    if !pointer.is_empty() && !pointer.starts_with('/') {
        return Err(BadRef {
            message: format!("`$ref: {raw}` uses a plain-name fragment"),
            hint: Some(
                "only JSON pointer fragments such as `#/components/schemas/Name` are supported"
                    .into(),
            ),
        });
    }
    if split_pointer(&pointer).is_none() {
        return Err(BadRef {
            message: format!("`$ref: {raw}` is not a valid JSON pointer"),
            hint: Some(
                "in a JSON pointer `~` must be written `~0` and `/` inside a name `~1`".into(),
            ),
        });
    }
    let path = (!path.is_empty()).then(|| percent_decode(path));
    Ok(RefParts { path, pointer })
}

/// `http://…`, `urn:…`; but not `C:\…`, whose one-letter "scheme" is a Windows drive.
fn is_remote(path: &str) -> bool {
    match path.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// URI percent-decoding (`Foo%20Bar` → `Foo Bar`); text that does not decode to UTF-8 is kept.
pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                // Two hex digits always fit in a byte.
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Removes `.` and resolves `..` lexically, so messages say `specs/schemas/Pet.yaml` rather than
/// `specs/./paths/../schemas/Pet.yaml`.
pub(crate) fn clean(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// What makes two spellings of a path the same file, so each file is read once.
pub(crate) fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        clean(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
    })
}

/// "did you mean" over the files next to a path that could not be read.
pub(crate) fn similar_file(path: &Path) -> Option<String> {
    let wanted = path.file_name()?.to_str()?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    crate::diagnostic::did_you_mean(wanted, names.iter().map(String::as_str))
}
