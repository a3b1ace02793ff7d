//! The PostgreSQL engine (cluster mode, issue 18): connecting, the schema, and what the writer
//! and reader threads need from a connection. The queries themselves are the store's own,
//! through [`super::db::Db`].

use std::time::Duration;

use super::db::{self, PgConn};
use super::{StoreError, SCHEMA_VERSION};

const SCHEMA: &str = include_str!("schema.sql");

/// How long a node waits for PostgreSQL to answer a connection attempt before it tells callers
/// the store is unavailable (and tries again at the next request).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// An advisory lock key (any constant): nodes starting at once create the schema one at a time.
const SCHEMA_LOCK: i64 = 0x0075_7470_6f73_7401;

/// Tables only PostgreSQL has: the log's head positions and the search words (rebuilt from the
/// messages). Dumps leave them out, so a dump is the same from either engine.
const ENGINE_ONLY: [&str; 4] = [
    "log_head",
    "messages_search",
    "messages_fts_progress",
    "messages_fts_pending",
];

/// The schema's tables in the order it creates them: each after the tables it refers to.
pub fn tables() -> Vec<&'static str> {
    SCHEMA
        .split("CREATE TABLE ")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .filter(|name| !ENGINE_ONLY.contains(name))
        .collect()
}

/// Where and how to connect: the parsed URL, and TLS when the site has a CA for its servers.
#[derive(Clone)]
pub struct Target {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

/// How a node reaches PostgreSQL: the URL and the CA that signed the server's certificate
/// (`[cluster] ca_file`; empty for none).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Link {
    pub database: String,
    #[serde(default)]
    pub ca_file: std::path::PathBuf,
}

impl Link {
    pub fn of(cluster: &crate::config::ClusterConfig) -> Link {
        Link {
            database: cluster.database.clone(),
            ca_file: cluster.ca_file.clone(),
        }
    }
}

/// Checks the URL without connecting, so a bad configuration is refused at start with its reason.
/// With a CA file the connection must be TLS (never a plain fallback) and the server's
/// certificate must chain to that CA and name the host in the URL.
pub fn target(link: &Link) -> Result<Target, StoreError> {
    let mut config: postgres::Config = link.database.parse().map_err(|e: postgres::Error| {
        StoreError::Unavailable(format!("the database URL is not valid: {e}"))
    })?;
    config.connect_timeout(CONNECT_TIMEOUT);
    if config.get_application_name().is_none() {
        config.application_name("outpost");
    }
    if link.ca_file.as_os_str().is_empty() {
        return Ok(Target { config, tls: None });
    }
    config.ssl_mode(postgres::config::SslMode::Require);
    let tls = crate::cluster::client_tls(&link.ca_file).map_err(StoreError::Unavailable)?;
    Ok(Target {
        config,
        tls: Some(tokio_postgres_rustls::MakeRustlsConnect::new(tls)),
    })
}

/// The first host of a PostgreSQL URL that is on another machine (not loopback, not a Unix
/// socket), if any: reaching it without TLS needs `allow_plain`.
pub fn remote_host(url: &str) -> Option<String> {
    let config: postgres::Config = url.parse().ok()?;
    config.get_hosts().iter().find_map(|h| match h {
        postgres::config::Host::Tcp(name) => {
            (!crate::cluster::is_loopback_name(name)).then(|| name.clone())
        }
        postgres::config::Host::Unix(_) => None,
    })
}

/// Opens a connection: TLS when the site gave a CA, else plain TCP or a Unix socket (allowed
/// by the configuration only on this machine or with `allow_plain`).
pub fn connect(target: &Target) -> Result<PgConn, StoreError> {
    let client = match &target.tls {
        Some(tls) => target.config.connect(tls.clone()),
        None => target.config.connect(postgres::NoTls),
    }
    .map_err(|e| StoreError::Unavailable(describe(&e)))?;
    let conn = PgConn::new(client);
    // Every timestamp is written by the application; the session's zone only affects logs.
    conn.batch("SET TIME ZONE 'UTC'")
        .map_err(|e| StoreError::Unavailable(e.to_string()))?;
    Ok(conn)
}

/// Why PostgreSQL could not be reached, without the URL (which may hold a password).
pub fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("PostgreSQL refused: {}", d.message()),
        None => {
            // The cause (a refused certificate, a timeout) is in the source chain.
            let mut why = format!("PostgreSQL cannot be reached: {e}");
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                why.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            why
        }
    }
}

/// Creates the schema in an empty database, or checks that an existing one is this version's.
pub fn migrate(conn: &PgConn) -> Result<(), StoreError> {
    conn.batch("BEGIN")?;
    let outcome = (|| -> Result<(), StoreError> {
        conn.db().query_row(
            "SELECT pg_advisory_xact_lock(?1)",
            [SCHEMA_LOCK],
            |_| Ok(()),
        )?;
        let exists: bool = conn.db().query_row(
            "SELECT EXISTS (SELECT 1 FROM pg_tables
                 WHERE schemaname = current_schema() AND tablename = 'meta')",
            [],
            |r| r.get(0),
        )?;
        if !exists {
            conn.batch(SCHEMA)?;
            super::backup::set_meta(&conn.db(), "schema_version", &SCHEMA_VERSION.to_string())?;
            return Ok(());
        }
        let found: i64 = super::backup::meta(&conn.db(), "schema_version")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: "PostgreSQL".into(),
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::Unavailable(format!(
                "the PostgreSQL database has schema version {found} and this Outpost needs \
                 {SCHEMA_VERSION}; it has no migration between them"
            )));
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => conn.batch("COMMIT").map_err(StoreError::from),
        Err(e) => {
            let _ = conn.batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The connection's state is unknown after this error: drop it and connect anew.
pub fn is_connection_lost(e: &db::Error) -> bool {
    match e {
        db::Error::Postgres(p) => {
            p.is_closed()
                || p.as_db_error().is_some_and(|d| {
                    // admin_shutdown, crash_shutdown, cannot_connect_now, and
                    // read_only_sql_transaction: the address led to a standby (a failover is under
                    // way); a new connection finds the primary once the address leads there.
                    matches!(d.code().code(), "57P01" | "57P02" | "57P03" | "25006")
                })
                || std::error::Error::source(p)
                    .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        }
        _ => false,
    }
}
