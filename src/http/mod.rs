//! The HTTP server: state, router, and the start-up that binds it (port 0 in tests).

mod api;
pub mod cookies;
mod csrf;
pub mod error;
mod extract;
mod headers;
mod openapi;
mod pages;
mod respond;

use crate::config::Settings;
use crate::service::Service;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use cookies::CookieConfig;
use error::ApiError;
use ipnet::IpNet;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Largest request body accepted (login forms and JSON bodies are tiny).
const MAX_BODY_BYTES: usize = 16 * 1024;
/// Largest total size of request headers accepted.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// What every handler can reach. Axum clones it for every request, and for some twice, so
/// it is one shared pointer: each clone is one atomic count, on a line both cores contend for.
#[derive(Clone)]
pub struct AppState(Arc<Context>);

pub struct Context {
    pub service: Arc<Service>,
    pub cookies: CookieConfig,
    pub trusted_proxies: Vec<IpNet>,
    /// `scheme://host[:port]` of `server.public_url`, for Origin checks.
    pub public_origin: String,
}

impl std::ops::Deref for AppState {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.0
    }
}

impl AppState {
    pub fn new(service: Arc<Service>, settings: &Settings) -> Self {
        let url = settings.server.public_url.trim_end_matches('/');
        let origin_end = url
            .find("://")
            .and_then(|scheme| url[scheme + 3..].find('/').map(|path| scheme + 3 + path))
            .unwrap_or(url.len());
        AppState(Arc::new(Context {
            service,
            cookies: CookieConfig::for_public_url(url),
            trusted_proxies: settings.server.trusted_proxies.clone(),
            public_origin: url[..origin_end].to_owned(),
        }))
    }
}

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
}

impl Application {
    /// Binds `server.listen`; port 0 picks a free port, read back with `local_addr`.
    pub async fn bind(listen: &str) -> std::io::Result<Application> {
        Ok(Application {
            listener: TcpListener::bind(listen).await?,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves.
    pub async fn run(
        self,
        state: AppState,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            router(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
    }
}

pub fn router(state: AppState) -> Router {
    let (api, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api::routes(state.clone()))
        .split_for_parts();
    let document = Arc::new(document);
    let api = api.route(
        "/api/openapi.json",
        get(move || async move { Json(document.as_ref().clone()) }),
    );
    let https = state.public_origin.starts_with("https://");
    let router = Router::new()
        .merge(headers::not_stored(api))
        .route("/metrics", get(metrics))
        .merge(pages::routes(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csrf::same_origin,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(limit_header_size))
        .with_state(state);
    headers::secured(router, https)
}

async fn limit_header_size(request: Request, next: Next) -> Response {
    let size: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("request headers exceed {MAX_HEADER_BYTES} bytes"),
        )
        .into_response();
    }
    next.run(request).await
}

/// Prometheus metrics: counters since start and gauges read from the stores.
async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.service.metrics_text().await {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

async fn not_found(request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        let no_store = [(axum::http::header::CACHE_CONTROL, headers::NO_STORE)];
        (no_store, ApiError::not_found("no such endpoint")).into_response()
    } else {
        respond::not_found_page().into_response()
    }
}

/// A JSON error, like the API's, and like theirs never stored.
async fn method_not_allowed() -> Response {
    let no_store = [(axum::http::header::CACHE_CONTROL, headers::NO_STORE)];
    let error = ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this method is not allowed on this path",
    );
    (no_store, error).into_response()
}
