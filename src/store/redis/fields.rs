//! A session as its hash's fields, and the scripts' replies read back into sessions.

use super::unavailable;
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user_agent::DeviceType;
use crate::store::{StoreError, StoreResult};
use redis::{FromRedisValue, Value};

/// The session hash's fields, written and read only here, in the order every read asks for
/// them (`HMGET`): a session is read as 15 values, without its field names. A hash written
/// before `last_ip_address` existed lacks it; its `ip_address` was the latest address then,
/// and is read as both.
pub(super) const SESSION_FIELDS: [&str; 15] = [
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
    "last_ip_address",
];

pub(super) fn session_fields(s: &Session) -> impl Iterator<Item = (&'static str, String)> {
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
        s.last_ip_address.clone(),
    ];
    SESSION_FIELDS.into_iter().zip(values)
}

/// A session from its values in [`SESSION_FIELDS`] order, `last_ip_address` perhaps missing.
fn session_from_values(mut values: Vec<Option<String>>) -> StoreResult<Session> {
    let last_ip_address = values.pop().flatten();
    let values: Option<Vec<String>> = values.into_iter().collect();
    let values =
        values.ok_or_else(|| StoreError::Unavailable("Redis: a session without a field".into()))?;
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
    ] = <[String; 14]>::try_from(values).map_err(|v| {
        StoreError::Unavailable(format!("Redis: a session of {} fields", v.len() + 1))
    })?;
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
        last_ip_address: last_ip_address.unwrap_or_else(|| ip_address.clone()),
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
pub(super) fn session_from_hmget(values: Vec<Option<String>>) -> StoreResult<Option<Session>> {
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    session_from_values(values).map(Some)
}

/// Sessions from a script's reply: a JSON array (`cjson`) of [`SESSION_FIELDS`] value
/// arrays, a missing field `null`. One string instead of a nested reply of 14 values a session, which the client
/// would parse value by value, the most of a 100-session listing's time.
pub(super) fn sessions_from_json(reply: &str) -> StoreResult<Vec<Session>> {
    let sessions: Vec<Vec<Option<String>>> = serde_json::from_str(reply)
        .map_err(|e| StoreError::Unavailable(format!("Redis: bad sessions reply: {e}")))?;
    sessions.into_iter().map(session_from_values).collect()
}

/// [`CREATE`]'s reply: `None` when the limit refused the session, else the addresses of the
/// sessions kept and the sessions evicted.
pub(super) fn created_reply(reply: Vec<Value>) -> StoreResult<Option<(Vec<String>, Vec<Session>)>> {
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
