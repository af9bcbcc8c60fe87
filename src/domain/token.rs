//! Secrets that authenticate a browser: session tokens, remember-me tokens, API tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// Random bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

/// A bearer secret (256 bits, base64url). `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn generate() -> Self {
        SecretToken(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
    }

    /// Accepts what a client sent; anything that is not a plausible token is refused early.
    pub fn parse(text: &str) -> Option<Self> {
        let plausible = (20..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        plausible.then(|| SecretToken(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken([redacted])")
    }
}

/// SHA-256 of a token: the only form in which tokens are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
            let pair = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(TokenHash(out))
    }
}

/// Compares two secrets without leaking through timing where they first differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// What every public id begins with: it names the kind of id where it is pasted, and no id
/// begins with `-`, which a command line would read as a flag (a bare base64url id does one
/// time in 64). Ids made before it are still accepted wherever an id is taken.
pub const PUBLIC_ID_PREFIX: &str = "ses_";

/// A session's public identifier: random, unrelated to its token, safe to show in URLs and
/// to give on a command line.
pub fn new_public_id() -> String {
    let mut id = String::with_capacity(PUBLIC_ID_PREFIX.len() + 22);
    id.push_str(PUBLIC_ID_PREFIX);
    URL_SAFE_NO_PAD.encode_string(random_bytes::<16>(), &mut id);
    id
}

/// Whether `text` could be a session's public id, of this release or an earlier one: short
/// base64url text. Anything else names no session, and is not worth a store's time (nor, with
/// a NUL, an error from one).
pub fn could_be_public_id(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_are_short_base64url_text() {
        assert!(could_be_public_id(&new_public_id()));
        assert!(could_be_public_id("-Ab3_x"));
        for not_an_id in ["", "a\0b", "a b", "a/b", "%00", &"a".repeat(65)] {
            assert!(!could_be_public_id(not_an_id), "{not_an_id:?}");
        }
    }

    #[test]
    fn tokens_are_long_unique_and_redacted() {
        let a = SecretToken::generate();
        let b = SecretToken::generate();
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), 43);
        assert!(!format!("{a:?}").contains(a.expose()));
        assert_eq!(SecretToken::parse(a.expose()), Some(a.clone()));
        assert_eq!(SecretToken::parse("x'; drop table"), None);
    }

    #[test]
    fn public_ids_are_prefixed_random_and_never_look_like_a_flag() {
        let ids: std::collections::HashSet<String> = (0..256).map(|_| new_public_id()).collect();
        assert_eq!(ids.len(), 256);
        for id in &ids {
            assert!(id.starts_with(PUBLIC_ID_PREFIX), "{id}");
            assert_eq!(id.len(), PUBLIC_ID_PREFIX.len() + 22, "{id}");
        }
    }

    #[test]
    fn hash_round_trips_through_hex() {
        let hash = SecretToken::generate().hash();
        assert_eq!(TokenHash::from_hex(&hash.to_hex()), Some(hash));
    }
}
