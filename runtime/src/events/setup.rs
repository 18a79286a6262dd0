//! Start-up: pick the broker from the environment, make sure its streams exist, and start the
//! relay.

use std::sync::Arc;
use std::time::Duration;

use super::{EventBus, EventError, InProcessBus, Relay};
use crate::sql::Db;

/// NATS JetStream when `NATS_URL` is set; Redis Streams with `ARCHGEN_EVENTS=redis` and
/// `REDIS_URL`; the in-process bus otherwise (`ARCHGEN_EVENTS=memory` forces it). A broker this
/// build lacks (features `nats`, `redis`) is an error, never a quiet fall-back to the in-process
/// bus, whose events other services would never see.
pub async fn bus_from_env() -> Result<Arc<dyn EventBus>, EventError> {
    bus_from_vars(|name| std::env::var(name).ok()).await
}

/// [`bus_from_env`] over any source of settings (tests cannot safely set variables).
pub async fn bus_from_vars(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn EventBus>, EventError> {
    let var = |name| var(name).filter(|v: &String| !v.is_empty());
    match (
        var("ARCHGEN_EVENTS").as_deref(),
        var("NATS_URL"),
        var("REDIS_URL"),
    ) {
        (Some("memory"), _, _) => Ok(Arc::new(InProcessBus::default())),
        (Some("redis"), _, Some(url)) => redis_bus(&url),
        (Some("redis"), _, None) => Err(EventError("ARCHGEN_EVENTS=redis needs REDIS_URL".into())),
        (Some("nats") | None, Some(url), _) => nats_bus(&url).await,
        (Some("nats"), None, _) => Err(EventError("ARCHGEN_EVENTS=nats needs NATS_URL".into())),
        (None, None, _) => Ok(Arc::new(InProcessBus::default())),
        (Some(other), _, _) => Err(EventError(format!(
            "ARCHGEN_EVENTS must be memory, nats or redis, not `{other}`"
        ))),
    }
}

#[cfg(feature = "redis")]
fn redis_bus(url: &str) -> Result<Arc<dyn EventBus>, EventError> {
    Ok(Arc::new(super::RedisStreamsBus::new(url, "")))
}

#[cfg(not(feature = "redis"))]
fn redis_bus(_url: &str) -> Result<Arc<dyn EventBus>, EventError> {
    Err(EventError(crate::features::missing("REDIS_URL", "redis")))
}

#[cfg(feature = "nats")]
async fn nats_bus(url: &str) -> Result<Arc<dyn EventBus>, EventError> {
    Ok(Arc::new(
        super::JetStreamBus::connect_in_background(url).await?,
    ))
}

#[cfg(not(feature = "nats"))]
async fn nats_bus(_url: &str) -> Result<Arc<dyn EventBus>, EventError> {
    Err(EventError(crate::features::missing("NATS_URL", "nats")))
}

/// Start publishing `db`'s outbox to `bus`, after making sure the streams of `domains` exist.
/// A broker that is down at start does not stop the service: its streams are created in the
/// background once it answers, and events wait in the outbox meanwhile.
///
/// A spec without events (no `domains`) has no outbox: nothing is relayed.
pub fn start(db: &Db, bus: Arc<dyn EventBus>, domains: &[&str]) -> tokio::task::JoinHandle<()> {
    if domains.is_empty() {
        return tokio::spawn(async {});
    }
    let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
    let relay = Relay::new(db.clone(), bus.clone());
    tokio::spawn(async move {
        let mut wait = Duration::from_millis(200);
        for domain in &domains {
            while let Err(e) = bus.ensure_stream(domain).await {
                tracing::warn!(domain, error = %e, "event stream not ready; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(10));
            }
        }
        tracing::info!(backend = bus.backend(), "relaying events");
        let _ = relay.spawn().await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec without events has no outbox: no relay runs, so none polls a missing table.
    #[tokio::test]
    async fn nothing_is_relayed_without_event_domains() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let bus: Arc<dyn EventBus> = Arc::new(crate::events::InProcessBus::default());
        let relay = start(&db, bus, &[]);
        tokio::time::timeout(Duration::from_secs(1), relay)
            .await
            .expect("the relay ends at once")
            .unwrap();
    }

    async fn backend(pairs: &[(&str, &str)]) -> Result<&'static str, String> {
        let var = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        bus_from_vars(var)
            .await
            .map(|bus| bus.backend())
            .map_err(|e| e.0)
    }

    /// A broker this build lacks is refused at start-up: falling back to the in-process bus
    /// would keep every event from the services listening on the broker.
    #[tokio::test]
    async fn brokers_follow_the_features_built_in() {
        assert_eq!(backend(&[]).await, Ok("memory"));
        let redis = backend(&[
            ("ARCHGEN_EVENTS", "redis"),
            ("REDIS_URL", "redis://127.0.0.1:1"),
        ])
        .await;
        if cfg!(feature = "redis") {
            assert_eq!(redis, Ok("redis"));
        } else {
            assert!(redis.unwrap_err().contains("`redis` feature"));
        }
        // Only without the feature: with it, the bus would start connecting to this address.
        if !cfg!(feature = "nats") {
            let nats = backend(&[("NATS_URL", "nats://127.0.0.1:1")])
                .await
                .unwrap_err();
            assert!(
                nats.contains("NATS_URL") && nats.contains("`nats` feature"),
                "{nats}"
            );
        }
    }
}
