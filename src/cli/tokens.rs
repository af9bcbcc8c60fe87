//! `sessiond tokens ...`: admin API tokens, printed once, stored hashed.

use super::{CliError, CliResult, cli_actor};
use crate::service::Service;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Create an admin API token; it is printed once and only its hash is kept.
    Create {
        #[arg(long)]
        name: String,
    },
    /// List tokens (names and use, never the secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by name or id; it stops working at once.
    Revoke { token: String },
}

pub async fn run(command: TokensCommand, service: &Service) -> CliResult {
    let actor = cli_actor();
    match command {
        TokensCommand::Create { name } => {
            let (token, secret) = service.create_api_token(&name, &actor).await?;
            println!(
                "Created admin API token {:?} (id {}). The token, shown only this once:\n\n    {}\n\nUse it as: Authorization: Bearer <token>",
                token.name,
                token.id,
                secret.expose()
            );
        }
        TokensCommand::List { json } => {
            let tokens = service.list_api_tokens().await?;
            if json {
                let text = serde_json::to_string_pretty(&tokens)
                    .map_err(|e| CliError::Failed(e.to_string()))?;
                println!("{text}");
            } else {
                println!("{:>5}  {:<30} {:<22} LAST USED", "ID", "NAME", "CREATED");
                for token in tokens {
                    println!(
                        "{:>5}  {:<30} {:<22} {}",
                        token.id,
                        token.name,
                        token.created_at.to_rfc3339(),
                        token
                            .last_used_at
                            .map(|t| t.to_rfc3339())
                            .unwrap_or_else(|| "never".into())
                    );
                }
            }
        }
        TokensCommand::Revoke { token } => {
            let revoked = service.revoke_api_token(&token, &actor).await?;
            println!("Revoked admin API token {:?}.", revoked.name);
        }
    }
    Ok(())
}
