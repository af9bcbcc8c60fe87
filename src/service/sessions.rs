//! Listing who is signed in, for operators.

use super::{Service, ServiceResult};
use crate::domain::session::Session;
use crate::store::SessionFilter;

/// Sessions fetched per store call while walking every active session.
const PAGE_SIZE: u32 = 500;

impl Service {
    /// Every unexpired session (of one user, when given), most recently active first.
    pub async fn active_sessions(&self, user_id: Option<i64>) -> ServiceResult<Vec<Session>> {
        let now = self.now();
        let filter = SessionFilter {
            users: user_id.map(|id| vec![id]),
            address: None,
        };
        let mut sessions = Vec::new();
        loop {
            let page = self
                .sessions
                .scan(&filter, now, PAGE_SIZE, sessions.len() as u64)
                .await?;
            let done = page.items.len() < PAGE_SIZE as usize;
            sessions.extend(page.items);
            if done {
                return Ok(sessions);
            }
        }
    }
}
