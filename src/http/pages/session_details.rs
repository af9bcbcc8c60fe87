//! What both session pages show of one session beyond its row: exact times, both addresses
//! and the raw User-Agent, in a disclosure reachable by keyboard and on phones (a `title`
//! is neither), and the words that tell a screen reader one session from another.

use super::times::TimeView;
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::domain::user_agent::device_name;

pub struct SessionDetails {
    /// "Firefox on Ubuntu".
    pub device: String,
    /// The address it was created from.
    pub ip_address: String,
    /// The address it was last used from, when another.
    pub last_ip_address: Option<String>,
    /// The raw User-Agent header.
    pub user_agent: String,
    pub created: TimeView,
    pub last_active: TimeView,
    /// The absolute expiry.
    pub expires: TimeView,
    /// The idle deadline, while it comes before the absolute expiry.
    pub idle_expires: Option<TimeView>,
}

impl SessionDetails {
    pub fn new(session: &Session, now: Timestamp) -> SessionDetails {
        SessionDetails {
            device: device_name(&session.browser, &session.os),
            ip_address: session.ip_address.clone(),
            last_ip_address: (session.last_ip_address != session.ip_address)
                .then(|| session.last_ip_address.clone()),
            user_agent: session.user_agent.clone(),
            created: TimeView::new(session.created_at, now),
            last_active: TimeView::new(session.last_active_at, now),
            expires: TimeView::new(session.absolute_expires_at, now),
            idle_expires: (session.expires_at < session.absolute_expires_at)
                .then(|| TimeView::new(session.expires_at, now)),
        }
    }

    /// The address it is used from now.
    pub fn address(&self) -> &str {
        self.last_ip_address.as_deref().unwrap_or(&self.ip_address)
    }

    /// "Firefox on Ubuntu from 10.0.0.2, signed in 7 Dec 2026, 22:13 UTC, last active 2
    /// minutes ago": for the label of an action on the session, so that a screen reader
    /// tells two sessions of one person apart.
    pub fn spoken(&self) -> String {
        format!(
            "{} from {}, signed in {}, last active {}",
            self.device,
            self.address(),
            self.created.exact,
            self.last_active.relative
        )
    }
}
