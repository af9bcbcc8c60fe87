//! A request's valid session as the session check finds it, shared by the check and by the
//! cache that remembers it between requests.

use crate::domain::session::Session;
use crate::domain::token::SecretToken;
use crate::domain::user::User;
use bytes::Bytes;
use std::sync::OnceLock;

/// A new session and the secrets to hand to the browser.
#[derive(Debug)]
pub struct NewSession {
    pub user: User,
    pub session: Session,
    pub token: SecretToken,
    pub remember_token: Option<SecretToken>,
}

/// A request's valid session; `renewed` is set when remember-me created it just now.
///
/// In declared order, so that what answering a remembered check reads (the reference count
/// before it, `check_answer`, `renewed`) fills the allocation's first cache line instead of
/// lying among `user`'s and `session`'s fields.
#[derive(Debug)]
#[repr(C)]
pub struct Authenticated {
    pub check_answer: CheckAnswer,
    pub renewed: Option<Box<NewSession>>,
    pub user: User,
    pub session: Session,
}

// With the reference counts (16 bytes) before it, what a remembered check reads stays within
// the first 64 bytes: one cache line.
const _: () = assert!(std::mem::offset_of!(Authenticated, user) <= 48);

/// The answer to a session check as an entry point rendered it, kept with the session: the
/// check cache shares one answer among all requests of a session, so it is rendered once, not
/// per request (the HTTP layer keeps its `GET /api/session` response here, laid out its own
/// way). Held inline, not boxed, so nothing stands between the session and the answer's bytes.
#[derive(Default)]
pub struct CheckAnswer(OnceLock<Bytes>);

impl CheckAnswer {
    /// The kept answer, rendered by `render` the first time.
    pub fn get_or_init(&self, render: impl FnOnce() -> Bytes) -> &Bytes {
        self.0.get_or_init(render)
    }
}

impl std::fmt::Debug for CheckAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CheckAnswer")
    }
}
