//! The link port (a listener of its own, client certificates required) and the dialer that keeps
//! one HTTP/2 connection per link open, pulling and pushing batches over it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

use super::wire::{self, AcceptAnswer, AcceptRequest, Batch, PullRequest, PushAnswer};
use super::{LinkError, Links};
use crate::config::HttpListen;
use crate::pki::CertResolver;
use crate::store::links::{self as q, LinkRow};

/// Connections the link port holds at once: links are few; a flood must not grow without end.
const MAX_CONNECTIONS: usize = 64;
/// How long a pull may wait for news before answering empty.
const MAX_WAIT_MS: u64 = 25_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// HTTP/2 pings: a link that does not answer one within this is taken for cut. On a 64 kbit/s
/// link a ping's answer may wait behind a whole batch (tens of kilobytes, seconds).
const KEEPALIVE: Duration = Duration::from_secs(20);
const PING_EVERY: Duration = Duration::from_secs(5);
/// The longest wait between attempts to reach a site that does not answer.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// A request that takes longer than this (a stalled link) ends the connection; sync resumes.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The CA a connection's peer presented (fingerprint and DER).
#[derive(Clone)]
struct PeerCa(String, Vec<u8>);

/// Opens the link port once; later calls return its address.
pub async fn ensure_listening(links: &Links) -> Result<SocketAddr, LinkError> {
    let _guard = BIND.lock().await;
    if let Some(addr) = links.listening() {
        return Ok(addr);
    }
    let HttpListen::Addr(addr) = links.inner.config.listen else {
        return Err(LinkError::Off);
    };
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        // Said once: the supervisor tries again every second.
        if !BIND_FAILED.swap(true, std::sync::atomic::Ordering::Relaxed) {
            tracing::error!(%addr, error = %e, "the link port could not be opened");
        }
        LinkError::Unreachable(format!("the link port {addr} could not be opened: {e}"))
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| LinkError::Unreachable(e.to_string()))?;
    let tls = super::tls::server_config(links.inner.resolver.clone())
        .map_err(|e| LinkError::Unreachable(e.to_string()))?;
    *links
        .inner
        .listening
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(bound);
    tracing::info!(addr = %bound, "link port open");
    tokio::spawn(accept_loop(
        links.clone(),
        listener,
        tokio_rustls::TlsAcceptor::from(Arc::new(tls)),
    ));
    Ok(bound)
}

/// One bind at a time per process.
static BIND: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
static BIND_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn router(links: Links) -> Router {
    Router::new()
        .route("/link/v1/accept", post(accept))
        .route("/link/v1/pull", post(pull))
        .route("/link/v1/push", post(push))
        .layer(DefaultBodyLimit::max(wire::MAX_COMPRESSED))
        .with_state(links)
}

async fn accept_loop(links: Links, listener: TcpListener, tls: tokio_rustls::TlsAcceptor) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let app = router(links.clone());
    let mut shutdown = links.inner.shutdown.clone();
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            break;
        };
        let (tcp, peer) = tokio::select! {
            _ = shutdown.changed() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "link accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let (tls, app, mut shutdown) = (tls.clone(), app.clone(), shutdown.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let stream = match tokio::time::timeout(CONNECT_TIMEOUT, tls.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    tracing::info!(%peer, error = %e, "a link connection failed its handshake");
                    return;
                }
                Err(_) => return,
            };
            let Some((fp, ca)) = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(super::tls::peer_ca_fingerprint)
            else {
                return;
            };
            let who = PeerCa(fp, ca);
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(who.clone());
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
            let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .keep_alive_interval(PING_EVERY)
                .keep_alive_timeout(KEEPALIVE)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

/// What the link port answers when it refuses: a status and a reason for the other side's log.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

impl From<LinkError> for Refusal {
    fn from(e: LinkError) -> Self {
        match e {
            LinkError::Refused(r) => Refusal(StatusCode::UNPROCESSABLE_ENTITY, r),
            LinkError::NotFound => Refusal(StatusCode::FORBIDDEN, "not linked".into()),
            other => {
                tracing::error!(error = %other, "a link request failed");
                Refusal(StatusCode::SERVICE_UNAVAILABLE, "try again later".into())
            }
        }
    }
}

/// The link a request comes from: its CA must be a linked site's, and the link not paused.
async fn linked(links: &Links, who: &PeerCa) -> Result<LinkRow, Refusal> {
    let fp = who.0.clone();
    let row = links
        .store()
        .read(move |c| q::link_by_fingerprint(c, &fp))
        .await
        .map_err(|e| Refusal::from(LinkError::Store(e)))?;
    match row {
        Some(r) if !r.paused => Ok(r),
        Some(_) => Err(Refusal(StatusCode::FORBIDDEN, "the link is paused".into())),
        None => {
            tracing::info!(ca = %who.0, "refused a site that is not linked");
            Err(Refusal(StatusCode::FORBIDDEN, "not linked".into()))
        }
    }
}

async fn accept(
    State(links): State<Links>,
    Extension(who): Extension<PeerCa>,
    body: Bytes,
) -> Result<Json<AcceptAnswer>, Refusal> {
    let req: AcceptRequest = serde_json::from_slice(&body)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, format!("malformed: {e}")))?;
    let key = wire::unb64(&req.key)
        .filter(|k| k.len() == 32)
        .ok_or_else(|| Refusal(StatusCode::BAD_REQUEST, "no usable signing key".into()))?;
    if req.site.len() != 32 || !req.site.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Refusal(StatusCode::BAD_REQUEST, "bad site id".into()));
    }
    if req.site == links.identity().site {
        return Err(Refusal(StatusCode::BAD_REQUEST, "that is this site".into()));
    }
    let name: String = crate::text::strip_hidden(&req.name)
        .trim()
        .chars()
        .take(64)
        .collect();
    let hash = super::secret_hash(&req.secret);
    let ca_pem = crate::pki::der_to_pem(&who.1);
    let (fp, site) = (who.0.clone(), req.site.clone());
    let taken = links
        .store()
        .write(move |c| {
            if !q::take_invite(c, &hash)? {
                return Ok(None);
            }
            let id = q::insert_link(
                c,
                &q::NewLink {
                    site_id: &site,
                    name: &name,
                    ca_pem: &ca_pem,
                    ca_fp: &fp,
                    addresses: &[],
                    sign_key: &key,
                },
            )?;
            crate::store::audit::append(
                c,
                &crate::store::audit::Entry {
                    actor: "link".into(),
                    action: "link-accepted",
                    target: format!("link {id} ({name})"),
                    details: format!("site {site}, CA {fp}"),
                    ..Default::default()
                },
            )?;
            Ok(Some(id))
        })
        .await;
    match taken {
        Ok(Some(id)) => {
            tracing::info!(link = id, site = %req.site, "a site accepted this site's invitation");
            Ok(Json(AcceptAnswer {
                site: links.identity().site.clone(),
                name: links.identity().name.clone(),
                key: links.identity().public_key(),
            }))
        }
        Ok(None) => {
            tracing::warn!(ca = %who.0, "refused a pairing: the invitation is unknown, used or expired");
            Err(Refusal(
                StatusCode::FORBIDDEN,
                "the invitation is unknown, used or expired".into(),
            ))
        }
        Err(crate::store::StoreError::Conflict(_)) => Err(Refusal(
            StatusCode::CONFLICT,
            "this site is linked to that site already".into(),
        )),
        Err(e) => Err(LinkError::Store(e).into()),
    }
}

async fn pull(
    State(links): State<Links>,
    Extension(who): Extension<PeerCa>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let mut link = linked(&links, &who).await?;
    let req: PullRequest = serde_json::from_slice(&body)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, format!("malformed: {e}")))?;
    let id = link.id;
    let after = req.after.max(0);
    // The position asked for is what the other side has applied: everything before is done.
    let _ = links
        .store()
        .write(move |c| {
            // Never past what exists: the retention keeps what links have not acknowledged.
            let head = crate::store::chat::event_head(c)?;
            q::advance_sent(c, id, after.min(head))?;
            q::record_contact(c, id, None)
        })
        .await;
    links.connection_opened(id);
    let _open = Opened(links.clone(), id);
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(req.wait_ms.min(MAX_WAIT_MS));
    loop {
        let batch = links.batch_for(&link, after).await?;
        let news = !batch.is_empty() || batch.upto > after;
        if news || tokio::time::Instant::now() >= deadline {
            return Ok((
                [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
                wire::encode(&batch),
            )
                .into_response());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // A link removed or paused meanwhile ends the wait at once.
        link = linked(&links, &who).await?;
    }
}

struct Opened(Links, i64);

impl Drop for Opened {
    fn drop(&mut self) {
        self.0.connection_closed(self.1);
    }
}

async fn push(
    State(links): State<Links>,
    Extension(who): Extension<PeerCa>,
    body: Bytes,
) -> Result<Json<PushAnswer>, Refusal> {
    let link = linked(&links, &who).await?;
    let batch: Batch = wire::decode(&body).map_err(|reason| {
        tracing::warn!(link = link.id, site = %link.name, %reason, "refused a batch");
        Refusal(StatusCode::BAD_REQUEST, reason)
    })?;
    let upto = batch.upto;
    apply(&links, &link, batch).await?;
    Ok(Json(PushAnswer { applied: upto }))
}

/// Applies a batch from a link's other side, logging a refusal with its reason.
async fn apply(links: &Links, link: &LinkRow, batch: Batch) -> Result<(), LinkError> {
    if batch.site != link.site_id {
        let reason = "the batch names another site than the link's".to_string();
        tracing::warn!(link = link.id, site = %link.name, %reason, "refused a batch");
        return Err(LinkError::Refused(reason));
    }
    match links
        .chat()
        .apply_from_link(link.clone(), links.identity().site.clone(), batch)
        .await
    {
        Ok(()) => Ok(()),
        Err(crate::chat::ChatError::Invalid(p)) => {
            let reason = p.message;
            tracing::warn!(link = link.id, site = %link.name, %reason, "refused a batch");
            Err(LinkError::Refused(reason))
        }
        Err(e) => Err(LinkError::Unreachable(e.to_string())),
    }
}

type Sender = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

/// A TLS connection to the first address that answers, pinned to `fingerprint`, as HTTP/2. Also
/// returns the CA the other side presented.
async fn connect(
    resolver: &Arc<CertResolver>,
    addresses: &[String],
    fingerprint: &str,
) -> Result<(Sender, String, Vec<u8>), LinkError> {
    let config = super::tls::client_config(fingerprint, resolver.clone())
        .map_err(|e| LinkError::Unreachable(e.to_string()))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut last = String::from("no address");
    for address in addresses {
        let Ok(addr) = address.parse::<SocketAddr>() else {
            last = format!("{address:?} is not an IP address and port");
            continue;
        };
        let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                last = format!("{addr}: {e}");
                continue;
            }
            Err(_) => {
                last = format!("{addr}: timed out");
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
        let tls = match tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, tcp)).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => {
                last = format!("{addr}: {e}");
                continue;
            }
            Err(_) => {
                last = format!("{addr}: the handshake timed out");
                continue;
            }
        };
        let ca = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|certs| certs.last().map(|c| c.as_ref().to_vec()))
            .unwrap_or_default();
        // Pings find a cut link within seconds, where TCP alone would wait for minutes.
        let (sender, conn) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .keep_alive_interval(PING_EVERY)
            .keep_alive_timeout(KEEPALIVE)
            .keep_alive_while_idle(true)
            .handshake(TokioIo::new(tls))
            .await
            .map_err(|e| LinkError::Unreachable(format!("{addr}: {e}")))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        return Ok((sender, format!("https://{addr}"), ca));
    }
    Err(LinkError::Unreachable(last))
}

async fn call(
    sender: &mut Sender,
    base: &str,
    path: &str,
    body: Vec<u8>,
) -> Result<Bytes, LinkError> {
    let req = hyper::Request::post(format!("{base}{path}"))
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| LinkError::Unreachable(e.to_string()))?;
    sender
        .ready()
        .await
        .map_err(|e| LinkError::Unreachable(e.to_string()))?;
    let res = tokio::time::timeout(REQUEST_TIMEOUT, sender.send_request(req))
        .await
        .map_err(|_| LinkError::Unreachable("the other site stopped answering".into()))?
        .map_err(|e| LinkError::Unreachable(e.to_string()))?;
    let status = res.status();
    let body = tokio::time::timeout(
        REQUEST_TIMEOUT,
        Limited::new(res.into_body(), wire::MAX_COMPRESSED).collect(),
    )
    .await
    .map_err(|_| LinkError::Unreachable("the other site stopped answering".into()))?
    .map_err(|e| LinkError::Unreachable(e.to_string()))?
    .to_bytes();
    if status.is_success() {
        Ok(body)
    } else {
        let reason: String = String::from_utf8_lossy(&body).chars().take(300).collect();
        Err(LinkError::PeerRefused(format!("{status}: {reason}")))
    }
}

/// Pairing: introduces this site to the one that made the invitation. Returns its answer and the
/// CA it presented (PEM).
pub async fn introduce(
    resolver: &Arc<CertResolver>,
    id: &super::Identity,
    inv: &super::Invitation,
) -> Result<(AcceptAnswer, String), LinkError> {
    let (mut sender, base, ca) = connect(resolver, &inv.addresses, &inv.fingerprint).await?;
    let req = AcceptRequest {
        secret: inv.secret.clone(),
        site: id.site.clone(),
        name: id.name.clone(),
        key: id.public_key(),
    };
    let body = serde_json::to_vec(&req).unwrap_or_default();
    let answer = call(&mut sender, &base, "/link/v1/accept", body).await?;
    let answer: AcceptAnswer = serde_json::from_slice(&answer)
        .map_err(|e| LinkError::PeerRefused(format!("a malformed answer: {e}")))?;
    Ok((answer, crate::pki::der_to_pem(&ca)))
}

/// Keeps a link's connection up until `stop`: reconnects with backoff after any failure.
pub async fn dial(links: Links, row: LinkRow, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let outcome = tokio::select! {
            r = session(&links, &row) => r,
            _ = stop.changed() => break,
        };
        if let Err(e) = outcome {
            tracing::info!(link = row.id, site = %row.name, error = %e, "link interrupted");
            let (id, text) = (row.id, e.to_string());
            let _ = links
                .store()
                .write(move |c| q::record_error(c, id, &text))
                .await;
        } else {
            backoff = Duration::from_millis(500);
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => break,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn session(links: &Links, row: &LinkRow) -> Result<(), LinkError> {
    let (sender, base, _) = connect(&links.inner.resolver, &row.addresses, &row.ca_fp).await?;
    tokio::select! {
        r = pull_loop(links, row.id, sender.clone(), &base) => r,
        r = push_loop(links, row.id, sender, &base) => r,
    }
}

async fn current(links: &Links, id: i64) -> Result<Option<LinkRow>, LinkError> {
    let row = links
        .store()
        .read(move |c| match q::link(c, id) {
            Ok(r) => Ok(Some(r)),
            Err(crate::store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
    Ok(row.filter(|r| !r.paused))
}

async fn pull_loop(
    links: &Links,
    id: i64,
    mut sender: Sender,
    base: &str,
) -> Result<(), LinkError> {
    // Connected once the other side answers (a TLS handshake alone proves nothing: a site that
    // removed the link still completes one), until this loop ends.
    let mut open: Option<Opened> = None;
    loop {
        let Some(row) = current(links, id).await? else {
            return Ok(());
        };
        let req = PullRequest {
            after: row.recv_upto,
            wait_ms: if open.is_some() { 20_000 } else { 0 },
        };
        let body = call(
            &mut sender,
            base,
            "/link/v1/pull",
            serde_json::to_vec(&req).unwrap_or_default(),
        )
        .await?;
        let batch: Batch = wire::decode(&body).map_err(|reason| {
            tracing::warn!(link = id, site = %row.name, %reason, "refused a batch");
            LinkError::Refused(reason)
        })?;
        if open.is_none() {
            links.connection_opened(id);
            open = Some(Opened(links.clone(), id));
            tracing::info!(link = id, site = %row.name, "link connected");
        }
        if batch.upto < row.recv_upto {
            return Err(LinkError::Refused("the batch goes backwards".into()));
        }
        let head = batch.head;
        if batch.is_empty() && batch.upto == row.recv_upto {
            if !super::hlc::is_far_future(batch.hlc) {
                super::hlc::observe(batch.hlc);
            }
            let _ = links
                .store()
                .write(move |c| q::record_contact(c, id, Some(head)))
                .await;
            continue;
        }
        apply(links, &row, batch).await?;
    }
}

async fn push_loop(
    links: &Links,
    id: i64,
    mut sender: Sender,
    base: &str,
) -> Result<(), LinkError> {
    loop {
        let Some(row) = current(links, id).await? else {
            return Ok(());
        };
        let batch = links.batch_for(&row, row.sent_upto).await?;
        if batch.is_empty() {
            if batch.upto > row.sent_upto {
                // Only events the other side does not carry: nothing to send for them.
                let upto = batch.upto;
                links
                    .store()
                    .write(move |c| q::advance_sent(c, id, upto))
                    .await?;
            } else {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            continue;
        }
        let answer = call(&mut sender, base, "/link/v1/push", wire::encode(&batch)).await?;
        let answer: PushAnswer = serde_json::from_slice(&answer)
            .map_err(|e| LinkError::PeerRefused(format!("a malformed answer: {e}")))?;
        let applied = answer.applied.min(batch.upto);
        links
            .store()
            .write(move |c| {
                q::advance_sent(c, id, applied)?;
                q::record_contact(c, id, None)
            })
            .await?;
    }
}
