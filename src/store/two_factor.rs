//! Two-step sign-in: each user's authenticator secret and the last time step used with it,
//! pending enrolments, one-time recovery codes (stored as SHA-256), and the site's policy.

use super::db::{params, Db, OptionalExtension};

use super::{now_ms, Conflict, Result, StoreError};

/// The authenticator secret and the last time step a code was accepted for, if enrolled.
pub fn secret(c: &Db, user_id: i64) -> Result<Option<(Vec<u8>, i64)>> {
    Ok(c.prepare_cached(
        "SELECT totp_secret, totp_last_step FROM users
             WHERE id = ?1 AND totp_secret IS NOT NULL",
    )?
    .query_row([user_id], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()?)
}

/// Records that a code for `step` was used; false when that step or a later one already was
/// (a replayed code), so one code signs in once.
pub fn use_step(c: &Db, user_id: i64, step: i64) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE users SET totp_last_step = ?2
         WHERE id = ?1 AND totp_secret IS NOT NULL AND totp_last_step < ?2",
    )?
    .execute(params![user_id, step])?
        == 1)
}

/// Starts (or restarts) an enrolment with a new secret.
pub fn start_enrolment(c: &Db, user_id: i64, secret: &[u8]) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO totp_enrolments(user_id, secret, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(user_id) DO UPDATE SET secret = excluded.secret,
                                            created_at = excluded.created_at",
    )?
    .execute(params![user_id, secret, now_ms()])?;
    Ok(())
}

/// The secret of an enrolment started at or after `since_ms`.
pub fn pending_enrolment(c: &Db, user_id: i64, since_ms: i64) -> Result<Option<Vec<u8>>> {
    Ok(c.prepare_cached(
        "SELECT secret FROM totp_enrolments WHERE user_id = ?1 AND created_at >= ?2",
    )?
    .query_row(params![user_id, since_ms], |r| r.get(0))
    .optional()?)
}

/// Turns two-step sign-in on with an enrolment's secret, the step of the code that confirmed
/// it, and a new set of recovery codes.
pub fn enable(
    c: &Db,
    user_id: i64,
    secret: &[u8],
    step: i64,
    recovery_hashes: &[Vec<u8>],
) -> Result<()> {
    let n = c
        .prepare_cached(
            "UPDATE users SET totp_secret = ?2, totp_last_step = ?3
             WHERE id = ?1 AND totp_secret IS NULL",
        )?
        .execute(params![user_id, secret, step])?;
    if n == 0 {
        return Err(StoreError::Conflict(Conflict::TwoFactorAlreadyOn));
    }
    c.prepare_cached("DELETE FROM totp_enrolments WHERE user_id = ?1")?
        .execute([user_id])?;
    replace_recovery_codes(c, user_id, recovery_hashes)
}

/// Turns two-step sign-in off and forgets its secret, enrolment and recovery codes; false if
/// it was not on.
pub fn disable(c: &Db, user_id: i64) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE users SET totp_secret = NULL, totp_last_step = 0
             WHERE id = ?1 AND totp_secret IS NOT NULL",
        )?
        .execute([user_id])?;
    c.prepare_cached("DELETE FROM totp_enrolments WHERE user_id = ?1")?
        .execute([user_id])?;
    c.prepare_cached("DELETE FROM recovery_codes WHERE user_id = ?1")?
        .execute([user_id])?;
    Ok(n == 1)
}

pub fn replace_recovery_codes(c: &Db, user_id: i64, hashes: &[Vec<u8>]) -> Result<()> {
    c.prepare_cached("DELETE FROM recovery_codes WHERE user_id = ?1")?
        .execute([user_id])?;
    let mut insert = c.prepare_cached(
        "INSERT INTO recovery_codes(user_id, code_hash) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for h in hashes {
        insert.execute(params![user_id, h])?;
    }
    Ok(())
}

/// Uses up a recovery code; false if it is unknown or was used before.
pub fn use_recovery_code(c: &Db, user_id: i64, hash: &[u8]) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE recovery_codes SET used_at = ?3
         WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL",
    )?
    .execute(params![user_id, hash, now_ms()])?
        == 1)
}

pub fn recovery_codes_left(c: &Db, user_id: i64) -> Result<i64> {
    Ok(c.prepare_cached(
        "SELECT count(*) FROM recovery_codes WHERE user_id = ?1 AND used_at IS NULL",
    )?
    .query_row([user_id], |r| r.get(0))?)
}

/// The stored policy (`off`, `admins`, `everyone`), if one was ever set.
pub fn policy(c: &Db) -> Result<Option<String>> {
    Ok(
        c.prepare_cached("SELECT value FROM meta WHERE key = 'two_factor_policy'")?
            .query_row([], |r| r.get(0))
            .optional()?,
    )
}

pub fn set_policy(c: &Db, policy: &str) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO meta(key, value) VALUES ('two_factor_policy', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )?
    .execute([policy])?;
    super::cluster::settings_changed(c)
}
