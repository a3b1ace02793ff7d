//! How people want to be reached: custom status, preferences, each conversation's
//! notifications, and read receipts in direct conversations.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::UserView;
use super::error::{ErrorBody, Json, Path};
use super::{ApiError, AppState, CurrentUser};
use crate::chat::people::{ClearAfter, PreferencesChange};
use crate::store::users::Preferences;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(preferences, update_preferences))
        .routes(routes!(set_status, clear_status))
        .routes(routes!(set_notifications))
        .routes(routes!(receipts))
}

#[derive(Serialize, ToSchema)]
pub struct PreferencesView {
    /// IANA time zone ("Europe/Moscow"); empty: the browser's.
    time_zone: String,
    /// Do not disturb until this time (ms since the Unix epoch); null: off.
    dnd_until: Option<i64>,
    /// A daily quiet time in `time_zone`, "HH:MM" (both null: none). May pass midnight.
    dnd_start: Option<String>,
    dnd_end: Option<String>,
    /// Words that notify like a mention (whole words, any case).
    keywords: Vec<String>,
    /// Others in direct conversations see how far this person has read.
    read_receipts: bool,
    /// "en", "ru", or "" for the browser's language.
    language: String,
}

impl From<Preferences> for PreferencesView {
    fn from(p: Preferences) -> Self {
        let schedule = !p.dnd_start.is_empty();
        PreferencesView {
            time_zone: p.time_zone,
            dnd_until: p.dnd_until,
            dnd_start: schedule.then_some(p.dnd_start),
            dnd_end: schedule.then_some(p.dnd_end),
            keywords: p.keywords,
            read_receipts: p.read_receipts,
            language: p.language,
        }
    }
}

/// The signed-in user's preferences (the same on every device).
#[utoipa::path(get, path = "/api/v1/me/preferences", responses((status = 200, body = PreferencesView)))]
async fn preferences(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Result<Json<PreferencesView>, ApiError> {
    Ok(Json(s.chat.preferences(who.user.id).await?.into()))
}

/// Fields to change; those left out stay. `dnd_until: null` ends do-not-disturb, `dnd_start`
/// and `dnd_end` both null remove the quiet time.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePreferences {
    time_zone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    dnd_until: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    dnd_start: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    dnd_end: Option<Option<String>>,
    keywords: Option<Vec<String>>,
    read_receipts: Option<bool>,
    language: Option<String>,
}

/// Tells a field sent as null (Some(None)) from one left out (None).
pub(super) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

#[utoipa::path(patch, path = "/api/v1/me/preferences", request_body = UpdatePreferences, responses(
    (status = 200, body = PreferencesView), (status = 400, body = ErrorBody),
))]
async fn update_preferences(
    State(s): State<AppState>,
    who: CurrentUser,
    Json(req): Json<UpdatePreferences>,
) -> Result<Json<PreferencesView>, ApiError> {
    let dnd_schedule = match (req.dnd_start, req.dnd_end) {
        (None, None) => None,
        (Some(Some(a)), Some(Some(b))) => Some(Some((a, b))),
        (Some(None), Some(None)) => Some(None),
        _ => {
            return Err(ApiError::invalid(
                crate::problem::Problem::new(
                    "bad-quiet-time",
                    "dnd_start and dnd_end are set (or cleared) together",
                )
                .field("dnd_start"),
            ))
        }
    };
    let change = PreferencesChange {
        time_zone: req.time_zone,
        dnd_until: req.dnd_until,
        dnd_schedule,
        keywords: req.keywords,
        read_receipts: req.read_receipts,
        language: req.language,
    };
    Ok(Json(
        s.chat.set_preferences(who.user.id, change).await?.into(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetStatus {
    /// One emoji, or empty.
    #[serde(default)]
    emoji: String,
    /// Up to 100 characters.
    #[serde(default)]
    text: String,
    /// "30m", "1h", "4h", "today", "week" (both in the user's time zone) or "never".
    clear_after: ClearAfter,
    /// The device's IANA time zone, used for "today" and "week" when the user's preferences
    /// name none.
    time_zone: Option<String>,
}

/// Set the signed-in user's custom status; everyone connected sees it at once.
#[utoipa::path(put, path = "/api/v1/me/status", request_body = SetStatus, responses(
    (status = 200, body = UserView), (status = 400, body = ErrorBody),
))]
async fn set_status(
    State(s): State<AppState>,
    who: CurrentUser,
    Json(req): Json<SetStatus>,
) -> Result<Json<UserView>, ApiError> {
    let user = s
        .chat
        .set_status(
            who.user.id,
            req.emoji,
            req.text,
            req.clear_after,
            req.time_zone,
        )
        .await?;
    Ok(Json(UserView::own(&s, user)))
}

#[utoipa::path(delete, path = "/api/v1/me/status", responses((status = 200, body = UserView)))]
async fn clear_status(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Result<Json<UserView>, ApiError> {
    let user = s
        .chat
        .set_status(
            who.user.id,
            String::new(),
            String::new(),
            ClearAfter::Never,
            None,
        )
        .await?;
    Ok(Json(UserView::own(&s, user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetNotifications {
    /// "all", "mentions" or "none".
    notify: String,
    /// Muted until this time (ms since the Unix epoch); a very large value mutes for good;
    /// null or absent: not muted.
    muted_until: Option<i64>,
}

/// How the signed-in member is notified of one conversation.
#[utoipa::path(put, path = "/api/v1/channels/{id}/notifications", request_body = SetNotifications, responses(
    (status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn set_notifications(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<SetNotifications>,
) -> Result<StatusCode, ApiError> {
    s.chat
        .set_notify(who.user.id, id, req.notify, req.muted_until)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Receipt {
    user_id: i64,
    /// Read up to this message sequence number.
    seq: i64,
    /// When (ms since the Unix epoch); null if never.
    read_at: Option<i64>,
}

/// How far the other members of a direct conversation have read (members only; people who
/// turned read receipts off are not listed). Live changes come as `receipt` events.
#[utoipa::path(get, path = "/api/v1/channels/{id}/receipts", responses(
    (status = 200, body = Vec<Receipt>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn receipts(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<Receipt>>, ApiError> {
    let list = s.chat.receipts(who.user.id, id).await?;
    Ok(Json(
        list.into_iter()
            .map(|(user_id, seq, read_at)| Receipt {
                user_id,
                seq,
                read_at,
            })
            .collect(),
    ))
}
