//! Which language a request is answered in. Pages: the signed-in person's saved choice (see
//! [`users_choice`], applied by the session middleware), else the language cookie the picker
//! sets, else `Accept-Language`, else English. The JSON API: `Accept-Language`, else English.

use super::AppState;
use super::cookies::CookieKind;
use crate::domain::user::User;
use crate::i18n::Lang;
use crate::i18n::negotiate::accept_language;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::middleware::Next;
use axum::response::Response;

/// How long the picker's cookie keeps a signed-out visitor's choice.
pub const COOKIE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(365 * 86_400);

/// The language the request's headers ask for: `Accept-Language`, else English.
pub fn asked(headers: &HeaderMap) -> Lang {
    headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .and_then(accept_language)
        .unwrap_or_else(Lang::fallback)
}

/// A page's language before the session is known: the picker's cookie, else [`asked`].
pub fn for_page(state: &AppState, headers: &HeaderMap) -> Lang {
    state
        .cookies
        .get(headers, CookieKind::Language)
        .and_then(Lang::parse)
        .unwrap_or_else(|| asked(headers))
}

/// The language a signed-in person picked, if the catalogue still has it.
pub fn users_choice(user: &User) -> Option<Lang> {
    user.locale.as_deref().and_then(Lang::parse)
}

/// Middleware for pages: answers in [`for_page`]'s language.
pub async fn pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let lang = for_page(&state, request.headers());
    lang.speak(next.run(request)).await
}

/// Middleware for the JSON API: answers in [`asked`]'s language.
pub async fn api(request: Request, next: Next) -> Response {
    let lang = asked(request.headers());
    lang.speak(next.run(request)).await
}
