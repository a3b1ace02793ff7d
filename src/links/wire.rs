//! What linked sites send each other: batches of channel and message states, each message
//! signed by the site that made it (Ed25519), compressed with deflate.

use std::io::{Read, Write};

use base64::Engine;
use ed25519_dalek::{Signer, Verifier};
use serde::{Deserialize, Serialize};

/// A batch's compressed size limit, and the limit of what it may expand to.
pub const MAX_COMPRESSED: usize = 4 << 20;
pub const MAX_EXPANDED: u64 = 32 << 20;

/// Something's identity on every site: the site that made it and its id there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gid {
    pub site: String,
    pub id: i64,
}

/// A message as it is now. Versions only grow; a deletion is final.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageState {
    pub id: Gid,
    pub channel: Gid,
    pub author: Option<Gid>,
    pub author_username: String,
    pub author_name: String,
    pub sender_name: Option<String>,
    pub kind: String,
    pub body: String,
    pub thread_root: Option<Gid>,
    pub also_in_channel: bool,
    pub created_at: i64,
    pub sort_key: i64,
    pub version: i64,
    pub deleted: bool,
    /// The site that signed this version: the message's own, or the channel's home for a
    /// deletion its moderators made.
    pub signer: String,
    /// Base64 Ed25519 signature over `signing_bytes` (this field empty).
    #[serde(default)]
    pub signature: String,
}

/// One person's latest reaction add or remove on a message, signed by their site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionState {
    pub message: Gid,
    pub user: Gid,
    pub username: String,
    pub display_name: String,
    pub emoji: String,
    pub present: bool,
    pub version: i64,
    /// Base64 Ed25519 signature of the person's site over `reaction_signing_bytes`.
    #[serde(default)]
    pub signature: String,
}

/// A message's latest pin or unpin and who decided it, signed by their site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PinState {
    pub message: Gid,
    pub user: Gid,
    pub username: String,
    pub display_name: String,
    pub pinned: bool,
    pub version: i64,
    #[serde(default)]
    pub signature: String,
}

/// A channel as its home site describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelState {
    pub id: Gid,
    pub kind: String,
    pub name: String,
    pub topic: String,
}

/// A site whose messages a batch relays: its name and signing key (base64).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteInfo {
    pub id: String,
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    /// The sending site.
    pub site: String,
    /// The sender's log position this batch reaches: the receiver resumes after it.
    pub upto: i64,
    /// The sender's log head: how far behind the receiver is.
    pub head: i64,
    /// The sender's clock, so the receiver's moves past it.
    pub hlc: i64,
    pub sites: Vec<SiteInfo>,
    pub channels: Vec<ChannelState>,
    pub messages: Vec<MessageState>,
    #[serde(default)]
    pub reactions: Vec<ReactionState>,
    #[serde(default)]
    pub pins: Vec<PinState>,
}

impl Batch {
    /// Carries nothing to apply (it may still move the cursor).
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
            && self.channels.is_empty()
            && self.reactions.is_empty()
            && self.pins.is_empty()
    }
}

/// The first request of a pairing: the invitation's secret and who accepts it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptRequest {
    pub secret: String,
    pub site: String,
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptAnswer {
    pub site: String,
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub after: i64,
    /// How long the answer may wait for something to send.
    pub wait_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushAnswer {
    /// The sender's position now applied here.
    pub applied: i64,
}

const DOMAIN: &[u8] = b"outpost.link.message.v1\n";

fn signing_bytes(m: &MessageState) -> Vec<u8> {
    let mut unsigned = m.clone();
    unsigned.signature = String::new();
    let mut out = DOMAIN.to_vec();
    // A struct of strings, numbers and booleans always serializes.
    out.extend(serde_json::to_vec(&unsigned).unwrap_or_default());
    out
}

pub fn sign(m: &mut MessageState, key: &ed25519_dalek::SigningKey) {
    let sig = key.sign(&signing_bytes(m));
    m.signature = b64(&sig.to_bytes());
}

/// Whether `m` carries a valid signature by the holder of `public`.
pub fn verify(m: &MessageState, public: &[u8]) -> bool {
    verify_bytes(&signing_bytes(m), &m.signature, public)
}

const REACTION_DOMAIN: &[u8] = b"outpost.link.reaction.v1\n";

fn reaction_signing_bytes(r: &ReactionState) -> Vec<u8> {
    let mut unsigned = r.clone();
    unsigned.signature = String::new();
    let mut out = REACTION_DOMAIN.to_vec();
    out.extend(serde_json::to_vec(&unsigned).unwrap_or_default());
    out
}

pub fn sign_reaction(r: &mut ReactionState, key: &ed25519_dalek::SigningKey) {
    r.signature = b64(&key.sign(&reaction_signing_bytes(r)).to_bytes());
}

pub fn verify_reaction(r: &ReactionState, public: &[u8]) -> bool {
    verify_bytes(&reaction_signing_bytes(r), &r.signature, public)
}

const PIN_DOMAIN: &[u8] = b"outpost.link.pin.v1\n";

fn pin_signing_bytes(p: &PinState) -> Vec<u8> {
    let mut unsigned = p.clone();
    unsigned.signature = String::new();
    let mut out = PIN_DOMAIN.to_vec();
    out.extend(serde_json::to_vec(&unsigned).unwrap_or_default());
    out
}

pub fn sign_pin(p: &mut PinState, key: &ed25519_dalek::SigningKey) {
    p.signature = b64(&key.sign(&pin_signing_bytes(p)).to_bytes());
}

pub fn verify_pin(p: &PinState, public: &[u8]) -> bool {
    verify_bytes(&pin_signing_bytes(p), &p.signature, public)
}

fn verify_bytes(bytes: &[u8], signature: &str, public: &[u8]) -> bool {
    let Ok(public) = <[u8; 32]>::try_from(public) else {
        return false;
    };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&public) else {
        return false;
    };
    let Some(sig) = unb64(signature).and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok()) else {
        return false;
    };
    key.verify(bytes, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok()
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn unb64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// JSON, deflated.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(&json);
    z.finish().unwrap_or_default()
}

/// Inflates (up to `MAX_EXPANDED`) and parses; a bomb or bad JSON is an error, never a panic.
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, String> {
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(bytes)
        .take(MAX_EXPANDED + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("not deflate data: {e}"))?;
    if json.len() as u64 > MAX_EXPANDED {
        return Err("the batch expands beyond its limit".into());
    }
    serde_json::from_slice(&json).map_err(|e| format!("malformed batch: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> MessageState {
        MessageState {
            id: Gid {
                site: "a".into(),
                id: 1,
            },
            channel: Gid {
                site: "a".into(),
                id: 2,
            },
            author: Some(Gid {
                site: "a".into(),
                id: 3,
            }),
            author_username: "anna".into(),
            author_name: "Anna".into(),
            sender_name: None,
            kind: "text".into(),
            body: "hello".into(),
            thread_root: None,
            also_in_channel: false,
            created_at: 1,
            sort_key: 65536,
            version: 65536,
            deleted: false,
            signer: "a".into(),
            signature: String::new(),
        }
    }

    #[test]
    fn a_signature_covers_every_field() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let public = key.verifying_key().to_bytes();
        let mut m = state();
        sign(&mut m, &key);
        assert!(verify(&m, &public));
        let mut changed = m.clone();
        changed.body = "hellO".into();
        assert!(!verify(&changed, &public));
        let mut moved = m.clone();
        moved.channel.id = 9;
        assert!(!verify(&moved, &public));
        let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]);
        assert!(!verify(&m, &other.verifying_key().to_bytes()));
    }

    #[test]
    fn batches_round_trip_and_bombs_are_refused() {
        let b = Batch {
            site: "a".into(),
            messages: vec![state()],
            ..Default::default()
        };
        assert_eq!(decode::<Batch>(&encode(&b)).unwrap(), b);
        assert!(decode::<Batch>(b"not deflate").is_err());
        let zeros = vec![b' '; (MAX_EXPANDED + 10) as usize];
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&zeros).unwrap();
        let bomb = z.finish().unwrap();
        assert!(decode::<Batch>(&bomb).unwrap_err().contains("limit"));
    }
}
