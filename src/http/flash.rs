//! One-time notices carried across a redirect: after a form's action the handler sets a
//! short-lived cookie with the outcome, and the next page shows it once and clears it.
//!
//! The cookie is signed with the form tokens' key, bound to the session it was made for and
//! to its expiry, so a planted or altered notice, one copied to another session, or one
//! replayed after its minute shows nothing: nobody without the key can make one, and the
//! query string carries no outcome for anyone to fake.

use super::AppState;
use super::cookies::CookieKind;
use super::csrf::{FormKey, form_key};
use super::error::ApiError;
use super::respond::{failure_page, redirect};
use crate::service::authenticated::Authenticated;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{AppendHeaders, IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Long enough for a redirect to be followed, short enough that a notice does not turn up
/// on a page opened much later.
const LIFETIME: Duration = Duration::from_secs(60);

/// What the last action came to, for the page it redirects to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flash {
    /// An action done: what (`kind`, such as `terminated`), to whom, and how many sessions
    /// it ended.
    Done {
        kind: String,
        who: String,
        count: u64,
    },
    /// A group's sessions revoked: how many sessions of how many users ended.
    GroupRevoked {
        group: String,
        sessions: u64,
        users: u64,
    },
    /// An action refused, by the error's code (`not_found`, ...), with its message for pages
    /// that show it.
    Refused {
        code: String,
        #[serde(default)]
        message: String,
    },
}

impl Flash {
    pub fn done(kind: &str, who: &str, count: u64) -> Flash {
        Flash::Done {
            kind: kind.to_owned(),
            who: who.to_owned(),
            count,
        }
    }
}

/// What the cookie carries: the flash, and when it stops counting (even if a browser
/// keeps the cookie longer).
#[derive(Serialize, Deserialize)]
struct Sealed {
    flash: Flash,
    expires_ms: i64,
}

/// The MAC of `payload` for the session `session_id`, kept apart from the form tokens' by
/// its prefix.
fn mac(key: &FormKey, session_id: &str, payload: &[u8]) -> FormKey {
    let mut mac = key.clone();
    mac.update(b"flash\0");
    mac.update(session_id.as_bytes());
    mac.update(b"\0");
    mac.update(payload);
    mac
}

/// Where to go after an action: a redirect to `location` with the outcome as the flash
/// for `auth`'s session's next page; a failure on the server's side gets a page instead.
pub async fn back(
    state: &AppState,
    auth: &Authenticated,
    location: &str,
    outcome: Result<Flash, ApiError>,
) -> Response {
    let flash = match outcome {
        Ok(flash) => flash,
        Err(error) if error.status.is_client_error() => Flash::Refused {
            code: error.code.to_owned(),
            message: error.message,
        },
        Err(error) => return failure_page(&error),
    };
    let key = match form_key(state).await {
        Ok(key) => key,
        Err(error) => return failure_page(&error),
    };
    let sealed = Sealed {
        flash,
        expires_ms: state.service.now().plus(LIFETIME).millis(),
    };
    let payload = serde_json::to_vec(&sealed).expect("a flash serializes");
    let tag = mac(key, &auth.session.id, &payload).finalize().into_bytes();
    let value = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&payload),
        URL_SAFE_NO_PAD.encode(tag)
    );
    let cookie = state.cookies.set(CookieKind::Flash, &value, Some(LIFETIME));
    (AppendHeaders([(SET_COOKIE, cookie)]), redirect(location)).into_response()
}

/// The flash the request carries for `auth`'s session, if it has a genuine one.
pub async fn take(state: &AppState, headers: &HeaderMap, auth: &Authenticated) -> Option<Flash> {
    let value = state.cookies.get(headers, CookieKind::Flash)?;
    let (payload, tag) = value.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let key = form_key(state).await.ok()?;
    mac(key, &auth.session.id, &payload)
        .verify_slice(&tag)
        .ok()?;
    let sealed: Sealed = serde_json::from_slice(&payload).ok()?;
    (state.service.now().millis() < sealed.expires_ms).then_some(sealed.flash)
}

/// Clears the flash cookie in `response` when the request carried one, so that it shows
/// once.
pub fn clear_taken(state: &AppState, headers: &HeaderMap, response: &mut Response) {
    if state.cookies.get(headers, CookieKind::Flash).is_none() {
        return;
    }
    let cookie = state.cookies.clear(CookieKind::Flash);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}
