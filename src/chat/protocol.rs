//! The wire shapes of chat objects and events, shared by the HTTP API, the WebSocket and the
//! event log (events are stored already serialized, so replay sends them byte for byte).

use serde::Serialize;
use utoipa::ToSchema;

use crate::store::chat::{Channel, ChannelSummary, Message, Reaction};
use crate::store::files::FileRow;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReactionView {
    pub emoji: String,
    pub count: usize,
    pub user_ids: Vec<i64>,
}

impl From<Reaction> for ReactionView {
    fn from(r: Reaction) -> Self {
        ReactionView {
            emoji: r.emoji,
            count: r.user_ids.len(),
            user_ids: r.user_ids,
        }
    }
}

/// A custom status. `expires_at` in milliseconds since the Unix epoch (null: until cleared).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusView {
    pub emoji: String,
    pub text: String,
    pub expires_at: Option<i64>,
}

impl From<crate::store::users::Status> for StatusView {
    fn from(s: crate::store::users::Status) -> Self {
        StatusView {
            emoji: s.emoji,
            text: s.text,
            expires_at: s.expires_at,
        }
    }
}

/// A person as everyone signed in sees them (the people directory, `user.updated` frames).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// "online", "away" or "offline".
    pub presence: crate::hub::Presence,
    /// A bot account (acts through API tokens).
    pub is_bot: bool,
    /// A disabled account: still shown on their messages, but cannot be messaged.
    pub deactivated: bool,
    pub title: String,
    pub department: String,
    pub phone: String,
    pub about: String,
    /// The small profile photo (`&size=large` for the large one); null when there is none.
    pub photo_url: Option<String>,
    pub status: Option<StatusView>,
    /// The IANA time zone the person chose, for showing their local time; empty if none.
    pub time_zone: String,
    /// A person of a linked site: that site's name, shown as "anna · HQ".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

/// Where a user's profile photo is served; the version makes every change a new address.
pub fn photo_url(user_id: i64, version: i64) -> Option<String> {
    (version != 0).then(|| format!("/api/v1/users/{user_id}/photo?v={version}"))
}

impl PersonView {
    pub fn new(u: crate::store::users::User, presence: crate::hub::Presence) -> Self {
        PersonView {
            presence: if u.disabled {
                crate::hub::Presence::Offline
            } else {
                presence
            },
            photo_url: photo_url(u.id, u.avatar_version),
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            is_bot: u.is_bot,
            deactivated: u.disabled,
            title: u.profile.title,
            department: u.profile.department,
            phone: u.profile.phone,
            about: u.profile.about,
            status: u.status.map(Into::into),
            time_zone: u.time_zone,
            site: u.site,
        }
    }
}

/// A message. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub channel_id: i64,
    /// Position in the channel; defines the order.
    pub seq: i64,
    pub author_id: Option<i64>,
    pub client_id: Option<String>,
    /// "text", or "system" for membership notices.
    pub kind: String,
    /// Markdown subset; empty for a deleted message.
    pub body: String,
    pub thread_root: Option<i64>,
    pub reply_count: i64,
    pub last_reply_at: Option<i64>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub edited: bool,
    pub deleted: bool,
    pub pinned: bool,
    pub reactions: Vec<ReactionView>,
    /// Attachments, in the order the sender gave them.
    pub files: Vec<FileView>,
    /// Set on a message an outside system posted through an incoming webhook (`author_id` is
    /// then null): the name to show, which the poster may choose, marked as not a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// The webhook that posted it, while it still exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<i64>,
    /// The message of this conversation it answers, as that message is now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<QuoteView>,
    /// Where a forwarded message came from, as it was when forwarded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwarded: Option<ForwardView>,
    /// A thread reply also shown in the channel.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub also_in_channel: bool,
    /// The order every linked site agrees on (a hybrid logical clock): messages sort by it.
    pub sort_key: i64,
    /// Came from a linked site after messages that sort after it were already here (a link
    /// was down): shown in its place, marked so readers notice it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
}

/// A compact preview of a quoted message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QuoteView {
    pub id: i64,
    pub author_id: Option<i64>,
    pub sender_name: Option<String>,
    /// The start of its text; empty once it is deleted.
    pub excerpt: String,
    pub deleted: bool,
    pub has_files: bool,
}

/// The origin of a forwarded message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForwardView {
    /// The original (opening it works only for those who may read it); null once it is gone.
    pub message_id: Option<i64>,
    pub channel_id: i64,
    pub author_id: Option<i64>,
    pub author_name: String,
    /// When the original was sent (ms since the Unix epoch).
    pub created_at: i64,
}

/// A file attached to a message. URLs are relative to the server; every one checks that the
/// reader is a member of the channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub id: String,
    pub name: String,
    pub size: i64,
    /// Sniffed from the content, not taken from the client.
    pub mime: String,
    /// "image", "video", "audio" or "file".
    pub kind: String,
    /// Pixels, after the photo's orientation is applied; for video as the sender measured.
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub duration_ms: Option<i64>,
    /// A recording's loudness over time (0-255 each), for its waveform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waveform: Option<Vec<u8>>,
    /// Recorded as a voice message.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub voice: bool,
    pub url: String,
    pub thumb_url: Option<String>,
    pub preview_url: Option<String>,
    pub poster_url: Option<String>,
}

impl From<FileRow> for FileView {
    fn from(f: FileRow) -> Self {
        let url = format!("/api/v1/files/{}", f.id);
        FileView {
            thumb_url: f.thumb_sha.as_ref().map(|_| format!("{url}/thumb")),
            preview_url: f.preview_sha.as_ref().map(|_| format!("{url}/preview")),
            poster_url: f.poster_sha.as_ref().map(|_| format!("{url}/poster")),
            url,
            id: f.id,
            name: f.name,
            size: f.size,
            mime: f.mime,
            kind: f.kind,
            width: f.width,
            height: f.height,
            duration_ms: f.duration_ms,
            waveform: f.waveform,
            voice: f.voice,
        }
    }
}

impl From<Message> for MessageView {
    fn from(m: Message) -> Self {
        MessageView {
            quote: m.quote.map(|q| QuoteView {
                id: q.id,
                author_id: q.author_id,
                sender_name: q.sender_name,
                excerpt: q.excerpt,
                deleted: q.deleted,
                has_files: q.has_files,
            }),
            forwarded: m.forward.map(|f| ForwardView {
                message_id: f.message_id,
                channel_id: f.channel_id,
                author_id: f.author_id,
                author_name: f.author_name,
                created_at: f.created_at,
            }),
            also_in_channel: m.also_in_channel,
            sort_key: m.sort_key,
            late: m.late,
            edited: m.edited_at.is_some() && !m.deleted,
            pinned: m.pinned_at.is_some(),
            id: m.id,
            channel_id: m.channel_id,
            seq: m.seq,
            author_id: m.author_id,
            client_id: m.client_id,
            kind: m.kind,
            body: m.body,
            thread_root: m.thread_root,
            reply_count: m.reply_count,
            last_reply_at: m.last_reply_at,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: m.deleted,
            reactions: m.reactions.into_iter().map(Into::into).collect(),
            files: m.files.into_iter().map(Into::into).collect(),
            sender_name: m.sender_name,
            webhook_id: m.webhook_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelInfo {
    pub id: i64,
    /// "public", "private", "dm" or "group".
    pub kind: String,
    pub name: Option<String>,
    pub topic: String,
    pub archived: bool,
    pub last_seq: i64,
    pub created_at: i64,
    /// Who may notify everyone with @channel, @here or @all: "everyone" or "owners".
    pub mass_mentions: String,
}

impl From<&Channel> for ChannelInfo {
    fn from(c: &Channel) -> Self {
        ChannelInfo {
            id: c.id,
            kind: c.kind.as_str().to_string(),
            name: c.name.clone(),
            topic: c.topic.clone(),
            archived: c.archived,
            last_seq: c.last_seq,
            created_at: c.created_at,
            mass_mentions: c.mass_mentions.clone(),
        }
    }
}

/// A channel as the requesting member sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelView {
    #[serde(flatten)]
    pub info: ChannelInfo,
    /// "owner" or "member".
    pub role: String,
    pub last_read_seq: i64,
    pub unread: i64,
    pub mentions: i64,
    /// Members of direct conversations (empty for channels).
    pub member_ids: Vec<i64>,
    /// This member's notifications here: "all", "mentions" or "none".
    pub notify: String,
    /// Muted until this time (ms since the Unix epoch); null: not muted.
    pub muted_until: Option<i64>,
}

impl From<ChannelSummary> for ChannelView {
    fn from(s: ChannelSummary) -> Self {
        ChannelView {
            info: ChannelInfo::from(&s.channel),
            role: s.role,
            last_read_seq: s.last_read_seq,
            unread: s.unread,
            mentions: s.mentions,
            member_ids: s.member_ids,
            notify: s.notify,
            muted_until: s.muted_until,
        }
    }
}

/// Durable events, logged and replayed on resume.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind")]
pub enum Event {
    #[serde(rename = "message.new")]
    MessageNew { message: MessageView },
    /// Edits, deletions (tombstones), reactions, pins and thread reply counts.
    #[serde(rename = "message.updated")]
    MessageUpdated { message: MessageView },
    /// The user's read position moved (sent to all of that user's sessions).
    #[serde(rename = "read")]
    Read { channel_id: i64, seq: i64 },
    /// Someone in a direct conversation read up to `seq` (sent to its members; `read_at` in
    /// milliseconds since the Unix epoch). Not sent for people who turned read receipts off.
    #[serde(rename = "receipt")]
    Receipt {
        channel_id: i64,
        user_id: i64,
        seq: i64,
        read_at: i64,
    },
    #[serde(rename = "member.joined")]
    MemberJoined {
        channel_id: i64,
        user_id: i64,
        channel: ChannelInfo,
    },
    #[serde(rename = "member.left")]
    MemberLeft { channel_id: i64, user_id: i64 },
    #[serde(rename = "channel.updated")]
    ChannelUpdated { channel: ChannelInfo },
}

impl Event {
    pub fn to_json(&self) -> String {
        // Serializing these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

/// The text frame that carries a logged event.
pub fn event_frame(pos: i64, payload: &str) -> String {
    format!(r#"{{"type":"event","pos":{pos},"event":{payload}}}"#)
}
