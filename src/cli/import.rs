//! `sessiond import FILE`: users, groups, memberships and shares, all or nothing.

use super::{CliError, CliResult, cli_actor};
use crate::service::Service;
use std::path::Path;

pub async fn run(file: &Path, service: &Service) -> CliResult {
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let summary = service
        .import_directory(&text, &cli_actor())
        .await
        .map_err(|error| match CliError::from(error) {
            CliError::Usage(message) => CliError::Usage(format!("{}: {message}", file.display())),
            failed => failed,
        })?;
    println!(
        "Imported {} users, {} groups, {} memberships and {} shares from {}.",
        summary.users,
        summary.groups,
        summary.memberships,
        summary.shares,
        file.display()
    );
    Ok(())
}
