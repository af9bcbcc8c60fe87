//! The *Change password* page: the current password and a new one, twice. A user whose
//! password was reset is sent here before any other page; on success the other devices are
//! signed out and the sessions page says how many.

use super::{FormBody, HOME, check_form, render_with_token, sentence};
use crate::domain::password::Password;
use crate::domain::session::ClientInfo;
use crate::http::AppState;
use crate::http::csrf::form_token;
use crate::http::error::ApiError;
use crate::http::extract::{CHANGE_PASSWORD_PAGE, PasswordDuePageUser};
use crate::http::flash::{self, Flash};
use crate::http::respond::{Nav, failure_page};
use crate::service::authenticated::Authenticated;
use crate::service::passwords::ChangePassword;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

/// The kind of flash a changed password leaves for the sessions page.
pub const PASSWORD_CHANGED: &str = "password_changed";

pub fn routes() -> Router<AppState> {
    Router::new().route(CHANGE_PASSWORD_PAGE, get(show).post(submit))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    nav: Option<Nav>,
    csrf_token: String,
    /// The password was reset: nothing else works until it is changed.
    required: bool,
    min_length: usize,
    error: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    PasswordDuePageUser(auth): PasswordDuePageUser,
    headers: HeaderMap,
) -> Response {
    form(&state, &headers, &auth, None, StatusCode::OK).await
}

async fn form(
    state: &AppState,
    headers: &HeaderMap,
    auth: &Authenticated,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let csrf = match form_token(state, headers, Some(auth)).await {
        Ok(csrf) => csrf,
        Err(error) => return failure_page(&error),
    };
    let required = auth.user.must_change_password;
    // The header's links lead nowhere until the change is made.
    let nav = if required {
        None
    } else {
        Some(Nav::new(state, &auth.user, &csrf.token, "password").await)
    };
    let page = PasswordPage {
        nav,
        csrf_token: csrf.token,
        required,
        min_length: state.service.policy.password_min_length,
        error,
    };
    render_with_token(status, csrf.set_cookie, &page)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn submit(
    State(state): State<AppState>,
    PasswordDuePageUser(auth): PasswordDuePageUser,
    client: ClientInfo,
    headers: HeaderMap,
    FormBody(form): FormBody<PasswordForm>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, Some(&auth), &form.csrf_token).await {
        return refused;
    }
    if form.new_password != form.confirm_password {
        let error = "The two new passwords differ. Type the same new password twice.";
        return self::form(
            &state,
            &headers,
            &auth,
            Some(error.into()),
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let change = ChangePassword {
        current: Password::new(form.current_password),
        new: Password::new(form.new_password),
    };
    match state
        .service
        .change_password(&auth.session, change, &client)
        .await
    {
        Ok(signed_out) => {
            let done = Flash::done(PASSWORD_CHANGED, auth.user.username.as_str(), signed_out);
            flash::back(&state, &auth, HOME, Ok(done)).await
        }
        Err(error) => {
            let error = ApiError::from(error);
            if error.status.is_server_error() {
                return failure_page(&error);
            }
            let message = sentence(&error.message);
            let mut page = self::form(&state, &headers, &auth, Some(message), error.status).await;
            if let Some(seconds) = error.retry_after {
                page.headers_mut().insert(RETRY_AFTER, seconds.into());
            }
            page
        }
    }
}
