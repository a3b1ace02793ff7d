//! People as chat shows them and how they want to be reached: custom status, preferences
//! (time zone, do-not-disturb, keywords, read receipts, language), each conversation's
//! notification level and mute, and the `user.updated` frame that tells everyone connected
//! that someone's name, photo or status changed.

use crate::problem::Problem;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::{require_member, Chat, ChatError, Result};
use crate::chat::protocol::PersonView;
use crate::hub::Frame;
use crate::store::chat as q;
use crate::store::now_ms;
use crate::store::users::{self, Preferences, Status, User};

/// Words people asked to be notified of, by user, kept in memory so a send costs no lookup.
#[derive(Default, Clone)]
pub struct Keywords(Arc<RwLock<HashMap<i64, Vec<String>>>>);

impl Keywords {
    fn set(&self, all: Vec<(i64, Vec<String>)>) {
        if let Ok(mut map) = self.0.write() {
            *map = all.into_iter().collect();
        }
    }

    /// People (other than `author`) with a keyword in `body`, as a whole word or phrase, in
    /// any case.
    pub(super) fn matching(&self, body: &str, author: i64) -> Vec<i64> {
        let Ok(map) = self.0.read() else {
            return Vec::new();
        };
        if map.is_empty() {
            return Vec::new();
        }
        let text = format!(" {} ", normalize(body));
        map.iter()
            .filter(|(user, words)| {
                **user != author && words.iter().any(|w| text.contains(&format!(" {w} ")))
            })
            .map(|(user, _)| *user)
            .collect()
    }
}

/// Lower case, every run of non-alphanumeric characters one space: "Convoy, ALERT!" → "convoy
/// alert".
fn normalize(s: &str) -> String {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long a custom status lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClearAfter {
    #[serde(rename = "30m")]
    HalfHour,
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "4h")]
    FourHours,
    /// The end of today in the person's time zone.
    Today,
    /// The end of this week (Sunday) in the person's time zone.
    Week,
    Never,
}

/// A time zone by IANA name, or None for an unknown one.
fn zone(name: &str) -> Option<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name).ok()
}

fn expiry(after: ClearAfter, time_zone: &str, now_ms: i64) -> Result<Option<i64>> {
    let mins = |m: i64| Ok(Some(now_ms + m * 60_000));
    match after {
        ClearAfter::Never => Ok(None),
        ClearAfter::HalfHour => mins(30),
        ClearAfter::Hour => mins(60),
        ClearAfter::FourHours => mins(240),
        ClearAfter::Today | ClearAfter::Week => {
            let tz = zone(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            let bad =
                |e: jiff::Error| ChatError::Invalid(Problem::new("bad-time", format!("time: {e}")));
            let now = jiff::Timestamp::from_millisecond(now_ms)
                .map_err(bad)?
                .to_zoned(tz);
            let days = if after == ClearAfter::Today {
                1
            } else {
                // Until the start of next Monday.
                8 - i64::from(now.weekday().to_monday_one_offset())
            };
            let end = now
                .start_of_day()
                .map_err(bad)?
                .checked_add(jiff::Span::new().days(days))
                .map_err(bad)?;
            Ok(Some(end.timestamp().as_millisecond()))
        }
    }
}

/// "HH:MM" on a 24-hour clock.
fn valid_clock(s: &str) -> bool {
    let Some((h, m)) = s.split_once(':') else {
        return false;
    };
    h.len() == 2
        && m.len() == 2
        && h.parse::<u8>().is_ok_and(|h| h < 24)
        && m.parse::<u8>().is_ok_and(|m| m < 60)
}

/// A change to someone's preferences: only the fields given change.
#[derive(Debug, Clone, Default)]
pub struct PreferencesChange {
    pub time_zone: Option<String>,
    /// Some(None) ends do-not-disturb now.
    pub dnd_until: Option<Option<i64>>,
    /// Some(None) removes the daily quiet time.
    pub dnd_schedule: Option<Option<(String, String)>>,
    pub keywords: Option<Vec<String>>,
    pub read_receipts: Option<bool>,
    pub language: Option<String>,
}

const MAX_KEYWORDS: usize = 20;
const MAX_STATUS_CHARS: usize = 100;
/// Do-not-disturb "for a while" is at most this long.
const MAX_DND_MS: i64 = 7 * 24 * 3600 * 1000;

fn apply(mut p: Preferences, ch: PreferencesChange, now: i64) -> Result<Preferences> {
    if let Some(tz) = ch.time_zone {
        let tz = tz.trim().to_string();
        if !tz.is_empty() && zone(&tz).is_none() {
            return Err(ChatError::Invalid(
                Problem::new(
                    "bad-time-zone",
                    format!("{tz:?} is not a time zone (use a name such as Europe/Moscow)"),
                )
                .field("time_zone"),
            ));
        }
        p.time_zone = tz;
    }
    if let Some(until) = ch.dnd_until {
        if let Some(t) = until {
            if t <= now || t > now + MAX_DND_MS {
                return Err(ChatError::Invalid(
                    Problem::new("bad-dnd", "do not disturb lasts from now up to a week")
                        .field("dnd_until"),
                ));
            }
        }
        p.dnd_until = until;
    }
    if let Some(schedule) = ch.dnd_schedule {
        let (start, end) = schedule.unwrap_or_default();
        let none = start.is_empty() && end.is_empty();
        let valid = valid_clock(&start) && valid_clock(&end) && start != end;
        if !none && !valid {
            return Err(ChatError::Invalid(
                Problem::new(
                    "bad-quiet-time",
                    "a quiet time is two different times as HH:MM, e.g. 19:00 and 08:00",
                )
                .field("dnd_schedule"),
            ));
        }
        p.dnd_start = start;
        p.dnd_end = end;
    }
    if let Some(words) = ch.keywords {
        let mut clean: Vec<String> = words
            .iter()
            .map(|w| normalize(w))
            .filter(|w| !w.is_empty())
            .collect();
        clean.sort();
        clean.dedup();
        if clean.len() > MAX_KEYWORDS || clean.iter().any(|w| w.chars().count() > 40) {
            return Err(ChatError::Invalid(
                Problem::new(
                    "bad-keywords",
                    format!("at most {MAX_KEYWORDS} keywords of up to 40 characters"),
                )
                .field("keywords")
                .param("max", MAX_KEYWORDS)
                .param("chars", 40),
            ));
        }
        p.keywords = clean;
    }
    if let Some(r) = ch.read_receipts {
        p.read_receipts = r;
    }
    if let Some(lang) = ch.language {
        if !["", "en", "ru"].contains(&lang.as_str()) {
            return Err(ChatError::Invalid(
                Problem::new(
                    "bad-choice",
                    "the language is \"en\", \"ru\" or \"\" (the browser's)",
                )
                .field("language"),
            ));
        }
        p.language = lang;
    }
    Ok(p)
}

/// The meta key holding the id of the channel everyone joins.
const GENERAL: &str = "general_channel";

impl Chat {
    /// Makes the channel everyone joins (`#general`, public, owned by the first administrator)
    /// unless there is one; returns its id.
    pub async fn ensure_general(&self, admin: super::Actor) -> Result<i64> {
        self.commit(move |c, log| {
            if let Some(id) = crate::store::backup::meta(c, GENERAL)?
                .and_then(|v| v.parse::<i64>().ok())
                .filter(|id| q::channel(c, *id).is_ok())
            {
                return Ok(id);
            }
            let ch = match q::channel_by_name(c, "general")? {
                Some(ch) => ch,
                None => {
                    let ch = q::create_channel(
                        c,
                        q::ChannelKind::Public,
                        Some("general"),
                        "",
                        admin.id,
                        None,
                    )?;
                    q::add_member(c, ch.id, admin.id, "owner")?;
                    log.joined(c, &ch, admin.id)?;
                    ch
                }
            };
            crate::store::backup::set_meta(c, GENERAL, &ch.id.to_string())?;
            Ok(ch.id)
        })
        .await
    }

    /// Puts a new person in the channel everyone joins (if there is one and it is open).
    pub async fn welcome(&self, user_id: i64) -> Result<()> {
        self.commit(move |c, log| {
            let Some(id) =
                crate::store::backup::meta(c, GENERAL)?.and_then(|v| v.parse::<i64>().ok())
            else {
                return Ok(());
            };
            let Ok(ch) = q::channel(c, id) else {
                return Ok(());
            };
            if ch.archived || q::membership(c, id, user_id)?.is_some() {
                return Ok(());
            }
            q::add_member(c, id, user_id, "member")?;
            log.joined(c, &ch, user_id)?;
            Ok(())
        })
        .await
    }

    /// Loads everyone's keywords: at start, after a change, and in a cluster when another node
    /// changed them.
    pub async fn load_keywords(&self) -> Result<()> {
        let all = self.read(|c| Ok(users::all_keywords(c)?)).await?;
        self.keywords.set(all);
        Ok(())
    }

    /// Tells everyone connected how a person looks now (name, photo, status, deactivated).
    pub fn announce_person(&self, user: User) {
        let presence = self.hub.presence(user.id);
        let person = PersonView::new(user, presence);
        let text = serde_json::json!({"type": "user.updated", "person": person}).to_string();
        self.hub.broadcast(Frame::new(None, text));
    }

    pub async fn preferences(&self, user_id: i64) -> Result<Preferences> {
        self.read(move |c| Ok(users::preferences(c, user_id)?))
            .await
    }

    pub async fn set_preferences(
        &self,
        user_id: i64,
        change: PreferencesChange,
    ) -> Result<Preferences> {
        let keywords_changed = change.keywords.is_some();
        let (prefs, zone_changed) = self
            .commit(move |c, _log| {
                let before = users::preferences(c, user_id)?;
                let p = apply(before.clone(), change, now_ms())?;
                users::set_preferences(c, user_id, &p)?;
                if p.keywords != before.keywords {
                    crate::store::cluster::settings_changed(c)?;
                }
                Ok((p.clone(), p.time_zone != before.time_zone))
            })
            .await?;
        if keywords_changed {
            self.load_keywords().await?;
        }
        if zone_changed {
            // Others show this person's local time on their profile card.
            let user = self
                .read(move |c| Ok(users::user_by_id(c, user_id)?))
                .await?;
            self.announce_person(user);
        }
        Ok(prefs)
    }

    /// Sets (or with an empty emoji and text, clears) the custom status. "Today" and "this
    /// week" end in the person's time zone: the one in their preferences, else `device_zone`
    /// (the browser's), else UTC.
    pub async fn set_status(
        &self,
        user_id: i64,
        emoji: String,
        text: String,
        clear_after: ClearAfter,
        device_zone: Option<String>,
    ) -> Result<User> {
        let device_zone = device_zone.filter(|z| zone(z).is_some());
        let text = text.trim().to_string();
        if text.chars().count() > MAX_STATUS_CHARS || text.chars().any(char::is_control) {
            return Err(ChatError::Invalid(
                Problem::new(
                    "too-long",
                    format!(
                        "a status is at most {MAX_STATUS_CHARS} characters, without control characters"
                    ),
                )
                .field("text")
                .param("max", MAX_STATUS_CHARS),
            ));
        }
        crate::text::check_name("a status", &text, true)
            .map_err(|e| ChatError::Invalid(e.problem("text")))?;
        let emoji = match emoji.trim() {
            "" => String::new(),
            e => crate::text::single_emoji(e)
                .ok_or_else(|| {
                    ChatError::Invalid(
                        Problem::new("not-one-emoji", "a status emoji is one emoji").field("emoji"),
                    )
                })?
                .to_string(),
        };
        let user = self
            .commit(move |c, _log| {
                let status = if emoji.is_empty() && text.is_empty() {
                    None
                } else {
                    let mut tz = users::preferences(c, user_id)?.time_zone;
                    if tz.is_empty() {
                        tz = device_zone.unwrap_or_default();
                    }
                    Some(Status {
                        emoji,
                        text,
                        expires_at: expiry(clear_after, &tz, now_ms())?,
                    })
                };
                Ok(users::set_status(c, user_id, status.as_ref())?)
            })
            .await?;
        self.announce_person(user.clone());
        Ok(user)
    }

    /// A member's notification level for one conversation ("all", "mentions", "none") and
    /// mute (until a time, or for good with `i64::MAX`; None: not muted).
    pub async fn set_notify(
        &self,
        user_id: i64,
        channel_id: i64,
        level: String,
        muted_until: Option<i64>,
    ) -> Result<()> {
        if !["all", "mentions", "none"].contains(&level.as_str()) {
            return Err(ChatError::Invalid(
                Problem::new("bad-choice", "notify is \"all\", \"mentions\" or \"none\"")
                    .field("notify"),
            ));
        }
        if muted_until.is_some_and(|t| t <= now_ms()) {
            return Err(ChatError::Invalid(
                Problem::new("in-the-past", "muted_until is in the past").field("muted_until"),
            ));
        }
        self.commit(move |c, _log| {
            require_member(c, channel_id, user_id)?;
            Ok(q::set_notify(c, channel_id, user_id, &level, muted_until)?)
        })
        .await
    }

    /// How far each other member of a direct conversation has read, and when, for members;
    /// people who turned read receipts off are left out.
    pub async fn receipts(
        &self,
        user_id: i64,
        channel_id: i64,
    ) -> Result<Vec<(i64, i64, Option<i64>)>> {
        self.read(move |c| {
            let ch = super::channel_or_not_found(c, channel_id)?;
            require_member(c, channel_id, user_id)?;
            if !ch.kind.is_direct() {
                return Err(ChatError::Invalid(Problem::new(
                    "not-direct",
                    "read receipts are kept for direct conversations",
                )));
            }
            let mut out = Vec::new();
            for (member, seq, at) in q::read_positions(c, channel_id)? {
                if member != user_id && users::preferences(c, member)?.read_receipts {
                    out.push((member, seq, at));
                }
            }
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let k = Keywords::default();
        k.set(vec![
            (1, vec!["convoy".into()]),
            (2, vec!["колонна".into(), "fuel truck".into()]),
        ]);
        let mut m = k.matching("CONVOY at gate 3; Колонна вышла. Fuel  truck!", 9);
        m.sort();
        assert_eq!(m, [1, 2]);
        assert!(k.matching("convoys", 9).is_empty());
        assert!(
            k.matching("convoy", 1).is_empty(),
            "not for one's own message"
        );
    }

    #[test]
    fn statuses_clear_at_the_end_of_the_day_in_the_persons_zone() {
        // 2026-12-04 21:30 UTC is 2026-12-05 00:30 in Moscow (a Saturday).
        let now = 1_796_419_800_000;
        let end = expiry(ClearAfter::Today, "Europe/Moscow", now)
            .unwrap()
            .unwrap();
        assert_eq!(end, 1_796_504_400_000, "2026-12-05 24:00 MSK");
        let week = expiry(ClearAfter::Week, "Europe/Moscow", now)
            .unwrap()
            .unwrap();
        assert_eq!(week, 1_796_590_800_000, "Monday 2026-12-07 00:00 MSK");
        assert_eq!(
            expiry(ClearAfter::HalfHour, "", now).unwrap(),
            Some(now + 1_800_000)
        );
        assert_eq!(expiry(ClearAfter::Never, "", now).unwrap(), None);
    }

    #[test]
    fn preferences_are_checked() {
        let base = Preferences {
            time_zone: String::new(),
            dnd_until: None,
            dnd_start: String::new(),
            dnd_end: String::new(),
            keywords: Vec::new(),
            read_receipts: true,
            language: String::new(),
        };
        let now = 1_000_000;
        let bad = |ch: PreferencesChange| apply(base.clone(), ch, now).is_err();
        assert!(bad(PreferencesChange {
            time_zone: Some("Mars/Olympus".into()),
            ..Default::default()
        }));
        assert!(bad(PreferencesChange {
            dnd_schedule: Some(Some(("25:00".into(), "08:00".into()))),
            ..Default::default()
        }));
        assert!(bad(PreferencesChange {
            dnd_until: Some(Some(now - 1)),
            ..Default::default()
        }));
        assert!(bad(PreferencesChange {
            language: Some("de".into()),
            ..Default::default()
        }));
        let p = apply(
            base.clone(),
            PreferencesChange {
                time_zone: Some("Asia/Vladivostok".into()),
                dnd_schedule: Some(Some(("19:00".into(), "08:00".into()))),
                keywords: Some(vec!["  Convoy ".into(), "convoy".into(), "".into()]),
                ..Default::default()
            },
            now,
        )
        .unwrap();
        assert_eq!(p.time_zone, "Asia/Vladivostok");
        assert_eq!(p.keywords, ["convoy"]);
        assert_eq!(
            (p.dnd_start.as_str(), p.dnd_end.as_str()),
            ("19:00", "08:00")
        );
    }
}
