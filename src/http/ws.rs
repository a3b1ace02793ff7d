//! The real-time connection at `/api/v1/ws` (protocol in `docs/protocol.md`).
//!
//! One task per connection: it replays what the client missed from the event log, then forwards
//! live frames from its hub subscription and handles the client's requests. Requests are queued
//! for commit in arrival order and their answers are sent in the same order.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::stream::{FuturesOrdered, StreamExt};
use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::json;

use super::error::Query;
use super::{ApiError, AppState, CurrentUser};
use crate::chat::protocol::event_frame;
use crate::chat::{Actor, ChatError};
use crate::hub::{EndReason, Next, Presence, Subscription};
use crate::store::chat as q;

/// A client further behind than this many events reloads instead of replaying.
pub const MAX_REPLAY: i64 = 10_000;
const PROTOCOL_VERSION: u32 = 1;
const PING_EVERY: Duration = Duration::from_secs(25);
const IDLE_LIMIT: Duration = Duration::from_secs(70);
const MAX_PENDING: usize = 64;
const TYPING_EVERY: Duration = Duration::from_secs(2);

/// Close codes the client acts on.
const CLOSE_UNSUPPORTED_DATA: u16 = 1003;
const CLOSE_INVALID_PAYLOAD: u16 = 1007;
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_SESSION_ENDED: u16 = 4001;
const CLOSE_TOO_SLOW: u16 = 4008;
const CLOSE_RESTART: u16 = 1012;

#[derive(Deserialize)]
pub struct WsParams {
    /// The last event position the client saw.
    resume_from: Option<i64>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientFrame {
    Send {
        req: Option<String>,
        channel_id: i64,
        client_id: Option<String>,
        #[serde(default)]
        body: String,
        thread_root: Option<i64>,
        #[serde(default)]
        attachments: Vec<String>,
        quote_of: Option<i64>,
        #[serde(default)]
        also_in_channel: bool,
    },
    Edit {
        req: Option<String>,
        message_id: i64,
        body: String,
    },
    Delete {
        req: Option<String>,
        message_id: i64,
    },
    React {
        req: Option<String>,
        message_id: i64,
        emoji: String,
    },
    Read {
        req: Option<String>,
        channel_id: i64,
        seq: i64,
    },
    Typing {
        channel_id: i64,
        thread_root: Option<i64>,
    },
    Presence {
        status: String,
    },
    PresenceSub {
        user_ids: Vec<i64>,
    },
    Ping {
        req: Option<String>,
    },
    CallStart {
        req: Option<String>,
        channel_id: i64,
    },
    CallJoin {
        req: Option<String>,
        call_id: u64,
    },
    CallAnswer {
        call_id: u64,
        sdp: String,
    },
    CallMute {
        call_id: u64,
        muted: bool,
    },
    CallMedia {
        call_id: u64,
        camera: bool,
        screen: bool,
    },
    CallLeave {
        call_id: u64,
    },
    CallDecline {
        call_id: u64,
    },
}

impl ClientFrame {
    /// For a frame that changes something others see (a token that may only read may not send
    /// it): Some, with the request id to answer.
    fn write_req(&self) -> Option<Option<&str>> {
        use ClientFrame as F;
        match self {
            F::Send { req, .. }
            | F::Edit { req, .. }
            | F::Delete { req, .. }
            | F::React { req, .. }
            | F::CallStart { req, .. }
            | F::CallJoin { req, .. } => Some(req.as_deref()),
            F::Typing { .. }
            | F::Presence { .. }
            | F::CallAnswer { .. }
            | F::CallMute { .. }
            | F::CallMedia { .. }
            | F::CallLeave { .. }
            | F::CallDecline { .. } => Some(None),
            F::Read { .. } | F::PresenceSub { .. } | F::Ping { .. } => None,
        }
    }
}

/// `WebSocketUpgrade` with a refused handshake answered in the common error shape.
pub struct WebSocketUpgrade(axum::extract::ws::WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(WebSocketUpgrade)
            .map_err(handshake_rejection)
    }
}

fn handshake_rejection(r: WebSocketUpgradeRejection) -> ApiError {
    use WebSocketUpgradeRejection as R;
    let message = match &r {
        R::InvalidWebSocketVersionHeader(_) => {
            // RFC 6455 4.4: name the version we speak so the client can retry with it.
            return ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "websocket-version",
                "this server speaks WebSocket version 13",
            )
            .with_header(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
        }
        R::MethodNotGet(_) | R::MethodNotConnect(_) => {
            return ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "open the WebSocket with GET",
            )
            .with_header(header::ALLOW, HeaderValue::from_static("GET"));
        }
        R::ConnectionNotUpgradable(_) => {
            return ApiError::new(
                StatusCode::UPGRADE_REQUIRED,
                "upgrade-required",
                "this connection cannot be upgraded to a WebSocket",
            )
        }
        R::InvalidConnectionHeader(_) | R::InvalidUpgradeHeader(_) => {
            "this address is a WebSocket: send Connection: upgrade and Upgrade: websocket"
        }
        R::InvalidProtocolPseudoheader(_) => "the :protocol pseudo-header must be websocket",
        R::WebSocketKeyHeaderMissing(_) => "the Sec-WebSocket-Key header is missing",
        _ => "this is not a valid WebSocket handshake",
    };
    ApiError::new(StatusCode::BAD_REQUEST, "websocket-required", message)
}

pub async fn upgrade(
    State(s): State<AppState>,
    who: CurrentUser,
    headers: HeaderMap,
    Query(params): Query<WsParams>,
    hold: Option<axum::Extension<super::ConnectionHold>>,
    WebSocketUpgrade(ws): WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // Browsers send Origin on WebSocket handshakes; refuse other sites (cross-site hijacking).
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !origin.eq_ignore_ascii_case(&format!("https://{host}")) {
            return Err(ApiError::forbidden("cross-site WebSocket refused"));
        }
    }
    let max = s.config.limits.max_ws_frame;
    // Small buffers: idle connections must stay cheap (tens of thousands per server).
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(max * 4)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| async move {
            // The socket outlives the HTTP connection it came from: it keeps counting against
            // the listener's and its address's connection limits until it closes.
            let _hold = hold;
            connection(socket, s, who, params.resume_from).await
        }))
}

/// The close frame for a frame the socket layer refused while reading, if the peer is still
/// there to receive one.
fn read_error_close(e: &axum::Error) -> Option<(u16, &'static str)> {
    use tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
    let inner = std::error::Error::source(e)?.downcast_ref::<WsError>()?;
    match inner {
        WsError::Capacity(CapacityError::MessageTooLong { .. }) => {
            Some((CLOSE_TOO_BIG, "frame larger than limits.max_ws_frame"))
        }
        WsError::Capacity(_) => Some((CLOSE_TOO_BIG, "frame too large")),
        WsError::Utf8(_) => Some((CLOSE_INVALID_PAYLOAD, "text frame is not valid UTF-8")),
        WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake
            | ProtocolError::SendAfterClosing
            | ProtocolError::ReceivedAfterClosing,
        ) => None,
        WsError::Protocol(_) => Some((CLOSE_PROTOCOL_ERROR, "WebSocket protocol error")),
        _ => None,
    }
}

type Pending = Pin<Box<dyn Future<Output = String> + Send>>;

/// The calls this connection is in. Leaving the connection leaves them.
struct CallSession {
    calls: crate::calls::Calls,
    peers: HashMap<u64, crate::calls::PeerId>,
    signal: tokio::sync::mpsc::UnboundedSender<String>,
}

impl Drop for CallSession {
    fn drop(&mut self) {
        // A lost connection is not a hang-up: the other side of a one-to-one call stays and
        // this one may rejoin.
        for (_, peer) in self.peers.drain() {
            self.calls.leave(peer, false);
        }
    }
}

/// An error answer for the client. A server-side failure is logged here with its cause, as
/// the HTTP layer logs 5xx answers: a WebSocket request never fails silently.
fn error_frame(req: Option<&str>, err: ApiError) -> String {
    if let Some(cause) = &err.internal {
        tracing::error!(code = err.code, cause = %cause, "a WebSocket request failed");
    }
    let mut frame = json!({"type": "error", "req": req, "code": err.code, "message": err.message});
    if let Some(field) = err.field() {
        frame["field"] = field.into();
    }
    let params = err.params();
    if !params.is_empty() {
        frame["params"] = params.into();
    }
    frame.to_string()
}

fn chat_error_frame(req: Option<&str>, err: ChatError) -> String {
    error_frame(req, ApiError::from(err))
}

/// How long one write to the socket may take. A client that stops reading fills the TCP send
/// buffer and a write then waits for it; past this the client counts as too far behind.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a Close frame may take to go out (ours, or the echo of the client's).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a connection stops before the client closes it.
enum Stop {
    /// The socket failed or the client went away: nothing more can be sent.
    Gone,
    /// A write did not complete within `SEND_TIMEOUT`.
    Stuck,
    /// The hub let go of the connection.
    Ended(EndReason),
    /// The client sent a frame the server refuses: close with this code and reason.
    Refused(u16, &'static str),
}

/// Sends one message unless the hub ends the connection first or the socket stays blocked
/// longer than `SEND_TIMEOUT`; a slow reader never holds the task (and what it has queued).
async fn send_msg(
    socket: &mut WebSocket,
    sub: &mut Subscription,
    msg: Message,
) -> Result<(), Stop> {
    tokio::select! {
        biased;
        reason = sub.ended() => Err(Stop::Ended(reason)),
        sent = tokio::time::timeout(SEND_TIMEOUT, socket.send(msg)) => match sent {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Stop::Gone),
            Err(_) => Err(Stop::Stuck),
        },
    }
}

async fn send_text(
    socket: &mut WebSocket,
    sub: &mut Subscription,
    text: impl Into<Utf8Bytes>,
) -> Result<(), Stop> {
    send_msg(socket, sub, Message::Text(text.into())).await
}

/// Sends a Close frame if the socket takes it quickly; the connection is dropped either way.
async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }));
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.send(frame)).await;
}

/// Ends the connection as `stop` says. Returning drops the socket and the subscription, which
/// releases everything queued for this client.
async fn finish(socket: &mut WebSocket, stop: Stop, who: &CurrentUser) {
    match stop {
        Stop::Gone => {}
        Stop::Refused(code, reason) => close(socket, code, reason).await,
        Stop::Stuck => {
            tracing::info!(
                user = who.user.id,
                "closing a WebSocket whose client stopped reading"
            );
            // The socket is stuck, so this Close rarely gets out; the client sees the TCP close.
            close(socket, CLOSE_TOO_SLOW, "too slow; resume").await;
        }
        Stop::Ended(EndReason::TooSlow) => close(socket, CLOSE_TOO_SLOW, "too slow; resume").await,
        Stop::Ended(EndReason::Resume) => close(socket, CLOSE_TOO_SLOW, "resume").await,
        Stop::Ended(EndReason::SessionEnded) => {
            close(socket, CLOSE_SESSION_ENDED, "session ended").await
        }
    }
}

/// Sends what the client missed; returns the position it is now at and how many events it got,
/// or `None` if it must reload.
async fn replay(
    socket: &mut WebSocket,
    sub: &mut Subscription,
    s: &AppState,
    user_id: i64,
    from: i64,
    head: i64,
) -> Result<Option<Replayed>, Stop> {
    let rows = s
        .store
        .read(move |c| {
            let tail = q::event_tail(c)?;
            if from > head || (tail > 0 && from + 1 < tail) {
                return Ok(None);
            }
            q::events_for(c, user_id, from, head, MAX_REPLAY + 1).map(Some)
        })
        .await;
    let rows = match rows {
        Ok(Some(rows)) => rows,
        Ok(None) => return Ok(None),
        Err(e) => {
            // The log could not be read past some point: what was read is lost too, so the
            // client reloads instead of being dropped on every attempt.
            tracing::error!(error = %e, user = user_id, from, "the event log could not be read for a replay");
            return Ok(None);
        }
    };
    if rows.events.len() as i64 > MAX_REPLAY {
        return Ok(None);
    }
    let sent = rows.events.len();
    for (pos, payload) in rows.events {
        send_text(socket, sub, event_frame(pos, &payload)).await?;
    }
    Ok(Some(Replayed {
        sent,
        skipped: rows.skipped,
    }))
}

struct Replayed {
    sent: usize,
    /// Events the client should have had that could not be read (damaged rows, logged).
    skipped: usize,
}

/// Counts a WebSocket task for as long as it holds its socket.
struct TaskGauge(Arc<crate::metrics::Metrics>);

impl TaskGauge {
    fn new(m: &Arc<crate::metrics::Metrics>) -> TaskGauge {
        m.websocket_tasks.fetch_add(1, Ordering::Relaxed);
        TaskGauge(m.clone())
    }
}

impl Drop for TaskGauge {
    fn drop(&mut self) {
        self.0.websocket_tasks.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn connection(socket: WebSocket, s: AppState, who: CurrentUser, resume_from: Option<i64>) {
    let _gauge = TaskGauge::new(&s.metrics);
    let mut socket = socket;
    let actor = Actor {
        id: who.user.id,
        is_admin: who.user.is_admin,
    };
    let hub = s.chat.hub().clone();
    // Subscribe before reading the head: anything committed later arrives live, anything
    // earlier is replayed, and the overlap is skipped by position.
    let mut sub = hub.connect(actor.id, &who.session.id);
    let Ok(head) = s.store.read(q::event_head).await else {
        close(&mut socket, 1011, "server error").await;
        return;
    };
    if let Err(stop) = run(&mut socket, &mut sub, &s, &who, actor, head, resume_from).await {
        finish(&mut socket, stop, &who).await;
    }
}

/// Serves one connection until it ends. `Ok` when it ended on its own terms (the client closed,
/// the server is stopping, pings went unanswered) and the socket needs nothing more.
async fn run(
    socket: &mut WebSocket,
    sub: &mut Subscription,
    s: &AppState,
    who: &CurrentUser,
    actor: Actor,
    head: i64,
    resume_from: Option<i64>,
) -> Result<(), Stop> {
    let mut last_sent = head;
    let mut replayed = 0;
    let mut skipped = 0;
    let mut resync = false;
    if let Some(from) = resume_from {
        match replay(socket, sub, s, actor.id, from, head).await? {
            Some(r) => {
                replayed = r.sent;
                skipped = r.skipped;
                // What was skipped may have been a message or a membership change: only a
                // reload over HTTP brings the client's state back in line.
                resync = r.skipped > 0;
            }
            None => resync = true,
        }
    }
    let ready = json!({
        "type": "ready", "v": PROTOCOL_VERSION, "position": head, "replayed": replayed,
        "skipped": skipped, "resync": resync, "user_id": actor.id, "session_id": who.session.id,
    });
    send_text(socket, sub, ready.to_string()).await?;

    let mut shutdown = s.shutdown.clone();
    let mut pending: FuturesOrdered<Pending> = FuturesOrdered::new();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let mut typing_sent: HashMap<i64, Instant> = HashMap::new();
    let (signal, mut signals) = tokio::sync::mpsc::unbounded_channel::<String>();
    let mut calls = CallSession {
        calls: s.calls.clone(),
        peers: HashMap::new(),
        signal,
    };

    loop {
        tokio::select! {
            Some(text) = signals.recv() => send_text(socket, sub, text).await?,
            next = sub.next() => match next {
                Next::Frame(frame) => {
                    if frame.pos.is_some_and(|p| p <= last_sent) {
                        continue;
                    }
                    if let Some(p) = frame.pos {
                        last_sent = p;
                    }
                    let born = frame.born;
                    let durable = frame.pos.is_some();
                    send_text(socket, sub, frame.text).await?;
                    if durable {
                        s.metrics.delivered(born.elapsed());
                    }
                }
                Next::Ended(reason) => return Err(Stop::Ended(reason)),
            },
            Some(reply) = pending.next(), if !pending.is_empty() => {
                send_text(socket, sub, reply).await?;
            }
            msg = socket.recv() => {
                let msg = match msg {
                    Some(Ok(m)) => m,
                    // The client sent something the socket layer refuses: say why in a close
                    // frame instead of dropping the connection.
                    Some(Err(e)) => {
                        return Err(match read_error_close(&e) {
                            Some((code, reason)) => Stop::Refused(code, reason),
                            None => Stop::Gone,
                        })
                    }
                    None => return Err(Stop::Gone),
                };
                last_heard = Instant::now();
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => {
                        // The WebSocket layer has queued the echo of the client's Close (same
                        // code); flushing sends it, completing the closing handshake.
                        let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.flush()).await;
                        return Ok(());
                    }
                    Message::Binary(_) => {
                        return Err(Stop::Refused(CLOSE_UNSUPPORTED_DATA, "frames are JSON text"));
                    }
                    _ => continue,
                };
                let frame: ClientFrame = match serde_json::from_str(text.as_str()) {
                    Ok(f) => f,
                    Err(e) => {
                        let err = ApiError::new(
                            axum::http::StatusCode::BAD_REQUEST,
                            "malformed-frame",
                            format!("the frame was not understood: {e}"),
                        );
                        send_text(socket, sub, error_frame(None, err)).await?;
                        continue;
                    }
                };
                if pending.len() >= MAX_PENDING {
                    let err = ApiError::new(
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        "too-many-pending",
                        "wait for answers before sending more requests",
                    );
                    send_text(socket, sub, error_frame(None, err)).await?;
                    continue;
                }
                if let Some(req) = frame.write_req().filter(|_| !who.may_write()) {
                    let err = ApiError::new(
                        axum::http::StatusCode::FORBIDDEN,
                        "insufficient-scope",
                        "this token may only read",
                    );
                    send_text(socket, sub, error_frame(req, err)).await?;
                    continue;
                }
                if let Some(immediate) = handle(s, actor, sub, frame, &mut pending, &mut typing_sent, &mut calls) {
                    send_text(socket, sub, immediate).await?;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > IDLE_LIMIT {
                    close(socket, 1001, "no answer to pings").await;
                    return Ok(());
                }
                send_msg(socket, sub, Message::Ping(Default::default())).await?;
            }
            _ = shutdown.changed() => {
                close(socket, CLOSE_RESTART, "server restarting").await;
                return Ok(());
            }
        }
    }
}

fn req_limit(req: Option<String>) -> Option<String> {
    req.map(|r| r.chars().take(64).collect())
}

/// Starts a request. Writes are queued now and answered through `pending`; quick requests
/// return their answer directly.
fn handle(
    s: &AppState,
    actor: Actor,
    sub: &Subscription,
    frame: ClientFrame,
    pending: &mut FuturesOrdered<Pending>,
    typing_sent: &mut HashMap<i64, Instant>,
    calls: &mut CallSession,
) -> Option<String> {
    let chat = &s.chat;
    match frame {
        ClientFrame::Send {
            req,
            channel_id,
            client_id,
            body,
            thread_root,
            attachments,
            quote_of,
            also_in_channel,
        } => {
            let req = req_limit(req);
            let draft = crate::chat::Draft {
                client_id,
                body,
                thread_root,
                attachments,
                quote_of,
                also_in_channel,
            };
            let fut = chat.send(actor, channel_id, draft);
            pending.push_back(Box::pin(async move { message_reply(req, fut.await) }));
            None
        }
        ClientFrame::Edit {
            req,
            message_id,
            body,
        } => {
            let req = req_limit(req);
            let fut = chat.edit(actor, message_id, body);
            pending.push_back(Box::pin(async move { message_reply(req, fut.await) }));
            None
        }
        ClientFrame::Delete { req, message_id } => {
            let req = req_limit(req);
            let fut = chat.delete(actor, message_id);
            pending.push_back(Box::pin(async move { message_reply(req, fut.await) }));
            None
        }
        ClientFrame::React {
            req,
            message_id,
            emoji,
        } => {
            let req = req_limit(req);
            let fut = chat.react(actor, message_id, emoji);
            pending.push_back(Box::pin(async move { message_reply(req, fut.await) }));
            None
        }
        ClientFrame::Read {
            req,
            channel_id,
            seq,
        } => {
            let req = req_limit(req);
            let fut = chat.mark_read(actor, channel_id, seq);
            pending.push_back(Box::pin(async move {
                match fut.await {
                    Ok(seq) => json!({"type": "ack", "req": req, "seq": seq}).to_string(),
                    Err(e) => chat_error_frame(req.as_deref(), e),
                }
            }));
            None
        }
        ClientFrame::Typing {
            channel_id,
            thread_root,
        } => {
            let now = Instant::now();
            let recent = typing_sent
                .get(&channel_id)
                .is_some_and(|t| now.duration_since(*t) < TYPING_EVERY);
            if recent {
                return None;
            }
            if typing_sent.len() > 256 {
                typing_sent.clear();
            }
            typing_sent.insert(channel_id, now);
            chat.typing(actor, channel_id, thread_root)
                .err()
                .map(|e| chat_error_frame(None, e))
        }
        ClientFrame::Presence { status } => {
            let away = match status.as_str() {
                "away" => true,
                "online" => false,
                _ => {
                    return Some(error_frame(
                        None,
                        ApiError::invalid(
                            crate::problem::Problem::new(
                                "bad-choice",
                                "status is \"online\" or \"away\"",
                            )
                            .field("status"),
                        ),
                    ))
                }
            };
            chat.hub().set_activity(sub.id, away);
            None
        }
        ClientFrame::PresenceSub { mut user_ids } => {
            user_ids.truncate(1000);
            let states: Vec<_> = chat
                .hub()
                .watch_presence(sub.id, user_ids)
                .into_iter()
                .map(|(u, p): (i64, Presence)| json!({"user_id": u, "status": p}))
                .collect();
            Some(json!({"type": "presence_state", "users": states}).to_string())
        }
        ClientFrame::Ping { req } => {
            Some(json!({"type": "pong", "req": req_limit(req)}).to_string())
        }
        ClientFrame::CallStart { req, channel_id } => {
            let req = req_limit(req);
            let c = calls.calls.clone();
            pending.push_back(Box::pin(async move {
                call_reply(req, c.start(actor, channel_id).await)
            }));
            None
        }
        ClientFrame::CallJoin { req, call_id } => {
            let req = req_limit(req);
            if let Some(peer) = calls.peers.get(&call_id).copied() {
                if calls.calls.holds(peer) {
                    let view = calls.calls.view_of(peer, actor.id);
                    return Some(call_reply(
                        req,
                        view.ok_or(crate::calls::CallError::NotFound),
                    ));
                }
                // A join through another node that failed, or a call that ended: try afresh.
                calls.peers.remove(&call_id);
            }
            match calls.calls.join(actor, call_id, calls.signal.clone()) {
                crate::calls::Joining::Now(Ok((peer, view))) => {
                    calls.peers.insert(call_id, peer);
                    Some(call_reply(req, Ok(view)))
                }
                crate::calls::Joining::Now(Err(e)) => Some(call_reply(req, Err(e))),
                crate::calls::Joining::Elsewhere { alias, joined } => {
                    calls.peers.insert(call_id, alias);
                    pending.push_back(Box::pin(async move { call_reply(req, joined.await) }));
                    None
                }
            }
        }
        ClientFrame::CallAnswer { call_id, sdp } => {
            if let Some(peer) = calls.peers.get(&call_id) {
                calls.calls.answer(*peer, sdp);
            }
            None
        }
        ClientFrame::CallMute { call_id, muted } => {
            if let Some(peer) = calls.peers.get(&call_id) {
                calls.calls.mute(*peer, muted);
            }
            None
        }
        ClientFrame::CallMedia {
            call_id,
            camera,
            screen,
        } => {
            if let Some(peer) = calls.peers.get(&call_id) {
                calls.calls.media(*peer, camera, screen);
            }
            None
        }
        ClientFrame::CallLeave { call_id } => {
            if let Some(peer) = calls.peers.remove(&call_id) {
                calls.calls.leave(peer, true);
            }
            None
        }
        ClientFrame::CallDecline { call_id } => calls
            .calls
            .decline(actor, call_id)
            .err()
            .map(|e| error_frame(None, e.into())),
    }
}

fn call_reply(
    req: Option<String>,
    r: Result<crate::calls::CallView, crate::calls::CallError>,
) -> String {
    match r {
        Ok(call) => json!({"type": "call", "req": req, "call": call}).to_string(),
        Err(e) => error_frame(req.as_deref(), e.into()),
    }
}

fn message_reply(
    req: Option<String>,
    r: Result<crate::chat::protocol::MessageView, ChatError>,
) -> String {
    match r {
        Ok(m) => json!({"type": "ack", "req": req, "message": m}).to_string(),
        Err(e) => chat_error_frame(req.as_deref(), e),
    }
}
