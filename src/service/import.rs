//! Loading users, groups, memberships and shares from a JSON file (format: docs/import.md),
//! checked whole before one store transaction applies it: any error, nothing imported.

use super::groups::{group_created_event, member_added_event, shared_event};
use super::{Service, ServiceError, ServiceResult};
use crate::domain::audit::{Actor, AuditEvent, AuditKind, Outcome};
use crate::domain::group::{GroupPath, NewGroup};
use crate::domain::password;
use crate::domain::user::{Email, NewUser, UserKind, Username};
use crate::store::{DirectoryImport, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportFile {
    #[serde(default)]
    users: Vec<ImportUser>,
    #[serde(default)]
    groups: Vec<ImportGroup>,
    #[serde(default)]
    memberships: Vec<ImportMembership>,
    #[serde(default)]
    shares: Vec<ImportShare>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportUser {
    username: String,
    email: String,
    name: Option<String>,
    #[serde(default)]
    admin: bool,
    #[serde(default)]
    bot: bool,
    password_hash: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportGroup {
    path: String,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportMembership {
    group: String,
    user: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportShare {
    group: String,
    with: String,
}

/// How much an import added.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub users: usize,
    pub groups: usize,
    pub memberships: usize,
    pub shares: usize,
}

/// A refusal naming the entry and field, e.g. `groups[2].path: ...`.
fn bad(section: &str, index: usize, field: &str, message: impl std::fmt::Display) -> ServiceError {
    ServiceError::BadInput(format!("{section}[{index}].{field}: {message}"))
}

impl Service {
    /// Imports the JSON document `text` in one transaction, after checking every entry
    /// against the file and the store.
    pub async fn import_directory(
        &self,
        text: &str,
        actor: &Actor,
    ) -> ServiceResult<ImportSummary> {
        let file: ImportFile = serde_json::from_str(text)
            .map_err(|e| ServiceError::BadInput(format!("not a valid import file: {e}")))?;
        let existing_users = self.directory.list_users().await?;
        let graph = self.directory.group_graph().await?;

        let mut usernames: HashSet<String> = existing_users
            .iter()
            .map(|user| user.username.to_string())
            .collect();
        let mut emails: HashSet<String> = existing_users
            .iter()
            .map(|user| user.email.as_str().to_owned())
            .collect();
        let mut import = DirectoryImport::default();
        for (i, user) in file.users.into_iter().enumerate() {
            let username =
                Username::parse(&user.username).map_err(|e| bad("users", i, "username", e))?;
            let email = Email::parse(&user.email).map_err(|e| bad("users", i, "email", e))?;
            if !usernames.insert(username.to_string()) {
                return Err(bad(
                    "users",
                    i,
                    "username",
                    format!("'{username}' already exists"),
                ));
            }
            if !emails.insert(email.as_str().to_owned()) {
                return Err(bad(
                    "users",
                    i,
                    "email",
                    format!("'{}' is already used", email.as_str()),
                ));
            }
            if let Some(hash) = &user.password_hash
                && !password::is_argon2id_hash(hash)
            {
                return Err(bad(
                    "users",
                    i,
                    "password_hash",
                    "not an Argon2id PHC string",
                ));
            }
            import.users.push(NewUser {
                name: user.name.unwrap_or_else(|| username.to_string()),
                username,
                email,
                kind: UserKind::of(user.bot),
                is_admin: user.admin,
                is_owner: false,
                password_hash: user.password_hash,
                must_change_password: false,
            });
        }

        let mut paths: HashSet<GroupPath> = graph
            .groups
            .iter()
            .map(|group| group.path.clone())
            .collect();
        for (i, group) in file.groups.iter().enumerate() {
            let path = GroupPath::parse(&group.path).map_err(|e| bad("groups", i, "path", e))?;
            if !paths.insert(path.clone()) {
                return Err(bad(
                    "groups",
                    i,
                    "path",
                    format!("the group '{path}' already exists"),
                ));
            }
            import.groups.push(NewGroup {
                name: group
                    .name
                    .clone()
                    .unwrap_or_else(|| path.segment().to_owned()),
                path,
            });
        }
        for (i, group) in import.groups.iter().enumerate() {
            if let Some(parent) = group.path.parent().filter(|parent| !paths.contains(parent)) {
                return Err(bad(
                    "groups",
                    i,
                    "path",
                    format!("the parent group '{parent}' is neither in the store nor in this file"),
                ));
            }
        }
        // Parents before children, whatever the file's order.
        import.groups.sort_by_key(|group| group.path.depth());

        let group = |section: &str, i: usize, field: &str, text: &str| {
            GroupPath::parse(text)
                .ok()
                .filter(|path| paths.contains(path))
                .ok_or_else(|| {
                    bad(
                        section,
                        i,
                        field,
                        format!("no group '{text}' in the store or this file"),
                    )
                })
        };
        for (i, membership) in file.memberships.iter().enumerate() {
            let path = group("memberships", i, "group", &membership.group)?;
            let user = Username::parse(&membership.user)
                .ok()
                .filter(|name| usernames.contains(name.as_str()))
                .ok_or_else(|| {
                    bad(
                        "memberships",
                        i,
                        "user",
                        format!("no user '{}' in the store or this file", membership.user),
                    )
                })?;
            import.memberships.push((path, user));
        }
        for (i, share) in file.shares.iter().enumerate() {
            let path = group("shares", i, "group", &share.group)?;
            let with = group("shares", i, "with", &share.with)?;
            if path == with {
                return Err(bad(
                    "shares",
                    i,
                    "with",
                    "a group cannot be shared with itself",
                ));
            }
            import.shares.push((path, with));
        }

        let now = self.now();
        let imported = self
            .directory
            .import(&import, now)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(message) => ServiceError::Conflict(format!(
                    "import failed, nothing was imported: {message}"
                )),
                other => ServiceError::Store(other),
            })?;
        let users = imported.users.iter().map(|user| {
            AuditEvent::by(now, AuditKind::UserCreated, actor, Outcome::Success)
                .subject(user.id, user.username.as_str())
        });
        let groups = imported
            .groups
            .iter()
            .map(|group| group_created_event(now, actor, group));
        let memberships = imported.memberships.iter().map(|(group, id, username)| {
            member_added_event(now, actor, group, *id, username.as_str())
        });
        let shares = imported
            .shares
            .iter()
            .map(|(group, with)| shared_event(now, actor, group, with));
        let events: Vec<AuditEvent> = users
            .chain(groups)
            .chain(memberships)
            .chain(shares)
            .map(|event| event.in_context("import"))
            .collect();
        // One write for the lot, so a large import does not pay one round trip per event.
        self.directory.append_audit(&events).await?;
        Ok(ImportSummary {
            users: imported.users.len(),
            groups: import.groups.len(),
            memberships: import.memberships.len(),
            shares: import.shares.len(),
        })
    }
}
