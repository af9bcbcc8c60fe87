//! The security headers every answer carries, and `Cache-Control: no-store` on the JSON API.
//! The layers add a header only when the handler has not: the session check's answer carries
//! them prebuilt ([`SECURITY_HEADERS`]), so on that hot path each layer is one lookup.

use axum::Router;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

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

/// `router` with `Cache-Control: no-store` on each of its answers.
pub fn not_stored<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(SetResponseHeaderLayer::if_not_present(
        CACHE_CONTROL,
        NO_STORE,
    ))
}

/// `router` with [`SECURITY_HEADERS`] on every answer, and HSTS when served over `https`.
pub fn secured(mut router: Router, https: bool) -> Router {
    for (name, value) in SECURITY_HEADERS {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    if https {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            STRICT_TRANSPORT_SECURITY,
            HSTS,
        ));
    }
    router
}
