//! The admin listing's filter by address: each shard's sessions by address, read by one
//! script per shard, and built once for a store written without them.

use super::keys::{
    Keys, address_range, index_address, listing_member, parse_address_entry, parse_member,
};
use super::listing::{Entry, sort_entries};
use super::scripts::AT_ADDRESS;
use super::{REMOVE_CHUNK, RedisSessionStore, SHARDS};
use crate::domain::address_filter::AddressFilter;
use crate::domain::session::Session;
use crate::domain::time::Timestamp;
use crate::store::{Page, StoreResult};
use futures_util::future::try_join_all;
use redis::aio::ConnectionLike;
use redis::{cmd, pipe};
use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::Ordering;

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A page of the unexpired sessions created from or last used from an address the filter
    /// matches (most recently active first, ties by entry, as in the unfiltered listing), and
    /// their number. Each shard's script picks the entries in the range of the filter's text
    /// whose session is listed and unexpired, with their activity, and removes the rest; the
    /// filter judges each entry's address, a session found by both its addresses counts once,
    /// and only the page's sessions are read. One no longer at an entry's address (its entry
    /// is removed with the change, unless that write failed) loses the entry here, and the
    /// page is taken again without it.
    pub(super) async fn address_page(
        &self,
        filter: &AddressFilter,
        now: Timestamp,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Session>> {
        self.build_address_index().await?;
        let (from, to) = address_range(&filter.text_prefix());
        let shards: Vec<Vec<Entry>> = try_join_all((0..SHARDS).map(|shard| {
            let (active, expiry) = self.keys.shard(shard);
            let mut invocation = AT_ADDRESS.key(self.keys.shard_addresses(shard));
            invocation
                .key(active)
                .key(expiry)
                .arg(&from)
                .arg(&to)
                .arg(now.0);
            self.run(invocation)
        }))
        .await?;
        let mut entries: Vec<Entry> = shards
            .into_iter()
            .flatten()
            .filter(|(entry, _)| {
                parse_address_entry(entry).is_some_and(|(address, _, _)| filter.matches(address))
            })
            .collect();
        sort_entries(&mut entries);
        let mut seen = HashSet::new();
        entries.retain(|(entry, _)| {
            parse_address_entry(entry).is_some_and(|(_, _, member)| seen.insert(member.to_owned()))
        });
        loop {
            let page: Vec<&str> = entries
                .iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(limit as usize)
                .map(|(entry, _)| entry.as_str())
                .collect();
            let members = page
                .iter()
                .filter_map(|entry| parse_address_entry(entry))
                .map(|(_, _, member)| member.to_owned())
                .collect();
            let sessions = self.fetch_listed(members).await?;
            let here: HashSet<(String, &str)> = sessions
                .iter()
                .filter(|s| !s.is_expired(now))
                .flat_map(|s| {
                    let member = listing_member(s.user_id, &s.token_hash.to_hex());
                    s.addresses().map(move |address| (member.clone(), address))
                })
                .collect();
            let elsewhere: Vec<String> = page
                .into_iter()
                .filter(|entry| {
                    parse_address_entry(entry).is_none_or(|(address, _, member)| {
                        !here.contains(&(member.to_owned(), address))
                    })
                })
                .map(str::to_owned)
                .collect();
            if elsewhere.is_empty() {
                let total = entries.len() as u64;
                return Ok(Page {
                    items: sessions,
                    total,
                });
            }
            entries.retain(|(entry, _)| !elsewhere.contains(entry));
            self.unlist_addresses(elsewhere).await;
        }
    }

    /// Removes entries from the address sets; one that stays is removed by a later listing.
    async fn unlist_addresses(&self, entries: Vec<String>) {
        let mut by_shard: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for entry in entries {
            let user = parse_address_entry(&entry).and_then(|(_, _, member)| parse_member(member));
            if let Some((user, _)) = user {
                by_shard
                    .entry(Keys::shard_of(user))
                    .or_default()
                    .push(entry);
            }
        }
        let removed = try_join_all(by_shard.into_iter().map(|(shard, entries)| {
            let mut remove = cmd("ZREM");
            remove.arg(self.keys.shard_addresses(shard)).arg(entries);
            async move { self.query::<()>(&remove).await }
        }));
        if let Err(error) = removed.await {
            tracing::warn!(%error, "stale address entries left; the next filtered listing or sweep removes them");
        }
    }

    /// Puts the sessions listed in one shard in their address sets, a scan step at a time
    /// (`ZSCAN` visits every entry present throughout, however the shard changes meanwhile).
    async fn index_shard_addresses(&self, shard: i64) -> StoreResult<()> {
        let (active, _) = self.keys.shard(shard);
        let mut cursor = "0".to_owned();
        loop {
            let mut scan = cmd("ZSCAN");
            scan.arg(&active)
                .arg(&cursor)
                .arg("COUNT")
                .arg(REMOVE_CHUNK);
            let (next, entries): (String, Vec<String>) = self.query(&scan).await?;
            // Entries come as member, score pairs.
            let members = entries.into_iter().step_by(2).collect();
            let sessions = self.fetch_listed(members).await?;
            if !sessions.is_empty() {
                let mut pipeline = pipe();
                let key = self.keys.shard_addresses(shard);
                for session in &sessions {
                    index_address(&mut pipeline, &key, session);
                }
                self.send::<()>(pipeline).await?;
            }
            if next == "0" {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Marks a store with nothing listed as indexed by address: every session created from
    /// now on gets its address entry as it is stored. Without this a store that began empty
    /// under this version was walked whole at its first filtered listing all the same,
    /// which kept that listing waiting ~20 s a million sessions for nothing.
    pub(super) async fn mark_address_index_if_empty(&self) -> StoreResult<()> {
        let marker = self.keys.address_index_built();
        if self.query::<bool>(cmd("EXISTS").arg(&marker)).await? {
            return Ok(());
        }
        let listed: Vec<u64> = try_join_all((0..SHARDS).map(|shard| async move {
            self.query::<u64>(cmd("ZCARD").arg(self.keys.shard(shard).0))
                .await
        }))
        .await?;
        if listed.iter().all(|&sessions| sessions == 0) {
            self.query::<()>(cmd("SET").arg(&marker).arg(1).arg("NX"))
                .await?;
        }
        Ok(())
    }

    /// Puts every listed session in its address set, once per store (see
    /// [`Keys::address_index_built`]); as slow as the unindexed filter it replaces, once.
    async fn build_address_index(&self) -> StoreResult<()> {
        if self.address_index_seen.load(Ordering::Relaxed) {
            return Ok(());
        }
        let marker = self.keys.address_index_built();
        if !self.query::<bool>(cmd("EXISTS").arg(&marker)).await? {
            tracing::info!("indexing every listed session by address, once (about 20 s a million)");
            let started = std::time::Instant::now();
            try_join_all((0..SHARDS).map(|shard| self.index_shard_addresses(shard))).await?;
            self.query::<()>(cmd("SET").arg(&marker).arg(1)).await?;
            tracing::info!(took = ?started.elapsed(), "sessions indexed by address");
        }
        self.address_index_seen.store(true, Ordering::Relaxed);
        Ok(())
    }
}
