//! The real-time connection at `/api/v1/ws` (protocol in `docs/protocol.md`).
//!
//! One task per connection: it replays what the client missed from the event log, then forwards
//! live frames from its hub subscription and handles the client's requests. Requests are queued
//! for commit in arrival order and their answers are sent in the same order.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::stream::{FuturesOrdered, StreamExt};
use serde::Deserialize;
use serde_json::json;

use super::error::Query;
use super::{ApiError, AppState, CurrentUser};
use crate::chat::protocol::event_frame;
use crate::chat::{Actor, ChatError};
use crate::hub::Presence;
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
        .on_upgrade(move |socket| connection(socket, s, who, params.resume_from)))
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
        for (_, peer) in self.peers.drain() {
            self.calls.leave(peer);
        }
    }
}

fn error_frame(req: Option<&str>, err: ApiError) -> String {
    json!({"type": "error", "req": req, "code": err.code, "message": err.message}).to_string()
}

fn chat_error_frame(req: Option<&str>, err: ChatError) -> String {
    error_frame(req, ApiError::from(err))
}

async fn send_text(socket: &mut WebSocket, text: impl Into<Utf8Bytes>) -> bool {
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn close(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// Sends what the client missed; returns the position it is now at, or `None` if it must reload.
async fn replay(
    socket: &mut WebSocket,
    s: &AppState,
    user_id: i64,
    from: i64,
    head: i64,
) -> Result<Option<(i64, usize)>, ()> {
    let rows = s
        .store
        .read(move |c| {
            let tail = q::event_tail(c)?;
            if from > head || (tail > 0 && from + 1 < tail) {
                return Ok(None);
            }
            q::events_for(c, user_id, from, head, MAX_REPLAY + 1).map(Some)
        })
        .await
        .map_err(|_| ())?;
    let Some(rows) = rows else {
        return Ok(None);
    };
    if rows.len() as i64 > MAX_REPLAY {
        return Ok(None);
    }
    let n = rows.len();
    for (pos, payload) in rows {
        if !send_text(socket, event_frame(pos, &payload)).await {
            return Err(());
        }
    }
    Ok(Some((head, n)))
}

async fn connection(
    mut socket: WebSocket,
    s: AppState,
    who: CurrentUser,
    resume_from: Option<i64>,
) {
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
    let mut last_sent = head;
    let mut replayed = 0;
    let mut resync = false;
    if let Some(from) = resume_from {
        match replay(&mut socket, &s, actor.id, from, head).await {
            Ok(Some((pos, n))) => {
                last_sent = pos;
                replayed = n;
            }
            Ok(None) => resync = true,
            Err(()) => return,
        }
    }
    let ready = json!({
        "type": "ready", "v": PROTOCOL_VERSION, "position": head, "replayed": replayed,
        "resync": resync, "user_id": actor.id, "session_id": who.session.id,
    });
    if !send_text(&mut socket, ready.to_string()).await {
        return;
    }

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
            Some(text) = signals.recv() => {
                if !send_text(&mut socket, text).await {
                    return;
                }
            }
            frame = sub.rx.recv() => match frame {
                Some(frame) => {
                    if frame.pos.is_some_and(|p| p <= last_sent) {
                        continue;
                    }
                    if let Some(p) = frame.pos {
                        last_sent = p;
                    }
                    let born = frame.born;
                    let durable = frame.pos.is_some();
                    if !send_text(&mut socket, frame.text).await {
                        return;
                    }
                    if durable {
                        s.metrics.delivered(born.elapsed());
                    }
                }
                None => {
                    // The hub let go of us: the session was revoked, or we fell too far behind.
                    let alive = s.auth.authenticate_session_id(&who.session.id).await;
                    if alive {
                        close(&mut socket, CLOSE_TOO_SLOW, "too slow; resume").await;
                    } else {
                        close(&mut socket, CLOSE_SESSION_ENDED, "session ended").await;
                    }
                    return;
                }
            },
            Some(reply) = pending.next(), if !pending.is_empty() => {
                if !send_text(&mut socket, reply).await {
                    return;
                }
            }
            msg = socket.recv() => {
                let msg = match msg {
                    Some(Ok(m)) => m,
                    Some(Err(e)) => {
                        // The client sent something the socket layer refuses: say why in a
                        // close frame instead of dropping the connection.
                        if let Some((code, reason)) = read_error_close(&e) {
                            close(&mut socket, code, reason).await;
                        }
                        return;
                    }
                    None => return,
                };
                last_heard = Instant::now();
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => return,
                    Message::Binary(_) => {
                        close(&mut socket, CLOSE_UNSUPPORTED_DATA, "frames are JSON text").await;
                        return;
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
                        if !send_text(&mut socket, error_frame(None, err)).await { return; }
                        continue;
                    }
                };
                if pending.len() >= MAX_PENDING {
                    let err = ApiError::new(
                        axum::http::StatusCode::TOO_MANY_REQUESTS,
                        "too-many-pending",
                        "wait for answers before sending more requests",
                    );
                    if !send_text(&mut socket, error_frame(None, err)).await { return; }
                    continue;
                }
                if let Some(immediate) = handle(&s, actor, &sub, frame, &mut pending, &mut typing_sent, &mut calls) {
                    if !send_text(&mut socket, immediate).await { return; }
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > IDLE_LIMIT {
                    close(&mut socket, 1001, "no answer to pings").await;
                    return;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            _ = shutdown.changed() => {
                close(&mut socket, CLOSE_RESTART, "server restarting").await;
                return;
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
    sub: &crate::hub::Subscription,
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
        } => {
            let req = req_limit(req);
            let fut = chat.send(actor, channel_id, client_id, body, thread_root, attachments);
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
                        ApiError::bad_request("status is \"online\" or \"away\""),
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
            if calls.peers.contains_key(&call_id) {
                let view = calls
                    .calls
                    .list(actor.id)
                    .into_iter()
                    .find(|c| c.id == call_id);
                return Some(match view {
                    Some(v) => call_reply(req, Ok(v)),
                    None => call_reply(req, Err(crate::calls::CallError::NotFound)),
                });
            }
            let joined = calls.calls.join(actor, call_id, calls.signal.clone());
            Some(match joined {
                Ok((peer, view)) => {
                    calls.peers.insert(call_id, peer);
                    call_reply(req, Ok(view))
                }
                Err(e) => call_reply(req, Err(e)),
            })
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
                calls.calls.leave(peer);
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
