//! The JSON API: login, logout, the forward-auth check, health; self-service in submodules.

mod user_sessions;

use super::AppState;
use super::cookies::CookieKind;
use super::error::ApiError;
use super::extract::{ApiSession, authenticate};
use crate::domain::password::Password;
use crate::domain::session::{ClientInfo, Session};
use crate::domain::time::Timestamp;
use crate::domain::user::User;
use crate::domain::user_agent::DeviceType;
use crate::service::auth::{LoginRequest, NewSession};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub fn routes(state: AppState) -> Router<AppState> {
    let signed_in = Router::new()
        .route("/api/logout", post(logout))
        .route("/api/session", get(whoami))
        .merge(user_sessions::routes())
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    Router::new()
        .route("/api/login", post(login))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(signed_in)
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
#[derive(Debug, Serialize)]
pub struct SessionView {
    pub id: String,
    pub user_id: i64,
    pub username: String,
    pub ip_address: String,
    pub user_agent: String,
    pub browser: String,
    pub os: String,
    pub device_type: DeviceType,
    pub created_at: Timestamp,
    pub last_active_at: Timestamp,
    pub expires_at: Timestamp,
    pub remember_me: bool,
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
#[derive(Debug, Serialize)]
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

#[derive(Debug, Deserialize)]
struct LoginBody {
    login: String,
    password: String,
    #[serde(default)]
    remember_me: bool,
}

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
    let body = json!({
        "user": UserView::from(&new.user),
        "session": SessionView::new(&new.session, None),
        "token": new.token.expose(),
    });
    Ok((StatusCode::CREATED, AppendHeaders(cookies), Json(body)).into_response())
}

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

/// Forward-auth and whoami: 200 with identity headers, or 401.
async fn whoami(ApiSession(auth): ApiSession) -> Response {
    let headers = [
        ("x-sessiond-user", auth.user.username.to_string()),
        ("x-sessiond-user-id", auth.user.id.to_string()),
        ("x-sessiond-session-id", auth.session.id.clone()),
    ]
    .map(|(name, value)| {
        (
            HeaderName::from_static(name),
            HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("")),
        )
    });
    let body = json!({
        "user": UserView::from(&auth.user),
        "session": SessionView::new(&auth.session, None),
    });
    (headers, Json(body)).into_response()
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.service.ready().await?;
    Ok(Json(json!({"status": "ready"})))
}
