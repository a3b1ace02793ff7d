//! The SQLite store: the only module that contains SQL.
//!
//! One writer thread owns the only read-write connection and commits work in groups: every job
//! waiting when a commit starts runs inside the same transaction (each in its own savepoint, so a
//! failing job rolls back alone) and all of them share one fsync. Callers are answered only after
//! the commit is durable, by a second thread in commit order while the writer starts the next
//! group. Async reads ([`Store::read`]) run on a fixed set of reader threads, each with its own
//! read-only connection, so no SQLite call ever runs on the async runtime's worker threads and
//! neither threads nor connections grow with load; blocking callers (the CLI) use a small pool.

pub mod audit;
pub mod backup;
pub mod chat;
pub mod cluster;
pub mod db;
pub mod files;
pub mod links;
pub mod migrate;
pub mod migrations;
pub mod postgres;
pub mod tokens;
pub mod two_factor;
pub mod users;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

pub use db::Db;

pub use migrations::SCHEMA_VERSION;
pub use users::{Invite, Session, User};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the database {path} has schema version {found}, newer than this Outpost supports ({supported}); upgrade Outpost or restore a matching backup")]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error("the database {path} is damaged or is not an Outpost database ({detail}); it was left untouched — restore a backup or move the file aside")]
    Corrupt { path: PathBuf, detail: String },
    #[error("the disk holding the database is full")]
    DiskFull,
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(Conflict),
    #[error("the database is shut down")]
    Closed,
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("{0} is only available with SQLite")]
    SqliteOnly(&'static str),
    /// PostgreSQL stores no U+0000 in text; the input that carried one is refused.
    #[error("text cannot contain the NUL character (U+0000)")]
    NulInText,
    #[error("database error: {0}")]
    Db(db::Error),
}

/// A change the stored data refuses. Each kind has a stable code for clients (see `Problem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    ChannelNameTaken,
    UserNameTaken,
    LocalAccountHasName,
    AttachmentUnusable,
    TwoFactorAlreadyOn,
    InviteUsed,
    ResetUsed,
    /// This site is linked to that site already.
    LinkExists,
    /// A group commit failed because of another job in it; this job did not run alone.
    NotSaved,
    #[cfg(test)]
    Deliberate,
}

impl Conflict {
    pub fn code(self) -> &'static str {
        match self {
            Conflict::ChannelNameTaken => "channel-name-taken",
            Conflict::UserNameTaken => "username-taken",
            Conflict::LocalAccountHasName => "local-account-has-name",
            Conflict::AttachmentUnusable => "attachment-unusable",
            Conflict::TwoFactorAlreadyOn => "already-enabled",
            Conflict::InviteUsed => "invite-used",
            Conflict::ResetUsed => "reset-used",
            Conflict::LinkExists => "link-exists",
            Conflict::NotSaved => "not-saved",
            #[cfg(test)]
            Conflict::Deliberate => "deliberate",
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conflict::ChannelNameTaken => "a channel with that name exists",
            Conflict::UserNameTaken => "that user name is taken",
            Conflict::LocalAccountHasName => "a local account has that user name",
            Conflict::AttachmentUnusable => {
                "an attachment is unknown, not yours, or already posted"
            }
            Conflict::TwoFactorAlreadyOn => "two-step sign-in is already on",
            Conflict::InviteUsed => "this invite was already used",
            Conflict::ResetUsed => "this reset link was already used",
            Conflict::LinkExists => "this site is linked to that site already",
            Conflict::NotSaved => "the change could not be saved",
            #[cfg(test)]
            Conflict::Deliberate => "deliberate",
        })
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::from(db::Error::from(e))
    }
}

impl From<db::Error> for StoreError {
    fn from(e: db::Error) -> Self {
        match e {
            db::Error::NoRows => StoreError::NotFound,
            db::Error::Sqlite(rusqlite::Error::QueryReturnedNoRows) => StoreError::NotFound,
            db::Error::Sqlite(ref s)
                if s.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) =>
            {
                StoreError::DiskFull
            }
            // PostgreSQL went away (a restart, a failover): nothing was done, try again soon.
            ref lost if postgres::is_connection_lost(lost) => {
                StoreError::Unavailable(lost.to_string())
            }
            db::Error::Nul => StoreError::NulInText,
            other => StoreError::Db(other),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Runs inside the group transaction (or is told why there is none); returns what to do once the
/// commit has (or has not) happened.
type Job = Box<dyn FnOnce(Result<&Db<'_>>) -> Completion + Send>;
type Completion = Box<dyn FnOnce(Result<()>) + Send>;

/// A read for one of the reader threads, given its connection (or why it could not be opened).
type ReadJob = Box<dyn FnOnce(Result<&Db<'_>>) + Send>;

/// Where the data lives: a SQLite file (one box) or a PostgreSQL database (a cluster).
#[derive(Clone)]
enum Source {
    Sqlite(PathBuf),
    /// The server, and how many times a connection to it was found lost: when the server
    /// restarts every connection dies, so one thread finding out makes the others connect
    /// anew before their next job instead of failing it.
    Postgres(Box<postgres::Target>, Arc<std::sync::atomic::AtomicU64>),
}

/// A connection of either engine, used by one thread at a time.
enum Conn {
    Lite(Connection),
    Pg(Box<db::PgConn>),
}

impl Conn {
    fn db(&self) -> Db<'_> {
        match self {
            Conn::Lite(c) => Db::from(c),
            Conn::Pg(p) => p.db(),
        }
    }

    /// Ends a transaction a job began and left open, so the next job starts clean; false when
    /// the connection cannot be trusted any more.
    fn reset(&self) -> bool {
        match self {
            Conn::Lite(c) => c.is_autocommit() || c.execute_batch("ROLLBACK").is_ok(),
            Conn::Pg(p) => !p.is_closed() && (!p.in_transaction() || p.batch("ROLLBACK").is_ok()),
        }
    }
}

impl Source {
    fn epoch(&self) -> u64 {
        match self {
            Source::Sqlite(_) => 0,
            Source::Postgres(_, e) => e.load(std::sync::atomic::Ordering::SeqCst),
        }
    }

    fn connection_lost(&self) {
        if let Source::Postgres(_, e) = self {
            e.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn open_reader(&self) -> Result<Conn> {
        match self {
            Source::Sqlite(path) => {
                let c = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&c, true)?;
                Ok(Conn::Lite(c))
            }
            Source::Postgres(config, _) => {
                let conn = postgres::connect(config)?;
                // Reads never write, as SQLite's readers are opened read-only.
                conn.batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")?;
                Ok(Conn::Pg(Box::new(conn)))
            }
        }
    }
}

/// How many waiting jobs one group commit takes at most.
const MAX_GROUP: usize = 1024;
const READERS: usize = 4;
/// Room for every distinct statement in `store/` (about 100), so the cache never evicts.
const STATEMENT_CACHE: usize = 192;

/// A cheap, clonable handle to the database.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    source: Source,
    /// Feeds the writer thread; `None` once shut down.
    writer: Mutex<Option<mpsc::Sender<Job>>>,
    /// Joined on shutdown so the last commit and the WAL checkpoint finish before exit.
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// Idle read-only connections; short critical sections, never held across an await.
    readers: Mutex<Vec<(Conn, u64)>>,
    /// Feeds the reader threads that serve [`Store::read`]; `None` once shut down.
    read_queue: Mutex<Option<mpsc::Sender<ReadJob>>>,
    /// The `auth_epoch` counter as of the last commit or poll; see [`Store::auth_epoch`].
    auth_epoch: Arc<AtomicI64>,
}

impl Store {
    /// Opens (creating if needed) and migrates the database. Blocking.
    ///
    /// A database that is newer than this binary or damaged is refused before anything writes to
    /// it: the checks run on a read-only connection first.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_as(path, Owner::Server)
    }

    /// Opens the database for a CLI command that may run beside a live server: the same as
    /// [`Store::open`], except that closing it never truncates the shared write-ahead log, which
    /// would take the server's write lock away mid-request.
    pub fn open_beside_server(path: &Path) -> Result<Store> {
        Self::open_as(path, Owner::Cli)
    }

    fn open_as(path: &Path, owner: Owner) -> Result<Store> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let io_err = |e: std::io::Error| StoreError::Open {
            path: path.to_path_buf(),
            source: rusqlite::Error::ToSqlConversionFailure(Box::new(e)),
        };
        // Creating the database, switching it to WAL and migrating it are done by one process
        // at a time: two commands opening a new data dir at once could otherwise deadlock on
        // SQLite's lock upgrades, which no busy timeout retries ("database is locked"). Held
        // only until the store is ready, never while it is used.
        let _setup = setup_lock(path).map_err(io_err)?;
        if path.exists() {
            check_existing(path)?;
        }
        make_private(path).map_err(io_err)?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        configure(&conn, false).map_err(open_err)?;
        migrations::apply(&mut conn).map_err(|e| match StoreError::from(e) {
            StoreError::Db(db::Error::Sqlite(e)) => StoreError::Open {
                path: path.to_path_buf(),
                source: e,
            },
            other => other,
        })?;
        Self::start(
            Source::Sqlite(path.to_path_buf()),
            path.to_path_buf(),
            Conn::Lite(conn),
            owner,
        )
    }

    /// The site's store as the configuration names it: PostgreSQL in cluster mode
    /// (`[cluster] database`), otherwise the SQLite file in the data dir. Blocking.
    ///
    /// A node's data dir remembers its cluster's database (`cluster-database`, written at start),
    /// so a CLI command pointed at the data dir alone acts on the cluster's store rather than
    /// making an empty SQLite file beside it.
    pub fn open_configured(config: &crate::config::Config, beside_server: bool) -> Result<Store> {
        let remembered = config.data_dir.join(CLUSTER_DATABASE_FILE);
        if config.cluster.enabled() {
            let link = postgres::Link::of(&config.cluster);
            if !beside_server {
                remember_cluster_database(&remembered, &link)?;
            }
            return Self::open_postgres(&link);
        }
        if let Some(link) = remembered_cluster_database(&remembered)? {
            return Self::open_postgres(&link);
        }
        match beside_server {
            true => Self::open_beside_server(&config.db_path()),
            false => Self::open(&config.db_path()),
        }
    }

    /// Connects to PostgreSQL (cluster mode), creating the schema in an empty database. Blocking.
    /// The URL never appears in errors or logs: it may carry a password.
    pub fn open_postgres(link: &postgres::Link) -> Result<Store> {
        let target = postgres::target(link)?;
        let source = Source::Postgres(Box::new(target.clone()), Arc::default());
        let conn = off_runtime(&source, || -> Result<db::PgConn> {
            let conn = postgres::connect(&target)?;
            postgres::migrate(&conn)?;
            Ok(conn)
        })??;
        Self::start(
            source,
            PathBuf::from("postgresql"),
            Conn::Pg(Box::new(conn)),
            Owner::Server,
        )
    }

    fn start(source: Source, path: PathBuf, conn: Conn, owner: Owner) -> Result<Store> {
        let thread_err =
            |e: std::io::Error| StoreError::Unavailable(format!("cannot start a thread: {e}"));
        let (tx, rx) = mpsc::channel::<Job>();
        let writer_source = source.clone();
        // What the counter stood at before this process changed anything: a CLI command that
        // moved it waits, before its store closes, until a server beside it has surely read it
        // again, so a person it disabled is refused from the moment the command returns.
        let initial = match &conn {
            Conn::Lite(_) => read_auth_epoch(&conn.db()).ok(),
            Conn::Pg(_) => None,
        };
        let auth_epoch = Arc::new(AtomicI64::new(initial.unwrap_or(NO_EPOCH)));
        let writer_epoch = auth_epoch.clone();
        let thread = std::thread::Builder::new()
            .name("outpost-db-writer".into())
            .spawn(move || writer_loop(conn, writer_source, rx, owner, (initial, &writer_epoch)))
            .map_err(thread_err)?;
        let read_queue = start_readers(&source).map_err(thread_err)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                source,
                writer: Mutex::new(Some(tx)),
                writer_thread: Mutex::new(Some(thread)),
                readers: Mutex::new(Vec::new()),
                read_queue: Mutex::new(Some(read_queue)),
                auth_epoch,
            }),
        })
    }

    /// How many changes that can end or alter a signed-in request (a session or API token
    /// deleted, any change to a person) the database has seen, as of this process's last commit
    /// or [`Store::refresh_auth_epoch`] (read first when the store opens); `None` where it is
    /// not kept (PostgreSQL, whose other nodes change it unseen). Every commit of this
    /// process reads it before it is acknowledged, so a change made here is seen by the next
    /// request; a change made by another process is seen at this process's next commit or
    /// refresh, whichever comes first.
    pub fn auth_epoch(&self) -> Option<i64> {
        match self.inner.auth_epoch.load(Ordering::Acquire) {
            NO_EPOCH => None,
            n => Some(n),
        }
    }

    /// Reads the `auth_epoch` counter again, for changes made by another process (the CLI).
    pub async fn refresh_auth_epoch(&self) -> Result<()> {
        if self.engine() != db::Engine::Sqlite {
            return Ok(());
        }
        let n = self.read(read_auth_epoch).await?;
        // Never backwards: a commit may have published a newer value since this read began.
        self.inner.auth_epoch.fetch_max(n, Ordering::AcqRel);
        Ok(())
    }

    /// Which engine holds the data.
    pub fn engine(&self) -> db::Engine {
        match self.inner.source {
            Source::Sqlite(_) => db::Engine::Sqlite,
            Source::Postgres(..) => db::Engine::Postgres,
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in the next group commit and answers once that commit is durable.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T> + Send + 'static,
    {
        self.submit_then(move |c| f(c).map(|v| (v, ())), |_| {})
            .await
    }

    /// Queues `f` for the next group commit now, in call order, and returns a future that
    /// resolves once that commit is durable. When it is, `after_commit` runs with the second half
    /// of `f`'s result on the store's answer thread before the caller is answered; groups are
    /// answered one after another, so effects happen in commit order: this is how events reach
    /// subscribers in the order they were logged.
    /// `after_commit` must be quick and must not block. An `Err` from `f` rolls back only `f`'s
    /// own savepoint.
    pub fn submit_then<T, E, Er, F, G>(
        &self,
        f: F,
        after_commit: G,
    ) -> impl std::future::Future<Output = std::result::Result<T, Er>> + Send + 'static
    where
        T: Send + 'static,
        E: Send + 'static,
        Er: From<StoreError> + Send + 'static,
        F: FnOnce(&Db) -> std::result::Result<(T, E), Er> + Send + 'static,
        G: FnOnce(E) + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel::<std::result::Result<T, Er>>();
        let job: Job = Box::new(move |db| {
            let outcome = match db {
                Err(e) => Err(Er::from(e)),
                Ok(db) => match db.execute("SAVEPOINT job", []) {
                    Ok(_) => match f(db) {
                        Ok(v) => db
                            .execute("RELEASE job", [])
                            .map(|_| v)
                            .map_err(|e| Er::from(StoreError::from(e))),
                        Err(e) => {
                            let _ = db.execute("ROLLBACK TO job", []);
                            let _ = db.execute("RELEASE job", []);
                            Err(e)
                        }
                    },
                    Err(e) => Err(Er::from(StoreError::from(e))),
                },
            };
            Box::new(move |committed: Result<()>| {
                let result = match committed {
                    Err(e) => Err(Er::from(e)),
                    Ok(()) => outcome.map(|(value, effect)| {
                        after_commit(effect);
                        value
                    }),
                };
                let _ = done_tx.send(result);
            })
        });
        let submitted = self.submit(job);
        async move {
            submitted.map_err(Er::from)?;
            done_rx.await.map_err(|_| Er::from(StoreError::Closed))?
        }
    }

    fn submit(&self, job: Job) -> Result<()> {
        let guard = self.inner.writer.lock().map_err(|_| StoreError::Closed)?;
        let sender = guard.as_ref().ok_or(StoreError::Closed)?;
        sender.send(job).map_err(|_| StoreError::Closed)
    }

    /// Runs `f` on a read-only connection on the blocking pool.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T> + Send + 'static,
    {
        let (done_tx, done_rx) = oneshot::channel::<Result<T>>();
        let job: ReadJob = Box::new(move |db| {
            let _ = done_tx.send(db.and_then(f));
        });
        {
            let queue = self
                .inner
                .read_queue
                .lock()
                .map_err(|_| StoreError::Closed)?;
            let sender = queue.as_ref().ok_or(StoreError::Closed)?;
            sender.send(job).map_err(|_| StoreError::Closed)?;
        }
        // A reader that panicked drops the job unanswered: the caller sees `Closed`.
        done_rx.await.map_err(|_| StoreError::Closed)?
    }

    /// The same as [`Store::read`] for callers already off the runtime (CLI, tests, doctor).
    pub fn read_blocking<T: Send>(&self, f: impl FnOnce(&Db) -> Result<T> + Send) -> Result<T> {
        let source = &self.inner.source;
        // A pooled connection made before a connection was found lost is not trusted.
        let pooled = self
            .inner
            .readers
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .filter(|(_, made)| *made >= source.epoch());
        let run = move |conn: Option<(Conn, u64)>| -> (Option<(Conn, u64)>, Result<T>) {
            let (conn, made) = match conn {
                Some(c) => c,
                None => {
                    let epoch = source.epoch();
                    match source.open_reader() {
                        Ok(c) => (c, epoch),
                        Err(e) => return (None, Err(e)),
                    }
                }
            };
            let out = f(&conn.db());
            (Some((conn, made)), out)
        };
        let (conn, out) = off_runtime(source, move || run(pooled))?;
        let Some((conn, made)) = conn else { return out };
        // A caller that began a transaction and bailed out must not hand it to the next reader.
        if !conn.reset() {
            if matches!(conn, Conn::Pg(_)) {
                source.connection_lost();
            }
            return out;
        }
        if let Ok(mut pool) = self.inner.readers.lock() {
            if pool.len() < READERS {
                pool.push((conn, made));
            }
        }
        out
    }

    /// Runs `f` in its own transaction from a blocking context.
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Db) -> Result<T> + Send + 'static,
    {
        let handle = tokio::runtime::Handle::try_current();
        match handle {
            Ok(h) => tokio::task::block_in_place(|| h.block_on(self.write(f))),
            Err(_) => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .map_err(|_| StoreError::Closed)?;
                rt.block_on(self.write(f))
            }
        }
    }

    /// Finishes pending writes, checkpoints the WAL and closes the writer. Blocking; idempotent.
    pub fn close(&self) {
        if let Ok(mut q) = self.inner.read_queue.lock() {
            q.take();
        }
        if let Ok(mut w) = self.inner.writer.lock() {
            w.take();
        }
        let thread = self
            .inner
            .writer_thread
            .lock()
            .ok()
            .and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
        if let Ok(mut pool) = self.inner.readers.lock() {
            pool.clear();
        }
    }

    /// `PRAGMA integrity_check` results; `["ok"]` when healthy.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        self.read_blocking(|c| {
            let c = c
                .sqlite()
                .ok_or(StoreError::SqliteOnly("PRAGMA integrity_check"))?;
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Reads every row of every table and decodes each value as the server will: text must be
    /// UTF-8, event payloads JSON. `PRAGMA integrity_check` only checks the b-tree structure, so
    /// bytes overwritten inside a row pass it; this finds them. Returns at most `limit` findings
    /// and how many rows were read. Blocking.
    pub fn unreadable_rows(&self, limit: usize) -> Result<(Vec<Damage>, u64)> {
        self.read_blocking(|c| {
            let c = c
                .sqlite()
                .ok_or(StoreError::SqliteOnly("reading every row"))?;
            let tables: Vec<String> = {
                let mut stmt = c.prepare(
                    "SELECT name FROM sqlite_schema WHERE type = 'table'
                       AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'
                     ORDER BY name",
                )?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                rows.collect::<Result<_, _>>()?
            };
            let mut found = Vec::new();
            let mut read = 0u64;
            for table in tables {
                read += check_table(c, &table, limit, &mut found)?;
            }
            Ok((found, read))
        })
    }

    pub fn schema_version(&self) -> Result<i64> {
        self.read_blocking(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
    }
}

/// A row that cannot be read back as stored.
#[derive(Debug, Clone)]
pub struct Damage {
    pub table: String,
    /// The row's rowid (for a table without one, its place in a full scan).
    pub rowid: i64,
    pub problem: String,
}

/// Reads one table in full; returns how many rows were read.
fn check_table(c: &Connection, table: &str, limit: usize, found: &mut Vec<Damage>) -> Result<u64> {
    let quoted = format!("\"{}\"", table.replace('"', "\"\""));
    // Tables declared WITHOUT ROWID have no rowid column to report.
    let (mut stmt, has_rowid) = match c.prepare(&format!("SELECT rowid, * FROM {quoted}")) {
        Ok(s) => (s, true),
        Err(_) => (c.prepare(&format!("SELECT 0, * FROM {quoted}"))?, false),
    };
    let names: Vec<String> = stmt.column_names().map(str::to_string).collect();
    let mut rows = stmt.query([])?;
    let mut n = 0u64;
    let mut last = 0i64;
    let mut report = |rowid: i64, problem: String| {
        if found.len() < limit {
            found.push(Damage {
                table: table.to_string(),
                rowid,
                problem,
            });
        }
    };
    loop {
        let row = match rows.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                report(last, format!("the table cannot be read past this row: {e}"));
                break;
            }
        };
        n += 1;
        let rowid = if has_rowid {
            row.get::<_, i64>(0).unwrap_or(last)
        } else {
            n as i64
        };
        last = rowid;
        for (i, name) in names.iter().enumerate().skip(1) {
            let value = match row.get_ref(i) {
                Ok(v) => v,
                Err(e) => {
                    report(rowid, format!("column {name}: {e}"));
                    continue;
                }
            };
            let problem = match value {
                rusqlite::types::ValueRef::Text(bytes) if std::str::from_utf8(bytes).is_err() => {
                    Some("is not valid UTF-8 text".to_string())
                }
                rusqlite::types::ValueRef::Text(bytes)
                    if table == "events" && name == "payload" =>
                {
                    chat::decode_payload(db::ValueRef::Text(bytes))
                        .err()
                        .map(str::to_string)
                }
                _ if table == "events" && name == "payload" => {
                    Some("the payload is not text".to_string())
                }
                _ => None,
            };
            if let Some(p) = problem {
                report(rowid, format!("column {name} {p}"));
            }
        }
    }
    Ok(n)
}

/// Takes the exclusive lock on `<database>.setup-lock`, waiting for another process holding it.
fn setup_lock(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut name = path.as_os_str().to_os_string();
    name.push(".setup-lock");
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(Path::new(&name))?;
    file.lock()?;
    Ok(file)
}

/// Makes the database file readable by its owner only, creating it empty if it does not exist.
/// SQLite gives the `-wal` and `-shm` files it makes later the same mode as the database.
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        let file = Path::new(&name);
        if let Ok(meta) = std::fs::metadata(file) {
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600))?;
                tracing::warn!(path = %file.display(), "the database file was readable by others; it is now private (0600)");
            }
        }
    }
    Ok(())
}

/// Refuses a database that is damaged or newer than this binary, without writing to it.
fn check_existing(path: &Path) -> Result<()> {
    let corrupt = |e: rusqlite::Error| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let conn =
        Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|source| {
            StoreError::Open {
                path: path.to_path_buf(),
                source,
            }
        })?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(corrupt)?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let check: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(corrupt)?;
    if check != "ok" {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: check,
        });
    }
    Ok(())
}

/// Pragmas that hold per connection and must be set outside any transaction.
fn configure(conn: &Connection, read_only: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    // Every query the store runs is a fixed string prepared once per connection: parsing and
    // planning it again on each call was a fifth of the server's CPU per message.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", true)?;
    if read_only {
        conn.pragma_update(None, "query_only", true)?;
    } else {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before the caller hears of it, even across power loss.
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(())
}

/// Who holds the store: the server owns the write-ahead log; a CLI command only visits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Owner {
    Server,
    Cli,
}

/// One committed (or failed) group: its outcome and what each job does once it is known.
type Answered = (Result<()>, Vec<Completion>);

/// Starts the threads that serve [`Store::read`], each with a read-only connection of its own
/// opened on first use. A fixed set of threads pulling from one queue bounds both threads and
/// connections however many requests read at once (through `spawn_blocking` each concurrent
/// read took a thread, and past the pooled connections opened one, parsing the schema anew: 150
/// threads at 200 concurrent requests); a busy reader takes the next job without sleeping.
/// They end when the queue's sender is dropped (`close`, or the last handle going away).
fn start_readers(source: &Source) -> std::io::Result<mpsc::Sender<ReadJob>> {
    let (tx, rx) = mpsc::channel::<ReadJob>();
    let rx = Arc::new(Mutex::new(rx));
    for i in 0..READERS {
        let (queue, source) = (rx.clone(), source.clone());
        std::thread::Builder::new()
            .name(format!("outpost-db-read-{i}"))
            .spawn(move || reader_loop(&source, &queue))?;
    }
    Ok(tx)
}

fn reader_loop(source: &Source, queue: &Mutex<mpsc::Receiver<ReadJob>>) {
    // The connection, and the loss count it was made after.
    let mut conn: Option<(Conn, u64)> = None;
    loop {
        // The lock is held only while waiting for the next job, never while running one.
        let job = match queue.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        if conn
            .as_ref()
            .is_some_and(|(_, made)| *made < source.epoch())
        {
            conn = None;
        }
        if conn.is_none() {
            let epoch = source.epoch();
            match source.open_reader() {
                Ok(c) => conn = Some((c, epoch)),
                Err(e) => {
                    job(Err(e));
                    continue;
                }
            }
        }
        let Some((c, _)) = conn.as_ref() else {
            continue;
        };
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(Ok(&c.db()))));
        // A job that began a transaction and bailed out (or panicked) must not hand it to the
        // next; a connection that cannot even roll back (or was lost) is replaced.
        if ran.is_err() || !c.reset() {
            if matches!(c, Conn::Pg(_)) && ran.is_ok() {
                source.connection_lost();
            }
            conn = None;
        }
    }
}

/// Tells each job of one group how its commit went.
fn answer((outcome, completions): Answered) {
    for complete in completions {
        let shared = match &outcome {
            Ok(()) => Ok(()),
            Err(StoreError::DiskFull) => Err(StoreError::DiskFull),
            Err(StoreError::Unavailable(why)) => Err(StoreError::Unavailable(why.clone())),
            Err(_) => Err(StoreError::Conflict(Conflict::NotSaved)),
        };
        complete(shared);
    }
}

/// Answers groups in commit order on a thread of its own, so the writer can begin the next group
/// while the last one's events are handed to the hub and its callers are woken (a cross-thread
/// wake per caller: at 200 concurrent senders a group answers about a hundred).
fn answer_loop(rx: mpsc::Receiver<Answered>) {
    while let Ok(answered) = rx.recv() {
        answer(answered);
    }
}

/// `auth_epoch` not known (yet, or at all on this engine).
const NO_EPOCH: i64 = -1;
/// How often a server reads `auth_epoch` again for changes made by another process.
pub const AUTH_EPOCH_POLL: Duration = Duration::from_millis(50);

fn read_auth_epoch(c: &Db) -> Result<i64> {
    Ok(c.prepare_cached("SELECT n FROM auth_epoch")?
        .query_row([], |r| r.get(0))?)
}

fn writer_loop(
    conn: Conn,
    source: Source,
    rx: mpsc::Receiver<Job>,
    owner: Owner,
    (initial, auth_epoch): (Option<i64>, &AtomicI64),
) {
    let (answers, answer_rx) = mpsc::channel::<Answered>();
    // Without its own thread the writer answers inline, as before: slower, never wrong.
    let answerer = std::thread::Builder::new()
        .name("outpost-db-answer".into())
        .spawn(move || answer_loop(answer_rx))
        .map_err(|e| tracing::warn!(error = %e, "answering commits on the writer thread"))
        .ok();
    let mut conn = Some(conn);
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A PostgreSQL connection lost with the server (a restart, a failover) is made again
        // here; while that fails, every job is told the database is unavailable, at once.
        if conn.is_none() {
            if let Source::Postgres(config, _) = &source {
                match postgres::connect(config) {
                    Ok(c) => conn = Some(Conn::Pg(Box::new(c))),
                    Err(e) => tracing::warn!(error = %e, "the database is unavailable"),
                }
            }
        }
        let Some(c) = conn.as_ref() else {
            let completions: Vec<Completion> = batch
                .drain(..)
                .map(|job| job(Err(StoreError::Unavailable("cannot connect".into()))))
                .collect();
            let failed = Err(StoreError::Unavailable("cannot connect".into()));
            answer((failed, completions));
            continue;
        };
        let mut completions = Vec::with_capacity(batch.len());
        let db = c.db();
        let outcome = (|| -> Result<()> {
            // SQLite: IMMEDIATE takes the write lock up front, waiting (busy_timeout) while another
            // process such as a CLI command holds it. A deferred transaction would read first and
            // then fail to upgrade with SQLITE_BUSY_SNAPSHOT, which no timeout retries: every job
            // in the group would fail.
            db.execute_batch(match c {
                Conn::Lite(_) => "BEGIN IMMEDIATE",
                // PostgreSQL: the log's head is taken first, as SQLite's IMMEDIATE takes the
                // write lock. Every group appends to the log (holding that row to its commit)
                // and takes row locks besides; taken in whatever order the group's jobs come,
                // two nodes' groups could each hold what the other waits for. Taken first, one
                // group writes at a time across the cluster and no such cycle can form.
                Conn::Pg(_) => "BEGIN; SELECT pos FROM log_head WHERE name = 'events' FOR UPDATE",
            })?;
            for job in batch.drain(..) {
                completions.push(job(Ok(&db)));
            }
            // Read inside the transaction, so it is what this commit leaves: published before
            // anyone hears of the commit, a request after it never trusts a cached session the
            // group disabled.
            let epoch = match c {
                Conn::Lite(_) => Some(read_auth_epoch(&db)?),
                Conn::Pg(_) => None,
            };
            db.execute_batch("COMMIT")?;
            if let Some(n) = epoch {
                auth_epoch.fetch_max(n, Ordering::AcqRel);
            }
            Ok(())
        })();
        // Jobs never started (the transaction failed to begin) are told why, with the group:
        // a lost connection is `Unavailable`, not a shut-down store.
        let never_ran: Vec<Completion> = batch
            .drain(..)
            .map(|job| job(Err(StoreError::Closed)))
            .collect();
        completions.extend(never_ran);
        let mut outcome = outcome;
        if let Err(e) = &outcome {
            // Lost connections arrive as `Unavailable` (see `From<db::Error>`).
            let lost = matches!(e, StoreError::Unavailable(_));
            if lost {
                // Nothing of the group is acknowledged; a client retrying with its client_id
                // gets its message stored once, whether or not this commit reached the disk.
                tracing::warn!(error = %e, "the database connection was lost during a commit");
                outcome = Err(StoreError::Unavailable("the connection was lost".into()));
            } else if !matches!(e, StoreError::DiskFull) {
                tracing::error!(error = %e, "group commit failed");
            }
            if (lost || !c.reset()) && matches!(c, Conn::Pg(_)) {
                source.connection_lost();
                conn = None;
            }
        }
        let answered = (outcome, completions);
        match &answerer {
            Some(_) => {
                if let Err(mpsc::SendError(answered)) = answers.send(answered) {
                    answer(answered);
                }
            }
            None => answer(answered),
        }
    }
    // Every group is answered before the store counts as closed.
    drop(answers);
    if let Some(t) = answerer {
        let _ = t.join();
    }
    if matches!(owner, Owner::Cli)
        && initial.is_some_and(|n| auth_epoch.load(Ordering::Acquire) > n)
    {
        std::thread::sleep(AUTH_EPOCH_POLL * 3);
    }
    if let Some(Conn::Lite(conn)) = conn {
        // Only the server truncates the log: a CLI command beside it would block its writes.
        let mode = match owner {
            Owner::Server => "TRUNCATE",
            Owner::Cli => "PASSIVE",
        };
        let _ = conn.pragma_update(None, "wal_checkpoint", mode);
        if let Err((_, e)) = conn.close() {
            tracing::warn!(error = %e, "closing the database");
        }
    }
}

/// Runs `f` where the PostgreSQL client may block: its synchronous calls run a small runtime of
/// their own, which cannot start on a thread already driving one (a CLI command's or a test's).
/// SQLite, and threads outside any runtime, run `f` in place.
fn off_runtime<T: Send>(source: &Source, f: impl FnOnce() -> T + Send) -> Result<T> {
    if matches!(source, Source::Sqlite(_)) || tokio::runtime::Handle::try_current().is_err() {
        return Ok(f());
    }
    std::thread::scope(|s| s.spawn(f).join()).map_err(|_| StoreError::Closed)
}

/// In a cluster node's data dir: the database the node serves, as TOML (`database`, `ca_file`;
/// 0600: the URL may hold a password, as the CA key beside it is secret too). An older node
/// wrote the bare URL, which is still read. Removing it returns the data dir to one-box mode.
pub const CLUSTER_DATABASE_FILE: &str = "cluster-database";

pub(crate) fn remember_cluster_database(path: &Path, link: &postgres::Link) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if remembered_cluster_database(path).is_ok_and(|r| r.as_ref() == Some(link)) {
        return Ok(());
    }
    let io = |e: std::io::Error| {
        StoreError::Unavailable(format!("cannot write {}: {e}", path.display()))
    };
    let text = toml::to_string(link)
        .map_err(|e| StoreError::Unavailable(format!("cannot write {}: {e}", path.display())))?;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The database a node's data dir remembers, if it is a cluster node's.
pub(crate) fn remembered_cluster_database(path: &Path) -> Result<Option<postgres::Link>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Ok(Some(postgres::Link {
            database: text.to_string(),
            ..Default::default()
        }));
    }
    // The file's text is not repeated: it holds the URL, which may hold a password.
    toml::from_str(text).map(Some).map_err(|_| {
        StoreError::Unavailable(format!(
            "{} is not readable as a cluster node's database setting; remove it to make this \
             data dir a one-box site again, or set [cluster] database",
            path.display()
        ))
    })
}

/// Milliseconds since the Unix epoch: how every timestamp is stored.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What lets sessions be answered from memory: the counter moves, and is published before
    /// the commit that moved it is acknowledged, for every change that can alter a signed-in
    /// request, and stands still for the ones that cannot (a new person, a last-seen touch).
    #[tokio::test(flavor = "multi_thread")]
    async fn the_sign_in_change_counter_moves_with_each_change_before_it_is_acknowledged() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let epoch = || store.auth_epoch().expect("known from the start");
        let before = epoch();
        let ann = store
            .write(|c| users::create_user(c, "ann", "Ann", "x", false))
            .await
            .unwrap();
        assert_eq!(epoch(), before, "a new person changes nobody's rights");
        let client = users::ClientInfo::default();
        store
            .write(move |c| users::create_session(c, "s1", b"h1", ann.id, &client))
            .await
            .unwrap();
        // Signing in records the time on the person: a change like any other.
        assert!(epoch() > before);
        let before = epoch();
        store
            .write(|c| users::touch_session(c, "s1", now_ms()))
            .await
            .unwrap();
        assert_eq!(epoch(), before, "a touch changes nothing signed in");
        store
            .write(move |c| users::set_admin(c, ann.id, true))
            .await
            .unwrap();
        assert!(epoch() > before);
        let before = epoch();
        store
            .write(move |c| users::delete_session(c, ann.id, "s1"))
            .await
            .unwrap();
        assert!(epoch() > before);
        let before = epoch();
        // Another process's change is seen on the next refresh, without a commit here.
        let other = Store::open_beside_server(&dir.path().join("t.db")).unwrap();
        other
            .write(move |c| users::set_disabled(c, ann.id, true))
            .await
            .unwrap();
        other.close();
        assert_eq!(epoch(), before);
        store.refresh_auth_epoch().await.unwrap();
        assert!(epoch() > before);
        store.close();
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn reads_share_a_fixed_set_of_readers_that_survive_panics_and_open_transactions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        // Every reader panics once and another is left inside a transaction: each caller is
        // answered, and no reader is lost or hands its transaction on.
        for _ in 0..READERS * 2 {
            let r = store
                .read(|_| -> Result<()> { panic!("a bug in a read") })
                .await;
            assert!(matches!(r, Err(StoreError::Closed)), "{r:?}");
            let r = store
                .read(|c| -> Result<()> {
                    c.execute_batch("BEGIN")?;
                    Err(StoreError::NotFound)
                })
                .await;
            assert!(matches!(r, Err(StoreError::NotFound)));
        }
        store
            .write(|c| {
                c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (7)")?;
                Ok(())
            })
            .await
            .unwrap();
        // Far more reads at once than readers: all answered, all seeing the committed write.
        let reads: Vec<_> = (0..200)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .read(|c| Ok(c.query_row("SELECT x FROM t", [], |r| r.get::<_, i64>(0))?))
                        .await
                })
            })
            .collect();
        for r in reads {
            assert_eq!(r.await.unwrap().unwrap(), 7);
        }
        store.close();
        assert!(matches!(
            store.read(|_| Ok(())).await,
            Err(StoreError::Closed)
        ));
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn concurrent_writes_share_commits_and_a_failing_job_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let mut tasks = Vec::new();
        for i in 0..200 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move {
                s.write(move |t| {
                    t.execute(
                        "INSERT INTO meta(key, value) VALUES (?1, 'x')",
                        [format!("k{i}")],
                    )?;
                    if i % 10 == 0 {
                        return Err(StoreError::Conflict(Conflict::Deliberate));
                    }
                    Ok(())
                })
                .await
            }));
        }
        let mut failed = 0;
        for t in tasks {
            if t.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 20);
        let n: i64 = store
            .read(|c| {
                Ok(
                    c.query_row("SELECT count(*) FROM meta WHERE key LIKE 'k%'", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .await
            .unwrap();
        assert_eq!(n, 180);
        store.close();
    }

    #[test]
    fn newer_schema_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let c = Connection::open(&path).unwrap();
            c.pragma_update(None, "user_version", SCHEMA_VERSION + 5)
                .unwrap();
        }
        let before = std::fs::read(&path).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    #[test]
    fn garbage_file_is_refused_and_left_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        std::fs::write(&path, vec![0x5au8; 8192]).unwrap();
        let err = Store::open(&path).err().unwrap();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), vec![0x5au8; 8192]);
    }
}
