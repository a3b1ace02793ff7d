//! What an administrator does without a terminal: password reset links, signing someone out
//! everywhere, the administrator role, every channel with its owners, site settings; and the
//! public halves a person uses (a reset link, checking a setup link).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::{rfc3339, UserView};
use super::error::{ErrorBody, Json, Path};
use super::session::{Admin, Client};
use super::{ApiError, AppState, CurrentUser};
use crate::auth::two_factor::Policy;
use crate::chat::protocol::ChannelInfo;
use crate::chat::Actor;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_reset))
        .routes(routes!(reset_status, use_reset))
        .routes(routes!(end_sessions))
        .routes(routes!(set_admin))
        .routes(routes!(channels))
        .routes(routes!(set_role))
        .routes(routes!(settings, update_settings))
        .routes(routes!(setup_status))
        .routes(routes!(qr))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct QrQuery {
    /// What to encode (at most 1024 bytes), e.g. an invite link.
    text: String,
}

/// A QR code as SVG, for showing an invite link or the onboarding address to phones (signed-in
/// users; drawn here, nothing leaves the site).
#[utoipa::path(get, path = "/api/v1/qr", params(QrQuery), responses(
    (status = 200, content_type = "image/svg+xml"), (status = 400, body = ErrorBody),
))]
async fn qr(
    _who: CurrentUser,
    super::error::Query(q): super::error::Query<QrQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    if q.text.is_empty() || q.text.len() > 1024 {
        return Err(ApiError::invalid(
            crate::problem::Problem::new("bad-length", "text is 1 to 1024 bytes")
                .field("text")
                .param("max", 1024),
        ));
    }
    let svg = super::onboarding::qr_svg(&q.text).ok_or_else(|| {
        ApiError::invalid(
            crate::problem::Problem::new("too-long", "that text does not fit in a QR code")
                .field("text"),
        )
    })?;
    Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

fn actor(who: &CurrentUser) -> Actor {
    Actor {
        id: who.user.id,
        is_admin: who.user.is_admin,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ResetLink {
    /// Open this path on the server (hand it over in person or by phone); it works once.
    path: String,
    token: String,
    /// RFC 3339.
    expires_at: String,
}

/// Make a one-time password reset link for a user (administrators). Earlier unused links for
/// them stop working. Directory and bot accounts have no password here (400).
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", responses(
    (status = 200, body = ResetLink), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
async fn create_reset(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Json<ResetLink>, ApiError> {
    let (token, expires) = s.auth.create_password_reset(&admin.user, id).await?;
    Ok(Json(ResetLink {
        path: format!("/reset/{token}"),
        token,
        expires_at: rfc3339(expires),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ResetStatus {
    username: String,
    display_name: String,
}

/// Whom a reset link is for, if it still works (404 `invalid-token` once used or expired).
#[utoipa::path(get, path = "/api/v1/password-resets/{token}", responses(
    (status = 200, body = ResetStatus), (status = 404, body = ErrorBody),
))]
async fn reset_status(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<ResetStatus>, ApiError> {
    let user = s.auth.check_password_reset(&token).await?;
    Ok(Json(ResetStatus {
        username: user.username,
        display_name: user.display_name,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    password: String,
}

/// Choose a new password with a reset link, once; every session of the account ends, and the
/// person signs in with the new password.
#[utoipa::path(post, path = "/api/v1/password-resets/{token}", request_body = NewPassword, responses(
    (status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn use_reset(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Json(req): Json<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let user = s.auth.use_password_reset(&token, &req.password).await?;
    s.chat.hub().disconnect_user(user.id);
    Ok(StatusCode::NO_CONTENT)
}

/// Sign a user out everywhere (administrators): every session ends, live connections close.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn end_sessions(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.auth.end_sessions(&admin.user, id).await?;
    s.chat.hub().disconnect_user(id);
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAdmin {
    is_admin: bool,
}

/// Make a user an administrator or not (administrators; not yourself; a directory account's
/// role follows `ldap.admin_groups` when that is set: 409 `managed-by-directory`).
#[utoipa::path(put, path = "/api/v1/users/{id}/admin", request_body = SetAdmin, responses(
    (status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody),
))]
async fn set_admin(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Json(req): Json<SetAdmin>,
) -> Result<Json<UserView>, ApiError> {
    let user = s.auth.set_admin(&admin.user, id, req.is_admin).await?;
    Ok(Json(user.into()))
}

#[derive(Serialize, ToSchema)]
pub struct ChannelOverview {
    #[serde(flatten)]
    info: ChannelInfo,
    members: i64,
    owner_ids: Vec<i64>,
    /// When the last message was sent (ms since the Unix epoch); null if never.
    last_activity: Option<i64>,
    /// The channel's own retention in days; null follows the site's.
    retention_days: Option<u32>,
}

/// Every public and private channel, archived ones too (administrators).
#[utoipa::path(get, path = "/api/v1/admin/channels", responses(
    (status = 200, body = Vec<ChannelOverview>), (status = 403, body = ErrorBody),
))]
async fn channels(
    State(s): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<ChannelOverview>>, ApiError> {
    let list = s.chat.overview().await?;
    Ok(Json(
        list.into_iter()
            .map(|o| ChannelOverview {
                info: ChannelInfo::from(&o.channel),
                members: o.members,
                owner_ids: o.owners,
                last_activity: o.last_activity,
                retention_days: o.retention_days,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetRole {
    /// "owner" or "member".
    role: String,
}

/// Make a member an owner or a plain member (the channel's owners, administrators).
#[utoipa::path(put, path = "/api/v1/channels/{id}/members/{user_id}/role", request_body = SetRole, responses(
    (status = 200, body = ChannelInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 404, body = ErrorBody),
))]
async fn set_role(
    State(s): State<AppState>,
    who: CurrentUser,
    Path((id, user_id)): Path<(i64, i64)>,
    Json(req): Json<SetRole>,
) -> Result<Json<ChannelInfo>, ApiError> {
    let owner = match req.role.as_str() {
        "owner" => true,
        "member" => false,
        _ => {
            return Err(ApiError::invalid(
                crate::problem::Problem::new("bad-choice", "role is \"owner\" or \"member\"")
                    .field("role"),
            ))
        }
    };
    Ok(Json(
        s.chat.set_role(actor(&who), id, user_id, owner).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Settings {
    /// Who must sign in with an authenticator app: `off`, `admins` or `everyone`.
    two_factor_policy: Policy,
    /// Days messages are kept in channels without their own setting (0: forever).
    retention_days: u32,
    /// True while `retention_days` is the configuration file's (no administrator set it here).
    retention_from_config: bool,
}

async fn current_settings(s: &AppState) -> Result<Settings, ApiError> {
    let (retention_days, retention_from_config) =
        s.chat.site_retention(s.config.retention.days).await?;
    Ok(Settings {
        two_factor_policy: s.auth.two_factor_policy(),
        retention_days,
        retention_from_config,
    })
}

/// Site-wide settings (administrators).
#[utoipa::path(get, path = "/api/v1/admin/settings", responses(
    (status = 200, body = Settings), (status = 403, body = ErrorBody),
))]
async fn settings(State(s): State<AppState>, _admin: Admin) -> Result<Json<Settings>, ApiError> {
    Ok(Json(current_settings(&s).await?))
}

/// Fields to change; those left out stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSettings {
    two_factor_policy: Option<Policy>,
    /// Days to keep messages site-wide (0: forever); null: follow the configuration file.
    #[serde(default, deserialize_with = "super::people_api::present")]
    #[schema(value_type = Option<u32>)]
    retention_days: Option<Option<u32>>,
}

/// Change site-wide settings (administrators). Requiring two-step sign-in takes effect at
/// once: users it applies to who have not set it up can do nothing else until they do.
#[utoipa::path(put, path = "/api/v1/admin/settings", request_body = UpdateSettings, responses(
    (status = 200, body = Settings), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
))]
async fn update_settings(
    State(s): State<AppState>,
    Admin(admin): Admin,
    client: Client,
    Json(req): Json<UpdateSettings>,
) -> Result<Json<Settings>, ApiError> {
    if let Some(days) = req.retention_days {
        let actor = Actor {
            id: admin.user.id,
            is_admin: true,
        };
        s.chat.set_site_retention(actor, days).await?;
    }
    if let Some(policy) = req.two_factor_policy {
        s.auth
            .set_two_factor_policy(&admin.user, policy, &client.info.address)
            .await?;
    }
    Ok(Json(current_settings(&s).await?))
}

#[derive(Serialize, ToSchema)]
pub struct SetupStatus {
    valid: bool,
}

/// Whether a setup link still works (404 `invalid-token` once used or expired), so the page
/// says so before showing a form.
#[utoipa::path(get, path = "/api/v1/auth/setup/{token}", responses(
    (status = 200, body = SetupStatus), (status = 404, body = ErrorBody),
))]
async fn setup_status(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<SetupStatus>, ApiError> {
    s.auth.check_setup_token(&token).await?;
    Ok(Json(SetupStatus { valid: true }))
}
