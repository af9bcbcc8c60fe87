//! `sessiond sessions ...`: who is signed in, and revoking one session, a user's, a
//! group's or everybody's (the bulk ones as a dry run unless --execute).

use super::{CliError, CliResult, cli_actor, print_json};
use crate::domain::session::{EndReason, Session};
use crate::service::revoke::Ending;
use crate::service::{Progress, Service};
use crate::views::SessionView;
use clap::{ArgGroup, Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Who is signed in: per user, `username (Name):` then one line per active session.
    List {
        /// Only this user's sessions (username, id or e-mail).
        #[arg(long)]
        user: Option<String>,
        /// Session objects as the API shows them, with their ids.
        #[arg(long)]
        json: bool,
    },
    /// Revoke one session, a user's, a group's or everybody's; --group and --all only
    /// report what they would do unless --execute is given.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["id", "user", "group", "all"])))]
pub struct RevokeArgs {
    /// A session's id (as `sessions list --json` shows it). Taken as given even when it
    /// begins with `-`, as ids made before the `ses_` prefix may.
    #[arg(long, allow_hyphen_values = true)]
    id: Option<String>,
    /// Every session of this user (username, id or e-mail).
    #[arg(long)]
    user: Option<String>,
    /// Every session of this group's members, sub-groups and shared groups included (full
    /// path, then numeric id).
    #[arg(long)]
    group: Option<String>,
    /// Every session of every user.
    #[arg(long)]
    all: bool,
    /// Revoke for real (with --group or --all); without it nothing changes.
    #[arg(long, conflicts_with_all = ["id", "user"])]
    execute: bool,
    /// Print the report as JSON (with --group or --all).
    #[arg(long, conflicts_with_all = ["id", "user"])]
    json: bool,
}

pub async fn run(command: SessionsCommand, service: &Service) -> CliResult {
    match command {
        SessionsCommand::List { user, json } => list(service, user.as_deref(), json).await,
        SessionsCommand::Revoke(args) => revoke(service, args).await,
    }
}

async fn list(service: &Service, user: Option<&str>, json: bool) -> CliResult {
    let (sessions, users) = match user {
        Some(user) => {
            let user = service.find_user(user).await?;
            (service.active_sessions(Some(user.id)).await?, vec![user])
        }
        None => (
            service.active_sessions(None).await?,
            service.list_users().await?,
        ),
    };
    if json {
        let views: Vec<SessionView> = sessions.iter().map(|s| SessionView::new(s, None)).collect();
        return print_json(&views);
    }
    if sessions.is_empty() {
        println!("No active sessions.");
        return Ok(());
    }
    let names: HashMap<i64, &str> = users.iter().map(|u| (u.id, u.name.as_str())).collect();
    // By username; within a user, most recently active first as the store returns them.
    let mut by_user: BTreeMap<(&str, i64), Vec<&Session>> = BTreeMap::new();
    for session in &sessions {
        by_user
            .entry((session.username.as_str(), session.user_id))
            .or_default()
            .push(session);
    }
    for ((username, user_id), sessions) in by_user {
        let name = names.get(&user_id).copied().unwrap_or(username);
        println!("{username} ({name}):");
        for session in sessions {
            println!(
                "  - IP: {}, Browser: {}, Last active: {}",
                session.ip_address,
                session.browser,
                session.last_active_at.to_rfc3339()
            );
        }
    }
    Ok(())
}

async fn revoke(service: &Service, args: RevokeArgs) -> CliResult {
    let actor = cli_actor();
    let ending = Ending {
        why: EndReason::Terminated,
        reason: "revoked from the command line",
    };
    if let Some(id) = args.id {
        let session = service.revoke_session_by_id(&id, &actor, ending).await?;
        println!("Revoked 1 session of {} ({id}).", session.username);
        return Ok(());
    }
    if let Some(user) = args.user {
        let user = service.find_user(&user).await?;
        let revoked = service
            .revoke_user_sessions(user.id, user.username.as_str(), None, &actor, ending)
            .await?;
        println!("Revoked {revoked} sessions of {}.", user.username);
        return Ok(());
    }
    let dry_run = !args.execute;
    let progress = TerminalProgress::new();
    let report = match args.group {
        Some(group) => {
            service
                .revoke_group_sessions(&group, dry_run, &actor, &progress)
                .await?
        }
        None if args.all => {
            service
                .revoke_all_sessions(dry_run, &actor, &progress)
                .await?
        }
        None => {
            return Err(CliError::Usage(
                "say what to revoke: --id, --user, --group or --all".into(),
            ));
        }
    };
    if args.json {
        print_json(&report)
    } else {
        print!("{report}");
        Ok(())
    }
}

/// Steps (users) below which no bar is worth drawing.
const PROGRESS_MIN_STEPS: u64 = 500;

/// An indicatif bar on stderr, drawn only for long work and only when a person is watching
/// a terminal, so stdout (and `--json`) stays clean.
struct TerminalProgress(ProgressBar);

impl TerminalProgress {
    fn new() -> Self {
        TerminalProgress(ProgressBar::hidden())
    }
}

#[async_trait::async_trait]
impl Progress for TerminalProgress {
    async fn begin(&self, total: u64) {
        if total < PROGRESS_MIN_STEPS || !std::io::stderr().is_terminal() {
            return;
        }
        self.0.set_length(total);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {msg} [{elapsed}]") {
            self.0.set_style(style);
        }
        self.0.set_message("revoking");
        self.0.set_draw_target(ProgressDrawTarget::stderr());
    }

    async fn advance(&self, steps: u64) {
        self.0.inc(steps);
    }

    async fn finish(&self) {
        self.0.finish_and_clear();
    }
}
