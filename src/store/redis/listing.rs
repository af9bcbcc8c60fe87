//! The admin listing: its entries written with each session and activity, and a page of
//! it read from the shards.

use super::forget::{Forget, Listed};
use super::keys::{Keys, index_address, listing_member, parse_member};
use super::purge::{PURGE_BATCH, purge_shard};
use super::search::{Mark, Search};
use super::{RedisSessionStore, SHARDS};
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::store::{SessionStore, StoreError, StoreResult};
use futures_util::future::try_join_all;
use futures_util::{StreamExt, TryStreamExt, stream};
use redis::aio::ConnectionLike;
use redis::{cmd, pipe};
use std::collections::BTreeMap;

/// Concurrent reads when a listing fetches a page of sessions from many slots.
const FETCH_CONCURRENCY: usize = 64;

/// An admin-listing page ending at most this deep is merged from the heads of the shards.
const SHALLOW: u64 = 256;
/// Sampled scores counted in a deep search's first round, at each end of the page: the
/// lowest, the middle and the highest. A finer spread narrows that round's brackets, but the
/// next round is needed either way, and its counting costs more than it saves.
const SAMPLE_SPREAD: usize = 3;

/// An admin-listing entry (member, last activity) as Redis returns it.
pub(super) type Entry = (String, f64);

/// What a listing page first reads of a shard: its size, first entries (at least the
/// highest), lowest entry, and the entries sampled at each end of the page.
type ShardHead = (u64, Vec<Entry>, Vec<Entry>, Vec<Entry>, Vec<Entry>);
/// A [`ShardHead`] read after the shard's expired entries were purged: (removed, listed).
type PurgedShardHead = (
    (u64, u64),
    u64,
    Vec<Entry>,
    Vec<Entry>,
    Vec<Entry>,
    Vec<Entry>,
);

/// Newest activity first, then by member: the order the shards' entries merge in.
pub(super) fn sort_entries(entries: &mut [Entry]) {
    entries.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Writes a session's admin-listing entries (all in the user's shard, so one transaction):
    /// by activity and by expiry, and for a new session by address.
    pub(super) async fn list_in_shard(
        &self,
        user: i64,
        hash: &str,
        last_active_at: Timestamp,
        expires_at: Timestamp,
        new: Option<&Session>,
    ) -> StoreResult<()> {
        let shard = Keys::shard_of(user);
        let (active, expiry) = self.keys.shard(shard);
        let member = listing_member(user, hash);
        let mut pipeline = pipe();
        pipeline
            .atomic()
            .zadd(active, &member, last_active_at.0)
            .ignore()
            .zadd(expiry, &member, expires_at.0)
            .ignore();
        if let Some(session) = new {
            index_address(&mut pipeline, &self.keys.shard_addresses(shard), session);
        }
        self.send(pipeline).await
    }

    /// Every unexpired session of these users, their spans read at once (a bulk revocation
    /// lists thousands of users): the reads share the connection's pipeline instead of
    /// waiting a round trip each.
    pub(super) async fn list_by_users(
        &self,
        users: Vec<i64>,
        now: Timestamp,
    ) -> StoreResult<Vec<Session>> {
        let spans: Vec<Vec<Session>> = stream::iter(users)
            .map(|user| async move { self.list_by_user(user, now).await })
            .buffered(FETCH_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(spans.into_iter().flatten().collect())
    }

    /// The sessions behind admin-listing entries, in the entries' order; entries whose session
    /// is gone are dropped from the listing.
    pub(super) async fn fetch_listed(&self, members: Vec<String>) -> StoreResult<Vec<Session>> {
        let found: Vec<(String, i64, Option<Session>)> = stream::iter(members)
            .map(|member| async move {
                let (user, hash) = parse_member(&member)
                    .ok_or_else(|| StoreError::Unavailable(format!("Redis: bad entry {member}")))?;
                let session = self.read_session(user, hash).await?;
                Ok::<_, StoreError>((member, user, session))
            })
            .buffered(FETCH_CONCURRENCY)
            .try_collect()
            .await?;
        let mut sessions = Vec::with_capacity(found.len());
        let mut gone: BTreeMap<i64, Vec<Listed>> = BTreeMap::new();
        for (member, user, session) in found {
            match session {
                Some(session) => sessions.push(session),
                None => gone
                    .entry(Keys::shard_of(user))
                    .or_default()
                    .push((member, (0, 0))),
            }
        }
        // One removal per shard, all at once: after a mass revocation there can be thousands.
        try_join_all(
            gone.iter_mut()
                .map(|(shard, entries)| self.unlist(*shard, entries, Forget::All)),
        )
        .await?;
        Ok(sessions)
    }

    /// The members of listing rows `first..first + limit` (most recently active first, ties
    /// by member), and the total. A page near the top is merged from the first entries of
    /// each shard; a deeper one is found by score (see [`Search`]) in a few round trips of
    /// `ZCOUNT`s, then read as one score range per shard: O(log n) per command, however deep.
    /// Entries expired at `now` are purged first, in the first round trip.
    pub(super) async fn listing_page(
        &self,
        limit: u32,
        first: u64,
        now: Timestamp,
    ) -> StoreResult<(Vec<String>, u64)> {
        let end_wanted = first + u64::from(limit);
        // Near the top, an eighth of the rows from each shard (and a few more, for a shard
        // busier than most) usually holds all of them.
        let heads = if end_wanted < SHALLOW {
            end_wanted / 8 + 4
        } else {
            1
        };
        // Shards hold about as many entries each (users spread over them by id), so an entry
        // at a sixteenth of a row's position in each shard scores near that row.
        let samples = [first, end_wanted.saturating_sub(1)].map(|row| (row / SHARDS as u64) as i64);
        let shards: Vec<ShardHead> = loop {
            let read: Vec<PurgedShardHead> = self
                .each_shard(|active, expiry, p| {
                    // The shard's expired entries go first, in the same round trip.
                    purge_shard(p, active, expiry, now);
                    p.zcard(active)
                        .cmd("ZRANGE")
                        .arg(active)
                        .arg(0)
                        .arg(heads as i64 - 1);
                    p.arg("REV").arg("WITHSCORES");
                    p.zrange_withscores(active, 0, 0);
                    for rank in samples {
                        p.cmd("ZRANGE").arg(active).arg(rank).arg(rank);
                        p.arg("REV").arg("WITHSCORES");
                    }
                })
                .await?;
            if read.iter().all(|s| s.0.0 < PURGE_BATCH as u64) {
                break read
                    .into_iter()
                    .map(|s| (s.1, s.2, s.3, s.4, s.5))
                    .collect();
            }
            // More expired entries than one batch: remove them all, then read again.
            self.purge_listing(now).await?;
        };
        let total: u64 = shards.iter().map(|s| s.0).sum();
        let end = end_wanted.min(total);
        if first >= end {
            return Ok((Vec::new(), total));
        }
        let highest = shards.iter().filter_map(|s| s.1.first()).map(|e| e.1);
        let lowest = shards.iter().filter_map(|s| s.2.first()).map(|e| e.1);
        let (highest, lowest) = (
            highest.fold(f64::MIN, f64::max),
            lowest.fold(f64::MAX, f64::min),
        );
        let mut search = Search::new(first, end, lowest as i64, highest as i64, total);
        // The first round counts a spread of the samples.
        let mut candidates = Vec::new();
        for sampled in [
            shards.iter().flat_map(|s| &s.3).collect::<Vec<_>>(),
            shards.iter().flat_map(|s| &s.4).collect(),
        ] {
            let mut scores: Vec<i64> = sampled.iter().map(|e| e.1 as i64).collect();
            scores.sort_unstable();
            if let Some(last) = scores.len().checked_sub(1) {
                candidates
                    .extend((0..SAMPLE_SPREAD).map(|k| scores[k * last / (SAMPLE_SPREAD - 1)]));
            }
        }
        // Entries scoring above every cut-off shard's last head are all among the heads.
        let cut = shards
            .iter()
            .filter(|s| s.1.len() as u64 == heads)
            .filter_map(|s| s.1.last())
            .map(|e| e.1)
            .fold(f64::MIN, f64::max);
        let mut known: Vec<Entry> = shards
            .into_iter()
            .flat_map(|s| s.1)
            .filter(|e| e.1 > cut)
            .collect();
        if known.len() as u64 >= end {
            sort_entries(&mut known);
            let page = known.drain(first as usize..end as usize).map(|e| e.0);
            return Ok((page.collect(), total));
        }
        if cut > f64::MIN {
            let (cut, known_rows) = (cut as i64, known.len() as u64);
            search.learn(Mark {
                score: cut,
                above: known_rows,
            });
            // Near the top, a crowd sharing the cut score (a bulk import, say) hides the page
            // from the heads. Its rows follow the known ones in member order, so the first
            // few of it in each shard hold the page whenever the crowd reaches past it.
            if heads > 1 {
                let wanted = end - known_rows;
                let crowd: Vec<(u64, Vec<Entry>)> = self
                    .each_shard(|active, _, p| {
                        p.zcount(active, cut, cut);
                        p.cmd("ZRANGE").arg(active).arg(cut).arg(cut).arg("BYSCORE");
                        p.arg("LIMIT").arg(0).arg(wanted).arg("WITHSCORES");
                    })
                    .await?;
                let crowded: u64 = crowd.iter().map(|(count, _)| count).sum();
                if known_rows + crowded >= end {
                    known.extend(crowd.into_iter().flat_map(|(_, entries)| entries));
                    sort_entries(&mut known);
                    known.truncate(end as usize);
                    let page = known.drain(first as usize..).map(|e| e.0);
                    return Ok((page.collect(), total));
                }
                search.learn(Mark {
                    score: cut - 1,
                    above: known_rows + crowded,
                });
            }
        }
        while !search.done() {
            if candidates.is_empty() {
                candidates = search.candidates();
            }
            let counts: Vec<Vec<u64>> = self
                .each_shard(|active, _, p| {
                    for score in &candidates {
                        p.zcount(active, format!("({score}"), "+inf");
                    }
                })
                .await?;
            for (i, score) in candidates.drain(..).enumerate() {
                let above = counts.iter().map(|shard| shard[i]).sum();
                search.learn(Mark { score, above });
            }
        }
        let (from, to) = (search.stop.0, search.start.1);
        // The page lies within the first `n` rows scoring in (from, to]; each shard's first
        // `n` of them hold it. Most often that range is small and read whole; a crowd sharing
        // one score is read only as far as needed.
        let skip = first.saturating_sub(to.above);
        let n = skip + u64::from(limit);
        let ranges: Vec<(Vec<Entry>,)> = self
            .each_shard(|active, _, p| {
                p.cmd("ZRANGE").arg(active).arg(to.score);
                p.arg(format!("({}", from.score)).arg("BYSCORE").arg("REV");
                p.arg("LIMIT").arg(0).arg(n + 1).arg("WITHSCORES");
            })
            .await?;
        let prefixes = try_join_all(ranges.into_iter().zip(0..SHARDS).map(
            async |((mut entries,), shard)| {
                // Read in reverse, a score cut off after `n` rows has its highest members
                // instead of its lowest: read that score's rows forwards instead.
                let cut = n as usize;
                if entries.len() > cut && entries[cut - 1].1 == entries[cut].1 {
                    let tied = entries[cut].1;
                    entries.retain(|e| e.1 != tied);
                    let mut range = cmd("ZRANGE");
                    range.arg(self.keys.shard(shard).0).arg(tied).arg(tied);
                    range
                        .arg("BYSCORE")
                        .arg("LIMIT")
                        .arg(0)
                        .arg(n)
                        .arg("WITHSCORES");
                    entries.extend(self.query::<Vec<Entry>>(&range).await?);
                }
                sort_entries(&mut entries);
                entries.truncate(cut);
                Ok::<_, StoreError>(entries)
            },
        ))
        .await?;
        let mut entries: Vec<Entry> = prefixes.into_iter().flatten().collect();
        sort_entries(&mut entries);
        let page = entries
            .into_iter()
            .skip(skip as usize)
            .take(limit as usize)
            .map(|e| e.0);
        Ok((page.collect(), total))
    }
}
