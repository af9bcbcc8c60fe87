//! CSRF defences: a token on every form bound to who fills it in, and an Origin check on
//! state-changing requests.
//!
//! A signed-in person's token is an HMAC of their session's id; a signed-out browser's (the
//! sign-in form) an HMAC of a random value in its `sessiond_csrf` cookie. The key is one the
//! directory keeps, so every node agrees. A token taken from another session, or a cookie and
//! token an attacker plants together, is refused: without the key nobody can make one.

use super::AppState;
use super::cookies::CookieKind;
use super::error::ApiError;
use super::language::asked;
use crate::domain::token::{SecretToken, constant_time_eq};
use crate::i18n::t;
use crate::service::authenticated::Authenticated;
use axum::extract::{Request, State};
use axum::http::header::ORIGIN;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::time::Duration;

/// The form tokens' key, as the directory keeps it under [`KEY_NAME`].
pub type FormKey = Hmac<Sha256>;

/// The name of the form tokens' key in the directory.
const KEY_NAME: &str = "csrf";

/// The token to put in a page's forms, and the cookie to set when the browser has none yet.
pub struct FormToken {
    pub token: String,
    pub set_cookie: Option<String>,
}

/// How long a signed-out browser's cookie lives; renewed whenever a form is shown without one.
const COOKIE_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The form tokens' key, which also signs the one-time notices: read from the directory
/// once per process.
pub(super) async fn form_key(state: &AppState) -> Result<&FormKey, ApiError> {
    state
        .csrf_key
        .get_or_try_init(async || {
            let key = state.service.server_key(KEY_NAME).await?;
            Ok(FormKey::new_from_slice(&key).expect("HMAC takes a key of any length"))
        })
        .await
}

/// Who fills in a form: a session, or a signed-out browser with the random value of its
/// cookie.
enum Holder<'a> {
    Session(&'a str),
    Browser(&'a str),
}

impl Holder<'_> {
    /// The holder's token: the HMAC of what it is, kept apart by a prefix.
    fn token(&self, key: &FormKey) -> String {
        let mut mac = key.clone();
        let (kind, value) = match self {
            Holder::Session(id) => (b"session\0", id),
            Holder::Browser(value) => (b"browser\0", value),
        };
        mac.update(kind);
        mac.update(value.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// The signed-out browser's random value, when its cookie holds a well-formed one.
fn browser_value<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    state
        .cookies
        .get(headers, CookieKind::Csrf)
        .filter(|t| SecretToken::parse(t).is_some())
}

/// The token for a page's forms; `signed_in` is the session of the page, if any.
pub async fn form_token(
    state: &AppState,
    headers: &HeaderMap,
    signed_in: Option<&Authenticated>,
) -> Result<FormToken, ApiError> {
    let key = form_key(state).await?;
    if let Some(auth) = signed_in {
        return Ok(FormToken {
            token: Holder::Session(&auth.session.id).token(key),
            set_cookie: None,
        });
    }
    if let Some(value) = browser_value(state, headers) {
        return Ok(FormToken {
            token: Holder::Browser(value).token(key),
            set_cookie: None,
        });
    }
    let value = SecretToken::generate();
    let cookie = state
        .cookies
        .set(CookieKind::Csrf, value.expose(), Some(COOKIE_LIFETIME));
    Ok(FormToken {
        token: Holder::Browser(value.expose()).token(key),
        set_cookie: Some(cookie),
    })
}

/// Whether a submitted form's token is the one of `signed_in`'s session, or when signed out
/// of the browser's cookie.
pub async fn form_token_valid(
    state: &AppState,
    headers: &HeaderMap,
    signed_in: Option<&Authenticated>,
    submitted: &str,
) -> Result<bool, ApiError> {
    let holder = match signed_in {
        Some(auth) => Holder::Session(&auth.session.id),
        None => match browser_value(state, headers) {
            Some(value) => Holder::Browser(value),
            None => return Ok(false),
        },
    };
    let expected = holder.token(form_key(state).await?);
    Ok(constant_time_eq(expected.as_bytes(), submitted.as_bytes()))
}

/// Middleware: a state-changing request that a browser marks as coming from another origin
/// is refused before any handler runs.
pub async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let cross_origin = request.headers().get(ORIGIN).is_some_and(|origin| {
        origin
            .to_str()
            .ok()
            .and_then(canonical_origin)
            .is_none_or(|origin| origin != state.public_origin)
    });
    let cross_site = request
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v == "cross-site");
    if !safe && (cross_origin || cross_site) {
        let refused = async { cross_origin_refused() };
        return asked(request.headers())
            .speak(refused)
            .await
            .into_response();
    }
    next.run(request).await
}

/// The answer to a state-changing request from another origin.
pub fn cross_origin_refused() -> ApiError {
    ApiError::forbidden(t("error-cross-origin"))
}

/// `scheme://host:port` of an http(s) URL, lower-case and with the port even when it is the
/// scheme's default, so that two spellings of one origin compare equal and any difference
/// of scheme, host or port does not. `None` for anything else (`null`, other schemes).
pub fn canonical_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, port.trim_start_matches('0'))
        }
        _ => (authority, default_port),
    };
    Some(format!("{scheme}://{}:{port}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::canonical_origin;

    #[test]
    fn origins_compare_by_scheme_host_and_port() {
        let public = canonical_origin("https://SSO.example.com/base/").unwrap();
        assert_eq!(public, "https://sso.example.com:443");
        for same in ["https://sso.example.com", "https://sso.example.com:443"] {
            assert_eq!(canonical_origin(same).as_ref(), Some(&public), "{same}");
        }
        for other in [
            "http://sso.example.com",
            "https://sso.example.com:8443",
            "https://evil.example",
            "https://sso.example.com.evil.example",
        ] {
            assert_ne!(canonical_origin(other).as_ref(), Some(&public), "{other}");
        }
        for none in [
            "null",
            "ftp://sso.example.com",
            "https://",
            "https://u@sso.example.com",
        ] {
            assert_eq!(canonical_origin(none), None, "{none}");
        }
        assert_eq!(
            canonical_origin("http://[::1]:8080").as_deref(),
            Some("http://[::1]:8080")
        );
    }
}
