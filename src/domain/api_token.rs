//! Admin API tokens: long-lived bearer secrets for scripts, stored hashed.

use super::time::Timestamp;
use super::token::SecretToken;
use serde::Serialize;

/// Prefix that makes an admin API token recognisable (in a leaked paste, or by the server).
pub const PREFIX: &str = "sat_";

/// A token as listed; the secret itself is shown once at creation and never stored.
#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A new random admin API token: the prefix, then 256 random bits.
pub fn generate() -> SecretToken {
    let random = SecretToken::generate();
    SecretToken::parse(&format!("{PREFIX}{}", random.expose())).expect("a well-formed token")
}

/// Whether a presented bearer secret is meant as an admin API token.
pub fn is_api_token(token: &SecretToken) -> bool {
    token.expose().starts_with(PREFIX)
}
