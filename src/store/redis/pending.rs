//! Pending sign-ins (`domain::pending`): one string per token hash, `USER|PURPOSE|REMEMBER|
//! EXPIRES`, which Redis drops at its expiry and `GETDEL` takes at once, so two nodes racing
//! to complete one never both succeed.

use super::RedisSessionStore;
use crate::domain::pending::{PendingPurpose, PendingSignIn};
use crate::domain::time::Timestamp;
use crate::domain::token::TokenHash;
use crate::store::{StoreError, StoreResult};
use redis::aio::ConnectionLike;
use redis::cmd;

fn encode(pending: &PendingSignIn) -> String {
    format!(
        "{}|{}|{}|{}",
        pending.user_id,
        pending.purpose.as_str(),
        u8::from(pending.remember_me),
        pending.expires_at.0
    )
}

fn decode(text: &str) -> StoreResult<PendingSignIn> {
    let invalid = || StoreError::Unavailable(format!("Redis: unreadable pending sign-in {text:?}"));
    let mut fields = text.split('|');
    let mut next = || fields.next().ok_or_else(invalid);
    let user_id = next()?.parse().map_err(|_| invalid())?;
    let purpose = PendingPurpose::parse(next()?).ok_or_else(invalid)?;
    let remember_me = next()? == "1";
    let expires_at = Timestamp(next()?.parse().map_err(|_| invalid())?);
    Ok(PendingSignIn {
        user_id,
        purpose,
        remember_me,
        expires_at,
    })
}

impl<C> RedisSessionStore<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    pub(super) async fn put_pending(
        &self,
        hash: &TokenHash,
        pending: &PendingSignIn,
    ) -> StoreResult<()> {
        let key = self.keys.pending(&hash.to_hex());
        let mut command = cmd("SET");
        command
            .arg(key)
            .arg(encode(pending))
            .arg("PXAT")
            .arg(pending.expires_at.0);
        self.query::<()>(&command).await
    }

    /// The unexpired pending sign-in under `hash`; with `take`, deleted: read first, so one
    /// expired by `now` (though not yet by Redis's clock) stays, then taken by `GETDEL`,
    /// which only one of racing callers gets.
    pub(super) async fn find_pending(
        &self,
        hash: &TokenHash,
        now: Timestamp,
        take: bool,
    ) -> StoreResult<Option<PendingSignIn>> {
        let key = self.keys.pending(&hash.to_hex());
        let read = async |command: &str| -> StoreResult<Option<PendingSignIn>> {
            let found: Option<String> = self.query(cmd(command).arg(&key)).await?;
            let found = found.as_deref().map(decode).transpose()?;
            Ok(found.filter(|pending| pending.expires_at > now))
        };
        match read("GET").await? {
            Some(_) if take => read("GETDEL").await,
            found => Ok(found),
        }
    }
}
