//! Transport types: objects as the JSON API, the pages and the CLI show them, and the parsing
//! of the paging and filter values their listings take. Nothing here knows about HTTP.

mod admin;
mod groups;
mod pending;
mod query;

pub use admin::{
    AdminUserView, AffectedUserView, AlarmPage, AlarmView, AuditPage, AuditView, CreatedUserView,
    GroupRef, PasswordResetView, RevocationReportView, SessionPage, UserPage,
};
pub use groups::{CreatedGroups, GroupTree, GroupView, MemberBody, NewGroupBody, ShareBody};
pub use pending::{LimitSessions, SignInHeldView};
pub use query::{
    BadQuery, DEFAULT_PAGE, MAX_OFFSET, Paging, RecordId, parse_address_filter, parse_alarm_state,
    parse_audit_kind, parse_dry_run, parse_user_id,
};

use crate::domain::audit::{AuditKind, Outcome};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::user::{User, UserKind, UserState};
use crate::domain::user_agent::DeviceType;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};

/// Every error's body: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable, e.g. `invalid_credentials`, `session_limit`, `not_found`.
    pub code: String,
    /// For people: what went wrong and what to do next.
    pub message: String,
}

/// A session as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Public random id, unrelated to the token.
    pub id: String,
    pub user_id: i64,
    pub username: String,
    /// The address the session was created from; it never changes.
    pub ip_address: String,
    /// The address the session was last used from: `ip_address` until it is used from
    /// another.
    pub last_ip_address: String,
    /// The raw User-Agent header.
    pub user_agent: String,
    pub browser: String,
    pub os: String,
    #[schema(schema_with = device_types)]
    pub device_type: DeviceType,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_active_at: Timestamp,
    /// The absolute expiry: the session cannot outlive this, whatever its activity.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// When the session ends unless it is used before: the idle deadline as of its last
    /// recorded activity, never after `expires_at`.
    #[schema(value_type = String, format = DateTime)]
    pub idle_expires_at: Timestamp,
    pub remember_me: bool,
    /// In the self-service list only: whether this is the caller's own session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

impl SessionView {
    pub fn new(session: &Session, current: Option<bool>) -> Self {
        SessionView {
            id: session.id.clone(),
            user_id: session.user_id,
            username: session.username.clone(),
            ip_address: session.ip_address.clone(),
            last_ip_address: session.last_ip_address.clone(),
            user_agent: session.user_agent.clone(),
            browser: session.browser.clone(),
            os: session.os.clone(),
            device_type: session.device_type,
            created_at: session.created_at,
            last_active_at: session.last_active_at,
            expires_at: session.absolute_expires_at,
            idle_expires_at: session.expires_at,
            remember_me: session.remember_me,
            current,
        }
    }
}

/// A user as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        UserView {
            id: user.id,
            username: user.username.to_string(),
            name: user.name.clone(),
            email: user.email.as_str().to_owned(),
            is_admin: user.is_admin,
        }
    }
}

/// A new session: who, which session, and its bearer token (also set as a cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: UserView,
    pub session: SessionView,
    /// The session token, for `Authorization: Bearer`; shown only here.
    pub token: String,
    /// The password was reset: until the user chooses a new one (`POST /api/user/password`),
    /// every other endpoint answers 401 `password_change_required`.
    pub password_change_required: bool,
}

/// A password changed: how many of the user's other sessions it signed out.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    pub signed_out: u64,
}

/// Who is signed in, and with which session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Whoami {
    pub user: UserView,
    pub session: SessionView,
}

/// The caller's sessions, most recently active first, each with `current`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OwnSessions {
    pub sessions: Vec<SessionView>,
}

/// How many sessions an action ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    pub revoked: u64,
}

/// A string schema that admits only `values`.
fn one_of(values: impl IntoIterator<Item = &'static str>) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .build()
}

/// `device_type`'s values.
pub fn device_types() -> Object {
    use DeviceType::*;
    one_of([Desktop, Smartphone, Tablet, Bot, Other].map(DeviceType::as_str))
}

/// An audit event's `kind`s.
pub fn audit_kinds() -> Object {
    one_of(AuditKind::ALL.map(AuditKind::as_str))
}

/// An audit event's `outcome`s.
pub fn outcomes() -> Object {
    one_of([Outcome::Success, Outcome::Failure].map(Outcome::as_str))
}

/// A user's `state`s.
pub fn user_states() -> Object {
    one_of([UserState::Active, UserState::Blocked].map(UserState::as_str))
}

/// A user's `kind`s.
pub fn user_kinds() -> Object {
    one_of([UserKind::Human, UserKind::Bot].map(UserKind::as_str))
}

/// The alarm listing's `state` filter.
pub fn alarm_states() -> Object {
    one_of(["open", "all"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn enums_show_the_names_their_schemas_list() {
        let listed = |schema: Object| serde_json::to_value(schema.enum_values).unwrap();
        let shown = |values: Vec<serde_json::Value>| json!(values);
        assert_eq!(
            listed(audit_kinds()),
            shown(AuditKind::ALL.map(|k| json!(k)).to_vec())
        );
        assert_eq!(
            listed(outcomes()),
            shown(vec![json!(Outcome::Success), json!(Outcome::Failure)])
        );
        assert_eq!(
            listed(user_states()),
            shown(vec![json!(UserState::Active), json!(UserState::Blocked)])
        );
        assert_eq!(
            listed(user_kinds()),
            shown(vec![json!(UserKind::Human), json!(UserKind::Bot)])
        );
        use DeviceType::*;
        let devices = [Desktop, Smartphone, Tablet, Bot, Other];
        assert_eq!(
            listed(device_types()),
            shown(devices.map(|d| json!(d)).to_vec())
        );
    }
}
