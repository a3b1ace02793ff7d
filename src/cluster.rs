//! What crosses cluster nodes besides the database (issue 18), over NATS core subjects: typing
//! and other ephemeral frames, frames for everyone (someone's profile changed), and "the log is
//! committed up to N" hints that wake other nodes' followers at once instead of at their next
//! poll. Nothing here is the truth: a lost or repeated message costs a typing indicator or some
//! milliseconds, never a stored event, which every node reads from the shared log.
//!
//! `ClusterHub` wraps the node's own `LocalHub`: it delivers locally as before and also tells
//! the other nodes; a receiver task hands their frames to the local hub only.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use crate::hub::{
    Audience, ConnId, EndReason, FanOut, Frame, LocalHub, Outgoing, Presence, Subscription,
};

const EPHEMERAL: &str = "outpost.ephemeral";
const BROADCAST: &str = "outpost.broadcast";
const COMMITTED: &str = "outpost.committed";
const PRESENCE: &str = "outpost.presence";

/// How often a node reports everyone connected to it, and how long a report holds: a node
/// that died is forgotten (its people shown offline) within `PRESENCE_TTL`.
const PRESENCE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
const PRESENCE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a node waits for another node's answer (a call's state, a join).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot reach NATS: {0}")]
    Connect(String),
    #[error("the other node did not answer: {0}")]
    Unanswered(String),
}

/// This node's link to the others.
#[derive(Clone)]
pub struct Link {
    client: async_nats::Client,
    /// Random per process: a node ignores what it sent itself.
    node: String,
    /// Frames to send, queued by callers that must not wait (the hub, the store's answer thread).
    out: mpsc::UnboundedSender<(&'static str, Vec<u8>)>,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    node: String,
    #[serde(default)]
    channel: Option<i64>,
    #[serde(default)]
    user: Option<i64>,
    #[serde(default)]
    frame: String,
    #[serde(default)]
    pos: i64,
    /// One person's presence on the sending node, or (with `report`) everyone's there.
    #[serde(default)]
    status: Option<Presence>,
    #[serde(default)]
    report: Option<Vec<(i64, Presence)>>,
}

impl Wire {
    fn from(node: &str) -> Wire {
        Wire {
            node: node.to_string(),
            channel: None,
            user: None,
            frame: String::new(),
            pos: 0,
            status: None,
            report: None,
        }
    }
}

impl Link {
    /// Connects to the NATS servers (any of them; the client follows the cluster's others and
    /// reconnects by itself). A server that is down at start is retried in the background.
    /// With `ca_file` set, every connection is TLS to a server whose certificate chains to it;
    /// credentials come from the first URL that carries them (`nats://USER:PASSWORD@HOST`,
    /// or `nats://TOKEN@HOST`) and are never logged.
    pub async fn connect(urls: &[String], ca_file: &Path) -> Result<Link, ClusterError> {
        let mut options = async_nats::ConnectOptions::new()
            .name("outpost")
            .retry_on_initial_connect();
        let addrs: Vec<async_nats::ServerAddr> = urls
            .iter()
            .map(|u| {
                u.parse::<async_nats::ServerAddr>()
                    .map_err(|e| ClusterError::Connect(format!("a cluster.nats URL: {e}")))
            })
            .collect::<Result<_, _>>()?;
        if let Some(addr) = addrs.iter().find(|a| a.has_user_pass()) {
            let user = addr.username().unwrap_or_default().to_string();
            options = match addr.password() {
                Some(pass) => options.user_and_password(user, pass.to_string()),
                None => options.token(user),
            };
        }
        if !ca_file.as_os_str().is_empty() {
            let tls = crate::pki::client_config_trusting(ca_file, "cluster.ca_file")
                .map_err(ClusterError::Connect)?;
            options = options.require_tls(true).tls_client_config(tls);
        }
        let client = options
            .connect(addrs)
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))?;
        let mut id = [0u8; 8];
        // Only told apart from other nodes' ids; a clock-based id would do if this ever failed.
        if getrandom::fill(&mut id).is_err() {
            id = crate::store::now_ms().to_le_bytes();
        }
        let node = hex::encode(id);
        let (out, mut rx) = mpsc::unbounded_channel::<(&'static str, Vec<u8>)>();
        let sender = client.clone();
        tokio::spawn(async move {
            while let Some((subject, payload)) = rx.recv().await {
                // A frame that cannot be sent now is dropped: these are hints, see above.
                let _ = sender.publish(subject, payload.into()).await;
            }
        });
        Ok(Link { client, node, out })
    }

    fn send(&self, subject: &'static str, wire: Wire) {
        if let Ok(bytes) = serde_json::to_vec(&wire) {
            let _ = self.out.send((subject, bytes));
        }
    }

    /// This node's id among the others (random per process).
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Sends `payload` to whatever `node` subscribed to under `kind` (`outpost.KIND.NODE`),
    /// without waiting: a command whose loss the caller tolerates.
    pub fn send_to(&self, kind: &str, node: &str, payload: Vec<u8>) {
        let client = self.client.clone();
        let subject = format!("outpost.{kind}.{node}");
        tokio::spawn(async move {
            let _ = client.publish(subject, payload.into()).await;
        });
    }

    /// Asks `node` and waits for its answer, at most `REQUEST_TIMEOUT`. A node that is gone
    /// answers at once with "no responders".
    pub async fn ask(
        &self,
        kind: &str,
        node: &str,
        payload: Vec<u8>,
    ) -> Result<Vec<u8>, ClusterError> {
        let subject = format!("outpost.{kind}.{node}");
        match tokio::time::timeout(
            REQUEST_TIMEOUT,
            self.client.request(subject, payload.into()),
        )
        .await
        {
            Ok(Ok(m)) => Ok(m.payload.to_vec()),
            Ok(Err(e)) => Err(ClusterError::Unanswered(e.to_string())),
            Err(_) => Err(ClusterError::Unanswered("no answer in time".into())),
        }
    }

    /// What other nodes send this node under `kind` (`send_to`, `ask`); `reply` answers an `ask`.
    pub async fn listen(&self, kind: &str) -> Result<async_nats::Subscriber, ClusterError> {
        self.client
            .subscribe(format!("outpost.{kind}.{}", self.node))
            .await
            .map_err(|e| ClusterError::Connect(e.to_string()))
    }

    /// Answers an `ask`.
    pub async fn reply(&self, to: async_nats::Subject, payload: Vec<u8>) {
        let _ = self.client.publish(to, payload.into()).await;
    }

    /// Tells the other nodes the log is committed up to `pos`.
    pub fn committed(&self, pos: i64) {
        self.send(
            COMMITTED,
            Wire {
                pos,
                ..Wire::from(&self.node)
            },
        );
    }

    /// Sends this node's presence changes as they happen, and a full report of who is
    /// connected here every `PRESENCE_EVERY` (which also ages out dead nodes' reports).
    pub async fn share_presence(self, hub: Arc<LocalHub>, mut shutdown: watch::Receiver<bool>) {
        let (tx, mut changes) = mpsc::unbounded_channel();
        hub.send_presence_to(tx);
        let mut tick = tokio::time::interval(PRESENCE_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                change = changes.recv() => {
                    let Some((user, status)) = change else { return };
                    self.send(PRESENCE, Wire { user: Some(user), status: Some(status), ..Wire::from(&self.node) });
                }
                _ = tick.tick() => {
                    let report = hub.local_presences();
                    self.send(PRESENCE, Wire { report: Some(report), ..Wire::from(&self.node) });
                    hub.expire_remote();
                }
            }
        }
    }

    /// Receives the other nodes' frames into `hub` and their commit hints into `wake`, until
    /// shutdown.
    pub async fn receive(
        self,
        hub: Arc<LocalHub>,
        wake: impl Fn() + Send + 'static,
        mut shutdown: watch::Receiver<bool>,
    ) {
        use futures_util::StreamExt;
        let mut subscriptions = Vec::new();
        for subject in [EPHEMERAL, BROADCAST, COMMITTED, PRESENCE] {
            match self.client.subscribe(subject).await {
                Ok(s) => subscriptions.push(s),
                Err(e) => {
                    tracing::error!(error = %e, subject, "cannot subscribe on NATS");
                    return;
                }
            }
        }
        let mut all = futures_util::stream::select_all(subscriptions);
        loop {
            let msg = tokio::select! {
                _ = shutdown.changed() => return,
                m = all.next() => m,
            };
            let Some(msg) = msg else { return };
            let Ok(wire) = serde_json::from_slice::<Wire>(&msg.payload) else {
                tracing::warn!(subject = %msg.subject, "an unreadable message on NATS was ignored");
                continue;
            };
            if wire.node == self.node {
                continue;
            }
            match msg.subject.as_str() {
                EPHEMERAL => {
                    let audience = match (wire.channel, wire.user) {
                        (Some(ch), _) => Audience::Channel(ch),
                        (None, Some(u)) => Audience::User(u),
                        (None, None) => continue,
                    };
                    hub.publish_ephemeral(audience, Frame::new(None, wire.frame));
                }
                BROADCAST => hub.broadcast(Frame::new(None, wire.frame)),
                COMMITTED => wake(),
                PRESENCE => match (wire.report, wire.user, wire.status) {
                    (Some(report), _, _) => hub.remote_report(&wire.node, &report, PRESENCE_TTL),
                    (None, Some(user), Some(status)) => {
                        hub.remote_presence(&wire.node, user, status, PRESENCE_TTL)
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
}

/// Whether a host name in a URL is this machine: a loopback address or `localhost`.
pub fn is_loopback_name(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host of a NATS URL when it is on another machine (reaching it without TLS needs
/// `allow_plain`).
pub fn remote_host(url: &str) -> Option<String> {
    let addr = url.parse::<async_nats::ServerAddr>().ok()?;
    (!is_loopback_name(addr.host())).then(|| addr.host().to_string())
}

/// A TLS client configuration trusting only the site's CA for its cluster servers.
pub fn client_tls(ca_file: &Path) -> Result<rustls::ClientConfig, String> {
    crate::pki::client_config_trusting(ca_file, "cluster.ca_file")
}

/// The node's hub in a cluster: local delivery as on one box, and ephemeral frames for the
/// other nodes' connections too.
pub struct ClusterHub {
    local: Arc<LocalHub>,
    link: Link,
}

impl ClusterHub {
    pub fn new(local: Arc<LocalHub>, link: Link) -> Arc<ClusterHub> {
        Arc::new(ClusterHub { local, link })
    }
}

impl FanOut for ClusterHub {
    fn connect(&self, user_id: i64, session_id: &str) -> Subscription {
        self.local.connect(user_id, session_id)
    }

    fn publish(&self, events: Vec<Outgoing>) {
        // Durable events reach every node through the shared log (`chat::follow`).
        self.local.publish(events)
    }

    fn publish_ephemeral(&self, audience: Audience, frame: Frame) {
        let (channel, user) = match audience {
            Audience::Channel(c) => (Some(c), None),
            Audience::User(u) => (None, Some(u)),
        };
        self.link.send(
            EPHEMERAL,
            Wire {
                channel,
                user,
                frame: frame.text.as_str().to_string(),
                ..Wire::from(&self.link.node)
            },
        );
        self.local.publish_ephemeral(audience, frame)
    }

    fn broadcast(&self, frame: Frame) {
        self.link.send(
            BROADCAST,
            Wire {
                frame: frame.text.as_str().to_string(),
                ..Wire::from(&self.link.node)
            },
        );
        self.local.broadcast(frame)
    }

    fn disconnect_sessions(&self, session_ids: &[String]) {
        self.local.disconnect_sessions(session_ids)
    }

    fn disconnect_user(&self, user_id: i64) {
        self.local.disconnect_user(user_id)
    }

    fn set_activity(&self, conn: ConnId, away: bool) {
        self.local.set_activity(conn, away)
    }

    fn watch_presence(&self, conn: ConnId, user_ids: Vec<i64>) -> Vec<(i64, Presence)> {
        self.local.watch_presence(conn, user_ids)
    }

    fn presence(&self, user_id: i64) -> Presence {
        self.local.presence(user_id)
    }

    fn is_member(&self, channel_id: i64, user_id: i64) -> bool {
        self.local.is_member(channel_id, user_id)
    }

    fn connection_count(&self) -> usize {
        self.local.connection_count()
    }

    fn end_all(&self, reason: EndReason) {
        self.local.end_all(reason)
    }
}
