//! `sessiond serve`: the owner account on first start, the server, the purge task.

use super::{CliError, CliResult};
use crate::config::Settings;
use crate::http::{AppState, Application};
use crate::service::Service;
use crate::service::users::OWNER_USERNAME;
use std::sync::Arc;
use std::time::Duration;

/// How often expired sessions and remember-me tokens are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);

pub async fn run(settings: Settings, service: Arc<Service>) -> CliResult {
    // Bound first: a port that is taken must not cost the one showing of the owner's password.
    let app = Application::bind(&settings.server)
        .await
        .map_err(CliError::Failed)?;
    if let Some(password) = service.ensure_owner().await? {
        println!(
            "Created the owner account '{OWNER_USERNAME}'. Its password, shown only this once:\n\n    {}\n\nSign in at {}/login and keep it somewhere safe.",
            password.expose(),
            settings.server.public_url.trim_end_matches('/')
        );
    }
    let address = app
        .local_addr()
        .map_err(|e| CliError::Failed(e.to_string()))?;
    tracing::info!(%address, public_url = %settings.server.public_url, "sessiond listening");
    println!("Listening on http://{address}");
    if let Some(metrics) = app.metrics_addr() {
        let metrics = metrics.map_err(|e| CliError::Failed(e.to_string()))?;
        tracing::info!(%metrics, "serving /metrics");
        println!("Serving /metrics on http://{metrics}/metrics");
    }
    tokio::spawn(purge_forever(service.clone()));
    let state = AppState::new(service.clone(), &settings);
    let served = app.run(state, shutdown_signal()).await;
    service.sessions.leave().await;
    served.map_err(|e| CliError::Failed(format!("server error: {e}")))
}

async fn purge_forever(service: Arc<Service>) {
    let mut ticker = tokio::time::interval(PURGE_INTERVAL);
    loop {
        ticker.tick().await;
        match service.purge_expired().await {
            Ok((sessions, tokens)) if sessions + tokens > 0 => {
                tracing::info!(sessions, remember_tokens = tokens, "purged expired")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "purging expired sessions failed"),
        }
    }
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down");
}

pub(super) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SESSIOND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
