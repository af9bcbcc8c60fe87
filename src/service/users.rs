//! The directory's users: creating them, finding them, blocking and unlocking them.

use super::{Service, ServiceError, ServiceResult};
use crate::blocking::run_blocking;
use crate::domain::audit::{Actor, AuditEvent, AuditKind, Outcome};
use crate::domain::password::{self, Password};
use crate::domain::token::SecretToken;
use crate::domain::user::{Email, NewUser, User, UserKind, UserState, Username};
use crate::store::StoreError;

/// A user to create, as an operator described it.
#[derive(Debug)]
pub struct CreateUser {
    pub username: String,
    pub email: String,
    pub name: Option<String>,
    pub is_admin: bool,
    pub is_bot: bool,
    /// `None` generates a random one, returned once.
    pub password: Option<Password>,
}

/// The created user and the generated password, if one was generated.
#[derive(Debug)]
pub struct CreatedUser {
    pub user: User,
    pub generated_password: Option<Password>,
}

/// Argon2 hashing (see [`password::hash`]), ~10 ms of CPU, off the async threads.
pub(super) async fn hash_password(password: Password) -> ServiceResult<String> {
    run_blocking(move || password::hash(&password))
        .await
        .map_err(|e| ServiceError::Store(StoreError::Unavailable(e.to_string())))
}

/// The name of the owner account `serve` creates on a new store.
pub const OWNER_USERNAME: &str = "admin";

impl Service {
    /// Adds a user after checking the names and the password policy.
    pub async fn create_user(
        &self,
        request: CreateUser,
        actor: &Actor,
    ) -> ServiceResult<CreatedUser> {
        self.create_user_with(request, actor, false).await
    }

    async fn create_user_with(
        &self,
        request: CreateUser,
        actor: &Actor,
        is_owner: bool,
    ) -> ServiceResult<CreatedUser> {
        let username = Username::parse(&request.username).map_err(ServiceError::BadInput)?;
        let email = Email::parse(&request.email).map_err(ServiceError::BadInput)?;
        let (password, generated_password) = match request.password {
            Some(password) => (password, None),
            None => {
                let random = Password::new(SecretToken::generate().expose());
                (random.clone(), Some(random))
            }
        };
        password::check_policy(&password, self.policy.password_min_length)
            .map_err(|violation| ServiceError::BadInput(violation.to_string()))?;
        let password_hash = hash_password(password).await?;
        let new = NewUser {
            name: request.name.unwrap_or_else(|| username.to_string()),
            username,
            email,
            kind: UserKind::of(request.is_bot),
            is_admin: request.is_admin || is_owner,
            is_owner,
            password_hash: Some(password_hash),
        };
        let now = self.now();
        let user = self
            .directory
            .create_user(&new, now)
            .await
            .map_err(|error| match error {
                StoreError::Conflict(message) => ServiceError::Conflict(message),
                other => ServiceError::Store(other),
            })?;
        let event = AuditEvent::by(now, AuditKind::UserCreated, actor, Outcome::Success)
            .subject(user.id, user.username.as_str());
        self.audit(event).await?;
        Ok(CreatedUser {
            user,
            generated_password,
        })
    }

    /// On a store without users, creates the owner `admin` and returns its one-time password.
    pub async fn ensure_owner(&self) -> ServiceResult<Option<Password>> {
        if self.directory.count_users().await? > 0 {
            return Ok(None);
        }
        let request = CreateUser {
            username: OWNER_USERNAME.into(),
            email: "admin@localhost".into(),
            name: Some("Administrator".into()),
            is_admin: true,
            is_bot: false,
            password: None,
        };
        let created = self
            .create_user_with(request, &"system".into(), true)
            .await?;
        Ok(created.generated_password)
    }

    /// Finds a user by username, numeric id or e-mail address, in that order.
    pub async fn find_user(&self, reference: &str) -> ServiceResult<User> {
        let reference = reference.trim();
        let not_found = || {
            ServiceError::NotFound(format!(
                "no user {reference:?} (looked up as username, id and e-mail)"
            ))
        };
        // No username or address holds a control character, and PostgreSQL refuses a NUL.
        if reference.chars().any(char::is_control) {
            return Err(not_found());
        }
        if let Some(user) = self.directory.user_by_username(reference).await? {
            return Ok(user);
        }
        if let Ok(id) = reference.parse::<i64>()
            && let Some(user) = self.directory.user_by_id(id).await?
        {
            return Ok(user);
        }
        if reference.contains('@')
            && let Some(user) = self.directory.user_by_email(reference).await?
        {
            return Ok(user);
        }
        Err(not_found())
    }

    /// The users a filter typed as `text` names: the one whose numeric id or e-mail address
    /// it is, else every user whose username begins with it, whatever its case (`ali` finds
    /// `alice`), in username order.
    pub async fn users_matching(&self, text: &str) -> ServiceResult<Vec<User>> {
        let text = text.trim().to_lowercase();
        if text.parse::<i64>().is_ok() || text.contains('@') {
            match self.find_user(&text).await {
                Ok(user) => return Ok(vec![user]),
                Err(ServiceError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        let mut users = self.list_users().await?;
        users.retain(|user| user.username.as_str().starts_with(&text));
        users.sort_by(|a, b| a.username.as_str().cmp(b.username.as_str()));
        Ok(users)
    }

    /// The user with this numeric id; `NotFound` otherwise.
    pub async fn user(&self, id: i64) -> ServiceResult<User> {
        self.directory
            .user_by_id(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no user with id {id}")))
    }

    pub async fn list_users(&self) -> ServiceResult<Vec<User>> {
        Ok(self.directory.list_users().await?)
    }

    /// Blocks a user: no more logins, and every session and remember-me login ends now.
    /// Never the owner, who can always sign in again, nor the acting administrator, who
    /// would lock themselves out.
    pub async fn block_user(&self, user: &User, actor: &Actor) -> ServiceResult<u64> {
        if user.is_owner {
            return Err(ServiceError::OwnerProtected);
        }
        if actor.user_id == Some(user.id) {
            return Err(ServiceError::CannotBlockSelf);
        }
        self.directory
            .set_user_state(user.id, UserState::Blocked)
            .await?;
        self.user_changed(user.id).await?;
        let revoked = self
            .revoke_user_sessions(user.id, user.username.as_str(), None, actor, "user blocked")
            .await?;
        let event = AuditEvent::by(self.now(), AuditKind::UserBlocked, actor, Outcome::Success)
            .subject(user.id, user.username.as_str())
            .count(revoked);
        self.audit(event).await?;
        Ok(revoked)
    }

    pub async fn unblock_user(&self, user: &User, actor: &Actor) -> ServiceResult<()> {
        self.directory
            .set_user_state(user.id, UserState::Active)
            .await?;
        self.user_changed(user.id).await?;
        let event = AuditEvent::by(
            self.now(),
            AuditKind::UserUnblocked,
            actor,
            Outcome::Success,
        )
        .subject(user.id, user.username.as_str());
        self.audit(event).await
    }

    /// Lifts a lockout and resets the failure count.
    pub async fn unlock_user(&self, user: &User, actor: &Actor) -> ServiceResult<()> {
        self.directory.clear_login_failures(user.id).await?;
        self.user_changed(user.id).await?;
        let event = AuditEvent::by(self.now(), AuditKind::UserUnlocked, actor, Outcome::Success)
            .subject(user.id, user.username.as_str());
        self.audit(event).await
    }
}
