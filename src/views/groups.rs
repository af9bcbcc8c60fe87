//! What the admin API shows of groups, and the bodies that edit them.

use crate::domain::group::Group;
use crate::domain::time::Timestamp;
use crate::service::group_tree::GroupOverview;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A group as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupView {
    id: i64,
    /// The parent group's id; `null` for a top-level group.
    parent_id: Option<i64>,
    /// Full path, e.g. `acme/platform`.
    path: String,
    /// Display name (default: the last path segment).
    name: String,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

impl GroupView {
    pub fn new(group: &Group) -> Self {
        GroupView {
            id: group.id,
            parent_id: group.parent_id,
            path: group.path.to_string(),
            name: group.name.clone(),
            created_at: group.created_at,
        }
    }
}

/// One group of the tree, with its members, shares and active sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupTreeItem {
    #[serde(flatten)]
    group: GroupView,
    /// Nesting level: 1 for a top-level group; the list is in tree order, parents first.
    depth: usize,
    /// Usernames of the direct members.
    members: Vec<String>,
    /// Usernames of the active human members by nesting or shares who are not direct members.
    inherited_members: Vec<String>,
    /// Paths of the groups this group is shared with (their members are its members).
    shared_with: Vec<String>,
    /// Active sessions of the group's active human members, inherited ones included: what a
    /// revocation of the group would end.
    active_sessions: u64,
}

/// Every group, in tree order.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupTree {
    groups: Vec<GroupTreeItem>,
}

impl GroupTree {
    pub fn new(tree: &[GroupOverview]) -> Self {
        GroupTree {
            groups: tree
                .iter()
                .map(|item| GroupTreeItem {
                    group: GroupView::new(&item.listing.group),
                    depth: item.depth,
                    members: item.listing.members.clone(),
                    inherited_members: item.inherited_members.clone(),
                    shared_with: item.listing.shared_with.clone(),
                    active_sessions: item.active_sessions,
                })
                .collect(),
        }
    }
}

/// The groups a create made, outermost first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedGroups {
    created: Vec<GroupView>,
}

impl CreatedGroups {
    pub fn new(groups: &[Group]) -> Self {
        CreatedGroups {
            created: groups.iter().map(GroupView::new).collect(),
        }
    }
}

/// A group to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroupBody {
    /// Full path: segments of lowercase letters, digits, `.`, `_` or `-` joined by `/`.
    #[schema(example = "acme/platform")]
    pub path: String,
    /// Display name (default: the last path segment).
    pub name: Option<String>,
    /// Create missing parent groups too (otherwise a missing parent is 404).
    #[serde(default)]
    pub parents: bool,
}

/// A user to make a direct member.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberBody {
    /// Username, numeric id or e-mail address.
    #[schema(example = "alice")]
    pub user: String,
}

/// A group to share with: its members (with its ancestors' members) become members.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareBody {
    /// Full path, else numeric id.
    #[schema(example = "partners/contractors")]
    pub with: String,
}
