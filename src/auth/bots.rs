//! Bot accounts and their API tokens: created by administrators, shown once, scoped, revoked
//! at once. A token authenticates like a session (`Authorization: Bearer`) for the REST API
//! and the WebSocket; its scopes narrow what the bot may do:
//! `read` (reading, and the live connection), `write` (also posting, reacting, editing its
//! own messages, joining), `admin` (administration, if the bot account is an administrator).

use super::{validate_display_name, validate_username, Auth, AuthError, Result};
use crate::problem::Problem;
use crate::store::audit::{self, Entry};
use crate::store::tokens::{self as t, ApiToken};
use crate::store::{users, StoreError, User};

/// What a token may do. Sessions of people are unrestricted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes {
    pub read: bool,
    pub write: bool,
    pub admin: bool,
}

impl Scopes {
    pub fn parse(list: &[String]) -> Result<Scopes> {
        let mut s = Scopes::default();
        for item in list {
            match item.as_str() {
                "read" => s.read = true,
                "write" => s.write = true,
                "admin" => s.admin = true,
                other => {
                    return Err(AuthError::Validation(
                        Problem::new(
                            "unknown-scope",
                            format!("unknown scope {other:?}: use read, write or admin"),
                        )
                        .field("scopes"),
                    ))
                }
            }
        }
        if s == Scopes::default() {
            return Err(AuthError::Validation(
                Problem::new("no-scope", "a token needs at least one scope").field("scopes"),
            ));
        }
        // Writing and administering need reading.
        s.read = true;
        Ok(s)
    }

    fn from_stored(text: &str) -> Scopes {
        let list: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        Scopes::parse(&list).unwrap_or_default()
    }

    pub fn names(self) -> Vec<String> {
        [
            ("read", self.read),
            ("write", self.write),
            ("admin", self.admin),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| n.to_string())
        .collect()
    }
}

impl ApiToken {
    pub fn scopes(&self) -> Scopes {
        Scopes::from_stored(&self.scopes)
    }
}

impl Auth {
    pub async fn create_bot(
        &self,
        admin: &User,
        username: &str,
        display_name: &str,
        address: &str,
    ) -> Result<User> {
        let username = validate_username(username)?;
        let display = validate_display_name(display_name, &username)?;
        let entry = Entry {
            actor_id: Some(admin.id),
            actor: admin.username.clone(),
            action: "bot-created",
            target: username.clone(),
            address: address.into(),
            ..Default::default()
        };
        Ok(self
            .store
            .write(move |c| {
                let bot = t::create_bot(c, &username, &display)?;
                audit::append(c, &entry)?;
                Ok(bot)
            })
            .await?)
    }

    /// Bot accounts with their tokens (never the secrets).
    pub async fn bots(&self) -> Result<Vec<(User, Vec<ApiToken>)>> {
        Ok(self
            .store
            .read(|c| {
                t::bots(c)?
                    .into_iter()
                    .map(|b| {
                        let tokens = t::for_user(c, b.id)?;
                        Ok((b, tokens))
                    })
                    .collect()
            })
            .await?)
    }

    /// A new token for a bot account; the secret is returned this once.
    pub async fn create_token(
        &self,
        admin: &User,
        bot_id: i64,
        name: &str,
        scopes: Scopes,
        address: &str,
    ) -> Result<(ApiToken, String)> {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(AuthError::Validation(
                Problem::new(
                    "bad-length",
                    "a token's name is 1 to 64 characters, without control characters",
                )
                .field("name")
                .param("max", 64),
            ));
        }
        let secret = format!("otb_{}", super::new_token(32));
        let hash = super::token_hash(&secret);
        let stored = scopes.names().join(" ");
        let mut entry = Entry {
            actor_id: Some(admin.id),
            actor: admin.username.clone(),
            action: "api-token-created",
            details: format!("{name} ({stored})"),
            address: address.into(),
            ..Default::default()
        };
        let admin_id = admin.id;
        let token = self
            .store
            .write(move |c| {
                let bot = users::user_by_id(c, bot_id)?;
                if !bot.is_bot {
                    return Err(StoreError::NotFound);
                }
                let token = t::create(c, bot_id, &name, &hash, &stored, admin_id)?;
                entry.target = bot.username;
                audit::append(c, &entry)?;
                Ok(token)
            })
            .await?;
        Ok((token, secret))
    }

    /// Revokes a token at once (its live connections end within the revocation poll).
    pub async fn revoke_token(&self, admin: &User, token_id: i64, address: &str) -> Result<()> {
        let mut entry = Entry {
            actor_id: Some(admin.id),
            actor: admin.username.clone(),
            action: "api-token-revoked",
            address: address.into(),
            ..Default::default()
        };
        self.store
            .write(move |c| {
                let token = t::by_id(c, token_id)?.ok_or(StoreError::NotFound)?;
                let bot = users::user_by_id(c, token.user_id)?;
                t::delete(c, token_id)?;
                entry.target = bot.username;
                entry.details = token.name;
                audit::append(c, &entry)
            })
            .await?;
        Ok(())
    }
}
