//! The web UI bundle, embedded at build time from `assets/dist` so `cargo build` needs no Node.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

use super::AppState;

#[derive(RustEmbed)]
#[folder = "assets/dist"]
struct Bundle;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assets/{*file}", get(hashed_asset))
        .fallback(spa)
}

/// Hashed files never change under a given name: cache them for a year.
async fn hashed_asset(req: Request) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    match Bundle::get(path) {
        Some(file) => {
            let mime = mime_for(path);
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("public, max-age=31536000, immutable"),
                    ),
                ],
                file.data,
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Every other GET is a client-side route: answer with the app's index page.
async fn spa(req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = req.uri().path().trim_start_matches('/');
    // Top-level files of the bundle (icons, manifest) are served as they are.
    if !path.is_empty() && !path.contains('/') {
        if path == "manifest.webmanifest" && super::onboarding::prefers_russian(req.headers()) {
            if let Some(russian) = Bundle::get(path).and_then(|f| russian_manifest(&f.data)) {
                return (
                    [
                        (
                            header::CONTENT_TYPE,
                            HeaderValue::from_static(mime_for(path)),
                        ),
                        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                        (header::VARY, HeaderValue::from_static("Accept-Language")),
                    ],
                    russian,
                )
                    .into_response();
            }
        }
        if let Some(file) = Bundle::get(path) {
            return (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static(mime_for(path)),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                ],
                file.data,
            )
                .into_response();
        }
    }
    match Bundle::get("index.html") {
        Some(file) => {
            // The page is in the browser's language before the app's script runs (the title,
            // screen readers, the no-script note); the app then follows the person's setting.
            let body = if super::onboarding::prefers_russian(req.headers()) {
                String::from_utf8_lossy(&file.data)
                    .replacen(r#"<html lang="en">"#, r#"<html lang="ru">"#, 1)
                    .into_bytes()
                    .into()
            } else {
                file.data
            };
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/html; charset=utf-8"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                    (header::VARY, HeaderValue::from_static("Accept-Language")),
                ],
                body,
            )
                .into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            "the web UI is not built into this binary",
        )
            .into_response(),
    }
}

/// The web app manifest for a Russian-speaking browser: what the system shows when the app is
/// installed (its description) in Russian, the rest as built.
fn russian_manifest(data: &[u8]) -> Option<Vec<u8>> {
    let mut manifest: serde_json::Value = serde_json::from_slice(data).ok()?;
    let fields = manifest.as_object_mut()?;
    fields.insert("lang".into(), "ru".into());
    fields.insert("description".into(), "Чат команды в своей сети".into());
    serde_json::to_vec(&manifest).ok()
}

pub fn mime_for(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        _ => "application/octet-stream",
    }
}
