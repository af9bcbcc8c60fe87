//! People and bots in the directory, and the names that identify them.

use super::time::Timestamp;
use serde::Serialize;
use std::fmt;

/// A login name: 1–64 characters of `a-z 0-9 . _ -`, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, String> {
        let valid_chars = text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
        let starts_well = text
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if (1..=64).contains(&text.len()) && valid_chars && starts_well {
            Ok(Username(text.to_owned()))
        } else {
            Err(format!(
                "invalid username {text:?}: use 1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // pad, not write_str, so tables can align it with `{:<20}`.
        f.pad(&self.0)
    }
}

/// An e-mail address, checked only as far as it matters here: one `@`, something either side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        match text.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && text.len() <= 254
                    && !text.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Ok(Email(text.to_lowercase()))
            }
            _ => Err(format!("invalid e-mail address {text:?}")),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserState {
    Active,
    Blocked,
}

impl UserState {
    pub fn as_str(self) -> &'static str {
        match self {
            UserState::Active => "active",
            UserState::Blocked => "blocked",
        }
    }

    pub fn parse(text: &str) -> UserState {
        if text == "blocked" {
            UserState::Blocked
        } else {
            UserState::Active
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserKind {
    Human,
    Bot,
}

impl UserKind {
    pub fn of(is_bot: bool) -> UserKind {
        if is_bot {
            UserKind::Bot
        } else {
            UserKind::Human
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Human => "human",
            UserKind::Bot => "bot",
        }
    }

    pub fn parse(text: &str) -> UserKind {
        if text == "bot" {
            UserKind::Bot
        } else {
            UserKind::Human
        }
    }
}

/// A directory entry. The password hash stays out of every serialised form.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: Username,
    pub name: String,
    pub email: Email,
    pub state: UserState,
    pub kind: UserKind,
    pub is_admin: bool,
    /// The first administrator: never refused by the session limit.
    pub is_owner: bool,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub failed_logins: u32,
    pub locked_until: Option<Timestamp>,
    pub created_at: Timestamp,
    /// Set by a password reset: until the user chooses a new password, their sessions reach
    /// nothing but the change-password step.
    pub must_change_password: bool,
}

impl User {
    pub fn is_locked(&self, now: Timestamp) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }
}

/// What is needed to add a user to the directory.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub name: String,
    pub email: Email,
    pub kind: UserKind,
    pub is_admin: bool,
    pub is_owner: bool,
    pub password_hash: Option<String>,
    /// A password chosen by somebody else: the user must change it at their first sign-in.
    pub must_change_password: bool,
}

/// What an administrator may change of a user; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    pub email: Option<Email>,
    pub name: Option<String>,
    pub is_admin: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert!(Username::parse("alice").is_ok());
        assert!(Username::parse("a.b_c-1").is_ok());
        for bad in ["", "Alice", "-x", "a b", "ä", &"a".repeat(65)] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" A@Example.com ").unwrap().as_str(),
            "a@example.com"
        );
        for bad in ["", "a", "@b", "a@", "a@b@c", "a b@c"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
