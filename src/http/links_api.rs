//! Linked sites (issue 19): administrators pair this site with others, list, pause and remove
//! links; a channel's owners or an administrator share it with a linked site.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, Json, Path};
use super::session::Admin;
use super::{ApiError, AppState, CurrentUser};
use crate::chat::linked::ShareView;
use crate::chat::Actor;
use crate::links::{LinkError, LinkView};
use crate::problem::Problem;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_links))
        .routes(routes!(create_invite))
        .routes(routes!(accept_invite))
        .routes(routes!(get_link, remove_link))
        .routes(routes!(pause_link))
        .routes(routes!(resume_link))
        .routes(routes!(channel_links))
        .routes(routes!(share, unshare))
}

impl From<LinkError> for ApiError {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Store(s) => s.into(),
            LinkError::NotFound => ApiError::not_found(),
            LinkError::BadCode(_) => {
                ApiError::invalid(Problem::new("bad-link-code", e.to_string()).field("code"))
            }
            LinkError::Off => ApiError::new(StatusCode::CONFLICT, "links-off", e.to_string()),
            LinkError::Unreachable(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "site-unreachable", e.to_string())
            }
            LinkError::PeerRefused(_) | LinkError::Refused(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "site-refused", e.to_string())
            }
        }
    }
}

/// Every link with its state and backlog each way (administrators).
#[utoipa::path(get, path = "/api/v1/admin/links", responses(
    (status = 200, body = [LinkView]), (status = 403, body = ErrorBody),
))]
async fn list_links(
    State(s): State<AppState>,
    Admin(_admin): Admin,
) -> Result<Json<Vec<LinkView>>, ApiError> {
    Ok(Json(s.links.list().await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
struct InviteRequest {
    /// How long the invitation may be used (1 to 720 hours; 24 when left out).
    #[serde(default)]
    hours: Option<u64>,
}

#[derive(Serialize, ToSchema)]
struct InviteView {
    /// Hand this to the other site's administrator (`outpost link accept CODE`); it works once.
    code: String,
    site_name: String,
    /// SHA-256 of this site's CA: the other administrator compares it before accepting.
    fingerprint: String,
    addresses: Vec<String>,
    /// The code as a QR code (SVG).
    qr_svg: String,
}

/// Creates a one-time link invitation (administrators). Opens the link port if needed.
#[utoipa::path(post, path = "/api/v1/admin/links/invites", request_body = InviteRequest,
    responses((status = 200, body = InviteView), (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody)))]
async fn create_invite(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Json(req): Json<InviteRequest>,
) -> Result<Json<InviteView>, ApiError> {
    let hours = req.hours.unwrap_or(crate::links::INVITE_HOURS);
    if !(1..=720).contains(&hours) {
        return Err(ApiError::invalid(
            Problem::new("bad-invite-lifetime", "hours is 1 to 720")
                .field("hours")
                .param("max", 720),
        ));
    }
    let inv = s.links.invite(Some(admin.user.id), hours).await?;
    Ok(Json(InviteView {
        code: inv.code(),
        qr_svg: inv.qr_svg()?,
        site_name: inv.name,
        fingerprint: inv.fingerprint,
        addresses: inv.addresses,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AcceptRequest {
    code: String,
    /// The other site's CA fingerprint as its administrator read it out: when given, it must
    /// match the code's.
    #[serde(default)]
    fingerprint: Option<String>,
}

/// Accepts another site's invitation (administrators): this site dials it from then on.
#[utoipa::path(post, path = "/api/v1/admin/links", request_body = AcceptRequest, responses(
    (status = 200, body = LinkView), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 502, body = ErrorBody),
))]
async fn accept_invite(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Json(req): Json<AcceptRequest>,
) -> Result<Json<LinkView>, ApiError> {
    if req.code.len() > 4096 {
        return Err(ApiError::invalid(
            Problem::new("bad-link-code", "not a link invitation").field("code"),
        ));
    }
    if let Some(fp) = &req.fingerprint {
        let inv = crate::links::Invitation::parse(&req.code)?;
        if !fp.trim().eq_ignore_ascii_case(&inv.fingerprint) {
            return Err(ApiError::invalid(
                Problem::new(
                    "fingerprint-mismatch",
                    "the fingerprint does not match the invitation's",
                )
                .field("fingerprint"),
            ));
        }
    }
    let row = s.links.accept(&req.code, Some(admin.user.id)).await?;
    Ok(Json(s.links.get(row.id).await?))
}

#[utoipa::path(get, path = "/api/v1/admin/links/{id}", responses(
    (status = 200, body = LinkView), (status = 404, body = ErrorBody),
))]
async fn get_link(
    State(s): State<AppState>,
    Admin(_admin): Admin,
    Path(id): Path<i64>,
) -> Result<Json<LinkView>, ApiError> {
    Ok(Json(s.links.get(id).await?))
}

/// Removes a link: the other site is refused at once; what it shared stays readable here.
#[utoipa::path(delete, path = "/api/v1/admin/links/{id}", responses(
    (status = 204), (status = 404, body = ErrorBody),
))]
async fn remove_link(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    s.links.remove(id, Some(admin.user.id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/admin/links/{id}/pause", responses(
    (status = 200, body = LinkView), (status = 404, body = ErrorBody),
))]
async fn pause_link(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Json<LinkView>, ApiError> {
    Ok(Json(
        s.links.set_paused(id, true, Some(admin.user.id)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/admin/links/{id}/resume", responses(
    (status = 200, body = LinkView), (status = 404, body = ErrorBody),
))]
async fn resume_link(
    State(s): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<Json<LinkView>, ApiError> {
    Ok(Json(
        s.links.set_paused(id, false, Some(admin.user.id)).await?,
    ))
}

fn actor(who: &CurrentUser) -> Actor {
    Actor {
        id: who.user.id,
        is_admin: who.user.is_admin,
    }
}

/// A linked site carrying a channel, as its members see it: whether the link is up and how
/// far behind each side is.
#[derive(Serialize, ToSchema)]
struct ChannelLink {
    #[serde(flatten)]
    share: ShareView,
    /// "connected", "disconnected" or "paused".
    state: String,
    last_contact_at: Option<i64>,
    backlog_in: i64,
    backlog_out: i64,
}

/// The linked sites that carry a channel (its members and administrators): those this site
/// shares it with, or its home site.
#[utoipa::path(get, path = "/api/v1/channels/{id}/links", responses(
    (status = 200, body = [ChannelLink]), (status = 404, body = ErrorBody),
))]
async fn channel_links(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<ChannelLink>>, ApiError> {
    let shares = s.chat.channel_shares(actor(&who), id).await?;
    let mut out = Vec::with_capacity(shares.len());
    for share in shares {
        let link = s.links.get(share.link_id).await?;
        out.push(ChannelLink {
            share,
            state: link.state,
            last_contact_at: link.last_contact_at,
            backlog_in: link.backlog_in,
            backlog_out: link.backlog_out,
        });
    }
    Ok(Json(out))
}

/// Shares a channel of this site with a linked site (its owners or an administrator).
#[utoipa::path(put, path = "/api/v1/channels/{id}/links/{link_id}", responses(
    (status = 200, body = [ShareView]), (status = 400, body = ErrorBody),
    (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
))]
async fn share(
    State(s): State<AppState>,
    who: CurrentUser,
    Path((id, link_id)): Path<(i64, i64)>,
) -> Result<Json<Vec<ShareView>>, ApiError> {
    let shares = s.chat.share_channel(actor(&who), id, link_id, true).await?;
    s.links.poke();
    Ok(Json(shares))
}

/// Stops sharing a channel with a linked site.
#[utoipa::path(delete, path = "/api/v1/channels/{id}/links/{link_id}", responses(
    (status = 200, body = [ShareView]), (status = 404, body = ErrorBody),
))]
async fn unshare(
    State(s): State<AppState>,
    who: CurrentUser,
    Path((id, link_id)): Path<(i64, i64)>,
) -> Result<Json<Vec<ShareView>>, ApiError> {
    Ok(Json(
        s.chat
            .share_channel(actor(&who), id, link_id, false)
            .await?,
    ))
}
