//! What the session check remembers between requests, so a valid session costs a stamp
//! read instead of a session read and a user read.
//!
//! An entry is a session and its user as last read, with the user's stamp
//! ([`SessionStore::user_stamp`](crate::store::SessionStore::user_stamp)) as read *before*
//! them. Every change that could end the session or alter what the check answers (a deletion,
//! a new address, the user blocked, locked or unlocked) gives the user a new stamp after it
//! is committed, on every node and process. So an entry whose stamp still equals the user's
//! current one was read after the last such change, and a revocation anywhere shows at the
//! very next request. Expiry and the activity write are judged on the entry's own times; of
//! the checks that find the write due together, one writes it while the entry answers the
//! others ([`CheckCache::claim_activity_write`]).
//!
//! The first read of a token does not know the user, so it cannot read the stamp before the
//! session: its entry is kept without one (it only names the user), and the next check reads
//! the stamp first and then the stores again.
//!
//! Entries are found by a keyed SipHash of the token, not by its SHA-256 (what the stores
//! index): a hit then hashes ~40 bytes with SipHash instead of running SHA-256, which on a
//! CPU without SHA instructions was the largest single part of a remembered check.

use super::authenticated::Authenticated;
use crate::domain::session::ClientInfo;
use crate::domain::time::Timestamp;
use crate::domain::token::{SecretToken, random_bytes};
use siphasher::sip128::SipHasher24;
use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Separate locks, so concurrent checks rarely wait for each other.
const SHARDS: usize = 64;

/// How long a check that writes a session's due activity has before another may (see
/// [`CheckCache::claim_activity_write`]); at most the write interval itself.
const WRITE_CLAIM: Duration = Duration::from_secs(5);

/// What a remembered entry tells a check.
#[derive(Debug, PartialEq, Eq)]
pub enum Judgement {
    /// A valid session, as remembered.
    Answers,
    /// A valid session whose activity write is due.
    ActivityDue,
    /// Only the stores can tell.
    ReadStores,
}

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
    /// `found`'s user. With what follows, all a hit reads of its session, copied here: with
    /// many sessions checked in turn, the session itself is seldom in the CPU's caches.
    pub user_id: i64,
    /// The session's expiry or its next activity write, whichever comes first.
    answers_until: Timestamp,
    /// The session's address, as [`CheckCache::address`] names it.
    address: u64,
}

pub struct CheckCache {
    names: SipHasher24,
    /// Names addresses: keyed SipHash, so no client can pick an address whose name is its
    /// session's and go unrecorded.
    addresses: RandomState,
    activity_write_interval: Duration,
    shards: Vec<Shard>,
    /// Entries each shard holds at most.
    shard_capacity: usize,
}

impl CheckCache {
    /// Remembers about `capacity` tokens (about 1 KiB each), rounded up to whole shards; an
    /// entry answers until its session's activity is `activity_write_interval` old.
    pub fn new(capacity: usize, activity_write_interval: Duration) -> Self {
        CheckCache {
            names: SipHasher24::new_with_key(&random_bytes::<16>()),
            addresses: RandomState::new(),
            activity_write_interval,
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            shard_capacity: capacity.div_ceil(SHARDS).max(1),
        }
    }

    /// The name `token`'s entry is kept under.
    pub fn key(&self, token: &SecretToken) -> CacheKey {
        CacheKey(self.names.hash(token.expose().as_bytes()).into())
    }

    fn address(&self, ip_address: &str) -> u64 {
        self.addresses.hash_one(ip_address)
    }

    fn shard(&self, key: &CacheKey) -> &Mutex<Entries> {
        // Any bits of the key spread evenly. The top ones pick the shard, so the low eight
        // bytes, which the map hashes, still spread the keys within it.
        &self.shards[(key.0 >> 120) as usize % SHARDS].0
    }

    /// What `entry` tells the check at `now`: it answers when read under the current stamp,
    /// unexpired, with no activity write due and from the same address.
    pub fn judge(
        &self,
        entry: &Entry,
        current_stamp: Option<u64>,
        now: Timestamp,
        client: &ClientInfo,
    ) -> Judgement {
        let current = entry.stamp.is_some()
            && entry.stamp == current_stamp
            && (client.ip_address.is_empty() || self.address(&client.ip_address) == entry.address);
        if !current {
            Judgement::ReadStores
        } else if now < entry.answers_until {
            Judgement::Answers
        } else if now < entry.found.session.expires_at {
            Judgement::ActivityDue
        } else {
            Judgement::ReadStores
        }
    }

    /// For a check whose entry is [`Judgement::ActivityDue`]: whether this check is the one to
    /// read the stores and write the activity. The first to ask moves the entry's answers on
    /// by [`WRITE_CLAIM`] (never past the session's expiry), so checks arriving while it
    /// writes (a page's many requests, say) are answered here instead of each writing the
    /// same activity again. Should that check fail or be dropped, the next one after the
    /// claim writes.
    pub fn claim_activity_write(&self, key: &CacheKey, entry: &Entry, now: Timestamp) -> bool {
        let Ok(mut shard) = self.shard(key).lock() else {
            return true;
        };
        match shard.get_mut(key) {
            Some(stored) if Arc::ptr_eq(&stored.found, &entry.found) => {
                if now < stored.answers_until {
                    return false;
                }
                let claim = WRITE_CLAIM.min(self.activity_write_interval);
                stored.answers_until = stored.found.session.expires_at.min(now.plus(claim));
                true
            }
            // Replaced, so written already, or removed: the stores tell.
            _ => true,
        }
    }

    pub fn get(&self, key: &CacheKey) -> Option<Entry> {
        let shard = self.shard(key).lock().ok()?;
        shard.get(key).cloned()
    }

    /// Remembers a valid session.
    pub fn put(&self, key: CacheKey, found: Arc<Authenticated>, stamp: Option<u64>) {
        let session = &found.session;
        let entry = Entry {
            user_id: session.user_id,
            answers_until: session
                .expires_at
                .min(session.last_active_at.plus(self.activity_write_interval)),
            address: self.address(&session.last_ip_address),
            found,
            stamp,
        };
        let Ok(mut shard) = self.shard(&key).lock() else {
            return;
        };
        if shard.len() >= self.shard_capacity && !shard.contains_key(&key) {
            // Full: drop some entry; a dropped token costs one full check later.
            if let Some(victim) = shard.keys().next().copied() {
                shard.remove(&victim);
            }
        }
        shard.insert(key, entry);
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        for shard in &self.shards {
            if let Ok(mut shard) = shard.0.lock() {
                shard.clear();
            }
        }
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
    use crate::domain::session::Session;
    use crate::domain::token::TokenHash;
    use crate::domain::user::{Email, User, UserKind, UserState, Username};
    use crate::domain::user_agent::DeviceType;

    const MINUTE: Duration = Duration::from_secs(60);

    /// A session last active at `last_active` ms, expiring at `expires` ms, from 10.0.0.1.
    fn found(last_active: i64, expires: i64) -> Arc<Authenticated> {
        let user = User {
            id: 7,
            username: Username::parse("alice").unwrap(),
            name: String::new(),
            email: Email::parse("alice@example.com").unwrap(),
            state: UserState::Active,
            kind: UserKind::Human,
            is_admin: false,
            is_owner: false,
            password_hash: None,
            failed_logins: 0,
            locked_until: None,
            created_at: Timestamp(0),
            must_change_password: false,
        };
        let session = Session {
            id: "s".into(),
            token_hash: TokenHash([0; 32]),
            user_id: 7,
            username: "alice".into(),
            // Judged by the address last used from, not the first.
            ip_address: "10.0.0.9".into(),
            last_ip_address: "10.0.0.1".into(),
            user_agent: String::new(),
            browser: String::new(),
            os: String::new(),
            device_type: DeviceType::Desktop,
            created_at: Timestamp(0),
            last_active_at: Timestamp(last_active),
            expires_at: Timestamp(expires),
            absolute_expires_at: Timestamp(expires),
            remember_me: false,
        };
        Arc::new(Authenticated {
            check_answer: Default::default(),
            renewed: None,
            user,
            session,
        })
    }

    fn client(ip_address: &str) -> ClientInfo {
        ClientInfo {
            ip_address: ip_address.into(),
            user_agent: String::new(),
        }
    }

    #[test]
    fn an_entry_answers_under_its_stamp_until_expiry_or_activity_is_due_from_its_address() {
        let cache = CheckCache::new(10, MINUTE);
        let key = cache.key(&SecretToken::generate());
        let judge = |stamp, now, client: &ClientInfo| {
            cache.judge(&cache.get(&key).unwrap(), stamp, Timestamp(now), client)
        };
        let here = client("10.0.0.1");

        // Expiry first (at 30 s), then the activity write (due at 60 s).
        cache.put(key, found(0, 30_000), Some(5));
        assert_eq!(cache.get(&key).unwrap().user_id, 7);
        assert_eq!(judge(Some(5), 29_999, &here), Judgement::Answers);
        assert_eq!(judge(Some(5), 30_000, &here), Judgement::ReadStores);
        cache.put(key, found(0, 600_000), Some(5));
        assert_eq!(judge(Some(5), 59_999, &here), Judgement::Answers);
        assert_eq!(judge(Some(5), 60_000, &here), Judgement::ActivityDue);
        assert_eq!(judge(Some(5), 600_000, &here), Judgement::ReadStores);

        // A changed stamp, or an entry made before any stamp was read.
        assert_eq!(judge(Some(6), 1, &here), Judgement::ReadStores);
        assert_eq!(judge(None, 1, &here), Judgement::ReadStores);
        assert_eq!(judge(Some(6), 60_000, &here), Judgement::ReadStores);
        cache.put(key, found(0, 600_000), None);
        assert_eq!(judge(None, 1, &here), Judgement::ReadStores);

        // Another address must be recorded; a request without one (no peer) is not judged.
        cache.put(key, found(0, 600_000), Some(5));
        assert_eq!(
            judge(Some(5), 1, &client("10.0.0.2")),
            Judgement::ReadStores
        );
        assert_eq!(
            judge(Some(5), 1, &client("10.0.0.10")),
            Judgement::ReadStores
        );
        assert_eq!(
            judge(Some(5), 60_000, &client("10.0.0.2")),
            Judgement::ReadStores
        );
        assert_eq!(judge(Some(5), 1, &client("")), Judgement::Answers);
    }

    #[test]
    fn one_check_claims_a_due_activity_write_and_the_others_are_answered_meanwhile() {
        let cache = CheckCache::new(10, MINUTE);
        let key = cache.key(&SecretToken::generate());
        let here = client("10.0.0.1");
        cache.put(key, found(0, 600_000), Some(5));
        let due = cache.get(&key).unwrap();
        let claim = |now| cache.claim_activity_write(&key, &due, Timestamp(now));

        assert!(claim(60_000), "the first check writes");
        assert!(!claim(60_001), "a check arriving meanwhile does not");
        let after = |now| cache.judge(&cache.get(&key).unwrap(), Some(5), Timestamp(now), &here);
        assert_eq!(after(64_999), Judgement::Answers);
        // The writer never came back: after the claim's five seconds the next check writes.
        assert_eq!(after(65_000), Judgement::ActivityDue);
        assert!(claim(65_000));
        assert!(!claim(65_001));

        // Written: the entry is replaced, and a check still holding the old one reads the
        // stores, which no longer find the activity due.
        cache.put(key, found(65_000, 665_000), Some(5));
        assert!(claim(65_002));
        assert_eq!(after(65_002), Judgement::Answers);

        // A claim never outlasts the session, nor the write interval.
        cache.put(key, found(0, 62_000), Some(5));
        let due = cache.get(&key).unwrap();
        assert!(cache.claim_activity_write(&key, &due, Timestamp(60_000)));
        assert_eq!(after(61_999), Judgement::Answers);
        assert_eq!(after(62_000), Judgement::ReadStores);
        let every_time = CheckCache::new(10, Duration::ZERO);
        every_time.put(key, found(0, 600_000), Some(5));
        let due = every_time.get(&key).unwrap();
        assert!(every_time.claim_activity_write(&key, &due, Timestamp(1)));
        assert!(every_time.claim_activity_write(&key, &due, Timestamp(1)));
    }

    #[test]
    fn keys_are_stable_within_a_cache_and_secret_to_it() {
        let (one, other) = (CheckCache::new(10, MINUTE), CheckCache::new(10, MINUTE));
        let token = SecretToken::generate();
        assert_eq!(one.key(&token), one.key(&token));
        assert_ne!(one.key(&token), one.key(&SecretToken::generate()));
        // A key drawn per cache: another process cannot tell which name a token has here.
        assert_ne!(one.key(&token), other.key(&token));
    }
}
