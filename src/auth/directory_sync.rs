//! Keeping directory accounts in step with the directory: people it no longer lists are
//! disabled here (their sessions end at once), display names follow it. Run by the server
//! every `ldap.sync_interval_secs` and by `outpost ldap sync`. A directory that cannot be
//! reached, or that lists nobody at all, changes nothing: it must never lock people out.

use std::collections::HashMap;

use super::{validate_display_name, validate_username, AuthError, Result};
use crate::directory::Directory;
use crate::store::audit::{self, Entry};
use crate::store::{users, Store};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// People the directory lists.
    pub listed: usize,
    pub disabled: Vec<String>,
    pub updated: Vec<String>,
}

pub async fn sync_directory(dir: &Directory, store: &Store, actor: &str) -> Result<SyncReport> {
    let people = dir
        .people()
        .await
        .map_err(|e| AuthError::Validation(format!("nothing changed: {e}")))?;
    let ours = store.read(users::directory_accounts).await?;
    if people.is_empty() && !ours.is_empty() {
        return Err(AuthError::Validation(
            "nothing changed: the directory listed nobody, which looks like a wrong \
             ldap.user_base or ldap.user_filter rather than everyone leaving"
                .into(),
        ));
    }
    let listed: HashMap<String, String> = people
        .iter()
        .filter_map(|p| {
            let name = validate_username(&p.username).ok()?;
            let display = validate_display_name(&p.display_name, &name).ok()?;
            Some((name, display))
        })
        .collect();
    let mut report = SyncReport {
        listed: people.len(),
        ..Default::default()
    };
    for user in ours {
        let (id, name) = (user.id, user.username.clone());
        let entry = Entry {
            actor: actor.to_string(),
            target: name.clone(),
            ..Default::default()
        };
        match listed.get(&user.username) {
            None if !user.disabled => {
                store
                    .write(move |t| {
                        users::set_disabled(t, id, true)?;
                        audit::append(
                            t,
                            &Entry {
                                action: "directory-account-disabled",
                                details: "no longer listed by the directory".into(),
                                ..entry
                            },
                        )
                    })
                    .await?;
                report.disabled.push(name);
            }
            Some(display) if *display != user.display_name => {
                let display = display.clone();
                store
                    .write(move |t| {
                        users::set_display_name(t, id, &display)?;
                        audit::append(
                            t,
                            &Entry {
                                action: "directory-account-updated",
                                details: format!("display name: {display}"),
                                ..entry
                            },
                        )
                    })
                    .await?;
                report.updated.push(name);
            }
            _ => {}
        }
    }
    Ok(report)
}
