//! Schema migrations: an append-only list tracked by `PRAGMA user_version`. Never edit or reorder
//! an entry; add a new one.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: accounts, sessions, invites, setup tokens.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE users (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
        display_name  TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        is_admin      INTEGER NOT NULL DEFAULT 0,
        disabled      INTEGER NOT NULL DEFAULT 0,
        created_at    INTEGER NOT NULL
    );
    CREATE TABLE sessions (
        id           TEXT PRIMARY KEY,
        token_hash   BLOB NOT NULL UNIQUE,
        user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        user_agent   TEXT NOT NULL DEFAULT '',
        address      TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE invites (
        token_hash BLOB PRIMARY KEY,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER,
        used_by    INTEGER REFERENCES users(id) ON DELETE SET NULL
    );
    CREATE TABLE setup_tokens (
        token_hash BLOB PRIMARY KEY,
        expires_at INTEGER NOT NULL
    );
    "#,
    // 2: channels, membership, messages, threads, reactions, mentions, pins, search, the event
    // log that clients resume from, and the session revocations the server watches.
    r#"
    CREATE TABLE channels (
        id         INTEGER PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('public', 'private', 'dm', 'group')),
        name       TEXT COLLATE NOCASE,
        topic      TEXT NOT NULL DEFAULT '',
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        archived   INTEGER NOT NULL DEFAULT 0,
        dm_key     TEXT UNIQUE,
        last_seq   INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX channels_name ON channels(name) WHERE name IS NOT NULL;
    CREATE TABLE members (
        channel_id    INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        role          TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'member')),
        joined_at     INTEGER NOT NULL,
        last_read_seq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (channel_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX members_user ON members(user_id, channel_id);
    CREATE TABLE messages (
        id            INTEGER PRIMARY KEY,
        channel_id    INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        seq           INTEGER NOT NULL,
        author_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
        client_id     TEXT,
        kind          TEXT NOT NULL DEFAULT 'text',
        body          TEXT NOT NULL,
        thread_root   INTEGER REFERENCES messages(id),
        reply_count   INTEGER NOT NULL DEFAULT 0,
        last_reply_at INTEGER,
        created_at    INTEGER NOT NULL,
        edited_at     INTEGER,
        deleted       INTEGER NOT NULL DEFAULT 0,
        pinned_at     INTEGER,
        pinned_by     INTEGER REFERENCES users(id) ON DELETE SET NULL,
        UNIQUE (channel_id, seq)
    );
    CREATE UNIQUE INDEX messages_client ON messages(author_id, client_id) WHERE client_id IS NOT NULL;
    CREATE INDEX messages_thread ON messages(thread_root, seq) WHERE thread_root IS NOT NULL;
    CREATE INDEX messages_pinned ON messages(channel_id, pinned_at) WHERE pinned_at IS NOT NULL;
    CREATE TABLE reactions (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        emoji      TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (message_id, emoji, user_id)
    ) WITHOUT ROWID;
    CREATE TABLE mentions (
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        PRIMARY KEY (user_id, message_id)
    ) WITHOUT ROWID;
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.kind = 'text' BEGIN
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages WHEN old.kind = 'text' BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.kind = 'text' BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END;
    CREATE TABLE events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        channel_id INTEGER,
        user_id    INTEGER,
        created_at INTEGER NOT NULL,
        payload    TEXT NOT NULL
    );
    CREATE INDEX events_user ON events(user_id, id) WHERE user_id IS NOT NULL;
    CREATE TABLE session_revocations (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL,
        user_id    INTEGER NOT NULL,
        at         INTEGER NOT NULL
    );
    CREATE TRIGGER sessions_revoked AFTER DELETE ON sessions BEGIN
        INSERT INTO session_revocations(session_id, user_id, at)
        VALUES (old.id, old.user_id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
    END;
    "#,
    // 3: the append-only audit log, per-channel retention.
    r#"
    CREATE TABLE audit (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        at       INTEGER NOT NULL,
        actor_id INTEGER,
        actor    TEXT NOT NULL DEFAULT '',
        action   TEXT NOT NULL,
        target   TEXT NOT NULL DEFAULT '',
        address  TEXT NOT NULL DEFAULT '',
        details  TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX audit_at ON audit(at);
    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only');
    END;
    ALTER TABLE channels ADD COLUMN retention_days INTEGER;
    "#,
    // 4: files attached to messages, resumable uploads, calls.
    r#"
    CREATE TABLE files (
        id          TEXT PRIMARY KEY,
        uploader_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
        sha256      TEXT NOT NULL,
        size        INTEGER NOT NULL,
        name        TEXT NOT NULL,
        mime        TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio', 'file')),
        width       INTEGER,
        height      INTEGER,
        duration_ms INTEGER,
        thumb_sha   TEXT,
        preview_sha TEXT,
        poster_sha  TEXT,
        message_id  INTEGER REFERENCES messages(id) ON DELETE CASCADE,
        position    INTEGER NOT NULL DEFAULT 0,
        created_at  INTEGER NOT NULL
    );
    CREATE INDEX files_message ON files(message_id, position) WHERE message_id IS NOT NULL;
    CREATE INDEX files_unattached ON files(created_at) WHERE message_id IS NULL;
    CREATE INDEX files_uploader ON files(uploader_id);
    CREATE INDEX files_sha ON files(sha256);
    CREATE INDEX files_thumb ON files(thumb_sha) WHERE thumb_sha IS NOT NULL;
    CREATE INDEX files_preview ON files(preview_sha) WHERE preview_sha IS NOT NULL;
    CREATE INDEX files_poster ON files(poster_sha) WHERE poster_sha IS NOT NULL;
    -- A deleted message's files go with it; the sweep then removes blobs nobody references.
    CREATE TRIGGER messages_deleted_files AFTER UPDATE OF deleted ON messages WHEN new.deleted = 1 BEGIN
        DELETE FROM files WHERE message_id = new.id;
    END;
    CREATE TABLE uploads (
        id         TEXT PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name       TEXT NOT NULL,
        mime       TEXT NOT NULL,
        size       INTEGER NOT NULL,
        received   INTEGER NOT NULL DEFAULT 0,
        width      INTEGER,
        height     INTEGER,
        duration_ms INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    CREATE INDEX uploads_user ON uploads(user_id);
    CREATE TABLE calls (
        id          INTEGER PRIMARY KEY,
        channel_id  INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        started_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
        started_at  INTEGER NOT NULL,
        answered_at INTEGER,
        ended_at    INTEGER,
        message_id  INTEGER REFERENCES messages(id) ON DELETE SET NULL
    );
    "#,
    // 5: search indexing leaves the commit path. New messages are indexed in batches behind the
    // commit (`chat::index_search`) up to `messages_fts_progress.indexed_upto`; the triggers only
    // keep rows already indexed in step (an external-content FTS5 'delete' must be given exactly
    // what was indexed, so rows past the mark are left for the indexer, which reads their body as
    // it is then). A new row at or below the mark (an id reused after the newest row was deleted)
    // is indexed at once, since the indexer only looks past the mark.
    r#"
    DROP TRIGGER messages_fts_insert;
    DROP TRIGGER messages_fts_update;
    DROP TRIGGER messages_fts_delete;
    CREATE TABLE messages_fts_progress (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_upto INTEGER NOT NULL
    );
    INSERT INTO messages_fts_progress(id, indexed_upto)
        VALUES (1, (SELECT coalesce(max(id), 0) FROM messages));
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
    WHEN new.kind = 'text' AND new.id <= (SELECT indexed_upto FROM messages_fts_progress) BEGIN
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
    WHEN old.kind = 'text' AND old.id <= (SELECT indexed_upto FROM messages_fts_progress) BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
        INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.kind = 'text' AND old.id <= (SELECT indexed_upto FROM messages_fts_progress) BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body);
    END;
    "#,
    // 6: two-step sign-in (TOTP): the secret and the last time step a code was used for, on the
    // user; enrolments waiting for their first code; one-time recovery codes as SHA-256.
    r#"
    ALTER TABLE users ADD COLUMN totp_secret BLOB;
    ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE totp_enrolments (
        user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        secret     BLOB NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE recovery_codes (
        user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        code_hash BLOB NOT NULL,
        used_at   INTEGER,
        PRIMARY KEY (user_id, code_hash)
    ) WITHOUT ROWID;
    "#,
    // 7: incoming webhooks: a secret URL per webhook (stored as SHA-256) that posts into one
    // channel; their messages have no author, a sender name, and the webhook while it exists.
    r#"
    CREATE TABLE webhooks (
        id           INTEGER PRIMARY KEY,
        channel_id   INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        token_hash   BLOB NOT NULL UNIQUE,
        created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER
    );
    CREATE INDEX webhooks_channel ON webhooks(channel_id);
    ALTER TABLE messages ADD COLUMN sender_name TEXT;
    ALTER TABLE messages ADD COLUMN webhook_id INTEGER REFERENCES webhooks(id) ON DELETE SET NULL;
    "#,
    // 8: bot accounts (users that cannot sign in with a password) and their API tokens
    // (SHA-256 at rest, scoped). A token acts as a session named `token-ID`: deleting it
    // leaves a revocation row, so live connections using it end as for a deleted session.
    r#"
    ALTER TABLE users ADD COLUMN is_bot INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE api_tokens (
        id           INTEGER PRIMARY KEY,
        user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name         TEXT NOT NULL,
        token_hash   BLOB NOT NULL UNIQUE,
        scopes       TEXT NOT NULL,
        created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at   INTEGER NOT NULL,
        last_used_at INTEGER
    );
    CREATE INDEX api_tokens_user ON api_tokens(user_id);
    CREATE TRIGGER api_tokens_revoked AFTER DELETE ON api_tokens BEGIN
        INSERT INTO session_revocations(session_id, user_id, at)
        VALUES ('token-' || old.id, old.user_id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
    END;
    "#,
    // 9: outgoing webhooks: a message in a channel starting with a trigger word is POSTed to
    // an address an administrator entered; the answer is posted back under the webhook's name.
    r#"
    CREATE TABLE outgoing_webhooks (
        id            INTEGER PRIMARY KEY,
        channel_id    INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        name          TEXT NOT NULL,
        trigger_words TEXT NOT NULL,
        url           TEXT NOT NULL,
        secret        TEXT NOT NULL,
        created_by    INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at    INTEGER NOT NULL
    );
    "#,
    // 10: accounts that come from the agency's directory (LDAP): their entry's DN; they have
    // no password here.
    r#"
    ALTER TABLE users ADD COLUMN directory_dn TEXT;
    "#,
    // 11: profiles (job title, department, phone, a short "about" and a photo), accounts the
    // directory sync disabled (so it may enable them again), and the channel memberships the
    // directory's groups gave (so it removes only those).
    r#"
    ALTER TABLE users ADD COLUMN title TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN department TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN phone TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN about TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN avatar_version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN directory_disabled INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE avatars (
        user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        source_sha BLOB NOT NULL,
        small      BLOB NOT NULL,
        large      BLOB NOT NULL
    );
    CREATE TABLE directory_memberships (
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (channel_id, user_id)
    ) WITHOUT ROWID;
    "#,
    // 12: people's custom status and preferences (time zone, do-not-disturb, keywords, read
    // receipts, language), per-conversation notification levels and mutes, when each member
    // last read (for receipts), who may mention a whole channel, and the last sign-in.
    r#"
    ALTER TABLE users ADD COLUMN status_emoji TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN status_text TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN status_expires_at INTEGER;
    ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN dnd_until INTEGER;
    ALTER TABLE users ADD COLUMN dnd_start TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN dnd_end TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT '';
    ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;
    ALTER TABLE members ADD COLUMN notify TEXT NOT NULL DEFAULT 'all'
        CHECK (notify IN ('all', 'mentions', 'none'));
    ALTER TABLE members ADD COLUMN muted_until INTEGER;
    ALTER TABLE members ADD COLUMN read_at INTEGER;
    ALTER TABLE channels ADD COLUMN mass_mentions TEXT NOT NULL DEFAULT 'everyone'
        CHECK (mass_mentions IN ('everyone', 'owners'));
    "#,
    // 13: one-time password reset links an administrator hands over.
    r#"
    CREATE TABLE password_resets (
        token_hash BLOB PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER
    );
    "#,
    // 14: search understands word forms. The index holds each message's words stemmed
    // (`text::search_text`: Snowball, Russian and English), so it no longer mirrors the
    // messages' text: it becomes contentless (rows deleted by rowid), the indexer writes it
    // (`chat::index_search_batch`), and changed rows wait in `messages_fts_pending` for it.
    // Every existing message is indexed again, in batches, from the mark's reset to 0.
    r#"
    DROP TRIGGER messages_fts_insert;
    DROP TRIGGER messages_fts_update;
    DROP TRIGGER messages_fts_delete;
    DROP TABLE messages_fts;
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TABLE messages_fts_pending (id INTEGER PRIMARY KEY);
    UPDATE messages_fts_progress SET indexed_upto = 0;
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
    WHEN new.kind = 'text' AND new.id <= (SELECT indexed_upto FROM messages_fts_progress) BEGIN
        INSERT OR IGNORE INTO messages_fts_pending(id) VALUES (new.id);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages
    WHEN old.kind = 'text' AND old.id <= (SELECT indexed_upto FROM messages_fts_progress) BEGIN
        DELETE FROM messages_fts WHERE rowid = old.id;
        INSERT OR IGNORE INTO messages_fts_pending(id) VALUES (old.id);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
    WHEN old.kind = 'text' AND old.id <= (SELECT indexed_upto FROM messages_fts_progress) BEGIN
        DELETE FROM messages_fts WHERE rowid = old.id;
        DELETE FROM messages_fts_pending WHERE id = old.id;
    END;
    "#,
    // 15: messages as people use them in Telegram: a quoted message (same conversation), a
    // forwarded one (its original, which may be elsewhere, and who wrote it then), thread replies
    // also shown in the channel, each person's saved messages, and earlier versions of edited
    // messages.
    r#"
    ALTER TABLE messages ADD COLUMN quote_of INTEGER REFERENCES messages(id) ON DELETE SET NULL;
    ALTER TABLE messages ADD COLUMN forwarded_from INTEGER
        REFERENCES messages(id) ON DELETE SET NULL;
    ALTER TABLE messages ADD COLUMN forward_info TEXT;
    ALTER TABLE messages ADD COLUMN also_in_channel INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE saved_messages (
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        saved_at   INTEGER NOT NULL,
        PRIMARY KEY (user_id, message_id)
    ) WITHOUT ROWID;
    CREATE INDEX saved_messages_recent ON saved_messages(user_id, saved_at);
    CREATE TABLE message_edits (
        id         INTEGER PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        body       TEXT NOT NULL,
        edited_at  INTEGER NOT NULL
    );
    CREATE INDEX message_edits_message ON message_edits(message_id, id);
    "#,
    // 16: voice messages: a recording's loudness over time (up to 128 values, 0-255) for its
    // waveform, and whether it was recorded as a voice message.
    r#"
    ALTER TABLE uploads ADD COLUMN waveform BLOB;
    ALTER TABLE uploads ADD COLUMN voice INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN waveform BLOB;
    ALTER TABLE files ADD COLUMN voice INTEGER NOT NULL DEFAULT 0;
    "#,
    // 17: linked sites (issue 19). Every message, channel and person gets a global identity
    // (the site that made it and its id there: `origin_site`, `origin_id`, NULL id for this
    // site's own rows) and messages an order every site agrees on (`sort_key`, a hybrid logical
    // clock, ties broken by `origin_site`), a version for edits and deletions, and the signature
    // their site made; each person's latest reaction add or remove and a message's latest pin or unpin are kept. The links
    // themselves, their one-time invitations, which channels each link shares and which it
    // shared once.
    r#"
    CREATE TABLE sites (
        id       TEXT PRIMARY KEY,
        name     TEXT NOT NULL,
        sign_key BLOB NOT NULL,
        via_link INTEGER
    );
    CREATE TABLE links (
        id              INTEGER PRIMARY KEY,
        site_id         TEXT NOT NULL UNIQUE,
        name            TEXT NOT NULL,
        ca_pem          TEXT NOT NULL,
        ca_fp           TEXT NOT NULL UNIQUE,
        addresses       TEXT NOT NULL DEFAULT '[]',
        paused          INTEGER NOT NULL DEFAULT 0,
        created_at      INTEGER NOT NULL,
        last_contact_at INTEGER,
        sent_upto       INTEGER NOT NULL DEFAULT 0,
        recv_upto       INTEGER NOT NULL DEFAULT 0,
        peer_head       INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT
    );
    CREATE TABLE link_invites (
        secret_hash BLOB PRIMARY KEY,
        created_by  INTEGER,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        used_at     INTEGER
    );
    CREATE TABLE channel_shares (
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        link_id    INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,
        shared_by  INTEGER,
        shared_at  INTEGER NOT NULL,
        PRIMARY KEY (channel_id, link_id)
    );
    CREATE INDEX channel_shares_link ON channel_shares(link_id);
    CREATE TABLE ended_shares (
        channel_id INTEGER NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
        link_id    INTEGER NOT NULL REFERENCES links(id) ON DELETE CASCADE,
        ended_at   INTEGER NOT NULL,
        PRIMARY KEY (channel_id, link_id)
    );
    ALTER TABLE channels ADD COLUMN origin_site TEXT;
    ALTER TABLE channels ADD COLUMN origin_id INTEGER;
    ALTER TABLE channels ADD COLUMN last_sort INTEGER NOT NULL DEFAULT 0;
    CREATE UNIQUE INDEX channels_origin ON channels(origin_site, origin_id)
        WHERE origin_site IS NOT NULL;
    ALTER TABLE users ADD COLUMN origin_site TEXT;
    ALTER TABLE users ADD COLUMN origin_id INTEGER;
    CREATE UNIQUE INDEX users_origin ON users(origin_site, origin_id) WHERE origin_site IS NOT NULL;
    ALTER TABLE messages ADD COLUMN origin_site TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN origin_id INTEGER;
    ALTER TABLE messages ADD COLUMN sort_key INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN late INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN signature BLOB;
    UPDATE messages SET sort_key = created_at * 65536 + (seq % 65536),
        version = created_at * 65536;
    UPDATE channels SET last_sort = COALESCE(
        (SELECT MAX(sort_key) FROM messages WHERE messages.channel_id = channels.id), 0);
    CREATE UNIQUE INDEX messages_origin ON messages(origin_site, origin_id)
        WHERE origin_id IS NOT NULL;
    CREATE INDEX messages_order ON messages(channel_id, sort_key, origin_site);
    CREATE TABLE reaction_states (
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        emoji      TEXT NOT NULL,
        present    INTEGER NOT NULL,
        version    INTEGER NOT NULL,
        signature  BLOB,
        PRIMARY KEY (message_id, user_id, emoji)
    ) WITHOUT ROWID;
    CREATE TABLE pin_states (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        pinned     INTEGER NOT NULL,
        version    INTEGER NOT NULL,
        signature  BLOB
    );
    "#,
    // 18: a counter of changes that can end or alter what a signed-in request may do (a session
    // or API token deleted, any change to a person), so the server can answer a session lookup
    // from memory for as long as the counter stands still, whoever made the change (the CLI
    // beside the server included).
    r#"
    CREATE TABLE auth_epoch (n INTEGER NOT NULL);
    INSERT INTO auth_epoch(n) VALUES (0);
    CREATE TRIGGER auth_epoch_session AFTER DELETE ON sessions BEGIN
        UPDATE auth_epoch SET n = n + 1;
    END;
    CREATE TRIGGER auth_epoch_token AFTER DELETE ON api_tokens BEGIN
        UPDATE auth_epoch SET n = n + 1;
    END;
    CREATE TRIGGER auth_epoch_user_changed AFTER UPDATE ON users BEGIN
        UPDATE auth_epoch SET n = n + 1;
    END;
    CREATE TRIGGER auth_epoch_user_deleted AFTER DELETE ON users BEGIN
        UPDATE auth_epoch SET n = n + 1;
    END;
    "#,
];

/// The schema version this binary writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies every migration the database lacks, all in one transaction.
pub fn apply(conn: &mut Connection) -> rusqlite::Result<()> {
    apply_up_to(conn, SCHEMA_VERSION)
}

/// Applies migrations up to `target` (restores recreate the schema a backup was taken with, and
/// the server migrates it further on start).
pub fn apply_up_to(conn: &mut Connection, target: i64) -> rusqlite::Result<()> {
    let target = target.min(SCHEMA_VERSION);
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current >= target {
        return Ok(());
    }
    // Two processes may open a new data dir at once (two CLI commands, or one beside a starting
    // server): take the write lock first, then read the version again under it, so the second
    // one waits and finds the work done instead of failing on tables that now exist.
    let txn = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = txn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current >= target {
        return Ok(());
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(current as usize)
        .take((target - current) as usize)
    {
        txn.execute_batch(sql)?;
        txn.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    txn.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    #[test]
    fn migrates_an_empty_database_to_the_latest_version() {
        let mut c = Connection::open_in_memory().unwrap();
        apply(&mut c).unwrap();
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        apply(&mut c).unwrap();
    }

    /// The search index behind the commit: nothing past the mark is indexed until the indexer
    /// runs, edits and deletes keep indexed rows exact, and an id reused below the mark is
    /// indexed at once.
    #[test]
    fn search_index_follows_messages_behind_the_mark() {
        use crate::store::chat::{self as q, ChannelKind, NewMessage};
        let mut c = Connection::open_in_memory().unwrap();
        apply(&mut c).unwrap();
        let u = crate::store::users::create_user(&Db::from(&c), "ann", "Ann", "x", false).unwrap();
        let ch = q::create_channel(
            &Db::from(&c),
            ChannelKind::Public,
            Some("ops"),
            "",
            u.id,
            None,
        )
        .unwrap();
        let post = |body: &str| {
            q::insert_message(
                &Db::from(&c),
                &NewMessage {
                    channel_id: ch.id,
                    author_id: Some(u.id),
                    client_id: None,
                    kind: "text",
                    body,
                    thread_root: None,
                    ..Default::default()
                },
            )
            .unwrap()
            .id
        };
        let hits = |word: &str| -> Vec<i64> {
            let mut st = c
                .prepare(
                    "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid",
                )
                .unwrap();
            st.query_map([word], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let a = post("diesel pump");
        let b = post("water tank");
        assert!(hits("diesel").is_empty(), "not indexed inside the commit");
        // Edited before it was indexed: the indexer reads the body as it is then.
        q::edit_message(&Db::from(&c), b, "fuel tank").unwrap();
        assert_eq!(q::index_search_batch(&Db::from(&c), 1).unwrap(), 1);
        assert_eq!(q::index_search_batch(&Db::from(&c), 10).unwrap(), 1);
        assert_eq!(q::index_search_batch(&Db::from(&c), 10).unwrap(), 0);
        assert_eq!(hits("diesel"), vec![a]);
        assert_eq!(hits("fuel"), vec![b]);
        assert!(hits("water").is_empty());
        // Indexed rows leave the index when edited (and wait for the indexer) or deleted.
        q::edit_message(&Db::from(&c), a, "petrol pumps").unwrap();
        assert!(hits("diesel").is_empty());
        assert_eq!(q::index_search_batch(&Db::from(&c), 10).unwrap(), 1);
        assert_eq!(hits("petrol"), vec![a]);
        assert_eq!(hits("pump"), vec![a], "stored stemmed");
        c.execute("DELETE FROM messages WHERE id = ?1", [b])
            .unwrap();
        assert!(hits("fuel").is_empty());
        // The newest row deleted, its id comes back for the next message: below the mark.
        let again = post("generator");
        assert_eq!(again, b);
        assert_eq!(q::index_search_batch(&Db::from(&c), 10).unwrap(), 1);
        assert_eq!(hits("generat"), vec![b]);
        c.execute(
            "INSERT INTO messages_fts(messages_fts) VALUES ('integrity-check')",
            [],
        )
        .unwrap();
    }

    /// A database indexed before word forms were understood is indexed again, stemmed.
    #[test]
    fn an_old_search_index_is_rebuilt_with_word_forms() {
        let mut c = Connection::open_in_memory().unwrap();
        apply_up_to(&mut c, 4).unwrap();
        c.execute_batch(
            "INSERT INTO users(id, username, display_name, password_hash, created_at)
                 VALUES (1, 'ann', 'Ann', 'x', 0);
             INSERT INTO channels(id, kind, name, created_by, created_at) VALUES (1, 'public', 'ops', 1, 0);
             INSERT INTO messages(channel_id, seq, author_id, body, created_at)
                 VALUES (1, 1, 1, 'diesel pump', 0), (1, 2, 1, 'water tank', 0);",
        )
        .unwrap();
        apply(&mut c).unwrap();
        let mark: i64 = c
            .query_row("SELECT indexed_upto FROM messages_fts_progress", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(mark, 0);
        assert_eq!(
            crate::store::chat::index_search_batch(&Db::from(&c), 10).unwrap(),
            2
        );
        let n: i64 = c
            .query_row(
                "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'diesel OR tank'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 2);
    }
}
