//! Accounts and sessions: password hashing, session tokens, invites, the setup token and the
//! sign-in rate limiter. Tokens are random 256-bit values; only their SHA-256 is stored.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::config::AuthConfig;
use crate::store::audit::{self, Entry};
use crate::store::users::{self, ClientInfo};
use crate::store::{now_ms, Session, Store, StoreError, User};

/// How long the printed setup URL stays valid.
pub const SETUP_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;
/// Rate-limiter entries untouched for this long are forgotten.
const LIMITER_FORGET: Duration = Duration::from_secs(3600);
const LIMITER_MAX_ENTRIES: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong user name or password")]
    InvalidCredentials,
    #[error("too many failed attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("this link is invalid, used or expired")]
    InvalidToken,
    #[error("{0}")]
    Validation(String),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("password hashing failed")]
    Hash,
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = AuthError> = std::result::Result<T, E>;

/// Argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    // These constants are valid; `Params::new` only fails on out-of-range values.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password. CPU-heavy: call from a blocking context.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| AuthError::Hash)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| AuthError::Hash)?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AuthError::Hash)
}

/// Checks a password against a stored hash. CPU-heavy: call from a blocking context.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

async fn hash_off_runtime(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|_| AuthError::Hash)?
}

async fn verify_off_runtime(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false)
}

/// A fresh random token, URL-safe.
pub fn new_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // Without a working system RNG no token may be issued at all.
    if getrandom::fill(&mut buf).is_err() {
        panic!("the system random number generator failed");
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

pub fn validate_username(name: &str) -> Result<String> {
    let name = name.trim().to_ascii_lowercase();
    let ok = (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(name)
    } else {
        Err(AuthError::Validation(
            "a user name is 1 to 32 characters: letters, digits, dot, dash or underscore, starting with a letter or digit".into(),
        ))
    }
}

pub fn validate_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(8..=1024).contains(&n) {
        return Err(AuthError::Validation(
            "a password is 8 to 1024 characters long".into(),
        ));
    }
    Ok(())
}

pub fn validate_display_name(name: &str, fallback: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(fallback.to_string());
    }
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AuthError::Validation(
            "a display name is at most 64 characters, without control characters".into(),
        ));
    }
    crate::text::check_name("a display name", name, true)
        .map_err(|e| AuthError::Validation(e.to_string()))?;
    Ok(name.to_string())
}

/// A new session as handed to the client: the secret token is shown exactly once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub session: Session,
    pub user: User,
}

/// Growing delays after repeated sign-in failures, per account and per client address.
#[derive(Default)]
struct RateLimiter {
    /// Short critical sections only; never held across an await.
    entries: Mutex<HashMap<String, LimiterEntry>>,
}

struct LimiterEntry {
    failures: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

impl RateLimiter {
    fn retry_after(&self, keys: &[String]) -> Option<u64> {
        let now = Instant::now();
        let entries = self.entries.lock().ok()?;
        keys.iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| (until - now).as_secs().max(1))
            .max()
    }

    fn fail(&self, key: String, free: u32, max_lockout: Duration) {
        let now = Instant::now();
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= LIMITER_MAX_ENTRIES {
            entries.retain(|_, e| now.duration_since(e.last) < LIMITER_FORGET);
        }
        let e = entries.entry(key).or_insert(LimiterEntry {
            failures: 0,
            locked_until: None,
            last: now,
        });
        e.failures += 1;
        e.last = now;
        if e.failures >= free {
            let exp = (e.failures - free).min(20);
            let delay = Duration::from_secs(1u64 << exp).min(max_lockout);
            e.locked_until = Some(now + delay);
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

/// Signing in, sessions, invites and setup, over the store.
#[derive(Clone)]
pub struct Auth {
    store: Store,
    config: AuthConfig,
    limiter: Arc<RateLimiter>,
    /// Verified against when the user does not exist, so timing does not tell names apart.
    dummy_hash: Arc<String>,
}

impl Auth {
    pub fn new(store: Store, config: AuthConfig) -> Result<Auth> {
        let dummy_hash = hash_password("outpost-dummy-password")?;
        Ok(Auth {
            store,
            config,
            limiter: Arc::new(RateLimiter::default()),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    fn idle_cutoff(&self) -> i64 {
        now_ms() - i64::from(self.config.session_idle_days) * 86_400_000
    }

    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: ClientInfo,
        address: Option<IpAddr>,
    ) -> Result<NewSession> {
        let name = username.trim().to_ascii_lowercase();
        let account_key = format!("user:{name}");
        let address_key = address.map(|a| format!("addr:{a}"));
        let keys: Vec<String> = std::iter::once(account_key.clone())
            .chain(address_key.clone())
            .collect();
        if let Some(retry_after_secs) = self.limiter.retry_after(&keys) {
            return Err(AuthError::RateLimited { retry_after_secs });
        }
        let lookup = name.clone();
        let found = self
            .store
            .read(move |c| users::credentials(c, &lookup))
            .await?;
        let (user, hash) = match found {
            Some((u, h)) => (Some(u), h),
            None => (None, self.dummy_hash.as_str().to_string()),
        };
        let ok = verify_off_runtime(password.to_string(), hash).await;
        match user {
            Some(user) if ok && !user.disabled => {
                self.limiter.clear(&account_key);
                let entry = Entry {
                    actor_id: Some(user.id),
                    actor: user.username.clone(),
                    action: "sign-in",
                    address: client.address.clone(),
                    ..Default::default()
                };
                self.record(entry).await?;
                self.start_session(user, client).await
            }
            _ => {
                let attempted: String = name.chars().take(64).collect();
                self.record(Entry {
                    actor: attempted.clone(),
                    action: "sign-in-failed",
                    target: attempted,
                    address: client.address.clone(),
                    ..Default::default()
                })
                .await?;
                let max = Duration::from_secs(self.config.max_lockout_secs);
                let free = self.config.free_login_attempts;
                self.limiter.fail(account_key, free, max);
                if let Some(k) = address_key {
                    // An address may host several people: give it more room than one account.
                    self.limiter.fail(k, free.saturating_mul(4), max);
                }
                Err(AuthError::InvalidCredentials)
            }
        }
    }

    /// Appends to the audit log in its own transaction.
    pub async fn record(&self, entry: Entry) -> Result<()> {
        Ok(self.store.write(move |t| audit::append(t, &entry)).await?)
    }

    async fn start_session(&self, user: User, client: ClientInfo) -> Result<NewSession> {
        let token = new_token(32);
        let id = new_token(12);
        let hash = token_hash(&token);
        let user_id = user.id;
        let session = self
            .store
            .write(move |t| users::create_session(t, &id, &hash, user_id, &client))
            .await?;
        Ok(NewSession {
            token,
            session,
            user,
        })
    }

    /// The session and user behind a token, if the session is live and the user enabled.
    pub async fn authenticate(&self, token: &str) -> Result<Option<(Session, User)>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let cutoff = self.idle_cutoff();
        let found = self
            .store
            .read(move |c| users::session_by_token(c, &hash, cutoff))
            .await?;
        if let Some((session, _)) = &found {
            let now = now_ms();
            if now - session.last_seen_at > TOUCH_EVERY_MS {
                let store = self.store.clone();
                let id = session.id.clone();
                // Last-seen is advisory: a lost update only makes the session list less precise.
                tokio::spawn(async move {
                    let _ = store
                        .write(move |t| users::touch_session(t, &id, now))
                        .await;
                });
            }
        }
        Ok(found)
    }

    /// Whether a session is still valid (for connections that outlive one request).
    pub async fn authenticate_session_id(&self, session_id: &str) -> bool {
        let id = session_id.to_string();
        self.store
            .read(move |c| users::session_alive(c, &id))
            .await
            .unwrap_or(false)
    }

    pub async fn revoke_session(&self, user: &User, session_id: &str, address: &str) -> Result<()> {
        let id = session_id.to_string();
        let entry = Entry {
            actor_id: Some(user.id),
            actor: user.username.clone(),
            action: "session-revoked",
            target: session_id.to_string(),
            address: address.to_string(),
            ..Default::default()
        };
        let user_id = user.id;
        Ok(self
            .store
            .write(move |t| {
                users::delete_session(t, user_id, &id)?;
                audit::append(t, &entry)
            })
            .await?)
    }

    pub async fn sessions(&self, user_id: i64) -> Result<Vec<Session>> {
        Ok(self
            .store
            .read(move |c| users::list_sessions(c, user_id))
            .await?)
    }

    /// Creates the first admin with the one-time setup token.
    pub async fn setup(
        &self,
        token: &str,
        username: &str,
        display_name: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<NewSession> {
        let username = validate_username(username)?;
        let display = validate_display_name(display_name, &username)?;
        validate_password(password)?;
        let hash = hash_off_runtime(password.to_string()).await?;
        let token_hash = token_hash(token);
        let address = client.address.clone();
        let user = self
            .store
            .write(move |t| {
                if !users::consume_setup_token(t, &token_hash)? {
                    return Ok(None);
                }
                let user = users::create_user(t, &username, &display, &hash, true)?;
                audit::append(
                    t,
                    &Entry {
                        actor_id: Some(user.id),
                        actor: user.username.clone(),
                        action: "user-created",
                        target: user.username.clone(),
                        address,
                        details: "first administrator, from the setup link".into(),
                    },
                )?;
                Ok(Some(user))
            })
            .await?
            .ok_or(AuthError::InvalidToken)?;
        self.start_session(user, client).await
    }

    /// Issues a setup token if no user exists yet; returns it so the caller can print the URL.
    pub async fn setup_token_if_needed(&self) -> Result<Option<String>> {
        let token = new_token(32);
        let hash = token_hash(&token);
        let expires = now_ms() + SETUP_TOKEN_TTL.as_millis() as i64;
        let issued = self
            .store
            .write(move |t| {
                if users::count_users(t)? > 0 {
                    users::clear_setup_tokens(t)?;
                    return Ok(false);
                }
                users::replace_setup_token(t, &hash, expires)?;
                Ok(true)
            })
            .await?;
        Ok(issued.then_some(token))
    }

    pub async fn create_invite(
        &self,
        admin: &User,
        hours: Option<u32>,
    ) -> Result<(String, users::Invite)> {
        let hours = hours.unwrap_or(self.config.invite_hours);
        if !(1..=24 * 90).contains(&hours) {
            return Err(AuthError::Validation(
                "an invite lasts between 1 hour and 90 days".into(),
            ));
        }
        let token = new_token(32);
        let hash = token_hash(&token);
        let expires = now_ms() + i64::from(hours) * 3_600_000;
        let admin_id = admin.id;
        let entry = Entry {
            actor_id: Some(admin.id),
            actor: admin.username.clone(),
            action: "invite-created",
            details: format!("valid for {hours} hours"),
            ..Default::default()
        };
        let invite = self
            .store
            .write(move |t| {
                let invite = users::create_invite(t, &hash, admin_id, expires)?;
                audit::append(t, &entry)?;
                Ok(invite)
            })
            .await?;
        Ok((token, invite))
    }

    /// The invite behind a token if it can still be used.
    pub async fn check_invite(&self, token: &str) -> Result<users::Invite> {
        let hash = token_hash(token);
        let invite = self.store.read(move |c| users::invite(c, &hash)).await?;
        match invite {
            Some(i) if !i.used && i.expires_at > now_ms() => Ok(i),
            _ => Err(AuthError::InvalidToken),
        }
    }

    pub async fn accept_invite(
        &self,
        token: &str,
        username: &str,
        display_name: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<NewSession> {
        self.check_invite(token).await?;
        let username = validate_username(username)?;
        let display = validate_display_name(display_name, &username)?;
        validate_password(password)?;
        let hash = hash_off_runtime(password.to_string()).await?;
        let token_hash = token_hash(token);
        let address = client.address.clone();
        let user = self
            .store
            .write(move |t| {
                let user = users::create_user(t, &username, &display, &hash, false)?;
                if !users::consume_invite(t, &token_hash, user.id)? {
                    // Rolls back the new user with this job's savepoint.
                    return Err(StoreError::Conflict("invite-used"));
                }
                for action in ["invite-used", "user-created"] {
                    audit::append(
                        t,
                        &Entry {
                            actor_id: Some(user.id),
                            actor: user.username.clone(),
                            action,
                            target: user.username.clone(),
                            address: address.clone(),
                            details: String::new(),
                        },
                    )?;
                }
                Ok(user)
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict("invite-used") => AuthError::InvalidToken,
                other => AuthError::Store(other),
            })?;
        self.start_session(user, client).await
    }

    pub async fn change_password(
        &self,
        user: &User,
        session_id: &str,
        current: &str,
        new: &str,
    ) -> Result<()> {
        validate_password(new)?;
        let user_id = user.id;
        let hash = self
            .store
            .read(move |c| users::password_hash(c, user_id))
            .await?;
        if !verify_off_runtime(current.to_string(), hash).await {
            return Err(AuthError::WrongPassword);
        }
        let new_hash = hash_off_runtime(new.to_string()).await?;
        let keep = session_id.to_string();
        let entry = Entry {
            actor_id: Some(user.id),
            actor: user.username.clone(),
            action: "password-changed",
            target: user.username.clone(),
            ..Default::default()
        };
        self.store
            .write(move |t| {
                users::set_password(t, user_id, &new_hash, Some(&keep))?;
                audit::append(t, &entry)
            })
            .await?;
        Ok(())
    }

    pub async fn delete_expired_sessions(&self) -> Result<usize> {
        let cutoff = self.idle_cutoff();
        Ok(self
            .store
            .write(move |t| users::delete_expired_sessions(t, cutoff))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip_uses_argon2id() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn limiter_locks_after_free_attempts_with_growing_delay() {
        let l = RateLimiter::default();
        let key = "user:a".to_string();
        let max = Duration::from_secs(900);
        for _ in 0..4 {
            l.fail(key.clone(), 5, max);
        }
        assert_eq!(l.retry_after(std::slice::from_ref(&key)), None);
        l.fail(key.clone(), 5, max);
        let first = l.retry_after(std::slice::from_ref(&key)).unwrap();
        l.fail(key.clone(), 5, max);
        l.fail(key.clone(), 5, max);
        let later = l.retry_after(std::slice::from_ref(&key)).unwrap();
        assert!(later > first, "{later} > {first}");
        l.clear(&key);
        assert_eq!(l.retry_after(&[key]), None);
    }

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(validate_username(" Alice ").unwrap(), "alice");
        assert!(validate_username("").is_err());
        assert!(validate_username("_x").is_err());
        assert!(validate_username("a b").is_err());
        assert!(validate_username(&"a".repeat(33)).is_err());
    }
}
