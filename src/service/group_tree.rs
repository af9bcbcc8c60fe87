//! The group tree as the console and the API show it: each group with its direct members,
//! the members it has by nesting or shares, the groups it is shared with, and how many
//! sessions a revocation of the group would end.

use super::groups::{GroupListing, counts_as_member, listings, member_source_groups};
use super::{Service, ServiceResult};
use crate::domain::user::User;
use crate::store::UserActivity;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One group of the tree.
#[derive(Debug, Clone, Serialize)]
pub struct GroupOverview {
    #[serde(flatten)]
    pub listing: GroupListing,
    /// Nesting level: 1 for a top-level group.
    pub depth: usize,
    /// Usernames of the members by nesting or shares who are not direct members, sorted;
    /// active humans only, as revocation counts them.
    pub inherited_members: Vec<String>,
    /// Active sessions of all the group's members (direct and inherited, active humans).
    pub active_sessions: u64,
}

impl Service {
    /// Every group, parents before their sub-groups and siblings by path, with members,
    /// shares and active-session counts. Three store calls whatever the number of groups.
    pub async fn group_tree(&self) -> ServiceResult<Vec<GroupOverview>> {
        let graph = self.directory.group_graph().await?;
        let ids: Vec<i64> = graph.groups.iter().map(|group| group.id).collect();
        let direct = self.directory.direct_members(&ids).await?;
        let mut by_group: BTreeMap<i64, Vec<&User>> = BTreeMap::new();
        for (group_id, user) in direct.iter().filter(|(_, user)| counts_as_member(user)) {
            by_group.entry(*group_id).or_default().push(user);
        }
        // Each group's members as (user id, username), by the closure.
        let closures: Vec<BTreeSet<(i64, String)>> = graph
            .groups
            .iter()
            .map(|group| {
                member_source_groups(&graph, group.id)
                    .iter()
                    .flat_map(|source| by_group.get(source).into_iter().flatten())
                    .map(|user| (user.id, user.username.to_string()))
                    .collect()
            })
            .collect();
        let everyone: BTreeSet<i64> = closures.iter().flatten().map(|(id, _)| *id).collect();
        let everyone: Vec<i64> = everyone.into_iter().collect();
        let sessions = UserActivity::counts(
            self.sessions
                .activity_by_users(&everyone, self.now())
                .await?,
        );
        let mut tree: Vec<GroupOverview> = listings(&graph, &direct)
            .into_iter()
            .zip(closures)
            .map(|(listing, closure)| {
                let active_sessions = closure.iter().filter_map(|(id, _)| sessions.get(id)).sum();
                let inherited_members = closure
                    .into_iter()
                    .map(|(_, name)| name)
                    .filter(|name| !listing.members.contains(name))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                GroupOverview {
                    depth: listing.group.path.depth(),
                    listing,
                    inherited_members,
                    active_sessions,
                }
            })
            .collect();
        // By segments, not by text: `acme-x` sorts after every group under `acme`.
        tree.sort_by(|a, b| segments(a).cmp(segments(b)));
        Ok(tree)
    }
}

/// A group's path segments, the order of the tree.
fn segments(overview: &GroupOverview) -> std::str::Split<'_, char> {
    overview.listing.group.path.as_str().split('/')
}
