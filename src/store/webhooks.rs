//! Incoming webhooks: a secret URL (stored as SHA-256) that posts into one channel.

use super::db::{params, Db, OptionalExtension, Row};

use super::{now_ms, Result, StoreError};

#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: i64,
    pub channel_id: i64,
    pub name: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const COLS: &str = "id, channel_id, name, created_by, created_at, last_used_at";

fn row(r: &Row<'_>) -> super::db::Result<Webhook> {
    Ok(Webhook {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        name: r.get(2)?,
        created_by: r.get(3)?,
        created_at: r.get(4)?,
        last_used_at: r.get(5)?,
    })
}

pub fn create(
    c: &Db,
    channel_id: i64,
    name: &str,
    token_hash: &[u8],
    created_by: i64,
) -> Result<Webhook> {
    c.prepare_cached(
        "INSERT INTO webhooks(channel_id, name, token_hash, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![channel_id, name, token_hash, created_by, now_ms()])?;
    by_id(c, c.last_insert_rowid()?)?.ok_or(StoreError::NotFound)
}

pub fn by_id(c: &Db, id: i64) -> Result<Option<Webhook>> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLS} FROM webhooks WHERE id = ?1"))?
            .query_row([id], row)
            .optional()?,
    )
}

pub fn by_token_hash(c: &Db, hash: &[u8]) -> Result<Option<Webhook>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {COLS} FROM webhooks WHERE token_hash = ?1"
    ))?
    .query_row([hash], row)
    .optional()?)
}

pub fn for_channel(c: &Db, channel_id: i64) -> Result<Vec<Webhook>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLS} FROM webhooks WHERE channel_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([channel_id], row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn delete(c: &Db, id: i64) -> Result<bool> {
    Ok(c.prepare_cached("DELETE FROM webhooks WHERE id = ?1")?
        .execute([id])?
        == 1)
}

pub fn touch(c: &Db, id: i64) -> Result<()> {
    c.prepare_cached("UPDATE webhooks SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id, now_ms()])?;
    Ok(())
}

/// An outgoing webhook: messages in its channel whose first word is one of its trigger words
/// are POSTed to its URL, with its secret so the receiver can tell the call is real.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub channel_id: i64,
    pub name: String,
    /// Space-separated.
    pub trigger_words: String,
    pub url: String,
    pub secret: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

const OUT_COLS: &str = "id, channel_id, name, trigger_words, url, secret, created_by, created_at";

fn out_row(r: &Row<'_>) -> super::db::Result<Outgoing> {
    Ok(Outgoing {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        name: r.get(2)?,
        trigger_words: r.get(3)?,
        url: r.get(4)?,
        secret: r.get(5)?,
        created_by: r.get(6)?,
        created_at: r.get(7)?,
    })
}

pub fn create_outgoing(
    c: &Db,
    channel_id: i64,
    name: &str,
    trigger_words: &str,
    url: &str,
    secret: &str,
    created_by: i64,
) -> Result<Outgoing> {
    c.prepare_cached(
        "INSERT INTO outgoing_webhooks(channel_id, name, trigger_words, url, secret, created_by,
                                       created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        channel_id,
        name,
        trigger_words,
        url,
        secret,
        created_by,
        now_ms()
    ])?;
    let id = c.last_insert_rowid()?;
    super::cluster::settings_changed(c)?;
    outgoing_by_id(c, id)?.ok_or(StoreError::NotFound)
}

pub fn outgoing_by_id(c: &Db, id: i64) -> Result<Option<Outgoing>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {OUT_COLS} FROM outgoing_webhooks WHERE id = ?1"
    ))?
    .query_row([id], out_row)
    .optional()?)
}

pub fn all_outgoing(c: &Db) -> Result<Vec<Outgoing>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {OUT_COLS} FROM outgoing_webhooks ORDER BY id"
    ))?;
    let rows = stmt.query_map([], out_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn delete_outgoing(c: &Db, id: i64) -> Result<bool> {
    let deleted = c
        .prepare_cached("DELETE FROM outgoing_webhooks WHERE id = ?1")?
        .execute([id])?
        == 1;
    super::cluster::settings_changed(c)?;
    Ok(deleted)
}
