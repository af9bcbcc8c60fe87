//! `sessiond groups ...`: create, add-member, remove-member, share, unshare, list.

use super::{CliResult, cli_actor, print_json};
use crate::service::Service;
use crate::service::groups::GroupListing;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Create a group; a sub-group by its full path, e.g. acme/platform/infra.
    Create {
        /// Full path: segments of lowercase letters, digits, '.', '_' or '-' joined by '/'.
        path: String,
        /// Display name (default: the last path segment).
        #[arg(long)]
        name: Option<String>,
        /// Create missing parent groups too (otherwise a missing parent is an error).
        #[arg(long)]
        parents: bool,
    },
    /// Make a user (username, id or e-mail) a direct member of a group (path or id).
    AddMember { group: String, user: String },
    /// End a user's direct membership of a group; memberships by nesting or shares stay.
    RemoveMember { group: String, user: String },
    /// Share GROUP with OTHER: OTHER's members, with its ancestors' members, become members
    /// of GROUP.
    Share {
        group: String,
        #[arg(long = "with", value_name = "OTHER")]
        with: String,
    },
    /// End the share of GROUP with OTHER.
    Unshare {
        group: String,
        #[arg(long = "with", value_name = "OTHER")]
        with: String,
    },
    /// List groups with their direct members and shares.
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: GroupsCommand, service: &Service) -> CliResult {
    match command {
        GroupsCommand::Create {
            path,
            name,
            parents,
        } => {
            for group in service
                .create_group(&path, name, parents, &cli_actor())
                .await?
            {
                println!("Created group {} (id {}).", group.path, group.id);
            }
        }
        GroupsCommand::AddMember { group, user } => {
            let group = service.find_group(&group).await?;
            let user = service.find_user(&user).await?;
            if service
                .add_group_member(&group, &user, &cli_actor())
                .await?
            {
                println!("Added {} to {}.", user.username, group.path);
            } else {
                println!("{} is already a member of {}.", user.username, group.path);
            }
        }
        GroupsCommand::RemoveMember { group, user } => {
            let group = service.find_group(&group).await?;
            let user = service.find_user(&user).await?;
            if service
                .remove_group_member(&group, &user, &cli_actor())
                .await?
            {
                println!("Removed {} from {}.", user.username, group.path);
            } else {
                println!(
                    "{} is not a direct member of {}.",
                    user.username, group.path
                );
            }
        }
        GroupsCommand::Unshare { group, with } => {
            let group = service.find_group(&group).await?;
            let with = service.find_group(&with).await?;
            if service.unshare_group(&group, &with, &cli_actor()).await? {
                println!("{} is no longer shared with {}.", group.path, with.path);
            } else {
                println!("{} was not shared with {}.", group.path, with.path);
            }
        }
        GroupsCommand::Share { group, with } => {
            let group = service.find_group(&group).await?;
            let with = service.find_group(&with).await?;
            if service.share_group(&group, &with, &cli_actor()).await? {
                println!("Shared {} with {}.", group.path, with.path);
            } else {
                println!("{} is already shared with {}.", group.path, with.path);
            }
        }
        GroupsCommand::List { json } => {
            let groups = service.list_groups().await?;
            if json {
                print_json(&groups)?;
            } else {
                print_table(&groups);
            }
        }
    }
    Ok(())
}

fn print_table(groups: &[GroupListing]) {
    println!(
        "{:>5}  {:<32} {:<24} {:>7}  SHARED WITH",
        "ID", "PATH", "NAME", "MEMBERS"
    );
    for listing in groups {
        println!(
            "{:>5}  {:<32} {:<24} {:>7}  {}",
            listing.group.id,
            listing.group.path,
            listing.group.name,
            listing.members.len(),
            listing.shared_with.join(", ")
        );
    }
}
