//! Calls benchmark: the SFU's CPU and memory per forwarded audio stream and the delay it adds.
//!
//! The media server runs on its own thread (a current-thread runtime) so its CPU time can be
//! read from /proc apart from the participants, which are str0m clients on another runtime in
//! this process, all on 127.0.0.1. Every participant sends audio packets of the size the
//! server's offer asks for (`calls.audio_frame_ms`, 40 ms by default: 25 packets a second), as
//! Chromium does; `--frame-ms=20` measures senders that keep 20 ms. A microphone that only hears a quiet room is not passed
//! on (see `MicGate` in the SFU), so each scenario runs twice: one person talking at a time,
//! as calls go, and everyone talking at once, the most the SFU can be asked to forward.
//! Run: `cargo bench --bench calls [-- --quick] [--frame-ms=20|40|60] [ten|ten-all|fifty|fifty-all]`.

#[path = "../tests/it/rtc_client.rs"]
mod rtc_client;

use std::time::{Duration, Instant};

use outpost::calls::sfu::{self, Command, Sfu};
use rtc_client::RtcClient;
use tokio::sync::mpsc;

/// CPU seconds (user, kernel) used so far by one thread of this process.
fn thread_cpu(tid: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (field(11), field(12))
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Starts the media server on a thread of its own; returns its handle and thread id.
fn start_sfu(frame_ms: u32) -> (Sfu, String) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("sfu".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let tid = std::fs::read_link("/proc/thread-self")
                    .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                    .unwrap_or_default();
                let (reports, mut reports_rx) = mpsc::unbounded_channel();
                let (_stop, shutdown) = tokio::sync::watch::channel(false);
                let s = sfu::start(
                    vec!["127.0.0.1".parse().unwrap()],
                    0,
                    0,
                    frame_ms,
                    reports,
                    shutdown,
                )
                .await
                .unwrap();
                tx.send((s, tid)).unwrap();
                while reports_rx.recv().await.is_some() {}
                std::future::pending::<()>().await;
            });
        })
        .unwrap();
    rx.recv().unwrap()
}

struct Figures {
    cpu_percent: f64,
    user_percent: f64,
    streams: usize,
    rss_kib_per_stream: f64,
    p50_ms: f64,
    p99_ms: f64,
    packets: usize,
    sfu_p50_ms: f64,
    sfu_p99_ms: f64,
    sfu_max_ms: f64,
}

/// Who talks. Everyone else's microphone hears a quiet room behind noise suppression.
#[derive(Clone, Copy)]
enum Talk {
    /// Everyone at once, all the time: the most the SFU can be asked to forward.
    All,
    /// One person per call at a time, the floor passing every 2 s, as calls go.
    Turns,
}

/// `calls` calls of `size` people each, measured for `secs` seconds once media flows.
fn scenario(calls: usize, size: usize, talk: Talk, secs: u64, frame_ms: u32) -> Figures {
    let (sfu, tid) = start_sfu(frame_ms);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let rss_before = rss_kib();
    let epoch = Instant::now();
    let warmup = Duration::from_secs(6);
    let start_measure = Instant::now() + warmup;
    let end = start_measure + Duration::from_secs(secs);
    let cpu_at = std::sync::Arc::new(std::sync::Mutex::new(((0.0f64, 0.0f64), 0u64)));
    let results = rt.block_on(async {
        let mut tasks = Vec::new();
        let mut peer = 0u64;
        for call in 0..calls as u64 {
            for seat in 0..size as u64 {
                peer += 1;
                let (signal, mut offers) = mpsc::unbounded_channel();
                sfu.send(Command::Join {
                    peer,
                    call,
                    user_id: peer as i64,
                    signal,
                });
                let sfu = sfu.clone();
                let p = peer;
                tasks.push(tokio::spawn(async move {
                    let mut c = RtcClient::new(epoch).await;
                    let mut measuring = false;
                    while Instant::now() < end {
                        while let Ok(o) = offers.try_recv() {
                            let v: serde_json::Value = serde_json::from_str(&o).unwrap();
                            let sdp = c.accept(&v);
                            sfu.send(Command::Answer { peer: p, sdp });
                        }
                        // Calls pass the floor at different moments, as unrelated calls do.
                        let turn = (epoch.elapsed().as_millis() as u64 + call * 137) / 2000;
                        c.level = match talk {
                            Talk::All => -20,
                            Talk::Turns if turn % size as u64 == seat => -20,
                            Talk::Turns => -80,
                        };
                        if !measuring && Instant::now() >= start_measure {
                            measuring = true;
                            c.delays_us.clear();
                        }
                        c.run_until(Instant::now() + Duration::from_millis(10))
                            .await;
                    }
                    c.delays_us
                }));
            }
        }
        let probe = cpu_at.clone();
        let tid2 = tid.clone();
        let sfu2 = sfu.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(start_measure.into()).await;
            sfu2.take_delays().await;
            *probe.lock().unwrap() = (thread_cpu(&tid2), rss_kib());
        });
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        (all, sfu.take_delays().await)
    });
    let (results, mut sfu_delays) = results;
    sfu_delays.sort_unstable();
    let spct = |q: f64| {
        sfu_delays
            .get(((sfu_delays.len() as f64 - 1.0) * q) as usize)
            .map(|v| *v as f64 / 1000.0)
            .unwrap_or(f64::NAN)
    };
    let (cpu0, rss_running) = *cpu_at.lock().unwrap();
    let (user1, sys1) = thread_cpu(&tid);
    let user = user1 - cpu0.0;
    let cpu = user + sys1 - cpu0.1;
    let mut delays = results;
    delays.sort_unstable();
    let pct = |q: f64| {
        delays
            .get(((delays.len() as f64 - 1.0) * q) as usize)
            .map(|v| *v as f64 / 1000.0)
            .unwrap_or(f64::NAN)
    };
    let streams = calls * size * (size - 1);
    Figures {
        cpu_percent: cpu / secs as f64 * 100.0,
        user_percent: user / secs as f64 * 100.0,
        streams,
        rss_kib_per_stream: rss_running.saturating_sub(rss_before) as f64 / streams as f64,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        packets: delays.len(),
        sfu_p50_ms: spct(0.5),
        sfu_p99_ms: spct(0.99),
        sfu_max_ms: spct(1.0),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let secs = if quick { 4 } else { 10 };
    let frame_ms: u32 = std::env::args()
        .find_map(|a| a.strip_prefix("--frame-ms=").map(str::to_owned))
        .map(|v| v.parse().expect("--frame-ms=20, 40 or 60"))
        .unwrap_or(40);
    println!(
        "calls benchmark ({secs} s measured per scenario; {frame_ms} ms audio frames, {} packets/s per sender)",
        1000 / frame_ms
    );
    // Name scenarios ("ten", "ten-all", "fifty", "fifty-all") to run only those.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (key, name, calls, size, talk, target) in [
        (
            "ten",
            "one 10-person call, one person talking at a time",
            1,
            10,
            Talk::Turns,
            5.0,
        ),
        (
            "ten-all",
            "one 10-person call, all ten talking at once",
            1,
            10,
            Talk::All,
            5.0,
        ),
        (
            "fifty",
            "50 two-person calls, one person talking at a time in each",
            50,
            2,
            Talk::Turns,
            25.0,
        ),
        (
            "fifty-all",
            "50 two-person calls, both talking at once in each",
            50,
            2,
            Talk::All,
            25.0,
        ),
    ] {
        if !only.is_empty() && !only.iter().any(|o| o == key) {
            continue;
        }
        let f = scenario(calls, size, talk, secs, frame_ms);
        println!(
            "{name}: {} streams routed (every member to every other), SFU CPU {:.1}% of one core (target < {target}%; \
             {:.1}% in the SFU's own code, the rest in the kernel sending each copy, which on \
             loopback includes delivering it into the receiver's socket), \
             memory {:.1} KiB per stream (whole process, clients included); \
             delay added by the SFU (arrival to last copy sent) p50 {:.3} ms p99 {:.3} ms max {:.2} ms \
             (target p99 < 5 ms); sender to receiver through the SFU, clients on the same 2 cores: \
             p50 {:.2} ms p99 {:.2} ms over {} packets",
            f.streams,
            f.cpu_percent,
            f.user_percent,
            f.rss_kib_per_stream,
            f.sfu_p50_ms,
            f.sfu_p99_ms,
            f.sfu_max_ms,
            f.p50_ms,
            f.p99_ms,
            f.packets
        );
    }
}
