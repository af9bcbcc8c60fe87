//! `sessiond users ...`: create, list, edit, set-password, delete, block, unblock, unlock.

use super::{CliError, CliResult, cli_actor, print_json};
use crate::domain::password::Password;
use crate::domain::user::{Email, User, UserState, UserUpdate};
use crate::service::users::CreateUser;
use crate::service::{Service, ServiceError};
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; without --password-stdin a random password is generated and printed once.
    Create {
        /// Login name: lowercase letters, digits, '.', '_' or '-'.
        username: String,
        #[arg(long)]
        email: String,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        admin: bool,
        /// A non-human account: left out of group revocations.
        #[arg(long)]
        bot: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Give the new user the username of a deleted one (refused without).
        #[arg(long)]
        reuse_deleted_username: bool,
    },
    /// Change a user's e-mail address, name or admin flag.
    Edit {
        user: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Make the user an administrator.
        #[arg(long, conflicts_with = "no_admin")]
        admin: bool,
        /// Make the user no administrator (never the owner).
        #[arg(long)]
        no_admin: bool,
    },
    /// Reset a password: every session ends, and the user must choose a new password at the
    /// next sign-in. Without --password-stdin a random password is generated and printed once.
    SetPassword {
        user: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete a user and end their sessions; the audit trail keeps their events.
    Delete {
        user: String,
        /// Delete without asking (required when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// List users.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Block a user: no logins, and every session ends now.
    Block { user: String },
    /// Let a blocked user sign in again.
    Unblock { user: String },
    /// Lift a lockout after failed logins, and the account's sign-in throttle count (a
    /// running server's only when sessions are kept in Redis).
    Unlock { user: String },
}

pub async fn run(command: UsersCommand, service: &Service) -> CliResult {
    let actor = cli_actor();
    match command {
        UsersCommand::Create {
            username,
            email,
            name,
            admin,
            bot,
            password_stdin,
            reuse_deleted_username,
        } => {
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let request = CreateUser {
                username,
                email,
                name,
                is_admin: admin,
                is_bot: bot,
                password,
                must_change_password: false,
                reuse_deleted_username,
            };
            let created = service.create_user(request, &actor).await?;
            println!(
                "Created user {} (id {}).",
                created.user.username, created.user.id
            );
            if let Some(password) = created.generated_password {
                println!("Password, shown only this once: {}", password.expose());
            }
        }
        UsersCommand::Edit {
            user,
            email,
            name,
            admin,
            no_admin,
        } => {
            let user = service.find_user(&user).await?;
            let email = match email {
                Some(email) => Some(Email::parse(&email).map_err(CliError::Usage)?),
                None => None,
            };
            let is_admin = match (admin, no_admin) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            if email.is_none() && name.is_none() && is_admin.is_none() {
                return Err(CliError::Usage(
                    "nothing to change: give --email, --name, --admin or --no-admin".into(),
                ));
            }
            let update = UserUpdate {
                email,
                name,
                is_admin,
            };
            let updated = service.update_user(&user, update, &actor).await?;
            println!("Updated {}.", updated.username);
        }
        UsersCommand::SetPassword {
            user,
            password_stdin,
        } => {
            let user = service.find_user(&user).await?;
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let reset = service.reset_password(&user, password, &actor).await?;
            println!(
                "Set the password of {}; {} active session(s) ended. It must be changed at the next sign-in.",
                user.username, reset.revoked
            );
            if let Some(password) = reset.generated_password {
                println!("Password, shown only this once: {}", password.expose());
            }
        }
        UsersCommand::Delete { user, yes } => {
            let user = service.find_user(&user).await?;
            if !yes && !confirmed(&format!("Delete {} and end their sessions?", user.username))? {
                return Err(CliError::Usage(format!(
                    "{} was not deleted: confirm, or pass --yes",
                    user.username
                )));
            }
            let revoked = service.delete_user(&user, &actor).await?;
            println!(
                "Deleted {}; {revoked} active session(s) ended.",
                user.username
            );
        }
        UsersCommand::List { json } => {
            let users = service.list_users().await?;
            if json {
                print_json(&users)?;
            } else {
                print_table(&users, service);
            }
        }
        UsersCommand::Block { user } => {
            let user = service.find_user(&user).await?;
            let revoked = match service.block_user(&user, &actor).await {
                Err(error @ ServiceError::Store(_)) if is_blocked(service, &user).await => {
                    return Err(CliError::Failed(format!(
                        "blocked {name}, but their sessions could not all be ended ({error}); \
                         the session check refuses them anyway; run `sessiond users block {name}` \
                         again to end them",
                        name = user.username
                    )));
                }
                other => other?,
            };
            println!(
                "Blocked {}; {revoked} active session(s) ended.",
                user.username
            );
        }
        UsersCommand::Unblock { user } => {
            let user = service.find_user(&user).await?;
            service.unblock_user(&user, &actor).await?;
            println!("Unblocked {}.", user.username);
        }
        UsersCommand::Unlock { user } => {
            let user = service.find_user(&user).await?;
            service.unlock_user(&user, &actor).await?;
            println!("Unlocked {}.", user.username);
        }
    }
    Ok(())
}

/// Whether the directory now holds `user` blocked: a block that failed after its commit.
async fn is_blocked(service: &Service, user: &User) -> bool {
    let now = service.find_user(user.username.as_str()).await;
    now.is_ok_and(|now| now.state == UserState::Blocked)
}

fn read_password() -> Result<Password, CliError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Failed(format!("cannot read the password: {e}")))?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(CliError::Usage(
            "--password-stdin: standard input held no password".into(),
        ));
    }
    Ok(Password::new(password))
}

/// Asks `question` on a terminal and reads y/yes; never asks (and says no) when standard
/// input is not a terminal, so scripts must say `--yes`.
fn confirmed(question: &str) -> Result<bool, CliError> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::Failed(format!("cannot read the answer: {e}")))?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn print_table(users: &[User], service: &Service) {
    let now = service.now();
    println!(
        "{:>5}  {:<20} {:<24} {:<30} {:<8} {:<6} STATE",
        "ID", "USERNAME", "NAME", "EMAIL", "KIND", "ADMIN"
    );
    for user in users {
        let state = match (user.state, user.locked_until) {
            (UserState::Blocked, _) => "blocked".to_owned(),
            (_, Some(until)) if user.is_locked(now) => {
                format!("locked until {}", until.to_rfc3339())
            }
            _ => "active".to_owned(),
        };
        println!(
            "{:>5}  {:<20} {:<24} {:<30} {:<8} {:<6} {}",
            user.id,
            user.username,
            user.name,
            user.email.as_str(),
            user.kind.as_str(),
            if user.is_admin { "yes" } else { "no" },
            state
        );
    }
}
