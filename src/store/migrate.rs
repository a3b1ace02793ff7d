//! `outpost migrate --to postgres://…`: moves a one-box site's database into PostgreSQL (cluster
//! mode), table by table through the dump's engine-neutral rows, in one PostgreSQL transaction:
//! either everything arrives or nothing does.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::db::Db;
use super::{backup as dump, postgres, Result, StoreError};

/// What was moved.
#[derive(Debug, Clone, Default)]
pub struct Moved {
    pub tables: usize,
    pub rows: u64,
    pub took: Duration,
}

/// Copies every row of the SQLite database at `sqlite` into the empty PostgreSQL database
/// `link` names (its schema is created first). Ids and log positions are kept, so links, clients'
/// resume positions and sessions stay valid. Blocking.
pub fn sqlite_to_postgres(
    sqlite: &Path,
    link: &postgres::Link,
    mut progress: impl FnMut(&str, u64),
) -> Result<Moved> {
    let started = Instant::now();
    let source =
        Connection::open_with_flags(sqlite, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
            StoreError::Open {
                path: sqlite.to_path_buf(),
                source: e,
            }
        })?;
    let version: i64 = source.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version != super::SCHEMA_VERSION {
        return Err(StoreError::Unavailable(format!(
            "the database has schema version {version}; start this Outpost on it once (which \
             brings it to {}) before moving it",
            super::SCHEMA_VERSION
        )));
    }
    let target = postgres::connect(&postgres::target(link)?)?;
    postgres::migrate(&target)?;
    let pg = target.db();
    let busy: bool = pg.query_row(
        "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM messages)",
        [],
        |r| r.get(0),
    )?;
    if busy {
        return Err(StoreError::Unavailable(
            "the PostgreSQL database already holds a site; move into an empty one".into(),
        ));
    }
    let lite = Db::from(&source);
    let from: std::collections::HashMap<String, Vec<String>> =
        dump::tables(&lite)?.into_iter().collect();
    let mut moved = Moved::default();
    target.batch("BEGIN")?;
    let copied = (|| -> Result<()> {
        // The schema's order puts every table after those it refers to.
        for (table, pg_columns) in dump::tables(&pg)? {
            let Some(lite_columns) = from.get(&table) else {
                continue;
            };
            let columns: Vec<String> = pg_columns
                .into_iter()
                .filter(|c| lite_columns.contains(c))
                .collect();
            let mut rows = 0u64;
            let mut failed = None;
            let io = dump::for_each_row(&lite, &table, &columns, |values| {
                if let Err(e) = dump::insert_row(&pg, &table, &columns, values) {
                    failed = Some(e);
                    return Err(std::io::Error::other("stopped"));
                }
                rows += 1;
                Ok(())
            })?;
            if let Some(e) = failed {
                return Err(e);
            }
            if let Err(e) = io {
                return Err(StoreError::Unavailable(e.to_string()));
            }
            progress(&table, rows);
            moved.tables += 1;
            moved.rows += rows;
        }
        // Ids taken from now on continue after the moved ones; so do log positions.
        pg.execute_batch(
            "DO $$ DECLARE t record; BEGIN
               FOR t IN SELECT table_name FROM information_schema.columns
                        WHERE table_schema = current_schema() AND column_name = 'id'
                          AND is_identity = 'YES' LOOP
                 EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, ''id''),
                                 coalesce((SELECT max(id) FROM %I), 0) + 1, false)',
                                t.table_name, t.table_name);
               END LOOP;
             END $$;
             UPDATE log_head SET pos = (SELECT coalesce(max(id), 0) FROM events)
               WHERE name = 'events';
             UPDATE log_head SET pos = (SELECT coalesce(max(id), 0) FROM session_revocations)
               WHERE name = 'session_revocations';",
        )?;
        Ok(())
    })();
    match copied {
        Ok(()) => target.batch("COMMIT")?,
        Err(e) => {
            let _ = target.batch("ROLLBACK");
            return Err(e);
        }
    }
    moved.took = started.elapsed();
    Ok(moved)
}
