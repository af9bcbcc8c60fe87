//! CSRF defences: a double-submit token on every form (cookie + hidden field, compared in
//! constant time), and an Origin check on state-changing requests.

use super::AppState;
use super::cookies::CookieKind;
use super::error::ApiError;
use crate::domain::token::{SecretToken, constant_time_eq};
use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// The token to put in a page's forms, and the cookie to set when the browser has none yet.
pub struct FormToken {
    pub token: String,
    pub set_cookie: Option<String>,
}

/// How long a form token cookie lives; renewed whenever a page is shown without one.
const TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The browser's form-token cookie, when it holds a well-formed token (never an empty one).
fn cookie_token(state: &AppState, headers: &HeaderMap) -> Option<String> {
    state
        .cookies
        .get(headers, CookieKind::Csrf)
        .filter(|t| SecretToken::parse(t).is_some())
        .map(str::to_owned)
}

pub fn form_token(state: &AppState, headers: &HeaderMap) -> FormToken {
    match cookie_token(state, headers) {
        Some(token) => FormToken {
            token,
            set_cookie: None,
        },
        None => {
            let token = SecretToken::generate().expose().to_owned();
            let set_cookie = state
                .cookies
                .set(CookieKind::Csrf, &token, Some(TOKEN_LIFETIME));
            FormToken {
                token,
                set_cookie: Some(set_cookie),
            }
        }
    }
}

/// Whether a submitted form's token matches the browser's cookie.
pub fn form_token_valid(state: &AppState, headers: &HeaderMap, submitted: &str) -> bool {
    cookie_token(state, headers)
        .is_some_and(|cookie| constant_time_eq(cookie.as_bytes(), submitted.as_bytes()))
}

/// Middleware: a state-changing request that a browser marks as coming from another origin
/// is refused before any handler runs.
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let host = request.headers().get(HOST).and_then(|v| v.to_str().ok());
    let cross_origin = request
        .headers()
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| !is_own_origin(origin, &state.public_origin, host));
    let cross_site = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site");
    if !safe && (cross_origin || cross_site) {
        return cross_origin_refused().into_response();
    }
    next.run(request).await
}

/// The answer to a state-changing request from another origin.
pub fn cross_origin_refused() -> ApiError {
    ApiError::forbidden("cross-origin request refused; send it from the sessiond origin")
}

/// The public URL's origin, or the origin of the host the browser addressed.
fn is_own_origin(origin: &str, public_origin: &str, host: Option<&str>) -> bool {
    let addressed = |host: &str| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host)
    };
    origin == public_origin || host.is_some_and(addressed)
}

#[cfg(test)]
mod tests {
    use super::is_own_origin;

    #[test]
    fn origins() {
        let public = "https://sso.example.com";
        assert!(is_own_origin(public, public, None));
        assert!(is_own_origin(
            "http://127.0.0.1:8080",
            public,
            Some("127.0.0.1:8080")
        ));
        assert!(!is_own_origin(
            "https://evil.example",
            public,
            Some("sso.example.com")
        ));
        assert!(!is_own_origin("null", public, Some("sso.example.com")));
    }
}
