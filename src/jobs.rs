//! Background jobs. Each runs on its own timer until shutdown. Jobs about this node (its
//! certificate, its live connections, its search catch-up) run on every node; jobs about the
//! site's data (retention, pruning, backups, the file sweep, the directory sync) run once per
//! turn: every node asks for the turn in the shared database (`store::cluster::claim`) and only the
//! node that gets it runs the job, so a three-node cluster does not sync the directory three
//! times or write three backups.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::auth::Auth;
use crate::chat::Chat;
use crate::config::Config;
use crate::hub::FanOut;
use crate::pki::Pki;
use crate::store::Store;

/// What the jobs work on.
pub struct Jobs {
    pub config: Arc<Config>,
    pub pki: Arc<Pki>,
    pub auth: Auth,
    pub store: Store,
    pub chat: Chat,
    pub media: crate::media::Media,
    pub hub: Arc<dyn FanOut>,
}

/// How often new messages are indexed for search (a search catches the index up first, so this
/// only bounds how much work a search may find waiting).
const SEARCH_INDEX_EVERY: Duration = Duration::from_millis(100);

/// How long the event log keeps events for clients to resume from.
const EVENT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Starts every background job; each ends when `shutdown` changes.
pub fn spawn(jobs: Jobs, shutdown: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let Jobs {
        config,
        pki,
        auth,
        store,
        chat,
        media,
        hub,
    } = jobs;
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(renew_certificate(
        pki,
        Duration::from_secs(config.tls.check_interval_secs),
        shutdown.clone(),
    )));
    {
        let (store, auth, keep) = (store.clone(), auth.clone(), config.audit.keep_days);
        tasks.push(tokio::spawn(once_per_site(
            store.clone(),
            "prune",
            Duration::from_secs(config.tls.check_interval_secs),
            shutdown.clone(),
            move || prune(auth.clone(), store.clone(), keep),
        )));
    }
    // Always scheduled: administrators may set retention from the UI at any time, and a
    // check with nothing to delete is one small query.
    {
        let (c, days) = (chat.clone(), config.retention.days);
        tasks.push(tokio::spawn(once_per_site(
            store.clone(),
            "retention",
            Duration::from_secs(config.retention.check_interval_secs),
            shutdown.clone(),
            move || apply_retention(c.clone(), days),
        )));
    }
    if config.backup.enabled() {
        tasks.push(tokio::spawn(backup_job(
            config.clone(),
            store.clone(),
            shutdown.clone(),
        )));
    }
    tasks.push(tokio::spawn(once_per_site(
        store.clone(),
        "file-sweep",
        Duration::from_secs(config.media.sweep_interval_secs),
        shutdown.clone(),
        move || sweep_files(media.clone()),
    )));
    if let Some(every) = auth.directory().and_then(|d| d.sync_interval()) {
        let auth = auth.clone();
        tasks.push(tokio::spawn(once_per_site(
            store.clone(),
            "directory-sync",
            every,
            shutdown.clone(),
            move || sync_directory(auth.clone()),
        )));
    }
    {
        let chat = chat.clone();
        tasks.push(tokio::spawn(periodic(
            SEARCH_INDEX_EVERY,
            shutdown.clone(),
            move || index_search(chat.clone()),
        )));
    }
    if store.engine() == crate::store::db::Engine::Postgres {
        tasks.push(tokio::spawn(follow_settings(
            store.clone(),
            auth.clone(),
            chat,
            shutdown.clone(),
        )));
    }
    tasks.push(tokio::spawn(watch_revocations(
        store,
        hub,
        shutdown.clone(),
    )));
    tasks
}

/// How often a cluster node checks whether another node changed a setting it keeps in memory.
const SETTINGS_CHECK_EVERY: Duration = Duration::from_secs(1);

/// Reloads the settings this node keeps in memory when another node (or a CLI command) changed
/// them: the version in the shared database moved on (`store::cluster::settings_changed`).
async fn follow_settings(
    store: Store,
    auth: Auth,
    chat: Chat,
    mut shutdown: watch::Receiver<bool>,
) {
    use crate::store::cluster::settings_version;
    let mut seen = store.read(settings_version).await.ok();
    let mut tick = tokio::time::interval(SETTINGS_CHECK_EVERY);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
        }
        let Ok(now) = store.read(settings_version).await else {
            continue;
        };
        if seen == Some(now) {
            continue;
        }
        let failed = [
            chat.load_keywords().await.err().map(|e| e.to_string()),
            chat.load_outgoing().await.err().map(|e| e.to_string()),
            auth.load_two_factor_policy()
                .await
                .err()
                .map(|e| e.to_string()),
        ];
        match failed.into_iter().flatten().next() {
            None => seen = Some(now),
            Some(e) => tracing::warn!(error = %e, "reloading changed settings failed; retrying"),
        }
    }
}

/// Runs `job` every `period` (the first time at once) until shutdown.
async fn periodic<F, Fut>(period: Duration, mut shutdown: watch::Receiver<bool>, mut job: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
        }
        job().await;
    }
}

/// Like [`periodic`], but a turn is one `period` of wall-clock time and only the node that claims
/// the turn runs the job in it.
async fn once_per_site<F, Fut>(
    store: Store,
    name: &'static str,
    period: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut job: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let period_ms = i64::try_from(period.as_millis()).unwrap_or(i64::MAX).max(1);
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
        }
        let slot = crate::store::now_ms() / period_ms;
        if claim_turn(store.clone(), name, slot).await {
            job().await;
        }
    }
}

/// Whether this node runs turn `slot` of `name`. A node that cannot reach the database skips the
/// turn; another node, or the next turn, runs the job.
async fn claim_turn(store: Store, name: &'static str, slot: i64) -> bool {
    match store
        .write(move |c| crate::store::cluster::claim(c, name, slot))
        .await
    {
        Ok(mine) => mine,
        Err(e) => {
            tracing::warn!(job = name, error = %e, "cannot claim a turn of a site job; skipped");
            false
        }
    }
}

/// Renews this node's server certificate before it expires.
async fn renew_certificate(pki: Arc<Pki>, every: Duration, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
        }
        let p = pki.clone();
        match tokio::task::spawn_blocking(move || p.refresh()).await {
            Ok(Ok(true)) => tracing::info!("installed a renewed server certificate"),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "certificate renewal failed"),
            Err(e) => tracing::error!(error = %e, "certificate renewal task failed"),
        }
    }
}

/// Expires old sessions and prunes the event log, revocations and the audit log.
async fn prune(auth: Auth, store: Store, audit_keep_days: u32) {
    if let Err(e) = auth.delete_expired_sessions().await {
        tracing::warn!(error = %e, "expiring old sessions failed");
    }
    let cutoff = crate::store::now_ms() - EVENT_RETENTION.as_millis() as i64;
    let audit_cutoff = crate::store::now_ms() - i64::from(audit_keep_days) * 86_400_000;
    let pruned = store
        .write(move |t| {
            crate::store::chat::prune_revocations(t, cutoff)?;
            crate::store::audit::prune(t, audit_cutoff)?;
            crate::store::chat::prune_events(t, cutoff)
        })
        .await;
    if let Err(e) = pruned {
        tracing::warn!(error = %e, "pruning the event log failed");
    }
}

/// Removes abandoned uploads and files nothing refers to any more.
async fn sweep_files(media: crate::media::Media) {
    match media.sweep().await {
        Ok(r) if r.uploads + r.files + r.blobs > 0 => tracing::info!(
            uploads = r.uploads,
            unposted_files = r.files,
            blobs = r.blobs,
            bytes = r.bytes,
            "file sweep: removed unreferenced files"
        ),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "file sweep failed"),
    }
}

/// Compares directory accounts with the directory (see `auth::directory_sync`).
async fn sync_directory(auth: Auth) {
    match auth.sync_directory("directory sync").await {
        Ok(r) if r.disabled.len() + r.updated.len() > 0 || !r.missing_channels.is_empty() => {
            tracing::info!(
                listed = r.listed,
                disabled = r.disabled.len(),
                updated = r.updated.len(),
                missing_channels = ?r.missing_channels,
                "directory sync changed accounts"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "directory sync"),
    }
}

async fn index_search(chat: Chat) {
    match chat.index_search().await {
        Ok(_) => {}
        // The store already says the database is away; this job tries again in 100 ms.
        Err(crate::chat::ChatError::Store(crate::store::StoreError::Unavailable(_))) => {}
        Err(e) => tracing::error!(error = %e, "search indexing failed"),
    }
}

/// Deletes expired messages.
async fn apply_retention(chat: Chat, server_days: u32) {
    match chat.apply_retention(server_days).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(deleted = n, "retention: deleted expired messages"),
        Err(e) => tracing::error!(error = %e, "retention job failed"),
    }
}

/// When the next scheduled backup is due: the next `backup.time` of day (UTC), or the next
/// multiple of `backup.interval_secs` since the epoch, so that every node of a cluster aims at
/// the same instant and claims the same turn.
pub fn next_backup_at(
    config: &crate::config::BackupConfig,
    now: time::OffsetDateTime,
) -> time::OffsetDateTime {
    let whole = now.replace_nanosecond(0).unwrap_or(now);
    if config.interval_secs > 0 {
        let every = i64::try_from(config.interval_secs).unwrap_or(i64::MAX / 2);
        let into = now.unix_timestamp().rem_euclid(every);
        return whole + time::Duration::seconds(every - into);
    }
    let Some((h, m)) = config.time_of_day() else {
        return whole + time::Duration::days(1);
    };
    let today = now.replace_time(time::Time::from_hms(h, m, 0).unwrap_or(time::Time::MIDNIGHT));
    if today > now {
        today
    } else {
        today + time::Duration::days(1)
    }
}

/// How long until the next scheduled backup (see [`next_backup_at`]).
pub fn next_backup_in(config: &crate::config::BackupConfig, now: time::OffsetDateTime) -> Duration {
    let wait = next_backup_at(config, now) - now;
    Duration::try_from(wait).unwrap_or(Duration::from_secs(1))
}

/// Scheduled backups into `backup.folder`, keeping the newest `backup.keep`. In a cluster the
/// node that claims the turn writes it, into its own `backup.folder`.
async fn backup_job(config: Arc<Config>, store: Store, mut shutdown: watch::Receiver<bool>) {
    loop {
        let now = time::OffsetDateTime::now_utc();
        let due = next_backup_at(&config.backup, now);
        let wait = Duration::try_from(due - now).unwrap_or(Duration::from_secs(1));
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        if !claim_turn(store.clone(), "backup", due.unix_timestamp()).await {
            continue;
        }
        let config = config.clone();
        let done = tokio::task::spawn_blocking(move || scheduled_backup(&config)).await;
        match done {
            Ok(Ok(path)) => tracing::info!(path = %path.display(), "scheduled backup written"),
            Ok(Err(e)) => tracing::error!(error = %e, "scheduled backup failed"),
            Err(e) => tracing::error!(error = %e, "scheduled backup task failed"),
        }
    }
}

fn scheduled_backup(config: &Config) -> Result<PathBuf, crate::backup::BackupError> {
    let folder = if config.backup.folder.is_absolute() {
        config.backup.folder.clone()
    } else {
        config.data_dir.join(&config.backup.folder)
    };
    std::fs::create_dir_all(&folder).map_err(|source| crate::backup::BackupError::Io {
        action: "create",
        path: folder.clone(),
        source,
    })?;
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    let mut path = folder.join(format!("outpost-{stamp}.age"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = folder.join(format!("outpost-{stamp}-{n}.age"));
    }
    crate::backup::backup(
        config,
        &path,
        &crate::backup::Seal::Recipients(config.backup.recipients.clone()),
    )?;
    prune_backups(&folder, config.backup.keep);
    Ok(path)
}

/// Deletes all but the newest `keep` scheduled backups (their names sort by time).
pub fn prune_backups(folder: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let mut names: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("outpost-") && n.ends_with(".age"))
        })
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    for old in names.into_iter().take(excess) {
        if let Err(e) = std::fs::remove_file(&old) {
            tracing::warn!(path = %old.display(), error = %e, "cannot delete an old backup");
        }
    }
}

/// Ends live connections of sessions deleted by anyone, including the CLI in another process:
/// deleting a session row leaves a revocation row (a trigger), which this polls for. Also keeps
/// the session cache's view of the database's sign-in changes fresh (`Store::auth_epoch`).
async fn watch_revocations(
    store: Store,
    hub: Arc<dyn FanOut>,
    mut shutdown: watch::Receiver<bool>,
) {
    use crate::store::chat as q;
    let mut last = match store.read(q::revocation_head).await {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "cannot watch for revoked sessions");
            return;
        }
    };
    // The session cache's counter is read ten times as often as revocations (a point read): a
    // CLI command that changed it waits three of these periods before it returns.
    let mut tick = tokio::time::interval(crate::store::AUTH_EPOCH_POLL);
    let mut ticks = 0u32;
    let mut epoch_failing = false;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tick.tick() => {}
        }
        match store.refresh_auth_epoch().await {
            Err(e) if !epoch_failing => {
                epoch_failing = true;
                tracing::warn!(error = %e, "reading the sign-in change counter failed");
            }
            Err(_) => {}
            Ok(()) => epoch_failing = false,
        }
        ticks = ticks.wrapping_add(1);
        if !ticks.is_multiple_of(10) {
            continue;
        }
        let after = last;
        match store.read(move |c| q::revocations_since(c, after)).await {
            Ok(rows) if !rows.is_empty() => {
                last = rows.last().map(|r| r.0).unwrap_or(last);
                let ids: Vec<String> = rows.into_iter().map(|r| r.1).collect();
                hub.disconnect_sessions(&ids);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "checking for revoked sessions failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BackupConfig;

    #[test]
    fn the_daily_backup_waits_until_the_next_time_of_day() {
        let cfg = BackupConfig {
            time: "02:30".into(),
            recipients: vec!["x".into()],
            ..Default::default()
        };
        let at = |h, m| {
            time::macros::datetime!(2026-11-22 00:00 UTC)
                .replace_time(time::Time::from_hms(h, m, 0).unwrap())
        };
        assert_eq!(next_backup_in(&cfg, at(1, 30)), Duration::from_secs(3600));
        assert_eq!(next_backup_in(&cfg, at(2, 30)), Duration::from_secs(86_400));
        assert_eq!(
            next_backup_in(&cfg, at(3, 30)),
            Duration::from_secs(23 * 3600)
        );
        let every = BackupConfig {
            interval_secs: 60,
            ..Default::default()
        };
        assert_eq!(next_backup_in(&every, at(3, 30)), Duration::from_secs(60));
        // Nodes started at different moments aim at the same instant.
        let a = at(3, 30) + time::Duration::milliseconds(12_345);
        let b = at(3, 30) + time::Duration::milliseconds(59_999);
        assert_eq!(next_backup_at(&every, a), at(3, 31));
        assert_eq!(next_backup_at(&every, b), at(3, 31));
        assert_eq!(next_backup_at(&cfg, a), next_backup_at(&cfg, b));
    }

    #[test]
    fn pruning_keeps_the_newest_backups_only() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "outpost-20260101T000000Z.age",
            "outpost-20260102T000000Z.age",
            "outpost-20260103T000000Z.age",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(n), "x").unwrap();
        }
        prune_backups(dir.path(), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        left.sort();
        assert_eq!(
            left,
            vec![
                "notes.txt",
                "outpost-20260102T000000Z.age",
                "outpost-20260103T000000Z.age"
            ]
        );
    }
}
