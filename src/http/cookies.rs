//! Cookie names and attributes per SPEC: HttpOnly, SameSite=Lax, Path=/, and on https
//! `Secure` with the `__Host-` prefix.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct CookieConfig {
    secure: bool,
}

/// Which of our cookies.
#[derive(Debug, Clone, Copy)]
pub enum CookieKind {
    Session,
    Remember,
    Csrf,
}

impl CookieKind {
    fn base_name(self) -> &'static str {
        match self {
            CookieKind::Session => "sessiond_session",
            CookieKind::Remember => "sessiond_remember",
            CookieKind::Csrf => "sessiond_csrf",
        }
    }
}

impl CookieConfig {
    pub fn for_public_url(public_url: &str) -> Self {
        CookieConfig {
            secure: public_url.starts_with("https://"),
        }
    }

    pub fn name(&self, kind: CookieKind) -> String {
        if self.secure {
            format!("__Host-{}", kind.base_name())
        } else {
            kind.base_name().to_owned()
        }
    }

    /// A `Set-Cookie` value; `max_age` of `None` makes a browser-session cookie.
    pub fn set(&self, kind: CookieKind, value: &str, max_age: Option<Duration>) -> String {
        let mut cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax",
            self.name(kind)
        );
        if let Some(age) = max_age {
            cookie.push_str(&format!("; Max-Age={}", age.as_secs()));
        }
        if self.secure {
            cookie.push_str("; Secure");
        }
        cookie
    }

    /// A `Set-Cookie` value that deletes the cookie.
    pub fn clear(&self, kind: CookieKind) -> String {
        self.set(kind, "", Some(Duration::ZERO))
    }

    /// The value of one of our cookies in a request, if present.
    pub fn get(&self, headers: &HeaderMap, kind: CookieKind) -> Option<String> {
        let name = self.name(kind);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_uses_host_prefix_and_secure() {
        let cookies = CookieConfig::for_public_url("https://example.com");
        let set = cookies.set(CookieKind::Session, "abc", None);
        assert_eq!(
            set,
            "__Host-sessiond_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let plain = CookieConfig::for_public_url("http://localhost:8080");
        assert_eq!(
            plain.set(CookieKind::Remember, "x", Some(Duration::from_secs(5))),
            "sessiond_remember=x; Path=/; HttpOnly; SameSite=Lax; Max-Age=5"
        );
    }

    #[test]
    fn reads_a_cookie_among_others() {
        let cookies = CookieConfig::for_public_url("http://localhost");
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, "a=1; sessiond_session=tok; b=2".parse().unwrap());
        assert_eq!(
            cookies.get(&headers, CookieKind::Session).as_deref(),
            Some("tok")
        );
        assert_eq!(cookies.get(&headers, CookieKind::Remember), None);
    }
}
