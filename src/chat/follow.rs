//! Cluster mode: every node delivers the whole event log to its own connections, whichever node
//! wrote each event, in log order.
//!
//! Positions are dense and follow commit order across nodes (`log_head`, see the PostgreSQL
//! schema): once position N is visible, every position before it is committed too. A node's
//! own commits arrive here from the store's answer thread with their frames already built and
//! go straight to the hub when they follow what was delivered last; when another node's events
//! come first (a gap), they wait while this job reads the gap from the log. The job also reads
//! the log head on every tick, so another node's events arrive even while this node writes
//! nothing. (NATS will carry "committed up to N" hints to cut that wait; the log stays the
//! truth, so a lost or repeated hint costs latency, never an event.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};

use crate::hub::{Audience, FanOut, Frame, MembershipChange, Outgoing};
use crate::store::chat::{self as q, LoggedEvent};
use crate::store::Store;

use super::protocol::event_frame;

/// How often a node looks at the log head for other nodes' events.
const POLL: Duration = Duration::from_millis(50);
/// Events read from the log at a time.
const BATCH: i64 = 500;

/// The delivery position of this node, shared by the answer thread and the follower job.
#[derive(Default)]
pub struct Follower {
    state: Mutex<State>,
    wake: Notify,
    /// Tells the other nodes how far the log is committed (NATS), when there is a link.
    hint: std::sync::OnceLock<Box<dyn Fn(i64) + Send + Sync>>,
}

#[derive(Default)]
struct State {
    /// The last position handed to the hub.
    delivered: i64,
    /// This node's committed events that wait for earlier positions, by their first position.
    waiting: BTreeMap<i64, Vec<Outgoing>>,
}

impl Follower {
    pub fn new(head: i64) -> Arc<Follower> {
        Arc::new(Follower {
            state: Mutex::new(State {
                delivered: head,
                waiting: BTreeMap::new(),
            }),
            wake: Notify::new(),
            hint: std::sync::OnceLock::new(),
        })
    }

    /// Sets how this node's commits are announced to the others (once, at start).
    pub fn announce_with(&self, hint: impl Fn(i64) + Send + Sync + 'static) {
        let _ = self.hint.set(Box::new(hint));
    }

    /// Another node committed: read the log now rather than at the next tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A local commit's events (with positions), from the store's answer thread. Published now
    /// when they come next; otherwise kept for the job, which fills the gap first. The hub is
    /// given events under the lock, so they reach it in log order whichever side hands them
    /// over.
    pub fn local(&self, hub: &dyn FanOut, out: Vec<Outgoing>) {
        let (Some(first), Some(last)) = (
            out.first().and_then(|o| o.frame.pos),
            out.last().and_then(|o| o.frame.pos),
        ) else {
            // Nothing positioned (never expected): deliver as the one-box path would.
            hub.publish(out);
            return;
        };
        if let Some(hint) = self.hint.get() {
            hint(last);
        }
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        if last <= st.delivered {
            // The job already read these from the log and delivered them.
            return;
        }
        if first == st.delivered + 1 && st.waiting.is_empty() {
            st.delivered = last;
            hub.publish(out);
            return;
        }
        st.waiting.insert(first, out);
        drop(st);
        self.wake.notify_one();
    }

    /// Delivers events read from the log (in order, after `delivered`), preferring this node's
    /// own waiting frames for the positions they cover. Returns the position delivered up to.
    fn deliver(&self, hub: &dyn FanOut, events: Vec<LoggedEvent>) -> i64 {
        let Ok(mut st) = self.state.lock() else {
            return 0;
        };
        let mut batch = Vec::new();
        for e in events {
            if e.pos <= st.delivered {
                continue;
            }
            if let Some(own) = st.waiting.remove(&e.pos) {
                let last = own.last().and_then(|o| o.frame.pos).unwrap_or(e.pos);
                batch.extend(own);
                st.delivered = last;
                continue;
            }
            // A position missing from the log (pruned, or a damaged row that was logged) is
            // stepped over: it will never appear.
            batch.push(outgoing(e.pos, e.channel_id, e.user_id, &e.payload));
            st.delivered = e.pos;
        }
        // Own events that now follow directly go too.
        let st = &mut *st;
        while let Some(entry) = st.waiting.first_entry() {
            if *entry.key() > st.delivered + 1 {
                break;
            }
            let own = entry.remove();
            let before = st.delivered;
            if let Some(last) = own.last().and_then(|o| o.frame.pos) {
                st.delivered = st.delivered.max(last);
            }
            // A read that stopped inside this commit's range delivered its start already.
            batch.extend(
                own.into_iter()
                    .filter(|o| o.frame.pos.is_some_and(|p| p > before)),
            );
        }
        if !batch.is_empty() {
            hub.publish(batch);
        }
        st.delivered
    }

    fn delivered(&self) -> i64 {
        self.state.lock().map(|s| s.delivered).unwrap_or(0)
    }
}

/// Rebuilds what the writing node handed its hub from the logged row.
fn outgoing(pos: i64, channel_id: Option<i64>, user_id: Option<i64>, payload: &str) -> Outgoing {
    let audience = match (channel_id, user_id) {
        (_, Some(u)) => Audience::User(u),
        (Some(ch), None) => Audience::Channel(ch),
        // Logged for nobody in particular: no connection can be sent it.
        (None, None) => Audience::User(0),
    };
    #[derive(serde::Deserialize)]
    struct Kind {
        kind: String,
        channel_id: Option<i64>,
        user_id: Option<i64>,
    }
    let membership = serde_json::from_str::<Kind>(payload).ok().and_then(|k| {
        match (k.kind.as_str(), k.channel_id, k.user_id) {
            ("member.joined", Some(channel_id), Some(user_id)) => Some(MembershipChange::Joined {
                channel_id,
                user_id,
            }),
            ("member.left", Some(channel_id), Some(user_id)) => Some(MembershipChange::Left {
                channel_id,
                user_id,
            }),
            _ => None,
        }
    });
    Outgoing {
        audience,
        membership,
        frame: Frame::new(Some(pos), event_frame(pos, payload)),
    }
}

/// The follower job: reads the log past what was delivered, at every tick and whenever a
/// local commit waits behind a gap.
pub async fn run(
    follower: Arc<Follower>,
    store: Store,
    hub: Arc<dyn FanOut>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Said once when the log cannot be read, and once when it can again: not every 50 ms.
    let mut failing = false;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
            _ = follower.wake.notified() => {}
        }
        loop {
            let after = follower.delivered();
            let read = store
                .read(move |c| {
                    let head = q::event_head(c)?;
                    if head <= after {
                        return Ok(Vec::new());
                    }
                    q::events_between(c, after, head, BATCH)
                })
                .await;
            let events = match read {
                Ok(events) => {
                    if failing {
                        tracing::info!("the event log can be read again");
                        failing = false;
                    }
                    events
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "reading the event log failed; retrying");
                        failing = true;
                    }
                    break;
                }
            };
            if events.is_empty() {
                break;
            }
            let full = events.len() as i64 == BATCH;
            follower.deliver(hub.as_ref(), events);
            if !full {
                break;
            }
        }
    }
}
