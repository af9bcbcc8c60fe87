//! [`FailureCounters`] kept by this process, for a deployment without Redis.

use super::{FailureCounters, StoreResult, Tally};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most tallies kept at once: about 100 bytes each, so memory stays bounded however many
/// addresses and names an attack spreads over.
const CAPACITY: usize = 100_000;

/// Tallies by key: the count and when it is forgotten.
pub struct MemoryCounters {
    tallies: Mutex<HashMap<String, (u32, Instant)>>,
    capacity: usize,
}

impl Default for MemoryCounters {
    fn default() -> Self {
        MemoryCounters::with_capacity(CAPACITY)
    }
}

impl MemoryCounters {
    fn with_capacity(capacity: usize) -> Self {
        MemoryCounters {
            tallies: Mutex::default(),
            capacity,
        }
    }

    fn tallies(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        // A poisoned lock only means a panic elsewhere; the map itself is always whole.
        self.tallies.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Makes room for one more tally: drops the forgotten ones, and when none is, the one that
/// would be forgotten soonest, which matters least.
fn make_room(tallies: &mut HashMap<String, (u32, Instant)>, capacity: usize, now: Instant) {
    if tallies.len() < capacity {
        return;
    }
    tallies.retain(|_, (_, until)| *until > now);
    if tallies.len() >= capacity
        && let Some(soonest) = tallies
            .iter()
            .min_by_key(|(_, (_, until))| *until)
            .map(|(key, _)| key.clone())
    {
        tallies.remove(&soonest);
    }
}

#[async_trait]
impl FailureCounters for MemoryCounters {
    async fn tally(&self, key: &str) -> StoreResult<Option<Tally>> {
        let now = Instant::now();
        Ok(self
            .tallies()
            .get(key)
            .filter(|(_, until)| *until > now)
            .map(|&(count, until)| Tally {
                count,
                expires_in: until - now,
            }))
    }

    async fn add_failure(&self, key: &str, ttl: Duration, extend: bool) -> StoreResult<Tally> {
        let now = Instant::now();
        let mut tallies = self.tallies();
        if !tallies.contains_key(key) {
            make_room(&mut tallies, self.capacity, now);
        }
        let entry = tallies.entry(key.to_owned()).or_insert((0, now + ttl));
        if entry.1 <= now {
            *entry = (0, now + ttl);
        }
        entry.0 = entry.0.saturating_add(1);
        if extend {
            entry.1 = now + ttl;
        }
        Ok(Tally {
            count: entry.0,
            expires_in: entry.1 - now,
        })
    }

    async fn forget(&self, key: &str) -> StoreResult<()> {
        self.tallies().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    #[tokio::test]
    async fn a_fixed_window_counts_from_its_first_failure_and_an_extended_one_from_its_last() {
        let counters = MemoryCounters::default();
        assert_eq!(counters.tally("a").await.unwrap(), None);
        counters.add_failure("a", MINUTE, false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let fixed = counters.add_failure("a", MINUTE, false).await.unwrap();
        assert_eq!(fixed.count, 2);
        assert!(fixed.expires_in < MINUTE - Duration::from_millis(10));
        let extended = counters.add_failure("a", MINUTE, true).await.unwrap();
        assert_eq!(extended.count, 3);
        assert!(extended.expires_in > MINUTE - Duration::from_millis(10));
        counters.forget("a").await.unwrap();
        assert_eq!(counters.tally("a").await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_forgotten_tally_starts_again_and_memory_stays_bounded() {
        let counters = MemoryCounters::with_capacity(2);
        let short = Duration::from_millis(10);
        counters.add_failure("a", short, false).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(counters.tally("a").await.unwrap(), None);
        assert_eq!(
            counters
                .add_failure("a", MINUTE, false)
                .await
                .unwrap()
                .count,
            1
        );
        counters.add_failure("b", 2 * MINUTE, false).await.unwrap();
        counters.add_failure("c", 2 * MINUTE, false).await.unwrap();
        assert_eq!(counters.tallies().len(), 2);
        assert_eq!(
            counters.tally("a").await.unwrap(),
            None,
            "soonest to go went"
        );
        assert_eq!(counters.tally("b").await.unwrap().unwrap().count, 1);
    }
}
