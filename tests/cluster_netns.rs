//! Cluster mode's failure behaviour on a real network (issue 18): PostgreSQL, a three-server
//! NATS cluster and three Outpost nodes, each on its own host (network namespace) with its own
//! address, and the clients on a fifth host. Every server is started here, from Debian's
//! packages. Three failures under load, one after another:
//!
//! - one of the three NATS servers is killed: nothing acknowledged is lost and delivery goes on;
//! - one Outpost node is killed (`kill -9`): every acknowledged message is in every surviving
//!   node's history once, and a client of the dead node resumes on another with no gap and
//!   nothing twice;
//! - PostgreSQL is stopped for 10 s: sends fail with 503 only, nothing unstored is acknowledged,
//!   and everything recovers by itself.
//!
//! Needs root, iproute2, postgresql and nats-server: `scripts/test` runs it with `--ignored`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "netns/lan.rs"]
mod lan;
use lan::Lan;

const PG: usize = 0;
const NODES: [usize; 3] = [1, 2, 3];
const CLIENT: usize = 4;
const PASSPHRASE: &str = "a passphrase for the test cluster";

/// The virtual address keepalived moves between the two HAProxy hosts (the HA test).
const VIP: usize = 199;

fn ip(host: usize) -> String {
    format!("10.99.0.{}", host + 1)
}

/// A process started here, killed (without a goodbye) when the test ends either way.
struct Proc {
    child: Option<Child>,
}

impl Proc {
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads a child's output until `ready` shows up (30 s at most), then keeps draining it; with
/// `OUTPOST_TEST_LOG` set, into that directory (`WHAT-PID.log`) for reading after a failure.
fn wait_ready(out: impl std::io::Read + Send + 'static, ready: &str, what: &str) {
    let mut lines = BufReader::new(out).lines();
    let keep = std::env::var_os("OUTPOST_TEST_LOG").map(|d| {
        PathBuf::from(d).join(format!("{}-{}.log", what.replace(' ', "-"), rand_suffix()))
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "{what} did not start");
        match lines.next() {
            Some(Ok(line)) if line.contains(ready) => break,
            Some(Ok(_)) => {}
            _ => panic!("{what} stopped before it was ready"),
        }
    }
    std::thread::spawn(move || {
        use std::io::Write;
        let mut file = keep.and_then(|p| std::fs::File::create(p).ok());
        for line in lines.map_while(Result::ok) {
            if let Some(f) = file.as_mut() {
                let _ = writeln!(f, "{line}");
            }
        }
    });
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// PostgreSQL on its own host, from Debian's package, in a temporary directory.
struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    lan_ns: String,
    _dir: tempfile::TempDir,
}

impl Postgres {
    fn start(lan: &Lan) -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("postgresql is installed")
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("postgresql's initdb");
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        lan::sh(&["chown", "postgres", dir.path().to_str().unwrap()]);
        let data = dir.path().join("data");
        let initdb = bin.join("initdb");
        lan::sh(&[
            "runuser",
            "-u",
            "postgres",
            "--",
            initdb.to_str().unwrap(),
            "-D",
            data.to_str().unwrap(),
            "-U",
            "outpost",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ]);
        // The nodes reach it over the test network only.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhost all all 10.99.0.0/24 trust\n",
        )
        .unwrap();
        let pg = Postgres {
            bin,
            data,
            lan_ns: lan.hosts[PG].clone(),
            _dir: dir,
        };
        pg.up();
        pg
    }

    fn up(&self) {
        let opts = format!(
            "-c listen_addresses={} -p 5432 -k {} -c max_connections=200",
            ip(PG),
            self.data.parent().unwrap().display()
        );
        lan::sh(&[
            "ip",
            "netns",
            "exec",
            &self.lan_ns,
            "runuser",
            "-u",
            "postgres",
            "--",
            self.bin.join("pg_ctl").to_str().unwrap(),
            "-D",
            self.data.to_str().unwrap(),
            "-l",
            self.data.parent().unwrap().join("log").to_str().unwrap(),
            "-w",
            "-o",
            &opts,
            "start",
        ]);
    }

    fn down(&self) {
        lan::sh(&[
            "runuser",
            "-u",
            "postgres",
            "--",
            self.bin.join("pg_ctl").to_str().unwrap(),
            "-D",
            self.data.to_str().unwrap(),
            "-m",
            "fast",
            "-w",
            "stop",
        ]);
    }

    fn url(&self) -> String {
        format!("postgres://outpost@{}:5432/postgres", ip(PG))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

/// `"ADDRESS:PORT"` of every host of `hosts` but `host`, quoted, for a peer list.
fn peers(hosts: &[usize], host: usize, scheme: &str, port: u16) -> String {
    hosts
        .iter()
        .filter(|h| **h != host)
        .map(|h| format!("\"{scheme}{}:{port}\"", ip(*h)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One server of the NATS cluster (JetStream on) of `hosts`, on an Outpost node's host.
fn nats(lan: &Lan, host: usize, hosts: &[usize], dir: &Path) -> Proc {
    let conf = dir.join(format!("nats-{host}.conf"));
    std::fs::write(
        &conf,
        format!(
            "server_name: n{host}\nlisten: {a}:4222\njetstream {{ store_dir: \"{d}\" }}\n\
             cluster {{ name: outpost, listen: {a}:6222, routes: [{r}] }}\n",
            a = ip(host),
            d = dir.join(format!("js-{host}")).display(),
            r = peers(hosts, host, "nats://", 6222)
        ),
    )
    .unwrap();
    let mut child = lan
        .exec(host, "nats-server")
        .args(["-c", conf.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nats-server is installed");
    wait_ready(
        child.stderr.take().unwrap(),
        "Server is ready",
        "nats-server",
    );
    Proc { child: Some(child) }
}

fn node_env(database: String, nodes: &[usize]) -> Vec<(String, String)> {
    let nats: Vec<String> = nodes
        .iter()
        .map(|h| format!("nats://{}:4222", ip(*h)))
        .collect();
    vec![
        ("OUTPOST_CLUSTER_DATABASE".into(), database),
        ("OUTPOST_CLUSTER_NATS".into(), nats.join(",")),
        // PostgreSQL and NATS are on this test network only, which only the nodes reach.
        ("OUTPOST_CLUSTER_ALLOW_PLAIN".into(), "true".into()),
        ("OUTPOST_CLUSTER_PASSPHRASE".into(), PASSPHRASE.into()),
        ("OUTPOST_LIMITS_MESSAGES_PER_SECOND".into(), "100000".into()),
        ("OUTPOST_LIMITS_MESSAGE_BURST".into(), "100000".into()),
        ("OUTPOST_CALLS_ENABLED".into(), "false".into()),
    ]
}

fn outpost_cli(lan: &Lan, host: usize, data: &Path, env: &[(String, String)], args: &[&str]) {
    let out = lan
        .exec(host, env!("CARGO_BIN_EXE_outpost"))
        .args(args)
        .args(["--data-dir", data.to_str().unwrap()])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "outpost {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn outpost_node(lan: &Lan, host: usize, data: &Path, env: &[(String, String)]) -> Proc {
    let mut child = lan
        .exec(host, env!("CARGO_BIN_EXE_outpost"))
        .args(["serve", "--data-dir", data.to_str().unwrap()])
        .args([
            "--listen",
            &format!("{}:8443", ip(host)),
            "--http-listen",
            "off",
        ])
        .arg("--no-discovery")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("OUTPOST_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_ready(
        child.stderr.take().unwrap(),
        "Outpost is listening",
        "outpost serve",
    );
    Proc { child: Some(child) }
}

/// Starts Outpost on `hosts` as an operator would: the administrator made on the first, which
/// makes the site's CA and shares it; the others join. Returns the nodes and the CA (PEM).
fn start_site(
    lan: &Lan,
    hosts: &[usize],
    dir: &Path,
    env: &[(String, String)],
) -> (Vec<Proc>, String) {
    let data: Vec<PathBuf> = hosts
        .iter()
        .map(|h| dir.join(format!("node-{h}")))
        .collect();
    for d in &data {
        std::fs::create_dir_all(d).unwrap();
    }
    let admin_out = lan
        .exec(hosts[0], env!("CARGO_BIN_EXE_outpost"))
        .args([
            "user",
            "add",
            "admin",
            "--admin",
            "--password-stdin",
            "--data-dir",
        ])
        .arg(&data[0])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"admin-password-1\n")?;
            c.wait()
        })
        .unwrap();
    assert!(admin_out.success());
    let mut nodes = vec![outpost_node(lan, hosts[0], &data[0], env)];
    outpost_cli(lan, hosts[0], &data[0], env, &["cluster", "share-ca"]);
    for (h, d) in hosts.iter().zip(&data).skip(1) {
        outpost_cli(lan, *h, d, env, &["cluster", "join"]);
        nodes.push(outpost_node(lan, *h, d, env));
    }
    let ca = std::fs::read_to_string(data[0].join("certs/ca.pem")).unwrap();
    (nodes, ca)
}

/// Signs the administrator in through `host` and makes a channel; returns the token and it.
async fn sign_in_and_make_a_channel(http: &reqwest::Client, host: usize) -> (String, i64) {
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", base(host)))
        .json(&json!({"username": "admin", "password": "admin-password-1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let ch = http
        .post(format!("{}/api/v1/channels", base(host)))
        .bearer_auth(&token)
        .json(&json!({"name": "ops"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    (token, ch)
}

/// Runs `f` on a thread moved into the network namespace of `host`, with its own runtime: every
/// socket it opens is on that host.
fn on_host<T: Send>(lan: &Lan, host: usize, f: impl std::future::Future<Output = T> + Send) -> T {
    let ns = format!("/var/run/netns/{}", lan.hosts[host]);
    std::thread::scope(|s| {
        s.spawn(|| {
            let fd = std::fs::File::open(&ns).unwrap();
            rustix::thread::move_into_link_name_space(
                std::os::fd::AsFd::as_fd(&fd),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .unwrap();
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(f)
        })
        .join()
        .unwrap()
    })
}

fn tls(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    Arc::new(outpost::pki::client_config_trusting_pem(ca_pem.as_bytes()).unwrap())
}

fn client(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls((*tls(ca_pem)).clone())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn base(host: usize) -> String {
    format!("https://{}:8443", ip(host))
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

async fn ws(host: usize, ca_pem: &str, token: &str, from: Option<i64>) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let addr: SocketAddr = format!("{}:8443", ip(host)).parse().unwrap();
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let tls = tokio_rustls::TlsConnector::from(tls(ca_pem))
        .connect(name, tcp)
        .await
        .unwrap();
    let url = match from {
        Some(p) => format!("wss://{addr}/api/v1/ws?resume_from={p}"),
        None => format!("wss://{addr}/api/v1/ws"),
    };
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::client_async(req, tls).await.unwrap().0
}

/// The next `message.new` of a reader (its position and body), `None` once its node is gone.
async fn next_message(ws: &mut Ws) -> Option<(i64, String)> {
    use futures_util::StreamExt;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a reader hears from its node within 20 s")?;
        let Ok(tokio_tungstenite::tungstenite::Message::Text(t)) = msg else {
            if msg.is_err() {
                return None;
            }
            continue;
        };
        let f: Value = serde_json::from_str(t.as_str()).unwrap();
        if f["type"] == "event" && f["event"]["kind"] == "message.new" {
            let body = f["event"]["message"]["body"].as_str().unwrap().to_string();
            return Some((f["pos"].as_i64().unwrap(), body));
        }
    }
}

/// Sends numbered messages through the first node of `route` that answers, until `stop`;
/// a message is retried with the same `client_id` until it is acknowledged, so it is stored once.
/// Returns the acknowledged bodies and the statuses of refusals.
async fn send_until(
    http: reqwest::Client,
    route: Vec<usize>,
    token: String,
    ch: i64,
    tag: String,
    stop: Arc<AtomicBool>,
) -> (Vec<String>, Vec<u16>) {
    let (mut acked, mut refused) = (Vec::new(), Vec::new());
    let mut at = 0;
    // Bounded: at most 20,000 attempts or 60 s, whichever comes first.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut i = 0;
    for _ in 0..20_000 {
        if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            break;
        }
        let body = format!("{tag}-{i}");
        let sent = http
            .post(format!("{}/api/v1/channels/{ch}/messages", base(route[at])))
            .bearer_auth(&token)
            .json(&json!({"body": body, "client_id": body}))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                acked.push(body);
                i += 1;
            }
            Ok(r) => {
                refused.push(r.status().as_u16());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // The node is gone: the next one takes the same message.
            Err(_) => {
                at = (at + 1) % route.len();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    (acked, refused)
}

/// Every message body of the channel through the node on `host`, oldest first.
async fn history(http: &reqwest::Client, host: usize, token: &str, ch: i64) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let q = before.map(|b| format!("&before={b}")).unwrap_or_default();
        let page: Vec<Value> = http
            .get(format!(
                "{}/api/v1/channels/{ch}/messages?limit=200{q}",
                base(host)
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page.is_empty() {
            return all;
        }
        before = page[0]["seq"].as_i64();
        let mut older: Vec<String> = page
            .iter()
            .filter_map(|m| m["body"].as_str().map(str::to_string))
            .collect();
        older.extend(all);
        all = older;
    }
}

/// The clients' side: who sends, where.
struct Load<'a> {
    http: &'a reqwest::Client,
    token: &'a str,
    ch: i64,
}

impl Load<'_> {
    /// Runs a sender through each of `live` (moving on to the next node when its own is gone)
    /// for `before`, does `fail`, runs them `after` more, and returns what was acknowledged and
    /// the statuses of what was refused.
    async fn around(
        &self,
        live: &[usize],
        phase: &str,
        (before, after): (Duration, Duration),
        fail: impl std::future::Future<Output = ()>,
    ) -> (Vec<String>, Vec<u16>) {
        let stop = Arc::new(AtomicBool::new(false));
        let senders: Vec<_> = (0..live.len())
            .map(|k| {
                let route: Vec<usize> = (0..live.len())
                    .map(|j| live[(k + j) % live.len()])
                    .collect();
                tokio::spawn(send_until(
                    self.http.clone(),
                    route,
                    self.token.to_string(),
                    self.ch,
                    format!("{phase}{k}"),
                    stop.clone(),
                ))
            })
            .collect();
        tokio::time::sleep(before).await;
        fail.await;
        tokio::time::sleep(after).await;
        stop.store(true, Ordering::SeqCst);
        let (mut acked, mut refused) = (Vec::new(), Vec::new());
        for s in senders {
            let (a, r) = s.await.unwrap();
            acked.extend(a);
            refused.extend(r);
        }
        (acked, refused)
    }

    /// Sends one message through `host`, retrying for up to 15 s; true once it is stored.
    async fn send_one(&self, host: usize, body: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let r = self
                .http
                .post(format!(
                    "{}/api/v1/channels/{}/messages",
                    base(host),
                    self.ch
                ))
                .bearer_auth(self.token)
                .json(&json!({"body": body, "client_id": body}))
                .send()
                .await;
            if r.is_ok_and(|r| r.status().is_success()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    }
}

/// Each acknowledged message is in the history of every node in `hosts`, exactly once.
async fn all_stored_once(
    http: &reqwest::Client,
    hosts: &[usize],
    token: &str,
    ch: i64,
    acked: &[String],
) {
    for &h in hosts {
        let stored = history(http, h, token, ch).await;
        let mut count: HashMap<&str, usize> = HashMap::new();
        for b in &stored {
            *count.entry(b.as_str()).or_default() += 1;
        }
        assert!(
            count.values().all(|n| *n == 1),
            "node {h} stored a message twice"
        );
        let missing: Vec<&String> = acked
            .iter()
            .filter(|b| !count.contains_key(b.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "node {h} lacks acknowledged messages: {missing:?}"
        );
    }
}

#[test]
#[ignore = "needs root, network namespaces, postgresql and nats-server; scripts/test runs it"]
fn a_three_node_cluster_survives_losing_a_nats_server_a_node_and_postgres_for_a_while() {
    let lan = Lan::new("cl", 5);
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start(&lan);
    let mut nats_servers: Vec<Proc> = NODES
        .iter()
        .map(|h| nats(&lan, *h, &NODES, dir.path()))
        .collect();
    let env = node_env(pg.url(), &NODES);
    let (mut nodes, ca) = start_site(&lan, &NODES, dir.path(), &env);

    on_host(&lan, CLIENT, async {
        let http = client(&ca);
        let (token, ch) = sign_in_and_make_a_channel(&http, NODES[0]).await;
        let load = Load {
            http: &http,
            token: &token,
            ch,
        };
        let (short, long) = (Duration::from_millis(1500), Duration::from_millis(2500));

        // 1. One NATS server dies under load: nothing acknowledged is lost, and a reader on
        //    node 3 keeps receiving what is sent through the others.
        let mut reader = ws(NODES[2], &ca, &token, None).await;
        let (acked, refused) = load
            .around(&NODES, "nats", (short, long), async {
                nats_servers[0].kill()
            })
            .await;
        assert!(refused.is_empty(), "{refused:?}");
        assert!(acked.len() > 50, "only {} acknowledged", acked.len());
        let mut heard: HashSet<String> = HashSet::new();
        while !acked.iter().all(|b| heard.contains(b)) {
            let (_, body) = next_message(&mut reader).await.expect("node 3 is up");
            heard.insert(body);
        }
        all_stored_once(&http, &NODES, &token, ch, &acked).await;

        // 2. Node 1 is killed under load; its reader resumes on node 2 with no gap and nothing
        //    twice, and both survivors hold every acknowledged message once.
        let mut reader = ws(NODES[0], &ca, &token, None).await;
        let (acked, refused) = load
            .around(&NODES, "node", (short, long), async { nodes[0].kill() })
            .await;
        assert!(refused.iter().all(|s| *s == 503), "{refused:?}");
        let mut positions: Vec<i64> = Vec::new();
        let mut bodies: Vec<String> = Vec::new();
        while let Some((pos, body)) = next_message(&mut reader).await {
            positions.push(pos);
            bodies.push(body);
        }
        let last = positions.last().copied();
        let mut reader = ws(NODES[1], &ca, &token, last).await;
        let wanted: HashSet<&String> = acked.iter().collect();
        while !wanted.iter().all(|b| bodies.contains(b)) {
            let (pos, body) = next_message(&mut reader).await.expect("node 2 is up");
            positions.push(pos);
            bodies.push(body);
        }
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "a gap or a repeat: {positions:?}"
        );
        let unique: HashSet<&String> = bodies.iter().collect();
        assert_eq!(unique.len(), bodies.len(), "a message was received twice");
        all_stored_once(&http, &NODES[1..], &token, ch, &acked).await;

        // 3. PostgreSQL stops for 10 s: refusals are 503 only, the nodes stay up, and sending
        //    works again by itself; every acknowledged message is stored once.
        let pg_away = async {
            pg.down();
            tokio::time::sleep(Duration::from_secs(10)).await;
            pg.up();
        };
        let (mut acked, refused) = load.around(&NODES[1..], "pg", (short, long), pg_away).await;
        assert!(!refused.is_empty(), "the database was away for 10 s");
        assert!(refused.iter().all(|s| *s == 503), "{refused:?}");
        for h in &NODES[1..] {
            let body = format!("after-the-database-returned-via-node-{h}");
            assert!(
                load.send_one(*h, &body).await,
                "node {h} did not recover by itself"
            );
            acked.push(body);
        }
        all_stored_once(&http, &NODES[1..], &token, ch, &acked).await;
    });
    drop(nodes);
    drop(nats_servers);
    drop(pg);
}

/// Kills every process of `host` and cuts its link, as when a machine dies: nothing it held
/// (an address keepalived gave it, a connection) answers again.
fn kill_host(lan: &Lan, host: usize) {
    let out = Command::new("ip")
        .args(["netns", "pids", &lan.hosts[host]])
        .output()
        .unwrap();
    for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        let _ = Command::new("kill").args(["-9", pid]).status();
    }
    lan::sh(&["ip", "-n", &lan.hosts[host], "link", "set", "eth0", "down"]);
}

/// PostgreSQL managed by Patroni (Debian's `patroni`, Raft for its consensus, synchronous
/// replication so that a promoted standby has every acknowledged commit), on `host`.
fn patroni(lan: &Lan, host: usize, raft: &[usize], dir: &Path, ready: &str) -> Proc {
    let home = dir.join(format!("patroni-{host}"));
    std::fs::create_dir_all(&home).unwrap();
    let bin = std::fs::read_dir("/usr/lib/postgresql")
        .unwrap()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .max()
        .unwrap();
    let partners = peers(raft, host, "", 5010);
    let conf = format!(
        "scope: outpost\nname: pg{host}\n\
         restapi: {{listen: \"{a}:8008\", connect_address: \"{a}:8008\"}}\n\
         raft: {{data_dir: \"{h}/raft\", self_addr: \"{a}:5010\", partner_addrs: [{p}]}}\n\
         bootstrap:\n  dcs:\n    ttl: 10\n    loop_wait: 1\n    retry_timeout: 4\n    synchronous_mode: true\n\
         \x20   postgresql: {{use_pg_rewind: false, parameters: {{max_connections: 200}}}}\n\
         \x20 initdb: [{{encoding: UTF8}}, {{locale: C.UTF-8}}]\n\
         \x20 pg_hba: [\"local all all trust\", \"host replication replicator 10.99.0.0/24 trust\", \"host all all 10.99.0.0/24 trust\"]\n\
         postgresql:\n  listen: \"{a}:5432\"\n  connect_address: \"{a}:5432\"\n  data_dir: \"{h}/data\"\n\
         \x20 bin_dir: \"{b}\"\n  pgpass: \"{h}/pgpass\"\n\
         \x20 authentication: {{superuser: {{username: outpost, password: unused}}, replication: {{username: replicator, password: unused}}}}\n\
         \x20 parameters: {{unix_socket_directories: \"{h}\"}}\n",
        a = ip(host),
        h = home.display(),
        p = partners,
        b = bin.display(),
    );
    std::fs::write(home.join("patroni.yml"), conf).unwrap();
    lan::sh(&["chown", "-R", "postgres", home.to_str().unwrap()]);
    let mut child = lan
        .exec(host, "runuser")
        .args(["-u", "postgres", "--", "patroni"])
        .arg(home.join("patroni.yml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("patroni is installed");
    wait_ready(child.stderr.take().unwrap(), ready, "patroni");
    Proc { child: Some(child) }
}

/// A Raft member that holds no database: the third vote Patroni's two servers need.
fn raft_witness(lan: &Lan, host: usize, raft: &[usize], dir: &Path) -> Proc {
    let partners = peers(raft, host, "", 5010);
    let conf = dir.join(format!("raft-{host}.yml"));
    std::fs::write(
        &conf,
        format!(
            "raft: {{data_dir: \"{}\", self_addr: \"{}:5010\", partner_addrs: [{}]}}\n",
            dir.join(format!("raft-{host}")).display(),
            ip(host),
            partners
        ),
    )
    .unwrap();
    let child = lan
        .exec(host, "patroni_raft_controller")
        .arg(conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("patroni_raft_controller is installed");
    Proc { child: Some(child) }
}

/// HAProxy passing PostgreSQL (port 5000, to whichever server Patroni says is the primary) and
/// HTTPS (port 8443, to every node answering `/healthz`) through, and keepalived holding the
/// virtual address on one of the two balancer hosts.
fn balancer(
    lan: &Lan,
    host: usize,
    pg: &[usize],
    nodes: &[usize],
    primary: bool,
    dir: &Path,
) -> Vec<Proc> {
    let mut cfg = String::from(
        "global\n  maxconn 4000\n\
         defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 1h\n  timeout server 1h\n  timeout check 1s\n\
         listen postgres\n  bind :5000\n  option httpchk GET /primary\n  http-check expect status 200\n\
         \x20 default-server inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions\n",
    );
    for h in pg {
        cfg.push_str(&format!("  server pg{h} {}:5432 check port 8008\n", ip(*h)));
    }
    cfg.push_str(
        "listen outpost\n  bind :8443\n  option httpchk\n  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost\n\
         \x20 default-server inter 500ms fall 2 rise 1 check-ssl verify none on-marked-down shutdown-sessions\n",
    );
    for h in nodes {
        cfg.push_str(&format!("  server node{h} {}:8443 check\n", ip(*h)));
    }
    let haproxy_cfg = dir.join(format!("haproxy-{host}.cfg"));
    std::fs::write(&haproxy_cfg, cfg).unwrap();
    let haproxy = lan
        .exec(host, "haproxy")
        .args(["-db", "-f", haproxy_cfg.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haproxy is installed");
    let keepalived_cfg = dir.join(format!("keepalived-{host}.conf"));
    std::fs::write(
        &keepalived_cfg,
        format!(
            "global_defs {{ router_id lb{host} }}\n\
             vrrp_instance outpost {{\n  state {}\n  interface eth0\n  virtual_router_id 51\n  \
             priority {}\n  advert_int 1\n  virtual_ipaddress {{ {}/24 }}\n}}\n",
            if primary { "MASTER" } else { "BACKUP" },
            if primary { 150 } else { 100 },
            ip(VIP)
        ),
    )
    .unwrap();
    let pid = |what: &str| dir.join(format!("keepalived-{host}-{what}.pid"));
    let mut keepalived = lan
        .exec(host, "keepalived")
        .args(["-n", "-l", "-P", "-f"])
        .arg(&keepalived_cfg)
        .arg("-p")
        .arg(pid("main"))
        .arg("-r")
        .arg(pid("vrrp"))
        .arg("-c")
        .arg(pid("checkers"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keepalived is installed");
    let state = if primary {
        "Entering MASTER STATE"
    } else {
        "Entering BACKUP STATE"
    };
    wait_ready(keepalived.stderr.take().unwrap(), state, "keepalived");
    vec![
        Proc {
            child: Some(haproxy),
        },
        Proc {
            child: Some(keepalived),
        },
    ]
}

/// The reference layout of docs/cluster.md on a real network: PostgreSQL on two hosts managed
/// by Patroni (a Raft witness on a node's host), HAProxy and keepalived on two balancer hosts
/// holding a virtual address, three Outpost nodes with a NATS cluster, and the clients reaching
/// everything through the virtual address only. Under load, one after another: the PostgreSQL
/// primary's machine dies (Patroni promotes the standby), the balancer holding the address dies
/// (keepalived moves it), and an Outpost node dies (HAProxy stops sending to it). Each time
/// refusals are 503 only, sending resumes by itself, and every acknowledged message is stored
/// once.
#[test]
#[ignore = "needs root, network namespaces, postgresql, patroni, haproxy, keepalived and nats-server; scripts/test runs it"]
fn the_reference_layout_survives_losing_the_database_primary_a_balancer_and_a_node() {
    const PG_A: usize = 0;
    const PG_B: usize = 1;
    const LB_A: usize = 2;
    const LB_B: usize = 3;
    const HA_NODES: [usize; 3] = [4, 5, 6];
    const HA_CLIENT: usize = 7;
    let lan = Lan::new("ha", 8);
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let raft = [PG_A, PG_B, HA_NODES[0]];
    let _witness = raft_witness(&lan, HA_NODES[0], &raft, dir.path());
    let _pg_a = patroni(&lan, PG_A, &raft, dir.path(), "the leader with the lock");
    let _pg_b = patroni(&lan, PG_B, &raft, dir.path(), "following a leader");
    let _lb_a = balancer(&lan, LB_A, &[PG_A, PG_B], &HA_NODES, true, dir.path());
    let _lb_b = balancer(&lan, LB_B, &[PG_A, PG_B], &HA_NODES, false, dir.path());
    let _nats: Vec<Proc> = HA_NODES
        .iter()
        .map(|h| nats(&lan, *h, &HA_NODES, dir.path()))
        .collect();
    let mut env = node_env(
        format!("postgres://outpost@{}:5000/postgres", ip(VIP)),
        &HA_NODES,
    );
    // Every node's certificate covers the virtual address, through which clients reach it.
    env.push(("OUTPOST_TLS_ADDRESSES".into(), ip(VIP)));
    let (mut nodes, ca) = start_site(&lan, &HA_NODES, dir.path(), &env);

    on_host(&lan, HA_CLIENT, async {
        let http = client(&ca);
        let (token, ch) = sign_in_and_make_a_channel(&http, VIP).await;
        let load = Load {
            http: &http,
            token: &token,
            ch,
        };
        let check = |acked: Vec<String>, refused: Vec<u16>, what: &'static str| {
            let load = &load;
            async move {
                assert!(refused.iter().all(|s| *s == 503), "{what}: {refused:?}");
                let mut acked = acked;
                let body = format!("after-{what}");
                assert!(
                    load.send_one(VIP, &body).await,
                    "{what}: sending did not resume"
                );
                acked.push(body);
                all_stored_once(load.http, &[VIP], load.token, load.ch, &acked).await;
                acked.len()
            }
        };
        let short = Duration::from_millis(1500);

        // 1. The PostgreSQL primary's machine dies; Patroni promotes the standby (about 11 s).
        let (acked, refused) = load
            .around(&[VIP, VIP], "db", (short, Duration::from_secs(20)), async {
                kill_host(&lan, PG_A)
            })
            .await;
        let n = check(acked, refused, "database-failover").await;
        assert!(n > 50, "only {n} acknowledged");

        // 2. The balancer holding the virtual address dies; keepalived moves it.
        let (acked, refused) = load
            .around(&[VIP, VIP], "lb", (short, Duration::from_secs(6)), async {
                kill_host(&lan, LB_A)
            })
            .await;
        check(acked, refused, "balancer-failover").await;

        // 3. An Outpost node dies; HAProxy sends to the others.
        let (acked, refused) = load
            .around(
                &[VIP, VIP],
                "node",
                (short, Duration::from_secs(4)),
                async { nodes[0].kill() },
            )
            .await;
        check(acked, refused, "node-lost").await;
    });
}
