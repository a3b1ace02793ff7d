//! `spawn_app()` and typed helpers shared by every area.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use outpost::config::{Config, HttpListen};
use outpost::ServerHandle;
use serde_json::{json, Value};
use tempfile::TempDir;

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

pub struct TestApp {
    pub handle: ServerHandle,
    pub dir: Arc<TempDir>,
    pub config: Config,
}

pub fn test_config(dir: &Path) -> Config {
    Config {
        data_dir: dir.join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        http_listen: HttpListen::Addr("127.0.0.1:0".parse().unwrap()),
        discovery: false,
        site_name: "Test Site".into(),
        calls: outpost::config::CallsConfig {
            addresses: vec!["127.0.0.1".parse().unwrap()],
            udp_port: 0,
            tcp_port: 0,
            ..Default::default()
        },
        cluster: outpost::config::ClusterConfig {
            database: test_database().unwrap_or_default(),
            ca_file: test_cluster_ca(),
            ..Default::default()
        },
        links: outpost::config::LinksConfig {
            listen: HttpListen::Addr("127.0.0.1:0".parse().unwrap()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// A fresh database on the test PostgreSQL; without one, the test says SKIPPED and passes
/// nothing off as tested.
macro_rules! database_or_skip {
    () => {
        match $crate::helpers::test_database() {
            Some(url) => url,
            None => {
                eprintln!("SKIPPED: needs OUTPOST_TEST_DATABASE (scripts/with-postgres)");
                return;
            }
        }
    };
}
pub(crate) use database_or_skip;

/// With `OUTPOST_TEST_DATABASE` (a PostgreSQL URL) set, each app gets a database of its own
/// there and the suite runs against PostgreSQL; otherwise against SQLite in its data dir.
pub fn test_database() -> Option<String> {
    let base = std::env::var("OUTPOST_TEST_DATABASE")
        .ok()
        .filter(|s| !s.is_empty())?;
    let name = format!("outpost_t_{:016x}", rand::random::<u64>());
    let (server, _) = base
        .rsplit_once('/')
        .expect("OUTPOST_TEST_DATABASE is a URL");
    let url = format!("{server}/{name}");
    // The synchronous client runs a runtime of its own: not on a test's runtime thread.
    std::thread::spawn(move || {
        let ca = test_cluster_ca();
        let mut c = if ca.as_os_str().is_empty() {
            postgres::Client::connect(&base, postgres::NoTls)
        } else {
            let tls = outpost::pki::client_config_trusting(&ca, "OUTPOST_TEST_CLUSTER_CA").unwrap();
            postgres::Client::connect(
                &format!("{base}?sslmode=require"),
                tokio_postgres_rustls::MakeRustlsConnect::new(tls),
            )
        }
        .expect("test PostgreSQL");
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
    })
    .join()
    .unwrap();
    Some(url)
}

/// The CA that signed the test PostgreSQL's and NATS's certificates (`scripts/test-cert`), as
/// `[cluster] ca_file`; empty when they do not run.
pub fn test_cluster_ca() -> PathBuf {
    std::env::var_os("OUTPOST_TEST_CLUSTER_CA")
        .map(PathBuf::from)
        .unwrap_or_default()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(change: impl FnOnce(&mut Config)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    change(&mut config);
    spawn_in(dir, config).await
}

/// Starts another node of `first`'s cluster: its data dir gets `first`'s CA before it starts,
/// as `outpost cluster join` would put it there (tests/it/cluster.rs runs the real command).
pub async fn spawn_node_beside(first: &TestApp, change: impl FnOnce(&mut Config)) -> TestApp {
    spawn_node_with_ca_of(&first.data_dir(), change).await
}

/// Starts a cluster node whose data dir gets the CA of the node whose data dir is `first`.
pub async fn spawn_node_with_ca_of(first: &Path, change: impl FnOnce(&mut Config)) -> TestApp {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut config = test_config(dir.path());
    change(&mut config);
    let certs = config.data_dir.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    for name in ["ca.pem", "ca.key"] {
        std::fs::copy(first.join("certs").join(name), certs.join(name)).unwrap();
    }
    spawn_in(dir, config).await
}

/// Starts a server on an existing data directory (restarts keep the same `dir`).
pub async fn spawn_in(dir: Arc<TempDir>, config: Config) -> TestApp {
    // `OUTPOST_TEST_LOG=warn` shows what the servers log (a failing test's 500s explained).
    if let Ok(level) = std::env::var("OUTPOST_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(level)
            .with_test_writer()
            .try_init();
    }
    let handle = outpost::start(config.clone()).await.expect("server starts");
    TestApp {
        handle,
        dir,
        config,
    }
}

impl TestApp {
    pub fn https_addr(&self) -> SocketAddr {
        self.handle.https_addr
    }

    pub fn base(&self) -> String {
        format!("https://localhost:{}", self.https_addr().port())
    }

    pub fn http_base(&self) -> String {
        format!("http://127.0.0.1:{}", self.handle.http_addr.unwrap().port())
    }

    pub fn data_dir(&self) -> PathBuf {
        self.config.data_dir.clone()
    }

    pub fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.data_dir().join("certs/ca.pem")).unwrap()
    }

    /// A browser-like client: trusts only this server's CA, keeps cookies, sends Origin.
    pub fn client(&self) -> reqwest::Client {
        self.client_builder().build().unwrap()
    }

    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, self.base().parse().unwrap());
        reqwest::Client::builder()
            .use_preconfigured_tls(client_tls(&self.ca_pem()))
            .resolve("localhost", self.https_addr())
            .cookie_store(true)
            .default_headers(headers)
    }

    /// A client with no cookies and no Origin: how a script with a Bearer token looks.
    pub fn api_client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .use_preconfigured_tls(client_tls(&self.ca_pem()))
            .resolve("localhost", self.https_addr())
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// Creates the first admin through the setup token; returns the admin's Bearer token.
    pub async fn setup_admin(&self) -> String {
        let token = self.handle.setup_token.clone().expect("setup token");
        let resp = self
            .api_client()
            .post(self.url("/api/v1/auth/setup"))
            .json(&json!({"token": token, "username": ADMIN, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    /// Creates a user through an invite made by `admin_token`; returns their Bearer token.
    pub async fn invite_user(&self, admin_token: &str, name: &str, password: &str) -> String {
        let c = self.api_client();
        let invite: Value = c
            .post(self.url("/api/v1/invites"))
            .bearer_auth(admin_token)
            .json(&json!({}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let resp = c
            .post(self.url("/api/v1/auth/invite"))
            .json(&json!({"token": invite["token"], "username": name, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    pub async fn get_with(&self, token: &str, path: &str) -> reqwest::Response {
        self.api_client()
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// Runs `f` on the app's database through a store of its own, as another process beside the
    /// server would (a CLI command, or another node of a cluster), on either engine.
    pub async fn beside<T: Send + 'static>(
        &self,
        f: impl FnOnce(&outpost::store::Db) -> outpost::store::Result<T> + Send + 'static,
    ) -> T {
        let config = self.config.clone();
        let store = tokio::task::spawn_blocking(move || {
            outpost::store::Store::open_configured(&config, true)
        })
        .await
        .unwrap()
        .unwrap();
        let out = store.write(f).await.unwrap();
        tokio::task::spawn_blocking(move || store.close())
            .await
            .unwrap();
        out
    }

    pub async fn stop(self) -> (Arc<TempDir>, Config) {
        let TestApp {
            handle,
            dir,
            config,
        } = self;
        handle.shutdown().await;
        (dir, config)
    }
}

pub fn root_store(ca_pem: &str) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    roots
}

/// A rustls client configuration that trusts only `ca_pem`.
pub fn client_tls(ca_pem: &str) -> rustls::ClientConfig {
    outpost::pki::client_config_trusting_pem(ca_pem.as_bytes()).unwrap()
}

/// Asserts the common error shape and returns the code.
pub async fn error_code(resp: reqwest::Response) -> String {
    let body: Value = resp.json().await.expect("error body is JSON");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_string();
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    code
}

/// Runs `outpost ARGS --data-dir DATA` beside the app's running server (off the runtime).
pub async fn cli_beside(app: &TestApp, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.push("--data-dir".into());
    all.push(app.data_dir().to_string_lossy().into_owned());
    let database = app.config.cluster.database.clone();
    let ca = app.config.cluster.ca_file.clone();
    tokio::task::spawn_blocking(move || {
        outpost_bin()
            .args(&all)
            .env("OUTPOST_CLUSTER_DATABASE", database)
            .env("OUTPOST_CLUSTER_CA_FILE", ca)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

pub fn outpost_bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_outpost"))
}

/// A WebSocket client over TLS that trusts only the test CA.
pub struct Ws {
    pub stream:
        tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>,
    next_req: u64,
    /// Frames read while waiting for something else, handed out first.
    backlog: std::collections::VecDeque<Value>,
}

pub const WAIT: std::time::Duration = std::time::Duration::from_secs(15);

impl TestApp {
    /// Opens `/api/v1/ws` with a Bearer token; returns the client and its `ready` frame.
    pub async fn ws(&self, token: &str, resume_from: Option<i64>) -> (Ws, Value) {
        ws_connect(self.https_addr(), &self.ca_pem(), token, resume_from).await
    }
}

/// Opens `/api/v1/ws` on any server; returns the client and its `ready` frame.
pub async fn ws_connect(
    addr: SocketAddr,
    ca_pem: &str,
    token: &str,
    resume_from: Option<i64>,
) -> (Ws, Value) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(client_tls(ca_pem)))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let url = match resume_from {
        Some(p) => format!("wss://localhost:{}/api/v1/ws?resume_from={p}", addr.port()),
        None => format!("wss://localhost:{}/api/v1/ws", addr.port()),
    };
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (stream, _) = tokio_tungstenite::client_async(req, tls).await.unwrap();
    let mut ws = Ws {
        stream,
        next_req: 0,
        backlog: Default::default(),
    };
    let mut replayed = Vec::new();
    loop {
        let f = ws.raw_next().await.expect("ready");
        if f["type"] == "ready" {
            ws.backlog.extend(replayed);
            return (ws, f);
        }
        replayed.push(f);
    }
}

impl Ws {
    /// The next JSON frame from the server, or `None` if the connection closed.
    pub async fn raw_next(&mut self) -> Option<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame within the deadline")?;
            match msg {
                Ok(Message::Text(t)) => return Some(serde_json::from_str(t.as_str()).unwrap()),
                Ok(Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// A frame if one arrives within `wait`.
    pub async fn poll(&mut self, wait: std::time::Duration) -> Option<Value> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        if let Some(v) = self.backlog.pop_front() {
            return Some(v);
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    return Some(serde_json::from_str(t.as_str()).unwrap())
                }
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    /// Waits for the first frame of `kind`, keeping the others for later.
    pub async fn wait_for(&mut self, kind: &str) -> Value {
        let mut kept = Vec::new();
        let found = loop {
            let f = self
                .next()
                .await
                .unwrap_or_else(|| panic!("closed waiting for {kind}"));
            if f["type"] == kind {
                break f;
            }
            kept.push(f);
        };
        for f in kept.into_iter().rev() {
            self.backlog.push_front(f);
        }
        found
    }

    pub async fn next(&mut self) -> Option<Value> {
        if let Some(v) = self.backlog.pop_front() {
            return Some(v);
        }
        self.raw_next().await
    }

    /// The next durable event (skips typing and presence frames).
    pub async fn next_event(&mut self) -> Value {
        loop {
            let f = self.next().await.expect("connection open");
            if f["type"] == "event" {
                return f;
            }
        }
    }

    pub async fn send(&mut self, v: Value) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                v.to_string().into(),
            ))
            .await
            .unwrap();
    }

    /// Like `send`, but reports a closed connection instead of panicking.
    pub async fn try_send(&mut self, v: Value) -> bool {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                v.to_string().into(),
            ))
            .await
            .is_ok()
    }

    pub async fn send_raw(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.stream
            .send(tokio_tungstenite::tungstenite::Message::Text(
                text.to_string().into(),
            ))
            .await
            .unwrap();
    }

    /// Sends a request and waits for its answer; other frames are kept for `next`.
    pub async fn request(&mut self, mut v: Value) -> Value {
        self.next_req += 1;
        let req = format!("r{}", self.next_req);
        v["req"] = json!(req);
        self.send(v).await;
        let mut kept = Vec::new();
        let answer = loop {
            let f = self.raw_next().await.expect("answer");
            if f["req"] == json!(req) {
                break f;
            }
            kept.push(f);
        };
        self.backlog.extend(kept);
        answer
    }

    pub async fn close_code(&mut self) -> Option<u16> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("close in time");
            match msg {
                Some(Ok(Message::Close(Some(frame)))) => return Some(frame.code.into()),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return None,
                Some(Ok(_)) => continue,
            }
        }
    }
}

/// A channel as `GET /api/v1/channels` shows it to this person.
pub async fn channel_view(app: &TestApp, token: &str, id: i64) -> Value {
    let list: Value = app
        .get_with(token, "/api/v1/channels")
        .await
        .json()
        .await
        .unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .cloned()
        .unwrap()
}

/// The newest 200 messages of a channel, oldest first.
pub async fn history(app: &TestApp, token: &str, channel: i64) -> Vec<Value> {
    app.get_with(
        token,
        &format!("/api/v1/channels/{channel}/messages?limit=200"),
    )
    .await
    .json()
    .await
    .unwrap()
}

/// Sends a message over HTTP; returns the message JSON.
pub async fn post_message(app: &TestApp, token: &str, channel: i64, body: &str) -> Value {
    let r = app
        .api_client()
        .post(app.url(&format!("/api/v1/channels/{channel}/messages")))
        .bearer_auth(token)
        .json(&json!({"body": body}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

pub async fn create_channel(app: &TestApp, token: &str, name: &str, private: bool) -> i64 {
    let r = app
        .api_client()
        .post(app.url("/api/v1/channels"))
        .bearer_auth(token)
        .json(&json!({"name": name, "private": private}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The signed-in user's id.
pub async fn id_of(app: &TestApp, token: &str) -> i64 {
    let me: Value = app
        .get_with(token, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    me["id"].as_i64().unwrap()
}

/// Signs in with a password (no second factor).
pub async fn login(app: &TestApp, name: &str, password: &str) -> reqwest::Response {
    app.api_client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap()
}

pub async fn api(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut rb = app
        .api_client()
        .request(method, app.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    rb.send().await.unwrap()
}

/// A real `outpost serve` process on loopback.
pub struct Server {
    pub child: Child,
    pub https: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `outpost serve` on loopback and waits for its "listening" line.
pub fn serve(data: &str) -> Server {
    serve_with(data, &[])
}

pub fn serve_with(data: &str, env: &[(&str, &str)]) -> Server {
    serve_with_log(data, env).0
}

/// Starts `outpost serve` on loopback and keeps its JSON log lines for the test to read.
pub fn serve_with_log(data: &str, env: &[(&str, &str)]) -> (Server, Arc<Mutex<Vec<String>>>) {
    let mut child = outpost_bin()
        .args([
            "serve",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "off",
            "--no-discovery",
        ])
        .env("OUTPOST_CALLS_ADDRESSES", "127.0.0.1")
        .env("OUTPOST_CALLS_UDP_PORT", "0")
        .env("OUTPOST_CALLS_TCP_PORT", "0")
        .envs(env.iter().copied())
        .env("OUTPOST_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let https = loop {
        assert!(Instant::now() < deadline, "server did not start");
        let line = lines.next().expect("server output").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if v["message"] == "Outpost is listening" {
            break v["https"].as_str().unwrap().to_string();
        }
    };
    // Keep draining the log so the server never blocks on a full pipe.
    let log = Arc::new(Mutex::new(Vec::new()));
    let kept = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if let Ok(mut kept) = kept.lock() {
                kept.push(line);
            }
        }
    });
    (Server { child, https }, log)
}

/// A real `outpost serve` process with an administrator made by `outpost user add`, and a
/// client signed in as that administrator.
pub struct RealServer {
    pub server: Server,
    pub addr: SocketAddr,
    pub ca: String,
    pub client: reqwest::Client,
    pub base: String,
    pub token: String,
}

/// Makes the administrator `ADMIN` with `outpost user add`, as an installer would.
pub fn add_admin(data: &Path, env: &[(&str, &str)]) {
    use std::io::Write;
    let mut add = outpost_bin()
        .args([
            "user",
            "add",
            ADMIN,
            "--admin",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(data)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{ADMIN_PASSWORD}\n").as_bytes())
        .unwrap();
    assert!(add.wait().unwrap().success());
}

/// A client for a real server at `addr` that trusts only that site's CA.
pub fn trusting_client(ca: &str, addr: SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(client_tls(ca))
        .resolve("localhost", addr)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Bytes that neither compress nor repeat, the same for the same seed.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

pub async fn real_server_with_admin(
    data: PathBuf,
    env: &'static [(&'static str, &'static str)],
) -> RealServer {
    let d = data.to_str().unwrap().to_string();
    add_admin(&data, &[]);
    let server = tokio::task::spawn_blocking(move || serve_with(&d, env))
        .await
        .unwrap();
    let addr: SocketAddr = server.https.parse().unwrap();
    let ca = std::fs::read_to_string(data.join("certs/ca.pem")).unwrap();
    let client = trusting_client(&ca, addr);
    let base = format!("https://localhost:{}", addr.port());
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    RealServer {
        server,
        addr,
        ca,
        client,
        base,
        token,
    }
}

/// A response read off the wire: status, head (lower-cased) and body.
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    }
}

/// Sends `request` as raw bytes over TLS (HTTP/1.1) and reads until the server closes: for
/// requests that a client library would refuse to send.
pub async fn raw_https(app: &TestApp, request: &[u8]) -> RawResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tcp = tokio::net::TcpStream::connect(app.https_addr())
        .await
        .unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client_tls(&app.ca_pem())))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(request).await.unwrap();
    tls.flush().await.unwrap();
    let mut out = Vec::new();
    // A server that closes without close_notify ends the read with an error; what arrived
    // before it is the answer.
    let _ = tokio::time::timeout(WAIT, tls.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    RawResponse {
        status,
        head: head.to_ascii_lowercase(),
        body: body.to_string(),
    }
}
