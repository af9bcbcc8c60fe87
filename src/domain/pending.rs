//! A pending sign-in: a password proven, but no session yet because something else must
//! happen first. It is not a session: its token opens nothing but the step it waits for, and
//! it expires within minutes.

use super::time::Timestamp;
use std::time::Duration;

/// How long a pending sign-in waits for its step.
pub const PENDING_SIGN_IN_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// What a pending sign-in waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingPurpose {
    /// The user is at the concurrent-session limit: ending one of their sessions makes room.
    SessionLimit,
}

impl PendingPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            PendingPurpose::SessionLimit => "session_limit",
        }
    }

    pub fn parse(text: &str) -> Option<PendingPurpose> {
        (text == "session_limit").then_some(PendingPurpose::SessionLimit)
    }
}

/// A sign-in waiting for its `purpose`, kept by the session store under its token's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    pub user_id: i64,
    pub purpose: PendingPurpose,
    /// Whether the session it becomes is remembered ("Remember me" was ticked).
    pub remember_me: bool,
    pub expires_at: Timestamp,
}
