//! API tokens of bot accounts: SHA-256 at rest, scoped, revoked by deleting them. A token
//! stands in for a session whose id is `token-ID`.

use super::db::{params, Db, OptionalExtension, Row};

use super::users::{Session, User};
use super::{now_ms, Result, StoreError};

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// Space-separated: `read`, `write`, `admin`.
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub const SESSION_PREFIX: &str = "token-";

const COLS: &str = "id, user_id, name, scopes, created_at, last_used_at";

fn row(r: &Row<'_>) -> super::db::Result<ApiToken> {
    Ok(ApiToken {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        scopes: r.get(3)?,
        created_at: r.get(4)?,
        last_used_at: r.get(5)?,
    })
}

pub fn create(
    c: &Db,
    user_id: i64,
    name: &str,
    token_hash: &[u8],
    scopes: &str,
    created_by: i64,
) -> Result<ApiToken> {
    c.prepare_cached(
        "INSERT INTO api_tokens(user_id, name, token_hash, scopes, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        user_id,
        name,
        token_hash,
        scopes,
        created_by,
        now_ms()
    ])?;
    by_id(c, c.last_insert_rowid()?)?.ok_or(StoreError::NotFound)
}

pub fn by_id(c: &Db, id: i64) -> Result<Option<ApiToken>> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLS} FROM api_tokens WHERE id = ?1"))?
            .query_row([id], row)
            .optional()?,
    )
}

pub fn for_user(c: &Db, user_id: i64) -> Result<Vec<ApiToken>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLS} FROM api_tokens WHERE user_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([user_id], row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn delete(c: &Db, id: i64) -> Result<bool> {
    Ok(c.prepare_cached("DELETE FROM api_tokens WHERE id = ?1")?
        .execute([id])?
        == 1)
}

pub fn touch(c: &Db, id: i64, at: i64) -> Result<()> {
    c.prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    Ok(())
}

/// The token behind a hash, as a session, with its enabled bot user.
pub fn authenticate(c: &Db, token_hash: &[u8]) -> Result<Option<(ApiToken, Session, User)>> {
    let Some(t) = c
        .prepare_cached(&format!(
            "SELECT {COLS} FROM api_tokens WHERE token_hash = ?1"
        ))?
        .query_row([token_hash], row)
        .optional()?
    else {
        return Ok(None);
    };
    let user = super::users::user_by_id(c, t.user_id)?;
    if user.disabled {
        return Ok(None);
    }
    let session = Session {
        id: format!("{SESSION_PREFIX}{}", t.id),
        user_id: t.user_id,
        created_at: t.created_at,
        last_seen_at: t.last_used_at.unwrap_or(t.created_at),
        user_agent: format!("API token \u{201c}{}\u{201d}", t.name),
        address: String::new(),
    };
    Ok(Some((t, session, user)))
}

/// Whether the token behind a `token-ID` session id still works.
pub fn alive(c: &Db, session_id: &str) -> Result<bool> {
    let Some(id) = session_id
        .strip_prefix(SESSION_PREFIX)
        .and_then(|n| n.parse::<i64>().ok())
    else {
        return Ok(false);
    };
    Ok(c.prepare_cached(
        "SELECT 1 FROM api_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.id = ?1 AND u.disabled = 0",
    )?
    .query_row([id], |_| Ok(()))
    .optional()?
    .is_some())
}

/// Bot accounts, by user name.
pub fn bots(c: &Db) -> Result<Vec<User>> {
    Ok(super::users::list_users(c)?
        .into_iter()
        .filter(|u| u.is_bot)
        .collect())
}

/// Creates a bot account: a user whose password hash matches no password.
pub fn create_bot(c: &Db, username: &str, display_name: &str) -> Result<User> {
    let user = super::users::create_user(c, username, display_name, "!", false)?;
    c.prepare_cached("UPDATE users SET is_bot = 1 WHERE id = ?1")?
        .execute([user.id])?;
    super::users::user_by_id(c, user.id)
}
