//! Two-step sign-in under `/api/v1/me/two-factor` (enrol, confirm, turn off, new recovery
//! codes) and its administration (`DELETE /api/v1/users/{id}/two-factor`, the site policy in
//! `/api/v1/admin/settings`).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, Json, Path};
use super::session::{Admin, Client};
use super::{ApiError, AppState, CurrentUser};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(begin, disable))
        .routes(routes!(confirm))
        .routes(routes!(recovery_codes))
        .routes(routes!(reset))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct EnrolmentView {
    /// The secret in base32, for typing into an app that cannot scan.
    secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    uri: String,
    /// The URI as a QR code, an SVG document drawn by this server.
    qr_svg: String,
}

/// Start enrolling an authenticator app (the password is asked again). The enrolment waits
/// 15 minutes for its first code; starting again replaces it.
#[utoipa::path(post, path = "/api/v1/me/two-factor", request_body = PasswordBody, responses(
    (status = 200, body = EnrolmentView),
    (status = 403, body = ErrorBody, description = "`wrong-password`"),
    (status = 409, body = ErrorBody, description = "`already-enabled`"),
))]
async fn begin(
    State(s): State<AppState>,
    who: CurrentUser,
    Json(req): Json<PasswordBody>,
) -> Result<Json<EnrolmentView>, ApiError> {
    let e = s
        .auth
        .begin_two_factor(&who.user, &req.password, &s.config.site_name)
        .await?;
    let qr_svg = super::onboarding::qr_svg(&e.uri)
        .ok_or_else(|| ApiError::internal("the enrolment QR code could not be drawn"))?;
    Ok(Json(EnrolmentView {
        secret: e.secret,
        uri: e.uri,
        qr_svg,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeBody {
    /// The 6-digit code the app shows now.
    code: String,
}

#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    /// Ten one-time codes for signing in without the phone, shown this once.
    recovery_codes: Vec<String>,
}

/// Finish enrolling with the first code from the app; answers the recovery codes.
#[utoipa::path(post, path = "/api/v1/me/two-factor/confirm", request_body = CodeBody, responses(
    (status = 200, body = RecoveryCodes),
    (status = 400, body = ErrorBody, description = "`wrong-code`"),
    (status = 404, body = ErrorBody, description = "No enrolment started, or it expired"),
    (status = 429, body = ErrorBody),
))]
async fn confirm(
    State(s): State<AppState>,
    who: CurrentUser,
    client: Client,
    Json(req): Json<CodeBody>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    if req.code.len() > 64 {
        return Err(crate::auth::AuthError::CodeNotAccepted.into());
    }
    let recovery_codes = s
        .auth
        .confirm_two_factor(&who.user, &req.code, &client.info.address)
        .await?;
    tracing::info!(user = %who.user.username, "two-step sign-in turned on");
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Turn two-step sign-in off (the password is asked again; refused while the site requires
/// it of this user).
#[utoipa::path(delete, path = "/api/v1/me/two-factor", request_body = PasswordBody, responses(
    (status = 204),
    (status = 403, body = ErrorBody, description = "`wrong-password` or `two-factor-required`"),
))]
async fn disable(
    State(s): State<AppState>,
    who: CurrentUser,
    client: Client,
    Json(req): Json<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.auth
        .disable_two_factor(&who.user, &req.password, &client.info.address)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the recovery codes (the password is asked again); the old ones stop working.
#[utoipa::path(post, path = "/api/v1/me/two-factor/recovery-codes", request_body = PasswordBody, responses(
    (status = 200, body = RecoveryCodes),
    (status = 403, body = ErrorBody, description = "`wrong-password`"),
    (status = 404, body = ErrorBody, description = "Two-step sign-in is off"),
))]
async fn recovery_codes(
    State(s): State<AppState>,
    who: CurrentUser,
    client: Client,
    Json(req): Json<PasswordBody>,
) -> Result<Json<RecoveryCodes>, ApiError> {
    let recovery_codes = s
        .auth
        .new_recovery_codes(&who.user, &req.password, &client.info.address)
        .await?;
    Ok(Json(RecoveryCodes { recovery_codes }))
}

/// Turn a user's two-step sign-in off, e.g. after a lost phone (administrators). If the site
/// requires it, the user sets it up again at their next request.
#[utoipa::path(delete, path = "/api/v1/users/{id}/two-factor", responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn reset(
    State(s): State<AppState>,
    Admin(admin): Admin,
    client: Client,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let user = s
        .auth
        .reset_two_factor(&admin.user, id, &client.info.address)
        .await?;
    tracing::info!(by = %admin.user.username, user = %user.username, "two-step sign-in reset");
    Ok(StatusCode::NO_CONTENT)
}
