//! What people do with a message besides answering it, as in Telegram: forward it elsewhere,
//! save it for later, see how it was edited, open it from a link.

use super::protocol::MessageView;
use super::{live_message_of_member, require_member, Actor, Chat, ChatError, Result};
use crate::problem::Problem;
use crate::store::chat::{self as q, Forward, NewMessage};
use crate::store::files;
use crate::store::users;

/// Saved messages listed at once, at most.
const SAVED_LIMIT: i64 = 500;

impl Chat {
    /// One message, for a member of its conversation (a link to it, a forward's original).
    pub async fn message(&self, user_id: i64, message_id: i64) -> Result<MessageView> {
        self.read(move |c| Ok(live_message_of_member(c, message_id, user_id)?.into()))
            .await
    }

    /// Forwards a message the actor may read to a conversation they belong to, with its files
    /// and an optional comment of their own before it. The copy names where it came from as it
    /// was then; following that link works only for those who may read the original.
    pub async fn forward(
        &self,
        actor: Actor,
        message_id: i64,
        to_channel: i64,
        comment: String,
    ) -> Result<MessageView> {
        if comment.len() > self.limits.max_message_bytes {
            return Err(ChatError::TooLarge(self.limits.max_message_bytes));
        }
        self.limiter.take(
            actor.id,
            self.limits.messages_per_second,
            self.limits.message_burst,
        )?;
        let comment = comment.trim().to_string();
        let view = self
            .commit(move |c, log| {
                let original = live_message_of_member(c, message_id, actor.id)?;
                if original.kind != "text" {
                    return Err(ChatError::Invalid(Problem::new(
                        "not-forwardable",
                        "only messages can be forwarded",
                    )));
                }
                let target = super::channel_or_not_found(c, to_channel)?;
                require_member(c, to_channel, actor.id)?;
                if target.archived {
                    return Err(ChatError::Archived);
                }
                // A forward of a forward names the first author, as Telegram does.
                let forward = match &original.forward {
                    Some(f) => f.clone(),
                    None => Forward {
                        message_id: Some(original.id),
                        channel_id: original.channel_id,
                        author_id: original.author_id,
                        author_name: match (&original.sender_name, original.author_id) {
                            (Some(n), _) => n.clone(),
                            (None, Some(a)) => users::user_by_id(c, a)
                                .map(|u| u.display_name)
                                .unwrap_or_default(),
                            (None, None) => String::new(),
                        },
                        created_at: original.created_at,
                    },
                };
                if !comment.is_empty() {
                    let note = q::insert_message(
                        c,
                        &NewMessage {
                            channel_id: to_channel,
                            author_id: Some(actor.id),
                            kind: "text",
                            body: &comment,
                            ..Default::default()
                        },
                    )?;
                    log.message_new(c, note.into())?;
                }
                let copy = q::insert_message(
                    c,
                    &NewMessage {
                        channel_id: to_channel,
                        author_id: Some(actor.id),
                        kind: "text",
                        body: &original.body,
                        forward: Some(&forward),
                        ..Default::default()
                    },
                )?;
                for f in &original.files {
                    let id = crate::media::random_id().map_err(|e| {
                        ChatError::Invalid(Problem::new("random-failed", format!("a file id: {e}")))
                    })?;
                    files::copy_to(c, &f.id, &id, copy.id)?;
                }
                let view = MessageView::from(q::message(c, copy.id)?);
                log.message_new(c, view.clone())?;
                Ok(view)
            })
            .await?;
        self.metrics.message_stored();
        Ok(view)
    }

    /// Saves a message the user may read to their personal list, or takes it off.
    pub async fn set_saved(&self, user_id: i64, message_id: i64, saved: bool) -> Result<()> {
        self.commit(move |c, _log| {
            if saved {
                live_message_of_member(c, message_id, user_id)?;
            }
            Ok(q::set_saved(c, user_id, message_id, saved)?)
        })
        .await
    }

    /// The user's saved messages they may still read, newest saved first, with when.
    pub async fn saved(&self, user_id: i64) -> Result<Vec<(MessageView, i64)>> {
        self.read(move |c| {
            Ok(q::saved(c, user_id, SAVED_LIMIT)?
                .into_iter()
                .map(|(m, at)| (m.into(), at))
                .collect())
        })
        .await
    }

    /// How a message read before each edit, oldest first (members of its conversation).
    pub async fn edits(&self, user_id: i64, message_id: i64) -> Result<Vec<(String, i64)>> {
        self.read(move |c| {
            live_message_of_member(c, message_id, user_id)?;
            Ok(q::edits(c, message_id)?)
        })
        .await
    }
}
