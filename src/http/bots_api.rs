//! Bot accounts and their API tokens (administrators).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::{rfc3339, UserView};
use super::error::{ErrorBody, Json, Path};
use super::session::{Admin, Client};
use super::{ApiError, AppState};
use crate::auth::bots::Scopes;
use crate::store::tokens::ApiToken;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_bots, create_bot))
        .routes(routes!(create_token))
        .routes(routes!(revoke_token))
}

#[derive(Serialize, ToSchema)]
pub struct TokenView {
    id: i64,
    name: String,
    /// Any of `read`, `write`, `admin`.
    scopes: Vec<String>,
    /// RFC 3339.
    created_at: String,
    last_used_at: Option<String>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        TokenView {
            scopes: t.scopes().names(),
            id: t.id,
            name: t.name,
            created_at: rfc3339(t.created_at),
            last_used_at: t.last_used_at.map(rfc3339),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct BotView {
    user: UserView,
    tokens: Vec<TokenView>,
}

/// Bot accounts and their tokens (administrators; never the secrets).
#[utoipa::path(get, path = "/api/v1/bots", responses(
    (status = 200, body = Vec<BotView>), (status = 403, body = ErrorBody),
))]
async fn list_bots(
    State(s): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<BotView>>, ApiError> {
    let bots = s.auth.bots().await?;
    Ok(Json(
        bots.into_iter()
            .map(|(user, tokens)| BotView {
                user: user.into(),
                tokens: tokens.into_iter().map(Into::into).collect(),
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBot {
    username: String,
    #[serde(default)]
    display_name: String,
}

/// Create a bot account (administrators). It cannot sign in with a password; give it a token.
#[utoipa::path(post, path = "/api/v1/bots", request_body = NewBot, responses(
    (status = 201, body = UserView), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
))]
async fn create_bot(
    State(s): State<AppState>,
    Admin(admin): Admin,
    client: Client,
    Json(req): Json<NewBot>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let bot = s
        .auth
        .create_bot(
            &admin.user,
            &req.username,
            &req.display_name,
            &client.info.address,
        )
        .await?;
    tracing::info!(by = %admin.user.username, bot = %bot.username, "bot account created");
    Ok((StatusCode::CREATED, Json(bot.into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    name: String,
    /// Any of `read` (read channels and messages, the live connection), `write` (also post,
    /// react, edit its own messages, join), `admin` (administration, if the bot account is an
    /// administrator).
    scopes: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    #[serde(flatten)]
    view: TokenView,
    /// `Authorization: Bearer` this; shown this once.
    token: String,
}

/// Create an API token for a bot account (administrators). The secret is shown this once.
#[utoipa::path(post, path = "/api/v1/bots/{id}/tokens", request_body = NewToken, responses(
    (status = 201, body = TokenCreated), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody, description = "No such bot"),
))]
async fn create_token(
    State(s): State<AppState>,
    Admin(admin): Admin,
    client: Client,
    Path(id): Path<i64>,
    Json(req): Json<NewToken>,
) -> Result<(StatusCode, Json<TokenCreated>), ApiError> {
    let scopes = Scopes::parse(&req.scopes)?;
    let (token, secret) = s
        .auth
        .create_token(&admin.user, id, &req.name, scopes, &client.info.address)
        .await?;
    tracing::info!(by = %admin.user.username, token = token.id, "API token created");
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            view: token.into(),
            token: secret,
        }),
    ))
}

/// Revoke an API token at once (administrators).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn revoke_token(
    State(s): State<AppState>,
    Admin(admin): Admin,
    client: Client,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.auth
        .revoke_token(&admin.user, id, &client.info.address)
        .await?;
    tracing::info!(by = %admin.user.username, token = id, "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}
