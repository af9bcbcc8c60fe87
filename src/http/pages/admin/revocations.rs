//! Group revocations confirmed in the console run in the background, so that a large group
//! shows "n of m users" instead of a page that hangs: the confirmation redirects to a
//! progress page, which `static/app.js` refreshes from a JSON status, and which once the
//! revocation is over redirects to the Groups page with the outcome as the flash.
//!
//! The job lives in the session store (`service::revocation_jobs`), so any node behind a
//! load balancer shows its progress and outcome; one whose node stopped shows as interrupted.

use super::AdminPage;
use crate::domain::audit::Actor;
use crate::domain::revocation_job::RevocationOutcome;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::flash::{self, Flash};
use crate::http::respond::{Nav, failure_page, message_page};
use crate::i18n::Localized as _;
use crate::i18n::t;
use crate::service::revocation_jobs::StoredJob;
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

/// Revokes the sessions of the group at `group` in the background, if its members are still
/// those the preview showed (`members_fingerprint`), for the administrator's session
/// `session_id`; the path of its progress page.
pub(super) async fn start(
    state: &AppState,
    session_id: &str,
    group: &str,
    members_fingerprint: String,
    actor: Actor,
) -> Result<String, ApiError> {
    let id = URL_SAFE_NO_PAD.encode(crate::domain::token::random_bytes::<16>());
    // Kept before the redirect, so the progress page finds it on whichever node.
    let job = StoredJob::create(state.service.clone(), id.clone(), session_id, group).await?;
    let service = state.service.clone();
    let group = group.to_owned();
    tokio::spawn(async move {
        let outcome = match service
            .revoke_previewed_group_sessions(&group, &members_fingerprint, &actor, &job)
            .await
        {
            Ok(report) => RevocationOutcome::Revoked {
                sessions: report.sessions,
                users: report.users_affected.len() as u64,
            },
            Err(error) => outcome_of(ApiError::from(error)),
        };
        if let Err(error) = job.end(outcome).await {
            tracing::warn!(%error, "could not record the end of a group revocation");
        }
    });
    Ok(format!("/admin/groups/revocations/{id}"))
}

/// What a failed revocation's page says: a refusal as the flash, a failure as its page.
fn outcome_of(error: ApiError) -> RevocationOutcome {
    if error.status.is_client_error() {
        RevocationOutcome::Refused {
            code: error.code.to_owned(),
            message: error.message,
        }
    } else {
        RevocationOutcome::Failed
    }
}

#[derive(Template)]
#[template(path = "admin/group_revocation.html")]
struct ProgressPage {
    nav: Option<Nav>,
    group: String,
    done: u64,
    total: u64,
    status_url: String,
}

fn gone() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        &t("group-revocation-unknown-heading"),
        &t("group-revocation-unknown-message"),
    )
}

/// The progress page while the revocation runs; once it is over, the Groups page with its
/// outcome.
pub(super) async fn page(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let job = match state.service.revocation_job(&id, &auth.session.id).await {
        Ok(Some(job)) => job,
        Ok(None) => return gone(),
        Err(error) => return failure_page(&error.into()),
    };
    let outcome = match job.outcome {
        Some(RevocationOutcome::Revoked { sessions, users }) => Ok(Flash::GroupRevoked {
            group: job.group,
            sessions,
            users,
        }),
        Some(RevocationOutcome::Refused { code, message }) => Ok(Flash::Refused { code, message }),
        Some(RevocationOutcome::Failed) => Err(ApiError::store_unavailable()),
        None if job.interrupted(state.service.now()) => return interrupted(),
        None => {
            return super::show(&state, &headers, &auth, "admin-groups", |nav, _| {
                ProgressPage {
                    nav: Some(nav),
                    group: job.group.clone(),
                    done: job.done,
                    total: job.total,
                    status_url: format!("/admin/groups/revocations/{id}/status"),
                }
            })
            .await;
        }
    };
    flash::back(&state, &auth, "/admin/groups", outcome).await
}

/// A revocation that stopped making progress: its node went away part of the way through.
fn interrupted() -> Response {
    message_page(
        StatusCode::GONE,
        &t("page-failure-heading"),
        &t("group-revocation-interrupted"),
    )
}

/// How far a revocation has got, for the progress page's script.
#[derive(Serialize)]
struct Status {
    done: u64,
    total: u64,
    /// Over, or interrupted: nothing more to wait for.
    finished: bool,
}

pub(super) async fn status(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    Path(id): Path<String>,
) -> Response {
    let job = match state.service.revocation_job(&id, &auth.session.id).await {
        Ok(Some(job)) => job,
        Ok(None) => return ApiError::not_found("no such revocation").into_response(),
        Err(error) => return ApiError::from(error).into_response(),
    };
    let no_store = [(axum::http::header::CACHE_CONTROL, "no-store")];
    let status = Status {
        done: job.done,
        total: job.total,
        finished: job.outcome.is_some() || job.interrupted(state.service.now()),
    };
    (no_store, Json(status)).into_response()
}
