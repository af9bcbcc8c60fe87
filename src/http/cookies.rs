//! Cookie names and attributes as the README gives them: HttpOnly, SameSite=Lax (Strict for
//! the one-time notice, which only our own redirects carry), Path=/, and on https `Secure`
//! with the `__Host-` prefix.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use memchr::memmem::Finder;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct CookieConfig {
    secure: bool,
    /// Finds the start every name of ours shares.
    stem: Finder<'static>,
}

/// Which of our cookies.
#[derive(Debug, Clone, Copy)]
pub enum CookieKind {
    Session,
    Remember,
    Csrf,
    Flash,
    /// The language picked on a page, kept across sign-out.
    Language,
}

impl CookieKind {
    /// The cookie's name over http, then over https (where `__Host-` binds it to the host).
    fn names(self) -> (&'static str, &'static str) {
        match self {
            CookieKind::Session => ("sessiond_session", "__Host-sessiond_session"),
            CookieKind::Remember => ("sessiond_remember", "__Host-sessiond_remember"),
            CookieKind::Csrf => ("sessiond_csrf", "__Host-sessiond_csrf"),
            CookieKind::Flash => ("sessiond_flash", "__Host-sessiond_flash"),
            CookieKind::Language => ("sessiond_lang", "__Host-sessiond_lang"),
        }
    }

    fn same_site(self) -> &'static str {
        match self {
            CookieKind::Flash => "Strict",
            CookieKind::Session
            | CookieKind::Remember
            | CookieKind::Csrf
            | CookieKind::Language => "Lax",
        }
    }
}

impl CookieConfig {
    pub fn for_public_url(public_url: &str) -> Self {
        let secure = public_url.starts_with("https://");
        let stem = Finder::new(if secure {
            "__Host-sessiond_"
        } else {
            "sessiond_"
        });
        CookieConfig { secure, stem }
    }

    pub fn name(&self, kind: CookieKind) -> &'static str {
        let (plain, host_bound) = kind.names();
        if self.secure { host_bound } else { plain }
    }

    /// A `Set-Cookie` value; `max_age` of `None` makes a browser-session cookie.
    pub fn set(&self, kind: CookieKind, value: &str, max_age: Option<Duration>) -> String {
        let mut cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite={}",
            self.name(kind),
            kind.same_site()
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
    pub fn get<'a>(&self, headers: &'a HeaderMap, kind: CookieKind) -> Option<&'a str> {
        let [value] = self.get_each(headers, [kind]);
        value
    }

    /// The values of several of our cookies. Every session check wants two (session,
    /// remember-me), and browsers send every cookie of the site, often kilobytes of them:
    /// one search for the stem all our names share, a vector at a time, finds both, instead
    /// of the header being split and compared pair by pair. The first pair of a name with a
    /// UTF-8 value counts (the token's own parse then wants visible ASCII); bytes are
    /// compared as they are, so a stranger's cookie in another encoding does not hide ours.
    pub fn get_each<'a, const N: usize>(
        &self,
        headers: &'a HeaderMap,
        kinds: [CookieKind; N],
    ) -> [Option<&'a str>; N] {
        let names = kinds.map(|kind| self.name(kind).as_bytes());
        let mut values = [None; N];
        for header in headers.get_all(COOKIE) {
            let header = header.as_bytes();
            let mut searched = 0;
            while let Some(found) = self.stem.find(&header[searched..]) {
                let start = searched + found;
                searched = start + self.stem.needle().len();
                if !opens_pair(header, start) {
                    continue;
                }
                for (name, value) in names.iter().zip(values.iter_mut()) {
                    if value.is_none() {
                        *value = value_of(&header[start..], name);
                    }
                }
                if values.iter().all(Option::is_some) {
                    return values;
                }
            }
        }
        values
    }
}

/// Whether `header[start..]` begins a `name=value` pair rather than sitting inside a value.
fn opens_pair(header: &[u8], start: usize) -> bool {
    header[..start]
        .trim_ascii_end()
        .last()
        .is_none_or(|&byte| byte == b';')
}

/// The value of the pair `pairs` begins with, if it is named `name` and the value is UTF-8.
fn value_of<'a>(pairs: &'a [u8], name: &[u8]) -> Option<&'a str> {
    let rest = pairs.strip_prefix(name)?.strip_prefix(b"=")?;
    let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
    std::str::from_utf8(rest[..end].trim_ascii_end()).ok()
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
        assert_eq!(
            cookies.clear(CookieKind::Flash),
            "__Host-sessiond_flash=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
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

    #[test]
    fn every_name_starts_with_the_stem_searched_for() {
        for cookies in ["http://localhost", "https://example.com"].map(CookieConfig::for_public_url)
        {
            for kind in [
                CookieKind::Session,
                CookieKind::Remember,
                CookieKind::Csrf,
                CookieKind::Flash,
                CookieKind::Language,
            ] {
                assert!(
                    cookies
                        .name(kind)
                        .as_bytes()
                        .starts_with(cookies.stem.needle())
                );
            }
        }
    }

    #[test]
    fn finds_ours_among_a_browsers_cookies_and_past_a_strangers_bytes() {
        let cookies = CookieConfig::for_public_url("http://localhost");
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_bytes(
                b"theme=\xff\xfe; note=xsessiond_session=in-a-value; sessiond_remember=rem;\
                  sessiond_session = spaced;sessiond_session=tok",
            )
            .unwrap(),
        );
        let kinds = [CookieKind::Session, CookieKind::Remember, CookieKind::Csrf];
        assert_eq!(
            cookies.get_each(&headers, kinds),
            [Some("tok"), Some("rem"), None]
        );
        headers.insert(COOKIE, "sessiond_session=".parse().unwrap());
        assert_eq!(cookies.get(&headers, CookieKind::Session), Some(""));
    }
}
