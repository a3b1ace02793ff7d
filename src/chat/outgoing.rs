//! Outgoing webhooks: when a message in a channel starts with one of a webhook's trigger words,
//! Outpost POSTs it (as JSON, with the webhook's secret) to the address an administrator
//! entered, and posts the answer's `text` back into the channel under the webhook's name.
//! These are the only connections Outpost opens: only to IP addresses (it resolves no names),
//! only by administrators' choice, each call audited, with a time limit and a size limit on the
//! answer. Calls run in the background: a slow or dead receiver never delays a send.

use crate::problem::Problem;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use serde_json::json;

use super::{channel_label, channel_or_not_found, Actor, Chat, ChatError, Result};
use crate::store::audit::{self, Entry};
use crate::store::chat::{self as q, NewMessage};
use crate::store::webhooks::{self as w, Outgoing};

/// How long a receiver has to answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer read.
const MAX_ANSWER: usize = 64 * 1024;
const MAX_TRIGGERS: usize = 10;

/// Outgoing webhooks by channel, kept in memory so a send costs no lookup: only the admin API
/// changes them, in this process.
#[derive(Clone)]
pub struct OutgoingIndex {
    by_channel: Arc<RwLock<HashMap<i64, Vec<Outgoing>>>>,
    /// Calls under way; a trigger finding none left is skipped (and logged).
    calls: Arc<tokio::sync::Semaphore>,
}

/// Outgoing calls under way at once, at most.
const MAX_CALLS_IN_FLIGHT: usize = 32;

impl Default for OutgoingIndex {
    fn default() -> Self {
        OutgoingIndex {
            by_channel: Arc::default(),
            calls: Arc::new(tokio::sync::Semaphore::new(MAX_CALLS_IN_FLIGHT)),
        }
    }
}

impl OutgoingIndex {
    fn set(&self, all: Vec<Outgoing>) {
        let mut by_channel: HashMap<i64, Vec<Outgoing>> = HashMap::new();
        for o in all {
            by_channel.entry(o.channel_id).or_default().push(o);
        }
        if let Ok(mut map) = self.by_channel.write() {
            *map = by_channel;
        }
    }

    /// The webhooks a message's first word triggers in its channel.
    fn triggered(&self, channel_id: i64, text: &str) -> Vec<(Outgoing, String)> {
        let Some(first) = text.split_whitespace().next() else {
            return Vec::new();
        };
        let Ok(map) = self.by_channel.read() else {
            return Vec::new();
        };
        map.get(&channel_id)
            .into_iter()
            .flatten()
            .filter(|o| o.trigger_words.split_whitespace().any(|t| t == first))
            .map(|o| (o.clone(), first.to_string()))
            .collect()
    }
}

/// The receiver's address: `http://IP[:port]/path` only (no names to resolve, and no TLS
/// trust to configure for a LAN system; say so in the docs).
fn receiver(url: &str) -> Result<(SocketAddr, String)> {
    let bad = || {
        ChatError::Invalid(
            Problem::new(
                "bad-receiver-url",
                "the URL must be http://IP-ADDRESS[:PORT]/PATH (Outpost resolves no names)",
            )
            .field("url"),
        )
    };
    let uri: http::Uri = url.parse().map_err(|_| bad())?;
    if uri.scheme_str() != Some("http") {
        return Err(bad());
    }
    let host = uri.host().ok_or_else(bad)?;
    let ip: std::net::IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| bad())?;
    let port = uri.port_u16().unwrap_or(80);
    let path = uri
        .path_and_query()
        .map_or("/".to_string(), |p| p.as_str().to_string());
    Ok((SocketAddr::new(ip, port), path))
}

async fn call(url: &str, payload: String) -> std::result::Result<(u16, Option<String>), String> {
    let (addr, path) = receiver(url).map_err(|e| e.to_string())?;
    let work = async move {
        let tcp = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("cannot connect: {e}"))?;
        let (mut send, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp))
                .await
                .map_err(|e| format!("HTTP handshake failed: {e}"))?;
        tokio::spawn(conn);
        let req = http::Request::post(path)
            .header(http::header::HOST, addr.to_string())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "Outpost")
            .body(Full::new(bytes::Bytes::from(payload)))
            .map_err(|e| e.to_string())?;
        let resp = send
            .send_request(req)
            .await
            .map_err(|e| format!("request failed: {e}"))?;
        let status = resp.status().as_u16();
        let body = Limited::new(resp.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| format!("reading the answer failed: {e}"))?
            .to_bytes();
        // An answer may carry `{"text": "..."}` to post back; anything else is fine too.
        let text = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["text"].as_str().map(str::to_string))
            .filter(|t| !t.trim().is_empty());
        Ok((status, text))
    };
    tokio::time::timeout(CALL_TIMEOUT, work)
        .await
        .map_err(|_| format!("no answer within {} s", CALL_TIMEOUT.as_secs()))?
}

impl Chat {
    /// Loads the outgoing webhooks: at start, after a change, and in a cluster when another node
    /// changed them.
    pub async fn load_outgoing(&self) -> Result<()> {
        let all = self.read(|c| Ok(w::all_outgoing(c)?)).await?;
        self.outgoing.set(all);
        Ok(())
    }

    /// Creates an outgoing webhook (administrators only: it makes Outpost open connections).
    pub async fn create_outgoing(
        &self,
        actor: Actor,
        channel_id: i64,
        name: &str,
        trigger_words: &[String],
        url: &str,
    ) -> Result<Outgoing> {
        if !actor.is_admin {
            return Err(ChatError::Forbidden(
                "only administrators make Outpost call other systems",
            ));
        }
        let name = super::webhooks::valid_name(name, "a webhook's name", "name")?;
        receiver(url)?;
        let words: Vec<&str> = trigger_words
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
            .collect();
        if words.is_empty()
            || words.len() > MAX_TRIGGERS
            || words.iter().any(|t| {
                t.chars().count() > 32 || t.chars().any(|c| c.is_whitespace() || c.is_control())
            })
        {
            return Err(ChatError::Invalid(
                Problem::new(
                    "bad-triggers",
                    format!(
                        "give 1 to {MAX_TRIGGERS} trigger words of at most 32 characters, without spaces"
                    ),
                )
                .field("triggers")
                .param("max", MAX_TRIGGERS),
            ));
        }
        let words = words.join(" ");
        let url = url.to_string();
        let secret = crate::auth::new_token(24);
        let hook = self
            .commit(move |c, _| {
                let ch = channel_or_not_found(c, channel_id)?;
                if ch.kind.is_direct() {
                    return Err(ChatError::Invalid(Problem::new(
                        "not-in-direct",
                        "outgoing webhooks listen in channels, not direct conversations",
                    )));
                }
                let hook =
                    w::create_outgoing(c, channel_id, &name, &words, &url, &secret, actor.id)?;
                super::audit_channel(
                    c,
                    actor,
                    "outgoing-webhook-created",
                    channel_label(&ch),
                    format!("{name}: {words} -> {url}"),
                )?;
                Ok(hook)
            })
            .await?;
        self.load_outgoing().await?;
        Ok(hook)
    }

    pub async fn outgoing_webhooks(&self, actor: Actor) -> Result<Vec<Outgoing>> {
        if !actor.is_admin {
            return Err(ChatError::Forbidden(
                "only administrators see outgoing webhooks",
            ));
        }
        self.read(|c| Ok(w::all_outgoing(c)?)).await
    }

    pub async fn delete_outgoing(&self, actor: Actor, id: i64) -> Result<()> {
        if !actor.is_admin {
            return Err(ChatError::Forbidden(
                "only administrators remove outgoing webhooks",
            ));
        }
        self.commit(move |c, _| {
            let hook = w::outgoing_by_id(c, id)?.ok_or(ChatError::NotFound)?;
            w::delete_outgoing(c, id)?;
            super::audit_channel(
                c,
                actor,
                "outgoing-webhook-deleted",
                format!("channel {}", hook.channel_id),
                format!("{}: {}", hook.name, hook.url),
            )?;
            Ok(())
        })
        .await?;
        self.load_outgoing().await
    }

    /// Calls the outgoing webhooks a person's new message triggers, in the background.
    pub(super) fn fire_outgoing(&self, message: &super::protocol::MessageView) {
        if message.sender_name.is_some() {
            return; // never answer a webhook's own post: no loops
        }
        let Some(author) = message.author_id else {
            return;
        };
        for (hook, word) in self.outgoing.triggered(message.channel_id, &message.body) {
            // A flood of triggering messages must not become a flood of connections.
            let Ok(permit) = self.outgoing.calls.clone().try_acquire_owned() else {
                tracing::warn!(
                    webhook = hook.id,
                    "outgoing webhook skipped: {MAX_CALLS_IN_FLIGHT} calls already in flight"
                );
                continue;
            };
            let this = self.clone();
            let (channel_id, message_id, text, at) = (
                message.channel_id,
                message.id,
                message.body.clone(),
                message.created_at,
            );
            tokio::spawn(async move {
                this.run_outgoing(hook, word, author, channel_id, message_id, text, at)
                    .await;
                drop(permit);
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_outgoing(
        &self,
        hook: Outgoing,
        word: String,
        author: i64,
        channel_id: i64,
        message_id: i64,
        text: String,
        at: i64,
    ) {
        let hook_id = hook.id;
        let looked_up = self
            .read(move |c| {
                let still = w::outgoing_by_id(c, hook_id)?.is_some();
                let ch = channel_or_not_found(c, channel_id)?;
                let user = crate::store::users::user_by_id(c, author)?;
                Ok((still, ch, user))
            })
            .await;
        let Ok((true, channel, user)) = looked_up else {
            return;
        };
        let payload = json!({
            "token": hook.secret,
            "webhook": hook.name,
            "trigger_word": word,
            "channel_id": channel_id,
            "channel_name": channel.name,
            "message_id": message_id,
            "user_id": user.id,
            "user_name": user.username,
            "text": text,
            "timestamp": at,
        })
        .to_string();
        let outcome = call(&hook.url, payload).await;
        let details = match &outcome {
            Ok((status, _)) => format!("{} -> HTTP {status}", hook.url),
            Err(e) => format!("{} -> {e}", hook.url),
        };
        if let Err(e) = &outcome {
            tracing::warn!(webhook = hook.id, error = %e, "outgoing webhook call failed");
        }
        let reply = match outcome {
            Ok((200..=299, Some(t))) if t.len() <= self.limits.max_message_bytes => Some(t),
            _ => None,
        };
        let (name, label) = (hook.name.clone(), channel_label(&channel));
        let result = self
            .commit(move |c, log| {
                audit::append(
                    c,
                    &Entry {
                        actor: format!("webhook {name}"),
                        action: "outgoing-webhook-called",
                        target: label,
                        details,
                        ..Default::default()
                    },
                )?;
                let Some(reply) = reply else {
                    return Ok(());
                };
                let ch = channel_or_not_found(c, channel_id)?;
                if ch.archived {
                    return Ok(());
                }
                let mut msg = q::insert_message(
                    c,
                    &NewMessage {
                        channel_id,
                        author_id: None,
                        client_id: None,
                        kind: "text",
                        body: &reply,
                        thread_root: None,
                        ..Default::default()
                    },
                )?;
                q::set_sender_name(c, &mut msg, &name)?;
                log.message_new(c, msg.into())?;
                Ok(())
            })
            .await;
        if let Err(e) = result {
            tracing::error!(webhook = hook_id, error = %e, "recording an outgoing webhook call failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receivers_are_plain_http_to_an_ip_address() {
        assert_eq!(
            receiver("http://10.0.0.5:8080/hooks/a?b=1").unwrap(),
            ("10.0.0.5:8080".parse().unwrap(), "/hooks/a?b=1".to_string())
        );
        assert_eq!(
            receiver("http://[fd00::1]/x").unwrap().0,
            "[fd00::1]:80".parse().unwrap()
        );
        for bad in [
            "https://10.0.0.5/",
            "http://monitor.local/",
            "ftp://1.2.3.4/",
            "10.0.0.5",
            "",
        ] {
            assert!(receiver(bad).is_err(), "{bad}");
        }
    }
}
