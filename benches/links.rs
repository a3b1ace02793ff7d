//! Linked sites (issue 19): two real servers in this process on loopback, paired through the API
//! as administrators would, and measured.
//!
//!     cargo bench --bench links                 # both scenarios at target size
//!     cargo bench --bench links -- partition    # chosen scenarios
//!     cargo bench --bench links -- --quick      # small sizes, a smoke run
//!
//! - `partition`: 20 shared channels; the link is cut (paused) for as long as each side takes
//!   to post 10,000 messages spread over the 20; then the time until both sites hold all 20,000.
//! - `slow`: the link passes through a proxy in this process that carries 64 kbit/s each way
//!   and adds 150 ms each way (a satellite hop; netem is not available, so the proxy shapes and
//!   delays); 1,000 messages of 80 characters posted while the link was cut, then the catch-up:
//!   throughput as a fraction of the link's capacity, bytes on the wire per message.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use outpost::config::{Config, HttpListen, LinksConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

struct Site {
    handle: outpost::ServerHandle,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
    token: String,
}

impl Site {
    async fn start(name: &str, advertise: Option<SocketAddr>) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            site_name: name.into(),
            data_dir: dir.path().join("data"),
            listen: "127.0.0.1:0".parse().unwrap(),
            http_listen: HttpListen::Off,
            discovery: false,
            calls: outpost::config::CallsConfig {
                enabled: false,
                ..Default::default()
            },
            limits: outpost::config::LimitsConfig {
                messages_per_second: 100_000.0,
                message_burst: 100_000,
                ..Default::default()
            },
            links: LinksConfig {
                listen: HttpListen::Addr("127.0.0.1:0".parse().unwrap()),
                addresses: advertise.into_iter().collect(),
            },
            ..Default::default()
        };
        let handle = outpost::start(config).await.expect("server starts");
        let ca = handle.state.pki.ca_pem.clone();
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(outpost::pki::client_config_trusting_pem(ca.as_bytes()).unwrap())
            .resolve("localhost", handle.https_addr)
            .build()
            .unwrap();
        let mut site = Site {
            token: String::new(),
            http,
            _dir: dir,
            handle,
        };
        let setup = site
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/setup",
                Some(json!({
                    "token": site.handle.setup_token.clone().unwrap(),
                    "username": "admin",
                    "password": "admin-password-1"
                })),
            )
            .await;
        site.token = setup["token"].as_str().unwrap().to_string();
        site
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("https://localhost:{}{path}", self.handle.https_addr.port());
        let mut req = self.http.request(method, url);
        if !self.token.is_empty() {
            req = req.bearer_auth(&self.token);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Posts `n` messages spread over `channels`, 32 at a time.
    async fn post(&self, channels: &[i64], n: usize, tag: &str) {
        let next = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let (http, token, port) = (
                self.http.clone(),
                self.token.clone(),
                self.handle.https_addr.port(),
            );
            let (next, channels, tag) = (next.clone(), channels.to_vec(), tag.to_string());
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if i >= n {
                        break;
                    }
                    let ch = channels[i % channels.len()];
                    let body = sentence(&tag, i);
                    let r = http
                        .post(format!(
                            "https://localhost:{port}/api/v1/channels/{ch}/messages"
                        ))
                        .bearer_auth(&token)
                        .json(&json!({"body": body}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }

    /// Messages held in `channels` (their sequence counters: nothing is deleted here).
    async fn held(&self, names: &[String]) -> i64 {
        let list = self
            .call(reqwest::Method::GET, "/api/v1/channels", None)
            .await;
        list.as_array()
            .unwrap()
            .iter()
            .filter(|c| names.iter().any(|n| c["name"] == n.as_str()))
            .map(|c| c["last_seq"].as_i64().unwrap_or(0))
            .sum()
    }

    async fn link_id(&self) -> i64 {
        self.call(reqwest::Method::GET, "/api/v1/admin/links", None)
            .await[0]["id"]
            .as_i64()
            .unwrap()
    }
}

/// 80 characters of words, as people write (repeated letters would flatter compression).
fn sentence(tag: &str, i: usize) -> String {
    const WORDS: [&str; 48] = [
        "convoy",
        "left",
        "the",
        "depot",
        "at",
        "dawn",
        "fuel",
        "is",
        "low",
        "send",
        "two",
        "trucks",
        "north",
        "road",
        "closed",
        "after",
        "rain",
        "bridge",
        "checked",
        "ok",
        "radio",
        "battery",
        "spare",
        "medical",
        "team",
        "arrives",
        "noon",
        "water",
        "supply",
        "delayed",
        "report",
        "by",
        "evening",
        "generator",
        "repaired",
        "shift",
        "change",
        "tomorrow",
        "please",
        "confirm",
        "received",
        "list",
        "updated",
        "camp",
        "south",
        "gate",
        "open",
        "village",
    ];
    let mut x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ tag.len() as u64;
    let mut out = format!("{tag} {i}:");
    while out.len() < 80 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push(' ');
        out.push_str(WORDS[(x % WORDS.len() as u64) as usize]);
    }
    out.truncate(80);
    out
}

/// HQ makes `count` channels and shares them; the field office accepts, joins them all, and
/// returns (HQ's channel ids, the field's channel ids, the names).
async fn pair_and_share(
    hq: &Site,
    field: &Site,
    count: usize,
) -> (Vec<i64>, Vec<i64>, Vec<String>) {
    let inv = hq
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/links/invites",
            Some(json!({})),
        )
        .await;
    field
        .call(
            reqwest::Method::POST,
            "/api/v1/admin/links",
            Some(json!({"code": inv["code"]})),
        )
        .await;
    let link = hq.link_id().await;
    let names: Vec<String> = (0..count).map(|i| format!("shared-{i:02}")).collect();
    let mut hq_ids = Vec::new();
    for name in &names {
        let id = hq
            .call(
                reqwest::Method::POST,
                "/api/v1/channels",
                Some(json!({"name": name})),
            )
            .await["id"]
            .as_i64()
            .unwrap();
        hq.call(
            reqwest::Method::PUT,
            &format!("/api/v1/channels/{id}/links/{link}"),
            None,
        )
        .await;
        hq_ids.push(id);
    }
    let start = Instant::now();
    let field_ids = loop {
        let list = field
            .call(reqwest::Method::GET, "/api/v1/channels/browse", None)
            .await;
        let ids: Vec<i64> = names
            .iter()
            .filter_map(|n| {
                list.as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["name"] == n.as_str())
                    .and_then(|c| c["id"].as_i64())
            })
            .collect();
        if ids.len() == count {
            break ids;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "channels never arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for id in &field_ids {
        field
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/channels/{id}/join"),
                None,
            )
            .await;
    }
    (hq_ids, field_ids, names)
}

async fn set_paused(site: &Site, paused: bool) {
    let id = site.link_id().await;
    let action = if paused { "pause" } else { "resume" };
    site.call(
        reqwest::Method::POST,
        &format!("/api/v1/admin/links/{id}/{action}"),
        None,
    )
    .await;
}

async fn wait_for(sites: &[&Site], names: &[String], total: i64, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let mut all = true;
        for s in sites {
            if s.held(names).await < total {
                all = false;
            }
        }
        if all {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "the sites did not converge within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn partition(per_side: usize, channels: usize) {
    let hq = Site::start("HQ", None).await;
    let field = Site::start("Field", None).await;
    let (hq_ids, field_ids, names) = pair_and_share(&hq, &field, channels).await;
    set_paused(&field, true).await;
    let posting = Instant::now();
    tokio::join!(
        hq.post(&hq_ids, per_side, "hq"),
        field.post(&field_ids, per_side, "fo")
    );
    let posted_in = posting.elapsed();
    set_paused(&field, false).await;
    let took = wait_for(
        &[&hq, &field],
        &names,
        2 * per_side as i64,
        Duration::from_secs(600),
    )
    .await;
    println!(
        "partition: {per_side} messages on each side in {channels} shared channels (posted in \
         {:.1} s while the link was cut); both sites held all {} {:.2} s after the link returned \
         ({:.0} messages/s applied each way)",
        posted_in.as_secs_f64(),
        2 * per_side,
        took.as_secs_f64(),
        per_side as f64 / took.as_secs_f64()
    );
    hq.handle.shutdown().await;
    field.handle.shutdown().await;
}

/// Carries bytes one way at `rate` bytes per second, each chunk `delay` after it was read.
async fn shaped(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    rate: f64,
    delay: Duration,
    counter: Arc<AtomicU64>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(Instant, Vec<u8>)>(8);
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 1500];
        loop {
            match from.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now(), buf[..n].to_vec())).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut free_at = Instant::now();
    while let Some((read_at, chunk)) = rx.recv().await {
        // The wire is busy until the previous chunk is through; this one then takes its time.
        let start = free_at.max(Instant::now());
        let done = start + Duration::from_secs_f64(chunk.len() as f64 / rate);
        free_at = done;
        let arrive = (read_at + delay).max(done);
        tokio::time::sleep_until(arrive.into()).await;
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        if to.write_all(&chunk).await.is_err() {
            break;
        }
    }
    reader.abort();
}

async fn slow(messages: usize) {
    const RATE: f64 = 64_000.0 / 8.0;
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_addr = proxy.local_addr().unwrap();
    let upstream: Arc<Mutex<Option<SocketAddr>>> = Arc::new(Mutex::new(None));
    let (down, up) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    {
        let (upstream, down, up) = (upstream.clone(), down.clone(), up.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = proxy.accept().await {
                let Some(target) = *upstream.lock().unwrap() else {
                    continue;
                };
                let Ok(server) = TcpStream::connect(target).await else {
                    continue;
                };
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let delay = Duration::from_millis(150);
                tokio::spawn(shaped(cr, sw, RATE, delay, up.clone()));
                tokio::spawn(shaped(sr, cw, RATE, delay, down.clone()));
            }
        });
    }
    let hq = Site::start("HQ", Some(proxy_addr)).await;
    // HQ's link port opens with its first invitation (in pair_and_share); point the proxy at it
    // as soon as it is known.
    {
        let (upstream, links) = (upstream.clone(), hq.handle.state.links.clone());
        tokio::spawn(async move {
            loop {
                if let Some(addr) = links.listening() {
                    *upstream.lock().unwrap() = Some(addr);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
    let field = Site::start("Field", None).await;
    let (hq_ids, _, names) = pair_and_share(&hq, &field, 1).await;
    set_paused(&field, true).await;
    hq.post(&hq_ids, messages, "hq").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (d0, u0) = (down.load(Ordering::Relaxed), up.load(Ordering::Relaxed));
    set_paused(&field, false).await;
    let took = wait_for(&[&field], &names, messages as i64, Duration::from_secs(900)).await;
    let (d, u) = (
        down.load(Ordering::Relaxed) - d0,
        up.load(Ordering::Relaxed) - u0,
    );
    let secs = took.as_secs_f64();
    println!(
        "slow link (64 kbit/s each way, 150 ms each way): {messages} messages of 80 characters \
         caught up in {secs:.1} s = {:.1} messages/s; {:.0} bytes/s towards the field office = \
         {:.0}% of the link's capacity; {:.0} bytes on the wire per message ({:.0} back)",
        messages as f64 / secs,
        d as f64 / secs,
        100.0 * d as f64 / secs / RATE,
        d as f64 / messages as f64,
        u as f64 / messages as f64,
    );
    hq.handle.shutdown().await;
    field.handle.shutdown().await;
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let quick = args.iter().any(|a| a == "--quick");
    let chosen: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let want = |s: &str| chosen.is_empty() || chosen.contains(&s);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        if want("partition") {
            partition(if quick { 1_000 } else { 10_000 }, 20).await;
        }
        if want("slow") {
            slow(if quick { 200 } else { 1_000 }).await;
        }
    });
}
