//! Incoming webhooks: managing a channel's webhooks, and the secret URL systems post to.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::rfc3339;
use super::chat_api::actor;
use super::error::{ErrorBody, Json, Path};
use super::{ApiError, AppState, CurrentUser};
use crate::store::webhooks::{Outgoing, Webhook};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
        .routes(routes!(post))
        .routes(routes!(list_outgoing))
        .routes(routes!(create_outgoing))
        .routes(routes!(delete_outgoing))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    id: i64,
    channel_id: i64,
    name: String,
    created_by: Option<i64>,
    /// RFC 3339.
    created_at: String,
    last_used_at: Option<String>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        WebhookView {
            id: w.id,
            channel_id: w.channel_id,
            name: w.name,
            created_by: w.created_by,
            created_at: rfc3339(w.created_at),
            last_used_at: w.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Shown as the sender of what it posts unless a post names itself.
    name: String,
}

#[derive(Serialize, ToSchema)]
pub struct WebhookCreated {
    webhook: WebhookView,
    /// The secret part of the URL, shown this once.
    token: String,
    /// Where to post, relative to this server: `/api/v1/hooks/{token}`.
    path: String,
}

/// A channel's incoming webhooks (its owners and administrators).
#[utoipa::path(get, path = "/api/v1/channels/{id}/webhooks", responses(
    (status = 200, body = Vec<WebhookView>),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn list(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    let hooks = s.chat.webhooks(actor(&who), id).await?;
    Ok(Json(hooks.into_iter().map(Into::into).collect()))
}

/// Create an incoming webhook for a channel (its owners and administrators). The answer holds
/// the secret URL, shown this once.
#[utoipa::path(post, path = "/api/v1/channels/{id}/webhooks", request_body = NewWebhook, responses(
    (status = 201, body = WebhookCreated),
    (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn create(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<NewWebhook>,
) -> Result<(StatusCode, Json<WebhookCreated>), ApiError> {
    let (hook, token) = s.chat.create_webhook(actor(&who), id, &req.name).await?;
    tracing::info!(by = %who.user.username, channel = id, webhook = hook.id, "webhook created");
    Ok((
        StatusCode::CREATED,
        Json(WebhookCreated {
            webhook: hook.into(),
            path: format!("/api/v1/hooks/{token}"),
            token,
        }),
    ))
}

/// Delete a webhook: its URL stops working at once (the channel's owners and administrators).
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn delete(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.chat.delete_webhook(actor(&who), id).await?;
    tracing::info!(by = %who.user.username, webhook = id, "webhook deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HookPost {
    /// The message (the same Markdown subset people use). `@channel` reaches everyone.
    text: String,
    /// The sender name to show instead of the webhook's own (display-name rules).
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct HookPosted {
    message_id: i64,
    channel_id: i64,
    seq: i64,
}

/// Post into the webhook's channel. No session: the token in the path is the credential.
/// Bodies are limited like every JSON body (`limits.max_json_body`), the text like any
/// message, and each webhook to 5 posts a second (bursts of 30).
#[utoipa::path(post, path = "/api/v1/hooks/{token}", request_body = HookPost, responses(
    (status = 200, body = HookPosted),
    (status = 400, body = ErrorBody), (status = 404, body = ErrorBody, description = "Unknown or deleted webhook"),
    (status = 413, body = ErrorBody), (status = 429, body = ErrorBody),
))]
async fn post(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Json(req): Json<HookPost>,
) -> Result<Json<HookPosted>, ApiError> {
    if token.len() > 128 {
        return Err(crate::chat::ChatError::NotFound.into());
    }
    let m = s
        .chat
        .post_from_webhook(&token, req.text, req.display_name)
        .await?;
    Ok(Json(HookPosted {
        message_id: m.id,
        channel_id: m.channel_id,
        seq: m.seq,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct OutgoingView {
    id: i64,
    channel_id: i64,
    name: String,
    trigger_words: Vec<String>,
    url: String,
    /// Sent in every call as `token`, so the receiver can tell the call is from this server.
    secret: String,
    created_by: Option<i64>,
    /// RFC 3339.
    created_at: String,
}

impl From<Outgoing> for OutgoingView {
    fn from(o: Outgoing) -> Self {
        OutgoingView {
            id: o.id,
            channel_id: o.channel_id,
            name: o.name,
            trigger_words: o
                .trigger_words
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            url: o.url,
            secret: o.secret,
            created_by: o.created_by,
            created_at: rfc3339(o.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutgoing {
    /// Shown as the sender of the answers posted back.
    name: String,
    /// A message whose first word is one of these triggers a call (e.g. `!status`).
    trigger_words: Vec<String>,
    /// `http://IP-ADDRESS[:PORT]/PATH` on the LAN: Outpost resolves no names.
    url: String,
}

/// Every outgoing webhook (administrators).
#[utoipa::path(get, path = "/api/v1/outgoing-webhooks", responses(
    (status = 200, body = Vec<OutgoingView>), (status = 403, body = ErrorBody),
))]
async fn list_outgoing(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Result<Json<Vec<OutgoingView>>, ApiError> {
    let all = s.chat.outgoing_webhooks(actor(&who)).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// Create an outgoing webhook for a channel (administrators): messages there starting with a
/// trigger word are POSTed as JSON to the URL, and an answer's `text` is posted back.
#[utoipa::path(post, path = "/api/v1/channels/{id}/outgoing-webhooks", request_body = NewOutgoing, responses(
    (status = 201, body = OutgoingView), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn create_outgoing(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<NewOutgoing>,
) -> Result<(StatusCode, Json<OutgoingView>), ApiError> {
    let hook = s
        .chat
        .create_outgoing(actor(&who), id, &req.name, &req.trigger_words, &req.url)
        .await?;
    tracing::info!(by = %who.user.username, channel = id, url = %hook.url, "outgoing webhook created");
    Ok((StatusCode::CREATED, Json(hook.into())))
}

/// Delete an outgoing webhook (administrators).
#[utoipa::path(delete, path = "/api/v1/outgoing-webhooks/{id}", responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn delete_outgoing(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.chat.delete_outgoing(actor(&who), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
