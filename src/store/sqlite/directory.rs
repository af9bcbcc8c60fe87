//! The directory's store: users, remember-me tokens, audit, API tokens, alarms and groups in
//! one SQLite file, one file of this folder per ability.

use super::groups::{ADD_MEMBER, ADD_SHARE, change_pair, group_id, insert_group};
use super::migrate::Component;
use super::users::insert_user;
use super::{Checkpointer, Pool, Readers, conflict, open_pool, run};
use crate::domain::group::GroupPath;
use crate::domain::time::Timestamp;
use crate::store::{Directory, DirectoryImport, Imported, StoreResult};
use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior};

pub struct SqliteDirectory {
    pub(super) pool: Pool,
    pub(super) readers: Readers,
    _checkpointer: Checkpointer,
}

impl SqliteDirectory {
    pub fn open(path: &str) -> Result<Self, String> {
        let pool = open_pool(path, Component::Directory)?;
        Ok(SqliteDirectory {
            _checkpointer: Checkpointer::start(&pool),
            pool,
            readers: Readers::new(path),
        })
    }
}

#[async_trait]
impl Directory for SqliteDirectory {
    async fn import(&self, import: &DirectoryImport, now: Timestamp) -> StoreResult<Imported> {
        let import = import.clone();
        run(&self.pool, move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut imported = Imported {
                users: import
                    .users
                    .iter()
                    .map(|user| insert_user(&tx, user, now))
                    .collect::<rusqlite::Result<_>>()?,
                ..Imported::default()
            };
            for group in &import.groups {
                imported.groups.push(insert_group(&tx, group, now)?);
            }
            let group = |path: &GroupPath| {
                group_id(&tx, path)?
                    .ok_or_else(|| conflict(format!("the group '{path}' does not exist")))
            };
            for (path, username) in import.memberships {
                let user_id: i64 = tx
                    .query_row(
                        "SELECT id FROM users WHERE username = ?1",
                        [username.as_str()],
                        |row| row.get(0),
                    )
                    .optional()?
                    .ok_or_else(|| conflict(format!("the user '{username}' does not exist")))?;
                if change_pair(&tx, ADD_MEMBER, group(&path)?, user_id)? {
                    imported.memberships.push((path, user_id, username));
                }
            }
            for (path, with) in import.shares {
                if change_pair(&tx, ADD_SHARE, group(&path)?, group(&with)?)? {
                    imported.shares.push((path, with));
                }
            }
            tx.commit()?;
            Ok(imported)
        })
        .await
    }

    async fn server_key(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        let (name, candidate) = (name.to_owned(), candidate.to_vec());
        run(&self.pool, move |conn| {
            conn.execute(
                "INSERT INTO server_keys (name, key) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                rusqlite::params![name, candidate],
            )?;
            conn.query_row(
                "SELECT key FROM server_keys WHERE name = ?1",
                [&name],
                |row| row.get(0),
            )
        })
        .await
    }

    async fn ping(&self) -> StoreResult<()> {
        run(&self.pool, |conn| {
            conn.query_row("SELECT 1", [], |_| Ok(()))
        })
        .await
    }
}
