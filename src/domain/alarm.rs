//! IP-spread alarms: one user's active sessions coming from too many addresses.

use super::time::Timestamp;
use serde::Serialize;

/// An alarm about one user; open until an administrator acknowledges it.
#[derive(Debug, Clone, Serialize)]
pub struct Alarm {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    /// The distinct addresses seen among the user's active sessions, sorted.
    pub ip_addresses: Vec<String>,
    pub first_seen_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
}

impl Alarm {
    pub fn is_open(&self) -> bool {
        self.acknowledged_at.is_none()
    }
}
