//! What the CLI does against a data directory, whether or not the server is running: user
//! management, CA export and `doctor`. SQLite's locking makes these safe beside a live server,
//! and the server re-reads sessions on every request, so a disabled user is out at once.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::auth::{self, AuthError};
use crate::config::Config;
use crate::pki::{self, Pki, PkiError};
use crate::server::{prepare_data_dir, ServeError};
use crate::store::audit::{self, Entry};
use crate::store::{self, users, Store, StoreError, User};

/// An audit entry for something done from the command line on the server itself.
fn cli_entry(action: &'static str, target: &str, details: String) -> Entry {
    Entry {
        actor: "cli".into(),
        action,
        target: target.to_string(),
        details,
        ..Default::default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Serve(#[from] ServeError),
}

type Result<T, E = AdminError> = std::result::Result<T, E>;

fn open(config: &Config) -> Result<Store> {
    prepare_data_dir(&config.data_dir)?;
    Ok(Store::open_configured(config, true)?)
}

fn find(store: &Store, name: &str) -> Result<User> {
    let lookup = name.trim().to_ascii_lowercase();
    store
        .read_blocking(|c| users::user_by_name(c, &lookup))
        .map_err(|e| match e {
            StoreError::NotFound => AdminError::NoSuchUser(name.to_string()),
            other => other.into(),
        })
}

/// A password to use: the one given, or a new random one that the caller must show.
fn password_or_generated(given: Option<String>) -> Result<(String, Option<String>)> {
    match given {
        Some(p) => {
            auth::validate_password(&p)?;
            Ok((p, None))
        }
        None => {
            let p = auth::new_token(12);
            Ok((p.clone(), Some(p)))
        }
    }
}

/// Creates a user. Returns the user and the generated password, if none was given.
pub fn user_add(
    config: &Config,
    name: &str,
    display_name: Option<&str>,
    admin: bool,
    password: Option<String>,
) -> Result<(User, Option<String>)> {
    let store = open(config)?;
    let username = auth::validate_username(name)?;
    let display = auth::validate_display_name(display_name.unwrap_or(""), &username)?;
    let (password, generated) = password_or_generated(password)?;
    let hash = auth::hash_password(&password)?;
    let user = store.write_blocking(move |t| {
        let user = users::create_user(t, &username, &display, &hash, admin)?;
        users::clear_setup_tokens(t)?;
        let kind = if admin { "administrator" } else { "member" };
        audit::append(t, &cli_entry("user-created", &user.username, kind.into()))?;
        Ok(user)
    })?;
    store.close();
    Ok((user, generated))
}

pub fn user_list(config: &Config) -> Result<Vec<User>> {
    let store = open(config)?;
    let list = store.read_blocking(users::list_users)?;
    store.close();
    Ok(list)
}

/// Disables (or re-enables) a user; disabling ends all of their sessions.
pub fn user_set_disabled(config: &Config, name: &str, disabled: bool) -> Result<User> {
    let store = open(config)?;
    let user = find(&store, name)?;
    let id = user.id;
    let user = store.write_blocking(move |t| {
        let user = users::set_disabled(t, id, disabled)?;
        let action = if disabled {
            "user-disabled"
        } else {
            "user-enabled"
        };
        audit::append(t, &cli_entry(action, &user.username, String::new()))?;
        Ok(user)
    })?;
    store.close();
    Ok(user)
}

/// `outpost ldap sync`: the server's directory sync, run now, beside a running server.
/// Compares directory accounts with the directory now. Channel memberships change only when
/// no server is running: a live server keeps who is in which channel in memory and applies
/// `ldap.channel_groups` itself at its own sync.
pub async fn ldap_sync(
    config: &Config,
    dir: &crate::directory::Directory,
) -> Result<crate::auth::directory_sync::SyncReport> {
    let store = open(config)?;
    let lock = crate::server::try_lock_data_dir(&config.data_dir);
    let mut auth = crate::auth::Auth::new(store.clone(), config.auth.clone())?
        .with_directory(Some(dir.clone()));
    if lock.is_some() {
        let memberships = store.read_blocking(crate::store::chat::all_memberships)?;
        auth = auth.with_chat(crate::chat::Chat::new(
            store.clone(),
            crate::hub::LocalHub::new(memberships),
            crate::chat::ChatLimits::from(&config.limits),
            std::sync::Arc::new(crate::metrics::Metrics::default()),
        ));
    }
    let report = auth.sync_directory("cli").await;
    store.close();
    drop(lock);
    Ok(report?)
}

/// Whether this data dir serves a cluster (configured, or remembered from an earlier start).
fn clustered(config: &Config) -> bool {
    config.cluster.enabled() || config.data_dir.join(store::CLUSTER_DATABASE_FILE).exists()
}

/// `outpost cluster share-ca`: seals this node's CA with a passphrase into the cluster's database,
/// for new nodes to install with `outpost cluster join`. The CA must be the site's (the one the
/// first node recorded). Returns its fingerprint. Safe beside the running server.
pub fn cluster_share_ca(config: &Config, passphrase: &str) -> Result<String> {
    use base64::Engine as _;
    if !clustered(config) {
        return Err(AdminError::Usage(
            "this site is not a cluster: set [cluster] database first".into(),
        ));
    }
    if config.tls.cert_file.is_some() {
        return Err(AdminError::Usage(
            "this node uses its own certificate (tls.cert_file): there is no site CA to share"
                .into(),
        ));
    }
    if pki::local_ca_fingerprint(config).is_none() {
        return Err(AdminError::Usage(format!(
            "no CA in {}: start this node once, or join it to the site first",
            config.certs_dir().display()
        )));
    }
    let (sealed, fingerprint) = pki::seal_ca(config, passphrase)?;
    let store = Store::open_configured(config, true)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(sealed);
    let fp = fingerprint.clone();
    let outcome = store.write_blocking(move |c| {
        let site = store::cluster::record_site_ca(c, &fp)?;
        if site != fp {
            return Ok(Some(site));
        }
        store::cluster::set_sealed_ca(c, &encoded)?;
        audit::append(
            c,
            &cli_entry("cluster-ca-shared", &fp, "sealed for joining nodes".into()),
        )?;
        Ok(None)
    });
    store.close();
    if let Some(site) = outcome? {
        return Err(AdminError::Usage(format!(
            "this node's CA ({fingerprint}) is not the site's ({site}): run `outpost cluster \
             join` here, or share-ca on a node that holds the site's CA"
        )));
    }
    Ok(fingerprint)
}

/// `outpost cluster join`: installs the site's CA, shared with `outpost cluster share-ca`, into
/// this node's data dir; its own server certificate is issued from it at start. Returns the
/// CA's fingerprint and whether anything changed.
pub fn cluster_join(config: &Config, passphrase: &str) -> Result<(String, bool)> {
    use base64::Engine as _;
    if !clustered(config) {
        return Err(AdminError::Usage(
            "set [cluster] database (the site's PostgreSQL) in this node's configuration first"
                .into(),
        ));
    }
    prepare_data_dir(&config.data_dir)?;
    let store = Store::open_configured(config, true)?;
    let found =
        store.read_blocking(|c| Ok((store::cluster::site_ca(c)?, store::cluster::sealed_ca(c)?)));
    store.close();
    let (Some(site), Some(sealed)) = found? else {
        return Err(AdminError::Usage(
            "no node has shared the site's CA yet: run `outpost cluster share-ca` on a node \
             that holds it"
                .into(),
        ));
    };
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(sealed.trim())
        .map_err(|e| AdminError::Usage(format!("the shared CA is damaged: {e}")))?;
    let changed = pki::install_sealed_ca(config, &sealed, passphrase, &site)?;
    Ok((site, changed))
}

/// `outpost migrate --to postgres://…`: moves this one-box site's database into PostgreSQL, the
/// store of cluster mode. The server must be stopped. Afterwards the data dir serves the cluster
/// (it remembers the database), and the SQLite file is kept aside, never used again.
pub fn migrate(
    config: &Config,
    url: &str,
    progress: impl FnMut(&str, u64),
) -> Result<crate::store::migrate::Moved> {
    let usage = |m: String| AdminError::Usage(m);
    let remembered = config.data_dir.join(crate::store::CLUSTER_DATABASE_FILE);
    if config.cluster.enabled() || remembered.exists() {
        return Err(usage(
            "this site already runs on PostgreSQL ([cluster] database)".into(),
        ));
    }
    let db = config.db_path();
    if !db.exists() {
        return Err(usage(format!(
            "no database at {}: nothing to move",
            db.display()
        )));
    }
    let Some(lock) = crate::server::try_lock_data_dir(&config.data_dir) else {
        return Err(usage(
            "the server is running on this data dir: stop it first (systemctl stop outpost)".into(),
        ));
    };
    // Everything in one file first: the write-ahead log is folded in, and the schema brought
    // to this version.
    Store::open(&db)?.close();
    if config.cluster.ca_file.as_os_str().is_empty() && !config.cluster.allow_plain {
        if let Some(host) = crate::store::postgres::remote_host(url) {
            return Err(usage(format!(
                "PostgreSQL at {host} is on another machine and would be reached without \
                 encryption: set cluster.ca_file (OUTPOST_CLUSTER_CA_FILE) to the CA that signed \
                 its certificate, or cluster.allow_plain = true if only the nodes reach that network"
            )));
        }
    }
    let link = crate::store::postgres::Link {
        database: url.to_string(),
        ca_file: config.cluster.ca_file.clone(),
    };
    let moved = crate::store::migrate::sqlite_to_postgres(&db, &link, progress)?;
    crate::store::remember_cluster_database(&remembered, &link)?;
    let aside = db.with_extension(format!("db.moved-to-postgres-{}", crate::store::now_ms()));
    std::fs::rename(&db, &aside).map_err(|e| {
        usage(format!(
            "moved, but {} could not be renamed ({e}): remove it before starting",
            db.display()
        ))
    })?;
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    drop(lock);
    Ok(moved)
}

/// Turns a user's two-step sign-in off (a lost phone and no recovery codes).
pub fn user_reset_two_factor(config: &Config, name: &str) -> Result<User> {
    let store = open(config)?;
    let user = find(&store, name)?;
    let id = user.id;
    let user = store.write_blocking(move |t| {
        crate::store::two_factor::disable(t, id)?;
        let user = users::user_by_id(t, id)?;
        audit::append(
            t,
            &cli_entry("two-factor-reset", &user.username, String::new()),
        )?;
        Ok(user)
    })?;
    store.close();
    Ok(user)
}

pub fn user_set_admin(config: &Config, name: &str, is_admin: bool) -> Result<User> {
    let store = open(config)?;
    let user = find(&store, name)?;
    let id = user.id;
    let user = store.write_blocking(move |t| {
        let user = users::set_admin(t, id, is_admin)?;
        let action = if is_admin {
            "user-promoted"
        } else {
            "user-demoted"
        };
        audit::append(t, &cli_entry(action, &user.username, String::new()))?;
        Ok(user)
    })?;
    store.close();
    Ok(user)
}

/// Sets a new password and ends every session of the user. Returns the generated password.
pub fn user_reset_password(
    config: &Config,
    name: &str,
    password: Option<String>,
) -> Result<Option<String>> {
    let store = open(config)?;
    let user = find(&store, name)?;
    if user.is_bot || user.from_directory {
        store.close();
        return Err(AuthError::Validation(crate::problem::Problem::new(
            "no-local-password",
            format!(
                "{} has no password here: {}",
                user.username,
                if user.is_bot {
                    "a bot acts only through API tokens"
                } else {
                    "it signs in with the agency's directory, where its password is kept"
                }
            ),
        ))
        .into());
    }
    let (password, generated) = password_or_generated(password)?;
    let hash = auth::hash_password(&password)?;
    let id = user.id;
    let name = user.username.clone();
    store.write_blocking(move |t| {
        users::set_password(t, id, &hash, None)?;
        audit::append(t, &cli_entry("password-reset", &name, String::new()))
    })?;
    store.close();
    Ok(generated)
}

/// The CA certificate clients must trust, creating the CA on first use.
pub fn ca(config: &Config) -> Result<Pki> {
    prepare_data_dir(&config.data_dir)?;
    Ok(Pki::load_or_create(config)?)
}

/// One finding of `outpost doctor`.
pub struct Finding {
    pub ok: bool,
    pub text: String,
}

/// Checks the data dir, the database and the certificates and says what is wrong in plain words.
pub fn doctor(config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut say = |ok: bool, text: String| out.push(Finding { ok, text });
    let dir = &config.data_dir;
    match std::fs::metadata(dir) {
        Err(_) => {
            say(false, format!("the data directory {} does not exist; `outpost serve` creates it on first start", dir.display()));
            return out;
        }
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                say(false, format!("the data directory {} is readable by other users (mode {mode:o}); run: chmod 700 {}", dir.display(), dir.display()));
            } else {
                say(
                    true,
                    format!(
                        "data directory {} is private (mode {mode:o})",
                        dir.display()
                    ),
                );
            }
            if prepare_data_dir(dir).is_err() {
                say(
                    false,
                    format!(
                        "the data directory {} is not writable by this user",
                        dir.display()
                    ),
                );
            }
        }
    }
    let clustered = config.cluster.enabled()
        || config
            .data_dir
            .join(crate::store::CLUSTER_DATABASE_FILE)
            .exists();
    if clustered {
        check_cluster_database(config, &mut say);
    } else {
        check_database(&config.db_path(), &mut say);
    }
    check_certificates(config, &mut say);
    check_call_ports(config, &mut say);
    out
}

/// Which addresses call media is offered on, and whether their ports can be had: binding one
/// briefly sends nothing.
fn check_call_ports(config: &Config, say: &mut impl FnMut(bool, String)) {
    let calls = &config.calls;
    if !calls.enabled {
        say(true, "calls are off (calls.enabled = false)".into());
        return;
    }
    let addresses = crate::calls::sfu::media_addresses(&calls.addresses);
    if addresses.is_empty() {
        say(
            false,
            "no address to offer for call media; set calls.addresses".into(),
        );
        return;
    }
    let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    let tcp = if calls.tcp_port == 0 {
        String::new()
    } else {
        format!(" and TCP {}", calls.tcp_port)
    };
    say(
        true,
        format!(
            "call media is offered on {} (UDP {}{tcp}); the firewall must let these ports in",
            list.join(", "),
            calls.udp_port
        ),
    );
    for ip in addresses {
        // Port 0 means "any free one": nothing to check.
        if calls.udp_port != 0 {
            let udp = std::net::SocketAddr::new(ip, calls.udp_port);
            report_port("UDP", udp, std::net::UdpSocket::bind(udp).map(drop), say);
        }
        if calls.tcp_port != 0 {
            let tcp = std::net::SocketAddr::new(ip, calls.tcp_port);
            report_port("TCP", tcp, std::net::TcpListener::bind(tcp).map(drop), say);
        }
    }
}

fn report_port(
    proto: &str,
    addr: std::net::SocketAddr,
    bound: std::io::Result<()>,
    say: &mut impl FnMut(bool, String),
) {
    use std::io::ErrorKind;
    match bound {
        Ok(()) => say(true, format!("{proto} {addr} is free for call media")),
        Err(e) if e.kind() == ErrorKind::AddrInUse => say(
            true,
            format!("{proto} {addr} is in use: by the running Outpost, or else by another program (`ss -lnp` shows which)"),
        ),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => say(
            false,
            format!("{proto} {addr}: this user may not use port {} (ports below 1024 need CAP_NET_BIND_SERVICE)", addr.port()),
        ),
        Err(e) if e.kind() == ErrorKind::AddrNotAvailable => say(
            false,
            format!("{} is not an address of this machine; correct calls.addresses", addr.ip()),
        ),
        Err(e) => say(false, format!("{proto} {addr} cannot be used for call media: {e}")),
    }
}

/// Cluster mode: PostgreSQL answers, holds this version's schema, and its size.
fn check_cluster_database(config: &Config, say: &mut impl FnMut(bool, String)) {
    match Store::open_configured(config, true) {
        Err(e) => say(false, format!("the cluster's database: {e}")),
        Ok(store) => {
            match store.read_blocking(crate::store::backup::database_bytes) {
                Ok(bytes) => say(
                    true,
                    format!(
                        "the cluster's PostgreSQL database answers, schema version {} ({} MiB)",
                        crate::store::SCHEMA_VERSION,
                        bytes.unwrap_or(0) / (1024 * 1024)
                    ),
                ),
                Err(e) => say(false, format!("the cluster's database: {e}")),
            }
            if config.tls.cert_file.is_none() {
                let local = pki::local_ca_fingerprint(config);
                match store.read_blocking(store::cluster::site_ca) {
                    Ok(Some(site)) if local.as_deref() == Some(site.as_str()) => {
                        say(true, "this node holds the site's CA".into())
                    }
                    Ok(Some(site)) => say(
                        false,
                        format!(
                            "this node does not hold the site's CA (SHA-256 {site}): run \
                             `outpost cluster join`"
                        ),
                    ),
                    Ok(None) => {}
                    Err(e) => say(false, format!("the cluster's database: {e}")),
                }
            }
            store.close();
        }
    }
}

fn check_database(path: &Path, say: &mut impl FnMut(bool, String)) {
    if !path.exists() {
        say(
            false,
            format!(
                "no database at {} yet; `outpost serve` creates it",
                path.display()
            ),
        );
        return;
    }
    match Store::open_beside_server(path) {
        Err(e) => say(false, e.to_string()),
        Ok(store) => {
            match store.integrity_check() {
                Ok(rows) if rows == ["ok"] => say(true, "database integrity check passed".into()),
                Ok(rows) => say(
                    false,
                    format!("the database is damaged: {}", rows.join("; ")),
                ),
                Err(e) => say(false, format!("the database could not be checked: {e}")),
            }
            const SHOWN: usize = 50;
            match store.unreadable_rows(SHOWN + 1) {
                Ok((damage, rows)) if damage.is_empty() => say(
                    true,
                    format!("all {rows} rows of every table read back and decode"),
                ),
                Ok((damage, _)) => {
                    for d in damage.iter().take(SHOWN) {
                        say(
                            false,
                            format!(
                                "damaged row: table {} rowid {}: {}",
                                d.table, d.rowid, d.problem
                            ),
                        );
                    }
                    if damage.len() > SHOWN {
                        say(false, format!("more than {SHOWN} damaged rows; only the first {SHOWN} are shown. The server skips them (and logs each); restore a backup to get them back"));
                    } else {
                        say(false, "the server skips damaged rows (and logs each); restore a backup to get them back".into());
                    }
                }
                Err(e) => say(
                    false,
                    format!("the database could not be read in full: {e}"),
                ),
            }
            match store.schema_version() {
                Ok(v) if v == store::SCHEMA_VERSION => say(
                    true,
                    format!("database schema version {v} matches this Outpost"),
                ),
                Ok(v) => say(
                    false,
                    format!(
                        "database schema version {v}, this Outpost expects {}",
                        store::SCHEMA_VERSION
                    ),
                ),
                Err(e) => say(false, format!("cannot read the schema version: {e}")),
            }
            store.close();
        }
    }
}

fn check_certificates(config: &Config, say: &mut impl FnMut(bool, String)) {
    let (cert_path, ca_path) = match (&config.tls.cert_file, &config.tls.key_file) {
        (Some(cert), Some(_)) => (cert.clone(), None),
        _ => {
            let p = pki::CertPaths::new(&config.certs_dir());
            for key in [&p.ca_key, &p.server_key] {
                if let Ok(meta) = std::fs::metadata(key) {
                    if meta.permissions().mode() & 0o077 != 0 {
                        say(
                            false,
                            format!(
                                "the key {} is readable by other users; run: chmod 600 {}",
                                key.display(),
                                key.display()
                            ),
                        );
                    }
                }
            }
            (p.server_cert, Some(p.ca_cert))
        }
    };
    let Some(leaf) = std::fs::read_to_string(&cert_path)
        .ok()
        .and_then(|p| pki::pem_to_der(&p))
    else {
        say(
            false,
            format!("no readable server certificate at {}", cert_path.display()),
        );
        return;
    };
    let now = time::OffsetDateTime::now_utc();
    match pki::certificate_validity(&leaf) {
        Some((start, _)) if now < start => say(false, format!("the server certificate is not valid before {start}: is this machine's clock right?")),
        Some((_, end)) if now >= end => say(false, format!("the server certificate expired on {end}; start the server to renew it")),
        Some((_, end)) => say(true, format!("server certificate valid until {end}")),
        None => say(false, "the server certificate cannot be parsed".into()),
    }
    let sans = pki::certificate_sans(&leaf);
    let names: Vec<String> = sans.iter().map(ToString::to_string).collect();
    say(
        true,
        format!("server certificate names: {}", names.join(", ")),
    );
    if let Some(ca_path) = ca_path {
        let ca = std::fs::read_to_string(&ca_path)
            .ok()
            .and_then(|p| pki::pem_to_der(&p));
        match ca {
            None => say(
                false,
                format!("no readable CA certificate at {}", ca_path.display()),
            ),
            Some(ca) => {
                say(
                    true,
                    format!("CA fingerprint (SHA-256): {}", pki::fingerprint(&ca)),
                );
                if pki::chains_to(&leaf, &ca, now) {
                    say(
                        true,
                        "the server certificate was issued by the CA on disk".into(),
                    );
                } else {
                    say(false, format!("the server certificate was not issued by the CA in {}: devices that trust that CA reject the server; start the server to reissue it", ca_path.display()));
                }
                let key_path = pki::CertPaths::new(&config.certs_dir()).ca_key;
                let ca_pem = std::fs::read_to_string(&ca_path).unwrap_or_default();
                match std::fs::read_to_string(&key_path) {
                    Ok(key) if pki::ca_key_matches(&ca_pem, &key) => {}
                    Ok(_) => say(false, format!("the CA key {} does not belong to the CA certificate {}; the server sets both aside and makes a new CA on start", key_path.display(), ca_path.display())),
                    Err(e) => say(false, format!("cannot read the CA key {}: {e}", key_path.display())),
                }
                let missing: Vec<String> = pki::interface_addresses()
                    .into_iter()
                    .filter(|ip| !sans.contains(&pki::San::Ip(*ip)))
                    .map(|ip| ip.to_string())
                    .collect();
                if missing.is_empty() {
                    say(
                        true,
                        "the certificate covers every address of this machine".into(),
                    );
                } else {
                    say(false, format!("the certificate does not cover {}; the server reissues it within tls.check_interval_secs", missing.join(", ")));
                }
            }
        }
    }
}

/// Reads `/metrics` from the server running on this machine (loopback is allowed by default).
/// Blocking.
pub fn status(config: &Config) -> Result<Vec<(String, String)>, String> {
    use std::io::{Read, Write};
    let ca = match &config.tls.cert_file {
        Some(chain) => std::fs::read_to_string(chain),
        None => std::fs::read_to_string(pki::CertPaths::new(&config.certs_dir()).ca_cert),
    }
    .map_err(|e| format!("cannot read the CA certificate from the data directory: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca.as_bytes()).flatten() {
        let _ = roots.add(cert);
    }
    let tls =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(pki::crypto_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
    // An unspecified IPv6 address listens dual-stack (or falls back to IPv4): 127.0.0.1
    // reaches the server either way.
    let ip = if config.listen.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        config.listen.ip()
    };
    let addr = std::net::SocketAddr::new(ip, config.listen.port());
    let tcp = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(3))
        .map_err(|e| format!("no Outpost server answers on {addr}: {e}"))?;
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok();
    let name = rustls::pki_types::ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let conn =
        rustls::ClientConnection::new(std::sync::Arc::new(tls), name).map_err(|e| e.to_string())?;
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("cannot talk to the server on {addr}: {e}"))?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("the server on {addr} sent no answer"))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!(
            "the server refused: {} (is metrics.allow_loopback off?)",
            head.lines().next().unwrap_or("")
        ));
    }
    // A cluster node labels every series with `node`; histogram buckets (`le`) are left out.
    Ok(body
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (name, labels) = series.split_once('{').unwrap_or((series, ""));
            (!labels.contains("le=")).then(|| (name.to_string(), value.to_string()))
        })
        .collect())
}

/// This site as `outpost link …` speaks for it beside the running server: its store, its
/// identity and the certificate the server presents.
async fn link_context(
    config: &Config,
) -> Result<(
    Store,
    crate::links::Identity,
    std::sync::Arc<pki::CertResolver>,
)> {
    let store = open(config)?;
    let fingerprint = pki::local_ca_fingerprint(config).ok_or_else(|| {
        AdminError::Usage(format!(
            "no CA in {}: start the server once first",
            config.certs_dir().display()
        ))
    })?;
    let identity = crate::links::Identity::load(&store, &config.site_name, &fingerprint)
        .await
        .map_err(|e| AdminError::Usage(e.to_string()))?;
    let resolver = pki::current_certificate(config)?;
    Ok((store, identity, resolver))
}

fn link_error(e: crate::links::LinkError) -> AdminError {
    match e {
        crate::links::LinkError::Store(s) => AdminError::Store(s),
        other => AdminError::Usage(other.to_string()),
    }
}

/// `outpost link invite`: a one-time invitation for another site, naming `links.addresses` (or
/// the listen address, or this machine's addresses with the link port). The running server
/// opens its link port within a second.
pub async fn link_invite(config: &Config, hours: u64) -> Result<crate::links::Invitation> {
    let crate::config::HttpListen::Addr(listen) = config.links.listen else {
        return Err(AdminError::Usage(
            "links are off (links.listen = \"off\")".into(),
        ));
    };
    if config.links.addresses.is_empty() && listen.port() == 0 {
        return Err(AdminError::Usage(
            "links.listen has port 0: set links.addresses, or create the invitation in the \
             admin page"
                .into(),
        ));
    }
    let (store, identity, _) = link_context(config).await?;
    let addresses = crate::links::advertised(&config.links, listen);
    let inv = crate::links::create_invitation(&store, &identity, addresses, None, hours)
        .await
        .map_err(link_error);
    store.close();
    inv
}

/// `outpost link accept`: pairs with the site that made the invitation.
pub async fn link_accept(config: &Config, code: &str) -> Result<crate::store::links::LinkRow> {
    let (store, identity, resolver) = link_context(config).await?;
    let row = crate::links::accept_invitation(&store, &resolver, &identity, code, None)
        .await
        .map_err(link_error);
    store.close();
    row
}

pub async fn link_list(config: &Config) -> Result<Vec<crate::links::LinkView>> {
    let store = open(config)?;
    let rows = crate::links::list_links(&store, &Default::default())
        .await
        .map_err(link_error);
    store.close();
    rows
}

pub async fn link_set_paused(config: &Config, id: i64, paused: bool) -> Result<()> {
    let store = open(config)?;
    let r = crate::links::set_paused(&store, id, paused, None)
        .await
        .map_err(link_error);
    store.close();
    r
}

pub async fn link_remove(config: &Config, id: i64) -> Result<()> {
    let store = open(config)?;
    let r = crate::links::remove_link(&store, id, None)
        .await
        .map_err(link_error);
    store.close();
    r
}
