//! NATS JetStream as the event bus.
//!
//! Each domain has one stream (`LIBRARY` keeps `library.>`), with a de-duplication window so
//! that the relay may publish an event again after an uncertain failure: the event id travels
//! as `Nats-Msg-Id` and the server drops the second copy. Subscribers are durable pull
//! consumers, so a group resumes where it stopped and shares the work among its instances.
//!
//! The client reconnects on its own, forever, so a bus outlives NATS restarts. While NATS is
//! away, [`EventBus::publish`] fails at once and the relay keeps the rows for later, and
//! subscriptions reopen their consumer once the server is back.
//!
//! Only the stream and consumer settings that NATS 2.9 knows are used (the client is built
//! without its `server_2_10`+ features), so older servers accept them.

use std::time::Duration;

use async_nats::connection::State;
use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Delivery, EventBus, EventError, Subscription, stream_name};

/// How long to wait for a server when connecting, so start-up fails fast when NATS is away.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a publish may wait for the stream's acknowledgement before the relay retries.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(2);
/// A publish repeated within this window (same event id) is dropped by the server.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
/// Messages fetched per pull, and buffered for a subscriber. Kept small because a fetched
/// message's ack timer runs while it waits in the buffer.
const BATCH: usize = 64;
/// Pull requests expire and are renewed this often; the heartbeat tells a live but idle
/// consumer from a lost connection.
const PULL_EXPIRES: Duration = Duration::from_secs(10);
const PULL_HEARTBEAT: Duration = Duration::from_secs(4);
/// Wait between attempts to reopen a consumer whose message stream broke.
const REOPEN_BACKOFF: Duration = Duration::from_secs(1);

/// The event bus on NATS JetStream.
pub struct JetStreamBus {
    client: async_nats::Client,
    js: jetstream::Context,
}

impl JetStreamBus {
    /// Connect to the NATS server at `url` (`nats://host:4222`), failing when it cannot be
    /// reached within a couple of seconds. After that the connection is restored in the
    /// background whenever it drops.
    pub async fn connect(url: &str) -> Result<Self, EventError> {
        let client = options()
            .connect(url)
            .await
            .map_err(|e| EventError(format!("NATS at {url}: {e}")))?;
        Ok(Self::from_client(client))
    }

    /// Like [`JetStreamBus::connect`], but succeeds while NATS is down (only a malformed `url`
    /// fails) and connects in the background, so a service can start during an outage: until
    /// the server is reached, publishing fails and the events wait in the outbox.
    pub async fn connect_in_background(url: &str) -> Result<Self, EventError> {
        let client = options()
            .retry_on_initial_connect()
            .connect(url)
            .await
            .map_err(|e| EventError(format!("NATS at {url}: {e}")))?;
        Ok(Self::from_client(client))
    }

    fn from_client(client: async_nats::Client) -> Self {
        let js = jetstream::new(client.clone());
        Self { client, js }
    }

    fn connected(&self) -> Result<(), EventError> {
        match self.client.connection_state() {
            State::Connected => Ok(()),
            state => Err(EventError(format!("NATS is not connected ({state})"))),
        }
    }

    async fn publish_once(
        &self,
        subject: &str,
        id: Uuid,
        payload: &[u8],
    ) -> Result<(), jetstream::context::PublishError> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id.to_string().as_str());
        let ack = self
            .js
            .publish_with_headers(subject.to_string(), headers, payload.to_vec().into())
            .await?;
        ack.await.map(drop)
    }
}

fn options() -> async_nats::ConnectOptions {
    // Reconnects are unlimited by default, which is what keeps the bus alive across restarts.
    async_nats::ConnectOptions::new()
        .connection_timeout(CONNECT_TIMEOUT)
        // Events wait in the outbox while NATS is away: send them as soon as it is back.
        .event_callback(|event| async move {
            if matches!(event, async_nats::Event::Connected) {
                super::wake();
            }
        })
}

#[async_trait::async_trait]
impl EventBus for JetStreamBus {
    async fn publish(&self, subject: &str, id: Uuid, payload: &[u8]) -> Result<(), EventError> {
        // While disconnected the client would queue the message and send it on reconnect, long
        // after the relay gave up on it; failing now keeps the outbox the only queue.
        self.connected()?;
        let describe = |e: jetstream::context::PublishError| {
            EventError(format!("publishing {subject} to NATS: {e}"))
        };
        let attempt = tokio::time::timeout(PUBLISH_TIMEOUT, async {
            match self.publish_once(subject, id, payload).await {
                Err(e) if e.kind() == jetstream::context::PublishErrorKind::StreamNotFound => {
                    // The stream was deleted, or the server came back without its store.
                    self.ensure_stream(domain_of(subject)?).await?;
                    self.publish_once(subject, id, payload)
                        .await
                        .map_err(describe)
                }
                other => other.map_err(describe),
            }
        });
        attempt.await.unwrap_or_else(|_| {
            Err(EventError(format!(
                "publishing {subject} to NATS: no acknowledgement within {PUBLISH_TIMEOUT:?}"
            )))
        })
    }

    async fn ensure_stream(&self, domain: &str) -> Result<(), EventError> {
        ensure_stream(&self.js, domain).await
    }

    async fn subscribe(&self, filter: &str, group: &str) -> Result<Subscription, EventError> {
        let target = Target {
            domain: domain_of(filter)?.to_string(),
            name: consumer_name(group, filter),
            filter: filter.to_string(),
        };
        // Opened here when possible, so that a bad filter is reported to the caller; during an
        // outage the task opens it once NATS is back, so a service can start anyway.
        let consumer = match self.connected() {
            Ok(()) => Some(target.open(&self.js).await?),
            Err(e) => {
                tracing::warn!(consumer = %target.name, error = %e, "NATS subscription starts once NATS is reachable");
                None
            }
        };
        let (tx, rx) = mpsc::channel(BATCH);
        tokio::spawn(pump(self.js.clone(), target, consumer, tx));
        Ok(Subscription::new(rx))
    }

    async fn ping(&self) -> Result<(), EventError> {
        self.connected()
    }

    fn backend(&self) -> &'static str {
        "nats"
    }
}

/// Create the stream of `domain` unless it exists; an existing one is kept as it is.
async fn ensure_stream(js: &jetstream::Context, domain: &str) -> Result<(), EventError> {
    let config = stream::Config {
        name: stream_name(domain),
        subjects: vec![format!("{domain}.>")],
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    };
    js.get_or_create_stream(config)
        .await
        .map(drop)
        .map_err(|e| EventError(format!("NATS stream {}: {e}", stream_name(domain))))
}

/// The domain a subject or filter belongs to: its first token, which names the stream.
fn domain_of(subject: &str) -> Result<&str, EventError> {
    let domain = subject.split('.').next().unwrap_or_default();
    let valid = !domain.is_empty()
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(domain)
    } else {
        Err(EventError(format!(
            "{subject:?} does not start with a domain, so no stream captures it"
        )))
    }
}

/// A durable consumer name for `group` on `filter`. The filter is part of the name because one
/// group may follow several filters of a domain, and a consumer has exactly one filter.
fn consumer_name(group: &str, filter: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let filter = filter
        .split('.')
        .map(|token| match token {
            "*" => "any".to_string(),
            ">" => "all".to_string(),
            token => clean(token),
        })
        .collect::<Vec<_>>()
        .join("_");
    let group = match clean(group) {
        g if g.is_empty() => "default".to_string(),
        g => g,
    };
    format!("{group}__{filter}")
}

/// The consumer one subscription reads, enough to open it again after the server restarts.
struct Target {
    domain: String,
    name: String,
    filter: String,
}

impl Target {
    async fn open(&self, js: &jetstream::Context) -> Result<consumer::PullConsumer, EventError> {
        let error = |e: &dyn std::fmt::Display| {
            EventError(format!(
                "NATS consumer {} on {}: {e}",
                self.name, self.filter
            ))
        };
        ensure_stream(js, &self.domain).await?;
        let stream = js
            .get_stream(stream_name(&self.domain))
            .await
            .map_err(|e| error(&e))?;
        let config = consumer::pull::Config {
            durable_name: Some(self.name.clone()),
            filter_subject: self.filter.clone(),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        };
        let consumer = stream
            .get_or_create_consumer(&self.name, config)
            .await
            .map_err(|e| error(&e))?;
        // Distinct filters may clean up to the same name; reading another filter's messages
        // would be a silent bug, so refuse instead.
        let existing = &consumer.cached_info().config.filter_subject;
        if existing != &self.filter {
            return Err(error(&format!(
                "the consumer exists with filter {existing:?}"
            )));
        }
        Ok(consumer)
    }
}

/// Why forwarding from one message stream stopped.
enum Stop {
    /// The subscriber dropped its [`Subscription`]: nothing more to do.
    Unsubscribed,
    /// The stream broke (server restart, consumer deleted, ...): open it again.
    Broken(String),
}

/// Feed `tx` until the subscriber goes away, (re)opening the consumer whenever there is none
/// or its stream broke.
async fn pump(
    js: jetstream::Context,
    target: Target,
    mut consumer: Option<consumer::PullConsumer>,
    tx: mpsc::Sender<Delivery>,
) {
    loop {
        let current = match consumer.take() {
            Some(current) => current,
            None => match reopen(&js, &target, &tx).await {
                Some(current) => current,
                None => return,
            },
        };
        match forward(&current, &tx).await {
            Stop::Unsubscribed => return,
            Stop::Broken(why) => {
                tracing::warn!(consumer = %target.name, %why, "NATS subscription interrupted; reopening");
            }
        }
    }
}

/// Try to open the consumer until it works; `None` once the subscriber has gone away.
async fn reopen(
    js: &jetstream::Context,
    target: &Target,
    tx: &mpsc::Sender<Delivery>,
) -> Option<consumer::PullConsumer> {
    loop {
        tokio::select! {
            () = tx.closed() => return None,
            () = tokio::time::sleep(REOPEN_BACKOFF) => {}
        }
        match target.open(js).await {
            Ok(consumer) => {
                tracing::info!(consumer = %target.name, "NATS subscription (re)opened");
                return Some(consumer);
            }
            Err(e) => tracing::debug!(error = %e, "NATS consumer not opened yet"),
        }
    }
}

async fn forward(consumer: &consumer::PullConsumer, tx: &mpsc::Sender<Delivery>) -> Stop {
    let messages = consumer
        .stream()
        .max_messages_per_batch(BATCH)
        .expires(PULL_EXPIRES)
        .heartbeat(PULL_HEARTBEAT)
        .messages()
        .await;
    let mut messages = match messages {
        Ok(messages) => messages,
        Err(e) => return Stop::Broken(e.to_string()),
    };
    loop {
        let next = tokio::select! {
            next = messages.next() => next,
            () = tx.closed() => return Stop::Unsubscribed,
        };
        match next {
            Some(Ok(message)) => {
                if tx.send(delivery(message)).await.is_err() {
                    return Stop::Unsubscribed;
                }
            }
            Some(Err(e)) => return Stop::Broken(e.to_string()),
            None => return Stop::Broken("the message stream ended".into()),
        }
    }
}

fn delivery(message: jetstream::Message) -> Delivery {
    let subject = message.subject.to_string();
    let payload = message.payload.to_vec();
    let ack = move || -> crate::sql::Later {
        Box::pin(async move {
            // Not fatal: the server delivers the message again after its ack wait.
            if let Err(e) = message.ack().await {
                tracing::warn!(subject = %message.subject, error = %e, "NATS ack failed");
            }
        })
    };
    Delivery::new(subject, payload, Some(Box::new(ack)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_names_are_valid_and_keep_filters_apart() {
        assert_eq!(
            consumer_name("mailer", "library.author.*"),
            "mailer__library_author_any"
        );
        assert_eq!(consumer_name("a b/c", "library.>"), "a_b_c__library_all");
        assert_eq!(
            consumer_name("", "library.book.created"),
            "default__library_book_created"
        );
        assert_ne!(
            consumer_name("g", "library.author.*"),
            consumer_name("g", "library.book.*")
        );
    }

    #[test]
    fn the_domain_is_the_first_token() {
        assert_eq!(domain_of("library.author.created").ok(), Some("library"));
        assert!(domain_of("*.author.created").is_err());
        assert!(domain_of(">").is_err());
        assert!(domain_of("").is_err());
    }
}
