//! Channels, membership, messages, reactions, mentions, pins, read state, search and the event
//! log. Authorization decisions are made by `chat`; these functions only read and write rows.

use std::collections::HashMap;

use super::db::{params, params_from_iter, Db, OptionalExtension, Row};

use super::{now_ms, Conflict, Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Public,
    Private,
    Dm,
    Group,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Public => "public",
            ChannelKind::Private => "private",
            ChannelKind::Dm => "dm",
            ChannelKind::Group => "group",
        }
    }

    fn parse(s: &str) -> ChannelKind {
        match s {
            "public" => ChannelKind::Public,
            "dm" => ChannelKind::Dm,
            "group" => ChannelKind::Group,
            _ => ChannelKind::Private,
        }
    }

    /// Direct conversations have fixed members and no name.
    pub fn is_direct(self) -> bool {
        matches!(self, ChannelKind::Dm | ChannelKind::Group)
    }
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub id: i64,
    pub kind: ChannelKind,
    pub name: Option<String>,
    pub topic: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub archived: bool,
    pub last_seq: i64,
    /// Who may notify everyone with @channel, @here or @all: "everyone" or "owners".
    pub mass_mentions: String,
}

/// A channel as one member sees it.
#[derive(Debug, Clone)]
pub struct ChannelSummary {
    pub channel: Channel,
    pub role: String,
    pub last_read_seq: i64,
    /// "all", "mentions" or "none".
    pub notify: String,
    pub muted_until: Option<i64>,
    pub unread: i64,
    pub mentions: i64,
    pub member_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Membership {
    pub role: String,
    pub last_read_seq: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    pub emoji: String,
    pub user_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: i64,
    pub channel_id: i64,
    pub seq: i64,
    pub author_id: Option<i64>,
    pub client_id: Option<String>,
    pub kind: String,
    pub body: String,
    pub thread_root: Option<i64>,
    pub reply_count: i64,
    pub last_reply_at: Option<i64>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    pub pinned_at: Option<i64>,
    /// The name shown for a message posted through an incoming webhook (and that webhook,
    /// while it exists); None for people's messages.
    pub sender_name: Option<String>,
    pub webhook_id: Option<i64>,
    pub reactions: Vec<Reaction>,
    pub files: Vec<super::files::FileRow>,
    /// The message (in the same conversation) this one answers, as it is now.
    pub quote: Option<Quote>,
    pub quote_of: Option<i64>,
    /// Where a forwarded message came from, as it was when forwarded.
    pub forward: Option<Forward>,
    /// A thread reply also shown in the channel.
    pub also_in_channel: bool,
    /// The order linked sites agree on (`links::hlc`).
    pub sort_key: i64,
    /// Arrived from a linked site after later messages.
    pub late: bool,
}

/// A quoted message as it is now: a compact preview, or only "deleted".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub id: i64,
    pub author_id: Option<i64>,
    pub sender_name: Option<String>,
    /// The start of its text (empty once deleted).
    pub excerpt: String,
    pub deleted: bool,
    pub has_files: bool,
}

/// The origin of a forwarded message, frozen when it was forwarded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Forward {
    /// The original message (null once it is gone).
    #[serde(default)]
    pub message_id: Option<i64>,
    pub channel_id: i64,
    pub author_id: Option<i64>,
    /// The original author's (or integration's) name at the time.
    pub author_name: String,
    pub created_at: i64,
}

/// How much of a quoted message a quote shows.
const QUOTE_EXCERPT_CHARS: usize = 200;

const CHANNEL_COLS: &str =
    "id, kind, name, topic, created_by, created_at, archived, last_seq, mass_mentions";

fn channel_row(r: &Row<'_>) -> super::db::Result<Channel> {
    Ok(Channel {
        id: r.get(0)?,
        kind: ChannelKind::parse(&r.get::<_, String>(1)?),
        name: r.get(2)?,
        topic: r.get(3)?,
        created_by: r.get(4)?,
        created_at: r.get(5)?,
        archived: r.get(6)?,
        last_seq: r.get(7)?,
        mass_mentions: r.get(8)?,
    })
}

const MESSAGE_COLS: &str = "id, channel_id, seq, author_id, client_id, kind, body, thread_root, \
    reply_count, last_reply_at, created_at, edited_at, deleted, pinned_at, sender_name, webhook_id, \
    quote_of, forwarded_from, forward_info, also_in_channel, sort_key, late";

fn message_row(r: &Row<'_>) -> super::db::Result<Message> {
    Ok(Message {
        id: r.get(0)?,
        channel_id: r.get(1)?,
        seq: r.get(2)?,
        author_id: r.get(3)?,
        client_id: r.get(4)?,
        kind: r.get(5)?,
        body: r.get(6)?,
        thread_root: r.get(7)?,
        reply_count: r.get(8)?,
        last_reply_at: r.get(9)?,
        created_at: r.get(10)?,
        edited_at: r.get(11)?,
        deleted: r.get(12)?,
        pinned_at: r.get(13)?,
        sender_name: r.get(14)?,
        webhook_id: r.get(15)?,
        reactions: Vec::new(),
        files: Vec::new(),
        quote: None,
        quote_of: r.get(16)?,
        forward: {
            let from: Option<i64> = r.get(17)?;
            let info: Option<String> = r.get(18)?;
            info.and_then(|j| serde_json::from_str::<Forward>(&j).ok())
                .map(|f| Forward {
                    message_id: from,
                    ..f
                })
        },
        also_in_channel: r.get(19)?,
        sort_key: r.get(20)?,
        late: r.get(21)?,
    })
}

/// Reads a message row, or, when the row's columns cannot be decoded (damaged data), its id
/// and what failed. Errors stepping through the table itself still end the query.
fn message_row_or_damage(
    r: &Row<'_>,
) -> super::db::Result<Result<Message, (i64, super::db::Error)>> {
    let id: i64 = r.get(0)?;
    Ok(message_row(r).map_err(|e| (id, e)))
}

/// Keeps the readable messages; logs each damaged one so it is found, and serves around it.
fn readable_messages(
    rows: impl Iterator<Item = super::db::Result<Result<Message, (i64, super::db::Error)>>>,
) -> Result<Vec<Message>> {
    let mut out = Vec::new();
    for row in rows {
        match row? {
            Ok(m) => out.push(m),
            Err((id, e)) => {
                tracing::error!(table = "messages", id, error = %e, "skipping a damaged message")
            }
        }
    }
    Ok(out)
}

fn conflict_on_unique(e: super::db::Error, conflict: Conflict) -> StoreError {
    if e.is_constraint() {
        StoreError::Conflict(conflict)
    } else {
        e.into()
    }
}

pub fn create_channel(
    c: &Db,
    kind: ChannelKind,
    name: Option<&str>,
    topic: &str,
    created_by: i64,
    dm_key: Option<&str>,
) -> Result<Channel> {
    c.prepare_cached(
        "INSERT INTO channels(kind, name, topic, created_by, created_at, dm_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        kind.as_str(),
        name,
        topic,
        created_by,
        now_ms(),
        dm_key
    ])
    .map_err(|e| conflict_on_unique(e, Conflict::ChannelNameTaken))?;
    channel(c, c.last_insert_rowid()?)
}

pub fn channel(c: &Db, id: i64) -> Result<Channel> {
    Ok(c.prepare_cached(&format!(
        "SELECT {CHANNEL_COLS} FROM channels WHERE id = ?1"
    ))?
    .query_row([id], channel_row)?)
}

/// A named channel (public or private), by its name in any case.
pub fn channel_by_name(c: &Db, name: &str) -> Result<Option<Channel>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {CHANNEL_COLS} FROM channels WHERE name = ?1"
    ))?
    .query_row([name], channel_row)
    .optional()?)
}

pub fn channel_by_dm_key(c: &Db, key: &str) -> Result<Option<Channel>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {CHANNEL_COLS} FROM channels WHERE dm_key = ?1"
    ))?
    .query_row([key], channel_row)
    .optional()?)
}

pub fn update_channel(
    c: &Db,
    id: i64,
    name: Option<&str>,
    topic: Option<&str>,
    archived: Option<bool>,
) -> Result<Channel> {
    if let Some(name) = name {
        c.prepare_cached("UPDATE channels SET name = ?2 WHERE id = ?1")?
            .execute(params![id, name])
            .map_err(|e| conflict_on_unique(e, Conflict::ChannelNameTaken))?;
    }
    if let Some(topic) = topic {
        c.prepare_cached("UPDATE channels SET topic = ?2 WHERE id = ?1")?
            .execute(params![id, topic])?;
    }
    if let Some(archived) = archived {
        c.prepare_cached("UPDATE channels SET archived = ?2 WHERE id = ?1")?
            .execute(params![id, archived])?;
    }
    channel(c, id)
}

/// Public channels, joined or not, for browsing.
pub fn public_channels(c: &Db, user_id: i64) -> Result<Vec<(Channel, bool, i64)>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {CHANNEL_COLS},
            EXISTS(SELECT 1 FROM members m WHERE m.channel_id = channels.id AND m.user_id = ?1),
            (SELECT count(*) FROM members m WHERE m.channel_id = channels.id)
         FROM channels WHERE kind = 'public' ORDER BY name"
    ))?;
    let rows = stmt.query_map([user_id], |r| Ok((channel_row(r)?, r.get(9)?, r.get(10)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn membership(c: &Db, channel_id: i64, user_id: i64) -> Result<Option<Membership>> {
    Ok(c.prepare_cached(
        "SELECT role, last_read_seq FROM members WHERE channel_id = ?1 AND user_id = ?2",
    )?
    .query_row(params![channel_id, user_id], |r| {
        Ok(Membership {
            role: r.get(0)?,
            last_read_seq: r.get(1)?,
        })
    })
    .optional()?)
}

/// Adds a member; false when they already were one.
pub fn add_member(c: &Db, channel_id: i64, user_id: i64, role: &str) -> Result<bool> {
    let last_seq: i64 = c
        .prepare_cached("SELECT last_seq FROM channels WHERE id = ?1")?
        .query_row([channel_id], |r| r.get(0))?;
    // A new member starts with everything before joining marked read.
    let n = c
        .prepare_cached(
            "INSERT INTO members(channel_id, user_id, role, joined_at, last_read_seq)
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        )?
        .execute(params![channel_id, user_id, role, now_ms(), last_seq])?;
    Ok(n == 1)
}

pub fn remove_member(c: &Db, channel_id: i64, user_id: i64) -> Result<bool> {
    let n = c
        .prepare_cached("DELETE FROM members WHERE channel_id = ?1 AND user_id = ?2")?
        .execute(params![channel_id, user_id])?;
    Ok(n == 1)
}

/// How far each member has read, and when: (user, seq, read_at).
pub fn read_positions(c: &Db, channel_id: i64) -> Result<Vec<(i64, i64, Option<i64>)>> {
    let mut st = c.prepare_cached(
        "SELECT user_id, last_read_seq, read_at FROM members WHERE channel_id = ?1 ORDER BY user_id",
    )?;
    let rows = st.query_map([channel_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A member's notification level ("all", "mentions", "none") and mute.
pub fn set_notify(
    c: &Db,
    channel_id: i64,
    user_id: i64,
    level: &str,
    muted_until: Option<i64>,
) -> Result<()> {
    let n = c
        .prepare_cached(
            "UPDATE members SET notify = ?3, muted_until = ?4 WHERE channel_id = ?1 AND user_id = ?2",
        )?
        .execute(params![channel_id, user_id, level, muted_until])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn set_mass_mentions(c: &Db, channel_id: i64, who: &str) -> Result<Channel> {
    c.prepare_cached("UPDATE channels SET mass_mentions = ?2 WHERE id = ?1")?
        .execute(params![channel_id, who])?;
    channel(c, channel_id)
}

pub fn member_ids(c: &Db, channel_id: i64) -> Result<Vec<i64>> {
    let mut stmt =
        c.prepare_cached("SELECT user_id FROM members WHERE channel_id = ?1 ORDER BY user_id")?;
    let rows = stmt.query_map([channel_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn channel_ids_of(c: &Db, user_id: i64) -> Result<Vec<i64>> {
    let mut stmt = c.prepare_cached("SELECT channel_id FROM members WHERE user_id = ?1")?;
    let rows = stmt.query_map([user_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Every channel the user belongs to, with unread and mention counts.
pub fn channels_of(c: &Db, user_id: i64) -> Result<Vec<ChannelSummary>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {}, m.role, m.last_read_seq, m.notify, m.muted_until,
            (SELECT count(*) FROM messages x WHERE x.channel_id = c.id AND x.seq > m.last_read_seq
                AND (x.thread_root IS NULL OR x.also_in_channel = 1) AND x.deleted = 0
                AND x.author_id IS DISTINCT FROM ?1),
            (SELECT count(*) FROM mentions n JOIN messages x ON x.id = n.message_id
                WHERE n.user_id = ?1 AND x.channel_id = c.id AND x.seq > m.last_read_seq
                AND x.deleted = 0)
         FROM members m JOIN channels c ON c.id = m.channel_id
         WHERE m.user_id = ?1
         ORDER BY c.kind, c.name, c.id",
        CHANNEL_COLS
            .split(", ")
            .map(|col| format!("c.{col}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    let rows = stmt.query_map([user_id], |r| {
        Ok(ChannelSummary {
            channel: channel_row(r)?,
            role: r.get(9)?,
            last_read_seq: r.get(10)?,
            notify: r.get(11)?,
            muted_until: r.get(12)?,
            unread: r.get(13)?,
            mentions: r.get(14)?,
            member_ids: Vec::new(),
        })
    })?;
    let mut out = rows.collect::<Result<Vec<_>, _>>()?;
    for s in out.iter_mut().filter(|s| s.channel.kind.is_direct()) {
        s.member_ids = member_ids(c, s.channel.id)?;
    }
    Ok(out)
}

/// Raises a member's read position (never lowers it); returns the position now stored.
pub fn mark_read(c: &Db, channel_id: i64, user_id: i64, seq: i64) -> Result<i64> {
    c.prepare_cached(
        "UPDATE members SET last_read_seq = CASE WHEN capped.seq > last_read_seq
                THEN capped.seq ELSE last_read_seq END,
            read_at = CASE WHEN capped.seq > last_read_seq THEN ?4 ELSE read_at END
         FROM (SELECT CASE WHEN ?3 < last_seq THEN ?3 ELSE last_seq END AS seq
               FROM channels WHERE id = ?1) AS capped
         WHERE channel_id = ?1 AND user_id = ?2",
    )?
    .execute(params![channel_id, user_id, seq, now_ms()])?;
    Ok(c.prepare_cached(
        "SELECT last_read_seq FROM members WHERE channel_id = ?1 AND user_id = ?2",
    )?
    .query_row(params![channel_id, user_id], |r| r.get(0))?)
}

pub fn message_by_client_id(c: &Db, author_id: i64, client_id: &str) -> Result<Option<Message>> {
    let m = c
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE author_id = ?1 AND client_id = ?2"
        ))?
        .query_row(params![author_id, client_id], message_row)
        .optional()?;
    match m {
        Some(m) => Ok(Some(with_reactions(c, vec![m])?.remove(0))),
        None => Ok(None),
    }
}

#[derive(Default)]
pub struct NewMessage<'a> {
    pub channel_id: i64,
    pub author_id: Option<i64>,
    pub client_id: Option<&'a str>,
    pub kind: &'a str,
    pub body: &'a str,
    pub thread_root: Option<i64>,
    pub quote_of: Option<i64>,
    pub forward: Option<&'a Forward>,
    pub also_in_channel: bool,
}

/// Inserts a message with the channel's next sequence number.
pub fn insert_message(c: &Db, m: &NewMessage<'_>) -> Result<Message> {
    let now = now_ms();
    // The order every linked site agrees on: after everything this channel holds (so a local
    // channel's order is its `seq` order), at this site's clock when that is later.
    let (seq, sort_key): (i64, i64) = c
        .prepare_cached(
            "UPDATE channels SET last_seq = last_seq + 1,
                last_sort = CASE WHEN last_sort >= ?2 THEN last_sort + 1 ELSE ?2 END
             WHERE id = ?1 RETURNING last_seq, last_sort",
        )?
        .query_row(params![m.channel_id, crate::links::hlc::now()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    // Plain numbers and a string: serializing cannot fail.
    let forward_info = m.forward.and_then(|f| serde_json::to_string(f).ok());
    // RETURNING: the id comes with the insert (one round trip to PostgreSQL, not two).
    let id: i64 = c
        .prepare_cached(
            "INSERT INTO messages(channel_id, seq, author_id, client_id, kind, body, thread_root,
                              created_at, quote_of, forwarded_from, forward_info, also_in_channel,
                              sort_key, version, origin_site)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13,
                 COALESCE((SELECT value FROM meta WHERE key = 'site_id'), '')) RETURNING id",
        )?
        .query_row(
            params![
                m.channel_id,
                seq,
                m.author_id,
                m.client_id,
                m.kind,
                m.body,
                m.thread_root,
                now,
                m.quote_of,
                m.forward.and_then(|f| f.message_id),
                forward_info,
                m.also_in_channel,
                sort_key
            ],
            |r| r.get(0),
        )?;
    if let Some(root) = m.thread_root {
        c.prepare_cached(
            "UPDATE messages SET reply_count = reply_count + 1, last_reply_at = ?2 WHERE id = ?1",
        )?
        .execute(params![root, now])?;
    }
    Ok(Message {
        id,
        channel_id: m.channel_id,
        seq,
        author_id: m.author_id,
        client_id: m.client_id.map(str::to_string),
        kind: m.kind.to_string(),
        body: m.body.to_string(),
        thread_root: m.thread_root,
        reply_count: 0,
        last_reply_at: None,
        created_at: now,
        edited_at: None,
        deleted: false,
        pinned_at: None,
        sender_name: None,
        webhook_id: None,
        reactions: Vec::new(),
        files: Vec::new(),
        quote: None,
        quote_of: m.quote_of,
        forward: m.forward.cloned(),
        also_in_channel: m.also_in_channel,
        sort_key,
        late: false,
    })
}

/// Marks a message just inserted as posted through an incoming webhook, under `name`.
pub fn set_webhook_sender(
    c: &Db,
    message: &mut Message,
    webhook_id: i64,
    name: &str,
) -> Result<()> {
    c.prepare_cached("UPDATE messages SET webhook_id = ?2 WHERE id = ?1")?
        .execute(params![message.id, webhook_id])?;
    message.webhook_id = Some(webhook_id);
    set_sender_name(c, message, name)
}

/// Shows a message under a name of its own (an integration's) instead of an author's.
pub fn set_sender_name(c: &Db, message: &mut Message, name: &str) -> Result<()> {
    c.prepare_cached("UPDATE messages SET sender_name = ?2 WHERE id = ?1")?
        .execute(params![message.id, name])?;
    message.sender_name = Some(name.to_string());
    Ok(())
}

pub fn add_mentions(c: &Db, message_id: i64, user_ids: &[i64]) -> Result<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO mentions(user_id, message_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for u in user_ids {
        stmt.execute(params![u, message_id])?;
    }
    Ok(())
}

pub fn clear_mentions(c: &Db, message_id: i64) -> Result<()> {
    c.prepare_cached("DELETE FROM mentions WHERE message_id = ?1")?
        .execute([message_id])?;
    Ok(())
}

pub fn message(c: &Db, id: i64) -> Result<Message> {
    let m = c
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE id = ?1"
        ))?
        .query_row([id], message_row)?;
    Ok(with_reactions(c, vec![m])?.remove(0))
}

/// Replaces a message's text, keeping the text it replaces in its edit history.
pub fn edit_message(c: &Db, id: i64, body: &str) -> Result<Message> {
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO message_edits(message_id, body, edited_at)
         SELECT id, body, ?2 FROM messages WHERE id = ?1 AND body != ?3",
    )?
    .execute(params![id, now, body])?;
    c.prepare_cached(
        "UPDATE messages SET body = ?2, edited_at = ?3, version = ?4, signature = NULL WHERE id = ?1",
    )?
    .execute(params![id, body, now, crate::links::hlc::now()])?;
    message(c, id)
}

/// Replaces the message with a tombstone: the content is gone, its place in the order stays.
pub fn delete_message(c: &Db, id: i64) -> Result<Message> {
    c.prepare_cached(
        "UPDATE messages SET body = '', deleted = 1, edited_at = ?2, pinned_at = NULL,
             version = ?3, signature = NULL
         WHERE id = ?1",
    )?
    .execute(params![id, now_ms(), crate::links::hlc::now()])?;
    c.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?
        .execute([id])?;
    // A deleted message's words go with it, earlier versions too.
    c.prepare_cached("DELETE FROM message_edits WHERE message_id = ?1")?
        .execute([id])?;
    clear_mentions(c, id)?;
    message(c, id)
}

/// Toggles one user's reaction; true when it is now present.
pub fn toggle_reaction(c: &Db, message_id: i64, user_id: i64, emoji: &str) -> Result<bool> {
    let removed = c
        .prepare_cached(
            "DELETE FROM reactions WHERE message_id = ?1 AND user_id = ?2 AND emoji = ?3",
        )?
        .execute(params![message_id, user_id, emoji])?;
    let present = removed == 0;
    if present {
        c.prepare_cached(
            "INSERT INTO reactions(message_id, user_id, emoji, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![message_id, user_id, emoji, now_ms()])?;
    }
    // Linked sites converge on the latest add or remove per person and emoji.
    super::links::set_reaction_state(
        c,
        message_id,
        user_id,
        emoji,
        present,
        crate::links::hlc::now(),
        None,
    )?;
    Ok(present)
}

pub fn set_pinned(c: &Db, id: i64, by: i64, pinned: bool) -> Result<Message> {
    apply_pin(c, id, by, pinned)?;
    // Linked sites converge on the latest pin or unpin.
    super::links::set_pin_state(c, id, by, pinned, crate::links::hlc::now(), None)?;
    message(c, id)
}

/// Pins or unpins a message without recording who decided it for linked sites.
pub fn apply_pin(c: &Db, id: i64, by: i64, pinned: bool) -> Result<()> {
    if pinned {
        c.prepare_cached("UPDATE messages SET pinned_at = ?2, pinned_by = ?3 WHERE id = ?1")?
            .execute(params![id, now_ms(), by])?;
    } else {
        c.prepare_cached("UPDATE messages SET pinned_at = NULL, pinned_by = NULL WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(())
}

fn with_reactions(c: &Db, mut msgs: Vec<Message>) -> Result<Vec<Message>> {
    if msgs.is_empty() {
        return Ok(msgs);
    }
    let ids: Vec<i64> = msgs.iter().map(|m| m.id).collect();
    let placeholders = vec!["?"; ids.len()].join(",");
    let mut stmt = c.prepare(&format!(
        "SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN ({placeholders})
         ORDER BY message_id, created_at, user_id"
    ))?;
    let mut by_msg: HashMap<i64, Vec<Reaction>> = HashMap::new();
    let rows = stmt.query_map(params_from_iter(ids.iter()), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    for row in rows {
        let (mid, emoji, uid) = match row {
            Ok(r) => r,
            Err(e) if e.is_decode() => {
                tracing::error!(table = "reactions", error = %e, "skipping a damaged reaction");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let list = by_msg.entry(mid).or_default();
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => r.user_ids.push(uid),
            None => list.push(Reaction {
                emoji,
                user_ids: vec![uid],
            }),
        }
    }
    let mut files_by_msg: HashMap<i64, Vec<super::files::FileRow>> = HashMap::new();
    for f in super::files::files_of(c, &ids)? {
        if let Some(mid) = f.message_id {
            files_by_msg.entry(mid).or_default().push(f);
        }
    }
    for m in &mut msgs {
        if let Some(r) = by_msg.remove(&m.id) {
            m.reactions = r;
        }
        if let Some(f) = files_by_msg.remove(&m.id) {
            m.files = f;
        }
        if let Some(q) = m.quote_of {
            m.quote = quote(c, q)?;
        }
    }
    Ok(msgs)
}

/// A message as a quote shows it now.
pub fn quote(c: &Db, id: i64) -> Result<Option<Quote>> {
    Ok(c.prepare_cached(
        "SELECT id, author_id, sender_name, body, deleted,
                EXISTS (SELECT 1 FROM files f WHERE f.message_id = messages.id)
             FROM messages WHERE id = ?1",
    )?
    .query_row([id], |r| {
        let body: String = r.get(3)?;
        let deleted: bool = r.get(4)?;
        Ok(Quote {
            id: r.get(0)?,
            author_id: r.get(1)?,
            sender_name: r.get(2)?,
            excerpt: if deleted {
                String::new()
            } else {
                body.chars().take(QUOTE_EXCERPT_CHARS).collect()
            },
            deleted,
            has_files: r.get(5)?,
        })
    })
    .optional()?)
}

/// Earlier versions of an edited message, oldest first: (body, when it was replaced).
pub fn edits(c: &Db, message_id: i64) -> Result<Vec<(String, i64)>> {
    let mut st = c.prepare_cached(
        "SELECT body, edited_at FROM message_edits WHERE message_id = ?1 ORDER BY id",
    )?;
    let rows = st.query_map([message_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn set_saved(c: &Db, user_id: i64, message_id: i64, saved: bool) -> Result<()> {
    if saved {
        c.prepare_cached(
            "INSERT INTO saved_messages(user_id, message_id, saved_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![user_id, message_id, now_ms()])?;
    } else {
        c.prepare_cached("DELETE FROM saved_messages WHERE user_id = ?1 AND message_id = ?2")?
            .execute(params![user_id, message_id])?;
    }
    Ok(())
}

/// A person's saved messages they may still read, newest saved first: (message, saved_at).
pub fn saved(c: &Db, user_id: i64, limit: i64) -> Result<Vec<(Message, i64)>> {
    let cols = MESSAGE_COLS
        .split(", ")
        .map(|col| format!("x.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut st = c.prepare_cached(&format!(
        "SELECT {cols}, s.saved_at FROM saved_messages s JOIN messages x ON x.id = s.message_id
         WHERE s.user_id = ?1 AND x.deleted = 0
           AND x.channel_id IN (SELECT channel_id FROM members WHERE user_id = ?1)
         ORDER BY s.saved_at DESC LIMIT ?2"
    ))?;
    let rows = st.query_map(params![user_id, limit], |r| {
        Ok((message_row(r)?, r.get::<_, i64>(20)?))
    })?;
    let pairs: Vec<(Message, i64)> = rows.collect::<Result<_, _>>()?;
    let times: Vec<i64> = pairs.iter().map(|p| p.1).collect();
    let msgs = with_reactions(c, pairs.into_iter().map(|p| p.0).collect())?;
    Ok(msgs.into_iter().zip(times).collect())
}

/// A page of a channel's top-level messages, oldest first. `before`/`after` are sequence numbers.
pub fn history(
    c: &Db,
    channel_id: i64,
    before: Option<i64>,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Message>> {
    // Pages follow the order every linked site agrees on (`sort_key`, then `origin_site`); a
    // message that arrived late from another site sits where it belongs, not at the end. In a
    // channel no other site writes to that is the `seq` order. `after` asks for what arrived
    // after `seq` (catching up), in that order.
    let mut msgs: Vec<Message> = if let Some(after) = after {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages
             WHERE channel_id = ?1 AND seq > ?2 AND (thread_root IS NULL OR also_in_channel = 1)
             ORDER BY sort_key, origin_site LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![channel_id, after, limit], message_row_or_damage)?;
        readable_messages(rows)?
    } else {
        // The cursor is a message's `seq`; one that names no message (a client's guess)
        // pages by `seq` as before.
        let cursor: Option<(i64, String)> = match before {
            Some(before) => c
                .prepare_cached(
                    "SELECT sort_key, origin_site FROM messages WHERE channel_id = ?1 AND seq = ?2",
                )?
                .query_row(params![channel_id, before], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?,
            None => None,
        };
        let mut v = match (before, cursor) {
            (_, Some((key, origin))) => {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages
                     WHERE channel_id = ?1 AND (thread_root IS NULL OR also_in_channel = 1)
                       AND (sort_key < ?2 OR (sort_key = ?2 AND origin_site < ?3))
                     ORDER BY sort_key DESC, origin_site DESC LIMIT ?4"
                ))?;
                let rows = stmt.query_map(
                    params![channel_id, key, origin, limit],
                    message_row_or_damage,
                )?;
                readable_messages(rows)?
            }
            (Some(before), None) => {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages
                     WHERE channel_id = ?1 AND seq < ?2 AND (thread_root IS NULL OR also_in_channel = 1)
                     ORDER BY sort_key DESC, origin_site DESC LIMIT ?3"
                ))?;
                let rows =
                    stmt.query_map(params![channel_id, before, limit], message_row_or_damage)?;
                readable_messages(rows)?
            }
            (None, None) => {
                let mut stmt = c.prepare_cached(&format!(
                    "SELECT {MESSAGE_COLS} FROM messages
                     WHERE channel_id = ?1 AND (thread_root IS NULL OR also_in_channel = 1)
                     ORDER BY sort_key DESC, origin_site DESC LIMIT ?2"
                ))?;
                let rows = stmt.query_map(params![channel_id, limit], message_row_or_damage)?;
                readable_messages(rows)?
            }
        };
        v.reverse();
        v
    };
    msgs = with_reactions(c, msgs)?;
    Ok(msgs)
}

pub fn thread(c: &Db, root_id: i64, limit: i64) -> Result<Vec<Message>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {MESSAGE_COLS} FROM messages WHERE thread_root = ?1
         ORDER BY sort_key, origin_site LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![root_id, limit], message_row_or_damage)?;
    with_reactions(c, readable_messages(rows)?)
}

pub fn pins(c: &Db, channel_id: i64) -> Result<Vec<Message>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {MESSAGE_COLS} FROM messages WHERE channel_id = ?1 AND pinned_at IS NOT NULL
         ORDER BY pinned_at DESC LIMIT 200"
    ))?;
    let rows = stmt.query_map([channel_id], message_row_or_damage)?;
    with_reactions(c, readable_messages(rows)?)
}

/// Messages that mention the user, newest first, in channels they still belong to.
pub fn mentions_of(
    c: &Db,
    user_id: i64,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Message>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {} FROM mentions n JOIN messages x ON x.id = n.message_id
         JOIN members m ON m.channel_id = x.channel_id AND m.user_id = n.user_id
         WHERE n.user_id = ?1 AND x.deleted = 0 AND x.id < ?2
         ORDER BY x.id DESC LIMIT ?3",
        MESSAGE_COLS
            .split(", ")
            .map(|col| format!("x.{col}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))?;
    let rows = stmt.query_map(
        params![user_id, before_id.unwrap_or(i64::MAX), limit],
        message_row_or_damage,
    )?;
    with_reactions(c, readable_messages(rows)?)
}

pub struct SearchQuery<'a> {
    pub user_id: i64,
    /// An FTS5 expression built by the caller from quoted terms (SQLite).
    pub fts: &'a str,
    /// The same as a `tsquery` (PostgreSQL).
    pub tsquery: &'a str,
    pub channel_id: Option<i64>,
    pub author_id: Option<i64>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: i64,
}

/// Full-text matches in channels the user belongs to, newest first, at most `q.limit`. FTS5
/// walks its index in rowid order here and stops at the limit, so the cost stays bounded however
/// many messages match; `chat` ranks these candidates.
pub fn search_candidates(c: &Db, q: &SearchQuery<'_>) -> Result<Vec<Message>> {
    let (from, order, expr) = match c.engine() {
        super::db::Engine::Sqlite => (
            "messages_fts JOIN messages x ON x.id = messages_fts.rowid
         WHERE messages_fts MATCH ?1",
            "messages_fts.rowid",
            q.fts,
        ),
        super::db::Engine::Postgres => (
            "messages_search s JOIN messages x ON x.id = s.id
         WHERE s.words @@ CAST(CAST(?1 AS TEXT) AS tsquery)",
            "s.id",
            q.tsquery,
        ),
    };
    let sql = format!(
        "SELECT {} FROM {from}
           AND x.channel_id IN (SELECT channel_id FROM members WHERE user_id = ?2)
           AND x.deleted = 0
           AND (CAST(?3 AS BIGINT) IS NULL OR x.channel_id = ?3)
           AND (CAST(?4 AS BIGINT) IS NULL OR x.author_id = ?4)
           AND (CAST(?5 AS BIGINT) IS NULL OR x.created_at >= ?5)
           AND (CAST(?6 AS BIGINT) IS NULL OR x.created_at < ?6)
         ORDER BY {order} DESC LIMIT ?7",
        MESSAGE_COLS
            .split(", ")
            .map(|col| format!("x.{col}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![
            expr,
            q.user_id,
            q.channel_id,
            q.author_id,
            q.from_ms,
            q.to_ms,
            q.limit
        ],
        message_row_or_damage,
    )?;
    readable_messages(rows)
}

/// Indexes for search up to `max_rows` messages: first those changed since they were indexed
/// (`messages_fts_pending`), then those past the index's mark, oldest first, moving the mark
/// past them; returns how many it looked at (fewer than `max_rows`: caught up). The index
/// holds each text message's words stemmed (`text::search_text`).
pub fn index_search_batch(c: &Db, max_rows: i64) -> Result<i64> {
    let postgres = c.engine() == super::db::Engine::Postgres;
    let (insert_sql, delete_sql) = if postgres {
        (
            "INSERT INTO messages_search(id, words)
             VALUES (?1, array_to_tsvector(string_to_array(CAST(?2 AS TEXT), ' ')))
             ON CONFLICT (id) DO UPDATE SET words = excluded.words",
            "DELETE FROM messages_search WHERE id = ?1",
        )
    } else {
        (
            "INSERT INTO messages_fts(rowid, body) VALUES (?1, ?2)",
            "DELETE FROM messages_fts WHERE rowid = ?1",
        )
    };
    let mut insert = c.prepare_cached(insert_sql)?;
    let pending: Vec<(i64, Option<String>)> = c
        .prepare_cached(
            "SELECT p.id, CASE WHEN m.kind = 'text' AND m.deleted = 0 THEN m.body END
             FROM messages_fts_pending p LEFT JOIN messages m ON m.id = p.id
             ORDER BY p.id LIMIT ?1",
        )?
        .query_map([max_rows], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (id, body) in &pending {
        c.prepare_cached(delete_sql)?.execute([id])?;
        if let Some(body) = body {
            insert.execute(params![id, crate::text::search_text(body)])?;
        }
        c.prepare_cached("DELETE FROM messages_fts_pending WHERE id = ?1")?
            .execute([id])?;
    }
    let room = max_rows - pending.len() as i64;
    // PostgreSQL queues every new message (ids are not taken in commit order across nodes,
    // so a mark could pass one still being written): the queue is the whole of the work.
    if room <= 0 || postgres {
        return Ok(pending.len() as i64);
    }
    let mark: i64 = c
        .prepare_cached("SELECT indexed_upto FROM messages_fts_progress WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let rows: Vec<(i64, Option<String>)> = c
        .prepare_cached(
            "SELECT id, CASE WHEN kind = 'text' AND deleted = 0 THEN body END
             FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2",
        )?
        .query_map(params![mark, room], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let Some(upto) = rows.last().map(|r| r.0) else {
        return Ok(pending.len() as i64);
    };
    for (id, body) in &rows {
        if let Some(body) = body {
            insert.execute(params![id, crate::text::search_text(body)])?;
        }
    }
    c.prepare_cached("UPDATE messages_fts_progress SET indexed_upto = ?1 WHERE id = 1")?
        .execute([upto])?;
    Ok(pending.len() as i64 + rows.len() as i64)
}

/// Attaches reactions to messages read by other queries.
pub fn attach_reactions(c: &Db, msgs: Vec<Message>) -> Result<Vec<Message>> {
    with_reactions(c, msgs)
}

/// Appends an event to the log; returns its position.
pub fn append_event(
    c: &Db,
    channel_id: Option<i64>,
    user_id: Option<i64>,
    payload: &str,
) -> Result<i64> {
    // PostgreSQL: the position comes from `log_head`, whose row this transaction then holds
    // until it commits, so positions follow commit order across every node (a sequence would
    // not: a reader could pass a position whose transaction commits later, and miss it).
    let sql = match c.engine() {
        super::db::Engine::Sqlite => {
            "INSERT INTO events(channel_id, user_id, created_at, payload)
             VALUES (?1, ?2, ?3, ?4) RETURNING id"
        }
        super::db::Engine::Postgres => {
            "WITH next AS (UPDATE log_head SET pos = pos + 1 WHERE name = 'events' RETURNING pos)
             INSERT INTO events(id, channel_id, user_id, created_at, payload)
             SELECT pos, CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), CAST(?3 AS BIGINT),
                    CAST(?4 AS TEXT) FROM next
             RETURNING id"
        }
    };
    Ok(c.prepare_cached(sql)?
        .query_row(params![channel_id, user_id, now_ms(), payload], |r| {
            r.get(0)
        })?)
}

pub fn event_head(c: &Db) -> Result<i64> {
    Ok(c.prepare_cached("SELECT coalesce(max(id), 0) FROM events")?
        .query_row([], |r| r.get(0))?)
}

/// One logged event with its audience, as a node that did not write it delivers it.
#[derive(Debug, Clone)]
pub struct LoggedEvent {
    pub pos: i64,
    pub channel_id: Option<i64>,
    pub user_id: Option<i64>,
    pub payload: String,
}

/// Every event after `after` up to `upto`, in order, at most `limit` (damaged rows are logged
/// and left out).
pub fn events_between(c: &Db, after: i64, upto: i64, limit: i64) -> Result<Vec<LoggedEvent>> {
    let rows = c
        .prepare_cached(
            "SELECT id, channel_id, user_id, payload FROM events
             WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3",
        )?
        .query_map(params![after, upto, limit], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<i64>>(2)?,
                decode_payload(r.get_ref(3)?),
            ))
        })?;
    let mut out = Vec::new();
    for row in rows {
        let (pos, channel_id, user_id, payload) = row?;
        match payload {
            Ok(payload) => out.push(LoggedEvent {
                pos,
                channel_id,
                user_id,
                payload,
            }),
            Err(problem) => {
                tracing::error!(
                    table = "events",
                    id = pos,
                    problem,
                    "skipping a damaged event"
                )
            }
        }
    }
    Ok(out)
}

pub fn event_tail(c: &Db) -> Result<i64> {
    Ok(c.prepare_cached("SELECT coalesce(min(id), 0) FROM events")?
        .query_row([], |r| r.get(0))?)
}

/// Events read for a replay.
#[derive(Debug, Default)]
pub struct EventRows {
    /// (position, payload), in order.
    pub events: Vec<(i64, String)>,
    /// Rows in range that could not be decoded (damaged); each was logged.
    pub skipped: usize,
}

/// Events after `after` up to `head` that the user may see, in order, at most `limit`. A row
/// whose payload is not readable JSON text is logged and skipped, not fatal: one damaged event
/// must not stop every later one from reaching the client.
pub fn events_for(c: &Db, user_id: i64, after: i64, head: i64, limit: i64) -> Result<EventRows> {
    let mut stmt = c.prepare_cached(
        "SELECT id, payload FROM events
         WHERE id > ?2 AND id <= ?3
           AND (user_id = ?1 OR (user_id IS NULL AND channel_id IN
                (SELECT channel_id FROM members WHERE user_id = ?1)))
         ORDER BY id LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![user_id, after, head, limit], |r| {
        Ok((r.get::<_, i64>(0)?, decode_payload(r.get_ref(1)?)))
    })?;
    let mut out = EventRows::default();
    for row in rows {
        let (id, payload) = row?;
        match payload {
            Ok(payload) => out.events.push((id, payload)),
            Err(problem) => {
                tracing::error!(table = "events", id, problem, "skipping a damaged event");
                out.skipped += 1;
            }
        }
    }
    Ok(out)
}

/// An event payload as stored: JSON text. Says what is wrong otherwise.
pub fn decode_payload(v: super::db::ValueRef<'_>) -> Result<String, &'static str> {
    let super::db::ValueRef::Text(bytes) = v else {
        return Err("the payload is not text");
    };
    let text = std::str::from_utf8(bytes).map_err(|_| "the payload is not valid UTF-8")?;
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|_| "the payload is not JSON")?;
    Ok(text.to_string())
}

/// Deletes events older than `older_than_ms`, except those a linked site has not acknowledged
/// yet: a link down for longer than the retention still gets everything when it returns.
pub fn prune_events(c: &Db, older_than_ms: i64) -> Result<usize> {
    Ok(c.prepare_cached(
        "DELETE FROM events WHERE created_at < ?1
             AND id <= COALESCE((SELECT MIN(sent_upto) FROM links), id)",
    )?
    .execute([older_than_ms])?)
}

/// Sessions revoked after `after`: (revocation id, session id, user id).
pub fn revocations_since(c: &Db, after: i64) -> Result<Vec<(i64, String, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, session_id, user_id FROM session_revocations WHERE id > ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn revocation_head(c: &Db) -> Result<i64> {
    Ok(
        c.prepare_cached("SELECT coalesce(max(id), 0) FROM session_revocations")?
            .query_row([], |r| r.get(0))?,
    )
}

pub fn prune_revocations(c: &Db, older_than_ms: i64) -> Result<usize> {
    Ok(
        c.prepare_cached("DELETE FROM session_revocations WHERE at < ?1")?
            .execute([older_than_ms])?,
    )
}

/// User ids for the given user names (case-insensitive), skipping unknown names.
pub fn user_ids_by_names(c: &Db, names: &[String]) -> Result<Vec<i64>> {
    let mut stmt = c.prepare_cached("SELECT id FROM users WHERE username = ?1 AND disabled = 0")?;
    let mut out = Vec::new();
    for n in names {
        if let Some(id) = stmt.query_row([n], |r| r.get(0)).optional()? {
            out.push(id);
        }
    }
    Ok(out)
}

pub fn enabled_users_exist(c: &Db, ids: &[i64]) -> Result<bool> {
    let mut stmt = c.prepare_cached("SELECT 1 FROM users WHERE id = ?1 AND disabled = 0")?;
    for id in ids {
        if stmt.query_row([id], |_| Ok(())).optional()?.is_none() {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Every (channel, user) membership, to seed the hub's index at start.
pub fn all_memberships(c: &Db) -> Result<Vec<(i64, i64)>> {
    let mut stmt = c.prepare_cached("SELECT channel_id, user_id FROM members")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Channels whose messages expire, with their period in days: the channel's own setting, else
/// the server's (`server_days`, 0 for none).
pub fn retention_plan(c: &Db, server_days: u32) -> Result<Vec<(i64, i64)>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, coalesce(retention_days, ?1) FROM channels
         WHERE coalesce(retention_days, ?1) > 0",
    )?;
    let rows = stmt.query_map([server_days], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A channel's own retention period in days (`None`: the server's).
/// A named channel as the administrators' list shows it.
#[derive(Debug, Clone)]
pub struct ChannelOverview {
    pub channel: Channel,
    pub members: i64,
    pub owners: Vec<i64>,
    /// When the last message was sent (ms), if any.
    pub last_activity: Option<i64>,
    pub retention_days: Option<u32>,
}

/// Every public and private channel, archived ones included.
pub fn channel_overview(c: &Db) -> Result<Vec<ChannelOverview>> {
    let cols = CHANNEL_COLS
        .split(", ")
        .map(|col| format!("c.{col}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut st = c.prepare_cached(&format!(
        "SELECT {cols},
            (SELECT count(*) FROM members m WHERE m.channel_id = c.id),
            (SELECT string_agg(CAST(m.user_id AS TEXT), ',') FROM members m
                WHERE m.channel_id = c.id AND m.role = 'owner'),
            (SELECT max(x.created_at) FROM messages x WHERE x.channel_id = c.id),
            c.retention_days
         FROM channels c WHERE c.kind IN ('public', 'private') ORDER BY c.name"
    ))?;
    let rows = st.query_map([], |r| {
        let owners: Option<String> = r.get(10)?;
        Ok(ChannelOverview {
            channel: channel_row(r)?,
            members: r.get(9)?,
            owners: owners
                .unwrap_or_default()
                .split(',')
                .filter_map(|v| v.parse().ok())
                .collect(),
            last_activity: r.get(11)?,
            retention_days: r.get(12)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Makes a member an owner or a plain member.
pub fn set_role(c: &Db, channel_id: i64, user_id: i64, role: &str) -> Result<()> {
    let n = c
        .prepare_cached("UPDATE members SET role = ?3 WHERE channel_id = ?1 AND user_id = ?2")?
        .execute(params![channel_id, user_id, role])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn set_channel_retention(c: &Db, channel_id: i64, days: Option<u32>) -> Result<()> {
    let n = c
        .prepare_cached("UPDATE channels SET retention_days = ?2 WHERE id = ?1")?
        .execute(params![channel_id, days])?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Deletes a channel's messages created before `cutoff_ms`, with their reactions, mentions, search
/// entries and logged events. A thread root goes only once all its replies have gone.
pub fn delete_messages_before(c: &Db, channel_id: i64, cutoff_ms: i64) -> Result<usize> {
    let replies = c
        .prepare_cached(
            "DELETE FROM messages
             WHERE channel_id = ?1 AND created_at < ?2 AND thread_root IS NOT NULL",
        )?
        .execute(params![channel_id, cutoff_ms])?;
    c.prepare_cached(
        "UPDATE messages SET reply_count =
            (SELECT count(*) FROM messages r WHERE r.thread_root = messages.id)
         WHERE channel_id = ?1 AND thread_root IS NULL AND reply_count > 0",
    )?
    .execute([channel_id])?;
    let roots = c
        .prepare_cached(
            "DELETE FROM messages WHERE channel_id = ?1 AND created_at < ?2 AND thread_root IS NULL
           AND NOT EXISTS (SELECT 1 FROM messages r WHERE r.thread_root = messages.id)",
        )?
        .execute(params![channel_id, cutoff_ms])?;
    c.prepare_cached("DELETE FROM events WHERE channel_id = ?1 AND created_at < ?2")?
        .execute(params![channel_id, cutoff_ms])?;
    Ok(replies + roots)
}

/// When the last backup finished (ms), if any.
pub fn last_backup_at(c: &Db) -> Result<Option<i64>> {
    Ok(
        c.prepare_cached("SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'last_backup_at'")?
            .query_row([], |r| r.get(0))
            .optional()?,
    )
}
