//! Accounts and sessions: password hashing, session tokens, invites, the setup token and the
//! sign-in rate limiter. Tokens are random 256-bit values; only their SHA-256 is stored.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod bots;
pub mod directory_sync;
pub mod password_reset;
pub mod profile;
mod session_cache;
pub mod two_factor;

use argon2::password_hash::{self, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::config::AuthConfig;
use crate::problem::Problem;
use crate::store::audit::{self, Entry};
use crate::store::users::{self, ClientInfo};
use crate::store::{now_ms, Conflict, Session, Store, StoreError, User};

/// How long the printed setup URL stays valid.
pub const SETUP_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;
/// Rate-limiter entries untouched for this long are forgotten.
const LIMITER_FORGET: Duration = Duration::from_secs(3600);
const LIMITER_MAX_ENTRIES: usize = 100_000;
/// A key with no failure for this long starts counting again from zero.
const LIMITER_FORGIVE: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("wrong user name or password")]
    InvalidCredentials,
    #[error("too many failed attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("this link is invalid, used or expired")]
    InvalidToken,
    #[error("{0}")]
    Validation(Problem),
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("password hashing failed")]
    Hash,
    #[error("enter the code from your authenticator app")]
    SecondFactorRequired,
    #[error("wrong code")]
    WrongCode,
    #[error("that code is not the one the app shows now; check the phone's clock and try again")]
    CodeNotAccepted,
    #[error("two-step sign-in is already on")]
    AlreadyEnabled,
    #[error("the administrator requires two-step sign-in for this account")]
    TwoFactorRequired,
    #[error("the directory cannot be reached; try again, or ask an administrator")]
    DirectoryUnavailable,
    #[error("the {0} of this account comes from the agency's directory: change it there")]
    ManagedByDirectory(&'static str),
    #[error("only an administrator may change someone else's profile")]
    NotAllowed,
    #[error("the {0} can only be changed by an administrator here")]
    NotEditable(&'static str),
    #[error("the photo cannot be used: {0}")]
    BadPhoto(String),
    #[error("this account is disabled; ask an administrator")]
    AccountDisabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = AuthError> = std::result::Result<T, E>;

/// Argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;

fn argon2_params() -> Params {
    // These constants are valid; `Params::new` only fails on out-of-range values.
    Params::new(ARGON2_MEMORY_KIB, 2, 1, None).unwrap_or_default()
}

/// A 19 MiB work area for one hash. Reused rather than allocated per hash: glibc keeps a freed
/// area this size in the freeing thread's arena (its mmap threshold grows to the largest freed
/// block), so each sign-in on another blocking thread used to leave 19 MiB resident.
type WorkArea = Vec<Block>;

fn new_work_area(blocks: usize) -> WorkArea {
    vec![Block::default(); blocks]
}

/// Hashes `password` with a fresh salt into a PHC string, using `area` as the work memory.
fn hash_with(password: &str, area: &mut WorkArea) -> Result<String> {
    let mut raw_salt = [0u8; 16];
    getrandom::fill(&mut raw_salt).map_err(|_| AuthError::Hash)?;
    let salt = SaltString::encode_b64(&raw_salt).map_err(|_| AuthError::Hash)?;
    let params = argon2_params();
    if area.len() < params.block_count() {
        *area = new_work_area(params.block_count());
    }
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password.as_bytes(), &raw_salt, &mut out, &mut area[..])
        .map_err(|_| AuthError::Hash)?;
    let output = password_hash::Output::new(&out).map_err(|_| AuthError::Hash)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: password_hash::ParamsString::try_from(&params).map_err(|_| AuthError::Hash)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a PHC string, using `area` as the work memory when it is large
/// enough for the hash's parameters.
fn verify_with(password: &str, hash: &str, area: &mut WorkArea) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut raw_salt = [0u8; 64];
    let Ok(raw_salt) = salt.decode_b64(&mut raw_salt) else {
        return false;
    };
    // The pooled area grows to our own setting once and is reused from then on; a stored hash
    // from a costlier setting gets a temporary area of its own.
    let needed = params.block_count();
    if area.len() < needed && needed <= argon2_params().block_count() {
        *area = new_work_area(argon2_params().block_count());
    }
    let mut own;
    let blocks = if area.len() >= needed {
        &mut area[..]
    } else {
        own = new_work_area(needed);
        &mut own[..]
    };
    let mut out = vec![0u8; expected.len()];
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), raw_salt, &mut out, blocks)
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    password_hash::Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// Hashes a password. CPU-heavy, and allocates its own 19 MiB: for the CLI and tests.
pub fn hash_password(password: &str) -> Result<String> {
    hash_with(password, &mut WorkArea::new())
}

/// Checks a password against a stored hash. CPU-heavy: call from a blocking context.
pub fn verify_password(password: &str, hash: &str) -> bool {
    verify_with(password, hash, &mut WorkArea::new())
}

/// Runs password hashes for the server: at most `limit` at once, each on the blocking pool with
/// a work area taken from a pool of at most `limit`, so memory stays at `limit` × 19 MiB however
/// many sign-ins arrive together. Waiting requests queue in arrival order and cost no memory
/// beyond their future.
pub struct Hasher {
    /// Moved into each blocking hash, so a hash whose request was dropped keeps its slot
    /// (and its work area) until it really ends.
    permits: Arc<tokio::sync::Semaphore>,
    areas: Mutex<Vec<WorkArea>>,
    /// How many hashes may run at once.
    pub limit: usize,
}

impl Hasher {
    pub fn new(limit: usize) -> Hasher {
        let limit = limit.max(1);
        Hasher {
            permits: Arc::new(tokio::sync::Semaphore::new(limit)),
            areas: Mutex::new(Vec::with_capacity(limit)),
            limit,
        }
    }

    /// One hash per core: hashing is CPU-bound, so more at once only adds memory and latency.
    pub fn per_core() -> Hasher {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Hasher::new(cores.min(4))
    }

    async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut WorkArea) -> T + Send + 'static,
    ) -> Result<T> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| AuthError::Hash)?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut area = this
                .areas
                .lock()
                .ok()
                .and_then(|mut pool| pool.pop())
                .unwrap_or_default();
            let out = work(&mut area);
            if let Ok(mut pool) = this.areas.lock() {
                if pool.len() < this.limit {
                    pool.push(area);
                }
            }
            out
        })
        .await
        .map_err(|_| AuthError::Hash)
    }

    pub async fn hash(self: &Arc<Self>, password: String) -> Result<String> {
        self.run(move |area| hash_with(&password, area)).await?
    }

    pub async fn verify(self: &Arc<Self>, password: String, hash: String) -> bool {
        self.run(move |area| verify_with(&password, &hash, area))
            .await
            .unwrap_or(false)
    }
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
            Problem::new(
                "bad-username",
                "a user name is 1 to 32 characters: letters, digits, dot, dash or underscore, starting with a letter or digit",
            )
            .field("username")
            .param("max", 32),
        ))
    }
}

pub fn validate_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if !(8..=1024).contains(&n) {
        return Err(AuthError::Validation(
            Problem::new(
                "bad-password-length",
                "a password is 8 to 1024 characters long",
            )
            .field("password")
            .param("min", 8)
            .param("max", 1024),
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
            Problem::new(
                "too-long",
                "a display name is at most 64 characters, without control characters",
            )
            .field("display_name")
            .param("max", 64),
        ));
    }
    crate::text::check_name("a display name", name, true)
        .map_err(|e| AuthError::Validation(e.problem("display_name")))?;
    Ok(name.to_string())
}

/// A new session as handed to the client: the secret token is shown exactly once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub session: Session,
    pub user: User,
}

/// Growing delays after repeated sign-in failures, per key (an account from one address, an
/// address, an account from anywhere). Attempts still being checked count as failures until
/// they end, so a burst sent at once is throttled as if it had been sent one by one.
#[derive(Default)]
struct RateLimiter {
    /// Short critical sections only; never held across an await.
    entries: Mutex<HashMap<String, LimiterEntry>>,
}

struct LimiterEntry {
    failures: u32,
    in_flight: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

/// One limiter key and how many failures it allows before delays start.
struct LimitKey {
    key: String,
    free: u32,
}

/// An attempt counted in flight against its keys until dropped.
struct Attempt {
    limiter: Arc<RateLimiter>,
    keys: Vec<String>,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if let Ok(mut entries) = self.limiter.entries.lock() {
            for k in &self.keys {
                if let Some(e) = entries.get_mut(k) {
                    e.in_flight = e.in_flight.saturating_sub(1);
                }
            }
        }
    }
}

impl RateLimiter {
    /// Starts an attempt, or says how long to wait when any key is locked or has as many
    /// failures and attempts in flight as it allows.
    fn begin(self: &Arc<Self>, keys: &[LimitKey]) -> Result<Attempt, u64> {
        let now = Instant::now();
        let Ok(mut entries) = self.entries.lock() else {
            return Err(1);
        };
        let mut wait = 0u64;
        for k in keys {
            if let Some(e) = entries.get(&k.key) {
                if let Some(until) = e.locked_until.filter(|u| *u > now) {
                    wait = wait.max((until - now).as_secs().max(1));
                } else if e.failures.saturating_add(e.in_flight) >= k.free && e.in_flight > 0 {
                    // Over the allowance only counting attempts not yet decided: they will lock
                    // the key if they fail, so this one waits for them.
                    wait = wait.max(1);
                }
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        if entries.len() >= LIMITER_MAX_ENTRIES {
            entries.retain(|_, e| e.in_flight > 0 || now.duration_since(e.last) < LIMITER_FORGET);
        }
        if entries.len() >= LIMITER_MAX_ENTRIES {
            // A flood of names: forget everything not being checked or locked right now rather
            // than refuse everyone.
            entries.retain(|_, e| e.in_flight > 0 || e.locked_until.is_some_and(|u| u > now));
        }
        for k in keys {
            let e = entries.entry(k.key.clone()).or_insert(LimiterEntry {
                failures: 0,
                in_flight: 0,
                locked_until: None,
                last: now,
            });
            e.in_flight += 1;
            e.last = now;
        }
        Ok(Attempt {
            limiter: self.clone(),
            keys: keys.iter().map(|k| k.key.clone()).collect(),
        })
    }

    fn fail(&self, key: &LimitKey, max_lockout: Duration) {
        let now = Instant::now();
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let e = entries.entry(key.key.clone()).or_insert(LimiterEntry {
            failures: 0,
            in_flight: 0,
            locked_until: None,
            last: now,
        });
        // Failures long past are forgiven: a shared address (a NAT, a kiosk) collects typos
        // from many people over a day, and those must not add up to a lockout.
        if now.duration_since(e.last) > LIMITER_FORGIVE && e.locked_until.is_none_or(|u| u <= now) {
            e.failures = 0;
        }
        e.failures += 1;
        e.last = now;
        if e.failures >= key.free {
            let exp = (e.failures - key.free).min(20);
            let delay = Duration::from_secs(1u64 << exp).min(max_lockout);
            e.locked_until = Some(now + delay);
        }
    }

    fn clear(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            if let Some(e) = entries.get_mut(key) {
                e.failures = 0;
                e.locked_until = None;
            }
        }
    }
}

/// Signing in, sessions, invites and setup, over the store.
#[derive(Clone)]
pub struct Auth {
    store: Store,
    config: AuthConfig,
    limiter: Arc<RateLimiter>,
    /// Every server-side hash goes through it, bounding concurrency and memory.
    hasher: Arc<Hasher>,
    /// Verified against when the user does not exist, so timing does not tell names apart.
    dummy_hash: Arc<String>,
    /// `two_factor::Policy` as a number: read on every request, changed only by the admin API.
    two_factor_policy: Arc<std::sync::atomic::AtomicU8>,
    /// The agency's directory, when `[ldap]` is configured.
    directory: Option<crate::directory::Directory>,
    /// Where the directory's groups become channel memberships (set once chat exists).
    chat: Option<crate::chat::Chat>,
    sessions: Arc<session_cache::SessionCache>,
}

impl Auth {
    pub fn new(store: Store, config: AuthConfig) -> Result<Auth> {
        let dummy_hash = hash_password("outpost-dummy-password")?;
        Ok(Auth {
            store,
            config,
            limiter: Arc::new(RateLimiter::default()),
            hasher: Arc::new(Hasher::per_core()),
            dummy_hash: Arc::new(dummy_hash),
            two_factor_policy: Arc::default(),
            directory: None,
            chat: None,
            sessions: Arc::default(),
        })
    }

    fn idle_cutoff(&self) -> i64 {
        now_ms() - i64::from(self.config.session_idle_days) * 86_400_000
    }

    /// Signs in. The attempt runs to its end in a task of its own: a client that hangs up
    /// while its password is being checked still has the attempt counted (and a failure
    /// recorded), so dropping requests cannot get around the limits.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        client: ClientInfo,
        address: Option<IpAddr>,
    ) -> Result<NewSession> {
        let this = self.clone();
        let (username, password) = (username.to_string(), password.to_string());
        let code = code.map(str::to_string);
        tokio::spawn(async move {
            this.login_to_end(&username, &password, code.as_deref(), client, address)
                .await
        })
        .await
        .map_err(|_| AuthError::Hash)?
    }

    async fn login_to_end(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        client: ClientInfo,
        address: Option<IpAddr>,
    ) -> Result<NewSession> {
        let name = username.trim().to_ascii_lowercase();
        let free = self.config.free_login_attempts.max(1);
        // OWASP's combination: an account is limited per address it is tried from, an address
        // across accounts (with room for several people behind it), and an account across all
        // addresses only for addresses it has never signed in from. So someone else's wrong
        // passwords from elsewhere slow an attacker down without locking the owner out of
        // their own machine.
        let pair_key = LimitKey {
            key: format!(
                "pair:{name}|{}",
                address.map(|a| a.to_string()).unwrap_or_default()
            ),
            free,
        };
        let address_key = address.map(|a| LimitKey {
            key: format!("addr:{a}"),
            free: free.saturating_mul(4),
        });
        let account_key = LimitKey {
            key: format!("user:{name}"),
            free: free.saturating_mul(2),
        };
        let mut keys = vec![pair_key];
        keys.extend(address_key);
        let _attempt = self
            .limiter
            .begin(&keys)
            .map_err(|retry_after_secs| AuthError::RateLimited { retry_after_secs })?;
        let lookup = name.clone();
        let from = address.map(|a| a.to_string());
        let (found, known_address) = self
            .store
            .read(move |c| {
                let found = users::credentials(c, &lookup)?;
                let known = match (&found, &from) {
                    (Some((u, _)), Some(a)) => users::has_session_from(c, u.id, a)?,
                    _ => false,
                };
                Ok((found, known))
            })
            .await?;
        let _account_attempt = if known_address {
            None
        } else {
            let attempt = self
                .limiter
                .begin(std::slice::from_ref(&account_key))
                .map_err(|retry_after_secs| AuthError::RateLimited { retry_after_secs })?;
            keys.push(account_key);
            Some(attempt)
        };
        // Directory accounts, and names unknown here, are checked against the directory when
        // there is one; local accounts (the break-glass administrator) never are.
        let ask_directory = match &found {
            Some((u, _)) => u.from_directory,
            None => true,
        };
        let (user, ok) = match (&self.directory, ask_directory) {
            (Some(dir), true) => match dir.authenticate(&name, password).await {
                Ok(Some(person)) => match self.apply_directory_person(person, "directory").await {
                    Ok(Some((u, _))) => (Some(u), true),
                    Ok(None) => (found.map(|f| f.0), false),
                    Err(e) => {
                        tracing::warn!(error = %e, "a directory sign-in could not use its account here");
                        (found.map(|f| f.0), false)
                    }
                },
                Ok(None) => (found.map(|f| f.0), false),
                Err(e) => {
                    tracing::warn!(error = %e, "directory sign-in failed");
                    return Err(AuthError::DirectoryUnavailable);
                }
            },
            _ => {
                let (user, hash) = match found {
                    Some((u, h)) => (Some(u), h),
                    None => (None, self.dummy_hash.as_str().to_string()),
                };
                let ok = self.hasher.verify(password.to_string(), hash).await;
                (user, ok)
            }
        };
        // The second factor is asked for only once the password is right, and a wrong code
        // counts against the same limits as a wrong password.
        let mut failure = AuthError::InvalidCredentials;
        let mut details = String::new();
        let passed = match &user {
            Some(u) if ok && !u.disabled && u.two_factor => match code {
                None => return Err(AuthError::SecondFactorRequired),
                Some(code) => {
                    let good = self.second_factor_ok(u, code).await?;
                    if !good {
                        failure = AuthError::WrongCode;
                        details = "wrong second-factor code".into();
                    }
                    good
                }
            },
            Some(u) => ok && !u.disabled,
            None => false,
        };
        // Said only to someone who knows the password, so it tells a stranger nothing.
        if let Some(u) = user.as_ref().filter(|u| ok && u.disabled) {
            self.record(Entry {
                actor_id: Some(u.id),
                actor: u.username.clone(),
                action: "sign-in-refused",
                address: client.address.clone(),
                details: "the account is disabled".into(),
                ..Default::default()
            })
            .await?;
            return Err(AuthError::AccountDisabled);
        }
        match user {
            Some(user) if passed => {
                for k in &keys {
                    if !k.key.starts_with("addr:") {
                        self.limiter.clear(&k.key);
                    }
                }
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
                let max = Duration::from_secs(self.config.max_lockout_secs);
                for k in &keys {
                    self.limiter.fail(k, max);
                }
                self.record(Entry {
                    actor: attempted.clone(),
                    action: "sign-in-failed",
                    target: attempted,
                    address: client.address.clone(),
                    details,
                    ..Default::default()
                })
                .await?;
                Err(failure)
            }
        }
    }

    pub fn directory(&self) -> Option<&crate::directory::Directory> {
        self.directory.as_ref()
    }

    /// Lets the directory's groups give channel memberships (`ldap.channel_groups`).
    pub fn with_chat(mut self, chat: crate::chat::Chat) -> Auth {
        self.chat = Some(chat);
        self
    }

    /// Signs people in against this directory from now on.
    pub fn with_directory(mut self, directory: Option<crate::directory::Directory>) -> Auth {
        self.directory = directory;
        self
    }

    /// Appends to the audit log in its own transaction.
    pub async fn record(&self, entry: Entry) -> Result<()> {
        Ok(self.store.write(move |t| audit::append(t, &entry)).await?)
    }

    async fn start_session(&self, user: User, client: ClientInfo) -> Result<NewSession> {
        // A first sign-in (however the account was made) joins the channel everyone is in.
        if user.last_sign_in_at.is_none() && !user.is_bot {
            if let Some(chat) = &self.chat {
                if let Err(e) = chat.welcome(user.id).await {
                    tracing::warn!(user = %user.username, error = %e, "joining #general failed");
                }
            }
        }
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

    /// The session and user behind a token, if the session is live and the user enabled; for
    /// a bot's API token, a session standing for the token and the token's scopes (people's
    /// sessions have none: they may do anything their account may).
    pub async fn authenticate(
        &self,
        token: &str,
    ) -> Result<Option<(Session, User, Option<bots::Scopes>)>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let cutoff = self.idle_cutoff();
        let now = now_ms();
        // Read before the lookup: a change racing with it leaves the entry stale, never fresh.
        let epoch = self.store.auth_epoch();
        let cached = epoch.and_then(|e| self.sessions.get(&hash, e, cutoff));
        let mut signed = match cached {
            Some(signed) => signed,
            None => {
                let Some(signed) = self
                    .look_up(hash.clone(), token.starts_with("otb_"), cutoff)
                    .await?
                else {
                    return Ok(None);
                };
                if let Some(e) = epoch {
                    self.sessions.put(hash.clone(), e, signed.clone());
                }
                signed
            }
        };
        // A status runs out with time, not with a change the epoch would see.
        if signed
            .user
            .status
            .as_ref()
            .is_some_and(|s| s.expires_at.is_some_and(|t| t <= now))
        {
            signed.user.status = None;
        }
        if now - signed.session.last_seen_at > TOUCH_EVERY_MS {
            self.sessions.seen(&hash, now);
            let store = self.store.clone();
            let id = signed.session.id.clone();
            let token_id = signed.token.map(|(id, _)| id);
            // Last-seen is advisory: a lost update only makes the session list less precise.
            tokio::spawn(async move {
                let _ = store
                    .write(move |t| match token_id {
                        Some(tid) => crate::store::tokens::touch(t, tid, now),
                        None => users::touch_session(t, &id, now),
                    })
                    .await;
            });
        }
        let scopes = signed.token.map(|(_, scopes)| scopes);
        Ok(Some((signed.session, signed.user, scopes)))
    }

    async fn look_up(
        &self,
        hash: Vec<u8>,
        is_api_token: bool,
        cutoff: i64,
    ) -> Result<Option<session_cache::Signed>> {
        Ok(self
            .store
            .read(move |c| {
                if is_api_token {
                    if let Some((t, s, u)) = crate::store::tokens::authenticate(c, &hash)? {
                        return Ok(Some(session_cache::Signed {
                            session: s,
                            user: u,
                            token: Some((t.id, t.scopes())),
                        }));
                    }
                }
                Ok(
                    users::session_by_token(c, &hash, cutoff)?.map(|(session, user)| {
                        session_cache::Signed {
                            session,
                            user,
                            token: None,
                        }
                    }),
                )
            })
            .await?)
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
        let hash = self.hasher.hash(password.to_string()).await?;
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
        if let Some(chat) = &self.chat {
            let admin = crate::chat::Actor {
                id: user.id,
                is_admin: true,
            };
            if let Err(e) = chat.ensure_general(admin).await {
                tracing::warn!(error = %e, "creating #general failed");
            }
        }
        self.start_session(user, client).await
    }

    /// Whether a setup link still works (so a used one says so before showing a form).
    pub async fn check_setup_token(&self, token: &str) -> Result<()> {
        let hash = token_hash(token);
        let ok = self
            .store
            .read(move |c| users::setup_token_valid(c, &hash))
            .await?;
        if ok {
            Ok(())
        } else {
            Err(AuthError::InvalidToken)
        }
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
                Problem::new(
                    "bad-invite-lifetime",
                    "an invite lasts between 1 hour and 90 days",
                )
                .field("hours")
                .param("max", 24 * 90),
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
        let hash = self.hasher.hash(password.to_string()).await?;
        let token_hash = token_hash(token);
        let address = client.address.clone();
        let user = self
            .store
            .write(move |t| {
                let user = users::create_user(t, &username, &display, &hash, false)?;
                if !users::consume_invite(t, &token_hash, user.id)? {
                    // Rolls back the new user with this job's savepoint.
                    return Err(StoreError::Conflict(Conflict::InviteUsed));
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
                StoreError::Conflict(Conflict::InviteUsed) => AuthError::InvalidToken,
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
        if user.from_directory {
            return Err(AuthError::Validation(Problem::new(
                "password-in-directory",
                "this account's password is kept in the agency's directory: change it there",
            )));
        }
        validate_password(new)?;
        self.check_password(user, current).await?;
        let user_id = user.id;
        let new_hash = self.hasher.hash(new.to_string()).await?;
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
        let l = Arc::new(RateLimiter::default());
        let key = LimitKey {
            key: "user:a".to_string(),
            free: 5,
        };
        let max = Duration::from_secs(900);
        let keys = std::slice::from_ref(&key);
        for _ in 0..4 {
            let _a = l.begin(keys).unwrap();
            l.fail(&key, max);
        }
        let a = l.begin(keys).unwrap();
        l.fail(&key, max);
        drop(a);
        let first = l.begin(keys).err().unwrap();
        l.fail(&key, max);
        l.fail(&key, max);
        let later = l.begin(keys).err().unwrap();
        assert!(later > first, "{later} > {first}");
        l.clear(&key.key);
        assert!(l.begin(keys).is_ok());
    }

    #[test]
    fn attempts_in_flight_count_against_the_limit() {
        let l = Arc::new(RateLimiter::default());
        let key = LimitKey {
            key: "addr:x".to_string(),
            free: 3,
        };
        let keys = std::slice::from_ref(&key);
        let held: Vec<Attempt> = (0..3).map(|_| l.begin(keys).unwrap()).collect();
        assert!(
            l.begin(keys).is_err(),
            "a fourth attempt while three are being checked"
        );
        drop(held);
        assert!(
            l.begin(keys).is_ok(),
            "nothing failed, so nothing is locked"
        );
    }

    /// A client that hangs up while its password is checked drops the request's future; the
    /// attempt must still end, fail and count. (Over HTTP this cannot be timed reliably: a
    /// request cut short may be dropped before its handler starts, and then nothing was checked.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_ins_abandoned_while_being_checked_still_fail_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let hash = hash_password("bob-password-1").unwrap();
        store
            .write(move |t| users::create_user(t, "bob", "Bob", &hash, false))
            .await
            .unwrap();
        let auth = Auth::new(store, AuthConfig::default()).unwrap();
        let address: IpAddr = "192.0.2.7".parse().unwrap();
        let client = ClientInfo {
            address: address.to_string(),
            ..Default::default()
        };
        for _ in 0..5 {
            // The first poll hands the attempt to its own task; the timeout then drops the
            // caller's future long before argon2 is done, as a hang-up would.
            let cut = tokio::time::timeout(
                Duration::from_micros(1),
                auth.login("bob", "guess-guess", None, client.clone(), Some(address)),
            )
            .await;
            assert!(cut.is_err(), "the check outlives the caller");
        }
        let pair = format!("pair:bob|{address}");
        let settled = async {
            loop {
                let failures = auth.limiter.entries.lock().unwrap()[&pair].failures;
                if failures == 5 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), settled)
            .await
            .expect("all five abandoned attempts end as failures");
        assert!(matches!(
            auth.login("bob", "bob-password-1", None, client, Some(address))
                .await,
            Err(AuthError::RateLimited { .. })
        ));
    }

    #[test]
    fn pooled_hashes_verify_with_the_standard_verifier_and_back() {
        use argon2::password_hash::PasswordVerifier;
        let mut area = WorkArea::new();
        let ours = hash_with("correct horse", &mut area).unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        let standard = Argon2::default();
        assert!(standard.verify_password(b"correct horse", &parsed).is_ok());
        assert!(standard.verify_password(b"wrong horse", &parsed).is_err());
        let theirs = {
            use argon2::password_hash::PasswordHasher;
            let salt = SaltString::encode_b64(b"0123456789abcdef").unwrap();
            Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params())
                .hash_password(b"battery staple", &salt)
                .unwrap()
                .to_string()
        };
        // Verifying keeps the area it grew to, so the next hash allocates nothing.
        let mut fresh = WorkArea::new();
        assert!(verify_with("battery staple", &theirs, &mut fresh));
        assert_eq!(fresh.len(), argon2_params().block_count());
        assert!(verify_with("battery staple", &theirs, &mut area));
        assert!(!verify_with("battery stapler", &theirs, &mut area));
        assert!(!verify_with("x", "$argon2id$v=19$garbage", &mut area));
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
