//! The check every generated handler makes before it reads its input: does the caller meet the
//! operation's `security` and `x-codegen-permissions`?

use axum::http::StatusCode;

use super::{Authentication, Permissions, Requirement, STORE_UNAVAILABLE, SchemeKind};
use crate::{ApiError, Context, Principal};

/// The realm every challenge names.
pub const REALM: &str = "api";

/// Called by every generated handler first, before parsing input or calling the service.
///
/// `security` empty means a public operation: no credentials are needed. Otherwise the caller
/// passes when some requirement has every scheme it names satisfied and the principal holds every
/// scope it lists. When none does:
/// - 401 problem+json with `WWW-Authenticate` challenges for the schemes the operation accepts:
///   `Bearer realm="api"` when no token was sent, with `error="invalid_token"` and an
///   `error_description` when one was presented and refused (RFC 6750); `Basic realm="api"`;
///   `ApiKey realm="api", in="header", name="X-API-Key"` for API keys;
/// - 403 with `error="insufficient_scope"` when the caller authenticated but lacks scopes;
/// - 503 when a credential could not be checked because the credential store failed: the
///   caller may well be valid, so a retry, not new credentials, is what helps.
///
/// Then `perms` (enforced even on a public operation: a permission annotation is never silently
/// ignored): the principal must hold one of `any_role` (if not empty) and all of `all_of`, else
/// 403 naming what is missing (401 without a caller).
///
/// A principal that the [`Authenticator`](super::Authenticator) did not produce (no
/// `Authentication`, or one without a principal) was placed in the request extensions by
/// application code — `dev_caller`, a test, a layer behind a gateway that authenticated the
/// caller — which a client cannot do, so it is trusted: it counts as satisfying every scheme.
/// Its scopes and roles are still checked.
pub fn authorize(
    cx: &Context,
    security: &[Requirement],
    perms: &Permissions,
) -> Result<(), ApiError> {
    let principal = if security.is_empty() {
        cx.principal.as_ref()
    } else {
        check_security(cx, security)?
    };
    check_permissions(principal, perms)
}

/// [`authorize`], then `cx` acting as the principal of the requirement that let the caller in:
/// with two credentials, an operation that accepts only one of them sees that one's caller.
/// Generated handlers call this.
pub fn authorized(
    mut cx: Context,
    security: &[Requirement],
    perms: &Permissions,
) -> Result<Context, ApiError> {
    let principal = if security.is_empty() {
        cx.principal.clone()
    } else {
        check_security(&cx, security)?.cloned()
    };
    check_permissions(principal.as_ref(), perms)?;
    cx.principal = principal;
    Ok(cx)
}

/// The principal the first satisfied requirement vouches for (the first scheme's), checking each
/// scheme's scopes against its own principal.
fn check_security<'a>(
    cx: &'a Context,
    security: &[Requirement],
) -> Result<Option<&'a Principal>, ApiError> {
    let authentication = cx.authentication();
    let trusted = cx.principal.is_some() && authentication.is_none_or(|a| a.principal.is_none());
    let principal_of = |name: &str| -> Option<&'a Principal> {
        if trusted {
            return cx.principal.as_ref();
        }
        let a = authentication?;
        a.principals
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| p)
            // Built by hand without per-scheme principals (tests): the one principal.
            .or_else(|| {
                a.satisfied
                    .contains(&name)
                    .then_some(a.principal.as_ref())
                    .flatten()
            })
    };
    let mut insufficient: Option<(Requirement, Vec<&'static str>)> = None;
    for &requirement in security {
        if !requirement
            .iter()
            .all(|(name, _)| principal_of(name).is_some())
        {
            continue;
        }
        let missing: Vec<&'static str> = requirement
            .iter()
            .flat_map(|(name, scopes)| {
                scopes
                    .iter()
                    .copied()
                    .filter(move |scope| !principal_of(name).is_some_and(|p| p.has(scope)))
            })
            .collect();
        if missing.is_empty() {
            return Ok(match requirement.first() {
                Some((name, _)) => principal_of(name),
                // `- {}`: anyone, as whoever they are.
                None => cx.principal.as_ref(),
            });
        }
        insufficient.get_or_insert((requirement, missing));
    }
    Err(match insufficient {
        Some((requirement, missing)) => insufficient_scope(authentication, requirement, &missing),
        None => unauthenticated(authentication, security),
    })
}

fn kind_of(authentication: Option<&Authentication>, name: &str) -> Option<SchemeKind> {
    authentication?
        .schemes
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.kind)
}

/// A value for a quoted challenge parameter: visible ASCII without `"` or `\`.
fn quoted(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

fn unauthenticated(authentication: Option<&Authentication>, security: &[Requirement]) -> ApiError {
    let mut names: Vec<&'static str> = Vec::new();
    for requirement in security {
        for (name, _) in requirement.iter() {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    let failures: Vec<&(&'static str, String)> = authentication
        .map(|a| {
            a.failures
                .iter()
                .filter(|(s, _)| names.contains(s))
                .collect()
        })
        .unwrap_or_default();
    if failures.iter().any(|(_, why)| why == STORE_UNAVAILABLE) {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "credentials cannot be checked right now: retry later",
        );
    }
    let detail = if failures.is_empty() {
        let alternatives: Vec<String> = security
            .iter()
            .map(|r| r.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" and "))
            .collect();
        format!(
            "this operation needs credentials: {}",
            alternatives.join(", or ")
        )
    } else {
        let reasons: Vec<String> = failures
            .iter()
            .map(|(scheme, why)| format!("{scheme}: {why}"))
            .collect();
        format!("the credentials were refused ({})", reasons.join("; "))
    };
    let mut error = ApiError::unauthorized(detail);
    let mut bearer = false;
    for name in &names {
        let challenge = match kind_of(authentication, name) {
            Some(kind) if kind.is_bearer() => {
                if std::mem::replace(&mut bearer, true) {
                    continue;
                }
                let refused = failures.iter().find(|(scheme, _)| {
                    kind_of(authentication, scheme).is_some_and(SchemeKind::is_bearer)
                });
                match refused {
                    Some((_, why)) => format!(
                        "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                        quoted(why)
                    ),
                    None => format!("Bearer realm=\"{REALM}\""),
                }
            }
            Some(SchemeKind::Basic) => format!("Basic realm=\"{REALM}\", charset=\"UTF-8\""),
            Some(SchemeKind::ApiKey { location, name }) => format!(
                "ApiKey realm=\"{REALM}\", in=\"{}\", name=\"{}\"",
                location.as_str(),
                quoted(name)
            ),
            _ => continue,
        };
        if !error.challenges.contains(&challenge) {
            error.challenges.push(challenge);
        }
    }
    if error.challenges.is_empty() {
        error.challenges.push(format!("Bearer realm=\"{REALM}\""));
    }
    error
}

fn insufficient_scope(
    authentication: Option<&Authentication>,
    requirement: Requirement,
    missing: &[&str],
) -> ApiError {
    let mut error = ApiError::forbidden(format!(
        "the caller lacks the scope{} {}",
        if missing.len() == 1 { "" } else { "s" },
        missing.join(", ")
    ));
    let bearer = requirement
        .iter()
        .any(|(name, _)| kind_of(authentication, name).is_none_or(SchemeKind::is_bearer));
    if bearer {
        let scopes: Vec<&str> = requirement
            .iter()
            .flat_map(|(_, scopes)| scopes.iter().copied())
            .collect();
        error.challenges.push(format!(
            "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{}\"",
            quoted(&scopes.join(" "))
        ));
    }
    error
}

fn check_permissions(principal: Option<&Principal>, perms: &Permissions) -> Result<(), ApiError> {
    if perms.is_none() {
        return Ok(());
    }
    let Some(principal) = principal else {
        return Err(ApiError::unauthorized(
            "this operation needs an authenticated caller",
        ));
    };
    if !perms.any_role.is_empty() && !perms.any_role.iter().any(|r| principal.has(r)) {
        return Err(ApiError::forbidden(format!(
            "this operation needs one of the roles {}",
            perms.any_role.join(", ")
        )));
    }
    let missing: Vec<&str> = perms
        .all_of
        .iter()
        .copied()
        .filter(|p| !principal.has(p))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::forbidden(format!(
            "this operation needs the permission{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::auth::{Location, Scheme};

    static SCHEMES: &[Scheme] = &[
        Scheme {
            name: "bearer",
            kind: SchemeKind::Bearer,
        },
        Scheme {
            name: "key",
            kind: SchemeKind::ApiKey {
                location: Location::Header,
                name: "X-API-Key",
            },
        },
        Scheme {
            name: "mtls",
            kind: SchemeKind::MutualTls,
        },
    ];

    fn principal(roles: &[&str]) -> Principal {
        Principal {
            subject: "u".into(),
            organization: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn authenticated(satisfied: &[&'static str], roles: &[&str]) -> Context {
        Context::default().with_authentication(Arc::new(Authentication {
            principal: (!satisfied.is_empty()).then(|| principal(roles)),
            satisfied: satisfied.to_vec(),
            principals: Vec::new(),
            failures: Vec::new(),
            schemes: SCHEMES,
        }))
    }

    const BEARER: &[Requirement] = &[&[("bearer", &["read"])]];

    #[test]
    fn public_operations_pass_and_permissions_still_apply() {
        let cx = Context::default();
        assert!(authorize(&cx, &[], &Permissions::NONE).is_ok());
        let perms = Permissions {
            any_role: &["admin"],
            all_of: &[],
        };
        assert_eq!(authorize(&cx, &[], &perms).unwrap_err().status, 401);
    }

    #[test]
    fn an_empty_requirement_makes_credentials_optional() {
        let optional: &[Requirement] = &[&[("bearer", &[])], &[]];
        assert!(authorize(&Context::default(), optional, &Permissions::NONE).is_ok());
    }

    #[test]
    fn scopes_and_requirements() {
        let ok = authenticated(&["bearer"], &["read"]);
        assert!(authorize(&ok, BEARER, &Permissions::NONE).is_ok());
        let e =
            authorize(&authenticated(&["bearer"], &[]), BEARER, &Permissions::NONE).unwrap_err();
        assert_eq!(e.status, 403);
        assert_eq!(
            e.challenges,
            ["Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"read\""]
        );
        let e = authorize(
            &authenticated(&["key"], &["read"]),
            BEARER,
            &Permissions::NONE,
        )
        .unwrap_err();
        assert_eq!(e.status, 401);
        assert_eq!(e.challenges, ["Bearer realm=\"api\""]);
    }

    #[test]
    fn challenges_name_api_keys_and_skip_mutual_tls() {
        let security: &[Requirement] = &[&[("key", &[])], &[("mtls", &[])]];
        let e = authorize(&authenticated(&[], &[]), security, &Permissions::NONE).unwrap_err();
        assert_eq!(
            e.challenges,
            ["ApiKey realm=\"api\", in=\"header\", name=\"X-API-Key\""]
        );
    }

    #[test]
    fn a_refused_bearer_token_says_why() {
        let cx = Context::default().with_authentication(Arc::new(Authentication {
            failures: vec![("bearer", "token \"expired\"".into())],
            schemes: SCHEMES,
            ..Authentication::default()
        }));
        let e = authorize(&cx, BEARER, &Permissions::NONE).unwrap_err();
        assert_eq!(
            e.challenges,
            [
                "Bearer realm=\"api\", error=\"invalid_token\", error_description=\"token 'expired'\""
            ]
        );
    }

    #[test]
    fn a_failed_store_is_503() {
        let cx = Context::default().with_authentication(Arc::new(Authentication {
            failures: vec![("key", STORE_UNAVAILABLE.into())],
            schemes: SCHEMES,
            ..Authentication::default()
        }));
        let e = authorize(&cx, &[&[("key", &[])]], &Permissions::NONE).unwrap_err();
        assert_eq!(e.status, 503);
    }

    #[test]
    fn a_principal_placed_by_the_application_is_trusted() {
        let cx = Context::acting_as(principal(&["read"]));
        assert!(authorize(&cx, BEARER, &Permissions::NONE).is_ok());
        assert!(authorize(&cx, &[&[("mtls", &[])]], &Permissions::NONE).is_ok());
        let no_scope = Context::acting_as(principal(&[]));
        assert_eq!(
            authorize(&no_scope, BEARER, &Permissions::NONE)
                .unwrap_err()
                .status,
            403
        );
        // Behind an authenticator that found nothing, too.
        let cx = Context::acting_as(principal(&[])).with_authentication(Arc::new(Authentication {
            schemes: SCHEMES,
            ..Authentication::default()
        }));
        assert!(authorize(&cx, &[&[("bearer", &[])]], &Permissions::NONE).is_ok());
        assert!(authorize(&Context::default(), BEARER, &Permissions::NONE).is_err());
    }

    #[test]
    fn permissions() {
        let perms = Permissions {
            any_role: &["admin", "owner"],
            all_of: &["items:delete", "items:read"],
        };
        let open: &[Requirement] = &[&[("bearer", &[])]];
        let cx = |roles: &[&str]| authenticated(&["bearer"], roles);
        assert!(authorize(&cx(&["owner", "items:delete", "items:read"]), open, &perms).is_ok());
        let e = authorize(&cx(&["items:delete", "items:read"]), open, &perms).unwrap_err();
        assert_eq!(e.status, 403);
        assert!(e.detail.unwrap().contains("admin, owner"));
        let e = authorize(&cx(&["admin", "items:read"]), open, &perms).unwrap_err();
        assert_eq!(e.status, 403);
        assert!(e.detail.unwrap().ends_with("permission items:delete"));
    }
}
