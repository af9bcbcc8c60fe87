//! The JSON API: login, logout, the forward-auth check, health; self-service in submodules.

mod user_sessions;

pub use user_sessions::Revoked;

use super::AppState;
use super::cookies::CookieKind;
use super::error::ApiError;
use super::extract::{ApiSession, ForwardedRequest, authenticate, send_renewal};
use crate::domain::password::Password;
use crate::domain::session::{ClientInfo, Session};
use crate::domain::time::Timestamp;
use crate::domain::user::User;
use crate::domain::user_agent::DeviceType;
use crate::service::auth::{Authenticated, LoginRequest, NewSession};
use axum::body::{Body, Bytes};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::{Json, middleware};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    let signed_in = OpenApiRouter::new()
        .routes(routes!(logout))
        .merge(user_sessions::routes())
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    OpenApiRouter::new()
        .routes(routes!(whoami))
        .routes(routes!(login))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .merge(signed_in)
}

/// SPEC's error body: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable, e.g. `invalid_credentials`, `session_limit`, `not_found`.
    code: String,
    /// For people: what went wrong and what to do next.
    message: String,
}

/// A JSON body whose parse errors answer with SPEC's error body instead of plain text.
pub struct JsonBody<T>(pub T);

impl<T, S> FromRequest<S> for JsonBody<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(ApiError::new(
                rejection.status(),
                "bad_request",
                rejection.body_text(),
            )),
        }
    }
}

/// A session as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Public random id, unrelated to the token.
    pub id: String,
    pub user_id: i64,
    pub username: String,
    pub ip_address: String,
    /// The raw User-Agent header.
    pub user_agent: String,
    pub browser: String,
    pub os: String,
    /// `desktop`, `smartphone`, `tablet`, `bot` or `other`.
    #[schema(value_type = String)]
    pub device_type: DeviceType,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_active_at: Timestamp,
    /// The earlier of idle and absolute expiry.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub remember_me: bool,
    /// In the self-service list only: whether this is the caller's own session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<bool>,
}

impl SessionView {
    pub fn new(session: &Session, current: Option<bool>) -> Self {
        SessionView {
            id: session.id.clone(),
            user_id: session.user_id,
            username: session.username.clone(),
            ip_address: session.ip_address.clone(),
            user_agent: session.user_agent.clone(),
            browser: session.browser.clone(),
            os: session.os.clone(),
            device_type: session.device_type,
            created_at: session.created_at,
            last_active_at: session.last_active_at,
            expires_at: session.expires_at,
            remember_me: session.remember_me,
            current,
        }
    }
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        UserView {
            id: user.id,
            username: user.username.to_string(),
            name: user.name.clone(),
            email: user.email.as_str().to_owned(),
            is_admin: user.is_admin,
        }
    }
}

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

/// The `Set-Cookie` values that remove our session cookies.
pub fn clearing_cookies(state: &AppState) -> [(HeaderName, String); 2] {
    [
        (SET_COOKIE, state.cookies.clear(CookieKind::Session)),
        (SET_COOKIE, state.cookies.clear(CookieKind::Remember)),
    ]
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

/// A new session: who, which session, and its bearer token (also set as a cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    user: UserView,
    session: SessionView,
    /// The session token, for `Authorization: Bearer`; shown only here.
    token: String,
}

/// Who is signed in, and with which session.
#[derive(Debug, Serialize, ToSchema)]
pub struct Whoami {
    user: UserView,
    session: SessionView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    status: String,
}

#[utoipa::path(
    post, path = "/api/login", tag = "session",
    summary = "Sign in",
    request_body = LoginBody,
    responses(
        (status = 201, body = LoginResponse, description = "Signed in; session (and remember-me) cookies set"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody, description = "Bad credentials"),
        (status = 403, body = ErrorBody, description = "Blocked"),
        (status = 409, body = ErrorBody, description = "Session limit reached"),
        (status = 423, body = ErrorBody, description = "Locked after failed logins"),
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
    let new = state.service.login(request).await?;
    let cookies: Vec<_> = session_cookies(&state, &new)
        .into_iter()
        .map(|cookie| (SET_COOKIE, cookie))
        .collect();
    let body = LoginResponse {
        user: UserView::from(&new.user),
        session: SessionView::new(&new.session, None),
        token: new.token.expose().to_owned(),
    };
    Ok((StatusCode::CREATED, AppendHeaders(cookies), Json(body)).into_response())
}

#[utoipa::path(
    post, path = "/api/logout", tag = "session",
    summary = "End the current session (and every remember-me login of the user)",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody)),
    security(("session_cookie" = []), ("bearer" = []))
)]
async fn logout(
    State(state): State<AppState>,
    ApiSession(auth): ApiSession,
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
        (status = 200, body = Whoami, headers(
            ("X-Sessiond-User" = String, description = "Username"),
            ("X-Sessiond-User-Id" = String, description = "Numeric user id"),
            ("X-Sessiond-Session-Id" = String, description = "Public session id"),
        )),
        (status = 401, body = ErrorBody, headers(
            ("X-Sessiond-Login" = String, description = "The sign-in page, coming back to X-Forwarded-Uri"),
        )),
        (status = 503, body = ErrorBody, description = "A store is unreachable"),
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
static WHOAMI_HEADERS: LazyLock<HeaderMap> = LazyLock::new(|| {
    let mut headers = HeaderMap::with_capacity(IDENTITY_HEADERS.len() + 1);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for name in IDENTITY_HEADERS {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(""));
    }
    headers
});

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
    for (name, value) in headers.iter_mut() {
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

#[utoipa::path(
    get, path = "/healthz", tag = "health",
    summary = "Liveness",
    responses((status = 200, body = Status))
)]
async fn healthz() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

#[utoipa::path(
    get, path = "/readyz", tag = "health",
    summary = "Readiness: both stores answer",
    responses((status = 200, body = Status), (status = 503, body = ErrorBody))
)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    state.service.ready().await?;
    Ok(Json(Status {
        status: "ready".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::beside_count;

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
