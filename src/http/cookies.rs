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
    /// The cookie's name over http, then over https (where `__Host-` binds it to the host).
    fn names(self) -> (&'static str, &'static str) {
        match self {
            CookieKind::Session => ("sessiond_session", "__Host-sessiond_session"),
            CookieKind::Remember => ("sessiond_remember", "__Host-sessiond_remember"),
            CookieKind::Csrf => ("sessiond_csrf", "__Host-sessiond_csrf"),
        }
    }
}

impl CookieConfig {
    pub fn for_public_url(public_url: &str) -> Self {
        CookieConfig {
            secure: public_url.starts_with("https://"),
        }
    }

    pub fn name(&self, kind: CookieKind) -> &'static str {
        let (plain, host_bound) = kind.names();
        if self.secure { host_bound } else { plain }
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

    /// The value of one of our cookies in a request, if present. Every session check reads
    /// it: a header that is not UTF-8 is skipped, but not checked byte by byte for visible
    /// ASCII first (the token is, by `SecretToken::parse`).
    pub fn get<'a>(&self, headers: &'a HeaderMap, kind: CookieKind) -> Option<&'a str> {
        let name = self.name(kind);
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|value| std::str::from_utf8(value.as_bytes()).ok())
            .flat_map(|value| value.split(';'))
            .find_map(|pair| {
                let value = pair.trim_start().strip_prefix(name)?.strip_prefix('=')?;
                Some(value.trim_end())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

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
        assert_eq!(cookies.get(&headers, CookieKind::Session), Some("tok"));
        assert_eq!(cookies.get(&headers, CookieKind::Remember), None);
    }

    #[test]
    fn reads_only_the_exact_name_in_any_cookie_header() {
        let cookies = CookieConfig::for_public_url("http://localhost");
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_bytes(b"x=caf\xc3\xa9; sessiond_session_old=no;sessiond_sessionx=no")
                .unwrap(),
        );
        headers.append(
            COOKIE,
            HeaderValue::from_bytes(b"sessiond_session=\xff").unwrap(),
        );
        headers.append(COOKIE, "  sessiond_session=tok  ; other=1".parse().unwrap());
        assert_eq!(cookies.get(&headers, CookieKind::Session), Some("tok"));
        // Over https only the `__Host-` name counts, which a subdomain cannot set.
        let secure = CookieConfig::for_public_url("https://example.com");
        assert_eq!(secure.get(&headers, CookieKind::Session), None);
        headers.append(COOKIE, "__Host-sessiond_session=host".parse().unwrap());
        assert_eq!(secure.get(&headers, CookieKind::Session), Some("host"));
    }
}
