//! Groups: the tree of paths, memberships and shares.

use super::{PgDirectory, all_rows, reword_conflict, with_client};
use crate::domain::group::{Group, GroupGraph, GroupPath, GroupShare, NewGroup};
use crate::domain::time::Timestamp;
use crate::domain::user::User;
use crate::store::sql::{
    GROUP_COLUMNS, SqlRow, USER_COLUMN_COUNT, USER_COLUMNS, group_from_row, user_from_row,
};
use crate::store::{GroupStore, StoreError, StoreResult};
use async_trait::async_trait;
use deadpool_postgres::GenericClient;

/// The id of the group at `path`, if there is one.
pub(super) async fn group_id(
    client: &impl GenericClient,
    path: &GroupPath,
) -> StoreResult<Option<i64>> {
    let row = client
        .query_opt("SELECT id FROM groups WHERE path = $1", &[&path.as_str()])
        .await?;
    row.map(|row| row.int(0)).transpose()
}

/// Inserts a group under its parent, which must exist already.
pub(super) async fn insert_group(
    client: &impl GenericClient,
    group: &NewGroup,
    now: Timestamp,
) -> StoreResult<Group> {
    let parent_id = match group.path.parent() {
        None => None,
        Some(parent) => Some(group_id(client, &parent).await?.ok_or_else(|| {
            StoreError::Conflict(format!("the parent group '{parent}' does not exist"))
        })?),
    };
    let row = client
        .query_one(
            &format!(
                "INSERT INTO groups (parent_id, path, name, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING {GROUP_COLUMNS}"
            ),
            &[&parent_id, &group.path.as_str(), &group.name, &now.0],
        )
        .await
        .map_err(StoreError::from)
        .map_err(reword_conflict(|| {
            format!("the group '{}' already exists", group.path)
        }))?;
    group_from_row(&row)
}

pub(super) const ADD_MEMBER: &str =
    "INSERT INTO group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
pub(super) const ADD_SHARE: &str = "INSERT INTO group_shares (group_id, shared_with_id) VALUES ($1, $2) \
     ON CONFLICT DO NOTHING";
const REMOVE_MEMBER: &str = "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2";
const REMOVE_SHARE: &str = "DELETE FROM group_shares WHERE group_id = $1 AND shared_with_id = $2";

/// Runs one of the pair statements above; false if it changed nothing.
pub(super) async fn change_pair(
    client: &impl GenericClient,
    sql: &str,
    first: i64,
    second: i64,
) -> StoreResult<bool> {
    Ok(client.execute(sql, &[&first, &second]).await? == 1)
}

#[async_trait]
impl GroupStore for PgDirectory {
    async fn create_group(&self, group: &NewGroup, now: Timestamp) -> StoreResult<Group> {
        with_client(&self.pool, async |client| {
            insert_group(&client, group, now).await
        })
        .await
    }

    async fn group_graph(&self) -> StoreResult<GroupGraph> {
        with_client(&self.pool, async |mut client| {
            // One read-only snapshot, so groups and shares are of the same moment.
            let tx = client
                .build_transaction()
                .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()
                .await?;
            let groups = tx
                .query(
                    &format!("SELECT {GROUP_COLUMNS} FROM groups ORDER BY path"),
                    &[],
                )
                .await?
                .iter()
                .map(group_from_row)
                .collect::<StoreResult<_>>()?;
            let shares = tx
                .query(
                    "SELECT group_id, shared_with_id FROM group_shares \
                     ORDER BY group_id, shared_with_id",
                    &[],
                )
                .await?
                .iter()
                .map(|row| {
                    Ok(GroupShare {
                        group_id: row.int(0)?,
                        shared_with_id: row.int(1)?,
                    })
                })
                .collect::<StoreResult<_>>()?;
            tx.commit().await?;
            Ok(GroupGraph { groups, shares })
        })
        .await
    }

    async fn add_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool> {
        with_client(&self.pool, async |client| {
            change_pair(&client, ADD_MEMBER, group_id, user_id).await
        })
        .await
    }

    async fn remove_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool> {
        with_client(&self.pool, async |client| {
            change_pair(&client, REMOVE_MEMBER, group_id, user_id).await
        })
        .await
    }

    async fn share_group(&self, group_id: i64, shared_with_id: i64) -> StoreResult<bool> {
        with_client(&self.pool, async |client| {
            change_pair(&client, ADD_SHARE, group_id, shared_with_id).await
        })
        .await
    }

    async fn unshare_group(&self, group_id: i64, shared_with_id: i64) -> StoreResult<bool> {
        with_client(&self.pool, async |client| {
            change_pair(&client, REMOVE_SHARE, group_id, shared_with_id).await
        })
        .await
    }

    async fn direct_members(&self, group_ids: &[i64]) -> StoreResult<Vec<(i64, User)>> {
        let columns = USER_COLUMNS
            .split(", ")
            .map(|c| format!("users.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, group_members.group_id FROM group_members \
             JOIN users ON users.id = group_members.user_id \
             WHERE group_members.group_id = ANY($1) ORDER BY group_members.group_id, username"
        );
        all_rows(&self.pool, &sql, &[&group_ids], |row| {
            Ok((row.int(USER_COLUMN_COUNT)?, user_from_row(row)?))
        })
        .await
    }
}
