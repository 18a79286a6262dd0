//! What operations require of callers, as the Rust `rt::auth::authorized` takes.

use crate::model::security::{KeyLocation, SchemeKind};

type Alternatives = Vec<Vec<(String, Vec<String>)>>;

/// `&[&[("bearerAuth", &[]), …], …]`: any one alternative, every scheme in it.
fn requirements(alternatives: &Alternatives) -> String {
    let alternatives: Vec<String> = alternatives
        .iter()
        .map(|schemes| {
            let schemes: Vec<String> = schemes
                .iter()
                .map(|(name, scopes)| format!("({name:?}, &[{}])", quoted(scopes)))
                .collect();
            format!("&[{}]", schemes.join(", "))
        })
        .collect();
    format!("&[{}]", alternatives.join(", "))
}

fn permissions((any_role, all_of): &(Vec<String>, Vec<String>)) -> String {
    format!("&[{}], &[{}]", quoted(any_role), quoted(all_of))
}

fn quoted(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    items.join(", ")
}

/// For `serialize_with`: a requirements static's initializer.
pub fn serialize_requirements<S: serde::Serializer>(
    alternatives: &Alternatives,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&requirements(alternatives))
}

/// For `serialize_with`: the arguments of `Operation::permissions`, `None` without permissions.
pub fn serialize_permissions<S: serde::Serializer>(
    set: &Option<(Vec<String>, Vec<String>)>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match set {
        Some(set) => serializer.serialize_some(&permissions(set)),
        None => serializer.serialize_none(),
    }
}

/// `rt::auth::SchemeKind::ApiKey { … }`: the runtime's value for a scheme.
fn scheme_kind(kind: &SchemeKind) -> String {
    let variant = match kind {
        SchemeKind::Bearer => "Bearer",
        SchemeKind::Basic => "Basic",
        SchemeKind::OAuth2 => "OAuth2",
        SchemeKind::OpenIdConnect => "OpenIdConnect",
        SchemeKind::Unsupported => "Unsupported",
        SchemeKind::ApiKey { location, name } => {
            let location = match location {
                KeyLocation::Header => "Header",
                KeyLocation::Query => "Query",
                KeyLocation::Cookie => "Cookie",
            };
            return format!(
                "rt::auth::SchemeKind::ApiKey {{ location: rt::auth::Location::{location}, name: {name:?} }}"
            );
        }
    };
    format!("rt::auth::SchemeKind::{variant}")
}

/// For `serialize_with`: a scheme's `rt::auth::SchemeKind` expression.
pub fn serialize_scheme_kind<S: serde::Serializer>(
    kind: &SchemeKind,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&scheme_kind(kind))
}
