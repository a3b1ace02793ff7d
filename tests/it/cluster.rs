//! Cluster mode's store (issue 18): moving a one-box site into PostgreSQL with nothing lost.
//! These tests need a PostgreSQL server: `scripts/with-postgres` starts one for the run and sets
//! `OUTPOST_TEST_DATABASE` (scripts/test does). Without it they say so and pass nothing off as
//! tested: the whole rest of the suite then runs on SQLite.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::*;

async fn outpost(args: Vec<String>) -> (bool, String) {
    outpost_with(args, Vec::new()).await
}

/// `outpost ARGS` with the test CA and `env`, never the suite's database: what it prints and
/// whether it succeeded.
async fn outpost_with(args: Vec<String>, env: Vec<(&'static str, String)>) -> (bool, String) {
    tokio::task::spawn_blocking(move || {
        let out = outpost_bin()
            .args(&args)
            .env_remove("OUTPOST_CLUSTER_DATABASE")
            .env("OUTPOST_CLUSTER_CA_FILE", test_cluster_ca())
            .envs(env)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_box_site_moves_into_postgres_with_nothing_lost() {
    let url = database_or_skip!();
    // A one-box site with people, channels, a thread, a reaction, a direct message.
    let app = spawn_app_with(|c| c.cluster.database.clear()).await;
    let admin = app.setup_admin().await;
    let bob = app.invite_user(&admin, "bob", "bob-password").await;
    let ch = create_channel(&app, &admin, "ops", false).await;
    api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    let root = post_message(&app, &admin, ch, "fuel convoy leaves at noon").await;
    for i in 0..30 {
        post_message(&app, &bob, ch, &format!("status report {i}")).await;
    }
    let reply = api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"body": "copied", "thread_root": root["id"]})),
    )
    .await;
    assert_eq!(reply.status(), 200);
    let reply: Value = reply.json().await.unwrap();
    let r = api(
        &app,
        &bob,
        Method::POST,
        &format!("/api/v1/messages/{}/reactions", root["id"]),
        Some(json!({"emoji": "👍"})),
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    let before = history(&app, &admin, ch).await;
    let (_, ready) = app.ws(&bob, None).await;
    let position = ready["position"].as_i64().unwrap();
    let data = app.data_dir();
    let config = app.config.clone();
    let dir = app.dir.clone();

    // Refused while the server runs: it holds the data dir.
    let args = |to: &str| {
        vec![
            "migrate".to_string(),
            "--to".into(),
            to.to_string(),
            "--data-dir".into(),
            data.to_string_lossy().into_owned(),
        ]
    };
    let (ok, out) = outpost(args(&url)).await;
    assert!(!ok && out.contains("stop it first"), "{out}");
    app.stop().await;

    let (ok, out) = outpost(args(&url)).await;
    assert!(ok, "{out}");
    assert!(out.contains("moved") && out.contains(" s;"), "{out}");
    assert!(!out.contains(&url), "the URL may hold a password: {out}");
    // The SQLite file is kept aside, never served again; a second move is refused.
    assert!(!data.join("outpost.db").exists());
    let (ok, out) = outpost(args(&url)).await;
    assert!(!ok && out.contains("already"), "{out}");

    // The node starts on PostgreSQL (its data dir remembers the database): the same people,
    // sessions, history, reactions and positions.
    let mut config = config;
    config.cluster.database = url.clone();
    let moved = spawn_in(dir, config).await;
    let (_, out) = outpost(vec![
        "doctor".into(),
        "--data-dir".into(),
        data.to_string_lossy().into_owned(),
    ])
    .await;
    assert!(out.contains("PostgreSQL database answers"), "{out}");
    assert_eq!(moved.get_with(&bob, "/api/v1/me").await.status(), 200);
    assert_eq!(login(&moved, "bob", "bob-password").await.status(), 200);
    let after = history(&moved, &admin, ch).await;
    assert_eq!(before, after);
    let (mut ws, ready) = moved.ws(&bob, Some(position)).await;
    assert!(ready["position"].as_i64().unwrap() >= position);
    // New messages continue the numbering: next seq in the channel, a new id, delivered live.
    let new = post_message(&moved, &admin, ch, "after the move").await;
    assert_eq!(
        new["seq"].as_i64().unwrap(),
        reply["seq"].as_i64().unwrap() + 1
    );
    assert_eq!(
        new["id"].as_i64().unwrap(),
        reply["id"].as_i64().unwrap() + 1
    );
    let frame = loop {
        let f = ws.next_event().await;
        if f["event"]["message"]["body"] == "after the move" {
            break f;
        }
    };
    assert!(frame["pos"].as_i64().unwrap() > position);
    // Search finds moved messages (indexed in PostgreSQL after the move).
    let hits: Vec<Value> = api(&moved, &bob, Method::GET, "/api/v1/search?q=convoys", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    moved.stop().await;

    // Into a database that already holds a site: refused, nothing written.
    let fresh = spawn_app_with(|c| c.cluster.database.clear()).await;
    fresh.setup_admin().await;
    let fresh_data = fresh.data_dir();
    let _kept = fresh.stop().await;
    let (ok, out) = outpost(vec![
        "migrate".into(),
        "--to".into(),
        url.clone(),
        "--data-dir".into(),
        fresh_data.to_string_lossy().into_owned(),
    ])
    .await;
    assert!(!ok && out.contains("already holds a site"), "{out}");
    assert!(fresh_data.join("outpost.db").exists());
}

/// Two nodes of one site: an administrator (Alice) and Bob, both in #ops, Bob joined through B.
async fn two_nodes(
    node: impl Fn(&mut outpost::config::Config),
) -> (TestApp, TestApp, String, String, i64) {
    let a = spawn_app_with(&node).await;
    let b = spawn_node_beside(&a, &node).await;
    let alice = a.setup_admin().await;
    let bob = a.invite_user(&alice, "bob", "bob-password").await;
    let ch = create_channel(&a, &alice, "ops", false).await;
    let r = api(
        &b,
        &bob,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    assert!(r.status().is_success());
    (a, b, alice, bob, ch)
}

/// The bodies of `message.new` events a client receives until it has `n`, with their positions.
async fn receive_messages(ws: &mut Ws, n: usize) -> Vec<(i64, String)> {
    let mut got = Vec::new();
    while got.len() < n {
        let f = tokio::time::timeout(WAIT, ws.next_event())
            .await
            .expect("every message arrives");
        if f["event"]["kind"] == "message.new" {
            got.push((
                f["pos"].as_i64().unwrap(),
                f["event"]["message"]["body"].as_str().unwrap().to_string(),
            ));
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn two_nodes_deliver_every_message_to_members_on_either_in_the_same_order() {
    let url = database_or_skip!();
    // Bob joins through node B; both nodes know him as a member at once.
    let (a, b, alice, bob, ch) = two_nodes(|c| c.cluster.database = url.clone()).await;
    let carol = b.invite_user(&alice, "carol", "carol-password").await;

    let (mut wa, _) = a.ws(&alice, None).await;
    let (mut wb, _) = b.ws(&bob, None).await;
    // Carol is connected to A and joins through B: A's connections learn of her membership
    // from the log, so she gets what is posted on B.
    let (mut wc, _) = a.ws(&carol, None).await;
    let r = api(
        &b,
        &carol,
        Method::POST,
        &format!("/api/v1/channels/{ch}/join"),
        None,
    )
    .await;
    assert!(r.status().is_success());

    // Both post at once, each through their own node.
    let n = 40;
    let sends = |app: &TestApp, token: String, who: &'static str| {
        let client = app.api_client();
        let url = app.url(&format!("/api/v1/channels/{ch}/messages"));
        tokio::spawn(async move {
            for i in 0..n {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"body": format!("{who} {i}"), "client_id": format!("{who}-{i}")}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        })
    };
    let ta = sends(&a, alice.clone(), "alice");
    let tb = sends(&b, bob.clone(), "bob");
    ta.await.unwrap();
    tb.await.unwrap();

    let seen_a = receive_messages(&mut wa, 2 * n).await;
    let seen_b = receive_messages(&mut wb, 2 * n).await;
    let seen_c = receive_messages(&mut wc, 2 * n).await;
    // The same events in the same order on both nodes, positions rising without repeats.
    assert_eq!(seen_a, seen_b);
    assert_eq!(seen_a, seen_c);
    assert!(seen_a.windows(2).all(|w| w[0].0 < w[1].0), "{seen_a:?}");
    // And in the order of the channel's history.
    let history = history(&b, &alice, ch).await;
    let bodies: Vec<&str> = history
        .iter()
        .filter(|m| m["body"].as_str().is_some_and(|s| s.contains(' ')))
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    let live: Vec<&str> = seen_a.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(bodies, live);

    // Node A goes away; Alice resumes on B from the last position she saw: what was posted
    // meanwhile arrives once, nothing before it again.
    let last = seen_a.last().unwrap().0;
    drop(wa);
    drop(wc);
    let _kept = a.stop().await;
    for i in 0..5 {
        post_message(&b, &bob, ch, &format!("while A is down {i}")).await;
    }
    let (mut wa, _) = b.ws(&alice, Some(last)).await;
    let resumed = receive_messages(&mut wa, 5).await;
    let bodies: Vec<&str> = resumed.iter().map(|(_, b)| b.as_str()).collect();
    assert_eq!(
        bodies,
        (0..5)
            .map(|i| format!("while A is down {i}"))
            .collect::<Vec<_>>()
    );
    assert!(resumed[0].0 > last);
    b.stop().await;
}

/// A node run as its own `outpost serve` process on a cluster database, with a client that
/// trusts its CA.
pub(crate) struct Node {
    server: Option<Server>,
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) ca: String,
    pub(crate) client: reqwest::Client,
}

impl Node {
    fn start(data: &std::path::Path, url: &str) -> Node {
        Node::start_with(data, url, &[])
    }

    /// A node with more settings in its environment (`OUTPOST_CLUSTER_NATS`, …).
    pub(crate) fn start_with(data: &std::path::Path, url: &str, more: &[(&str, &str)]) -> Node {
        let ca_file = test_cluster_ca();
        let mut env = vec![
            ("OUTPOST_CLUSTER_DATABASE", url),
            ("OUTPOST_CLUSTER_CA_FILE", ca_file.to_str().unwrap()),
            // One account sends from three places at once here.
            ("OUTPOST_LIMITS_MESSAGES_PER_SECOND", "100000"),
            ("OUTPOST_LIMITS_MESSAGE_BURST", "100000"),
        ];
        env.extend_from_slice(more);
        let server = serve_with(data.to_str().unwrap(), &env);
        let addr: std::net::SocketAddr = server.https.parse().unwrap();
        let ca = std::fs::read_to_string(data.join("certs/ca.pem")).unwrap();
        let client = trusting_client(&ca, addr);
        Node {
            server: Some(server),
            addr,
            ca,
            client,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }

    /// `kill -9`: no shutdown, no goodbye.
    pub(crate) fn kill(&mut self) {
        if let Some(mut s) = self.server.take() {
            s.child.kill().unwrap();
            s.child.wait().unwrap();
        }
    }
}

/// Every message of a channel, oldest first, through the node at `base`.
async fn full_history(client: &reqwest::Client, base: &str, token: &str, ch: i64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut before: Option<i64> = None;
    loop {
        let path = match before {
            Some(b) => format!("/api/v1/channels/{ch}/messages?limit=200&before={b}"),
            None => format!("/api/v1/channels/{ch}/messages?limit=200"),
        };
        let page: Vec<Value> = client
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        before = page[0]["seq"].as_i64();
        let mut page = page;
        page.extend(all);
        all = page;
    }
    all
}

/// Sends numbered messages through `nodes[at]` until `stop`, moving to the next node when one
/// stops answering (with the same client_id: a message stored before a lost answer is stored
/// once). Returns the client_ids acknowledged and the refusals seen (status, code).
async fn send_until(
    nodes: Vec<(reqwest::Client, String)>,
    token: String,
    ch: i64,
    who: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> (Vec<String>, Vec<(u16, String)>) {
    use std::sync::atomic::Ordering;
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    let mut at = 0;
    let mut i = 0;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        let (client, base) = &nodes[at % nodes.len()];
        let id = format!("{who}-{i}");
        let r = client
            .post(format!("{base}/api/v1/channels/{ch}/messages"))
            .bearer_auth(&token)
            .json(&json!({"body": id, "client_id": id}))
            .send()
            .await;
        match r {
            Ok(r) if r.status() == 200 => {
                acked.push(id);
                i += 1;
            }
            Ok(r) => {
                let status = r.status().as_u16();
                let body: Value = r.json().await.unwrap_or_default();
                refused.push((
                    status,
                    body["error"]["code"].as_str().unwrap_or("").to_string(),
                ));
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(_) => {
                // The node is gone: go on through the next one.
                at += 1;
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
    (acked, refused)
}

const PASSPHRASE: &str = "correct horse battery staple";

/// `outpost cluster ARGS` on a node's data dir, with the passphrase in the environment.
async fn cluster_cli(
    data: &std::path::Path,
    url: &str,
    args: &[&str],
    passphrase: &str,
) -> (bool, String) {
    let mut all = vec!["cluster".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    all.extend(["--data-dir".into(), data.to_string_lossy().into_owned()]);
    outpost_with(
        all,
        vec![
            ("OUTPOST_CLUSTER_DATABASE", url.to_string()),
            ("OUTPOST_CLUSTER_PASSPHRASE", passphrase.to_string()),
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_killed_under_load_loses_nothing_and_its_clients_resume_on_another() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let url = database_or_skip!();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    // The first administrator, made with the CLI on the cluster's database.
    let ca_file = test_cluster_ca();
    add_admin(
        dirs[0].path(),
        &[
            ("OUTPOST_CLUSTER_DATABASE", &url),
            ("OUTPOST_CLUSTER_CA_FILE", ca_file.to_str().unwrap()),
        ],
    );
    // The first node makes the site's CA; it shares it and the others join, as an operator
    // would add them (docs/cluster.md).
    let mut nodes = vec![Node::start(dirs[0].path(), &url)];
    let (ok, out) = cluster_cli(dirs[0].path(), &url, &["share-ca"], PASSPHRASE).await;
    assert!(ok, "{out}");
    for d in &dirs[1..] {
        let (ok, out) = cluster_cli(d.path(), &url, &["join"], PASSPHRASE).await;
        assert!(ok, "{out}");
        nodes.push(Node::start(d.path(), &url));
    }
    assert!(
        nodes.iter().all(|n| n.ca == nodes[0].ca),
        "one CA for the site"
    );
    let token: String = {
        let r: Value = nodes[0]
            .client
            .post(nodes[0].url("/api/v1/auth/login"))
            .json(&json!({"username": ADMIN, "password": ADMIN_PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["token"].as_str().unwrap().to_string()
    };
    let r: Value = nodes[0]
        .client
        .post(nodes[0].url("/api/v1/channels"))
        .bearer_auth(&token)
        .json(&json!({"name": "ops", "private": false}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ch = r["id"].as_i64().unwrap();

    // A reader connected to the node that will die.
    let (mut reader, ready) = ws_connect(nodes[0].addr, &nodes[0].ca, &token, None).await;
    let start = ready["position"].as_i64().unwrap();

    // A sender through each node, each moving on to the next node if its own goes away.
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for k in 0..3 {
        let route: Vec<(reqwest::Client, String)> = (0..3)
            .map(|j| {
                let n = &nodes[(k + j) % 3];
                (n.client.clone(), n.url(""))
            })
            .collect();
        senders.push(tokio::spawn(send_until(
            route,
            token.clone(),
            ch,
            format!("n{k}"),
            stop.clone(),
        )));
    }

    // The reader takes what arrives until its node dies mid-stream.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    nodes[0].kill();
    let mut positions: Vec<i64> = Vec::new();
    let mut bodies: Vec<String> = Vec::new();
    while let Some(f) = reader.next().await {
        if f["type"] == "event" {
            positions.push(f["pos"].as_i64().unwrap());
            if f["event"]["kind"] == "message.new" {
                bodies.push(f["event"]["message"]["body"].as_str().unwrap().to_string());
            }
        }
    }
    // It resumes on another node from the last position it saw.
    let last = positions.last().copied().unwrap_or(start);
    let (mut reader, _) = ws_connect(nodes[1].addr, &nodes[1].ca, &token, Some(last)).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    for s in senders {
        let (ids, refused) = s.await.unwrap();
        assert!(
            refused.iter().all(|(status, _)| *status == 503),
            "{refused:?}"
        );
        acked.extend(ids);
    }
    assert!(
        acked.len() > 100,
        "only {} messages were acknowledged",
        acked.len()
    );
    let wanted: std::collections::HashSet<&String> = acked.iter().collect();
    while !wanted.iter().all(|id| bodies.contains(id)) {
        let f = tokio::time::timeout(WAIT, reader.next_event())
            .await
            .expect("the resumed reader gets every acknowledged message");
        positions.push(f["pos"].as_i64().unwrap());
        if f["event"]["kind"] == "message.new" {
            bodies.push(f["event"]["message"]["body"].as_str().unwrap().to_string());
        }
    }
    // No gap and no duplicate across the node's death: positions only rise, and nothing is
    // received twice.
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let unique: std::collections::HashSet<&String> = bodies.iter().collect();
    assert_eq!(unique.len(), bodies.len());

    // Both surviving nodes hold every acknowledged message exactly once.
    for node in &nodes[1..] {
        let history = full_history(&node.client, &node.url(""), &token, ch).await;
        let ids: Vec<&str> = history
            .iter()
            .filter_map(|m| m["client_id"].as_str())
            .collect();
        let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len(), "a message was stored twice");
        for id in &acked {
            assert!(
                distinct.contains(id.as_str()),
                "{id} was acknowledged but is missing"
            );
        }
    }
}

/// A PostgreSQL server of this test's own (Debian's package, a temporary directory, 127.0.0.1):
/// the one test that stops the database must not stop everyone else's.
struct OwnPostgres {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl OwnPostgres {
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let mut c = if nix_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(program));
            c
        } else {
            std::process::Command::new(self.bin.join(program))
        };
        c.args(args).output().unwrap()
    }

    fn start() -> OwnPostgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("initdb").exists())
            .max()
            .expect("PostgreSQL is installed");
        let dir = tempfile::tempdir().unwrap();
        if nix_root() {
            let _ = std::process::Command::new("chown")
                .args(["postgres"])
                .arg(dir.path())
                .status();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let pg = OwnPostgres { bin, dir, port };
        let data = pg.data();
        let out = pg.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "outpost",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        pg.up();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    fn up(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        let out = self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-o",
                &options,
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn down(&self) {
        let out = self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn url(&self) -> String {
        format!("postgres://outpost@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

fn nix_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

#[tokio::test(flavor = "multi_thread")]
async fn postgres_stopped_under_load_refuses_clearly_and_everything_recovers_by_itself() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    if test_database().is_none() {
        eprintln!("SKIPPED: needs OUTPOST_TEST_DATABASE (scripts/with-postgres)");
        return;
    }
    let pg = OwnPostgres::start();
    let url = pg.url();
    // This test's own server is plain TCP on loopback, which needs no CA.
    let node = |c: &mut outpost::config::Config| {
        c.cluster.database = url.clone();
        c.cluster.ca_file = Default::default();
        c.limits.messages_per_second = 100_000.0;
        c.limits.message_burst = 100_000;
    };
    let a = spawn_app_with(node).await;
    let b = spawn_node_beside(&a, node).await;
    let admin = a.setup_admin().await;
    let ch = create_channel(&a, &admin, "ops", false).await;
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = [&a, &b]
        .iter()
        .enumerate()
        .map(|(k, app)| {
            tokio::spawn(send_until(
                vec![(app.api_client(), app.url(""))],
                admin.clone(),
                ch,
                format!("s{k}"),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;

    // Ten seconds without the database: the nodes stay up and say why nothing is saved.
    pg.down();
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    for app in [&a, &b] {
        let r = api(
            app,
            &admin,
            Method::POST,
            &format!("/api/v1/channels/{ch}/messages"),
            Some(json!({"body": "x"})),
        )
        .await;
        assert_eq!(r.status(), 503);
        assert_eq!(error_code(r).await, "database-unavailable");
        // The node itself is up: it serves what needs no database.
        let r = app.api_client().get(app.url("/")).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }

    // It comes back: both nodes write again by themselves, within seconds.
    pg.up();
    let back = std::time::Instant::now();
    for app in [&a, &b] {
        loop {
            let r = api(
                app,
                &admin,
                Method::POST,
                &format!("/api/v1/channels/{ch}/messages"),
                Some(json!({"body": "back"})),
            )
            .await;
            if r.status() == 200 {
                break;
            }
            assert!(
                back.elapsed() < std::time::Duration::from_secs(15),
                "not recovered"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    for s in senders {
        let (ids, r) = s.await.unwrap();
        acked.extend(ids);
        refused.extend(r);
    }
    // Refusals were the clear kind only, and nothing acknowledged is missing or doubled.
    assert!(!refused.is_empty());
    assert!(
        refused
            .iter()
            .all(|(status, code)| *status == 503 && code == "database-unavailable"),
        "{refused:?}"
    );
    let history = full_history(&b.api_client(), &b.url(""), &admin, ch).await;
    let ids: Vec<&str> = history
        .iter()
        .filter_map(|m| m["client_id"].as_str())
        .collect();
    let distinct: std::collections::HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(distinct.len(), ids.len());
    for id in &acked {
        assert!(
            distinct.contains(id.as_str()),
            "{id} acknowledged but missing"
        );
    }
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn on_a_shared_file_mount_any_node_serves_a_file_and_continues_an_upload() {
    use sha2::{Digest, Sha256};
    let url = database_or_skip!();
    // The site's shared mount (NFS, CephFS…), here one directory both nodes' data dirs use.
    let shared = tempfile::tempdir().unwrap();
    for d in ["files", "uploads"] {
        std::fs::create_dir_all(shared.path().join(d)).unwrap();
    }
    let node = |c: &mut outpost::config::Config| {
        c.cluster.database = url.clone();
        std::fs::create_dir_all(&c.data_dir).unwrap();
        for d in ["files", "uploads"] {
            std::os::unix::fs::symlink(shared.path().join(d), c.data_dir.join(d)).unwrap();
        }
    };
    let a = spawn_app_with(node).await;
    let b = spawn_node_beside(&a, node).await;
    let admin = a.setup_admin().await;
    let ch = create_channel(&a, &admin, "ops", false).await;

    // An upload starts through node A, which then goes away half-way.
    let data = pseudo_random(3 << 20, 7);
    let r = api(
        &a,
        &admin,
        Method::POST,
        "/api/v1/uploads",
        Some(json!({"name": "survey.bin", "size": data.len()})),
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let patch = |app: &TestApp, offset: usize, bytes: Vec<u8>| {
        app.api_client()
            .patch(app.url(&format!("/api/v1/uploads/{id}")))
            .bearer_auth(&admin)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(bytes)
            .send()
    };
    let r = patch(&a, 0, data[..1 << 20].to_vec()).await.unwrap();
    assert_eq!(r.status(), 200);
    let _kept = a.stop().await;

    // Node B knows where it stands and takes the rest.
    let status: Value = b
        .get_with(&admin, &format!("/api/v1/uploads/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(status["offset"], 1 << 20);
    let r = patch(&b, 1 << 20, data[1 << 20..].to_vec()).await.unwrap();
    assert_eq!(r.status(), 200);
    let file = r.json::<Value>().await.unwrap()["file"].clone();
    let r = api(
        &b,
        &admin,
        Method::POST,
        &format!("/api/v1/channels/{ch}/messages"),
        Some(json!({"attachments": [file["id"]]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let got = b
        .api_client()
        .get(b.url(file["url"].as_str().unwrap()))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(
        Sha256::digest(got.bytes().await.unwrap()),
        Sha256::digest(&data)
    );
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn typing_and_profile_changes_reach_people_on_other_nodes_through_nats() {
    let (Some(url), Ok(nats)) = (test_database(), std::env::var("OUTPOST_TEST_NATS")) else {
        eprintln!("SKIPPED: needs OUTPOST_TEST_DATABASE and OUTPOST_TEST_NATS (scripts/with-postgres scripts/with-nats)");
        return;
    };
    let node = |c: &mut outpost::config::Config| {
        c.cluster.database = url.clone();
        c.cluster.nats = vec![nats.clone()];
    };
    let (a, b, alice, bob, ch) = two_nodes(node).await;
    let (mut wa, _) = a.ws(&alice, None).await;
    let (mut wb, _) = b.ws(&bob, None).await;
    // Subscriptions on NATS are made as the nodes start; give them a moment to be in place.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    // Alice types on A; Bob, on B, sees it.
    wa.send(json!({"type": "typing", "channel_id": ch})).await;
    let typing = loop {
        let f = tokio::time::timeout(WAIT, wb.next())
            .await
            .expect("typing reaches the other node")
            .expect("open");
        if f["type"] == "typing" {
            break f;
        }
    };
    assert_eq!(typing["channel_id"], ch);
    assert_eq!(typing["user_id"], id_of(&a, &alice).await);

    // Bob sets a status on B; Alice, on A, is told.
    let r = api(
        &b,
        &bob,
        Method::PUT,
        "/api/v1/me/status",
        Some(json!({"emoji": "🚒", "text": "on a call-out", "clear_after": "never"})),
    )
    .await;
    assert!(r.status().is_success(), "{}", r.status());
    let updated = loop {
        let f = tokio::time::timeout(WAIT, wa.next())
            .await
            .expect("the profile change reaches the other node")
            .expect("open");
        if f["type"] == "user.updated" {
            break f;
        }
    };
    assert_eq!(updated["person"]["username"], "bob");
    assert_eq!(updated["person"]["status"]["text"], "on a call-out");

    // Presence spans the nodes: Carol, on A, watches Bob, who is connected to B.
    let carol = a.invite_user(&alice, "carol", "carol-password").await;
    let bob_id = id_of(&b, &bob).await;
    let (mut wc, _) = a.ws(&carol, None).await;
    wc.send(json!({"type": "presence_sub", "user_ids": [bob_id]}))
        .await;
    assert_eq!(presence_of(&mut wc, bob_id).await, "online");
    wb.send(json!({"type": "presence", "status": "away"})).await;
    assert_eq!(presence_of(&mut wc, bob_id).await, "away");
    drop(wb);
    assert_eq!(presence_of(&mut wc, bob_id).await, "offline");
    a.stop().await;
    b.stop().await;
}

/// The next presence `ws` is told for `user` (its watch list's first answer counts too).
async fn presence_of(ws: &mut Ws, user: i64) -> String {
    loop {
        let f = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a presence frame")
            .expect("open");
        if f["type"] == "presence_state" {
            return f["users"][0]["status"].as_str().unwrap().to_string();
        }
        if f["type"] == "presence" && f["user_id"] == user {
            return f["status"].as_str().unwrap().to_string();
        }
    }
}

/// Site-wide jobs run once per turn, not once per node: two nodes scheduled to back up every
/// second write one backup per second between them, never the same turn twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_backup_is_written_by_one_node_per_turn() {
    let url = database_or_skip!();
    let recipient = age::x25519::Identity::generate().to_public().to_string();
    let node = |c: &mut outpost::config::Config| {
        c.cluster.database = url.clone();
        c.backup.interval_secs = 1;
        c.backup.keep = 100;
        c.backup.recipients = vec![recipient.clone()];
    };
    let a = spawn_app_with(node).await;
    let b = spawn_node_beside(&a, node).await;
    let names = |data: &std::path::Path| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(data.join("backups"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .filter(|n| n.ends_with(".age"))
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while names(&a.data_dir()).len() + names(&b.data_dir()).len() < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "scheduled backups did not run"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (kept_a, _) = a.stop().await;
    let (kept_b, _) = b.stop().await;
    let (on_a, on_b) = (names(kept_a.path()), names(kept_b.path()));
    let twice: Vec<&String> = on_a.intersection(&on_b).collect();
    assert!(twice.is_empty(), "both nodes wrote {twice:?}");
}

/// Settings each node keeps in memory follow a change made through another node within
/// seconds: notification keywords and the two-step sign-in policy.
#[tokio::test(flavor = "multi_thread")]
async fn settings_changed_on_one_node_take_effect_on_the_others() {
    let url = database_or_skip!();
    let (a, b, alice, bob, ch) = two_nodes(|c| c.cluster.database = url.clone()).await;
    let r = api(
        &a,
        &bob,
        Method::PATCH,
        "/api/v1/me/preferences",
        Some(json!({"keywords": ["convoy"]})),
    )
    .await;
    assert_eq!(r.status(), 200);
    // B learns of Bob's keyword within seconds; from then a message sent through B mentions him.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut sent = 0;
    loop {
        post_message(&b, &alice, ch, "the convoy left").await;
        sent += 1;
        if channel_view(&a, &bob, ch).await["mentions"].as_i64() > Some(0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node B never matched a keyword set through node A ({sent} messages)"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }

    let r = api(
        &a,
        &alice,
        Method::PUT,
        "/api/v1/admin/settings",
        Some(json!({"two_factor_policy": "everyone"})),
    )
    .await;
    assert_eq!(r.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let r = b.get_with(&bob, "/api/v1/channels").await;
        if r.status() == 403 {
            assert_eq!(error_code(r).await, "two-factor-enrolment-required");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node B never applied the policy set through node A"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    a.stop().await;
    b.stop().await;
}

/// Each node's `/metrics` names the node on every series, so one scrape config covers them all.
#[tokio::test(flavor = "multi_thread")]
async fn each_node_labels_its_metrics_with_its_name() {
    let url = database_or_skip!();
    let a = spawn_app_with(|c| {
        c.cluster.database = url.clone();
        c.cluster.node_name = "node-a".into();
    })
    .await;
    let admin = a.setup_admin().await;
    let text = a.get_with(&admin, "/metrics").await.text().await.unwrap();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.contains("node=\"node-a\""), "{line}");
    }
    assert!(text.contains("outpost_up{node=\"node-a\"} 1"), "{text}");
    a.stop().await;
}

/// The test PostgreSQL accepts TLS only (scripts/with-postgres), like a production one should:
/// the whole suite reaching it proves nodes encrypt the link. A node without the CA is refused
/// by the server, and a node given another CA refuses the server: no plain-text fallback.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_reaches_postgres_only_over_tls_to_the_certificate_its_ca_signed() {
    let (Some(url), ca) = (test_database(), test_cluster_ca()) else {
        eprintln!("SKIPPED: needs OUTPOST_TEST_DATABASE (scripts/with-postgres)");
        return;
    };
    if ca.as_os_str().is_empty() {
        eprintln!("SKIPPED: needs OUTPOST_TEST_CLUSTER_CA (scripts/with-postgres)");
        return;
    }
    let other = spawn_app_with(|c| c.cluster.database.clear()).await;
    let other_ca = other.data_dir().join("certs/ca.pem");
    for (ca_file, why) in [
        (std::path::PathBuf::new(), "no pg_hba.conf entry"),
        (other_ca, "certificate"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        config.cluster.database = url.clone();
        config.cluster.ca_file = ca_file.clone();
        let err = match outpost::server::start(config).await {
            Ok(_) => panic!("a node with ca_file {ca_file:?} started"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(why), "{ca_file:?}: {err}");
        assert!(!err.contains(&url), "the URL may hold a password: {err}");
    }
    other.stop().await;
}

/// Every node serves certificates from the one site CA devices trust: the first node's CA is
/// sealed with a passphrase into the database (`outpost cluster share-ca`) and installed on
/// each new node (`outpost cluster join`), which then issues its own certificate covering the
/// site's shared name and virtual address. A node without it, or with another CA, does not
/// start; a wrong passphrase installs nothing.
#[tokio::test(flavor = "multi_thread")]
async fn new_nodes_join_the_site_ca_sealed_with_a_passphrase() {
    let url = database_or_skip!();
    let vip: std::net::IpAddr = "10.9.9.9".parse().unwrap();
    let node = |c: &mut outpost::config::Config| {
        c.cluster.database = url.clone();
        c.tls.names = vec!["chat.lan".into()];
        c.tls.addresses = vec![vip];
    };
    let a = spawn_app_with(node).await;
    let site_ca = std::fs::read_to_string(a.data_dir().join("certs/ca.pem")).unwrap();

    // A second node that made a CA of its own (it ran alone before) is refused at start.
    let b_dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut b_config = test_config(b_dir.path());
    node(&mut b_config);
    let b_data = b_config.data_dir.clone();
    let own = spawn_in(b_dir.clone(), {
        let mut c = b_config.clone();
        c.cluster.database.clear();
        c
    })
    .await;
    own.stop().await;
    let err = match outpost::server::start(b_config.clone()).await {
        Ok(_) => panic!("a node with another CA started"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("outpost cluster join"), "{err}");

    // Nothing to join before a node shares; a short passphrase is refused.
    let (ok, out) = cluster_cli(&b_data, &url, &["join"], PASSPHRASE).await;
    assert!(!ok && out.contains("share-ca"), "{out}");
    let (ok, out) = cluster_cli(&a.data_dir(), &url, &["share-ca"], "short").await;
    assert!(!ok && out.contains("12"), "{out}");
    let (ok, out) = cluster_cli(&a.data_dir(), &url, &["share-ca"], PASSPHRASE).await;
    assert!(ok, "{out}");
    let fingerprint = outpost::pki::fingerprint(&outpost::pki::pem_to_der(&site_ca).unwrap());
    assert!(out.contains(&fingerprint), "{out}");

    // The wrong passphrase installs nothing; the right one installs the site's CA and sets the
    // node's own aside.
    let own_ca = std::fs::read_to_string(b_data.join("certs/ca.pem")).unwrap();
    let (ok, out) = cluster_cli(&b_data, &url, &["join"], "not the passphrase").await;
    assert!(!ok && out.contains("passphrase is wrong"), "{out}");
    assert_eq!(
        std::fs::read_to_string(b_data.join("certs/ca.pem")).unwrap(),
        own_ca
    );
    let (ok, out) = cluster_cli(&b_data, &url, &["join"], PASSPHRASE).await;
    assert!(ok && out.contains("installed"), "{out}");
    assert_eq!(
        std::fs::read_to_string(b_data.join("certs/ca.pem")).unwrap(),
        site_ca
    );
    let key = b_data.join("certs/ca.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let aside = std::fs::read_dir(b_data.join("certs"))
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().starts_with("replaced-ca-"));
    assert!(aside, "the node's own CA is kept aside");
    let (ok, out) = cluster_cli(&b_data, &url, &["join"], PASSPHRASE).await;
    assert!(ok && out.contains("already"), "{out}");
    let (_, out) = outpost(vec![
        "doctor".into(),
        "--data-dir".into(),
        b_data.to_string_lossy().into_owned(),
    ])
    .await;
    assert!(out.contains("this node holds the site's CA"), "{out}");

    // Now it starts, and serves a certificate from the site's CA that covers the shared name
    // and the virtual address as well as its own.
    let b = spawn_in(b_dir, b_config).await;
    let client = trusting_client(&site_ca, b.https_addr());
    let r = client
        .get(format!(
            "https://localhost:{}/healthz",
            b.https_addr().port()
        ))
        .send()
        .await;
    assert!(
        r.is_ok_and(|r| r.status() == 200),
        "the site's CA vouches for node B"
    );
    let leaf = std::fs::read_to_string(b_data.join("certs/server.pem")).unwrap();
    let sans = outpost::pki::certificate_sans(&outpost::pki::pem_to_der(&leaf).unwrap());
    assert!(
        sans.contains(&outpost::pki::San::Dns("chat.lan".into())),
        "{sans:?}"
    );
    assert!(sans.contains(&outpost::pki::San::Ip(vip)), "{sans:?}");
    a.stop().await;
    b.stop().await;
}
