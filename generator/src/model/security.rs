//! Security: the spec's schemes and what each operation requires of its caller, as data that
//! `emit::security` writes for `rt::auth::authorized`. The rules are OpenAPI's: an operation's `security`
//! replaces the document's, `[]` or an empty alternative (`- {}`) opens the operation, and
//! ArchesAI's `x-public-endpoint: true` opens it too.

use indexmap::IndexMap;
use openapiv3::{APIKeyLocation, OpenAPI, ReferenceOr, SecurityRequirement, SecurityScheme};
use serde::Serialize;

use crate::annotate::Permissions;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::load::SourceMap;

#[derive(Debug, Clone, Serialize)]
pub struct Scheme {
    pub name: String,
    /// Templates receive the `rt::auth::SchemeKind` expression, written by `emit::security`.
    #[serde(serialize_with = "crate::emit::security::serialize_scheme_kind")]
    pub kind: SchemeKind,
}

/// How a scheme's credentials arrive, as `rt::auth::SchemeKind` tells them apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeKind {
    Bearer,
    Basic,
    ApiKey {
        location: KeyLocation,
        name: String,
    },
    OAuth2,
    OpenIdConnect,
    /// A scheme archgen cannot verify: no request satisfies it.
    Unsupported,
}

/// Where an API key arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLocation {
    Header,
    Query,
    Cookie,
}

impl Scheme {
    /// Whether credentials arrive as bearer tokens (bearer, OAuth2, OpenID Connect), which the
    /// service verifies as JWTs (`rt::auth::SchemeKind::is_bearer`).
    pub fn takes_bearer(&self) -> bool {
        matches!(
            self.kind,
            SchemeKind::Bearer | SchemeKind::OAuth2 | SchemeKind::OpenIdConnect
        )
    }
}

/// The document's schemes, in spec order. A scheme archgen cannot verify is kept (so that
/// requirements naming it stay valid) as one no request satisfies, with a warning. So is a scheme
/// that requirements name but the document never declares (ArchesAI's split specs do this),
/// unless its name says bearer or JWT.
pub fn schemes(spec: &OpenAPI, sources: &SourceMap, diags: &mut Diagnostics) -> Vec<Scheme> {
    let mut out = declared(spec, sources, diags);
    let mut requirements: Vec<(String, &Vec<SecurityRequirement>)> = Vec::new();
    if let Some(r) = &spec.security {
        requirements.push(("/security".into(), r));
    }
    for (path, item) in &spec.paths.paths {
        if let ReferenceOr::Item(item) = item {
            for (method, op) in item.iter() {
                if let Some(r) = &op.security {
                    let op_pointer = crate::load::push_pointer(
                        &crate::load::push_pointer("/paths", path),
                        method,
                    );
                    requirements.push((format!("{op_pointer}/security"), r));
                }
            }
        }
    }
    for (pointer, list) in requirements {
        for (i, requirement) in list.iter().enumerate() {
            for name in requirement.keys() {
                if out.iter().any(|s| &s.name == name) {
                    continue;
                }
                let p = format!("{pointer}/{i}/{name}");
                let lower = name.to_ascii_lowercase();
                // Only an unmistakable name: a guess grants every token the service's key signs.
                let bearer = ["bearer", "jwt"].iter().any(|w| lower.contains(w));
                let (kind, effect) = if bearer {
                    (
                        SchemeKind::Bearer,
                        "treated as `type: http, scheme: bearer` because of its name",
                    )
                } else {
                    (
                        SchemeKind::Unsupported,
                        "no request can satisfy it, so operations needing only it answer 401",
                    )
                };
                diags.push(
                    Diagnostic::warning(format!(
                        "security requirement names `{name}`, which is not declared: {effect}"
                    ))
                    .at(sources.locate(&p))
                    .pointer(p)
                    .hint(format!(
                        "declare it under components.securitySchemes{}",
                        known(&out)
                    )),
                );
                out.push(Scheme {
                    name: name.clone(),
                    kind,
                });
            }
        }
    }
    out
}

fn declared(spec: &OpenAPI, sources: &SourceMap, diags: &mut Diagnostics) -> Vec<Scheme> {
    let Some(components) = &spec.components else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, scheme) in &components.security_schemes {
        let pointer = crate::load::push_pointer("/components/securitySchemes", name);
        let Some(scheme) = resolve(scheme, &components.security_schemes) else {
            diags.push(
                Diagnostic::error(format!("security scheme `{name}` refers to no scheme"))
                    .at(sources.locate(&pointer))
                    .pointer(pointer)
                    .hint("point `$ref` at `#/components/securitySchemes/<name>`"),
            );
            continue;
        };
        let kind = match scheme {
            SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("bearer") => {
                SchemeKind::Bearer
            }
            SecurityScheme::HTTP { scheme, .. } if scheme.eq_ignore_ascii_case("basic") => {
                SchemeKind::Basic
            }
            SecurityScheme::HTTP { scheme, .. } => {
                diags.push(
                    Diagnostic::warning(format!(
                        "security scheme `{name}` uses HTTP `{scheme}`, which archgen cannot verify: operations that need only it answer 401"
                    ))
                    .at(sources.locate(&pointer))
                    .pointer(pointer.clone())
                    .hint("use `scheme: bearer` or `basic`, or verify it in a layer of your own that sets an `rt::Principal`"),
                );
                SchemeKind::Unsupported
            }
            SecurityScheme::APIKey { location, name, .. } => SchemeKind::ApiKey {
                location: match location {
                    APIKeyLocation::Header => KeyLocation::Header,
                    APIKeyLocation::Query => KeyLocation::Query,
                    APIKeyLocation::Cookie => KeyLocation::Cookie,
                },
                name: name.clone(),
            },
            SecurityScheme::OAuth2 { .. } => SchemeKind::OAuth2,
            SecurityScheme::OpenIDConnect { .. } => SchemeKind::OpenIdConnect,
        };
        out.push(Scheme {
            name: name.clone(),
            kind,
        });
    }
    out
}

fn resolve<'a>(
    scheme: &'a ReferenceOr<SecurityScheme>,
    all: &'a IndexMap<String, ReferenceOr<SecurityScheme>>,
) -> Option<&'a SecurityScheme> {
    let mut current = scheme;
    // A chain of references longer than the map is a cycle.
    for _ in 0..=all.len() {
        match current {
            ReferenceOr::Item(s) => return Some(s),
            ReferenceOr::Reference { reference } => {
                current = all.get(reference.strip_prefix("#/components/securitySchemes/")?)?;
            }
        }
    }
    None
}

/// What an operation requires of its caller; `None` stands for an open operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// Any one alternative must be met, with every scheme in it: (scheme, scopes it needs).
    pub alternatives: Vec<Vec<(String, Vec<String>)>>,
    /// `x-codegen-permissions`: one of `any_role` (when listed) and all of `all_of`.
    #[serde(serialize_with = "crate::emit::security::serialize_permissions")]
    pub permissions: Option<(Vec<String>, Vec<String>)>,
    /// The static this operation's domain declares `alternatives` as (`BEARER_AUTH_OR_API_KEY`),
    /// shared by every operation of the domain with the same alternatives.
    pub requirements: String,
}

impl Access {
    /// A caller can be refused for what it holds (403), not only for who it is (401).
    pub fn can_forbid(&self) -> bool {
        self.permissions.is_some()
            || self
                .alternatives
                .iter()
                .flatten()
                .any(|(_, scopes)| !scopes.is_empty())
    }
}

pub fn operation(
    spec: &OpenAPI,
    own: Option<&Vec<SecurityRequirement>>,
    public: bool,
    permissions: Option<&Permissions>,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<Access> {
    // `schemes()` has already declared (or warned about) every scheme named here.
    let requirements = match own {
        Some(r) => r.as_slice(),
        None => spec.security.as_deref().unwrap_or_default(),
    };
    let open = public || requirements.is_empty() || requirements.iter().any(|r| r.is_empty());
    if open && let Some(p) = permissions {
        diags.push(
            Diagnostic::error("`x-codegen-permissions` on an operation that anyone may call")
                .at(sources.locate(&p.pointer))
                .pointer(p.pointer.clone())
                .hint("a public operation has no caller to check: give it a `security` requirement, or drop the permissions"),
        );
    }
    if open {
        return None;
    }
    let alternatives: Vec<Vec<(String, Vec<String>)>> = requirements
        .iter()
        .map(|r| {
            r.iter()
                .map(|(name, scopes)| (name.clone(), scopes.clone()))
                .collect()
        })
        .collect();
    Some(Access {
        requirements: requirements_name(&alternatives),
        alternatives,
        permissions: permissions.map(|p| (p.any_role.clone(), p.all_of.clone())),
    })
}

/// `BEARER_AUTH_OR_API_KEY_AND_TENANT`: what the alternatives ask for, readable at the call.
/// Alternatives that differ only in scopes get distinct names in [`name_requirements`].
fn requirements_name(alternatives: &[Vec<(String, Vec<String>)>]) -> String {
    let name = alternatives
        .iter()
        .map(|schemes| {
            schemes
                .iter()
                .map(|(s, _)| s.as_str())
                .collect::<Vec<_>>()
                .join("_and_")
        })
        .collect::<Vec<_>>()
        .join("_or_");
    heck::ToShoutySnakeCase::to_shouty_snake_case(name.as_str())
}

/// Give the requirements of a domain's operations one static each: equal alternatives share
/// one, different ones with the same name (scopes differ) get numbered.
pub fn name_requirements<'a>(
    accesses: impl IntoIterator<Item = &'a mut Access>,
) -> Vec<Requirements> {
    let mut statics: Vec<Requirements> = Vec::new();
    for access in accesses {
        if let Some(shared) = statics
            .iter()
            .find(|r| r.alternatives == access.alternatives)
        {
            access.requirements = shared.name.clone();
            continue;
        }
        let base = format!("NEEDS_{}", access.requirements);
        let mut name = base.clone();
        let mut n = 1;
        while statics.iter().any(|r| r.name == name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        access.requirements = name.clone();
        statics.push(Requirements {
            name,
            alternatives: access.alternatives.clone(),
        });
    }
    statics
}

/// A domain's static of requirements, shared by its operations that ask the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Requirements {
    pub name: String,
    #[serde(serialize_with = "crate::emit::security::serialize_requirements")]
    pub alternatives: Vec<Vec<(String, Vec<String>)>>,
}

fn known(schemes: &[Scheme]) -> String {
    if schemes.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = schemes.iter().map(|s| s.name.as_str()).collect();
        format!(" (declared: {})", names.join(", "))
    }
}
