//! Sign-in memory and throttling. Starts the real `outpost` binary on 127.0.0.1 with a
//! temporary data dir, seeds accounts in its database, and measures the server's resident
//! memory (VmRSS, sampled every 10 ms) through bursts of sign-ins:
//!
//!     cargo bench --bench signin
//!
//! 1. 500 correct sign-ins at once (50 in flight, from 500 loopback addresses so that no
//!    limit applies): peak RSS during the burst, RSS after 3 s idle.
//! 2. 200 wrong-password attempts at once from one address: how many were checked and how
//!    many throttled, and the peak RSS.
//! 3. 200 wrong-password attempts at once from 200 addresses (nothing throttles them): peak RSS.
//!
//! Targets (issue 17): idle RSS after the 500 under 100 MiB; peak during a 200-attempt burst
//! under 300 MiB.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use outpost::store::users;
use outpost::store::Store;
use serde_json::{json, Value};

struct Server {
    child: Child,
    addr: SocketAddr,
    ca: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn start(data: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_outpost"))
        .args([
            "serve",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--http-listen",
            "off",
            "--no-discovery",
        ])
        .env("OUTPOST_LOG_FORMAT", "json")
        .env("OUTPOST_LOG_LEVEL", "warn,outpost=info")
        .env("OUTPOST_CALLS_ENABLED", "false")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start outpost");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server output").unwrap();
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        if v["message"] == "Outpost is listening" {
            break v["https"].as_str().unwrap().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let ca = std::fs::read_to_string(data.join("certs/ca.pem")).unwrap();
    Server { child, addr, ca }
}

/// Samples the server's RSS every 10 ms while `f` runs; returns `f`'s output and the peak.
async fn with_peak<T>(pid: u32, f: impl std::future::Future<Output = T>) -> (T, u64) {
    let peak = Arc::new(AtomicU64::new(rss_kib(pid)));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let out = f.await;
    done.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    (out, peak.load(Ordering::Relaxed))
}

fn client(s: &Server, from: IpAddr) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut s.ca.as_bytes()).flatten() {
        roots.add(c).unwrap();
    }
    let tls =
        rustls::ClientConfig::builder_with_provider(Arc::new(outpost::pki::crypto_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve("localhost", s.addr)
        .local_address(from)
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn address(i: usize) -> IpAddr {
    IpAddr::from([127, 10 + (i / 250) as u8, 0, (i % 250) as u8 + 1])
}

async fn burst(
    s: &Server,
    n: usize,
    in_flight: usize,
    from: impl Fn(usize) -> IpAddr,
    password: &str,
) -> (usize, usize, usize) {
    let url = format!("https://localhost:{}/api/v1/auth/login", s.addr.port());
    let gate = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let c = client(s, from(i));
            let (url, gate) = (url.clone(), gate.clone());
            let body = json!({"username": format!("user{}", i % 50), "password": password});
            tokio::spawn(async move {
                let _p = gate.acquire_owned().await.unwrap();
                c.post(url)
                    .json(&body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let (mut ok, mut refused, mut throttled) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => throttled += 1,
            _ => refused += 1,
        }
    }
    (ok, refused, throttled)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        let store = Store::open(&data.join("outpost.db")).unwrap();
        let hash = outpost::auth::hash_password("bench-password").unwrap();
        store
            .write_blocking(move |c| {
                for i in 0..50 {
                    users::create_user(c, &format!("user{i}"), &format!("User {i}"), &hash, false)?;
                }
                Ok(())
            })
            .unwrap();
        store.close();
    }
    let s = start(&data);
    let pid = s.child.id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let base = rss_kib(pid);
        println!("server RSS at start: {:.1} MiB", mib(base));

        let t = Instant::now();
        let ((ok, refused, throttled), peak) =
            with_peak(pid, burst(&s, 500, 50, address, "bench-password")).await;
        let took = t.elapsed();
        tokio::time::sleep(Duration::from_secs(3)).await;
        let idle = rss_kib(pid);
        println!(
            "500 correct sign-ins, 50 in flight: {ok} ok, {refused} refused, {throttled} throttled in {:.1} s ({:.0}/s); peak RSS {:.1} MiB; RSS after 3 s idle {:.1} MiB (target < 100)",
            took.as_secs_f64(),
            500.0 / took.as_secs_f64(),
            mib(peak),
            mib(idle)
        );

        let one = address(999);
        let ((ok, refused, throttled), peak) =
            with_peak(pid, burst(&s, 200, 200, |_| one, "wrong-password")).await;
        println!(
            "200 wrong passwords at once from one address: {refused} checked and refused, {throttled} throttled, {ok} ok; peak RSS {:.1} MiB (target < 300)",
            mib(peak)
        );

        let ((ok, refused, throttled), peak) = with_peak(
            pid,
            burst(&s, 200, 200, |i| address(500 + i), "wrong-password"),
        )
        .await;
        println!(
            "200 wrong passwords at once from 200 addresses: {refused} checked and refused, {throttled} throttled, {ok} ok; peak RSS {:.1} MiB (target < 300)",
            mib(peak)
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        println!("RSS after 3 s idle: {:.1} MiB", mib(rss_kib(pid)));
    });
}
