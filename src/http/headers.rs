//! The security headers every answer carries, and `Cache-Control: no-store` on the JSON API.
//! [`Secured`] adds a header only when the handler has not: the session check's answer
//! carries them prebuilt ([`SECURITY_HEADERS`]), so on that hot path each is one lookup.

use axum::Router;
use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::future::RouteFuture;
use futures_util::FutureExt;
use futures_util::future::Map;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower_service::Service;

/// Pages load their one script and one stylesheet from sessiond itself and nothing else; no
/// inline script, style or event handler runs, no other site frames a page or receives a form.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// The headers of every answer, whatever the public URL.
pub const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    (
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE),
    ),
    (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
    // Not `no-referrer`: with it, browsers send `Origin: null` on the pages' own form posts,
    // which the Origin check then refuses.
    (REFERRER_POLICY, HeaderValue::from_static("same-origin")),
    (X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
];

/// Sent when `server.public_url` is https: browsers then reach the host over https only.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000");

/// What every JSON API answer says to caches: the login answer carries a token, the others
/// personal data.
pub const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// The router with [`SECURITY_HEADERS`] on every answer, HSTS when served over https, and
/// [`NO_STORE`] on every `/api/` answer, each only where the handler has not set it. One
/// wrapper around the whole router, whose future is the router's own with a function
/// applied, rather than a layer per header on every route, each boxing its future: those
/// cost the session check and `/healthz` microseconds per request.
#[derive(Clone)]
pub struct Secured {
    router: Router,
    https: bool,
}

impl Secured {
    pub fn new(router: Router, https: bool) -> Secured {
        Secured { router, https }
    }
}

type Answer = Result<Response, Infallible>;

impl Service<Request> for Secured {
    type Response = Response;
    type Error = Infallible;
    type Future = Map<RouteFuture<Infallible>, fn(Answer) -> Answer>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Service::<Request>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let api = request.uri().path().starts_with("/api/");
        let finish: fn(Answer) -> Answer = match (api, self.https) {
            (false, false) => |answer| answer.map(|r| with(r, false, false)),
            (false, true) => |answer| answer.map(|r| with(r, false, true)),
            (true, false) => |answer| answer.map(|r| with(r, true, false)),
            (true, true) => |answer| answer.map(|r| with(r, true, true)),
        };
        self.router.call(request).map(finish)
    }
}

/// `response` with the headers [`Secured`] promises.
fn with(mut response: Response, api: bool, https: bool) -> Response {
    let headers = response.headers_mut();
    for (name, value) in &SECURITY_HEADERS {
        set_if_absent(headers, name, value);
    }
    if https {
        set_if_absent(headers, &STRICT_TRANSPORT_SECURITY, &HSTS);
    }
    if api {
        set_if_absent(headers, &CACHE_CONTROL, &NO_STORE);
    }
    response
}

fn set_if_absent(headers: &mut HeaderMap, name: &HeaderName, value: &HeaderValue) {
    if !headers.contains_key(name) {
        headers.insert(name.clone(), value.clone());
    }
}
