//! Server-rendered pages: sign-in and sign-out (forms with CSRF tokens, POST-redirect-GET);
//! the signed-in pages in submodules.

mod admin;
pub(in crate::http) mod assets;
mod language;
mod password;
mod session_details;
mod sign_in_limit;
pub(super) mod times;
pub(super) mod user_sessions;
mod words;

use super::AppState;
use super::csrf::{form_token, form_token_valid};
use super::error::ApiError;
use super::extract::{CHANGE_PASSWORD_PAGE, SessionContext, authenticate, credentials};
use super::language as page_language;
use super::respond::{
    Nav, clearing_cookies, failure_page, message_page, redirect, render, session_cookie_headers,
};
use crate::domain::password::Password;
use crate::domain::session::{ClientInfo, EndReason};
use crate::domain::user::User;
use crate::i18n::Localized as _;
use crate::i18n::t;
use crate::service::ServiceError;
use crate::service::authenticated::Authenticated;
use crate::service::login::LoginRequest;
use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequest, Query, Request, State};
use axum::http::header::{CACHE_CONTROL, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router, middleware};
use serde::Deserialize;

/// Where people land after signing in when nothing else was asked for.
pub const HOME: &str = user_sessions::PATH;

pub fn routes(state: AppState) -> Router<AppState> {
    let with_session = Router::new()
        .route("/login", get(login_page))
        .route("/logout", post(logout))
        .route("/language", post(language::choose))
        .merge(user_sessions::routes())
        .merge(password::routes())
        .merge(admin::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .route("/", get(|| async { redirect(HOME) }))
        .route("/login", post(login_submit))
        .route(sign_in_limit::PATH, post(sign_in_limit::end_and_continue))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .merge(with_session)
        .layer(middleware::from_fn_with_state(state, page_language::pages))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Option<Nav>,
    csrf_token: String,
    return_to: String,
    login: String,
    error: Option<String>,
    /// The name and password given did not match: both fields are marked invalid, and the
    /// password field, emptied, takes the focus.
    wrong_credentials: bool,
    /// Why this browser's session ended, when it comes with the cookie of one that did.
    ended: Option<String>,
}

/// An error message as a sentence for a page: a capital first letter and a full stop.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !text.ends_with(['.', '!', '?', '。', '！', '？']) {
        text.push('.');
    }
    text
}

/// Renders a page whose forms carry a CSRF token, setting the token's cookie when it is new.
/// Such pages are never stored by caches: they hold the token and often personal data.
pub fn render_with_token(
    status: StatusCode,
    set_cookie: Option<String>,
    page: &impl Template,
) -> Response {
    let cookie = set_cookie.map(|c| (SET_COOKIE, c));
    let no_store = [(CACHE_CONTROL, "no-store")];
    (status, no_store, AppendHeaders(cookie), render(page)).into_response()
}

/// A form body whose parse errors answer with a readable page.
pub struct FormBody<T>(pub T);

impl<T, S> FromRequest<S> for FormBody<T>
where
    Form<T>: FromRequest<S, Rejection = FormRejection>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(request, state).await {
            Ok(Form(value)) => Ok(FormBody(value)),
            Err(rejection) => {
                // What axum found wrong is for developers; people get what to do next.
                tracing::debug!(rejection = %rejection.body_text(), "unreadable form");
                Err(message_page(
                    rejection.status(),
                    &t("page-bad-request-heading"),
                    &t("page-bad-request-message"),
                ))
            }
        }
    }
}

/// Where a signed-in `user` goes from the sign-in page: `return_to`, unless their password
/// change is due.
fn after_sign_in<'a>(user: &User, return_to: &'a str) -> &'a str {
    if user.must_change_password {
        CHANGE_PASSWORD_PAGE
    } else {
        return_to
    }
}

/// Only same-origin paths are followed after sign-in, never another site.
pub fn safe_return_to(candidate: Option<&str>) -> &str {
    candidate.filter(|path| is_site_path(path)).unwrap_or(HOME)
}

/// Whether `path` is a path of this site that a `Location` header can carry: not another
/// host (`//host`, `/\\host`), no control characters (CR, LF, NUL).
fn is_site_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

/// Refuses a form whose token is not that of `signed_in`'s session, or when signed out of
/// the browser's cookie.
pub async fn check_form(
    state: &AppState,
    headers: &HeaderMap,
    signed_in: Option<&Authenticated>,
    submitted: &str,
) -> Result<(), Response> {
    match form_token_valid(state, headers, signed_in, submitted).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(refused_form()),
        Err(error) => Err(failure_page(&error)),
    }
}

fn refused_form() -> Response {
    message_page(
        StatusCode::FORBIDDEN,
        &t("page-form-expired-heading"),
        &t("page-form-expired-message"),
    )
}

#[derive(Deserialize)]
struct ReturnTo {
    return_to: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    Extension(context): Extension<SessionContext>,
    Query(query): Query<ReturnTo>,
    headers: HeaderMap,
) -> Response {
    let return_to = safe_return_to(query.return_to.as_deref());
    if let Some(auth) = &context.0 {
        // A forward-auth proxy sends a user whose password change is due here: straight on
        // to the change, not back to a page that would send them here again.
        return redirect(after_sign_in(&auth.user, return_to));
    }
    let ended = why_ended(&state, &headers).await;
    let form = LoginForm {
        return_to,
        login: "",
        error: None,
        ended: ended.map(words::end_reason),
    };
    let mut page = login_form(&state, &headers, form, StatusCode::OK).await;
    if ended.is_some() {
        for (name, cookie) in clearing_cookies(&state) {
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                page.headers_mut().append(name, value);
            }
        }
    }
    page
}

/// Why the session whose cookie the browser still sends ended, if that is known. The cookie
/// proves which session it was (its token is secret), so the reason cannot be planted by a
/// link; it is cleared with the answer that tells it, so it is told once. A store that
/// cannot say leaves the notice out, not the sign-in form.
async fn why_ended(state: &AppState, headers: &HeaderMap) -> Option<EndReason> {
    let token = credentials(state, headers).session_token?;
    match state.service.why_ended(&token).await {
        Ok(ended) => ended,
        Err(error) => {
            tracing::warn!(%error, "cannot tell why a session ended");
            None
        }
    }
}

/// What the sign-in form shows besides its token.
struct LoginForm<'a> {
    return_to: &'a str,
    login: &'a str,
    /// A failed attempt's error.
    error: Option<&'a ApiError>,
    ended: Option<String>,
}

/// The sign-in form, with the error of a failed attempt if there was one.
async fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    form: LoginForm<'_>,
    status: StatusCode,
) -> Response {
    let csrf = match form_token(state, headers, None).await {
        Ok(csrf) => csrf,
        Err(error) => return failure_page(&error),
    };
    let page = LoginPage {
        nav: None,
        csrf_token: csrf.token,
        return_to: form.return_to.to_owned(),
        login: form.login.to_owned(),
        error: form.error.map(|e| sentence(&e.message)),
        wrong_credentials: form.error.is_some_and(|e| e.code == "invalid_credentials"),
        ended: form.ended,
    };
    render_with_token(status, csrf.set_cookie, &page)
}

#[derive(Deserialize)]
struct LoginFields {
    csrf_token: String,
    login: String,
    password: String,
    remember_me: Option<String>,
    return_to: Option<String>,
}

async fn login_submit(
    State(state): State<AppState>,
    client: ClientInfo,
    headers: HeaderMap,
    FormBody(form): FormBody<LoginFields>,
) -> Response {
    if let Err(refused) = check_form(&state, &headers, None, &form.csrf_token).await {
        return refused;
    }
    let return_to = safe_return_to(form.return_to.as_deref());
    let request = LoginRequest {
        login: form.login.clone(),
        password: Password::new(form.password),
        remember_me: form.remember_me.is_some(),
        client,
    };
    match state.service.login(request).await {
        Ok(new) => {
            let cookies = session_cookie_headers(&state, &new);
            let target = after_sign_in(&new.user, return_to);
            (AppendHeaders(cookies), redirect(target)).into_response()
        }
        Err(ServiceError::SignInHeld { limit_token, .. }) => {
            sign_in_limit::limit_page(&state, &headers, &limit_token, return_to, None).await
        }
        Err(error) => login_failed(&state, &headers, return_to, &form.login, error).await,
    }
}

/// The sign-in form again, saying why the sign-in failed.
async fn login_failed(
    state: &AppState,
    headers: &HeaderMap,
    return_to: &str,
    login: &str,
    error: ServiceError,
) -> Response {
    let api = ApiError::from(error);
    let shown = LoginForm {
        return_to,
        login,
        error: Some(&api),
        ended: None,
    };
    let mut page = login_form(state, headers, shown, api.status).await;
    if let Some(seconds) = api.retry_after {
        page.headers_mut().insert(RETRY_AFTER, seconds.into());
    }
    page
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf_token: String,
}

async fn logout(
    State(state): State<AppState>,
    Extension(context): Extension<SessionContext>,
    client: ClientInfo,
    headers: HeaderMap,
    FormBody(form): FormBody<LogoutForm>,
) -> Response {
    let signed_in = context.0.as_deref();
    if let Err(refused) = check_form(&state, &headers, signed_in, &form.csrf_token).await {
        return refused;
    }
    if let Some(auth) = signed_in
        && let Err(error) = state.service.logout(&auth.session, &client).await
    {
        return ApiError::from(error).into_response();
    }
    (AppendHeaders(clearing_cookies(&state)), redirect("/login")).into_response()
}

async fn stylesheet(uri: Uri) -> Response {
    assets::STYLESHEET.respond(&uri)
}

async fn script(uri: Uri) -> Response {
    assets::SCRIPT.respond(&uri)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_errors_are_sentences() {
        assert_eq!(
            sentence("invalid login or password"),
            "Invalid login or password."
        );
        assert_eq!(sentence("Done."), "Done.");
        assert_eq!(sentence("ブロックされています。"), "ブロックされています。");
        assert_eq!(sentence(""), "");
    }

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(
            safe_return_to(Some("/admin/sessions?x=1")),
            "/admin/sessions?x=1"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "javascript:x",
        ] {
            assert_eq!(safe_return_to(Some(bad)), HOME, "{bad}");
        }
        assert_eq!(safe_return_to(None), HOME);
    }
}
