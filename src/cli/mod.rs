//! The command line: parse, load configuration, run one command, exit 0, 1 or 2.

mod audit;
mod groups;
mod import;
mod serve;
mod sessions;
mod tokens;
mod users;

use crate::config::Settings;
use crate::domain::time::SystemClock;
use crate::service::{Policy, Service, ServiceError};
use crate::store::{self, StoreError};
use clap::{Parser, Subcommand};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "sessiond",
    version,
    about = "Session server with active-session management"
)]
pub struct Cli {
    /// Configuration file (default: ./sessiond.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server; on a new store, create the owner account `admin` first. The only
    /// command that creates a store.
    Serve,
    /// Manage the directory's users.
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Manage admin API tokens.
    #[command(subcommand)]
    Tokens(tokens::TokensCommand),
    /// Manage groups, sub-groups, their members and shares.
    #[command(subcommand)]
    Groups(groups::GroupsCommand),
    /// Load users, groups, memberships and shares from a JSON file (docs/import.md); any
    /// error imports nothing.
    Import {
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// See who is signed in, and revoke sessions: one, a user's, a group's or everybody's.
    #[command(subcommand)]
    Sessions(sessions::SessionsCommand),
    /// Read the audit trail.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
}

/// A command's failure and the exit code it earns.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage or something not found: exit 2.
    Usage(String),
    /// Anything else that went wrong: exit 1.
    Failed(String),
}

impl From<ServiceError> for CliError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound(m) | ServiceError::BadInput(m) | ServiceError::Conflict(m) => {
                CliError::Usage(m)
            }
            ServiceError::OwnerProtected(_)
            | ServiceError::CannotBlockSelf
            | ServiceError::CannotDeleteSelf
            | ServiceError::DeletedUsername(_)
            | ServiceError::SamePassword => CliError::Usage(error.to_string()),
            ServiceError::Store(StoreError::Conflict(m)) => CliError::Usage(m),
            other => CliError::Failed(other.to_string()),
        }
    }
}

pub type CliResult = Result<(), CliError>;

pub fn main(cli: Cli) -> ExitCode {
    if !matches!(cli.command, Command::Serve) {
        end_quietly_on_a_closed_pipe();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return report(CliError::Failed(format!("cannot start: {error}"))),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => report(error),
    }
}

/// Rust ignores SIGPIPE, so a listing piped into `head` would panic at its next `println!`
/// once `head` has gone; a command-line tool ends quietly instead, as `ls | head` does. Not
/// for `serve`, whose sockets must see a closed peer as an error rather than end the process.
fn end_quietly_on_a_closed_pipe() {
    // SAFETY: sets a signal's disposition before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn report(error: CliError) -> ExitCode {
    match error {
        CliError::Usage(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        CliError::Failed(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> CliResult {
    let settings = Settings::load(cli.config.as_deref()).map_err(CliError::Usage)?;
    if matches!(cli.command, Command::Serve) {
        // Before the stores open, so that what opening does to an older database is logged.
        serve::init_logging();
    } else {
        store::require_existing(&settings.storage).map_err(CliError::Usage)?;
    }
    let service = open_service(&settings).await?;
    match cli.command {
        Command::Serve => serve::run(settings, service).await,
        Command::Users(command) => users::run(command, &service).await,
        Command::Tokens(command) => tokens::run(command, &service).await,
        Command::Groups(command) => groups::run(command, &service).await,
        Command::Import { file } => import::run(&file, &service).await,
        Command::Sessions(command) => sessions::run(command, &service).await,
        Command::Audit(command) => audit::run(command, &service).await,
    }
}

/// The service over the configured stores, as every command uses it. A store that cannot
/// be opened is a configuration to correct: exit 2.
pub async fn open_service(settings: &Settings) -> Result<Arc<Service>, CliError> {
    let stores = store::open(&settings.storage)
        .await
        .map_err(CliError::Usage)?;
    Ok(Arc::new(Service::new(
        stores,
        Arc::new(SystemClock),
        Policy::from_settings(settings),
    )))
}

/// Prints `value` as pretty JSON on stdout, the only thing a `--json` listing prints there.
fn print_json(value: &impl Serialize) -> CliResult {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// Who the audit trail names for actions taken from the command line.
fn cli_actor() -> crate::domain::audit::Actor {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{who}").into()
}
