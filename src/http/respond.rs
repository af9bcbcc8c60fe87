//! What the JSON API, the pages and the extractors all answer with: the cookies of a new or
//! ended session, redirects, and the plain page that carries an error.

use super::AppState;
use super::cookies::CookieKind;
use super::error::ApiError;
use crate::domain::user::User;
use crate::service::authenticated::{Authenticated, NewSession};
use askama::Template;
use axum::http::header::{LOCATION, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

/// The `Set-Cookie` values that hand a new session (and remember-me token) to the browser.
pub fn session_cookies(state: &AppState, new: &NewSession) -> Vec<String> {
    let mut cookies = vec![
        state
            .cookies
            .set(CookieKind::Session, new.token.expose(), None),
    ];
    if let Some(remember) = &new.remember_token {
        cookies.push(state.cookies.set(
            CookieKind::Remember,
            remember.expose(),
            Some(state.service.policy.remember_me_lifetime),
        ));
    }
    cookies
}

/// `session_cookies` as headers, for a response that signs someone in.
pub fn session_cookie_headers(state: &AppState, new: &NewSession) -> Vec<(HeaderName, String)> {
    session_cookies(state, new)
        .into_iter()
        .map(|cookie| (SET_COOKIE, cookie))
        .collect()
}

/// The `Set-Cookie` values that remove our session cookies.
pub fn clearing_cookies(state: &AppState) -> [(HeaderName, String); 2] {
    [
        (SET_COOKIE, state.cookies.clear(CookieKind::Session)),
        (SET_COOKIE, state.cookies.clear(CookieKind::Remember)),
    ]
}

/// When remember-me renewed the session just now, hands the new cookies to the browser.
pub fn send_renewal(state: &AppState, auth: &Authenticated, response: &mut Response) {
    let Some(renewed) = &auth.renewed else {
        return;
    };
    for cookie in session_cookies(state, renewed) {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
}

/// A `303 See Other`, the redirect that turns a form POST into a GET.
pub fn redirect(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

/// The header's navigation for a signed-in person.
pub struct Nav {
    pub display_name: String,
    pub csrf_token: String,
    pub section: &'static str,
    /// Administrators also see the admin console's pages.
    pub is_admin: bool,
    /// Open IP-spread alarms, counted beside the Alarms link for administrators.
    pub open_alarms: u64,
}

impl Nav {
    /// The header for `user` on the page `section`; its Log out form carries `csrf_token`.
    pub async fn new(
        state: &AppState,
        user: &User,
        csrf_token: &str,
        section: &'static str,
    ) -> Nav {
        let open_alarms = if user.is_admin {
            // A count that cannot be read leaves the link without one; the page still works.
            match state.service.list_alarms(true, 1, 0).await {
                Ok(page) => page.total,
                Err(error) => {
                    tracing::warn!(%error, "cannot count open alarms for the header");
                    0
                }
            }
        } else {
            0
        };
        Nav {
            display_name: user.name.clone(),
            csrf_token: csrf_token.to_owned(),
            section,
            is_admin: user.is_admin,
            open_alarms,
        }
    }
}

/// A heading and a sentence; with `nav`, under the signed-in header.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub nav: Option<Nav>,
    pub heading: String,
    pub message: String,
}

/// Renders a template; a template error is a bug, shown as a plain 500 without details.
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "template rendering failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// A readable error page with the given status.
pub fn message_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let page = MessagePage {
        nav: None,
        heading: heading.into(),
        message: message.into(),
    };
    (status, render(&page)).into_response()
}

/// The page for a failure on the server's side (a store that did not answer).
pub fn failure_page(error: &ApiError) -> Response {
    message_page(error.status, "Something went wrong", &error.message)
}

pub fn not_found_page() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address.",
    )
}
