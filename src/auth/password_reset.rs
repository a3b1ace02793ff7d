//! Password reset links: an administrator makes a one-time link for someone who forgot their
//! password and hands it over (in person, by phone); the person opens it and chooses a new
//! password. No password is ever shown to anyone but the one who types it.

use crate::problem::Problem;
use std::time::Duration;

use super::{new_token, token_hash, validate_password, Auth, AuthError, Result};
use crate::store::audit::{self, Entry};
use crate::store::users::{self, User};
use crate::store::{now_ms, Conflict, StoreError};

/// How long a reset link works.
pub const RESET_TTL: Duration = Duration::from_secs(24 * 3600);

impl Auth {
    /// A one-time link for `target_id` (administrators); earlier unused links for them stop
    /// working. Returns the token and when it expires.
    pub async fn create_password_reset(
        &self,
        admin: &User,
        target_id: i64,
    ) -> Result<(String, i64)> {
        let target = self
            .store
            .read(move |c| users::user_by_id(c, target_id))
            .await?;
        if target.is_bot || target.from_directory {
            return Err(AuthError::Validation(Problem::new(
                "no-local-password",
                format!("{} has no password here to reset", target.username),
            )));
        }
        let token = new_token(32);
        let hash = token_hash(&token);
        let expires = now_ms() + RESET_TTL.as_millis() as i64;
        let admin_id = admin.id;
        let entry = Entry {
            actor_id: Some(admin.id),
            actor: admin.username.clone(),
            action: "password-reset-link-created",
            target: target.username.clone(),
            details: "valid for 24 hours".into(),
            ..Default::default()
        };
        self.store
            .write(move |t| {
                users::create_password_reset(t, &hash, target_id, admin_id, expires)?;
                audit::append(t, &entry)
            })
            .await?;
        Ok((token, expires))
    }

    /// Whom a reset link is for, if it still works.
    pub async fn check_password_reset(&self, token: &str) -> Result<User> {
        let hash = token_hash(token);
        self.store
            .read(move |c| match users::password_reset_user(c, &hash)? {
                Some(id) => users::user_by_id(c, id).map(Some),
                None => Ok(None),
            })
            .await?
            .ok_or(AuthError::InvalidToken)
    }

    /// Sets a new password with a reset link, once; every session of the account ends.
    pub async fn use_password_reset(&self, token: &str, password: &str) -> Result<User> {
        let user = self.check_password_reset(token).await?;
        validate_password(password)?;
        let hash = self.hasher.hash(password.to_string()).await?;
        let link = token_hash(token);
        let (id, entry) = (
            user.id,
            Entry {
                actor_id: Some(user.id),
                actor: user.username.clone(),
                action: "password-reset-used",
                target: user.username.clone(),
                ..Default::default()
            },
        );
        self.store
            .write(move |t| {
                if !users::consume_password_reset(t, &link)? {
                    return Err(StoreError::Conflict(Conflict::ResetUsed));
                }
                users::set_password(t, id, &hash, None)?;
                audit::append(t, &entry)?;
                users::user_by_id(t, id)
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict(Conflict::ResetUsed) => AuthError::InvalidToken,
                other => AuthError::Store(other),
            })
    }

    /// Ends every session of a user (administrators); their live connections close.
    pub async fn end_sessions(&self, admin: &User, target_id: i64) -> Result<usize> {
        let entry = Entry {
            actor_id: Some(admin.id),
            actor: admin.username.clone(),
            action: "sessions-ended",
            ..Default::default()
        };
        Ok(self
            .store
            .write(move |t| {
                let user = users::user_by_id(t, target_id)?;
                let n = users::delete_sessions(t, target_id)?;
                audit::append(
                    t,
                    &Entry {
                        target: user.username,
                        details: format!("{n} session(s)"),
                        ..entry
                    },
                )?;
                Ok(n)
            })
            .await?)
    }

    /// Makes someone an administrator or not (administrators). Nobody demotes themselves (a
    /// site must keep an administrator), and the directory's `admin_groups` decide for its
    /// accounts.
    pub async fn set_admin(&self, admin: &User, target_id: i64, is_admin: bool) -> Result<User> {
        if admin.id == target_id && !is_admin {
            return Err(AuthError::Validation(Problem::new(
                "own-admin-role",
                "you cannot remove your own administrator role",
            )));
        }
        let target = self
            .store
            .read(move |c| users::user_by_id(c, target_id))
            .await?;
        let directory_decides = self
            .directory
            .as_ref()
            .is_some_and(|d| !d.admin_groups().is_empty());
        if target.from_directory && directory_decides {
            return Err(AuthError::ManagedByDirectory("administrator role"));
        }
        let entry = Entry {
            actor_id: Some(admin.id),
            actor: admin.username.clone(),
            action: if is_admin {
                "admin-granted"
            } else {
                "admin-revoked"
            },
            target: target.username.clone(),
            ..Default::default()
        };
        let user = self
            .store
            .write(move |t| {
                let u = users::set_admin(t, target_id, is_admin)?;
                audit::append(t, &entry)?;
                Ok(u)
            })
            .await?;
        Ok(user)
    }
}
