//! Where events go once they leave the outbox, and how subscribers receive them.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use super::Envelope;

#[derive(Debug, thiserror::Error)]
#[error("events: {0}")]
pub struct EventError(pub String);

/// A message handed to a subscriber. Dropping it without [`Delivery::ack`] lets the broker
/// deliver it again: JetStream after its ack wait, Redis Streams to the restarted consumer or,
/// after five minutes, to another one. The in-process bus drops it.
pub struct Delivery {
    pub subject: String,
    pub payload: Vec<u8>,
    ack: Option<Box<dyn FnOnce() -> crate::sql::Later + Send>>,
}

impl Delivery {
    pub fn new(
        subject: String,
        payload: Vec<u8>,
        ack: Option<Box<dyn FnOnce() -> crate::sql::Later + Send>>,
    ) -> Self {
        Self {
            subject,
            payload,
            ack,
        }
    }

    /// Tell the broker the message is handled.
    pub async fn ack(mut self) {
        if let Some(ack) = self.ack.take() {
            ack().await;
        }
    }
}

/// Messages of one subscription, in order.
pub struct Subscription {
    rx: mpsc::Receiver<Delivery>,
}

impl Subscription {
    pub fn new(rx: mpsc::Receiver<Delivery>) -> Self {
        Self { rx }
    }

    /// The next message; `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }
}

/// A broker: the in-process default, NATS JetStream, or Redis Streams.
#[async_trait::async_trait]
pub trait EventBus: Send + Sync {
    /// Publish `payload` on `subject`. A second publish of the same `id` within the broker's
    /// de-duplication window is dropped.
    async fn publish(&self, subject: &str, id: Uuid, payload: &[u8]) -> Result<(), EventError>;
    /// Create the stream that keeps `<domain>.>` if it is missing (JetStream; a no-op
    /// elsewhere).
    async fn ensure_stream(&self, domain: &str) -> Result<(), EventError>;
    /// Receive every message whose subject matches `filter` (`*` one token, `>` the rest).
    /// Subscriptions sharing a `group` share the work where the broker can (JetStream).
    async fn subscribe(&self, filter: &str, group: &str) -> Result<Subscription, EventError>;
    /// For logs: `memory`, `nats` or `redis`.
    fn backend(&self) -> &'static str;
    /// Whether the broker answers now (for readiness checks).
    async fn ping(&self) -> Result<(), EventError> {
        Ok(())
    }
}

/// Whether `subject` matches a NATS-style `filter`.
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut subject = subject.split('.');
    for part in filter.split('.') {
        match (part, subject.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (p, Some(s)) if p == s => {}
            _ => return false,
        }
    }
    subject.next().is_none()
}

/// How many recent ids the in-process bus remembers to drop duplicates.
const DEDUP_WINDOW: usize = 10_000;

/// The embedded bus: subscribers in this process receive what it publishes.
pub struct InProcessBus {
    tx: broadcast::Sender<(String, Arc<[u8]>)>,
    seen: Mutex<VecDeque<Uuid>>,
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
            seen: Mutex::new(VecDeque::new()),
        }
    }
}

#[async_trait::async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, subject: &str, id: Uuid, payload: &[u8]) -> Result<(), EventError> {
        {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            if seen.contains(&id) {
                return Ok(());
            }
            seen.push_back(id);
            if seen.len() > DEDUP_WINDOW {
                seen.pop_front();
            }
        }
        // Nobody listening is not an error: the event is published.
        let _ = self.tx.send((subject.to_string(), payload.into()));
        Ok(())
    }

    async fn ensure_stream(&self, _: &str) -> Result<(), EventError> {
        Ok(())
    }

    async fn subscribe(&self, filter: &str, _group: &str) -> Result<Subscription, EventError> {
        let mut rx = self.tx.subscribe();
        let (out, sub) = mpsc::channel(256);
        let filter = filter.to_string();
        tokio::spawn(async move {
            loop {
                match rx.recv().await {
                    Ok((subject, payload)) if subject_matches(&filter, &subject) => {
                        let delivery = Delivery::new(subject, payload.to_vec(), None);
                        if out.send(delivery).await.is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(filter, missed = n, "in-process subscriber fell behind");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                }
            }
        });
        Ok(Subscription::new(sub))
    }

    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// How a subscriber retries a handler that fails.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each one after.
    pub backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 5,
            backoff: Duration::from_millis(100),
        }
    }
}

/// Run `handler` for each event on `filter`, typed as `T` (the entity of the event). A handler
/// that fails is retried; after the last attempt the message goes to `<subject>.dead_letter`
/// with the error, and is acknowledged so it does not block the ones after it. A payload that
/// is not a `T` goes straight to the dead letters. Runs until the bus goes away.
pub async fn subscribe<T, F, Fut>(
    bus: Arc<dyn EventBus>,
    filter: &str,
    group: &str,
    retry: Retry,
    handler: F,
) -> Result<tokio::task::JoinHandle<()>, EventError>
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(Envelope<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let mut sub = bus.subscribe(filter, group).await?;
    let filter = filter.to_string();
    Ok(tokio::spawn(async move {
        while let Some(delivery) = sub.next().await {
            // A wildcard also matches dead letters, which are not events: handling them would
            // dead-letter them again, without end.
            if delivery.subject.ends_with(".dead_letter") && !filter.ends_with(".dead_letter") {
                delivery.ack().await;
                continue;
            }
            let outcome = match serde_json::from_slice::<Envelope<T>>(&delivery.payload) {
                Err(e) => Err(format!("not an event of the expected type: {e}")),
                Ok(_) => {
                    let mut wait = retry.backoff;
                    let mut result = Err(String::new());
                    for attempt in 1..=retry.attempts.max(1) {
                        // Decoding again is cheaper than requiring `T: Clone`.
                        let Ok(event) = serde_json::from_slice::<Envelope<T>>(&delivery.payload)
                        else {
                            break;
                        };
                        result = handler(event).await;
                        if result.is_ok() || attempt == retry.attempts {
                            break;
                        }
                        tokio::time::sleep(wait).await;
                        wait *= 2;
                    }
                    result
                }
            };
            if let Err(error) = outcome {
                let dead = format!("{}.dead_letter", delivery.subject);
                tracing::error!(subject = %delivery.subject, %error, "event handler gave up; sent to {dead}");
                let letter = serde_json::json!({
                    "subject": delivery.subject,
                    "error": error,
                    "event": serde_json::from_slice::<serde_json::Value>(&delivery.payload).unwrap_or(serde_json::Value::Null),
                });
                let body = serde_json::to_vec(&letter).unwrap_or_default();
                if let Err(e) = bus.publish(&dead, Uuid::now_v7(), &body).await {
                    // Unacknowledged, the broker delivers the event again later.
                    tracing::error!(subject = %dead, error = %e, "dead letter not published");
                    continue;
                }
            }
            delivery.ack().await;
        }
        tracing::debug!(filter, "subscription ended");
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_nats() {
        assert!(subject_matches(
            "library.author.created",
            "library.author.created"
        ));
        assert!(subject_matches(
            "library.author.*",
            "library.author.deleted"
        ));
        assert!(subject_matches("library.>", "library.author.deleted"));
        assert!(!subject_matches("library.>", "library"));
        assert!(!subject_matches(
            "library.author.*",
            "library.author.created.dead_letter"
        ));
        assert!(!subject_matches("library.book.*", "library.author.created"));
    }
}

#[cfg(test)]
mod dead_letter_tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A subscriber on `d.>` also sees the dead letters it publishes; it must not handle them
    /// again, or each would be dead-lettered once more without end.
    #[tokio::test]
    async fn a_wildcard_subscriber_does_not_feed_on_its_own_dead_letters() {
        let bus: Arc<dyn EventBus> = Arc::new(InProcessBus::default());
        let mut watch = bus.subscribe("d.>", "watch").await.unwrap();
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let retry = Retry {
            attempts: 2,
            backoff: Duration::from_millis(1),
        };
        subscribe::<serde_json::Value, _, _>(bus.clone(), "d.>", "g", retry, move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Err("always".to_string()) }
        })
        .await
        .unwrap();
        let event = Envelope::new("d.thing.created", serde_json::json!({}));
        bus.publish(
            "d.thing.created",
            event.id,
            &serde_json::to_vec(&event).unwrap(),
        )
        .await
        .unwrap();
        let mut subjects = Vec::new();
        while let Ok(Some(d)) = tokio::time::timeout(Duration::from_millis(300), watch.next()).await
        {
            subjects.push(d.subject);
        }
        assert_eq!(subjects, ["d.thing.created", "d.thing.created.dead_letter"]);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "two attempts at the event, none at its letter"
        );
    }
}
