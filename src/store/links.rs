//! Linked sites (issue 19): this site's identity, links and their invitations, which channels
//! each link shares, and the rows that carry other sites' channels, people and messages.

use super::db::{params, Db, OptionalExtension, Row};
use super::{now_ms, Result, StoreError};

/// This site's id: 32 hex digits, made at the first start, the same on every node of a cluster
/// and kept by backups. Messages written before it existed are given it here.
pub fn site_id(c: &Db) -> Result<String> {
    if let Some(id) = super::backup::meta(c, "site_id")? {
        return Ok(id);
    }
    let mut raw = [0u8; 16];
    getrandom::fill(&mut raw).map_err(|_| bad_seed())?;
    c.prepare_cached(
        "INSERT INTO meta(key, value) VALUES ('site_id', ?1) ON CONFLICT(key) DO NOTHING",
    )?
    .execute([hex::encode(raw)])?;
    let id = super::backup::meta(c, "site_id")?.ok_or(StoreError::NotFound)?;
    c.prepare_cached("UPDATE messages SET origin_site = ?1 WHERE origin_site = ''")?
        .execute([&id])?;
    Ok(id)
}

/// The seed of this site's Ed25519 signing key, made on first use.
pub fn sign_seed(c: &Db) -> Result<[u8; 32]> {
    if let Some(hex_seed) = super::backup::meta(c, "site_sign_seed")? {
        if let Ok(bytes) = hex::decode(hex_seed.trim()) {
            if let Ok(seed) = <[u8; 32]>::try_from(bytes.as_slice()) {
                return Ok(seed);
            }
        }
        return Err(bad_seed());
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|_| bad_seed())?;
    // Two processes making one at once: the first one written wins, and both use it.
    c.prepare_cached(
        "INSERT INTO meta(key, value) VALUES ('site_sign_seed', ?1) ON CONFLICT(key) DO NOTHING",
    )?
    .execute([hex::encode(seed)])?;
    let stored = super::backup::meta(c, "site_sign_seed")?.unwrap_or_default();
    hex::decode(stored.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(bad_seed)
}

fn bad_seed() -> StoreError {
    StoreError::Corrupt {
        path: "meta:site_sign_seed".into(),
        detail: "the site's id or signing key could not be read or made".into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub id: i64,
    pub site_id: String,
    pub name: String,
    pub ca_pem: String,
    pub ca_fp: String,
    /// Where this site dials the other (empty: the other dials in).
    pub addresses: Vec<String>,
    pub paused: bool,
    pub created_at: i64,
    pub last_contact_at: Option<i64>,
    /// This site's log position the other has acknowledged.
    pub sent_upto: i64,
    /// The other site's log position applied here.
    pub recv_upto: i64,
    /// The other site's log head when last heard from.
    pub peer_head: i64,
    pub last_error: Option<String>,
}

const LINK_COLS: &str = "id, site_id, name, ca_pem, ca_fp, addresses, paused, created_at, \
    last_contact_at, sent_upto, recv_upto, peer_head, last_error";

fn link_row(r: &Row<'_>) -> super::db::Result<LinkRow> {
    let addresses: String = r.get(5)?;
    Ok(LinkRow {
        id: r.get(0)?,
        site_id: r.get(1)?,
        name: r.get(2)?,
        ca_pem: r.get(3)?,
        ca_fp: r.get(4)?,
        addresses: serde_json::from_str(&addresses).unwrap_or_default(),
        paused: r.get(6)?,
        created_at: r.get(7)?,
        last_contact_at: r.get(8)?,
        sent_upto: r.get(9)?,
        recv_upto: r.get(10)?,
        peer_head: r.get(11)?,
        last_error: r.get(12)?,
    })
}

pub fn links(c: &Db) -> Result<Vec<LinkRow>> {
    let mut stmt = c.prepare_cached(&format!("SELECT {LINK_COLS} FROM links ORDER BY id"))?;
    let rows = stmt.query_map([], link_row)?;
    Ok(rows.collect::<super::db::Result<_>>()?)
}

pub fn link(c: &Db, id: i64) -> Result<LinkRow> {
    Ok(
        c.prepare_cached(&format!("SELECT {LINK_COLS} FROM links WHERE id = ?1"))?
            .query_row([id], link_row)?,
    )
}

/// The link to the home of a channel another site shares with this one.
pub fn home_link_of(c: &Db, channel_id: i64) -> Result<Option<LinkRow>> {
    let cols = LINK_COLS
        .split(", ")
        .map(|col| format!("l.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(c.prepare_cached(&format!(
        "SELECT {cols} FROM links l JOIN channels ch ON ch.origin_site = l.site_id
             WHERE ch.id = ?1"
    ))?
    .query_row([channel_id], link_row)
    .optional()?)
}

pub fn link_by_fingerprint(c: &Db, fp: &str) -> Result<Option<LinkRow>> {
    Ok(
        c.prepare_cached(&format!("SELECT {LINK_COLS} FROM links WHERE ca_fp = ?1"))?
            .query_row([fp], link_row)
            .optional()?,
    )
}

pub struct NewLink<'a> {
    pub site_id: &'a str,
    pub name: &'a str,
    pub ca_pem: &'a str,
    pub ca_fp: &'a str,
    pub addresses: &'a [String],
    pub sign_key: &'a [u8],
}

/// Records a link and the other site's signing key.
pub fn insert_link(c: &Db, l: &NewLink<'_>) -> Result<i64> {
    let addresses = serde_json::to_string(l.addresses).unwrap_or_else(|_| "[]".into());
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO links(site_id, name, ca_pem, ca_fp, addresses, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )?
        .query_row(
            params![l.site_id, l.name, l.ca_pem, l.ca_fp, addresses, now_ms()],
            |r| r.get(0),
        )
        .map_err(|e| {
            if e.is_constraint() {
                StoreError::Conflict(super::Conflict::LinkExists)
            } else {
                e.into()
            }
        })?;
    c.prepare_cached(
        "INSERT INTO sites(id, name, sign_key, via_link) VALUES (?1, ?2, ?3, NULL)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, sign_key = excluded.sign_key,
             via_link = NULL",
    )?
    .execute(params![l.site_id, l.name, l.sign_key])?;
    Ok(id)
}

pub fn set_paused(c: &Db, id: i64, paused: bool) -> Result<LinkRow> {
    let n = c
        .prepare_cached("UPDATE links SET paused = ?2 WHERE id = ?1")?
        .execute(params![id, paused])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    link(c, id)
}

/// Removes a link and what it shares; the other site's channels and messages stay readable.
pub fn delete_link(c: &Db, id: i64) -> Result<LinkRow> {
    let row = link(c, id)?;
    c.prepare_cached("DELETE FROM channel_shares WHERE link_id = ?1")?
        .execute([id])?;
    c.prepare_cached("DELETE FROM ended_shares WHERE link_id = ?1")?
        .execute([id])?;
    c.prepare_cached("DELETE FROM links WHERE id = ?1")?
        .execute([id])?;
    c.prepare_cached("DELETE FROM sites WHERE via_link = ?1 OR (id = ?2 AND via_link IS NULL)")?
        .execute(params![id, row.site_id])?;
    Ok(row)
}

/// Notes a successful exchange with the other site.
pub fn record_contact(c: &Db, id: i64, peer_head: Option<i64>) -> Result<()> {
    c.prepare_cached(
        "UPDATE links SET last_contact_at = ?2, peer_head = COALESCE(?3, peer_head),
             last_error = NULL WHERE id = ?1",
    )?
    .execute(params![id, now_ms(), peer_head])?;
    Ok(())
}

pub fn record_error(c: &Db, id: i64, error: &str) -> Result<()> {
    c.prepare_cached("UPDATE links SET last_error = ?2 WHERE id = ?1")?
        .execute(params![id, error])?;
    Ok(())
}

/// Moves a cursor forward only: a late or repeated acknowledgement never takes it back.
pub fn advance_sent(c: &Db, id: i64, upto: i64) -> Result<()> {
    c.prepare_cached("UPDATE links SET sent_upto = ?2 WHERE id = ?1 AND sent_upto < ?2")?
        .execute(params![id, upto])?;
    Ok(())
}

pub fn advance_recv(c: &Db, id: i64, upto: i64) -> Result<()> {
    c.prepare_cached("UPDATE links SET recv_upto = ?2 WHERE id = ?1 AND recv_upto < ?2")?
        .execute(params![id, upto])?;
    Ok(())
}

pub fn create_invite(c: &Db, secret_hash: &[u8], by: Option<i64>, expires_at: i64) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO link_invites(secret_hash, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![secret_hash, by, now_ms(), expires_at])?;
    Ok(())
}

/// Spends an invitation: true when it existed, was unused and had not expired.
pub fn take_invite(c: &Db, secret_hash: &[u8]) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE link_invites SET used_at = ?2
             WHERE secret_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        )?
        .execute(params![secret_hash, now_ms()])?;
    Ok(n == 1)
}

/// Whether this site needs its link port: a link, or an invitation still open.
pub fn wants_listener(c: &Db) -> Result<bool> {
    let n: i64 = c
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM links)
                  + (SELECT COUNT(*) FROM link_invites WHERE used_at IS NULL AND expires_at > ?1)",
        )?
        .query_row([now_ms()], |r| r.get(0))?;
    Ok(n > 0)
}

pub fn share(c: &Db, channel_id: i64, link_id: i64, by: i64) -> Result<bool> {
    c.prepare_cached("DELETE FROM ended_shares WHERE channel_id = ?1 AND link_id = ?2")?
        .execute(params![channel_id, link_id])?;
    let n = c
        .prepare_cached(
            "INSERT INTO channel_shares(channel_id, link_id, shared_by, shared_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )?
        .execute(params![channel_id, link_id, by, now_ms()])?;
    Ok(n == 1)
}

pub fn unshare(c: &Db, channel_id: i64, link_id: i64) -> Result<bool> {
    let n = c
        .prepare_cached("DELETE FROM channel_shares WHERE channel_id = ?1 AND link_id = ?2")?
        .execute(params![channel_id, link_id])?;
    if n == 1 {
        c.prepare_cached(
            "INSERT INTO ended_shares(channel_id, link_id, ended_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![channel_id, link_id, now_ms()])?;
    }
    Ok(n == 1)
}

/// Whether a channel was shared with a link once and no longer is: what the other site wrote
/// there before it heard is dropped, not refused.
pub fn share_ended(c: &Db, channel_id: i64, link_id: i64) -> Result<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM ended_shares WHERE channel_id = ?1 AND link_id = ?2")?
            .query_row(params![channel_id, link_id], |r| r.get::<_, i64>(0))
            .optional()?
            .is_some(),
    )
}

pub fn is_shared(c: &Db, channel_id: i64, link_id: i64) -> Result<bool> {
    Ok(
        c.prepare_cached("SELECT 1 FROM channel_shares WHERE channel_id = ?1 AND link_id = ?2")?
            .query_row(params![channel_id, link_id], |r| r.get::<_, i64>(0))
            .optional()?
            .is_some(),
    )
}

/// The links a channel is shared with.
pub fn shares_of(c: &Db, channel_id: i64) -> Result<Vec<i64>> {
    let mut stmt = c.prepare_cached(
        "SELECT link_id FROM channel_shares WHERE channel_id = ?1 ORDER BY link_id",
    )?;
    let rows = stmt.query_map([channel_id], |r| r.get(0))?;
    Ok(rows.collect::<super::db::Result<_>>()?)
}

/// A known site: its name, signing key, and the link that vouched for it (None: paired).
pub type SiteRow = (String, Vec<u8>, Option<i64>);

/// A site's name and signing key, as learned at pairing or vouched for by a link.
pub fn site(c: &Db, id: &str) -> Result<Option<SiteRow>> {
    Ok(
        c.prepare_cached("SELECT name, sign_key, via_link FROM sites WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?,
    )
}

pub fn add_vouched_site(c: &Db, id: &str, name: &str, key: &[u8], via: i64) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO sites(id, name, sign_key, via_link) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(id) DO NOTHING",
    )?
    .execute(params![id, name, key, via])?;
    Ok(())
}

/// Events after `after` (up to `limit`) in the channels a link carries: those this site shares
/// with it and those the other site is home of. (position, channel id, payload)
pub fn feed(
    c: &Db,
    link_id: i64,
    peer_site: &str,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, String)>> {
    let mut stmt = c.prepare_cached(
        "SELECT e.id, e.channel_id, e.payload FROM events e
         WHERE e.id > ?1 AND e.id <= ?2 AND e.channel_id IN (
             SELECT channel_id FROM channel_shares WHERE link_id = ?3
             UNION SELECT id FROM channels WHERE origin_site = ?4)
         ORDER BY e.id LIMIT ?5",
    )?;
    let rows = stmt.query_map(params![after, upto, link_id, peer_site, limit], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            super::chat::decode_payload(r.get_ref(2)?),
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (pos, ch, payload) = row?;
        if let Ok(p) = payload {
            out.push((pos, ch, p));
        }
    }
    Ok(out)
}

/// A message as the link protocol carries it, with the global ids of what it refers to.
#[derive(Debug, Clone)]
pub struct MessageOut {
    pub id: i64,
    pub origin_site: String,
    pub origin_id: Option<i64>,
    pub channel_origin: Option<(String, i64)>,
    pub channel_id: i64,
    pub author: Option<AuthorOut>,
    pub sender_name: Option<String>,
    pub kind: String,
    pub body: String,
    pub thread_root: Option<(String, Option<i64>, i64)>,
    pub also_in_channel: bool,
    pub created_at: i64,
    pub sort_key: i64,
    pub version: i64,
    pub deleted: bool,
    pub signature: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct AuthorOut {
    pub id: i64,
    pub origin_site: Option<String>,
    pub origin_id: Option<i64>,
    pub username: String,
    pub display_name: String,
}

/// A person's columns from `start`: id, origin_site, origin_id, username, display_name.
fn author_at(r: &Row<'_>, start: usize) -> super::db::Result<AuthorOut> {
    Ok(AuthorOut {
        id: r.get(start)?,
        origin_site: r.get(start + 1)?,
        origin_id: r.get(start + 2)?,
        username: r.get(start + 3)?,
        display_name: r.get(start + 4)?,
    })
}

pub fn message_out(c: &Db, id: i64) -> Result<Option<MessageOut>> {
    Ok(c.prepare_cached(
        "SELECT m.id, m.origin_site, m.origin_id, ch.origin_site, ch.origin_id, m.channel_id,
                    u.id, u.origin_site, u.origin_id, u.username, u.display_name,
                    m.sender_name, m.kind, m.body, r.origin_site, r.origin_id, r.id,
                    m.also_in_channel, m.created_at, m.sort_key, m.version, m.deleted, m.signature
             FROM messages m
             JOIN channels ch ON ch.id = m.channel_id
             LEFT JOIN users u ON u.id = m.author_id
             LEFT JOIN messages r ON r.id = m.thread_root
             WHERE m.id = ?1",
    )?
    .query_row([id], |r| {
        let ch_site: Option<String> = r.get(3)?;
        let ch_id: Option<i64> = r.get(4)?;
        let author_id: Option<i64> = r.get(6)?;
        let root_site: Option<String> = r.get(14)?;
        let root_id: Option<i64> = r.get(16)?;
        Ok(MessageOut {
            id: r.get(0)?,
            origin_site: r.get(1)?,
            origin_id: r.get(2)?,
            channel_origin: ch_site.zip(ch_id),
            channel_id: r.get(5)?,
            author: match author_id {
                Some(_) => Some(author_at(r, 6)?),
                None => None,
            },
            sender_name: r.get(11)?,
            kind: r.get(12)?,
            body: r.get(13)?,
            thread_root: match (root_site, root_id) {
                (Some(s), Some(id)) => Some((s, r.get(15)?, id)),
                _ => None,
            },
            also_in_channel: r.get(17)?,
            created_at: r.get(18)?,
            sort_key: r.get(19)?,
            version: r.get(20)?,
            deleted: r.get(21)?,
            signature: r.get(22)?,
        })
    })
    .optional()?)
}

/// The local message carrying a global id, with its version and whether it is deleted.
pub fn message_by_origin(c: &Db, site: &str, id: i64) -> Result<Option<(i64, i64, bool)>> {
    Ok(c.prepare_cached(
        "SELECT id, version, deleted FROM messages WHERE origin_site = ?1 AND origin_id = ?2",
    )?
    .query_row(params![site, id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()?)
}

/// A local message of this site by id: (channel id, version, deleted).
pub fn own_message(c: &Db, site: &str, id: i64) -> Result<Option<(i64, i64, bool)>> {
    Ok(c.prepare_cached(
        "SELECT channel_id, version, deleted FROM messages
             WHERE id = ?1 AND origin_site = ?2 AND origin_id IS NULL",
    )?
    .query_row(params![id, site], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .optional()?)
}

pub fn channel_by_origin(c: &Db, site: &str, id: i64) -> Result<Option<i64>> {
    Ok(
        c.prepare_cached("SELECT id FROM channels WHERE origin_site = ?1 AND origin_id = ?2")?
            .query_row(params![site, id], |r| r.get(0))
            .optional()?,
    )
}

/// Whether a local channel of this site (not another's) exists and is a channel, not a DM.
pub fn own_channel_kind(c: &Db, id: i64) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT kind FROM channels WHERE id = ?1 AND origin_site IS NULL")?
            .query_row([id], |r| r.get(0))
            .optional()?,
    )
}

/// Makes the local row for a channel another site is home of, named as there when that name is
/// free here, else with the site's name after it.
pub fn create_remote_channel(
    c: &Db,
    site: &str,
    origin_id: i64,
    kind: &str,
    name: &str,
    site_name: &str,
    topic: &str,
) -> Result<i64> {
    let slug: String = site_name
        .chars()
        .filter(|ch| ch.is_alphanumeric() || *ch == '-')
        .collect::<String>()
        .to_lowercase();
    let candidates = [
        name.to_string(),
        format!("{name}-{slug}"),
        format!("{name}-{}", &site[..site.len().min(8)]),
    ];
    for candidate in candidates {
        let taken: Option<i64> = c
            .prepare_cached("SELECT id FROM channels WHERE name = ?1")?
            .query_row([&candidate], |r| r.get(0))
            .optional()?;
        if taken.is_some() {
            continue;
        }
        let id: i64 = c
            .prepare_cached(
                "INSERT INTO channels(kind, name, topic, created_at, origin_site, origin_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            )?
            .query_row(
                params![kind, candidate, topic, now_ms(), site, origin_id],
                |r| r.get(0),
            )?;
        return Ok(id);
    }
    Err(StoreError::Conflict(super::Conflict::ChannelNameTaken))
}

pub fn set_remote_topic(c: &Db, id: i64, topic: &str) -> Result<bool> {
    let n = c
        .prepare_cached("UPDATE channels SET topic = ?2 WHERE id = ?1 AND topic != ?2")?
        .execute(params![id, topic])?;
    Ok(n == 1)
}

/// The local row standing for a person of another site, made or brought up to date.
pub fn remote_user(
    c: &Db,
    site: &str,
    origin_id: i64,
    username: &str,
    display_name: &str,
) -> Result<i64> {
    if let Some((id, name)) = c
        .prepare_cached(
            "SELECT id, display_name FROM users WHERE origin_site = ?1 AND origin_id = ?2",
        )?
        .query_row(params![site, origin_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?
    {
        if name != display_name {
            c.prepare_cached("UPDATE users SET display_name = ?2 WHERE id = ?1")?
                .execute(params![id, display_name])?;
        }
        return Ok(id);
    }
    // Usernames are unique here: a remote person's carries its site, and no password works.
    let local_name = format!("{username}@{}", &site[..site.len().min(8)]);
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO users(username, display_name, password_hash, created_at, origin_site,
                               origin_id)
             VALUES (?1, ?2, '!', ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(
            params![local_name, display_name, now_ms(), site, origin_id],
            |r| r.get(0),
        )?;
    Ok(id)
}

pub struct RemoteMessage<'a> {
    pub channel_id: i64,
    pub author_id: Option<i64>,
    pub sender_name: Option<&'a str>,
    pub kind: &'a str,
    pub body: &'a str,
    pub thread_root: Option<i64>,
    pub also_in_channel: bool,
    pub created_at: i64,
    pub sort_key: i64,
    pub version: i64,
    pub deleted: bool,
    pub origin_site: &'a str,
    pub origin_id: i64,
    pub signature: &'a [u8],
}

/// Stores a message made on another site, in the place its order key gives it; `late` when
/// messages that sort after it were here already.
pub fn insert_remote_message(c: &Db, m: &RemoteMessage<'_>) -> Result<i64> {
    let (seq, last_sort): (i64, i64) = c
        .prepare_cached("SELECT last_seq + 1, last_sort FROM channels WHERE id = ?1")?
        .query_row([m.channel_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    c.prepare_cached(
        "UPDATE channels SET last_seq = ?2,
             last_sort = CASE WHEN last_sort >= ?3 THEN last_sort ELSE ?3 END WHERE id = ?1",
    )?
    .execute(params![m.channel_id, seq, m.sort_key])?;
    let late = m.sort_key < last_sort;
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO messages(channel_id, seq, author_id, kind, body, thread_root, created_at,
                 edited_at, deleted, sender_name, also_in_channel, origin_site, origin_id, sort_key,
                 version, late, signature)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             RETURNING id",
        )?
        .query_row(
            params![
                m.channel_id,
                seq,
                m.author_id,
                m.kind,
                m.body,
                m.thread_root,
                m.created_at,
                m.deleted.then_some(now_ms()),
                m.deleted,
                m.sender_name,
                m.also_in_channel,
                m.origin_site,
                m.origin_id,
                m.sort_key,
                m.version,
                late,
                m.signature
            ],
            |r| r.get(0),
        )?;
    if let Some(root) = m.thread_root {
        c.prepare_cached(
            "UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ?2 WHERE id = ?1",
        )?
        .execute(params![root, m.created_at])?;
    }
    Ok(id)
}

/// Takes a newer version of a message made elsewhere (an edit, or its deletion).
pub fn update_remote_message(
    c: &Db,
    id: i64,
    body: &str,
    version: i64,
    deleted: bool,
    signature: &[u8],
) -> Result<()> {
    if deleted {
        super::chat::delete_message(c, id)?;
        c.prepare_cached("UPDATE messages SET version = ?2, signature = ?3 WHERE id = ?1")?
            .execute(params![id, version, signature])?;
        return Ok(());
    }
    c.prepare_cached(
        "INSERT INTO message_edits(message_id, body, edited_at)
         SELECT id, body, ?2 FROM messages WHERE id = ?1 AND body != ?3",
    )?
    .execute(params![id, now_ms(), body])?;
    c.prepare_cached(
        "UPDATE messages SET body = ?2, edited_at = ?3, version = ?4, signature = ?5 WHERE id = ?1",
    )?
    .execute(params![id, body, now_ms(), version, signature])?;
    Ok(())
}

/// Saves this site's signature of its own message's current version, so it is made once.
pub fn remember_signature(c: &Db, id: i64, version: i64, signature: &[u8]) -> Result<()> {
    c.prepare_cached("UPDATE messages SET signature = ?3 WHERE id = ?1 AND version = ?2")?
        .execute(params![id, version, signature])?;
    Ok(())
}

/// The channel's kind, name and topic, and the global id of its home.
pub fn channel_out(c: &Db, id: i64) -> Result<Option<(String, Option<String>, String)>> {
    Ok(
        c.prepare_cached("SELECT kind, name, topic FROM channels WHERE id = ?1")?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?,
    )
}

/// The name and origin of a person of another site, for showing "anna · HQ".
pub fn user_site(c: &Db, user_id: i64) -> Result<Option<String>> {
    Ok(c.prepare_cached(
        "SELECT s.name FROM users u JOIN sites s ON s.id = u.origin_site WHERE u.id = ?1",
    )?
    .query_row([user_id], |r| r.get(0))
    .optional()?)
}

/// The latest add or remove of one person's reaction, with the signature of their site (None
/// for this site's own people: signed when sent).
pub fn set_reaction_state(
    c: &Db,
    message_id: i64,
    user_id: i64,
    emoji: &str,
    present: bool,
    version: i64,
    signature: Option<&[u8]>,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO reaction_states(message_id, user_id, emoji, present, version, signature)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(message_id, user_id, emoji) DO UPDATE SET present = excluded.present,
             version = excluded.version, signature = excluded.signature",
    )?
    .execute(params![
        message_id, user_id, emoji, present, version, signature
    ])?;
    Ok(())
}

/// The stored version of a reaction state, if any.
pub fn reaction_version(c: &Db, message_id: i64, user_id: i64, emoji: &str) -> Result<Option<i64>> {
    Ok(c.prepare_cached(
        "SELECT version FROM reaction_states
             WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3",
    )?
    .query_row(params![message_id, user_id, emoji], |r| r.get(0))
    .optional()?)
}

/// Sets a reaction present or absent as a linked site says.
pub fn apply_reaction(
    c: &Db,
    message_id: i64,
    user_id: i64,
    emoji: &str,
    present: bool,
) -> Result<()> {
    if present {
        c.prepare_cached(
            "INSERT INTO reactions(message_id, user_id, emoji, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![message_id, user_id, emoji, now_ms()])?;
    } else {
        c.prepare_cached(
            "DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3",
        )?
        .execute(params![message_id, user_id, emoji])?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct ReactionOut {
    pub user: AuthorOut,
    pub emoji: String,
    pub present: bool,
    pub version: i64,
    pub signature: Option<Vec<u8>>,
}

/// Every person's latest reaction state on a message.
pub fn reactions_out(c: &Db, message_id: i64) -> Result<Vec<ReactionOut>> {
    let mut stmt = c.prepare_cached(
        "SELECT u.id, u.origin_site, u.origin_id, u.username, u.display_name,
                r.emoji, r.present, r.version, r.signature
         FROM reaction_states r JOIN users u ON u.id = r.user_id
         WHERE r.message_id = ?1 ORDER BY r.user_id, r.emoji",
    )?;
    let rows = stmt.query_map([message_id], |r| {
        Ok(ReactionOut {
            user: author_at(r, 0)?,
            emoji: r.get(5)?,
            present: r.get(6)?,
            version: r.get(7)?,
            signature: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<super::db::Result<_>>()?)
}

/// The latest pin or unpin of a message, by whom, with their site's signature (None for this
/// site's people: signed when sent).
pub fn set_pin_state(
    c: &Db,
    message_id: i64,
    user_id: i64,
    pinned: bool,
    version: i64,
    signature: Option<&[u8]>,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO pin_states(message_id, user_id, pinned, version, signature)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(message_id) DO UPDATE SET user_id = excluded.user_id,
             pinned = excluded.pinned, version = excluded.version, signature = excluded.signature",
    )?
    .execute(params![message_id, user_id, pinned, version, signature])?;
    Ok(())
}

pub fn pin_version(c: &Db, message_id: i64) -> Result<Option<i64>> {
    Ok(
        c.prepare_cached("SELECT version FROM pin_states WHERE message_id = ?1")?
            .query_row([message_id], |r| r.get(0))
            .optional()?,
    )
}

#[derive(Debug, Clone)]
pub struct PinOut {
    pub user: AuthorOut,
    pub pinned: bool,
    pub version: i64,
    pub signature: Option<Vec<u8>>,
}

pub fn pin_out(c: &Db, message_id: i64) -> Result<Option<PinOut>> {
    Ok(c.prepare_cached(
        "SELECT u.id, u.origin_site, u.origin_id, u.username, u.display_name,
                    p.pinned, p.version, p.signature
             FROM pin_states p JOIN users u ON u.id = p.user_id WHERE p.message_id = ?1",
    )?
    .query_row([message_id], |r| {
        Ok(PinOut {
            user: author_at(r, 0)?,
            pinned: r.get(5)?,
            version: r.get(6)?,
            signature: r.get(7)?,
        })
    })
    .optional()?)
}

/// Holds or takes the right to dial link `link_id` for `ttl_ms`: one process at a time across a
/// cluster's nodes has it; a holder that stops renewing (a dead node) loses it once it expires.
/// The row is swapped only if unchanged since read, so two nodes never both take it.
pub fn take_dial_lease(c: &Db, link_id: i64, holder: &str, ttl_ms: i64) -> Result<bool> {
    let key = format!("link-dialer:{link_id}");
    let now = now_ms();
    let value = format!("{}:{holder}", now + ttl_ms);
    let current = super::backup::meta(c, &key)?;
    let free = match &current {
        None => true,
        Some(v) => match v.split_once(':') {
            Some((until, who)) => who == holder || until.parse::<i64>().unwrap_or(0) < now,
            None => true,
        },
    };
    if !free {
        return Ok(false);
    }
    let changed = match current {
        None => c
            .prepare_cached(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
            )?
            .execute(params![key, value])?,
        Some(old) => c
            .prepare_cached("UPDATE meta SET value = ?2 WHERE key = ?1 AND value = ?3")?
            .execute(params![key, value, old])?,
    };
    Ok(changed == 1)
}
