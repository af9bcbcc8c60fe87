//! What the session check remembers between requests, so a valid session costs a stamp
//! read instead of a session read and a user read.
//!
//! An entry is a session and its user as last read, with the user's stamp
//! ([`SessionStore::user_stamp`](crate::store::SessionStore::user_stamp)) as read *before*
//! them. Every change that could end the session or alter what the check answers (a deletion,
//! a new address, the user blocked, locked or unlocked) gives the user a new stamp after it
//! is committed, on every node and process. So an entry whose stamp still equals the user's
//! current one was read after the last such change, and a revocation anywhere shows at the
//! very next request. Expiry and the activity write are judged on the entry's own times.
//!
//! The first read of a token does not know the user, so it cannot read the stamp before the
//! session: its entry is kept without one (it only names the user), and the next check reads
//! the stamp first and then the stores again.
//!
//! Entries are found by a keyed SipHash of the token, not by its SHA-256 (what the stores
//! index): a hit then hashes ~40 bytes with SipHash instead of running SHA-256, which on a
//! CPU without SHA instructions was the largest single part of a remembered check.

use super::auth::Authenticated;
use crate::domain::session::ClientInfo;
use crate::domain::time::Timestamp;
use crate::domain::token::{SecretToken, random_bytes};
use siphasher::sip128::SipHasher24;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Separate locks, so concurrent checks rarely wait for each other.
const SHARDS: usize = 64;

/// Hashes a [`CacheKey`] by its first eight bytes instead of SipHash over all of it: they are
/// keyed SipHash output, evenly spread already, and no client can choose keys that collide.
#[derive(Default)]
struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut prefix = [0; 8];
        let length = bytes.len().min(8);
        prefix[..length].copy_from_slice(&bytes[..length]);
        self.0 ^= u64::from_ne_bytes(prefix);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Entries = HashMap<CacheKey, Entry, BuildHasherDefault<PrefixHasher>>;

/// Names a token in the cache: SipHash-2-4 (a keyed pseudo-random function) of the token
/// under a secret key drawn when the cache is made, 128 bits. Without the key no one can
/// pick a token whose name is another token's, and the name alone opens nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CacheKey(u128);

/// One lock and its entries, alone on their cache lines, so the cores checking sessions in
/// different shards do not take each other's lines away.
#[repr(align(128))]
#[derive(Default)]
struct Shard(Mutex<Entries>);

#[derive(Debug, Clone)]
pub struct Entry {
    /// Shared with the requests it answers, so a hit copies nothing.
    pub found: Arc<Authenticated>,
    /// The user's stamp read before `found` was; `None` until such a read happened.
    pub stamp: Option<u64>,
}

impl Entry {
    /// Whether this entry answers the check at `now` without the stores: read under the
    /// current stamp, unexpired, no activity write due and the same address.
    pub fn answers(
        &self,
        current_stamp: Option<u64>,
        now: Timestamp,
        client: &ClientInfo,
        activity_write_interval: Duration,
    ) -> bool {
        let session = &self.found.session;
        self.stamp.is_some()
            && self.stamp == current_stamp
            && !session.is_expired(now)
            && !session.activity_is_stale(now, activity_write_interval)
            && (client.ip_address.is_empty() || client.ip_address == session.ip_address)
    }
}

pub struct CheckCache {
    names: SipHasher24,
    shards: Vec<Shard>,
    /// Entries each shard holds at most.
    shard_capacity: usize,
}

impl CheckCache {
    /// Remembers about `capacity` tokens (about 1 KiB each), rounded up to whole shards.
    pub fn new(capacity: usize) -> Self {
        CheckCache {
            names: SipHasher24::new_with_key(&random_bytes::<16>()),
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// The name `token`'s entry is kept under.
    pub fn key(&self, token: &SecretToken) -> CacheKey {
        CacheKey(self.names.hash(token.expose().as_bytes()).into())
    }

    fn shard(&self, key: &CacheKey) -> &Mutex<Entries> {
        // Any bits of the key spread evenly. The top ones pick the shard, so the low eight
        // bytes, which the map hashes, still spread the keys within it.
        &self.shards[(key.0 >> 120) as usize % SHARDS].0
    }

    pub fn get(&self, key: &CacheKey) -> Option<Entry> {
        let shard = self.shard(key).lock().ok()?;
        shard.get(key).cloned()
    }

    /// Remembers a valid session.
    pub fn put(&self, key: CacheKey, found: Arc<Authenticated>, stamp: Option<u64>) {
        let Ok(mut shard) = self.shard(&key).lock() else {
            return;
        };
        if shard.len() >= self.shard_capacity && !shard.contains_key(&key) {
            // Full: drop some entry; a dropped token costs one full check later.
            if let Some(victim) = shard.keys().next().copied() {
                shard.remove(&victim);
            }
        }
        shard.insert(key, Entry { found, stamp });
    }

    pub fn remove(&self, key: &CacheKey) {
        if let Ok(mut shard) = self.shard(key).lock() {
            shard.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_within_a_cache_and_secret_to_it() {
        let (one, other) = (CheckCache::new(10), CheckCache::new(10));
        let token = SecretToken::generate();
        assert_eq!(one.key(&token), one.key(&token));
        assert_ne!(one.key(&token), one.key(&SecretToken::generate()));
        // A key drawn per cache: another process cannot tell which name a token has here.
        assert_ne!(one.key(&token), other.key(&token));
    }
}
