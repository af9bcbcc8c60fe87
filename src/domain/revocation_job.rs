//! A group revocation run in the background for the console, as every node sees it: whose it
//! is, how far it has got and how it ended. The session store keeps it, so the node that runs
//! it need not be the one asked.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a job is kept after its last update: an outcome nobody came back for, or one
/// whose node stopped.
pub const KEPT_AFTER_UPDATE: Duration = Duration::from_secs(3600);

/// How long a running job may go without an update before it counts as interrupted: longer
/// than the store calls between two updates may take (seconds a step; before the first, the
/// audit of every member's request, bounded at 1 ms a user: 100,000 users in under 2 minutes).
pub const STALLED_AFTER: Duration = Duration::from_secs(5 * 60);

/// How a revocation ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevocationOutcome {
    /// How many sessions of how many users ended.
    Revoked { sessions: u64, users: u64 },
    /// Refused for the caller's reason: the error's code and message.
    Refused { code: String, message: String },
    /// Failed on the server's side (logged where it happened).
    Failed,
}

/// One group revocation, by the random id of its progress page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationJob {
    /// The public id of the administrator's session that started it: only it sees it.
    pub session_id: String,
    pub group: String,
    /// Users done of `total`.
    pub done: u64,
    pub total: u64,
    /// Set when it is over.
    pub outcome: Option<RevocationOutcome>,
    #[serde(with = "millis")]
    pub updated_at: Timestamp,
}

/// A timestamp kept whole, in milliseconds (its own form is an RFC 3339 second).
mod millis {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(at.0)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        i64::deserialize(deserializer).map(Timestamp)
    }
}

impl RevocationJob {
    /// A job of `session_id` over `group`, not begun yet.
    pub fn new(session_id: &str, group: &str, now: Timestamp) -> RevocationJob {
        RevocationJob {
            session_id: session_id.to_owned(),
            group: group.to_owned(),
            done: 0,
            total: 0,
            outcome: None,
            updated_at: now,
        }
    }

    /// When the store may forget it.
    pub fn expires_at(&self) -> Timestamp {
        self.updated_at.plus(KEPT_AFTER_UPDATE)
    }

    /// Whether it will never end: still running, but not updated for [`STALLED_AFTER`]
    /// (its node stopped).
    pub fn interrupted(&self, now: Timestamp) -> bool {
        self.outcome.is_none() && now >= self.updated_at.plus(STALLED_AFTER)
    }

    /// The job as one text, the same for every store.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a revocation job serializes")
    }

    /// A job from [`RevocationJob::encode`]; `None` if the text is not one.
    pub fn decode(text: &str) -> Option<RevocationJob> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_encodes_and_decodes_whole() {
        let mut job = RevocationJob::new("sid", "acme/platform", Timestamp(1_000));
        job.done = 500;
        job.total = 1200;
        job.outcome = Some(RevocationOutcome::Refused {
            code: "conflict".into(),
            message: "changed | since".into(),
        });
        assert_eq!(RevocationJob::decode(&job.encode()), Some(job));
        assert_eq!(RevocationJob::decode("{}"), None);
    }

    #[test]
    fn only_a_running_job_left_without_updates_is_interrupted() {
        let mut job = RevocationJob::new("sid", "g", Timestamp(0));
        assert!(
            !job.interrupted(
                Timestamp(0)
                    .plus(STALLED_AFTER)
                    .minus(Duration::from_millis(1))
            )
        );
        assert!(job.interrupted(Timestamp(0).plus(STALLED_AFTER)));
        job.outcome = Some(RevocationOutcome::Failed);
        assert!(!job.interrupted(Timestamp(0).plus(KEPT_AFTER_UPDATE)));
        assert_eq!(job.expires_at(), Timestamp(0).plus(KEPT_AFTER_UPDATE));
    }
}
