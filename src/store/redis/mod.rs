//! Redis (standalone or Cluster) as the session store. The key layout, what each operation
//! costs and why it is shaped this way are in docs/deployment.md; in short:
//!
//! - `P{u:ID}:s:HASH`: one hash per session, keyed by its token hash, expiring with it;
//! - `P{u:ID}:idx`: the user's sessions by last activity (the limit and the self-service list);
//! - `P{u:ID}:stamp`: a random value replaced whenever a session of the user is deleted or
//!   changes address (`SessionStore::user_stamp`); it lives as long as the user's longest
//!   session, so it cannot vanish and come back while a session it vouches for is alive;
//! - `P:t:HASH` → `ID` and `P:i:PUBLIC_ID` → `ID:HASH`: how a token or a public id finds its user;
//! - `P{a:N}:active` / `P{a:N}:expiry`: the admin listing, sharded by user over `SHARDS` slots;
//! - `P{a:N}:ip`: the shard's sessions by address, for the listing's address filter;
//! - `P:layout`: the version of this layout, checked when the store is opened (`layout`);
//! - `P:f:KEY`: a count of failed sign-ins (`counters`), expiring with its window;
//! - `P:e:HASH`: why the session with this token hash ended (`ended`), expiring when it would have.
//!
//! Everything of one user shares the hash tag `{u:ID}`, so the limit, eviction and revocation
//! are one Lua script on one Cluster slot. The pointer and admin keys live elsewhere and are
//! written around that script; the user's session hash stays the only authority, so a pointer
//! or listing entry that outlives its session (after a failure in between) finds nothing and
//! is cleaned up lazily.

mod addresses;
mod counters;
mod ended;
mod fields;
mod forget;
mod keys;
mod layout;
mod listing;
mod pending;
mod purge;
mod revocation_jobs;
mod scripts;
mod search;
mod sessions;
mod stamps;

use super::{FailureCounters, SessionStore, StoreError, StoreResult, bounded, take_param};
use futures_util::future::try_join_all;
use keys::Keys;
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::{Cmd, FromRedisValue, Pipeline, RedisError, pipe};
use stamps::Stamps;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long opening a connection and waiting for one answer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Admin-listing shards; each is one slot, so Cluster spreads the listing over its masters.
const SHARDS: i64 = 16;

/// Keys or listing members removed (or indexed by address) per command.
const REMOVE_CHUNK: usize = 1000;

/// Opens `redis://HOST:PORT/DB` or `redis+cluster://HOST:PORT,HOST:PORT`, either with an
/// optional `?prefix=NAME` that namespaces every key (default `sessiond`).
pub async fn open(url: &str) -> Result<Arc<dyn SessionStore>, String> {
    Ok(open_with_counters(url).await?.0)
}

/// [`open`], and failure counters on the same connection and under the same prefix, which
/// every node sharing the store then shares.
pub async fn open_with_counters(
    url: &str,
) -> Result<(Arc<dyn SessionStore>, Arc<dyn FailureCounters>), String> {
    let (url, prefix) = take_param(
        url,
        "prefix",
        |b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b),
        "letters, digits, '_', '-', '.' or ':'",
    )?;
    let keys = Keys {
        prefix: format!("{}:", prefix.as_deref().unwrap_or("sessiond")),
    };
    let error = |e: RedisError| format!("cannot connect to Redis at {url}: {e}");
    if let Some(nodes) = url.strip_prefix("redis+cluster://") {
        let (auth, nodes) = nodes.rsplit_once('@').map_or(("", nodes), |(a, n)| (a, n));
        let nodes: Vec<String> = nodes
            .trim_end_matches('/')
            .split(',')
            .map(|node| {
                let at = if auth.is_empty() { "" } else { "@" };
                format!("redis://{auth}{at}{node}")
            })
            .collect();
        let client = ClusterClient::builder(nodes)
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT)
            .retries(1)
            .build()
            .map_err(error)?;
        let conn = client.get_async_connection().await.map_err(error)?;
        let counters = Arc::new(counters::RedisCounters::new(conn.clone(), keys.clone()));
        Ok((
            RedisSessionStore::new(conn, keys, None).opened().await?,
            counters,
        ))
    } else {
        let client = redis::Client::open(url.as_str()).map_err(error)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(error)?;
        let counters = Arc::new(counters::RedisCounters::new(conn.clone(), keys.clone()));
        Ok((
            RedisSessionStore::new(conn, keys, Some(client))
                .opened()
                .await?,
            counters,
        ))
    }
}

pub struct RedisSessionStore<C> {
    conn: C,
    keys: Keys,
    /// Shared with the announcements that outlive a failed write (see [`Self::announced`]).
    stamps: Arc<Stamps<C>>,
    /// Whether this process has seen [`Keys::address_index_built`].
    address_index_seen: AtomicBool,
    /// Where [`Self::sweep_addresses`] goes on: a shard and its `ZSCAN` cursor.
    sweep_position: Mutex<(i64, String)>,
}

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    fn new(conn: C, keys: Keys, subscribe_at: Option<redis::Client>) -> Self {
        RedisSessionStore {
            stamps: Arc::new(Stamps::new(conn.clone(), keys.clone(), subscribe_at)),
            conn,
            keys,
            address_index_seen: AtomicBool::new(false),
            sweep_position: Mutex::new((0, "0".to_owned())),
        }
    }
}

/// Sends one command on (a clone of) `conn`, within the store's time bound.
async fn query_on<C: ConnectionLike + Clone, T: FromRedisValue>(
    conn: &C,
    command: &Cmd,
) -> StoreResult<T> {
    let mut conn = conn.clone();
    bounded(async move { Ok(command.query_async(&mut conn).await?) }).await
}

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn query<T: redis::FromRedisValue>(&self, command: &Cmd) -> StoreResult<T> {
        query_on(&self.conn, command).await
    }

    /// `written`, after [`Stamps::announce`] of `users` when `replaced` says it replaced
    /// their stamps. A failed write is announced too (its answer may be what was lost), but
    /// without waiting: its failure is reported at once, within the store's time bound.
    async fn announced<T>(
        &self,
        users: &[i64],
        written: StoreResult<T>,
        replaced: impl FnOnce(&T) -> bool,
    ) -> StoreResult<T> {
        match written {
            Ok(value) if replaced(&value) => self.stamps.announce(users).await.map(|()| value),
            Ok(value) => Ok(value),
            Err(error) => {
                let (stamps, users) = (self.stamps.clone(), users.to_vec());
                tokio::spawn(async move {
                    if let Err(error) = stamps.announce(&users).await {
                        tracing::warn!(%error, "cannot announce the users of a failed write");
                    }
                });
                Err(error)
            }
        }
    }

    /// Runs a script.
    async fn run<T: FromRedisValue>(
        &self,
        invocation: redis::ScriptInvocation<'_>,
    ) -> StoreResult<T> {
        let mut conn = self.conn.clone();
        bounded(async move { Ok(invocation.invoke_async(&mut conn).await?) }).await
    }

    /// Sends a pipeline (its commands on one slot, for Cluster).
    async fn send<T: FromRedisValue>(&self, pipeline: Pipeline) -> StoreResult<T> {
        let mut conn = self.conn.clone();
        bounded(async move { Ok(pipeline.query_async(&mut conn).await?) }).await
    }

    /// One pipeline per admin-listing shard, `build` given its by-activity and by-expiry keys;
    /// all shards at once. A shard is one slot, so this works on Cluster too.
    async fn each_shard<T: FromRedisValue>(
        &self,
        build: impl Fn(&str, &str, &mut Pipeline),
    ) -> StoreResult<Vec<T>> {
        try_join_all((0..SHARDS).map(|shard| {
            let mut pipeline = pipe();
            let (active, expiry) = self.keys.shard(shard);
            build(&active, &expiry, &mut pipeline);
            self.send(pipeline)
        }))
        .await
    }

    /// The store, once its key layout is known to be this code's ([`Self::check_layout`])
    /// and [`Self::mark_address_index_if_empty`] has run. The marker's failure (say, an ACL
    /// that hides it) only leaves the walk to the first filtered listing.
    async fn opened(self) -> Result<Arc<dyn SessionStore>, String> {
        self.check_layout().await?;
        if let Err(error) = self.mark_address_index_if_empty().await {
            tracing::warn!(%error, "cannot mark an empty session store as indexed by address");
        }
        Ok(Arc::new(self))
    }
}

fn unavailable(error: RedisError) -> StoreError {
    StoreError::Unavailable(format!("Redis: {error}"))
}

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        unavailable(error)
    }
}
