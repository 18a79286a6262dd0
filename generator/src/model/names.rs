//! Rust names for spec names. Every identifier that reaches the output goes through here, so a
//! schema called `type` or `Self`, or two names that collide after case conversion, cannot break it.

use std::collections::BTreeSet;

use heck::{ToPascalCase, ToSnakeCase};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];
/// Cannot be raw identifiers at all.
const RESERVED: &[&str] = &["self", "Self", "super", "crate", "_"];
/// Type names that would shadow what generated code itself uses.
const TYPE_RESERVED: &[&str] = &[
    "Result",
    "Option",
    "Some",
    "None",
    "Ok",
    "Err",
    "Box",
    "Vec",
    "String",
    "Self",
    "Default",
    "Send",
    "Sync",
    "Clone",
    "Copy",
    "Debug",
    "Serialize",
    "Deserialize",
    "Uuid",
    "DateTime",
    "NaiveDate",
    "Utc",
    "Value",
    "Arc",
    "Patch",
    "Page",
    "ListQuery",
    "ApiError",
    "FieldError",
    "RepoError",
    "RepoResult",
    "Record",
    "Changes",
    "Wire",
    "Json",
    "Router",
    "StatusCode",
    "State",
    "Path",
    "Bytes",
    "HashMap",
    "BTreeMap",
    "Map",
    "Data",
    "Sized",
    "From",
    "Into",
    "Iterator",
    "Drop",
    "Fn",
    "PhantomData",
];

/// A snake_case identifier, escaped when it is a keyword.
pub fn field_ident(name: &str) -> String {
    let mut s = clean(&name.to_snake_case());
    if s.is_empty() {
        s = "field".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("_{s}");
    }
    if RESERVED.contains(&s.as_str()) {
        return format!("{s}_");
    }
    if KEYWORDS.contains(&s.as_str()) {
        return format!("r#{s}");
    }
    s
}

/// A snake_case name for a module, function or column (never raw: also used in SQL and files).
pub fn snake(name: &str) -> String {
    let mut s = clean(&name.to_snake_case());
    if s.is_empty() {
        s = "unnamed".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("n{s}");
    }
    if KEYWORDS.contains(&s.as_str()) || RESERVED.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// The module name of a domain: snake_case, and never one of the modules generated beside the
/// domains (`common`, `prelude`, `migrations`, `openapi`).
pub fn domain_module(name: &str) -> String {
    let mut s = snake(name);
    if ["common", "prelude", "migrations", "openapi"].contains(&s.as_str()) {
        s.push_str("_domain");
    }
    s
}

/// A PascalCase type or variant name.
pub fn pascal(name: &str) -> String {
    let mut s = clean(&name.to_pascal_case());
    if s.is_empty() {
        s = "Unnamed".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("N{s}");
    }
    // A suffix that reads as a word keeps derived names (`ResultTypeInput`) in camel case.
    if TYPE_RESERVED.contains(&s.as_str()) {
        s.push_str("Type");
    }
    s
}

/// An enum variant: reserved type names are fine here (`Status::Ok`), only `Self` is not.
pub fn variant(name: &str) -> String {
    let mut s = clean(&name.to_pascal_case());
    if s.is_empty() {
        s = "Empty".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("N{s}");
    }
    if s == "Self" {
        s = "SelfValue".into();
    }
    s
}

/// snake_case with no keyword escaping, for SQL names and for building longer identifiers
/// (`type` + `_sql`), where a trailing underscore would break Rust's case lints.
pub fn plain_snake(name: &str) -> String {
    let mut s = clean(&name.to_snake_case());
    if s.is_empty() {
        s = "unnamed".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("n{s}");
    }
    s
}

fn clean(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Hands out names unique within one namespace, suffixing a number on collision.
#[derive(Debug, Default)]
pub struct Namespace {
    taken: BTreeSet<String>,
}

impl Namespace {
    pub fn claim(&mut self, wanted: &str) -> String {
        if self.taken.insert(wanted.to_string()) {
            return wanted.to_string();
        }
        (2..)
            .map(|n| format!("{wanted}{n}"))
            .find(|c| self.taken.insert(c.clone()))
            .unwrap_or_default()
    }

    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }
}

/// The type names generated code derives from an entity's: keep in step with the templates.
pub fn entity_derived(entity: &str) -> Vec<String> {
    ["New{}", "{}Patch", "{}Repository", "{}Event"]
        .iter()
        .map(|pattern| pattern.replace("{}", entity))
        .collect()
}

/// The type names generated code derives from a domain's module name.
pub fn domain_derived(domain: &str) -> Vec<String> {
    let pascal = pascal(domain);
    ["Service", "Repositories", "Client"]
        .iter()
        .map(|suffix| format!("{pascal}{suffix}"))
        .collect()
}

/// `artifact` → `artifacts`, `category` → `categories`: table and accessor names.
pub fn plural(snake: &str) -> String {
    if let Some(stem) = snake.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if snake.ends_with('s')
        || snake.ends_with('x')
        || snake.ends_with("ch")
        || snake.ends_with("sh")
    {
        return format!("{snake}es");
    }
    format!("{snake}s")
}

/// Names compared the way ArchesAI's Go generator did: `OrganizationID` names `organizationID`.
pub fn loose_eq(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| *c != '_' && *c != '-')
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    norm(a) == norm(b)
}

/// The parameter names of a path template, in order: `/a/{x}/b/{y}` gives `[x, y]`.
pub fn path_template_params(path: &str) -> Vec<String> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_never_take_the_names_of_generated_modules() {
        for name in ["common", "prelude", "migrations", "openapi"] {
            assert_eq!(domain_module(name), format!("{name}_domain"));
        }
        assert_eq!(domain_module("Pipelines"), "pipelines");
    }

    #[test]
    fn escapes_keywords_and_reserved() {
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(field_ident("self"), "self_");
        assert_eq!(field_ident("organizationID"), "organization_id");
        assert_eq!(pascal("Result"), "ResultType");
        assert_eq!(pascal("self"), "SelfType");
        assert_eq!(plain_snake("type"), "type");
        assert_eq!(pascal("match"), "Match");
        assert_eq!(snake("match"), "match_");
        assert_eq!(plural("category"), "categories");
        assert_eq!(plural("label"), "labels");
    }

    #[test]
    fn namespace_suffixes_collisions() {
        let mut ns = Namespace::default();
        assert_eq!(ns.claim("Pet"), "Pet");
        assert_eq!(ns.claim("Pet"), "Pet2");
        assert_eq!(ns.claim("Pet"), "Pet3");
    }
}
