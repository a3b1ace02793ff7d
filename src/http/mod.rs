//! HTTP: the HTTPS application (API, WebSocket, web UI) and the plain-HTTP onboarding site.
//! Only this module knows JSON and HTTP status codes; it calls `auth` and `store` for everything.

mod admin_api;
mod api;
mod assets;
mod chat_api;
pub mod error;
mod files_api;
mod onboarding;
mod session;
mod ws;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
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

/// Cheap handles shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub auth: Auth,
    pub chat: Chat,
    pub calls: crate::calls::Calls,
    pub media: crate::media::Media,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub pki: Arc<Pki>,
    /// Flips to true when the server shuts down; long-lived connections close on it.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The HTTPS port actually bound (differs from the config when it asked for port 0).
    pub https_port: u16,
}

const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'self'";

/// The application served over HTTPS.
pub fn https_router(state: AppState) -> Router {
    let (api, openapi) = api::router()
        .merge(chat_api::router())
        .merge(admin_api::router())
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
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(move |req, next| {
            security_headers(req, next, hsts)
        }))
        .layer(middleware::from_fn(log_server_errors))
        .with_state(state)
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

async fn security_headers(req: Request, next: Next, hsts: bool) -> Response {
    let mut resp = next.run(req).await;
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
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// Logs each server error once, with its internal cause, here rather than at every return.
async fn log_server_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    if resp.status().is_server_error() {
        let cause = resp
            .extensions()
            .get::<error::InternalCause>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        tracing::error!(%method, %path, status = resp.status().as_u16(), %cause, "request failed");
    }
    resp
}
