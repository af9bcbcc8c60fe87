//! What the SQL backends (SQLite, PostgreSQL) share: column lists and the mapping from a row
//! to a domain value, written once over a small column-access trait each driver implements.

use super::StoreError;
use crate::domain::alarm::{Alarm, sort_addresses};
use crate::domain::api_token::ApiToken;
use crate::domain::audit::{AuditEvent, AuditKind, Outcome};
use crate::domain::group::{Group, GroupPath};
use crate::domain::pending::{PendingPurpose, PendingSignIn};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user::{Email, NewUser, User, UserKind, UserState, Username};
use crate::domain::user_agent::DeviceType;

/// A session's columns. `last_ip_address` is NULL in rows stored before it existed, whose
/// `ip_address` was then the latest address: read as the same.
pub const SESSION_COLUMNS: &str = "id, token_hash, user_id, username, ip_address, user_agent, browser, os, \
     device_type, created_at, last_active_at, expires_at, absolute_expires_at, remember_me, \
     last_ip_address";

pub const USER_COLUMNS: &str = "id, username, name, email, state, kind, is_admin, is_owner, \
     password_hash, failed_logins, locked_until, created_at, must_change_password, locale";

/// How many columns [`USER_COLUMNS`] names: the index of a column selected after them.
pub const USER_COLUMN_COUNT: usize = 14;

pub const AUDIT_COLUMNS: &str = "id, at, kind, actor, subject_user_id, subject_username, \
     session_id, ip_address, user_agent, outcome, reason, session_count";

/// Typed access to a row's columns by position; `invalid` reports a value the domain refuses.
pub trait SqlRow {
    type Error;
    fn int(&self, i: usize) -> Result<i64, Self::Error>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, Self::Error>;
    fn text(&self, i: usize) -> Result<String, Self::Error>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, Self::Error>;
    fn flag(&self, i: usize) -> Result<bool, Self::Error>;
    fn bytes(&self, i: usize) -> Result<Vec<u8>, Self::Error>;
    fn invalid(i: usize, what: String) -> Self::Error;
}

/// A row selected with [`SESSION_COLUMNS`].
pub fn session_from_row<R: SqlRow>(row: &R) -> Result<Session, R::Error> {
    let hash = row.bytes(1)?;
    let token_hash = TokenHash(
        hash.try_into()
            .map_err(|_| R::invalid(1, "token_hash".into()))?,
    );
    let ip_address = row.text(4)?;
    Ok(Session {
        id: row.text(0)?,
        token_hash,
        user_id: row.int(2)?,
        username: row.text(3)?,
        last_ip_address: row.opt_text(14)?.unwrap_or_else(|| ip_address.clone()),
        ip_address,
        user_agent: row.text(5)?,
        browser: row.text(6)?,
        os: row.text(7)?,
        device_type: DeviceType::parse(&row.text(8)?),
        created_at: Timestamp(row.int(9)?),
        last_active_at: Timestamp(row.int(10)?),
        expires_at: Timestamp(row.int(11)?),
        absolute_expires_at: Timestamp(row.int(12)?),
        remember_me: row.flag(13)?,
    })
}

/// A row selected with [`USER_COLUMNS`].
pub fn user_from_row<R: SqlRow>(row: &R) -> Result<User, R::Error> {
    Ok(User {
        id: row.int(0)?,
        username: Username::parse(&row.text(1)?).map_err(|e| R::invalid(1, e))?,
        name: row.text(2)?,
        email: Email::parse(&row.text(3)?).map_err(|e| R::invalid(3, e))?,
        state: UserState::parse(&row.text(4)?),
        kind: UserKind::parse(&row.text(5)?),
        is_admin: row.flag(6)?,
        is_owner: row.flag(7)?,
        password_hash: row.opt_text(8)?,
        failed_logins: u32::try_from(row.int(9)?).unwrap_or(u32::MAX),
        locked_until: row.opt_int(10)?.map(Timestamp),
        created_at: Timestamp(row.int(11)?),
        must_change_password: row.flag(12)?,
        locale: row.opt_text(13)?,
    })
}

/// A row selected with [`AUDIT_COLUMNS`].
pub fn audit_from_row<R: SqlRow>(row: &R) -> Result<AuditEvent, R::Error> {
    let kind = row.text(2)?;
    Ok(AuditEvent {
        id: row.int(0)?,
        at: Timestamp(row.int(1)?),
        kind: AuditKind::parse(&kind).ok_or_else(|| R::invalid(2, kind))?,
        actor: row.text(3)?,
        subject_user_id: row.opt_int(4)?,
        subject_username: row.opt_text(5)?,
        session_id: row.opt_text(6)?,
        ip_address: row.opt_text(7)?,
        user_agent: row.opt_text(8)?,
        outcome: if row.text(9)? == Outcome::Success.as_str() {
            Outcome::Success
        } else {
            Outcome::Failure
        },
        reason: row.opt_text(10)?,
        session_count: row.opt_int(11)?.map(|n| n.max(0) as u64),
    })
}

pub const API_TOKEN_COLUMNS: &str = "id, name, created_at, last_used_at";

/// A row selected with [`API_TOKEN_COLUMNS`].
pub fn api_token_from_row<R: SqlRow>(row: &R) -> Result<ApiToken, R::Error> {
    Ok(ApiToken {
        id: row.int(0)?,
        name: row.text(1)?,
        created_at: Timestamp(row.int(2)?),
        last_used_at: row.opt_int(3)?.map(Timestamp),
    })
}

/// How often a token's last use is written, at most.
pub const TOKEN_USE_WRITE_INTERVAL_MS: i64 = 60_000;

pub const ALARM_COLUMNS: &str = "id, user_id, username, ip_addresses, first_seen_at, \
     last_seen_at, acknowledged_at, acknowledged_by";

/// A row selected with [`ALARM_COLUMNS`]; the addresses are stored comma-separated.
pub fn alarm_from_row<R: SqlRow>(row: &R) -> Result<Alarm, R::Error> {
    let mut ip_addresses: Vec<String> = row.text(3)?.split(',').map(str::to_owned).collect();
    // Rows written before addresses were sorted as numbers read in the same order.
    sort_addresses(&mut ip_addresses);
    Ok(Alarm {
        id: row.int(0)?,
        user_id: row.int(1)?,
        username: row.text(2)?,
        ip_addresses,
        first_seen_at: Timestamp(row.int(4)?),
        last_seen_at: Timestamp(row.int(5)?),
        acknowledged_at: row.opt_int(6)?.map(Timestamp),
        acknowledged_by: row.opt_text(7)?,
    })
}

pub const GROUP_COLUMNS: &str = "id, parent_id, path, name, created_at";

/// A row selected with [`GROUP_COLUMNS`].
pub fn group_from_row<R: SqlRow>(row: &R) -> Result<Group, R::Error> {
    Ok(Group {
        id: row.int(0)?,
        parent_id: row.opt_int(1)?,
        path: GroupPath::parse(&row.text(2)?).map_err(|e| R::invalid(2, e))?,
        name: row.text(3)?,
        created_at: Timestamp(row.int(4)?),
    })
}

/// A parameter value in a driver-neutral form; each SQL backend binds it with its own types.
#[derive(Debug, Clone, Copy)]
pub enum SqlValue<'a> {
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
    Flag(bool),
    Null,
}

impl<'a> From<Option<&'a str>> for SqlValue<'a> {
    fn from(value: Option<&'a str>) -> Self {
        value.map_or(SqlValue::Null, SqlValue::Text)
    }
}

impl From<Option<i64>> for SqlValue<'_> {
    fn from(value: Option<i64>) -> Self {
        value.map_or(SqlValue::Null, SqlValue::Int)
    }
}

/// The values of [`SESSION_COLUMNS`], in order.
pub fn session_values(s: &Session) -> [SqlValue<'_>; 15] {
    use SqlValue::{Flag, Int, Text};
    [
        Text(&s.id),
        SqlValue::Bytes(&s.token_hash.0),
        Int(s.user_id),
        Text(&s.username),
        Text(&s.ip_address),
        Text(&s.user_agent),
        Text(&s.browser),
        Text(&s.os),
        Text(s.device_type.as_str()),
        Int(s.created_at.0),
        Int(s.last_active_at.0),
        Int(s.expires_at.0),
        Int(s.absolute_expires_at.0),
        Flag(s.remember_me),
        Text(&s.last_ip_address),
    ]
}

/// The columns an audit insert writes ([`AUDIT_COLUMNS`] without the generated `id`).
pub const AUDIT_INSERT_COLUMNS: &str = "at, kind, actor, subject_user_id, subject_username, \
     session_id, ip_address, user_agent, outcome, reason, session_count";

/// The values of [`AUDIT_INSERT_COLUMNS`], in order.
pub fn audit_values(e: &AuditEvent) -> [SqlValue<'_>; 11] {
    use SqlValue::{Int, Text};
    [
        Int(e.at.0),
        Text(e.kind.as_str()),
        Text(&e.actor),
        e.subject_user_id.into(),
        e.subject_username.as_deref().into(),
        e.session_id.as_deref().into(),
        e.ip_address.as_deref().into(),
        e.user_agent.as_deref().into(),
        Text(e.outcome.as_str()),
        e.reason.as_deref().into(),
        e.session_count.map(|n| n as i64).into(),
    ]
}

/// The columns a user insert writes, and their values from a new user.
pub const USER_INSERT_COLUMNS: &str = "username, name, email, state, kind, is_admin, is_owner, \
     password_hash, created_at, must_change_password";

/// How many values [`new_user_values`] gives, one per [`USER_INSERT_COLUMNS`].
pub const USER_INSERT_VALUES: usize = 10;

pub fn new_user_values(u: &NewUser, now: Timestamp) -> [SqlValue<'_>; USER_INSERT_VALUES] {
    use SqlValue::{Flag, Int, Text};
    [
        Text(u.username.as_str()),
        Text(&u.name),
        Text(u.email.as_str()),
        Text(UserState::Active.as_str()),
        Text(u.kind.as_str()),
        Flag(u.is_admin),
        Flag(u.is_owner),
        u.password_hash.as_deref().into(),
        Int(now.0),
        Flag(u.must_change_password),
    ]
}

/// `n` numbered placeholders, `?1, ?2, …` or `$1, $2, …`, for an INSERT's VALUES list.
pub fn placeholders(sigil: char, n: usize) -> String {
    (1..=n)
        .map(|i| format!("{sigil}{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `LIKE` pattern (with `ESCAPE '\\'`) of the values that start with `prefix`, any case:
/// compared with a lowercased column, `%` and `_` in it matching only themselves.
pub fn prefix_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The condition of a user search by [`prefix_pattern`] (given as parameter `param`): the
/// username, the e-mail address or the name starts with it.
pub fn user_search_condition(param: &str) -> String {
    ["username", "email", "name"]
        .map(|column| format!("lower({column}) LIKE {param} ESCAPE '\\'"))
        .join(" OR ")
}

/// A uniqueness failure on user insert, told in the operator's terms.
pub fn user_conflict(error: StoreError) -> StoreError {
    match error {
        StoreError::Conflict(_) => {
            StoreError::Conflict("a user with this username or e-mail already exists".into())
        }
        other => other,
    }
}

/// The columns of a pending sign-in, in the order [`pending_from_row`] reads them.
pub const PENDING_COLUMNS: &str = "user_id, purpose, remember_me, expires_at";

/// A row selected with [`PENDING_COLUMNS`].
pub fn pending_from_row<R: SqlRow>(row: &R) -> Result<PendingSignIn, R::Error> {
    let purpose = row.text(1)?;
    Ok(PendingSignIn {
        user_id: row.int(0)?,
        purpose: PendingPurpose::parse(&purpose)
            .ok_or_else(|| R::invalid(1, format!("purpose {purpose:?}")))?,
        remember_me: row.flag(2)?,
        expires_at: Timestamp(row.int(3)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_column_count_counts_the_user_columns() {
        assert_eq!(USER_COLUMNS.split(", ").count(), USER_COLUMN_COUNT);
        assert_eq!(USER_INSERT_COLUMNS.split(", ").count(), USER_INSERT_VALUES);
    }

    #[test]
    fn prefix_patterns_match_their_characters_literally() {
        assert_eq!(prefix_pattern("Al_i%ce\\"), "al\\_i\\%ce\\\\%");
    }
}
