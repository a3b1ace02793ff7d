//! Logical dump and load of the database for `backup` and `migrate`: every table row by row,
//! read inside one read transaction (a consistent snapshot while the server keeps writing), on
//! either engine. A dump names the same tables and columns whichever engine it came from, so a
//! cluster's backup restores into one box, and one box's data moves into a cluster.

use rusqlite::Connection;

use super::db::{Db, Engine, Value};
use super::Result;

/// Tables to back up, with their columns, in creation order (SQLite) or the order of the
/// schema (PostgreSQL: every table after those it refers to). Search indexes are left out:
/// restore rebuilds them from the messages; so is PostgreSQL's `log_head`, which follows the
/// log.
pub fn tables(c: &Db) -> Result<Vec<(String, Vec<String>)>> {
    let Some(c) = c.sqlite() else {
        let mut out = Vec::new();
        for name in super::postgres::tables() {
            let columns = c
                .prepare(
                    "SELECT column_name FROM information_schema.columns
                     WHERE table_schema = current_schema() AND table_name = ?1
                     ORDER BY ordinal_position",
                )?
                .query_map([name], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()?;
            out.push((name.to_string(), columns));
        }
        return Ok(out);
    };
    let mut stmt = c.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table'
           AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%'
         ORDER BY rowid",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = Vec::new();
    for name in names {
        let mut cols = c.prepare(&format!("PRAGMA table_info(\"{name}\")"))?;
        let columns = cols
            .query_map([], |r| r.get::<_, String>(1))?
            .collect::<Result<Vec<_>, _>>()?;
        out.push((name, columns));
    }
    Ok(out)
}

fn quoted(cols: &[String]) -> String {
    cols.iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Calls `f` with every row of `table` (in rowid order in SQLite, by the first column in
/// PostgreSQL), streamed.
pub fn for_each_row(
    c: &Db,
    table: &str,
    cols: &[String],
    mut f: impl FnMut(Vec<Value>) -> std::io::Result<()>,
) -> Result<std::io::Result<()>> {
    let order = match c.engine() {
        Engine::Sqlite => String::new(),
        Engine::Postgres => " ORDER BY 1".to_string(),
    };
    let sql = format!("SELECT {} FROM \"{table}\"{order}", quoted(cols));
    let mut io = Ok(());
    c.for_each_row(&sql, |row| {
        if io.is_err() {
            return Ok(());
        }
        let values = (0..cols.len())
            .map(|i| row.get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()?;
        io = f(values);
        Ok(())
    })?;
    Ok(io)
}

pub fn insert_row(c: &Db, table: &str, cols: &[String], values: Vec<Value>) -> Result<()> {
    let marks = vec!["?"; cols.len()].join(", ");
    c.prepare_cached(&format!(
        "INSERT INTO \"{table}\" ({}) VALUES ({marks})",
        quoted(cols)
    ))?
    .execute(super::db::params_from_iter(values))?;
    Ok(())
}

/// Rebuilds the search index from the messages table: every text message, with the indexer's
/// mark after the newest. (A database restored at a schema before the mark existed had its
/// messages indexed by the insert trigger while loading; FTS5's own rebuild redoes that.)
pub fn rebuild_search(c: &Connection) -> Result<()> {
    let has = |name: &str| -> Result<bool> {
        Ok(c.query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?)
    };
    if has("messages_fts_pending")? {
        c.execute(
            "INSERT INTO messages_fts(messages_fts) VALUES ('delete-all')",
            [],
        )?;
        c.execute("DELETE FROM messages_fts_pending", [])?;
        c.execute("UPDATE messages_fts_progress SET indexed_upto = 0", [])?;
        while super::chat::index_search_batch(&super::Db::from(c), 10_000)? == 10_000 {}
    } else if has("messages_fts_progress")? {
        c.execute(
            "INSERT INTO messages_fts(messages_fts) VALUES ('delete-all')",
            [],
        )?;
        c.execute("UPDATE messages_fts_progress SET indexed_upto = 0", [])?;
    } else if has("messages_fts")? {
        c.execute(
            "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
            [],
        )?;
    }
    Ok(())
}

/// Foreign keys that point nowhere, as (table, rowid) pairs.
pub fn foreign_key_problems(c: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = c.prepare("PRAGMA foreign_key_check")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<i64>>(1)?.unwrap_or(0),
        ))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// The database's size as its server reports it (PostgreSQL); `None` for SQLite, whose files
/// the caller measures.
pub fn database_bytes(c: &super::Db) -> Result<Option<u64>> {
    match c.engine() {
        super::db::Engine::Sqlite => Ok(None),
        super::db::Engine::Postgres => Ok(Some(c.query_row(
            "SELECT pg_database_size(current_database())",
            [],
            |r| r.get(0),
        )?)),
    }
}

pub fn set_meta(c: &super::Db, key: &str, value: &str) -> Result<()> {
    c.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

pub fn meta(c: &super::Db, key: &str) -> Result<Option<String>> {
    use super::db::OptionalExtension;
    Ok(
        c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?,
    )
}
