//! Accounts, sessions, invites and the one-time setup token.

use super::db::{params, Db, OptionalExtension, Row};

use super::{now_ms, Conflict, Result, StoreError};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
    /// Signs in with a second factor (an authenticator app).
    pub two_factor: bool,
    /// A bot account: no password sign-in, only API tokens.
    pub is_bot: bool,
    /// An account from the agency's directory: signs in against it, has no password here.
    pub from_directory: bool,
    pub profile: Profile,
    /// Changes whenever the photo does (0: no photo), so its URL can be cached for good.
    pub avatar_version: i64,
    /// The custom status, if set and not expired.
    pub status: Option<Status>,
    pub last_sign_in_at: Option<i64>,
    /// The IANA time zone the person chose (empty: not shared).
    pub time_zone: String,
    /// A person of a linked site: that site's name (they sign in there, never here).
    pub site: Option<String>,
}

/// A custom status: an emoji and a few words, until a time or for good.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    pub emoji: String,
    pub text: String,
    pub expires_at: Option<i64>,
}

/// How someone wants to be notified and shown, kept with the account so every device agrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    /// IANA name ("Europe/Moscow"); empty: the browser's.
    pub time_zone: String,
    /// Do not disturb until this time (ms).
    pub dnd_until: Option<i64>,
    /// A daily quiet time, "HH:MM" to "HH:MM" in `time_zone` (both empty: none).
    pub dnd_start: String,
    pub dnd_end: String,
    /// Words that notify like a mention.
    pub keywords: Vec<String>,
    /// Tell others in direct conversations when this person has read (and see theirs).
    pub read_receipts: bool,
    /// "en", "ru", or empty for the browser's.
    pub language: String,
}

/// What people say about themselves (or the directory says about them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub title: String,
    pub department: String,
    pub phone: String,
    pub about: String,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub user_agent: String,
    pub address: String,
}

#[derive(Debug, Clone)]
pub struct Invite {
    pub created_at: i64,
    pub expires_at: i64,
    pub used: bool,
}

/// What a new session records about the client that created it.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: String,
    pub address: String,
}

const SESSION_COLS: &str = "id, user_id, created_at, last_seen_at, user_agent, address";

fn session_row(r: &Row<'_>) -> super::db::Result<Session> {
    Ok(Session {
        id: r.get(0)?,
        user_id: r.get(1)?,
        created_at: r.get(2)?,
        last_seen_at: r.get(3)?,
        user_agent: r.get(4)?,
        address: r.get(5)?,
    })
}

const USER_COLS: &str =
    "id, username, display_name, is_admin, disabled, created_at, totp_secret IS NOT NULL, is_bot, \
     directory_dn IS NOT NULL, title, department, phone, about, avatar_version, status_emoji, \
     status_text, status_expires_at, last_sign_in_at, time_zone, \
     (SELECT name FROM sites WHERE sites.id = users.origin_site)";
/// The column after `USER_COLS`.
const AFTER_USER_COLS: usize = 20;

fn user_row(r: &Row<'_>) -> super::db::Result<User> {
    Ok(User {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        is_admin: r.get(3)?,
        disabled: r.get(4)?,
        created_at: r.get(5)?,
        two_factor: r.get(6)?,
        is_bot: r.get(7)?,
        from_directory: r.get(8)?,
        profile: Profile {
            title: r.get(9)?,
            department: r.get(10)?,
            phone: r.get(11)?,
            about: r.get(12)?,
        },
        avatar_version: r.get(13)?,
        status: {
            let (emoji, text, expires_at): (String, String, Option<i64>) =
                (r.get(14)?, r.get(15)?, r.get(16)?);
            let live = expires_at.is_none_or(|t| t > now_ms());
            (live && !(emoji.is_empty() && text.is_empty())).then_some(Status {
                emoji,
                text,
                expires_at,
            })
        },
        last_sign_in_at: r.get(17)?,
        time_zone: r.get(18)?,
        site: r.get(19)?,
    })
}

pub fn count_users(c: &Db) -> Result<i64> {
    Ok(c.prepare_cached("SELECT count(*) FROM users")?
        .query_row([], |r| r.get(0))?)
}

pub fn create_user(
    c: &Db,
    username: &str,
    display_name: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<User> {
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO users(username, display_name, password_hash, is_admin, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        username,
        display_name,
        password_hash,
        is_admin,
        now
    ])
    .map_err(|e| {
        if e.is_constraint() {
            StoreError::Conflict(Conflict::UserNameTaken)
        } else {
            e.into()
        }
    })?;
    user_by_id(c, c.last_insert_rowid()?)
}

pub fn user_by_id(c: &Db, id: i64) -> Result<User> {
    Ok(
        c.prepare_cached(&format!("SELECT {USER_COLS} FROM users WHERE id = ?1"))?
            .query_row([id], user_row)?,
    )
}

pub fn user_by_name(c: &Db, username: &str) -> Result<User> {
    Ok(c.prepare_cached(&format!(
        "SELECT {USER_COLS} FROM users WHERE username = ?1"
    ))?
    .query_row([username], user_row)?)
}

/// The user and their password hash, for signing in.
pub fn credentials(c: &Db, username: &str) -> Result<Option<(User, String)>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {USER_COLS}, password_hash FROM users WHERE username = ?1"
    ))?
    .query_row([username], |r| {
        Ok((user_row(r)?, r.get::<_, String>(AFTER_USER_COLS)?))
    })
    .optional()?)
}

/// Creates or updates the account of a person who signed in with the directory. A local
/// account of the same name is not taken over (`Conflict`).
pub fn upsert_directory_user(c: &Db, username: &str, display_name: &str, dn: &str) -> Result<User> {
    let existing = c
        .prepare_cached("SELECT id, directory_dn IS NOT NULL FROM users WHERE username = ?1")?
        .query_row([username], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?))
        })
        .optional()?;
    match existing {
        Some((_, false)) => Err(StoreError::Conflict(Conflict::LocalAccountHasName)),
        Some((id, true)) => {
            c.prepare_cached(
                "UPDATE users SET display_name = ?2, directory_dn = ?3 WHERE id = ?1",
            )?
            .execute(params![id, display_name, dn])?;
            user_by_id(c, id)
        }
        None => {
            let user = create_user(c, username, display_name, "!", false)?;
            c.prepare_cached("UPDATE users SET directory_dn = ?2 WHERE id = ?1")?
                .execute(params![user.id, dn])?;
            user_by_id(c, user.id)
        }
    }
}

/// Accounts that came from the directory.
pub fn directory_accounts(c: &Db) -> Result<Vec<User>> {
    Ok(list_users(c)?
        .into_iter()
        .filter(|u| u.from_directory)
        .collect())
}

pub fn password_hash(c: &Db, user_id: i64) -> Result<String> {
    Ok(
        c.prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
            .query_row([user_id], |r| r.get(0))?,
    )
}

pub fn list_users(c: &Db) -> Result<Vec<User>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {USER_COLS} FROM users ORDER BY username"))?;
    let rows = stmt.query_map([], user_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn set_display_name(c: &Db, user_id: i64, name: &str) -> Result<User> {
    let n = c
        .prepare_cached("UPDATE users SET display_name = ?2 WHERE id = ?1")?
        .execute(params![user_id, name])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    user_by_id(c, user_id)
}

/// Disables or enables a user; disabling ends every session at once.
pub fn set_disabled(c: &Db, user_id: i64, disabled: bool) -> Result<User> {
    let n = c
        .prepare_cached("UPDATE users SET disabled = ?2, directory_disabled = 0 WHERE id = ?1")?
        .execute(params![user_id, disabled])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    if disabled {
        c.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
            .execute([user_id])?;
        // A bot's tokens stay (enabling it again restores them), but its live connections end.
        match c.engine() {
            super::db::Engine::Sqlite => c
                .prepare_cached(
                    "INSERT INTO session_revocations(session_id, user_id, at)
                     SELECT 'token-' || id, user_id, ?2 FROM api_tokens WHERE user_id = ?1",
                )?
                .execute(params![user_id, super::now_ms()])?,
            // Revocations take their positions from `log_head`, as events do.
            super::db::Engine::Postgres => c
                .prepare_cached(
                    "SELECT outpost_revoke('token-' || id, user_id) FROM api_tokens
                     WHERE user_id = ?1",
                )?
                .execute([user_id])?,
        };
    }
    user_by_id(c, user_id)
}

/// Disables (or enables) a directory account because the directory stopped (or resumed)
/// listing it. Unlike an administrator's choice, this one the sync may undo.
pub fn set_directory_disabled(c: &Db, user_id: i64, disabled: bool) -> Result<User> {
    set_disabled(c, user_id, disabled)?;
    c.prepare_cached("UPDATE users SET directory_disabled = ?2 WHERE id = ?1")?
        .execute(params![user_id, disabled])?;
    user_by_id(c, user_id)
}

/// Whether the directory sync, not an administrator, disabled this account.
pub fn disabled_by_directory(c: &Db, user_id: i64) -> Result<bool> {
    Ok(
        c.prepare_cached("SELECT directory_disabled FROM users WHERE id = ?1")?
            .query_row([user_id], |r| r.get(0))?,
    )
}

pub fn set_status(c: &Db, user_id: i64, s: Option<&Status>) -> Result<User> {
    let empty = Status::default();
    let s = s.unwrap_or(&empty);
    c.prepare_cached(
        "UPDATE users SET status_emoji = ?2, status_text = ?3, status_expires_at = ?4 WHERE id = ?1",
    )?
    .execute(params![user_id, s.emoji, s.text, s.expires_at])?;
    user_by_id(c, user_id)
}

pub fn preferences(c: &Db, user_id: i64) -> Result<Preferences> {
    Ok(c.prepare_cached(
        "SELECT time_zone, dnd_until, dnd_start, dnd_end, keywords, read_receipts, language
         FROM users WHERE id = ?1",
    )?
    .query_row([user_id], |r| {
        let keywords: String = r.get(4)?;
        Ok(Preferences {
            time_zone: r.get(0)?,
            dnd_until: r.get(1)?,
            dnd_start: r.get(2)?,
            dnd_end: r.get(3)?,
            keywords: keywords
                .split('\n')
                .filter(|k| !k.is_empty())
                .map(String::from)
                .collect(),
            read_receipts: r.get(5)?,
            language: r.get(6)?,
        })
    })?)
}

pub fn set_preferences(c: &Db, user_id: i64, p: &Preferences) -> Result<()> {
    c.prepare_cached(
        "UPDATE users SET time_zone = ?2, dnd_until = ?3, dnd_start = ?4, dnd_end = ?5,
             keywords = ?6, read_receipts = ?7, language = ?8 WHERE id = ?1",
    )?
    .execute(params![
        user_id,
        p.time_zone,
        p.dnd_until,
        p.dnd_start,
        p.dnd_end,
        p.keywords.join("\n"),
        p.read_receipts,
        p.language
    ])?;
    Ok(())
}

/// Everyone's notification keywords (enabled accounts that have some).
pub fn all_keywords(c: &Db) -> Result<Vec<(i64, Vec<String>)>> {
    let mut st =
        c.prepare_cached("SELECT id, keywords FROM users WHERE keywords != '' AND disabled = 0")?;
    let rows = st.query_map([], |r| {
        let k: String = r.get(1)?;
        Ok((
            r.get::<_, i64>(0)?,
            k.split('\n')
                .filter(|k| !k.is_empty())
                .map(String::from)
                .collect(),
        ))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn record_sign_in(c: &Db, user_id: i64) -> Result<()> {
    c.prepare_cached("UPDATE users SET last_sign_in_at = ?2 WHERE id = ?1")?
        .execute(params![user_id, now_ms()])?;
    Ok(())
}

pub fn set_profile(c: &Db, user_id: i64, p: &Profile) -> Result<User> {
    let n = c
        .prepare_cached(
            "UPDATE users SET title = ?2, department = ?3, phone = ?4, about = ?5 WHERE id = ?1",
        )?
        .execute(params![user_id, p.title, p.department, p.phone, p.about])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    user_by_id(c, user_id)
}

/// A profile photo, as stored: SHA-256 of what it was made from, and its two sizes (JPEG).
#[derive(Debug, Clone)]
pub struct Avatar {
    pub source_sha: Vec<u8>,
    pub small: Vec<u8>,
    pub large: Vec<u8>,
}

/// Sets (or with None removes) a user's photo; a new version makes every cached copy stale.
pub fn set_avatar(c: &Db, user_id: i64, avatar: Option<&Avatar>) -> Result<User> {
    match avatar {
        Some(a) => {
            c.prepare_cached(
                "INSERT INTO avatars(user_id, source_sha, small, large) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(user_id) DO UPDATE SET source_sha = excluded.source_sha,
                     small = excluded.small, large = excluded.large",
            )?
            .execute(params![user_id, a.source_sha, a.small, a.large])?;
            c.prepare_cached(
                "UPDATE users SET avatar_version = CASE WHEN avatar_version + 1 > ?2
                     THEN avatar_version + 1 ELSE ?2 END WHERE id = ?1",
            )?
            .execute(params![user_id, now_ms()])?;
        }
        None => {
            c.prepare_cached("DELETE FROM avatars WHERE user_id = ?1")?
                .execute([user_id])?;
            c.prepare_cached("UPDATE users SET avatar_version = 0 WHERE id = ?1")?
                .execute([user_id])?;
        }
    }
    user_by_id(c, user_id)
}

/// SHA-256 of the image a user's photo was made from.
pub fn avatar_source(c: &Db, user_id: i64) -> Result<Option<Vec<u8>>> {
    Ok(
        c.prepare_cached("SELECT source_sha FROM avatars WHERE user_id = ?1")?
            .query_row([user_id], |r| r.get(0))
            .optional()?,
    )
}

/// One size of a user's photo (JPEG).
pub fn avatar_image(c: &Db, user_id: i64, large: bool) -> Result<Option<Vec<u8>>> {
    let sql = if large {
        "SELECT large FROM avatars WHERE user_id = ?1"
    } else {
        "SELECT small FROM avatars WHERE user_id = ?1"
    };
    Ok(c.prepare_cached(sql)?
        .query_row([user_id], |r| r.get(0))
        .optional()?)
}

/// Channels the directory's groups made this user a member of.
pub fn directory_channels(c: &Db, user_id: i64) -> Result<Vec<i64>> {
    let mut st = c.prepare_cached(
        "SELECT channel_id FROM directory_memberships WHERE user_id = ?1 ORDER BY channel_id",
    )?;
    let rows = st.query_map([user_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn set_directory_channel(c: &Db, channel_id: i64, user_id: i64, given: bool) -> Result<()> {
    let sql = if given {
        "INSERT INTO directory_memberships(channel_id, user_id) VALUES (?1, ?2)
         ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM directory_memberships WHERE channel_id = ?1 AND user_id = ?2"
    };
    c.prepare_cached(sql)?
        .execute(params![channel_id, user_id])?;
    Ok(())
}

/// A one-time password reset link for `user_id`; earlier unused links for them stop working.
pub fn create_password_reset(
    c: &Db,
    token_hash: &[u8],
    user_id: i64,
    created_by: i64,
    expires_at: i64,
) -> Result<()> {
    c.prepare_cached("DELETE FROM password_resets WHERE user_id = ?1 AND used_at IS NULL")?
        .execute([user_id])?;
    c.prepare_cached(
        "INSERT INTO password_resets(token_hash, user_id, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        token_hash,
        user_id,
        created_by,
        now_ms(),
        expires_at
    ])?;
    Ok(())
}

/// The user a reset link is for, if it is unused and not expired.
pub fn password_reset_user(c: &Db, token_hash: &[u8]) -> Result<Option<i64>> {
    Ok(c.prepare_cached(
        "SELECT user_id FROM password_resets
         WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
    )?
    .query_row(params![token_hash, now_ms()], |r| r.get(0))
    .optional()?)
}

/// Marks a reset link used; false if it already was (or expired) in the meantime.
pub fn consume_password_reset(c: &Db, token_hash: &[u8]) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE password_resets SET used_at = ?2
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        )?
        .execute(params![token_hash, now_ms()])?;
    Ok(n == 1)
}

/// Ends every session of a user (an administrator's "sign out everywhere").
pub fn delete_sessions(c: &Db, user_id: i64) -> Result<usize> {
    Ok(c.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
        .execute([user_id])?)
}

pub fn set_admin(c: &Db, user_id: i64, is_admin: bool) -> Result<User> {
    let n = c
        .prepare_cached("UPDATE users SET is_admin = ?2 WHERE id = ?1")?
        .execute(params![user_id, is_admin])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    user_by_id(c, user_id)
}

/// Replaces a password and ends every session except `keep_session` (the one that changed it).
pub fn set_password(
    c: &Db,
    user_id: i64,
    password_hash: &str,
    keep_session: Option<&str>,
) -> Result<()> {
    let n = c
        .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
        .execute(params![user_id, password_hash])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    c.prepare_cached("DELETE FROM sessions WHERE user_id = ?1 AND id IS DISTINCT FROM ?2")?
        .execute(params![user_id, keep_session])?;
    Ok(())
}

/// Creates a session (a sign-in), noting when the account last signed in.
pub fn create_session(
    c: &Db,
    id: &str,
    token_hash: &[u8],
    user_id: i64,
    client: &ClientInfo,
) -> Result<Session> {
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO sessions(id, token_hash, user_id, created_at, last_seen_at, user_agent,
                              address)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
    )?
    .execute(params![
        id,
        token_hash,
        user_id,
        now,
        client.user_agent,
        client.address
    ])?;
    record_sign_in(c, user_id)?;
    Ok(Session {
        id: id.to_string(),
        user_id,
        created_at: now,
        last_seen_at: now,
        user_agent: client.user_agent.clone(),
        address: client.address.clone(),
    })
}

/// The live session and enabled user behind a token hash, if any.
///
/// Two point lookups rather than a join: SQLite re-plans a cached join whenever the database
/// has changed since its last run, which under message load meant parsing this query again for
/// nearly every request.
pub fn session_by_token(
    c: &Db,
    token_hash: &[u8],
    idle_cutoff: i64,
) -> Result<Option<(Session, User)>> {
    let session = c
        .prepare_cached(&format!(
            "SELECT {SESSION_COLS} FROM sessions WHERE token_hash = ?1 AND last_seen_at >= ?2"
        ))?
        .query_row(params![token_hash, idle_cutoff], session_row)
        .optional()?;
    let Some(session) = session else {
        return Ok(None);
    };
    let user = c
        .prepare_cached(&format!(
            "SELECT {USER_COLS} FROM users WHERE id = ?1 AND disabled = 0"
        ))?
        .query_row([session.user_id], user_row)
        .optional()?;
    Ok(user.map(|u| (session, u)))
}

pub fn touch_session(c: &Db, id: &str, at: i64) -> Result<()> {
    c.prepare_cached(
        "UPDATE sessions SET last_seen_at = CASE WHEN ?2 > last_seen_at THEN ?2 ELSE last_seen_at END
         WHERE id = ?1",
    )?
        .execute(params![id, at])?;
    Ok(())
}

pub fn list_sessions(c: &Db, user_id: i64) -> Result<Vec<Session>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {SESSION_COLS} FROM sessions WHERE user_id = ?1 ORDER BY last_seen_at DESC"
    ))?;
    let rows = stmt.query_map([user_id], session_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Deletes one of `user_id`'s sessions; another user's session id is simply not found.
pub fn delete_session(c: &Db, user_id: i64, id: &str) -> Result<()> {
    let n = c
        .prepare_cached("DELETE FROM sessions WHERE id = ?1 AND user_id = ?2")?
        .execute(params![id, user_id])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn delete_expired_sessions(c: &Db, idle_cutoff: i64) -> Result<usize> {
    Ok(
        c.prepare_cached("DELETE FROM sessions WHERE last_seen_at < ?1")?
            .execute([idle_cutoff])?,
    )
}

pub fn create_invite(
    c: &Db,
    token_hash: &[u8],
    created_by: i64,
    expires_at: i64,
) -> Result<Invite> {
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO invites(token_hash, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![token_hash, created_by, now, expires_at])?;
    Ok(Invite {
        created_at: now,
        expires_at,
        used: false,
    })
}

pub fn invite(c: &Db, token_hash: &[u8]) -> Result<Option<Invite>> {
    Ok(c.prepare_cached(
        "SELECT created_at, expires_at, used_at IS NOT NULL FROM invites WHERE token_hash = ?1",
    )?
    .query_row([token_hash], |r| {
        Ok(Invite {
            created_at: r.get(0)?,
            expires_at: r.get(1)?,
            used: r.get(2)?,
        })
    })
    .optional()?)
}

/// Marks an unused, unexpired invite used; false when it was not valid.
pub fn consume_invite(c: &Db, token_hash: &[u8], user_id: i64) -> Result<bool> {
    let now = now_ms();
    let n = c
        .prepare_cached(
            "UPDATE invites SET used_at = ?2, used_by = ?3
         WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        )?
        .execute(params![token_hash, now, user_id])?;
    Ok(n == 1)
}

/// Replaces any earlier setup token: only the most recently printed URL works. In a cluster
/// each node prints its own at start and every one works (until one is used).
pub fn replace_setup_token(c: &Db, token_hash: &[u8], expires_at: i64) -> Result<()> {
    let earlier = match c.engine() {
        super::db::Engine::Sqlite => "DELETE FROM setup_tokens",
        super::db::Engine::Postgres => "DELETE FROM setup_tokens WHERE expires_at <= ?1",
    };
    let mut stmt = c.prepare_cached(earlier)?;
    match c.engine() {
        super::db::Engine::Sqlite => stmt.execute([])?,
        super::db::Engine::Postgres => stmt.execute([now_ms()])?,
    };
    c.prepare_cached("INSERT INTO setup_tokens(token_hash, expires_at) VALUES (?1, ?2)")?
        .execute(params![token_hash, expires_at])?;
    Ok(())
}

/// Uses up the setup token; true only if it was valid and no user exists yet.
pub fn consume_setup_token(c: &Db, token_hash: &[u8]) -> Result<bool> {
    let n = c
        .prepare_cached("DELETE FROM setup_tokens WHERE token_hash = ?1 AND expires_at > ?2")?
        .execute(params![token_hash, now_ms()])?;
    if n == 1 {
        // Other nodes' links die with this one: the site has its first administrator.
        clear_setup_tokens(c)?;
    }
    Ok(n == 1 && count_users(c)? == 0)
}

/// Whether a setup token would still create the first administrator.
pub fn setup_token_valid(c: &Db, token_hash: &[u8]) -> Result<bool> {
    let found = c
        .prepare_cached("SELECT 1 FROM setup_tokens WHERE token_hash = ?1 AND expires_at > ?2")?
        .query_row(params![token_hash, now_ms()], |_| Ok(()))
        .optional()?
        .is_some();
    Ok(found && count_users(c)? == 0)
}

pub fn clear_setup_tokens(c: &Db) -> Result<()> {
    c.prepare_cached("DELETE FROM setup_tokens")?.execute([])?;
    Ok(())
}

/// Whether a session still exists and belongs to an enabled user.
pub fn session_alive(c: &Db, session_id: &str) -> Result<bool> {
    if session_id.starts_with(super::tokens::SESSION_PREFIX) {
        return super::tokens::alive(c, session_id);
    }
    Ok(c.prepare_cached(
        "SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.id = ?1 AND u.disabled = 0",
    )?
    .query_row([session_id], |_| Ok(()))
    .optional()?
    .is_some())
}

/// Whether the user has a live session that signed in from `address`: that address is known to
/// be theirs, so someone else's failures elsewhere must not lock them out of it.
pub fn has_session_from(c: &Db, user_id: i64, address: &str) -> Result<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM sessions WHERE user_id = ?1 AND address = ?2 LIMIT 1")?
            .query_row(params![user_id, address], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}
