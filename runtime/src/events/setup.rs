//! Start-up: pick the broker from the environment, make sure its streams exist, and start the
//! relay.

use std::sync::Arc;
use std::time::Duration;

use super::{EventBus, EventError, InProcessBus, JetStreamBus, RedisStreamsBus, Relay};
use crate::sql::Db;

/// NATS JetStream when `NATS_URL` is set; Redis Streams with `ARCHGEN_EVENTS=redis` and
/// `REDIS_URL`; the in-process bus otherwise (`ARCHGEN_EVENTS=memory` forces it).
pub async fn bus_from_env() -> Result<Arc<dyn EventBus>, EventError> {
    let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    match (
        var("ARCHGEN_EVENTS").as_deref(),
        var("NATS_URL"),
        var("REDIS_URL"),
    ) {
        (Some("memory"), _, _) => Ok(Arc::new(InProcessBus::default())),
        (Some("redis"), _, Some(url)) => Ok(Arc::new(RedisStreamsBus::new(&url, ""))),
        (Some("redis"), _, None) => Err(EventError("ARCHGEN_EVENTS=redis needs REDIS_URL".into())),
        (Some("nats") | None, Some(url), _) => {
            Ok(Arc::new(JetStreamBus::connect_in_background(&url).await?))
        }
        (Some("nats"), None, _) => Err(EventError("ARCHGEN_EVENTS=nats needs NATS_URL".into())),
        (None, None, _) => Ok(Arc::new(InProcessBus::default())),
        (Some(other), _, _) => Err(EventError(format!(
            "ARCHGEN_EVENTS must be memory, nats or redis, not `{other}`"
        ))),
    }
}

/// Start publishing `db`'s outbox to `bus`, after making sure the streams of `domains` exist.
/// A broker that is down at start does not stop the service: its streams are created in the
/// background once it answers, and events wait in the outbox meanwhile.
pub fn start(db: &Db, bus: Arc<dyn EventBus>, domains: &[&str]) -> tokio::task::JoinHandle<()> {
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
