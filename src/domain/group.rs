//! Groups of users: sub-groups by path, direct memberships and shares.

use super::time::Timestamp;
use serde::Serialize;
use std::fmt;

/// Longest full path accepted, and deepest nesting.
const MAX_PATH_LENGTH: usize = 255;
const MAX_DEPTH: usize = 20;

/// A group's full path, `acme/platform/infra`: segments of `a-z 0-9 . _ -`, each starting
/// with a letter or digit. A segment may be all digits (`42`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct GroupPath(String);

impl GroupPath {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid_segment = |segment: &str| {
            segment
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        };
        let depth = text.split('/').count();
        if text.len() <= MAX_PATH_LENGTH && depth <= MAX_DEPTH && text.split('/').all(valid_segment)
        {
            Ok(GroupPath(text.to_owned()))
        } else {
            Err(format!(
                "invalid group path {text:?}: use segments of lowercase letters, digits, '.', '_' or '-' \
                 (each starting with a letter or digit) joined by '/', e.g. acme/platform"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment: the group's own name within its parent.
    pub fn segment(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The parent group's path; `None` for a top-level group.
    pub fn parent(&self) -> Option<GroupPath> {
        self.0
            .rsplit_once('/')
            .map(|(parent, _)| GroupPath(parent.to_owned()))
    }

    /// Every proper ancestor, outermost first: `acme`, `acme/platform` for `acme/platform/infra`.
    pub fn ancestors(&self) -> Vec<GroupPath> {
        let mut ancestors: Vec<GroupPath> =
            std::iter::successors(self.parent(), GroupPath::parent).collect();
        ancestors.reverse();
        ancestors
    }

    /// Nesting level: 1 for a top-level group.
    pub fn depth(&self) -> usize {
        self.0.split('/').count()
    }
}

impl fmt::Display for GroupPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // pad, not write_str, so tables can align it with `{:<20}`.
        f.pad(&self.0)
    }
}

/// A group as stored. `parent_id` always names the group at `path.parent()`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub path: GroupPath,
    /// Display name (default: the last path segment).
    pub name: String,
    pub created_at: Timestamp,
}

/// What is needed to add a group; its parent is the existing group at `path.parent()`.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub path: GroupPath,
    pub name: String,
}

/// Group `group_id` shared with group `shared_with_id`: the latter's members (with its
/// ancestors' members) are members of the former.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GroupShare {
    pub group_id: i64,
    pub shared_with_id: i64,
}

/// Every group and every share: small enough to load whole, and all the membership
/// closure needs besides the direct memberships.
#[derive(Debug, Clone, Default)]
pub struct GroupGraph {
    pub groups: Vec<Group>,
    pub shares: Vec<GroupShare>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let path = GroupPath::parse("acme/platform/infra").unwrap();
        assert_eq!(path.segment(), "infra");
        assert_eq!(path.depth(), 3);
        assert_eq!(path.parent().unwrap().as_str(), "acme/platform");
        let ancestors: Vec<String> = path.ancestors().iter().map(|p| p.to_string()).collect();
        assert_eq!(ancestors, ["acme", "acme/platform"]);
        assert!(GroupPath::parse("42").unwrap().parent().is_none());
        for good in ["a", "a.b_c-1/2", "0/x"] {
            assert!(GroupPath::parse(good).is_ok(), "{good}");
        }
        let too_deep = format!("{}a", "a/".repeat(MAX_DEPTH));
        for bad in ["", "/a", "a/", "a//b", "Acme", "-a", "a b", &too_deep] {
            assert!(GroupPath::parse(bad).is_err(), "{bad}");
        }
    }
}
