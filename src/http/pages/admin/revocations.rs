//! Group revocations confirmed in the console run in the background, so that a large group
//! shows "n of m users" instead of a page that hangs: the confirmation redirects to a
//! progress page, which `static/app.js` refreshes from a JSON status, and which once the
//! revocation is over redirects to the Groups page with the outcome as the flash.
//!
//! A revocation is known to the node that runs it and to the session that started it; its
//! progress page is reached through that node (a load balancer without sticky sessions may
//! show it as gone, while the revocation runs to its end all the same).

use super::AdminPage;
use crate::domain::audit::Actor;
use crate::domain::time::Timestamp;
use crate::http::AppState;
use crate::http::error::ApiError;
use crate::http::flash::{self, Flash};
use crate::http::respond::{Nav, message_page};
use crate::i18n::Localized as _;
use crate::i18n::t;
use crate::service::Progress;
use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long an outcome nobody came back for is kept.
const KEPT_AFTER_FINISH: Duration = Duration::from_secs(3600);

/// One revocation under way or done, and how far it has got.
pub struct Revocation {
    /// The public id of the administrator's session that started it: only it sees it.
    session_id: String,
    group: String,
    total: AtomicU64,
    done: AtomicU64,
    /// Set when it is over: the flash to show, or the failure page's error.
    outcome: Mutex<Option<(Timestamp, Result<Flash, ApiError>)>>,
}

impl Progress for Revocation {
    fn begin(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    fn advance(&self, steps: u64) {
        self.done.fetch_add(steps, Ordering::Relaxed);
    }
}

impl Revocation {
    fn finished(&self) -> bool {
        self.outcome().is_some()
    }

    fn outcome(&self) -> MutexGuard<'_, Option<(Timestamp, Result<Flash, ApiError>)>> {
        // A poisoned lock only means a panic elsewhere; the value itself is always whole.
        self.outcome.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The revocations of this node, by random id.
#[derive(Default)]
pub struct Revocations(Mutex<HashMap<String, Arc<Revocation>>>);

impl Revocations {
    fn jobs(&self) -> MutexGuard<'_, HashMap<String, Arc<Revocation>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The revocation `id` if `session_id` started it.
    fn get(&self, id: &str, session_id: &str) -> Option<Arc<Revocation>> {
        self.jobs()
            .get(id)
            .filter(|job| job.session_id == session_id)
            .cloned()
    }

    fn remove(&self, id: &str) {
        self.jobs().remove(id);
    }
}

/// Revokes the sessions of the group at `group` in the background, if its members are still
/// those the preview showed (`members_fingerprint`), for the administrator's session
/// `session_id`; the path of its progress page.
pub(super) fn start(
    state: &AppState,
    session_id: &str,
    group: &str,
    members_fingerprint: String,
    actor: Actor,
) -> String {
    let id = URL_SAFE_NO_PAD.encode(crate::domain::token::random_bytes::<16>());
    let job = Arc::new(Revocation {
        session_id: session_id.to_owned(),
        group: group.to_owned(),
        total: AtomicU64::new(0),
        done: AtomicU64::new(0),
        outcome: Mutex::new(None),
    });
    let now = state.service.now();
    {
        let mut jobs = state.revocations.jobs();
        jobs.retain(|_, job| match &*job.outcome() {
            Some((finished, _)) => now < finished.plus(KEPT_AFTER_FINISH),
            None => true,
        });
        jobs.insert(id.clone(), job.clone());
    }
    let service = state.service.clone();
    let group = group.to_owned();
    tokio::spawn(async move {
        let outcome = service
            .revoke_previewed_group_sessions(&group, &members_fingerprint, &actor, job.as_ref())
            .await
            .map(|report| Flash::GroupRevoked {
                group,
                sessions: report.sessions,
                users: report.users_affected.len() as u64,
            })
            .map_err(ApiError::from);
        *job.outcome() = Some((service.now(), outcome));
    });
    format!("/admin/groups/revocations/{id}")
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
    let Some(job) = state.revocations.get(&id, &auth.session.id) else {
        return gone();
    };
    let outcome = job.outcome().take();
    if let Some((_, outcome)) = outcome {
        state.revocations.remove(&id);
        return flash::back(&state, &auth, "/admin/groups", outcome).await;
    }
    super::show(&state, &headers, &auth, "admin-groups", |nav, _| {
        ProgressPage {
            nav: Some(nav),
            group: job.group.clone(),
            done: job.done.load(Ordering::Relaxed),
            total: job.total.load(Ordering::Relaxed),
            status_url: format!("/admin/groups/revocations/{id}/status"),
        }
    })
    .await
}

/// How far a revocation has got, for the progress page's script.
#[derive(Serialize)]
struct Status {
    done: u64,
    total: u64,
    finished: bool,
}

pub(super) async fn status(
    State(state): State<AppState>,
    AdminPage(auth, _): AdminPage,
    Path(id): Path<String>,
) -> Response {
    let Some(job) = state.revocations.get(&id, &auth.session.id) else {
        return ApiError::not_found("no such revocation").into_response();
    };
    let no_store = [(axum::http::header::CACHE_CONTROL, "no-store")];
    let status = Status {
        done: job.done.load(Ordering::Relaxed),
        total: job.total.load(Ordering::Relaxed),
        finished: job.finished(),
    };
    (no_store, Json(status)).into_response()
}
