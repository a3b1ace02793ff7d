//! Files attached to messages: resumable uploads streamed to disk, content-addressed blobs,
//! photo thumbnails and previews, and the sweep that removes what no message references.
//!
//! Layout under the data dir: `uploads/<id>` holds an upload in progress (outside `files/`, so
//! backups skip it); `files/<first two hex digits>/<sha256>` holds every finished blob once,
//! written to a temporary file, fsynced and renamed, so a crash never leaves half a blob.

pub mod image;
pub mod sniff;

use crate::problem::Problem;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use crate::config::MediaConfig;
use crate::store::files::{self as q, FileRow, UploadRow};
use crate::store::{now_ms, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// Also what someone gets for a file they may not read.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Invalid(Problem),
    #[error("the file is larger than the server accepts ({limit} bytes)")]
    TooLarge { limit: u64 },
    #[error("this upload would exceed your storage quota of {limit} bytes ({used} bytes used)")]
    Quota { limit: u64, used: u64 },
    #[error("the upload continues at byte {expected}")]
    Offset { expected: u64 },
    #[error("this upload is still receiving data on another connection")]
    Busy,
    #[error("a newer request for this upload took over")]
    Superseded,
    #[error("the server's disk is full")]
    DiskFull,
    #[error("file storage failed: {0}")]
    Io(#[source] io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<io::Error> for MediaError {
    fn from(e: io::Error) -> Self {
        // ENOSPC and EDQUOT: the disk, not the request, is the problem.
        if e.kind() == io::ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(28 | 122)) {
            MediaError::DiskFull
        } else {
            MediaError::Io(e)
        }
    }
}

type Result<T, E = MediaError> = std::result::Result<T, E>;

/// Largest photo decoded for thumbnails; bigger ones are stored as plain files.
const MAX_PHOTO_BYTES: u64 = 64 << 20;
/// Largest poster frame a browser may send for a video.
pub const MAX_POSTER_BYTES: usize = 8 << 20;
/// How long one photo may take to decode before it is kept as a plain file.
const DECODE_TIMEOUT: Duration = Duration::from_secs(30);
/// Blobs and partial files younger than this are never swept, so that a finalize in progress
/// (blob written, row not yet committed) cannot lose its blob.
const SWEEP_GRACE: Duration = Duration::from_secs(3600);

/// What a client says about a file before sending it.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub name: String,
    pub size: u64,
    pub mime: Option<String>,
    /// For video, as measured by the sender's browser.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
    /// For a voice message: its loudness over time, as the recording browser measured it.
    pub waveform: Option<Vec<u8>>,
    pub voice: bool,
}

/// Values a waveform may have, at most.
pub const MAX_WAVEFORM: usize = 128;

#[derive(Debug, Clone)]
pub struct UploadStatus {
    pub id: String,
    pub size: u64,
    /// Bytes stored so far; the next chunk starts here.
    pub offset: u64,
}

#[derive(Debug)]
pub struct AppendOutcome {
    pub status: UploadStatus,
    /// Set once the last byte arrived and the file was stored.
    pub file: Option<FileRow>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SweepReport {
    pub uploads: usize,
    pub files: usize,
    pub blobs: usize,
    pub bytes: u64,
}

#[derive(Clone)]
pub struct Media {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    files_dir: PathBuf,
    uploads_dir: PathBuf,
    config: MediaConfig,
    /// Photo decodes at once; each may use up to the decoder's memory limit.
    /// Two decodes at once. The permit moves into the blocking task, so a decode that outlives
    /// its time limit still holds it until it really ends.
    decodes: Arc<Semaphore>,
    /// One slot per upload receiving bytes: a request holds its lock while writing.
    receiving: Mutex<HashMap<String, Arc<Slot>>>,
}

/// A dropped Wi-Fi connection can leave the server reading a dead request for minutes; the
/// client's retry must not wait for that. A new request bumps `generation`, the old one sees
/// it, stops at the next chunk boundary and releases the lock.
struct Slot {
    lock: tokio::sync::Mutex<()>,
    generation: tokio::sync::watch::Sender<u64>,
}

/// How long a retry waits for the request it replaces to let go.
const TAKEOVER_WAIT: Duration = Duration::from_secs(10);

pub(crate) fn random_id() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| MediaError::Io(io::Error::other(e.to_string())))?;
    Ok(hex::encode(b))
}

/// Ids are 32 lowercase hex digits; anything else never reaches the file system.
pub fn valid_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn valid_sha(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The name shown and offered on download: no directories, no control characters, no
/// invisible or text-direction characters (which make "report\u{202E}fdp.exe" read as
/// "reportexe.pdf"), at most 255 bytes. Removed rather than refused: names come from devices.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let base = crate::text::strip_hidden(base);
    let mut name: String = base.chars().filter(|c| !c.is_control()).collect();
    name = name.trim().trim_start_matches('.').to_string();
    while name.len() > 255 {
        name.pop();
    }
    if name.is_empty() {
        "file".into()
    } else {
        name
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| MediaError::Io(io::Error::other(e.to_string())))?
}

impl Media {
    pub fn new(store: Store, data_dir: &Path, config: MediaConfig) -> io::Result<Media> {
        let files_dir = data_dir.join("files");
        let uploads_dir = data_dir.join("uploads");
        std::fs::create_dir_all(&files_dir)?;
        std::fs::create_dir_all(&uploads_dir)?;
        Ok(Media {
            inner: Arc::new(Inner {
                store,
                files_dir,
                uploads_dir,
                config,
                decodes: Arc::new(Semaphore::new(2)),
                receiving: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Where a blob lives; `None` for a malformed hash.
    pub fn blob_path(&self, sha: &str) -> Option<PathBuf> {
        valid_sha(sha).then(|| self.inner.files_dir.join(&sha[..2]).join(sha))
    }

    /// Reserves room for a file and answers where to send its bytes. Size and quota are
    /// checked here, before any byte is sent.
    pub async fn create_upload(&self, user_id: i64, req: NewUpload) -> Result<UploadStatus> {
        let cfg = &self.inner.config;
        if req.size == 0 {
            return Err(MediaError::Invalid(
                Problem::new("empty-file", "an empty file cannot be sent").field("size"),
            ));
        }
        if req.size > cfg.max_file_bytes {
            return Err(MediaError::TooLarge {
                limit: cfg.max_file_bytes,
            });
        }
        if req
            .waveform
            .as_ref()
            .is_some_and(|w| w.len() > MAX_WAVEFORM)
        {
            return Err(MediaError::Invalid(
                Problem::new(
                    "too-long",
                    format!("a waveform has at most {MAX_WAVEFORM} values"),
                )
                .field("waveform")
                .param("max", MAX_WAVEFORM),
            ));
        }
        let id = random_id()?;
        let dims = |v: Option<u32>| v.filter(|d| (1..=65_536).contains(d)).map(i64::from);
        let row = UploadRow {
            id: id.clone(),
            user_id,
            name: clean_name(&req.name),
            mime: req.mime.unwrap_or_default().chars().take(100).collect(),
            size: req.size as i64,
            received: 0,
            width: dims(req.width),
            height: dims(req.height),
            duration_ms: req
                .duration_ms
                .filter(|d| *d <= 100 * 3600 * 1000)
                .map(|d| d as i64),
            waveform: req.waveform,
            voice: req.voice,
        };
        let path = self.inner.uploads_dir.join(&id);
        blocking(move || Ok(std::fs::File::create_new(&path)?)).await?;
        let quota = cfg.user_quota_bytes;
        let size = req.size;
        let inserted = self
            .inner
            .store
            .write(move |c| {
                let used = q::usage(c, user_id)? as u64;
                if quota > 0 && used + size > quota {
                    return Ok(Err(MediaError::Quota { limit: quota, used }));
                }
                q::insert_upload(c, &row)?;
                Ok(Ok(()))
            })
            .await
            .map_err(MediaError::from)
            .and_then(|r| r);
        if let Err(e) = inserted {
            let _ = std::fs::remove_file(self.inner.uploads_dir.join(&id));
            return Err(e);
        }
        Ok(UploadStatus {
            id,
            size,
            offset: 0,
        })
    }

    async fn own_upload(&self, user_id: i64, id: &str) -> Result<UploadRow> {
        if !valid_id(id) {
            return Err(MediaError::NotFound);
        }
        let id = id.to_string();
        match self.inner.store.read(move |c| q::upload(c, &id)).await? {
            Some(u) if u.user_id == user_id => Ok(u),
            _ => Err(MediaError::NotFound),
        }
    }

    /// How far an upload got: the file on disk is the truth, whatever the last request saw.
    /// A request still writing (its client gone) is stopped first, so the answer is final.
    pub async fn upload_status(&self, user_id: i64, id: &str) -> Result<UploadStatus> {
        let up = self.own_upload(user_id, id).await?;
        let slot = self.slot(&up.id)?;
        let _held = Self::take_over(&slot).await?.0;
        let len = tokio::fs::metadata(self.inner.uploads_dir.join(&up.id))
            .await?
            .len();
        Ok(UploadStatus {
            id: up.id,
            size: up.size as u64,
            offset: len.min(up.size as u64),
        })
    }

    /// Appends the bytes of `body` at `offset`, which must be where the upload stands. The bytes
    /// go straight to disk as they arrive. When the last byte is in, the file is stored.
    pub async fn append<S, E>(
        &self,
        user_id: i64,
        id: &str,
        offset: u64,
        declared_len: Option<u64>,
        body: S,
    ) -> Result<AppendOutcome>
    where
        S: Stream<Item = std::result::Result<bytes::Bytes, E>>,
    {
        let up = self.own_upload(user_id, id).await?;
        let slot = self.slot(&up.id)?;
        let (_held, mine) = Self::take_over(&slot).await?;
        let mut takeover = slot.generation.subscribe();
        // A request that came after this one (a retry, or a status query whose answer must
        // stay true) already owns the upload's future: this one writes nothing.
        if *takeover.borrow_and_update() != mine {
            return Err(MediaError::Superseded);
        }
        let size = up.size as u64;
        let path = self.inner.uploads_dir.join(&up.id);
        let mut file = match tokio::fs::OpenOptions::new().write(true).open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(MediaError::NotFound),
            Err(e) => return Err(e.into()),
        };
        let have = file.metadata().await?.len();
        if offset != have || have > size {
            return Err(MediaError::Offset { expected: have });
        }
        let too_many = || {
            MediaError::Invalid(
                Problem::new(
                    "upload-overflow",
                    format!("more bytes than the {size} this upload announced"),
                )
                .param("size", size),
            )
        };
        if declared_len.is_some_and(|n| have + n > size) {
            return Err(too_many());
        }
        file.seek(io::SeekFrom::Start(have)).await?;
        let mut received = have;
        let mut failure = None;
        let mut body = std::pin::pin!(body);
        loop {
            let chunk = tokio::select! {
                c = body.next() => c,
                _ = takeover.changed() => {
                    failure = Some(MediaError::Superseded);
                    break;
                }
            };
            let Some(chunk) = chunk else { break };
            let Ok(chunk) = chunk else {
                // The client went away; what arrived is kept for it to resume from.
                failure = Some(MediaError::Invalid(Problem::new(
                    "upload-interrupted",
                    "the upload was interrupted",
                )));
                break;
            };
            if received + chunk.len() as u64 > size {
                // A broken client: none of this request's bytes can be trusted.
                file.set_len(have).await?;
                received = have;
                failure = Some(too_many());
                break;
            }
            if let Err(e) = file.write_all(&chunk).await {
                failure = Some(e.into());
                break;
            }
            received += chunk.len() as u64;
        }
        if let Err(e) = file.flush().await {
            failure.get_or_insert(e.into());
        }
        drop(file);
        if matches!(failure, Some(MediaError::DiskFull)) {
            // The partial file only holds space the disk lacks; keeping it for a resume that
            // cannot succeed until space is freed would leave it there until the sweep. The
            // upload is cancelled: the client starts it again once the admin has made room.
            let _ = tokio::fs::remove_file(self.inner.uploads_dir.join(&up.id)).await;
            let uid = up.id.clone();
            if let Err(e) = self
                .inner
                .store
                .write(move |c| q::delete_upload(c, &uid))
                .await
            {
                tracing::warn!(error = %e, upload = %up.id, "could not forget an upload the full disk ended");
            }
            self.forget_slot(&up.id);
            return Err(MediaError::DiskFull);
        }
        let id_for_db = up.id.clone();
        let received_i = received as i64;
        self.inner
            .store
            .write(move |c| q::set_received(c, &id_for_db, received_i))
            .await?;
        if let Some(e) = failure {
            // A failed write may have left part of a chunk; the client resumes from the offset
            // that status reports, which is the file's real length.
            return Err(e);
        }
        let status = UploadStatus {
            id: up.id.clone(),
            size,
            offset: received,
        };
        if received < size {
            return Ok(AppendOutcome { status, file: None });
        }
        let file = self.finalize(up).await?;
        self.forget_slot(&status.id);
        Ok(AppendOutcome {
            status,
            file: Some(file),
        })
    }

    fn slot(&self, id: &str) -> Result<Arc<Slot>> {
        let mut map = self.inner.receiving.lock().map_err(|_| MediaError::Busy)?;
        Ok(map
            .entry(id.to_string())
            .or_insert_with(|| {
                Arc::new(Slot {
                    lock: tokio::sync::Mutex::new(()),
                    generation: tokio::sync::watch::channel(0).0,
                })
            })
            .clone())
    }

    /// Stops whatever request is still writing this upload and holds the upload until the
    /// guard drops. Also returns this request's generation: a later one has taken over if the
    /// slot's generation moved on.
    async fn take_over(slot: &Slot) -> Result<(tokio::sync::MutexGuard<'_, ()>, u64)> {
        let mut mine = 0;
        slot.generation.send_modify(|g| {
            *g += 1;
            mine = *g;
        });
        let held = tokio::time::timeout(TAKEOVER_WAIT, slot.lock.lock())
            .await
            .map_err(|_| MediaError::Busy)?;
        Ok((held, mine))
    }

    fn forget_slot(&self, id: &str) {
        if let Ok(mut map) = self.inner.receiving.lock() {
            map.remove(id);
        }
    }

    /// Turns a complete upload into a stored file.
    async fn finalize(&self, up: UploadRow) -> Result<FileRow> {
        let path = self.inner.uploads_dir.join(&up.id);
        let sniff_path = path.clone();
        let mime = blocking(move || {
            let mut f = std::fs::File::open(&sniff_path)?;
            f.sync_all()?;
            let mut head = vec![0u8; 8192];
            let n = read_full(&mut f, &mut head)?;
            Ok(sniff::mime_of(&head[..n]))
        })
        .await?;
        let mut kind = sniff::kind_of(&mime).to_string();
        let mut row = FileRow {
            id: up.id.clone(),
            uploader_id: Some(up.user_id),
            sha256: String::new(),
            size: up.size,
            name: up.name.clone(),
            mime: mime.clone(),
            kind: kind.clone(),
            width: None,
            height: None,
            duration_ms: None,
            thumb_sha: None,
            preview_sha: None,
            poster_sha: None,
            message_id: None,
            created_at: now_ms(),
            waveform: None,
            voice: false,
        };
        let mut content = path.clone();
        if kind == "image" && (up.size as u64) <= MAX_PHOTO_BYTES {
            match self.process_photo(&path, &mime).await {
                Ok(photo) => {
                    row.width = Some(i64::from(photo.width));
                    row.height = Some(i64::from(photo.height));
                    row.thumb_sha = Some(self.put_bytes(photo.thumb).await?);
                    if let Some(p) = photo.preview {
                        row.preview_sha = Some(self.put_bytes(p).await?);
                    }
                    if let Some(stripped) = photo.stripped {
                        let tmp = self.inner.uploads_dir.join(format!("{}.clean", up.id));
                        let t = tmp.clone();
                        blocking(move || write_synced(&t, &stripped)).await?;
                        content = tmp;
                    }
                }
                Err(reason) => {
                    tracing::info!(file = %up.id, %reason, "photo kept as a plain file");
                    kind = "file".into();
                }
            }
        } else if kind == "image" {
            kind = "file".into();
        } else if kind == "video" {
            row.width = up.width;
            row.height = up.height;
            row.duration_ms = up.duration_ms;
        } else if kind == "audio" {
            // A voice message is what the content says it is (audio), whatever was claimed.
            row.duration_ms = up.duration_ms;
            row.waveform = up.waveform.clone();
            row.voice = up.voice;
        }
        row.kind = kind;
        let (sha, size) = self.put_file(content.clone()).await?;
        row.sha256 = sha;
        row.size = size as i64;
        let insert = row.clone();
        let upload_id = up.id.clone();
        self.inner
            .store
            .write(move |c| {
                q::insert_file(c, &insert)?;
                q::delete_upload(c, &upload_id)
            })
            .await?;
        let _ = tokio::fs::remove_file(&path).await;
        Ok(row)
    }

    /// Decodes a photo off the async threads, under the decode limits and a time limit.
    async fn process_photo(&self, path: &Path, mime: &str) -> Result<Photo, String> {
        let permit = self
            .inner
            .decodes
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let keep = self.inner.config.keep_photo_metadata;
        let path = path.to_path_buf();
        let mime = mime.to_string();
        let work = tokio::task::spawn_blocking(move || -> Result<Photo, String> {
            let _permit = permit;
            let data = std::fs::read(&path).map_err(|e| e.to_string())?;
            let p = image::process(io::Cursor::new(&data)).map_err(|e| e.to_string())?;
            let stripped = if keep {
                None
            } else {
                image::strip_metadata(img_parts::Bytes::from(data), &mime, p.orientation)
            };
            Ok(Photo {
                width: p.width,
                height: p.height,
                thumb: p.thumb.bytes,
                preview: p.preview.map(|e| e.bytes),
                stripped: stripped.map(|b| b.to_vec()),
            })
        });
        match tokio::time::timeout(DECODE_TIMEOUT, work).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(format!("the decoder failed: {e}")),
            Err(_) => Err("decoding took too long".into()),
        }
    }

    /// Stores bytes as a blob; returns its hash.
    async fn put_bytes(&self, bytes: Vec<u8>) -> Result<String> {
        let tmp = self
            .inner
            .uploads_dir
            .join(format!("{}.blob", random_id()?));
        let t = tmp.clone();
        blocking(move || write_synced(&t, &bytes)).await?;
        Ok(self.put_file(tmp).await?.0)
    }

    /// Moves a finished temporary file into the blob store under its hash; a blob that is
    /// already there is kept once.
    async fn put_file(&self, tmp: PathBuf) -> Result<(String, u64)> {
        let files_dir = self.inner.files_dir.clone();
        blocking(move || {
            let mut f = std::fs::File::open(&tmp)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 256 * 1024];
            let mut size = 0u64;
            loop {
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                size += n as u64;
            }
            let sha = hex::encode(hasher.finalize());
            let dir = files_dir.join(&sha[..2]);
            std::fs::create_dir_all(&dir)?;
            let target = dir.join(&sha);
            if target.exists() {
                // Refresh its age so the sweep's grace period covers the row about to point here.
                let _ = std::fs::File::options()
                    .write(true)
                    .open(&target)
                    .and_then(|t| t.set_modified(SystemTime::now()));
                let _ = std::fs::remove_file(&tmp);
            } else {
                std::fs::rename(&tmp, &target)?;
                std::fs::File::open(&dir)?.sync_all()?;
            }
            Ok((sha, size))
        })
        .await
    }

    /// Cancels an upload and frees its space.
    pub async fn cancel_upload(&self, user_id: i64, id: &str) -> Result<()> {
        let up = self.own_upload(user_id, id).await?;
        let uid = up.id.clone();
        self.inner
            .store
            .write(move |c| q::delete_upload(c, &uid))
            .await?;
        let _ = tokio::fs::remove_file(self.inner.uploads_dir.join(&up.id)).await;
        self.forget_slot(&up.id);
        Ok(())
    }

    /// The file, if this user may read it: a member of the channel it was posted in, or its
    /// uploader before it is posted.
    pub async fn readable(&self, user_id: i64, id: &str) -> Result<FileRow> {
        if !valid_id(id) {
            return Err(MediaError::NotFound);
        }
        let id = id.to_string();
        let found = self
            .inner
            .store
            .read(move |c| {
                let Some((file, channel)) = q::file_with_channel(c, &id)? else {
                    return Ok(None);
                };
                let allowed = match channel {
                    Some(ch) => c
                        .prepare_cached(
                            "SELECT EXISTS(SELECT 1 FROM members WHERE channel_id = ?1 AND user_id = ?2)",
                        )?
                        .query_row([ch, user_id], |r| r.get::<_, bool>(0))?,
                    None => file.uploader_id == Some(user_id),
                };
                Ok(allowed.then_some(file))
            })
            .await?;
        found.ok_or(MediaError::NotFound)
    }

    /// Sets a video's poster from a frame the uploader's browser captured.
    pub async fn set_poster(&self, user_id: i64, id: &str, bytes: bytes::Bytes) -> Result<FileRow> {
        let mut file = self.readable(user_id, id).await?;
        if file.uploader_id != Some(user_id) {
            return Err(MediaError::NotFound);
        }
        if file.kind != "video" {
            return Err(MediaError::Invalid(Problem::new(
                "not-a-video",
                "only a video has a poster",
            )));
        }
        if bytes.len() > MAX_POSTER_BYTES {
            return Err(MediaError::TooLarge {
                limit: MAX_POSTER_BYTES as u64,
            });
        }
        let permit = self
            .inner
            .decodes
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| {
                MediaError::Invalid(Problem::new("shutting-down", "the server is shutting down"))
            })?;
        let decoded = tokio::time::timeout(
            DECODE_TIMEOUT,
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                image::poster(&bytes)
            }),
        )
        .await;
        let (encoded, w, h) = match decoded {
            Ok(Ok(Ok(p))) => p,
            _ => {
                return Err(MediaError::Invalid(Problem::new(
                    "bad-poster",
                    "the poster is not a readable image",
                )))
            }
        };
        let sha = self.put_bytes(encoded.bytes).await?;
        let (fid, s) = (file.id.clone(), sha.clone());
        let (fw, fh) = (file.width, file.height);
        self.inner
            .store
            .write(move |c| {
                q::set_poster(c, &fid, &s)?;
                // Without the sender's measurement, the poster's shape is the video's.
                if fw.is_none() || fh.is_none() {
                    c.execute(
                        "UPDATE files SET width = ?2, height = ?3 WHERE id = ?1",
                        crate::store::db::params![fid, w, h],
                    )?;
                }
                Ok(())
            })
            .await?;
        file.poster_sha = Some(sha);
        if file.width.is_none() || file.height.is_none() {
            file.width = Some(i64::from(w));
            file.height = Some(i64::from(h));
        }
        Ok(file)
    }

    /// Removes abandoned uploads, files never posted, and blobs that nothing refers to any more
    /// (after message deletion or retention).
    pub async fn sweep(&self) -> Result<SweepReport> {
        self.sweep_older_than(SWEEP_GRACE).await
    }

    /// The sweep, treating partial files and blobs younger than `grace` as in use.
    pub async fn sweep_older_than(&self, grace: Duration) -> Result<SweepReport> {
        let mut report = SweepReport::default();
        let cutoff = now_ms() - i64::from(self.inner.config.abandoned_upload_hours) * 3_600_000;
        let (uploads, files) = self
            .inner
            .store
            .write(move |c| q::expire(c, cutoff))
            .await?;
        report.uploads = uploads.len();
        report.files = files;
        for id in uploads {
            let _ = tokio::fs::remove_file(self.inner.uploads_dir.join(&id)).await;
            self.forget_slot(&id);
        }
        let inner = self.inner.clone();
        let (blobs, bytes) = blocking(move || {
            let mut removed = (0usize, 0u64);
            let old = |m: &std::fs::Metadata| {
                m.modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= grace)
            };
            // Leftovers of a crash: partial files without an upload row.
            for entry in std::fs::read_dir(&inner.uploads_dir)?.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(meta) = entry.metadata() else { continue };
                let id = name.split('.').next().unwrap_or_default().to_string();
                let live = valid_id(&id)
                    && !name.contains('.')
                    && inner.store.read_blocking(|c| q::upload_exists(c, &id))?;
                if !live && old(&meta) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
            for dir in std::fs::read_dir(&inner.files_dir)?.flatten() {
                let Ok(entries) = std::fs::read_dir(dir.path()) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let sha = entry.file_name().to_string_lossy().into_owned();
                    let Ok(meta) = entry.metadata() else { continue };
                    if !valid_sha(&sha) || !old(&meta) {
                        continue;
                    }
                    if !inner.store.read_blocking(|c| q::blob_referenced(c, &sha))? {
                        match std::fs::remove_file(entry.path()) {
                            Ok(()) => {
                                removed.0 += 1;
                                removed.1 += meta.len();
                            }
                            // Another node sharing the file mount swept it first.
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
            Ok(removed)
        })
        .await?;
        report.blobs = blobs;
        report.bytes = bytes;
        Ok(report)
    }
}

struct Photo {
    width: u32,
    height: u32,
    thumb: Vec<u8>,
    preview: Option<Vec<u8>>,
    stripped: Option<Vec<u8>>,
}

fn read_full(f: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_directories_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\x\\photo.jpg"), "photo.jpg");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(clean_name("\u{200B}\u{2066}.\u{FEFF}"), "file");
        assert_eq!(clean_name("team 👩‍💻.png"), "team 👩‍💻.png");
        assert_eq!(clean_name(&"é".repeat(300)).len(), 254);
    }

    /// Waits (bounded) until `n` requests have queued for the upload.
    async fn reached(slot: &Slot, n: u64) {
        let mut generation = slot.generation.subscribe();
        let waited =
            tokio::time::timeout(Duration::from_secs(10), generation.wait_for(|g| *g >= n)).await;
        assert!(
            matches!(waited, Ok(Ok(_))),
            "request {n} never reached the upload"
        );
    }

    /// A request that reached the upload before a status query but had not started writing
    /// must not write after the status answered: that answer is what the client resumes from.
    #[tokio::test]
    async fn a_waiting_append_yields_to_a_later_status_query() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("outpost.db")).unwrap();
        let user = store
            .write(|c| crate::store::users::create_user(c, "ann", "Ann", "x", false))
            .await
            .unwrap();
        let media = Media::new(store, dir.path(), crate::config::MediaConfig::default()).unwrap();
        let req = NewUpload {
            name: "a.bin".into(),
            size: 8,
            mime: None,
            width: None,
            height: None,
            duration_ms: None,
            waveform: None,
            voice: false,
        };
        let up = media.create_upload(user.id, req).await.unwrap();
        // Someone holds the upload, so both requests below queue up behind it, in order.
        let slot = media.slot(&up.id).unwrap();
        let held = slot.lock.lock().await;
        let body = futures_util::stream::iter([Ok::<_, std::io::Error>(
            bytes::Bytes::from_static(b"abcd"),
        )]);
        let (m, id) = (media.clone(), up.id.clone());
        let append = tokio::spawn(async move { m.append(user.id, &id, 0, Some(4), body).await });
        reached(&slot, 1).await;
        let (m, id) = (media.clone(), up.id.clone());
        let status = tokio::spawn(async move { m.upload_status(user.id, &id).await });
        reached(&slot, 2).await;
        drop(held);
        assert!(matches!(append.await.unwrap(), Err(MediaError::Superseded)));
        assert_eq!(status.await.unwrap().unwrap().offset, 0);
        assert_eq!(
            media.upload_status(user.id, &up.id).await.unwrap().offset,
            0
        );
    }

    #[test]
    fn ids_are_strict() {
        assert!(valid_id("0123456789abcdef0123456789abcdef"));
        assert!(!valid_id("../0123456789abcdef0123456789abc"));
        assert!(!valid_id("0123456789ABCDEF0123456789ABCDEF"));
    }
}
