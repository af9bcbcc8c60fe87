//! Undoing group edits: ending a direct membership and a share, audited; and the shares
//! refused because they would make a cycle.

use super::{Service, ServiceError, ServiceResult};
use crate::domain::audit::{Actor, AuditEvent, AuditKind, Outcome};
use crate::domain::group::{Group, GroupGraph};
use crate::domain::user::User;

/// Why `group` may not be shared with `with`, if it may not: itself, or a group shared with
/// it already (a cycle).
pub(super) fn share_refusal(graph: &GroupGraph, group: &Group, with: &Group) -> Option<String> {
    let (path, other) = (&group.path, &with.path);
    if group.id == with.id {
        return Some(format!("a group cannot be shared with itself ('{path}')"));
    }
    let reverse = graph
        .shares
        .iter()
        .any(|share| share.group_id == with.id && share.shared_with_id == group.id);
    reverse.then(|| {
        format!("'{other}' is already shared with '{path}': sharing back would make a cycle")
    })
}

impl Service {
    /// Ends `user`'s direct membership of `group`, audited; false if there was none.
    /// Memberships by nesting or shares are not direct and stay.
    pub async fn remove_group_member(
        &self,
        group: &Group,
        user: &User,
        actor: &Actor,
    ) -> ServiceResult<bool> {
        let removed = self.directory.remove_member(group.id, user.id).await?;
        if removed {
            let event = AuditEvent::by(
                self.now(),
                AuditKind::GroupMemberRemoved,
                actor,
                Outcome::Success,
            )
            .subject(user.id, user.username.as_str())
            .reason(format!("group '{}'", group.path));
            self.audit(event).await?;
        }
        Ok(removed)
    }

    /// Ends the share of `group` with `with`, audited; false if there was none.
    pub async fn unshare_group(
        &self,
        group: &Group,
        with: &Group,
        actor: &Actor,
    ) -> ServiceResult<bool> {
        let unshared = self.directory.unshare_group(group.id, with.id).await?;
        if unshared {
            let event = AuditEvent::by(
                self.now(),
                AuditKind::GroupUnshared,
                actor,
                Outcome::Success,
            )
            .reason(format!(
                "group '{}' no longer shared with '{}'",
                group.path, with.path
            ));
            self.audit(event).await?;
        }
        Ok(unshared)
    }

    /// Refuses a share [`share_refusal`] refuses, as bad input.
    pub(super) async fn check_share(&self, group: &Group, with: &Group) -> ServiceResult<()> {
        let graph = self.directory.group_graph().await?;
        match share_refusal(&graph, group, with) {
            Some(reason) => Err(ServiceError::BadInput(reason)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::group::{GroupPath, GroupShare};
    use crate::domain::time::Timestamp;

    fn group(id: i64, path: &str) -> Group {
        Group {
            id,
            parent_id: None,
            path: GroupPath::parse(path).unwrap(),
            name: path.into(),
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn shares_with_itself_and_back_are_refused() {
        let (acme, platform, sales, partners) = (
            group(1, "acme"),
            group(2, "acme/platform"),
            group(3, "acme/sales"),
            group(4, "partners"),
        );
        let graph = GroupGraph {
            groups: vec![
                acme.clone(),
                platform.clone(),
                sales.clone(),
                partners.clone(),
            ],
            shares: vec![GroupShare {
                group_id: 4,
                shared_with_id: 3,
            }],
        };
        let refused = |a: &Group, b: &Group| share_refusal(&graph, a, b);
        assert!(refused(&acme, &acme).unwrap().contains("itself"));
        assert_eq!(refused(&acme, &platform), None, "redundant but harmless");
        assert!(refused(&sales, &partners).unwrap().contains("cycle"));
        assert_eq!(refused(&platform, &sales), None, "siblings");
        assert_eq!(refused(&partners, &platform), None);
    }
}
