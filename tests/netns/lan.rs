//! Hosts in network namespaces for the tests that need a real network: a bridge namespace and
//! one namespace per host, joined by veth pairs, with addresses 10.99.0.N/24 (host N-1) used only
//! inside them. Nothing here touches the machine's own interfaces.

use std::process::Command;

pub fn sh(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bridge and `hosts` namespaces on it; removed on drop.
pub struct Lan {
    pub bridge: String,
    pub hosts: Vec<String>,
}

impl Lan {
    pub fn new(tag: &str, hosts: usize) -> Lan {
        let id = format!("{}{}", tag, std::process::id() % 100_000);
        let bridge = format!("opb-{id}");
        let lan = Lan {
            bridge: bridge.clone(),
            hosts: (0..hosts).map(|i| format!("oph{i}-{id}")).collect(),
        };
        sh(&["ip", "netns", "add", &bridge]);
        sh(&["ip", "-n", &bridge, "link", "add", "br0", "type", "bridge"]);
        sh(&["ip", "-n", &bridge, "link", "set", "br0", "up"]);
        sh(&["ip", "-n", &bridge, "link", "set", "lo", "up"]);
        for (i, ns) in lan.hosts.iter().enumerate() {
            sh(&["ip", "netns", "add", ns]);
            let port = format!("p{i}");
            sh(&[
                "ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", &port,
                "netns", &bridge,
            ]);
            sh(&["ip", "-n", &bridge, "link", "set", &port, "master", "br0"]);
            sh(&["ip", "-n", &bridge, "link", "set", &port, "up"]);
            sh(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("10.99.0.{}/24", i + 1),
                "dev",
                "eth0",
            ]);
            sh(&["ip", "-n", ns, "link", "set", "eth0", "up"]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        lan
    }

    pub fn exec(&self, host: usize, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.hosts[host], program]);
        c
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in self.hosts.iter().chain(std::iter::once(&self.bridge)) {
            // Whatever a test started in its hosts goes with them, by PID: a server that forks
            // (Patroni under runuser, pg_ctl's postmaster) would otherwise outlive the test.
            if let Ok(out) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            }
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
