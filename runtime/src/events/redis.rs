//! Redis Streams as the event bus. Each domain has one stream, `<prefix>events:<domain>`, and a
//! subscription is a consumer group on it, so a message stays in the group's pending list until
//! its handler acknowledges it: a consumer that crashes gets its pending messages again when it
//! comes back under the same name, and ones left pending for long are taken over by any consumer
//! of the group.
//!
//! Publishing goes through one shared connection with a short deadline, rebuilt at most once a
//! second after a failure, like the cache's. Each subscription reads on a connection of its own,
//! because a blocking read would hold up every other command pipelined behind it.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, FromRedisValue, RedisError, Value};
use tokio::sync::{Mutex, mpsc};
use uuid::Uuid;

use super::{Delivery, EventBus, EventError, Subscription, subject_matches};

/// Deadline of every command but the blocking read, and of connecting.
const DEADLINE: Duration = Duration::from_secs(2);
/// After a failure, the shared connection is not retried sooner than this.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// How long a read waits for new messages; also how soon a dropped subscription is noticed.
const BLOCK: Duration = Duration::from_millis(1000);
/// Messages per read.
const BATCH: usize = 100;
/// Streams are trimmed to about this many messages.
const MAXLEN: u64 = 100_000;
/// A second publish of an id within this window is dropped.
const DEDUP_WINDOW: Duration = Duration::from_secs(120);
/// A message pending this long was read by a consumer that is gone (or whose reply was lost):
/// another consumer takes it over. Long, so that a slow handler is not raced.
const CLAIM_IDLE: Duration = Duration::from_secs(300);
/// How often a subscription looks for such messages.
const CLAIM_EVERY: Duration = Duration::from_secs(30);
/// Bounds of a reader's back-off while Redis is unreachable.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(10);

/// Adds the message only if its id was not seen within the window, so that the check and the add
/// cannot be separated by a crash. If XADD fails the id is forgotten again: a lost de-duplication
/// entry costs at most a duplicate, a kept one would lose the event for good.
const PUBLISH: &str = r"
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  return 0
end
local added = redis.pcall('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*',
  'subject', ARGV[3], 'id', ARGV[4], 'payload', ARGV[5])
if type(added) == 'table' and added.err then
  redis.call('DEL', KEYS[1])
  return added
end
return 1
";

/// Entries as XREADGROUP answers them: per stream, its entries; an entry's fields are nil when it
/// was trimmed away after being delivered.
type ReadReply = Option<Vec<(String, Vec<RawEntry>)>>;
type RawEntry = (String, Option<HashMap<Vec<u8>, Vec<u8>>>);

pub struct RedisStreamsBus {
    shared: Arc<Shared>,
    prefix: String,
    /// Subscriptions so far per stream and group, to name each one's consumer.
    consumers: std::sync::Mutex<HashMap<String, u32>>,
}

impl RedisStreamsBus {
    /// A bus on the Redis at `url`, with `prefix` before every key so that services (and tests)
    /// sharing a server never collide. Nothing connects until first use, so a service starts
    /// while Redis is down.
    pub fn new(url: &str, prefix: &str) -> Self {
        Self {
            shared: Arc::new(Shared {
                client: redis::Client::open(url).map_err(|e| format!("bad REDIS_URL: {e}")),
                state: Mutex::new(State::Idle),
            }),
            prefix: prefix.to_string(),
            consumers: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn stream_key(&self, domain: &str) -> String {
        format!("{}events:{domain}", self.prefix)
    }

    /// A name that is the same when the process restarts (given the same host name and the same
    /// order of subscriptions), so the restarted consumer finds what it left pending.
    fn consumer_name(&self, stream: &str, group: &str) -> String {
        let mut seen = self.consumers.lock().unwrap_or_else(|e| e.into_inner());
        let n = seen.entry(format!("{stream}\n{group}")).or_insert(0);
        *n += 1;
        format!("{}-{n}", host_name())
    }
}

#[async_trait::async_trait]
impl EventBus for RedisStreamsBus {
    async fn publish(&self, subject: &str, id: Uuid, payload: &[u8]) -> Result<(), EventError> {
        let id = id.hyphenated().to_string();
        let cmd = redis::cmd("EVAL")
            .arg(PUBLISH)
            .arg(2)
            .arg(format!("{}events:dedup:{id}", self.prefix))
            .arg(self.stream_key(domain(subject)))
            .arg(millis(DEDUP_WINDOW))
            .arg(MAXLEN)
            .arg(subject)
            .arg(&id)
            .arg(payload)
            .to_owned();
        let added: i64 = self.shared.run(&cmd).await?;
        if added == 0 {
            tracing::debug!(subject, id, "duplicate event dropped");
        }
        Ok(())
    }

    async fn ensure_stream(&self, _domain: &str) -> Result<(), EventError> {
        // XADD creates the stream, and subscribing creates it with its group (MKSTREAM).
        Ok(())
    }

    async fn subscribe(&self, filter: &str, group: &str) -> Result<Subscription, EventError> {
        let domain = domain(filter);
        if domain.is_empty() || domain == "*" || domain == ">" {
            return Err(EventError(format!(
                "Redis Streams keep one stream per domain; filter {filter:?} names none"
            )));
        }
        let client = self.shared.client.clone().map_err(EventError)?;
        let stream = self.stream_key(domain);
        // Subscriptions of a group with different filters must not take each other's messages:
        // each filter gets a group of its own, shared only by subscriptions with the same filter.
        let group = format!("{group}:{filter}");
        // The group starts at the end of the stream, so it is created now: whatever is published
        // once this returns reaches the subscriber. If Redis is down, the reader creates it later.
        let phase = match self.shared.create_group(&stream, &group).await {
            Ok(()) => Phase::Pending("0".into()),
            Err(e) => {
                tracing::warn!(stream, group, error = %e, "consumer group not created yet; retrying");
                Phase::CreateGroup
            }
        };
        let (out, sub) = mpsc::channel(BATCH);
        let reader = Reader {
            bus: Arc::downgrade(&self.shared),
            client,
            consumer: self.consumer_name(&stream, &group),
            stream,
            group,
            filter: filter.to_string(),
            out,
            conn: None,
            phase,
            claim_from: "0-0".into(),
            // At once, so that a new consumer takes over what one that is gone left behind.
            next_claim: Instant::now(),
        };
        tokio::spawn(reader.run());
        Ok(Subscription::new(sub))
    }

    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), EventError> {
        self.shared
            .run::<String>(&redis::cmd("PING"))
            .await
            .map(|_| ())
            .map_err(|e| EventError(e.to_string()))
    }
}

/// This machine's (or container's) name; consumers on different hosts must not share names, or a
/// restarted one would take the other's pending messages for its own.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "archgen".into())
}

/// The first token of a subject or filter: its domain.
fn domain(subject: &str) -> &str {
    subject.split('.').next().unwrap_or_default()
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

enum State {
    Idle,
    Up(MultiplexedConnection),
    Down(Instant),
}

/// What publishing, acknowledging and group creation share; readers hold it weakly, so they end
/// when the bus is dropped.
struct Shared {
    client: Result<redis::Client, String>,
    state: Mutex<State>,
}

/// Why a command failed: Redis answered with an error, or could not be reached.
enum Failure {
    Refused(RedisError),
    Unreachable(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused(e) => write!(f, "Redis: {e}"),
            Failure::Unreachable(e) => write!(f, "Redis unreachable: {e}"),
        }
    }
}

impl From<Failure> for EventError {
    fn from(failure: Failure) -> Self {
        EventError(failure.to_string())
    }
}

/// An error that Redis answered with, as opposed to a broken or timed-out connection.
fn is_refusal(e: &RedisError) -> bool {
    e.code().is_some() && !e.is_io_error() && !e.is_timeout() && !e.is_connection_dropped()
}

fn connection_config(response: Duration) -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(DEADLINE))
        .set_response_timeout(Some(response))
}

impl Shared {
    async fn connection(&self) -> Result<MultiplexedConnection, Failure> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Up(conn) => return Ok(conn.clone()),
            State::Down(at) if at.elapsed() < RETRY_AFTER => {
                return Err(Failure::Unreachable(
                    "Redis is down; retrying shortly".into(),
                ));
            }
            _ => {}
        }
        let client = self
            .client
            .as_ref()
            .map_err(|e| Failure::Unreachable(e.clone()))?;
        let config = connection_config(DEADLINE);
        match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(conn) => {
                *state = State::Up(conn.clone());
                Ok(conn)
            }
            Err(e) => {
                *state = State::Down(Instant::now());
                Err(Failure::Unreachable(e.to_string()))
            }
        }
    }

    async fn run<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, Failure> {
        let mut conn = self.connection().await?;
        match cmd.query_async::<T>(&mut conn).await {
            Ok(v) => Ok(v),
            Err(e) if is_refusal(&e) => Err(Failure::Refused(e)),
            Err(e) => {
                *self.state.lock().await = State::Down(Instant::now());
                Err(Failure::Unreachable(e.to_string()))
            }
        }
    }

    /// Create `group` at the end of `stream` (and the stream), unless it exists.
    async fn create_group(&self, stream: &str, group: &str) -> Result<(), Failure> {
        let cmd = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(stream)
            .arg(group)
            .arg("$")
            .arg("MKSTREAM")
            .to_owned();
        match self.run::<()>(&cmd).await {
            Err(Failure::Refused(e)) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other,
        }
    }

    /// Acknowledge `ids`. A failure is only logged: the messages stay pending and come again.
    async fn ack(&self, stream: &str, group: &str, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        let cmd = redis::cmd("XACK")
            .arg(stream)
            .arg(group)
            .arg(ids)
            .to_owned();
        if let Err(e) = self.run::<i64>(&cmd).await {
            tracing::warn!(stream, group, error = %e, "ack failed; the message will come again");
        }
    }
}

/// A message read from a stream; `message` is `None` when the entry is gone (trimmed) or is not
/// one of ours.
struct Entry {
    id: String,
    message: Option<(String, Vec<u8>)>,
}

fn entry((id, fields): RawEntry) -> Entry {
    let message = fields.and_then(|mut fields| {
        let subject = String::from_utf8(fields.remove(&b"subject"[..])?).ok()?;
        Some((subject, fields.remove(&b"payload"[..])?))
    });
    Entry { id, message }
}

/// Where a reader is: creating its group, re-reading what it left pending (after this id), or
/// reading new messages.
enum Phase {
    CreateGroup,
    Pending(String),
    New,
}

/// The task behind one subscription.
struct Reader {
    bus: Weak<Shared>,
    client: redis::Client,
    stream: String,
    group: String,
    consumer: String,
    filter: String,
    out: mpsc::Sender<Delivery>,
    conn: Option<MultiplexedConnection>,
    phase: Phase,
    claim_from: String,
    next_claim: Instant,
}

impl Reader {
    /// Read until the subscription or the bus is dropped; while Redis fails, back off.
    async fn run(mut self) {
        let mut backoff = BACKOFF_MIN;
        while !self.out.is_closed() {
            let Some(bus) = self.bus.upgrade() else {
                break;
            };
            match self.step(&bus).await {
                Ok(()) => backoff = BACKOFF_MIN,
                Err(failure) => {
                    drop(bus);
                    self.recover(failure, backoff).await;
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
        tracing::debug!(
            stream = self.stream,
            group = self.group,
            "redis subscription ended"
        );
    }

    async fn recover(&mut self, failure: Failure, backoff: Duration) {
        match &failure {
            // The stream or group was deleted under us: start over at its end.
            Failure::Refused(e) if e.code() == Some("NOGROUP") => self.phase = Phase::CreateGroup,
            Failure::Refused(_) => {}
            Failure::Unreachable(_) => self.conn = None,
        }
        tracing::warn!(stream = self.stream, group = self.group, error = %failure, "redis subscription retrying in {backoff:?}");
        tokio::time::sleep(backoff).await;
    }

    async fn step(&mut self, bus: &Shared) -> Result<(), Failure> {
        self.phase = match &self.phase {
            Phase::CreateGroup => {
                bus.create_group(&self.stream, &self.group).await?;
                Phase::Pending("0".into())
            }
            Phase::Pending(after) => {
                let after = after.clone();
                let entries = self.read(&after, false).await?;
                // An empty page means everything left pending has been handed out again.
                let next = match entries.last() {
                    Some(last) => Phase::Pending(last.id.clone()),
                    None => Phase::New,
                };
                self.deliver(bus, entries).await;
                next
            }
            Phase::New => {
                if Instant::now() >= self.next_claim {
                    let claimed = self.claim().await?;
                    self.deliver(bus, claimed).await;
                }
                let entries = self.read(">", true).await?;
                self.deliver(bus, entries).await;
                Phase::New
            }
        };
        Ok(())
    }

    async fn connection(&mut self) -> Result<MultiplexedConnection, Failure> {
        if let Some(conn) = &self.conn {
            return Ok(conn.clone());
        }
        // The blocking read must not be cut short by the response deadline.
        let config = connection_config(BLOCK + DEADLINE);
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        self.conn = Some(conn.clone());
        Ok(conn)
    }

    async fn query<T: FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Result<T, Failure> {
        let mut conn = self.connection().await?;
        cmd.query_async::<T>(&mut conn).await.map_err(|e| {
            if is_refusal(&e) {
                Failure::Refused(e)
            } else {
                Failure::Unreachable(e.to_string())
            }
        })
    }

    /// Read after `from`: `>` for new messages (waiting for them if `block`), an id for this
    /// consumer's pending ones.
    async fn read(&mut self, from: &str, block: bool) -> Result<Vec<Entry>, Failure> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP").arg(&self.group).arg(&self.consumer);
        cmd.arg("COUNT").arg(BATCH);
        if block {
            cmd.arg("BLOCK").arg(millis(BLOCK));
        }
        cmd.arg("STREAMS").arg(&self.stream).arg(from);
        let reply: ReadReply = self.query(&cmd).await?;
        Ok(reply
            .unwrap_or_default()
            .into_iter()
            .flat_map(|(_, entries)| entries)
            .map(entry)
            .collect())
    }

    /// Take over one page of messages that other consumers left pending for too long.
    async fn claim(&mut self) -> Result<Vec<Entry>, Failure> {
        let cmd = redis::cmd("XAUTOCLAIM")
            .arg(&self.stream)
            .arg(&self.group)
            .arg(&self.consumer)
            .arg(millis(CLAIM_IDLE))
            .arg(&self.claim_from)
            .arg("COUNT")
            .arg(BATCH)
            .to_owned();
        // Set before trying, so that a claim that keeps failing (a Redis older than 6.2 has no
        // XAUTOCLAIM) costs one retry per interval and never stops the reading.
        self.next_claim = Instant::now() + CLAIM_EVERY;
        // Redis 7 adds a third element (the ids it found deleted), 6.2 does not.
        let mut reply: Vec<Value> = self.query(&cmd).await?;
        reply.truncate(2);
        let parsed = redis::from_redis_value::<(String, Vec<RawEntry>)>(Value::Array(reply));
        let (next, entries) = parsed
            .map_err(|e| Failure::Unreachable(format!("unexpected XAUTOCLAIM reply: {e}")))?;
        // More to take over: the next page comes at once rather than an interval later.
        if next != "0-0" {
            self.next_claim = Instant::now();
        }
        self.claim_from = next;
        Ok(entries.into_iter().map(entry).collect())
    }

    /// Hand matching messages to the subscriber, with an ack each; acknowledge the rest at once,
    /// since no one in this group will ever want them.
    async fn deliver(&self, bus: &Shared, entries: Vec<Entry>) {
        let mut skipped = Vec::new();
        for Entry { id, message } in entries {
            let Some((subject, payload)) = message else {
                tracing::warn!(
                    stream = self.stream,
                    id,
                    "pending message is gone from the stream (trimmed) or is not an event; dropped"
                );
                skipped.push(id);
                continue;
            };
            if !subject_matches(&self.filter, &subject) {
                skipped.push(id);
                continue;
            }
            let delivery = Delivery::new(subject, payload, Some(self.acker(id)));
            if self.out.send(delivery).await.is_err() {
                // The subscription is gone; what it did not take stays pending for next time.
                return;
            }
        }
        bus.ack(&self.stream, &self.group, &skipped).await;
    }

    fn acker(&self, id: String) -> Box<dyn FnOnce() -> crate::sql::Later + Send> {
        let (bus, stream, group) = (self.bus.clone(), self.stream.clone(), self.group.clone());
        Box::new(move || {
            Box::pin(async move {
                if let Some(bus) = bus.upgrade() {
                    bus.ack(&stream, &group, &[id]).await;
                }
            })
        })
    }
}
