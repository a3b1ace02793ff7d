//! Rows for files attached to messages and for uploads in progress.

use super::db::{params, Db, OptionalExtension, Row};

use super::{now_ms, Conflict, Result, StoreError};

/// A stored file. Blobs are named by the SHA-256 of their bytes; several rows may share one.
#[derive(Debug, Clone)]
pub struct FileRow {
    pub id: String,
    pub uploader_id: Option<i64>,
    pub sha256: String,
    pub size: i64,
    pub name: String,
    pub mime: String,
    pub kind: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    pub thumb_sha: Option<String>,
    pub preview_sha: Option<String>,
    pub poster_sha: Option<String>,
    pub message_id: Option<i64>,
    pub created_at: i64,
    /// A recording's loudness over time (0-255 each), for drawing its waveform.
    pub waveform: Option<Vec<u8>>,
    /// Recorded as a voice message.
    pub voice: bool,
}

const FILE_COLS: &str = "id, uploader_id, sha256, size, name, mime, kind, width, height, \
    duration_ms, thumb_sha, preview_sha, poster_sha, message_id, created_at, waveform, voice";

fn file_row(r: &Row<'_>) -> super::db::Result<FileRow> {
    Ok(FileRow {
        id: r.get(0)?,
        uploader_id: r.get(1)?,
        sha256: r.get(2)?,
        size: r.get(3)?,
        name: r.get(4)?,
        mime: r.get(5)?,
        kind: r.get(6)?,
        width: r.get(7)?,
        height: r.get(8)?,
        duration_ms: r.get(9)?,
        thumb_sha: r.get(10)?,
        preview_sha: r.get(11)?,
        poster_sha: r.get(12)?,
        message_id: r.get(13)?,
        created_at: r.get(14)?,
        waveform: r.get(15)?,
        voice: r.get(16)?,
    })
}

pub fn insert_file(c: &Db, f: &FileRow) -> Result<()> {
    c.prepare_cached(&format!(
        "INSERT INTO files({FILE_COLS})
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
    ))?
    .execute(params![
        f.id,
        f.uploader_id,
        f.sha256,
        f.size,
        f.name,
        f.mime,
        f.kind,
        f.width,
        f.height,
        f.duration_ms,
        f.thumb_sha,
        f.preview_sha,
        f.poster_sha,
        f.message_id,
        f.created_at,
        f.waveform,
        f.voice
    ])?;
    Ok(())
}

pub fn file(c: &Db, id: &str) -> Result<Option<FileRow>> {
    Ok(
        c.prepare_cached(&format!("SELECT {FILE_COLS} FROM files WHERE id = ?1"))?
            .query_row([id], file_row)
            .optional()?,
    )
}

/// The file with the channel it was posted in, if it was.
pub fn file_with_channel(c: &Db, id: &str) -> Result<Option<(FileRow, Option<i64>)>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {}, m.channel_id FROM files f LEFT JOIN messages m ON m.id = f.message_id
             WHERE f.id = ?1",
        FILE_COLS
            .split(", ")
            .map(|col| format!("f.{col}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?
    .query_row([id], |r| {
        Ok((file_row(r)?, r.get(FILE_COLS.split(", ").count())?))
    })
    .optional()?)
}

pub fn set_poster(c: &Db, id: &str, sha: &str) -> Result<()> {
    c.prepare_cached("UPDATE files SET poster_sha = ?2 WHERE id = ?1")?
        .execute(params![id, sha])?;
    Ok(())
}

/// Attaches the uploader's own unattached files to a message, in the given order.
pub fn attach(c: &Db, uploader: i64, message_id: i64, ids: &[String]) -> Result<()> {
    let mut stmt = c.prepare_cached(
        "UPDATE files SET message_id = ?3, position = ?4
         WHERE id = ?1 AND uploader_id = ?2 AND message_id IS NULL",
    )?;
    for (pos, id) in ids.iter().enumerate() {
        if stmt.execute(params![id, uploader, message_id, pos as i64])? != 1 {
            return Err(StoreError::Conflict(Conflict::AttachmentUnusable));
        }
    }
    Ok(())
}

/// The files of each message, in attachment order.
/// Attaches a copy of a posted file to another message (a forward): the same stored bytes,
/// counted against nobody's quota, since no new bytes were stored.
pub fn copy_to(c: &Db, file_id: &str, new_id: &str, message_id: i64) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO files(id, uploader_id, sha256, size, name, mime, kind, width, height,
                           duration_ms, thumb_sha, preview_sha, poster_sha, message_id,
                           created_at, position, waveform, voice)
         SELECT ?2, NULL, sha256, size, name, mime, kind, width, height, duration_ms, thumb_sha,
                preview_sha, poster_sha, ?3, ?4, position, waveform, voice
         FROM files WHERE id = ?1",
    )?
    .execute(params![file_id, new_id, message_id, now_ms()])?;
    Ok(())
}

pub fn files_of(c: &Db, message_ids: &[i64]) -> Result<Vec<FileRow>> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = vec!["?"; message_ids.len()].join(",");
    let mut stmt = c.prepare(&format!(
        "SELECT {FILE_COLS} FROM files WHERE message_id IN ({placeholders})
         ORDER BY message_id, position"
    ))?;
    let rows = stmt.query_map(super::db::params_from_iter(message_ids.iter()), file_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Bytes a user has stored plus bytes reserved by their unfinished uploads.
pub fn usage(c: &Db, user_id: i64) -> Result<i64> {
    Ok(c.prepare_cached(
        "SELECT CAST((SELECT coalesce(sum(size), 0) FROM files WHERE uploader_id = ?1)
              + (SELECT coalesce(sum(size), 0) FROM uploads WHERE user_id = ?1) AS BIGINT)",
    )?
    .query_row([user_id], |r| r.get(0))?)
}

#[derive(Debug, Clone)]
pub struct UploadRow {
    pub id: String,
    pub user_id: i64,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub received: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    pub waveform: Option<Vec<u8>>,
    pub voice: bool,
}

const UPLOAD_COLS: &str =
    "id, user_id, name, mime, size, received, width, height, duration_ms, waveform, voice";

fn upload_row(r: &Row<'_>) -> super::db::Result<UploadRow> {
    Ok(UploadRow {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        mime: r.get(3)?,
        size: r.get(4)?,
        received: r.get(5)?,
        width: r.get(6)?,
        height: r.get(7)?,
        duration_ms: r.get(8)?,
        waveform: r.get(9)?,
        voice: r.get(10)?,
    })
}

pub fn insert_upload(c: &Db, u: &UploadRow) -> Result<()> {
    let now = now_ms();
    c.prepare_cached(&format!(
        "INSERT INTO uploads({UPLOAD_COLS}, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)"
    ))?
    .execute(params![
        u.id,
        u.user_id,
        u.name,
        u.mime,
        u.size,
        u.received,
        u.width,
        u.height,
        u.duration_ms,
        u.waveform,
        u.voice,
        now
    ])?;
    Ok(())
}

pub fn upload(c: &Db, id: &str) -> Result<Option<UploadRow>> {
    Ok(
        c.prepare_cached(&format!("SELECT {UPLOAD_COLS} FROM uploads WHERE id = ?1"))?
            .query_row([id], upload_row)
            .optional()?,
    )
}

pub fn set_received(c: &Db, id: &str, received: i64) -> Result<()> {
    c.prepare_cached("UPDATE uploads SET received = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, received, now_ms()])?;
    Ok(())
}

pub fn delete_upload(c: &Db, id: &str) -> Result<()> {
    c.prepare_cached("DELETE FROM uploads WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Removes uploads idle since before `cutoff` and files never attached since before it;
/// returns the ids of the removed uploads (their partial files go too).
pub fn expire(c: &Db, cutoff: i64) -> Result<(Vec<String>, usize)> {
    let ids = c
        .prepare("DELETE FROM uploads WHERE updated_at < ?1 RETURNING id")?
        .query_map([cutoff], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let files = c
        .prepare_cached("DELETE FROM files WHERE message_id IS NULL AND created_at < ?1")?
        .execute([cutoff])?;
    Ok((ids, files))
}

/// Whether any file refers to this blob, as its content or as a derived image.
pub fn blob_referenced(c: &Db, sha: &str) -> Result<bool> {
    Ok(c.prepare_cached(
        "SELECT EXISTS(SELECT 1 FROM files WHERE sha256 = ?1)
                 OR EXISTS(SELECT 1 FROM files WHERE thumb_sha = ?1)
                 OR EXISTS(SELECT 1 FROM files WHERE preview_sha = ?1)
                 OR EXISTS(SELECT 1 FROM files WHERE poster_sha = ?1)",
    )?
    .query_row([sha], |r| r.get(0))?)
}

pub fn upload_exists(c: &Db, id: &str) -> Result<bool> {
    Ok(
        c.prepare_cached("SELECT EXISTS(SELECT 1 FROM uploads WHERE id = ?1)")?
            .query_row([id], |r| r.get(0))?,
    )
}
