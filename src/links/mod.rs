//! Linked sites (issue 19): pairing two appliances, and keeping the channels they share the same
//! on both through cut and slow links.
//!
//! Each link is one TLS connection (HTTP/2) that the accepting side dials, pinned both ways to
//! the other's CA (`tls.rs`). Over it, each side pulls the other's log of shared channels
//! (`POST /link/v1/pull`, which waits for news) and pushes its own (`POST /link/v1/push`), in
//! bounded, deflated batches (`wire.rs`) that the receiver commits together with its cursor, so
//! sync resumes exactly where it stopped and applying twice changes nothing. What is sent is
//! each message's current state, signed by the site that made it; `chat::linked` decides what
//! a peer may change and stores it.

pub mod hlc;
pub mod tls;
pub mod transport;
pub mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chat::Chat;
use crate::config::LinksConfig;
use crate::pki::CertResolver;
use crate::store::links::{self as q, LinkRow};
use crate::store::{Store, StoreError};

/// How long an invitation stays usable unless the admin says otherwise.
pub const INVITE_HOURS: u64 = 24;
/// Messages per batch: small enough for a 64 kbit/s link to carry one in seconds.
pub const BATCH_MESSAGES: i64 = 200;
/// The raw size a batch stops growing at (before compression).
pub const BATCH_BYTES: usize = 256 << 10;
/// How long after its last exchange ended a link still counts as connected.
const CONNECTED_GRACE: std::time::Duration = std::time::Duration::from_secs(3);
/// How long a node's right to dial a link lasts unless renewed (each second).
const DIAL_LEASE_MS: i64 = 10_000;
/// Log positions one batch looks through at most.
const SCAN_EVENTS: i64 = 20_000;

const CODE_PREFIX: &str = "outpost-link:";

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("not a link invitation: {0}")]
    BadCode(String),
    #[error("the other site could not be reached: {0}")]
    Unreachable(String),
    #[error("the other site refused: {0}")]
    PeerRefused(String),
    /// What a peer sent breaks the rules; nothing of it was stored.
    #[error("refused: {0}")]
    Refused(String),
    #[error("links are off on this site (links.listen = \"off\")")]
    Off,
    #[error("link not found")]
    NotFound,
}

/// What an invitation tells the other site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invitation {
    pub v: u32,
    pub site: String,
    pub name: String,
    pub addresses: Vec<String>,
    /// SHA-256 of this site's CA certificate.
    pub fingerprint: String,
    pub secret: String,
}

impl Invitation {
    pub fn code(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        format!(
            "{CODE_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
        )
    }

    pub fn parse(code: &str) -> Result<Invitation, LinkError> {
        let body = code
            .trim()
            .strip_prefix(CODE_PREFIX)
            .ok_or_else(|| LinkError::BadCode(format!("it does not start with {CODE_PREFIX}")))?;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(body.trim())
            .map_err(|e| LinkError::BadCode(e.to_string()))?;
        let inv: Invitation =
            serde_json::from_slice(&json).map_err(|e| LinkError::BadCode(e.to_string()))?;
        if inv.v != 1 || inv.addresses.is_empty() || inv.secret.len() < 32 {
            return Err(LinkError::BadCode("incomplete".into()));
        }
        Ok(inv)
    }

    /// The invitation as a QR code (SVG) for a phone or a second screen.
    pub fn qr_svg(&self) -> Result<String, LinkError> {
        let code = qrcode::QrCode::new(self.code().as_bytes())
            .map_err(|e| LinkError::BadCode(e.to_string()))?;
        Ok(code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(256, 256)
            .build())
    }
}

pub fn secret_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// This site as links know it.
pub struct Identity {
    pub site: String,
    pub name: String,
    pub key: ed25519_dalek::SigningKey,
    pub fingerprint: String,
}

impl Identity {
    pub async fn load(store: &Store, name: &str, fingerprint: &str) -> Result<Identity, LinkError> {
        let (site, seed) = store
            .write(|c| Ok((q::site_id(c)?, q::sign_seed(c)?)))
            .await?;
        Ok(Identity {
            site,
            name: name.to_string(),
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
            fingerprint: fingerprint.to_string(),
        })
    }

    pub fn public_key(&self) -> String {
        wire::b64(&self.key.verifying_key().to_bytes())
    }
}

/// A link's state for admins.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LinkView {
    pub id: i64,
    pub site_id: String,
    pub name: String,
    pub fingerprint: String,
    pub addresses: Vec<String>,
    /// "connected", "disconnected" or "paused".
    pub state: String,
    pub last_contact_at: Option<i64>,
    /// Events of this site the other has not acknowledged yet.
    pub backlog_out: i64,
    /// Events of the other site not applied here yet (as of the last contact).
    pub backlog_in: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
}

/// Links of this process: the listener, the dialers, and what they share.
#[derive(Clone)]
pub struct Links {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    chat: Chat,
    resolver: Arc<CertResolver>,
    config: LinksConfig,
    identity: Identity,
    /// The link listener's address once it is open.
    listening: Mutex<Option<SocketAddr>>,
    /// Links being dialed, each with the switch that stops it.
    dialers: Mutex<HashMap<i64, tokio::sync::watch::Sender<bool>>>,
    /// Links with a live exchange (either way), for the "connected" state: requests or dialed
    /// connections open now, and when the last one ended.
    connected: Mutex<HashMap<i64, (i64, std::time::Instant)>>,
    /// This process among a cluster's nodes, for the right to dial a link (`take_dial_lease`).
    holder: String,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

impl Links {
    pub fn new(
        store: Store,
        chat: Chat,
        resolver: Arc<CertResolver>,
        config: LinksConfig,
        identity: Identity,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Links {
        Links {
            inner: Arc::new(Inner {
                store,
                chat,
                resolver,
                config,
                identity,
                listening: Mutex::new(None),
                dialers: Mutex::new(HashMap::new()),
                connected: Mutex::new(HashMap::new()),
                holder: crate::auth::new_token(9),
                shutdown,
            }),
        }
    }

    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn chat(&self) -> &Chat {
        &self.inner.chat
    }

    pub fn listening(&self) -> Option<SocketAddr> {
        *self
            .inner
            .listening
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Creates an invitation, opening the link port if it is not open yet.
    pub async fn invite(&self, by: Option<i64>, hours: u64) -> Result<Invitation, LinkError> {
        let addr = transport::ensure_listening(self).await?;
        let addresses = advertised(&self.inner.config, addr);
        create_invitation(
            &self.inner.store,
            &self.inner.identity,
            addresses,
            by,
            hours,
        )
        .await
    }

    /// Accepts another site's invitation (this side dials it from then on).
    pub async fn accept(&self, code: &str, by: Option<i64>) -> Result<LinkRow, LinkError> {
        let row = accept_invitation(
            &self.inner.store,
            &self.inner.resolver,
            &self.inner.identity,
            code,
            by,
        )
        .await?;
        self.poke();
        Ok(row)
    }

    pub async fn list(&self) -> Result<Vec<LinkView>, LinkError> {
        let connected = self.connected_links();
        list_links(&self.inner.store, &connected).await
    }

    pub async fn get(&self, id: i64) -> Result<LinkView, LinkError> {
        let connected = self.connected_links();
        let (row, head) = self
            .inner
            .store
            .read(move |c| Ok((q::link(c, id)?, crate::store::chat::event_head(c)?)))
            .await
            .map_err(not_found)?;
        Ok(view(row, head, &connected))
    }

    fn connected_links(&self) -> std::collections::HashSet<i64> {
        self.inner
            .connected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            // The side that is dialed sees the other between one pull and the next (a few
            // milliseconds apart while it is there): a short grace keeps that "connected".
            .filter(|(_, (n, ended))| *n > 0 || ended.elapsed() < CONNECTED_GRACE)
            .map(|(id, _)| *id)
            .collect()
    }

    pub async fn set_paused(
        &self,
        id: i64,
        paused: bool,
        by: Option<i64>,
    ) -> Result<LinkView, LinkError> {
        set_paused(&self.inner.store, id, paused, by).await?;
        self.poke();
        self.get(id).await
    }

    /// Removes a link: the other site is refused from this moment, and this side stops dialing.
    pub async fn remove(&self, id: i64, by: Option<i64>) -> Result<(), LinkError> {
        remove_link(&self.inner.store, id, by).await?;
        self.stop_dialer(id);
        Ok(())
    }

    /// Whether this process dials link `id` now (in a cluster, one node does).
    pub fn dials(&self, id: i64) -> bool {
        self.inner
            .dialers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&id)
    }

    fn stop_dialer(&self, id: i64) {
        if let Some(stop) = self
            .inner
            .dialers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
        {
            let _ = stop.send(true);
        }
    }

    /// Brings dialers and the listener in line with the links table now (the supervisor does
    /// the same every second, for changes other processes make).
    pub fn poke(&self) {
        let this = self.clone();
        tokio::spawn(async move { this.reconcile().await });
    }

    async fn reconcile(&self) {
        let rows = match self.inner.store.read(q::links).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::debug!(error = %e, "links could not be read");
                return;
            }
        };
        if !rows.is_empty() {
            let _ = transport::ensure_listening(self).await;
        }
        let mut wanted: HashMap<i64, LinkRow> = HashMap::new();
        for r in rows
            .into_iter()
            .filter(|r| !r.paused && !r.addresses.is_empty())
        {
            // In a cluster one node dials each link; another takes over when it stops renewing.
            let (id, holder) = (r.id, self.inner.holder.clone());
            let held = self
                .inner
                .store
                .write(move |c| q::take_dial_lease(c, id, &holder, DIAL_LEASE_MS))
                .await
                .unwrap_or(false);
            if held {
                wanted.insert(r.id, r);
            }
        }
        let running: Vec<i64> = self
            .inner
            .dialers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .copied()
            .collect();
        for id in running {
            if !wanted.contains_key(&id) {
                self.stop_dialer(id);
            }
        }
        for (id, row) in wanted {
            let mut dialers = self.inner.dialers.lock().unwrap_or_else(|e| e.into_inner());
            if dialers.contains_key(&id) {
                continue;
            }
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            dialers.insert(id, stop_tx);
            tokio::spawn(transport::dial(self.clone(), row, stop_rx));
        }
    }

    /// Every second: links made or removed by another process (the CLI, another node).
    pub async fn supervise(self) {
        let mut shutdown = self.inner.shutdown.clone();
        loop {
            let wants = self
                .inner
                .store
                .read(q::wants_listener)
                .await
                .unwrap_or(false);
            if wants {
                let _ = transport::ensure_listening(&self).await;
            }
            self.reconcile().await;
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
        let dialers: Vec<_> = self
            .inner
            .dialers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        for (_, stop) in dialers {
            let _ = stop.send(true);
        }
    }

    fn connection_opened(&self, id: i64) {
        self.inner
            .connected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id)
            .or_insert((0, std::time::Instant::now()))
            .0 += 1;
    }

    fn connection_closed(&self, id: i64) {
        if let Some((n, ended)) = self
            .inner
            .connected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&id)
        {
            *n -= 1;
            *ended = std::time::Instant::now();
        }
    }

    /// The next batch for a link: this site's log after `after`, in the channels it carries.
    pub async fn batch_for(&self, link: &LinkRow, after: i64) -> Result<wire::Batch, LinkError> {
        let me = self.inner.identity.site.clone();
        let key = self.inner.identity.key.clone();
        let (link_id, peer) = (link.id, link.site_id.clone());
        let batch = self
            .inner
            .store
            .read(move |c| build_batch(c, &me, &key, link_id, &peer, after))
            .await?;
        Ok(batch)
    }
}

fn audit_entry(
    by: Option<i64>,
    action: &'static str,
    target: String,
    details: String,
) -> crate::store::audit::Entry {
    crate::store::audit::Entry {
        actor_id: by,
        // Without a person: the command line on the machine, or the other site.
        actor: if by.is_some() {
            String::new()
        } else {
            "cli".into()
        },
        action,
        target,
        details,
        ..Default::default()
    }
}

/// Records a one-time invitation for `addresses` and returns it.
pub async fn create_invitation(
    store: &Store,
    identity: &Identity,
    addresses: Vec<String>,
    by: Option<i64>,
    hours: u64,
) -> Result<Invitation, LinkError> {
    if addresses.is_empty() {
        return Err(LinkError::BadCode(
            "this site has no address to offer: set links.addresses".into(),
        ));
    }
    let secret = crate::auth::new_token(32);
    let hash = secret_hash(&secret);
    let expires = crate::store::now_ms() + (hours.clamp(1, 24 * 30) * 3_600_000) as i64;
    store
        .write(move |c| {
            q::create_invite(c, &hash, by, expires)?;
            crate::store::audit::append(
                c,
                &audit_entry(
                    by,
                    "link-invite",
                    String::new(),
                    format!("expires {expires}"),
                ),
            )?;
            Ok(())
        })
        .await?;
    Ok(Invitation {
        v: 1,
        site: identity.site.clone(),
        name: identity.name.clone(),
        addresses,
        fingerprint: identity.fingerprint.clone(),
        secret,
    })
}

/// Accepts another site's invitation: checks its CA against the code, introduces this site
/// with the secret, and records the link.
pub async fn accept_invitation(
    store: &Store,
    resolver: &Arc<CertResolver>,
    identity: &Identity,
    code: &str,
    by: Option<i64>,
) -> Result<LinkRow, LinkError> {
    let inv = Invitation::parse(code)?;
    if inv.site == identity.site {
        return Err(LinkError::BadCode(
            "this is this site's own invitation".into(),
        ));
    }
    // An invitation made on the command line opens the other server's port within a second.
    let mut attempt = 0;
    let (answer, ca_pem) = loop {
        match transport::introduce(resolver, identity, &inv).await {
            Err(LinkError::Unreachable(_)) if attempt < 3 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            other => break other?,
        }
    };
    if answer.site != inv.site {
        return Err(LinkError::PeerRefused(
            "it answered as another site than the invitation names".into(),
        ));
    }
    let key = wire::unb64(&answer.key)
        .filter(|k| k.len() == 32)
        .ok_or_else(|| LinkError::PeerRefused("it sent no usable signing key".into()))?;
    let name: String = crate::text::strip_hidden(&answer.name)
        .trim()
        .chars()
        .take(64)
        .collect();
    let (site, addresses, fp) = (answer.site, inv.addresses, inv.fingerprint);
    let row = store
        .write(move |c| {
            let id = q::insert_link(
                c,
                &q::NewLink {
                    site_id: &site,
                    name: &name,
                    ca_pem: &ca_pem,
                    ca_fp: &fp,
                    addresses: &addresses,
                    sign_key: &key,
                },
            )?;
            crate::store::audit::append(
                c,
                &audit_entry(
                    by,
                    "link-accept",
                    format!("link {id} ({name})"),
                    format!("site {site}, CA {fp}"),
                ),
            )?;
            q::link(c, id)
        })
        .await?;
    Ok(row)
}

/// Every link; `connected` names those with a live connection in this process.
pub async fn list_links(
    store: &Store,
    connected: &std::collections::HashSet<i64>,
) -> Result<Vec<LinkView>, LinkError> {
    let (rows, head) = store
        .read(|c| Ok((q::links(c)?, crate::store::chat::event_head(c)?)))
        .await?;
    Ok(rows.into_iter().map(|r| view(r, head, connected)).collect())
}

pub async fn set_paused(
    store: &Store,
    id: i64,
    paused: bool,
    by: Option<i64>,
) -> Result<(), LinkError> {
    store
        .write(move |c| {
            let row = q::set_paused(c, id, paused)?;
            crate::store::audit::append(
                c,
                &audit_entry(
                    by,
                    if paused { "link-pause" } else { "link-resume" },
                    format!("link {id} ({})", row.name),
                    String::new(),
                ),
            )?;
            Ok(())
        })
        .await
        .map_err(not_found)
}

pub async fn remove_link(store: &Store, id: i64, by: Option<i64>) -> Result<(), LinkError> {
    store
        .write(move |c| {
            let row = q::delete_link(c, id)?;
            crate::store::audit::append(
                c,
                &audit_entry(
                    by,
                    "link-remove",
                    format!("link {id} ({})", row.name),
                    format!("site {}, CA {}", row.site_id, row.ca_fp),
                ),
            )?;
            Ok(())
        })
        .await
        .map_err(not_found)
}

fn view(r: LinkRow, head: i64, connected: &std::collections::HashSet<i64>) -> LinkView {
    LinkView {
        state: if r.paused {
            "paused"
        } else if connected.contains(&r.id) {
            "connected"
        } else {
            "disconnected"
        }
        .into(),
        id: r.id,
        site_id: r.site_id,
        name: r.name,
        fingerprint: r.ca_fp,
        addresses: r.addresses,
        last_contact_at: r.last_contact_at,
        backlog_out: (head - r.sent_upto).max(0),
        backlog_in: (r.peer_head - r.recv_upto).max(0),
        last_error: r.last_error,
        created_at: r.created_at,
    }
}

fn not_found(e: StoreError) -> LinkError {
    match e {
        StoreError::NotFound => LinkError::NotFound,
        e => LinkError::Store(e),
    }
}

/// The addresses an invitation names.
pub fn advertised(config: &LinksConfig, bound: SocketAddr) -> Vec<String> {
    if !config.addresses.is_empty() {
        return config.addresses.iter().map(|a| a.to_string()).collect();
    }
    if !bound.ip().is_unspecified() {
        return vec![bound.to_string()];
    }
    crate::pki::interface_addresses()
        .into_iter()
        .filter(|ip| !ip.is_loopback())
        .map(|ip| SocketAddr::new(ip, bound.port()).to_string())
        .collect()
}

fn build_batch(
    c: &crate::store::db::Db,
    me: &str,
    key: &ed25519_dalek::SigningKey,
    link_id: i64,
    peer: &str,
    after: i64,
) -> crate::store::Result<wire::Batch> {
    // Every event up to the head read first is committed; a scan covers a bounded stretch of
    // the log, so a busy site's unshared traffic costs each poll little.
    let head = crate::store::chat::event_head(c)?;
    let scan_to = head.min(after.saturating_add(SCAN_EVENTS));
    let limit = BATCH_MESSAGES * 2;
    let events = q::feed(c, link_id, peer, after, scan_to, limit)?;
    let complete = (events.len() as i64) < limit;
    let mut batch = wire::Batch {
        site: me.to_string(),
        upto: after,
        head,
        hlc: hlc::now(),
        ..Default::default()
    };
    let mut seen_messages = std::collections::HashSet::new();
    let mut seen_channels = std::collections::HashSet::new();
    let mut seen_sites = std::collections::HashSet::new();
    let mut bytes = 0usize;
    for (pos, channel_id, payload) in events {
        if batch.messages.len() as i64 >= BATCH_MESSAGES || bytes >= BATCH_BYTES {
            break;
        }
        batch.upto = pos;
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&payload) else {
            continue;
        };
        let kind = event.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        // This site describes the channels it is home of to the links it shares them with.
        if seen_channels.insert(channel_id) {
            if let Some((ch_kind, Some(name), topic)) = q::channel_out(c, channel_id)? {
                if q::is_shared(c, channel_id, link_id)? {
                    batch.channels.push(wire::ChannelState {
                        id: wire::Gid {
                            site: me.to_string(),
                            id: channel_id,
                        },
                        kind: ch_kind,
                        name,
                        topic,
                    });
                }
            }
        }
        if kind != "message.new" && kind != "message.updated" {
            continue;
        }
        let Some(id) = event
            .get("message")
            .and_then(|m| m.get("id"))
            .and_then(|i| i.as_i64())
        else {
            continue;
        };
        if !seen_messages.insert(id) {
            continue;
        }
        let Some(m) = q::message_out(c, id)? else {
            continue;
        };
        // Only people's messages travel: call records and notices are each site's own.
        if m.kind != "text" {
            continue;
        }
        let home_is_peer = m.channel_origin.as_ref().is_some_and(|(s, _)| s == peer);
        let own = m.origin_id.is_none() && m.origin_site == me;
        let message_gid = wire::Gid {
            site: m.origin_site.clone(),
            id: m.origin_id.unwrap_or(m.id),
        };
        // Reactions follow the same paths as messages: to a channel's home only this site's
        // people's, from the home everyone's but the receiver's own.
        for r in q::reactions_out(c, id)? {
            let user_site = r.user.origin_site.clone().unwrap_or_else(|| me.to_string());
            if (home_is_peer && user_site != me) || user_site == peer {
                continue;
            }
            let mut state = wire::ReactionState {
                message: message_gid.clone(),
                user: wire::Gid {
                    site: user_site.clone(),
                    id: r.user.origin_id.unwrap_or(r.user.id),
                },
                username: bare_username(&r.user),
                display_name: r.user.display_name.clone(),
                emoji: r.emoji,
                present: r.present,
                version: r.version,
                signature: String::new(),
            };
            if user_site == me {
                wire::sign_reaction(&mut state, key);
            } else {
                let Some((signer, sig)) = r.signature.as_deref().and_then(split_signature) else {
                    continue;
                };
                if signer != user_site {
                    continue;
                }
                state.signature = wire::b64(&sig);
                describe_site(c, &mut batch, &mut seen_sites, &user_site, peer)?;
            }
            batch.reactions.push(state);
        }
        // A pin travels like a reaction, from the site of whoever pinned or unpinned.
        if let Some(p) = q::pin_out(c, id)? {
            let user_site = p.user.origin_site.clone().unwrap_or_else(|| me.to_string());
            if !((home_is_peer && user_site != me) || user_site == peer) {
                let mut state = wire::PinState {
                    message: message_gid.clone(),
                    user: wire::Gid {
                        site: user_site.clone(),
                        id: p.user.origin_id.unwrap_or(p.user.id),
                    },
                    username: bare_username(&p.user),
                    display_name: p.user.display_name.clone(),
                    pinned: p.pinned,
                    version: p.version,
                    signature: String::new(),
                };
                let signed = if user_site == me {
                    wire::sign_pin(&mut state, key);
                    true
                } else {
                    match p.signature.as_deref().and_then(split_signature) {
                        Some((signer, sig)) if signer == user_site => {
                            state.signature = wire::b64(&sig);
                            describe_site(c, &mut batch, &mut seen_sites, &user_site, peer)?;
                            true
                        }
                        _ => false,
                    }
                };
                if signed {
                    batch.pins.push(state);
                }
            }
        }
        // Through the home of a channel everyone's messages pass; elsewhere a site sends only
        // its own, and never a site's messages back to it, except the home's deletion of one
        // (moderation), which its author's site must hear of too.
        let home_is_me = m.channel_origin.is_none();
        let moderated = home_is_me && !own && m.deleted && m.signature.is_none();
        if (home_is_peer && !own) || (m.origin_site == peer && !moderated) {
            continue;
        }
        let channel = match &m.channel_origin {
            Some((site, id)) => wire::Gid {
                site: site.clone(),
                id: *id,
            },
            None => wire::Gid {
                site: me.to_string(),
                id: m.channel_id,
            },
        };
        let gid = |site: &str, origin_id: Option<i64>, local: i64| wire::Gid {
            site: site.to_string(),
            id: origin_id.unwrap_or(local),
        };
        let author = m
            .author
            .as_ref()
            .map(|a| gid(a.origin_site.as_deref().unwrap_or(me), a.origin_id, a.id));
        let (author_username, author_name) = m
            .author
            .as_ref()
            .map(|a| (bare_username(a), a.display_name.clone()))
            .unwrap_or_default();
        let mut state = wire::MessageState {
            id: message_gid,
            channel,
            author,
            author_username,
            author_name,
            sender_name: m.sender_name.clone(),
            kind: m.kind.clone(),
            body: m.body.clone(),
            thread_root: m
                .thread_root
                .as_ref()
                .map(|(site, origin_id, local)| gid(site, *origin_id, *local)),
            also_in_channel: m.also_in_channel,
            created_at: m.created_at,
            sort_key: m.sort_key,
            version: m.version,
            deleted: m.deleted,
            signer: String::new(),
            signature: String::new(),
        };
        if own || moderated {
            state.signer = me.to_string();
            wire::sign(&mut state, key);
        } else {
            let Some((signer, sig)) = m.signature.as_deref().and_then(split_signature) else {
                continue;
            };
            state.signer = signer;
            state.signature = wire::b64(&sig);
            describe_site(c, &mut batch, &mut seen_sites, &state.signer, peer)?;
        }
        bytes += state.body.len() + 300;
        batch.messages.push(state);
    }
    let stopped_early = batch.messages.len() as i64 >= BATCH_MESSAGES || bytes >= BATCH_BYTES;
    if complete && !stopped_early {
        batch.upto = batch.upto.max(scan_to);
    }
    Ok(batch)
}

/// A person's name at their own site: a linked site's person's local name carries the site.
fn bare_username(a: &q::AuthorOut) -> String {
    match a.username.rsplit_once('@') {
        Some((n, _)) if a.origin_site.is_some() => n.to_string(),
        _ => a.username.clone(),
    }
}

/// Adds a relayed site's name and key to a batch once, so the receiver can check its signatures.
fn describe_site(
    c: &crate::store::db::Db,
    batch: &mut wire::Batch,
    seen: &mut std::collections::HashSet<String>,
    site: &str,
    peer: &str,
) -> crate::store::Result<()> {
    if site == peer || seen.contains(site) {
        return Ok(());
    }
    if let Some((name, key, _)) = q::site(c, site)? {
        seen.insert(site.to_string());
        batch.sites.push(wire::SiteInfo {
            id: site.to_string(),
            name,
            key: wire::b64(&key),
        });
    }
    Ok(())
}

/// A stored signature: the signing site's id (32 ASCII hex digits), then 64 bytes.
pub fn join_signature(signer: &str, sig: &[u8]) -> Vec<u8> {
    let mut out = signer.as_bytes().to_vec();
    out.extend_from_slice(sig);
    out
}

fn split_signature(stored: &[u8]) -> Option<(String, Vec<u8>)> {
    if stored.len() != 32 + 64 {
        return None;
    }
    let (site, sig) = stored.split_at(32);
    Some((String::from_utf8(site.to_vec()).ok()?, sig.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_codes_round_trip_and_refuse_junk() {
        let inv = Invitation {
            v: 1,
            site: "ab".repeat(16),
            name: "HQ".into(),
            addresses: vec!["10.0.0.1:8447".into()],
            fingerprint: "AA:BB".into(),
            secret: "s".repeat(43),
        };
        assert_eq!(Invitation::parse(&inv.code()).unwrap(), inv);
        assert!(Invitation::parse("outpost-link:!!!").is_err());
        assert!(Invitation::parse("hello").is_err());
        assert!(inv.qr_svg().unwrap().contains("<svg"));
    }
}
