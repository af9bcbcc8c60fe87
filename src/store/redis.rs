//! Redis (standalone or Cluster) as the session store. The key layout, what each operation
//! costs and why it is shaped this way are in docs/deployment.md; in short:
//!
//! - `P{u:ID}:s:HASH`: one hash per session, keyed by its token hash, expiring with it;
//! - `P{u:ID}:idx`: the user's sessions by last activity (the limit and the self-service list);
//! - `P{u:ID}:stamp`: a random value replaced whenever a session of the user is deleted or
//!   changes address (`SessionStore::user_stamp`); it lives as long as the user's longest
//!   session, so it cannot vanish and come back while a session it vouches for is alive;
//! - `P:t:HASH` → `ID` and `P:i:PUBLIC_ID` → `ID:HASH`: how a token or a public id finds its user;
//! - `P{a:N}:active` / `P{a:N}:expiry`: the admin listing, sharded by user over `SHARDS` slots.
//!
//! Everything of one user shares the hash tag `{u:ID}`, so the limit, eviction and revocation
//! are one Lua script on one Cluster slot. The pointer and admin keys live elsewhere and are
//! written around that script; the user's session hash stays the only authority, so a pointer
//! or listing entry that outlives its session (after a failure in between) finds nothing and
//! is cleaned up lazily.

use super::{
    CreateOutcome, Page, SessionFilter, SessionLimit, SessionStore, StoreError, StoreResult,
    bounded, take_param,
};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::token::{TokenHash, random_bytes};
use crate::domain::user_agent::DeviceType;
use async_trait::async_trait;
use futures_util::future::try_join_all;
use futures_util::{StreamExt, TryStreamExt, stream};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::{Cmd, RedisError, Script, Value, cmd, pipe};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// How long opening a connection and waiting for one answer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Admin-listing shards; each is one slot, so Cluster spreads the listing over its masters.
const SHARDS: i64 = 16;
/// Concurrent reads when a listing fetches many sessions from many slots.
const FETCH_CONCURRENCY: usize = 16;
/// Expired listing entries removed per script call, so one call never blocks Redis for long.
const PURGE_BATCH: usize = 1000;

/// Opens `redis://HOST:PORT/DB` or `redis+cluster://HOST:PORT,HOST:PORT`, either with an
/// optional `?prefix=NAME` that namespaces every key (default `sessiond`).
pub async fn open(url: &str) -> Result<Arc<dyn SessionStore>, String> {
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
        Ok(Arc::new(RedisSessionStore { conn, keys }))
    } else {
        let client = redis::Client::open(url.as_str()).map_err(error)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(error)?;
        Ok(Arc::new(RedisSessionStore { conn, keys }))
    }
}

/// Every key name, in one place.
struct Keys {
    prefix: String,
}

impl Keys {
    /// The start of every session hash of a user; scripts append the token hash.
    fn session_prefix(&self, user_id: i64) -> String {
        format!("{}{{u:{user_id}}}:s:", self.prefix)
    }

    fn session(&self, user_id: i64, hash: &str) -> String {
        format!("{}{hash}", self.session_prefix(user_id))
    }

    fn user_index(&self, user_id: i64) -> String {
        format!("{}{{u:{user_id}}}:idx", self.prefix)
    }

    fn user_stamp(&self, user_id: i64) -> String {
        format!("{}{{u:{user_id}}}:stamp", self.prefix)
    }

    fn token(&self, hash: &str) -> String {
        format!("{}t:{hash}", self.prefix)
    }

    fn public_id(&self, id: &str) -> String {
        format!("{}i:{id}", self.prefix)
    }

    /// The admin-listing shard's (by last activity, by expiry) sorted sets.
    fn shard(&self, shard: i64) -> (String, String) {
        let tag = format!("{}{{a:{shard}}}", self.prefix);
        (format!("{tag}:active"), format!("{tag}:expiry"))
    }

    fn shard_of(user_id: i64) -> i64 {
        user_id.rem_euclid(SHARDS)
    }
}

/// An admin-listing entry: enough to find the session hash.
fn listing_member(user_id: i64, hash: &str) -> String {
    format!("{user_id}:{hash}")
}

fn parse_member(member: &str) -> Option<(i64, &str)> {
    let (user, hash) = member.split_once(':')?;
    Some((user.parse().ok()?, hash))
}

/// The session hash's fields, written and read only here.
fn session_fields(s: &Session) -> Vec<(&'static str, String)> {
    vec![
        ("id", s.id.clone()),
        ("token_hash", s.token_hash.to_hex()),
        ("user_id", s.user_id.to_string()),
        ("username", s.username.clone()),
        ("ip_address", s.ip_address.clone()),
        ("user_agent", s.user_agent.clone()),
        ("browser", s.browser.clone()),
        ("os", s.os.clone()),
        ("device_type", s.device_type.as_str().into()),
        ("created_at", s.created_at.0.to_string()),
        ("last_active_at", s.last_active_at.0.to_string()),
        ("expires_at", s.expires_at.0.to_string()),
        ("absolute_expires_at", s.absolute_expires_at.0.to_string()),
        ("remember_me", u8::from(s.remember_me).to_string()),
    ]
}

fn session_from_fields(mut f: HashMap<String, String>) -> StoreResult<Session> {
    let mut take = |name: &str| {
        f.remove(name)
            .ok_or_else(|| StoreError::Unavailable(format!("Redis session without {name}")))
    };
    let int = |text: String| {
        text.parse::<i64>()
            .map_err(|_| StoreError::Unavailable(format!("Redis: bad number {text:?}")))
    };
    Ok(Session {
        id: take("id")?,
        token_hash: TokenHash::from_hex(&take("token_hash")?)
            .ok_or_else(|| StoreError::Unavailable("Redis: bad token hash".into()))?,
        user_id: int(take("user_id")?)?,
        username: take("username")?,
        ip_address: take("ip_address")?,
        user_agent: take("user_agent")?,
        browser: take("browser")?,
        os: take("os")?,
        device_type: DeviceType::parse(&take("device_type")?),
        created_at: Timestamp(int(take("created_at")?)?),
        last_active_at: Timestamp(int(take("last_active_at")?)?),
        expires_at: Timestamp(int(take("expires_at")?)?),
        absolute_expires_at: Timestamp(int(take("absolute_expires_at")?)?),
        remember_me: take("remember_me")? == "1",
    })
}

/// Sessions from script replies that are `HGETALL` arrays; empty ones (gone) are skipped.
fn sessions_from(values: Vec<Value>) -> StoreResult<Vec<Session>> {
    values
        .into_iter()
        .map(redis::from_redis_value::<HashMap<String, String>>)
        .filter(|fields| !matches!(fields, Ok(f) if f.is_empty()))
        .map(|fields| session_from_fields(fields.map_err(|e| unavailable(e.into()))?))
        .collect()
}

/// The count or status a script reply starts with.
fn first_number(reply: &mut impl Iterator<Item = Value>) -> StoreResult<u64> {
    let first = reply.next().unwrap_or(Value::Int(0));
    redis::from_redis_value(first).map_err(|e| unavailable(e.into()))
}

fn unavailable(error: RedisError) -> StoreError {
    StoreError::Unavailable(format!("Redis: {error}"))
}

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        unavailable(error)
    }
}

/// Shared by the scripts: the user's index members whose session is still live at `now`,
/// least recently active first; entries of gone or expired sessions are dropped on the way.
const LIVE_MEMBERS: &str = r#"
local function live_members(index, prefix, now)
  local live = {}
  for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local expires = tonumber(redis.call('HGET', prefix .. member, 'expires_at'))
    if expires and expires > now then
      live[#live + 1] = member
    else
      redis.call('ZREM', index, member)
    end
  end
  return live
end
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{LIVE_MEMBERS}{body}"))
}

/// KEYS: index, new session, stamp. ARGV: now, max, evict (1/0), session prefix, member,
/// last active, expires at, absolute expiry, fresh stamp, then the session's field/value
/// pairs. Returns {0} when refused, else {1, {address of each kept session…}, evicted
/// session…}.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local index, session = KEYS[1], KEYS[2]
local now, max, evict, prefix = tonumber(ARGV[1]), math.max(tonumber(ARGV[2]), 1), ARGV[3] == '1', ARGV[4]
local live = live_members(index, prefix, now)
local addresses = {}
local reply = {1, addresses}
local excess = 0
if #live >= max then
  if not evict then return {0} end
  excess = #live + 1 - max
  for i = 1, excess do
    reply[#reply + 1] = redis.call('HGETALL', prefix .. live[i])
    redis.call('DEL', prefix .. live[i])
    redis.call('ZREM', index, live[i])
  end
  redis.call('SET', KEYS[3], ARGV[9], 'XX', 'KEEPTTL')
end
for i = excess + 1, #live do
  addresses[#addresses + 1] = redis.call('HGET', prefix .. live[i], 'ip_address') or ''
end
redis.call('HSET', session, unpack(ARGV, 10))
redis.call('PEXPIREAT', session, ARGV[7])
redis.call('ZADD', index, ARGV[6], ARGV[5])
redis.call('PEXPIREAT', index, ARGV[8], 'NX')
redis.call('PEXPIREAT', index, ARGV[8], 'GT')
redis.call('SET', KEYS[3], ARGV[9], 'NX')
redis.call('PEXPIREAT', KEYS[3], ARGV[8], 'NX')
redis.call('PEXPIREAT', KEYS[3], ARGV[8], 'GT')
return reply
"#,
    )
});

/// KEYS: index, session. ARGV: member, last active, expires at. Returns 1 if it exists.
static TOUCH: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'last_active_at', ARGV[2], 'expires_at', ARGV[3])
redis.call('PEXPIREAT', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"#,
    )
});

/// KEYS: session, stamp. ARGV: address, fresh stamp. Sets the address of a session that
/// still exists.
static SET_IP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'ip_address', ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'XX', 'KEEPTTL')
return 1
"#,
    )
});

/// KEYS: index. ARGV: now, session prefix. Returns the live sessions.
static LIST: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local reply = {}
for _, member in ipairs(live_members(KEYS[1], ARGV[2], tonumber(ARGV[1]))) do
  reply[#reply + 1] = redis.call('HGETALL', ARGV[2] .. member)
end
return reply
"#,
    )
});

/// KEYS: index, session, stamp. ARGV: member, fresh stamp. Returns {the deleted session}
/// or {}.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local fields = redis.call('HGETALL', KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
if #fields == 0 then return {} end
redis.call('SET', KEYS[3], ARGV[2], 'XX', 'KEEPTTL')
return {fields}
"#,
    )
});

/// KEYS: index, stamp. ARGV: now, session prefix, fresh stamp. Returns {live count, every
/// deleted session…}.
static DELETE_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local now, prefix = tonumber(ARGV[1]), ARGV[2]
redis.call('SET', KEYS[2], ARGV[3], 'XX', 'KEEPTTL')
local reply = {0}
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local expires = tonumber(redis.call('HGET', prefix .. member, 'expires_at'))
  if expires and expires > now then reply[1] = reply[1] + 1 end
  reply[#reply + 1] = redis.call('HGETALL', prefix .. member)
  redis.call('DEL', prefix .. member)
end
redis.call('DEL', KEYS[1])
return reply
"#,
    )
});

/// KEYS: shard active, shard expiry. ARGV: now, batch. Removes up to a batch of entries that
/// expired by `now`; returns how many.
static PURGE_SHARD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #dead > 0 then
  redis.call('ZREM', KEYS[1], unpack(dead))
  redis.call('ZREM', KEYS[2], unpack(dead))
end
return #dead
"#,
    )
});

pub struct RedisSessionStore<C> {
    conn: C,
    keys: Keys,
}

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn query<T: redis::FromRedisValue>(&self, command: &Cmd) -> StoreResult<T> {
        let mut conn = self.conn.clone();
        bounded(async move { Ok(command.query_async(&mut conn).await?) }).await
    }

    /// The user id and token hash a public id points to.
    async fn locate(&self, id: &str) -> StoreResult<Option<(i64, String)>> {
        let pointer: Option<String> = self.query(cmd("GET").arg(self.keys.public_id(id))).await?;
        Ok(pointer
            .as_deref()
            .and_then(parse_member)
            .map(|(user, hash)| (user, hash.to_owned())))
    }

    /// Runs a user-slot script whose reply is an array.
    async fn invoke(&self, invocation: redis::ScriptInvocation<'_>) -> StoreResult<Vec<Value>> {
        let mut conn = self.conn.clone();
        bounded(async move { Ok(invocation.invoke_async(&mut conn).await?) }).await
    }

    /// Writes a session's admin-listing entries (both in the user's shard, so one transaction).
    async fn list_in_shard(&self, s: &Session) -> StoreResult<()> {
        let (active, expiry) = self.keys.shard(Keys::shard_of(s.user_id));
        let member = listing_member(s.user_id, &s.token_hash.to_hex());
        let mut conn = self.conn.clone();
        let mut pipeline = pipe();
        pipeline
            .atomic()
            .zadd(active, &member, s.last_active_at.0)
            .ignore()
            .zadd(expiry, &member, s.expires_at.0)
            .ignore();
        bounded(async move { Ok(pipeline.query_async::<()>(&mut conn).await?) }).await
    }

    /// Removes what points at sessions already deleted from their user's slot. Best effort:
    /// the sessions are gone either way, and leftovers find nothing and expire.
    async fn forget(&self, sessions: &[Session]) {
        for s in sessions {
            let hash = s.token_hash.to_hex();
            let (active, expiry) = self.keys.shard(Keys::shard_of(s.user_id));
            let member = listing_member(s.user_id, &hash);
            let results = [
                self.query::<()>(cmd("DEL").arg(self.keys.token(&hash)))
                    .await,
                self.query::<()>(cmd("DEL").arg(self.keys.public_id(&s.id)))
                    .await,
                self.unlist(&active, &expiry, &member).await,
            ];
            for error in results.into_iter().filter_map(Result::err) {
                tracing::warn!(%error, session = %s.id, "leftover Redis pointer; it expires by itself");
            }
        }
    }

    async fn unlist(&self, active: &str, expiry: &str, member: &str) -> StoreResult<()> {
        let mut conn = self.conn.clone();
        let mut pipeline = pipe();
        pipeline
            .atomic()
            .zrem(active, member)
            .ignore()
            .zrem(expiry, member)
            .ignore();
        bounded(async move { Ok(pipeline.query_async::<()>(&mut conn).await?) }).await
    }

    /// Removes expired admin-listing entries from every shard; how many. Shards go at once,
    /// so a listing waits for one round trip, not sixteen.
    async fn purge_listing(&self, now: Timestamp) -> StoreResult<u64> {
        let purged = try_join_all((0..SHARDS).map(async |shard| {
            let (active, expiry) = self.keys.shard(shard);
            let mut purged = 0;
            loop {
                let mut invocation = PURGE_SHARD.key(&active);
                invocation.key(&expiry).arg(now.0).arg(PURGE_BATCH);
                let mut conn = self.conn.clone();
                let removed: u64 =
                    bounded(async move { Ok(invocation.invoke_async(&mut conn).await?) }).await?;
                purged += removed;
                if removed < PURGE_BATCH as u64 {
                    return Ok::<_, StoreError>(purged);
                }
            }
        }))
        .await?;
        Ok(purged.into_iter().sum())
    }

    /// The sessions behind admin-listing entries, in the entries' order; entries whose session
    /// is gone are dropped from the listing.
    async fn fetch_listed(&self, members: Vec<String>) -> StoreResult<Vec<Session>> {
        let found: Vec<(String, HashMap<String, String>)> = stream::iter(members)
            .map(|member| async move {
                let (user, hash) = parse_member(&member)
                    .ok_or_else(|| StoreError::Unavailable(format!("Redis: bad entry {member}")))?;
                let fields = self
                    .query(cmd("HGETALL").arg(self.keys.session(user, hash)))
                    .await?;
                Ok::<_, StoreError>((member, fields))
            })
            .buffered(FETCH_CONCURRENCY)
            .try_collect()
            .await?;
        let mut sessions = Vec::with_capacity(found.len());
        for (member, fields) in found {
            if fields.is_empty() {
                if let Some((user, _)) = parse_member(&member) {
                    let (active, expiry) = self.keys.shard(Keys::shard_of(user));
                    self.unlist(&active, &expiry, &member).await?;
                }
                continue;
            }
            sessions.push(session_from_fields(fields)?);
        }
        Ok(sessions)
    }

    /// Every shard's entries, most recently active first, at most `first` per shard.
    async fn listing_heads(&self, first: Option<u64>) -> StoreResult<Vec<(String, f64)>> {
        let stop = first.map_or(-1, |n| n as i64 - 1);
        let heads = try_join_all((0..SHARDS).map(async |shard| {
            let (active, _) = self.keys.shard(shard);
            let mut range = cmd("ZRANGE");
            range
                .arg(active)
                .arg(0)
                .arg(stop)
                .arg("REV")
                .arg("WITHSCORES");
            self.query::<Vec<(String, f64)>>(&range).await
        }))
        .await?;
        let mut entries: Vec<(String, f64)> = heads.into_iter().flatten().collect();
        entries.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(entries)
    }
}

/// Newest activity first, then by id: the admin listing's order on every backend.
fn sort_for_listing(sessions: &mut [Session]) {
    sessions.sort_by(|a, b| {
        b.last_active_at
            .cmp(&a.last_active_at)
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn page_of(mut sessions: Vec<Session>, limit: u32, offset: u64) -> Page<Session> {
    sort_for_listing(&mut sessions);
    let total = sessions.len() as u64;
    let items = sessions
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    Page { items, total }
}

#[async_trait]
impl<C> SessionStore for RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn create(
        &self,
        session: &Session,
        limit: SessionLimit,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome> {
        let (user, hash) = (session.user_id, session.token_hash.to_hex());
        let absolute = session.absolute_expires_at.0;
        // The pointers first: one left behind by a failure below points at nothing. Both at
        // once, in one round trip.
        let mut token = cmd("SET");
        token
            .arg(self.keys.token(&hash))
            .arg(user)
            .arg("PXAT")
            .arg(absolute);
        let mut public_id = cmd("SET");
        public_id
            .arg(self.keys.public_id(&session.id))
            .arg(listing_member(user, &hash))
            .arg("PXAT")
            .arg(absolute);
        tokio::try_join!(self.query::<()>(&token), self.query::<()>(&public_id))?;
        let mut invocation = CREATE.key(self.keys.user_index(user));
        invocation
            .key(self.keys.session(user, &hash))
            .key(self.keys.user_stamp(user))
            .arg(now.0)
            .arg(limit.max_per_user)
            .arg(u8::from(limit.evict_oldest))
            .arg(self.keys.session_prefix(user))
            .arg(&hash)
            .arg(session.last_active_at.0)
            .arg(session.expires_at.0)
            .arg(absolute)
            .arg(fresh_stamp());
        for (field, value) in session_fields(session) {
            invocation.arg(field).arg(value);
        }
        let mut reply = self.invoke(invocation).await?.into_iter();
        if first_number(&mut reply)? != 1 {
            self.forget(std::slice::from_ref(session)).await;
            return Ok(CreateOutcome::LimitReached);
        }
        let kept: Vec<String> = reply
            .next()
            .map(redis::from_redis_value)
            .transpose()
            .map_err(|e| unavailable(e.into()))?
            .unwrap_or_default();
        let evicted = sessions_from(reply.collect())?;
        self.forget(&evicted).await;
        // Not listed yet is not fatal: the next recorded activity lists it.
        if let Err(error) = self.list_in_shard(session).await {
            tracing::warn!(%error, "session created but not yet in the admin listing");
        }
        Ok(CreateOutcome::created(evicted, kept, session))
    }

    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>> {
        let hash = hash.to_hex();
        let user: Option<i64> = self.query(cmd("GET").arg(self.keys.token(&hash))).await?;
        let Some(user) = user else { return Ok(None) };
        let fields: HashMap<String, String> = self
            .query(cmd("HGETALL").arg(self.keys.session(user, &hash)))
            .await?;
        if fields.is_empty() {
            return Ok(None);
        }
        session_from_fields(fields).map(Some)
    }

    async fn touch(
        &self,
        id: &str,
        last_active_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let Some((user, hash)) = self.locate(id).await? else {
            return Ok(());
        };
        let mut invocation = TOUCH.key(self.keys.user_index(user));
        invocation
            .key(self.keys.session(user, &hash))
            .arg(&hash)
            .arg(last_active_at.0)
            .arg(expires_at.0);
        let mut conn = self.conn.clone();
        let exists: i64 =
            bounded(async move { Ok(invocation.invoke_async(&mut conn).await?) }).await?;
        if exists == 1 {
            let (active, expiry) = self.keys.shard(Keys::shard_of(user));
            let member = listing_member(user, &hash);
            let mut conn = self.conn.clone();
            let mut pipeline = pipe();
            pipeline
                .atomic()
                .zadd(active, &member, last_active_at.0)
                .ignore()
                .zadd(expiry, &member, expires_at.0)
                .ignore();
            bounded(async move { Ok(pipeline.query_async::<()>(&mut conn).await?) }).await?;
        }
        Ok(())
    }

    async fn set_ip_address(&self, id: &str, ip_address: &str) -> StoreResult<()> {
        let Some((user, hash)) = self.locate(id).await? else {
            return Ok(());
        };
        let mut invocation = SET_IP.key(self.keys.session(user, &hash));
        invocation
            .key(self.keys.user_stamp(user))
            .arg(ip_address)
            .arg(fresh_stamp());
        let mut conn = self.conn.clone();
        bounded(async move { Ok(invocation.invoke_async::<i64>(&mut conn).await?) })
            .await
            .map(drop)
    }

    async fn count_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        // One script per user (each on its own slot), several in flight at once.
        let counts: Vec<(i64, u64)> = stream::iter(user_ids.iter().copied())
            .map(|user| async move {
                let live = self.list_by_user(user, now).await?;
                Ok::<_, StoreError>((user, live.len() as u64))
            })
            .buffer_unordered(FETCH_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
    }

    async fn delete_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        let counts: Vec<(i64, u64)> = stream::iter(user_ids.iter().copied())
            .map(|user| async move {
                Ok::<_, StoreError>((user, self.delete_by_user(user, now).await?))
            })
            .buffer_unordered(FETCH_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(counts.into_iter().filter(|(_, n)| *n > 0).collect())
    }

    async fn list_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        let mut invocation = LIST.key(self.keys.user_index(user_id));
        invocation.arg(now.0).arg(self.keys.session_prefix(user_id));
        let mut sessions = sessions_from(self.invoke(invocation).await?)?;
        sessions.sort_by(|a, b| {
            (b.last_active_at, b.created_at).cmp(&(a.last_active_at, a.created_at))
        });
        Ok(sessions)
    }

    async fn delete(&self, id: &str) -> StoreResult<Option<Session>> {
        let Some((user, hash)) = self.locate(id).await? else {
            return Ok(None);
        };
        let mut invocation = DELETE.key(self.keys.user_index(user));
        invocation
            .key(self.keys.session(user, &hash))
            .key(self.keys.user_stamp(user))
            .arg(&hash)
            .arg(fresh_stamp());
        let deleted = sessions_from(self.invoke(invocation).await?)?;
        self.forget(&deleted).await;
        Ok(deleted.into_iter().next())
    }

    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64> {
        let mut invocation = DELETE_USER.key(self.keys.user_index(user_id));
        invocation
            .key(self.keys.user_stamp(user_id))
            .arg(now.0)
            .arg(self.keys.session_prefix(user_id))
            .arg(fresh_stamp());
        let mut reply = self.invoke(invocation).await?.into_iter();
        let live = first_number(&mut reply)?;
        let deleted = sessions_from(reply.collect())?;
        self.forget(&deleted).await;
        Ok(live)
    }

    async fn scan(
        &self,
        filter: &SessionFilter,
        now: Timestamp,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Session>> {
        let matches_ip = |s: &Session| {
            filter
                .ip_address
                .as_ref()
                .is_none_or(|ip| &s.ip_address == ip)
        };
        if let Some(user) = filter.user_id {
            let mut sessions = self.list_by_user(user, now).await?;
            sessions.retain(matches_ip);
            return Ok(page_of(sessions, limit, offset));
        }
        self.purge_listing(now).await?;
        if filter.ip_address.is_some() {
            // No index by address: walk the whole listing (see docs/deployment.md).
            let members = self.listing_heads(None).await?;
            let mut sessions = self
                .fetch_listed(members.into_iter().map(|(m, _)| m).collect())
                .await?;
            sessions.retain(|s| matches_ip(s) && !s.is_expired(now));
            return Ok(page_of(sessions, limit, offset));
        }
        let total: u64 = try_join_all((0..SHARDS).map(async |shard| {
            self.query::<u64>(cmd("ZCARD").arg(self.keys.shard(shard).0))
                .await
        }))
        .await?
        .into_iter()
        .sum();
        let heads = self.listing_heads(Some(offset + u64::from(limit))).await?;
        let members = heads
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(|(member, _)| member)
            .collect();
        let mut items = self.fetch_listed(members).await?;
        items.retain(|s| !s.is_expired(now));
        Ok(Page { items, total })
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        // Redis drops expired session hashes and pointers itself; what is left is the listing.
        self.purge_listing(now).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.query::<()>(&cmd("PING")).await
    }

    fn keeps_stamps(&self) -> bool {
        true
    }

    async fn user_stamp(&self, user_id: i64) -> StoreResult<Option<u64>> {
        self.query(cmd("GET").arg(self.keys.user_stamp(user_id)))
            .await
    }

    async fn invalidate_user(&self, user_id: i64) -> StoreResult<()> {
        // Only an existing stamp: without one nothing of the user's is remembered anywhere.
        self.query(
            cmd("SET")
                .arg(self.keys.user_stamp(user_id))
                .arg(fresh_stamp())
                .arg("XX")
                .arg("KEEPTTL"),
        )
        .await
    }
}

/// A new stamp value: random, so no two writers can agree on one a reader has seen.
fn fresh_stamp() -> u64 {
    u64::from_ne_bytes(random_bytes())
}
