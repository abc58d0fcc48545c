//! Edge authentication (seed 004): Basic credentials are checked once against Finesse, then a
//! keyed hash of them is believed for `credential_cache_secs` (a changed password takes effect
//! within that time, as the seed says). The hash key is random per process and never leaves
//! it; the password itself is never kept.
//!
//! Also here: who is connected (sessions by user and address, what `Connected agents` shows as
//! "via proxy") and which addresses authenticated lately (a WebSocket is accepted only from
//! one of them).

use crate::{lock, now};
use proxyconf::Session;
use ring::hmac;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Upper bounds on what is remembered (a flood of names or addresses cannot grow memory).
const MAX_CREDENTIALS: usize = 50_000;
const MAX_SESSIONS: usize = 100_000;

pub struct Auth {
    key: hmac::Key,
    credentials: Mutex<HashMap<String, Believed>>,
    /// Counts changes to what is believed (see [`Memo`]).
    generation: AtomicU64,
    /// The key of the connections' memos (SipHash, random per process).
    memo_key: RandomState,
    /// By address, then by user: a request looks its session up without allocating, and a
    /// WebSocket's check reads only its address's users.
    sessions: Mutex<Sessions>,
}

#[derive(Default)]
struct Sessions {
    by_address: HashMap<IpAddr, HashMap<String, Tracked>>,
    count: usize,
}

impl Sessions {
    fn retain(&mut self, mut keep: impl FnMut(&str, IpAddr, &Tracked) -> bool) {
        let mut count = 0;
        self.by_address.retain(|address, users| {
            users.retain(|user, t| keep(user, *address, t));
            count += users.len();
            !users.is_empty()
        });
        self.count = count;
    }
}

struct Believed {
    tag: hmac::Tag,
    until: Instant,
}

/// What one client connection was last believed: a keyed hash (64 bits) of the
/// `Authorization` value it sent and the user that value names, good while nothing in the book
/// changed and the belief lasts. A next request carrying the same value on the connection is
/// not read and checked again (the base64, the keyed hash of the password, the book's lock).
/// A memo ends with the belief it was made of, and every memo ends when a user's belief is
/// replaced by another password's or forgotten, the valid users are read anew or a
/// configuration is put in force.
#[derive(Default)]
pub(crate) struct Memo(Mutex<Option<Remembered>>);

struct Remembered {
    tag: u64,
    /// The client it was believed for (a listed forwarder may carry several on a connection).
    client: IpAddr,
    user: Arc<str>,
    generation: u64,
    until: Instant,
}

struct Tracked {
    first: u64,
    last: u64,
    last_at: Instant,
    requests: u64,
    websockets: u32,
}

pub use proxyconf::plausible_login as plausible_user;

impl Auth {
    pub fn new() -> Auth {
        let rng = ring::rand::SystemRandom::new();
        Auth {
            key: hmac::Key::generate(hmac::HMAC_SHA256, &rng).expect("the system has randomness"),
            credentials: Mutex::default(),
            generation: AtomicU64::new(0),
            memo_key: RandomState::new(),
            sessions: Mutex::default(),
        }
    }

    /// The count of changes to what is believed; read before a check whose result a memo
    /// keeps.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Something that decides what is believed changed: every memo ends.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The user `memo` names for the `Authorization` value `value` from `client`, if it still
    /// stands.
    pub(crate) fn recall(&self, memo: &Memo, value: &[u8], client: IpAddr) -> Option<Arc<str>> {
        let memo = lock(&memo.0);
        let r = memo.as_ref()?;
        (r.generation == self.generation()
            && r.client == client
            && r.tag == self.memo_key.hash_one(value)
            && r.until > Instant::now())
        .then(|| r.user.clone())
    }

    /// Keeps in `memo` that `value` from `client` was believed as `user` until `until`, as of
    /// `generation` (read before the configuration and the check were).
    pub(crate) fn memorise(
        &self,
        memo: &Memo,
        (value, client): (&[u8], IpAddr),
        user: Arc<str>,
        generation: u64,
        until: Instant,
    ) {
        *lock(&memo.0) = Some(Remembered {
            tag: self.memo_key.hash_one(value),
            client,
            user,
            generation,
            until,
        });
    }

    fn tag(&self, user: &str, password: &str) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(&(user.len() as u64).to_be_bytes());
        ctx.update(user.as_bytes());
        ctx.update(password.as_bytes());
        ctx.sign()
    }

    /// Whether these credentials were checked against Finesse within the cache time: until
    /// when they are believed.
    pub fn believed(&self, user: &str, password: &str) -> Option<Instant> {
        // The keyed hash is made outside the lock.
        let (tag, until) = {
            let credentials = lock(&self.credentials);
            let b = credentials.get(user)?;
            (b.tag, b.until)
        };
        if until <= Instant::now() {
            return None;
        }
        same_tag(self.tag(user, password).as_ref(), tag.as_ref()).then_some(until)
    }

    /// Finesse accepted these credentials: believe them for `secs` (they replace the user's
    /// earlier ones: a new password ends the old one's belief).
    pub fn remember(&self, user: &str, password: &str, secs: u64) {
        let tag = self.tag(user, password);
        let mut credentials = lock(&self.credentials);
        if credentials.len() >= MAX_CREDENTIALS {
            let now = Instant::now();
            credentials.retain(|_, b| b.until > now);
            if credentials.len() >= MAX_CREDENTIALS {
                return;
            }
        }
        let before = credentials.insert(
            user.to_owned(),
            Believed {
                tag,
                until: Instant::now() + Duration::from_secs(secs),
            },
        );
        // Another password of the user ends the memos of the one before; a first belief, or the
        // same password again, ends none (so that agents signing in do not end each other's).
        if before.is_some_and(|b| !same_tag(b.tag.as_ref(), tag.as_ref())) {
            self.changed();
        }
    }

    /// Forgets `user`'s cached credentials and sessions (revoked).
    pub fn forget(&self, user: &str) {
        lock(&self.credentials).remove(user);
        self.changed();
        lock(&self.sessions).retain(|u, _, _| u != user);
    }

    /// Forgets the sessions from `address` (or from the IPv6 /64 it stands for).
    pub fn forget_address(&self, address: IpAddr) {
        lock(&self.sessions).retain(|_, a, _| !crate::conns::within(address, a));
    }

    /// An authenticated request of `user` from `address`.
    pub fn seen(&self, user: &str, address: IpAddr) {
        let mut sessions = lock(&self.sessions);
        let now_secs = now();
        if let Some(t) = sessions
            .by_address
            .get_mut(&address)
            .and_then(|users| users.get_mut(user))
        {
            t.last = now_secs;
            t.last_at = Instant::now();
            t.requests += 1;
            return;
        }
        if sessions.count >= MAX_SESSIONS {
            return;
        }
        sessions.count += 1;
        sessions.by_address.entry(address).or_default().insert(
            user.to_owned(),
            Tracked {
                first: now_secs,
                last: now_secs,
                last_at: Instant::now(),
                requests: 1,
                websockets: 0,
            },
        );
    }

    /// The user that authenticated from `address` within `window`, if any (the most recent).
    pub fn recently(&self, address: IpAddr, window: Duration) -> Option<String> {
        lock(&self.sessions)
            .by_address
            .get(&address)?
            .iter()
            .filter(|(_, t)| t.last_at.elapsed() < window)
            .max_by_key(|(_, t)| t.last_at)
            .map(|(user, _)| user.clone())
    }

    /// A WebSocket of `user` from `address` opened (`+1`) or closed (`-1`).
    pub fn websocket(&self, user: &str, address: IpAddr, opened: bool) {
        if let Some(t) = lock(&self.sessions)
            .by_address
            .get_mut(&address)
            .and_then(|users| users.get_mut(user))
        {
            if opened {
                t.websockets += 1;
            } else {
                t.websockets = t.websockets.saturating_sub(1);
            }
        }
    }

    pub fn sessions(&self) -> Vec<Session> {
        let mut out: Vec<Session> = lock(&self.sessions)
            .by_address
            .iter()
            .flat_map(|(address, users)| {
                users.iter().map(|(user, t)| Session {
                    user: user.clone(),
                    address: *address,
                    first: t.first,
                    last: t.last,
                    requests: t.requests,
                    websockets: t.websockets,
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.user, a.address).cmp(&(&b.user, b.address)));
        out
    }

    /// Drops expired credentials, and sessions idle for the credential time with nothing open.
    pub fn expire(&self, settings: &proxyconf::Auth) {
        let now = Instant::now();
        // A memo ends with the belief it was made of: nothing to end here.
        lock(&self.credentials).retain(|_, b| b.until > now);
        let idle = Duration::from_secs(settings.credential_cache_secs);
        lock(&self.sessions).retain(|_, _, t| t.websockets > 0 || t.last_at.elapsed() < idle);
    }
}

/// Whether two tags are the same, in time that does not depend on where they differ.
fn same_tag(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

impl Default for Auth {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connections_memo_stands_only_for_the_same_value_while_nothing_believed_changes() {
        let auth = Auth::new();
        let memo = Memo::default();
        let value = b"Basic YWdlbnQxOkFnZW50IXBhc3Mx";
        let client: IpAddr = "192.0.2.7".parse().unwrap();
        let later = Instant::now() + Duration::from_secs(60);
        let recalled = |auth: &Auth, value: &[u8], client: IpAddr| {
            auth.recall(&memo, value, client)
                .as_deref()
                .map(str::to_owned)
        };
        let keep = |auth: &Auth, generation: u64, until: Instant| {
            auth.memorise(&memo, (value, client), "agent1".into(), generation, until)
        };
        assert_eq!(
            recalled(&auth, value, client),
            None,
            "nothing remembered yet"
        );
        auth.remember("agent1", "Agent!pass1", 60);
        let until = auth.believed("agent1", "Agent!pass1").expect("believed");
        assert!(auth.believed("agent1", "Agent!pass2").is_none());
        keep(&auth, auth.generation(), until);
        assert_eq!(recalled(&auth, value, client).as_deref(), Some("agent1"));
        let other_value = b"Basic YWdlbnQxOkFnZW50IXBhc3My";
        assert_eq!(recalled(&auth, other_value, client), None, "another value");
        let other_client: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(
            recalled(&auth, value, other_client),
            None,
            "another client behind the same forwarder"
        );
        // Others signing in, or the same password checked again, end nothing…
        auth.remember("agent2", "x", 60);
        auth.remember("agent1", "Agent!pass1", 60);
        assert_eq!(recalled(&auth, value, client).as_deref(), Some("agent1"));
        // …another password of the user does…
        auth.remember("agent1", "Agent!pass2", 60);
        assert_eq!(recalled(&auth, value, client), None);
        // …a revoke, the valid users read anew (or a configuration put in force)…
        for change in [
            &(|a: &Auth| a.forget("agent2")) as &dyn Fn(&Auth),
            &|a: &Auth| a.changed(),
        ] {
            keep(&auth, auth.generation(), until);
            assert!(recalled(&auth, value, client).is_some());
            change(&auth);
            assert_eq!(recalled(&auth, value, client), None);
        }
        // …and a memo made before a change never stands (the generation read before the check).
        let before = auth.generation();
        auth.forget("agent1");
        keep(&auth, before, later);
        assert_eq!(recalled(&auth, value, client), None);
        // Its time runs out with the belief's.
        keep(&auth, auth.generation(), Instant::now());
        assert_eq!(recalled(&auth, value, client), None);
    }
}
