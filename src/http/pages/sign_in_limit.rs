//! The sign-in page at the session limit: after the right password, the user's sessions,
//! each with a button that signs that device out and completes this sign-in. The pending
//! sign-in's token travels in the page's forms only (the page is never stored).

use super::times::TimeView;
use super::words;
use super::{FormBody, check_form, render_with_token};
use crate::domain::session::{ClientInfo, Session};
use crate::domain::token::SecretToken;
use crate::http::AppState;
use crate::http::csrf::form_token;
use crate::http::error::ApiError;
use crate::http::respond::{Nav, failure_page, redirect, session_cookie_headers};
use crate::i18n::Localized as _;
use crate::service::ServiceError;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::Deserialize;

pub const PATH: &str = "/login/limit";

/// One of the user's sessions, as the page lists it.
struct SessionRow {
    id: String,
    device: String,
    ip_address: String,
    last_active: TimeView,
}

#[derive(Template)]
#[template(path = "login_limit.html")]
struct LimitPage {
    nav: Option<Nav>,
    csrf_token: String,
    limit_token: String,
    return_to: String,
    max: u32,
    error: Option<String>,
    sessions: Vec<SessionRow>,
}

/// The page for the sign-in `limit_token` holds, with `error` above the list if any.
pub(super) async fn limit_page(
    state: &AppState,
    headers: &HeaderMap,
    limit_token: &SecretToken,
    return_to: &str,
    error: Option<String>,
) -> Response {
    let sessions: Vec<Session> = match state.service.sessions_at_limit(limit_token).await {
        Ok((_, sessions)) => sessions,
        Err(error) => return super::login_failed(state, headers, return_to, "", error).await,
    };
    let csrf = match form_token(state, headers, None).await {
        Ok(csrf) => csrf,
        Err(error) => return failure_page(&error),
    };
    let now = state.service.now();
    let page = LimitPage {
        nav: None,
        csrf_token: csrf.token,
        limit_token: limit_token.expose().to_owned(),
        return_to: return_to.to_owned(),
        max: state.service.policy.limit.max_per_user,
        error,
        sessions: sessions
            .iter()
            .map(|session| SessionRow {
                id: session.id.clone(),
                device: words::device(&session.browser, &session.os),
                ip_address: session.ip_address.clone(),
                last_active: TimeView::new(session.last_active_at, now),
            })
            .collect(),
    };
    render_with_token(StatusCode::CONFLICT, csrf.set_cookie, &page)
}

#[derive(Deserialize)]
pub(super) struct EndForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    limit_token: String,
    #[serde(default)]
    session_id: String,
    return_to: Option<String>,
}

/// Signs the chosen device out, then completes the sign-in held at the limit.
pub(super) async fn end_and_continue(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    FormBody(form): FormBody<EndForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, None, &form.csrf_token).await {
        return refused;
    }
    let return_to = super::safe_return_to(form.return_to.as_deref());
    let Some(token) = SecretToken::parse(&form.limit_token) else {
        let gone = ServiceError::PendingSignInGone;
        return super::login_failed(&state, &headers, return_to, "", gone).await;
    };
    let service = &state.service;
    let done = async {
        service
            .end_session_at_limit(&token, &form.session_id, &client)
            .await?;
        service.complete_sign_in(&token, &client).await
    }
    .await;
    match done {
        Ok(new) => {
            let cookies = session_cookie_headers(&state, &new);
            let target = super::after_sign_in(&new.user, return_to);
            (AppendHeaders(cookies), redirect(target)).into_response()
        }
        Err(error @ (ServiceError::NotFound(_) | ServiceError::SessionLimit(_))) => {
            let message = ApiError::from(error).message;
            limit_page(
                &state,
                &headers,
                &token,
                return_to,
                Some(super::sentence(&message)),
            )
            .await
        }
        Err(error) => super::login_failed(&state, &headers, return_to, "", error).await,
    }
}
