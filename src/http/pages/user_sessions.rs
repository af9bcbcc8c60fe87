//! The *Active sessions* page: the signed-in user's devices, **Revoke** on each other one and
//! **Revoke all other sessions**. Forms post a CSRF token, then redirect back (POST-redirect-GET)
//! with the outcome as a one-time flash.

use super::session_details::SessionDetails;
use super::{FormBody, check_form, render_with_token, words};
use crate::domain::session::ClientInfo;
use crate::domain::time::Timestamp;
use crate::domain::user_agent::DeviceType;
use crate::http::AppState;
use crate::http::csrf::form_token;
use crate::http::error::ApiError;
use crate::http::extract::PageUser;
use crate::http::flash::{self, Flash};
use crate::http::respond::{Nav, failure_page};
use crate::i18n::Localized as _;
use crate::i18n::{msg, t};
use crate::service::ServiceResult;
use crate::service::authenticated::Authenticated;
use crate::service::user_sessions::OwnSession;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

/// Where the page lives; actions redirect back here.
pub const PATH: &str = "/-/user/sessions";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(show))
        .route("/-/user/sessions/{id}/revoke", post(revoke_one))
        .route("/-/user/sessions/revoke-others", post(revoke_others))
}

#[derive(Template)]
#[template(path = "user_sessions.html")]
struct SessionsPage {
    nav: Option<Nav>,
    csrf_token: String,
    rows: Vec<Row>,
    /// How many rows are not the current session.
    others: usize,
    banner: Option<Banner>,
    /// Why the list could not be shown.
    load_error: Option<String>,
}

/// One session as the page shows it.
struct Row {
    id: String,
    device_type: DeviceType,
    current: bool,
    details: SessionDetails,
}

impl Row {
    fn new(own: &OwnSession, now: Timestamp) -> Row {
        let session = &own.session;
        Row {
            id: session.id.clone(),
            device_type: session.device_type,
            current: own.current,
            details: SessionDetails::new(session, now),
        }
    }

    /// What the icon stands for, for screen readers.
    fn device_kind(&self) -> String {
        words::device_kind(self.device_type)
    }
}

/// The banner after an action.
struct Banner {
    error: bool,
    message: String,
}

impl Banner {
    /// The banner for what the last action came to; only known outcomes are shown.
    fn of(outcome: &Flash) -> Option<Banner> {
        match outcome {
            Flash::Refused { code, .. } => {
                let message = match code.as_str() {
                    "current_session" => t("sessions-refused-current"),
                    "not_found" => t("sessions-refused-not-found"),
                    _ => return None,
                };
                Some(Banner {
                    error: true,
                    message,
                })
            }
            Flash::Done { kind, count, .. } if kind == super::password::PASSWORD_CHANGED => {
                Some(Banner {
                    error: false,
                    message: msg("password-changed").arg("count", count).to_string(),
                })
            }
            Flash::Done { kind, count, .. } if kind == REVOKED => Some(Banner {
                error: false,
                message: msg("sessions-revoked").arg("count", count).to_string(),
            }),
            Flash::Done { .. } | Flash::GroupRevoked { .. } => None,
        }
    }
}

/// The kind of flash the page's actions leave.
const REVOKED: &str = "revoked";

async fn show(
    State(state): State<AppState>,
    PageUser(auth): PageUser,
    headers: HeaderMap,
) -> Response {
    let now = state.service.now();
    let (status, rows, load_error) = match state.service.own_sessions(&auth.session).await {
        Ok(own) => (
            StatusCode::OK,
            own.iter().map(|o| Row::new(o, now)).collect(),
            None,
        ),
        Err(error) => {
            let error = ApiError::from(error);
            (error.status, Vec::new(), Some(error.message))
        }
    };
    let csrf = match form_token(&state, &headers, Some(&auth)).await {
        Ok(csrf) => csrf,
        Err(error) => return failure_page(&error),
    };
    let nav = Nav::new(&state, &auth.user, &csrf.token, "sessions").await;
    let page = SessionsPage {
        nav: Some(nav),
        csrf_token: csrf.token,
        others: rows.iter().filter(|row: &&Row| !row.current).count(),
        rows,
        banner: flash::take(&state, &headers, &auth)
            .await
            .as_ref()
            .and_then(Banner::of),
        load_error,
    };
    let mut response = render_with_token(status, csrf.set_cookie, &page);
    flash::clear_taken(&state, &headers, &mut response);
    response
}

/// The body of the page's forms: only the CSRF token (missing counts as wrong, not malformed).
#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf_token: String,
}

async fn revoke_one(
    State(state): State<AppState>,
    PageUser(auth): PageUser,
    Path(id): Path<String>,
    client: ClientInfo,
    headers: HeaderMap,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    let result = state
        .service
        .revoke_own_session(&auth.session, &id, &client)
        .await;
    back_to_list(&state, &auth, result.map(|()| 1)).await
}

async fn revoke_others(
    State(state): State<AppState>,
    PageUser(auth): PageUser,
    client: ClientInfo,
    headers: HeaderMap,
    FormBody(form): FormBody<ActionForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    let result = state
        .service
        .revoke_other_own_sessions(&auth.session, &client)
        .await;
    back_to_list(&state, &auth, result).await
}

/// Redirects to the list with the outcome for its banner; a server-side failure gets a page.
async fn back_to_list(
    state: &AppState,
    auth: &Authenticated,
    revoked: ServiceResult<u64>,
) -> Response {
    let outcome = revoked
        .map(|count| Flash::done(REVOKED, auth.user.username.as_str(), count))
        .map_err(ApiError::from);
    flash::back(state, auth, PATH, outcome).await
}
