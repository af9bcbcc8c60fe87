//! The examples in the OpenAPI document, built through the views the API answers with, so an
//! example always has the shape of a real answer.

use crate::domain::alarm::Alarm;
use crate::domain::audit::{AuditEvent, AuditKind, Outcome};
use crate::domain::group::{Group, GroupPath};
use crate::domain::session::{ClientInfo, Session};
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::domain::user::{Email, User, UserKind, UserState, Username};
use crate::domain::user_agent::DeviceType;
use crate::http::csrf::cross_origin_refused;
use crate::http::error::ApiError;
use crate::http::extract;
use crate::service::ServiceError;
use crate::service::admin::UserOverview;
use crate::service::group_tree::GroupOverview;
use crate::service::groups::{AffectedUser, GroupListing, RevocationReport};
use crate::store::Page;
use crate::views::{
    AdminUserView, AlarmPage, AlarmView, AuditPage, CreatedGroups, CreatedUserView, GroupTree,
    LimitSessions, LoginResponse, OwnSessions, Paging, RevocationReportView, SessionPage,
    SessionView, SignInHeldView, UserPage, UserView, Whoami,
};
use axum::http::StatusCode;
use serde_json::Value;

/// 2023-11-14T22:13:20Z, and minutes after it.
fn at(minutes: i64) -> Timestamp {
    Timestamp(1_700_000_000_000 + minutes * 60_000)
}

fn alice() -> User {
    User {
        id: 7,
        username: Username::parse("alice").expect("a valid username"),
        name: "Alice Example".into(),
        email: Email::parse("alice@example.com").expect("a valid address"),
        state: UserState::Active,
        kind: UserKind::Human,
        is_admin: false,
        is_owner: false,
        password_hash: None,
        failed_logins: 0,
        locked_until: None,
        created_at: at(-10_000),
        must_change_password: false,
        locale: None,
    }
}

fn session() -> Session {
    Session {
        id: "k3Jd9sQx2LmA0pVz".into(),
        token_hash: TokenHash([0; 32]),
        user_id: 7,
        username: "alice".into(),
        ip_address: "203.0.113.7".into(),
        last_ip_address: "198.51.100.23".into(),
        user_agent:
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0".into(),
        browser: "Firefox".into(),
        os: "Ubuntu".into(),
        device_type: DeviceType::Desktop,
        created_at: at(0),
        last_active_at: at(42),
        expires_at: at(42 + 30),
        absolute_expires_at: at(12 * 60),
        remember_me: false,
    }
}

fn page<T>(items: Vec<T>) -> Page<T> {
    Page {
        total: items.len() as u64,
        items,
    }
}

const FIRST_PAGE: Paging = Paging {
    limit: 50,
    offset: 0,
};

pub fn login() -> LoginResponse {
    LoginResponse {
        user: UserView::from(&alice()),
        session: SessionView::new(&session(), None),
        token: "sJ4pX0o9vT2wQ8eR6yU1iA7sD3fG5hK".into(),
        password_change_required: false,
    }
}

pub fn sign_in_held() -> SignInHeldView {
    let held = ServiceError::SignInHeld {
        max: 10,
        limit_token: crate::domain::token::SecretToken::generate(),
    };
    SignInHeldView::new(
        "session_limit",
        held.to_string(),
        "q3Vb8Zk1mN0pL7sT4wX9yA2cE6gH5jR".into(),
    )
}

pub fn limit_sessions() -> LimitSessions {
    LimitSessions::new(&[session()])
}

pub fn whoami() -> Whoami {
    Whoami {
        user: UserView::from(&alice()),
        session: SessionView::new(&session(), None),
    }
}

pub fn own_sessions() -> OwnSessions {
    OwnSessions {
        sessions: vec![SessionView::new(&session(), Some(true))],
    }
}

pub fn session_page() -> SessionPage {
    SessionPage::new(&page(vec![session()]), FIRST_PAGE)
}

pub fn user_page() -> UserPage {
    let overview = UserOverview {
        user: alice(),
        active_sessions: 1,
        last_active_at: Some(at(42)),
    };
    UserPage::new(&page(vec![overview]), FIRST_PAGE, at(60))
}

/// A user as the admin API shows one: alice, one session.
pub fn admin_user() -> AdminUserView {
    let overview = UserOverview {
        user: alice(),
        active_sessions: 1,
        last_active_at: Some(at(42)),
    };
    AdminUserView::new(&overview, at(60))
}

/// Carol just created, with a generated password.
pub fn created_user() -> CreatedUserView {
    let mut carol = alice();
    carol.id = 12;
    carol.username = Username::parse("carol").expect("a valid username");
    carol.name = "Carol".into();
    carol.email = Email::parse("carol@example.com").expect("a valid address");
    carol.must_change_password = true;
    let overview = UserOverview {
        user: carol,
        active_sessions: 0,
        last_active_at: None,
    };
    CreatedUserView {
        user: AdminUserView::new(&overview, at(60)),
        password: Some("Xq3v9LbT0mR2sW8yK1pN4dF6hJ7gC5aE".into()),
    }
}

pub fn audit_page() -> AuditPage {
    let client = ClientInfo {
        ip_address: "203.0.113.7".into(),
        user_agent: session().user_agent,
    };
    let event = AuditEvent::new(
        at(0),
        AuditKind::LoginSuccess,
        "user:alice",
        Outcome::Success,
    )
    .subject(7, "alice")
    .session(&session().id)
    .client(&client);
    AuditPage::new(&page(vec![AuditEvent { id: 1, ..event }]), FIRST_PAGE)
}

fn alarm() -> Alarm {
    Alarm {
        id: 3,
        user_id: 7,
        username: "alice".into(),
        ip_addresses: vec![
            "198.51.100.4".into(),
            "203.0.113.7".into(),
            "192.0.2.9".into(),
        ],
        first_seen_at: at(30),
        last_seen_at: at(42),
        acknowledged_at: None,
        acknowledged_by: None,
    }
}

pub fn alarm_page() -> AlarmPage {
    AlarmPage::new(&page(vec![alarm()]), FIRST_PAGE)
}

pub fn acknowledged_alarm() -> AlarmView {
    AlarmView::from(&Alarm {
        acknowledged_at: Some(at(50)),
        acknowledged_by: Some("user:root".into()),
        ..alarm()
    })
}

fn group(id: i64, parent_id: Option<i64>, path: &str) -> Group {
    let path = GroupPath::parse(path).expect("a valid path");
    Group {
        id,
        parent_id,
        name: path.segment().to_owned(),
        path,
        created_at: at(-10_000),
    }
}

pub fn group_tree() -> GroupTree {
    let item = |group: Group, members: &[&str], inherited: &[&str], shared: &[&str], sessions| {
        let names = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        GroupOverview {
            depth: group.path.depth(),
            listing: GroupListing {
                group,
                members: names(members),
                shared_with: names(shared),
            },
            inherited_members: names(inherited),
            active_sessions: sessions,
        }
    };
    GroupTree::new(&[
        item(group(41, None, "acme"), &["carol"], &[], &[], 1),
        item(
            group(42, Some(41), "acme/platform"),
            &["alice"],
            &["carol", "dave"],
            &["partners"],
            3,
        ),
        item(group(43, None, "partners"), &["dave"], &[], &[], 0),
    ])
}

pub fn created_groups() -> CreatedGroups {
    CreatedGroups::new(&[group(42, Some(41), "acme/platform")])
}

pub fn revocation_report() -> Option<RevocationReportView> {
    let report = RevocationReport {
        group: Some(Group {
            id: 42,
            parent_id: Some(41),
            path: GroupPath::parse("acme/platform").expect("a valid path"),
            name: "platform".into(),
            created_at: at(-10_000),
        }),
        dry_run: true,
        members: 2,
        sessions: 1,
        users_affected: vec![AffectedUser {
            id: 7,
            username: "alice".into(),
            sessions: 1,
        }],
        users_skipped: 1,
        members_fingerprint: String::new(),
    };
    RevocationReportView::new(&report)
}

pub fn unauthorized() -> Value {
    ApiError::unauthorized().body()
}

pub fn throttled() -> Value {
    let wait = std::time::Duration::from_secs(540);
    ApiError::from(crate::service::ServiceError::Throttled(wait)).body()
}

pub fn not_admin() -> Value {
    extract::not_admin().body()
}

pub fn cross_origin() -> Value {
    cross_origin_refused().body()
}

pub fn current_session() -> Value {
    ApiError::from(ServiceError::CurrentSession).body()
}

pub fn store_unavailable() -> Value {
    ApiError::store_unavailable().body()
}

pub fn bad_query() -> Value {
    let refused = Paging::parse(Some("0"), None).expect_err("a limit of 0 is refused");
    ApiError::from(refused).body()
}

/// A JSON body refused before the handler runs, with the text Axum's rejection gives.
fn bad_body(status: StatusCode, message: &str) -> Value {
    ApiError::new(status, "bad_request", message).body()
}

pub fn malformed_json() -> Value {
    bad_body(
        StatusCode::BAD_REQUEST,
        "Failed to parse the request body as JSON: EOF while parsing an object at line 1 column 1",
    )
}

pub fn body_too_large() -> Value {
    bad_body(
        StatusCode::PAYLOAD_TOO_LARGE,
        "Failed to buffer the request body: length limit exceeded",
    )
}

pub fn not_json() -> Value {
    bad_body(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Expected request with `Content-Type: application/json`",
    )
}

pub fn wrong_fields() -> Value {
    bad_body(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Failed to deserialize the JSON body into the target type: missing field `password` \
         at line 1 column 17",
    )
}
