//! The admin console's Groups page: the group tree with each group's members, inherited
//! members, shares and active sessions; creating groups, members and shares; and revoking a
//! group's sessions after a dry-run preview.

use super::{AdminPage, revocations, show};
use crate::domain::group::Group;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::flash::{self, Flash};
use crate::http::pages::{FormBody, check_form, sentence};
use crate::http::respond::{Nav, redirect};
use crate::i18n::Localized as _;
use crate::i18n::{msg, t};
use crate::service::group_tree::GroupOverview;
use crate::service::groups::RevocationReport;
use crate::service::{NoProgress, ServiceError};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

const PATH: &str = "/admin/groups";

/// A group of the tree, and the markup that nests it under its parent.
struct GroupRow {
    id: i64,
    path: String,
    name: String,
    depth: usize,
    members: Vec<String>,
    inherited_members: Vec<String>,
    shared_with: Vec<String>,
    active_sessions: u64,
    /// The first sub-group of the row before: a nested list opens.
    opens: bool,
    /// Nested lists that end before this row (when it is not the row before's sub-group).
    closes: usize,
}

/// Rows in tree order, with how each nests: a row opens its parent's list of sub-groups or
/// ends the lists of the rows before that are deeper than it.
fn rows(tree: Vec<GroupOverview>) -> (Vec<GroupRow>, usize) {
    let mut previous = 0;
    let rows = tree
        .into_iter()
        .map(|item| {
            let depth = item.depth;
            let row = GroupRow {
                id: item.listing.group.id,
                path: item.listing.group.path.to_string(),
                name: item.listing.group.name.clone(),
                depth,
                members: item.listing.members,
                inherited_members: item.inherited_members,
                shared_with: item.listing.shared_with,
                active_sessions: item.active_sessions,
                opens: previous > 0 && depth > previous,
                closes: previous.saturating_sub(depth),
            };
            previous = depth;
            row
        })
        .collect();
    (rows, previous.saturating_sub(1))
}

#[derive(Template)]
#[template(path = "admin/groups.html")]
struct GroupsPage {
    nav: Option<Nav>,
    csrf_token: String,
    notice: Option<String>,
    problem: Option<String>,
    rows: Vec<GroupRow>,
    /// Nested lists still open after the last row.
    trailing_closes: usize,
    /// Every path, for the share form's choice.
    paths: Vec<String>,
}

/// The banners for what the last action on this page came to.
fn banners(outcome: Option<&Flash>) -> (Option<String>, Option<String>) {
    match outcome {
        Some(Flash::GroupRevoked {
            group,
            sessions: count,
            users,
        }) => (
            Some(
                msg("groups-notice-revoked")
                    .arg("count", count)
                    .arg("users", users)
                    .arg("group", group)
                    .to_string(),
            ),
            None,
        ),
        Some(Flash::Done { kind, who, .. }) => {
            let message = match kind.as_str() {
                "group_created" => msg("groups-notice-created"),
                "member_added" => msg("groups-notice-member-added"),
                "member_removed" => msg("groups-notice-member-removed"),
                "shared" => msg("groups-notice-shared"),
                "unshared" => msg("groups-notice-unshared"),
                _ => return (None, None),
            };
            (Some(message.arg("who", who).to_string()), None)
        }
        Some(Flash::Refused { message, .. }) if !message.is_empty() => {
            (None, Some(sentence(message)))
        }
        Some(Flash::Refused { .. }) => (None, Some(t("admin-problem-other"))),
        None => (None, None),
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    headers: HeaderMap,
) -> Response {
    let outcome = flash::take(&state, &headers, &auth).await;
    let (notice, mut problem) = banners(outcome.as_ref());
    let tree = match state.service.group_tree().await {
        Ok(tree) => tree,
        Err(error) => {
            problem = Some(ApiError::from(error).message);
            Vec::new()
        }
    };
    let paths = tree
        .iter()
        .map(|item| item.listing.group.path.to_string())
        .collect();
    let (rows, trailing_closes) = rows(tree);
    show(
        &state,
        &headers,
        &auth,
        "admin-groups",
        |nav, csrf_token| GroupsPage {
            nav: Some(nav),
            csrf_token,
            notice,
            problem,
            rows,
            trailing_closes,
            paths,
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct CreateForm {
    #[serde(default)]
    csrf_token: String,
    path: String,
    #[serde(default)]
    name: String,
    parents: Option<String>,
}

pub(super) async fn create(
    State(state): State<AppState>,
    AdminPage(auth, actor): AdminPage,
    headers: HeaderMap,
    FormBody(form): FormBody<CreateForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    let name = Some(form.name.trim().to_owned()).filter(|name| !name.is_empty());
    let outcome = state
        .service
        .create_group(&form.path, name, form.parents.is_some(), &actor)
        .await
        .map(|created| {
            let paths: Vec<String> = created.iter().map(|g| g.path.to_string()).collect();
            Flash::done("group_created", &paths.join(", "), 0)
        });
    flash::back(&state, &auth, PATH, outcome.map_err(ApiError::from)).await
}

#[derive(Deserialize)]
pub(super) struct GroupForm {
    #[serde(default)]
    csrf_token: String,
    /// The user to add or remove.
    #[serde(default)]
    user: String,
    /// The group to share with or stop sharing with.
    #[serde(default)]
    with: String,
}

/// `add-member`, `remove-member`, `share` and `unshare` on the group with id `id`.
pub(super) async fn action(
    State(state): State<AppState>,
    AdminPage(auth, actor): AdminPage,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    FormBody(form): FormBody<GroupForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    let service = &state.service;
    let outcome = async {
        let group = service.group(id).await?;
        let path = &group.path;
        let unchanged = |what: String| Err(ServiceError::Conflict(what));
        match action.as_str() {
            "add-member" | "remove-member" => {
                let user = service.find_user(&form.user).await?;
                let name = &user.username;
                if action == "add-member" {
                    if !service.add_group_member(&group, &user, &actor).await? {
                        return unchanged(format!("{name} is already a member of {path}"));
                    }
                    Ok(Flash::done("member_added", &format!("{name} to {path}"), 0))
                } else {
                    if !service.remove_group_member(&group, &user, &actor).await? {
                        return unchanged(format!("{name} is not a direct member of {path}"));
                    }
                    Ok(Flash::done(
                        "member_removed",
                        &format!("{name} from {path}"),
                        0,
                    ))
                }
            }
            "share" | "unshare" => {
                let with = service.find_group(&form.with).await?;
                let who = format!("{path} with {}", with.path);
                if action == "share" {
                    if !service.share_group(&group, &with, &actor).await? {
                        return unchanged(format!("{path} is already shared with {}", with.path));
                    }
                    Ok(Flash::done("shared", &who, 0))
                } else {
                    if !service.unshare_group(&group, &with, &actor).await? {
                        return unchanged(format!("{path} is not shared with {}", with.path));
                    }
                    Ok(Flash::done("unshared", &who, 0))
                }
            }
            _ => Err(ServiceError::NotFound(format!("no action {action:?}"))),
        }
    }
    .await;
    flash::back(&state, &auth, PATH, outcome.map_err(ApiError::from)).await
}

#[derive(Template)]
#[template(path = "admin/group_revoke.html")]
struct PreviewPage {
    nav: Option<Nav>,
    csrf_token: String,
    group: Group,
    report: RevocationReport,
}

/// The dry run of revoking the group's sessions, with the form that confirms it.
pub(super) async fn preview(
    State(state): State<AppState>,
    AdminPage(auth, actor): AdminPage,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Response {
    let report = async {
        let group = state.service.group(id).await?;
        let report = state
            .service
            .revoke_group_sessions(group.path.as_str(), true, &actor, &NoProgress)
            .await?;
        Ok::<_, ServiceError>((group, report))
    }
    .await;
    let (group, report) = match report {
        Ok(found) => found,
        Err(error) => return flash::back(&state, &auth, PATH, Err(error.into())).await,
    };
    show(
        &state,
        &headers,
        &auth,
        "admin-groups",
        |nav, csrf_token| PreviewPage {
            nav: Some(nav),
            csrf_token,
            group,
            report,
        },
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct ConfirmForm {
    #[serde(default)]
    csrf_token: String,
    /// The preview's `members_fingerprint`: the members it showed.
    #[serde(default)]
    members: String,
}

/// The confirmation: starts the revocation in the background and shows its progress.
pub(super) async fn confirm(
    State(state): State<AppState>,
    AdminPage(auth, actor): AdminPage,
    Path(id): Path<i64>,
    headers: HeaderMap,
    FormBody(form): FormBody<ConfirmForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    let group = match state.service.group(id).await {
        Ok(group) => group,
        Err(error) => return flash::back(&state, &auth, PATH, Err(error.into())).await,
    };
    match revocations::start(
        &state,
        &auth.session.id,
        group.path.as_str(),
        form.members,
        actor,
    )
    .await
    {
        Ok(progress) => redirect(&progress),
        Err(error) => flash::back(&state, &auth, PATH, Err(error)).await,
    }
}
