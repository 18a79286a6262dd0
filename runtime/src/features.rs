//! The optional parts of the runtime, one cargo feature each (see `Cargo.toml`).
//!
//! Each constant below exists only when its feature is on. Generated code names the ones its spec
//! cannot do without (`const _: () = rt::features::JWT;`), so a crate that leaves such a feature
//! off fails to compile, and rustc's note says which: "the item is gated behind the `jwt`
//! feature". That is earlier and clearer than a service that starts and refuses every token.
//! Brokers (`redis`, `nats`) have no constant: a deployment picks them at run time, and asking for
//! one this build lacks stops the service at start-up (see [`missing`]). Neither has the client:
//! generated clients name `rt::client` itself, which carries the same note.

/// The in-memory cache (moka): the default store of a spec's cached entities.
#[cfg(feature = "cache")]
pub const CACHE: () = ();

/// Bearer JWTs verified against `JWT_SECRET`, `JWT_PUBLIC_KEY` or `JWT_JWKS`: a spec with a
/// bearer, OAuth2 or OpenID Connect scheme takes them.
#[cfg(feature = "jwt")]
pub const JWT: () = ();

/// The start-up error for a setting that asks for a part this build left out. A service must
/// never quietly ignore `REDIS_URL` or `JWT_SECRET`: its operator set them for a reason.
pub fn missing(setting: &str, feature: &str) -> String {
    format!(
        "{setting} is set, but this service was built without archgen-runtime's `{feature}` feature: \
         add \"{feature}\" to the features of archgen-runtime in Cargo.toml, or unset it"
    )
}
