//! Signed-in requests answered from memory.
//!
//! Every request carries a token, and looking it up took two point reads on a reader thread
//! (and the hops to it and back): about a tenth of the server's CPU per posted message. An
//! entry here is trusted only while the database's `auth_epoch` counter stands where it stood
//! when the entry was read: any deleted session or token and any change to a person moves it
//! (triggers, so the CLI's changes count as the server's do), and the store publishes it with
//! every commit before acknowledging it. So a session ended or a person disabled or demoted
//! here is refused by the very next request; by the CLI beside the server, at the server's next
//! commit or epoch poll (`jobs`), whichever comes first.
//!
//! Only successful lookups are kept, so unknown tokens cannot fill it; when the counter moves
//! every entry goes (so ended sessions do not linger), and past `MAX_ENTRIES` it starts again
//! empty.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::store::users::{Session, User};

use super::bots::Scopes;

const MAX_ENTRIES: usize = 65_536;

#[derive(Clone)]
pub struct Signed {
    pub session: Session,
    pub user: User,
    /// For a bot's API token: its id (for last-used) and scopes.
    pub token: Option<(i64, Scopes)>,
}

#[derive(Default)]
struct Entries {
    /// The counter every entry was read at.
    epoch: i64,
    map: HashMap<Vec<u8>, Signed>,
}

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<Entries>,
}

impl SessionCache {
    /// The entry for `token_hash` if it was read at `epoch` and its session was seen at or
    /// after `idle_cutoff`.
    pub fn get(&self, token_hash: &[u8], epoch: i64, idle_cutoff: i64) -> Option<Signed> {
        let mut entries = self.entries.lock().ok()?;
        if entries.epoch != epoch {
            if epoch > entries.epoch {
                entries.map.clear();
                entries.epoch = epoch;
            }
            return None;
        }
        match entries.map.get(token_hash) {
            Some(s) if s.session.last_seen_at >= idle_cutoff => Some(s.clone()),
            Some(_) => {
                entries.map.remove(token_hash);
                None
            }
            None => None,
        }
    }

    /// Remembers a lookup made at `epoch` (read before the lookup began, so a change racing
    /// with it leaves the entry already stale rather than wrongly fresh).
    pub fn put(&self, token_hash: Vec<u8>, epoch: i64, signed: Signed) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.epoch != epoch {
            // Read at an older counter than the entries (a lookup that raced a change): stale
            // already. At a newer one: the entries are.
            if epoch < entries.epoch {
                return;
            }
            entries.map.clear();
            entries.epoch = epoch;
        }
        if entries.map.len() >= MAX_ENTRIES {
            entries.map.clear();
        }
        entries.map.insert(token_hash, signed);
    }

    /// Records that the session was seen at `at` (its last-seen is being written).
    pub fn seen(&self, token_hash: &[u8], at: i64) {
        if let Ok(mut entries) = self.entries.lock() {
            if let Some(s) = entries.map.get_mut(token_hash) {
                s.session.last_seen_at = s.session.last_seen_at.max(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(last_seen_at: i64) -> Signed {
        Signed {
            session: Session {
                id: "s".into(),
                user_id: 1,
                created_at: 0,
                last_seen_at,
                user_agent: String::new(),
                address: String::new(),
            },
            user: User::default(),
            token: None,
        }
    }

    #[test]
    fn an_entry_holds_only_for_its_epoch_and_while_the_session_is_not_idle() {
        let cache = SessionCache::default();
        cache.put(b"t".to_vec(), 3, signed(100));
        assert!(cache.get(b"t", 3, 50).is_some());
        assert!(cache.get(b"t", 3, 101).is_none(), "idle past the cutoff");
        cache.put(b"t".to_vec(), 3, signed(100));
        cache.put(b"u".to_vec(), 3, signed(100));
        assert!(cache.get(b"t", 4, 50).is_none(), "the epoch moved");
        assert!(cache.get(b"u", 3, 50).is_none(), "every entry went with it");
        assert!(cache.get(b"other", 3, 0).is_none());
        // A lookup that began before the move is not kept.
        cache.put(b"v".to_vec(), 4, signed(100));
        cache.put(b"t".to_vec(), 3, signed(100));
        assert!(cache.get(b"t", 4, 50).is_none());
        assert!(cache.get(b"v", 4, 50).is_some());
    }

    #[test]
    fn being_seen_keeps_an_entry_from_going_idle() {
        let cache = SessionCache::default();
        cache.put(b"t".to_vec(), 1, signed(100));
        cache.seen(b"t", 500);
        assert!(cache.get(b"t", 1, 400).is_some());
    }
}
