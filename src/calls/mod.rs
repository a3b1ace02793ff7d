//! Voice and video calls: the signaling state machine (ringing, joining, leaving, muting,
//! missed calls, call records) on top of the media server in [`sfu`].
//!
//! Signaling runs over each participant's WebSocket; the state lives in memory (a call does not
//! outlive the process) and every call leaves a record in its conversation and in `calls`.

pub mod relay;
pub mod sfu;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::chat::{Actor, Chat, ChatError};
use crate::config::CallsConfig;
use crate::hub::{Audience, Frame};
use crate::metrics::Metrics;
use crate::store::{now_ms, Store, StoreError};
pub use sfu::PeerId;
use sfu::{Command, Report, Sfu};

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// Also what non-members get.
    #[error("no such call")]
    NotFound,
    #[error("this call is full ({0} participants)")]
    Full(usize),
    #[error("calls are turned off on this server")]
    Disabled,
    /// The cluster node holding the call stopped answering.
    #[error("the call's server is gone")]
    OwnerGone,
    #[error(transparent)]
    Chat(#[from] ChatError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = CallError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ParticipantView {
    pub user_id: i64,
    /// This participant's connection; one person may join from two devices.
    pub peer: PeerId,
    pub muted: bool,
    pub speaking: bool,
    pub camera: bool,
    pub screen: bool,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CallView {
    pub id: u64,
    pub channel_id: i64,
    pub started_by: i64,
    /// Milliseconds since the Unix epoch.
    pub started_at: i64,
    pub participants: Vec<ParticipantView>,
    /// Members being rung who have not answered or declined.
    pub ringing: Vec<i64>,
}

struct Participant {
    user_id: i64,
    muted: bool,
    speaking: bool,
    camera: bool,
    screen: bool,
}

struct Call {
    id: u64,
    channel_id: i64,
    started_by: i64,
    started_at: i64,
    /// When someone other than the caller first joined.
    answered: Option<Instant>,
    participants: BTreeMap<PeerId, Participant>,
    ringing: BTreeSet<i64>,
    joined: BTreeSet<i64>,
    /// A call in a direct message: when either side hangs up it is over for both, as on a
    /// phone. A group call goes on while anyone is in it.
    one_to_one: bool,
}

impl Call {
    fn view(&self) -> CallView {
        CallView {
            id: self.id,
            channel_id: self.channel_id,
            started_by: self.started_by,
            started_at: self.started_at,
            participants: self
                .participants
                .iter()
                .map(|(peer, p)| ParticipantView {
                    user_id: p.user_id,
                    peer: *peer,
                    muted: p.muted,
                    speaking: p.speaking,
                    camera: p.camera,
                    screen: p.screen,
                })
                .collect(),
            ringing: self.ringing.iter().copied().collect(),
        }
    }
}

#[derive(Default)]
struct State {
    calls: HashMap<u64, Call>,
    by_channel: HashMap<i64, u64>,
    peers: HashMap<PeerId, u64>,
}

/// Why a call ended, as clients see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    Ended,
    Missed,
    Declined,
    ServerRestart,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            EndReason::Ended => "ended",
            EndReason::Missed => "missed",
            EndReason::Declined => "declined",
            EndReason::ServerRestart => "server-restart",
        }
    }
}

#[derive(Clone)]
pub struct Calls {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    sfu: Option<Sfu>,
    chat: Chat,
    store: Store,
    config: CallsConfig,
    metrics: Arc<Metrics>,
    next_peer: AtomicU64,
    /// In a cluster with NATS: calls owned by other nodes, and this node's calls joined from them.
    relay: Option<Arc<relay::Relay>>,
}

/// A join under way: at once for a call on this node, later for one on another node (`alias`
/// then stands for the participant here from the start).
pub enum Joining {
    Now(Result<(PeerId, CallView)>),
    Elsewhere {
        alias: PeerId,
        joined: std::pin::Pin<Box<dyn std::future::Future<Output = Result<CallView>> + Send>>,
    },
}

impl Calls {
    /// The call service; `sfu` is `None` when calls are off.
    pub fn new(
        chat: Chat,
        store: Store,
        config: CallsConfig,
        metrics: Arc<Metrics>,
        sfu: Option<(Sfu, mpsc::UnboundedReceiver<Report>)>,
        relay: Option<Arc<relay::Relay>>,
    ) -> Calls {
        let (sfu, reports) = match sfu {
            Some((s, r)) => (Some(s), Some(r)),
            None => (None, None),
        };
        let calls = Calls {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                sfu,
                chat,
                store,
                config,
                metrics,
                next_peer: AtomicU64::new(1),
                relay,
            }),
        };
        if let Some(mut rx) = reports {
            let c = calls.clone();
            tokio::spawn(async move {
                while let Some(r) = rx.recv().await {
                    c.report(r);
                }
            });
        }
        calls
    }

    pub fn sfu(&self) -> Option<&Sfu> {
        self.inner.sfu.as_ref()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn publish(&self, channel_id: i64, frame: serde_json::Value) {
        self.inner.chat.hub().publish_ephemeral(
            Audience::Channel(channel_id),
            Frame::new(None, frame.to_string()),
        );
    }

    fn publish_state(&self, call: &Call) {
        self.publish(
            call.channel_id,
            json!({"type": "call_state", "call": call.view()}),
        );
    }

    /// Ongoing calls in the user's conversations.
    pub fn list(&self, user_id: i64) -> Vec<CallView> {
        let hub = self.inner.chat.hub();
        self.lock()
            .calls
            .values()
            .filter(|c| hub.is_member(c.channel_id, user_id))
            .map(Call::view)
            .collect()
    }

    /// Starts a call in a conversation and rings its other members; if one is already going,
    /// answers with that one.
    pub async fn start(&self, actor: Actor, channel_id: i64) -> Result<CallView> {
        if self.inner.sfu.is_none() {
            return Err(CallError::Disabled);
        }
        if !self.inner.chat.hub().is_member(channel_id, actor.id) {
            return Err(CallError::NotFound);
        }
        if let Some(existing) = self.existing(channel_id) {
            return Ok(existing);
        }
        if let Some(relay) = &self.inner.relay {
            if let Some(elsewhere) = self
                .registered_elsewhere(relay, channel_id, actor.id)
                .await?
            {
                return Ok(elsewhere);
            }
        }
        let members = self.inner.chat.members(actor.id, false, channel_id).await?;
        let one_to_one = self
            .inner
            .store
            .read(move |c| crate::store::chat::channel(c, channel_id))
            .await?
            .kind
            == crate::store::chat::ChannelKind::Dm;
        let started_at = now_ms();
        let id: i64 = self
            .inner
            .store
            .write(move |c| {
                Ok(c.query_row(
                    "INSERT INTO calls(channel_id, started_by, started_at) VALUES (?1, ?2, ?3)
                     RETURNING id",
                    crate::store::db::params![channel_id, actor.id, started_at],
                    |r| r.get(0),
                )?)
            })
            .await?;
        if let Some(relay) = &self.inner.relay {
            let node = relay.node().to_string();
            let mine = id as u64;
            let claimed = self
                .inner
                .store
                .write(move |c| {
                    crate::store::cluster::claim_channel_call(c, channel_id, mine, &node)
                })
                .await?;
            if let Some((theirs, node)) = claimed {
                // Started elsewhere at the same moment: theirs wins, and this one never was.
                let _ = self
                    .inner
                    .store
                    .write(move |c| {
                        c.execute("UPDATE calls SET ended_at = started_at WHERE id = ?1", [id])?;
                        Ok(())
                    })
                    .await;
                if node == relay.node() {
                    return self.existing(channel_id).ok_or(CallError::NotFound);
                }
                return relay.state(&node, theirs, actor.id).await;
            }
        }
        let view = {
            let mut st = self.lock();
            // Someone else may have started one meanwhile: theirs wins.
            if let Some(other) = st
                .by_channel
                .get(&channel_id)
                .and_then(|id| st.calls.get(id))
            {
                return Ok(other.view());
            }
            let call = Call {
                id: id as u64,
                channel_id,
                started_by: actor.id,
                started_at,
                answered: None,
                participants: BTreeMap::new(),
                ringing: members.into_iter().filter(|m| *m != actor.id).collect(),
                joined: BTreeSet::new(),
                one_to_one,
            };
            let view = call.view();
            st.by_channel.insert(channel_id, call.id);
            st.calls.insert(call.id, call);
            view
        };
        self.inner
            .metrics
            .active_calls
            .fetch_add(1, Ordering::Relaxed);
        self.publish(channel_id, json!({"type": "call_ring", "call": view}));
        let me = self.clone();
        let ring = Duration::from_secs(self.inner.config.ring_secs);
        let call_id = view.id;
        tokio::spawn(async move {
            tokio::time::sleep(ring).await;
            me.ring_timeout(call_id);
        });
        Ok(view)
    }

    fn existing(&self, channel_id: i64) -> Option<CallView> {
        let st = self.lock();
        st.by_channel
            .get(&channel_id)
            .and_then(|id| st.calls.get(id))
            .map(Call::view)
    }

    /// Nobody answered in time: a missed call. Otherwise the ringing just stops.
    fn ring_timeout(&self, call_id: u64) {
        let ended = {
            let mut st = self.lock();
            let Some(call) = st.calls.get_mut(&call_id) else {
                return;
            };
            if call.answered.is_none() {
                true
            } else {
                call.ringing.clear();
                self.publish_state(call);
                false
            }
        };
        if ended {
            self.end(call_id, EndReason::Missed);
        }
    }

    /// Adds this connection to the call, wherever in the cluster it lives; its offers arrive
    /// on `signal`.
    pub fn join(
        &self,
        actor: Actor,
        call_id: u64,
        signal: mpsc::UnboundedSender<String>,
    ) -> Joining {
        let relay = match &self.inner.relay {
            Some(r) if !self.lock().calls.contains_key(&call_id) => r.clone(),
            _ => return Joining::Now(self.join_local(actor, call_id, signal)),
        };
        if self.inner.sfu.is_none() {
            return Joining::Now(Err(CallError::Disabled));
        }
        let alias = self.inner.next_peer.fetch_add(1, Ordering::Relaxed);
        let me = self.clone();
        Joining::Elsewhere {
            alias,
            joined: Box::pin(async move {
                let home = me
                    .inner
                    .store
                    .read(move |c| crate::store::cluster::call_home(c, call_id))
                    .await?;
                let Some((node, channel_id)) = home.filter(|(n, _)| n != relay.node()) else {
                    return Err(CallError::NotFound);
                };
                if !me.inner.chat.hub().is_member(channel_id, actor.id) {
                    return Err(CallError::NotFound);
                }
                match relay
                    .join(node.clone(), actor, call_id, alias, signal)
                    .await
                {
                    Err(CallError::OwnerGone) => {
                        me.forget_dead(&node, channel_id, call_id).await;
                        Err(CallError::NotFound)
                    }
                    other => other,
                }
            }),
        }
    }

    /// Adds this connection to a call on this node's media server.
    pub fn join_local(
        &self,
        actor: Actor,
        call_id: u64,
        signal: mpsc::UnboundedSender<String>,
    ) -> Result<(PeerId, CallView)> {
        let sfu = self.inner.sfu.as_ref().ok_or(CallError::Disabled)?;
        let mut st = self.lock();
        let call = st.calls.get_mut(&call_id).ok_or(CallError::NotFound)?;
        if !self.inner.chat.hub().is_member(call.channel_id, actor.id) {
            return Err(CallError::NotFound);
        }
        let max = self.inner.config.max_participants;
        if call.participants.len() >= max {
            return Err(CallError::Full(max));
        }
        let peer = self.inner.next_peer.fetch_add(1, Ordering::Relaxed);
        call.participants.insert(
            peer,
            Participant {
                user_id: actor.id,
                muted: false,
                speaking: false,
                camera: false,
                screen: false,
            },
        );
        call.ringing.remove(&actor.id);
        call.joined.insert(actor.id);
        if actor.id != call.started_by && call.answered.is_none() {
            call.answered = Some(Instant::now());
            let id = call.id;
            let answered = self.inner.store.submit_then(
                move |c| {
                    c.execute(
                        "UPDATE calls SET answered_at = ?2 WHERE id = ?1",
                        crate::store::db::params![id as i64, now_ms()],
                    )?;
                    Ok::<_, StoreError>(((), ()))
                },
                |_| {},
            );
            // Queued now; the call does not wait for this bookkeeping to be durable.
            tokio::spawn(answered);
        }
        let view = call.view();
        self.publish_state(call);
        st.peers.insert(peer, call_id);
        sfu.send(Command::Join {
            peer,
            call: call_id,
            user_id: actor.id,
            signal,
        });
        Ok((peer, view))
    }

    /// Whether `peer` takes part in a call through this node (here, or standing in for it).
    pub fn holds(&self, peer: PeerId) -> bool {
        self.inner.relay.as_ref().is_some_and(|r| r.holds(peer))
            || self.lock().peers.contains_key(&peer)
    }

    /// The call `peer` takes part in, for someone who asks to join it again.
    pub fn view_of(&self, peer: PeerId, user_id: i64) -> Option<CallView> {
        if let Some(v) = self.inner.relay.as_ref().and_then(|r| r.view_of(peer)) {
            return Some(v);
        }
        let call_id = self.lock().peers.get(&peer).copied()?;
        self.local_view(call_id, user_id).ok()
    }

    /// A call on this node, if `user_id` may see it.
    pub fn local_view(&self, call_id: u64, user_id: i64) -> Result<CallView> {
        let st = self.lock();
        let call = st.calls.get(&call_id).ok_or(CallError::NotFound)?;
        if !self.inner.chat.hub().is_member(call.channel_id, user_id) {
            return Err(CallError::NotFound);
        }
        Ok(call.view())
    }

    /// Ongoing calls in the user's conversations on every node of the cluster.
    pub async fn list_all(&self, user_id: i64) -> Vec<CallView> {
        let mut all = self.list(user_id);
        let Some(relay) = &self.inner.relay else {
            return all;
        };
        let registered = self
            .inner
            .store
            .read(crate::store::cluster::registered_calls)
            .await
            .unwrap_or_default();
        let hub = self.inner.chat.hub();
        for (call_id, node, channel_id) in registered {
            if node == relay.node() || !hub.is_member(channel_id, user_id) {
                continue;
            }
            match relay.state(&node, call_id, user_id).await {
                Ok(view) => all.push(view),
                Err(CallError::OwnerGone) => self.forget_dead(&node, channel_id, call_id).await,
                Err(_) => {}
            }
        }
        all
    }

    /// The conversation's call registered on another node, if that node still has it. A
    /// registration whose node is gone, or that this node no longer holds, is cleared.
    async fn registered_elsewhere(
        &self,
        relay: &relay::Relay,
        channel_id: i64,
        user_id: i64,
    ) -> Result<Option<CallView>> {
        let found = self
            .inner
            .store
            .read(move |c| crate::store::cluster::channel_call(c, channel_id))
            .await?;
        let Some((call_id, node)) = found else {
            return Ok(None);
        };
        if node == relay.node() {
            // This node's own: it is in memory, or it ended and its record is being written.
            if let Some(v) = self.existing(channel_id) {
                return Ok(Some(v));
            }
            self.release(&node, channel_id, call_id).await;
            return Ok(None);
        }
        match relay.state(&node, call_id, user_id).await {
            Ok(view) => Ok(Some(view)),
            Err(CallError::OwnerGone) => {
                self.forget_dead(&node, channel_id, call_id).await;
                Ok(None)
            }
            // Its node answers but no longer has it: the registration is stale.
            Err(CallError::NotFound) => {
                self.forget_dead(&node, channel_id, call_id).await;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// A call whose node is gone: its registration and row are closed, and everyone in its
    /// conversation is told it ended, so a new one can be started.
    async fn forget_dead(&self, node: &str, channel_id: i64, call_id: u64) {
        self.release(node, channel_id, call_id).await;
        self.publish(
            channel_id,
            json!({"type": "call_ended", "call_id": call_id, "channel_id": channel_id,
                   "reason": EndReason::ServerRestart.as_str()}),
        );
    }

    /// Clears a call's registration and closes its row.
    async fn release(&self, node: &str, channel_id: i64, call_id: u64) {
        let node = node.to_string();
        let released = self
            .inner
            .store
            .write(move |c| {
                crate::store::cluster::release_call(c, channel_id, call_id, &node, now_ms())
            })
            .await;
        if let Err(e) = released {
            tracing::warn!(error = %e, "could not clear a call's registration");
        }
    }

    /// The node standing in for participants of `call` found its owner gone.
    pub(crate) async fn owner_gone(&self, node: &str, call: CallView) {
        let channel_id = if call.channel_id != 0 {
            call.channel_id
        } else {
            let id = call.id;
            match self
                .inner
                .store
                .read(move |c| crate::store::cluster::call_home(c, id))
                .await
            {
                Ok(Some((_, ch))) => ch,
                _ => return,
            }
        };
        tracing::warn!(
            call = call.id,
            "a call's node stopped answering; the call ends"
        );
        self.forget_dead(node, channel_id, call.id).await;
    }

    /// Relays a participant's SDP answer to the media server.
    pub fn answer(&self, peer: PeerId, sdp: String) {
        if let Some(r) = &self.inner.relay {
            if r.holds(peer) {
                r.answer(peer, sdp);
                return;
            }
        }
        if let Some(sfu) = &self.inner.sfu {
            sfu.send(Command::Answer { peer, sdp });
        }
    }

    fn update(&self, peer: PeerId, f: impl FnOnce(&mut Participant)) {
        let mut st = self.lock();
        let Some(call_id) = st.peers.get(&peer).copied() else {
            return;
        };
        if let Some(call) = st.calls.get_mut(&call_id) {
            if let Some(p) = call.participants.get_mut(&peer) {
                f(p);
                self.publish_state(call);
            }
        }
    }

    pub fn mute(&self, peer: PeerId, muted: bool) {
        if self
            .inner
            .relay
            .as_ref()
            .is_some_and(|r| r.mute(peer, muted))
        {
            return;
        }
        if let Some(sfu) = &self.inner.sfu {
            sfu.send(Command::Mute { peer, muted });
        }
        self.update(peer, |p| {
            p.muted = muted;
            if muted {
                p.speaking = false;
            }
        });
    }

    pub fn media(&self, peer: PeerId, camera: bool, screen: bool) {
        if self
            .inner
            .relay
            .as_ref()
            .is_some_and(|r| r.media(peer, camera, screen))
        {
            return;
        }
        if let Some(sfu) = &self.inner.sfu {
            sfu.send(Command::Media {
                peer,
                camera,
                screen,
            });
        }
        self.update(peer, |p| {
            p.camera = camera;
            p.screen = screen;
        });
    }

    /// Takes a participant out; a call with nobody left ends, and so does a one-to-one call
    /// when one side hangs up (`hung_up`: the person left, rather than their connection).
    pub fn leave(&self, peer: PeerId, hung_up: bool) {
        if let Some(r) = &self.inner.relay {
            if r.leave(peer, hung_up) {
                return;
            }
            r.released(peer);
        }
        if let Some(sfu) = &self.inner.sfu {
            sfu.send(Command::Leave { peer });
        }
        let ended = {
            let mut st = self.lock();
            let Some(call_id) = st.peers.remove(&peer) else {
                return;
            };
            let Some(call) = st.calls.get_mut(&call_id) else {
                return;
            };
            let left = call.participants.remove(&peer);
            let other_side_hung_up = hung_up
                && call.one_to_one
                && call.answered.is_some()
                && left.is_some_and(|p| call.participants.values().all(|o| o.user_id != p.user_id));
            if call.participants.is_empty() || other_side_hung_up {
                Some(call_id)
            } else {
                self.publish_state(call);
                None
            }
        };
        if let Some(id) = ended {
            self.end(id, EndReason::Ended);
        }
    }

    /// Stops ringing this user. If everyone declined before anyone answered, the call ends.
    pub fn decline(&self, actor: Actor, call_id: u64) -> Result<()> {
        if let Some(relay) = &self.inner.relay {
            if !self.lock().calls.contains_key(&call_id) {
                // Another node's call: its owner checks membership and applies it.
                let (relay, store) = (relay.clone(), self.inner.store.clone());
                tokio::spawn(async move {
                    let home = store
                        .read(move |c| crate::store::cluster::call_home(c, call_id))
                        .await;
                    if let Ok(Some((node, _))) = home {
                        relay.decline(&node, actor, call_id);
                    }
                });
                return Ok(());
            }
        }
        let ended = {
            let mut st = self.lock();
            let call = st.calls.get_mut(&call_id).ok_or(CallError::NotFound)?;
            if !self.inner.chat.hub().is_member(call.channel_id, actor.id) {
                return Err(CallError::NotFound);
            }
            call.ringing.remove(&actor.id);
            if call.ringing.is_empty() && call.answered.is_none() {
                true
            } else {
                self.publish_state(call);
                false
            }
        };
        if ended {
            self.end(call_id, EndReason::Declined);
        }
        Ok(())
    }

    fn report(&self, r: Report) {
        match r {
            Report::Speaking { peer, speaking } => self.update(peer, |p| p.speaking = speaking),
            Report::Gone { peer } => self.leave(peer, false),
        }
    }

    /// Ends a call: everyone is told, the media goes, and a record is written.
    fn end(&self, call_id: u64, reason: EndReason) {
        let Some(call) = self.take(call_id) else {
            return;
        };
        let fut = self.finish(call, reason);
        tokio::spawn(fut);
    }

    fn take(&self, call_id: u64) -> Option<Call> {
        let mut st = self.lock();
        let call = st.calls.remove(&call_id)?;
        st.by_channel.remove(&call.channel_id);
        for peer in call.participants.keys() {
            st.peers.remove(peer);
        }
        Some(call)
    }

    fn finish(
        &self,
        call: Call,
        reason: EndReason,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.inner
            .metrics
            .active_calls
            .fetch_sub(1, Ordering::Relaxed);
        if let Some(sfu) = &self.inner.sfu {
            for peer in call.participants.keys() {
                sfu.send(Command::Leave { peer: *peer });
            }
        }
        if let Some(relay) = &self.inner.relay {
            for peer in call.participants.keys() {
                relay.released(*peer);
            }
        }
        let registered = self
            .inner
            .relay
            .as_ref()
            .map(|r| (r.node().to_string(), call.channel_id, call.id));
        self.publish(
            call.channel_id,
            json!({"type": "call_ended", "call_id": call.id, "channel_id": call.channel_id,
                   "reason": reason.as_str()}),
        );
        let missed = call.answered.is_none();
        let duration_ms = call
            .answered
            .map(|t| t.elapsed().as_millis() as i64)
            .unwrap_or(0);
        let body = json!({
            "call_id": call.id, "missed": missed, "duration_ms": duration_ms,
            "participants": call.joined.iter().collect::<Vec<_>>(),
        })
        .to_string();
        let record = self
            .inner
            .chat
            .record_call(call.channel_id, call.started_by, body);
        let store = self.inner.store.clone();
        let id = call.id as i64;
        async move {
            let message_id = match record.await {
                Ok(m) => Some(m.id),
                Err(e) => {
                    tracing::warn!(error = %e, "could not record the call in its conversation");
                    None
                }
            };
            let ended = now_ms();
            let _ = store
                .write(move |c| {
                    c.execute(
                        "UPDATE calls SET ended_at = ?2, message_id = ?3 WHERE id = ?1",
                        crate::store::db::params![id, ended, message_id],
                    )?;
                    if let Some((node, channel_id, call_id)) = registered {
                        crate::store::cluster::release_call(c, channel_id, call_id, &node, ended)?;
                    }
                    Ok(())
                })
                .await;
        }
    }

    /// Ends every call (the server is stopping) and waits for their records.
    pub async fn end_all(&self, reason: EndReason) {
        let ids: Vec<u64> = self.lock().calls.keys().copied().collect();
        let mut records = Vec::new();
        for id in ids {
            if let Some(call) = self.take(id) {
                records.push(self.finish(call, reason));
            }
        }
        for r in records {
            let _ = tokio::time::timeout(Duration::from_secs(5), r).await;
        }
    }
}

/// Marks calls left open by a crash as ended, so their rows are true.
pub async fn close_stale(store: &Store) -> Result<(), StoreError> {
    store
        .write(|c| {
            c.execute(
                "UPDATE calls SET ended_at = started_at WHERE ended_at IS NULL",
                [],
            )?;
            Ok(())
        })
        .await
}
