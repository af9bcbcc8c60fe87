//! `sessiond audit list`: the audit trail, newest first.

use super::{CliResult, print_json};
use crate::domain::audit::{AuditEvent, AuditFilter};
use crate::service::Service;
use crate::views::AuditView;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Audit events, newest first.
    List {
        /// Only events about this user (username, id or e-mail).
        #[arg(long)]
        user: Option<String>,
        /// How many events at most.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: AuditCommand, service: &Service) -> CliResult {
    let AuditCommand::List { user, limit, json } = command;
    let user_id = match user {
        Some(user) => Some(service.find_user(&user).await?.id),
        None => None,
    };
    let filter = AuditFilter {
        user_id,
        kind: None,
    };
    let events = service.audit_trail(&filter, limit, 0).await?.items;
    if json {
        let views: Vec<AuditView> = events.iter().map(AuditView::from).collect();
        print_json(&views)
    } else {
        print_table(&events);
        Ok(())
    }
}

fn print_table(events: &[AuditEvent]) {
    println!(
        "{:<20}  {:<16} {:<20} {:<20} {:>8}  {:<15} DETAILS",
        "TIME", "EVENT", "ACTOR", "USER", "SESSIONS", "IP"
    );
    for event in events {
        let optional = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".into());
        println!(
            "{:<20}  {:<16} {:<20} {:<20} {:>8}  {:<15} {}",
            event.at.to_rfc3339(),
            event.kind.as_str(),
            event.actor,
            optional(&event.subject_username),
            event
                .session_count
                .map_or_else(|| "-".into(), |count| count.to_string()),
            optional(&event.ip_address),
            event.reason.as_deref().unwrap_or("")
        );
    }
}
