//! Messaging: channels, direct messages, messages, threads, reactions, pins, read state,
//! mentions and search, with every authorization decision. Writes log an event in the same
//! transaction and publish it through the hub right after the commit.
//!
//! Write methods are plain `fn`s that queue their transaction before returning the future that
//! awaits it: requests from one connection are therefore committed in the order they arrived.

mod actions;
mod directory;
pub mod linked;
pub use directory::ChannelSync;
pub mod follow;
mod outgoing;
pub mod people;
pub mod protocol;
mod webhooks;

use crate::problem::Problem;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::store::Db;

use crate::hub::{Audience, EndReason, FanOut, Frame, MembershipChange, Outgoing};
use crate::store::audit::{self, Entry};
use crate::store::chat::{self as q, Channel, ChannelKind, NewMessage, SearchQuery};
use crate::store::{Store, StoreError};
use protocol::{event_frame, ChannelInfo, ChannelView, Event, MessageView};

/// Start and end of a highlighted word inside search snippets (Unicode private-use characters,
/// which message text cannot forge: they are removed from bodies before highlighting).
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';
/// Words of context on each side of the first match in a snippet.
const SNIPPET_CONTEXT: usize = 8;
/// How many of the newest matches a search ranks. Bounds the cost of a search over a huge
/// history: ranking is exact when fewer messages match, and favours recent messages otherwise.
const SEARCH_CANDIDATES: i64 = 2000;
/// Messages the search indexer takes into one transaction: large enough that FTS5 writes one
/// segment for many messages instead of one per group commit, small enough that the writer is
/// not held for long (a few milliseconds).
const INDEX_BATCH: i64 = 500;
const INDEX_ROUNDS: usize = 200;

/// Largest group DM, counting its creator.
pub const MAX_GROUP_MEMBERS: usize = 16;
pub const MAX_PAGE: i64 = 200;

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// Also what non-members get, so that private channels do not reveal they exist.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    Invalid(Problem),
    #[error("this channel is archived")]
    Archived,
    #[error("the message is longer than {0} bytes")]
    TooLarge(usize),
    #[error("sending too fast; wait {retry_after_ms} ms")]
    RateLimited { retry_after_ms: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = ChatError> = std::result::Result<T, E>;

/// The meta key of the site's retention set from the admin UI.
const SITE_RETENTION: &str = "retention_days";

/// A message as its author writes it.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    /// Chosen by the client; a retry with the same id returns the first message.
    pub client_id: Option<String>,
    pub body: String,
    pub thread_root: Option<i64>,
    /// Ids of the author's finished uploads.
    pub attachments: Vec<String>,
    /// A message of the same conversation this one answers.
    pub quote_of: Option<i64>,
    /// A thread reply also shown in the channel.
    pub also_in_channel: bool,
}

/// Files one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;

#[derive(Debug, Clone)]
pub struct ChatLimits {
    pub max_message_bytes: usize,
    /// Sustained messages per second per user, and how many may come at once.
    pub messages_per_second: f64,
    pub message_burst: f64,
}

impl From<&crate::config::LimitsConfig> for ChatLimits {
    fn from(l: &crate::config::LimitsConfig) -> Self {
        ChatLimits {
            max_message_bytes: l.max_message_bytes,
            messages_per_second: l.messages_per_second,
            message_burst: f64::from(l.message_burst),
        }
    }
}

/// A token bucket per user.
#[derive(Default)]
struct SendLimiter {
    /// Short critical sections only.
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl SendLimiter {
    fn take(&self, user: i64, rate: f64, burst: f64) -> Result<()> {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() > 100_000 {
            b.clear();
        }
        let (tokens, last) = b.entry(user).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / rate * 1000.0).ceil() as u64;
            Err(ChatError::RateLimited {
                retry_after_ms: wait.max(1),
            })
        }
    }
}

/// Events logged by one transaction, published after it commits.
#[derive(Default)]
pub struct Log {
    out: Vec<Outgoing>,
}

impl Log {
    fn push(
        &mut self,
        c: &Db,
        audience: Audience,
        membership: Option<MembershipChange>,
        event: &Event,
    ) -> Result<(), StoreError> {
        let payload = event.to_json();
        let (channel, user) = match audience {
            Audience::Channel(ch) => (Some(ch), None),
            Audience::User(u) => (None, Some(u)),
        };
        let pos = q::append_event(c, channel, user, &payload)?;
        self.out.push(Outgoing {
            audience,
            membership,
            frame: Frame::new(Some(pos), event_frame(pos, &payload)),
        });
        Ok(())
    }

    fn message_new(&mut self, c: &Db, m: MessageView) -> Result<(), StoreError> {
        let ch = m.channel_id;
        self.push(
            c,
            Audience::Channel(ch),
            None,
            &Event::MessageNew { message: m },
        )
    }

    fn message_updated(&mut self, c: &Db, m: MessageView) -> Result<(), StoreError> {
        let ch = m.channel_id;
        self.push(
            c,
            Audience::Channel(ch),
            None,
            &Event::MessageUpdated { message: m },
        )
    }

    fn joined(&mut self, c: &Db, channel: &Channel, user_id: i64) -> Result<(), StoreError> {
        self.push(
            c,
            Audience::Channel(channel.id),
            Some(MembershipChange::Joined {
                channel_id: channel.id,
                user_id,
            }),
            &Event::MemberJoined {
                channel_id: channel.id,
                user_id,
                channel: ChannelInfo::from(channel),
            },
        )
    }

    fn left(&mut self, c: &Db, channel_id: i64, user_id: i64) -> Result<(), StoreError> {
        self.push(
            c,
            Audience::Channel(channel_id),
            Some(MembershipChange::Left {
                channel_id,
                user_id,
            }),
            &Event::MemberLeft {
                channel_id,
                user_id,
            },
        )
    }

    fn channel_updated(&mut self, c: &Db, channel: &Channel) -> Result<(), StoreError> {
        self.push(
            c,
            Audience::Channel(channel.id),
            None,
            &Event::ChannelUpdated {
                channel: ChannelInfo::from(channel),
            },
        )
    }
}

/// The acting user, as far as chat rules care.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub id: i64,
    pub is_admin: bool,
}

#[derive(Clone)]
pub struct Chat {
    store: Store,
    hub: Arc<dyn FanOut>,
    limits: ChatLimits,
    limiter: Arc<SendLimiter>,
    /// Posts through incoming webhooks, per webhook.
    webhook_limiter: Arc<SendLimiter>,
    outgoing: outgoing::OutgoingIndex,
    keywords: people::Keywords,
    metrics: Arc<crate::metrics::Metrics>,
    /// The last event position published (0: not known yet). Every event is logged through
    /// `commit` and published in commit order, so positions reach the hub contiguously; a jump
    /// means another process wrote to the log, and live connections would step over its events.
    published: Arc<AtomicI64>,
    /// Cluster mode: delivery follows the shared log (`follow.rs`), other nodes' events too.
    follower: Option<Arc<follow::Follower>>,
}

/// Records a security-relevant channel change in the audit log, inside the same transaction.
fn audit_channel(
    c: &Db,
    actor: Actor,
    action: &'static str,
    target: String,
    details: String,
) -> Result<()> {
    let name = crate::store::users::user_by_id(c, actor.id)
        .map(|u| u.username)
        .unwrap_or_default();
    audit::append(
        c,
        &Entry {
            actor_id: Some(actor.id),
            actor: name,
            action,
            target,
            details,
            ..Default::default()
        },
    )?;
    Ok(())
}

fn channel_label(ch: &Channel) -> String {
    match &ch.name {
        Some(n) => format!("#{n} ({})", ch.id),
        None => format!("conversation {}", ch.id),
    }
}

/// The member's role, or `NotFound` when they are not a member.
fn require_member(c: &Db, channel_id: i64, user_id: i64) -> Result<q::Membership> {
    q::membership(c, channel_id, user_id)?.ok_or(ChatError::NotFound)
}

fn channel_or_not_found(c: &Db, id: i64) -> Result<Channel> {
    q::channel(c, id).map_err(|e| match e {
        StoreError::NotFound => ChatError::NotFound,
        other => other.into(),
    })
}

fn message_or_not_found(c: &Db, id: i64) -> Result<q::Message> {
    q::message(c, id).map_err(|e| match e {
        StoreError::NotFound => ChatError::NotFound,
        other => other.into(),
    })
}

/// A message that is not deleted, in a channel `user_id` belongs to; `NotFound` otherwise.
fn live_message_of_member(c: &Db, message_id: i64, user_id: i64) -> Result<q::Message> {
    let m = message_or_not_found(c, message_id)?;
    require_member(c, m.channel_id, user_id)?;
    if m.deleted {
        return Err(ChatError::NotFound);
    }
    Ok(m)
}

/// Owners of a channel and server admins may manage it.
fn require_manager(c: &Db, channel: &Channel, actor: Actor) -> Result<()> {
    if actor.is_admin {
        return Ok(());
    }
    match q::membership(c, channel.id, actor.id)? {
        Some(m) if m.role == "owner" => Ok(()),
        Some(_) => Err(ChatError::Forbidden(
            "only the channel's owners or an administrator may do this",
        )),
        None => Err(ChatError::NotFound),
    }
}

pub fn validate_channel_name(name: &str) -> Result<String> {
    let name = name.trim().trim_start_matches('#').to_lowercase();
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.');
    if !ok {
        return Err(ChatError::Invalid(
            Problem::new(
                "bad-channel-name",
                "a channel name is 1 to 64 letters, digits, dashes, dots or underscores",
            )
            .field("name")
            .param("max", 64),
        ));
    }
    crate::text::check_name("a channel name", &name, false)
        .map_err(|e| ChatError::Invalid(e.problem("name")))?;
    Ok(name)
}

fn validate_topic(topic: &str) -> Result<String> {
    let t = topic.trim();
    if t.chars().count() > 250 || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ChatError::Invalid(
            Problem::new("too-long", "a topic is at most 250 characters")
                .field("topic")
                .param("max", 250),
        ));
    }
    Ok(t.to_string())
}

/// Reactions are shown to everyone as they are, so only real emoji: no words, no look-alikes,
/// no invisible characters. Stored in canonical form so "❤" and "❤️" count as one.
fn validate_emoji(e: &str) -> Result<String> {
    crate::text::single_emoji(e.trim())
        .map(str::to_string)
        .ok_or_else(|| {
            ChatError::Invalid(
                Problem::new("not-one-emoji", "a reaction is a single emoji").field("emoji"),
            )
        })
}

/// PostgreSQL cannot store U+0000 in text, and no keyboard types it: refuse it on both engines
/// alike, so a message that one box accepts is never one a cluster rejects.
fn refuse_nul(body: &str) -> Result<()> {
    if body.contains('\0') {
        return Err(ChatError::Invalid(
            Problem::new(
                "hidden-characters",
                "a message cannot contain the NUL character (U+0000)",
            )
            .field("body")
            .param("char", "U+0000"),
        ));
    }
    Ok(())
}

fn validate_client_id(id: &str) -> Result<()> {
    let ok = (1..=64).contains(&id.len())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(ChatError::Invalid(
            Problem::new(
                "bad-client-id",
                "client_id is 1 to 64 letters, digits, dashes or underscores",
            )
            .field("client_id"),
        ))
    }
}

/// Names mentioned as `@name`, lower-cased, in order of first appearance.
pub fn mentioned_names(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev: Option<char> = None;
    for (i, ch) in body.char_indices() {
        if ch == '@' && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_') {
            let rest = &body[i + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                .collect();
            let name = name.trim_end_matches(['.', '-']).to_ascii_lowercase();
            if !name.is_empty() && !out.contains(&name) {
                out.push(name);
            }
        }
        prev = Some(ch);
    }
    out
}

/// The words of a search, lower-cased, as the FTS expression uses them.
fn search_terms(text: &str) -> Vec<String> {
    words(text).take(16).collect()
}

/// Splits text into lower-cased words the way the search index does (roughly).
/// The words of a text in their search form (lower case, stemmed: see `text::stem`).
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(|w| crate::text::stem(&w.to_lowercase()))
}

/// Orders candidates by BM25 over the candidate set (the last term counts as a prefix), newest
/// first among equals, and keeps `limit`.
fn rank(candidates: Vec<q::Message>, terms: &[String], limit: usize) -> Vec<q::Message> {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let last = terms.len().saturating_sub(1);
    let docs: Vec<(Vec<usize>, usize)> = candidates
        .iter()
        .map(|m| {
            let mut tf = vec![0usize; terms.len()];
            let mut len = 0;
            for w in words(&m.body) {
                len += 1;
                for (i, t) in terms.iter().enumerate() {
                    if w == *t || (i == last && w.starts_with(t.as_str())) {
                        tf[i] += 1;
                    }
                }
            }
            (tf, len.max(1))
        })
        .collect();
    let n = docs.len().max(1) as f64;
    let avg_len = docs.iter().map(|d| d.1 as f64).sum::<f64>() / n;
    let idf: Vec<f64> = (0..terms.len())
        .map(|i| {
            let df = docs.iter().filter(|d| d.0[i] > 0).count() as f64;
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        })
        .collect();
    let mut scored: Vec<(f64, q::Message)> = candidates
        .into_iter()
        .zip(docs)
        .map(|(m, (tf, len))| {
            let score = tf
                .iter()
                .zip(&idf)
                .map(|(f, idf)| {
                    let f = *f as f64;
                    idf * f * (K1 + 1.0) / (f + K1 * (1.0 - B + B * len as f64 / avg_len))
                })
                .sum::<f64>();
            (score, m)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
    scored.truncate(limit);
    scored.into_iter().map(|(_, m)| m).collect()
}

/// A short plain-text excerpt of `body` (its Markdown read, see `text::plain_text`) around the
/// first matching word, matches between the markers. The last term matches as a prefix, like the
/// search itself.
pub fn snippet(body: &str, terms: &[String]) -> String {
    let clean: String = crate::text::plain_text(body)
        .chars()
        .filter(|c| *c != MARK_START && *c != MARK_END)
        .collect();
    // Split into alternating word / non-word pieces, keeping everything.
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    let mut start = 0;
    let mut in_word = None;
    for (i, ch) in clean.char_indices() {
        let w = ch.is_alphanumeric() || ch == '_';
        if in_word != Some(w) {
            if let Some(prev) = in_word {
                pieces.push((prev, &clean[start..i]));
            }
            start = i;
            in_word = Some(w);
        }
    }
    if let Some(prev) = in_word {
        pieces.push((prev, &clean[start..]));
    }
    let last = terms.len().saturating_sub(1);
    let matches = |word: &str| {
        let w = crate::text::stem(&word.to_lowercase());
        terms
            .iter()
            .enumerate()
            .any(|(i, t)| w == *t || (i == last && w.starts_with(t.as_str())))
    };
    let word_idx: Vec<usize> = (0..pieces.len()).filter(|i| pieces[*i].0).collect();
    let first = word_idx
        .iter()
        .position(|i| matches(pieces[*i].1))
        .unwrap_or(0);
    let from_word = first.saturating_sub(SNIPPET_CONTEXT);
    let to_word = (first + SNIPPET_CONTEXT * 2).min(word_idx.len().saturating_sub(1));
    let (from, to) = match (word_idx.get(from_word), word_idx.get(to_word)) {
        // Up to the end, the text's closing punctuation is kept ("3.", "</b>").
        (Some(a), Some(_)) if to_word + 1 == word_idx.len() => (*a, pieces.len() - 1),
        (Some(a), Some(b)) => (*a, *b),
        _ => return clean.chars().take(200).collect(),
    };
    let mut out = String::new();
    if from_word > 0 {
        out.push('…');
    }
    for (is_word, text) in &pieces[from..=to] {
        if *is_word && matches(text) {
            out.push(MARK_START);
            out.push_str(text);
            out.push(MARK_END);
        } else {
            out.push_str(text);
        }
    }
    if to_word + 1 < word_idx.len() {
        out.push('…');
    }
    out
}

/// What a person typed, as the words a search requires: every word stemmed, and the last one
/// (which may be half typed) as prefixes: its stem finds the word's forms, the letters as typed
/// find words whose stem is shorter than them. Words are letters, digits and `_` only, so they
/// need no escaping in either engine's query syntax.
fn query_words(text: &str) -> Option<(Vec<String>, Vec<String>)> {
    let raw: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(16)
        .collect();
    let (last, rest) = raw.split_last()?;
    let required = rest.iter().map(|w| crate::text::stem(w)).collect();
    let stemmed = crate::text::stem(last);
    let prefixes = if stemmed == *last {
        vec![stemmed]
    } else {
        vec![stemmed, last.clone()]
    };
    Some((required, prefixes))
}

/// Turns what a person typed into a safe FTS5 expression (SQLite): every word quoted, the last
/// one a prefix, all of them required.
pub fn fts_query(text: &str) -> Option<String> {
    let (required, prefixes) = query_words(text)?;
    let mut parts: Vec<String> = required.iter().map(|w| format!("\"{w}\"")).collect();
    let alternatives: Vec<String> = prefixes.iter().map(|w| format!("\"{w}\"*")).collect();
    parts.push(match alternatives.len() {
        1 => alternatives.concat(),
        _ => format!("({})", alternatives.join(" OR ")),
    });
    Some(parts.join(" "))
}

/// The same search as a `tsquery` (PostgreSQL), over the same stemmed words.
pub fn ts_query(text: &str) -> Option<String> {
    let (required, prefixes) = query_words(text)?;
    let mut parts: Vec<String> = required.iter().map(|w| format!("'{w}'")).collect();
    let alternatives: Vec<String> = prefixes.iter().map(|w| format!("'{w}':*")).collect();
    parts.push(format!("({})", alternatives.join(" | ")));
    Some(parts.join(" & "))
}

impl Chat {
    pub fn new(
        store: Store,
        hub: Arc<dyn FanOut>,
        limits: ChatLimits,
        metrics: Arc<crate::metrics::Metrics>,
    ) -> Chat {
        Chat {
            store,
            hub,
            limits,
            limiter: Arc::new(SendLimiter::default()),
            webhook_limiter: Arc::new(SendLimiter::default()),
            outgoing: outgoing::OutgoingIndex::default(),
            keywords: people::Keywords::default(),
            metrics,
            published: Arc::new(AtomicI64::new(0)),
            follower: None,
        }
    }

    /// Delivers the shared log from `head` on, whoever writes it (cluster mode); the caller
    /// runs `follow::run` with the returned follower.
    pub fn follow_log(&mut self, head: i64) -> Arc<follow::Follower> {
        let follower = follow::Follower::new(head);
        self.follower = Some(follower.clone());
        follower
    }

    /// Sets the log position everything before was published at (the head at start).
    pub fn set_published(&self, pos: i64) {
        self.published.store(pos, Ordering::SeqCst);
    }

    pub fn hub(&self) -> &Arc<dyn FanOut> {
        &self.hub
    }

    /// Queues a transaction whose events are published after it commits.
    fn commit<T, F>(&self, f: F) -> impl Future<Output = Result<T>> + Send + 'static
    where
        T: Send + 'static,
        F: FnOnce(&Db, &mut Log) -> Result<T> + Send + 'static,
    {
        let hub = self.hub.clone();
        let published = self.published.clone();
        let follower = self.follower.clone();
        self.store.submit_then(
            move |c| {
                let mut log = Log::default();
                let v = f(c, &mut log)?;
                Ok((v, log))
            },
            move |log: Log| {
                if let Some(follower) = follower {
                    if !log.out.is_empty() {
                        follower.local(hub.as_ref(), log.out);
                    }
                    return;
                }
                let first = log.out.first().and_then(|o| o.frame.pos);
                let last = log.out.last().and_then(|o| o.frame.pos);
                if let (Some(first), Some(last)) = (first, last) {
                    let before = published.swap(last, Ordering::SeqCst);
                    if before != 0 && first != before + 1 {
                        // Delivering this would move clients' positions past events they never
                        // got; ending their connections makes them resume, and replay has them.
                        tracing::error!(
                            expected = before + 1,
                            got = first,
                            "the event log holds events this server did not publish (was another \
                             process writing to the database?); live connections must resume"
                        );
                        hub.end_all(EndReason::Resume);
                    }
                }
                if !log.out.is_empty() {
                    hub.publish(log.out);
                }
            },
        )
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T> + Send + 'static,
    {
        // On the store's reader threads: a fixed set, each with its own connection.
        self.store
            .read(move |c| Ok(f(c)))
            .await
            .map_err(ChatError::Store)?
    }

    pub fn create_channel(
        &self,
        actor: Actor,
        name: &str,
        topic: &str,
        private: bool,
    ) -> impl Future<Output = Result<ChannelView>> + Send + 'static {
        let checked = validate_channel_name(name).and_then(|n| Ok((n, validate_topic(topic)?)));
        let work = checked.map(|(name, topic)| {
            self.commit(move |c, log| {
                let kind = if private {
                    ChannelKind::Private
                } else {
                    ChannelKind::Public
                };
                let ch = q::create_channel(c, kind, Some(&name), &topic, actor.id, None)?;
                q::add_member(c, ch.id, actor.id, "owner")?;
                log.joined(c, &ch, actor.id)?;
                audit_channel(
                    c,
                    actor,
                    "channel-created",
                    channel_label(&ch),
                    kind.as_str().into(),
                )?;
                Ok(ch.id)
            })
        });
        let me = self.clone();
        async move {
            let id = work?.await?;
            me.channel_view(actor.id, id).await
        }
    }

    /// The DM or group DM with exactly these people, created on first use.
    pub fn open_direct(
        &self,
        actor: Actor,
        others: Vec<i64>,
    ) -> impl Future<Output = Result<ChannelView>> + Send + 'static {
        let mut ids: Vec<i64> = others.into_iter().chain([actor.id]).collect();
        ids.sort_unstable();
        ids.dedup();
        let valid = if ids.len() > MAX_GROUP_MEMBERS {
            Err(ChatError::Invalid(
                Problem::new(
                    "group-too-large",
                    format!("a group conversation has at most {MAX_GROUP_MEMBERS} people"),
                )
                .field("user_ids")
                .param("max", MAX_GROUP_MEMBERS),
            ))
        } else {
            Ok(())
        };
        let kind = if ids.len() <= 2 {
            ChannelKind::Dm
        } else {
            ChannelKind::Group
        };
        let key = ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let work = valid.map(|()| {
            self.commit(move |c, log| {
                if !q::enabled_users_exist(c, &ids)? {
                    return Err(ChatError::NotFound);
                }
                if let Some(existing) = q::channel_by_dm_key(c, &key)? {
                    return Ok(existing.id);
                }
                let ch = q::create_channel(c, kind, None, "", actor.id, Some(&key))?;
                for id in &ids {
                    q::add_member(c, ch.id, *id, "member")?;
                    log.joined(c, &ch, *id)?;
                }
                Ok(ch.id)
            })
        });
        let me = self.clone();
        async move {
            let id = work?.await?;
            me.channel_view(actor.id, id).await
        }
    }

    pub async fn channel_view(&self, user_id: i64, channel_id: i64) -> Result<ChannelView> {
        self.read(move |c| {
            require_member(c, channel_id, user_id)?;
            q::channels_of(c, user_id)?
                .into_iter()
                .find(|s| s.channel.id == channel_id)
                .map(ChannelView::from)
                .ok_or(ChatError::NotFound)
        })
        .await
    }

    pub async fn channels(&self, user_id: i64) -> Result<Vec<ChannelView>> {
        self.read(move |c| {
            Ok(q::channels_of(c, user_id)?
                .into_iter()
                .map(ChannelView::from)
                .collect())
        })
        .await
    }

    /// Public channels for browsing: (channel, joined, member count).
    pub async fn browse(&self, user_id: i64) -> Result<Vec<(ChannelInfo, bool, i64)>> {
        self.read(move |c| {
            Ok(q::public_channels(c, user_id)?
                .into_iter()
                .map(|(ch, joined, n)| (ChannelInfo::from(&ch), joined, n))
                .collect())
        })
        .await
    }

    pub fn join(&self, actor: Actor, channel_id: i64) -> impl Future<Output = Result<()>> + Send {
        self.commit(move |c, log| {
            let ch = channel_or_not_found(c, channel_id)?;
            if ch.kind != ChannelKind::Public {
                return Err(ChatError::NotFound);
            }
            if ch.archived {
                return Err(ChatError::Archived);
            }
            if q::add_member(c, ch.id, actor.id, "member")? {
                log.joined(c, &ch, actor.id)?;
            }
            Ok(())
        })
    }

    pub fn leave(&self, actor: Actor, channel_id: i64) -> impl Future<Output = Result<()>> + Send {
        self.commit(move |c, log| {
            let ch = channel_or_not_found(c, channel_id)?;
            require_member(c, channel_id, actor.id)?;
            if ch.kind.is_direct() {
                return Err(ChatError::Forbidden(
                    "you cannot leave a direct conversation",
                ));
            }
            q::remove_member(c, channel_id, actor.id)?;
            log.left(c, channel_id, actor.id)?;
            Ok(())
        })
    }

    /// Adds someone to a channel. Any member may add people; direct conversations are fixed.
    pub fn add_member(
        &self,
        actor: Actor,
        channel_id: i64,
        user_id: i64,
    ) -> impl Future<Output = Result<()>> + Send {
        self.commit(move |c, log| {
            let ch = channel_or_not_found(c, channel_id)?;
            if !actor.is_admin {
                require_member(c, channel_id, actor.id)?;
            }
            if ch.kind.is_direct() {
                return Err(ChatError::Forbidden(
                    "direct conversations keep the people they started with",
                ));
            }
            if ch.archived {
                return Err(ChatError::Archived);
            }
            if !q::enabled_users_exist(c, &[user_id])? {
                return Err(ChatError::Invalid(
                    Problem::new("no-such-user", "no such user").field("user_id"),
                ));
            }
            if q::add_member(c, channel_id, user_id, "member")? {
                log.joined(c, &ch, user_id)?;
                if actor.is_admin {
                    audit_channel(
                        c,
                        actor,
                        "member-added",
                        channel_label(&ch),
                        format!("user {user_id}"),
                    )?;
                }
            }
            Ok(())
        })
    }

    /// Removes someone (channel owners and admins; anyone may remove themselves with `leave`).
    pub fn remove_member(
        &self,
        actor: Actor,
        channel_id: i64,
        user_id: i64,
    ) -> impl Future<Output = Result<()>> + Send {
        self.commit(move |c, log| {
            let ch = channel_or_not_found(c, channel_id)?;
            require_manager(c, &ch, actor)?;
            if ch.kind.is_direct() {
                return Err(ChatError::Forbidden(
                    "direct conversations keep the people they started with",
                ));
            }
            if !q::remove_member(c, channel_id, user_id)? {
                return Err(ChatError::NotFound);
            }
            log.left(c, channel_id, user_id)?;
            if actor.is_admin {
                audit_channel(
                    c,
                    actor,
                    "member-removed",
                    channel_label(&ch),
                    format!("user {user_id}"),
                )?;
            }
            Ok(())
        })
    }

    pub async fn members(&self, user_id: i64, is_admin: bool, channel_id: i64) -> Result<Vec<i64>> {
        self.read(move |c| {
            if !is_admin {
                require_member(c, channel_id, user_id)?;
            }
            Ok(q::member_ids(c, channel_id)?)
        })
        .await
    }

    /// Renames (owners, admins), sets the topic (any member) or archives (owners, admins).
    pub fn update_channel(
        &self,
        actor: Actor,
        channel_id: i64,
        name: Option<String>,
        topic: Option<String>,
        archived: Option<bool>,
        mass_mentions: Option<String>,
    ) -> impl Future<Output = Result<ChannelInfo>> + Send {
        let checked = (|| {
            let name = name.map(|n| validate_channel_name(&n)).transpose()?;
            let topic = topic.map(|t| validate_topic(&t)).transpose()?;
            if mass_mentions
                .as_deref()
                .is_some_and(|m| m != "everyone" && m != "owners")
            {
                return Err(ChatError::Invalid(
                    Problem::new("bad-choice", "mass_mentions is \"everyone\" or \"owners\"")
                        .field("mass_mentions"),
                ));
            }
            Ok::<_, ChatError>((name, topic))
        })();
        let work = checked.map(|(name, topic)| {
            self.commit(move |c, log| {
                let ch = channel_or_not_found(c, channel_id)?;
                if actor.is_admin {
                    // Admins manage any channel, member or not.
                } else {
                    require_member(c, channel_id, actor.id)?;
                }
                if name.is_some() || archived.is_some() || mass_mentions.is_some() {
                    require_manager(c, &ch, actor)?;
                }
                if ch.kind.is_direct() && name.is_some() {
                    return Err(ChatError::Forbidden("direct conversations have no name"));
                }
                if ch.archived && archived != Some(false) {
                    return Err(ChatError::Archived);
                }
                let was_archived = ch.archived;
                let mut ch =
                    q::update_channel(c, channel_id, name.as_deref(), topic.as_deref(), archived)?;
                if let Some(m) = &mass_mentions {
                    ch = q::set_mass_mentions(c, channel_id, m)?;
                }
                log.channel_updated(c, &ch)?;
                if ch.archived != was_archived {
                    let action = if ch.archived {
                        "channel-archived"
                    } else {
                        "channel-unarchived"
                    };
                    audit_channel(c, actor, action, channel_label(&ch), String::new())?;
                }
                Ok(ChannelInfo::from(&ch))
            })
        });
        async move { work?.await }
    }

    /// Posts a message. A retry with the same `client_id` answers with the first message.
    pub fn send(
        &self,
        actor: Actor,
        channel_id: i64,
        draft: Draft,
    ) -> impl Future<Output = Result<MessageView>> + Send + 'static {
        let Draft {
            client_id,
            body,
            thread_root,
            attachments,
            quote_of,
            also_in_channel,
        } = draft;
        let checked = (|| {
            if let Some(id) = &client_id {
                validate_client_id(id)?;
            }
            if body.trim().is_empty() && attachments.is_empty() {
                return Err(ChatError::Invalid(
                    Problem::new("empty-message", "a message cannot be empty").field("body"),
                ));
            }
            if attachments.len() > MAX_ATTACHMENTS {
                return Err(ChatError::Invalid(
                    Problem::new(
                        "too-many-files",
                        format!("a message carries at most {MAX_ATTACHMENTS} files"),
                    )
                    .field("attachments")
                    .param("max", MAX_ATTACHMENTS),
                ));
            }
            if body.len() > self.limits.max_message_bytes {
                return Err(ChatError::TooLarge(self.limits.max_message_bytes));
            }
            refuse_nul(&body)?;
            self.limiter.take(
                actor.id,
                self.limits.messages_per_second,
                self.limits.message_burst,
            )
        })();
        let keyword_hits = self.keywords.matching(&body, actor.id);
        let work = checked.map(|()| {
            self.commit(move |c, log| {
                if let Some(cid) = &client_id {
                    if let Some(existing) = q::message_by_client_id(c, actor.id, cid)? {
                        if existing.channel_id != channel_id {
                            return Err(ChatError::Invalid(
                                Problem::new(
                                    "client-id-used",
                                    "client_id was already used for another message",
                                )
                                .field("client_id"),
                            ));
                        }
                        return Ok((MessageView::from(existing), false));
                    }
                }
                let ch = channel_or_not_found(c, channel_id)?;
                let member = require_member(c, channel_id, actor.id)?;
                if ch.archived {
                    return Err(ChatError::Archived);
                }
                if let Some(root) = thread_root {
                    // A root that does not exist and one in a channel the sender cannot see
                    // must be told apart by nothing, or ids would probe other channels.
                    let bad_root = || {
                        ChatError::Invalid(
                            Problem::new(
                                "bad-thread",
                                "replies go to a top-level message of the same channel",
                            )
                            .field("thread_root"),
                        )
                    };
                    let r = match q::message(c, root) {
                        Ok(r) => r,
                        Err(StoreError::NotFound) => return Err(bad_root()),
                        Err(e) => return Err(e.into()),
                    };
                    if r.channel_id != channel_id || r.thread_root.is_some() || r.deleted {
                        return Err(bad_root());
                    }
                }
                if also_in_channel && thread_root.is_none() {
                    return Err(ChatError::Invalid(
                        Problem::new(
                            "not-a-thread-reply",
                            "only a thread reply can also be sent to the channel",
                        )
                        .field("also_in_channel"),
                    ));
                }
                if let Some(quoted) = quote_of {
                    // A quote answers a message of the same conversation: one elsewhere must
                    // reveal nothing, not even that it exists.
                    match q::message(c, quoted) {
                        Ok(m) if m.channel_id == channel_id && !m.deleted => {}
                        Ok(_) | Err(StoreError::NotFound) => {
                            return Err(ChatError::Invalid(
                                Problem::new(
                                    "bad-quote",
                                    "a quote answers a message of the same conversation",
                                )
                                .field("quote_of"),
                            ))
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                let msg = q::insert_message(
                    c,
                    &NewMessage {
                        channel_id,
                        author_id: Some(actor.id),
                        client_id: client_id.as_deref(),
                        kind: "text",
                        body: &body,
                        thread_root,
                        quote_of,
                        also_in_channel,
                        ..Default::default()
                    },
                )?;
                let mentioned = mention_targets(
                    c,
                    channel_id,
                    actor.id,
                    &body,
                    may_mention_all(&ch, &member, actor),
                    &keyword_hits,
                )?;
                q::add_mentions(c, msg.id, &mentioned)?;
                let view = if attachments.is_empty() && quote_of.is_none() {
                    MessageView::from(msg)
                } else {
                    crate::store::files::attach(c, actor.id, msg.id, &attachments).map_err(
                        |e| match e {
                            StoreError::Conflict(c) => {
                                ChatError::Invalid(Problem::new(c.code(), c.to_string()))
                            }
                            other => other.into(),
                        },
                    )?;
                    MessageView::from(q::message(c, msg.id)?)
                };
                log.message_new(c, view.clone())?;
                if let Some(root) = thread_root {
                    log.message_updated(c, q::message(c, root)?.into())?;
                }
                Ok((view, true))
            })
        });
        let this = self.clone();
        async move {
            let (m, new) = work?.await?;
            if new {
                this.metrics.message_stored();
                this.fire_outgoing(&m);
            }
            Ok(m)
        }
    }

    /// Writes a call's record into its conversation (a message of kind "call" whose body is
    /// JSON: call id, missed, duration, participants).
    pub fn record_call(
        &self,
        channel_id: i64,
        caller: i64,
        body: String,
    ) -> impl Future<Output = Result<MessageView>> + Send + 'static {
        self.commit(move |c, log| {
            let msg = q::insert_message(
                c,
                &NewMessage {
                    channel_id,
                    author_id: Some(caller),
                    client_id: None,
                    kind: "call",
                    body: &body,
                    thread_root: None,
                    ..Default::default()
                },
            )?;
            let view = MessageView::from(msg);
            log.message_new(c, view.clone())?;
            Ok(view)
        })
    }

    pub fn edit(
        &self,
        actor: Actor,
        message_id: i64,
        body: String,
    ) -> impl Future<Output = Result<MessageView>> + Send + 'static {
        let checked = if body.trim().is_empty() {
            Err(ChatError::Invalid(
                Problem::new("empty-message", "a message cannot be empty").field("body"),
            ))
        } else if body.len() > self.limits.max_message_bytes {
            Err(ChatError::TooLarge(self.limits.max_message_bytes))
        } else {
            refuse_nul(&body)
        };
        let keyword_hits = self.keywords.matching(&body, actor.id);
        let work = checked.map(|()| {
            self.commit(move |c, log| {
                let m = live_message_of_member(c, message_id, actor.id)?;
                if m.author_id != Some(actor.id) {
                    return Err(ChatError::Forbidden("you can only edit your own messages"));
                }
                let ch = channel_or_not_found(c, m.channel_id)?;
                if ch.archived {
                    return Err(ChatError::Archived);
                }
                let member = require_member(c, m.channel_id, actor.id)?;
                let m = q::edit_message(c, message_id, &body)?;
                q::clear_mentions(c, message_id)?;
                let mentioned = mention_targets(
                    c,
                    m.channel_id,
                    actor.id,
                    &body,
                    may_mention_all(&ch, &member, actor),
                    &keyword_hits,
                )?;
                q::add_mentions(c, message_id, &mentioned)?;
                let view = MessageView::from(m);
                log.message_updated(c, view.clone())?;
                Ok(view)
            })
        });
        async move { work?.await }
    }

    /// Deletes a message: its author, the channel's owners and admins may.
    pub fn delete(
        &self,
        actor: Actor,
        message_id: i64,
    ) -> impl Future<Output = Result<MessageView>> + Send + 'static {
        self.commit(move |c, log| {
            let m = message_or_not_found(c, message_id)?;
            let membership = q::membership(c, m.channel_id, actor.id)?;
            if membership.is_none() && !actor.is_admin {
                return Err(ChatError::NotFound);
            }
            let owner = membership.is_some_and(|m| m.role == "owner");
            if m.author_id != Some(actor.id) && !owner && !actor.is_admin {
                return Err(ChatError::Forbidden(
                    "only the author, the channel's owners or an administrator may delete this",
                ));
            }
            if m.deleted {
                return Ok(MessageView::from(m));
            }
            let view = MessageView::from(q::delete_message(c, message_id)?);
            log.message_updated(c, view.clone())?;
            Ok(view)
        })
    }

    /// Toggles the actor's reaction.
    pub fn react(
        &self,
        actor: Actor,
        message_id: i64,
        emoji: String,
    ) -> impl Future<Output = Result<MessageView>> + Send + 'static {
        let work = validate_emoji(&emoji).map(|emoji| {
            self.commit(move |c, log| {
                live_message_of_member(c, message_id, actor.id)?;
                q::toggle_reaction(c, message_id, actor.id, &emoji)?;
                let view = MessageView::from(q::message(c, message_id)?);
                log.message_updated(c, view.clone())?;
                Ok(view)
            })
        });
        async move { work?.await }
    }

    pub fn pin(
        &self,
        actor: Actor,
        message_id: i64,
        pinned: bool,
    ) -> impl Future<Output = Result<MessageView>> + Send + 'static {
        self.commit(move |c, log| {
            live_message_of_member(c, message_id, actor.id)?;
            let view = MessageView::from(q::set_pinned(c, message_id, actor.id, pinned)?);
            log.message_updated(c, view.clone())?;
            Ok(view)
        })
    }

    /// Moves the actor's read position forward; their other sessions hear of it.
    pub fn mark_read(
        &self,
        actor: Actor,
        channel_id: i64,
        seq: i64,
    ) -> impl Future<Output = Result<i64>> + Send + 'static {
        self.commit(move |c, log| {
            let before = require_member(c, channel_id, actor.id)?.last_read_seq;
            let now = q::mark_read(c, channel_id, actor.id, seq)?;
            if now != before {
                log.push(
                    c,
                    Audience::User(actor.id),
                    None,
                    &Event::Read {
                        channel_id,
                        seq: now,
                    },
                )?;
                // In direct conversations the others see how far one has read, unless one
                // turned read receipts off.
                let ch = channel_or_not_found(c, channel_id)?;
                if ch.kind.is_direct()
                    && crate::store::users::preferences(c, actor.id)?.read_receipts
                {
                    log.push(
                        c,
                        Audience::Channel(channel_id),
                        None,
                        &Event::Receipt {
                            channel_id,
                            user_id: actor.id,
                            seq: now,
                            read_at: crate::store::now_ms(),
                        },
                    )?;
                }
            }
            Ok(now)
        })
    }

    /// Tells the channel someone is typing (not stored).
    pub fn typing(&self, actor: Actor, channel_id: i64, thread_root: Option<i64>) -> Result<()> {
        if !self.hub.is_member(channel_id, actor.id) {
            return Err(ChatError::NotFound);
        }
        let text = serde_json::json!({
            "type": "typing", "channel_id": channel_id, "user_id": actor.id, "thread_root": thread_root,
        })
        .to_string();
        self.hub
            .publish_ephemeral(Audience::Channel(channel_id), Frame::new(None, text));
        Ok(())
    }

    pub async fn history(
        &self,
        user_id: i64,
        channel_id: i64,
        before: Option<i64>,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageView>> {
        let limit = limit.clamp(1, MAX_PAGE);
        self.read(move |c| {
            require_member(c, channel_id, user_id)?;
            Ok(q::history(c, channel_id, before, after, limit)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
        .await
    }

    /// A thread: its root first, then the replies in order.
    pub async fn thread(&self, user_id: i64, root_id: i64) -> Result<Vec<MessageView>> {
        self.read(move |c| {
            let root = message_or_not_found(c, root_id)?;
            require_member(c, root.channel_id, user_id)?;
            let mut out = vec![MessageView::from(root)];
            out.extend(
                q::thread(c, root_id, 1000)?
                    .into_iter()
                    .map(MessageView::from),
            );
            Ok(out)
        })
        .await
    }

    pub async fn pins(&self, user_id: i64, channel_id: i64) -> Result<Vec<MessageView>> {
        self.read(move |c| {
            require_member(c, channel_id, user_id)?;
            Ok(q::pins(c, channel_id)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
        .await
    }

    pub async fn mentions(
        &self,
        user_id: i64,
        before_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MessageView>> {
        let limit = limit.clamp(1, MAX_PAGE);
        self.read(move |c| {
            Ok(q::mentions_of(c, user_id, before_id, limit)?
                .into_iter()
                .map(Into::into)
                .collect())
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn search(
        &self,
        user_id: i64,
        text: &str,
        channel_id: Option<i64>,
        author_id: Option<i64>,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        limit: i64,
    ) -> Result<Vec<(MessageView, String)>> {
        let (Some(fts), Some(tsquery)) = (fts_query(text), ts_query(text)) else {
            return Ok(Vec::new());
        };
        let limit = limit.clamp(1, 100);
        let terms = search_terms(text);
        self.index_search().await?;
        self.read(move |c| {
            let candidates = q::search_candidates(
                c,
                &SearchQuery {
                    user_id,
                    fts: &fts,
                    tsquery: &tsquery,
                    channel_id,
                    author_id,
                    from_ms,
                    to_ms,
                    limit: SEARCH_CANDIDATES,
                },
            )?;
            let best = rank(candidates, &terms, limit as usize);
            let hits = q::attach_reactions(c, best)?;
            Ok(hits
                .into_iter()
                .map(|m| {
                    let s = snippet(&m.body, &terms);
                    (MessageView::from(m), s)
                })
                .collect())
        })
        .await
    }

    /// Deletes expired messages in every channel with a retention period; returns how many.
    /// Brings the search index up to the newest message; returns how many messages it indexed.
    /// Runs behind the commit (a background job), and before every search, so that a message
    /// sent a moment ago is found.
    pub async fn index_search(&self) -> Result<i64> {
        let mut total = 0;
        // Bounded, so a search never waits on a flood; the job picks up whatever is left.
        for _ in 0..INDEX_ROUNDS {
            let n = self
                .store
                .write(|c| q::index_search_batch(c, INDEX_BATCH))
                .await?;
            total += n;
            if n < INDEX_BATCH {
                break;
            }
        }
        Ok(total)
    }

    /// The site's retention in days (0: keep forever) and whether it is the configuration's
    /// (an administrator may override it from the UI).
    pub async fn site_retention(&self, config_days: u32) -> Result<(u32, bool)> {
        let set = self
            .read(|c| Ok(crate::store::backup::meta(c, SITE_RETENTION)?))
            .await?
            .and_then(|v| v.parse::<u32>().ok());
        Ok(match set {
            Some(d) => (d, false),
            None => (config_days, true),
        })
    }

    /// Overrides the configuration's `retention.days` (None: follow it again).
    pub async fn set_site_retention(&self, actor: Actor, days: Option<u32>) -> Result<()> {
        if days.is_some_and(|d| d > 36_500) {
            return Err(ChatError::Invalid(
                Problem::new(
                    "too-long",
                    "retention is at most 36500 days (0: keep forever)",
                )
                .field("retention_days")
                .param("max", 36_500),
            ));
        }
        self.commit(move |c, _log| {
            match days {
                Some(d) => crate::store::backup::set_meta(c, SITE_RETENTION, &d.to_string())?,
                None => {
                    c.prepare_cached("DELETE FROM meta WHERE key = ?1")
                        .and_then(|mut st| st.execute([SITE_RETENTION]))
                        .map_err(StoreError::from)?;
                }
            }
            audit_channel(
                c,
                actor,
                "site-retention-changed",
                "site".into(),
                match days {
                    Some(0) => "keep forever".into(),
                    Some(d) => format!("{d} days"),
                    None => "as configured".into(),
                },
            )
        })
        .await
    }

    /// Every public and private channel with its members, owners and last activity
    /// (administrators).
    pub async fn overview(&self) -> Result<Vec<q::ChannelOverview>> {
        self.read(|c| Ok(q::channel_overview(c)?)).await
    }

    /// Makes a member an owner or a plain member (owners, administrators).
    pub async fn set_role(
        &self,
        actor: Actor,
        channel_id: i64,
        user_id: i64,
        owner: bool,
    ) -> Result<ChannelInfo> {
        self.commit(move |c, log| {
            let ch = channel_or_not_found(c, channel_id)?;
            require_manager(c, &ch, actor)?;
            if ch.kind.is_direct() {
                return Err(ChatError::Forbidden("direct conversations have no owners"));
            }
            require_member(c, channel_id, user_id)?;
            q::set_role(
                c,
                channel_id,
                user_id,
                if owner { "owner" } else { "member" },
            )?;
            log.channel_updated(c, &ch)?;
            audit_channel(
                c,
                actor,
                if owner {
                    "owner-added"
                } else {
                    "owner-removed"
                },
                channel_label(&ch),
                format!("user {user_id}"),
            )?;
            Ok(ChannelInfo::from(&ch))
        })
        .await
    }

    pub async fn apply_retention(&self, config_days: u32) -> Result<usize> {
        let (server_days, _) = self.site_retention(config_days).await?;
        let plan = self
            .read(move |c| Ok(q::retention_plan(c, server_days)?))
            .await?;
        let mut total = 0;
        for (channel_id, days) in plan {
            let cutoff = crate::store::now_ms() - days * 86_400_000;
            let deleted = self
                .store
                .write(move |t| {
                    let n = q::delete_messages_before(t, channel_id, cutoff)?;
                    if n > 0 {
                        audit::append(
                            t,
                            &Entry {
                                actor: "retention".into(),
                                action: "retention-applied",
                                target: format!("channel {channel_id}"),
                                details: format!("{n} messages older than {days} days deleted"),
                                ..Default::default()
                            },
                        )?;
                    }
                    Ok(n)
                })
                .await?;
            total += deleted;
        }
        Ok(total)
    }

    /// Sets a channel's own retention period (administrators); `None` follows the server's.
    pub async fn set_retention(
        &self,
        actor: Actor,
        channel_id: i64,
        days: Option<u32>,
    ) -> Result<()> {
        if !actor.is_admin {
            return Err(ChatError::Forbidden("only administrators set retention"));
        }
        self.store
            .write(move |t| {
                q::set_channel_retention(t, channel_id, days)?;
                let name = crate::store::users::user_by_id(t, actor.id)
                    .map(|u| u.username)
                    .unwrap_or_default();
                audit::append(
                    t,
                    &Entry {
                        actor_id: Some(actor.id),
                        actor: name,
                        action: "retention-set",
                        target: format!("channel {channel_id}"),
                        details: match days {
                            Some(d) => format!("{d} days"),
                            None => "server default".into(),
                        },
                        ..Default::default()
                    },
                )
            })
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ChatError::NotFound,
                other => other.into(),
            })
    }

    /// Every account, for the people directory: a disabled colleague stays a person in
    /// history, shown as deactivated.
    pub async fn directory(&self) -> Result<Vec<crate::store::users::User>> {
        self.read(|c| Ok(crate::store::users::list_users(c)?)).await
    }
}

/// Members to record as mentioned: named members, everyone for @channel/@here/@all when
/// `may_mention_all`, and members whose keywords the message holds (`keyword_hits`).
fn mention_targets(
    c: &Db,
    channel_id: i64,
    author: i64,
    body: &str,
    may_mention_all: bool,
    keyword_hits: &[i64],
) -> Result<Vec<i64>> {
    let names = mentioned_names(body);
    if names.is_empty() && keyword_hits.is_empty() {
        return Ok(Vec::new());
    }
    let members = q::member_ids(c, channel_id)?;
    let everyone = may_mention_all
        && names
            .iter()
            .any(|n| n == "channel" || n == "here" || n == "all");
    let mut ids: Vec<i64> = if everyone {
        members.clone()
    } else {
        Vec::new()
    };
    if !names.is_empty() {
        ids.extend(
            q::user_ids_by_names(c, &names)?
                .into_iter()
                .filter(|id| members.contains(id)),
        );
    }
    ids.extend(keyword_hits.iter().filter(|id| members.contains(id)));
    ids.retain(|id| *id != author);
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Whether this member may notify a whole channel (its owners may limit that to themselves).
fn may_mention_all(ch: &Channel, member: &q::Membership, actor: Actor) -> bool {
    ch.mass_mentions != "owners" || actor.is_admin || member.role == "owner"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found_but_not_inside_words_or_addresses() {
        assert_eq!(mentioned_names("hi @Bob and @carol."), vec!["bob", "carol"]);
        assert_eq!(
            mentioned_names("mail me at x@example.org"),
            Vec::<String>::new()
        );
        assert_eq!(
            mentioned_names("@channel @bob @bob"),
            vec!["channel", "bob"]
        );
    }

    fn msg(id: i64, body: &str) -> q::Message {
        q::Message {
            id,
            channel_id: 1,
            seq: id,
            author_id: None,
            client_id: None,
            kind: "text".into(),
            body: body.into(),
            thread_root: None,
            reply_count: 0,
            last_reply_at: None,
            created_at: 0,
            edited_at: None,
            deleted: false,
            pinned_at: None,
            sender_name: None,
            webhook_id: None,
            reactions: Vec::new(),
            files: Vec::new(),
            quote: None,
            quote_of: None,
            forward: None,
            also_in_channel: false,
            sort_key: 0,
            late: false,
        }
    }

    #[test]
    fn ranking_prefers_more_and_rarer_matches_then_newer() {
        let terms = search_terms("diesel pump");
        let ranked = rank(
            vec![
                msg(1, "diesel"),
                msg(2, "diesel pump broken"),
                msg(3, "diesel diesel diesel"),
                msg(4, "diesel"),
            ],
            &terms,
            10,
        );
        let ids: Vec<i64> = ranked.iter().map(|m| m.id).collect();
        assert_eq!(ids[0], 2, "both words beat repetition of one: {ids:?}");
        let pos = |id| ids.iter().position(|i| *i == id);
        assert!(pos(4) < pos(1), "newer first among equals: {ids:?}");
        assert_eq!(rank(ranked, &terms, 2).len(), 2);
    }

    #[test]
    fn snippets_mark_matches_with_context() {
        let terms = search_terms("diesel gen");
        let s = snippet("We need Diesel for the generator today", &terms);
        assert_eq!(
            s,
            "We need \u{E000}Diesel\u{E001} for the \u{E000}generator\u{E001} today"
        );
        let long = format!("{} diesel {}", "a ".repeat(30), "b ".repeat(30));
        let s = snippet(&long, &terms);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        let s = snippet("forged \u{E000}x\u{E001} diesel", &terms);
        assert_eq!(
            s.matches(MARK_START).count(),
            1,
            "markers in the text are stripped"
        );
    }

    #[test]
    fn search_text_becomes_a_safe_fts_expression() {
        assert_eq!(fts_query("hello wor").unwrap(), "\"hello\" \"wor\"*");
        assert_eq!(
            fts_query("a\"b OR c*").unwrap(),
            "\"a\" \"b\" \"or\" \"c\"*"
        );
        assert_eq!(
            fts_query("Convoys колонну").unwrap(),
            "\"convoy\" (\"колон\"* OR \"колонну\"*)"
        );
        assert!(fts_query("  !!! ").is_none());
        assert_eq!(
            ts_query("Convoys колонну").unwrap(),
            "'convoy' & ('колон':* | 'колонну':*)"
        );
    }

    #[test]
    fn the_send_limiter_allows_a_burst_then_waits() {
        let l = SendLimiter::default();
        for _ in 0..5 {
            l.take(1, 1.0, 5.0).unwrap();
        }
        assert!(matches!(
            l.take(1, 1.0, 5.0),
            Err(ChatError::RateLimited { .. })
        ));
        l.take(2, 1.0, 5.0).unwrap();
    }

    /// The web UI's picker and quick reactions offer only what the server accepts, unchanged
    /// (a canonicalised emoji would not match the chip the UI toggles).
    #[test]
    fn every_emoji_the_web_ui_offers_is_a_valid_reaction() {
        let source = include_str!("../../assets/app/src/chat/emoji.ts");
        // The picker's entries (`emoji: '…'`, beside their search words) and the quick reactions.
        let quoted = |s: &'static str| s.split('\'').next().unwrap_or_default();
        let mut offered: Vec<&str> = source.split("emoji: '").skip(1).map(quoted).collect();
        let quick = source
            .split("QUICK_REACTIONS = [")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .unwrap_or_default();
        offered.extend(quick.split('\'').skip(1).step_by(2));
        assert!(offered.len() > 70, "{}", offered.len());
        for e in offered {
            assert_eq!(validate_emoji(e).ok().as_deref(), Some(e), "{e}");
        }
        for bad in ["+1", ":thumbsup:", "two words", "a", "👍👍", "\u{202E}"] {
            assert!(validate_emoji(bad).is_err(), "{bad}");
        }
    }
}
