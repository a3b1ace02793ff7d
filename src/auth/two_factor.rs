//! Two-step sign-in with an authenticator app: TOTP as RFC 6238 defines it and every app
//! implements it (HMAC-SHA1, 6 digits, 30-second steps, one step of clock drift either way),
//! a code accepted once per step, ten one-time recovery codes, and the site's policy of who
//! must use it. Needs no network: the QR code is drawn here and the app computes codes offline.

use crate::problem::Problem;
use std::sync::atomic::Ordering;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

use super::{Auth, AuthError, LimitKey, Result};
use crate::store::audit::{self, Entry};
use crate::store::two_factor as tf;
use crate::store::{now_ms, users, StoreError, User};

const STEP_SECS: u64 = 30;
const DIGITS: usize = 6;
/// 160 bits, the length RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
const RECOVERY_CODES: usize = 10;
/// Lowercase letters and digits without the look-alikes (i, l, o, 0, 1).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// An enrolment must be confirmed with a code within this long.
const ENROLMENT_MS: i64 = 15 * 60 * 1000;

/// Who must sign in with a second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    Off,
    Admins,
    Everyone,
}

impl Policy {
    fn as_str(self) -> &'static str {
        match self {
            Policy::Off => "off",
            Policy::Admins => "admins",
            Policy::Everyone => "everyone",
        }
    }

    fn parse(s: &str) -> Option<Policy> {
        match s {
            "off" => Some(Policy::Off),
            "admins" => Some(Policy::Admins),
            "everyone" => Some(Policy::Everyone),
            _ => None,
        }
    }

    fn to_u8(self) -> u8 {
        self as u8
    }

    fn from_u8(v: u8) -> Policy {
        match v {
            1 => Policy::Admins,
            2 => Policy::Everyone,
            _ => Policy::Off,
        }
    }

    pub fn applies_to(self, user: &User) -> bool {
        match self {
            Policy::Off => false,
            Policy::Admins => user.is_admin,
            Policy::Everyone => true,
        }
    }
}

/// What an app needs to enrol: the secret for typing in and the `otpauth://` URI (which the
/// HTTP layer also draws as a QR code).
pub struct Enrolment {
    pub secret: String,
    pub uri: String,
}

fn totp(secret: &[u8]) -> Result<TOTP> {
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS, secret.to_vec()).map_err(|e| {
        AuthError::Validation(Problem::new(
            "bad-secret",
            format!("unusable authenticator secret: {e}"),
        ))
    })
}

fn now_secs() -> u64 {
    u64::try_from(now_ms() / 1000).unwrap_or(0)
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The time step (`unix seconds / 30`) a 6-digit code belongs to, within one step of `now`.
fn matching_step(secret: &[u8], code: &str, now: u64) -> Result<Option<i64>> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = totp(secret)?;
    let current = now / STEP_SECS;
    let mut found = None;
    // Every candidate is computed and compared, so timing does not say which step matched.
    for step in [current.saturating_sub(1), current, current + 1] {
        if same(totp.generate(step * STEP_SECS).as_bytes(), code.as_bytes()) {
            found = Some(i64::try_from(step).unwrap_or(i64::MAX));
        }
    }
    Ok(found)
}

fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|_| {
        AuthError::Validation(Problem::new(
            "random-failed",
            "the system random number generator failed",
        ))
    })?;
    Ok(buf)
}

fn base32(bytes: &[u8]) -> String {
    totp_rs::Secret::Raw(bytes.to_vec())
        .to_encoded()
        .to_string()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        uri_component(issuer),
        uri_component(account),
        uri_component(issuer),
    )
}

/// Ten codes as the user sees them (`abcd-efgh`), and their hashes as stored.
fn new_recovery_codes() -> Result<(Vec<String>, Vec<Vec<u8>>)> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        // 256 is a multiple of nothing here, so reject the top of the range to keep it uniform.
        let mut chars = String::with_capacity(9);
        while chars.len() < 8 {
            for b in random_bytes(16)? {
                let limit = 256 - 256 % RECOVERY_ALPHABET.len();
                if usize::from(b) < limit && chars.len() < 8 {
                    chars.push(char::from(
                        RECOVERY_ALPHABET[usize::from(b) % RECOVERY_ALPHABET.len()],
                    ));
                }
            }
        }
        hashes.push(Sha256::digest(chars.as_bytes()).to_vec());
        codes.push(format!("{}-{}", &chars[..4], &chars[4..]));
    }
    Ok((codes, hashes))
}

/// The stored hash of a recovery code as typed (any case, with or without the dash and
/// spaces); None if it cannot be one.
fn recovery_hash(code: &str) -> Option<Vec<u8>> {
    let norm: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    (norm.len() == 8 && norm.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)))
        .then(|| Sha256::digest(norm.as_bytes()).to_vec())
}

impl Auth {
    /// Reads the stored policy: at start, and in a cluster when another node changed it.
    pub async fn load_two_factor_policy(&self) -> Result<()> {
        let stored = self.store.read(tf::policy).await?;
        let p = stored
            .as_deref()
            .and_then(Policy::parse)
            .unwrap_or(Policy::Off);
        self.two_factor_policy.store(p.to_u8(), Ordering::Relaxed);
        Ok(())
    }

    pub fn two_factor_policy(&self) -> Policy {
        Policy::from_u8(self.two_factor_policy.load(Ordering::Relaxed))
    }

    /// True when the policy requires a second factor of this user and they have none yet:
    /// until they enrol, their session can do nothing else.
    pub fn two_factor_due(&self, user: &User) -> bool {
        !user.is_bot && !user.two_factor && self.two_factor_policy().applies_to(user)
    }

    pub async fn set_two_factor_policy(
        &self,
        admin: &User,
        policy: Policy,
        address: &str,
    ) -> Result<Policy> {
        let entry = Entry {
            actor_id: Some(admin.id),
            actor: admin.username.clone(),
            action: "two-factor-policy-changed",
            target: policy.as_str().into(),
            address: address.into(),
            ..Default::default()
        };
        self.store
            .write(move |t| {
                tf::set_policy(t, policy.as_str())?;
                audit::append(t, &entry)
            })
            .await?;
        self.two_factor_policy
            .store(policy.to_u8(), Ordering::Relaxed);
        Ok(policy)
    }

    /// The account's password: the directory's for a directory account, else the local one.
    pub(super) async fn check_password(&self, user: &User, password: &str) -> Result<()> {
        if user.from_directory {
            let Some(dir) = &self.directory else {
                return Err(AuthError::DirectoryUnavailable);
            };
            return match dir.authenticate(&user.username, password).await {
                Ok(Some(p))
                    if super::validate_username(&p.username).ok()
                        == Some(user.username.clone()) =>
                {
                    Ok(())
                }
                Ok(_) => Err(AuthError::WrongPassword),
                Err(e) => {
                    tracing::warn!(error = %e, "directory password check failed");
                    Err(AuthError::DirectoryUnavailable)
                }
            };
        }
        let user_id = user.id;
        let hash = self
            .store
            .read(move |c| users::password_hash(c, user_id))
            .await?;
        if self.hasher.verify(password.to_string(), hash).await {
            Ok(())
        } else {
            Err(AuthError::WrongPassword)
        }
    }

    /// Starts enrolling an authenticator (after the password, so a borrowed session cannot
    /// bind someone else's app to the account).
    pub async fn begin_two_factor(
        &self,
        user: &User,
        password: &str,
        issuer: &str,
    ) -> Result<Enrolment> {
        self.check_password(user, password).await?;
        if user.two_factor {
            return Err(AuthError::AlreadyEnabled);
        }
        let secret = random_bytes(SECRET_BYTES)?;
        let user_id = user.id;
        let stored = secret.clone();
        self.store
            .write(move |t| tf::start_enrolment(t, user_id, &stored))
            .await?;
        let secret = base32(&secret);
        let uri = otpauth_uri(issuer, &user.username, &secret);
        Ok(Enrolment { secret, uri })
    }

    /// Finishes an enrolment with the first code from the app; returns the recovery codes,
    /// which are shown this once.
    pub async fn confirm_two_factor(
        &self,
        user: &User,
        code: &str,
        address: &str,
    ) -> Result<Vec<String>> {
        let key = LimitKey {
            key: format!("2fa:{}", user.id),
            free: self.config.free_login_attempts.max(1),
        };
        let _attempt = self
            .limiter
            .begin(std::slice::from_ref(&key))
            .map_err(|retry_after_secs| AuthError::RateLimited { retry_after_secs })?;
        let user_id = user.id;
        let since = now_ms() - ENROLMENT_MS;
        let secret = self
            .store
            .read(move |c| tf::pending_enrolment(c, user_id, since))
            .await?
            .ok_or(AuthError::Store(StoreError::NotFound))?;
        let Some(step) = matching_step(&secret, code.trim(), now_secs())? else {
            self.limiter.fail(
                &key,
                std::time::Duration::from_secs(self.config.max_lockout_secs),
            );
            return Err(AuthError::CodeNotAccepted);
        };
        self.limiter.clear(&key.key);
        let (codes, hashes) = new_recovery_codes()?;
        let entry = self.entry_for(user, "two-factor-enabled", &user.username, address);
        self.store
            .write(move |t| {
                tf::enable(t, user_id, &secret, step, &hashes)?;
                audit::append(t, &entry)
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AuthError::AlreadyEnabled,
                other => other.into(),
            })?;
        Ok(codes)
    }

    /// Turns two-step sign-in off for oneself (not while the policy requires it).
    pub async fn disable_two_factor(
        &self,
        user: &User,
        password: &str,
        address: &str,
    ) -> Result<()> {
        self.check_password(user, password).await?;
        if self.two_factor_policy().applies_to(user) {
            return Err(AuthError::TwoFactorRequired);
        }
        let user_id = user.id;
        let entry = self.entry_for(user, "two-factor-disabled", &user.username, address);
        self.store
            .write(move |t| {
                if tf::disable(t, user_id)? {
                    audit::append(t, &entry)?;
                }
                Ok(())
            })
            .await?;
        Ok(())
    }

    /// A new set of recovery codes; the old ones stop working.
    pub async fn new_recovery_codes(
        &self,
        user: &User,
        password: &str,
        address: &str,
    ) -> Result<Vec<String>> {
        self.check_password(user, password).await?;
        if !user.two_factor {
            return Err(AuthError::Store(StoreError::NotFound));
        }
        let (codes, hashes) = new_recovery_codes()?;
        let user_id = user.id;
        let entry = self.entry_for(user, "recovery-codes-replaced", &user.username, address);
        self.store
            .write(move |t| {
                tf::replace_recovery_codes(t, user_id, &hashes)?;
                audit::append(t, &entry)
            })
            .await?;
        Ok(codes)
    }

    /// An administrator turns a user's two-step sign-in off (a lost phone); if the policy
    /// requires it, the user enrols again at their next request.
    pub async fn reset_two_factor(
        &self,
        admin: &User,
        user_id: i64,
        address: &str,
    ) -> Result<User> {
        let mut entry = self.entry_for(admin, "two-factor-reset", "", address);
        Ok(self
            .store
            .write(move |t| {
                let user = users::user_by_id(t, user_id)?;
                tf::disable(t, user_id)?;
                entry.target = user.username;
                audit::append(t, &entry)?;
                users::user_by_id(t, user_id)
            })
            .await?)
    }

    /// Checks a sign-in's second factor: an app code (once per time step) or an unused
    /// recovery code. Both are used up in the same write that checks them, so two sign-ins
    /// racing with one code cannot both pass.
    pub(super) async fn second_factor_ok(&self, user: &User, code: &str) -> Result<bool> {
        let user_id = user.id;
        let code = code.trim().to_string();
        if code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit()) {
            let Some((secret, _)) = self.store.read(move |c| tf::secret(c, user_id)).await? else {
                return Ok(false);
            };
            let Some(step) = matching_step(&secret, &code, now_secs())? else {
                return Ok(false);
            };
            return Ok(self
                .store
                .write(move |t| tf::use_step(t, user_id, step))
                .await?);
        }
        let Some(hash) = recovery_hash(&code) else {
            return Ok(false);
        };
        let entry = self.entry_for(user, "recovery-code-used", &user.username, "");
        Ok(self
            .store
            .write(move |t| {
                let used = tf::use_recovery_code(t, user_id, &hash)?;
                if used {
                    let left = tf::recovery_codes_left(t, user_id)?;
                    audit::append(
                        t,
                        &Entry {
                            details: format!("{left} recovery codes left"),
                            ..entry
                        },
                    )?;
                }
                Ok(used)
            })
            .await?)
    }

    fn entry_for(&self, actor: &User, action: &'static str, target: &str, address: &str) -> Entry {
        Entry {
            actor_id: Some(actor.id),
            actor: actor.username.clone(),
            action,
            target: target.to_string(),
            address: address.to_string(),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8-digit codes there; the last 6 digits are the
    /// 6-digit code, since both are the same number modulo a power of ten).
    #[test]
    fn codes_match_the_rfc_test_vectors() {
        let secret = b"12345678901234567890";
        for (t, eight) in [
            (59u64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            let six = &eight[2..];
            assert_eq!(
                matching_step(secret, six, t).unwrap(),
                Some((t / 30) as i64)
            );
            // A step later still accepts it (clock drift), two steps later does not.
            assert!(matching_step(secret, six, t + 30).unwrap().is_some());
            assert!(matching_step(secret, six, t + 61).unwrap().is_none());
        }
        assert!(matching_step(secret, "12345", 59).unwrap().is_none());
        assert!(matching_step(secret, "28708a", 59).unwrap().is_none());
    }

    #[test]
    fn recovery_codes_are_distinct_and_accepted_as_typed() {
        let (codes, hashes) = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), 10);
        let mut unique = hashes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10);
        for (code, hash) in codes.iter().zip(&hashes) {
            assert_eq!(code.len(), 9);
            assert_eq!(recovery_hash(code).as_ref(), Some(hash));
            let typed = code.to_uppercase().replace('-', " ");
            assert_eq!(recovery_hash(&typed).as_ref(), Some(hash));
        }
        assert!(recovery_hash("abcd-efg").is_none());
        assert!(
            recovery_hash("abcd-efg1").is_none(),
            "1 is not in the alphabet"
        );
    }

    #[test]
    fn the_uri_names_the_site_and_account_safely() {
        let uri = otpauth_uri("HQ Ops", "anna", "JBSWY3DP");
        assert_eq!(
            uri,
            "otpauth://totp/HQ%20Ops:anna?secret=JBSWY3DP&issuer=HQ%20Ops&algorithm=SHA1&digits=6&period=30"
        );
        assert!(otpauth_uri("a&b", "x", "S").contains("issuer=a%26b&"));
    }
}
