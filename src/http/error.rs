//! The one mapping from errors to HTTP responses. Every error body has the same shape,
//! `{"error":{"code":"kebab-case","message":"a sentence","field":…,"params":{…}}}` (the last two
//! only when a `Problem` gives them); internal causes are logged once by the server-error layer
//! and never sent to clients.

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::AuthError;
use crate::problem::Problem;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The request field at fault and the values a translated sentence needs (see `Problem`);
    /// boxed because most errors have none and every `Result` pays for the size.
    pub detail: Option<Box<Problem>>,
    pub retry_after: Option<u64>,
    /// Logged by the error layer for 5xx responses; never serialized.
    pub internal: Option<String>,
    /// Headers the status calls for (`Allow`, `Sec-WebSocket-Version`). A `Vec`, not a
    /// `HeaderMap`: every `Result` carrying an `ApiError` pays for its size.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            detail: None,
            retry_after: None,
            internal: None,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// A refused input: 400 with the problem's own code, field and values.
    pub fn invalid(problem: Problem) -> Self {
        Self::problem(StatusCode::BAD_REQUEST, problem)
    }

    pub fn problem(status: StatusCode, mut problem: Problem) -> Self {
        let (code, message) = (problem.code, std::mem::take(&mut problem.message));
        ApiError {
            detail: Some(Box::new(problem)),
            ..Self::new(status, code, message)
        }
    }

    pub fn field(&self) -> Option<&'static str> {
        self.detail.as_ref().and_then(|d| d.field)
    }

    /// The values for a translated sentence, as the JSON object clients receive.
    pub fn params(&self) -> serde_json::Map<String, serde_json::Value> {
        self.detail
            .iter()
            .flat_map(|d| d.params.iter())
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in to continue",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "no such resource")
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            internal: Some(cause.to_string()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on the server; the administrator can find details in its log",
            )
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable kebab-case code.
    pub code: String,
    /// An English sentence for people reading raw responses; clients translate `code`.
    pub message: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Values a translated sentence needs, e.g. `{"max": 64}`.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// Marks a response as a server error whose cause the logging layer should record.
#[derive(Clone)]
pub struct InternalCause(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (field, params) = (self.field().map(str::to_string), self.params());
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message,
                field,
                params,
            },
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        resp.headers_mut().extend(self.headers);
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        if let Some(cause) = self.internal {
            resp.extensions_mut().insert(InternalCause(cause));
        }
        resp
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Conflict(c) => ApiError::new(StatusCode::CONFLICT, c.code(), c.to_string()),
            StoreError::DiskFull => ApiError {
                internal: Some("disk full".into()),
                ..ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "disk-full",
                    "the server's disk is full; nothing was saved",
                )
            },
            StoreError::Unavailable(why) => ApiError {
                internal: Some(why),
                retry_after: Some(2),
                ..ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database-unavailable",
                    "the database cannot be reached; nothing was saved, try again shortly",
                )
            },
            nul @ StoreError::NulInText => ApiError::invalid(
                Problem::new("hidden-characters", nul.to_string()).param("char", "U+0000"),
            ),
            other => ApiError::internal(other),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid-credentials",
                e.to_string(),
            ),
            AuthError::RateLimited { retry_after_secs } => ApiError {
                retry_after: Some(retry_after_secs),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", e.to_string())
            },
            AuthError::InvalidToken => {
                ApiError::new(StatusCode::NOT_FOUND, "invalid-token", e.to_string())
            }
            AuthError::Validation(p) => ApiError::invalid(p),
            AuthError::WrongPassword => {
                ApiError::new(StatusCode::FORBIDDEN, "wrong-password", e.to_string())
            }
            AuthError::Hash => ApiError::internal(e),
            AuthError::SecondFactorRequired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "second-factor-required",
                e.to_string(),
            ),
            AuthError::WrongCode => {
                ApiError::new(StatusCode::UNAUTHORIZED, "wrong-code", e.to_string())
            }
            AuthError::CodeNotAccepted => {
                ApiError::new(StatusCode::BAD_REQUEST, "wrong-code", e.to_string())
            }
            AuthError::AlreadyEnabled => {
                ApiError::new(StatusCode::CONFLICT, "already-enabled", e.to_string())
            }
            AuthError::DirectoryUnavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "directory-unavailable",
                e.to_string(),
            ),
            AuthError::TwoFactorRequired => {
                ApiError::new(StatusCode::FORBIDDEN, "two-factor-required", e.to_string())
            }
            AuthError::ManagedByDirectory(_) => {
                ApiError::new(StatusCode::CONFLICT, "managed-by-directory", e.to_string())
            }
            AuthError::NotEditable(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "not-editable", e.to_string())
            }
            AuthError::NotAllowed => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            AuthError::AccountDisabled => {
                ApiError::new(StatusCode::FORBIDDEN, "account-disabled", e.to_string())
            }
            AuthError::BadPhoto(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad-photo", e.to_string())
            }
            AuthError::Store(s) => s.into(),
        }
    }
}

/// `axum::Json` with rejections in the common error shape.
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(_) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "the body is not valid JSON",
        ),
        JsonRejection::JsonDataError(e) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            // serde's message names the field and the expected type, never server internals.
            format!("the JSON does not fit this request: {}", e.body_text()),
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "the request body is too large",
            )
        }
        other => ApiError::new(StatusCode::BAD_REQUEST, "bad-request", other.body_text()),
    }
}

/// `axum::extract::Path` with rejections in the common error shape: an id that is not a
/// number, or does not fit one, is a bad request, not a plain-text answer.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    axum::extract::Path<T>: FromRequestParts<S, Rejection = PathRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(rejection) => Err(path_rejection(rejection)),
        }
    }
}

fn path_rejection(r: PathRejection) -> ApiError {
    let invalid = |message: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid-path", message);
    match r {
        PathRejection::FailedToDeserializePathParams(e) => match e.into_kind() {
            ErrorKind::ParseErrorAtKey {
                key, expected_type, ..
            } => invalid(format!(
                "`{key}` in the path must be {}",
                type_phrase(expected_type)
            )),
            ErrorKind::ParseErrorAtIndex { expected_type, .. }
            | ErrorKind::ParseError { expected_type, .. } => invalid(format!(
                "a path segment must be {}",
                type_phrase(expected_type)
            )),
            ErrorKind::InvalidUtf8InPathParam { key } => {
                invalid(format!("`{key}` in the path is not valid UTF-8"))
            }
            ErrorKind::DeserializeError { key, .. } => {
                invalid(format!("`{key}` in the path is not valid here"))
            }
            // The route and the handler disagree: the server's fault, not the client's.
            other => ApiError::internal(format!("path parameters: {other}")),
        },
        other => ApiError::internal(format!("path parameters: {}", other.body_text())),
    }
}

/// What a parameter of a Rust type looks like to a client.
fn type_phrase(rust_type: &str) -> &'static str {
    match rust_type {
        "i64" | "i32" | "i16" | "i8" => "a whole number within 64 bits",
        "u64" | "u32" | "u16" | "u8" | "usize" => "a non-negative whole number",
        "bool" => "true or false",
        _ => "of the documented type",
    }
}

/// `axum::extract::Query` with rejections in the common error shape.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    axum::extract::Query<T>: FromRequestParts<S, Rejection = QueryRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                // serde names the parameter and what was expected, never server internals.
                let detail = e.body_text();
                let detail = detail
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&detail);
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-query",
                    format!("the query string does not fit this request: {detail}"),
                ))
            }
            Err(other) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-request",
                other.body_text(),
            )),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<crate::chat::ChatError> for ApiError {
    fn from(e: crate::chat::ChatError) -> Self {
        use crate::chat::ChatError;
        match e {
            ChatError::NotFound => ApiError::not_found(),
            ChatError::Forbidden(m) => ApiError::forbidden(m),
            ChatError::Invalid(p) => ApiError::invalid(p),
            ChatError::Archived => ApiError::new(StatusCode::CONFLICT, "archived", e.to_string()),
            ChatError::TooLarge(_) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "message-too-large",
                e.to_string(),
            ),
            ChatError::RateLimited { retry_after_ms } => ApiError {
                retry_after: Some(retry_after_ms.div_ceil(1000)),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate-limited", e.to_string())
            },
            ChatError::Store(s) => s.into(),
        }
    }
}

impl From<crate::calls::CallError> for ApiError {
    fn from(e: crate::calls::CallError) -> Self {
        use crate::calls::CallError;
        match e {
            // A call whose node is gone is no more.
            CallError::NotFound | CallError::OwnerGone => ApiError::not_found(),
            CallError::Full(_) => ApiError::new(StatusCode::CONFLICT, "call-full", e.to_string()),
            CallError::Disabled => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "calls-disabled",
                e.to_string(),
            ),
            CallError::Chat(c) => c.into(),
            CallError::Store(s) => s.into(),
        }
    }
}
