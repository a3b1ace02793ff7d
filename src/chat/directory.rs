//! Channel memberships the agency directory's groups give (`ldap.channel_groups`). Only the
//! memberships the directory gave are ever taken away by it: someone who joined a channel
//! themselves stays when their group stops mapping to it.

use super::{Chat, ChatError, Result};
use crate::store::audit::{self, Entry};
use crate::store::chat as q;
use crate::store::users;

/// What one person's directory channels came to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ChannelSync {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Channels the mapping names that do not exist here (or are direct or archived).
    pub missing: Vec<String>,
}

impl Chat {
    /// Makes `user_id` a member of exactly the `wanted` channels among those the directory
    /// manages for them: joins the ones they are not in (live, like any join) and leaves the
    /// ones the directory gave earlier and no longer wants.
    pub async fn set_directory_channels(
        &self,
        user_id: i64,
        wanted: Vec<String>,
        actor: String,
    ) -> Result<ChannelSync> {
        self.commit(move |c, log| {
            let user = users::user_by_id(c, user_id)?;
            let mut out = ChannelSync::default();
            let mut wanted_ids = Vec::new();
            for name in &wanted {
                let ch = match q::channel_by_name(c, name)? {
                    Some(ch) if !ch.kind.is_direct() && !ch.archived => ch,
                    _ => {
                        out.missing.push(name.clone());
                        continue;
                    }
                };
                wanted_ids.push(ch.id);
                if user.disabled || q::membership(c, ch.id, user_id)?.is_some() {
                    continue;
                }
                q::add_member(c, ch.id, user_id, "member")?;
                users::set_directory_channel(c, ch.id, user_id, true)?;
                log.joined(c, &ch, user_id)?;
                audit::append(
                    c,
                    &Entry {
                        actor: actor.clone(),
                        action: "directory-member-added",
                        target: format!("#{name}"),
                        details: user.username.clone(),
                        ..Default::default()
                    },
                )?;
                out.added.push(name.clone());
            }
            for channel_id in users::directory_channels(c, user_id)? {
                if wanted_ids.contains(&channel_id) {
                    continue;
                }
                users::set_directory_channel(c, channel_id, user_id, false)?;
                let ch = q::channel(c, channel_id)?;
                if q::remove_member(c, channel_id, user_id)? {
                    log.left(c, channel_id, user_id)?;
                    let name = ch.name.clone().unwrap_or_default();
                    audit::append(
                        c,
                        &Entry {
                            actor: actor.clone(),
                            action: "directory-member-removed",
                            target: format!("#{name}"),
                            details: user.username.clone(),
                            ..Default::default()
                        },
                    )?;
                    out.removed.push(name);
                }
            }
            Ok(out)
        })
        .await
        .map_err(|e| match e {
            ChatError::Store(crate::store::StoreError::NotFound) => ChatError::NotFound,
            other => other,
        })
    }
}
