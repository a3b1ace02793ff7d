//! LAN discovery between real network namespaces: a bridge namespace and one namespace per
//! host, joined by veth pairs, with addresses from 10.99.0.0/24 used only inside them. Nothing
//! here touches the machine's own interfaces, and no mDNS daemon is ever created in the machine's
//! own namespace.
//!
//! These tests need root and iproute2. They are marked ignored so a plain `cargo test` reports
//! them as skipped; `scripts/test` runs them with `--ignored` where namespaces can be created and
//! says plainly when they cannot.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "netns/lan.rs"]
mod lan;
use lan::{sh, Lan};

use serde_json::Value;

const NEEDS: &str = "needs root and network namespaces; scripts/test runs it";

struct Server {
    child: Child,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    fingerprint: String,
}

impl Server {
    fn start(lan: &Lan, host: usize, data: &std::path::Path, extra: &[&str]) -> Server {
        Self::start_with_env(lan, host, data, extra, &[])
    }

    fn start_with_env(
        lan: &Lan,
        host: usize,
        data: &std::path::Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut child = lan
            .exec(host, env!("CARGO_BIN_EXE_outpost"))
            .args([
                "serve",
                "--data-dir",
                data.to_str().unwrap(),
                "--listen",
                "0.0.0.0:8443",
                "--http-listen",
                "off",
            ])
            .args(extra)
            .envs(env.iter().copied())
            .env("OUTPOST_SITE_NAME", "Field Office")
            .env("OUTPOST_LOG_FORMAT", "json")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let deadline = Instant::now() + Duration::from_secs(30);
        let fingerprint = loop {
            assert!(Instant::now() < deadline);
            let line = lines.next().expect("server output").unwrap();
            log.lock().unwrap().push(line.clone());
            let v: Value = serde_json::from_str(&line).unwrap_or_default();
            if v["message"] == "Outpost is listening" {
                break v["ca_fingerprint"].as_str().unwrap().to_string();
            }
        };
        let sink = log.clone();
        std::thread::spawn(move || {
            for l in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(l);
            }
        });
        Server {
            child,
            log,
            fingerprint,
        }
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "clean exit");
    }

    fn logged(&self, text: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(text))
    }
}

fn discover(lan: &Lan, host: usize, seconds: f64) -> Vec<Value> {
    let out = lan
        .exec(host, env!("CARGO_BIN_EXE_outpost"))
        .args(["discover", "--json", "--timeout", &seconds.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn hostname() -> String {
    outpost::pki::hostname()
}

#[test]
#[ignore = "needs root and network namespaces; scripts/test runs it"]
fn outpost_discover_finds_the_server_and_a_standard_client_resolves_it() {
    let _ = NEEDS;
    let lan = Lan::new("a", 3);
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&lan, 0, &dir.path().join("d"), &[]);

    let found = discover(&lan, 1, 3.0);
    assert_eq!(found.len(), 1, "{found:?}");
    let f = &found[0];
    assert_eq!(f["site_name"], "Field Office");
    assert_eq!(f["port"], 8443);
    assert_eq!(f["ca_fingerprint"], server.fingerprint.as_str());
    assert!(
        f["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "10.99.0.1"),
        "{f}"
    );
    assert_eq!(f["url"], "https://10.99.0.1:8443/");
    assert_eq!(f["host"], format!("{}.local", hostname()));

    // python-zeroconf, a foreign implementation, sees standard records for both types and the host.
    let probe = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/netns/zeroconf_probe.py");
    let out = lan
        .exec(2, "python3")
        .args([probe, &hostname()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let outpost = &v["services"]["Field Office._outpost._tcp.local."];
    let https = &v["services"]["Field Office._https._tcp.local."];
    for s in [outpost, https] {
        assert_eq!(s["port"], 8443, "{v}");
        assert!(
            s["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "10.99.0.1"),
            "{v}"
        );
        assert_eq!(
            s["properties"]["ca"],
            server.fingerprint.replace(':', "").as_str()
        );
        assert_eq!(s["properties"]["v"], "1");
        assert_eq!(s["properties"]["api"], "/api/v1");
    }
    assert!(
        v["host"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "10.99.0.1"),
        "HOSTNAME.local resolves: {v}"
    );

    // After shutdown the service is withdrawn.
    server.stop();
    let found = discover(&lan, 1, 2.0);
    assert!(found.is_empty(), "withdrawn on shutdown: {found:?}");
}

#[test]
#[ignore = "needs root and network namespaces; scripts/test runs it"]
fn a_new_address_is_re_announced_and_put_in_the_certificate_without_a_restart() {
    let lan = Lan::new("b", 2);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let server = Server::start_with_env(
        &lan,
        0,
        &data,
        &[],
        &[("OUTPOST_TLS_CHECK_INTERVAL_SECS", "1")],
    );
    assert_eq!(discover(&lan, 1, 3.0).len(), 1);
    sh(&[
        "ip",
        "-n",
        &lan.hosts[0],
        "addr",
        "add",
        "10.99.0.77/24",
        "dev",
        "eth0",
    ]);
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let found = discover(&lan, 1, 2.0);
        let seen = found.iter().any(|f| {
            f["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "10.99.0.77")
        });
        if seen {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the new address was never announced: {found:?}"
        );
    }
    server.stop();
}

#[test]
#[ignore = "needs root and network namespaces; scripts/test runs it"]
fn a_name_conflict_is_resolved_with_a_distinct_name_and_logged() {
    let lan = Lan::new("c", 3);
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(&lan, 0, &dir.path().join("one"), &[]);
    std::thread::sleep(Duration::from_secs(2));
    let second = Server::start(&lan, 1, &dir.path().join("two"), &[]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let names = loop {
        let found = discover(&lan, 2, 3.0);
        let names: Vec<String> = found
            .iter()
            .map(|f| f["site_name"].as_str().unwrap().to_string())
            .collect();
        if names.len() == 2 {
            break names;
        }
        assert!(
            Instant::now() < deadline,
            "both servers were never seen: {names:?}"
        );
    };
    assert_ne!(names[0], names[1], "{names:?}");
    assert!(names.iter().any(|n| n == "Field Office"));
    assert!(
        first.logged("name conflict") || second.logged("name conflict"),
        "the rename is logged"
    );
    first.stop();
    second.stop();
}

#[test]
#[ignore = "needs root and network namespaces; scripts/test runs it"]
fn no_discovery_means_no_mdns_socket_at_all() {
    let lan = Lan::new("d", 2);
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&lan, 0, &dir.path().join("d"), &["--no-discovery"]);
    // No socket on the mDNS port (5353 = 0x14E9) exists in the server's namespace.
    for table in ["udp", "udp6"] {
        let sockets =
            std::fs::read_to_string(format!("/proc/{}/net/{table}", server.child.id())).unwrap();
        assert!(!sockets.contains(":14E9 "), "{table}: {sockets}");
    }
    assert!(discover(&lan, 1, 2.0).is_empty());
    server.stop();
}

#[test]
#[ignore = "needs root and a mount namespace; scripts/test runs it"]
fn the_linux_install_script_installs_a_ca_whose_fingerprint_matches() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let pem = Command::new(env!("CARGO_BIN_EXE_outpost"))
        .args(["ca", "export", "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    let fp = Command::new(env!("CARGO_BIN_EXE_outpost"))
        .args(["ca", "fingerprint", "--data-dir", data.to_str().unwrap()])
        .output()
        .unwrap();
    let fp = String::from_utf8(fp.stdout).unwrap().trim().to_string();
    let script = dir.path().join("install-ca.sh");
    std::fs::write(
        &script,
        outpost::http::onboarding_install_script(&String::from_utf8(pem.stdout).unwrap()),
    )
    .unwrap();
    let fake_bin = dir.path().join("bin");
    std::fs::create_dir(&fake_bin).unwrap();
    std::fs::write(
        fake_bin.join("update-ca-certificates"),
        "#!/bin/sh\necho updated\n",
    )
    .unwrap();
    std::fs::write(
        fake_bin.join("update-ca-trust"),
        "#!/bin/sh\necho updated\n",
    )
    .unwrap();
    sh(&[
        "chmod",
        "+x",
        fake_bin.join("update-ca-certificates").to_str().unwrap(),
        fake_bin.join("update-ca-trust").to_str().unwrap(),
    ]);
    // A private mount namespace with empty trust-store folders: the machine's own store is never touched.
    let inner = format!(
        "mkdir -p /usr/local/share/ca-certificates && mount -t tmpfs tmpfs /usr/local/share/ca-certificates && \
         PATH={}:$PATH sh {} {fp} && openssl x509 -in /usr/local/share/ca-certificates/outpost-ca.crt -noout -fingerprint -sha256",
        fake_bin.display(),
        script.display()
    );
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c", &inner])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&fp));
}
