//! Starting and stopping the server: the data dir, the store, the certificates, both listeners,
//! the TLS accept loop; it starts the background jobs (`jobs`). Tests call [`start`] with a config that listens
//! on `127.0.0.1:0` and get a [`ServerHandle`] back.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::auth::{Auth, AuthError};
use crate::chat::{Chat, ChatLimits};
use crate::config::{Config, HttpListen};
use crate::http::{self, AppState};
use crate::hub::{FanOut, LocalHub};
use crate::pki::{self, Pki, PkiError};
use crate::store::{Store, StoreError};

/// How long shutdown waits for in-flight requests before closing connections anyway.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Cluster(String),
    #[error("linked sites: {0}")]
    Links(String),
    #[error("the data directory {path} cannot be used: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the data directory {path} is open to other users (mode {mode:o}) and cannot be made private: {source}; run: chmod 700 {path}")]
    DataDirOpen {
        path: PathBuf,
        mode: u32,
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}: the port is already in use by another program")]
    PortInUse { addr: SocketAddr },
    #[error(
        "cannot listen on {addr}: permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)"
    )]
    PortDenied { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error("cannot start the account service: {0}")]
    Auth(#[from] AuthError),
    #[error("the [ldap] settings cannot be used: {0}")]
    Directory(#[from] crate::directory::DirectoryError),
    #[error("a startup task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("another Outpost server is using the data directory {path} and did not stop within {waited_secs} s; stop it first")]
    DataDirInUse { path: PathBuf, waited_secs: u64 },
}

/// A running server.
pub struct ServerHandle {
    pub https_addr: SocketAddr,
    pub http_addr: Option<SocketAddr>,
    /// The one-time token for creating the first administrator, while no user exists.
    pub setup_token: Option<String>,
    pub ca_fingerprint: String,
    pub state: AppState,
    /// The mDNS advertisement, when discovery is on and could start.
    advertiser: Option<crate::discovery::Advertiser>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    /// The data directory's lock, released only once the database is closed.
    data_lock: std::fs::File,
}

impl ServerHandle {
    /// Stops accepting, lets in-flight requests finish, then closes the database cleanly.
    pub async fn shutdown(self) {
        if let Some(ad) = self.advertiser {
            let _ = tokio::task::spawn_blocking(move || ad.shutdown()).await;
        }
        // Calls end first, so that every participant hears why before the connections close.
        self.state
            .calls
            .end_all(crate::calls::EndReason::ServerRestart)
            .await;
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
        let store = self.state.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.close()).await;
        drop(self.data_lock);
    }

    /// The setup page URL for an address clients can reach.
    pub fn setup_url(&self, host: &str) -> Option<String> {
        let token = self.setup_token.as_ref()?;
        Some(format!(
            "{}/setup?token={token}",
            https_url(host, self.https_addr.port())
        ))
    }
}

pub fn https_url(host: &str, port: u16) -> String {
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    if port == 443 {
        format!("https://{host}")
    } else {
        format!("https://{host}:{port}")
    }
}

/// How long a starting server waits for another one on the same data directory to stop: a
/// restart can begin while the previous server still drains its last requests.
const DATA_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Takes the data directory for this server alone, waiting for a previous server to finish.
///
/// Two servers on one database would each publish only their own events, so clients of one would
/// step over events the other committed (the previous server of a restart keeps committing its
/// in-flight writes after it stopped listening). The lock is held until the database is closed.
/// CLI commands do not take it: they never write to the event log.
/// The data directory's lock if no server holds it now (for CLI work that must not run beside
/// a live server); None while one runs.
pub(crate) fn try_lock_data_dir(dir: &Path) -> Option<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("outpost.lock"))
        .ok()?;
    file.try_lock().ok()?;
    Some(file)
}

fn lock_data_dir(dir: &Path) -> Result<std::fs::File, ServeError> {
    let path = dir.join("outpost.lock");
    let err = |source| ServeError::DataDir {
        path: path.clone(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(err)?;
    let start = std::time::Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(err(e)),
        }
        if start.elapsed() > DATA_LOCK_WAIT {
            return Err(ServeError::DataDirInUse {
                path: dir.to_path_buf(),
                waited_secs: DATA_LOCK_WAIT.as_secs(),
            });
        }
        if !told {
            tracing::info!(data_dir = %dir.display(), "waiting for the Outpost server using this data directory to stop");
            told = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Makes sure the data directory exists, is private and is writable.
pub fn prepare_data_dir(dir: &Path) -> Result<(), ServeError> {
    let err = |source| ServeError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    pki::create_private_dir(dir).map_err(|e| match e {
        PkiError::Io { source, .. } => err(source),
        other => ServeError::Pki(other),
    })?;
    // A data dir made by hand (or by an older version) may be open to every user of the
    // machine: it holds the CA key and the database, so close it or refuse to start.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir).map_err(err)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| ServeError::DataDirOpen {
                    path: dir.to_path_buf(),
                    mode: mode & 0o777,
                    source,
                },
            )?;
            tracing::warn!(
                path = %dir.display(),
                was = format!("{:o}", mode & 0o777),
                "the data directory was open to other users; it is now 0700"
            );
        }
    }
    // Per process: two commands starting at once must not remove each other's probe.
    let probe = dir.join(format!(".write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(err)?;
    std::fs::remove_file(&probe).map_err(err)?;
    Ok(())
}

fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, ServeError> {
    let classify = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::AddrInUse => ServeError::PortInUse { addr },
        std::io::ErrorKind::PermissionDenied => ServeError::PortDenied { addr },
        _ => ServeError::Bind { addr, source },
    };
    let listener = if addr.ip() == std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED) {
        match bind_dual_stack(addr) {
            Ok(l) => l,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::AddrInUse | std::io::ErrorKind::PermissionDenied
                ) =>
            {
                return Err(classify(e))
            }
            // No IPv6 on this machine (disabled in the kernel): IPv4 alone still serves the LAN.
            Err(e) => {
                tracing::warn!(error = %e, "IPv6 is not available; listening on IPv4 only");
                let v4 = SocketAddr::from(([0, 0, 0, 0], addr.port()));
                std::net::TcpListener::bind(v4).map_err(classify)?
            }
        }
    } else {
        std::net::TcpListener::bind(addr).map_err(classify)?
    };
    listener
        .set_nonblocking(true)
        .map_err(|source| ServeError::Bind { addr, source })?;
    Ok(listener)
}

/// One socket for IPv6 and IPv4 (mapped addresses), whatever the system's default says.
fn bind_dual_stack(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV6, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_only_v6(false)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}

/// Raises the open-file limit to the hard limit: every client connection is a descriptor.
fn raise_fd_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open file limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open file limit"),
    }
}

/// Starts everything and returns once both listeners accept connections.
pub async fn start(config: Config) -> Result<ServerHandle, ServeError> {
    raise_fd_limit();
    let config = Arc::new(config);
    let (store, pki, auth, data_lock) = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || -> Result<_, ServeError> {
            prepare_data_dir(&config.data_dir)?;
            let lock = lock_data_dir(&config.data_dir)?;
            let store = Store::open_configured(&config, false)?;
            let one_ca = config.cluster.enabled() && config.tls.cert_file.is_none();
            if one_ca {
                check_site_ca(&config, &store)?;
            }
            let pki = Pki::load_or_create(&config)?;
            if one_ca {
                record_site_ca(&store, &pki)?;
            }
            let directory = crate::directory::Directory::from_config(&config.ldap)?;
            let auth = Auth::new(store.clone(), config.auth.clone())?.with_directory(directory);
            Ok((store, pki, auth, lock))
        })
        .await??
    };
    auth.load_two_factor_policy().await?;
    let pki = Arc::new(pki);
    let tls = Arc::new(pki::server_config(
        config.tls.profile,
        pki.resolver.clone(),
    )?);

    let https_std = bind(config.listen)?;
    let http_std = match config.http_listen {
        HttpListen::Addr(a) => Some(bind(a)?),
        HttpListen::Off => None,
    };
    let https_addr = https_std.local_addr().map_err(|source| ServeError::Bind {
        addr: config.listen,
        source,
    })?;
    let https = TcpListener::from_std(https_std).map_err(|source| ServeError::Bind {
        addr: https_addr,
        source,
    })?;
    let http = match http_std {
        Some(l) => {
            let addr = l.local_addr().map_err(|source| ServeError::Bind {
                addr: https_addr,
                source,
            })?;
            Some(TcpListener::from_std(l).map_err(|source| ServeError::Bind { addr, source })?)
        }
        None => None,
    };
    let http_addr = http.as_ref().and_then(|l| l.local_addr().ok());

    // In a cluster, other nodes write meanwhile: the head is read before the memberships, so
    // a join logged between the two is replayed onto the index rather than missed.
    let head = store.read(crate::store::chat::event_head).await?;
    let memberships = store.read(crate::store::chat::all_memberships).await?;
    let local_hub = LocalHub::new(memberships);
    // With NATS, typing and other ephemeral frames reach the other nodes' connections too.
    let link = match (config.cluster.enabled(), config.cluster.nats.is_empty()) {
        (true, false) => Some(
            crate::cluster::Link::connect(&config.cluster.nats, &config.cluster.ca_file)
                .await
                .map_err(|e| ServeError::Cluster(e.to_string()))?,
        ),
        _ => None,
    };
    let hub: Arc<dyn FanOut> = match &link {
        Some(link) => crate::cluster::ClusterHub::new(local_hub.clone(), link.clone()),
        None => local_hub.clone(),
    };
    let metrics = Arc::new(crate::metrics::Metrics::default());
    let mut chat = Chat::new(
        store.clone(),
        hub.clone(),
        ChatLimits::from(&config.limits),
        metrics.clone(),
    );
    let follower =
        (store.engine() == crate::store::db::Engine::Postgres).then(|| chat.follow_log(head));
    let auth = auth.with_chat(chat.clone());
    if let Err(e) = chat.load_keywords().await {
        // Keywords are an extra: the server still starts, without them.
        tracing::error!(error = %e, "notification keywords could not be loaded");
    }
    if let Err(e) = chat.load_outgoing().await {
        // Outgoing webhooks are an extra: the server still starts, without them.
        tracing::error!(error = %e, "outgoing webhooks could not be loaded");
    }
    let media = crate::media::Media::new(store.clone(), &config.data_dir, config.media.clone())
        .map_err(|source| ServeError::DataDir {
            path: config.data_dir.clone(),
            source,
        })?;
    record_config_change(&store, &config).await?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    // A cluster's open calls may live on other nodes: those of a node that died are closed
    // when they are next looked for (`calls::relay`).
    if store.engine() == crate::store::db::Engine::Sqlite {
        crate::calls::close_stale(&store).await?;
    }
    chat.set_published(store.read(crate::store::chat::event_head).await?);
    let sfu = if config.calls.enabled {
        let (reports_tx, reports_rx) = tokio::sync::mpsc::unbounded_channel();
        let addresses = crate::calls::sfu::media_addresses(&config.calls.addresses);
        match crate::calls::sfu::start(
            addresses,
            config.calls.udp_port,
            config.calls.tcp_port,
            config.calls.audio_frame_ms,
            reports_tx,
            shutdown_rx.clone(),
        )
        .await
        {
            Ok(sfu) => {
                tracing::info!(udp = ?sfu.udp, tcp = ?sfu.tcp, "call media server listening");
                Some((sfu, reports_rx))
            }
            Err(e) => {
                tracing::error!(error = %e, "calls are off: the media server could not start");
                None
            }
        }
    } else {
        None
    };
    // Calls across nodes need NATS: without it each node's calls stay its own.
    let relay = match (&link, &sfu) {
        (Some(link), Some(_)) => Some(crate::calls::relay::Relay::new(link.clone())),
        _ => None,
    };
    let calls = crate::calls::Calls::new(
        chat.clone(),
        store.clone(),
        config.calls.clone(),
        metrics.clone(),
        sfu,
        relay.clone(),
    );
    let relay_task = relay.map(|relay| {
        tokio::spawn(crate::calls::relay::run(
            calls.clone(),
            relay,
            shutdown_rx.clone(),
        ))
    });
    let identity = crate::links::Identity::load(&store, &config.site_name, &pki.fingerprint())
        .await
        .map_err(|e| ServeError::Links(e.to_string()))?;
    let links = crate::links::Links::new(
        store.clone(),
        chat.clone(),
        pki.resolver.clone(),
        config.links.clone(),
        identity,
        shutdown_rx.clone(),
    );
    let state = AppState::new(crate::http::Shared {
        links: links.clone(),
        config: config.clone(),
        store: store.clone(),
        auth: auth.clone(),
        chat,
        calls,
        media: media.clone(),
        metrics,
        pki: pki.clone(),
        https_port: https_addr.port(),
        http_port: http_addr.map(|a| a.port()),
        shutdown: shutdown_rx.clone(),
    });
    let setup_token = auth.setup_token_if_needed().await?;
    let limits = &config.limits;
    let policy = |total: usize| ConnPolicy {
        total: Arc::new(Semaphore::new(total.max(1))),
        per_address: PerAddress::new(limits.max_connections_per_address),
        first_bytes: Duration::from_secs(limits.first_request_secs.max(1)),
        idle: Duration::from_secs(limits.idle_connection_secs.max(1)),
    };

    let mut tasks: Vec<JoinHandle<()>> = relay_task.into_iter().collect();
    tasks.push(tokio::spawn(links.supervise()));
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tasks.push(tokio::spawn(serve(
        https,
        Some(acceptor),
        http::https_router(state.clone()),
        shutdown_rx.clone(),
        policy(limits.max_connections),
    )));
    if let Some(l) = http {
        tasks.push(tokio::spawn(serve(
            l,
            None,
            http::http_router(state.clone()),
            shutdown_rx.clone(),
            policy(limits.http_max_connections),
        )));
    }
    tasks.extend(crate::jobs::spawn(
        crate::jobs::Jobs {
            config: config.clone(),
            pki: pki.clone(),
            auth: auth.clone(),
            store: store.clone(),
            chat: state.chat.clone(),
            media,
            hub: hub.clone(),
        },
        &shutdown_rx,
    ));
    if let (Some(follower), Some(link)) = (&follower, &link) {
        let announcer = link.clone();
        follower.announce_with(move |pos| announcer.committed(pos));
        tasks.push(tokio::spawn(
            link.clone()
                .share_presence(local_hub.clone(), shutdown_rx.clone()),
        ));
        let woken = follower.clone();
        tasks.push(tokio::spawn(link.clone().receive(
            local_hub.clone(),
            move || woken.wake(),
            shutdown_rx.clone(),
        )));
    }
    if let Some(follower) = follower {
        tasks.push(tokio::spawn(crate::chat::follow::run(
            follower,
            store.clone(),
            hub.clone(),
            shutdown_rx.clone(),
        )));
    }

    let advertiser = if config.discovery {
        let ad = crate::discovery::Advertisement {
            site_name: config.site_name.clone(),
            hostname: pki::hostname(),
            port: https_addr.port(),
            ca_fingerprint: pki.fingerprint(),
            interfaces: config.discovery_interfaces.clone(),
        };
        match tokio::task::spawn_blocking(move || crate::discovery::Advertiser::start(&ad)).await? {
            Ok(a) => Some(a),
            Err(e) => {
                tracing::warn!(error = %e, "LAN discovery is off: the server runs without it");
                None
            }
        }
    } else {
        None
    };
    tracing::info!(
        https = %https_addr,
        http = %http_addr.map(|a| a.to_string()).unwrap_or_else(|| "off".into()),
        ca_fingerprint = %pki.fingerprint(),
        "Outpost is listening"
    );
    Ok(ServerHandle {
        https_addr,
        http_addr,
        setup_token,
        ca_fingerprint: pki.fingerprint(),
        state,
        advertiser,
        shutdown: shutdown_tx,
        tasks,
        data_lock,
    })
}

/// What one listener allows: how many connections in all and from one address, and how long a
/// connection may wait before its first bytes and between any two.
#[derive(Clone)]
struct ConnPolicy {
    total: Arc<Semaphore>,
    per_address: Arc<PerAddress>,
    first_bytes: Duration,
    idle: Duration,
}

/// Open connections per client address, so one machine cannot take every slot.
struct PerAddress {
    max: usize,
    /// Short critical sections only.
    open: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

/// One open connection counted against its address until dropped.
struct AddressSlot {
    table: Arc<PerAddress>,
    ip: std::net::IpAddr,
}

impl PerAddress {
    fn new(max: usize) -> Arc<PerAddress> {
        Arc::new(PerAddress {
            max: max.max(1),
            open: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    fn take(self: &Arc<Self>, ip: std::net::IpAddr) -> Option<AddressSlot> {
        let mut open = self.open.lock().ok()?;
        let n = open.entry(ip).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(AddressSlot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.table.open.lock() {
            if let Some(n) = open.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    open.remove(&self.ip);
                }
            }
        }
    }
}

/// Wraps a connection's stream and notes when a byte last moved in either direction.
struct Watched<T> {
    inner: T,
    /// Milliseconds since `epoch` at the last read or write; 0 until the first read.
    last: Arc<std::sync::atomic::AtomicU64>,
    epoch: tokio::time::Instant,
}

impl<T> Watched<T> {
    fn touch(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last
            .store(ms.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Notes a write that moved bytes.
    fn wrote(&self, r: &std::task::Poll<std::io::Result<usize>>) {
        if matches!(r, std::task::Poll::Ready(Ok(n)) if *n > 0) {
            self.touch();
        }
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Watched<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.touch();
        }
        r
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write(cx, data);
        self.wrote(&r);
        r
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.wrote(&r);
        r
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Resolves when a watched connection has not made its first request within `first_request`
/// of opening (TLS included), or has moved no byte for `idle`. A connection upgraded to a
/// WebSocket leaves hyper, and this watch with it; the WebSocket has its own pings and limit.
async fn stalled(
    last: Arc<std::sync::atomic::AtomicU64>,
    requested: Arc<std::sync::atomic::AtomicBool>,
    busy: Arc<std::sync::atomic::AtomicUsize>,
    epoch: tokio::time::Instant,
    first_request: Duration,
    idle: Duration,
) {
    loop {
        let seen = last.load(std::sync::atomic::Ordering::Relaxed);
        let deadline = if !requested.load(std::sync::atomic::Ordering::Relaxed) {
            epoch + first_request
        } else if busy.load(std::sync::atomic::Ordering::Relaxed) > 0 {
            // A request being answered may take its time (a photo's thumbnails, an fsync of a
            // large file): silence only counts once no request is in progress.
            tokio::time::Instant::now() + idle
        } else {
            epoch + Duration::from_millis(seen) + idle
        };
        if tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep_until(deadline).await;
    }
}

/// A request in progress on a connection; the idle clock starts again when it is answered.
struct Busy {
    count: Arc<std::sync::atomic::AtomicUsize>,
    last: Arc<std::sync::atomic::AtomicU64>,
    epoch: tokio::time::Instant,
}

impl Busy {
    fn start(
        count: Arc<std::sync::atomic::AtomicUsize>,
        last: Arc<std::sync::atomic::AtomicU64>,
        epoch: tokio::time::Instant,
    ) -> Busy {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Busy { count, last, epoch }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last
            .store(ms.max(1), std::sync::atomic::Ordering::Relaxed);
        self.count
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Accepts connections until shutdown, then drains them.
async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    mut shutdown: watch::Receiver<bool>,
    policy: ConnPolicy,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A little above the limits `http` answers in JSON (414, 431), so requests just over
    // those get a readable error; hyper's own answer (an empty 414 or 431) is only for heads
    // far beyond them. hyper's 400 KiB head buffer stays the default.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_headers(crate::http::MAX_HEADER_COUNT + 28);
    builder
        .http2()
        .max_header_list_size((crate::http::MAX_HEADER_BYTES * 2) as u32);
    let builder = Arc::new(builder);
    loop {
        let permit = tokio::select! {
            _ = shutdown.changed() => break,
            p = policy.total.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let (tcp, peer) = tokio::select! {
            _ = shutdown.changed() => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Usually EMFILE; back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; limits, logs and the
        // loopback checks must see the IPv4 address.
        let peer = SocketAddr::new(peer.ip().to_canonical(), peer.port());
        let Some(slot) = policy.per_address.take(peer.ip()) else {
            tracing::debug!(peer = %peer.ip(), "refused a connection: too many from this address");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let router = router.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let (first_bytes, idle) = (policy.first_bytes, policy.idle);
        tokio::spawn(async move {
            let hold = http::ConnectionHold(Arc::new((permit, slot)));
            let epoch = tokio::time::Instant::now();
            let last = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let requested = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let busy = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let (seen_request, in_flight, touched) =
                (requested.clone(), busy.clone(), last.clone());
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                seen_request.store(true, std::sync::atomic::Ordering::Relaxed);
                req.extensions_mut().insert(ConnectInfo(peer));
                req.extensions_mut().insert(hold.clone());
                let busy = Busy::start(in_flight.clone(), touched.clone(), epoch);
                let answer = router.clone().oneshot(req.map(axum::body::Body::new));
                async move {
                    let _busy = busy;
                    answer.await
                }
            });
            let tcp = Watched {
                inner: tcp,
                last: last.clone(),
                epoch,
            };
            let stall = stalled(last, requested, busy, epoch, first_bytes, idle);
            match tls {
                Some(acceptor) => {
                    let handshake = tokio::time::timeout(
                        first_bytes.min(TLS_HANDSHAKE_TIMEOUT),
                        acceptor.accept(tcp),
                    );
                    let stream = match handshake.await {
                        Ok(Ok(s)) => s,
                        // Failed handshakes are routine (untrusted CA, scanners).
                        _ => return,
                    };
                    let conn =
                        builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                    tokio::select! {
                        _ = watcher.watch(conn.into_owned()) => {}
                        _ = stall => tracing::debug!(peer = %peer, "closed a silent connection"),
                    }
                }
                None => {
                    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
                    tokio::select! {
                        _ = watcher.watch(conn.into_owned()) => {}
                        _ = stall => tracing::debug!(peer = %peer, "closed a silent connection"),
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open at shutdown and were closed");
    }
}

/// In a cluster every node serves certificates from the one site CA that devices trust: a node
/// whose data dir holds another CA, or none once the site has one, must join first
/// (`outpost cluster join`) rather than make its own.
fn check_site_ca(config: &Config, store: &Store) -> Result<(), ServeError> {
    let site = store.read_blocking(crate::store::cluster::site_ca)?;
    match site {
        Some(site) if pki::local_ca_fingerprint(config).as_deref() != Some(site.as_str()) => {
            Err(not_the_site_ca(&site))
        }
        _ => Ok(()),
    }
}

/// The first node to start records its CA as the site's; a node that lost that race stops.
fn record_site_ca(store: &Store, pki: &Pki) -> Result<(), ServeError> {
    let mine = pki.fingerprint();
    let claimed = mine.clone();
    let site = store.write_blocking(move |c| crate::store::cluster::record_site_ca(c, &claimed))?;
    if site != mine {
        return Err(not_the_site_ca(&site));
    }
    Ok(())
}

fn not_the_site_ca(site: &str) -> ServeError {
    ServeError::Cluster(format!(
        "this node does not hold the site's CA (SHA-256 {site}); run `outpost cluster join` on \
         it first (docs/cluster.md: Adding a node)"
    ))
}

/// Notes in the audit log when the effective configuration differs from the last start's.
async fn record_config_change(store: &Store, config: &Config) -> Result<(), ServeError> {
    use sha2::Digest;
    let text = toml::to_string(config).unwrap_or_default();
    let hash = hex::encode(sha2::Sha256::digest(text.as_bytes()));
    store
        .write(move |t| {
            let before: Option<String> = t
                .query_row(
                    "SELECT value FROM meta WHERE key = 'config_hash'",
                    [],
                    |r| r.get(0),
                )
                .ok();
            if before.as_deref() != Some(hash.as_str()) {
                t.execute(
                    "INSERT INTO meta(key, value) VALUES ('config_hash', ?1)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [&hash],
                )?;
                if before.is_some() {
                    crate::store::audit::append(
                        t,
                        &crate::store::audit::Entry {
                            actor: "system".into(),
                            action: "config-changed",
                            details: format!("configuration fingerprint {}", &hash[..12]),
                            ..Default::default()
                        },
                    )?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// Tells systemd (`Type=notify`) about a state change; does nothing outside systemd.
fn sd_notify(state: &str) {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::UnixDatagram;
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(socket) = UnixDatagram::unbound() else {
        return;
    };
    let bytes = path.as_bytes();
    let sent = match bytes.strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name)
                .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
        }
        None => socket.send_to(state.as_bytes(), &path),
    };
    if let Err(e) = sent {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// Runs the server until SIGTERM or SIGINT, then shuts down gracefully.
pub async fn run_until_signal(config: Config) -> Result<(), ServeError> {
    // Handlers first: a SIGTERM that arrives while starting must still shut down cleanly.
    let signals = Signals::install();
    let handle = start(config).await?;
    sd_notify("READY=1\nSTATUS=Serving");
    if let Some(token) = &handle.setup_token {
        let host = pki::interface_addresses()
            .first()
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "localhost".into());
        let url = format!(
            "{}/setup?token={token}",
            https_url(&host, handle.https_addr.port())
        );
        // The setup token is the one secret that must reach the admin through the log: it is
        // single-use, expires in 24 hours and stops working once an admin exists.
        tracing::info!(%url, "no users yet: open the setup URL to create the first administrator");
        println!("\nOutpost needs its first administrator. Open this link (valid 24 hours):\n\n    {url}\n");
    }
    signals.wait().await;
    sd_notify("STOPPING=1\nSTATUS=Shutting down");
    tracing::info!("shutting down");
    handle.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM and SIGINT, registered before anything else starts.
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        use tokio::signal::unix::{signal, SignalKind};
        Signals {
            term: signal(SignalKind::terminate()).ok(),
            int: signal(SignalKind::interrupt()).ok(),
        }
    }

    async fn wait(mut self) {
        match (self.term.as_mut(), self.int.as_mut()) {
            (Some(t), Some(i)) => {
                tokio::select! {
                    _ = t.recv() => {}
                    _ = i.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
