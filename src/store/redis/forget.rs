//! What points at deleted sessions from outside their users' slots, and its removal.

use super::keys::{Keys, listing_member};
use super::{REMOVE_CHUNK, RedisSessionStore};
use crate::domain::session::Session;
use crate::store::StoreResult;
use futures_util::{StreamExt, stream};
use redis::aio::ConnectionLike;
use redis::{cmd, pipe};
use std::collections::BTreeMap;

/// Removal commands in flight at once after a bulk delete (on Cluster the client splits an
/// `UNLINK` into one command per slot).
const REMOVE_CONCURRENCY: usize = 16;

/// How much of what points at deleted sessions [`RedisSessionStore::forget`] removes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Forget {
    /// Token and public-id pointers, and both listing entries.
    All,
    /// Only what an administrator sees: the by-activity listing entry, so totals and pages
    /// are exact at once. The pointers point at nothing and expire with the sessions'
    /// absolute lifetime; the by-expiry entries are purged when they fall due, like any other.
    Visible,
}

/// An admin-listing entry and its scores (last activity, expiry).
pub(super) type Listed = (String, (i64, i64));

/// What points at a deleted session from outside its user's slot: the token and public-id
/// pointers and the admin-listing entries.
pub(super) struct Leftover {
    pub(super) user_id: i64,
    pub(super) hash: String,
    /// Unknown when the session hash had expired before it was deleted, or when not asked
    /// for ([`Forget::Visible`]); that pointer then expires by itself.
    pub(super) id: Option<String>,
    /// The listing entries' scores (last activity, expiry), 0 when unknown: removing entries
    /// in score order walks the sorted sets' nearby nodes, which are still in the CPU cache.
    pub(super) scores: (i64, i64),
}

impl From<&Session> for Leftover {
    fn from(s: &Session) -> Self {
        Leftover {
            user_id: s.user_id,
            hash: s.token_hash.to_hex(),
            id: Some(s.id.clone()),
            scores: (s.last_active_at.0, s.expires_at.0),
        }
    }
}

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Removes what points at sessions already deleted from their users' slots, all at once,
    /// as much as `forget` says: listing entries by one `ZREM` per shard and chunk, pointers
    /// by multi-key `UNLINK` (the Cluster client splits one by slot). Best effort: the
    /// sessions are gone either way, and leftovers find nothing and expire.
    pub(super) async fn forget(&self, leftovers: &[Leftover], forget: Forget) {
        let mut unlink = Vec::new();
        let mut listed: BTreeMap<i64, Vec<Listed>> = BTreeMap::new();
        for left in leftovers {
            if forget == Forget::All {
                unlink.push(self.keys.token(&left.hash));
                unlink.extend(left.id.as_deref().map(|id| self.keys.public_id(id)));
            }
            listed
                .entry(Keys::shard_of(left.user_id))
                .or_default()
                .push((listing_member(left.user_id, &left.hash), left.scores));
        }
        for entries in listed.values_mut() {
            entries.sort_unstable_by_key(|(_, (active, _))| *active);
        }
        // A bounded number in flight, so each command's deadline runs from when it is sent.
        // Owned chunks: a stream over borrowed ones is not `Send` to the compiler here.
        let unlinks: Vec<Vec<String>> = unlink.chunks(REMOVE_CHUNK).map(<[_]>::to_vec).collect();
        let unlinked = stream::iter(unlinks)
            .map(|keys| async move { self.query::<()>(cmd("UNLINK").arg(keys)).await })
            .buffer_unordered(REMOVE_CONCURRENCY)
            .collect::<Vec<_>>();
        let unlists: Vec<(i64, Vec<Listed>)> = listed
            .iter()
            .flat_map(|(shard, members)| {
                let chunks = members.chunks(REMOVE_CHUNK);
                chunks.map(|chunk| (*shard, chunk.to_vec()))
            })
            .collect();
        let unlisted =
            stream::iter(unlists)
                .map(|(shard, mut entries)| async move {
                    self.unlist(shard, &mut entries, forget).await
                })
                .buffer_unordered(REMOVE_CONCURRENCY)
                .collect::<Vec<_>>();
        let (unlinked, unlisted) = futures_util::join!(unlinked, unlisted);
        for error in unlinked.into_iter().chain(unlisted).filter_map(Result::err) {
            tracing::warn!(%error, "leftover Redis pointers of deleted sessions; they expire by themselves");
        }
    }

    /// Removes a shard's listing entries, given in by-activity order (by-expiry ones only for
    /// [`Forget::All`], re-sorted to that set's score order).
    pub(super) async fn unlist(
        &self,
        shard: i64,
        entries: &mut [Listed],
        forget: Forget,
    ) -> StoreResult<()> {
        let (active, expiry) = self.keys.shard(shard);
        let members = |entries: &[Listed]| -> Vec<String> {
            entries.iter().map(|(m, _)| m.clone()).collect()
        };
        let mut pipeline = pipe();
        pipeline.atomic();
        pipeline.zrem(active, members(entries)).ignore();
        if forget == Forget::All {
            entries.sort_unstable_by_key(|(_, (_, expiry))| *expiry);
            pipeline.zrem(expiry, members(entries)).ignore();
        }
        self.send(pipeline).await
    }
}
