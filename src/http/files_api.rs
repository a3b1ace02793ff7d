//! Uploads (resumable, streamed to disk) and file downloads (ranges, thumbnails, previews).

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncSeekExt;
use tokio_util::io::ReaderStream;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ErrorBody, Json, Path};
use super::{AppState, CurrentUser};
use crate::chat::protocol::FileView;
use crate::media::{sniff, MediaError, NewUpload, UploadStatus, MAX_POSTER_BYTES};
use crate::problem::Problem;
use crate::store::files::FileRow;

/// How long a browser may keep a file without asking again (see `serve_blob`).
const FILE_CACHE_CONTROL: &str = "private, max-age=3600";

/// Size of the chunks the web UI sends; any size up to the file's is accepted.
const CHUNK_BYTES: u64 = 8 << 20;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_upload))
        .routes(routes!(upload_status, append, cancel_upload))
        .routes(routes!(download))
        .routes(routes!(view))
        .routes(routes!(thumb))
        .routes(routes!(preview))
        .routes(routes!(get_poster, set_poster))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUpload {
    /// The file's name as the user knows it.
    name: String,
    /// Exact size in bytes; checked against the size limit and quota before any byte is sent.
    size: u64,
    /// What the client believes the type is. The server sniffs the content and decides.
    mime: Option<String>,
    /// For video: dimensions and duration measured by the browser (duration for audio too).
    width: Option<u32>,
    height: Option<u32>,
    duration_ms: Option<u64>,
    /// For a voice message: its loudness over time, up to 128 values of 0-255.
    waveform: Option<Vec<u8>>,
    /// Recorded as a voice message (shown with a waveform and played one after another).
    #[serde(default)]
    voice: bool,
}

#[derive(Serialize, ToSchema)]
pub struct UploadView {
    id: String,
    size: u64,
    /// Bytes the server holds; send the next chunk from here.
    offset: u64,
    /// Where to PATCH the bytes.
    url: String,
    /// A good chunk size.
    chunk_bytes: u64,
    /// The stored file, once the last byte arrived.
    file: Option<FileView>,
}

impl UploadView {
    fn new(s: UploadStatus, file: Option<FileRow>) -> Self {
        UploadView {
            url: format!("/api/v1/uploads/{}", s.id),
            id: s.id,
            size: s.size,
            offset: s.offset,
            chunk_bytes: CHUNK_BYTES,
            file: file.map(Into::into),
        }
    }
}

/// Start an upload. Send its bytes with PATCH, then attach its id to a message.
#[utoipa::path(post, path = "/api/v1/uploads", request_body = CreateUpload, responses(
    (status = 201, body = UploadView), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn create_upload(
    State(s): State<AppState>,
    who: CurrentUser,
    Json(req): Json<CreateUpload>,
) -> Result<(StatusCode, Json<UploadView>), ApiError> {
    let status = s
        .media
        .create_upload(
            who.user.id,
            NewUpload {
                name: req.name,
                size: req.size,
                mime: req.mime,
                width: req.width,
                height: req.height,
                duration_ms: req.duration_ms,
                waveform: req.waveform,
                voice: req.voice,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UploadView::new(status, None))))
}

/// Where an upload stands, to resume it after a dropped connection.
#[utoipa::path(get, path = "/api/v1/uploads/{id}", responses((status = 200, body = UploadView), (status = 404, body = ErrorBody)))]
async fn upload_status(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<UploadView>, ApiError> {
    let status = s.media.upload_status(who.user.id, &id).await?;
    Ok(Json(UploadView::new(status, None)))
}

/// Send bytes of an upload. `Upload-Offset` must equal the upload's current offset. The
/// response to the last chunk carries the stored file.
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", params(("Upload-Offset" = u64, Header, description = "where these bytes start")),
    responses((status = 200, body = UploadView), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 507, body = ErrorBody)))]
async fn append(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UploadView>, ApiError> {
    let offset = headers
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::invalid(
                crate::problem::Problem::new(
                    "bad-offset",
                    "send the Upload-Offset header with the byte position these bytes start at",
                )
                .field("Upload-Offset"),
            )
        })?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let out = s
        .media
        .append(who.user.id, &id, offset, declared, body.into_data_stream())
        .await?;
    if let Some(f) = &out.file {
        s.metrics.file_stored(f.size as u64);
    }
    Ok(Json(UploadView::new(out.status, out.file)))
}

/// Cancel an upload.
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", responses((status = 204), (status = 404, body = ErrorBody)))]
async fn cancel_upload(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.media.cancel_upload(who.user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A file's content. Supports `Range` (one range). Only photos, video and audio are shown
/// inline; everything else is a download.
#[utoipa::path(get, path = "/api/v1/files/{id}", responses((status = 200), (status = 206), (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
async fn download(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let f = s.media.readable(who.user.id, &id).await?;
    let inline = sniff::is_inline(&f.mime);
    let path = s
        .media
        .blob_path(&f.sha256)
        .ok_or_else(ApiError::not_found)?;
    let disposition = content_disposition(if inline { "inline" } else { "attachment" }, &f.name);
    let mime = if inline {
        f.mime.as_str()
    } else {
        "application/octet-stream"
    };
    serve_blob(&path, &f.sha256, mime, disposition, &headers).await
}

/// A PDF or plain-text file to read in the browser instead of downloading it (other types:
/// 415 `not-viewable`). Text comes as `text/plain` under a sandbox: nothing in it can run. A PDF
/// is shown by the browser's own viewer, which renders it in its own process and origin; the
/// page around it carries a policy that allows no script, so nothing in the file reaches the
/// app's origin. HTML and SVG are never viewable: they stay downloads.
#[utoipa::path(get, path = "/api/v1/files/{id}/view", responses((status = 200), (status = 404, body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn view(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let f = s.media.readable(who.user.id, &id).await?;
    let (mime, policy) = match f.mime.as_str() {
        "text/plain" => (
            "text/plain; charset=utf-8",
            "default-src 'none'; frame-ancestors 'self'; sandbox",
        ),
        "application/pdf" => (
            "application/pdf",
            "default-src 'none'; object-src 'self'; frame-ancestors 'self'",
        ),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "not-viewable",
                "only PDF and plain-text files can be read in the browser; download others",
            ))
        }
    };
    let path = s
        .media
        .blob_path(&f.sha256)
        .ok_or_else(ApiError::not_found)?;
    let mut resp = serve_blob(
        &path,
        &f.sha256,
        mime,
        content_disposition("inline", &f.name),
        &headers,
    )
    .await?;
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    // Shown in the app's own viewer frame, never framed by another site.
    resp.headers_mut().insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    Ok(resp)
}

/// A photo's thumbnail (at most 480 pixels on the long side).
#[utoipa::path(get, path = "/api/v1/files/{id}/thumb", responses((status = 200), (status = 404, body = ErrorBody)))]
async fn thumb(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let f = s.media.readable(who.user.id, &id).await?;
    derived(&s, f.thumb_sha, &headers).await
}

/// A photo's medium preview (at most 1600 pixels), for photos larger than that.
#[utoipa::path(get, path = "/api/v1/files/{id}/preview", responses((status = 200), (status = 404, body = ErrorBody)))]
async fn preview(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let f = s.media.readable(who.user.id, &id).await?;
    derived(&s, f.preview_sha, &headers).await
}

/// A video's poster frame.
#[utoipa::path(get, path = "/api/v1/files/{id}/poster", responses((status = 200), (status = 404, body = ErrorBody)))]
async fn get_poster(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let f = s.media.readable(who.user.id, &id).await?;
    derived(&s, f.poster_sha, &headers).await
}

/// Set a video's poster frame (a JPEG, PNG or WebP image the browser captured), as its uploader.
#[utoipa::path(put, path = "/api/v1/files/{id}/poster", request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 200, body = FileView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn set_poster(
    State(s): State<AppState>,
    who: CurrentUser,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<FileView>, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_POSTER_BYTES)
        .await
        .map_err(|_| MediaError::TooLarge {
            limit: MAX_POSTER_BYTES as u64,
        })?;
    let f = s.media.set_poster(who.user.id, &id, bytes).await?;
    Ok(Json(f.into()))
}

async fn derived(
    s: &AppState,
    sha: Option<String>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let sha = sha.ok_or_else(ApiError::not_found)?;
    let path = s.media.blob_path(&sha).ok_or_else(ApiError::not_found)?;
    // Derived images are the server's own JPEG or PNG encodings.
    let mut head = [0u8; 8];
    let mime = match tokio::fs::File::open(&path).await {
        Ok(mut f) => {
            use tokio::io::AsyncReadExt;
            let n = f.read(&mut head).await.unwrap_or(0);
            if head[..n].starts_with(b"\x89PNG") {
                "image/png"
            } else {
                "image/jpeg"
            }
        }
        Err(_) => return Err(ApiError::not_found()),
    };
    serve_blob(
        &path,
        &sha,
        mime,
        HeaderValue::from_static("inline"),
        headers,
    )
    .await
}

/// `Content-Disposition` with an ASCII fallback and the UTF-8 name (RFC 6266). Names stored
/// before uploads were cleaned may still hold text-direction or invisible characters; they
/// never reach the browser's save dialog.
fn content_disposition(kind: &str, name: &str) -> HeaderValue {
    let name = crate::text::strip_hidden(name);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// One byte range, inclusive, or why there is none.
#[derive(Debug, PartialEq)]
enum Range {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// Parses `Range: bytes=…` for a body of `len` bytes. Forms it cannot use (several ranges,
/// other units, bad syntax) mean the whole body, as HTTP allows.
fn parse_range(value: Option<&str>, len: u64) -> Range {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Range::Whole;
    };
    if spec.contains(',') {
        return Range::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Range::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return match b.parse::<u64>() {
            Ok(0) => Range::Unsatisfiable,
            Ok(_) if len == 0 => Range::Unsatisfiable,
            Ok(n) => Range::Part(len.saturating_sub(n), len - 1),
            Err(_) => Range::Whole,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return Range::Whole;
    };
    let end = if b.is_empty() {
        len.saturating_sub(1)
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e.min(len.saturating_sub(1)),
            _ => return Range::Whole,
        }
    };
    if start >= len {
        Range::Unsatisfiable
    } else {
        Range::Part(start, end)
    }
}

/// Streams a blob from disk: never read whole into memory.
async fn serve_blob(
    path: &std::path::Path,
    sha: &str,
    mime: &str,
    disposition: HeaderValue,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let etag = format!("\"{sha}\"");
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ApiError::internal(format!("stored file {sha} missing: {e}")))?;
    let len = file.metadata().await.map_err(ApiError::internal)?.len();
    let mut resp = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::ACCEPT_RANGES, "bytes")
        // Never `public`: files are personal. A browser may reuse its copy without asking
        // for at most an hour; after that it revalidates with the ETag (a cheap 304), and
        // the server's answer reflects any access lost since (removed from the channel, the
        // message deleted). Sign-out clears the cache at once (`Clear-Site-Data`).
        .header(header::CACHE_CONTROL, FILE_CACHE_CONTROL)
        .header(header::CONTENT_DISPOSITION, disposition)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        // Even opened on its own, a file is inert: no scripts, no plugins, its own origin.
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; media-src 'self'; img-src 'self'; sandbox",
        );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return resp
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .map_err(ApiError::internal);
    }
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, start, count) = match range {
        Range::Whole => (StatusCode::OK, 0, len),
        Range::Part(a, b) => {
            resp = resp.header(header::CONTENT_RANGE, format!("bytes {a}-{b}/{len}"));
            (StatusCode::PARTIAL_CONTENT, a, b - a + 1)
        }
        Range::Unsatisfiable => {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range-not-satisfiable",
                format!("the file has {len} bytes"),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    file.seek(std::io::SeekFrom::Start(start))
        .await
        .map_err(ApiError::internal)?;
    use tokio::io::AsyncReadExt;
    let stream = ReaderStream::with_capacity(file.take(count), 64 * 1024);
    resp.status(status)
        .header(header::CONTENT_TYPE, mime)
        .header(header::CONTENT_LENGTH, count)
        .body(Body::from_stream(stream))
        .map_err(ApiError::internal)
}

impl From<MediaError> for ApiError {
    fn from(e: MediaError) -> Self {
        match e {
            MediaError::NotFound => ApiError::not_found(),
            MediaError::Invalid(p) => ApiError::invalid(p),
            MediaError::TooLarge { limit } => ApiError::problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                Problem::new("file-too-large", e.to_string()).param("max_bytes", limit),
            ),
            MediaError::Quota { limit, used } => ApiError::problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                Problem::new("quota-exceeded", e.to_string())
                    .param("max_bytes", limit)
                    .param("used_bytes", used),
            ),
            MediaError::Offset { expected } => ApiError::problem(
                StatusCode::CONFLICT,
                Problem::new("offset-mismatch", e.to_string()).param("offset", expected),
            ),
            MediaError::Busy | MediaError::Superseded => {
                ApiError::new(StatusCode::CONFLICT, "upload-busy", e.to_string())
            }
            MediaError::DiskFull => crate::store::StoreError::DiskFull.into(),
            MediaError::Io(io) => ApiError::internal(io),
            MediaError::Store(s) => s.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 100), Range::Whole);
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Range::Part(0, 9));
        assert_eq!(parse_range(Some("bytes=50-"), 100), Range::Part(50, 99));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Range::Part(90, 99));
        assert_eq!(parse_range(Some("bytes=-1000"), 100), Range::Part(0, 99));
        assert_eq!(parse_range(Some("bytes=90-1000"), 100), Range::Part(90, 99));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 100), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Range::Whole);
        assert_eq!(parse_range(Some("items=0-1"), 100), Range::Whole);
        assert_eq!(parse_range(Some("bytes=9-2"), 100), Range::Whole);
    }

    #[test]
    fn dispositions_never_carry_text_direction_characters() {
        let v = content_disposition("attachment", "invoice\u{202E}fdp.exe");
        let s = v.to_str().unwrap();
        assert!(s.contains("filename*=UTF-8''invoicefdp.exe"), "{s}");
        assert!(!s.contains("%E2%80%AE"), "{s}");
    }

    #[test]
    fn dispositions_keep_the_name_and_stay_ascii() {
        let v = content_disposition("attachment", "résumé \"final\".pdf");
        let s = v.to_str().unwrap();
        assert!(
            s.starts_with("attachment; filename=\"r_sum_ _final_.pdf\""),
            "{s}"
        );
        assert!(
            s.contains("filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf"),
            "{s}"
        );
    }
}
