//! Real-time fan-out: who is connected, which channels they belong to, and delivery of events.
//!
//! Everything outside this module talks to it through [`FanOut`], so a multi-node deployment can
//! put a broker behind the same interface: callers never assume that all connections live in this
//! process. Each event is serialized once into a [`Frame`] (a reference-counted buffer) and the
//! same buffer is queued for every recipient. Every connection has a bounded queue; a connection
//! whose queue is full is dropped (its client resumes from its last position) so one slow client
//! never slows anyone else.
//!
//! Membership is kept here as an index loaded at start and updated by the membership changes
//! carried on published events. Those are published from the store's writer thread right after
//! their commit, in commit order, so the index always matches the database.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{mpsc, watch};

pub type ConnId = u64;

/// A serialized event. `pos` is its place in the durable event log, `None` for ephemeral
/// events (typing, presence).
#[derive(Debug, Clone)]
pub struct Frame {
    pub pos: Option<i64>,
    pub text: Utf8Bytes,
    /// When the event was published, to measure delivery latency.
    pub born: std::time::Instant,
}

impl Frame {
    pub fn new(pos: Option<i64>, text: impl Into<Utf8Bytes>) -> Frame {
        Frame {
            pos,
            text: text.into(),
            born: std::time::Instant::now(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Audience {
    /// Every member of a channel.
    Channel(i64),
    /// Every connection of one user.
    User(i64),
}

#[derive(Debug, Clone, Copy)]
pub enum MembershipChange {
    Joined { channel_id: i64, user_id: i64 },
    Left { channel_id: i64, user_id: i64 },
}

#[derive(Debug, Clone)]
pub struct Outgoing {
    pub audience: Audience,
    pub frame: Frame,
    /// Applied to the membership index: before delivery for joins (the new member sees the
    /// event), after delivery for departures (the leaver sees it too).
    pub membership: Option<MembershipChange>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    Online,
    Away,
    Offline,
}

/// Why the hub let go of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// Its queue was full (frames or bytes): the client reads too slowly.
    TooSlow,
    /// Its session was revoked or its user disabled.
    SessionEnded,
    /// Live delivery cannot be trusted to be complete any more (the log holds events that were
    /// never published here); the client must resume from its position to get them by replay.
    Resume,
}

/// What a connection receives next.
#[derive(Debug)]
pub enum Next {
    Frame(Frame),
    Ended(EndReason),
}

/// A live connection's end of the hub. Dropping it unregisters the connection.
pub struct Subscription {
    pub id: ConnId,
    rx: mpsc::Receiver<Frame>,
    ended: watch::Receiver<Option<EndReason>>,
    /// Bytes of frames queued for this connection; shared with the hub's side.
    queued: Arc<AtomicUsize>,
    unregister: Option<Box<dyn FnOnce() + Send>>,
}

impl Subscription {
    /// The next frame, or why the hub let go of this connection. An ending is reported at once,
    /// without draining what was queued before it. Cancel-safe.
    pub async fn next(&mut self) -> Next {
        let frame = tokio::select! {
            biased;
            reason = self.ended.wait_for(Option::is_some) => {
                return Next::Ended(reason.ok().and_then(|r| *r).unwrap_or(EndReason::Resume));
            }
            frame = self.rx.recv() => frame,
        };
        match frame {
            Some(frame) => {
                self.queued.fetch_sub(frame.text.len(), Ordering::Relaxed);
                Next::Frame(frame)
            }
            None => Next::Ended((*self.ended.borrow()).unwrap_or(EndReason::Resume)),
        }
    }

    /// Resolves once the hub has let go of this connection. Cancel-safe.
    pub async fn ended(&mut self) -> EndReason {
        match self.ended.wait_for(Option::is_some).await {
            Ok(r) => (*r).unwrap_or(EndReason::Resume),
            Err(_) => EndReason::Resume,
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(f) = self.unregister.take() {
            f();
        }
    }
}

/// The narrow interface to real-time delivery.
pub trait FanOut: Send + Sync {
    /// Registers a connection of `user_id` made with `session_id`.
    fn connect(&self, user_id: i64, session_id: &str) -> Subscription;
    /// Delivers events in the order given.
    fn publish(&self, events: Vec<Outgoing>);
    /// Sends an ephemeral frame to a channel's members.
    fn publish_ephemeral(&self, audience: Audience, frame: Frame);
    /// Sends an ephemeral frame to every connection (someone's profile or status changed;
    /// clients that miss it read `/api/v1/people` when they connect).
    fn broadcast(&self, frame: Frame);
    /// Ends every connection made with one of these sessions.
    fn disconnect_sessions(&self, session_ids: &[String]);
    /// Ends every connection of a user.
    fn disconnect_user(&self, user_id: i64);
    /// Sets a connection's own activity (online or away).
    fn set_activity(&self, conn: ConnId, away: bool);
    /// Replaces the set of users whose presence a connection watches; returns their presence now.
    fn watch_presence(&self, conn: ConnId, user_ids: Vec<i64>) -> Vec<(i64, Presence)>;
    fn presence(&self, user_id: i64) -> Presence;
    fn is_member(&self, channel_id: i64, user_id: i64) -> bool;
    fn connection_count(&self) -> usize;
    /// Ends every connection, telling each why.
    fn end_all(&self, reason: EndReason);
}

/// How many frames may wait for one connection before it is dropped as too slow.
pub const QUEUE_CAPACITY: usize = 1024;
/// How many bytes of frames may wait for one connection before it is dropped as too slow. Frames
/// are shared between connections, but a connection that stays behind long enough ends up the
/// last holder of what it has not sent, so this bounds the memory one reader can pin.
pub const QUEUE_MAX_BYTES: usize = 4 * 1024 * 1024;

struct Conn {
    user_id: i64,
    session_id: String,
    tx: mpsc::Sender<Frame>,
    end: watch::Sender<Option<EndReason>>,
    queued: Arc<AtomicUsize>,
    away: bool,
    watching: Vec<i64>,
}

#[derive(Default)]
struct State {
    conns: HashMap<ConnId, Conn>,
    by_user: HashMap<i64, Vec<ConnId>>,
    members: HashMap<i64, HashSet<i64>>,
    watchers: HashMap<i64, HashSet<ConnId>>,
    /// Cluster mode: people's presence on other nodes, by node, until it expires (a node that
    /// died stops renewing it).
    remote: HashMap<i64, HashMap<String, (Presence, std::time::Instant)>>,
    /// Cluster mode: where this node's own presence changes go, for the other nodes.
    presence_out: Option<tokio::sync::mpsc::UnboundedSender<(i64, Presence)>>,
}

/// The in-process implementation of [`FanOut`].
pub struct LocalHub {
    /// Held only for in-memory bookkeeping and `try_send`; never across an await or I/O.
    state: Mutex<State>,
    next_id: AtomicU64,
    me: Weak<LocalHub>,
}

impl LocalHub {
    /// A hub whose membership index starts as `members` (channel, user) pairs.
    pub fn new(members: Vec<(i64, i64)>) -> Arc<LocalHub> {
        let mut state = State::default();
        for (c, u) in members {
            state.members.entry(c).or_default().insert(u);
        }
        Arc::new_cyclic(|me| LocalHub {
            state: Mutex::new(state),
            next_id: AtomicU64::new(1),
            me: me.clone(),
        })
    }

    /// Cluster mode: this node's presence changes are sent to `out` from now on.
    pub fn send_presence_to(&self, out: tokio::sync::mpsc::UnboundedSender<(i64, Presence)>) {
        self.lock().presence_out = Some(out);
    }

    /// Every person connected to this node and their presence here (a node's periodic report).
    pub fn local_presences(&self) -> Vec<(i64, Presence)> {
        let st = self.lock();
        st.by_user
            .keys()
            .map(|u| (*u, local_presence_of(&st, *u)))
            .collect()
    }

    /// Another node's report of someone's presence there, good for `ttl`.
    pub fn remote_presence(&self, node: &str, user_id: i64, p: Presence, ttl: std::time::Duration) {
        let mut st = self.lock();
        let before = presence_of(&st, user_id);
        let entry = st.remote.entry(user_id).or_default();
        match p {
            Presence::Offline => {
                entry.remove(node);
            }
            p => {
                entry.insert(node.to_string(), (p, std::time::Instant::now() + ttl));
            }
        }
        if entry.is_empty() {
            st.remote.remove(&user_id);
        }
        if presence_of(&st, user_id) != before {
            announce_to_watchers(&mut st, user_id);
        }
    }

    /// A node's full report: anyone it listed before and not now has left it.
    pub fn remote_report(&self, node: &str, present: &[(i64, Presence)], ttl: std::time::Duration) {
        let gone: Vec<i64> = {
            let st = self.lock();
            st.remote
                .iter()
                .filter(|(u, by_node)| {
                    by_node.contains_key(node) && !present.iter().any(|(p, _)| p == *u)
                })
                .map(|(u, _)| *u)
                .collect()
        };
        for u in gone {
            self.remote_presence(node, u, Presence::Offline, ttl);
        }
        for (u, p) in present {
            self.remote_presence(node, *u, *p, ttl);
        }
    }

    /// Forgets reports that were not renewed (their node died); tells watchers what changed.
    pub fn expire_remote(&self) {
        let mut st = self.lock();
        let now = std::time::Instant::now();
        let stale: Vec<i64> = st
            .remote
            .iter()
            .filter(|(_, by_node)| by_node.values().any(|(_, until)| *until < now))
            .map(|(u, _)| *u)
            .collect();
        for u in stale {
            if let Some(by_node) = st.remote.get_mut(&u) {
                by_node.retain(|_, (_, until)| *until >= now);
                if by_node.is_empty() {
                    st.remote.remove(&u);
                }
            }
            // Expired entries were already left out of `presence_of`; watchers are told now.
            announce_to_watchers(&mut st, u);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters more than losing delivery, so keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unregister(&self, id: ConnId) {
        let mut st = self.lock();
        let changed = remove_conn(&mut st, id, EndReason::Resume);
        if let Some(user) = changed {
            announce_presence(&mut st, user);
        }
    }
}

/// Removes a connection and tells it why; returns its user if that user's presence may have
/// changed.
fn remove_conn(st: &mut State, id: ConnId, reason: EndReason) -> Option<i64> {
    let conn = st.conns.remove(&id)?;
    conn.end.send_replace(Some(reason));
    if let Some(list) = st.by_user.get_mut(&conn.user_id) {
        list.retain(|c| *c != id);
        if list.is_empty() {
            st.by_user.remove(&conn.user_id);
        }
    }
    for w in &conn.watching {
        if let Some(set) = st.watchers.get_mut(w) {
            set.remove(&id);
            if set.is_empty() {
                st.watchers.remove(w);
            }
        }
    }
    Some(conn.user_id)
}

/// Someone's presence over every node: online anywhere beats away anywhere beats offline.
fn presence_of(st: &State, user_id: i64) -> Presence {
    let here = local_presence_of(st, user_id);
    let now = std::time::Instant::now();
    let elsewhere = st.remote.get(&user_id).into_iter().flatten();
    let mut best = here;
    for (_, (p, until)) in elsewhere {
        if *until < now {
            continue;
        }
        best = match (best, *p) {
            (Presence::Online, _) | (_, Presence::Online) => Presence::Online,
            (Presence::Away, _) | (_, Presence::Away) => Presence::Away,
            _ => Presence::Offline,
        };
    }
    best
}

/// Someone's presence from this node's connections alone.
fn local_presence_of(st: &State, user_id: i64) -> Presence {
    match st.by_user.get(&user_id) {
        None => Presence::Offline,
        Some(list)
            if list
                .iter()
                .any(|c| st.conns.get(c).is_some_and(|c| !c.away)) =>
        {
            Presence::Online
        }
        Some(_) => Presence::Away,
    }
}

fn presence_frame(user_id: i64, p: Presence) -> Frame {
    let text = serde_json::json!({"type": "presence", "user_id": user_id, "status": p}).to_string();
    Frame::new(None, text)
}

/// Tells everyone watching `user_id` its presence now (after a change on this node, which the
/// other nodes of a cluster are told too).
fn announce_presence(st: &mut State, user_id: i64) {
    if let Some(out) = &st.presence_out {
        let _ = out.send((user_id, local_presence_of(st, user_id)));
    }
    announce_to_watchers(st, user_id);
}

fn announce_to_watchers(st: &mut State, user_id: i64) {
    let Some(watchers) = st.watchers.get(&user_id) else {
        return;
    };
    let frame = presence_frame(user_id, presence_of(st, user_id));
    let targets: Vec<ConnId> = watchers.iter().copied().collect();
    deliver(st, &targets, &frame);
}

/// Queues a frame for each target; drops connections whose queue is full (in frames or bytes).
fn deliver(st: &mut State, targets: &[ConnId], frame: &Frame) {
    let len = frame.text.len();
    let mut slow = Vec::new();
    for id in targets {
        if let Some(conn) = st.conns.get(id) {
            // Counted before the send so the receiver's decrement can never come first.
            let before = conn.queued.fetch_add(len, Ordering::Relaxed);
            if before + len > QUEUE_MAX_BYTES || conn.tx.try_send(frame.clone()).is_err() {
                slow.push(*id);
            }
        }
    }
    for id in slow {
        tracing::info!(conn = id, "dropping a connection that fell too far behind");
        if let Some(user) = remove_conn(st, id, EndReason::TooSlow) {
            announce_presence(st, user);
        }
    }
}

fn audience_conns(st: &State, audience: &Audience) -> Vec<ConnId> {
    match audience {
        Audience::User(u) => st.by_user.get(u).cloned().unwrap_or_default(),
        Audience::Channel(c) => st
            .members
            .get(c)
            .map(|users| {
                users
                    .iter()
                    .filter_map(|u| st.by_user.get(u))
                    .flatten()
                    .copied()
                    .collect()
            })
            .unwrap_or_default(),
    }
}

impl FanOut for LocalHub {
    fn connect(&self, user_id: i64, session_id: &str) -> Subscription {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(QUEUE_CAPACITY);
        let (end, ended) = watch::channel(None);
        let queued = Arc::new(AtomicUsize::new(0));
        {
            let mut st = self.lock();
            let was = presence_of(&st, user_id);
            st.conns.insert(
                id,
                Conn {
                    user_id,
                    session_id: session_id.to_string(),
                    tx,
                    end,
                    queued: queued.clone(),
                    away: false,
                    watching: Vec::new(),
                },
            );
            st.by_user.entry(user_id).or_default().push(id);
            if was != Presence::Online {
                announce_presence(&mut st, user_id);
            } else if let Some(out) = &st.presence_out {
                // Online elsewhere already, but now here too: the other nodes must know, or
                // they would show this person offline once the other node's connection ends.
                let _ = out.send((user_id, Presence::Online));
            }
        }
        let me = self.me.clone();
        Subscription {
            id,
            rx,
            ended,
            queued,
            unregister: Some(Box::new(move || {
                if let Some(hub) = me.upgrade() {
                    hub.unregister(id);
                }
            })),
        }
    }

    fn publish(&self, events: Vec<Outgoing>) {
        let mut st = self.lock();
        for ev in events {
            if let Some(MembershipChange::Joined {
                channel_id,
                user_id,
            }) = ev.membership
            {
                st.members.entry(channel_id).or_default().insert(user_id);
            }
            let targets = audience_conns(&st, &ev.audience);
            deliver(&mut st, &targets, &ev.frame);
            if let Some(MembershipChange::Left {
                channel_id,
                user_id,
            }) = ev.membership
            {
                if let Some(set) = st.members.get_mut(&channel_id) {
                    set.remove(&user_id);
                }
            }
        }
    }

    fn publish_ephemeral(&self, audience: Audience, frame: Frame) {
        let mut st = self.lock();
        let targets = audience_conns(&st, &audience);
        deliver(&mut st, &targets, &frame);
    }

    fn broadcast(&self, frame: Frame) {
        let mut st = self.lock();
        let targets: Vec<ConnId> = st.conns.keys().copied().collect();
        deliver(&mut st, &targets, &frame);
    }

    fn disconnect_sessions(&self, session_ids: &[String]) {
        let mut st = self.lock();
        let ids: Vec<ConnId> = st
            .conns
            .iter()
            .filter(|(_, c)| session_ids.contains(&c.session_id))
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(user) = remove_conn(&mut st, id, EndReason::SessionEnded) {
                announce_presence(&mut st, user);
            }
        }
    }

    fn disconnect_user(&self, user_id: i64) {
        let mut st = self.lock();
        let ids = st.by_user.get(&user_id).cloned().unwrap_or_default();
        for id in ids {
            remove_conn(&mut st, id, EndReason::SessionEnded);
        }
        announce_presence(&mut st, user_id);
    }

    fn set_activity(&self, conn: ConnId, away: bool) {
        let mut st = self.lock();
        let Some(c) = st.conns.get_mut(&conn) else {
            return;
        };
        let user = c.user_id;
        let before = presence_of(&st, user);
        if let Some(c) = st.conns.get_mut(&conn) {
            c.away = away;
        }
        if presence_of(&st, user) != before {
            announce_presence(&mut st, user);
        }
    }

    fn watch_presence(&self, conn: ConnId, user_ids: Vec<i64>) -> Vec<(i64, Presence)> {
        let mut st = self.lock();
        let Some(c) = st.conns.get_mut(&conn) else {
            return Vec::new();
        };
        let old = std::mem::replace(&mut c.watching, user_ids.clone());
        for w in old {
            if let Some(set) = st.watchers.get_mut(&w) {
                set.remove(&conn);
                if set.is_empty() {
                    st.watchers.remove(&w);
                }
            }
        }
        for w in &user_ids {
            st.watchers.entry(*w).or_default().insert(conn);
        }
        user_ids
            .into_iter()
            .map(|u| (u, presence_of(&st, u)))
            .collect()
    }

    fn presence(&self, user_id: i64) -> Presence {
        presence_of(&self.lock(), user_id)
    }

    fn is_member(&self, channel_id: i64, user_id: i64) -> bool {
        self.lock()
            .members
            .get(&channel_id)
            .is_some_and(|s| s.contains(&user_id))
    }

    fn connection_count(&self) -> usize {
        self.lock().conns.len()
    }

    fn end_all(&self, reason: EndReason) {
        let mut st = self.lock();
        let ids: Vec<ConnId> = st.conns.keys().copied().collect();
        for id in ids {
            remove_conn(&mut st, id, reason);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(pos: i64) -> Frame {
        Frame::new(Some(pos), format!("{{\"pos\":{pos}}}"))
    }

    #[tokio::test]
    async fn delivers_to_members_only_and_follows_membership() {
        let hub = LocalHub::new(vec![(1, 10), (1, 11)]);
        let mut a = hub.connect(10, "s-a");
        let mut b = hub.connect(11, "s-b");
        let mut c = hub.connect(12, "s-c");
        hub.publish(vec![Outgoing {
            audience: Audience::Channel(1),
            frame: frame(1),
            membership: None,
        }]);
        assert_eq!(a.rx.recv().await.unwrap().pos, Some(1));
        assert_eq!(b.rx.recv().await.unwrap().pos, Some(1));
        assert!(c.rx.try_recv().is_err());
        hub.publish(vec![Outgoing {
            audience: Audience::Channel(1),
            frame: frame(2),
            membership: Some(MembershipChange::Joined {
                channel_id: 1,
                user_id: 12,
            }),
        }]);
        assert_eq!(c.rx.recv().await.unwrap().pos, Some(2));
        assert_eq!(a.rx.recv().await.unwrap().pos, Some(2));
        hub.publish(vec![Outgoing {
            audience: Audience::Channel(1),
            frame: frame(3),
            membership: Some(MembershipChange::Left {
                channel_id: 1,
                user_id: 10,
            }),
        }]);
        assert_eq!(
            a.rx.recv().await.unwrap().pos,
            Some(3),
            "the leaver sees it"
        );
        hub.publish(vec![Outgoing {
            audience: Audience::Channel(1),
            frame: frame(4),
            membership: None,
        }]);
        assert!(a.rx.try_recv().is_err());
        assert!(!hub.is_member(1, 10));
    }

    #[tokio::test]
    async fn a_full_queue_drops_only_that_connection() {
        let hub = LocalHub::new(vec![(1, 10), (1, 11)]);
        let slow = hub.connect(10, "s1");
        let mut fast = hub.connect(11, "s2");
        for i in 0..(QUEUE_CAPACITY as i64 + 5) {
            hub.publish(vec![Outgoing {
                audience: Audience::Channel(1),
                frame: frame(i),
                membership: None,
            }]);
            assert_eq!(fast.rx.recv().await.unwrap().pos, Some(i));
        }
        assert_eq!(hub.connection_count(), 1);
        drop(slow);
        assert_eq!(hub.connection_count(), 1);
    }

    #[tokio::test]
    async fn a_connection_holding_too_many_bytes_is_dropped_and_told_at_once() {
        let hub = LocalHub::new(vec![(1, 10), (1, 11)]);
        let mut slow = hub.connect(10, "s1");
        let mut fast = hub.connect(11, "s2");
        let big = "x".repeat(64 * 1024);
        let frames = QUEUE_MAX_BYTES / big.len() + 1;
        assert!(frames < QUEUE_CAPACITY, "the byte bound is the one tested");
        for i in 0..frames as i64 {
            hub.publish(vec![Outgoing {
                audience: Audience::Channel(1),
                frame: Frame::new(Some(i), big.clone()),
                membership: None,
            }]);
            assert!(matches!(fast.next().await, Next::Frame(f) if f.pos == Some(i)));
        }
        assert_eq!(hub.connection_count(), 1);
        // The ending comes first: nothing queued before it is handed out.
        assert!(matches!(slow.next().await, Next::Ended(EndReason::TooSlow)));
        assert_eq!(slow.ended().await, EndReason::TooSlow);
        // A reader that keeps up never reaches the bound however much passes through.
        assert_eq!(fast.queued.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn revoked_and_resumed_connections_learn_why() {
        let hub = LocalHub::new(vec![]);
        let mut a = hub.connect(1, "a");
        let mut b = hub.connect(2, "b");
        hub.disconnect_sessions(&["a".to_string()]);
        assert!(matches!(
            a.next().await,
            Next::Ended(EndReason::SessionEnded)
        ));
        hub.end_all(EndReason::Resume);
        assert!(matches!(b.next().await, Next::Ended(EndReason::Resume)));
        assert_eq!(hub.connection_count(), 0);
    }

    #[tokio::test]
    async fn presence_on_other_nodes_counts_until_their_reports_lapse() {
        use std::time::Duration;
        let hub = LocalHub::new(vec![]);
        let (out, mut sent) = tokio::sync::mpsc::unbounded_channel();
        hub.send_presence_to(out);
        let mut watcher = hub.connect(1, "w");
        assert_eq!(sent.recv().await, Some((1, Presence::Online)));
        hub.watch_presence(watcher.id, vec![2]);
        // Person 2 is online on another node: watchers here are told.
        hub.remote_presence("b", 2, Presence::Online, Duration::from_secs(30));
        let text = watcher.rx.recv().await.unwrap().text;
        assert!(text.as_str().contains("online"), "{}", text.as_str());
        assert_eq!(hub.presence(2), Presence::Online);
        // Connected here too, then gone from here: still online there, and the other nodes
        // hear of both changes.
        let here = hub.connect(2, "x");
        assert_eq!(sent.recv().await, Some((2, Presence::Online)));
        drop(here);
        assert_eq!(sent.recv().await, Some((2, Presence::Offline)));
        assert_eq!(hub.presence(2), Presence::Online);
        // A node that died stops reporting: once its report lapses, 2 is offline.
        hub.remote_report("b", &[(2, Presence::Online)], Duration::from_millis(1));
        tokio::time::sleep(Duration::from_millis(5)).await;
        hub.expire_remote();
        assert_eq!(hub.presence(2), Presence::Offline);
        let mut last = String::new();
        while let Ok(f) = watcher.rx.try_recv() {
            last = f.text.as_str().to_string();
        }
        assert!(last.contains("offline"), "{last}");
    }

    #[tokio::test]
    async fn presence_follows_connections_and_activity() {
        let hub = LocalHub::new(vec![]);
        let watcher = hub.connect(1, "w");
        let mut watcher = watcher;
        assert_eq!(
            hub.watch_presence(watcher.id, vec![2]),
            vec![(2, Presence::Offline)]
        );
        let conn = hub.connect(2, "x");
        let text = watcher.rx.recv().await.unwrap().text;
        assert!(text.as_str().contains("online"), "{}", text.as_str());
        hub.set_activity(conn.id, true);
        assert!(watcher
            .rx
            .recv()
            .await
            .unwrap()
            .text
            .as_str()
            .contains("away"));
        drop(conn);
        assert!(watcher
            .rx
            .recv()
            .await
            .unwrap()
            .text
            .as_str()
            .contains("offline"));
        hub.disconnect_sessions(&["w".to_string()]);
        assert!(
            watcher.rx.recv().await.is_none(),
            "a revoked session's queue closes"
        );
    }
}
