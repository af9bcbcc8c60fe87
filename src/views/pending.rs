//! What the API shows of a sign-in held back at the session limit.

use super::{ErrorBody, ErrorDetail, SessionView};
use crate::domain::pending::PENDING_SIGN_IN_LIFETIME;
use crate::domain::session::Session;
use serde::Serialize;
use utoipa::ToSchema;

/// `409 session_limit` after the right password: the error, and the token that lets the
/// caller end one of their sessions and complete the sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignInHeldView {
    #[serde(flatten)]
    error: ErrorBody,
    /// Good for `GET`/`DELETE`/`POST` on `/api/login/limit…` as `Authorization: Bearer`,
    /// for `expires_in` seconds; nothing else. Shown only here.
    limit_token: String,
    expires_in: u64,
}

impl SignInHeldView {
    pub fn new(code: &str, message: String, limit_token: String) -> Self {
        SignInHeldView {
            error: ErrorBody {
                error: ErrorDetail {
                    code: code.to_owned(),
                    message,
                },
            },
            limit_token,
            expires_in: PENDING_SIGN_IN_LIFETIME.as_secs(),
        }
    }
}

/// The sessions of a user whose sign-in waits at the limit.
#[derive(Debug, Serialize, ToSchema)]
pub struct LimitSessions {
    /// Most recently active first.
    sessions: Vec<SessionView>,
}

impl LimitSessions {
    pub fn new(sessions: &[Session]) -> Self {
        LimitSessions {
            sessions: sessions.iter().map(|s| SessionView::new(s, None)).collect(),
        }
    }
}
