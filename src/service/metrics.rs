//! Counters for `GET /metrics`, kept in the service so every entry point counts the same.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    pub logins_succeeded: Counter,
    pub logins_failed: Counter,
    pub checks_valid: Counter,
    pub checks_rejected: Counter,
    pub check_cache_hits: Counter,
    pub activity_writes: Counter,
    pub remember_me_renewals: Counter,
    pub sessions_revoked: Counter,
}

/// Slots per counter; threads beyond this many share them.
const SLOTS: usize = 8;

/// The slot the next thread to count takes.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static SLOT: usize = NEXT_SLOT.fetch_add(1, Ordering::Relaxed) % SLOTS;
}

/// A counter every core adds to: one slot per thread, each on cache lines of its own, summed
/// when read. One shared atomic moved its line between the cores twice per session check.
#[derive(Debug, Default)]
pub struct Counter {
    slots: [Slot; SLOTS],
}

#[repr(align(128))]
#[derive(Debug, Default)]
struct Slot(AtomicU64);

impl Counter {
    pub fn add(&self, amount: u64) {
        let slot = SLOT.with(|slot| *slot);
        self.slots[slot].0.fetch_add(amount, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.slots
            .iter()
            .map(|slot| slot.0.load(Ordering::Relaxed))
            .sum()
    }
}

/// Adds one to a counter.
pub fn bump(counter: &Counter) {
    counter.add(1);
}

impl Metrics {
    /// The Prometheus text exposition of the counters and the given gauges.
    pub fn render(&self, active_sessions: u64, open_alarms: u64) -> String {
        let read = Counter::get;
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

#[cfg(test)]
mod tests {
    use super::{Counter, bump};
    use std::sync::Arc;

    #[test]
    fn a_counter_sums_what_every_thread_added() {
        let counter = Arc::new(Counter::default());
        // More threads than slots, so some share one.
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        bump(&counter);
                    }
                    counter.add(5);
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counter.get(), 12 * 1005);
    }
}
