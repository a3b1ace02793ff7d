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

/// Registers call `call_id`, living on `node`, as `channel`'s call, unless the channel has one
/// already: then returns that one (its id and node). One call per conversation across nodes.
pub fn claim_channel_call(
    c: &Db,
    channel: i64,
    call_id: u64,
    node: &str,
) -> Result<Option<(u64, String)>> {
    let inserted = c.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
        params![format!("call_in:{channel}"), format!("{call_id} {node}")],
    )?;
    if inserted == 1 {
        super::backup::set_meta(c, &format!("call:{call_id}"), &format!("{node} {channel}"))?;
        return Ok(None);
    }
    channel_call(c, channel)
}

/// The call registered for `channel`: its id and the node it lives on.
pub fn channel_call(c: &Db, channel: i64) -> Result<Option<(u64, String)>> {
    Ok(
        super::backup::meta(c, &format!("call_in:{channel}"))?.and_then(|v| {
            let (id, node) = v.split_once(' ')?;
            Some((id.parse().ok()?, node.to_string()))
        }),
    )
}

/// Where call `call_id` lives: its node and channel.
pub fn call_home(c: &Db, call_id: u64) -> Result<Option<(String, i64)>> {
    Ok(
        super::backup::meta(c, &format!("call:{call_id}"))?.and_then(|v| {
            let (node, channel) = v.split_once(' ')?;
            Some((node.to_string(), channel.parse().ok()?))
        }),
    )
}

/// Every registered call: id, node and channel.
pub fn registered_calls(c: &Db) -> Result<Vec<(u64, String, i64)>> {
    let mut stmt = c.prepare_cached("SELECT key, value FROM meta WHERE key LIKE 'call:%'")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (key, value) = row?;
        let id = key.trim_start_matches("call:").parse().ok();
        let home = value
            .split_once(' ')
            .and_then(|(n, ch)| Some((n.to_string(), ch.parse().ok()?)));
        if let (Some(id), Some((node, channel))) = (id, home) {
            out.push((id, node, channel));
        }
    }
    Ok(out)
}

/// Forgets call `call_id` (it ended, or its node is gone) and closes its row.
pub fn release_call(c: &Db, channel: i64, call_id: u64, node: &str, ended_at: i64) -> Result<()> {
    c.execute(
        "DELETE FROM meta WHERE key = ?1 AND value = ?2",
        params![format!("call_in:{channel}"), format!("{call_id} {node}")],
    )?;
    c.execute(
        "DELETE FROM meta WHERE key = ?1",
        params![format!("call:{call_id}")],
    )?;
    c.execute(
        "UPDATE calls SET ended_at = ?2 WHERE id = ?1 AND ended_at IS NULL",
        params![call_id as i64, ended_at],
    )?;
    Ok(())
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
