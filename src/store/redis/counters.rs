//! [`FailureCounters`] in Redis: one integer key per tally under the store's prefix, counted
//! and given its expiry in one script, so every node sees the same counts.

use super::keys::Keys;
use super::query_on;
use crate::store::{FailureCounters, StoreResult, Tally, bounded};
use async_trait::async_trait;
use redis::aio::ConnectionLike;
use redis::{Script, cmd};
use std::sync::LazyLock;
use std::time::Duration;

static ADD_FAILURE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("scripts/add_failure.lua")));
static TALLY: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("scripts/tally.lua")));

pub(super) struct RedisCounters<C> {
    conn: C,
    keys: Keys,
}

impl<C> RedisCounters<C> {
    pub(super) fn new(conn: C, keys: Keys) -> Self {
        RedisCounters { conn, keys }
    }
}

/// A script's `{count, milliseconds to live}`.
fn tally((count, ttl): (u32, u64)) -> Tally {
    Tally {
        count,
        expires_in: Duration::from_millis(ttl),
    }
}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> RedisCounters<C> {
    async fn run(&self, invocation: redis::ScriptInvocation<'_>) -> StoreResult<(u32, u64)> {
        let mut conn = self.conn.clone();
        bounded(async move { Ok(invocation.invoke_async(&mut conn).await?) }).await
    }
}

#[async_trait]
impl<C: ConnectionLike + Clone + Send + Sync + 'static> FailureCounters for RedisCounters<C> {
    async fn tally(&self, key: &str) -> StoreResult<Option<Tally>> {
        let mut invocation = TALLY.prepare_invoke();
        invocation.key(self.keys.failures(key));
        let found = self.run(invocation).await?;
        Ok((found.0 > 0).then(|| tally(found)))
    }

    async fn add_failure(&self, key: &str, ttl: Duration, extend: bool) -> StoreResult<Tally> {
        let mut invocation = ADD_FAILURE.prepare_invoke();
        invocation
            .key(self.keys.failures(key))
            .arg(ttl.as_millis().max(1) as u64)
            .arg(u8::from(extend));
        Ok(tally(self.run(invocation).await?))
    }

    async fn forget(&self, key: &str) -> StoreResult<()> {
        query_on(&self.conn, cmd("DEL").arg(self.keys.failures(key))).await
    }
}
