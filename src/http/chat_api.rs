//! Channels and messages over HTTP, for clients that prefer it to the WebSocket. The same `chat`
//! calls back both, so authorization and events are identical.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, Json, Path, Query};
use super::{ApiError, AppState, CurrentUser};
use crate::chat::protocol::{ChannelInfo, ChannelView, MessageView, PersonView};
use crate::chat::Actor;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(browse_channels))
        .routes(routes!(get_channel, update_channel))
        .routes(routes!(join_channel))
        .routes(routes!(leave_channel))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(open_direct))
        .routes(routes!(history, send_message))
        .routes(routes!(edit_message, delete_message))
        .routes(routes!(thread))
        .routes(routes!(react))
        .routes(routes!(pin, unpin))
        .routes(routes!(pins))
        .routes(routes!(mark_read))
        .routes(routes!(mentions))
        .routes(routes!(search))
        .routes(routes!(people))
        .routes(routes!(list_calls))
}

/// Ongoing calls in your conversations.
#[utoipa::path(get, path = "/api/v1/calls", responses((status = 200, body = Vec<crate::calls::CallView>)))]
async fn list_calls(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Json<Vec<crate::calls::CallView>> {
    Json(s.calls.list_all(who.user.id).await)
}

pub(super) fn actor(who: &CurrentUser) -> Actor {
    Actor {
        id: who.user.id,
        is_admin: who.user.is_admin,
    }
}

/// Channels, DMs and group DMs the user belongs to, with unread and mention counts.
#[utoipa::path(get, path = "/api/v1/channels", responses((status = 200, body = Vec<ChannelView>)))]
async fn list_channels(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Result<Json<Vec<ChannelView>>, ApiError> {
    Ok(Json(s.chat.channels(who.user.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    name: String,
    #[serde(default)]
    topic: String,
    /// Private channels are invite-only and invisible to non-members.
    #[serde(default)]
    private: bool,
}

/// Create a channel; the creator becomes its owner.
#[utoipa::path(post, path = "/api/v1/channels", request_body = CreateChannel, responses(
    (status = 201, body = ChannelView), (status = 409, body = ErrorBody, description = "Name taken")))]
async fn create_channel(
    State(s): State<AppState>,
    who: CurrentUser,
    Json(req): Json<CreateChannel>,
) -> Result<(StatusCode, Json<ChannelView>), ApiError> {
    let ch = s
        .chat
        .create_channel(actor(&who), &req.name, &req.topic, req.private)
        .await?;
    tracing::info!(user = %who.user.username, channel = ch.info.id, "channel created");
    Ok((StatusCode::CREATED, Json(ch)))
}

#[derive(Serialize, ToSchema)]
pub struct BrowseEntry {
    #[serde(flatten)]
    channel: ChannelInfo,
    joined: bool,
    member_count: i64,
}

/// Public channels anyone may join.
#[utoipa::path(get, path = "/api/v1/channels/browse", responses((status = 200, body = Vec<BrowseEntry>)))]
async fn browse_channels(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Result<Json<Vec<BrowseEntry>>, ApiError> {
    let list = s.chat.browse(who.user.id).await?;
    Ok(Json(
        list.into_iter()
            .map(|(channel, joined, member_count)| BrowseEntry {
                channel,
                joined,
                member_count,
            })
            .collect(),
    ))
}

/// One channel the user belongs to.
#[utoipa::path(get, path = "/api/v1/channels/{id}", responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody)))]
async fn get_channel(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<ChannelView>, ApiError> {
    Ok(Json(s.chat.channel_view(who.user.id, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannel {
    name: Option<String>,
    topic: Option<String>,
    archived: Option<bool>,
    /// Who may notify everyone with @channel, @here or @all: "everyone" or "owners" (owners
    /// and administrators set this).
    mass_mentions: Option<String>,
}

/// Rename, archive or unarchive, limit @channel (owners, admins) or set the topic (members).
#[utoipa::path(patch, path = "/api/v1/channels/{id}", request_body = UpdateChannel, responses((status = 200, body = ChannelInfo), (status = 403, body = ErrorBody)))]
async fn update_channel(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<UpdateChannel>,
) -> Result<Json<ChannelInfo>, ApiError> {
    let info = s
        .chat
        .update_channel(
            actor(&who),
            id,
            req.name,
            req.topic,
            req.archived,
            req.mass_mentions,
        )
        .await?;
    Ok(Json(info))
}

/// Join a public channel.
#[utoipa::path(post, path = "/api/v1/channels/{id}/join", responses((status = 204), (status = 404, body = ErrorBody)))]
async fn join_channel(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.chat.join(actor(&who), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leave a channel.
#[utoipa::path(post, path = "/api/v1/channels/{id}/leave", responses((status = 204), (status = 404, body = ErrorBody)))]
async fn leave_channel(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.chat.leave(actor(&who), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Member user ids.
#[utoipa::path(get, path = "/api/v1/channels/{id}/members", responses((status = 200, body = Vec<i64>), (status = 404, body = ErrorBody)))]
async fn list_members(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<i64>>, ApiError> {
    Ok(Json(
        s.chat.members(who.user.id, who.user.is_admin, id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMember {
    user_id: i64,
}

/// Add someone to a channel (any member; admins anywhere).
#[utoipa::path(post, path = "/api/v1/channels/{id}/members", request_body = AddMember, responses((status = 204), (status = 404, body = ErrorBody)))]
async fn add_member(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<AddMember>,
) -> Result<StatusCode, ApiError> {
    s.chat.add_member(actor(&who), id, req.user_id).await?;
    tracing::info!(by = %who.user.username, channel = id, user = req.user_id, "member added");
    Ok(StatusCode::NO_CONTENT)
}

/// Remove someone from a channel (owners, admins).
#[utoipa::path(delete, path = "/api/v1/channels/{id}/members/{user_id}", responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_member(
    State(s): State<AppState>,
    who: CurrentUser,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    s.chat.remove_member(actor(&who), id, user_id).await?;
    tracing::info!(by = %who.user.username, channel = id, user = user_id, "member removed");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDirect {
    /// The other people (1 for a DM, up to 15 for a group DM).
    user_ids: Vec<i64>,
}

/// Open (or create) the direct conversation with exactly these people.
#[utoipa::path(post, path = "/api/v1/dms", request_body = OpenDirect, responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody)))]
async fn open_direct(
    State(s): State<AppState>,
    who: CurrentUser,
    Json(req): Json<OpenDirect>,
) -> Result<Json<ChannelView>, ApiError> {
    if req.user_ids.is_empty() {
        return Err(ApiError::invalid(
            crate::problem::Problem::new("no-people", "name at least one other person")
                .field("user_ids"),
        ));
    }
    Ok(Json(s.chat.open_direct(actor(&who), req.user_ids).await?))
}

#[derive(Deserialize, IntoParams)]
pub struct Page {
    /// Messages with a sequence number below this (newest page when both are absent).
    before: Option<i64>,
    /// Messages with a sequence number above this.
    after: Option<i64>,
    /// At most 200; default 50.
    limit: Option<i64>,
}

/// A page of a channel's top-level messages, oldest first.
#[utoipa::path(get, path = "/api/v1/channels/{id}/messages", params(Page), responses((status = 200, body = Vec<MessageView>), (status = 404, body = ErrorBody)))]
async fn history(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Query(p): Query<Page>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    let msgs = s
        .chat
        .history(who.user.id, id, p.before, p.after, p.limit.unwrap_or(50))
        .await?;
    Ok(Json(msgs))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Chosen by the client; a retry with the same id returns the first message.
    client_id: Option<String>,
    #[serde(default)]
    body: String,
    thread_root: Option<i64>,
    /// Ids of finished uploads (`/api/v1/uploads`) to attach; at most 10.
    #[serde(default)]
    attachments: Vec<String>,
    /// A message of the same conversation this one answers (shown as a quote).
    quote_of: Option<i64>,
    /// For a thread reply: also show it in the channel.
    #[serde(default)]
    also_in_channel: bool,
}

/// Post a message (acknowledged once it is durably stored).
#[utoipa::path(post, path = "/api/v1/channels/{id}/messages", request_body = SendMessage, responses(
    (status = 200, body = MessageView), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn send_message(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<SendMessage>,
) -> Result<Json<MessageView>, ApiError> {
    let m = s
        .chat
        .send(
            actor(&who),
            id,
            crate::chat::Draft {
                client_id: req.client_id,
                body: req.body,
                thread_root: req.thread_root,
                attachments: req.attachments,
                quote_of: req.quote_of,
                also_in_channel: req.also_in_channel,
            },
        )
        .await?;
    Ok(Json(m))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditMessage {
    body: String,
}

/// Edit your own message.
#[utoipa::path(patch, path = "/api/v1/messages/{id}", request_body = EditMessage, responses((status = 200, body = MessageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn edit_message(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<EditMessage>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(s.chat.edit(actor(&who), id, req.body).await?))
}

/// Delete a message (leaves a tombstone).
#[utoipa::path(delete, path = "/api/v1/messages/{id}", responses((status = 200, body = MessageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_message(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(s.chat.delete(actor(&who), id).await?))
}

/// A thread: the root message, then its replies in order.
#[utoipa::path(get, path = "/api/v1/messages/{id}/thread", responses((status = 200, body = Vec<MessageView>), (status = 404, body = ErrorBody)))]
async fn thread(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    Ok(Json(s.chat.thread(who.user.id, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct React {
    emoji: String,
}

/// Toggle your reaction.
#[utoipa::path(post, path = "/api/v1/messages/{id}/reactions", request_body = React, responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)))]
async fn react(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<React>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(s.chat.react(actor(&who), id, req.emoji).await?))
}

/// Pin a message to its channel.
#[utoipa::path(post, path = "/api/v1/messages/{id}/pin", responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)))]
async fn pin(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(s.chat.pin(actor(&who), id, true).await?))
}

/// Unpin a message.
#[utoipa::path(delete, path = "/api/v1/messages/{id}/pin", responses((status = 200, body = MessageView), (status = 404, body = ErrorBody)))]
async fn unpin(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<MessageView>, ApiError> {
    Ok(Json(s.chat.pin(actor(&who), id, false).await?))
}

/// A channel's pinned messages.
#[utoipa::path(get, path = "/api/v1/channels/{id}/pins", responses((status = 200, body = Vec<MessageView>), (status = 404, body = ErrorBody)))]
async fn pins(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    Ok(Json(s.chat.pins(who.user.id, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    seq: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadState {
    last_read_seq: i64,
}

/// Move your read position in a channel forward.
#[utoipa::path(post, path = "/api/v1/channels/{id}/read", request_body = MarkRead, responses((status = 200, body = ReadState), (status = 404, body = ErrorBody)))]
async fn mark_read(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<MarkRead>,
) -> Result<Json<ReadState>, ApiError> {
    let last_read_seq = s.chat.mark_read(actor(&who), id, req.seq).await?;
    Ok(Json(ReadState { last_read_seq }))
}

#[derive(Deserialize, IntoParams)]
pub struct MentionsQuery {
    /// Only mentions in messages with a lower id.
    before_id: Option<i64>,
    limit: Option<i64>,
}

/// Messages that mention you, newest first.
#[utoipa::path(get, path = "/api/v1/mentions", params(MentionsQuery), responses((status = 200, body = Vec<MessageView>)))]
async fn mentions(
    State(s): State<AppState>,
    who: CurrentUser,
    Query(q): Query<MentionsQuery>,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    Ok(Json(
        s.chat
            .mentions(who.user.id, q.before_id, q.limit.unwrap_or(50))
            .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
pub struct SearchParams {
    q: String,
    channel_id: Option<i64>,
    author_id: Option<i64>,
    /// Milliseconds since the epoch, inclusive.
    from: Option<i64>,
    /// Milliseconds since the epoch, exclusive.
    to: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchHit {
    message: MessageView,
    /// Text around the match; highlighted words are between U+E000 and U+E001.
    snippet: String,
}

/// Full-text search over every message you may read, best matches first.
#[utoipa::path(get, path = "/api/v1/search", params(SearchParams), responses((status = 200, body = Vec<SearchHit>)))]
async fn search(
    State(s): State<AppState>,
    who: CurrentUser,
    Query(p): Query<SearchParams>,
) -> Result<Json<Vec<SearchHit>>, ApiError> {
    if p.q.chars().count() > 256 {
        return Err(ApiError::invalid(
            crate::problem::Problem::new("too-long", "a search is at most 256 characters")
                .field("q")
                .param("max", 256),
        ));
    }
    let hits = s
        .chat
        .search(
            who.user.id,
            &p.q,
            p.channel_id,
            p.author_id,
            p.from,
            p.to,
            p.limit.unwrap_or(50),
        )
        .await?;
    Ok(Json(
        hits.into_iter()
            .map(|(message, snippet)| SearchHit { message, snippet })
            .collect(),
    ))
}

/// Everyone on the site, with their presence; disabled accounts are included, marked
/// `deactivated`, so their messages keep a name and a face.
#[utoipa::path(get, path = "/api/v1/people", responses((status = 200, body = Vec<PersonView>)))]
async fn people(
    State(s): State<AppState>,
    _who: CurrentUser,
) -> Result<Json<Vec<PersonView>>, ApiError> {
    let list = s.chat.directory().await?;
    let hub = s.chat.hub();
    Ok(Json(
        list.into_iter()
            .map(|u| {
                let presence = hub.presence(u.id);
                PersonView::new(u, presence)
            })
            .collect(),
    ))
}
