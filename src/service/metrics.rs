//! Counters for `GET /metrics`, kept in the service so every entry point counts the same.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub logins_succeeded: AtomicU64,
    pub logins_failed: AtomicU64,
    pub checks_valid: AtomicU64,
    pub checks_rejected: AtomicU64,
    pub check_cache_hits: AtomicU64,
    pub activity_writes: AtomicU64,
    pub remember_me_renewals: AtomicU64,
    pub sessions_revoked: AtomicU64,
}

/// Adds one to a counter.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    /// The Prometheus text exposition of the counters and the given gauges.
    pub fn render(&self, active_sessions: u64, open_alarms: u64) -> String {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        counter(
            "sessiond_logins_total",
            "Sign-in attempts by outcome.",
            &[
                ("{outcome=\"success\"}", read(&self.logins_succeeded)),
                ("{outcome=\"failure\"}", read(&self.logins_failed)),
            ],
        );
        counter(
            "sessiond_session_checks_total",
            "Session checks by result.",
            &[
                ("{result=\"valid\"}", read(&self.checks_valid)),
                ("{result=\"rejected\"}", read(&self.checks_rejected)),
            ],
        );
        counter(
            "sessiond_session_check_cache_hits_total",
            "Valid session checks answered from memory after a stamp read (see docs/deployment.md).",
            &[("", read(&self.check_cache_hits))],
        );
        counter(
            "sessiond_activity_writes_total",
            "Last-activity writes (at most one per session per activity_write_interval).",
            &[("", read(&self.activity_writes))],
        );
        counter(
            "sessiond_remember_me_renewals_total",
            "Sessions re-created from a remember-me token.",
            &[("", read(&self.remember_me_renewals))],
        );
        counter(
            "sessiond_sessions_revoked_total",
            "Sessions ended by logout, revocation or termination.",
            &[("", read(&self.sessions_revoked))],
        );
        for (name, help, value) in [
            (
                "sessiond_active_sessions",
                "Unexpired sessions in the store.",
                active_sessions,
            ),
            (
                "sessiond_open_alarms",
                "IP-spread alarms not yet acknowledged.",
                open_alarms,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}
