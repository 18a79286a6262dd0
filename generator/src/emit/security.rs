//! What operations require of callers, as the Rust `rt::auth::authorized` takes.

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
