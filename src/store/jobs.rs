//! Claims that make a site-wide job run once per turn, on whichever node asks first. On one box
//! the claim always succeeds; in a cluster every node asks and one wins.

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
}
