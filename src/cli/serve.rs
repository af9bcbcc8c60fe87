//! `sessiond serve`: the owner account on first start, the server, the purge task.

use super::{CliError, CliResult};
use crate::config::{ServerSettings, Settings};
use crate::http::{AppState, Application};
use crate::service::Service;
use crate::service::users::OWNER_USERNAME;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How often expired sessions and remember-me tokens are purged.
const PURGE_INTERVAL: Duration = Duration::from_secs(60);

pub async fn run(settings: Settings, service: Arc<Service>) -> CliResult {
    // Bound first: a port that is taken must not cost the one showing of the owner's password.
    let app = Application::bind(&settings.server)
        .await
        .map_err(CliError::Failed)?;
    let address = app
        .local_addr()
        .map_err(|e| CliError::Failed(e.to_string()))?;
    if let Some(password) = service.ensure_owner().await? {
        println!(
            "Created the owner account '{OWNER_USERNAME}'. Its password, shown only this once:\n\n    {}\n\nSign in at {}/login and keep it somewhere safe.",
            password.expose(),
            sign_in_base(&settings.server, address)
        );
    }
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

/// Where to sign in: `server.public_url`, or, while that is left at its default, the address
/// the server is listening on (`localhost` for a wildcard one), so that a changed
/// `server.listen` alone is not sent to a port nothing answers on.
fn sign_in_base(server: &ServerSettings, listening: SocketAddr) -> String {
    if server.public_url != ServerSettings::default().public_url {
        return server.public_url.trim_end_matches('/').to_owned();
    }
    if listening.ip().is_unspecified() {
        format!("http://localhost:{}", listening.port())
    } else {
        format!("http://{listening}")
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sign_in_url_follows_the_listener_unless_public_url_is_set() {
        let mut server = ServerSettings::default();
        let at = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert_eq!(
            sign_in_base(&server, at("127.0.0.1:9000")),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            sign_in_base(&server, at("0.0.0.0:9000")),
            "http://localhost:9000"
        );
        assert_eq!(sign_in_base(&server, at("[::1]:9000")), "http://[::1]:9000");
        server.public_url = "https://sessions.example.com/".into();
        assert_eq!(
            sign_in_base(&server, at("0.0.0.0:9000")),
            "https://sessions.example.com"
        );
    }
}
