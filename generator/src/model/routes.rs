//! Routes: the operations of every domain grouped by the path axum serves them on.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Domain;
use crate::diagnostic::{Diagnostic, Diagnostics};

#[derive(Debug, Clone, Serialize)]
pub struct Route {
    pub path: String,
    pub handlers: Vec<Handler>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Handler {
    pub method: String,
    pub domain: String,
    pub fn_name: String,
}

/// All operations grouped by route. Paths that differ only in parameter names share one route
/// (handlers read path parameters by position). A route that axum would refuse at start-up, or
/// an operation that another already answers, is left out with a warning: the spec is then
/// ambiguous, and the rest of it still deserves a server.
pub fn plan(domains: &[Domain], diags: &mut Diagnostics) -> Vec<Route> {
    let mut by_shape: BTreeMap<String, Route> = BTreeMap::new();
    let mut router = matchit::Router::new();
    const METHODS: [&str; 8] = [
        "get", "post", "put", "patch", "delete", "head", "options", "trace",
    ];
    for domain in domains {
        for op in &domain.operations {
            let what = format!("{} {}", op.method.to_uppercase(), op.path);
            if !METHODS.contains(&op.method.as_str()) {
                diags.push(Diagnostic::warning(format!(
                    "{what} is not served: axum has no `{}` router",
                    op.method
                )));
                continue;
            }
            let shape = route_shape(&op.path);
            if !by_shape.contains_key(&shape)
                && let Err(e) = router.insert(op.path.as_str(), ())
            {
                diags.push(
                    Diagnostic::warning(format!("{what} is not served: {e}"))
                        .hint("axum's router cannot tell this path from another one"),
                );
                continue;
            }
            let route = by_shape.entry(shape).or_insert_with(|| Route {
                path: op.path.clone(),
                handlers: Vec::new(),
            });
            if let Some(taken) = route.handlers.iter().find(|h| h.method == op.method) {
                diags.push(Diagnostic::warning(format!(
                    "{what} is not served: `{}` already answers {} {}",
                    taken.fn_name,
                    op.method.to_uppercase(),
                    route.path
                )));
                continue;
            }
            route.handlers.push(Handler {
                method: op.method.clone(),
                domain: domain.name.clone(),
                fn_name: op.fn_name.clone(),
            });
        }
    }
    let mut routes: Vec<Route> = by_shape.into_values().collect();
    routes.sort_by(|a, b| a.path.cmp(&b.path));
    routes
}

/// A path with parameter names erased: `/a/{id}` and `/a/{name}` have the same shape.
pub fn route_shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}
