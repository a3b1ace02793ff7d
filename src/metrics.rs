//! Counters and gauges for `/metrics` (Prometheus text format), `outpost status` and the admin
//! status page. Updates are lock-free atomics on hot paths.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Upper bounds (seconds) of the delivery latency histogram buckets.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
/// Seconds over which "messages per second" is averaged.
const WINDOW: u64 = 60;

#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    messages: AtomicU64,
    /// Messages per second over the last minute: (second, count) slots.
    per_second: [(AtomicU64, AtomicU64); WINDOW as usize],
    delivery_buckets: [AtomicU64; BUCKETS.len()],
    delivery_count: AtomicU64,
    delivery_sum_us: AtomicU64,
    files_stored: AtomicU64,
    file_bytes_stored: AtomicU64,
    /// Calls in progress, kept by the call service.
    pub active_calls: AtomicU64,
    /// WebSocket tasks still holding a socket (the hub may already have let go of some).
    pub websocket_tasks: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            messages: AtomicU64::new(0),
            per_second: std::array::from_fn(|_| (AtomicU64::new(0), AtomicU64::new(0))),
            delivery_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            delivery_count: AtomicU64::new(0),
            delivery_sum_us: AtomicU64::new(0),
            files_stored: AtomicU64::new(0),
            file_bytes_stored: AtomicU64::new(0),
            active_calls: AtomicU64::new(0),
            websocket_tasks: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    fn second(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Counts one finished upload.
    pub fn file_stored(&self, bytes: u64) {
        self.files_stored.fetch_add(1, Ordering::Relaxed);
        self.file_bytes_stored.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts one stored message.
    pub fn message_stored(&self) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        let now = self.second();
        let (sec, count) = &self.per_second[(now % WINDOW) as usize];
        if sec.swap(now, Ordering::Relaxed) != now {
            count.store(0, Ordering::Relaxed);
        }
        count.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the time from commit to the frame being written to a client.
    pub fn delivered(&self, latency: Duration) {
        let secs = latency.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.delivery_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.delivery_count.fetch_add(1, Ordering::Relaxed);
        self.delivery_sum_us
            .fetch_add(latency.as_micros() as u64, Ordering::Relaxed);
    }

    pub fn messages_total(&self) -> u64 {
        self.messages.load(Ordering::Relaxed)
    }

    /// Average over the last full minute.
    pub fn messages_per_second(&self) -> f64 {
        let now = self.second();
        let total: u64 = self
            .per_second
            .iter()
            .filter(|(sec, _)| {
                let s = sec.load(Ordering::Relaxed);
                s < now && now - s <= WINDOW
            })
            .map(|(_, c)| c.load(Ordering::Relaxed))
            .sum();
        total as f64 / WINDOW as f64
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Figures gathered for one scrape.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Snapshot {
    pub version: String,
    pub uptime_seconds: u64,
    pub open_connections: usize,
    pub messages_total: u64,
    pub messages_per_second: f64,
    pub active_calls: u64,
    pub database_bytes: u64,
    pub file_store_bytes: u64,
    /// Seconds since the last successful backup, if any.
    pub backup_age_seconds: Option<u64>,
    /// Seconds until the server certificate expires.
    pub certificate_expires_in_seconds: i64,
    pub users: i64,
    /// A cluster node's name, put on every series as the `node` label (none on one box).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// Renders the snapshot and the histogram in the Prometheus text exposition format.
pub fn prometheus(s: &Snapshot, m: &Metrics) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    // Node names are checked (letters, digits, '.', '_', '-'), so they need no escaping.
    let node = s.node.as_deref().map(|n| format!("node=\"{n}\""));
    let labels = node
        .as_deref()
        .map(|l| format!("{{{l}}}"))
        .unwrap_or_default();
    let also = node.as_deref().map(|l| format!(",{l}")).unwrap_or_default();
    let mut gauge = |name: &str, help: &str, kind: &str, value: String| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{labels} {value}"
        );
    };
    gauge(
        "outpost_up",
        "Whether the server is serving.",
        "gauge",
        "1".into(),
    );
    gauge(
        "outpost_uptime_seconds",
        "Seconds since the server started.",
        "gauge",
        s.uptime_seconds.to_string(),
    );
    gauge(
        "outpost_open_connections",
        "Live real-time (WebSocket) connections.",
        "gauge",
        s.open_connections.to_string(),
    );
    gauge(
        "outpost_messages_total",
        "Messages stored since start.",
        "counter",
        s.messages_total.to_string(),
    );
    gauge(
        "outpost_messages_per_second",
        "Messages stored per second, averaged over the last minute.",
        "gauge",
        format!("{:.3}", s.messages_per_second),
    );
    gauge(
        "outpost_active_calls",
        "Calls in progress.",
        "gauge",
        s.active_calls.to_string(),
    );
    gauge(
        "outpost_database_bytes",
        "Size of the database files (including the WAL).",
        "gauge",
        s.database_bytes.to_string(),
    );
    gauge(
        "outpost_file_store_bytes",
        "Size of stored files.",
        "gauge",
        s.file_store_bytes.to_string(),
    );
    gauge(
        "outpost_backup_age_seconds",
        "Seconds since the last successful backup (-1: none yet).",
        "gauge",
        s.backup_age_seconds
            .map(|v| v as i64)
            .unwrap_or(-1)
            .to_string(),
    );
    gauge(
        "outpost_certificate_expiry_seconds",
        "Seconds until the server certificate expires.",
        "gauge",
        s.certificate_expires_in_seconds.to_string(),
    );
    gauge(
        "outpost_users",
        "User accounts.",
        "gauge",
        s.users.to_string(),
    );
    gauge(
        "outpost_files_uploaded_total",
        "Files uploaded since start.",
        "counter",
        m.files_stored.load(Ordering::Relaxed).to_string(),
    );
    gauge(
        "outpost_uploaded_bytes_total",
        "Bytes of files uploaded since start.",
        "counter",
        m.file_bytes_stored.load(Ordering::Relaxed).to_string(),
    );
    let _ = writeln!(
        out,
        "# HELP outpost_delivery_latency_seconds Time from a message's commit to its frame being written to a client.\n# TYPE outpost_delivery_latency_seconds histogram"
    );
    for (i, bound) in BUCKETS.iter().enumerate() {
        let _ = writeln!(
            out,
            "outpost_delivery_latency_seconds_bucket{{le=\"{bound}\"{also}}} {}",
            m.delivery_buckets[i].load(Ordering::Relaxed)
        );
    }
    let count = m.delivery_count.load(Ordering::Relaxed);
    let _ = writeln!(
        out,
        "outpost_delivery_latency_seconds_bucket{{le=\"+Inf\"{also}}} {count}"
    );
    let _ = writeln!(
        out,
        "outpost_delivery_latency_seconds_sum{labels} {:.6}",
        m.delivery_sum_us.load(Ordering::Relaxed) as f64 / 1e6
    );
    let _ = writeln!(
        out,
        "outpost_delivery_latency_seconds_count{labels} {count}"
    );
    out
}

/// Total size of the files under `dir` (0 if it does not exist).
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.delivered(Duration::from_micros(500));
        m.delivered(Duration::from_millis(30));
        let s = Snapshot {
            version: "x".into(),
            uptime_seconds: 1,
            open_connections: 2,
            messages_total: 3,
            messages_per_second: 0.5,
            active_calls: 0,
            database_bytes: 10,
            file_store_bytes: 0,
            backup_age_seconds: None,
            certificate_expires_in_seconds: 100,
            users: 1,
            node: None,
        };
        let text = prometheus(&s, &m);
        assert!(text.contains("outpost_delivery_latency_seconds_bucket{le=\"0.001\"} 1"));
        assert!(text.contains("outpost_delivery_latency_seconds_bucket{le=\"0.05\"} 2"));
        assert!(text.contains("outpost_delivery_latency_seconds_count 2"));
        assert!(text.contains("outpost_backup_age_seconds -1"));

        // A cluster node labels every series with its name.
        let s = Snapshot {
            node: Some("node-b".into()),
            ..s
        };
        let text = prometheus(&s, &m);
        assert!(text.contains("outpost_up{node=\"node-b\"} 1"), "{text}");
        assert!(
            text.contains("outpost_delivery_latency_seconds_bucket{le=\"0.05\",node=\"node-b\"} 2")
        );
        assert!(text.contains("outpost_delivery_latency_seconds_count{node=\"node-b\"} 2"));
        let unlabelled = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.contains("node=\"node-b\""))
            .count();
        assert_eq!(unlabelled, 0, "{text}");
    }
}
