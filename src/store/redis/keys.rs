//! The key layout (docs/deployment.md, "How sessions are kept in Redis"): every key name,
//! the admin listing's members and the address sets' entries.

use super::SHARDS;
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use redis::Pipeline;

/// Every key name, in one place.
#[derive(Clone)]
pub(super) struct Keys {
    pub(super) prefix: String,
}

impl Keys {
    /// The prefix as configured (`?prefix=NAME`), for messages.
    pub(super) fn name(&self) -> &str {
        self.prefix.strip_suffix(':').unwrap_or(&self.prefix)
    }

    /// The key layout's version (see `layout`).
    pub(super) fn layout(&self) -> String {
        format!("{}layout", self.prefix)
    }

    /// The start of every session hash of a user; scripts append the token hash.
    pub(super) fn session_prefix(&self, user_id: i64) -> String {
        format!("{}{{u:{user_id}}}:s:", self.prefix)
    }

    pub(super) fn session(&self, user_id: i64, hash: &str) -> String {
        format!("{}{hash}", self.session_prefix(user_id))
    }

    pub(super) fn user_index(&self, user_id: i64) -> String {
        format!("{}{{u:{user_id}}}:idx", self.prefix)
    }

    pub(super) fn user_stamp(&self, user_id: i64) -> String {
        format!("{}{{u:{user_id}}}:stamp", self.prefix)
    }

    /// Where writers announce replaced stamps and nodes ping themselves (see `stamps`).
    pub(super) fn stamp_channel(&self) -> String {
        format!("{}stamps", self.prefix)
    }

    pub(super) fn node_leases(&self) -> String {
        format!("{}{{n}}:leases", self.prefix)
    }

    /// The nodes that acknowledged one announcement (the leases' slot, for one script).
    pub(super) fn node_acks(&self, announcement: &str) -> String {
        format!("{}{{n}}:ack:{announcement}", self.prefix)
    }

    /// A count of failed sign-ins ([`crate::store::FailureCounters`]).
    pub(super) fn failures(&self, key: &str) -> String {
        format!("{}f:{key}", self.prefix)
    }

    /// A pending sign-in, by its token's hash ([`crate::domain::pending`]).
    pub(super) fn pending(&self, hash: &str) -> String {
        format!("{}p:{hash}", self.prefix)
    }

    /// A group revocation job, by its id ([`crate::domain::revocation_job`]).
    pub(super) fn revocation_job(&self, id: &str) -> String {
        format!("{}r:{id}", self.prefix)
    }

    pub(super) fn token(&self, hash: &str) -> String {
        format!("{}t:{hash}", self.prefix)
    }

    /// Why the session with this token hash ended (see `ended`).
    pub(super) fn ended(&self, hash: &str) -> String {
        format!("{}e:{hash}", self.prefix)
    }

    pub(super) fn public_id(&self, id: &str) -> String {
        format!("{}i:{id}", self.prefix)
    }

    /// The admin-listing shard's (by last activity, by expiry) sorted sets.
    pub(super) fn shard(&self, shard: i64) -> (String, String) {
        let tag = format!("{}{{a:{shard}}}", self.prefix);
        (format!("{tag}:active"), format!("{tag}:expiry"))
    }

    pub(super) fn shard_of(user_id: i64) -> i64 {
        user_id.rem_euclid(SHARDS)
    }

    /// The admin-listing shard's sessions by address: [`address_entry`]s, all scored 0 so
    /// that one address's entries are one lexicographic range. One set per shard, not one
    /// per address: a key per address would cost about 1 KiB a session where most
    /// addresses have one session.
    pub(super) fn shard_addresses(&self, shard: i64) -> String {
        format!("{}{{a:{shard}}}:ip", self.prefix)
    }

    /// Present once every listed session has been put in its address set: a store written by
    /// a version without them gets them at its first filtered listing.
    pub(super) fn address_index_built(&self) -> String {
        format!("{}ip-index", self.prefix)
    }
}

/// An entry of a shard's address set: `ADDRESS|ABSOLUTE_EXPIRY|USER:HASH`. The expiry lets
/// [`SWEEP_ADDRESSES`] drop entries of sessions that must have ended without reading them.
pub(super) fn address_entry(address: &str, absolute_expires_at: Timestamp, member: &str) -> String {
    format!("{address}|{}|{member}", absolute_expires_at.0)
}

/// An address entry's address, absolute expiry and listing member, split from the right (an
/// address never holds `|`, but if one did, its entries would still parse).
pub(super) fn parse_address_entry(entry: &str) -> Option<(&str, i64, &str)> {
    let mut parts = entry.rsplitn(3, '|');
    let member = parts.next()?;
    let expiry = parts.next()?.parse().ok()?;
    Some((parts.next()?, expiry, member))
}

/// The lexicographic range (`ZRANGE … BYLEX`) that holds the entries of every address
/// beginning with `prefix`: every character of an entry sorts before U+10FFFF.
pub(super) fn address_range(prefix: &str) -> (String, String) {
    (format!("[{prefix}"), format!("({prefix}\u{10FFFF}"))
}

/// Adds a session's entries to its shard's address set: one per address it is known by.
pub(super) fn index_address(pipeline: &mut Pipeline, key: &str, session: &Session) {
    let member = listing_member(session.user_id, &session.token_hash.to_hex());
    for address in session.addresses() {
        let entry = address_entry(address, session.absolute_expires_at, &member);
        pipeline.zadd(key, entry, 0).ignore();
    }
}

/// An admin-listing entry: enough to find the session hash.
pub(super) fn listing_member(user_id: i64, hash: &str) -> String {
    format!("{user_id}:{hash}")
}

pub(super) fn parse_member(member: &str) -> Option<(i64, &str)> {
    let (user, hash) = member.split_once(':')?;
    Some((user.parse().ok()?, hash))
}
