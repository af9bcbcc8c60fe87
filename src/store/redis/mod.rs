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
//! - `P{a:N}:ip`: the shard's sessions by address, for the listing's address filter.
//!
//! Everything of one user shares the hash tag `{u:ID}`, so the limit, eviction and revocation
//! are one Lua script on one Cluster slot. The pointer and admin keys live elsewhere and are
//! written around that script; the user's session hash stays the only authority, so a pointer
//! or listing entry that outlives its session (after a failure in between) finds nothing and
//! is cleaned up lazily.

use super::{
    CreateOutcome, Page, SessionFilter, SessionLimit, SessionStore, StoreError, StoreResult,
    UserActivity, bounded, fresh_stamp, sort_for_user, take_param,
};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user_agent::DeviceType;
use async_trait::async_trait;
use futures_util::future::try_join_all;
use futures_util::{StreamExt, TryStreamExt, stream};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::{Cmd, FromRedisValue, Pipeline, RedisError, Script, Value, cmd, pipe};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

mod stamps;
use stamps::Stamps;

/// How long opening a connection and waiting for one answer may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Admin-listing shards; each is one slot, so Cluster spreads the listing over its masters.
const SHARDS: i64 = 16;
/// Concurrent reads when a listing fetches a page of sessions from many slots.
const FETCH_CONCURRENCY: usize = 64;
/// User-slot scripts in flight at once in a bulk count or delete: enough to keep Redis busy
/// (a multiplexed connection sends them as one stream), few enough to bound what is pending.
const BULK_CONCURRENCY: usize = 256;
/// Keys or listing members removed per command after a bulk delete, and such commands in
/// flight at once (on Cluster the client splits an `UNLINK` into one command per slot).
const REMOVE_CHUNK: usize = 1000;
const REMOVE_CONCURRENCY: usize = 16;
/// An admin-listing page ending at most this deep is merged from the heads of the shards.
const SHALLOW: u64 = 256;
/// Sampled scores counted in a deep search's first round, at each end of the page: the
/// lowest, the middle and the highest. A finer spread narrows that round's brackets, but the
/// next round is needed either way, and its counting costs more than it saves.
const SAMPLE_SPREAD: usize = 3;
/// A deeper page is read once the entries between its two search bounds are at most a page
/// and this many more.
const SEARCH_SLACK: u64 = 64;
/// Entries one step of [`RedisSessionStore::sweep_addresses`] looks at, and how long one
/// call of it may go on.
const SWEEP_STEP: usize = 256;
const SWEEP_BUDGET: Duration = Duration::from_millis(100);
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
        Ok(RedisSessionStore::new(conn, keys, None).opened().await)
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
        Ok(RedisSessionStore::new(conn, keys, Some(client))
            .opened()
            .await)
    }
}

/// Every key name, in one place.
#[derive(Clone)]
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

    /// Where writers announce replaced stamps and nodes ping themselves (see `stamps`).
    fn stamp_channel(&self) -> String {
        format!("{}stamps", self.prefix)
    }

    fn node_leases(&self) -> String {
        format!("{}{{n}}:leases", self.prefix)
    }

    /// The nodes that acknowledged one announcement (the leases' slot, for one script).
    fn node_acks(&self, announcement: &str) -> String {
        format!("{}{{n}}:ack:{announcement}", self.prefix)
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

    /// The admin-listing shard's sessions by address: [`address_entry`]s, all scored 0 so
    /// that one address's entries are one lexicographic range. One set per shard, not one
    /// per address: a key per address would cost about 1 KiB a session where most
    /// addresses have one session.
    fn shard_addresses(&self, shard: i64) -> String {
        format!("{}{{a:{shard}}}:ip", self.prefix)
    }

    /// Present once every listed session has been put in its address set: a store written by
    /// a version without them gets them at its first filtered listing.
    fn address_index_built(&self) -> String {
        format!("{}ip-index", self.prefix)
    }
}

/// An entry of a shard's address set: `ADDRESS|ABSOLUTE_EXPIRY|USER:HASH`. The expiry lets
/// [`SWEEP_ADDRESSES`] drop entries of sessions that must have ended without reading them.
fn address_entry(address: &str, absolute_expires_at: Timestamp, member: &str) -> String {
    format!("{address}|{}|{member}", absolute_expires_at.0)
}

/// An address entry's address, absolute expiry and listing member, split from the right (an
/// address never holds `|`, but if one did, its entries would still parse).
fn parse_address_entry(entry: &str) -> Option<(&str, i64, &str)> {
    let mut parts = entry.rsplitn(3, '|');
    let member = parts.next()?;
    let expiry = parts.next()?.parse().ok()?;
    Some((parts.next()?, expiry, member))
}

/// The lexicographic range (`ZRANGE … BYLEX`) that holds `address`'s entries: `}` follows
/// `|`. (It holds only them too, as no character of an IP address sorts after `|`.)
fn address_range(address: &str) -> (String, String) {
    (format!("[{address}|"), format!("({address}}}"))
}

/// Adds a session's entry to its shard's address set.
fn index_address(pipeline: &mut Pipeline, key: &str, session: &Session) {
    let member = listing_member(session.user_id, &session.token_hash.to_hex());
    let entry = address_entry(&session.ip_address, session.absolute_expires_at, &member);
    pipeline.zadd(key, entry, 0).ignore();
}

/// How much of what points at deleted sessions [`RedisSessionStore::forget`] removes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Forget {
    /// Token and public-id pointers, and both listing entries.
    All,
    /// Only what an administrator sees: the by-activity listing entry, so totals and pages
    /// are exact at once. The pointers point at nothing and expire with the sessions'
    /// absolute lifetime; the by-expiry entries are purged when they fall due, like any other.
    Visible,
}

/// An admin-listing entry and its scores (last activity, expiry).
type Listed = (String, (i64, i64));

/// An admin-listing entry: enough to find the session hash.
fn listing_member(user_id: i64, hash: &str) -> String {
    format!("{user_id}:{hash}")
}

fn parse_member(member: &str) -> Option<(i64, &str)> {
    let (user, hash) = member.split_once(':')?;
    Some((user.parse().ok()?, hash))
}

/// The session hash's fields, written and read only here, in the order every read asks for
/// them (`HMGET`): a session is read as 14 values, without its field names.
const SESSION_FIELDS: [&str; 14] = [
    "id",
    "token_hash",
    "user_id",
    "username",
    "ip_address",
    "user_agent",
    "browser",
    "os",
    "device_type",
    "created_at",
    "last_active_at",
    "expires_at",
    "absolute_expires_at",
    "remember_me",
];

fn session_fields(s: &Session) -> impl Iterator<Item = (&'static str, String)> {
    let values = [
        s.id.clone(),
        s.token_hash.to_hex(),
        s.user_id.to_string(),
        s.username.clone(),
        s.ip_address.clone(),
        s.user_agent.clone(),
        s.browser.clone(),
        s.os.clone(),
        s.device_type.as_str().into(),
        s.created_at.0.to_string(),
        s.last_active_at.0.to_string(),
        s.expires_at.0.to_string(),
        s.absolute_expires_at.0.to_string(),
        u8::from(s.remember_me).to_string(),
    ];
    SESSION_FIELDS.into_iter().zip(values)
}

/// A session from its values in [`SESSION_FIELDS`] order.
fn session_from_values(values: Vec<String>) -> StoreResult<Session> {
    let [
        id,
        token_hash,
        user_id,
        username,
        ip_address,
        user_agent,
        browser,
        os,
        device_type,
        created_at,
        last_active_at,
        expires_at,
        absolute_expires_at,
        remember_me,
    ] = <[String; 14]>::try_from(values)
        .map_err(|v| StoreError::Unavailable(format!("Redis: a session of {} fields", v.len())))?;
    let int = |text: String| {
        text.parse::<i64>()
            .map_err(|_| StoreError::Unavailable(format!("Redis: bad number {text:?}")))
    };
    Ok(Session {
        id,
        token_hash: TokenHash::from_hex(&token_hash)
            .ok_or_else(|| StoreError::Unavailable("Redis: bad token hash".into()))?,
        user_id: int(user_id)?,
        username,
        ip_address,
        user_agent,
        browser,
        os,
        device_type: DeviceType::parse(&device_type),
        created_at: Timestamp(int(created_at)?),
        last_active_at: Timestamp(int(last_active_at)?),
        expires_at: Timestamp(int(expires_at)?),
        absolute_expires_at: Timestamp(int(absolute_expires_at)?),
        remember_me: remember_me == "1",
    })
}

/// A session read by `HMGET` of [`SESSION_FIELDS`]: `None` when its hash is gone.
fn session_from_hmget(values: Vec<Option<String>>) -> StoreResult<Option<Session>> {
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    let values: Option<Vec<String>> = values.into_iter().collect();
    let values =
        values.ok_or_else(|| StoreError::Unavailable("Redis: a session without a field".into()))?;
    session_from_values(values).map(Some)
}

/// Sessions from a script's reply: a JSON array (`cjson`) of [`SESSION_FIELDS`] value
/// arrays. One string instead of a nested reply of 14 values a session, which the client
/// would parse value by value, the most of a 100-session listing's time.
fn sessions_from_json(reply: &str) -> StoreResult<Vec<Session>> {
    let sessions: Vec<Vec<String>> = serde_json::from_str(reply)
        .map_err(|e| StoreError::Unavailable(format!("Redis: bad sessions reply: {e}")))?;
    sessions.into_iter().map(session_from_values).collect()
}

/// [`CREATE`]'s reply: `None` when the limit refused the session, else the addresses of the
/// sessions kept and the sessions evicted.
fn created_reply(reply: Vec<Value>) -> StoreResult<Option<(Vec<String>, Vec<Session>)>> {
    let mut reply = reply.into_iter();
    if next_value::<u64>(&mut reply)? != 1 {
        return Ok(None);
    }
    let kept: Vec<String> = next_value(&mut reply)?;
    let evicted: String = next_value(&mut reply)?;
    Ok(Some((kept, sessions_from_json(&evicted)?)))
}

/// A script reply's next value, or its type's default where the reply ended.
fn next_value<T: FromRedisValue + Default>(
    reply: &mut impl Iterator<Item = Value>,
) -> StoreResult<T> {
    reply
        .next()
        .map(redis::from_redis_value)
        .transpose()
        .map_err(|e| unavailable(e.into()))
        .map(Option::unwrap_or_default)
}

fn unavailable(error: RedisError) -> StoreError {
    StoreError::Unavailable(format!("Redis: {error}"))
}

impl From<RedisError> for StoreError {
    fn from(error: RedisError) -> Self {
        unavailable(error)
    }
}

/// Shared by the scripts: reading a session's fields (`SESSION_FIELDS`, set by [`script`]),
/// and the user's sessions still live at `now`, least recently active first, each as
/// {member, its `fields`}, `expires_at` being the position of that field among them; entries
/// of gone or expired sessions are dropped on the way. A login reads two fields of each
/// (the index of a user with a thousand sessions is walked at every login), a list all.
const LIVE_MEMBERS: &str = r#"
local function read_session(key)
  return redis.call('HMGET', key, unpack(SESSION_FIELDS))
end
local function live_members(index, prefix, now, fields, expires_at)
  local live = {}
  for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    local values = redis.call('HMGET', prefix .. member, unpack(fields))
    local expires = tonumber(values[expires_at])
    if expires and expires > now then
      live[#live + 1] = {member, values}
    else
      redis.call('ZREM', index, member)
    end
  end
  return live
end
-- Sessions' fields as one JSON array of arrays: cjson writes an empty table as {}.
local function encode_sessions(sessions)
  if #sessions == 0 then return '[]' end
  return cjson.encode(sessions)
end
"#;

fn script(body: &str) -> Script {
    let fields = SESSION_FIELDS.map(|f| format!("'{f}'")).join(", ");
    // Lua counts from 1.
    let expires_at = SESSION_FIELDS.iter().position(|f| *f == "expires_at");
    Script::new(&format!(
        "local SESSION_FIELDS = {{{fields}}}\nlocal EXPIRES_AT = {}\n{LIVE_MEMBERS}{body}",
        expires_at.unwrap_or(0) + 1,
    ))
}

/// KEYS: index, new session, stamp. ARGV: now, max, evict (1/0), session prefix, member,
/// last active, expires at, absolute expiry, fresh stamp, then the session's field/value
/// pairs. Returns {0} when refused, else {1, {address of each kept session…}, the evicted
/// sessions (JSON)}.
static CREATE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local index, session = KEYS[1], KEYS[2]
local now, max, evict, prefix = tonumber(ARGV[1]), math.max(tonumber(ARGV[2]), 1), ARGV[3] == '1', ARGV[4]
local live = live_members(index, prefix, now, {'expires_at', 'ip_address'}, 1)
local addresses, evicted = {}, {}
local excess = 0
if #live >= max then
  if not evict then return {0} end
  excess = #live + 1 - max
  for i = 1, excess do
    local member = live[i][1]
    evicted[#evicted + 1] = read_session(prefix .. member)
    redis.call('DEL', prefix .. member)
    redis.call('ZREM', index, member)
  end
  redis.call('SET', KEYS[3], ARGV[9], 'XX', 'KEEPTTL')
end
for i = excess + 1, #live do
  addresses[#addresses + 1] = live[i][2][2]
end
redis.call('HSET', session, unpack(ARGV, 10))
redis.call('PEXPIREAT', session, ARGV[7])
redis.call('ZADD', index, ARGV[6], ARGV[5])
redis.call('PEXPIREAT', index, ARGV[8], 'NX')
redis.call('PEXPIREAT', index, ARGV[8], 'GT')
redis.call('SET', KEYS[3], ARGV[9], 'NX')
redis.call('PEXPIREAT', KEYS[3], ARGV[8], 'NX')
redis.call('PEXPIREAT', KEYS[3], ARGV[8], 'GT')
return {1, addresses, encode_sessions(evicted)}
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
/// still exists; returns {its absolute expiry, its address before}, {0, ''} when it does
/// not exist.
static SET_IP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local was = redis.call('HMGET', KEYS[1], 'absolute_expires_at', 'ip_address')
if not was[1] then return {0, ''} end
redis.call('HSET', KEYS[1], 'ip_address', ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'XX', 'KEEPTTL')
return {tonumber(was[1]), was[2] or ''}
"#,
    )
});

/// KEYS: one shard's address set, by-activity and by-expiry listings. ARGV: the address's
/// `BYLEX` range, now, the address. Returns the entries at the address whose session is
/// listed and unexpired, each with its activity score (flat: entry, score, …), and removes
/// the others: their session is gone or has ended.
static AT_ADDRESS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local now, skip = tonumber(ARGV[3]), #ARGV[4] + 2
local entries = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYLEX')
local live, stale = {}, {}
-- A thousand at a time: two ZMSCOREs instead of two ZSCOREs an entry.
for first = 1, #entries, 1000 do
  local members, kept = {}, {}
  for i = first, math.min(first + 999, #entries) do
    -- ADDRESS|ABSOLUTE|MEMBER, the address known: a plain search for the second bar.
    local bar = string.find(entries[i], '|', skip, true)
    local absolute = bar and tonumber(string.sub(entries[i], skip, bar - 1))
    if absolute and absolute > now then
      local member = string.sub(entries[i], bar + 1)
      members[#members + 1] = member
      kept[#kept + 1] = entries[i]
    else
      stale[#stale + 1] = entries[i]
    end
  end
  if #members > 0 then
    local active = redis.call('ZMSCORE', KEYS[2], unpack(members))
    local expires = redis.call('ZMSCORE', KEYS[3], unpack(members))
    for j = 1, #members do
      if active[j] and (not expires[j] or tonumber(expires[j]) > now) then
        live[#live + 1] = kept[j]
        live[#live + 1] = active[j]
      else
        stale[#stale + 1] = kept[j]
      end
    end
  end
end
for i = 1, #stale, 1000 do
  redis.call('ZREM', KEYS[1], unpack(stale, i, math.min(i + 999, #stale)))
end
return live
"#,
    )
});

/// KEYS: index. ARGV: now, session prefix. Returns the live sessions (JSON).
static LIST: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local sessions = {}
for _, live in ipairs(live_members(KEYS[1], ARGV[2], tonumber(ARGV[1]), SESSION_FIELDS, EXPIRES_AT)) do
  sessions[#sessions + 1] = live[2]
end
return encode_sessions(sessions)
"#,
    )
});

/// KEYS: index, session, stamp. ARGV: member, fresh stamp. Returns the deleted sessions
/// (JSON): that one, or none.
static DELETE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local fields = read_session(KEYS[2])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
if not fields[1] then return '[]' end
redis.call('SET', KEYS[3], ARGV[2], 'XX', 'KEEPTTL')
return encode_sessions({fields})
"#,
    )
});

/// KEYS: index, stamp. ARGV: now, session prefix, fresh stamp, '1' for the sessions' public
/// ids and expiry too. Returns {live count, {token hash, last activity} of every deleted
/// session, and if asked {public id, expiry} of each ('' each when its hash had already
/// expired)}: all that points at it from outside the slot, and where it sits in the admin
/// listing. A bulk revocation asks only for what it removes at once (`Forget::Visible`):
/// half the fields for Redis to send and this process to read, one fewer to look up.
static DELETE_USER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local now, prefix, all = tonumber(ARGV[1]), ARGV[2], ARGV[4] == '1'
redis.call('SET', KEYS[2], ARGV[3], 'XX', 'KEEPTTL')
local live, doomed, details = 0, {KEYS[1]}, {}
local listed = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #listed, 2 do
  local session = prefix .. listed[i]
  local expires
  if all then
    local fields = redis.call('HMGET', session, 'expires_at', 'id')
    expires = fields[1]
    details[i] = fields[2] or ''
    details[i + 1] = fields[1] or ''
  else
    expires = redis.call('HGET', session, 'expires_at')
  end
  expires = tonumber(expires)
  if expires and expires > now then live = live + 1 end
  doomed[#doomed + 1] = session
  -- One DEL per thousand keys: fewer calls, and well inside unpack's limit.
  if #doomed == 1000 then
    redis.call('DEL', unpack(doomed))
    doomed = {}
  end
end
if #doomed > 0 then redis.call('DEL', unpack(doomed)) end
return {live, listed, details}
"#,
    )
});

/// KEYS: index. ARGV: now, session prefix. Returns {how many of the user's sessions are
/// live, the latest activity among them (0 with none)}.
static USER_ACTIVITY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local now, prefix = tonumber(ARGV[1]), ARGV[2]
local live, last = 0, 0
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'REV', 'WITHSCORES')
for i = 1, #entries, 2 do
  local expires = tonumber(redis.call('HGET', prefix .. entries[i], 'expires_at'))
  if expires and expires > now then
    live = live + 1
    if last == 0 then last = tonumber(entries[i + 1]) end
  end
end
return {live, last}
"#,
    )
});

/// KEYS: a shard's address set. ARGV: cursor, now, count. One `ZSCAN` step that removes the
/// entries past their absolute expiry (see [`address_entry`]); returns the next cursor.
static SWEEP_ADDRESSES: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r#"
local step = redis.call('ZSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[3])
local now, dead, entries = tonumber(ARGV[2]), {}, step[2]
for i = 1, #entries, 2 do
  local absolute = tonumber(string.match(entries[i], '|(%d+)|[^|]*$'))
  if absolute and absolute <= now then dead[#dead + 1] = entries[i] end
end
if #dead > 0 then redis.call('ZREM', KEYS[1], unpack(dead)) end
return step[1]
"#,
    )
});

/// KEYS: shard active, shard expiry. ARGV: now, batch. Removes up to a batch of entries that
/// expired by `now`; returns {how many by-expiry entries, how many of them were still listed
/// by activity} (a revoked session's by-expiry entry waits for this purge; see `Forget`).
/// Added to pipelines by [`purge_shard`].
const PURGE_SHARD: &str = r#"
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #dead == 0 then return {0, 0} end
local listed = redis.call('ZREM', KEYS[1], unpack(dead))
redis.call('ZREM', KEYS[2], unpack(dead))
return {#dead, listed}
"#;

/// Adds [`PURGE_SHARD`] for the shard keyed `active`/`expiry` to a pipeline. Sent as `EVAL`
/// rather than `EVALSHA`, so it can go first in a pipeline with no "script not loaded" to
/// recover from halfway.
fn purge_shard(pipeline: &mut Pipeline, active: &str, expiry: &str, now: Timestamp) {
    pipeline.cmd("EVAL").arg(PURGE_SHARD).arg(2).arg(active);
    pipeline.arg(expiry).arg(now.0).arg(PURGE_BATCH);
}

pub struct RedisSessionStore<C> {
    conn: C,
    keys: Keys,
    stamps: Stamps<C>,
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
            stamps: Stamps::new(conn.clone(), keys.clone(), subscribe_at),
            conn,
            keys,
            address_index_seen: AtomicBool::new(false),
            sweep_position: Mutex::new((0, "0".to_owned())),
        }
    }
}

/// What points at a deleted session from outside its user's slot: the token and public-id
/// pointers and the admin-listing entries.
struct Leftover {
    user_id: i64,
    hash: String,
    /// Unknown when the session hash had expired before it was deleted, or when not asked
    /// for ([`Forget::Visible`]); that pointer then expires by itself.
    id: Option<String>,
    /// The listing entries' scores (last activity, expiry), 0 when unknown: removing entries
    /// in score order walks the sorted sets' nearby nodes, which are still in the CPU cache.
    scores: (i64, i64),
}

impl From<&Session> for Leftover {
    fn from(s: &Session) -> Self {
        Leftover {
            user_id: s.user_id,
            hash: s.token_hash.to_hex(),
            id: Some(s.id.clone()),
            scores: (s.last_active_at.0, s.expires_at.0),
        }
    }
}

/// An admin-listing entry (member, last activity) as Redis returns it.
type Entry = (String, f64);

/// What a listing page first reads of a shard: its size, first entries (at least the
/// highest), lowest entry, and the entries sampled at each end of the page.
type ShardHead = (u64, Vec<Entry>, Vec<Entry>, Vec<Entry>, Vec<Entry>);
/// A [`ShardHead`] read after the shard's expired entries were purged: (removed, listed).
type PurgedShardHead = (
    (u64, u64),
    u64,
    Vec<Entry>,
    Vec<Entry>,
    Vec<Entry>,
    Vec<Entry>,
);

/// A listing position found by score: how many entries (over all shards) score above `score`.
#[derive(Clone, Copy, Debug)]
struct Mark {
    score: i64,
    above: u64,
}

/// Brackets, by score, the two ends of a deep listing page: rows `first..end` of the
/// listing. `start` bounds where the page starts (`start.1.above <= first < start.0.above`),
/// `stop` where it ends (`stop.0.above >= end > stop.1.above`); each pair is (lower score,
/// higher score). Counting entries above a few candidate scores narrows both.
struct Search {
    first: u64,
    end: u64,
    start: (Mark, Mark),
    stop: (Mark, Mark),
}

impl Search {
    /// A search over entries scoring from `lowest` to `highest`, `total` of them.
    fn new(first: u64, end: u64, lowest: i64, highest: i64, total: u64) -> Search {
        let below_all = Mark {
            score: lowest.saturating_sub(1),
            above: total,
        };
        let top = Mark {
            score: highest,
            above: 0,
        };
        Search {
            first,
            end,
            start: (below_all, top),
            stop: (below_all, top),
        }
    }

    /// Narrows the brackets with a counted candidate.
    fn learn(&mut self, mark: Mark) {
        let (low, high) = &mut self.start;
        if low.score < mark.score && mark.score < high.score {
            *(if mark.above <= self.first { high } else { low }) = mark;
        }
        let (low, high) = &mut self.stop;
        if low.score < mark.score && mark.score < high.score {
            *(if mark.above >= self.end { low } else { high }) = mark;
        }
    }

    /// Whether a bracket can still narrow: its end is not exact and scores lie strictly inside.
    fn open(bracket: &(Mark, Mark), exact: bool) -> bool {
        !exact && bracket.1.score - bracket.0.score > 1
    }

    fn start_open(&self) -> bool {
        Self::open(&self.start, self.start.1.above == self.first)
    }

    fn stop_open(&self) -> bool {
        Self::open(&self.stop, self.stop.0.above == self.end)
    }

    /// Whether the entries between the outer bounds are few enough to read.
    fn done(&self) -> bool {
        let between = self.stop.0.above.saturating_sub(self.start.1.above);
        between <= self.end - self.first + SEARCH_SLACK || !(self.start_open() || self.stop_open())
    }

    /// Scores to count next: for each open bracket its middle (so it at least halves) and
    /// guesses just outside the page's end, placed by interpolating positions linearly on
    /// score, at distances around the square root of the bracket's size (the typical error
    /// of that guess when activity is spread evenly).
    fn candidates(&self) -> Vec<i64> {
        let mut scores = Vec::new();
        let brackets = [
            (self.start_open(), &self.start, self.first as f64, -1.0),
            (self.stop_open(), &self.stop, self.end as f64, 1.0),
        ];
        for (open, (low, high), target, side) in brackets {
            if !open {
                continue;
            }
            scores.push(low.score + (high.score - low.score) / 2);
            // Counts taken in different rounds disagree if sessions came or went meanwhile.
            let span = low.above.saturating_sub(high.above) as f64;
            if span == 0.0 {
                continue;
            }
            let width = (high.score - low.score) as f64;
            for factor in [1.0 / 16.0, 0.25, 1.0, 4.0, 16.0] {
                let position = target + side * factor * span.sqrt();
                let score = high.score as f64 - (position - high.above as f64) / span * width;
                let score = score.round() as i64;
                if low.score < score && score < high.score {
                    scores.push(score);
                }
            }
        }
        scores.sort_unstable();
        scores.dedup();
        scores
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

/// Newest activity first, then by member: the order the shards' entries merge in.
fn sort_entries(entries: &mut [Entry]) {
    entries.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn query<T: redis::FromRedisValue>(&self, command: &Cmd) -> StoreResult<T> {
        query_on(&self.conn, command).await
    }

    /// A session by its user and token hash, if its hash is still there.
    async fn read_session(&self, user_id: i64, hash: &str) -> StoreResult<Option<Session>> {
        let mut read = cmd("HMGET");
        read.arg(self.keys.session(user_id, hash))
            .arg(&SESSION_FIELDS[..]);
        session_from_hmget(self.query(&read).await?)
    }

    /// The user id and token hash a public id points to.
    async fn locate(&self, id: &str) -> StoreResult<Option<(i64, String)>> {
        let pointer: Option<String> = self.query(cmd("GET").arg(self.keys.public_id(id))).await?;
        Ok(pointer
            .as_deref()
            .and_then(parse_member)
            .map(|(user, hash)| (user, hash.to_owned())))
    }

    /// `written`, after [`Stamps::announce`] of `users` when it may have replaced their stamps:
    /// when it failed (it may have happened anyway) or `replaced` says so.
    async fn announced<T>(
        &self,
        users: &[i64],
        written: StoreResult<T>,
        replaced: impl FnOnce(&T) -> bool,
    ) -> StoreResult<T> {
        let may_have_replaced = match &written {
            Ok(value) => replaced(value),
            Err(_) => true,
        };
        if may_have_replaced {
            let announced = self.stamps.announce(users).await;
            return written.and_then(|value| announced.map(|()| value));
        }
        written
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

    /// Writes a session's admin-listing entries (all in the user's shard, so one transaction):
    /// by activity and by expiry, and for a new session by address.
    async fn list_in_shard(
        &self,
        user: i64,
        hash: &str,
        last_active_at: Timestamp,
        expires_at: Timestamp,
        new: Option<&Session>,
    ) -> StoreResult<()> {
        let shard = Keys::shard_of(user);
        let (active, expiry) = self.keys.shard(shard);
        let member = listing_member(user, hash);
        let mut pipeline = pipe();
        pipeline
            .atomic()
            .zadd(active, &member, last_active_at.0)
            .ignore()
            .zadd(expiry, &member, expires_at.0)
            .ignore();
        if let Some(session) = new {
            index_address(&mut pipeline, &self.keys.shard_addresses(shard), session);
        }
        self.send(pipeline).await
    }

    /// A page of the unexpired sessions at `address` (most recently active first, ties by
    /// member, as in the unfiltered listing), and their number. Each shard's script picks
    /// the address's entries whose session is listed and unexpired, with their activity, and
    /// removes the rest; only the page's sessions are read. One whose address changed since
    /// (its old entry is removed with the change, unless that write failed) loses its entry
    /// here, and the page is taken again without it.
    async fn address_page(
        &self,
        address: &str,
        now: Timestamp,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Session>> {
        self.build_address_index().await?;
        let (from, to) = address_range(address);
        let shards: Vec<Vec<Entry>> = try_join_all((0..SHARDS).map(|shard| {
            let (active, expiry) = self.keys.shard(shard);
            let mut invocation = AT_ADDRESS.key(self.keys.shard_addresses(shard));
            invocation
                .key(active)
                .key(expiry)
                .arg(&from)
                .arg(&to)
                .arg(now.0)
                .arg(address);
            self.run(invocation)
        }))
        .await?;
        let mut entries: Vec<Entry> = shards.into_iter().flatten().collect();
        sort_entries(&mut entries);
        loop {
            let page: Vec<&str> = entries
                .iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(limit as usize)
                .map(|(entry, _)| entry.as_str())
                .collect();
            let members = page
                .iter()
                .filter_map(|entry| parse_address_entry(entry))
                .map(|(_, _, member)| member.to_owned())
                .collect();
            let sessions = self.fetch_listed(members).await?;
            let here: std::collections::HashSet<String> = sessions
                .iter()
                .filter(|s| s.ip_address == address && !s.is_expired(now))
                .map(|s| listing_member(s.user_id, &s.token_hash.to_hex()))
                .collect();
            let elsewhere: Vec<String> = page
                .into_iter()
                .filter(|entry| {
                    parse_address_entry(entry).is_none_or(|(_, _, member)| !here.contains(member))
                })
                .map(str::to_owned)
                .collect();
            if elsewhere.is_empty() {
                let total = entries.len() as u64;
                return Ok(Page {
                    items: sessions,
                    total,
                });
            }
            entries.retain(|(entry, _)| !elsewhere.contains(entry));
            self.unlist_addresses(elsewhere).await;
        }
    }

    /// Removes entries from the address sets; one that stays is removed by a later listing.
    async fn unlist_addresses(&self, entries: Vec<String>) {
        let mut by_shard: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for entry in entries {
            let user = parse_address_entry(&entry).and_then(|(_, _, member)| parse_member(member));
            if let Some((user, _)) = user {
                by_shard
                    .entry(Keys::shard_of(user))
                    .or_default()
                    .push(entry);
            }
        }
        let removed = try_join_all(by_shard.into_iter().map(|(shard, entries)| {
            let mut remove = cmd("ZREM");
            remove.arg(self.keys.shard_addresses(shard)).arg(entries);
            async move { self.query::<()>(&remove).await }
        }));
        if let Err(error) = removed.await {
            tracing::warn!(%error, "stale address entries left; the next filtered listing or sweep removes them");
        }
    }

    /// Removes the entries of sessions past their absolute expiry from the address sets,
    /// resuming where the last call stopped. One small `ZSCAN` step at a time, for at most
    /// `SWEEP_BUDGET` a call: a step of 256 entries held Redis 0.6–1.0 ms here (`SLOWLOG`),
    /// and other clients' commands run between steps (sweeping all shards at once, 16 steps
    /// of 1,000 each, put 200 ms stalls into the benchmark's logins). That is some 25,000
    /// entries a call, one a minute: an entry outlives its session's absolute lifetime by
    /// under an hour at 1M sessions.
    async fn sweep_addresses(&self, now: Timestamp) -> StoreResult<()> {
        let (mut shard, mut cursor) = self
            .sweep_position
            .lock()
            .map_or_else(|_| (0, "0".to_owned()), |at| at.clone());
        let started = std::time::Instant::now();
        let mut finished_shards = 0;
        while started.elapsed() < SWEEP_BUDGET && finished_shards < SHARDS {
            let mut invocation = SWEEP_ADDRESSES.key(self.keys.shard_addresses(shard));
            invocation.arg(&cursor).arg(now.0).arg(SWEEP_STEP);
            cursor = self.run(invocation).await?;
            if cursor == "0" {
                shard = (shard + 1) % SHARDS;
                finished_shards += 1;
            }
        }
        if let Ok(mut at) = self.sweep_position.lock() {
            *at = (shard, cursor);
        }
        Ok(())
    }

    /// Puts the sessions listed in one shard in their address sets, a scan step at a time
    /// (`ZSCAN` visits every entry present throughout, however the shard changes meanwhile).
    async fn index_shard_addresses(&self, shard: i64) -> StoreResult<()> {
        let (active, _) = self.keys.shard(shard);
        let mut cursor = "0".to_owned();
        loop {
            let mut scan = cmd("ZSCAN");
            scan.arg(&active)
                .arg(&cursor)
                .arg("COUNT")
                .arg(REMOVE_CHUNK);
            let (next, entries): (String, Vec<String>) = self.query(&scan).await?;
            // Entries come as member, score pairs.
            let members = entries.into_iter().step_by(2).collect();
            let sessions = self.fetch_listed(members).await?;
            if !sessions.is_empty() {
                let mut pipeline = pipe();
                let key = self.keys.shard_addresses(shard);
                for session in &sessions {
                    index_address(&mut pipeline, &key, session);
                }
                self.send::<()>(pipeline).await?;
            }
            if next == "0" {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// The store, once [`Self::mark_address_index_if_empty`] has run. Its failure (say, an
    /// ACL that hides the marker) only leaves the walk to the first filtered listing.
    async fn opened(self) -> Arc<dyn SessionStore> {
        if let Err(error) = self.mark_address_index_if_empty().await {
            tracing::warn!(%error, "cannot mark an empty session store as indexed by address");
        }
        Arc::new(self)
    }

    /// Marks a store with nothing listed as indexed by address: every session created from
    /// now on gets its address entry as it is stored. Without this a store that began empty
    /// under this version was walked whole at its first filtered listing all the same,
    /// which kept that listing waiting ~20 s a million sessions for nothing.
    async fn mark_address_index_if_empty(&self) -> StoreResult<()> {
        let marker = self.keys.address_index_built();
        if self.query::<bool>(cmd("EXISTS").arg(&marker)).await? {
            return Ok(());
        }
        let listed: Vec<u64> = try_join_all((0..SHARDS).map(|shard| async move {
            self.query::<u64>(cmd("ZCARD").arg(self.keys.shard(shard).0))
                .await
        }))
        .await?;
        if listed.iter().all(|&sessions| sessions == 0) {
            self.query::<()>(cmd("SET").arg(&marker).arg(1).arg("NX"))
                .await?;
        }
        Ok(())
    }

    /// Puts every listed session in its address set, once per store (see
    /// [`Keys::address_index_built`]); as slow as the unindexed filter it replaces, once.
    async fn build_address_index(&self) -> StoreResult<()> {
        if self.address_index_seen.load(Ordering::Relaxed) {
            return Ok(());
        }
        let marker = self.keys.address_index_built();
        if !self.query::<bool>(cmd("EXISTS").arg(&marker)).await? {
            tracing::info!("indexing every listed session by address, once (about 20 s a million)");
            let started = std::time::Instant::now();
            try_join_all((0..SHARDS).map(|shard| self.index_shard_addresses(shard))).await?;
            self.query::<()>(cmd("SET").arg(&marker).arg(1)).await?;
            tracing::info!(took = ?started.elapsed(), "sessions indexed by address");
        }
        self.address_index_seen.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Removes what points at sessions already deleted from their users' slots, all at once,
    /// as much as `forget` says: listing entries by one `ZREM` per shard and chunk, pointers
    /// by multi-key `UNLINK` (the Cluster client splits one by slot). Best effort: the
    /// sessions are gone either way, and leftovers find nothing and expire.
    async fn forget(&self, leftovers: &[Leftover], forget: Forget) {
        let mut unlink = Vec::new();
        let mut listed: BTreeMap<i64, Vec<Listed>> = BTreeMap::new();
        for left in leftovers {
            if forget == Forget::All {
                unlink.push(self.keys.token(&left.hash));
                unlink.extend(left.id.as_deref().map(|id| self.keys.public_id(id)));
            }
            listed
                .entry(Keys::shard_of(left.user_id))
                .or_default()
                .push((listing_member(left.user_id, &left.hash), left.scores));
        }
        for entries in listed.values_mut() {
            entries.sort_unstable_by_key(|(_, (active, _))| *active);
        }
        // A bounded number in flight, so each command's deadline runs from when it is sent.
        // Owned chunks: a stream over borrowed ones is not `Send` to the compiler here.
        let unlinks: Vec<Vec<String>> = unlink.chunks(REMOVE_CHUNK).map(<[_]>::to_vec).collect();
        let unlinked = stream::iter(unlinks)
            .map(|keys| async move { self.query::<()>(cmd("UNLINK").arg(keys)).await })
            .buffer_unordered(REMOVE_CONCURRENCY)
            .collect::<Vec<_>>();
        let unlists: Vec<(i64, Vec<Listed>)> = listed
            .iter()
            .flat_map(|(shard, members)| {
                let chunks = members.chunks(REMOVE_CHUNK);
                chunks.map(|chunk| (*shard, chunk.to_vec()))
            })
            .collect();
        let unlisted =
            stream::iter(unlists)
                .map(|(shard, mut entries)| async move {
                    self.unlist(shard, &mut entries, forget).await
                })
                .buffer_unordered(REMOVE_CONCURRENCY)
                .collect::<Vec<_>>();
        let (unlinked, unlisted) = futures_util::join!(unlinked, unlisted);
        for error in unlinked.into_iter().chain(unlisted).filter_map(Result::err) {
            tracing::warn!(%error, "leftover Redis pointers of deleted sessions; they expire by themselves");
        }
    }

    /// Removes a shard's listing entries, given in by-activity order (by-expiry ones only for
    /// [`Forget::All`], re-sorted to that set's score order).
    async fn unlist(&self, shard: i64, entries: &mut [Listed], forget: Forget) -> StoreResult<()> {
        let (active, expiry) = self.keys.shard(shard);
        let members = |entries: &[Listed]| -> Vec<String> {
            entries.iter().map(|(m, _)| m.clone()).collect()
        };
        let mut pipeline = pipe();
        pipeline.atomic();
        pipeline.zrem(active, members(entries)).ignore();
        if forget == Forget::All {
            entries.sort_unstable_by_key(|(_, (_, expiry))| *expiry);
            pipeline.zrem(expiry, members(entries)).ignore();
        }
        self.send(pipeline).await
    }

    /// Deletes one session in its user's slot (not what points at it): the deleted session,
    /// if it was there.
    async fn delete_in_place(&self, user_id: i64, hash: &str) -> StoreResult<Vec<Session>> {
        let mut invocation = DELETE.key(self.keys.user_index(user_id));
        invocation
            .key(self.keys.session(user_id, hash))
            .key(self.keys.user_stamp(user_id))
            .arg(hash)
            .arg(fresh_stamp());
        sessions_from_json(&self.run::<String>(invocation).await?)
    }

    /// Deletes every session of a user in the user's slot: how many were live, and what
    /// [`Self::forget`] must remove (public ids and expiry only for [`Forget::All`]).
    async fn delete_in_slot(
        &self,
        user_id: i64,
        now: Timestamp,
        forget: Forget,
    ) -> StoreResult<(u64, Vec<Leftover>)> {
        let mut invocation = DELETE_USER.key(self.keys.user_index(user_id));
        invocation
            .key(self.keys.user_stamp(user_id))
            .arg(now.0)
            .arg(self.keys.session_prefix(user_id))
            .arg(fresh_stamp())
            .arg(u8::from(forget == Forget::All));
        // Flat `[a, b, c, d, …]` lists decode as `(a, b), (c, d), …`.
        type Pairs = Vec<(String, String)>;
        let (live, listed, details): (u64, Pairs, Pairs) = self.run(invocation).await?;
        let score = |text: &str| text.parse().unwrap_or(0);
        let mut details = details.into_iter();
        let leftovers = listed
            .into_iter()
            .map(|(hash, active)| {
                let (id, expiry) = details.next().unzip();
                Leftover {
                    user_id,
                    hash,
                    id: id.filter(|id| !id.is_empty()),
                    scores: (score(&active), expiry.as_deref().map_or(0, score)),
                }
            })
            .collect();
        Ok((live, leftovers))
    }

    /// Removes expired admin-listing entries from every shard; how many. Shards go at once,
    /// so a listing waits for one round trip, not sixteen.
    async fn purge_listing(&self, now: Timestamp) -> StoreResult<u64> {
        let purged = try_join_all((0..SHARDS).map(async |shard| {
            let (active, expiry) = self.keys.shard(shard);
            let mut purged = 0;
            loop {
                let mut pipeline = pipe();
                purge_shard(&mut pipeline, &active, &expiry, now);
                let ((removed, listed),): ((u64, u64),) = self.send(pipeline).await?;
                purged += listed;
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
        let found: Vec<(String, i64, Option<Session>)> = stream::iter(members)
            .map(|member| async move {
                let (user, hash) = parse_member(&member)
                    .ok_or_else(|| StoreError::Unavailable(format!("Redis: bad entry {member}")))?;
                let session = self.read_session(user, hash).await?;
                Ok::<_, StoreError>((member, user, session))
            })
            .buffered(FETCH_CONCURRENCY)
            .try_collect()
            .await?;
        let mut sessions = Vec::with_capacity(found.len());
        let mut gone: BTreeMap<i64, Vec<Listed>> = BTreeMap::new();
        for (member, user, session) in found {
            match session {
                Some(session) => sessions.push(session),
                None => gone
                    .entry(Keys::shard_of(user))
                    .or_default()
                    .push((member, (0, 0))),
            }
        }
        // One removal per shard, all at once: after a mass revocation there can be thousands.
        try_join_all(
            gone.iter_mut()
                .map(|(shard, entries)| self.unlist(*shard, entries, Forget::All)),
        )
        .await?;
        Ok(sessions)
    }

    /// The members of listing rows `first..first + limit` (most recently active first, ties
    /// by member), and the total. A page near the top is merged from the first entries of
    /// each shard; a deeper one is found by score (see [`Search`]) in a few round trips of
    /// `ZCOUNT`s, then read as one score range per shard: O(log n) per command, however deep.
    /// Entries expired at `now` are purged first, in the first round trip.
    async fn listing_page(
        &self,
        limit: u32,
        first: u64,
        now: Timestamp,
    ) -> StoreResult<(Vec<String>, u64)> {
        let end_wanted = first + u64::from(limit);
        // Near the top, an eighth of the rows from each shard (and a few more, for a shard
        // busier than most) usually holds all of them.
        let heads = if end_wanted < SHALLOW {
            end_wanted / 8 + 4
        } else {
            1
        };
        // Shards hold about as many entries each (users spread over them by id), so an entry
        // at a sixteenth of a row's position in each shard scores near that row.
        let samples = [first, end_wanted.saturating_sub(1)].map(|row| (row / SHARDS as u64) as i64);
        let shards: Vec<ShardHead> = loop {
            let read: Vec<PurgedShardHead> = self
                .each_shard(|active, expiry, p| {
                    // The shard's expired entries go first, in the same round trip.
                    purge_shard(p, active, expiry, now);
                    p.zcard(active)
                        .cmd("ZRANGE")
                        .arg(active)
                        .arg(0)
                        .arg(heads as i64 - 1);
                    p.arg("REV").arg("WITHSCORES");
                    p.zrange_withscores(active, 0, 0);
                    for rank in samples {
                        p.cmd("ZRANGE").arg(active).arg(rank).arg(rank);
                        p.arg("REV").arg("WITHSCORES");
                    }
                })
                .await?;
            if read.iter().all(|s| s.0.0 < PURGE_BATCH as u64) {
                break read
                    .into_iter()
                    .map(|s| (s.1, s.2, s.3, s.4, s.5))
                    .collect();
            }
            // More expired entries than one batch: remove them all, then read again.
            self.purge_listing(now).await?;
        };
        let total: u64 = shards.iter().map(|s| s.0).sum();
        let end = end_wanted.min(total);
        if first >= end {
            return Ok((Vec::new(), total));
        }
        let highest = shards.iter().filter_map(|s| s.1.first()).map(|e| e.1);
        let lowest = shards.iter().filter_map(|s| s.2.first()).map(|e| e.1);
        let (highest, lowest) = (
            highest.fold(f64::MIN, f64::max),
            lowest.fold(f64::MAX, f64::min),
        );
        let mut search = Search::new(first, end, lowest as i64, highest as i64, total);
        // The first round counts a spread of the samples.
        let mut candidates = Vec::new();
        for sampled in [
            shards.iter().flat_map(|s| &s.3).collect::<Vec<_>>(),
            shards.iter().flat_map(|s| &s.4).collect(),
        ] {
            let mut scores: Vec<i64> = sampled.iter().map(|e| e.1 as i64).collect();
            scores.sort_unstable();
            if let Some(last) = scores.len().checked_sub(1) {
                candidates
                    .extend((0..SAMPLE_SPREAD).map(|k| scores[k * last / (SAMPLE_SPREAD - 1)]));
            }
        }
        // Entries scoring above every cut-off shard's last head are all among the heads.
        let cut = shards
            .iter()
            .filter(|s| s.1.len() as u64 == heads)
            .filter_map(|s| s.1.last())
            .map(|e| e.1)
            .fold(f64::MIN, f64::max);
        let mut known: Vec<Entry> = shards
            .into_iter()
            .flat_map(|s| s.1)
            .filter(|e| e.1 > cut)
            .collect();
        if known.len() as u64 >= end {
            sort_entries(&mut known);
            let page = known.drain(first as usize..end as usize).map(|e| e.0);
            return Ok((page.collect(), total));
        }
        if cut > f64::MIN {
            let (cut, known_rows) = (cut as i64, known.len() as u64);
            search.learn(Mark {
                score: cut,
                above: known_rows,
            });
            // Near the top, a crowd sharing the cut score (a bulk import, say) hides the page
            // from the heads. Its rows follow the known ones in member order, so the first
            // few of it in each shard hold the page whenever the crowd reaches past it.
            if heads > 1 {
                let wanted = end - known_rows;
                let crowd: Vec<(u64, Vec<Entry>)> = self
                    .each_shard(|active, _, p| {
                        p.zcount(active, cut, cut);
                        p.cmd("ZRANGE").arg(active).arg(cut).arg(cut).arg("BYSCORE");
                        p.arg("LIMIT").arg(0).arg(wanted).arg("WITHSCORES");
                    })
                    .await?;
                let crowded: u64 = crowd.iter().map(|(count, _)| count).sum();
                if known_rows + crowded >= end {
                    known.extend(crowd.into_iter().flat_map(|(_, entries)| entries));
                    sort_entries(&mut known);
                    known.truncate(end as usize);
                    let page = known.drain(first as usize..).map(|e| e.0);
                    return Ok((page.collect(), total));
                }
                search.learn(Mark {
                    score: cut - 1,
                    above: known_rows + crowded,
                });
            }
        }
        while !search.done() {
            if candidates.is_empty() {
                candidates = search.candidates();
            }
            let counts: Vec<Vec<u64>> = self
                .each_shard(|active, _, p| {
                    for score in &candidates {
                        p.zcount(active, format!("({score}"), "+inf");
                    }
                })
                .await?;
            for (i, score) in candidates.drain(..).enumerate() {
                let above = counts.iter().map(|shard| shard[i]).sum();
                search.learn(Mark { score, above });
            }
        }
        let (from, to) = (search.stop.0, search.start.1);
        // The page lies within the first `n` rows scoring in (from, to]; each shard's first
        // `n` of them hold it. Most often that range is small and read whole; a crowd sharing
        // one score is read only as far as needed.
        let skip = first.saturating_sub(to.above);
        let n = skip + u64::from(limit);
        let ranges: Vec<(Vec<Entry>,)> = self
            .each_shard(|active, _, p| {
                p.cmd("ZRANGE").arg(active).arg(to.score);
                p.arg(format!("({}", from.score)).arg("BYSCORE").arg("REV");
                p.arg("LIMIT").arg(0).arg(n + 1).arg("WITHSCORES");
            })
            .await?;
        let prefixes = try_join_all(ranges.into_iter().zip(0..SHARDS).map(
            async |((mut entries,), shard)| {
                // Read in reverse, a score cut off after `n` rows has its highest members
                // instead of its lowest: read that score's rows forwards instead.
                let cut = n as usize;
                if entries.len() > cut && entries[cut - 1].1 == entries[cut].1 {
                    let tied = entries[cut].1;
                    entries.retain(|e| e.1 != tied);
                    let mut range = cmd("ZRANGE");
                    range.arg(self.keys.shard(shard).0).arg(tied).arg(tied);
                    range
                        .arg("BYSCORE")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(n)
                        .arg("WITHSCORES");
                    entries.extend(self.query::<Vec<Entry>>(&range).await?);
                }
                sort_entries(&mut entries);
                entries.truncate(cut);
                Ok::<_, StoreError>(entries)
            },
        ))
        .await?;
        let mut entries: Vec<Entry> = prefixes.into_iter().flatten().collect();
        sort_entries(&mut entries);
        let page = entries
            .into_iter()
            .skip(skip as usize)
            .take(limit as usize)
            .map(|e| e.0);
        Ok((page.collect(), total))
    }
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
        let pointers = async {
            tokio::try_join!(self.query::<()>(&token), self.query::<()>(&public_id)).map(drop)
        };
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
        let listed = self.list_in_shard(
            user,
            &hash,
            session.last_active_at,
            session.expires_at,
            Some(session),
        );
        // Pointers, script and listing entries all at once: one round trip on a single
        // connection, which delivers them in this order. (On Cluster they may arrive in any
        // order; a listing entry read before its session exists is dropped, and the next
        // activity write lists the session again.) Whatever is written for a session that
        // ends up not created is removed below.
        let (pointers, reply, listed) =
            tokio::join!(pointers, self.run::<Vec<Value>>(invocation), listed);
        // Decoded first: only an eviction replaces the user's stamp (a first session's stamp
        // is new, and nodes remember only stamps they read), so only an eviction is announced.
        let reply = reply.and_then(created_reply);
        let evicting = |r: &Option<(Vec<String>, Vec<Session>)>| {
            r.as_ref().is_some_and(|(_, evicted)| !evicted.is_empty())
        };
        let reply = self.announced(&[user], reply, evicting).await;
        // Only on the failure paths below.
        let new_session = || Leftover::from(session);
        let (kept, evicted) = match reply {
            Ok(Some(created)) => created,
            Ok(None) => {
                self.forget(&[new_session()], Forget::All).await;
                return Ok(CreateOutcome::LimitReached);
            }
            Err(error) => {
                self.forget(&[new_session()], Forget::All).await;
                return Err(error);
            }
        };
        let mut leftovers: Vec<Leftover> = evicted.iter().map(Leftover::from).collect();
        if let Err(error) = pointers {
            // Unreachable by its token: the session must not stay and count against the limit.
            self.delete_in_place(user, &hash).await?;
            leftovers.push(new_session());
            self.forget(&leftovers, Forget::All).await;
            return Err(error);
        }
        self.forget(&leftovers, Forget::All).await;
        // Not listed yet is not fatal: the next recorded activity lists it.
        if let Err(error) = listed {
            tracing::warn!(%error, "session created but not yet in the admin listing");
        }
        Ok(CreateOutcome::created(evicted, kept, session))
    }

    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>> {
        let hash = hash.to_hex();
        let user: Option<i64> = self.query(cmd("GET").arg(self.keys.token(&hash))).await?;
        let Some(user) = user else { return Ok(None) };
        self.read_session(user, &hash).await
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
        if self.run::<i64>(invocation).await? == 1 {
            self.list_in_shard(user, &hash, last_active_at, expires_at, None)
                .await?;
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
        let set = self.run::<(i64, String)>(invocation).await;
        let (absolute, before) = self.announced(&[user], set, |set| set.0 != 0).await?;
        if absolute != 0 {
            let member = listing_member(user, &hash);
            let absolute = Timestamp(absolute);
            let mut moved = pipe();
            moved.atomic();
            let key = self.keys.shard_addresses(Keys::shard_of(user));
            moved
                .zadd(&key, address_entry(ip_address, absolute, &member), 0)
                .ignore();
            if before != ip_address {
                moved
                    .zrem(&key, address_entry(&before, absolute, &member))
                    .ignore();
            }
            if let Err(error) = self.send::<()>(moved).await {
                // A filtered listing that shows the session at its old address removes that.
                tracing::warn!(%error, "the admin listing's address filter does not have the session's new address yet");
            }
        }
        Ok(())
    }

    async fn activity_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, UserActivity>> {
        // One script per user (each on its own slot), many in flight at once.
        let found: Vec<(i64, (u64, i64))> = stream::iter(user_ids.iter().copied())
            .map(|user| async move {
                let mut invocation = USER_ACTIVITY.key(self.keys.user_index(user));
                invocation.arg(now.0).arg(self.keys.session_prefix(user));
                Ok::<_, StoreError>((user, self.run(invocation).await?))
            })
            .buffer_unordered(BULK_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found
            .into_iter()
            .filter(|(_, (sessions, _))| *sessions > 0)
            .map(|(user, (sessions, last))| {
                let activity = UserActivity {
                    sessions,
                    last_active_at: Timestamp(last),
                };
                (user, activity)
            })
            .collect())
    }

    async fn delete_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        // The users' slots first, many at once; then their by-activity listing entries, in a
        // few multi-key commands. The rest is left to expire (see `Forget::Visible`): removing
        // it would add half again to a mass revocation's work on Redis's single thread.
        let deleted: StoreResult<Vec<(i64, u64, Vec<Leftover>)>> =
            stream::iter(user_ids.iter().copied())
                .map(|user| async move {
                    let (live, leftovers) = self.delete_in_slot(user, now, Forget::Visible).await?;
                    Ok::<_, StoreError>((user, live, leftovers))
                })
                .buffer_unordered(BULK_CONCURRENCY)
                .try_collect()
                .await;
        let mut deleted = self.announced(user_ids, deleted, |_| true).await?;
        let leftovers: Vec<Leftover> = deleted
            .iter_mut()
            .flat_map(|(_, _, leftovers)| leftovers.drain(..))
            .collect();
        self.forget(&leftovers, Forget::Visible).await;
        Ok(deleted
            .into_iter()
            .filter(|(_, live, _)| *live > 0)
            .map(|(user, live, _)| (user, live))
            .collect())
    }

    async fn list_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        let mut invocation = LIST.key(self.keys.user_index(user_id));
        invocation.arg(now.0).arg(self.keys.session_prefix(user_id));
        let mut sessions = sessions_from_json(&self.run::<String>(invocation).await?)?;
        sort_for_user(&mut sessions);
        Ok(sessions)
    }

    async fn delete(&self, id: &str) -> StoreResult<Option<Session>> {
        let Some((user, hash)) = self.locate(id).await? else {
            return Ok(None);
        };
        // Announced here, not when a login undoes its own session: nobody has seen that one.
        let deleted = self.delete_in_place(user, &hash).await;
        let deleted = self.announced(&[user], deleted, |d| !d.is_empty()).await?;
        self.forget(
            &deleted.iter().map(Leftover::from).collect::<Vec<_>>(),
            Forget::All,
        )
        .await;
        Ok(deleted.into_iter().next())
    }

    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64> {
        let deleted = self.delete_in_slot(user_id, now, Forget::All).await;
        let (live, leftovers) = self.announced(&[user_id], deleted, |_| true).await?;
        self.forget(&leftovers, Forget::All).await;
        Ok(live)
    }

    async fn scan(
        &self,
        filter: &SessionFilter,
        now: Timestamp,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Session>> {
        if let Some(user) = filter.user_id {
            let mut sessions = self.list_by_user(user, now).await?;
            sessions.retain(|s| {
                filter
                    .ip_address
                    .as_ref()
                    .is_none_or(|ip| &s.ip_address == ip)
            });
            return Ok(Page::of_listing(sessions, limit, offset));
        }
        if let Some(address) = &filter.ip_address {
            return self.address_page(address, now, limit, offset).await;
        }
        let (members, total) = self.listing_page(limit, offset, now).await?;
        let mut items = self.fetch_listed(members).await?;
        items.retain(|s| !s.is_expired(now));
        Ok(Page { items, total })
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        // Redis drops expired session hashes and pointers itself; what is left is the listing.
        let purged = self.purge_listing(now).await?;
        self.sweep_addresses(now).await?;
        Ok(purged)
    }

    async fn ping(&self) -> StoreResult<()> {
        self.query::<()>(&cmd("PING")).await
    }

    fn keeps_stamps(&self) -> bool {
        true
    }

    async fn user_stamp(&self, user_id: i64) -> StoreResult<Option<u64>> {
        self.stamps.get(user_id).await
    }

    async fn leave(&self) {
        self.stamps.leave().await;
    }

    async fn invalidate_user(&self, user_id: i64) -> StoreResult<()> {
        // Only an existing stamp: without one nothing of the user's is remembered anywhere.
        let set = self
            .query(
                cmd("SET")
                    .arg(self.keys.user_stamp(user_id))
                    .arg(fresh_stamp())
                    .arg("XX")
                    .arg("KEEPTTL"),
            )
            .await;
        self.announced(&[user_id], set, |()| true).await
    }
}
