//! Incoming webhooks: a channel's owners (or an administrator) create one and hand its secret
//! URL to a system on the LAN (monitoring, a duty roster, an alarm); what that system posts
//! appears in the channel under the webhook's name, marked as not a person. The URL is the
//! only credential, shown once, stored as SHA-256; deleting the webhook revokes it at once.

use crate::problem::Problem;
use std::future::Future;

use super::protocol::MessageView;
use super::{
    audit_channel, channel_label, channel_or_not_found, mention_targets, require_manager, Actor,
    Chat, ChatError, Result,
};
use crate::store::chat::{self as q, NewMessage};
use crate::store::webhooks::{self as w, Webhook};
use crate::store::StoreError;

/// Sustained posts per second per webhook, and how many may come at once: enough for a burst
/// of alerts, not enough for a runaway script to bury a channel.
const POSTS_PER_SECOND: f64 = 5.0;
const POST_BURST: f64 = 30.0;

/// A webhook's name (also the default sender name): a display name's rules.
pub(super) fn valid_name(name: &str, what: &'static str, field: &'static str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ChatError::Invalid(
            Problem::new(
                "bad-length",
                format!("{what} must be 1 to 64 characters, without control characters"),
            )
            .field(field)
            .param("max", 64),
        ));
    }
    crate::text::check_name(what, name, true).map_err(|e| ChatError::Invalid(e.problem(field)))?;
    Ok(name.to_string())
}

impl Chat {
    /// Creates a webhook for a channel; returns it with its secret token (shown once).
    pub fn create_webhook(
        &self,
        actor: Actor,
        channel_id: i64,
        name: &str,
    ) -> impl Future<Output = Result<(Webhook, String)>> + Send + 'static {
        let token = crate::auth::new_token(32);
        let hash = crate::auth::token_hash(&token);
        let work = valid_name(name, "a webhook's name", "name").map(|name| {
            self.commit(move |c, _| {
                let ch = channel_or_not_found(c, channel_id)?;
                if ch.kind.is_direct() {
                    return Err(ChatError::Invalid(Problem::new(
                        "not-in-direct",
                        "webhooks post into channels, not direct conversations",
                    )));
                }
                require_manager(c, &ch, actor)?;
                let hook = w::create(c, channel_id, &name, &hash, actor.id)?;
                audit_channel(c, actor, "webhook-created", channel_label(&ch), name)?;
                Ok(hook)
            })
        });
        async move { Ok((work?.await?, token)) }
    }

    /// A channel's webhooks (never their tokens), for its owners and administrators.
    pub async fn webhooks(&self, actor: Actor, channel_id: i64) -> Result<Vec<Webhook>> {
        self.read(move |c| {
            let ch = channel_or_not_found(c, channel_id)?;
            require_manager(c, &ch, actor)?;
            Ok(w::for_channel(c, channel_id)?)
        })
        .await
    }

    /// Deletes a webhook: its URL stops working at once; what it posted stays, under its name.
    pub async fn delete_webhook(&self, actor: Actor, webhook_id: i64) -> Result<()> {
        self.commit(move |c, _| {
            let hook = w::by_id(c, webhook_id)?.ok_or(ChatError::NotFound)?;
            let ch = channel_or_not_found(c, hook.channel_id)?;
            require_manager(c, &ch, actor)?;
            w::delete(c, webhook_id)?;
            audit_channel(c, actor, "webhook-deleted", channel_label(&ch), hook.name)?;
            Ok(())
        })
        .await
    }

    /// Posts what a system sent to a webhook's URL. An unknown token is "not found", like a
    /// URL that never existed.
    pub fn post_from_webhook(
        &self,
        token: &str,
        text: String,
        sender: Option<String>,
    ) -> impl Future<Output = Result<MessageView>> + Send + 'static {
        let hash = crate::auth::token_hash(token);
        let checked = (|| {
            if text.trim().is_empty() {
                return Err(ChatError::Invalid(
                    Problem::new("empty-message", "text cannot be empty").field("text"),
                ));
            }
            if text.len() > self.limits.max_message_bytes {
                return Err(ChatError::TooLarge(self.limits.max_message_bytes));
            }
            sender
                .as_deref()
                .map(|s| valid_name(s, "display_name", "display_name"))
                .transpose()
        })();
        let this = self.clone();
        async move {
            let sender = checked?;
            let hook = this
                .read(move |c| Ok(w::by_token_hash(c, &hash)?))
                .await?
                .ok_or(ChatError::NotFound)?;
            this.webhook_limiter
                .take(hook.id, POSTS_PER_SECOND, POST_BURST)?;
            let view = this
                .commit(move |c, log| {
                    // Deleted in the meantime: the URL is dead.
                    if w::by_id(c, hook.id)?.is_none() {
                        return Err(ChatError::NotFound);
                    }
                    let ch = channel_or_not_found(c, hook.channel_id)?;
                    if ch.archived {
                        return Err(ChatError::Archived);
                    }
                    let mut msg = q::insert_message(
                        c,
                        &NewMessage {
                            channel_id: ch.id,
                            author_id: None,
                            client_id: None,
                            kind: "text",
                            body: &text,
                            thread_root: None,
                            ..Default::default()
                        },
                    )?;
                    let name = sender.unwrap_or(hook.name);
                    q::set_webhook_sender(c, &mut msg, hook.id, &name)?;
                    // @channel in an alert reaches everyone, as from a person.
                    let mentioned = mention_targets(c, ch.id, 0, &text, true, &[])?;
                    q::add_mentions(c, msg.id, &mentioned)?;
                    w::touch(c, hook.id)?;
                    let view = MessageView::from(msg);
                    log.message_new(c, view.clone())?;
                    Ok(view)
                })
                .await
                .map_err(|e| match e {
                    ChatError::Store(StoreError::NotFound) => ChatError::NotFound,
                    other => other,
                })?;
            this.metrics.message_stored();
            Ok(view)
        }
    }
}
