//! Users' stamps (`SessionStore::user_stamp`) on Redis: read in batches, and on standalone
//! Redis answered from the node's memory without a round trip, as strictly as a read.
//!
//! A node (a process that checks sessions) subscribes to the store's invalidation channel
//! and holds a lease: its id in `P{n}:leases`, scored by when the lease runs out by Redis's
//! clock, renewed every [`RENEW_EVERY`] for [`LEASE`]. Each renewal is followed by a ping on
//! the channel, and the node trusts its memory of stamps until [`LEASE`] − [`MARGIN`] after
//! it sent the renewal whose ping it last heard.
//!
//! Every writer that replaces stamps then publishes the users on the channel
//! ([`Stamps::announce`]) and returns only when every node holding a lease has forgotten
//! them and acknowledged (`P{n}:ack:ID`), or [`LEASE`] after Redis took the message. A node
//! that did not hear the message by then has stopped trusting its memory: Redis delivers a
//! subscription's messages in order, so a ping it heard afterwards was published before the
//! message, from a renewal sent earlier still. So an answer from memory is never older than
//! the last announcement that returned: "the next request on every node".
//!
//! A node whose subscription drops forgets everything and gives up its lease until it has
//! subscribed again. Redis Cluster orders messages per shard only, so there nodes read every
//! stamp from Redis (in batches) instead.

use super::scripts::{PENDING, RENEW};
use super::{Keys, query_on, unavailable};
use crate::domain::token::new_public_id;
use crate::store::{StoreError, StoreResult, bounded};
use redis::aio::ConnectionLike;
use redis::{Value, cmd, pipe};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// How long a lease lasts, and so the longest a writer waits for a node that went silent.
const LEASE: Duration = Duration::from_secs(3);
const RENEW_EVERY: Duration = Duration::from_millis(500);
/// Trust ends this much before the lease does.
const MARGIN: Duration = Duration::from_millis(250);
/// Users whose stamps a node remembers at most (16 bytes each, plus the map's own).
const CAPACITY: usize = 65_536;
/// Separate locks, so concurrent checks rarely wait for each other.
const SHARDS: usize = 64;
/// An announcement of more users than this tells nodes to forget every stamp instead: a
/// short message, and a mass revocation's users would be most of what a node remembers.
const NAMED_AT_MOST: usize = 1000;
/// Stamp reads per `MGET` at most.
const STAMP_BATCH: usize = 256;
/// How long an acknowledgement set outlives its announcement.
const ACK_TTL_MS: u64 = 10_000;

/// What a node remembers of stamps, and whether it may answer from that.
struct Memory {
    shards: Vec<Mutex<HashMap<i64, u64>>>,
    /// Bumped before anything is forgotten: a read that began before may not be kept.
    epoch: AtomicU64,
    /// Nanoseconds after `origin` until which the memory may answer; 0 when it may not.
    trusted_until: AtomicU64,
    origin: Instant,
}

impl Memory {
    fn new() -> Self {
        Memory {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            epoch: AtomicU64::new(0),
            trusted_until: AtomicU64::new(0),
            origin: Instant::now(),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    fn trusted(&self) -> bool {
        self.nanos(Instant::now()) < self.trusted_until.load(Ordering::SeqCst)
    }

    fn shard(&self, user_id: i64) -> &Mutex<HashMap<i64, u64>> {
        &self.shards[user_id.unsigned_abs() as usize % SHARDS]
    }

    fn get(&self, user_id: i64) -> Option<u64> {
        if !self.trusted() {
            return None;
        }
        self.shard(user_id).lock().ok()?.get(&user_id).copied()
    }

    /// Taken just before a stamp is read: what [`Memory::keep`] needs to keep the answer,
    /// or `None` when it may not be kept.
    fn ticket(&self) -> Option<u64> {
        self.trusted().then(|| self.epoch.load(Ordering::SeqCst))
    }

    /// Remembers a stamp read under `ticket`, unless something was forgotten since.
    fn keep(&self, ticket: u64, user_id: i64, stamp: u64) {
        let Ok(mut shard) = self.shard(user_id).lock() else {
            return;
        };
        // Checked under the lock: `forget` bumps the epoch before it takes any.
        if self.trusted() && self.epoch.load(Ordering::SeqCst) == ticket {
            if shard.len() >= CAPACITY / SHARDS {
                shard.clear();
            }
            shard.insert(user_id, stamp);
        }
    }

    fn forget(&self, users: &[i64]) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for user in users {
            if let Ok(mut shard) = self.shard(*user).lock() {
                shard.remove(user);
            }
        }
    }

    fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        for shard in &self.shards {
            if let Ok(mut shard) = shard.lock() {
                shard.clear();
            }
        }
    }

    /// The subscription is gone: answer from Redis until a new one is proven.
    fn distrust(&self) {
        self.trusted_until.store(0, Ordering::SeqCst);
        self.forget_all();
    }

    fn trust_until(&self, deadline: Instant) {
        let deadline = self.nanos(deadline);
        self.trusted_until.fetch_max(deadline, Ordering::SeqCst);
    }
}

/// A stamp read waiting for the next `MGET`: the user, its [`Memory::ticket`], and where its
/// answer goes.
type StampRead = (i64, Option<u64>, oneshot::Sender<StoreResult<Option<u64>>>);

/// The stamp side of a Redis session store.
pub(super) struct Stamps<C> {
    conn: C,
    keys: Keys,
    reads: mpsc::UnboundedSender<StampRead>,
    /// Standalone Redis only: where the node subscribes, and what it remembers.
    node: Option<Node>,
}

struct Node {
    client: redis::Client,
    memory: Arc<Memory>,
    id: String,
    started: Once,
    lease: Arc<Lease>,
}

/// Held while the lease is renewed, so that leaving cannot come between a renewal's check
/// and its write.
#[derive(Default)]
struct Lease {
    renewing: tokio::sync::Mutex<()>,
    left: AtomicBool,
}

impl<C> Stamps<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// `subscribe_at`: the standalone server, for answers from memory; `None` on Cluster.
    pub(super) fn new(conn: C, keys: Keys, subscribe_at: Option<redis::Client>) -> Self {
        let node = subscribe_at.map(|client| Node {
            client,
            memory: Arc::new(Memory::new()),
            id: new_public_id(),
            started: Once::new(),
            lease: Arc::default(),
        });
        let memory = node.as_ref().map(|node| node.memory.clone());
        let (reads, waiting) = mpsc::unbounded_channel::<StampRead>();
        tokio::spawn(read_in_batches(conn.clone(), keys.clone(), memory, waiting));
        Stamps {
            conn,
            keys,
            reads,
            node,
        }
    }

    pub(super) async fn get(&self, user_id: i64) -> StoreResult<Option<u64>> {
        let mut ticket = None;
        if let Some(node) = &self.node {
            // Only a process that checks sessions subscribes; the command line never does.
            node.started.call_once(|| {
                tokio::spawn(serve_node(
                    self.conn.clone(),
                    self.keys.clone(),
                    node.client.clone(),
                    node.memory.clone(),
                    node.id.clone(),
                    node.lease.clone(),
                ));
            });
            if let Some(stamp) = node.memory.get(user_id) {
                return Ok(Some(stamp));
            }
            ticket = node.memory.ticket();
        }
        let (answer, stamp) = oneshot::channel();
        let gone = || StoreError::Unavailable("Redis: the stamp reader stopped".into());
        self.reads
            .send((user_id, ticket, answer))
            .map_err(|_| gone())?;
        stamp.await.map_err(|_| gone())?
    }

    /// Tells every node that these users' stamps were replaced, and waits until each node
    /// holding a lease has forgotten them (see the module's documentation). Called after
    /// every write that may have replaced a stamp, failed or not.
    pub(super) async fn announce(&self, users: &[i64]) -> StoreResult<()> {
        if self.node.is_none() || users.is_empty() {
            return Ok(());
        }
        let ack = new_public_id();
        let named = if users.len() > NAMED_AT_MOST {
            "*".to_owned()
        } else {
            let ids: Vec<String> = users.iter().map(i64::to_string).collect();
            ids.join(",")
        };
        let mut publish = cmd("PUBLISH");
        publish
            .arg(self.keys.stamp_channel())
            .arg(format!("i {ack} {named}"));
        let acks = self.keys.node_acks(&ack);
        if let Err(error) = query_on::<_, ()>(&self.conn, &publish).await {
            // No node to tell (say, a Redis user without pub/sub: no node could subscribe).
            return match self.pending(&acks).await? {
                0 => Ok(()),
                _ => Err(error),
            };
        }
        let taken = Instant::now();
        let mut pause = Duration::from_micros(200);
        loop {
            let pending = self.pending(&acks).await?;
            if pending == 0 {
                return Ok(());
            }
            if taken.elapsed() >= LEASE {
                // Every node that did not answer has stopped trusting its memory by now.
                tracing::warn!(
                    pending,
                    "nodes did not acknowledge a revocation within their lease"
                );
                return Ok(());
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// How many nodes hold a lease and are not in `acks`.
    async fn pending(&self, acks: &str) -> StoreResult<u64> {
        let mut pending = PENDING.key(self.keys.node_leases());
        pending.key(acks);
        let mut conn = self.conn.clone();
        bounded(async move { Ok(pending.invoke_async(&mut conn).await?) }).await
    }

    /// Gives up the lease for good (see `SessionStore::leave`).
    pub(super) async fn leave(&self) {
        let Some(node) = self
            .node
            .as_ref()
            .filter(|node| node.started.is_completed())
        else {
            return;
        };
        let _renewing = node.lease.renewing.lock().await;
        node.lease.left.store(true, Ordering::SeqCst);
        node.memory.distrust();
        let released = query_on::<_, ()>(&self.conn, &release(&self.keys, &node.id)).await;
        if let Err(error) = released {
            tracing::warn!(%error, "cannot give up this node's Redis lease; it runs out by itself");
        }
    }
}

/// Every check reads its user's stamp: the reads that arrive while one `MGET` is out go
/// together in the next, one command and one reply for many requests.
async fn read_in_batches<C: ConnectionLike + Clone + Send + Sync + 'static>(
    mut conn: C,
    keys: Keys,
    memory: Option<Arc<Memory>>,
    mut waiting: mpsc::UnboundedReceiver<StampRead>,
) {
    let mut batch = Vec::with_capacity(STAMP_BATCH);
    while waiting.recv_many(&mut batch, STAMP_BATCH).await > 0 {
        let mut mget = cmd("MGET");
        for (user, _, _) in &batch {
            mget.arg(keys.user_stamp(*user));
        }
        let stamps: StoreResult<Vec<Value>> =
            bounded(async { Ok(mget.query_async(&mut conn).await?) }).await;
        match stamps {
            Ok(stamps) => {
                for ((user, ticket, answer), stamp) in batch.drain(..).zip(stamps) {
                    // Each value on its own: a damaged key fails only its user's check.
                    let stamp: StoreResult<Option<u64>> =
                        redis::from_redis_value(stamp).map_err(|e| unavailable(e.into()));
                    if let (Some(memory), Some(ticket), Ok(Some(stamp))) = (&memory, ticket, &stamp)
                    {
                        memory.keep(ticket, user, *stamp);
                    }
                    // A request that stopped waiting no longer wants its answer.
                    let _ = answer.send(stamp);
                }
            }
            Err(StoreError::Unavailable(reason) | StoreError::Conflict(reason)) => {
                for (_, _, answer) in batch.drain(..) {
                    let _ = answer.send(Err(StoreError::Unavailable(reason.clone())));
                }
            }
        }
    }
}

/// Renewals whose ping has not been heard yet: sequence number, and when each was sent.
type Renewals = Arc<Mutex<VecDeque<(u64, Instant)>>>;

/// The node's side: subscribes, renews the lease while subscribed, forgets what it hears
/// and acknowledges it; subscribes again, with a growing pause, whenever the subscription
/// drops.
async fn serve_node<C: ConnectionLike + Clone + Send + Sync + 'static>(
    conn: C,
    keys: Keys,
    client: redis::Client,
    memory: Arc<Memory>,
    id: String,
    lease: Arc<Lease>,
) {
    let subscribed = Arc::new(AtomicBool::new(false));
    let renewals = Renewals::default();
    tokio::spawn(renew_lease(
        conn.clone(),
        keys.clone(),
        id.clone(),
        subscribed.clone(),
        lease,
        renewals.clone(),
    ));
    let mut pause = Duration::from_millis(100);
    loop {
        match subscribe(&client, &keys).await {
            Ok(pubsub) => {
                pause = Duration::from_millis(100);
                let (_sink, mut messages) = pubsub.split();
                subscribed.store(true, Ordering::SeqCst);
                while let Some(message) = futures_util::StreamExt::next(&mut messages).await {
                    let Ok(text) = message.get_payload::<String>() else {
                        continue;
                    };
                    hear(&text, &conn, &keys, &memory, &id, &renewals);
                }
                tracing::warn!("the Redis invalidation subscription dropped; subscribing again");
            }
            Err(error) => tracing::warn!(%error, "cannot subscribe to Redis invalidations"),
        }
        subscribed.store(false, Ordering::SeqCst);
        memory.distrust();
        // Writers need not wait for a node that heard nothing; the lease would run out anyway.
        let _: StoreResult<()> = query_on(&conn, &release(&keys, &id)).await;
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Removes the node's lease.
fn release(keys: &Keys, id: &str) -> redis::Cmd {
    let mut release = cmd("ZREM");
    release.arg(keys.node_leases()).arg(id);
    release
}

async fn subscribe(client: &redis::Client, keys: &Keys) -> redis::RedisResult<redis::aio::PubSub> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(keys.stamp_channel()).await?;
    Ok(pubsub)
}

/// One message on the channel: a ping of this node's renewal, or users to forget.
fn hear<C: ConnectionLike + Clone + Send + Sync + 'static>(
    text: &str,
    conn: &C,
    keys: &Keys,
    memory: &Memory,
    id: &str,
    renewals: &Renewals,
) {
    let mut words = text.split(' ');
    match (words.next(), words.next(), words.next()) {
        (Some("p"), Some(node), Some(seq)) if node == id => {
            let Ok(seq) = seq.parse::<u64>() else { return };
            let Ok(mut renewals) = renewals.lock() else {
                return;
            };
            while let Some(&(pending, sent)) = renewals.front() {
                if pending > seq {
                    break;
                }
                renewals.pop_front();
                if pending == seq {
                    memory.trust_until(sent + LEASE - MARGIN);
                }
            }
        }
        (Some("i"), Some(ack), Some(named)) => {
            if named == "*" {
                memory.forget_all();
            } else {
                let users: Vec<i64> = named.split(',').filter_map(|u| u.parse().ok()).collect();
                memory.forget(&users);
            }
            let acks = keys.node_acks(ack);
            let mut acknowledge = pipe();
            acknowledge
                .atomic()
                .sadd(&acks, id)
                .ignore()
                .pexpire(&acks, ACK_TTL_MS as i64)
                .ignore();
            let mut conn = conn.clone();
            // Not awaited here: the next message must not wait for this one's round trip.
            tokio::spawn(async move {
                let sent: StoreResult<()> =
                    bounded(async { Ok(acknowledge.query_async(&mut conn).await?) }).await;
                if let Err(error) = sent {
                    tracing::warn!(%error, "cannot acknowledge a Redis invalidation");
                }
            });
        }
        _ => {}
    }
}

/// Renews the lease every [`RENEW_EVERY`] while subscribed, each renewal followed by its
/// ping.
async fn renew_lease<C: ConnectionLike + Clone + Send + Sync + 'static>(
    mut conn: C,
    keys: Keys,
    id: String,
    subscribed: Arc<AtomicBool>,
    lease: Arc<Lease>,
    renewals: Renewals,
) {
    let mut ticker = tokio::time::interval(RENEW_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let lease_ms = LEASE.as_millis() as u64;
    for seq in 1u64.. {
        ticker.tick().await;
        let renewing = lease.renewing.lock().await;
        if lease.left.load(Ordering::SeqCst) {
            return;
        }
        if !subscribed.load(Ordering::SeqCst) {
            continue;
        }
        let sent = Instant::now();
        let mut renew = RENEW.key(keys.node_leases());
        renew.arg(&id).arg(lease_ms);
        let renewed: StoreResult<i64> =
            bounded(async { Ok(renew.invoke_async(&mut conn).await?) }).await;
        drop(renewing);
        if let Err(error) = renewed {
            tracing::warn!(%error, "cannot renew this node's Redis lease");
            continue;
        }
        if let Ok(mut renewals) = renewals.lock() {
            renewals.push_back((seq, sent));
            // Pings lost with a dropped subscription are never heard.
            while renewals.len() > 16 {
                renewals.pop_front();
            }
        }
        let mut ping = cmd("PUBLISH");
        ping.arg(keys.stamp_channel()).arg(format!("p {id} {seq}"));
        let pinged: StoreResult<()> = query_on(&conn, &ping).await;
        if let Err(error) = pinged {
            tracing::warn!(%error, "cannot ping this node's Redis subscription");
        }
    }
}
