//! The append-only audit log of security events. Rows are never updated (a trigger refuses it);
//! only the retention job deletes rows older than the configured time.

use super::db::{params, Db};

use super::{now_ms, Result};

/// One security event.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub actor_id: Option<i64>,
    /// The actor's user name at the time, or "cli" / "system".
    pub actor: String,
    /// A stable kebab-case name such as "sign-in" or "user-disabled".
    pub action: &'static str,
    pub target: String,
    pub address: String,
    pub details: String,
}

#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub address: String,
    pub details: String,
}

/// Audit fields echo what people typed (a user name tried at sign-in); a NUL in them is shown
/// as U+FFFD, as PostgreSQL cannot store it and nobody can read it.
fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    match s.contains('\0') {
        true => std::borrow::Cow::Owned(s.replace('\0', "\u{FFFD}")),
        false => std::borrow::Cow::Borrowed(s),
    }
}

pub fn append(c: &Db, e: &Entry) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO audit(at, actor_id, actor, action, target, address, details)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        now_ms(),
        e.actor_id,
        printable(&e.actor),
        e.action,
        printable(&e.target),
        printable(&e.address),
        printable(&e.details)
    ])?;
    Ok(())
}

/// Entries newest first, before `before_id`, optionally of one action.
pub fn list(c: &Db, before_id: Option<i64>, action: Option<&str>, limit: i64) -> Result<Vec<Row>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, at, actor_id, actor, action, target, address, details FROM audit
         WHERE id < ?1 AND (CAST(?2 AS TEXT) IS NULL OR action = ?2) ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![before_id.unwrap_or(i64::MAX), action, limit], |r| {
        Ok(Row {
            id: r.get(0)?,
            at: r.get(1)?,
            actor_id: r.get(2)?,
            actor: r.get(3)?,
            action: r.get(4)?,
            target: r.get(5)?,
            address: r.get(6)?,
            details: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn prune(c: &Db, older_than_ms: i64) -> Result<usize> {
    Ok(c.prepare_cached("DELETE FROM audit WHERE at < ?1")?
        .execute([older_than_ms])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_cannot_be_changed() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::store::migrations::apply(&mut conn).unwrap();
        let c = Db::from(&conn);
        append(
            &c,
            &Entry {
                action: "sign-in",
                actor: "a".into(),
                ..Default::default()
            },
        )
        .unwrap();
        let err = c
            .execute("UPDATE audit SET actor = 'someone else'", [])
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        assert_eq!(list(&c, None, None, 10).unwrap()[0].actor, "a");
        assert_eq!(prune(&c, now_ms() + 1).unwrap(), 1);
    }
}
