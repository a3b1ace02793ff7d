//! Keeping directory accounts in step with the directory, at each sign-in and every
//! `ldap.sync_interval_secs` (and `outpost ldap sync`): names and profile fields follow it,
//! `ldap.admin_groups` decide who administers, `ldap.channel_groups` give channel memberships,
//! people it no longer lists are disabled here (their sessions end at once) and enabled again
//! when it lists them again. Every change is audited. A directory that cannot be reached, or
//! that lists nobody at all, changes nothing: it must never lock people out.

use crate::problem::Problem;
use std::collections::{BTreeSet, HashMap};

use super::profile::{from_directory, make_avatar};
use super::{validate_display_name, validate_username, Auth, AuthError, Result};
use crate::directory::DirectoryUser;
use crate::store::audit::{self, Entry};
use crate::store::users::{self, User};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// People the directory lists.
    pub listed: usize,
    pub disabled: Vec<String>,
    /// Accounts that changed, with what changed.
    pub updated: Vec<(String, Vec<String>)>,
    /// Channels `ldap.channel_groups` names that do not exist here.
    pub missing_channels: BTreeSet<String>,
    /// Channel memberships were left alone (to the running server's own sync).
    pub channels_skipped: bool,
}

impl Auth {
    /// Brings the account of a person the directory vouched for up to date (creating it at
    /// their first sign-in when `create`): what changed, or None when the name cannot be a
    /// user name here or a local account has it.
    pub(crate) async fn apply_directory_person(
        &self,
        person: DirectoryUser,
        actor: &str,
    ) -> Result<Option<(User, Vec<String>)>> {
        self.apply_person(person, actor, true)
            .await
            .map(|o| o.map(|(u, changes, _)| (u, changes)))
    }

    async fn apply_person(
        &self,
        person: DirectoryUser,
        actor: &str,
        create: bool,
    ) -> Result<Option<(User, Vec<String>, Vec<String>)>> {
        let Some(dir) = self.directory.clone() else {
            return Ok(None);
        };
        let Ok(username) = validate_username(&person.username) else {
            tracing::warn!(dn = %person.dn, "a directory user name that is not valid here");
            return Ok(None);
        };
        let display = validate_display_name(&person.display_name, &username)
            .unwrap_or_else(|_| username.clone());
        let admin = (!dir.admin_groups().is_empty())
            .then(|| person.groups.iter().any(|g| dir.admin_groups().contains(g)));
        let actor_name = actor.to_string();
        let dn = person.dn.clone();
        let (title, department, phone) = (
            person.title.clone(),
            person.department.clone(),
            person.phone.clone(),
        );
        let written = self
            .store
            .write(move |t| {
                let before = users::user_by_name(t, &username).ok();
                if before.is_none() && !create {
                    return Ok(None);
                }
                if before.as_ref().is_some_and(|b| !b.from_directory) {
                    // A local account of that name is never taken over.
                    return Ok(None);
                }
                let mut user = users::upsert_directory_user(t, &username, &display, &dn)?;
                let mut changes = Vec::new();
                match &before {
                    None => changes.push("created".to_string()),
                    Some(b) if b.display_name != user.display_name => {
                        changes.push(format!("name: {}", user.display_name));
                    }
                    _ => {}
                }
                let profile = from_directory(
                    user.profile.clone(),
                    title.as_deref(),
                    department.as_deref(),
                    phone.as_deref(),
                );
                if profile != user.profile {
                    changes.push(format!(
                        "profile: {} / {} / {}",
                        profile.title, profile.department, profile.phone
                    ));
                    user = users::set_profile(t, user.id, &profile)?;
                }
                if user.disabled && users::disabled_by_directory(t, user.id)? {
                    user = users::set_directory_disabled(t, user.id, false)?;
                    changes.push("enabled: listed by the directory again".into());
                }
                if let Some(admin) = admin.filter(|a| *a != user.is_admin) {
                    user = users::set_admin(t, user.id, admin)?;
                    changes.push(if admin {
                        "made an administrator by a directory group".into()
                    } else {
                        "no longer an administrator: in no admin group".into()
                    });
                }
                let action = if before.is_none() {
                    "directory-account-created"
                } else {
                    "directory-account-updated"
                };
                if !changes.is_empty() {
                    audit::append(
                        t,
                        &Entry {
                            actor: actor_name,
                            action,
                            target: username.clone(),
                            details: format!("{}: {}", dn, changes.join("; ")),
                            ..Default::default()
                        },
                    )?;
                }
                Ok(Some((user, changes)))
            })
            .await?;
        let Some((mut user, mut changes)) = written else {
            return Ok(None);
        };
        if let Some(photo) = person.photo {
            match self.directory_photo(&user, photo, actor).await {
                Ok(Some(u)) => {
                    user = u;
                    changes.push("photo".into());
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(user = %user.username, error = %e, "the directory photo cannot be used")
                }
            }
        }
        let mut missing = Vec::new();
        if let Some(chat) = &self.chat {
            let wanted: BTreeSet<String> = person
                .groups
                .iter()
                .filter_map(|g| dir.channel_groups().get(g))
                .flatten()
                .cloned()
                .collect();
            // A failure here must not cost the person their sign-in: the next sync retries.
            match chat
                .set_directory_channels(user.id, wanted.into_iter().collect(), actor.to_string())
                .await
            {
                Ok(r) => {
                    changes.extend(r.added.iter().map(|c| format!("joined #{c}")));
                    changes.extend(r.removed.iter().map(|c| format!("left #{c}")));
                    missing = r.missing;
                }
                Err(e) => {
                    tracing::warn!(user = %user.username, error = %e, "directory channel memberships");
                }
            }
        }
        if !changes.is_empty() {
            self.announce(&user);
        }
        Ok(Some((user, changes, missing)))
    }

    /// Sets (or, when the entry has none, removes) the photo from the directory; None when it
    /// is unchanged.
    async fn directory_photo(
        &self,
        user: &User,
        photo: Vec<u8>,
        actor: &str,
    ) -> Result<Option<User>> {
        let id = user.id;
        let current = self
            .store
            .read(move |c| users::avatar_source(c, id))
            .await?;
        let avatar = if photo.is_empty() {
            if current.is_none() {
                return Ok(None);
            }
            None
        } else {
            use sha2::Digest;
            if current.as_deref() == Some(sha2::Sha256::digest(&photo).as_slice()) {
                return Ok(None);
            }
            Some(make_avatar(photo).await?)
        };
        let entry = Entry {
            actor: actor.to_string(),
            action: "directory-account-updated",
            target: user.username.clone(),
            details: if avatar.is_some() {
                "photo from the directory".into()
            } else {
                "photo removed: the directory has none".into()
            },
            ..Default::default()
        };
        Ok(Some(
            self.store
                .write(move |t| {
                    let u = users::set_avatar(t, id, avatar.as_ref())?;
                    audit::append(t, &entry)?;
                    Ok(u)
                })
                .await?,
        ))
    }

    /// Compares every directory account with the directory (see the module's text).
    pub async fn sync_directory(&self, actor: &str) -> Result<SyncReport> {
        let Some(dir) = self.directory.clone() else {
            return Err(AuthError::Validation(Problem::new(
                "no-directory",
                "no directory is configured",
            )));
        };
        let people = dir.people().await.map_err(|e| {
            AuthError::Validation(Problem::new(
                "directory-failed",
                format!("nothing changed: {e}"),
            ))
        })?;
        let ours = self.store.read(users::directory_accounts).await?;
        if people.is_empty() && !ours.is_empty() {
            return Err(AuthError::Validation(Problem::new(
                "directory-empty",
                "nothing changed: the directory listed nobody, which looks like a wrong \
                 ldap.user_base or ldap.user_filter rather than everyone leaving",
            )));
        }
        let mut report = SyncReport {
            listed: people.len(),
            channels_skipped: self.chat.is_none() && !dir.channel_groups().is_empty(),
            ..Default::default()
        };
        let mut listed: HashMap<String, DirectoryUser> = HashMap::new();
        for p in people {
            if let Ok(name) = validate_username(&p.username) {
                listed.insert(name, p);
            }
        }
        for user in ours {
            match listed.remove(&user.username) {
                None if !user.disabled => {
                    let (id, name) = (user.id, user.username.clone());
                    let entry = Entry {
                        actor: actor.to_string(),
                        action: "directory-account-disabled",
                        target: name.clone(),
                        details: "no longer listed by the directory".into(),
                        ..Default::default()
                    };
                    let user = self
                        .store
                        .write(move |t| {
                            let u = users::set_directory_disabled(t, id, true)?;
                            audit::append(t, &entry)?;
                            Ok(u)
                        })
                        .await?;
                    if let Some(chat) = &self.chat {
                        chat.hub().disconnect_user(id);
                    }
                    self.announce(&user);
                    report.disabled.push(name);
                }
                None => {}
                Some(person) => {
                    if let Some((_, changes, missing)) =
                        self.apply_person(person, actor, false).await?
                    {
                        report.missing_channels.extend(missing);
                        if !changes.is_empty() {
                            report.updated.push((user.username, changes));
                        }
                    }
                }
            }
        }
        Ok(report)
    }
}
