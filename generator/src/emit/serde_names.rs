//! Wire names as serde attributes, written compactly: the `rename_all` rule that spells most of
//! a type's wire names, then a `rename` for each exception only. serde's own casing rules are
//! reproduced here so that what we leave out is exactly what serde would have spelled.

use minijinja::value::Value;
use serde::Serialize;

/// serde's rules, the most common in specs first (ties keep the first).
const RULES: &[&str] = &[
    "camelCase",
    "snake_case",
    "lowercase",
    "PascalCase",
    "SCREAMING_SNAKE_CASE",
    "kebab-case",
    "UPPERCASE",
    "SCREAMING-KEBAB-CASE",
];

/// What a template writes for a struct's fields or an enum's variants.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct SerdeNames {
    /// The `rename_all` rule, if one saves anything.
    pub case: Option<&'static str>,
    /// Per field or variant, in order: its own `rename`, when the rule does not spell it.
    pub renames: Vec<Option<String>>,
}

/// For the template function `serde_names(t)`: `t` is a struct (fields with `ident`, and `json`
/// and `rename`, or an entity's `name`) or an enum (variants with `ident` and `value`).
pub fn serde_names(t: Value) -> Result<Value, minijinja::Error> {
    let t: serde_json::Value = serde_json::to_value(&t).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    let text = |v: &serde_json::Value, key: &str| v[key].as_str().unwrap_or_default().to_string();
    let variants = t["variants"].as_array().filter(|v| !v.is_empty());
    let names = if let Some(variants) = variants {
        let pairs: Vec<(String, String)> = variants
            .iter()
            .map(|v| (text(v, "ident"), text(v, "value")))
            .collect();
        choose(&pairs, variant_case)
    } else {
        let pairs: Vec<(String, String)> = t["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                let ident = text(f, "ident").trim_start_matches("r#").to_string();
                // A spec type's field is renamed when it says so; an entity's always has its
                // API name.
                let wire = match f.get("json") {
                    Some(_) if f["rename"].as_bool() != Some(true) => ident.clone(),
                    Some(_) => text(f, "json"),
                    None => text(f, "name"),
                };
                (ident, wire)
            })
            .collect();
        choose(&pairs, field_case)
    };
    Ok(Value::from_serialize(&names))
}

/// The rule leaving the fewest exceptions, when it leaves fewer than no rule at all.
fn choose(pairs: &[(String, String)], case: fn(&str, &str) -> String) -> SerdeNames {
    let exceptions = |rule: Option<&str>| {
        pairs
            .iter()
            .map(|(ident, wire)| {
                let spelled = rule.map_or_else(|| ident.clone(), |r| case(r, ident));
                (spelled != *wire).then(|| wire.clone())
            })
            .collect::<Vec<_>>()
    };
    let count = |renames: &[Option<String>]| renames.iter().flatten().count();
    let mut best = SerdeNames {
        case: None,
        renames: exceptions(None),
    };
    for rule in RULES {
        let renames = exceptions(Some(rule));
        if count(&renames) < count(&best.renames) {
            best = SerdeNames {
                case: Some(rule),
                renames,
            };
        }
    }
    best
}

/// serde's `RenameRule::apply_to_field`, for a snake_case field.
fn field_case(rule: &str, field: &str) -> String {
    match rule {
        "lowercase" | "snake_case" => field.to_string(),
        "UPPERCASE" | "SCREAMING_SNAKE_CASE" => field.to_ascii_uppercase(),
        "PascalCase" => pascal(field),
        "camelCase" => {
            let pascal = pascal(field);
            let mut chars = pascal.chars();
            chars
                .next()
                .map(|c| c.to_ascii_lowercase().to_string() + chars.as_str())
                .unwrap_or_default()
        }
        "kebab-case" => field.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => field.to_ascii_uppercase().replace('_', "-"),
        _ => field.to_string(),
    }
}

fn pascal(field: &str) -> String {
    let mut out = String::new();
    let mut capitalize = true;
    for ch in field.chars() {
        if ch == '_' {
            capitalize = true;
        } else if capitalize {
            out.push(ch.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// serde's `RenameRule::apply_to_variant`, for a PascalCase variant.
fn variant_case(rule: &str, variant: &str) -> String {
    let snake = || {
        let mut out = String::new();
        for (i, ch) in variant.char_indices() {
            if i > 0 && ch.is_uppercase() {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        }
        out
    };
    match rule {
        "PascalCase" => variant.to_string(),
        "lowercase" => variant.to_ascii_lowercase(),
        "UPPERCASE" => variant.to_ascii_uppercase(),
        "camelCase" => variant[..1].to_ascii_lowercase() + &variant[1..],
        "snake_case" => snake(),
        "SCREAMING_SNAKE_CASE" => snake().to_ascii_uppercase(),
        "kebab-case" => snake().replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => snake().to_ascii_uppercase().replace('_', "-"),
        _ => variant.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_rule_of_most_names_wins_and_exceptions_keep_their_rename() {
        let fields = pairs(&[
            ("client_id", "clientId"),
            ("enabled", "enabled"),
            ("access_token_ttl", "accessTokenTTL"),
        ]);
        let names = choose(&fields, field_case);
        assert_eq!(names.case, Some("camelCase"));
        assert_eq!(
            names.renames,
            vec![None, None, Some("accessTokenTTL".into())]
        );
    }

    #[test]
    fn no_rule_when_none_saves_a_rename() {
        let fields = pairs(&[("name", "name"), ("age", "age")]);
        assert_eq!(
            choose(&fields, field_case),
            SerdeNames {
                case: None,
                renames: vec![None, None]
            }
        );
    }

    #[test]
    fn variants_follow_serde_casing() {
        let variants = pairs(&[
            ("InProgress", "IN_PROGRESS"),
            ("Done", "DONE"),
            ("Id2", "-id"),
        ]);
        let names = choose(&variants, variant_case);
        assert_eq!(names.case, Some("SCREAMING_SNAKE_CASE"));
        assert_eq!(names.renames, vec![None, None, Some("-id".into())]);
        assert_eq!(variant_case("kebab-case", "DryRun"), "dry-run");
        assert_eq!(variant_case("camelCase", "DryRun"), "dryRun");
    }
}
