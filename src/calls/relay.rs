//! Calls across the nodes of a cluster (issue 18). A call lives on the media server of the node
//! where it was started (its owner). The shared database registers it (`store::cluster`: one
//! call per conversation, and where each call lives), so any node can find it. A person whose
//! WebSocket is on another node joins through that node: it stands in for them (a local alias
//! peer id), carries their answers, mute and leave to the owner over NATS, and hands the
//! owner's offers to their WebSocket; their media goes straight to the owner's address, which
//! its offers name.
//!
//! If the owner dies, the nodes standing in for its participants notice within seconds (it stops
//! answering pings), end the call for everyone with notice (`server-restart`) and free its
//! conversation, so a new call can be started there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};

use super::{CallError, CallView, Calls, PeerId};
use crate::chat::Actor;
use crate::cluster::Link;

/// NATS subject kinds: commands and questions for the node owning a call, and offers for the
/// node standing in for a participant.
const CALLS: &str = "call";
const SIGNALS: &str = "callsig";

/// How often a node standing in for participants checks that their calls' owners are alive,
/// and how many missed answers in a row mean the owner is gone.
const PING_EVERY: Duration = Duration::from_secs(1);
const MISSES: u32 = 2;

/// What one node asks of the node that owns a call.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Op {
    State {
        call_id: u64,
        user_id: i64,
    },
    Join {
        call_id: u64,
        user_id: i64,
        is_admin: bool,
        /// The node standing in for the participant, and its alias for them.
        via: String,
        alias: PeerId,
    },
    Answer {
        peer: PeerId,
        sdp: String,
    },
    Mute {
        peer: PeerId,
        muted: bool,
    },
    Media {
        peer: PeerId,
        camera: bool,
        screen: bool,
    },
    Leave {
        peer: PeerId,
        hung_up: bool,
    },
    Decline {
        call_id: u64,
        user_id: i64,
        is_admin: bool,
    },
    Ping,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
enum Answer {
    Call { call: CallView },
    Joined { peer: PeerId, call: CallView },
    Done,
    Refused { code: String, max: Option<usize> },
}

impl Answer {
    fn of(r: Result<CallView, CallError>) -> Answer {
        match r {
            Ok(call) => Answer::Call { call },
            Err(e) => Answer::refused(e),
        }
    }

    fn refused(e: CallError) -> Answer {
        let (code, max) = match e {
            CallError::Full(n) => ("call-full", Some(n)),
            CallError::Disabled => ("calls-disabled", None),
            _ => ("not-found", None),
        };
        Answer::Refused {
            code: code.into(),
            max,
        }
    }

    fn into_error(self) -> CallError {
        match self {
            Answer::Refused { code, max } if code == "call-full" => {
                CallError::Full(max.unwrap_or_default())
            }
            Answer::Refused { code, .. } if code == "calls-disabled" => CallError::Disabled,
            _ => CallError::NotFound,
        }
    }
}

/// An offer (or the end of a participation, `frame: None`) for a participant whose WebSocket
/// is on the node receiving it.
#[derive(Serialize, Deserialize)]
struct Signal {
    alias: PeerId,
    frame: Option<String>,
}

/// A participant of another node's call, whose WebSocket is here.
struct StandIn {
    owner: String,
    /// The owner's peer id for them; none until the owner accepted the join.
    peer: Option<PeerId>,
    call: CallView,
    signal: mpsc::UnboundedSender<String>,
}

/// This node's side of calls across nodes.
pub struct Relay {
    link: Link,
    /// Participants here of calls owned elsewhere, by alias.
    stand_ins: Mutex<HashMap<PeerId, StandIn>>,
    /// Participants of calls owned here whose WebSocket is on another node: peer → (node, alias).
    remote: Mutex<HashMap<PeerId, (String, PeerId)>>,
}

impl Relay {
    pub fn new(link: Link) -> Arc<Relay> {
        Arc::new(Relay {
            link,
            stand_ins: Mutex::new(HashMap::new()),
            remote: Mutex::new(HashMap::new()),
        })
    }

    /// This node's id in the call registry.
    pub fn node(&self) -> &str {
        self.link.node()
    }

    fn stand_ins(&self) -> std::sync::MutexGuard<'_, HashMap<PeerId, StandIn>> {
        self.stand_ins.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remote(&self) -> std::sync::MutexGuard<'_, HashMap<PeerId, (String, PeerId)>> {
        self.remote.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn ask(&self, node: &str, op: &Op) -> Result<Answer, CallError> {
        let bytes = serde_json::to_vec(op).map_err(|_| CallError::NotFound)?;
        let reply = self
            .link
            .ask(CALLS, node, bytes)
            .await
            .map_err(|_| CallError::OwnerGone)?;
        serde_json::from_slice(&reply).map_err(|_| CallError::NotFound)
    }

    fn tell(&self, node: &str, op: &Op) {
        if let Ok(bytes) = serde_json::to_vec(op) {
            self.link.send_to(CALLS, node, bytes);
        }
    }

    /// The call as its owner sees it now, if `user_id` may see it.
    pub async fn state(
        &self,
        node: &str,
        call_id: u64,
        user_id: i64,
    ) -> Result<CallView, CallError> {
        match self.ask(node, &Op::State { call_id, user_id }).await? {
            Answer::Call { call } => Ok(call),
            other => Err(other.into_error()),
        }
    }

    /// Joins `actor` to a call owned by `node`, standing in for them under `alias`.
    pub async fn join(
        &self,
        node: String,
        actor: Actor,
        call_id: u64,
        alias: PeerId,
        signal: mpsc::UnboundedSender<String>,
    ) -> Result<CallView, CallError> {
        let op = Op::Join {
            call_id,
            user_id: actor.id,
            is_admin: actor.is_admin,
            via: self.node().to_string(),
            alias,
        };
        // Registered first: the owner's first offer may arrive before its answer to the join.
        let placeholder = CallView {
            id: call_id,
            channel_id: 0,
            started_by: 0,
            started_at: 0,
            participants: Vec::new(),
            ringing: Vec::new(),
        };
        self.stand_ins().insert(
            alias,
            StandIn {
                owner: node.clone(),
                peer: None,
                call: placeholder,
                signal,
            },
        );
        let answer = self.ask(&node, &op).await;
        match answer {
            Ok(Answer::Joined { peer, call }) => {
                let mut all = self.stand_ins();
                match all.get_mut(&alias) {
                    Some(s) => {
                        s.peer = Some(peer);
                        s.call = call.clone();
                        Ok(call)
                    }
                    // Left while joining: the owner lets go of them too.
                    None => {
                        drop(all);
                        self.tell(
                            &node,
                            &Op::Leave {
                                peer,
                                hung_up: true,
                            },
                        );
                        Err(CallError::NotFound)
                    }
                }
            }
            Ok(other) => {
                self.stand_ins().remove(&alias);
                Err(other.into_error())
            }
            Err(e) => {
                self.stand_ins().remove(&alias);
                Err(e)
            }
        }
    }

    /// Whether `alias` stands in for a participant here.
    pub fn holds(&self, alias: PeerId) -> bool {
        self.stand_ins().contains_key(&alias)
    }

    /// The call `alias` takes part in, as it was when they joined.
    pub fn view_of(&self, alias: PeerId) -> Option<CallView> {
        self.stand_ins().get(&alias).map(|s| s.call.clone())
    }

    /// Passes a stand-in's request on to the call's owner; false if `alias` is not one.
    fn forward(&self, alias: PeerId, op: impl FnOnce(PeerId) -> Op) -> bool {
        let target = {
            let all = self.stand_ins();
            match all.get(&alias) {
                Some(s) => s.peer.map(|p| (s.owner.clone(), p)),
                None => return false,
            }
        };
        if let Some((owner, peer)) = target {
            self.tell(&owner, &op(peer));
        }
        true
    }

    pub fn answer(&self, alias: PeerId, sdp: String) -> bool {
        self.forward(alias, |peer| Op::Answer { peer, sdp })
    }

    pub fn mute(&self, alias: PeerId, muted: bool) -> bool {
        self.forward(alias, |peer| Op::Mute { peer, muted })
    }

    pub fn media(&self, alias: PeerId, camera: bool, screen: bool) -> bool {
        self.forward(alias, |peer| Op::Media {
            peer,
            camera,
            screen,
        })
    }

    pub fn leave(&self, alias: PeerId, hung_up: bool) -> bool {
        let gone = self.stand_ins().remove(&alias);
        match gone {
            Some(StandIn {
                owner,
                peer: Some(peer),
                ..
            }) => {
                self.tell(&owner, &Op::Leave { peer, hung_up });
                true
            }
            Some(_) => true,
            None => false,
        }
    }

    pub fn decline(&self, node: &str, actor: Actor, call_id: u64) {
        self.tell(
            node,
            &Op::Decline {
                call_id,
                user_id: actor.id,
                is_admin: actor.is_admin,
            },
        );
    }

    /// Whether `node` still answers (it owns calls someone here takes part in).
    pub async fn alive(&self, node: &str) -> bool {
        matches!(self.ask(node, &Op::Ping).await, Ok(Answer::Done))
    }

    /// The owner side: a participant of a call owned here, whose WebSocket is on `via` (as
    /// `alias`), gets its offers over NATS.
    fn signal_path(&self, via: String, alias: PeerId) -> mpsc::UnboundedSender<String> {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        let link = self.link.clone();
        tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                if let Ok(bytes) = serde_json::to_vec(&Signal {
                    alias,
                    frame: Some(frame),
                }) {
                    link.send_to(SIGNALS, &via, bytes);
                }
            }
        });
        tx
    }

    /// The owner side: tells the node standing in for `peer` (if any) that its participation is
    /// over, so it stops standing in.
    pub fn released(&self, peer: PeerId) {
        let Some((via, alias)) = self.remote().remove(&peer) else {
            return;
        };
        if let Ok(bytes) = serde_json::to_vec(&Signal { alias, frame: None }) {
            self.link.send_to(SIGNALS, &via, bytes);
        }
    }

    /// Stand-ins of calls owned by `node`, which is gone: forgotten here; returns their calls.
    fn drop_owner(&self, node: &str) -> Vec<CallView> {
        let mut all = self.stand_ins();
        let aliases: Vec<PeerId> = all
            .iter()
            .filter(|(_, s)| s.owner == node)
            .map(|(a, _)| *a)
            .collect();
        let mut calls: Vec<CallView> = Vec::new();
        for a in aliases {
            if let Some(s) = all.remove(&a) {
                if !calls.iter().any(|c| c.id == s.call.id) {
                    calls.push(s.call);
                }
            }
        }
        calls
    }

    fn owners(&self) -> Vec<String> {
        let mut owners: Vec<String> = self.stand_ins().values().map(|s| s.owner.clone()).collect();
        owners.sort();
        owners.dedup();
        owners
    }
}

/// Serves other nodes' requests about calls owned here, hands offers to the participants this
/// node stands in for, and ends the calls of owners that stopped answering. Until shutdown.
pub async fn run(calls: Calls, relay: Arc<Relay>, mut shutdown: watch::Receiver<bool>) {
    use futures_util::StreamExt;
    let (mut ops, mut signals) = match (
        relay.link.listen(CALLS).await,
        relay.link.listen(SIGNALS).await,
    ) {
        (Ok(o), Ok(s)) => (o, s),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "calls across nodes are off: cannot subscribe on NATS");
            return;
        }
    };
    let mut ping = tokio::time::interval(PING_EVERY);
    let mut missed: HashMap<String, u32> = HashMap::new();
    let (answers, mut results) = mpsc::unbounded_channel::<(String, bool)>();
    let mut pinging: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            Some(msg) = ops.next() => {
                let Ok(op) = serde_json::from_slice::<Op>(&msg.payload) else {
                    tracing::warn!("an unreadable call request from another node was ignored");
                    continue;
                };
                let answer = serve(&calls, &relay, op).await;
                if let (Some(to), Some(answer)) = (msg.reply, answer) {
                    if let Ok(bytes) = serde_json::to_vec(&answer) {
                        relay.link.reply(to, bytes).await;
                    }
                }
            }
            Some(msg) = signals.next() => {
                let Ok(signal) = serde_json::from_slice::<Signal>(&msg.payload) else {
                    continue;
                };
                match signal.frame {
                    Some(frame) => {
                        let to = relay.stand_ins().get(&signal.alias).map(|s| s.signal.clone());
                        if let Some(to) = to {
                            let _ = to.send(frame);
                        }
                    }
                    None => {
                        relay.stand_ins().remove(&signal.alias);
                    }
                }
            }
            _ = ping.tick() => {
                // Pinged off this loop: an owner whose machine vanished answers only by a
                // timeout, which must not hold up requests about other calls meanwhile.
                if pinging.as_ref().is_none_or(|p| p.is_finished()) {
                    let (relay, tx) = (relay.clone(), answers.clone());
                    pinging = Some(tokio::spawn(async move {
                        for owner in relay.owners() {
                            let alive = relay.alive(&owner).await;
                            let _ = tx.send((owner, alive));
                        }
                    }));
                }
            }
            Some((owner, alive)) = results.recv() => {
                if alive {
                    missed.remove(&owner);
                    continue;
                }
                let n = missed.entry(owner.clone()).or_default();
                *n += 1;
                if *n >= MISSES {
                    missed.remove(&owner);
                    for call in relay.drop_owner(&owner) {
                        calls.owner_gone(&owner, call).await;
                    }
                }
            }
        }
    }
}

/// Does what another node asks of a call owned here; `None` for commands that want no answer.
async fn serve(calls: &Calls, relay: &Relay, op: Op) -> Option<Answer> {
    match op {
        Op::Ping => Some(Answer::Done),
        Op::State { call_id, user_id } => Some(Answer::of(calls.local_view(call_id, user_id))),
        Op::Join {
            call_id,
            user_id,
            is_admin,
            via,
            alias,
        } => {
            let actor = Actor {
                id: user_id,
                is_admin,
            };
            let signal = relay.signal_path(via.clone(), alias);
            Some(match calls.join_local(actor, call_id, signal) {
                Ok((peer, call)) => {
                    relay.remote().insert(peer, (via, alias));
                    Answer::Joined { peer, call }
                }
                Err(e) => Answer::refused(e),
            })
        }
        Op::Answer { peer, sdp } => {
            calls.answer(peer, sdp);
            None
        }
        Op::Mute { peer, muted } => {
            calls.mute(peer, muted);
            None
        }
        Op::Media {
            peer,
            camera,
            screen,
        } => {
            calls.media(peer, camera, screen);
            None
        }
        Op::Leave { peer, hung_up } => {
            relay.remote().remove(&peer);
            calls.leave(peer, hung_up);
            None
        }
        Op::Decline {
            call_id,
            user_id,
            is_admin,
        } => {
            let _ = calls.decline(
                Actor {
                    id: user_id,
                    is_admin,
                },
                call_id,
            );
            Some(Answer::Done)
        }
    }
}
