//! The pages' stylesheet and script, served by sessiond itself: the content security policy
//! lets pages load nothing else. Pages link each with `?v=` and a hash of its content, so a
//! browser keeps one version for a year and fetches the next as soon as the content changes.

use axum::http::Uri;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

pub struct Asset {
    body: &'static str,
    content_type: &'static str,
    /// What pages put in the link's `v=`: a hash of `body`, made when the binary is built.
    pub version: u64,
}

pub const STYLESHEET: Asset = Asset::new(
    include_str!("../../../static/app.css"),
    "text/css; charset=utf-8",
);
pub const SCRIPT: Asset = Asset::new(
    include_str!("../../../static/app.js"),
    "text/javascript; charset=utf-8",
);

/// For the templates, which name constants rather than their fields.
pub const STYLESHEET_VERSION: u64 = STYLESHEET.version;
pub const SCRIPT_VERSION: u64 = SCRIPT.version;

/// How long a link without the current version may be kept.
const UNVERSIONED: &str = "public, max-age=3600";
/// A link with the current version names this content for good.
const VERSIONED: &str = "public, max-age=31536000, immutable";

impl Asset {
    const fn new(body: &'static str, content_type: &'static str) -> Asset {
        Asset {
            body,
            content_type,
            version: fnv1a(body.as_bytes()),
        }
    }

    /// The asset, cached for a year when `uri` asks for its current version.
    pub fn respond(&self, uri: &Uri) -> Response {
        let current = uri
            .query()
            .and_then(|query| query.strip_prefix("v="))
            .is_some_and(|version| version.parse() == Ok(self.version));
        let cache = if current { VERSIONED } else { UNVERSIONED };
        (
            [(CONTENT_TYPE, self.content_type), (CACHE_CONTROL, cache)],
            self.body,
        )
            .into_response()
    }
}

/// 64-bit FNV-1a: small enough to run while compiling, and ample to tell versions apart.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut at = 0;
    while at < bytes.len() {
        hash ^= bytes[at] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        at += 1;
    }
    hash
}
