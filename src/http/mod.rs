//! The HTTP server: state, router, and the start-up that binds it (port 0 in tests).

mod api;
pub mod cookies;
mod csrf;
pub mod error;
mod extract;
mod flash;
mod headers;
mod language;
mod openapi;
mod pages;
mod respond;

use crate::config::{ServerSettings, Settings};
use crate::i18n::t;
use crate::service::Service;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, ServiceExt};
use cookies::CookieConfig;
use error::ApiError;
use extract::AdminCaller;
use futures_util::FutureExt;
use headers::Secured;
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
    /// `server.public_url`'s origin as [`csrf::canonical_origin`] spells it, the one origin
    /// state-changing requests may come from.
    pub public_origin: String,
    /// The key of the CSRF form tokens, read from the directory when first needed.
    pub csrf_key: tokio::sync::OnceCell<csrf::FormKey>,
}

impl std::ops::Deref for AppState {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.0
    }
}

impl AppState {
    pub fn new(service: Arc<Service>, settings: &Settings) -> Self {
        let url = &settings.server.public_url;
        AppState(Arc::new(Context {
            service,
            cookies: CookieConfig::for_public_url(url),
            trusted_proxies: settings.server.trusted_proxies.clone(),
            // Settings admit only http(s) URLs; one without a host matches no request.
            public_origin: csrf::canonical_origin(url).unwrap_or_default(),
            csrf_key: tokio::sync::OnceCell::new(),
        }))
    }
}

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    /// `server.metrics_listen`'s, which serves `/metrics` alone.
    metrics_listener: Option<TcpListener>,
}

impl Application {
    /// Binds `server.listen`, and `server.metrics_listen` when set; port 0 picks a free port,
    /// read back with `local_addr` and `metrics_addr`. The error names the address.
    pub async fn bind(server: &ServerSettings) -> Result<Application, String> {
        let bind = async |setting: &str, address: &str| {
            TcpListener::bind(address)
                .await
                .map_err(|e| format!("{setting} = {address:?}: cannot listen there: {e}"))
        };
        let listener = bind("server.listen", &server.listen).await?;
        let metrics_listener = match &server.metrics_listen {
            Some(address) => Some(bind("server.metrics_listen", address).await?),
            None => None,
        };
        Ok(Application {
            listener,
            metrics_listener,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address `/metrics` is served on alone, when `server.metrics_listen` is set.
    pub fn metrics_addr(&self) -> Option<std::io::Result<SocketAddr>> {
        self.metrics_listener.as_ref().map(TcpListener::local_addr)
    }

    /// Serves until `shutdown` resolves.
    pub async fn run(
        self,
        state: AppState,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let shutdown = shutdown.shared();
        let Some(metrics_listener) = self.metrics_listener else {
            let app = router(state, MetricsRoute::ForAdministrators);
            return serve(self.listener, app, shutdown).await;
        };
        let metrics = Router::new()
            .route("/metrics", get(metrics))
            .fallback(not_found)
            .with_state(state.clone());
        let metrics = Secured::new(metrics, false);
        let app = router(state, MetricsRoute::Elsewhere);
        tokio::try_join!(
            serve(self.listener, app, shutdown.clone()),
            serve(metrics_listener, metrics, shutdown),
        )
        .map(|_| ())
    }
}

async fn serve(
    listener: TcpListener,
    app: Secured,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Whether the main listener serves `/metrics`.
#[derive(PartialEq)]
enum MetricsRoute {
    /// To an administrator's session or an admin API token.
    ForAdministrators,
    /// Not at all: `server.metrics_listen` serves it.
    Elsewhere,
}

fn router(state: AppState, metrics_route: MetricsRoute) -> Secured {
    let (api, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(api::routes(state.clone()))
        .split_for_parts();
    let document = Arc::new(document);
    let api = api.route(
        "/api/openapi.json",
        get(move || async move { Json(document.as_ref().clone()) }),
    );
    let https = state.public_origin.starts_with("https://");
    let mut router = Router::new().merge(api);
    if metrics_route == MetricsRoute::ForAdministrators {
        router = router.route("/metrics", get(admin_metrics));
    }
    let router = router
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
    Secured::new(router, https)
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

/// [`metrics`] on the main listener, where only administrators may read them.
async fn admin_metrics(_: AdminCaller, state: State<AppState>) -> Response {
    metrics(state).await
}

/// Prometheus metrics: counters since start and gauges read from the stores.
async fn metrics(State(state): State<AppState>) -> Response {
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

async fn not_found(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers();
    if request.uri().path().starts_with("/api/") {
        let error = async { ApiError::not_found(t("error-no-such-endpoint")) };
        language::asked(headers).speak(error).await.into_response()
    } else {
        let page = async { respond::not_found_page() };
        language::for_page(&state, headers).speak(page).await
    }
}

/// A JSON error, like the API's, and like theirs never stored.
async fn method_not_allowed(request_headers: HeaderMap) -> Response {
    let no_store = [(axum::http::header::CACHE_CONTROL, headers::NO_STORE)];
    let error = async {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            t("error-method-not-allowed"),
        )
    };
    let error = language::asked(&request_headers).speak(error).await;
    (no_store, error).into_response()
}
