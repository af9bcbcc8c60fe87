//! The directory's users: creating, finding, editing, blocking, unlocking and deleting them,
//! and resetting their passwords.

use super::revoke::Ending;
use super::{Service, ServiceError, ServiceResult};
use crate::blocking::run_blocking;
use crate::domain::audit::{Actor, AuditEvent, AuditKind, Outcome};
use crate::domain::password::{self, Password};
use crate::domain::session::EndReason;
use crate::domain::token::SecretToken;
use crate::domain::user::{Email, NewUser, User, UserKind, UserState, UserUpdate, Username};
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
    /// Send the user to the change-password step at their first sign-in.
    pub must_change_password: bool,
    /// Give a new user the username of a deleted one, whom the audit trail names by it.
    pub reuse_deleted_username: bool,
}

/// A user's new password after a reset: the generated one, if it was generated, and how
/// many sessions the reset ended.
#[derive(Debug)]
pub struct PasswordReset {
    pub generated_password: Option<Password>,
    pub revoked: u64,
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
        if !request.reuse_deleted_username
            && self
                .directory
                .username_was_deleted(username.as_str())
                .await?
        {
            return Err(ServiceError::DeletedUsername(username.to_string()));
        }
        let (password_hash, generated_password) =
            self.new_password_hash(request.password, &username).await?;
        let new = NewUser {
            name: request.name.unwrap_or_else(|| username.to_string()),
            username,
            email,
            kind: UserKind::of(request.is_bot),
            is_admin: request.is_admin || is_owner,
            is_owner,
            password_hash: Some(password_hash),
            must_change_password: request.must_change_password,
        };
        let now = self.now();
        let user = self
            .directory
            .create_user(&new, now)
            .await
            .map_err(conflict_as_such)?;
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
            must_change_password: false,
            reuse_deleted_username: false,
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

    /// The hash of `chosen` after the policy (for the account `username`), or of a random
    /// password, returned too.
    async fn new_password_hash(
        &self,
        chosen: Option<Password>,
        username: &Username,
    ) -> ServiceResult<(String, Option<Password>)> {
        let (password, generated) = match chosen {
            Some(password) => {
                password::check_policy_for(
                    &password,
                    self.policy.password_min_length,
                    username.as_str(),
                )
                .map_err(|violation| ServiceError::BadInput(violation.to_string()))?;
                (password, None)
            }
            None => {
                let random = Password::new(SecretToken::generate().expose());
                (random.clone(), Some(random))
            }
        };
        Ok((hash_password(password).await?, generated))
    }

    /// Users whose username, e-mail address or name starts with `search` (any case), or all
    /// of them when it is blank; by id.
    pub async fn search_users(&self, search: Option<&str>) -> ServiceResult<Vec<User>> {
        match search.map(str::trim).filter(|s| !s.is_empty()) {
            // No username, address or name holds a control character, and PostgreSQL
            // cannot be asked about text that holds NUL.
            Some(s) if s.chars().any(char::is_control) => Ok(Vec::new()),
            Some(s) => Ok(self.directory.search_users(s).await?),
            None => Ok(self.directory.list_users().await?),
        }
    }

    /// Changes a user's e-mail address, name or admin flag. The owner stays an administrator.
    pub async fn update_user(
        &self,
        user: &User,
        update: UserUpdate,
        actor: &Actor,
    ) -> ServiceResult<User> {
        if user.is_owner && update.is_admin == Some(false) {
            return Err(ServiceError::OwnerProtected("demoted"));
        }
        if let Some(name) = &update.name
            && (name.trim().is_empty()
                || name.chars().count() > 200
                || name.chars().any(char::is_control))
        {
            return Err(ServiceError::BadInput(
                "the name must be 1 to 200 characters, without control characters".into(),
            ));
        }
        let updated = self
            .directory
            .update_user(user.id, &update)
            .await
            .map_err(conflict_as_such)?
            .ok_or_else(|| ServiceError::NotFound(format!("no user with id {}", user.id)))?;
        self.user_changed(user.id).await?;
        let changes = changes(user, &updated);
        let event = AuditEvent::by(self.now(), AuditKind::UserUpdated, actor, Outcome::Success)
            .subject(user.id, user.username.as_str())
            .reason(if changes.is_empty() {
                "nothing changed".to_owned()
            } else {
                changes.join(", ")
            });
        self.audit(event).await?;
        Ok(updated)
    }

    /// Gives a user a new password (`None`: a random one, returned) that they must change at
    /// their next sign-in, and ends every session and remember-me login of theirs. Any
    /// lockout is lifted: this is the way back into a locked or forgotten account, the
    /// owner's included.
    pub async fn reset_password(
        &self,
        user: &User,
        password: Option<Password>,
        actor: &Actor,
    ) -> ServiceResult<PasswordReset> {
        let (hash, generated_password) = self.new_password_hash(password, &user.username).await?;
        self.directory
            .set_password_hash(user.id, &hash, true)
            .await?;
        self.directory.clear_login_failures(user.id).await?;
        self.user_changed(user.id).await?;
        let ending = Ending {
            why: EndReason::PasswordReset,
            reason: "password reset",
        };
        let revoked = self
            .revoke_user_sessions(user.id, user.username.as_str(), None, actor, ending)
            .await?;
        let event = AuditEvent::by(
            self.now(),
            AuditKind::PasswordReset,
            actor,
            Outcome::Success,
        )
        .subject(user.id, user.username.as_str())
        .count(revoked);
        self.audit(event).await?;
        Ok(PasswordReset {
            generated_password,
            revoked,
        })
    }

    /// Deletes a user after ending their sessions and remember-me logins; the audit trail
    /// keeps their events and username. Never the owner, nor the acting administrator.
    pub async fn delete_user(&self, user: &User, actor: &Actor) -> ServiceResult<u64> {
        if user.is_owner {
            return Err(ServiceError::OwnerProtected("deleted"));
        }
        if actor.user_id == Some(user.id) {
            return Err(ServiceError::CannotDeleteSelf);
        }
        let ending = Ending {
            why: EndReason::UserDeleted,
            reason: "user deleted",
        };
        let revoked = self
            .revoke_user_sessions(user.id, user.username.as_str(), None, actor, ending)
            .await?;
        let now = self.now();
        self.directory
            .delete_user(user.id, now)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("no user with id {}", user.id)))?;
        self.user_changed(user.id).await?;
        let event = AuditEvent::by(now, AuditKind::UserDeleted, actor, Outcome::Success)
            .subject(user.id, user.username.as_str())
            .count(revoked);
        self.audit(event).await?;
        Ok(revoked)
    }

    /// Blocks a user: no more logins, and every session and remember-me login ends now.
    /// Never the owner, who can always sign in again, nor the acting administrator, who
    /// would lock themselves out.
    pub async fn block_user(&self, user: &User, actor: &Actor) -> ServiceResult<u64> {
        if user.is_owner {
            return Err(ServiceError::OwnerProtected("blocked"));
        }
        if actor.user_id == Some(user.id) {
            return Err(ServiceError::CannotBlockSelf);
        }
        self.directory
            .set_user_state(user.id, UserState::Blocked)
            .await?;
        crate::store::hold_point("user_blocked").await;
        self.user_changed(user.id).await?;
        let revoked = self
            .revoke_user_sessions(
                user.id,
                user.username.as_str(),
                None,
                actor,
                Ending {
                    why: EndReason::Blocked,
                    reason: "user blocked",
                },
            )
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

    /// Lifts a lockout and resets the failure counts, the account's throttle count among
    /// them (for the owner: those of every address), so that the user can sign in at once.
    /// Counters kept in another process (a server's, without Redis) are out of reach.
    pub async fn unlock_user(&self, user: &User, actor: &Actor) -> ServiceResult<()> {
        self.directory.clear_login_failures(user.id).await?;
        self.forget_counted_failures(user).await?;
        self.user_changed(user.id).await?;
        let event = AuditEvent::by(self.now(), AuditKind::UserUnlocked, actor, Outcome::Success)
            .subject(user.id, user.username.as_str());
        self.audit(event).await
    }
}

/// A store's uniqueness conflict as the service's `Conflict`, which says what clashed.
fn conflict_as_such(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict(message) => ServiceError::Conflict(message),
        other => ServiceError::Store(other),
    }
}

/// What an edit changed, for the audit trail: `email a -> b`, `name ...`, `admin yes -> no`.
fn changes(before: &User, after: &User) -> Vec<String> {
    let yes_no = |flag: bool| if flag { "yes" } else { "no" };
    let mut changes = Vec::new();
    if before.email != after.email {
        changes.push(format!(
            "email {} -> {}",
            before.email.as_str(),
            after.email.as_str()
        ));
    }
    if before.name != after.name {
        changes.push(format!("name {:?} -> {:?}", before.name, after.name));
    }
    if before.is_admin != after.is_admin {
        changes.push(format!(
            "admin {} -> {}",
            yes_no(before.is_admin),
            yes_no(after.is_admin)
        ));
    }
    changes
}
