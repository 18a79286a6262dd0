//! Which optional parts of archgen-runtime a spec uses, each a cargo feature of the runtime
//! (`runtime/Cargo.toml`). Decided once, from the model: the generated root module names the parts
//! its code cannot do without (`rt::features::…`), so a crate that leaves one off fails to compile
//! with a note naming the feature, and `archgen init` writes the list into the new crate's
//! Cargo.toml.

use serde::Serialize;

use super::Domain;
use super::security::Scheme;

/// The generator–runtime contract this archgen writes code for: the generated root module
/// asserts that archgen-runtime's `API_VERSION` is this.
pub const RUNTIME_API: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeFeatures {
    /// [`RUNTIME_API`], for the template's assertion.
    pub api: u32,
    /// Some entity reads through a cache (`x-codegen.cache`).
    pub cache: bool,
    /// Some entity writes events (`x-codegen.events`).
    pub events: bool,
    /// Some scheme takes bearer tokens (bearer, OAuth2, OpenID Connect), which the service
    /// verifies as JWTs.
    pub jwt: bool,
    /// The features generated code cannot do without, as named by `rt::features` in upper case:
    /// the in-memory cache is the default store of cached entities, and bearer schemes need
    /// JWTs verified. Events need none: the outbox and the in-process bus are the runtime's core.
    pub required: Vec<&'static str>,
}

impl RuntimeFeatures {
    pub fn of(domains: &[Domain], schemes: &[Scheme]) -> Self {
        let entities = || domains.iter().flat_map(|d| &d.entities);
        let cache = entities().any(|e| e.cache.is_some());
        let events = entities().any(|e| !e.events.is_empty());
        let jwt = schemes.iter().any(Scheme::takes_bearer);
        Self::new(cache, events, jwt)
    }

    fn new(cache: bool, events: bool, jwt: bool) -> Self {
        let required = [("cache", cache), ("jwt", jwt)]
            .into_iter()
            .filter_map(|(name, used)| used.then_some(name))
            .collect();
        Self {
            api: RUNTIME_API,
            cache,
            events,
            jwt,
            required,
        }
    }

    /// What `archgen init` turns on: what the code needs, the brokers a deployment may pick at
    /// run time (`REDIS_URL` for a cache; `NATS_URL`, or Redis Streams, for events), and the
    /// `/docs` page, which every service serves. Sorted, for a stable Cargo.toml.
    pub fn for_crate(&self) -> Vec<&'static str> {
        let mut out = self.required.clone();
        out.push("docs");
        if self.cache || self.events {
            out.push("redis");
        }
        if self.events {
            out.push("nats");
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crate_gets_what_its_spec_uses_and_the_brokers_to_choose_from() {
        assert_eq!(
            RuntimeFeatures::new(false, false, false).for_crate(),
            ["docs"]
        );
        assert_eq!(
            RuntimeFeatures::new(true, false, false).for_crate(),
            ["cache", "docs", "redis"]
        );
        assert_eq!(
            RuntimeFeatures::new(false, true, false).for_crate(),
            ["docs", "nats", "redis"]
        );
        assert_eq!(
            RuntimeFeatures::new(true, true, true).for_crate(),
            ["cache", "docs", "jwt", "nats", "redis"]
        );
    }

    /// The generated code asserts the version; the runtime it is built with must agree.
    #[test]
    fn the_runtime_is_the_version_generated_code_expects() {
        assert_eq!(RUNTIME_API, archgen_runtime::API_VERSION);
    }
}
