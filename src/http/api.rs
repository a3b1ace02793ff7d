//! The JSON API under `/api/v1`: accounts and sessions. Each handler is annotated for the
//! OpenAPI document served at `/api/v1/openapi.json`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, Json, Path};
use super::session::{clear_cookie, session_cookie, Admin, Client};
use super::{ApiError, AppState, CurrentUser};
use crate::auth::NewSession;
use crate::store::{users, Session, User};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Outpost API",
        description = "The HTTP API of an Outpost messaging appliance. Every error, including \
a malformed path, query or body, a wrong method (405, with `Allow`) and an unknown address \
under /api, is an `ErrorBody`: `{\"error\":{\"code\",\"message\"}}`."
    ),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(server_info))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(setup))
        .routes(routes!(accept_invite))
        .routes(routes!(invite_status))
        .routes(routes!(create_invite))
        .routes(routes!(me, update_me))
        .routes(routes!(change_password))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(list_users))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
}

/// RFC 3339 text for a stored millisecond timestamp.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    id: i64,
    username: String,
    display_name: String,
    is_admin: bool,
    disabled: bool,
    /// RFC 3339.
    created_at: String,
    /// Signs in with an authenticator app as well as the password.
    two_factor: bool,
    /// A bot account: acts through API tokens, never signs in with a password.
    is_bot: bool,
    /// The administrator requires two-step sign-in of this user and they have not set it up:
    /// until they do, everything but `/api/v1/me`, `/api/v1/me/two-factor…` and signing out
    /// answers 403 `two-factor-enrolment-required`. Only set on the signed-in user's own view.
    two_factor_required: bool,
    title: String,
    department: String,
    phone: String,
    about: String,
    /// The small profile photo (`&size=large` for the large one); null when there is none.
    photo_url: Option<String>,
    /// An account from the agency's directory (signs in with its directory password).
    from_directory: bool,
    pub status: Option<crate::chat::protocol::StatusView>,
    /// RFC 3339; null if never.
    last_sign_in_at: Option<String>,
    /// Profile fields only the directory may change (own view only): some of `display_name`,
    /// `title`, `department`, `phone`, `photo`.
    managed_fields: Vec<String>,
    /// Every profile field this user may not change themselves (own view only): the
    /// directory's, and those the site keeps for administrators (`auth.profile_fields`).
    read_only_fields: Vec<String>,
    /// A person of a linked site: that site's name, shown as "anna · HQ".
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<String>,
}

use crate::chat::protocol::photo_url;

impl UserView {
    /// The signed-in user's own view, saying whether they must still enrol a second factor.
    pub fn own(s: &AppState, u: User) -> Self {
        let due = s.auth.two_factor_due(&u);
        let read_only = s
            .auth
            .read_only_fields(&u)
            .into_iter()
            .map(String::from)
            .collect();
        UserView {
            two_factor_required: due,
            read_only_fields: read_only,
            managed_fields: s
                .auth
                .managed_fields(&u)
                .into_iter()
                .map(String::from)
                .collect(),
            ..u.into()
        }
    }
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            is_admin: u.is_admin,
            disabled: u.disabled,
            created_at: rfc3339(u.created_at),
            two_factor: u.two_factor,
            is_bot: u.is_bot,
            two_factor_required: false,
            photo_url: photo_url(u.id, u.avatar_version),
            title: u.profile.title,
            department: u.profile.department,
            phone: u.profile.phone,
            about: u.profile.about,
            from_directory: u.from_directory,
            status: u.status.map(Into::into),
            last_sign_in_at: u.last_sign_in_at.map(rfc3339),
            managed_fields: Vec::new(),
            read_only_fields: Vec::new(),
            site: u.site,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    id: String,
    created_at: String,
    last_seen_at: String,
    user_agent: String,
    address: String,
    /// True for the session that made this request.
    current: bool,
}

fn session_view(s: Session, current_id: &str) -> SessionView {
    SessionView {
        current: s.id == current_id,
        id: s.id,
        created_at: rfc3339(s.created_at),
        last_seen_at: rfc3339(s.last_seen_at),
        user_agent: s.user_agent,
        address: s.address,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ServerInfo {
    site_name: String,
    version: String,
    /// SHA-256 of the CA certificate clients must trust.
    ca_fingerprint: String,
    /// True until the first administrator has been created.
    needs_setup: bool,
    /// The plain-HTTP port of the onboarding page (`http://HOST:PORT/`, where phones install
    /// the CA), if it is on.
    http_port: Option<u16>,
    /// Days an unused session lasts: how long a device may keep showing its offline copy of a
    /// session's conversations without hearing from the server.
    session_idle_days: u32,
}

/// Public facts about this server.
#[utoipa::path(get, path = "/api/v1/server", responses((status = 200, body = ServerInfo)))]
async fn server_info(State(s): State<AppState>) -> Result<Json<ServerInfo>, ApiError> {
    let users = s.store.read(users::count_users).await?;
    Ok(Json(ServerInfo {
        site_name: s.config.site_name.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        ca_fingerprint: s.pki.fingerprint(),
        needs_setup: users == 0,
        session_idle_days: s.config.auth.session_idle_days,
        http_port: s.http_port,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    username: String,
    password: String,
    /// For accounts with two-step sign-in: the 6-digit code from the authenticator app, or
    /// an unused recovery code. Asked for (`second-factor-required`) only once the password
    /// is right.
    #[serde(default)]
    code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// A Bearer token for API clients; browsers use the session cookie set alongside.
    token: String,
    user: UserView,
}

fn session_response(s: &AppState, new: NewSession) -> Response {
    let max_age = u64::from(s.config.auth.session_idle_days) * 86_400;
    let cookie = session_cookie(&new.token, max_age);
    let body = LoginResponse {
        token: new.token,
        user: UserView::own(s, new.user),
    };
    ([(header::SET_COOKIE, cookie)], Json(body)).into_response()
}

/// Sign in with a user name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse, description = "Signed in; also sets the session cookie"),
    (status = 401, body = ErrorBody, description = "Wrong user name or password (never says which)"),
    (status = 429, body = ErrorBody, description = "Too many failures; see Retry-After"),
))]
async fn login(
    State(s): State<AppState>,
    client: Client,
    Json(req): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    if req.username.len() > 256
        || req.password.len() > 4096
        || req.code.as_ref().is_some_and(|c| c.len() > 64)
    {
        return Err(crate::auth::AuthError::InvalidCredentials.into());
    }
    let ip = client.addr.map(|a| a.ip());
    let new = s
        .auth
        .login(
            &req.username,
            &req.password,
            req.code.as_deref(),
            client.info,
            ip,
        )
        .await?;
    tracing::info!(user = %new.user.username, "signed in");
    Ok(session_response(&s, new))
}

/// End the current session. The response asks the browser to drop its cache of this site
/// (`Clear-Site-Data: "cache"`), so files seen in the session do not outlive it.
#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204)))]
async fn logout(
    State(s): State<AppState>,
    who: CurrentUser,
    client: Client,
) -> Result<Response, ApiError> {
    s.auth
        .revoke_session(&who.user, &who.session.id, &client.info.address)
        .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [
            (header::SET_COOKIE, clear_cookie()),
            (
                header::HeaderName::from_static("clear-site-data"),
                header::HeaderValue::from_static("\"cache\""),
            ),
        ],
    )
        .into_response())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The token from the setup URL printed at first start.
    token: String,
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
}

/// Create the first administrator with the one-time setup token.
#[utoipa::path(post, path = "/api/v1/auth/setup", request_body = SetupRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 404, body = ErrorBody, description = "The token is invalid, used or expired"),
))]
async fn setup(
    State(s): State<AppState>,
    client: Client,
    Json(req): Json<SetupRequest>,
) -> Result<Response, ApiError> {
    let new = s
        .auth
        .setup(
            &req.token,
            &req.username,
            &req.display_name,
            &req.password,
            client.info,
        )
        .await?;
    tracing::info!(user = %new.user.username, "first administrator created");
    Ok(session_response(&s, new))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInviteRequest {
    token: String,
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
}

/// Create an account with an invite link's token.
#[utoipa::path(post, path = "/api/v1/auth/invite", request_body = AcceptInviteRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 404, body = ErrorBody, description = "The invite is invalid, used or expired"),
    (status = 409, body = ErrorBody, description = "The user name is taken"),
))]
async fn accept_invite(
    State(s): State<AppState>,
    client: Client,
    Json(req): Json<AcceptInviteRequest>,
) -> Result<Response, ApiError> {
    let new = s
        .auth
        .accept_invite(
            &req.token,
            &req.username,
            &req.display_name,
            &req.password,
            client.info,
        )
        .await?;
    tracing::info!(user = %new.user.username, "account created from an invite");
    Ok(session_response(&s, new))
}

#[derive(Serialize, ToSchema)]
pub struct InviteStatus {
    valid: bool,
    expires_at: String,
}

/// Whether an invite token can still be used.
#[utoipa::path(get, path = "/api/v1/invites/{token}", responses(
    (status = 200, body = InviteStatus),
    (status = 404, body = ErrorBody),
))]
async fn invite_status(
    State(s): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<InviteStatus>, ApiError> {
    let invite = s.auth.check_invite(&token).await?;
    Ok(Json(InviteStatus {
        valid: true,
        expires_at: rfc3339(invite.expires_at),
    }))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateInviteRequest {
    /// Lifetime in hours (default from the server's configuration).
    expires_in_hours: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct InviteCreated {
    token: String,
    /// Path of the invite page on this server; the UI prefixes its own origin.
    path: String,
    expires_at: String,
}

/// Create a single-use invite link (administrators).
#[utoipa::path(post, path = "/api/v1/invites", request_body = CreateInviteRequest, responses(
    (status = 200, body = InviteCreated),
    (status = 403, body = ErrorBody),
))]
async fn create_invite(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Json(req): Json<CreateInviteRequest>,
) -> Result<Json<InviteCreated>, ApiError> {
    let (token, invite) = s
        .auth
        .create_invite(&admin.user, req.expires_in_hours)
        .await?;
    tracing::info!(by = %admin.user.username, "invite created");
    Ok(Json(InviteCreated {
        path: format!("/invite/{token}"),
        token,
        expires_at: rfc3339(invite.expires_at),
    }))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn me(State(s): State<AppState>, who: CurrentUser) -> Json<UserView> {
    Json(UserView::own(&s, who.user))
}

/// A change to a profile: only the fields given change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProfile {
    display_name: Option<String>,
    /// Up to 100 characters.
    title: Option<String>,
    /// Up to 100 characters.
    department: Option<String>,
    /// Up to 40 characters: digits, spaces, `+ - ( ) . # * /`.
    phone: Option<String>,
    /// Up to 500 characters; line breaks allowed.
    about: Option<String>,
}

impl From<UpdateProfile> for crate::auth::profile::ProfileChange {
    fn from(r: UpdateProfile) -> Self {
        crate::auth::profile::ProfileChange {
            display_name: r.display_name,
            title: r.title,
            department: r.department,
            phone: r.phone,
            about: r.about,
        }
    }
}

/// Change the signed-in user's profile (a directory account's `managed_fields` answer 409
/// `managed-by-directory`).
#[utoipa::path(patch, path = "/api/v1/me", request_body = UpdateProfile, responses(
    (status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody),
))]
async fn update_me(
    State(s): State<AppState>,
    who: CurrentUser,
    Json(req): Json<UpdateProfile>,
) -> Result<Json<UserView>, ApiError> {
    let user = s
        .auth
        .update_profile(&who.user, who.user.id, req.into())
        .await?;
    Ok(Json(UserView::own(&s, user)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    current_password: String,
    new_password: String,
}

/// Change the password; every other session of this user ends.
#[utoipa::path(put, path = "/api/v1/me/password", request_body = ChangePassword, responses(
    (status = 204), (status = 403, body = ErrorBody, description = "Current password wrong"),
))]
async fn change_password(
    State(s): State<AppState>,
    who: CurrentUser,
    Json(req): Json<ChangePassword>,
) -> Result<StatusCode, ApiError> {
    s.auth
        .change_password(
            &who.user,
            &who.session.id,
            &req.current_password,
            &req.new_password,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user's sessions.
#[utoipa::path(get, path = "/api/v1/sessions", responses((status = 200, body = Vec<SessionView>)))]
async fn list_sessions(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    let sessions = s.auth.sessions(who.user.id).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|x| session_view(x, &who.session.id))
            .collect(),
    ))
}

/// Revoke one of the signed-in user's sessions.
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_session(
    State(s): State<AppState>,
    who: CurrentUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.auth
        .revoke_session(&who.user, &id, &client.info.address)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// All users (administrators).
#[utoipa::path(get, path = "/api/v1/users", responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(s): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<UserView>>, ApiError> {
    let list = s.store.read(users::list_users).await?;
    Ok(Json(list.into_iter().map(UserView::from).collect()))
}

async fn set_disabled(
    s: &AppState,
    admin: &Admin,
    id: i64,
    disabled: bool,
) -> Result<User, ApiError> {
    if disabled && admin.0.user.id == id {
        return Err(ApiError::invalid(crate::problem::Problem::new(
            "own-account",
            "you cannot disable your own account",
        )));
    }
    let entry = crate::store::audit::Entry {
        actor_id: Some(admin.0.user.id),
        actor: admin.0.user.username.clone(),
        action: if disabled {
            "user-disabled"
        } else {
            "user-enabled"
        },
        ..Default::default()
    };
    let user = s
        .store
        .write(move |t| {
            let user = users::set_disabled(t, id, disabled)?;
            let entry = crate::store::audit::Entry {
                target: user.username.clone(),
                ..entry
            };
            crate::store::audit::append(t, &entry)?;
            Ok(user)
        })
        .await?;
    if disabled {
        s.chat.hub().disconnect_user(id);
    }
    s.chat.announce_person(user.clone());
    tracing::info!(by = %admin.0.user.username, user = %user.username, disabled, "user access changed");
    Ok(user)
}

/// Disable a user: every session ends at once (administrators).
#[utoipa::path(post, path = "/api/v1/users/{id}/disable", responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn disable_user(
    State(s): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    set_disabled(&s, &admin, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Enable a disabled user again (administrators).
#[utoipa::path(post, path = "/api/v1/users/{id}/enable", responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enable_user(
    State(s): State<AppState>,
    admin: Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    set_disabled(&s, &admin, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
