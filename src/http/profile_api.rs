//! Profiles: anyone signed in sees people's profiles and photos; people change their own,
//! administrators anyone's.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::api::{UpdateProfile, UserView};
use super::error::{ErrorBody, Json, Path, Query};
use super::{ApiError, AppState, CurrentUser};
use crate::auth::profile::MAX_PHOTO_BYTES;
use crate::chat::protocol::PersonView;
use crate::store::users;

pub fn router() -> OpenApiRouter<AppState> {
    // A photo is sent as the raw image, larger than a JSON body may be; its handlers refuse
    // anything over the photo limit with a clear error. Only they get the larger limit.
    let photos = OpenApiRouter::new()
        .routes(routes!(photo, set_photo, remove_photo))
        .routes(routes!(set_my_photo, remove_my_photo))
        .layer(DefaultBodyLimit::max(MAX_PHOTO_BYTES + 1));
    OpenApiRouter::new()
        .routes(routes!(person))
        .routes(routes!(update_profile))
        .merge(photos)
}

/// Someone's profile card (anyone signed in may look, as in the people directory).
#[utoipa::path(get, path = "/api/v1/users/{id}", responses(
    (status = 200, body = PersonView), (status = 404, body = ErrorBody),
))]
async fn person(
    State(s): State<AppState>,
    _who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<PersonView>, ApiError> {
    let user = s.store.read(move |c| users::user_by_id(c, id)).await?;
    let presence = s.chat.hub().presence(user.id);
    Ok(Json(PersonView::new(user, presence)))
}

/// Change someone's profile: their own, or anyone's for an administrator.
#[utoipa::path(patch, path = "/api/v1/users/{id}/profile", request_body = UpdateProfile, responses(
    (status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
    (status = 409, body = ErrorBody, description = "The field comes from the agency's directory"),
))]
async fn update_profile(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    Json(req): Json<UpdateProfile>,
) -> Result<Json<UserView>, ApiError> {
    let user = s.auth.update_profile(&who.user, id, req.into()).await?;
    Ok(Json(user.into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PhotoQuery {
    /// `small` (96×96, the default) or `large` (up to 512×512).
    size: Option<String>,
    /// The version from `photo_url`; any value, it only makes the address change with the photo.
    #[allow(dead_code)]
    v: Option<i64>,
}

/// Someone's profile photo (JPEG, square).
#[utoipa::path(get, path = "/api/v1/users/{id}/photo", params(PhotoQuery), responses(
    (status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody),
))]
async fn photo(
    State(s): State<AppState>,
    _who: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<PhotoQuery>,
) -> Result<Response, ApiError> {
    let large = match q.size.as_deref() {
        None | Some("small") => false,
        Some("large") => true,
        Some(_) => {
            return Err(ApiError::invalid(
                crate::problem::Problem::new("bad-choice", "size is small or large").field("size"),
            ))
        }
    };
    let image = s
        .store
        .read(move |c| users::avatar_image(c, id, large))
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not-found", "no photo"))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            // The address carries the photo's version, so a copy may be kept; private, since it
            // is only for people signed in here.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
        ],
        image,
    )
        .into_response())
}

/// Set someone's photo (an administrator), from the raw image in the body.
#[utoipa::path(put, path = "/api/v1/users/{id}/photo", request_body(content = Vec<u8>, content_type = "image/*"), responses(
    (status = 200, body = UserView), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "Not an image that can be decoded"),
))]
async fn set_photo(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<UserView>, ApiError> {
    let user = s.auth.set_photo(&who.user, id, checked(body)?).await?;
    Ok(Json(user.into()))
}

/// Remove someone's photo (an administrator).
#[utoipa::path(delete, path = "/api/v1/users/{id}/photo", responses(
    (status = 200, body = UserView), (status = 403, body = ErrorBody),
))]
async fn remove_photo(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<UserView>, ApiError> {
    let user = s.auth.remove_photo(&who.user, id).await?;
    Ok(Json(user.into()))
}

/// Set the signed-in user's photo from the raw image in the body (JPEG, PNG, WebP or GIF; it
/// is cropped square around the centre).
#[utoipa::path(put, path = "/api/v1/me/photo", request_body(content = Vec<u8>, content_type = "image/*"), responses(
    (status = 200, body = UserView), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody),
    (status = 422, body = ErrorBody),
))]
async fn set_my_photo(
    State(s): State<AppState>,
    who: CurrentUser,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<UserView>, ApiError> {
    let user = s
        .auth
        .set_photo(&who.user, who.user.id, checked(body)?)
        .await?;
    Ok(Json(UserView::own(&s, user)))
}

/// Remove the signed-in user's photo.
#[utoipa::path(delete, path = "/api/v1/me/photo", responses((status = 200, body = UserView)))]
async fn remove_my_photo(
    State(s): State<AppState>,
    who: CurrentUser,
) -> Result<Json<UserView>, ApiError> {
    let user = s.auth.remove_photo(&who.user, who.user.id).await?;
    Ok(Json(UserView::own(&s, user)))
}

fn checked(body: Result<Bytes, BytesRejection>) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            format!("a photo is at most {} MiB", MAX_PHOTO_BYTES >> 20),
        )
    };
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                e.body_text(),
            ))
        }
    };
    if body.len() > MAX_PHOTO_BYTES {
        return Err(too_large());
    }
    if body.is_empty() {
        return Err(ApiError::invalid(crate::problem::Problem::new(
            "empty-file",
            "send the image as the request body",
        )));
    }
    Ok(body.to_vec())
}
