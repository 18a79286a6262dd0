//! `x-codegen.cache`: which reads are cached under which keys, and which writes forget them.

use super::names::loose_eq;
use super::{CacheModel, Field, ServerSet};
use crate::annotate::Cache;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::load::SourceMap;

/// The cache of an entity, or `None` when it is off or its key pattern is broken (an error).
pub(super) fn lower_cache(
    cache: &Cache,
    fields: &[Field],
    scope: String,
    sources: &SourceMap,
    diags: &mut Diagnostics,
) -> Option<CacheModel> {
    if !cache.enabled {
        return None;
    }
    let key = cache
        .key_pattern
        .as_ref()
        .map_or_else(|| format!("{scope}:{{id}}"), |k| k.value.clone());
    let at = cache
        .key_pattern
        .as_ref()
        .map_or(cache.pointer.as_str(), |k| k.pointer.as_str());
    let mut key_fields = Vec::new();
    for name in placeholders(&key) {
        let Some(name) = name else {
            diags.push(
                Diagnostic::error(format!("cache key pattern `{key}` has an unclosed `{{`"))
                    .at(sources.locate(at))
                    .hint("write placeholders as `{field}`, e.g. `author:{id}`"),
            );
            return None;
        };
        match fields.iter().find(|f| loose_eq(&f.name, name) && !f.hidden) {
            Some(f) if !f.nullable && f.storage != super::types::Storage::Json => {
                key_fields.push((f.name.clone(), f.ident.clone()));
            }
            Some(f) => {
                diags.push(
                    Diagnostic::error(format!(
                        "cache key pattern `{key}` uses `{}`, which can be null or is not a scalar",
                        f.name
                    ))
                    .at(sources.locate(at))
                    .hint("build keys from required scalar fields, such as `id`"),
                );
                return None;
            }
            None => {
                let names: Vec<&str> = fields
                    .iter()
                    .filter(|f| !f.hidden)
                    .map(|f| f.name.as_str())
                    .collect();
                diags.push(
                    Diagnostic::error(format!(
                        "cache key pattern `{key}` names `{name}`, which is not a field"
                    ))
                    .at(sources.locate(at))
                    .hint(
                        crate::diagnostic::did_you_mean(name, names.iter().copied())
                            .unwrap_or_else(|| format!("fields: {}", names.join(", "))),
                    ),
                );
                return None;
            }
        }
    }
    let fixed = |f: &str| {
        fields
            .iter()
            .any(|x| x.name == f && matches!(x.server_set, Some(ServerSet::Id | ServerSet::Tenant)))
    };
    let by_id = key_fields.iter().all(|(name, _)| fixed(name));
    let (mut on_update, mut on_delete) = (true, true);
    if let Some(events) = &cache.invalidate_on {
        (on_update, on_delete) = (false, false);
        for e in events {
            match e.value.as_str() {
                "update" | "updated" => on_update = true,
                "delete" | "deleted" => on_delete = true,
                "create" | "created" => {}
                other => diags.push(
                    Diagnostic::warning(format!(
                        "`invalidateOn: {other}` has no effect: only update and delete change a cached row"
                    ))
                    .at(sources.locate(&e.pointer)),
                ),
            }
        }
    }
    Some(CacheModel {
        ttl: cache.ttl.unwrap_or(300).max(1),
        key,
        key_fields,
        by_id,
        reads_before_write: !by_id,
        on_update,
        on_delete,
        scope,
    })
}

/// The names between `{` and `}`; `None` for an unclosed one.
fn placeholders(pattern: &str) -> Vec<Option<&str>> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(open) = rest.find('{') {
        match rest[open..].find('}') {
            Some(close) => {
                out.push(Some(&rest[open + 1..open + close]));
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push(None);
                break;
            }
        }
    }
    out
}
