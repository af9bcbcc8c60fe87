//! A signed-in device: what is stored about it and when it expires.

use super::time::Timestamp;
use super::token::TokenHash;
use super::user_agent::DeviceType;
use std::time::Duration;

/// One session as stored. The token itself is never here, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Public random identifier used in URLs, tables and the API.
    pub id: String,
    pub token_hash: TokenHash,
    pub user_id: i64,
    pub username: String,
    /// The address the session was created from; it never changes.
    pub ip_address: String,
    /// The address the session was last used from (the same at first).
    pub last_ip_address: String,
    pub user_agent: String,
    pub browser: String,
    pub os: String,
    pub device_type: DeviceType,
    pub created_at: Timestamp,
    pub last_active_at: Timestamp,
    /// Idle expiry as of the last stored activity, capped by `absolute_expires_at`.
    pub expires_at: Timestamp,
    pub absolute_expires_at: Timestamp,
    pub remember_me: bool,
}

/// Idle timeout and absolute lifetime, the two clocks every session runs against.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle_timeout: Duration,
    pub absolute_lifetime: Duration,
}

impl Lifetimes {
    /// The earlier of idle and absolute expiry for a session last active at `last_active_at`.
    pub fn expiry(&self, last_active_at: Timestamp, absolute_expires_at: Timestamp) -> Timestamp {
        last_active_at
            .plus(self.idle_timeout)
            .min(absolute_expires_at)
    }
}

impl Session {
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// The distinct, non-empty addresses it was used from that are kept: the first and the last.
    pub fn addresses(&self) -> impl Iterator<Item = &str> {
        let last = (self.last_ip_address != self.ip_address).then_some(&self.last_ip_address);
        std::iter::once(&self.ip_address)
            .chain(last)
            .map(String::as_str)
            .filter(|ip| !ip.is_empty())
    }

    /// Whether enough time has passed since the stored activity to write it again.
    pub fn activity_is_stale(&self, now: Timestamp, write_interval: Duration) -> bool {
        now >= self.last_active_at.plus(write_interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_the_earlier_of_idle_and_absolute() {
        let lifetimes = Lifetimes {
            idle_timeout: Duration::from_secs(60),
            absolute_lifetime: Duration::from_secs(3600),
        };
        assert_eq!(
            lifetimes.expiry(Timestamp(0), Timestamp(3_600_000)),
            Timestamp(60_000)
        );
        assert_eq!(
            lifetimes.expiry(Timestamp(3_590_000), Timestamp(3_600_000)),
            Timestamp(3_600_000)
        );
    }
}

/// Where a request came from, as recorded on sessions and audit events.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip_address: String,
    pub user_agent: String,
}

/// Why a session ended: the audit trail names it, and the browser still holding the ended
/// session's cookie is told at the sign-in page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Logout,
    /// The user ended it from another of their sessions.
    SelfRevoked,
    /// An administrator (or the command line) terminated it.
    Terminated,
    Blocked,
    PasswordChanged,
    PasswordReset,
    UserDeleted,
    /// The user's session limit made room for a newer sign-in.
    Evicted,
    IdleExpiry,
    AbsoluteExpiry,
}

impl EndReason {
    pub const ALL: [EndReason; 10] = [
        EndReason::Logout,
        EndReason::SelfRevoked,
        EndReason::Terminated,
        EndReason::Blocked,
        EndReason::PasswordChanged,
        EndReason::PasswordReset,
        EndReason::UserDeleted,
        EndReason::Evicted,
        EndReason::IdleExpiry,
        EndReason::AbsoluteExpiry,
    ];

    /// The name stored and shown in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Logout => "logout",
            EndReason::SelfRevoked => "self_revoked",
            EndReason::Terminated => "terminated",
            EndReason::Blocked => "blocked",
            EndReason::PasswordChanged => "password_changed",
            EndReason::PasswordReset => "password_reset",
            EndReason::UserDeleted => "user_deleted",
            EndReason::Evicted => "evicted",
            EndReason::IdleExpiry => "idle_expiry",
            EndReason::AbsoluteExpiry => "absolute_expiry",
        }
    }

    pub fn parse(text: &str) -> Option<EndReason> {
        EndReason::ALL.into_iter().find(|r| r.as_str() == text)
    }

    /// Why an expired session expired: it reached its absolute lifetime, or it idled.
    pub fn of_expiry(session: &Session) -> EndReason {
        if session.expires_at >= session.absolute_expires_at {
            EndReason::AbsoluteExpiry
        } else {
            EndReason::IdleExpiry
        }
    }

    /// The sentence the sign-in page shows the browser whose session ended so.
    pub fn notice(self) -> &'static str {
        match self {
            EndReason::Logout => "You signed out.",
            EndReason::SelfRevoked => "You were signed out from another of your devices.",
            EndReason::Terminated => "You were signed out by an administrator.",
            EndReason::Blocked => "You were signed out because your account was blocked.",
            EndReason::PasswordChanged => "You were signed out because your password was changed.",
            EndReason::PasswordReset => {
                "You were signed out because an administrator reset your password."
            }
            EndReason::UserDeleted => "You were signed out because your account was deleted.",
            EndReason::Evicted => {
                "You were signed out because you signed in on more devices than allowed."
            }
            EndReason::IdleExpiry => "You were signed out after a while without activity.",
            EndReason::AbsoluteExpiry => {
                "Your session reached its maximum lifetime; sign in again."
            }
        }
    }
}

#[cfg(test)]
mod end_reason_tests {
    use super::EndReason;

    #[test]
    fn every_reason_parses_back_from_its_name() {
        for reason in EndReason::ALL {
            assert_eq!(EndReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(EndReason::parse("forged"), None);
    }
}
