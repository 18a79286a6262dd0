//! Redis as the cache every instance shares. Each command has a short deadline, and after a
//! failure the connection is rebuilt by a later call, at most once a second, so an outage costs
//! requests a fast miss rather than a wait.

use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;

use super::{Cache, CacheError};

const DEADLINE: Duration = Duration::from_millis(250);
const RETRY_AFTER: Duration = Duration::from_secs(1);

enum State {
    Idle,
    Up(MultiplexedConnection),
    Down(Instant),
}

pub struct RedisCache {
    client: Result<redis::Client, String>,
    state: Mutex<State>,
}

impl RedisCache {
    /// A cache at `url` (`redis://host:port/db`). Nothing connects until the first command, so a
    /// service starts while Redis is down.
    pub fn new(url: &str) -> Self {
        Self {
            client: redis::Client::open(url).map_err(|e| format!("bad REDIS_URL: {e}")),
            state: Mutex::new(State::Idle),
        }
    }

    async fn connection(&self) -> Result<MultiplexedConnection, CacheError> {
        let mut state = self.state.lock().await;
        match &*state {
            State::Up(conn) => return Ok(conn.clone()),
            State::Down(at) if at.elapsed() < RETRY_AFTER => {
                return Err(CacheError("Redis is down; retrying shortly".into()));
            }
            _ => {}
        }
        let client = self.client.as_ref().map_err(|e| CacheError(e.clone()))?;
        let attempt = tokio::time::timeout(DEADLINE, client.get_multiplexed_async_connection());
        match attempt.await {
            Ok(Ok(conn)) => {
                *state = State::Up(conn.clone());
                Ok(conn)
            }
            Ok(Err(e)) => {
                *state = State::Down(Instant::now());
                Err(CacheError(e.to_string()))
            }
            Err(_) => {
                *state = State::Down(Instant::now());
                Err(CacheError("connecting to Redis timed out".into()))
            }
        }
    }

    /// How long `key` has left, in milliseconds (-2: no such key, -1: no expiry).
    pub async fn ttl_millis(&self, key: &str) -> Result<i64, CacheError> {
        self.run(redis::cmd("PTTL").arg(key).to_owned()).await
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, CacheError> {
        let mut conn = self.connection().await?;
        let outcome = match tokio::time::timeout(DEADLINE, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => return Ok(v),
            Ok(Err(e)) => CacheError(e.to_string()),
            Err(_) => CacheError("Redis did not answer in time".into()),
        };
        *self.state.lock().await = State::Down(Instant::now());
        Err(outcome)
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.run(redis::cmd("GET").arg(key).to_owned()).await
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.run(
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(millis)
                .to_owned(),
        )
        .await
    }

    async fn delete(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        self.run::<i64>(redis::cmd("DEL").arg(keys).to_owned())
            .await
            .map(|_| ())
    }

    fn backend(&self) -> &'static str {
        "redis"
    }
}
