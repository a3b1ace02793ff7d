//! HTTP: the HTTPS application (API, WebSocket, web UI) and the plain-HTTP onboarding site.
//! Only this module knows JSON and HTTP status codes; it calls `auth` and `store` for everything.

mod admin_api;
mod api;
mod assets;
mod bots_api;
mod chat_api;
pub mod error;
mod files_api;
mod links_api;
mod manage_api;
mod messages_api;
mod onboarding;
mod people_api;
mod profile_api;
mod session;
mod two_factor_api;
mod webhooks_api;
mod ws;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::auth::Auth;
use crate::chat::Chat;
use crate::config::Config;
use crate::pki::Pki;
use crate::store::Store;

pub use error::ApiError;
pub use onboarding::install_script as onboarding_install_script;
pub use session::CurrentUser;

/// What every request shares: one `Arc`, since axum clones the state for each extractor and a
/// field-by-field clone of these handles showed up in the request profile (issue 23).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The handles behind `AppState`.
pub struct Shared {
    pub config: Arc<Config>,
    pub store: Store,
    pub auth: Auth,
    pub chat: Chat,
    pub calls: crate::calls::Calls,
    pub media: crate::media::Media,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub pki: Arc<Pki>,
    /// Links to other sites (issue 19).
    pub links: crate::links::Links,
    /// Flips to true when the server shuts down; long-lived connections close on it.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The HTTPS port actually bound (differs from the config when it asked for port 0).
    pub https_port: u16,
    /// The plain-HTTP (onboarding) port actually bound, if that listener is on.
    pub http_port: Option<u16>,
}

/// A connection's place in the listener's limits (its permit and per-address slot), put on
/// each request by the server so that a request that takes the connection over (a WebSocket)
/// keeps it for as long as it lives.
#[derive(Clone)]
pub struct ConnectionHold(pub Arc<dyn std::any::Any + Send + Sync>);

const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'self'";

/// The application served over HTTPS.
pub fn https_router(state: AppState) -> Router {
    let (api, openapi) = api::router()
        .merge(chat_api::router())
        .merge(admin_api::router())
        .merge(two_factor_api::router())
        .merge(webhooks_api::router())
        .merge(bots_api::router())
        .merge(profile_api::router())
        .merge(people_api::router())
        .merge(manage_api::router())
        .merge(messages_api::router())
        .merge(links_api::router())
        .split_for_parts();
    let limit = state.config.limits.max_json_body;
    let hsts = state.config.tls.hsts;
    // Upload bodies stream to disk as raw `Body`s, which the JSON body limit does not apply to;
    // their JSON requests (creating an upload) are limited like every other.
    let (files, files_doc) = files_api::router().split_for_parts();
    let mut openapi = openapi;
    openapi.merge(files_doc);
    let openapi = Arc::new(openapi);
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(api)
        .route("/api/v1/ws", get(ws::upgrade))
        .route("/metrics", get(admin_api::metrics))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .route("/ca.pem", get(onboarding::ca_pem))
        .route("/ca.der", get(onboarding::ca_der))
        .merge(assets::router())
        .merge(files)
        // After every route: it applies to the method routers registered so far.
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        // One layer for all of it: each `from_fn` layer boxes every request's future, and four
        // of them were a measurable share of a posted message's CPU (issue 23).
        .layer(middleware::from_fn(move |req, next| edge(req, next, hsts)))
        .with_state(state)
}

/// What every HTTPS request goes through: the request-head limits, then, on the way out, the
/// API's no-store, the security headers and the log line of a server error.
async fn edge(req: Request, next: Next, hsts: bool) -> Response {
    let method = req.method().clone();
    // A `Uri` clone shares its bytes: nothing is copied unless the answer is an error to log.
    let uri = req.uri().clone();
    let mut resp = match head_refusal(&req) {
        Some(refusal) => refusal,
        None => next.run(req).await,
    };
    if uri.path().starts_with("/api/") || uri.path() == "/metrics" {
        no_store(&mut resp);
    }
    add_security_headers(&mut resp, hsts);
    if resp.status().is_server_error() {
        log_server_error(&method, uri.path(), &resp);
    }
    resp
}

/// The plain-HTTP site: onboarding and the CA certificate, everything else redirects to HTTPS.
pub fn http_router(state: AppState) -> Router {
    onboarding::router()
        .layer(middleware::from_fn(move |req, next| {
            security_headers(req, next, false)
        }))
        .with_state(state)
}

async fn api_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not-found", "no such API endpoint")
}

/// The router adds `Allow` to this response itself.
async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this address does not accept this method; see the Allow header",
    )
}

/// API answers are personal and change with every message: no browser or proxy may keep them,
/// where they would outlive the session. Handlers that chose their own policy (files) keep it.
fn no_store(resp: &mut Response) {
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
}

/// Longest request target (path and query) answered normally.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Largest total size of the request's header fields (names and values).
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Most header fields in one request.
pub const MAX_HEADER_COUNT: usize = 100;

/// Our own request-head limits, answered in the common error shape. hyper's own limits are set
/// just above these (`server::serve`) and only catch what is far beyond them, with an empty
/// body, before any of this code runs.
fn head_refusal(req: &Request) -> Option<Response> {
    let uri_len = req
        .uri()
        .path_and_query()
        .map_or(req.uri().path().len(), |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return Some(
            ApiError::new(
                StatusCode::URI_TOO_LONG,
                "uri-too-long",
                format!("the request's address is longer than {MAX_URI_BYTES} bytes"),
            )
            .into_response(),
        );
    }
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADER_COUNT || header_bytes > MAX_HEADER_BYTES {
        return Some(
            ApiError::new(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "headers-too-large",
                format!(
                    "the request's header fields exceed {MAX_HEADER_COUNT} fields or {MAX_HEADER_BYTES} bytes"
                ),
            )
            .into_response(),
        );
    }
    None
}

async fn security_headers(req: Request, next: Next, hsts: bool) -> Response {
    let mut resp = next.run(req).await;
    add_security_headers(&mut resp, hsts);
    resp
}

fn add_security_headers(resp: &mut Response, hsts: bool) {
    let h = resp.headers_mut();
    // A handler may set a narrower or page-specific policy; otherwise the strict default.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
}

/// A path fit for the log: the secret in a webhook or invite URL is left out.
fn loggable_path(path: &str) -> String {
    for secret in ["/api/v1/hooks/", "/api/v1/invites/"] {
        if path.len() > secret.len() && path.starts_with(secret) {
            return format!("{secret}(secret)");
        }
    }
    path.to_string()
}

/// Logs each server error once, with its internal cause, here rather than at every return.
fn log_server_error(method: &axum::http::Method, path: &str, resp: &Response) {
    let path = loggable_path(path);
    let cause = resp
        .extensions()
        .get::<error::InternalCause>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    if resp.status() == StatusCode::SERVICE_UNAVAILABLE {
        // The database is away (cluster mode): a state the store reports itself, not a
        // fault of this request.
        tracing::warn!(%method, %path, status = 503, %cause, "request refused");
    } else {
        tracing::error!(%method, %path, status = resp.status().as_u16(), %cause, "request failed");
    }
}
