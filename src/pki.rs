//! The local certificate authority and the server certificate.
//!
//! On first start a name-constrained root CA is created, so that trusting it cannot let it vouch
//! for any public site. The server certificate is short-lived, signed by that CA, renewed at two
//! thirds of its life or when the machine's addresses change, and swapped into rustls without a
//! restart through [`CertResolver`]. Nothing outside this module reads key material.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, SanType, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::config::{Config, TlsProfile};

/// DNS suffixes every Outpost CA may sign for, besides the configured names.
pub const PERMITTED_SUFFIXES: &[&str] = &["local", "internal", "lan", "home.arpa", "localhost"];

/// Total validity of a server certificate, counted from a day before issue (clients on an
/// isolated network often run slow clocks). 90 days keeps it within Mozilla's "modern" profile.
const LEAF_LIFETIME: Duration = Duration::days(90);
const BACKDATE: Duration = Duration::days(1);
const CA_LIFETIME: Duration = Duration::days(365 * 20);

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path} does not hold a usable {what}")]
    BadFile { path: PathBuf, what: &'static str },
    #[error("the certificate and key do not fit together: {0}")]
    Tls(#[from] rustls::Error),
    #[error("the site's CA cannot be opened: {0}")]
    Sealed(String),
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> PkiError + 'a {
    move |source| PkiError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A name the server certificate is valid for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum San {
    Dns(String),
    Ip(IpAddr),
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(n) => f.write_str(n),
            San::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Files of the managed CA inside `DATA/certs`.
pub struct CertPaths {
    pub ca_cert: PathBuf,
    pub ca_key: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl CertPaths {
    pub fn new(dir: &Path) -> Self {
        CertPaths {
            ca_cert: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
        }
    }
}

/// Everything TLS needs at run time.
pub struct Pki {
    /// The certificate clients must trust: our CA, or the top of an admin-provided chain.
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    /// Serves the current server certificate to rustls; swapped on renewal.
    pub resolver: Arc<CertResolver>,
    /// `None` when the admin provided the certificate: then nothing is ever reissued.
    managed: Option<Managed>,
}

struct Managed {
    paths: CertPaths,
    hostname: String,
    extra_names: Vec<String>,
    /// `tls.addresses`: covered whether or not an interface has them.
    extra_addresses: Vec<IpAddr>,
}

impl Managed {
    /// This machine's addresses now, and the configured extra ones.
    fn addresses(&self) -> Vec<IpAddr> {
        let mut all = interface_addresses();
        all.extend(self.extra_addresses.iter().copied());
        all
    }
}

impl Pki {
    /// Loads the CA and the server certificate, creating or reissuing whatever is missing or due.
    /// Blocking: call it off the async runtime.
    pub fn load_or_create(config: &Config) -> Result<Pki, PkiError> {
        if let (Some(cert), Some(key)) = (&config.tls.cert_file, &config.tls.key_file) {
            return Self::load_custom(cert, key);
        }
        let dir = config.certs_dir();
        create_private_dir(&dir)?;
        let paths = CertPaths::new(&dir);
        let hostname = hostname();
        // Held until the CA and the server certificate are settled: another process on this data
        // dir (a CLI command beside a starting server) waits here instead of making a second CA.
        let _lock = lock_certs(&dir)?;
        let existing = if paths.ca_cert.exists() {
            let cert =
                std::fs::read_to_string(&paths.ca_cert).map_err(io_err("read", &paths.ca_cert))?;
            let key =
                std::fs::read_to_string(&paths.ca_key).map_err(io_err("read", &paths.ca_key))?;
            if KeyPair::from_pem(&key).is_err() || pem_to_der(&cert).is_none() {
                // Unreadable is not the same as wrong: a truncated file must not cost every
                // device its trust in the CA. The admin restores it from a backup.
                return Err(PkiError::BadFile {
                    path: paths.ca_key.clone(),
                    what: "CA key (or the CA certificate beside it); restore both from a backup",
                });
            }
            if ca_key_matches(&cert, &key) {
                Some((cert, key))
            } else {
                // Left by an older version's race between two processes: the certificate and
                // key belong to different CAs, so nothing can be issued that clients would
                // accept. Keep the pair for the admin and start a new CA.
                let aside = dir.join(format!(
                    "broken-ca-{}",
                    OffsetDateTime::now_utc().unix_timestamp()
                ));
                create_private_dir(&aside)?;
                for f in [&paths.ca_cert, &paths.ca_key] {
                    if let Some(name) = f.file_name() {
                        std::fs::rename(f, aside.join(name)).map_err(io_err("move aside", f))?;
                    }
                }
                tracing::error!(
                    moved_to = %aside.display(),
                    "the CA certificate and key on disk do not belong together; a new CA was made \
                     and devices must trust it again"
                );
                None
            }
        } else {
            None
        };
        let (ca_pem, ca_key_pem) = if let Some(pair) = existing {
            pair
        } else {
            let (cert, key) = create_ca(&config.site_name, &hostname, &config.tls.names)?;
            // The key goes first: a crash between the two writes must not leave a CA
            // certificate whose key is lost.
            write_atomic(&paths.ca_key, key.as_bytes(), 0o600)?;
            write_atomic(&paths.ca_cert, cert.as_bytes(), 0o644)?;
            tracing::info!(path = %paths.ca_cert.display(), "created the local certificate authority");
            (cert, key)
        };
        let ca_der = pem_to_der(&ca_pem).ok_or_else(|| PkiError::BadFile {
            path: paths.ca_cert.clone(),
            what: "CA certificate",
        })?;
        let managed = Managed {
            paths,
            hostname,
            extra_names: config.tls.names.clone(),
            extra_addresses: config.tls.addresses.clone(),
        };
        let key = managed.current_or_new(&ca_pem, &ca_key_pem, &managed.addresses())?;
        Ok(Pki {
            ca_pem,
            ca_der,
            resolver: Arc::new(CertResolver::new(key)),
            managed: Some(managed),
        })
    }

    fn load_custom(cert_path: &Path, key_path: &Path) -> Result<Pki, PkiError> {
        let cert_pem =
            std::fs::read_to_string(cert_path).map_err(io_err("read certificate", cert_path))?;
        let key_pem = std::fs::read_to_string(key_path).map_err(io_err("read key", key_path))?;
        let chain = parse_chain(&cert_pem).ok_or_else(|| PkiError::BadFile {
            path: cert_path.to_path_buf(),
            what: "PEM certificate chain",
        })?;
        let key = parse_key(&key_pem).ok_or_else(|| PkiError::BadFile {
            path: key_path.to_path_buf(),
            what: "PEM private key",
        })?;
        let top = chain.last().map(|c| c.to_vec()).unwrap_or_default();
        let ca_pem = der_to_pem(&top);
        let certified = CertifiedKey::from_der(chain, key, &crypto_provider())?;
        Ok(Pki {
            ca_pem,
            ca_der: top,
            resolver: Arc::new(CertResolver::new(certified)),
            managed: None,
        })
    }

    /// SHA-256 of the CA certificate, as browsers display it.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.ca_der)
    }

    /// Reissues the server certificate if it is due or the addresses changed, and installs it.
    /// Returns whether a new certificate was issued. Blocking.
    pub fn refresh(&self) -> Result<bool, PkiError> {
        let Some(managed) = &self.managed else {
            return Ok(false);
        };
        let dir = managed
            .paths
            .ca_cert
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let _lock = lock_certs(&dir)?;
        let ca_key = std::fs::read_to_string(&managed.paths.ca_key)
            .map_err(io_err("read", &managed.paths.ca_key))?;
        let before = self.resolver.current().cert.first().cloned();
        let key = managed.current_or_new(&self.ca_pem, &ca_key, &managed.addresses())?;
        let changed = key.cert.first() != before.as_ref();
        if changed {
            self.resolver.replace(key);
        }
        Ok(changed)
    }
}

impl Managed {
    fn current_or_new(
        &self,
        ca_pem: &str,
        ca_key_pem: &str,
        addresses: &[IpAddr],
    ) -> Result<CertifiedKey, PkiError> {
        let ca_der = pem_to_der(ca_pem).ok_or_else(|| PkiError::BadFile {
            path: self.paths.ca_cert.clone(),
            what: "CA certificate",
        })?;
        let permitted = permitted_dns_names(&ca_der);
        let wanted = desired_sans(&self.hostname, &self.extra_names, addresses, &permitted);
        if let Ok(pem) = std::fs::read_to_string(&self.paths.server_cert) {
            if let Some(der) = pem_to_der(&pem) {
                match reissue_reason(&der, &ca_der, &wanted, OffsetDateTime::now_utc()) {
                    None => {
                        if let Ok(key) = load_certified(&self.paths) {
                            return Ok(key);
                        }
                    }
                    Some(reason) => tracing::info!(%reason, "reissuing the server certificate"),
                }
            }
        }
        let ca_key = KeyPair::from_pem(ca_key_pem).map_err(|_| PkiError::BadFile {
            path: self.paths.ca_key.clone(),
            what: "CA key",
        })?;
        let issuer = Issuer::from_ca_cert_pem(ca_pem, ca_key)?;
        let (cert_pem, key_pem) = issue_leaf(&issuer, &self.hostname, &wanted)?;
        let chain_pem = format!("{cert_pem}{ca_pem}");
        write_atomic(&self.paths.server_key, key_pem.as_bytes(), 0o600)?;
        write_atomic(&self.paths.server_cert, chain_pem.as_bytes(), 0o644)?;
        tracing::info!(
            names = %wanted.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            "issued a server certificate"
        );
        load_certified(&self.paths)
    }
}

/// The certificate this site's server presents now, read from disk without issuing anything:
/// for CLI commands that speak for the site beside the running server (linking sites).
pub fn current_certificate(config: &Config) -> Result<Arc<CertResolver>, PkiError> {
    let paths = match (&config.tls.cert_file, &config.tls.key_file) {
        (Some(cert), Some(key)) => CertPaths {
            server_cert: cert.clone(),
            server_key: key.clone(),
            ..CertPaths::new(&config.certs_dir())
        },
        _ => CertPaths::new(&config.certs_dir()),
    };
    Ok(Arc::new(CertResolver::new(load_certified(&paths)?)))
}

fn load_certified(paths: &CertPaths) -> Result<CertifiedKey, PkiError> {
    let cert_pem =
        std::fs::read_to_string(&paths.server_cert).map_err(io_err("read", &paths.server_cert))?;
    let key_pem =
        std::fs::read_to_string(&paths.server_key).map_err(io_err("read", &paths.server_key))?;
    let chain = parse_chain(&cert_pem).ok_or_else(|| PkiError::BadFile {
        path: paths.server_cert.clone(),
        what: "certificate chain",
    })?;
    let key = parse_key(&key_pem).ok_or_else(|| PkiError::BadFile {
        path: paths.server_key.clone(),
        what: "private key",
    })?;
    Ok(CertifiedKey::from_der(chain, key, &crypto_provider())?)
}

/// Why a server certificate must be replaced, if it must.
pub fn reissue_reason(
    leaf_der: &[u8],
    ca_der: &[u8],
    wanted: &BTreeSet<San>,
    now: OffsetDateTime,
) -> Option<String> {
    let Ok((_, leaf)) = x509_parser::parse_x509_certificate(leaf_der) else {
        return Some("the stored certificate cannot be parsed".into());
    };
    let Ok((_, ca)) = x509_parser::parse_x509_certificate(ca_der) else {
        return Some("the CA certificate cannot be parsed".into());
    };
    if leaf.issuer().as_raw() != ca.subject().as_raw() || !chains_to(leaf_der, ca_der, now) {
        return Some("the stored certificate was not issued by this CA".into());
    }
    let start = leaf.validity().not_before.to_datetime();
    let end = leaf.validity().not_after.to_datetime();
    let renew_at = start + (end - start) * 2 / 3;
    if now >= renew_at {
        return Some(format!("it passed two thirds of its life ({renew_at})"));
    }
    let have = certificate_sans(leaf_der);
    if &have != wanted {
        return Some("the set of names and addresses changed".into());
    }
    None
}

/// The names and addresses a certificate is valid for.
pub fn certificate_sans(der: &[u8]) -> BTreeSet<San> {
    let mut out = BTreeSet::new();
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
        return out;
    };
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                x509_parser::extensions::GeneralName::DNSName(n) => {
                    out.insert(San::Dns(n.to_string()));
                }
                x509_parser::extensions::GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        out.insert(San::Ip(ip));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// Validity window of a certificate.
pub fn certificate_validity(der: &[u8]) -> Option<(OffsetDateTime, OffsetDateTime)> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some((
        cert.validity().not_before.to_datetime(),
        cert.validity().not_after.to_datetime(),
    ))
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::new(
            bytes[0], bytes[1], bytes[2], bytes[3],
        ))),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            Some(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => None,
    }
}

/// The DNS subtrees a CA certificate permits (empty when it has no name constraints).
pub fn permitted_dns_names(ca_der: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Ok((_, ca)) = x509_parser::parse_x509_certificate(ca_der) else {
        return out;
    };
    if let Ok(Some(nc)) = ca.name_constraints() {
        for sub in nc.value.permitted_subtrees.iter().flatten() {
            if let x509_parser::extensions::GeneralName::DNSName(n) = &sub.base {
                out.push(n.to_string());
            }
        }
    }
    out
}

fn dns_permitted(name: &str, permitted: &[String]) -> bool {
    permitted.is_empty()
        || permitted.iter().any(|p| {
            let p = p.trim_start_matches('.');
            name.eq_ignore_ascii_case(p)
                || name
                    .to_ascii_lowercase()
                    .ends_with(&format!(".{}", p.to_ascii_lowercase()))
        })
}

/// The names the server certificate should carry now. Names outside the CA's constraints are left
/// out (a certificate with one of them would be rejected by every client).
pub fn desired_sans(
    hostname: &str,
    extra_names: &[String],
    addresses: &[IpAddr],
    permitted: &[String],
) -> BTreeSet<San> {
    let mut out = BTreeSet::new();
    let mut dns = vec![
        "localhost".to_string(),
        hostname.to_string(),
        format!("{hostname}.local"),
    ];
    dns.extend(extra_names.iter().cloned());
    for name in dns {
        let name = name.to_ascii_lowercase();
        if is_valid_dns_name(&name) && dns_permitted(&name, permitted) {
            out.insert(San::Dns(name));
        }
    }
    out.insert(San::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    out.insert(San::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    for ip in addresses {
        if is_permitted_ip(ip) {
            out.insert(San::Ip(*ip));
        }
    }
    out
}

/// Addresses of every non-loopback interface that our CA may certify.
pub fn interface_addresses() -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback())
        .map(|i| i.ip())
        .filter(is_permitted_ip)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Loopback, RFC 1918, link-local, and IPv6 ULA/link-local: the only ranges the CA may certify.
fn permitted_ip_ranges() -> Vec<(IpAddr, u8)> {
    vec![
        (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8),
        (IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)), 8),
        (IpAddr::V4(Ipv4Addr::new(172, 16, 0, 0)), 12),
        (IpAddr::V4(Ipv4Addr::new(192, 168, 0, 0)), 16),
        (IpAddr::V4(Ipv4Addr::new(169, 254, 0, 0)), 16),
        (IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
        (IpAddr::V6(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0)), 7),
        (IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0)), 10),
    ]
}

pub fn is_permitted_ip(ip: &IpAddr) -> bool {
    permitted_ip_ranges()
        .iter()
        .any(|(net, prefix)| match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(*n) & mask == u32::from(*a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(*n) & mask == u128::from(*a) & mask
            }
            _ => false,
        })
}

/// A DNS name of letters, digits and hyphens in dot-separated labels.
pub fn is_valid_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// This machine's host name, read from the kernel so that no name service is involved.
pub fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let name: String = raw
        .trim()
        .split('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-').to_string();
    if is_valid_dns_name(&name) {
        name
    } else {
        "outpost".to_string()
    }
}

fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    // A failing system RNG leaves zeros; the serial is not a secret, only meant to be unique.
    let _ = getrandom::fill(&mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

/// The CA's name as browsers show it: the site's name, with "Outpost" added once.
pub fn ca_common_name(site_name: &str) -> String {
    let site = site_name.trim();
    if site.to_lowercase().contains("outpost") {
        format!("{site} CA")
    } else {
        format!("{site} Outpost CA")
    }
}

/// Takes the data dir's certificate lock, waiting for another process that holds it.
fn lock_certs(dir: &Path) -> Result<std::fs::File, PkiError> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(".lock");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(io_err("open", &path))?;
    file.lock().map_err(io_err("lock", &path))?;
    Ok(file)
}

/// Whether `leaf_der` carries a valid signature of the CA in `ca_der` and is usable for a server
/// at `now`. Two CAs made from one site name have the same subject: only the signature tells them
/// apart.
pub fn chains_to(leaf_der: &[u8], ca_der: &[u8], now: OffsetDateTime) -> bool {
    let ca = CertificateDer::from(ca_der);
    let Ok(anchor) = webpki::anchor_from_trusted_cert(&ca) else {
        return false;
    };
    let leaf = CertificateDer::from(leaf_der);
    let Ok(end_entity) = webpki::EndEntityCert::try_from(&leaf) else {
        return false;
    };
    let secs = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let time = rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs));
    end_entity
        .verify_for_usage(
            crypto_provider().signature_verification_algorithms.all,
            &[anchor],
            &[],
            time,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .is_ok()
}

/// Whether a CA key in PEM is the private half of the CA certificate's public key.
pub fn ca_key_matches(ca_pem: &str, key_pem: &str) -> bool {
    let Some(der) = pem_to_der(ca_pem) else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(&der) else {
        return false;
    };
    let Ok(key) = KeyPair::from_pem(key_pem) else {
        return false;
    };
    cert.public_key().subject_public_key.data.as_ref() == key.public_key_raw()
}

/// The SHA-256 fingerprint of the CA in the data dir's `certs/`, if there is one.
pub fn local_ca_fingerprint(config: &Config) -> Option<String> {
    let pem = std::fs::read_to_string(CertPaths::new(&config.certs_dir()).ca_cert).ok()?;
    pem_to_der(&pem).map(|der| fingerprint(&der))
}

/// The shortest passphrase that may seal the site's CA: the sealed CA sits in the cluster's
/// database and its backups, so it must withstand guessing (age stretches it with scrypt).
pub const MIN_CA_PASSPHRASE: usize = 12;

/// Seals this data dir's CA (certificate and key) with `passphrase` (age, scrypt) for other
/// nodes of the cluster to install with [`install_sealed_ca`]. Returns the sealed bytes and the
/// CA's fingerprint. Blocking.
pub fn seal_ca(config: &Config, passphrase: &str) -> Result<(Vec<u8>, String), PkiError> {
    use std::io::Write;
    if passphrase.chars().count() < MIN_CA_PASSPHRASE {
        return Err(PkiError::Sealed(format!(
            "the passphrase must have at least {MIN_CA_PASSPHRASE} characters"
        )));
    }
    let paths = CertPaths::new(&config.certs_dir());
    let _lock = lock_certs(&config.certs_dir())?;
    let cert = std::fs::read_to_string(&paths.ca_cert).map_err(io_err("read", &paths.ca_cert))?;
    let key = std::fs::read_to_string(&paths.ca_key).map_err(io_err("read", &paths.ca_key))?;
    if !ca_key_matches(&cert, &key) {
        return Err(PkiError::BadFile {
            path: paths.ca_key.clone(),
            what: "CA key matching the CA certificate",
        });
    }
    let der = pem_to_der(&cert).ok_or_else(|| PkiError::BadFile {
        path: paths.ca_cert.clone(),
        what: "CA certificate",
    })?;
    let encryptor =
        age::Encryptor::with_user_passphrase(age::secrecy::SecretString::from(passphrase));
    let mut sealed = Vec::new();
    let mut w = encryptor
        .wrap_output(&mut sealed)
        .map_err(|e| PkiError::Sealed(e.to_string()))?;
    w.write_all(format!("{cert}{key}").as_bytes())
        .and_then(|()| w.finish().map(|_| ()))
        .map_err(|e| PkiError::Sealed(e.to_string()))?;
    Ok((sealed, fingerprint(&der)))
}

/// Opens a CA sealed by [`seal_ca`] and installs it as this data dir's CA, if its fingerprint
/// is `expected` (the site's, as the cluster's database records it). A different CA already
/// here is moved aside to `certs/replaced-ca-TIME/`; this node's server certificate is then
/// reissued from the site's CA at start. Returns whether anything changed. Blocking.
pub fn install_sealed_ca(
    config: &Config,
    sealed: &[u8],
    passphrase: &str,
    expected: &str,
) -> Result<bool, PkiError> {
    use std::io::Read;
    let decryptor = age::Decryptor::new(sealed).map_err(|e| PkiError::Sealed(e.to_string()))?;
    let identity = age::scrypt::Identity::new(age::secrecy::SecretString::from(passphrase));
    let mut text = String::new();
    decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                PkiError::Sealed("the passphrase is wrong".into())
            }
            other => PkiError::Sealed(other.to_string()),
        })?
        .read_to_string(&mut text)
        .map_err(|e| PkiError::Sealed(e.to_string()))?;
    const END: &str = "-----END CERTIFICATE-----";
    let split = text
        .find(END)
        .map(|i| i + END.len())
        .ok_or_else(|| PkiError::Sealed("it holds no certificate".into()))?;
    let (cert, key) = text.split_at(split);
    let key = key.trim_start();
    let der = pem_to_der(cert).ok_or_else(|| PkiError::Sealed("it holds no certificate".into()))?;
    if !ca_key_matches(cert, key) || fingerprint(&der) != expected {
        return Err(PkiError::Sealed(
            "it is not the CA the cluster's database names".into(),
        ));
    }
    let dir = config.certs_dir();
    create_private_dir(&dir)?;
    let _lock = lock_certs(&dir)?;
    let paths = CertPaths::new(&dir);
    if local_ca_fingerprint(config).as_deref() == Some(expected) {
        return Ok(false);
    }
    if paths.ca_cert.exists() || paths.ca_key.exists() {
        let aside = dir.join(format!(
            "replaced-ca-{}",
            OffsetDateTime::now_utc().unix_timestamp()
        ));
        create_private_dir(&aside)?;
        for f in [&paths.ca_cert, &paths.ca_key] {
            if let (true, Some(name)) = (f.exists(), f.file_name()) {
                std::fs::rename(f, aside.join(name)).map_err(io_err("move aside", f))?;
            }
        }
    }
    write_atomic(&paths.ca_key, key.as_bytes(), 0o600)?;
    write_atomic(&paths.ca_cert, format!("{cert}\n").as_bytes(), 0o644)?;
    Ok(true)
}

/// Creates the root CA: ECDSA P-256, constrained to local names and private address ranges.
pub fn create_ca(
    site_name: &str,
    hostname: &str,
    extra_names: &[String],
) -> Result<(String, String), PkiError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, ca_common_name(site_name));
    dn.push(DnType::OrganizationName, site_name.to_string());
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - BACKDATE;
    params.not_after = now + CA_LIFETIME;
    params.serial_number = Some(random_serial());
    let mut dns: Vec<String> = Vec::new();
    for name in std::iter::once(hostname.to_string())
        .chain(extra_names.iter().cloned())
        .chain(PERMITTED_SUFFIXES.iter().map(|s| s.to_string()))
    {
        let name = name.to_ascii_lowercase();
        if is_valid_dns_name(&name) && !dns.contains(&name) {
            dns.push(name);
        }
    }
    let mut permitted: Vec<GeneralSubtree> = dns.into_iter().map(GeneralSubtree::DnsName).collect();
    for (net, prefix) in permitted_ip_ranges() {
        permitted.push(GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(
            net, prefix,
        )));
    }
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: Vec::new(),
    });
    let cert = params.self_signed(&key)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Issues a server certificate for `sans`, signed by `issuer`.
pub fn issue_leaf(
    issuer: &Issuer<'_, KeyPair>,
    hostname: &str,
    sans: &BTreeSet<San>,
) -> Result<(String, String), PkiError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, format!("{hostname}.local"));
    params.distinguished_name = dn;
    params.subject_alt_names = sans
        .iter()
        .map(|s| {
            Ok(match s {
                San::Dns(n) => SanType::DnsName(n.clone().try_into()?),
                San::Ip(ip) => SanType::IpAddress(*ip),
            })
        })
        .collect::<Result<Vec<_>, rcgen::Error>>()?;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - BACKDATE;
    params.not_after = now - BACKDATE + LEAF_LIFETIME;
    params.serial_number = Some(random_serial());
    let cert = params.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Hands rustls whichever server certificate is current; renewals swap it atomically.
#[derive(Debug)]
pub struct CertResolver {
    current: ArcSwap<CertifiedKey>,
}

impl CertResolver {
    pub fn new(key: CertifiedKey) -> Self {
        CertResolver {
            current: ArcSwap::from_pointee(key),
        }
    }

    pub fn current(&self) -> Arc<CertifiedKey> {
        self.current.load_full()
    }

    pub fn replace(&self, key: CertifiedKey) {
        self.current.store(Arc::new(key));
    }
}

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The one crypto provider used for TLS (and, later, WebRTC's DTLS): aws-lc-rs.
pub fn crypto_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// A TLS client configuration that trusts only the CA certificates in `ca_file` (PEM), for
/// reaching the agency's own servers (the directory, the cluster's PostgreSQL and NATS).
/// `setting` names the option in errors.
pub fn client_config_trusting(
    ca_file: &Path,
    setting: &str,
) -> Result<rustls::ClientConfig, String> {
    let pem =
        std::fs::read(ca_file).map_err(|e| format!("{setting} {}: {e}", ca_file.display()))?;
    client_config_trusting_pem(&pem).map_err(|e| format!("{setting} {}: {e}", ca_file.display()))
}

/// A TLS client configuration that trusts only the CA certificates in `pem`.
pub fn client_config_trusting_pem(pem: &[u8]) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut &pem[..]) {
        let cert = cert.map_err(|e| e.to_string())?;
        roots.add(cert).map_err(|e| e.to_string())?;
    }
    if roots.is_empty() {
        return Err("holds no certificate".into());
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .map_err(|e| e.to_string())
}

/// A rustls server configuration for the chosen Mozilla profile.
pub fn server_config(
    profile: TlsProfile,
    resolver: Arc<CertResolver>,
) -> Result<rustls::ServerConfig, PkiError> {
    let versions: &[&'static rustls::SupportedProtocolVersion] = match profile {
        TlsProfile::Modern => &[&rustls::version::TLS13],
        TlsProfile::Intermediate => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(crypto_provider()))
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// SHA-256 of a DER certificate as colon-separated upper-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    parse_chain(pem)?.into_iter().next().map(|c| c.to_vec())
}

pub fn der_to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn parse_chain(pem: &str) -> Option<Vec<CertificateDer<'static>>> {
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<Result<_, _>>()
        .ok()?;
    (!certs.is_empty()).then_some(certs)
}

fn parse_key(pem: &str) -> Option<PrivateKeyDer<'static>> {
    rustls_pemfile::private_key(&mut pem.as_bytes())
        .ok()
        .flatten()
}

/// Creates a directory readable only by the service user.
pub fn create_private_dir(dir: &Path) -> Result<(), PkiError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err("create directory", dir))
}

/// Writes a file so that a crash leaves either the old content or the new, never a mix.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), PkiError> {
    use std::os::unix::fs::OpenOptionsExt;
    // Per process and per file: `ca.pem` and `ca.key` must never share a temporary file.
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        file.write_all(data)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(parent) = path.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_err("write", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permitted_ranges_cover_private_and_exclude_public() {
        for ok in [
            "10.1.2.3",
            "172.31.0.1",
            "192.168.1.1",
            "169.254.9.9",
            "127.0.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(is_permitted_ip(&ok.parse().unwrap()), "{ok}");
        }
        for bad in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "1.1.1.1"] {
            assert!(!is_permitted_ip(&bad.parse().unwrap()), "{bad}");
        }
    }

    #[test]
    fn desired_sans_drop_names_outside_constraints() {
        let permitted: Vec<String> = ["box", "local", "lan"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let sans = desired_sans(
            "box",
            &["chat.lan".into(), "evil.com".into()],
            &["192.168.1.5".parse().unwrap(), "8.8.8.8".parse().unwrap()],
            &permitted,
        );
        assert!(sans.contains(&San::Dns("chat.lan".into())));
        assert!(sans.contains(&San::Dns("box.local".into())));
        assert!(!sans.contains(&San::Dns("evil.com".into())));
        assert!(sans.contains(&San::Ip("192.168.1.5".parse().unwrap())));
        assert!(!sans.contains(&San::Ip("8.8.8.8".parse().unwrap())));
    }

    #[test]
    fn renewal_is_due_at_two_thirds_of_life_and_on_new_addresses() {
        let (ca_pem, ca_key) = create_ca("Test", "box", &[]).unwrap();
        let ca_der = pem_to_der(&ca_pem).unwrap();
        let issuer =
            Issuer::from_ca_cert_pem(&ca_pem, KeyPair::from_pem(&ca_key).unwrap()).unwrap();
        let wanted = desired_sans("box", &[], &[], &permitted_dns_names(&ca_der));
        let (leaf, _) = issue_leaf(&issuer, "box", &wanted).unwrap();
        let leaf_der = pem_to_der(&leaf).unwrap();
        let now = OffsetDateTime::now_utc();
        assert_eq!(reissue_reason(&leaf_der, &ca_der, &wanted, now), None);
        assert!(reissue_reason(&leaf_der, &ca_der, &wanted, now + Duration::days(60)).is_some());
        let mut more = wanted.clone();
        more.insert(San::Ip("10.0.0.9".parse().unwrap()));
        assert!(reissue_reason(&leaf_der, &ca_der, &more, now).is_some());
        let (start, end) = certificate_validity(&leaf_der).unwrap();
        assert_eq!(end - start, LEAF_LIFETIME);
        assert!(start < now - Duration::hours(23));
    }

    #[test]
    fn the_default_site_name_does_not_make_an_outpost_outpost_ca() {
        assert_eq!(ca_common_name("Outpost"), "Outpost CA");
        assert_eq!(
            ca_common_name("Field Office 3"),
            "Field Office 3 Outpost CA"
        );
        assert_eq!(ca_common_name("HQ outpost"), "HQ outpost CA");
        let (pem, key) = create_ca("Outpost", "host", &[]).unwrap();
        assert!(ca_key_matches(&pem, &key));
        let der = pem_to_der(&pem).unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        assert!(
            cert.subject().to_string().contains("CN=Outpost CA"),
            "{}",
            cert.subject()
        );
        let (_, other_key) = create_ca("Outpost", "host", &[]).unwrap();
        assert!(!ca_key_matches(&pem, &other_key));
    }

    #[test]
    fn dns_names_are_checked() {
        assert!(is_valid_dns_name("chat.lan"));
        assert!(!is_valid_dns_name("bad_name.lan"));
        assert!(!is_valid_dns_name("-x.lan"));
        assert!(!is_valid_dns_name(""));
    }
}
