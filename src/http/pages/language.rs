//! The language picker in every page's footer: a form that posts the chosen language, which
//! is kept in a cookie (so it outlasts signing out) and, for a signed-in person, in their
//! profile (so it follows them to their other devices); then back to the page it came from.

use super::{FormBody, check_form, safe_return_to};
use crate::http::AppState;
use crate::http::cookies::CookieKind;
use crate::http::error::ApiError;
use crate::http::extract::SessionContext;
use crate::http::language::COOKIE_LIFETIME;
use crate::http::respond::{failure_page, message_page, redirect};
use crate::i18n::{Lang, t};
use axum::Extension;
use axum::extract::State;
use axum::http::header::{REFERER, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub(super) struct LanguageForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    lang: String,
}

pub(super) async fn choose(
    State(state): State<AppState>,
    Extension(context): Extension<SessionContext>,
    headers: HeaderMap,
    FormBody(form): FormBody<LanguageForm>,
) -> Response {
    let signed_in = context.0.as_deref();
    if let Err(refused) = check_form(&state, &headers, signed_in, &form.csrf_token).await {
        return refused;
    }
    let Some(lang) = Lang::parse(&form.lang) else {
        return message_page(
            StatusCode::BAD_REQUEST,
            &t("page-bad-request-heading"),
            &t("page-bad-request-message"),
        );
    };
    if let Some(auth) = signed_in
        && let Err(error) = state.service.set_user_locale(&auth.user, lang.tag()).await
    {
        return failure_page(&ApiError::from(error));
    }
    let cookie = state
        .cookies
        .set(CookieKind::Language, lang.tag(), Some(COOKIE_LIFETIME));
    let back = came_from(&headers);
    (AppendHeaders([(SET_COOKIE, cookie)]), redirect(back)).into_response()
}

/// The path of the page the picker was on, from `Referer` (sent for this site's own pages, by
/// their `Referrer-Policy: same-origin`); the start page when there is none.
fn came_from(headers: &HeaderMap) -> &str {
    let referer = headers.get(REFERER).and_then(|value| value.to_str().ok());
    let path = referer.and_then(|url| {
        let after_scheme = url.split_once("://")?.1;
        after_scheme.find('/').map(|start| &after_scheme[start..])
    });
    safe_return_to(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_to_the_page_the_picker_was_on() {
        let from = |referer: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(REFERER, referer.parse().unwrap());
            came_from(&headers).to_owned()
        };
        assert_eq!(
            from("http://127.0.0.1:8080/admin/users?offset=50"),
            "/admin/users?offset=50"
        );
        assert_eq!(from("https://example.com"), super::super::HOME);
        assert_eq!(
            from("https://example.com//evil.example/"),
            super::super::HOME
        );
        assert_eq!(came_from(&HeaderMap::new()), super::super::HOME);
    }
}
