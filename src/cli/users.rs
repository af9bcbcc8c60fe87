//! `sessiond users ...`: create, list, block, unblock, unlock.

use super::{CliError, CliResult, cli_actor, print_json};
use crate::domain::password::Password;
use crate::domain::user::{User, UserState};
use crate::service::Service;
use crate::service::users::CreateUser;
use clap::Subcommand;
use std::io::BufRead;

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
    /// Lift a lockout after failed logins.
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
                reuse_deleted_username: false,
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
            let revoked = service.block_user(&user, &actor).await?;
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
