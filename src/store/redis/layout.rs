//! The key layout's version, `P:layout`, checked when the store is opened: a node never works
//! on keys laid out by a release newer than itself.

use super::RedisSessionStore;
use crate::store::bounded;
use redis::aio::ConnectionLike;
use redis::cmd;

/// The key layout this code reads and writes (docs/deployment.md, "How sessions are kept in
/// Redis").
const LAYOUT: u32 = 1;

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// Writes [`LAYOUT`] where no version is stored (an empty store, or one written before
    /// the key existed, in this same layout) and refuses any version but [`LAYOUT`].
    pub(super) async fn check_layout(&self) -> Result<(), String> {
        let key = self.keys.layout();
        let prefix = self.keys.name();
        // One command, so a node of another release starting meanwhile cannot slip between
        // the read and the write.
        let mut set = cmd("SET");
        set.arg(&key).arg(LAYOUT).arg("NX").arg("GET");
        let mut conn = self.conn.clone();
        let stored = bounded(async move { Ok(set.query_async::<Option<String>>(&mut conn).await) });
        let cannot_read = |error: &dyn std::fmt::Display| {
            format!("Redis prefix {prefix:?}: cannot read its key layout from {key}: {error}")
        };
        let found = match stored.await {
            Ok(Ok(found)) => found,
            // An ACL that leaves the key out makes the check impossible, not the store unusable.
            Ok(Err(error)) if error.code() == Some("NOPERM") => {
                tracing::warn!(%error, %key, "the Redis user may not read the key layout; not checked");
                return Ok(());
            }
            Ok(Err(error)) => return Err(cannot_read(&error)),
            Err(error) => return Err(cannot_read(&error)),
        };
        match found.as_deref().map(str::parse::<u32>) {
            None | Some(Ok(LAYOUT)) => Ok(()),
            Some(Ok(newer)) if newer > LAYOUT => Err(format!(
                "Redis prefix {prefix:?} holds key layout {newer}, newer than layout {LAYOUT} of this \
                 sessiond: run a release that knows layout {newer}"
            )),
            Some(_) => Err(format!(
                "Redis prefix {prefix:?}: {key} holds {:?}, not a key layout this sessiond knows \
                 (it writes layout {LAYOUT})",
                found.unwrap_or_default()
            )),
        }
    }
}
