//! A message on its own: open it from a link, forward it, save it for later, read how it was
//! edited.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, Json, Path};
use super::{ApiError, AppState, CurrentUser};
use crate::chat::protocol::MessageView;
use crate::chat::Actor;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(message))
        .routes(routes!(forward))
        .routes(routes!(save, unsave))
        .routes(routes!(saved))
        .routes(routes!(edits))
}

fn actor(who: &CurrentUser) -> Actor {
    Actor {
        id: who.user.id,
        is_admin: who.user.is_admin,
    }
}

/// One message (members of its conversation; a link to a message opens with this).
#[utoipa::path(get, path = "/api/v1/messages/{id}", responses(
    (status = 200, body = MessageView), (status = 404, body = ErrorBody),
))]
async fn message(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(s.chat.message(who.user.id, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForwardRequest {
    /// A conversation the sender belongs to.
    channel_id: i64,
    /// Sent just before the forwarded message, as the sender's own.
    #[serde(default)]
    comment: String,
}

/// Forward a message the sender may read, with its files, to a conversation they belong to.
/// The copy names its original author; its link to the original works only for people who may
/// read it.
#[utoipa::path(post, path = "/api/v1/messages/{id}/forward", request_body = ForwardRequest, responses(
    (status = 200, body = MessageView), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody),
))]
async fn forward(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<ForwardRequest>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(
        s.chat
            .forward(actor(&who), id, req.channel_id, req.comment)
            .await?,
    ))
}

/// Save a message for later (the signed-in user's own list).
#[utoipa::path(put, path = "/api/v1/messages/{id}/saved", responses(
    (status = 204), (status = 404, body = ErrorBody),
))]
async fn save(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.chat.set_saved(who.user.id, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a message off the saved list.
#[utoipa::path(delete, path = "/api/v1/messages/{id}/saved", responses((status = 204)))]
async fn unsave(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.chat.set_saved(who.user.id, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct SavedMessage {
    message: MessageView,
    /// When it was saved (ms since the Unix epoch).
    saved_at: i64,
}

/// The signed-in user's saved messages, newest saved first (only those they may still read;
/// at most 500).
#[utoipa::path(get, path = "/api/v1/saved", responses((status = 200, body = Vec<SavedMessage>)))]
async fn saved(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Result<Json<Vec<SavedMessage>>, ApiError> {
    Ok(Json(
        s.chat
            .saved(who.user.id)
            .await?
            .into_iter()
            .map(|(message, saved_at)| SavedMessage { message, saved_at })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct EarlierVersion {
    body: String,
    /// When this text was replaced by the next (ms since the Unix epoch).
    replaced_at: i64,
}

/// How a message read before each edit, oldest first (members of its conversation). Deleting
/// a message deletes these too.
#[utoipa::path(get, path = "/api/v1/messages/{id}/edits", responses(
    (status = 200, body = Vec<EarlierVersion>), (status = 404, body = ErrorBody),
))]
async fn edits(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<EarlierVersion>>, ApiError> {
    Ok(Json(
        s.chat
            .edits(who.user.id, id)
            .await?
            .into_iter()
            .map(|(body, replaced_at)| EarlierVersion { body, replaced_at })
            .collect(),
    ))
}
