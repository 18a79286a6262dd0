//! Typed domain events, delivered at least once through a transactional outbox.
//!
//! A repository writes each event into the `archgen_outbox` table in the same transaction as the
//! change it describes, so an event exists exactly when its change does. A [`Relay`] publishes
//! outbox rows to an [`EventBus`] (in process, NATS JetStream or Redis Streams), with the event
//! id as the message id so that the broker drops duplicates, and marks them published. While the
//! broker is down, writes still succeed and rows wait; once it is back, every event goes out.
//!
//! The outbox, the relay and the in-process bus are always compiled (they add no dependency, and
//! generated repositories write the outbox inline); the brokers are features: `nats` for
//! [`JetStreamBus`], `redis` for [`RedisStreamsBus`].
//!
//! Subjects are `<domain>.<entity>.<event>` in snake_case (`library.author.created`).

mod bus;
#[cfg(feature = "nats")]
mod nats;
mod outbox;
#[cfg(feature = "redis")]
mod redis;
mod relay;
mod setup;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use bus::{
    Delivery, EventBus, EventError, InProcessBus, Retry, Subscription, subject_matches, subscribe,
};
#[cfg(feature = "nats")]
pub use nats::JetStreamBus;
pub use outbox::{OUTBOX_TABLE, wake, write_pg, write_sqlite};
#[cfg(feature = "redis")]
pub use redis::RedisStreamsBus;
pub use relay::Relay;
pub use setup::{bus_from_env, bus_from_vars, start};

/// An event as it travels: the JSON every subscriber receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T = serde_json::Value> {
    /// Unique per event; the broker's de-duplication key.
    pub id: Uuid,
    /// The subject, e.g. `library.author.created`.
    #[serde(rename = "type")]
    pub kind: String,
    pub time: DateTime<Utc>,
    /// The request that caused it, when there was one.
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none", default)]
    pub request_id: Option<String>,
    /// The entity as responses show it: `x-sensitive` fields are left out.
    pub data: T,
}

impl Envelope {
    /// A new event about `data` on `subject`, stamped with the current request's id.
    pub fn new(subject: &str, data: serde_json::Value) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind: subject.to_string(),
            time: crate::sql::now(),
            request_id: current_request_id(),
            data,
        }
    }
}

tokio::task_local! {
    static REQUEST_ID: Option<String>;
}

/// Run `f` with `request_id` as the id that events written meanwhile carry.
pub async fn with_request_id<F: std::future::Future>(
    request_id: Option<String>,
    f: F,
) -> F::Output {
    REQUEST_ID.scope(request_id, f).await
}

/// The id of the request being served, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok().flatten()
}

/// The stream a domain's events go to on JetStream (one per domain, capturing `<domain>.>`).
pub fn stream_name(domain: &str) -> String {
    domain.to_ascii_uppercase()
}
