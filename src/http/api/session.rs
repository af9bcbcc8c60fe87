//! Signing in and out, and the session check (forward-auth and whoami).

use crate::domain::password::Password;
use crate::domain::session::ClientInfo;
use crate::http::AppState;
use crate::http::api::JsonBody;
use crate::http::error::ApiError;
use crate::http::extract::{ApiSession, ForwardedRequest, PasswordDueSession};
use crate::http::headers::{NO_STORE, SECURITY_HEADERS};
use crate::http::openapi::{CrossOrigin, JsonBodyErrors, SignedInErrors, Unavailable, examples};
use crate::http::respond::{clearing_cookies, send_renewal, session_cookie_headers};
use crate::service::ServiceError;
use crate::service::authenticated::Authenticated;
use crate::service::authenticated::NewSession;
use crate::service::login::LoginRequest;
use crate::views::{ErrorBody, LoginResponse, SessionView, SignInHeldView, UserView, Whoami};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::Deserialize;
use std::sync::LazyLock;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The session check, which resolves its own session.
pub fn check_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(whoami))
}

/// Signing in.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login))
}

/// Signing out, behind the layer that resolves the session.
pub fn signed_in_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(logout))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    /// Username or e-mail address.
    login: String,
    password: String,
    /// Also set a long-lived remember-me cookie.
    #[serde(default)]
    remember_me: bool,
}

#[utoipa::path(
    post, path = "/api/login", tag = "session",
    summary = "Sign in",
    request_body(content = LoginBody, example = json!({
        "login": "alice", "password": "correct horse battery staple", "remember_me": false
    })),
    responses(
        (status = 201, body = LoginResponse, description = "Signed in; session (and remember-me) cookies set",
         example = json!(examples::login())),
        JsonBodyErrors,
        (status = 401, body = ErrorBody, description = "Bad credentials"),
        (status = 403, body = ErrorBody,
         description = "The account is blocked, or a browser sent the request from another origin"),
        (status = 409, body = SignInHeldView,
         description = "Session limit reached: with the right password, a `limit_token` to end \
                        one of your sessions and complete the sign-in (`/api/login/limit`)",
         example = json!(examples::sign_in_held())),
        (status = 423, body = ErrorBody, description = "Locked after failed logins"),
        (status = 429, body = ErrorBody,
         description = "Too many failed sign-ins from this address or at this account: refused \
                        whatever the password, until the wait is over",
         headers(("Retry-After" = u64, description = "Seconds to wait before trying again")),
         example = json!(examples::throttled())),
        Unavailable,
    )
)]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    let request = LoginRequest {
        login: body.login,
        password: Password::new(body.password),
        remember_me: body.remember_me,
        client,
    };
    match state.service.login(request).await {
        Ok(new) => Ok(signed_in(&state, &new)),
        Err(ServiceError::SignInHeld { max, limit_token }) => {
            let error = ApiError::from(ServiceError::SessionLimit(max));
            let message = ServiceError::SignInHeld {
                max,
                limit_token: limit_token.clone(),
            }
            .to_string();
            let body = SignInHeldView::new(error.code, message, limit_token.expose().to_owned());
            Ok((error.status, [(CACHE_CONTROL, NO_STORE)], Json(body)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// `201` with the new session's cookies and the session, as a sign-in answers.
pub(super) fn signed_in(state: &AppState, new: &NewSession) -> Response {
    let cookies = session_cookie_headers(state, new);
    let body = LoginResponse {
        user: UserView::from(&new.user),
        session: SessionView::new(&new.session, None),
        token: new.token.expose().to_owned(),
        password_change_required: new.user.must_change_password,
    };
    (StatusCode::CREATED, AppendHeaders(cookies), Json(body)).into_response()
}

#[utoipa::path(
    post, path = "/api/logout", tag = "session",
    summary = "End the current session (and every remember-me login of the user)",
    responses(
        (status = 204, description = "Signed out; session cookies cleared"),
        SignedInErrors, CrossOrigin,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn logout(
    State(state): State<AppState>,
    PasswordDueSession(auth): PasswordDueSession,
    client: ClientInfo,
) -> Result<Response, ApiError> {
    state.service.logout(&auth.session, &client).await?;
    Ok((
        StatusCode::NO_CONTENT,
        AppendHeaders(clearing_cookies(&state)),
    )
        .into_response())
}

/// Forward-auth and whoami: 200 with identity headers, or 401 naming the sign-in page.
#[utoipa::path(
    get, path = "/api/session", tag = "session",
    summary = "Forward-auth and whoami",
    responses(
        (status = 200, body = Whoami, description = "Signed in: who, and with which session",
         headers(
            ("X-Sessiond-User" = String, description = "Username"),
            ("X-Sessiond-User-Id" = String, description = "Numeric user id"),
            ("X-Sessiond-Session-Id" = String, description = "Public session id"),
         ),
         example = json!(examples::whoami())),
        (status = 401, body = ErrorBody,
         description = "No valid session or token: sign in first (`unauthorized`); or the \
                        user's password was set by an administrator and must be changed first \
                        (`password_change_required`)",
         headers(
            ("X-Sessiond-Login" = String,
             description = "The sign-in page for a forward-auth proxy to send a browser to, coming back to X-Forwarded-Uri"),
         ),
         example = json!(examples::unauthorized())),
        Unavailable,
    ),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn whoami(
    State(state): State<AppState>,
    forwarded: ForwardedRequest,
    session: Result<ApiSession, ApiError>,
) -> Response {
    let auth = match session {
        Ok(ApiSession(auth)) => auth,
        Err(error) if error.status == StatusCode::UNAUTHORIZED => {
            let mut response = error.into_response();
            if let Ok(login) = HeaderValue::from_str(&forwarded.sign_in_url()) {
                response.headers_mut().insert("x-sessiond-login", login);
            }
            return response;
        }
        Err(error) => return error.into_response(),
    };
    let mut response = whoami_response(auth.check_answer.get_or_init(|| render_whoami(&auth)));
    send_renewal(&state, &auth, &mut response);
    response
}

/// The identity headers of `GET /api/session`, in the order [`render_whoami`] keeps their values.
const IDENTITY_HEADERS: [&str; 3] = [
    "x-sessiond-user",
    "x-sessiond-user-id",
    "x-sessiond-session-id",
];

/// Every `GET /api/session` answer's header map, identity values left empty. Each answer
/// copies this one map, which every check keeps warm in the CPU's caches, instead of a map
/// of its own session's, which with many sessions in turn is usually in none of them.
/// The map also holds the headers every answer carries, so the layers that would add them
/// find them present. A map iterates in the order of insertion: the identity headers come
/// right after the content type, so filling them in looks at the first few entries only.
static WHOAMI_HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| {
    let mut headers = HeaderMap::with_capacity(IDENTITY_HEADERS.len() + SECURITY_HEADERS.len() + 2);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for name in IDENTITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(""));
    }
    headers.insert(CACHE_CONTROL, NO_STORE);
    headers.extend(SECURITY_HEADERS);
    headers
});

/// How many of [`WHOAMI_HEADERS`]' entries, from the first, hold the identity headers.
const IDENTITY_ENTRIES: usize = IDENTITY_HEADERS.len() + 1;

/// A rendered answer ([`render_whoami`]) starts with where each identity value ends, a
/// little-endian `u32` each.
const END: usize = size_of::<u32>();
const IDENTITY_ENDS: usize = IDENTITY_HEADERS.len() * END;

/// The `GET /api/session` answer for one session, rendered once and kept with it
/// ([`Authenticated::check_answer`]): one buffer of where each identity value ends, the
/// identity values and then the body. An answer reads one reference count and one run of
/// memory of its session's, whose first cache line holds (for a username of up to a dozen
/// characters) all but the body.
fn render_whoami(auth: &Authenticated) -> Bytes {
    let mut buffer = vec![0; IDENTITY_ENDS];
    for (index, value) in [
        auth.user.username.as_str(),
        &auth.user.id.to_string(),
        &auth.session.id,
    ]
    .into_iter()
    .enumerate()
    {
        // Checked once here, so that each answer can take its slice unchecked. Names and ids
        // are plain ASCII and always pass; were one not to, it would be sent empty.
        if HeaderValue::from_bytes(value.as_bytes()).is_ok() {
            buffer.extend_from_slice(value.as_bytes());
        }
        let end = u32::try_from(buffer.len()).expect("identity values are short");
        buffer[index * END..][..END].copy_from_slice(&end.to_le_bytes());
    }
    let body = Whoami {
        user: UserView::from(&auth.user),
        session: SessionView::new(&auth.session, None),
    };
    serde_json::to_writer(&mut buffer, &body).expect("plain structs always serialize");
    beside_count(&buffer)
}

/// Bytes kept in the allocation that holds their reference count ([`Bytes::from_owner`]),
/// not in one of their own: an answer then finds them where it changes the count. With the
/// count and the length (16 bytes), each size fills one of the allocator's size classes.
fn beside_count(buffer: &[u8]) -> Bytes {
    fn inline<const N: usize>(buffer: &[u8]) -> Bytes {
        let mut bytes = [0; N];
        bytes[..buffer.len()].copy_from_slice(buffer);
        Bytes::from_owner(Inline {
            len: buffer.len(),
            bytes,
        })
    }
    match buffer.len() {
        0..=496 => inline::<496>(buffer),
        497..=752 => inline::<752>(buffer),
        753..=1008 => inline::<1008>(buffer),
        1009..=2032 => inline::<2032>(buffer),
        _ => Bytes::copy_from_slice(buffer),
    }
}

/// The first `len` of `bytes`.
struct Inline<const N: usize> {
    len: usize,
    bytes: [u8; N],
}

impl<const N: usize> AsRef<[u8]> for Inline<N> {
    fn as_ref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The response for an answer [`render_whoami`] rendered: the body and the header values are
/// slices of its buffer, so nothing is copied.
fn whoami_response(rendered: &Bytes) -> Response {
    // The first value starts after the ends; each next one where the one before it ended.
    let mut bounds = [IDENTITY_ENDS; IDENTITY_HEADERS.len() + 1];
    for (index, end) in rendered[..IDENTITY_ENDS].chunks_exact(END).enumerate() {
        bounds[index + 1] = u32::from_le_bytes(end.try_into().expect("a u32's bytes")) as usize;
    }
    let body = rendered.slice(bounds[IDENTITY_HEADERS.len()]..);
    let mut response = Response::new(Body::from(body));
    let mut headers = WHOAMI_HEADERS.clone();
    for (name, value) in headers.iter_mut().take(IDENTITY_ENTRIES) {
        if let Some(index) = IDENTITY_HEADERS.iter().position(|known| name == known) {
            let identity = rendered.slice(bounds[index]..bounds[index + 1]);
            // SAFETY: answers are rendered only by `render_whoami` (the one caller of
            // `check_answer.get_or_init`), which kept there only text (UTF-8) that a header
            // value admits.
            *value = unsafe { HeaderValue::from_maybe_shared_unchecked(identity) };
        }
    }
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_identity_headers_are_among_the_first_entries() {
        let first: Vec<_> = WHOAMI_HEADERS.keys().take(IDENTITY_ENTRIES).collect();
        for name in IDENTITY_HEADERS {
            assert!(first.iter().any(|known| *known == name), "{name}");
        }
    }

    #[test]
    fn answers_of_every_size_keep_their_bytes() {
        for length in [0, 1, 496, 497, 752, 753, 1008, 1009, 2032, 2033, 10_000] {
            let buffer: Vec<u8> = (0..length).map(|i| (i % 251) as u8).collect();
            let kept = beside_count(&buffer);
            assert_eq!(kept, buffer);
            assert_eq!(kept.slice(length / 2..), buffer[length / 2..]);
        }
    }
}
