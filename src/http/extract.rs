//! Extractors: the client's address, the request's credentials, and the signed-in session.

use super::AppState;
use super::cookies::CookieKind;
use super::error::ApiError;
use super::respond::{message_page, redirect, send_renewal};
use crate::domain::api_token;
use crate::domain::audit::Actor;
use crate::domain::session::ClientInfo;
use crate::domain::token::SecretToken;
use crate::service::auth::Credentials;
use crate::service::authenticated::Authenticated;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Longest User-Agent kept; the rest is cut so one client cannot bloat every row.
const MAX_USER_AGENT: usize = 512;

/// The client's address: the socket peer, or `X-Forwarded-For` when the peer is a trusted proxy.
pub fn client_info(state: &AppState, parts: &Parts) -> ClientInfo {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let ip = peer.map(|peer| forwarded_client(state, &parts.headers, peer));
    let user_agent = parts
        .headers
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // `to_str` admits visible ASCII only, so bytes are characters and any cut is clean.
    let user_agent = &user_agent[..user_agent.len().min(MAX_USER_AGENT)];
    ClientInfo {
        ip_address: ip.map(ip_text).unwrap_or_default(),
        user_agent: user_agent.to_owned(),
    }
}

/// `ip.to_string()`, with IPv4 spelled out by hand: every request formats its client's
/// address, and `Display`'s general machinery took a few percent of a session check's time.
fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut text = String::with_capacity(15);
    for (position, octet) in v4.octets().into_iter().enumerate() {
        if position > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text
}

/// Walks `X-Forwarded-For` from the right, past trusted proxies, to the first untrusted hop.
fn forwarded_client(state: &AppState, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    let trusted = |ip: &IpAddr| state.trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let hops: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|hop| hop.trim().parse().ok())
        .collect();
    hops.into_iter()
        .rev()
        .find(|hop| !trusted(hop))
        .unwrap_or(peer)
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(client_info(state, parts))
    }
}

/// The secrets a request carries: a Bearer token wins over the session cookie.
pub fn credentials(state: &AppState, headers: &HeaderMap) -> Credentials {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let [session_cookie, remember_cookie] = state
        .cookies
        .get_each(headers, [CookieKind::Session, CookieKind::Remember]);
    // An admin API token is not a session token: it is checked by `AdminCaller` instead.
    let session_token = bearer
        .or(session_cookie)
        .and_then(SecretToken::parse)
        .filter(|t| !api_token::is_api_token(t));
    Credentials {
        session_token,
        remember_token: remember_cookie.and_then(SecretToken::parse),
    }
}

/// The request's session, set by [`authenticate`] for the routes that want one.
#[derive(Clone)]
pub struct SessionContext(pub Option<Arc<Authenticated>>);

/// Middleware: resolves the request's session once, and when remember-me renewed it, sends
/// the new cookies with whatever the handler answers. A store failure answers 503.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let found = match resolve(&state, &parts).await {
        Ok(found) => found,
        // Fail closed either way; people on a page get a page, not JSON.
        Err(error) if parts.uri.path().starts_with("/api/") => return error.into_response(),
        Err(error) => {
            return message_page(error.status, "Temporarily unavailable", &error.message);
        }
    };
    parts.extensions.insert(SessionContext(found.clone()));
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if let Some(auth) = &found {
        send_renewal(&state, auth, &mut response);
    }
    response
}

/// The session the request's credentials name, if valid; a store failure is an error.
async fn resolve(state: &AppState, parts: &Parts) -> Result<Option<Arc<Authenticated>>, ApiError> {
    let credentials = credentials(state, &parts.headers);
    if credentials.session_token.is_none() && credentials.remember_token.is_none() {
        return Ok(None);
    }
    let client = client_info(state, parts);
    Ok(state.service.authenticate(&credentials, &client).await?)
}

/// The session [`authenticate`] found for this request; none when the route lacks that layer.
fn signed_in(parts: &Parts) -> Option<Arc<Authenticated>> {
    parts
        .extensions
        .get::<SessionContext>()
        .and_then(|context| context.0.clone())
}

/// A signed-in caller of the JSON API; absent → 401 with the JSON error body, and so is a
/// session whose user must change their password first (`password_change_required`, from
/// the user already read: no store call more). Behind the [`authenticate`] layer it takes
/// that layer's answer; on a route without it (the forward-auth check, the hottest path,
/// spared the layer's per-request cost) it asks the service itself, and the handler sends any
/// renewal with [`send_renewal`].
pub struct ApiSession(pub Arc<Authenticated>);

impl FromRequestParts<AppState> for ApiSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = any_api_session(parts, state).await?;
        if auth.user.must_change_password {
            return Err(ApiError::password_change_required());
        }
        Ok(ApiSession(auth))
    }
}

/// A signed-in caller of the JSON API whose password change may still be due: for the few
/// endpoints such a session may use (changing the password, signing out).
pub struct PasswordDueSession(pub Arc<Authenticated>);

impl FromRequestParts<AppState> for PasswordDueSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        any_api_session(parts, state).await.map(PasswordDueSession)
    }
}

/// The caller's session, whatever its user's state; none → 401.
async fn any_api_session(parts: &Parts, state: &AppState) -> Result<Arc<Authenticated>, ApiError> {
    let found = match parts.extensions.get::<SessionContext>() {
        Some(context) => context.0.clone(),
        None => resolve(state, parts).await?,
    };
    found.ok_or_else(ApiError::unauthorized)
}

/// An administrator calling the admin API: by an admin's session, or by an admin API token
/// (`Authorization: Bearer sat_...`). No credentials → 401; a non-admin session → 403.
pub struct AdminCaller {
    /// How the audit trail names the caller (`user:NAME` or `token:NAME`) and where from.
    pub actor: Actor,
    /// The public id of the caller's own session; `None` for an API token.
    pub session_id: Option<String>,
}

impl FromRequestParts<AppState> for AdminCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let bearer = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|t| SecretToken::parse(t.trim()))
            .filter(api_token::is_api_token);
        let client = client_info(state, parts);
        if let Some(secret) = bearer {
            return match state.service.authenticate_api_token(&secret).await? {
                Some(token) => Ok(AdminCaller {
                    actor: Actor::from_client(format!("token:{}", token.name), &client),
                    session_id: None,
                }),
                None => Err(ApiError::unauthorized()),
            };
        }
        let ApiSession(auth) = ApiSession::from_request_parts(parts, state).await?;
        if !auth.user.is_admin {
            return Err(not_admin());
        }
        Ok(AdminCaller {
            actor: Actor::user(&auth.user, &client),
            session_id: Some(auth.session.id.clone()),
        })
    }
}

/// The answer to a signed-in caller of the admin API who is not an administrator.
pub fn not_admin() -> ApiError {
    ApiError::forbidden("administrators only")
}

/// A rejection that can be answered with the JSON error body.
pub trait ExplainedRejection {
    fn body_text(&self) -> String;
}

impl ExplainedRejection for QueryRejection {
    fn body_text(&self) -> String {
        QueryRejection::body_text(self)
    }
}

impl ExplainedRejection for PathRejection {
    fn body_text(&self) -> String {
        PathRejection::body_text(self)
    }
}

/// Wraps `Query` or `Path` so a malformed value answers 400 with the JSON error body.
pub struct Checked<T>(pub T);

impl<T, S> FromRequestParts<S> for Checked<T>
where
    T: FromRequestParts<S>,
    T::Rejection: ExplainedRejection,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        T::from_request_parts(parts, state)
            .await
            .map(Checked)
            .map_err(|rejection| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    rejection.body_text(),
                )
            })
    }
}

/// A signed-in person on a page; absent → 303 to `/login?return_to=<this page>`. One who
/// must change their password first is sent to the page for it.
pub struct PageUser(pub Arc<Authenticated>);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let PasswordDuePageUser(auth) =
            PasswordDuePageUser::from_request_parts(parts, state).await?;
        if auth.user.must_change_password {
            return Err(redirect(CHANGE_PASSWORD_PAGE));
        }
        Ok(PageUser(auth))
    }
}

/// The page where a user changes their password, and must before any other.
pub const CHANGE_PASSWORD_PAGE: &str = "/-/user/password";

/// A signed-in person on the change-password page, whose change may still be due; absent →
/// 303 to the sign-in page.
pub struct PasswordDuePageUser(pub Arc<Authenticated>);

impl FromRequestParts<AppState> for PasswordDuePageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        signed_in(parts)
            .map(PasswordDuePageUser)
            .ok_or_else(|| redirect(&login_url(parts)))
    }
}

/// The sign-in page, coming back here afterwards. A form's POST address is no page to come
/// back to, so those land on the default page instead.
fn login_url(parts: &Parts) -> String {
    match parts.uri.path_and_query() {
        Some(here) if parts.method == Method::GET => sign_in_url(here.as_str()),
        _ => "/login".to_owned(),
    }
}

fn sign_in_url(return_to: &str) -> String {
    format!("/login?return_to={}", query_value(return_to))
}

/// The request a forward-auth proxy is checking, as nginx, Caddy and Traefik name it in
/// `X-Forwarded-Uri` and `X-Forwarded-Method`.
pub struct ForwardedRequest {
    uri: Option<HeaderValue>,
    method: Option<HeaderValue>,
}

impl<S: Send + Sync> FromRequestParts<S> for ForwardedRequest {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ForwardedRequest {
            uri: parts.headers.get("x-forwarded-uri").cloned(),
            method: parts.headers.get("x-forwarded-method").cloned(),
        })
    }
}

impl ForwardedRequest {
    /// The sign-in page, coming back to the forwarded request afterwards when that is a GET
    /// of a page of this site. Proxies cannot URL-encode it themselves, so sessiond does.
    pub fn sign_in_url(&self) -> String {
        let get = self.method.as_ref().is_none_or(|method| method == "GET");
        match self.uri.as_ref().and_then(|uri| uri.to_str().ok()) {
            Some(uri) if get && super::pages::safe_return_to(Some(uri)) == uri => sign_in_url(uri),
            _ => "/login".to_owned(),
        }
    }
}

/// Percent-encodes a query value, leaving `/` readable as RFC 3986 allows.
pub(crate) fn query_value(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{ForwardedRequest, ip_text, query_value};
    use axum::http::HeaderValue;
    use std::net::IpAddr;

    #[test]
    fn return_to_is_encoded_as_one_query_value() {
        assert_eq!(query_value("/-/user/sessions"), "/-/user/sessions");
        assert_eq!(
            query_value("/admin/sessions?user=a b&ip=1"),
            "/admin/sessions%3Fuser%3Da%20b%26ip%3D1"
        );
        assert_eq!(query_value("/é"), "/%C3%A9");
    }

    #[test]
    fn a_forwarded_get_of_a_page_comes_back_after_sign_in() {
        let forwarded = |method: Option<&'static str>, uri: Option<&'static str>| {
            ForwardedRequest {
                uri: uri.map(HeaderValue::from_static),
                method: method.map(HeaderValue::from_static),
            }
            .sign_in_url()
        };
        assert_eq!(
            forwarded(Some("GET"), Some("/app/x?a=1&b=2")),
            "/login?return_to=/app/x%3Fa%3D1%26b%3D2"
        );
        assert_eq!(forwarded(None, Some("/app/")), "/login?return_to=/app/");
        assert_eq!(forwarded(Some("POST"), Some("/app/x")), "/login");
        assert_eq!(forwarded(Some("GET"), Some("//evil.example/")), "/login");
        assert_eq!(forwarded(None, None), "/login");
    }

    #[test]
    fn ip_text_spells_addresses_as_display_does() {
        for address in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.100.9",
            "1.20.3.40",
            "127.0.0.1",
            "::1",
            "::ffff:127.0.0.1",
            "2001:db8::8a2e:370:7334",
        ] {
            let ip: IpAddr = address.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
            assert_eq!(ip_text(ip), address);
        }
    }
}
