//! Channels shared with linked sites (issue 19): sharing, and storing what a linked site sends
//! under the rules of trust.
//!
//! A linked site may only act as its own people, only in channels shared with it (or that it is
//! home of), with every message signed by the site that made it. One bad element refuses the
//! whole batch: nothing of it is stored and the cursor does not move.
//!
//! Conflicts converge by rule, not by who synced last: a deletion wins over any edit; among
//! edits the highest version (the editing site's hybrid logical clock) wins; an older version
//! than the one stored is a replay and refused.

use crate::links::wire::{self, Batch, MessageState};
use crate::problem::Problem;
use crate::store::chat as q;
use crate::store::db::Db;
use crate::store::links as lq;
use crate::store::links::LinkRow;

use super::protocol::MessageView;
use super::{channel_or_not_found, require_manager, Actor, Chat, ChatError, Log, Result};

fn refuse(reason: impl Into<String>) -> ChatError {
    ChatError::Invalid(Problem::new("link-refused", reason))
}

/// A linked site that carries a channel.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ShareView {
    pub link_id: i64,
    pub site_name: String,
    /// That site is the channel's home (this site takes part in its channel).
    pub home: bool,
}

impl Chat {
    /// Shares one of this site's channels with a linked site (its owners or an administrator).
    pub async fn share_channel(
        &self,
        actor: Actor,
        channel_id: i64,
        link_id: i64,
        shared: bool,
    ) -> Result<Vec<ShareView>> {
        self.commit(move |c, log| {
            let ch = channel_or_not_found(c, channel_id)?;
            require_manager(c, &ch, actor)?;
            if ch.kind.is_direct() || lq::own_channel_kind(c, channel_id)?.is_none() {
                return Err(ChatError::Invalid(
                    Problem::new(
                        "not-shareable",
                        "only this site's own channels can be shared with a linked site",
                    )
                    .field("channel_id"),
                ));
            }
            let link = match lq::link(c, link_id) {
                Ok(l) => l,
                Err(crate::store::StoreError::NotFound) => {
                    return Err(ChatError::Invalid(
                        Problem::new("unknown-link", "no such link").field("link_id"),
                    ))
                }
                Err(e) => return Err(e.into()),
            };
            let changed = if shared {
                lq::share(c, channel_id, link_id, actor.id)?
            } else {
                lq::unshare(c, channel_id, link_id)?
            };
            if changed {
                super::audit_channel(
                    c,
                    actor,
                    if shared {
                        "channel-shared"
                    } else {
                        "channel-unshared"
                    },
                    super::channel_label(&ch),
                    format!("link {} ({})", link.id, link.name),
                )?;
                // The log entry carries the channel to the linked site, before any message.
                log.channel_updated(c, &ch)?;
            }
            shares(c, channel_id)
        })
        .await
    }

    pub async fn channel_shares(&self, actor: Actor, channel_id: i64) -> Result<Vec<ShareView>> {
        self.read(move |c| {
            channel_or_not_found(c, channel_id)?;
            if q::membership(c, channel_id, actor.id)?.is_none() && !actor.is_admin {
                return Err(ChatError::NotFound);
            }
            shares(c, channel_id)
        })
        .await
    }

    /// Stores a batch from a linked site, with the link's new cursor, in one transaction.
    pub async fn apply_from_link(&self, link: LinkRow, me: String, batch: Batch) -> Result<()> {
        self.commit(move |c, log| apply(c, log, &link, &me, &batch))
            .await
    }
}

/// The links that carry a channel: those this site shares it with, or the link to its home.
fn shares(c: &Db, channel_id: i64) -> Result<Vec<ShareView>> {
    let mut out = Vec::new();
    for id in lq::shares_of(c, channel_id)? {
        let link = lq::link(c, id)?;
        out.push(ShareView {
            link_id: id,
            site_name: link.name,
            home: false,
        });
    }
    if let Some(link) = lq::home_link_of(c, channel_id)? {
        out.push(ShareView {
            link_id: link.id,
            site_name: link.name,
            home: true,
        });
    }
    Ok(out)
}

fn from_far_future(hlc: i64) -> bool {
    crate::links::hlc::is_far_future(hlc)
}

fn valid_site_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn apply(c: &Db, log: &mut Log, link: &LinkRow, me: &str, batch: &Batch) -> Result<()> {
    let peer = link.site_id.as_str();
    // Sites the peer relays messages of: keys learned at pairing stay; a new site is taken on
    // the peer's word, and only for channels the peer is home of (checked per message).
    for s in &batch.sites {
        if !valid_site_id(&s.id) || s.id == me || s.id == peer {
            return Err(refuse(format!("a relayed site with a bad id ({:?})", s.id)));
        }
        let key = wire::unb64(&s.key)
            .filter(|k| k.len() == 32)
            .ok_or_else(|| refuse("a relayed site without a usable key"))?;
        match lq::site(c, &s.id)? {
            Some((_, known, _)) if known != key => {
                return Err(refuse(format!("site {} comes with another key", s.id)))
            }
            Some(_) => {}
            None => {
                let name: String = crate::text::strip_hidden(&s.name)
                    .chars()
                    .take(64)
                    .collect();
                lq::add_vouched_site(c, &s.id, &name, &key, link.id)?;
            }
        }
    }
    for ch in &batch.channels {
        if ch.id.site != peer {
            return Err(refuse("a channel described by a site that is not its home"));
        }
        if ch.kind != "public" && ch.kind != "private" {
            return Err(refuse(format!("a channel of kind {:?}", ch.kind)));
        }
        let name = channel_name(&ch.name);
        if name.is_empty() {
            return Err(refuse("a channel without a usable name"));
        }
        let topic: String = crate::text::strip_hidden(&ch.topic)
            .chars()
            .take(250)
            .collect();
        match lq::channel_by_origin(c, peer, ch.id.id)? {
            Some(id) => {
                if lq::set_remote_topic(c, id, &topic)? {
                    log.channel_updated(c, &q::channel(c, id)?)?;
                }
            }
            None => {
                let id = lq::create_remote_channel(
                    c, peer, ch.id.id, &ch.kind, &name, &link.name, &topic,
                )?;
                tracing::info!(channel = id, site = %link.name, "a linked site shared a channel");
            }
        }
    }
    if from_far_future(batch.hlc) {
        return Err(refuse("a clock more than a week ahead of this site's"));
    }
    crate::links::hlc::observe(batch.hlc);
    let mut max_seen = 0i64;
    for m in &batch.messages {
        apply_message(c, log, link, me, m)?;
        max_seen = max_seen.max(m.sort_key).max(m.version);
    }
    for r in &batch.reactions {
        apply_reaction(c, log, link, me, r)?;
        max_seen = max_seen.max(r.version);
    }
    for p in &batch.pins {
        apply_pin(c, log, link, me, p)?;
        max_seen = max_seen.max(p.version);
    }
    crate::links::hlc::observe(max_seen);
    lq::advance_recv(c, link.id, batch.upto)?;
    lq::record_contact(c, link.id, Some(batch.head))?;
    Ok(())
}

/// A channel name as this site's rules allow it: lower case letters, digits, '-' and '_'.
fn channel_name(name: &str) -> String {
    name.chars()
        .filter(|ch| ch.is_alphanumeric() || *ch == '-' || *ch == '_')
        .take(64)
        .collect::<String>()
        .to_lowercase()
}

fn apply_message(c: &Db, log: &mut Log, link: &LinkRow, me: &str, m: &MessageState) -> Result<()> {
    let peer = link.site_id.as_str();
    let origin = m.id.site.as_str();
    if origin == me {
        return own_message_deleted_at_home(c, log, link, me, m);
    }
    if !valid_site_id(origin) || !valid_site_id(&m.channel.site) {
        return Err(refuse("a message with a bad site id"));
    }
    if let Some(a) = &m.author {
        if a.site != origin {
            return Err(refuse(format!(
                "a message of site {origin} written as a person of site {}",
                a.site
            )));
        }
    }
    if m.kind != "text" {
        return Err(refuse(format!("a message of kind {:?}", m.kind)));
    }
    if m.body.len() > 64 * 1024 || m.body.contains('\0') {
        return Err(refuse("a message body beyond the limits"));
    }
    if from_far_future(m.sort_key) || from_far_future(m.version) {
        return Err(refuse(
            "a message from more than a week ahead of this site's clock",
        ));
    }
    // Where it belongs, and whether this peer may speak there.
    let channel_id = if m.channel.site == me {
        let Some(kind) = lq::own_channel_kind(c, m.channel.id)? else {
            return Err(refuse("a message for a channel that does not exist"));
        };
        if kind == "dm" || kind == "group" || !lq::is_shared(c, m.channel.id, link.id)? {
            if lq::share_ended(c, m.channel.id, link.id)? {
                // Written there before it heard that sharing ended: it stays there.
                tracing::info!(
                    link = link.id,
                    channel = m.channel.id,
                    "dropped a message for a channel no longer shared"
                );
                return Ok(());
            }
            return Err(refuse(format!(
                "a message for channel {} which is not shared with this site",
                m.channel.id
            )));
        }
        if origin != peer {
            return Err(refuse(
                "a relayed message in a channel this site is home of",
            ));
        }
        m.channel.id
    } else if m.channel.site == peer {
        match lq::channel_by_origin(c, peer, m.channel.id)? {
            Some(id) => id,
            None => return Err(refuse("a message for a channel the site never shared")),
        }
    } else {
        return Err(refuse("a message for a channel of a third site"));
    };
    // Who signed it, and is the signature theirs.
    let moderation = m.signer == m.channel.site && m.signer != origin;
    if m.signer != origin && !(moderation && m.deleted && m.body.is_empty()) {
        return Err(refuse("a message signed by a site that may not sign it"));
    }
    let key = if m.signer == peer || (m.signer == origin && origin == peer) {
        lq::site(c, peer)?.map(|(_, k, _)| k)
    } else {
        lq::site(c, &m.signer)?.map(|(_, k, _)| k)
    };
    let Some(key) = key else {
        return Err(refuse(format!(
            "a message signed by unknown site {}",
            m.signer
        )));
    };
    if !wire::verify(m, &key) {
        return Err(refuse(format!(
            "a message whose signature does not verify (site {})",
            m.signer
        )));
    }
    let signature = wire::unb64(&m.signature).unwrap_or_default();
    let stored = crate::links::join_signature(&m.signer, &signature);
    match lq::message_by_origin(c, origin, m.id.id)? {
        Some((id, version, deleted)) => {
            if q::message(c, id)?.channel_id != channel_id {
                return Err(refuse(format!(
                    "message {origin}/{} moved to another channel",
                    m.id.id
                )));
            }
            if deleted || (m.version == version && !m.deleted) {
                // Delete wins; the same version again changes nothing.
                return Ok(());
            }
            if m.version < version && !m.deleted {
                return Err(refuse(format!(
                    "an older version of message {origin}/{} (a replay)",
                    m.id.id
                )));
            }
            lq::update_remote_message(c, id, &m.body, m.version, m.deleted, &stored)?;
            log.message_updated(c, MessageView::from(q::message(c, id)?))?;
        }
        None => {
            let author_id = match &m.author {
                Some(a) => {
                    let username = crate::text::strip_hidden(&m.author_username);
                    let display = crate::text::strip_hidden(&m.author_name);
                    if username.is_empty() || username.len() > 64 || display.len() > 128 {
                        return Err(refuse("an author without a usable name"));
                    }
                    Some(lq::remote_user(c, origin, a.id, &username, &display)?)
                }
                None => None,
            };
            let thread_root = match &m.thread_root {
                None => None,
                Some(root) => {
                    let local = if root.site == me {
                        lq::own_message(c, me, root.id)?.map(|(ch, _, _)| (root.id, ch))
                    } else {
                        lq::message_by_origin(c, &root.site, root.id)?
                            .map(|(id, _, _)| id)
                            .map(|id| q::message(c, id).map(|r| (id, r.channel_id)))
                            .transpose()?
                    };
                    match local {
                        Some((id, ch)) if ch == channel_id => Some(id),
                        _ => return Err(refuse("a reply to a message this site does not have")),
                    }
                }
            };
            let sender_name = m.sender_name.as_deref().map(|n| {
                crate::text::strip_hidden(n)
                    .chars()
                    .take(80)
                    .collect::<String>()
            });
            let id = lq::insert_remote_message(
                c,
                &lq::RemoteMessage {
                    channel_id,
                    author_id,
                    sender_name: sender_name.as_deref(),
                    kind: "text",
                    body: if m.deleted { "" } else { &m.body },
                    thread_root,
                    also_in_channel: m.also_in_channel && thread_root.is_some(),
                    created_at: m.created_at,
                    sort_key: m.sort_key,
                    version: m.version,
                    deleted: m.deleted,
                    origin_site: origin,
                    origin_id: m.id.id,
                    signature: &stored,
                },
            )?;
            log.message_new(c, MessageView::from(q::message(c, id)?))?;
            if let Some(root) = thread_root {
                log.message_updated(c, q::message(c, root)?.into())?;
            }
        }
    }
    Ok(())
}

/// The channel a message of any site lives in here, and whether this peer may act in it for
/// people of `site`: a channel this site is home of only for the peer's own people, a channel the
/// peer is home of for anyone.
fn carried_channel(c: &Db, link: &LinkRow, me: &str, channel: i64, site: &str) -> Result<bool> {
    if lq::own_channel_kind(c, channel)?.is_some() {
        let shared = lq::is_shared(c, channel, link.id)? || lq::share_ended(c, channel, link.id)?;
        return Ok(shared && site == link.site_id);
    }
    let home = lq::home_link_of(c, channel)?;
    Ok(home.is_some_and(|h| h.id == link.id) && site != me)
}

fn apply_reaction(
    c: &Db,
    log: &mut Log,
    link: &LinkRow,
    me: &str,
    r: &wire::ReactionState,
) -> Result<()> {
    let site = r.user.site.as_str();
    if site == me || !valid_site_id(site) || !valid_site_id(&r.message.site) {
        return Err(refuse("a reaction by a person of a bad or of this site"));
    }
    if crate::text::single_emoji(&r.emoji).is_none() {
        return Err(refuse("a reaction that is not one emoji"));
    }
    if from_far_future(r.version) {
        return Err(refuse(
            "a reaction from more than a week ahead of this site's clock",
        ));
    }
    let Some((message_id, channel_id)) = local_message(c, me, &r.message)? else {
        // Its message never reached this site (not text, or not carried): nothing to hang it on.
        return Ok(());
    };
    if !carried_channel(c, link, me, channel_id, site)? {
        return Err(refuse(format!(
            "a reaction in a channel not shared with this site, or by a person site {} may not \
             speak for",
            link.name
        )));
    }
    let key = match lq::site(c, site)? {
        Some((_, k, _)) => k,
        None => return Err(refuse(format!("a reaction signed by unknown site {site}"))),
    };
    if !wire::verify_reaction(r, &key) {
        return Err(refuse(format!(
            "a reaction whose signature does not verify (site {site})"
        )));
    }
    let username = crate::text::strip_hidden(&r.username);
    let display = crate::text::strip_hidden(&r.display_name);
    if username.is_empty() || username.len() > 64 || display.len() > 128 {
        return Err(refuse("a reaction by a person without a usable name"));
    }
    let user_id = lq::remote_user(c, site, r.user.id, &username, &display)?;
    match lq::reaction_version(c, message_id, user_id, &r.emoji)? {
        Some(v) if v == r.version => return Ok(()),
        Some(v) if v > r.version => {
            return Err(refuse("an older reaction state (a replay)"));
        }
        _ => {}
    }
    let deleted = q::message(c, message_id)?.deleted;
    if !deleted {
        lq::apply_reaction(c, message_id, user_id, &r.emoji, r.present)?;
    }
    let signature = wire::unb64(&r.signature).unwrap_or_default();
    lq::set_reaction_state(
        c,
        message_id,
        user_id,
        &r.emoji,
        r.present,
        r.version,
        Some(&crate::links::join_signature(site, &signature)),
    )?;
    if !deleted {
        log.message_updated(c, MessageView::from(q::message(c, message_id)?))?;
    }
    Ok(())
}

/// The local message and channel a global message id names, if this site has it.
fn local_message(c: &Db, me: &str, gid: &wire::Gid) -> Result<Option<(i64, i64)>> {
    if gid.site == me {
        return Ok(lq::own_message(c, me, gid.id)?.map(|(ch, _, _)| (gid.id, ch)));
    }
    match lq::message_by_origin(c, &gid.site, gid.id)? {
        Some((id, _, _)) => Ok(Some((id, q::message(c, id)?.channel_id))),
        None => Ok(None),
    }
}

fn apply_pin(c: &Db, log: &mut Log, link: &LinkRow, me: &str, p: &wire::PinState) -> Result<()> {
    let site = p.user.site.as_str();
    if site == me || !valid_site_id(site) || !valid_site_id(&p.message.site) {
        return Err(refuse("a pin by a person of a bad or of this site"));
    }
    if from_far_future(p.version) {
        return Err(refuse(
            "a pin from more than a week ahead of this site's clock",
        ));
    }
    let Some((message_id, channel_id)) = local_message(c, me, &p.message)? else {
        return Ok(());
    };
    if !carried_channel(c, link, me, channel_id, site)? {
        return Err(refuse(format!(
            "a pin in a channel not shared with this site, or by a person site {} may not \
             speak for",
            link.name
        )));
    }
    let Some((_, key, _)) = lq::site(c, site)? else {
        return Err(refuse(format!("a pin signed by unknown site {site}")));
    };
    if !wire::verify_pin(p, &key) {
        return Err(refuse(format!(
            "a pin whose signature does not verify (site {site})"
        )));
    }
    let username = crate::text::strip_hidden(&p.username);
    let display = crate::text::strip_hidden(&p.display_name);
    if username.is_empty() || username.len() > 64 || display.len() > 128 {
        return Err(refuse("a pin by a person without a usable name"));
    }
    match lq::pin_version(c, message_id)? {
        Some(v) if v == p.version => return Ok(()),
        Some(v) if v > p.version => return Err(refuse("an older pin state (a replay)")),
        _ => {}
    }
    let user_id = lq::remote_user(c, site, p.user.id, &username, &display)?;
    let deleted = q::message(c, message_id)?.deleted;
    if !deleted {
        q::apply_pin(c, message_id, user_id, p.pinned)?;
    }
    let signature = wire::unb64(&p.signature).unwrap_or_default();
    lq::set_pin_state(
        c,
        message_id,
        user_id,
        p.pinned,
        p.version,
        Some(&crate::links::join_signature(site, &signature)),
    )?;
    if !deleted {
        log.message_updated(c, MessageView::from(q::message(c, message_id)?))?;
    }
    Ok(())
}

/// A state of one of this site's own messages coming back: only the channel's home deleting it
/// (moderation, signed by the home) changes anything; an echo of this site's own state is
/// ignored; anything else is refused.
fn own_message_deleted_at_home(
    c: &Db,
    log: &mut Log,
    link: &LinkRow,
    me: &str,
    m: &MessageState,
) -> Result<()> {
    let peer = link.site_id.as_str();
    let moderation = m.deleted && m.body.is_empty() && m.signer == peer && m.channel.site == peer;
    if !moderation {
        if m.signer == me {
            return Ok(());
        }
        return Err(refuse("a message claiming to be this site's own"));
    }
    let Some((_, key, _)) = lq::site(c, peer)? else {
        return Err(refuse("a deletion from a site without a key"));
    };
    if !wire::verify(m, &key) {
        return Err(refuse("a deletion whose signature does not verify"));
    }
    let Some((channel_id, version, deleted)) = lq::own_message(c, me, m.id.id)? else {
        return Err(refuse("a deletion of a message this site never wrote"));
    };
    if lq::channel_by_origin(c, peer, m.channel.id)? != Some(channel_id) {
        return Err(refuse("a deletion of a message in another channel"));
    }
    if deleted {
        return Ok(());
    }
    let signature = wire::unb64(&m.signature).unwrap_or_default();
    lq::update_remote_message(
        c,
        m.id.id,
        "",
        m.version.max(version),
        true,
        &crate::links::join_signature(peer, &signature),
    )?;
    log.message_updated(c, MessageView::from(q::message(c, m.id.id)?))?;
    Ok(())
}
