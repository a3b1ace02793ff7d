//! Layered configuration: embedded defaults, then a TOML file, then `OUTPOST_*` environment
//! variables, then command-line flags. Every layer is merged as a TOML tree and deserialized once
//! with `deny_unknown_fields`, so a typo anywhere is reported with the key that caused it.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// The commented example configuration shipped in packages and printed by `outpost config example`.
pub const EXAMPLE_CONFIG: &str = include_str!("../packaging/outpost.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("invalid configuration in {origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: String, message: String },
}

/// The whole server configuration. Field names are the TOML keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Shown in the UI, the CA's name and the mDNS instance name.
    pub site_name: String,
    /// Where the database, certificates and files live.
    pub data_dir: PathBuf,
    /// HTTPS listener; always a literal IP address, never a host name.
    pub listen: SocketAddr,
    /// Plain HTTP listener for onboarding and redirects, or "off".
    pub http_listen: HttpListen,
    /// Advertise the server on the LAN over mDNS.
    pub discovery: bool,
    /// Interfaces to advertise on; empty means every non-loopback interface with a private or
    /// link-local address.
    pub discovery_interfaces: Vec<String>,
    pub tls: TlsConfig,
    pub auth: AuthConfig,
    pub limits: LimitsConfig,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub audit: AuditConfig,
    pub backup: BackupConfig,
    pub retention: RetentionConfig,
    pub media: MediaConfig,
    pub calls: CallsConfig,
    pub ldap: LdapConfig,
    pub cluster: ClusterConfig,
    pub links: LinksConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            site_name: "Outpost".into(),
            data_dir: PathBuf::from("outpost-data"),
            // `[::]` listens on IPv6 and IPv4 at once (falling back to IPv4 alone where the
            // machine has no IPv6): the certificate names both kinds of address.
            listen: SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 8443)),
            http_listen: HttpListen::Addr(SocketAddr::from((
                std::net::Ipv6Addr::UNSPECIFIED,
                8080,
            ))),
            discovery: true,
            discovery_interfaces: Vec::new(),
            tls: TlsConfig::default(),
            auth: AuthConfig::default(),
            limits: LimitsConfig::default(),
            log: LogConfig::default(),
            metrics: MetricsConfig::default(),
            audit: AuditConfig::default(),
            backup: BackupConfig::default(),
            retention: RetentionConfig::default(),
            media: MediaConfig::default(),
            calls: CallsConfig::default(),
            ldap: LdapConfig::default(),
            cluster: ClusterConfig::default(),
            links: LinksConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpListen {
    Off,
    Addr(SocketAddr),
}

impl Serialize for HttpListen {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            HttpListen::Off => s.serialize_str("off"),
            HttpListen::Addr(a) => s.serialize_str(&a.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for HttpListen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl std::str::FromStr for HttpListen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(HttpListen::Off);
        }
        s.parse::<SocketAddr>().map(HttpListen::Addr).map_err(|_| {
            format!("expected \"off\" or an IP address with a port such as 0.0.0.0:8080, got {s:?}")
        })
    }
}

/// Links to other Outpost sites (issue 19).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LinksConfig {
    /// Where linked sites reach this one (mutually authenticated TLS, a port of its own), or
    /// "off". The port opens only once the site has a link or an invitation.
    pub listen: HttpListen,
    /// The addresses (`IP:port`) an invitation tells the other site to dial; empty: the listen
    /// address when it names one, else this machine's addresses with the listen port.
    pub addresses: Vec<SocketAddr>,
}

impl Default for LinksConfig {
    fn default() -> Self {
        LinksConfig {
            listen: HttpListen::Addr(SocketAddr::from((std::net::Ipv6Addr::UNSPECIFIED, 8447))),
            addresses: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsProfile {
    /// TLS 1.3 and 1.2 with AEAD suites only (Mozilla "intermediate").
    Intermediate,
    /// TLS 1.3 only (Mozilla "modern").
    Modern,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub profile: TlsProfile,
    /// Extra DNS names for the certificate and the CA's name constraints (e.g. "chat.lan").
    pub names: Vec<String>,
    /// Extra IP addresses the certificate covers though no interface has them now: a cluster's
    /// virtual address, which only one node holds at a time.
    pub addresses: Vec<IpAddr>,
    /// An admin-provided certificate chain (PEM); when set, no CA is created.
    pub cert_file: Option<PathBuf>,
    /// The key for `cert_file` (PEM).
    pub key_file: Option<PathBuf>,
    /// How often the server checks whether its certificate must be reissued.
    pub check_interval_secs: u64,
    /// Send Strict-Transport-Security on HTTPS responses.
    pub hsts: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            profile: TlsProfile::Intermediate,
            names: Vec::new(),
            addresses: Vec::new(),
            cert_file: None,
            key_file: None,
            check_interval_secs: 300,
            hsts: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// A session unused for this many days expires.
    pub session_idle_days: u32,
    /// Failed sign-ins allowed before delays start (per account and per address).
    pub free_login_attempts: u32,
    /// Longest delay imposed after repeated failures.
    pub max_lockout_secs: u64,
    /// Default lifetime of an invite link.
    pub invite_hours: u32,
    /// Profile fields people may change themselves (administrators may change anyone's):
    /// any of `display_name`, `title`, `department`, `phone`, `about`, `photo`.
    pub profile_fields: Vec<String>,
}

/// Every profile field, in the order forms show them.
pub const PROFILE_FIELDS: [&str; 6] = [
    "display_name",
    "title",
    "department",
    "phone",
    "about",
    "photo",
];

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session_idle_days: 30,
            free_login_attempts: 5,
            max_lockout_secs: 900,
            invite_hours: 72,
            profile_fields: PROFILE_FIELDS.iter().map(|f| f.to_string()).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest JSON request body accepted, in bytes.
    pub max_json_body: usize,
    /// Largest number of simultaneous client connections to the HTTPS listener.
    pub max_connections: usize,
    /// Largest number of simultaneous connections from one client address, on each listener.
    pub max_connections_per_address: usize,
    /// Largest number of simultaneous connections to the plain-HTTP listener, counted apart
    /// from HTTPS so it can never starve it.
    pub http_max_connections: usize,
    /// Seconds a new connection may take to complete TLS and send its first bytes.
    pub first_request_secs: u64,
    /// Seconds a connection may stay without moving a byte before it is closed (WebSockets
    /// are pinged well within this).
    pub idle_connection_secs: u64,
    /// Largest message body, in bytes.
    pub max_message_bytes: usize,
    /// Sustained messages per second one user may send.
    pub messages_per_second: f64,
    /// How many messages one user may send in a burst.
    pub message_burst: u32,
    /// Largest WebSocket frame a client may send, in bytes.
    pub max_ws_frame: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_json_body: 256 * 1024,
            max_connections: 20_000,
            max_connections_per_address: 256,
            http_max_connections: 1024,
            first_request_secs: 10,
            idle_connection_secs: 120,
            max_message_bytes: 16 * 1024,
            messages_per_second: 10.0,
            message_burst: 50,
            max_ws_frame: 64 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Let requests from this machine (127.0.0.1, ::1) read `/metrics` without signing in;
    /// everyone else must be an administrator.
    pub allow_loopback: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            allow_loopback: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Audit entries older than this many days are deleted.
    pub keep_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig { keep_days: 365 }
    }
}

/// Backups the server takes by itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// Time of day (UTC, "HH:MM") for the daily backup; empty: no scheduled backups.
    pub time: String,
    /// Instead of daily, every this many seconds (0: use `time`).
    pub interval_secs: u64,
    /// Folder for scheduled backups.
    pub folder: PathBuf,
    /// age public keys (age1…) that can open them; required for scheduled backups.
    pub recipients: Vec<String>,
    /// How many scheduled backups to keep in `folder`.
    pub keep: usize,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            time: String::new(),
            interval_secs: 0,
            folder: PathBuf::from("backups"),
            recipients: Vec::new(),
            keep: 7,
        }
    }
}

impl BackupConfig {
    pub fn enabled(&self) -> bool {
        self.interval_secs > 0 || !self.time.is_empty()
    }

    /// (hour, minute) of the daily backup.
    pub fn time_of_day(&self) -> Option<(u8, u8)> {
        let (h, m) = self.time.split_once(':')?;
        let (h, m) = (h.parse::<u8>().ok()?, m.parse::<u8>().ok()?);
        (h < 24 && m < 60).then_some((h, m))
    }
}

/// Several nodes serving one site (issue 18): the store in PostgreSQL, and NATS for what
/// crosses nodes. Off (one box, SQLite) while `database` is empty.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (PostgreSQL 15 or newer).
    pub database: String,
    /// `nats://HOST:PORT` of the NATS cluster (JetStream on).
    pub nats: Vec<String>,
    /// This node's name in `/metrics`; empty: the host name.
    pub node_name: String,
    /// PEM file of the CA(s) that signed the PostgreSQL and NATS servers' certificates: with it,
    /// both links are TLS and the servers' names are checked; without it, only loopback (or a
    /// Unix socket) is allowed unless `allow_plain`.
    pub ca_file: PathBuf,
    /// Allow unencrypted links to PostgreSQL and NATS on other machines (a network only the nodes
    /// reach).
    pub allow_plain: bool,
}

impl ClusterConfig {
    pub fn enabled(&self) -> bool {
        !self.database.is_empty()
    }

    fn validate(&self) -> Result<(), String> {
        if self.enabled()
            && !self.database.starts_with("postgres://")
            && !self.database.starts_with("postgresql://")
        {
            // The value is not repeated: it may hold a password.
            return Err("cluster.database must be a postgres:// URL".into());
        }
        if !self.nats.is_empty() && !self.enabled() {
            return Err(
                "cluster.nats needs cluster.database: every node must share one store".into(),
            );
        }
        if let Some(url) = self.nats.iter().find(|u| !u.starts_with("nats://")) {
            return Err(format!("cluster.nats: {url:?} must start with nats://"));
        }
        if self.enabled() && self.ca_file.as_os_str().is_empty() && !self.allow_plain {
            if let Some(host) = crate::store::postgres::remote_host(&self.database).or_else(|| {
                self.nats
                    .iter()
                    .find_map(|u| crate::cluster::remote_host(u))
            }) {
                return Err(format!(
                    "the cluster's PostgreSQL or NATS at {host} is on another machine and would \
                     be reached without encryption: set cluster.ca_file to the CA that signed \
                     their certificates, or cluster.allow_plain = true if only the nodes can \
                     reach that network"
                ));
            }
        }
        if !valid_node_name(&self.node_name) && !self.node_name.is_empty() {
            return Err(format!(
                "cluster.node_name {:?}: use letters, digits, '.', '_' and '-', at most 63",
                self.node_name
            ));
        }
        Ok(())
    }

    /// The name `/metrics` labels this node with in a cluster (`None` on one box): the
    /// configured one, else the host name when it is a valid name, else "node".
    pub fn node_label(&self) -> Option<String> {
        if !self.enabled() {
            return None;
        }
        if !self.node_name.is_empty() {
            return Some(self.node_name.clone());
        }
        let host = crate::pki::hostname();
        Some(if valid_node_name(&host) {
            host
        } else {
            "node".into()
        })
    }
}

fn valid_node_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Signing in with the agency's directory (OpenLDAP, Active Directory). Off unless `urls` is set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LdapConfig {
    /// Tried in order: `ldaps://HOST[:PORT]`, or `ldap://` with `starttls` (or `allow_plain`).
    pub urls: Vec<String>,
    /// Upgrade `ldap://` connections with StartTLS.
    pub starttls: bool,
    /// PEM file of the CA(s) that signed the directory's certificate (needed for TLS).
    pub ca_file: Option<PathBuf>,
    /// Allow `ldap://` without TLS: passwords would cross the network in clear.
    pub allow_plain: bool,
    /// The service account Outpost searches with (empty: anonymous search).
    pub bind_dn: String,
    /// File holding the service account's password (never in this file, never logged).
    pub bind_password_file: Option<PathBuf>,
    /// Where people are, e.g. `ou=people,dc=agency,dc=lan`.
    pub user_base: String,
    /// Which entries are people who may sign in.
    pub user_filter: String,
    /// The attribute people sign in with (`uid`; `sAMAccountName` on Active Directory).
    pub username_attribute: String,
    pub display_name_attribute: String,
    /// Profile fields taken from the directory (an empty name: not taken; people then edit
    /// that field themselves). On Active Directory: `title`, `department`, `telephoneNumber`,
    /// `thumbnailPhoto`.
    pub title_attribute: String,
    pub department_attribute: String,
    pub phone_attribute: String,
    /// A JPEG or PNG photo, made into the person's profile photo.
    pub photo_attribute: String,
    /// Where groups are (empty: groups are not used).
    pub group_base: String,
    /// Which entries under `group_base` are groups.
    pub group_filter: String,
    /// The attribute that names a group in `admin_groups` and `channel_groups`.
    pub group_name_attribute: String,
    /// The attribute listing a group's members: their DNs (`member`, `uniqueMember`) or their
    /// user names (`memberUid`).
    pub group_member_attribute: String,
    /// Members of these groups are administrators here, and directory accounts outside them
    /// are not (local accounts are never changed). Empty: the directory does not decide.
    pub admin_groups: Vec<String>,
    /// Group name → channel names: the group's members are made members of those channels,
    /// and removed when they leave the group.
    pub channel_groups: std::collections::BTreeMap<String, Vec<String>>,
    /// Seconds to wait for the directory before a sign-in fails with "unreachable".
    pub timeout_secs: u64,
    /// How often directory accounts are compared with the directory (0: only by
    /// `outpost ldap sync`): people it no longer lists are disabled here.
    pub sync_interval_secs: u64,
}

impl Default for LdapConfig {
    fn default() -> Self {
        LdapConfig {
            urls: Vec::new(),
            starttls: false,
            ca_file: None,
            allow_plain: false,
            bind_dn: String::new(),
            bind_password_file: None,
            user_base: String::new(),
            user_filter: "(objectClass=person)".into(),
            username_attribute: "uid".into(),
            display_name_attribute: "cn".into(),
            title_attribute: "title".into(),
            department_attribute: "departmentNumber".into(),
            phone_attribute: "telephoneNumber".into(),
            photo_attribute: "jpegPhoto".into(),
            group_base: String::new(),
            group_filter: "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)\
                           (objectClass=posixGroup)(objectClass=group))"
                .into(),
            group_name_attribute: "cn".into(),
            group_member_attribute: "member".into(),
            admin_groups: Vec::new(),
            channel_groups: std::collections::BTreeMap::new(),
            timeout_secs: 5,
            sync_interval_secs: 900,
        }
    }
}

impl LdapConfig {
    pub fn enabled(&self) -> bool {
        !self.urls.is_empty()
    }

    fn validate(&self) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        for url in &self.urls {
            let plain = url.starts_with("ldap://");
            if !plain && !url.starts_with("ldaps://") {
                return Err(format!(
                    "ldap.urls: {url:?} must start with ldaps:// or ldap://"
                ));
            }
            if plain && !self.starttls && !self.allow_plain {
                return Err(format!(
                    "ldap.urls: {url:?} would send passwords in clear: use ldaps://, set \
                     ldap.starttls = true, or (only on a trusted wire) ldap.allow_plain = true"
                ));
            }
        }
        if self.user_base.trim().is_empty() {
            return Err("ldap.user_base must name where people are in the directory".into());
        }
        if !self.user_filter.starts_with('(') || !self.user_filter.ends_with(')') {
            return Err("ldap.user_filter must be an LDAP filter in parentheses".into());
        }
        if self.username_attribute.trim().is_empty()
            || self.display_name_attribute.trim().is_empty()
        {
            return Err(
                "ldap.username_attribute and ldap.display_name_attribute are needed".into(),
            );
        }
        if !self.bind_dn.is_empty() && self.bind_password_file.is_none() {
            return Err("ldap.bind_dn needs ldap.bind_password_file".into());
        }
        if !(1..=120).contains(&self.timeout_secs) {
            return Err("ldap.timeout_secs must be 1 to 120".into());
        }
        let groups_used = !self.admin_groups.is_empty() || !self.channel_groups.is_empty();
        if groups_used && self.group_base.trim().is_empty() {
            return Err(
                "ldap.admin_groups and ldap.channel_groups need ldap.group_base (where the \
                 groups are)"
                    .into(),
            );
        }
        if !self.group_base.is_empty()
            && (!self.group_filter.starts_with('(') || !self.group_filter.ends_with(')'))
        {
            return Err("ldap.group_filter must be an LDAP filter in parentheses".into());
        }
        if !self.group_base.is_empty()
            && (self.group_name_attribute.trim().is_empty()
                || self.group_member_attribute.trim().is_empty())
        {
            return Err(
                "ldap.group_name_attribute and ldap.group_member_attribute are needed".into(),
            );
        }
        for (group, channels) in &self.channel_groups {
            if channels.is_empty() {
                return Err(format!("ldap.channel_groups: {group:?} names no channel"));
            }
        }
        Ok(())
    }
}

/// Deleting old messages. Off unless set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Delete messages older than this many days in every channel (0: keep forever). A
    /// channel's own setting, made by an admin, takes precedence.
    pub days: u32,
    /// How often the retention job runs.
    pub check_interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            days: 0,
            check_interval_secs: 3600,
        }
    }
}

/// Photos, video and other files attached to messages.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// Largest file one upload may carry, in bytes.
    pub max_file_bytes: u64,
    /// Bytes of files one user may have stored (counted before duplicates are merged); 0: no quota.
    pub user_quota_bytes: u64,
    /// Keep photos' metadata (EXIF, XMP: camera, time, GPS location) as uploaded. By default
    /// everything but the orientation is removed from the stored photo.
    pub keep_photo_metadata: bool,
    /// Unfinished uploads and files never attached to a message are removed after this long.
    pub abandoned_upload_hours: u32,
    /// How often the sweep for unreferenced files runs.
    pub sweep_interval_secs: u64,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            max_file_bytes: 2 << 30,
            user_quota_bytes: 20 << 30,
            keep_photo_metadata: false,
            abandoned_upload_hours: 24,
            sweep_interval_secs: 3600,
        }
    }
}

/// Voice and video calls through the built-in media server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallsConfig {
    /// Calls on or off.
    pub enabled: bool,
    /// The one UDP port every call's media uses.
    pub udp_port: u16,
    /// TCP port for media when UDP is blocked (ICE over TCP); 0: off.
    pub tcp_port: u16,
    /// Addresses the media server offers to browsers. Empty: every private, link-local and
    /// loopback address of this machine. Set this behind NAT or a VPN.
    pub addresses: Vec<IpAddr>,
    /// Most participants in one call.
    pub max_participants: usize,
    /// How long a call rings before it counts as missed.
    pub ring_secs: u64,
    /// Milliseconds of sound in each microphone packet the server asks browsers for (`a=ptime`
    /// in its offers): 20, 40 or 60. Longer frames mean fewer packets for the server, the LAN
    /// (Wi-Fi above all) and every browser in the call, for a little more delay.
    pub audio_frame_ms: u32,
}

impl Default for CallsConfig {
    fn default() -> Self {
        CallsConfig {
            enabled: true,
            udp_port: 3478,
            tcp_port: 3478,
            addresses: Vec::new(),
            max_participants: 32,
            ring_secs: 30,
            audio_frame_ms: 40,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing filter such as "info" or "outpost=debug,info".
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// How an environment variable's text becomes a TOML value.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Int,
    Float,
    List,
}

/// Every setting reachable from the environment: variable, TOML path, type.
const ENV_VARS: &[(&str, &str, Kind)] = &[
    ("OUTPOST_SITE_NAME", "site_name", Kind::Str),
    ("OUTPOST_DATA_DIR", "data_dir", Kind::Str),
    ("OUTPOST_LISTEN", "listen", Kind::Str),
    ("OUTPOST_HTTP_LISTEN", "http_listen", Kind::Str),
    ("OUTPOST_DISCOVERY", "discovery", Kind::Bool),
    (
        "OUTPOST_DISCOVERY_INTERFACES",
        "discovery_interfaces",
        Kind::List,
    ),
    ("OUTPOST_TLS_PROFILE", "tls.profile", Kind::Str),
    ("OUTPOST_TLS_NAMES", "tls.names", Kind::List),
    ("OUTPOST_TLS_ADDRESSES", "tls.addresses", Kind::List),
    ("OUTPOST_TLS_CERT_FILE", "tls.cert_file", Kind::Str),
    ("OUTPOST_TLS_KEY_FILE", "tls.key_file", Kind::Str),
    (
        "OUTPOST_TLS_CHECK_INTERVAL_SECS",
        "tls.check_interval_secs",
        Kind::Int,
    ),
    ("OUTPOST_TLS_HSTS", "tls.hsts", Kind::Bool),
    (
        "OUTPOST_AUTH_SESSION_IDLE_DAYS",
        "auth.session_idle_days",
        Kind::Int,
    ),
    (
        "OUTPOST_AUTH_FREE_LOGIN_ATTEMPTS",
        "auth.free_login_attempts",
        Kind::Int,
    ),
    (
        "OUTPOST_AUTH_MAX_LOCKOUT_SECS",
        "auth.max_lockout_secs",
        Kind::Int,
    ),
    ("OUTPOST_AUTH_INVITE_HOURS", "auth.invite_hours", Kind::Int),
    (
        "OUTPOST_LIMITS_MAX_JSON_BODY",
        "limits.max_json_body",
        Kind::Int,
    ),
    (
        "OUTPOST_LIMITS_MAX_CONNECTIONS",
        "limits.max_connections",
        Kind::Int,
    ),
    (
        "OUTPOST_LIMITS_MAX_CONNECTIONS_PER_ADDRESS",
        "limits.max_connections_per_address",
        Kind::Int,
    ),
    (
        "OUTPOST_LIMITS_HTTP_MAX_CONNECTIONS",
        "limits.http_max_connections",
        Kind::Int,
    ),
    (
        "OUTPOST_LIMITS_FIRST_REQUEST_SECS",
        "limits.first_request_secs",
        Kind::Int,
    ),
    (
        "OUTPOST_LIMITS_IDLE_CONNECTION_SECS",
        "limits.idle_connection_secs",
        Kind::Int,
    ),
    (
        "OUTPOST_LIMITS_MAX_MESSAGE_BYTES",
        "limits.max_message_bytes",
        Kind::Int,
    ),
    (
        "OUTPOST_LIMITS_MESSAGES_PER_SECOND",
        "limits.messages_per_second",
        Kind::Float,
    ),
    (
        "OUTPOST_LIMITS_MESSAGE_BURST",
        "limits.message_burst",
        Kind::Int,
    ),
    (
        "OUTPOST_LIMITS_MAX_WS_FRAME",
        "limits.max_ws_frame",
        Kind::Int,
    ),
    (
        "OUTPOST_METRICS_ALLOW_LOOPBACK",
        "metrics.allow_loopback",
        Kind::Bool,
    ),
    ("OUTPOST_AUDIT_KEEP_DAYS", "audit.keep_days", Kind::Int),
    ("OUTPOST_BACKUP_TIME", "backup.time", Kind::Str),
    (
        "OUTPOST_BACKUP_INTERVAL_SECS",
        "backup.interval_secs",
        Kind::Int,
    ),
    ("OUTPOST_BACKUP_FOLDER", "backup.folder", Kind::Str),
    ("OUTPOST_BACKUP_RECIPIENTS", "backup.recipients", Kind::List),
    ("OUTPOST_BACKUP_KEEP", "backup.keep", Kind::Int),
    ("OUTPOST_RETENTION_DAYS", "retention.days", Kind::Int),
    (
        "OUTPOST_RETENTION_CHECK_INTERVAL_SECS",
        "retention.check_interval_secs",
        Kind::Int,
    ),
    (
        "OUTPOST_MEDIA_MAX_FILE_BYTES",
        "media.max_file_bytes",
        Kind::Int,
    ),
    (
        "OUTPOST_MEDIA_USER_QUOTA_BYTES",
        "media.user_quota_bytes",
        Kind::Int,
    ),
    (
        "OUTPOST_MEDIA_KEEP_PHOTO_METADATA",
        "media.keep_photo_metadata",
        Kind::Bool,
    ),
    (
        "OUTPOST_MEDIA_ABANDONED_UPLOAD_HOURS",
        "media.abandoned_upload_hours",
        Kind::Int,
    ),
    (
        "OUTPOST_MEDIA_SWEEP_INTERVAL_SECS",
        "media.sweep_interval_secs",
        Kind::Int,
    ),
    ("OUTPOST_CALLS_ENABLED", "calls.enabled", Kind::Bool),
    ("OUTPOST_CALLS_UDP_PORT", "calls.udp_port", Kind::Int),
    ("OUTPOST_CALLS_TCP_PORT", "calls.tcp_port", Kind::Int),
    ("OUTPOST_CALLS_ADDRESSES", "calls.addresses", Kind::List),
    (
        "OUTPOST_CALLS_MAX_PARTICIPANTS",
        "calls.max_participants",
        Kind::Int,
    ),
    ("OUTPOST_CALLS_RING_SECS", "calls.ring_secs", Kind::Int),
    (
        "OUTPOST_CALLS_AUDIO_FRAME_MS",
        "calls.audio_frame_ms",
        Kind::Int,
    ),
    ("OUTPOST_LOG_FORMAT", "log.format", Kind::Str),
    ("OUTPOST_LOG_LEVEL", "log.level", Kind::Str),
    ("OUTPOST_CLUSTER_DATABASE", "cluster.database", Kind::Str),
    ("OUTPOST_CLUSTER_NATS", "cluster.nats", Kind::List),
    ("OUTPOST_CLUSTER_NODE_NAME", "cluster.node_name", Kind::Str),
    ("OUTPOST_CLUSTER_CA_FILE", "cluster.ca_file", Kind::Str),
    (
        "OUTPOST_CLUSTER_ALLOW_PLAIN",
        "cluster.allow_plain",
        Kind::Bool,
    ),
    ("OUTPOST_LINKS_LISTEN", "links.listen", Kind::Str),
    ("OUTPOST_LINKS_ADDRESSES", "links.addresses", Kind::List),
];

/// Environment variables the binary reads itself rather than mapping into the config tree.
const ENV_OTHER: &[&str] = &[
    "OUTPOST_CONFIG",
    "OUTPOST_BACKUP_PASSPHRASE",
    "OUTPOST_CLUSTER_PASSPHRASE",
];

/// Values given on the command line; `None` leaves the lower layers in charge.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub http_listen: Option<HttpListen>,
    pub no_discovery: bool,
}

impl Config {
    /// Builds the configuration from all layers. `env` is passed in so tests need not touch the
    /// process environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &Overrides,
    ) -> Result<(Config, Vec<String>), ConfigError> {
        let mut tree = Table::new();
        let mut origin = "the defaults".to_string();
        let mut warnings = Vec::new();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.to_path_buf(),
                source,
            })?;
            tree = text.parse::<Table>().map_err(|e| ConfigError::Syntax {
                path: path.display().to_string(),
                message: e.to_string().trim().to_string(),
            })?;
            origin = path.display().to_string();
        }
        let mut from_env = false;
        for (name, value) in env {
            // OUTPOST_TEST_* belong to the test suite (OUTPOST_TEST_DATABASE), not the server.
            if !name.starts_with("OUTPOST_")
                || name.starts_with("OUTPOST_TEST_")
                || ENV_OTHER.contains(&name.as_str())
            {
                continue;
            }
            let Some((_, path, kind)) = ENV_VARS.iter().find(|(n, _, _)| *n == name) else {
                warnings.push(format!("ignoring unknown environment variable {name}"));
                continue;
            };
            let parsed = env_value(&value, *kind).map_err(|message| ConfigError::Env {
                name: name.clone(),
                message,
            })?;
            set_path(&mut tree, path, parsed);
            from_env = true;
        }
        if from_env {
            origin = format!("{origin} and OUTPOST_* environment variables");
        }
        if let Some(dir) = &overrides.data_dir {
            set_path(
                &mut tree,
                "data_dir",
                Value::String(dir.display().to_string()),
            );
        }
        if let Some(listen) = overrides.listen {
            set_path(&mut tree, "listen", Value::String(listen.to_string()));
        }
        if let Some(http) = overrides.http_listen {
            let text = match http {
                HttpListen::Off => "off".to_string(),
                HttpListen::Addr(a) => a.to_string(),
            };
            set_path(&mut tree, "http_listen", Value::String(text));
        }
        if overrides.no_discovery {
            set_path(&mut tree, "discovery", Value::Boolean(false));
        }
        let config: Config = Config::deserialize(tree).map_err(|e| ConfigError::Invalid {
            origin: origin.clone(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        config
            .validate()
            .map_err(|message| ConfigError::Invalid { origin, message })?;
        Ok((config, warnings))
    }

    fn validate(&self) -> Result<(), String> {
        self.ldap.validate()?;
        self.cluster.validate()?;
        if let Some(f) = self
            .auth
            .profile_fields
            .iter()
            .find(|f| !PROFILE_FIELDS.contains(&f.as_str()))
        {
            return Err(format!(
                "auth.profile_fields: {f:?} is not one of {}",
                PROFILE_FIELDS.join(", ")
            ));
        }
        if self.site_name.trim().is_empty() || self.site_name.len() > 64 {
            return Err("site_name must be 1 to 64 characters".into());
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err("tls.cert_file and tls.key_file must be set together".into());
        }
        for name in &self.tls.names {
            if !crate::pki::is_valid_dns_name(name) {
                return Err(format!("tls.names: {name:?} is not a valid DNS name"));
            }
        }
        if let Some(ip) = self
            .tls
            .addresses
            .iter()
            .find(|ip| !crate::pki::is_permitted_ip(ip))
        {
            return Err(format!(
                "tls.addresses: {ip} is not a private or link-local address, which the site's CA \
                 may not certify"
            ));
        }
        if self.tls.check_interval_secs == 0 {
            return Err("tls.check_interval_secs must be at least 1".into());
        }
        if !self.limits.messages_per_second.is_finite()
            || self.limits.messages_per_second <= 0.0
            || self.limits.message_burst == 0
        {
            return Err(
                "limits.messages_per_second and limits.message_burst must be above 0".into(),
            );
        }
        if self.limits.max_message_bytes < 16
            || self.limits.max_ws_frame < self.limits.max_message_bytes
        {
            return Err("limits.max_ws_frame must be at least limits.max_message_bytes (and that at least 16)".into());
        }
        if self.media.max_file_bytes == 0 || self.media.sweep_interval_secs == 0 {
            return Err(
                "media.max_file_bytes and media.sweep_interval_secs must be at least 1".into(),
            );
        }
        if self.calls.max_participants < 2 || self.calls.ring_secs == 0 {
            return Err(
                "calls.max_participants must be at least 2 and calls.ring_secs at least 1".into(),
            );
        }
        if ![20, 40, 60].contains(&self.calls.audio_frame_ms) {
            return Err(format!(
                "calls.audio_frame_ms must be 20, 40 or 60, got {}",
                self.calls.audio_frame_ms
            ));
        }
        if !self.backup.time.is_empty() && self.backup.time_of_day().is_none() {
            return Err(format!(
                "backup.time must be HH:MM (UTC), got {:?}",
                self.backup.time
            ));
        }
        if self.backup.enabled() && self.backup.recipients.is_empty() {
            return Err("scheduled backups need backup.recipients (age public keys)".into());
        }
        if self.backup.keep == 0 {
            return Err("backup.keep must be at least 1".into());
        }
        if self.retention.check_interval_secs == 0 {
            return Err("retention.check_interval_secs must be at least 1".into());
        }
        if self.limits.max_json_body < 1024 {
            return Err("limits.max_json_body must be at least 1024 bytes".into());
        }
        if self.auth.session_idle_days == 0 || self.auth.invite_hours == 0 {
            return Err("auth.session_idle_days and auth.invite_hours must be at least 1".into());
        }
        Ok(())
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("outpost.db")
    }

    pub fn certs_dir(&self) -> PathBuf {
        self.data_dir.join("certs")
    }
}

fn env_value(text: &str, kind: Kind) -> Result<Value, String> {
    Ok(match kind {
        Kind::Str => Value::String(text.to_string()),
        Kind::Bool => match text.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Value::Boolean(true),
            "0" | "false" | "no" | "off" => Value::Boolean(false),
            _ => return Err(format!("expected true or false, got {text:?}")),
        },
        Kind::Int => Value::Integer(
            text.trim()
                .parse::<i64>()
                .map_err(|_| format!("expected a whole number, got {text:?}"))?,
        ),
        Kind::Float => Value::Float(
            text.trim()
                .parse::<f64>()
                .map_err(|_| format!("expected a number, got {text:?}"))?,
        ),
        Kind::List => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
    })
}

fn set_path(tree: &mut Table, path: &str, value: Value) {
    let mut parts: Vec<&str> = path.split('.').collect();
    let Some(last) = parts.pop() else { return };
    let mut table = tree;
    for part in parts {
        let entry = table
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(t) = entry else { return };
        table = t;
    }
    table.insert(last.to_string(), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outpost.toml");
        std::fs::write(&path, text).unwrap();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
        Config::load(Some(&path), env, &Overrides::default()).map(|(c, _)| c)
    }

    #[test]
    fn example_config_parses_to_the_defaults_it_documents() {
        let c = load_str(EXAMPLE_CONFIG, &[]).unwrap();
        assert_eq!(c.listen.port(), 443);
        assert_eq!(c.data_dir, PathBuf::from("/var/lib/outpost"));
    }

    #[test]
    fn cluster_settings_are_checked_and_a_node_is_named() {
        let db = "[cluster]\ndatabase = \"postgres://outpost@127.0.0.1/outpost\"\n";
        let err = load_str("[cluster]\ndatabase = \"mysql://x\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("postgres://"), "{err}");
        assert!(
            !err.contains("mysql://x"),
            "the URL may hold a password: {err}"
        );
        let err = load_str(&format!("{db}node_name = \"a b\"\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("node_name"), "{err}");
        let c = load_str(&format!("{db}node_name = \"node-2\"\n"), &[]).unwrap();
        assert_eq!(c.cluster.node_label().as_deref(), Some("node-2"));
        let c = load_str(db, &[("OUTPOST_CLUSTER_NODE_NAME", "n3")]).unwrap();
        assert_eq!(c.cluster.node_label().as_deref(), Some("n3"));
        assert!(load_str(db, &[]).unwrap().cluster.node_label().is_some());
        assert_eq!(load_str("", &[]).unwrap().cluster.node_label(), None);
    }

    #[test]
    fn links_to_other_machines_need_tls_unless_plain_is_allowed() {
        let remote = "[cluster]\ndatabase = \"postgres://outpost:secret@10.0.0.5/outpost\"\n";
        let err = load_str(remote, &[]).unwrap_err().to_string();
        assert!(err.contains("10.0.0.5") && err.contains("ca_file"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        load_str(
            &format!("{remote}ca_file = \"/etc/outpost/cluster-ca.pem\"\n"),
            &[],
        )
        .unwrap();
        load_str(remote, &[("OUTPOST_CLUSTER_ALLOW_PLAIN", "true")]).unwrap();
        // NATS on another machine counts too; this machine and Unix sockets never do.
        let local = "[cluster]\ndatabase = \"postgres://outpost@127.0.0.1:5432/outpost\"\n";
        load_str(local, &[]).unwrap();
        load_str(
            "[cluster]\ndatabase = \"postgresql://outpost@%2Frun%2Fpostgresql/outpost\"\n",
            &[],
        )
        .unwrap();
        load_str(&format!("{local}nats = [\"nats://[::1]:4222\"]\n"), &[]).unwrap();
        let err = load_str(
            &format!("{local}nats = [\"nats://u:pw@10.0.0.6:4222\"]\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("10.0.0.6") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn directory_settings_refuse_passwords_in_clear_unless_allowed() {
        let base = "[ldap]\nuser_base = \"ou=people,dc=x\"\n";
        let err = load_str(&format!("{base}urls = [\"ldap://10.0.0.2\"]\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("in clear"), "{err}");
        for extra in ["starttls = true", "allow_plain = true"] {
            load_str(
                &format!("{base}urls = [\"ldap://10.0.0.2\"]\n{extra}\n"),
                &[],
            )
            .unwrap();
        }
        load_str(&format!("{base}urls = [\"ldaps://10.0.0.2\"]\n"), &[]).unwrap();
        let err = load_str("[ldap]\nurls = [\"ldaps://10.0.0.2\"]\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("user_base"), "{err}");
        let err = load_str(&format!("{base}urls = [\"http://10.0.0.2\"]\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("ldaps://"), "{err}");
        let err = load_str(
            &format!("{base}urls = [\"ldaps://10.0.0.2\"]\nbind_dn = \"cn=x\"\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("bind_password_file"), "{err}");
        let ok = format!("{base}urls = [\"ldaps://10.0.0.2\"]\n");
        let err = load_str(&format!("{ok}admin_groups = [\"ops\"]\n"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("group_base"), "{err}");
        let err = load_str(
            &format!("{ok}group_base = \"ou=g\"\n[ldap.channel_groups]\nops = []\n"),
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("names no channel"), "{err}");
        let c = load_str(
            &format!("{ok}group_base = \"ou=g\"\n[ldap.channel_groups]\nops = [\"duty\"]\n"),
            &[],
        )
        .unwrap();
        assert_eq!(c.ldap.channel_groups["ops"], ["duty"]);
    }

    #[test]
    fn unknown_key_names_the_key_and_the_file() {
        let err = load_str("[tls]\nprofil = \"modern\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("profil"), "{err}");
        assert!(err.contains("outpost.toml"), "{err}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = load_str("discovery = \"maybe\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("discovery"), "{err}");
    }

    #[test]
    fn precedence_is_flag_then_env_then_file() {
        let c = load_str(
            "listen = \"127.0.0.1:1000\"\nsite_name = \"File\"\n",
            &[
                ("OUTPOST_LISTEN", "127.0.0.1:2000"),
                ("OUTPOST_TLS_NAMES", "a.lan, b.lan"),
            ],
        )
        .unwrap();
        assert_eq!(c.listen.port(), 2000);
        assert_eq!(c.site_name, "File");
        assert_eq!(c.tls.names, vec!["a.lan", "b.lan"]);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1000\"\n").unwrap();
        let overrides = Overrides {
            listen: Some("127.0.0.1:3000".parse().unwrap()),
            http_listen: Some(HttpListen::Off),
            no_discovery: true,
            ..Default::default()
        };
        let env = vec![("OUTPOST_LISTEN".to_string(), "127.0.0.1:2000".to_string())];
        let (c, _) = Config::load(Some(&path), env, &overrides).unwrap();
        assert_eq!(c.listen.port(), 3000);
        assert_eq!(c.http_listen, HttpListen::Off);
        assert!(!c.discovery);
    }

    #[test]
    fn bad_env_value_names_the_variable() {
        let err = load_str("", &[("OUTPOST_DISCOVERY", "perhaps")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("OUTPOST_DISCOVERY"), "{err}");
    }

    #[test]
    fn audio_frame_is_checked_and_can_come_from_the_environment() {
        assert_eq!(load_str("", &[]).unwrap().calls.audio_frame_ms, 40);
        let c = load_str("", &[("OUTPOST_CALLS_AUDIO_FRAME_MS", "20")]).unwrap();
        assert_eq!(c.calls.audio_frame_ms, 20);
        let err = load_str("[calls]\naudio_frame_ms = 25\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("calls.audio_frame_ms"), "{err}");
    }

    #[test]
    fn host_names_are_refused_as_listen_addresses() {
        let err = load_str("listen = \"localhost:8443\"\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
    }
}
