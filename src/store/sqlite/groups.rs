//! Groups, their members and their shares.

use super::{ID_CHUNK, SqliteDirectory, conflict, on_conflict, run};
use crate::domain::group::{Group, GroupGraph, GroupPath, GroupShare, NewGroup};
use crate::domain::time::Timestamp;
use crate::domain::user::User;
use crate::store::sql::{
    GROUP_COLUMNS, USER_COLUMN_COUNT, USER_COLUMNS, group_from_row, placeholders, user_from_row,
};
use crate::store::{GroupStore, StoreResult};
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

pub(super) fn group_id(conn: &Connection, path: &GroupPath) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM groups WHERE path = ?1")?
        .query_row([path.as_str()], |row| row.get(0))
        .optional()
}

pub(super) fn insert_group(
    conn: &Connection,
    group: &NewGroup,
    now: Timestamp,
) -> rusqlite::Result<Group> {
    let parent_id = match group.path.parent() {
        None => None,
        Some(parent) => Some(
            group_id(conn, &parent)?
                .ok_or_else(|| conflict(format!("the parent group '{parent}' does not exist")))?,
        ),
    };
    conn.query_row(
        &format!(
            "INSERT INTO groups (parent_id, path, name, created_at) VALUES (?1, ?2, ?3, ?4) \
             RETURNING {GROUP_COLUMNS}"
        ),
        params![parent_id, group.path.as_str(), group.name, now.0],
        |row| group_from_row(row),
    )
    .map_err(on_conflict(|| {
        format!("the group '{}' already exists", group.path)
    }))
}

pub(super) const ADD_MEMBER: &str =
    "INSERT OR IGNORE INTO group_members (group_id, user_id) VALUES (?1, ?2)";
pub(super) const ADD_SHARE: &str =
    "INSERT OR IGNORE INTO group_shares (group_id, shared_with_id) VALUES (?1, ?2)";
const REMOVE_MEMBER: &str = "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2";
const REMOVE_SHARE: &str = "DELETE FROM group_shares WHERE group_id = ?1 AND shared_with_id = ?2";

/// Runs one of the pair statements above; false if it changed nothing.
pub(super) fn change_pair(
    conn: &Connection,
    sql: &str,
    first: i64,
    second: i64,
) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached(sql)?.execute([first, second])? == 1)
}

#[async_trait]
impl GroupStore for SqliteDirectory {
    async fn create_group(&self, group: &NewGroup, now: Timestamp) -> StoreResult<Group> {
        let group = group.clone();
        run(&self.pool, move |conn| insert_group(conn, &group, now)).await
    }

    async fn group_graph(&self) -> StoreResult<GroupGraph> {
        run(&self.pool, |conn| {
            // One read transaction, so groups and shares are of the same moment.
            let tx = conn.transaction()?;
            let groups = tx
                .prepare_cached(&format!("SELECT {GROUP_COLUMNS} FROM groups ORDER BY path"))?
                .query_map([], |row| group_from_row(row))?
                .collect::<rusqlite::Result<_>>()?;
            let shares = tx
                .prepare_cached(
                    "SELECT group_id, shared_with_id FROM group_shares \
                     ORDER BY group_id, shared_with_id",
                )?
                .query_map([], |row| {
                    Ok(GroupShare {
                        group_id: row.get(0)?,
                        shared_with_id: row.get(1)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(GroupGraph { groups, shares })
        })
        .await
    }

    async fn add_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool> {
        run(&self.pool, move |conn| {
            change_pair(conn, ADD_MEMBER, group_id, user_id)
        })
        .await
    }

    async fn remove_member(&self, group_id: i64, user_id: i64) -> StoreResult<bool> {
        run(&self.pool, move |conn| {
            change_pair(conn, REMOVE_MEMBER, group_id, user_id)
        })
        .await
    }

    async fn share_group(&self, group_id: i64, shared_with_id: i64) -> StoreResult<bool> {
        run(&self.pool, move |conn| {
            change_pair(conn, ADD_SHARE, group_id, shared_with_id)
        })
        .await
    }

    async fn unshare_group(&self, group_id: i64, shared_with_id: i64) -> StoreResult<bool> {
        run(&self.pool, move |conn| {
            change_pair(conn, REMOVE_SHARE, group_id, shared_with_id)
        })
        .await
    }

    async fn direct_members(&self, group_ids: &[i64]) -> StoreResult<Vec<(i64, User)>> {
        let group_ids = group_ids.to_vec();
        run(&self.pool, move |conn| {
            let mut members = Vec::new();
            for chunk in group_ids.chunks(ID_CHUNK) {
                let mut stmt = conn.prepare(&format!(
                    "SELECT {USER_COLUMNS}, group_id FROM group_members \
                     JOIN users ON users.id = group_members.user_id \
                     WHERE group_id IN ({}) ORDER BY group_id, username",
                    placeholders('?', chunk.len())
                ))?;
                let rows = stmt.query_map(params_from_iter(chunk), |row| {
                    Ok((row.get(USER_COLUMN_COUNT)?, user_from_row(row)?))
                })?;
                for row in rows {
                    members.push(row?);
                }
            }
            Ok(members)
        })
        .await
    }
}
