//! Passwords: the NIST SP 800-63B aligned policy and Argon2id hashing, both of the NFKC
//! form of what was typed (SP 800-63B 5.1.1.2), so that one password typed in different
//! Unicode forms (composed or decomposed accents, fullwidth letters) is the same password.

use crate::domain::token::constant_time_eq;
use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::collections::HashSet;
use std::fmt;
use std::sync::{LazyLock, Mutex};
use unicode_normalization::UnicodeNormalization;

/// Longest password accepted; SP 800-63B asks for at least 64.
pub const MAX_LENGTH: usize = 128;

/// A password as typed. `Debug` never prints it.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(text: impl Into<String>) -> Self {
        Password(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The NFKC form: what the policy judges and what is hashed.
    fn normalized(&self) -> Password {
        Password(self.0.nfkc().collect())
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Why a new password was refused, worded for the person choosing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error("the password must be at least {0} characters long")]
    TooShort(usize),
    #[error("the password must be at most {MAX_LENGTH} characters long")]
    TooLong,
    #[error("this password is too common; choose one that is not on lists of leaked passwords")]
    TooCommon,
    #[error("the password must not be only spaces or other whitespace")]
    OnlyWhitespace,
    #[error("the password must not contain the username")]
    ContainsUsername,
}

/// Leaked-password list bundled with the binary (Django's 20k list, itself from Royce Williams).
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("../../data/common-passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
});

/// Length in characters, not bytes, and no composition rules; of the NFKC form.
pub fn check_policy(password: &Password, min_length: usize) -> Result<(), PolicyViolation> {
    let password = password.normalized();
    let length = password.0.chars().count();
    if length < min_length {
        return Err(PolicyViolation::TooShort(min_length));
    }
    if length > MAX_LENGTH {
        return Err(PolicyViolation::TooLong);
    }
    if password.0.chars().all(char::is_whitespace) {
        return Err(PolicyViolation::OnlyWhitespace);
    }
    if COMMON_PASSWORDS.contains(password.0.trim().to_lowercase().as_str()) {
        return Err(PolicyViolation::TooCommon);
    }
    Ok(())
}

/// Usernames shorter than this are left out of [`check_policy_for`]'s rule: a one- or
/// two-letter name would rule out too many good passwords for no gain.
const USERNAME_RULE_MIN: usize = 3;

/// [`check_policy`], and for a password a person chose for the account `username`: not
/// containing the username, in any case.
pub fn check_policy_for(
    password: &Password,
    min_length: usize,
    username: &str,
) -> Result<(), PolicyViolation> {
    check_policy(password, min_length)?;
    let typed = password.normalized().0.to_lowercase();
    if username.chars().count() >= USERNAME_RULE_MIN && typed.contains(&username.to_lowercase()) {
        return Err(PolicyViolation::ContainsUsername);
    }
    Ok(())
}

/// Argon2id with OWASP's recommended parameters: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password's NFKC form to a PHC string with a fresh random salt.
pub fn hash(password: &Password) -> String {
    argon2()
        .hash_password(password.normalized().0.as_bytes())
        .expect("Argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// How a typed password matched a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    No,
    Yes,
    /// Only as typed, not in its NFKC form: the hash was made before passwords were
    /// normalised. It should be replaced by [`hash`] of the password.
    YesUnnormalized,
}

/// Checks a typed password against a stored hash: its NFKC form, and when that differs and
/// does not match, the password as typed, as hashes made before normalisation have it.
pub fn check(password: &Password, phc: &str) -> Match {
    let normalized = password.normalized();
    if verify(&normalized, phc) {
        Match::Yes
    } else if normalized.0 != password.0 && verify(password, phc) {
        Match::YesUnnormalized
    } else {
        Match::No
    }
}

/// Argon2 working memories (19 MiB each at our parameters) kept between verifications, at
/// most `MAX_SPARE_MEMORIES`. A fresh one costs a page fault for each of its 4 KiB pages,
/// about 2 ms of every login; see docs/benchmarks.md.
static SPARE_MEMORIES: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
const MAX_SPARE_MEMORIES: usize = 4;

/// Checks the password's bytes, as they are, against a PHC string in constant time; a
/// malformed stored hash never matches. Works like `PasswordVerifier::verify_password`, on
/// reused memory.
fn verify(password: &Password, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm.as_str());
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&parsed))
    else {
        return false;
    };
    let blocks = params.block_count();
    let spare = SPARE_MEMORIES.lock().ok().and_then(|mut spare| spare.pop());
    let mut memory = spare
        .filter(|memory| memory.len() == blocks)
        .unwrap_or_else(|| vec![Block::new(); blocks]);
    let mut computed = vec![0u8; expected.len()];
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.0.as_bytes(),
        salt,
        &mut computed,
        &mut memory,
    );
    if let Ok(mut spare) = SPARE_MEMORIES.lock()
        && spare.len() < MAX_SPARE_MEMORIES
    {
        spare.push(memory);
    }
    hashed.is_ok() && constant_time_eq(&computed, expected.as_bytes())
}

/// Whether `phc` is an Argon2id PHC string, as an imported password hash must be.
pub fn is_argon2id_hash(phc: &str) -> bool {
    phc.starts_with("$argon2id$") && PasswordHash::new(phc).is_ok()
}

/// A hash of a random password, verified against when the account does not exist so that
/// an unknown login costs the same time as a wrong password.
pub static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = crate::domain::token::SecretToken::generate();
    hash(&Password::new(random.expose()))
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chosen_password_must_not_contain_the_username() {
        let check = |p: &str, user: &str| check_policy_for(&Password::new(p), 12, user);
        assert_eq!(
            check("my-Alice-pass-2024", "alice"),
            Err(PolicyViolation::ContainsUsername)
        );
        assert_eq!(check("my-alice-pass-2024", "bob"), Ok(()));
        assert_eq!(check("ab-cd-ef-gh-ij-kl", "ab"), Ok(()));
        assert_eq!(check("short", "bob"), Err(PolicyViolation::TooShort(12)));
    }

    #[test]
    fn policy() {
        let check = |p: &str| check_policy(&Password::new(p), 12);
        assert_eq!(check("short"), Err(PolicyViolation::TooShort(12)));
        assert_eq!(check(&"x".repeat(129)), Err(PolicyViolation::TooLong));
        assert!(check(&"é".repeat(64)).is_ok());
        assert_eq!(check("password1234"), Err(PolicyViolation::TooCommon));
        assert!(check("correct horse battery staple").is_ok());
        assert_eq!(check(&" ".repeat(12)), Err(PolicyViolation::OnlyWhitespace));
        assert_eq!(
            check("\t\n\u{a0}\u{3000}        "),
            Err(PolicyViolation::OnlyWhitespace)
        );
        // Judged in NFKC form: fullwidth letters are the common password they spell.
        assert_eq!(
            check("ｐａｓｓｗｏｒｄ１２３４"),
            Err(PolicyViolation::TooCommon)
        );
    }

    #[test]
    fn unicode_forms_match_and_unnormalized_hashes_are_told() {
        let composed = Password::new("Am\u{e9}lie cr\u{e8}me br\u{fb}l\u{e9}e");
        let decomposed = Password::new("Ame\u{301}lie cre\u{300}me bru\u{302}le\u{301}e");
        let phc = hash(&decomposed);
        assert_eq!(check(&composed, &phc), Match::Yes);
        assert_eq!(check(&decomposed, &phc), Match::Yes);
        assert_eq!(
            check(&Password::new("Amelie creme brulee"), &phc),
            Match::No
        );
        let unnormalized = argon2()
            .hash_password(decomposed.expose().as_bytes())
            .unwrap()
            .to_string();
        assert_eq!(check(&decomposed, &unnormalized), Match::YesUnnormalized);
        assert_eq!(check(&composed, &unnormalized), Match::No);
    }

    #[test]
    fn hash_and_verify() {
        let phc = hash(&Password::new("correct horse battery staple"));
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&Password::new("correct horse battery staple"), &phc));
        assert!(!verify(&Password::new("wrong horse battery staple"), &phc));
        assert!(!verify(&Password::new("x"), "not a hash"));
        // Other parameters (another memory size) verify too, and spare memory of the wrong
        // size is not used for them.
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        )
        .hash_password(b"other parameters")
        .unwrap()
        .to_string();
        assert!(verify(&Password::new("other parameters"), &small));
        assert!(!verify(&Password::new("other parameter"), &small));
        assert!(verify(&Password::new("correct horse battery staple"), &phc));
        assert!(is_argon2id_hash(&phc));
        assert!(!is_argon2id_hash("$argon2id$nonsense") && !is_argon2id_hash("plain"));
        assert!(!format!("{:?}", Password::new("hunter2")).contains("hunter2"));
    }
}
