//! Groups: creating them, members and shares, the membership closure (README.md), and
//! revoking the sessions of a group's members (or of everybody) with a dry run first.

use super::revoke::Ending;
use super::{Progress, Service, ServiceError, ServiceResult};
use crate::domain::audit::{Actor, AuditEvent, AuditKind, Outcome};
use crate::domain::group::{Group, GroupGraph, GroupPath, NewGroup};
use crate::domain::session::EndReason;
use crate::domain::time::Timestamp;
use crate::domain::user::{User, UserKind, UserState};
use crate::store::UserActivity;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

/// The audit event of a new group; like revocations, group events name the group in their
/// reason.
pub(super) fn group_created_event(now: Timestamp, actor: &Actor, group: &Group) -> AuditEvent {
    AuditEvent::by(now, AuditKind::GroupCreated, actor, Outcome::Success)
        .reason(format!("group '{}' (ID: {})", group.path, group.id))
}

/// The audit event of a new direct member.
pub(super) fn member_added_event(
    now: Timestamp,
    actor: &Actor,
    group: &GroupPath,
    user_id: i64,
    username: &str,
) -> AuditEvent {
    AuditEvent::by(now, AuditKind::GroupMemberAdded, actor, Outcome::Success)
        .subject(user_id, username)
        .reason(format!("group '{group}'"))
}

/// The audit event of a new share: `with`'s members became members of `group`.
pub(super) fn shared_event(
    now: Timestamp,
    actor: &Actor,
    group: &GroupPath,
    with: &GroupPath,
) -> AuditEvent {
    AuditEvent::by(now, AuditKind::GroupShared, actor, Outcome::Success)
        .reason(format!("group '{group}' shared with '{with}'"))
}

/// A group with its direct members and the groups it is shared with, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct GroupListing {
    #[serde(flatten)]
    pub group: Group,
    /// Usernames of the direct members, sorted.
    pub members: Vec<String>,
    /// Paths of the groups this group is shared with, sorted.
    pub shared_with: Vec<String>,
}

/// What a bulk revocation did, or would do in a dry run.
#[derive(Debug, Clone, Serialize)]
pub struct RevocationReport {
    /// The group whose members were revoked; `None` when it was everybody.
    pub group: Option<Group>,
    pub dry_run: bool,
    /// Unique users considered: the group's active human members, or every user.
    pub members: u64,
    /// Sessions revoked (or that would be).
    pub sessions: u64,
    /// Users with active sessions, by username.
    pub users_affected: Vec<AffectedUser>,
    /// Users considered who had no active session.
    pub users_skipped: u64,
    /// Stands for the users considered, so that a revocation confirmed after a preview can
    /// tell they are still the same (see `revoke_previewed_group_sessions`).
    #[serde(skip)]
    pub members_fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AffectedUser {
    pub id: i64,
    pub username: String,
    pub sessions: u64,
}

/// The text report `sessiond sessions revoke` prints (docs/reference.md).
impl fmt::Display for RevocationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.group {
            Some(group) => writeln!(
                f,
                "Found {} unique members in group '{}' (including subgroups and group shares)",
                self.members, group.path
            )?,
            None => writeln!(
                f,
                "Found {} users (everybody, bots and blocked users included)",
                self.members
            )?,
        }
        let mode = if self.dry_run { "DRY RUN" } else { "LIVE" };
        writeln!(f, "=== Session Revocation ({mode}) ===")?;
        match &self.group {
            Some(group) => writeln!(f, "Group: {} (ID: {})", group.path, group.id)?,
            None => writeln!(f, "Scope: all users")?,
        }
        writeln!(f)?;
        let (sessions, users) = (self.sessions, self.users_affected.len());
        if self.dry_run {
            writeln!(
                f,
                "[DRY RUN] Would revoke {sessions} sessions for {users} users"
            )?;
        } else {
            writeln!(f, "Revoked {sessions} sessions for {users} users")?;
        }
        let names: Vec<&str> = self
            .users_affected
            .iter()
            .map(|user| user.username.as_str())
            .collect();
        let names = if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        };
        writeln!(f, "Users affected: {names}")?;
        writeln!(
            f,
            "Users skipped (no active sessions): {}",
            self.users_skipped
        )?;
        if self.dry_run {
            writeln!(f)?;
            writeln!(f, "To actually revoke sessions, run again with --execute.")?;
        }
        Ok(())
    }
}

/// The groups whose direct members are members of `root`: `root` and
/// its ancestors; every descendant; and, for `root` and each descendant, every group it is
/// shared with together with that group's ancestors.
pub fn member_source_groups(graph: &GroupGraph, root: i64) -> BTreeSet<i64> {
    let parent: HashMap<i64, i64> = graph
        .groups
        .iter()
        .filter_map(|group| Some((group.id, group.parent_id?)))
        .collect();
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for (&child, &parent) in &parent {
        children.entry(parent).or_default().push(child);
    }
    let mut shared_with: HashMap<i64, Vec<i64>> = HashMap::new();
    for share in &graph.shares {
        shared_with
            .entry(share.group_id)
            .or_default()
            .push(share.shared_with_id);
    }
    // Bounded by the number of groups, so a corrupt parent cycle cannot loop forever.
    let with_ancestors = |id: i64| {
        std::iter::successors(Some(id), |id| parent.get(id).copied()).take(graph.groups.len())
    };

    let mut sources: BTreeSet<i64> = with_ancestors(root).collect();
    let mut subtree = vec![root];
    let mut seen = BTreeSet::new();
    while let Some(id) = subtree.pop() {
        if !seen.insert(id) {
            continue;
        }
        sources.insert(id);
        for &shared in shared_with.get(&id).into_iter().flatten() {
            sources.extend(with_ancestors(shared));
        }
        subtree.extend(children.get(&id).into_iter().flatten());
    }
    sources
}

/// Every group of `graph` with its direct members (from `direct`, as the store gives them)
/// and the groups it is shared with, in the graph's order.
pub(super) fn listings(graph: &GroupGraph, direct: &[(i64, User)]) -> Vec<GroupListing> {
    let mut members: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for (group_id, user) in direct {
        members
            .entry(*group_id)
            .or_default()
            .push(user.username.to_string());
    }
    let paths: HashMap<i64, &GroupPath> = graph.groups.iter().map(|g| (g.id, &g.path)).collect();
    graph
        .groups
        .iter()
        .map(|group| {
            let mut shared_with: Vec<String> = graph
                .shares
                .iter()
                .filter(|share| share.group_id == group.id)
                .filter_map(|share| paths.get(&share.shared_with_id))
                .map(|path| path.to_string())
                .collect();
            shared_with.sort();
            GroupListing {
                group: group.clone(),
                members: members.remove(&group.id).unwrap_or_default(),
                shared_with,
            }
        })
        .collect()
}

/// Whether a user of a group's closure counts as a member: active humans only, the users
/// a group revocation reaches.
pub(super) fn counts_as_member(user: &User) -> bool {
    user.state == UserState::Active && user.kind == UserKind::Human
}

/// A short digest of the group and of the ids of the users a revocation considers.
fn members_fingerprint(group_id: i64, members: &[User]) -> String {
    use sha2::{Digest, Sha256};
    let mut ids: Vec<i64> = members.iter().map(|user| user.id).collect();
    ids.sort_unstable();
    let mut digest = Sha256::new();
    digest.update(group_id.to_le_bytes());
    for id in ids {
        digest.update(id.to_le_bytes());
    }
    digest.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The group a reference names: a full path first (so numeric names work), then an id.
fn resolve<'g>(graph: &'g GroupGraph, reference: &str) -> ServiceResult<&'g Group> {
    let reference = reference.trim();
    let by_path = GroupPath::parse(reference)
        .ok()
        .and_then(|path| graph.groups.iter().find(|group| group.path == path));
    let by_id = || {
        let id = reference.parse::<i64>().ok()?;
        graph.groups.iter().find(|group| group.id == id)
    };
    by_path.or_else(by_id).ok_or_else(|| {
        ServiceError::NotFound(format!(
            "no group {reference:?} (looked up as full path, then numeric id)"
        ))
    })
}

impl Service {
    /// Creates the group at `path`; with `parents`, its missing ancestors too. Returns the
    /// groups created, outermost first; each is audited.
    pub async fn create_group(
        &self,
        path: &str,
        name: Option<String>,
        parents: bool,
        actor: &Actor,
    ) -> ServiceResult<Vec<Group>> {
        let path = GroupPath::parse(path.trim()).map_err(ServiceError::BadInput)?;
        let graph = self.directory.group_graph().await?;
        let exists = |path: &GroupPath| graph.groups.iter().any(|group| &group.path == path);
        if exists(&path) {
            return Err(ServiceError::Conflict(format!(
                "the group '{path}' already exists"
            )));
        }
        let missing: Vec<GroupPath> = path
            .ancestors()
            .into_iter()
            .filter(|p| !exists(p))
            .collect();
        if let (Some(first), false) = (missing.first(), parents) {
            return Err(ServiceError::NotFound(format!(
                "the parent group '{first}' does not exist; create it first, or pass --parents to create missing parents"
            )));
        }
        let now = self.now();
        let mut created = Vec::new();
        for ancestor in missing {
            let group = NewGroup {
                name: ancestor.segment().to_owned(),
                path: ancestor,
            };
            created.push(self.directory.create_group(&group, now).await?);
        }
        let group = NewGroup {
            name: name.unwrap_or_else(|| path.segment().to_owned()),
            path,
        };
        created.push(self.directory.create_group(&group, now).await?);
        let events: Vec<AuditEvent> = created
            .iter()
            .map(|group| group_created_event(now, actor, group))
            .collect();
        self.directory.append_audit(&events).await?;
        Ok(created)
    }

    /// Finds a group by full path, then by numeric id.
    pub async fn find_group(&self, reference: &str) -> ServiceResult<Group> {
        let graph = self.directory.group_graph().await?;
        resolve(&graph, reference).cloned()
    }

    /// The group with this id (never a path: for links and forms that carry ids).
    pub async fn group(&self, id: i64) -> ServiceResult<Group> {
        let graph = self.directory.group_graph().await?;
        graph
            .groups
            .into_iter()
            .find(|group| group.id == id)
            .ok_or_else(|| ServiceError::NotFound(format!("no group with id {id}")))
    }

    /// Makes `user` a direct member of `group`, audited; false if they already were.
    pub async fn add_group_member(
        &self,
        group: &Group,
        user: &User,
        actor: &Actor,
    ) -> ServiceResult<bool> {
        let added = self.directory.add_member(group.id, user.id).await?;
        if added {
            let event = member_added_event(
                self.now(),
                actor,
                &group.path,
                user.id,
                user.username.as_str(),
            );
            self.audit(event).await?;
        }
        Ok(added)
    }

    /// Shares `group` with `with`, whose members become members of `group`, audited; false
    /// if it already was. A share with itself or back (a cycle) is refused.
    pub async fn share_group(
        &self,
        group: &Group,
        with: &Group,
        actor: &Actor,
    ) -> ServiceResult<bool> {
        self.check_share(group, with).await?;
        let shared = self.directory.share_group(group.id, with.id).await?;
        if shared {
            self.audit(shared_event(self.now(), actor, &group.path, &with.path))
                .await?;
        }
        Ok(shared)
    }

    /// Every group with its direct members and shares, by path.
    pub async fn list_groups(&self) -> ServiceResult<Vec<GroupListing>> {
        let graph = self.directory.group_graph().await?;
        let ids: Vec<i64> = graph.groups.iter().map(|group| group.id).collect();
        let direct = self.directory.direct_members(&ids).await?;
        Ok(listings(&graph, &direct))
    }

    /// The group's members by the closure above, active humans only, by username. Two store
    /// calls whatever the size of the group.
    pub async fn group_members(&self, group: &Group) -> ServiceResult<Vec<User>> {
        let graph = self.directory.group_graph().await?;
        self.members_in(&graph, group.id).await
    }

    async fn members_in(&self, graph: &GroupGraph, root: i64) -> ServiceResult<Vec<User>> {
        let sources: Vec<i64> = member_source_groups(graph, root).into_iter().collect();
        let members: BTreeMap<String, User> = self
            .directory
            .direct_members(&sources)
            .await?
            .into_iter()
            .map(|(_, user)| user)
            .filter(counts_as_member)
            .map(|user| (user.username.to_string(), user))
            .collect();
        Ok(members.into_values().collect())
    }

    /// Revokes (or with `dry_run` only counts) the sessions of every member of the group
    /// named by `reference` (full path, then id). A missing group revokes nothing.
    pub async fn revoke_group_sessions(
        &self,
        reference: &str,
        dry_run: bool,
        actor: &Actor,
        progress: &dyn Progress,
    ) -> ServiceResult<RevocationReport> {
        self.group_revocation(reference, None, dry_run, actor, progress)
            .await
    }

    /// Revokes the sessions of the group's members only if they are still those a dry run
    /// showed: its report's `members_fingerprint`. Otherwise a `Conflict`, revoking nothing.
    pub async fn revoke_previewed_group_sessions(
        &self,
        reference: &str,
        members_fingerprint: &str,
        actor: &Actor,
        progress: &dyn Progress,
    ) -> ServiceResult<RevocationReport> {
        self.group_revocation(reference, Some(members_fingerprint), false, actor, progress)
            .await
    }

    async fn group_revocation(
        &self,
        reference: &str,
        expected_members: Option<&str>,
        dry_run: bool,
        actor: &Actor,
        progress: &dyn Progress,
    ) -> ServiceResult<RevocationReport> {
        let graph = self.directory.group_graph().await?;
        let group = resolve(&graph, reference)?.clone();
        let members = self.members_in(&graph, group.id).await?;
        if let Some(expected) = expected_members
            && expected != members_fingerprint(group.id, &members)
        {
            return Err(ServiceError::Conflict(format!(
                "the members of '{}' changed since the preview; look at the preview again",
                group.path
            )));
        }
        let reason = format!("group '{}' (ID: {}) sessions revoked", group.path, group.id);
        let report = self
            .revoke_for(
                Some(group.clone()),
                members,
                dry_run,
                actor,
                &reason,
                progress,
            )
            .await?;
        if !dry_run {
            let users = report.users_affected.len();
            let summary = AuditEvent::by(
                self.now(),
                AuditKind::GroupSessionsRevoked,
                actor,
                Outcome::Success,
            )
            .count(report.sessions)
            .reason(format!(
                "group '{}' (ID: {}): {} sessions of {users} users ended",
                group.path, group.id, report.sessions
            ));
            self.audit(summary).await?;
        }
        Ok(report)
    }

    /// Revokes (or with `dry_run` only counts) every session of every user.
    pub async fn revoke_all_sessions(
        &self,
        dry_run: bool,
        actor: &Actor,
        progress: &dyn Progress,
    ) -> ServiceResult<RevocationReport> {
        let users = self.directory.list_users().await?;
        self.revoke_for(
            None,
            users,
            dry_run,
            actor,
            "all sessions revoked",
            progress,
        )
        .await
    }

    async fn revoke_for(
        &self,
        group: Option<Group>,
        members: Vec<User>,
        dry_run: bool,
        actor: &Actor,
        reason: &str,
        progress: &dyn Progress,
    ) -> ServiceResult<RevocationReport> {
        let counts = if dry_run {
            let ids: Vec<i64> = members.iter().map(|user| user.id).collect();
            UserActivity::counts(self.sessions.activity_by_users(&ids, self.now()).await?)
        } else {
            let ending = Ending {
                why: EndReason::Terminated,
                reason,
            };
            self.revoke_many_users_sessions(&members, actor, ending, progress)
                .await?
        };
        let mut users_affected: Vec<AffectedUser> = members
            .iter()
            .filter_map(|user| {
                Some(AffectedUser {
                    id: user.id,
                    username: user.username.to_string(),
                    sessions: *counts.get(&user.id)?,
                })
            })
            .collect();
        users_affected.sort_by(|a, b| a.username.cmp(&b.username));
        Ok(RevocationReport {
            members_fingerprint: members_fingerprint(group.as_ref().map_or(0, |g| g.id), &members),
            group,
            dry_run,
            members: members.len() as u64,
            sessions: users_affected.iter().map(|user| user.sessions).sum(),
            users_skipped: (members.len() - users_affected.len()) as u64,
            users_affected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::group::GroupShare;
    use crate::domain::time::Timestamp;

    fn graph(groups: &[(i64, Option<i64>, &str)], shares: &[(i64, i64)]) -> GroupGraph {
        GroupGraph {
            groups: groups
                .iter()
                .map(|&(id, parent_id, path)| Group {
                    id,
                    parent_id,
                    path: GroupPath::parse(path).unwrap(),
                    name: path.into(),
                    created_at: Timestamp(0),
                })
                .collect(),
            shares: shares
                .iter()
                .map(|&(group_id, shared_with_id)| GroupShare {
                    group_id,
                    shared_with_id,
                })
                .collect(),
        }
    }

    #[test]
    fn closure_follows_the_membership_rule() {
        // 1 acme ⊃ 2 acme/platform ⊃ 3 acme/platform/infra; 4 acme/sales (a sibling);
        // 5 partners ⊃ 6 partners/contractors ⊃ 7 partners/contractors/juniors;
        // 8 auditors (shared with infra); 9 outsiders (shared with nobody we reach).
        let graph = graph(
            &[
                (1, None, "acme"),
                (2, Some(1), "acme/platform"),
                (3, Some(2), "acme/platform/infra"),
                (4, Some(1), "acme/sales"),
                (5, None, "partners"),
                (6, Some(5), "partners/contractors"),
                (7, Some(6), "partners/contractors/juniors"),
                (8, None, "auditors"),
                (9, None, "outsiders"),
            ],
            &[(2, 6), (3, 8), (9, 2)],
        );
        let sources: Vec<i64> = member_source_groups(&graph, 2).into_iter().collect();
        // Not 4 (sibling), not 7 (a shared group's sub-group), not 9 (shares *into* 2).
        assert_eq!(sources, [1, 2, 3, 5, 6, 8]);
        assert_eq!(
            member_source_groups(&graph, 3)
                .into_iter()
                .collect::<Vec<_>>(),
            [1, 2, 3, 8]
        );
        assert_eq!(
            member_source_groups(&graph, 1)
                .into_iter()
                .collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6, 8]
        );
    }

    #[test]
    fn groups_resolve_by_path_then_id() {
        let graph = graph(&[(1, None, "42"), (42, None, "other")], &[]);
        assert_eq!(resolve(&graph, "42").unwrap().id, 1);
        assert_eq!(resolve(&graph, "1").unwrap().path.as_str(), "42");
        assert_eq!(resolve(&graph, "other").unwrap().id, 42);
        assert!(matches!(
            resolve(&graph, "7"),
            Err(ServiceError::NotFound(_))
        ));
        assert!(resolve(&graph, "Not A Path").is_err());
    }
}
