//! Encrypted backups: a consistent online snapshot of the database (dumped row by row inside
//! one read transaction), the certificates and the stored files, written as one tar stream
//! straight into age encryption. Nothing unencrypted touches the disk and memory stays bounded
//! (rows go out in chunks). The archive ends with a manifest of every entry's SHA-256, which
//! `verify` and `restore` check; age itself authenticates every chunk of the ciphertext.
//!
//! Restore writes into a temporary directory next to the target, checks everything, and only
//! then moves it into place: a wrong key or a damaged archive leaves nothing behind.

use std::collections::BTreeMap;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::store::db::Value;
use age::secrecy::SecretString;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::store::{self, backup as dump, Store, StoreError};

const FORMAT: u32 = 1;
const ROOT: &str = "outpost-backup";
/// Rows are written in chunks of about this many bytes, so memory does not grow with the data.
const CHUNK: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the backup could not be decrypted: {0} (wrong identity or passphrase?)")]
    Decrypt(String),
    #[error("the backup is damaged or incomplete: {0}")]
    Damaged(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> BackupError + 'a {
    move |source| BackupError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Who can open a backup.
pub enum Seal {
    /// age public keys (`age1…`).
    Recipients(Vec<String>),
    Passphrase(String),
}

/// What opens a backup.
pub enum Key {
    /// An age identity file (`AGE-SECRET-KEY-1…` lines).
    IdentityFile(PathBuf),
    Passphrase(String),
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub schema_version: i64,
    pub created_at: i64,
    pub outpost_version: String,
    /// Table name → column names, in the order rows are written.
    pub tables: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: i64,
    /// Entry path → (SHA-256 hex, size).
    pub entries: BTreeMap<String, (String, u64)>,
}

#[derive(Debug)]
pub struct Summary {
    pub entries: usize,
    pub rows: u64,
    pub bytes: u64,
    pub schema_version: i64,
}

/// Writes tar entries while recording their hashes for the manifest.
struct Archive<W: Write> {
    tar: tar::Builder<W>,
    manifest: Manifest,
}

impl<W: Write> Archive<W> {
    fn add(&mut self, name: &str, data: &[u8], mode: u32) -> std::io::Result<()> {
        let path = format!("{ROOT}/{name}");
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        self.tar.append_data(&mut header, &path, data)?;
        self.manifest
            .entries
            .insert(path, (hex::encode(Sha256::digest(data)), data.len() as u64));
        Ok(())
    }

    fn add_file(&mut self, name: &str, file: &Path, mode: u32) -> std::io::Result<()> {
        let path = format!("{ROOT}/{name}");
        let f = std::fs::File::open(file)?;
        let len = f.metadata()?.len();
        let mut header = tar::Header::new_gnu();
        header.set_size(len);
        header.set_mode(mode);
        header.set_mtime(0);
        header.set_cksum();
        let mut hashing = HashingReader {
            inner: f,
            hash: Sha256::new(),
        };
        self.tar.append_data(&mut header, &path, &mut hashing)?;
        self.manifest
            .entries
            .insert(path, (hex::encode(hashing.hash.finalize()), len));
        Ok(())
    }
}

struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

fn encode(v: Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => i.into(),
        Value::Real(f) => serde_json::json!({ "f": f }),
        Value::Text(s) => s.into(),
        Value::Blob(b) => {
            serde_json::json!({ "b": base64::engine::general_purpose::STANDARD.encode(b) })
        }
    }
}

fn decode(v: serde_json::Value) -> Result<Value> {
    Ok(match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Number(n) => Value::Integer(
            n.as_i64()
                .ok_or_else(|| BackupError::Damaged("a number is out of range".into()))?,
        ),
        serde_json::Value::String(s) => Value::Text(s),
        serde_json::Value::Object(o) => {
            if let Some(f) = o.get("f").and_then(|f| f.as_f64()) {
                Value::Real(f)
            } else if let Some(b) = o.get("b").and_then(|b| b.as_str()) {
                Value::Blob(
                    base64::engine::general_purpose::STANDARD
                        .decode(b)
                        .map_err(|_| BackupError::Damaged("bad binary value".into()))?,
                )
            } else {
                return Err(BackupError::Damaged("unknown value".into()));
            }
        }
        _ => return Err(BackupError::Damaged("unknown value".into())),
    })
}

fn encryptor(seal: &Seal) -> Result<age::Encryptor> {
    match seal {
        Seal::Passphrase(p) => Ok(age::Encryptor::with_user_passphrase(SecretString::from(
            p.clone(),
        ))),
        Seal::Recipients(list) => {
            if list.is_empty() {
                return Err(BackupError::Usage(
                    "give at least one --recipient or use --passphrase".into(),
                ));
            }
            let recipients = list
                .iter()
                .map(|r| {
                    age::x25519::Recipient::from_str(r.trim()).map_err(|e| {
                        BackupError::Usage(format!("{r:?} is not an age public key: {e}"))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| BackupError::Usage(e.to_string()))
        }
    }
}

/// Takes a backup of the data dir into `out`. Safe while the server runs. Blocking.
pub fn backup(config: &Config, out: &Path, seal: &Seal) -> Result<Summary> {
    let enc = encryptor(seal)?;
    let db_path = config.db_path();
    let clustered =
        config.cluster.enabled() || config.data_dir.join(store::CLUSTER_DATABASE_FILE).exists();
    if !clustered && !db_path.exists() {
        return Err(BackupError::Usage(format!(
            "no database at {}: nothing to back up",
            db_path.display()
        )));
    }
    let store = Store::open_configured(config, true)?;
    let partial = out.with_extension("partial");
    let result = (|| -> Result<Summary> {
        let file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&partial)
                .map_err(io("create", &partial))?
        };
        let sealed = enc
            .wrap_output(BufWriter::new(file))
            .map_err(io("encrypt into", &partial))?;
        let mut archive = Archive {
            tar: tar::Builder::new(sealed),
            manifest: Manifest::default(),
        };
        let mut rows = 0u64;
        let write_err = io("write", &partial);
        // Everything from the database comes from one read transaction: one consistent moment.
        let dumped = store.read_blocking(|c| {
            // One snapshot of everything: SQLite's read transaction is one; PostgreSQL needs
            // REPEATABLE READ for every table to be read at the same moment.
            let schema_version: i64 = match c.sqlite() {
                Some(lite) => {
                    c.execute_batch("BEGIN")?;
                    lite.query_row("PRAGMA user_version", [], |r| r.get(0))?
                }
                None => {
                    c.execute_batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
                    store::SCHEMA_VERSION
                }
            };
            let tables = dump::tables(c)?;
            let header = Header {
                format: FORMAT,
                schema_version,
                created_at: store::now_ms(),
                outpost_version: env!("CARGO_PKG_VERSION").to_string(),
                tables: tables.clone(),
            };
            let mut io_result = archive.add(
                "header.json",
                &serde_json::to_vec_pretty(&header).unwrap_or_default(),
                0o600,
            );
            let mut chunk: Vec<u8> = Vec::with_capacity(CHUNK + 64 * 1024);
            let mut chunk_no = 0;
            for (t, (name, cols)) in tables.iter().enumerate() {
                if io_result.is_err() {
                    break;
                }
                io_result = dump::for_each_row(c, name, cols, |values| {
                    let line =
                        serde_json::json!([t, values.into_iter().map(encode).collect::<Vec<_>>()]);
                    serde_json::to_writer(&mut chunk, &line)?;
                    chunk.push(b'\n');
                    rows += 1;
                    if chunk.len() >= CHUNK {
                        archive.add(&format!("db/{chunk_no:06}.jsonl"), &chunk, 0o600)?;
                        chunk_no += 1;
                        chunk.clear();
                    }
                    Ok(())
                })?;
            }
            if io_result.is_ok() && !chunk.is_empty() {
                io_result = archive.add(&format!("db/{chunk_no:06}.jsonl"), &chunk, 0o600);
            }
            c.execute_batch("COMMIT")?;
            Ok((io_result, schema_version))
        });
        let (io_result, schema_version) = dumped?;
        io_result.map_err(io("write", &partial))?;
        archive.manifest.schema_version = schema_version;
        // Certificates and keys, then stored files.
        let certs = config.certs_dir();
        if let Ok(entries) = std::fs::read_dir(&certs) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if e.path().is_file() && !name.ends_with(".tmp") {
                    archive
                        .add_file(&format!("certs/{name}"), &e.path(), 0o600)
                        .map_err(io("read", &e.path()))?;
                }
            }
        }
        let files = config.data_dir.join("files");
        add_tree(&mut archive, &files, "files").map_err(io("read", &files))?;
        let manifest = serde_json::to_vec_pretty(&archive.manifest).unwrap_or_default();
        let entries = archive.manifest.entries.len();
        let bytes: u64 = archive.manifest.entries.values().map(|v| v.1).sum();
        archive
            .add("MANIFEST.json", &manifest, 0o600)
            .map_err(io("write", &partial))?;
        let sealed = archive.tar.into_inner().map_err(write_err)?;
        let mut buffered = sealed.finish().map_err(io("finish", &partial))?;
        buffered.flush().map_err(io("write", &partial))?;
        let file = buffered.into_inner().map_err(|e| BackupError::Io {
            action: "write",
            path: partial.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io("sync", &partial))?;
        std::fs::rename(&partial, out).map_err(io("rename to", out))?;
        Ok(Summary {
            entries,
            rows,
            bytes,
            schema_version,
        })
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    if let Ok(summary) = &result {
        let details = format!(
            "{} entries, {} rows, to {}",
            summary.entries,
            summary.rows,
            out.display()
        );
        let now = store::now_ms().to_string();
        let _ = store.write_blocking(move |t| {
            dump::set_meta(t, "last_backup_at", &now)?;
            store::audit::append(
                t,
                &store::audit::Entry {
                    actor: "backup".into(),
                    action: "backup-taken",
                    details,
                    ..Default::default()
                },
            )
        });
    }
    store.close();
    result
}

fn add_tree<W: Write>(archive: &mut Archive<W>, dir: &Path, prefix: &str) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = format!("{prefix}/{}", e.file_name().to_string_lossy());
        if e.file_type()?.is_dir() {
            add_tree(archive, &e.path(), &name)?;
        } else if e.file_type()?.is_file() {
            archive.add_file(&name, &e.path(), 0o600)?;
        }
    }
    Ok(())
}

fn open(path: &Path, key: &Key) -> Result<impl Read> {
    let file = std::fs::File::open(path).map_err(io("open", path))?;
    let decryptor = age::Decryptor::new(BufReader::new(file))
        .map_err(|e| BackupError::Damaged(format!("not an age file: {e}")))?;
    let reader = match key {
        Key::Passphrase(p) => {
            let id = age::scrypt::Identity::new(SecretString::from(p.clone()));
            decryptor.decrypt(std::iter::once(&id as &dyn age::Identity))
        }
        Key::IdentityFile(f) => {
            let ids = age::IdentityFile::from_file(f.display().to_string())
                .map_err(io("read identity file", f))?
                .into_identities()
                .map_err(|e| BackupError::Decrypt(e.to_string()))?;
            decryptor.decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity))
        }
    };
    reader.map_err(|e| BackupError::Decrypt(e.to_string()))
}

/// Reads the whole archive, calling `entry` for each item, and checks every hash against the
/// manifest at its end.
fn walk(
    path: &Path,
    key: &Key,
    mut entry: impl FnMut(&str, &[u8]) -> Result<()>,
) -> Result<Manifest> {
    let reader = open(path, key)?;
    let mut tar = tar::Archive::new(reader);
    let mut seen: BTreeMap<String, (String, u64)> = BTreeMap::new();
    let mut manifest: Option<Manifest> = None;
    let entries = tar
        .entries()
        .map_err(|e| BackupError::Damaged(e.to_string()))?;
    for item in entries {
        let mut item = item.map_err(|e| BackupError::Damaged(e.to_string()))?;
        let name = item
            .path()
            .map_err(|e| BackupError::Damaged(e.to_string()))?
            .to_string_lossy()
            .to_string();
        if !name.starts_with(&format!("{ROOT}/")) || name.contains("..") {
            return Err(BackupError::Damaged(format!("unexpected entry {name}")));
        }
        let mut data = Vec::new();
        item.read_to_end(&mut data)
            .map_err(|e| BackupError::Damaged(e.to_string()))?;
        if name == format!("{ROOT}/MANIFEST.json") {
            manifest = Some(
                serde_json::from_slice(&data)
                    .map_err(|e| BackupError::Damaged(format!("bad manifest: {e}")))?,
            );
            continue;
        }
        seen.insert(
            name.clone(),
            (hex::encode(Sha256::digest(&data)), data.len() as u64),
        );
        entry(&name[ROOT.len() + 1..], &data)?;
    }
    let manifest =
        manifest.ok_or_else(|| BackupError::Damaged("the manifest is missing".into()))?;
    if manifest.entries != seen {
        return Err(BackupError::Damaged(
            "entries do not match the manifest".into(),
        ));
    }
    Ok(manifest)
}

/// Decrypts and checks every entry without restoring anything.
pub fn verify(path: &Path, key: &Key) -> Result<Manifest> {
    walk(path, key, |_, _| Ok(()))
}

/// Restores a backup into `data_dir`, which must be empty or absent unless `force`. Blocking.
pub fn restore(path: &Path, key: &Key, data_dir: &Path, force: bool) -> Result<Summary> {
    let non_empty = std::fs::read_dir(data_dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if non_empty && !force {
        return Err(BackupError::Usage(format!(
            "{} is not empty; restore into an empty directory, or add --force to replace it (the old one is kept beside it)",
            data_dir.display()
        )));
    }
    let tmp = data_dir.with_extension("restoring");
    let _ = std::fs::remove_dir_all(&tmp);
    crate::pki::create_private_dir(&tmp.join("certs"))
        .map_err(|e| BackupError::Usage(e.to_string()))?;
    let result = restore_into(path, key, &tmp);
    match result {
        Ok(summary) => {
            if data_dir.exists() {
                let aside = data_dir.with_extension(format!("replaced-{}", store::now_ms()));
                std::fs::rename(data_dir, &aside).map_err(io("move aside", data_dir))?;
            }
            std::fs::rename(&tmp, data_dir).map_err(io("move into place", data_dir))?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

fn restore_into(path: &Path, key: &Key, dir: &Path) -> Result<Summary> {
    let mut conn = rusqlite::Connection::open(dir.join("outpost.db"))
        .map_err(|e| BackupError::Store(e.into()))?;
    let mut header: Option<Header> = None;
    let mut rows = 0u64;
    let mut bytes = 0u64;
    conn.execute_batch("PRAGMA foreign_keys = OFF; BEGIN")
        .map_err(|e| BackupError::Store(e.into()))?;
    let manifest = walk(path, key, |name, data| {
        bytes += data.len() as u64;
        if name == "header.json" {
            let h: Header = serde_json::from_slice(data)
                .map_err(|e| BackupError::Damaged(format!("bad header: {e}")))?;
            if h.format != FORMAT || h.schema_version > store::SCHEMA_VERSION {
                return Err(BackupError::Usage(format!(
                    "this backup (schema {}) is newer than this Outpost supports ({})",
                    h.schema_version,
                    store::SCHEMA_VERSION
                )));
            }
            conn.execute_batch("COMMIT")
                .map_err(|e| BackupError::Store(e.into()))?;
            store::migrations::apply_up_to(&mut conn, h.schema_version)
                .map_err(|e| BackupError::Store(e.into()))?;
            conn.execute_batch("BEGIN")
                .map_err(|e| BackupError::Store(e.into()))?;
            header = Some(h);
        } else if let Some(_chunk) = name.strip_prefix("db/") {
            let h = header
                .as_ref()
                .ok_or_else(|| BackupError::Damaged("rows before the header".into()))?;
            for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let (t, values): (usize, Vec<serde_json::Value>) = serde_json::from_slice(line)
                    .map_err(|e| BackupError::Damaged(format!("bad row: {e}")))?;
                let (table, cols) = h
                    .tables
                    .get(t)
                    .ok_or_else(|| BackupError::Damaged("row of an unknown table".into()))?;
                let values = values.into_iter().map(decode).collect::<Result<Vec<_>>>()?;
                dump::insert_row(&store::Db::from(&conn), table, cols, values)?;
                rows += 1;
            }
        } else if let Some(file) = name
            .strip_prefix("certs/")
            .or_else(|| name.strip_prefix("files/").map(|_| name))
        {
            let target = if name.starts_with("certs/") {
                dir.join("certs").join(file)
            } else {
                dir.join(name)
            };
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(io("create", parent))?;
            }
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&target)
                .map_err(io("create", &target))?;
            f.write_all(data).map_err(io("write", &target))?;
            f.sync_all().map_err(io("sync", &target))?;
        }
        Ok(())
    })?;
    dump::rebuild_search(&conn)?;
    let problems = dump::foreign_key_problems(&conn)?;
    if !problems.is_empty() {
        return Err(BackupError::Damaged(format!(
            "{} rows refer to missing rows",
            problems.len()
        )));
    }
    conn.execute_batch("COMMIT")
        .map_err(|e| BackupError::Store(e.into()))?;
    drop(conn);
    // Public certificates are readable; keys stay 0600.
    for pem in ["ca.pem", "server.pem"] {
        let p = dir.join("certs").join(pem);
        if p.exists() {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644));
        }
    }
    Ok(Summary {
        entries: manifest.entries.len(),
        rows,
        bytes,
        schema_version: manifest.schema_version,
    })
}
