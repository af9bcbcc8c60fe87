//! The directory as a whole: a bulk import in one transaction, the shared server keys, and
//! the health check.

use super::groups::{ADD_MEMBER, ADD_SHARE, change_pair, group_id, insert_group};
use super::users::insert_user;
use super::{PgDirectory, ping, with_client, with_client_for};
use crate::domain::group::GroupPath;
use crate::domain::time::Timestamp;
use crate::store::sql::SqlRow;
use crate::store::{Directory, DirectoryImport, Imported, StoreError, StoreResult};
use async_trait::async_trait;
use futures_util::future::try_join_all;

#[async_trait]
impl Directory for PgDirectory {
    async fn import(&self, import: &DirectoryImport, now: Timestamp) -> StoreResult<Imported> {
        let items = import.users.len() + import.memberships.len();
        with_client_for(&self.pool, items, async |mut client| {
            let tx = client.transaction().await?;
            // Users and memberships are pipelined (sent without waiting for each answer), so
            // an import of thousands costs about one round trip per kind, not one per row.
            let mut imported = Imported {
                users: try_join_all(import.users.iter().map(|user| insert_user(&tx, user, now)))
                    .await?,
                ..Imported::default()
            };
            // Parents before children, so one at a time.
            for group in &import.groups {
                imported.groups.push(insert_group(&tx, group, now).await?);
            }
            let added = try_join_all(import.memberships.iter().map(async |(path, username)| {
                let group = group_id(&tx, path).await?.ok_or_else(|| {
                    StoreError::Conflict(format!("the group '{path}' does not exist"))
                })?;
                let user = tx
                    .query_opt(
                        "SELECT id FROM users WHERE username = $1",
                        &[&username.as_str()],
                    )
                    .await?
                    .ok_or_else(|| {
                        StoreError::Conflict(format!("the user '{username}' does not exist"))
                    })?
                    .int(0)?;
                let added = change_pair(&tx, ADD_MEMBER, group, user).await?;
                Ok::<_, StoreError>(added.then(|| (path.clone(), user, username.clone())))
            }))
            .await?;
            imported.memberships = added.into_iter().flatten().collect();
            for (path, with) in &import.shares {
                let missing =
                    |p: &GroupPath| StoreError::Conflict(format!("the group '{p}' does not exist"));
                let group = group_id(&tx, path).await?.ok_or_else(|| missing(path))?;
                let other = group_id(&tx, with).await?.ok_or_else(|| missing(with))?;
                if change_pair(&tx, ADD_SHARE, group, other).await? {
                    imported.shares.push((path.clone(), with.clone()));
                }
            }
            // Dropping the transaction without commit on any error above rolls it all back.
            tx.commit().await?;
            Ok(imported)
        })
        .await
    }

    async fn server_key(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        with_client(&self.pool, async |client| {
            client
                .execute(
                    "INSERT INTO server_keys (name, key) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING",
                    &[&name, &candidate],
                )
                .await?;
            let row = client
                .query_one("SELECT key FROM server_keys WHERE name = $1", &[&name])
                .await?;
            Ok(row.try_get(0)?)
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        ping(&self.pool).await
    }
}
