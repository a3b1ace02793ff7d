//! Administration: server status, `/metrics` (Prometheus) and the audit log.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, Json, Path, Query};
use super::session::Admin;
use super::{ApiError, AppState};
use crate::metrics::{self, Snapshot};
use crate::store::{audit, users};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(status))
        .routes(routes!(audit_log))
        .routes(routes!(set_retention))
}

/// Gathers the figures shown by `/metrics`, `outpost status` and the admin status page.
pub async fn snapshot(s: &AppState) -> Result<Snapshot, ApiError> {
    let users = s.store.read(users::count_users).await?;
    let last_backup = s.store.read(crate::store::chat::last_backup_at).await?;
    let data_dir = s.config.data_dir.clone();
    let db = s.config.db_path();
    let on_server = s.store.read(crate::store::backup::database_bytes).await?;
    let (database_bytes, file_store_bytes) = tokio::task::spawn_blocking(move || {
        if let Some(bytes) = on_server {
            return (bytes, metrics::dir_size(&data_dir.join("files")));
        }
        let db_bytes: u64 = ["", "-wal", "-shm"]
            .iter()
            .filter_map(|suffix| {
                std::fs::metadata(format!("{}{suffix}", db.display()))
                    .ok()
                    .map(|m| m.len())
            })
            .sum();
        (db_bytes, metrics::dir_size(&data_dir.join("files")))
    })
    .await
    .map_err(ApiError::internal)?;
    let leaf = s.pki.resolver.current().cert.first().map(|c| c.to_vec());
    let expires = leaf
        .as_deref()
        .and_then(crate::pki::certificate_validity)
        .map(|(_, end)| (end - time::OffsetDateTime::now_utc()).whole_seconds())
        .unwrap_or(0);
    Ok(Snapshot {
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_seconds: s.metrics.uptime().as_secs(),
        open_connections: s.chat.hub().connection_count(),
        messages_total: s.metrics.messages_total(),
        messages_per_second: s.metrics.messages_per_second(),
        active_calls: s
            .metrics
            .active_calls
            .load(std::sync::atomic::Ordering::Relaxed),
        database_bytes,
        file_store_bytes,
        backup_age_seconds: last_backup
            .map(|at| ((crate::store::now_ms() - at).max(0) / 1000) as u64),
        certificate_expires_in_seconds: expires,
        users,
        node: s.config.cluster.node_label(),
    })
}

/// Prometheus text format. Administrators may read it from anywhere, and (unless
/// `metrics.allow_loopback` is off) anyone on this machine.
pub async fn metrics(State(s): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let local = s.config.metrics.allow_loopback && peer.is_some_and(|ip| ip.is_loopback());
    if !local {
        let (mut parts, _) = req.into_parts();
        Admin::from_request_parts(&mut parts, &s).await?;
    }
    let snap = snapshot(&s).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::prometheus(&snap, &s.metrics),
    )
        .into_response())
}

/// Server status for the admin page.
#[utoipa::path(get, path = "/api/v1/admin/status", responses((status = 200, body = Object), (status = 403, body = ErrorBody)))]
async fn status(State(s): State<AppState>, _admin: Admin) -> Result<Json<Snapshot>, ApiError> {
    Ok(Json(snapshot(&s).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// "json" (default) or "csv".
    format: Option<String>,
    /// Only entries with a lower id (for paging back).
    before_id: Option<i64>,
    /// Only this action, e.g. "sign-in-failed".
    action: Option<String>,
    /// At most 10,000; default 500.
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    id: i64,
    /// RFC 3339.
    at: String,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    target: String,
    address: String,
    details: String,
}

fn csv_field(v: &str) -> String {
    // Neutralise spreadsheet formulas as well as quoting.
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    format!("\"{}\"", v.replace('"', "\"\""))
}

/// The audit log, newest first, as JSON or CSV (administrators).
#[utoipa::path(get, path = "/api/v1/admin/audit", params(AuditQuery), responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
async fn audit_log(
    State(s): State<AppState>,
    _admin: Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(500).clamp(1, 10_000);
    let action = q.action.clone();
    let rows = s
        .store
        .read(move |c| audit::list(c, q.before_id, action.as_deref(), limit))
        .await?;
    let entries: Vec<AuditEntry> = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: super::api::rfc3339(r.at),
            actor_id: r.actor_id,
            actor: r.actor,
            action: r.action,
            target: r.target,
            address: r.address,
            details: r.details,
        })
        .collect();
    match q.format.as_deref() {
        None | Some("json") => Ok(Json(entries).into_response()),
        Some("csv") => {
            let mut out = String::from("id,at,actor_id,actor,action,target,address,details\n");
            for e in &entries {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{}\n",
                    e.id,
                    csv_field(&e.at),
                    e.actor_id.map(|v| v.to_string()).unwrap_or_default(),
                    csv_field(&e.actor),
                    csv_field(&e.action),
                    csv_field(&e.target),
                    csv_field(&e.address),
                    csv_field(&e.details)
                ));
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"outpost-audit.csv\"",
                    ),
                ],
                out,
            )
                .into_response())
        }
        Some(_) => Err(ApiError::invalid(
            crate::problem::Problem::new("bad-choice", "format is \"json\" or \"csv\"")
                .field("format"),
        )),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days to keep messages in this channel; null follows the server's `retention.days`.
    days: Option<u32>,
}

/// Set a channel's retention period (administrators).
#[utoipa::path(put, path = "/api/v1/admin/channels/{id}/retention", request_body = Retention, responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_retention(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Json(req): Json<Retention>,
) -> Result<StatusCode, ApiError> {
    let actor = crate::chat::Actor {
        id: admin.user.id,
        is_admin: admin.user.is_admin,
    };
    s.chat.set_retention(actor, id, req.days).await?;
    Ok(StatusCode::NO_CONTENT)
}
