//! [`SessionStore`] on Redis: each operation a script on its user's slot, and what is written
//! around it (pointers, listing entries, announcements to the nodes).

use super::RedisSessionStore;
use super::fields::{
    SESSION_FIELDS, created_reply, session_fields, session_from_hmget, sessions_from_json,
};
use super::forget::{Forget, Leftover};
use super::keys::{Keys, address_entry, listing_member, parse_member};
use super::scripts::{CREATE, DELETE, DELETE_USER, LIST, SET_IP, TOUCH, USER_ACTIVITY};
use crate::domain::pending::PendingSignIn;
use crate::domain::revocation_job::RevocationJob;
use crate::domain::session::{EndReason, Session};
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::{
    CreateOutcome, Deadline, EndedSession, Page, SessionFilter, SessionLimit, SessionStore,
    StoreError, StoreResult, UserActivity, fresh_stamp, sort_for_user,
};
use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt, stream};
use redis::aio::ConnectionLike;
use redis::{Value, cmd, pipe};
use std::collections::BTreeMap;

/// User-slot scripts in flight at once in a bulk count or delete: enough to keep Redis busy
/// (a multiplexed connection sends them as one stream), few enough to bound what is pending.
const BULK_CONCURRENCY: usize = 256;

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// A session by its user and token hash, if its hash is still there.
    pub(super) async fn read_session(
        &self,
        user_id: i64,
        hash: &str,
    ) -> StoreResult<Option<Session>> {
        let mut read = cmd("HMGET");
        read.arg(self.keys.session(user_id, hash))
            .arg(&SESSION_FIELDS[..]);
        session_from_hmget(self.query(&read).await?)
    }

    /// The user id and token hash a public id points to.
    async fn locate(&self, id: &str) -> StoreResult<Option<(i64, String)>> {
        let pointer: Option<String> = self.query(cmd("GET").arg(self.keys.public_id(id))).await?;
        Ok(pointer
            .as_deref()
            .and_then(parse_member)
            .map(|(user, hash)| (user, hash.to_owned())))
    }

    /// Deletes one session in its user's slot (not what points at it), unless that is past
    /// `deadline`: the deleted session, if it was there.
    async fn delete_in_place(
        &self,
        user_id: i64,
        hash: &str,
        deadline: Deadline,
    ) -> StoreResult<Vec<Session>> {
        let mut invocation = DELETE.key(self.keys.user_index(user_id));
        invocation
            .key(self.keys.session(user_id, hash))
            .key(self.keys.user_stamp(user_id))
            .arg(hash)
            .arg(fresh_stamp())
            .arg(deadline.write_by_millis());
        let deleted = deadline.bound(self.run::<String>(invocation)).await?;
        sessions_from_json(&deleted)
    }

    /// Deletes every session of a user in the user's slot, within [`OPERATION_TIMEOUT`]
    /// (and not at all after it): how many were live, and what [`Self::forget`] must remove
    /// (public ids and expiry only for [`Forget::All`]).
    ///
    /// [`OPERATION_TIMEOUT`]: crate::store::OPERATION_TIMEOUT
    async fn delete_in_slot(
        &self,
        user_id: i64,
        now: Timestamp,
        forget: Forget,
    ) -> StoreResult<(u64, Vec<Leftover>)> {
        let deadline = Deadline::start();
        let mut invocation = DELETE_USER.key(self.keys.user_index(user_id));
        invocation
            .key(self.keys.user_stamp(user_id))
            .arg(now.0)
            .arg(self.keys.session_prefix(user_id))
            .arg(fresh_stamp())
            .arg(u8::from(forget == Forget::All))
            .arg(deadline.write_by_millis());
        // Flat `[a, b, c, d, …]` lists decode as `(a, b), (c, d), …`.
        type Pairs = Vec<(String, String)>;
        let (live, listed, details): (u64, Pairs, Pairs) =
            deadline.bound(self.run(invocation)).await?;
        let score = |text: &str| text.parse().unwrap_or(0);
        let mut details = details.into_iter();
        let leftovers = listed
            .into_iter()
            .map(|(hash, active)| {
                let (id, expiry) = details.next().unzip();
                Leftover {
                    user_id,
                    hash,
                    id: id.filter(|id| !id.is_empty()),
                    scores: (score(&active), expiry.as_deref().map_or(0, score)),
                }
            })
            .collect();
        Ok((live, leftovers))
    }
}

#[async_trait]
impl<C> SessionStore for RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    async fn create(
        &self,
        session: &Session,
        limit: SessionLimit,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome> {
        let (user, hash) = (session.user_id, session.token_hash.to_hex());
        let absolute = session.absolute_expires_at.0;
        let mut token = cmd("SET");
        token
            .arg(self.keys.token(&hash))
            .arg(user)
            .arg("PXAT")
            .arg(absolute);
        let mut public_id = cmd("SET");
        public_id
            .arg(self.keys.public_id(&session.id))
            .arg(listing_member(user, &hash))
            .arg("PXAT")
            .arg(absolute);
        let pointers = async {
            tokio::try_join!(self.query::<()>(&token), self.query::<()>(&public_id)).map(drop)
        };
        let deadline = Deadline::start();
        let mut invocation = CREATE.key(self.keys.user_index(user));
        invocation
            .key(self.keys.session(user, &hash))
            .key(self.keys.user_stamp(user))
            .arg(now.0)
            .arg(limit.max_per_user)
            .arg(u8::from(limit.evict_oldest))
            .arg(self.keys.session_prefix(user))
            .arg(&hash)
            .arg(session.last_active_at.0)
            .arg(session.expires_at.0)
            .arg(absolute)
            .arg(fresh_stamp())
            .arg(deadline.write_by_millis());
        for (field, value) in session_fields(session) {
            invocation.arg(field).arg(value);
        }
        let listed = self.list_in_shard(
            user,
            &hash,
            session.last_active_at,
            session.expires_at,
            Some(session),
        );
        // Pointers, script and listing entries all at once: one round trip on a single
        // connection, which delivers them in this order. (On Cluster they may arrive in any
        // order; a listing entry read before its session exists is dropped, and the next
        // activity write lists the session again.) Whatever is written for a session that
        // ends up not created is removed below.
        let (pointers, reply, listed) =
            tokio::join!(pointers, self.run::<Vec<Value>>(invocation), listed);
        // Decoded first: only an eviction replaces the user's stamp (a first session's stamp
        // is new, and nodes remember only stamps they read), so only an eviction is announced.
        let reply = reply.and_then(created_reply);
        let evicting = |r: &Option<(Vec<String>, Vec<Session>)>| {
            r.as_ref().is_some_and(|(_, evicted)| !evicted.is_empty())
        };
        let reply = self.announced(&[user], reply, evicting).await;
        // Only on the failure paths below.
        let new_session = || Leftover::from(session);
        let (kept, evicted) = match reply {
            Ok(Some(created)) => created,
            Ok(None) => {
                self.forget(&[new_session()], Forget::All).await;
                return Ok(CreateOutcome::LimitReached);
            }
            Err(error) => {
                // Only while the login may still wait: what is left expires by itself.
                let cleanup = async {
                    self.forget(&[new_session()], Forget::All).await;
                    Ok(())
                };
                let _ = deadline.bound(cleanup).await;
                return Err(error);
            }
        };
        let mut leftovers: Vec<Leftover> = evicted.iter().map(Leftover::from).collect();
        if let Err(error) = pointers {
            // Unreachable by its token: the session must not stay and count against the limit.
            self.delete_in_place(user, &hash, Deadline::start()).await?;
            leftovers.push(new_session());
            self.forget(&leftovers, Forget::All).await;
            return Err(error);
        }
        self.forget(&leftovers, Forget::All).await;
        // Not listed yet is not fatal: the next recorded activity lists it.
        if let Err(error) = listed {
            tracing::warn!(%error, "session created but not yet in the admin listing");
        }
        Ok(CreateOutcome::created(evicted, kept, session))
    }

    async fn get_by_token_hash(&self, hash: &TokenHash) -> StoreResult<Option<Session>> {
        let hash = hash.to_hex();
        Deadline::start()
            .bound(async {
                let user: Option<i64> = self.query(cmd("GET").arg(self.keys.token(&hash))).await?;
                let Some(user) = user else { return Ok(None) };
                self.read_session(user, &hash).await
            })
            .await
    }

    async fn touch(
        &self,
        id: &str,
        last_active_at: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        Deadline::start()
            .bound(async {
                let Some((user, hash)) = self.locate(id).await? else {
                    return Ok(());
                };
                let mut invocation = TOUCH.key(self.keys.user_index(user));
                invocation
                    .key(self.keys.session(user, &hash))
                    .arg(&hash)
                    .arg(last_active_at.0)
                    .arg(expires_at.0);
                if self.run::<i64>(invocation).await? == 1 {
                    self.list_in_shard(user, &hash, last_active_at, expires_at, None)
                        .await?;
                }
                Ok(())
            })
            .await
    }

    async fn set_ip_address(&self, id: &str, ip_address: &str) -> StoreResult<()> {
        let deadline = Deadline::start();
        let Some((user, hash)) = deadline.bound(self.locate(id)).await? else {
            return Ok(());
        };
        let mut invocation = SET_IP.key(self.keys.session(user, &hash));
        invocation
            .key(self.keys.user_stamp(user))
            .arg(ip_address)
            .arg(fresh_stamp());
        let set = deadline
            .bound(self.run::<(i64, String, String)>(invocation))
            .await;
        let (absolute, before, first) = self.announced(&[user], set, |set| set.0 != 0).await?;
        if absolute != 0 {
            let member = listing_member(user, &hash);
            let absolute = Timestamp(absolute);
            let mut moved = pipe();
            moved.atomic();
            let key = self.keys.shard_addresses(Keys::shard_of(user));
            moved
                .zadd(&key, address_entry(ip_address, absolute, &member), 0)
                .ignore();
            // The first address keeps its entry: the filter finds a session by either.
            if before != ip_address && before != first {
                moved
                    .zrem(&key, address_entry(&before, absolute, &member))
                    .ignore();
            }
            if let Err(error) = self.send::<()>(moved).await {
                // A filtered listing that shows the session at its old address removes that.
                tracing::warn!(%error, "the admin listing's address filter does not have the session's new address yet");
            }
        }
        Ok(())
    }

    async fn activity_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, UserActivity>> {
        // One script per user (each on its own slot), many in flight at once.
        let found: Vec<(i64, (u64, i64))> = stream::iter(user_ids.iter().copied())
            .map(|user| async move {
                let mut invocation = USER_ACTIVITY.key(self.keys.user_index(user));
                invocation.arg(now.0).arg(self.keys.session_prefix(user));
                Ok::<_, StoreError>((user, self.run(invocation).await?))
            })
            .buffer_unordered(BULK_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(found
            .into_iter()
            .filter(|(_, (sessions, _))| *sessions > 0)
            .map(|(user, (sessions, last))| {
                let activity = UserActivity {
                    sessions,
                    last_active_at: Timestamp(last),
                };
                (user, activity)
            })
            .collect())
    }

    async fn delete_by_users(
        &self,
        user_ids: &[i64],
        now: Timestamp,
    ) -> StoreResult<BTreeMap<i64, u64>> {
        // The users' slots first, many at once; then their by-activity listing entries, in a
        // few multi-key commands. The rest is left to expire (see `Forget::Visible`): removing
        // it would add half again to a mass revocation's work on Redis's single thread.
        let deleted: StoreResult<Vec<(i64, u64, Vec<Leftover>)>> =
            stream::iter(user_ids.iter().copied())
                .map(|user| async move {
                    let (live, leftovers) = self.delete_in_slot(user, now, Forget::Visible).await?;
                    Ok::<_, StoreError>((user, live, leftovers))
                })
                .buffer_unordered(BULK_CONCURRENCY)
                .try_collect()
                .await;
        let mut deleted = self.announced(user_ids, deleted, |_| true).await?;
        let leftovers: Vec<Leftover> = deleted
            .iter_mut()
            .flat_map(|(_, _, leftovers)| leftovers.drain(..))
            .collect();
        self.forget(&leftovers, Forget::Visible).await;
        Ok(deleted
            .into_iter()
            .filter(|(_, live, _)| *live > 0)
            .map(|(user, live, _)| (user, live))
            .collect())
    }

    async fn list_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<Vec<Session>> {
        let mut invocation = LIST.key(self.keys.user_index(user_id));
        invocation.arg(now.0).arg(self.keys.session_prefix(user_id));
        let mut sessions = sessions_from_json(&self.run::<String>(invocation).await?)?;
        sort_for_user(&mut sessions);
        Ok(sessions)
    }

    async fn delete(&self, id: &str) -> StoreResult<Option<Session>> {
        let deadline = Deadline::start();
        let Some((user, hash)) = deadline.bound(self.locate(id)).await? else {
            return Ok(None);
        };
        // Announced here, not when a login undoes its own session: nobody has seen that one.
        let deleted = self.delete_in_place(user, &hash, deadline).await;
        let deleted = self.announced(&[user], deleted, |d| !d.is_empty()).await?;
        self.forget(
            &deleted.iter().map(Leftover::from).collect::<Vec<_>>(),
            Forget::All,
        )
        .await;
        Ok(deleted.into_iter().next())
    }

    async fn delete_by_user(&self, user_id: i64, now: Timestamp) -> StoreResult<u64> {
        let deleted = self.delete_in_slot(user_id, now, Forget::All).await;
        let (live, leftovers) = self.announced(&[user_id], deleted, |_| true).await?;
        self.forget(&leftovers, Forget::All).await;
        Ok(live)
    }

    async fn scan(
        &self,
        filter: &SessionFilter,
        now: Timestamp,
        limit: u32,
        offset: u64,
    ) -> StoreResult<Page<Session>> {
        if let Some(users) = &filter.users {
            let mut sessions = self.list_by_users(users.clone(), now).await?;
            sessions.retain(|s| filter.admits(s));
            return Ok(Page::of_listing(sessions, limit, offset));
        }
        if let Some(address) = &filter.address {
            return self.address_page(address, now, limit, offset).await;
        }
        let (members, total) = self.listing_page(limit, offset, now).await?;
        let mut items = self.fetch_listed(members).await?;
        items.retain(|s| !s.is_expired(now));
        Ok(Page { items, total })
    }

    async fn purge_expired(&self, now: Timestamp) -> StoreResult<u64> {
        // Redis drops expired session hashes and pointers itself; what is left is the listing.
        let purged = self.purge_listing(now).await?;
        self.sweep_addresses(now).await?;
        Ok(purged)
    }

    async fn put_pending_sign_in(
        &self,
        hash: &TokenHash,
        pending: &PendingSignIn,
    ) -> StoreResult<()> {
        self.put_pending(hash, pending).await
    }

    async fn pending_sign_in(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>> {
        self.find_pending(hash, now, false).await
    }

    async fn take_pending_sign_in(
        &self,
        hash: &TokenHash,
        now: Timestamp,
    ) -> StoreResult<Option<PendingSignIn>> {
        self.find_pending(hash, now, true).await
    }

    async fn put_revocation_job(&self, id: &str, job: &RevocationJob) -> StoreResult<()> {
        self.put_job(id, job).await
    }

    async fn revocation_job(&self, id: &str, now: Timestamp) -> StoreResult<Option<RevocationJob>> {
        self.find_job(id, now).await
    }

    async fn record_ended(&self, ended: &[EndedSession]) -> StoreResult<()> {
        self.record_ended_sessions(ended).await
    }

    async fn ended_reason(
        &self,
        hash: &TokenHash,
        _now: Timestamp,
    ) -> StoreResult<Option<EndReason>> {
        // Redis expires the record at its time by its own clock.
        self.ended_session_reason(hash).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.query::<()>(&cmd("PING")).await
    }

    fn keeps_stamps(&self) -> bool {
        true
    }

    async fn user_stamp(&self, user_id: i64) -> StoreResult<Option<u64>> {
        self.stamps.get(user_id).await
    }

    async fn leave(&self) {
        self.stamps.leave().await;
    }

    async fn invalidate_user(&self, user_id: i64) -> StoreResult<()> {
        // Only an existing stamp: without one nothing of the user's is remembered anywhere.
        let set = self
            .query(
                cmd("SET")
                    .arg(self.keys.user_stamp(user_id))
                    .arg(fresh_stamp())
                    .arg("XX")
                    .arg("KEEPTTL"),
            )
            .await;
        self.announced(&[user_id], set, |()| true).await
    }
}
