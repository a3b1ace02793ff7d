//! What the nodes of a cluster coordinate through the shared database: turns of site-wide jobs
//! (one node runs each turn) and the version of the settings each node keeps in memory. On one
//! box the same calls run and cost one small row each.

use super::db::{params, Db};
use super::Result;

/// Claims turn `slot` of `job`: true for exactly one caller per slot, across every node sharing
/// the database. Slots only move forward, so a node whose clock or timer lags cannot take a
/// turn that another already ran.
pub fn claim(c: &Db, job: &str, slot: i64) -> Result<bool> {
    let key = format!("job:{job}");
    let changed = c.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value
         WHERE CAST(meta.value AS BIGINT) < CAST(excluded.value AS BIGINT)",
        params![key, slot.to_string()],
    )?;
    Ok(changed == 1)
}

/// Records that a setting nodes keep in memory (notification keywords, outgoing webhooks, the
/// two-step sign-in policy) changed, in the transaction that changed it: every node sees the
/// new version and reloads (`jobs::follow_settings`).
pub fn settings_changed(c: &Db) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO meta(key, value) VALUES ('settings_version', '1')
         ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT)",
    )?
    .execute([])?;
    Ok(())
}

/// The version `settings_changed` moves on; 0 before any change.
pub fn settings_version(c: &Db) -> Result<i64> {
    use super::db::OptionalExtension;
    Ok(
        c.prepare_cached("SELECT CAST(value AS BIGINT) FROM meta WHERE key = 'settings_version'")?
            .query_row([], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
    )
}

/// The fingerprint of the site's CA, as the first node to start recorded it.
pub fn site_ca(c: &Db) -> Result<Option<String>> {
    super::backup::meta(c, "cluster_ca_fingerprint")
}

/// Records `fingerprint` as the site's CA unless one is recorded already; returns the site's.
pub fn record_site_ca(c: &Db, fingerprint: &str) -> Result<String> {
    c.execute(
        "INSERT INTO meta(key, value) VALUES ('cluster_ca_fingerprint', ?1)
         ON CONFLICT(key) DO NOTHING",
        [fingerprint],
    )?;
    Ok(site_ca(c)?.unwrap_or_else(|| fingerprint.to_string()))
}

/// Keeps the site's CA sealed with a passphrase (`outpost cluster share-ca`), base64.
pub fn set_sealed_ca(c: &Db, sealed_base64: &str) -> Result<()> {
    super::backup::set_meta(c, "cluster_ca_sealed", sealed_base64)
}

/// The sealed site CA, base64, if a node shared it.
pub fn sealed_ca(c: &Db) -> Result<Option<String>> {
    super::backup::meta(c, "cluster_ca_sealed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_turn_is_claimed_once_and_turns_only_move_forward() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("t.db")).unwrap();
        let claims = store
            .write(|c| {
                Ok([
                    claim(c, "backup", 10)?,
                    claim(c, "backup", 10)?,
                    claim(c, "backup", 9)?,
                    claim(c, "retention", 10)?,
                    claim(c, "backup", 11)?,
                ])
            })
            .await
            .unwrap();
        assert_eq!(claims, [true, false, false, true, true]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn each_settings_change_moves_the_version_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("t.db")).unwrap();
        let versions = store
            .write(|c| {
                let before = settings_version(c)?;
                settings_changed(c)?;
                let once = settings_version(c)?;
                settings_changed(c)?;
                Ok([before, once, settings_version(c)?])
            })
            .await
            .unwrap();
        assert_eq!(versions, [0, 1, 2]);
    }
}
