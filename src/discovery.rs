//! LAN discovery over mDNS/DNS-SD (mdns-sd): the server advertises `_outpost._tcp.local.` and
//! `_https._tcp.local.` under the site name, answers for `HOSTNAME.local`, re-announces when its
//! addresses change and withdraws everything on shutdown. `outpost discover` browses for others.
//!
//! Creating the daemon joins multicast groups on every interface that is up, so `--no-discovery`
//! means no daemon is ever created.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use mdns_sd::{
    DaemonEvent, HostnameResolutionEvent, IfKind, IfPredicate, ServiceDaemon, ServiceEvent,
    ServiceInfo,
};
use serde::Serialize;

/// The DNS-SD service type of an Outpost server: a public contract.
pub const SERVICE_TYPE: &str = "_outpost._tcp.local.";
/// The generic HTTPS service type browsers and tools know.
pub const HTTPS_SERVICE_TYPE: &str = "_https._tcp.local.";
/// Version of the TXT record layout.
pub const PROTOCOL_VERSION: &str = "1";

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("mDNS is unavailable: {0}")]
    Mdns(#[from] mdns_sd::Error),
}

/// What the server advertises.
#[derive(Debug, Clone)]
pub struct Advertisement {
    pub site_name: String,
    pub hostname: String,
    pub port: u16,
    pub ca_fingerprint: String,
    /// Interface names to use; empty means every non-loopback interface with a private or
    /// link-local address.
    pub interfaces: Vec<String>,
}

/// A running advertisement; dropping it without `shutdown` still stops the daemon.
pub struct Advertiser {
    daemon: ServiceDaemon,
    fullnames: Vec<String>,
}

fn interface_filter(names: &[String]) -> IfKind {
    if names.is_empty() {
        IfKind::Predicate(IfPredicate::new(|intf| {
            !intf.is_loopback() && crate::pki::is_permitted_ip(&intf.ip())
        }))
    } else {
        let names = names.to_vec();
        IfKind::Predicate(IfPredicate::new(move |intf| names.contains(&intf.name)))
    }
}

impl Advertiser {
    /// Starts advertising. Failures are returned for the caller to log once; they never stop
    /// the server.
    pub fn start(ad: &Advertisement) -> Result<Advertiser, DiscoveryError> {
        let daemon = ServiceDaemon::new()?;
        daemon.disable_interface(IfKind::All)?;
        daemon.enable_interface(interface_filter(&ad.interfaces))?;
        let host = format!("{}.local.", ad.hostname);
        let props: HashMap<String, String> = [
            ("v", PROTOCOL_VERSION.to_string()),
            ("path", "/".to_string()),
            ("api", "/api/v1".to_string()),
            ("ca", ad.ca_fingerprint.replace(':', "")),
            ("version", env!("CARGO_PKG_VERSION").to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut fullnames = Vec::new();
        for ty in [SERVICE_TYPE, HTTPS_SERVICE_TYPE] {
            let info = ServiceInfo::new(ty, &ad.site_name, &host, (), ad.port, props.clone())?
                .enable_addr_auto();
            fullnames.push(info.get_fullname().to_string());
            daemon.register(info)?;
        }
        let monitor = daemon.monitor()?;
        // Logs name conflicts (resolved by mdns-sd with a distinct name) and the first error.
        std::thread::Builder::new()
            .name("outpost-mdns-monitor".into())
            .spawn(move || {
                let mut reported_error = false;
                while let Ok(event) = monitor.recv() {
                    match event {
                        DaemonEvent::NameChange(change) => tracing::warn!(
                            original = %change.original,
                            new = %change.new_name,
                            "mDNS name conflict on the network: advertising under a distinct name"
                        ),
                        DaemonEvent::Error(e) if !reported_error => {
                            reported_error = true;
                            tracing::warn!(error = %e, "mDNS discovery problem (the server keeps running)");
                        }
                        DaemonEvent::IpAdd(ip) => tracing::info!(%ip, "address added: re-announcing"),
                        DaemonEvent::IpDel(ip) => tracing::info!(%ip, "address removed: re-announcing"),
                        _ => {}
                    }
                }
            })
            .ok();
        tracing::info!(service = SERVICE_TYPE, name = %ad.site_name, host = %host, port = ad.port, "advertising on the LAN");
        Ok(Advertiser { daemon, fullnames })
    }

    /// Withdraws the services (goodbye packets) and stops the daemon.
    pub fn shutdown(self) {
        for name in &self.fullnames {
            if let Ok(rx) = self.daemon.unregister(name) {
                let _ = rx.recv_timeout(Duration::from_secs(2));
            }
        }
        if let Ok(rx) = self.daemon.shutdown() {
            let _ = rx.recv_timeout(Duration::from_secs(2));
        }
    }
}

/// An appliance heard on the LAN.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub site_name: String,
    pub host: String,
    pub addresses: Vec<IpAddr>,
    pub port: u16,
    pub url: String,
    pub ca_fingerprint: String,
    pub version: String,
}

fn instance_name(fullname: &str) -> String {
    let name = fullname.strip_suffix(SERVICE_TYPE).unwrap_or(fullname);
    name.trim_end_matches('.')
        .replace("\\.", ".")
        .replace("\\\\", "\\")
}

fn colon_hex(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

/// Browses for `timeout` and returns what answered, sorted by site name.
/// How long `discover` waits for a host's IPv4 address when its answer lacked one.
const HOSTNAME_WAIT_MS: u64 = 1500;

pub fn discover(timeout: Duration) -> Result<Vec<Found>, DiscoveryError> {
    let daemon = ServiceDaemon::new()?;
    let rx = daemon.browse(SERVICE_TYPE)?;
    let deadline = Instant::now() + timeout;
    let mut found: HashMap<String, Found> = HashMap::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(event) = rx.recv_timeout(left) else {
            break;
        };
        match event {
            ServiceEvent::ServiceResolved(s) => {
                let mut addresses: BTreeSet<IpAddr> =
                    s.addresses.iter().map(|a| a.to_ip_addr()).collect();
                // A service is resolved again as its records arrive (an AAAA alone, say):
                // what an earlier resolution found still holds.
                if let Some(prev) = found.get(&s.fullname) {
                    addresses.extend(prev.addresses.iter().copied());
                }
                let first = addresses
                    .iter()
                    .find(|a| a.is_ipv4())
                    .or_else(|| addresses.iter().next())
                    .copied();
                let host = s.host.trim_end_matches('.').to_string();
                let url_host = match first {
                    Some(ip) => ip.to_string(),
                    None => host.clone(),
                };
                found.insert(
                    s.fullname.clone(),
                    Found {
                        site_name: instance_name(&s.fullname),
                        url: crate::server::https_url(&url_host, s.port) + "/",
                        host,
                        addresses: addresses.into_iter().collect(),
                        port: s.port,
                        ca_fingerprint: colon_hex(
                            s.txt_properties.get_property_val_str("ca").unwrap_or(""),
                        ),
                        version: s
                            .txt_properties
                            .get_property_val_str("version")
                            .unwrap_or("")
                            .to_string(),
                    },
                );
            }
            ServiceEvent::ServiceRemoved(_, fullname) => {
                found.remove(&fullname);
            }
            _ => {}
        }
    }
    let _ = daemon.stop_browse(SERVICE_TYPE);
    // An answer can carry one address family only (links that just came up, a lost packet):
    // ask for the host's addresses directly before showing a URL that needs IPv4.
    for f in found
        .values_mut()
        .filter(|f| !f.addresses.iter().any(IpAddr::is_ipv4))
    {
        let fqdn = format!("{}.", f.host);
        let Ok(rx) = daemon.resolve_hostname(&fqdn, Some(HOSTNAME_WAIT_MS)) else {
            continue;
        };
        let until = Instant::now() + Duration::from_millis(HOSTNAME_WAIT_MS);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(HostnameResolutionEvent::AddressesFound(_, ips)) => {
                    let mut all: BTreeSet<IpAddr> = f.addresses.iter().copied().collect();
                    all.extend(ips.iter().map(|a| a.to_ip_addr()));
                    f.addresses = all.into_iter().collect();
                    if f.addresses.iter().any(IpAddr::is_ipv4) {
                        break;
                    }
                }
                Ok(HostnameResolutionEvent::SearchTimeout(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = daemon.stop_resolve_hostname(&fqdn);
        if let Some(ip) = f.addresses.iter().find(|a| a.is_ipv4()) {
            f.url = crate::server::https_url(&ip.to_string(), f.port) + "/";
        }
    }
    if let Ok(rx) = daemon.shutdown() {
        let _ = rx.recv_timeout(Duration::from_secs(1));
    }
    let mut list: Vec<Found> = found.into_values().collect();
    list.sort_by(|a, b| a.site_name.cmp(&b.site_name));
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_fingerprints_are_presented_as_people_read_them() {
        assert_eq!(
            instance_name("Field Office._outpost._tcp.local."),
            "Field Office"
        );
        assert_eq!(instance_name("a\\.b._outpost._tcp.local."), "a.b");
        assert_eq!(colon_hex("ab01ff"), "AB:01:FF");
    }
}
