//! `gatehouse-proxy`: the VPN-less edge in front of Finesse, IdS, CUIC and LiveData (DOMAIN.md
//! §6, seed 004). One request goes through a short chain of checks of our own, each refusing
//! with the answer Cisco's OpenResty configuration gives, before it is forwarded:
//!
//! ```text
//! TLS (SNI must be a route) ─▶ Host = SNI, a mapped route ─▶ client address (forwarders)
//!   ─▶ banned? 418 ─▶ refused path? 403 ─▶ over the rate? 429 ─▶ static? served from cache
//!   ─▶ credentials (Finesse, then cached 15 min; 5 failures in 30 s: banned) ─▶ WebSocket only
//!      from an address that authenticated ─▶ forwarded (hop-by-hop headers dropped, client
//!      address set, upstream verified against the cluster's trust, client certificate shown)
//! ```
//!
//! The configuration ([`proxyconf::Config`]) is swapped whole ([`live`]): connections in flight
//! keep the one they started with, new requests take the new one, and nothing open is dropped.
//! What the engine knows of its clients (bans, sessions, cached credentials) outlives a swap.

pub mod auth;
/// For the fuzz targets (`proxy/fuzz`) only: not an interface.
#[doc(hidden)]
pub mod fuzzing {
    /// Reads `data` as a request head the way the chain does (see `chain/fuzzing.rs`).
    pub fn request_head(data: &[u8]) {
        crate::chain::fuzzing::request_head(data);
    }

    /// Reads `data` as a configuration document: nothing panics, and a document without
    /// problems is written and read back as itself.
    pub fn config(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let Ok(config) = proxyconf::Config::from_json(text) else {
            return;
        };
        if config.check().is_empty() {
            let again = proxyconf::Config::from_json(&config.to_json()).expect("it reads back");
            assert_eq!(again, config);
            assert!(again.check().is_empty());
        }
    }
}
pub mod bans;
mod body;
mod chain;
mod conns;
pub mod console;
mod health;
pub mod limits;
pub mod listen;
pub mod live;
mod peer;
mod pinned;
mod sso;
mod statics;
pub mod status;
mod tls;
mod upstream;
pub mod users;
pub mod workers;

use arc_swap::ArcSwap;
use proxyconf::{Config, Problem, Refusal, Report};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The most sessions and bans a report lists.
pub const REPORTED: usize = 1_000;

/// The engine's release, reported to the console.
pub const RELEASE: &str = env!("CARGO_PKG_VERSION");

/// Unix seconds now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Everything one running engine holds: the configuration in force and what it knows of its
/// clients.
pub struct Engine {
    pub instance: String,
    pub started: u64,
    live: ArcSwap<live::Loaded>,
    pub bans: bans::Bans,
    pub auth: auth::Auth,
    sso: sso::Sso,
    valid: users::ValidUsers,
    conns: conns::Conns,
    statics: statics::Cache,
    refused: Mutex<Option<Refusal>>,
    counters: Counters,
    listeners: listen::Listeners,
    health: health::HealthBook,
}

/// Requests answered, by outcome: counted under a read lock (an outcome's first answer takes
/// the write lock once), so that every request does not serialise on one mutex.
#[derive(Default)]
struct Counters(std::sync::RwLock<BTreeMap<&'static str, AtomicU64>>);

impl Counters {
    fn add(&self, outcome: &'static str) {
        {
            let counters = self.0.read().unwrap_or_else(|e| e.into_inner());
            if let Some(counter) = counters.get(outcome) {
                counter.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        let mut counters = self.0.write().unwrap_or_else(|e| e.into_inner());
        counters
            .entry(outcome)
            .or_default()
            .fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.to_string(), v.load(Ordering::Relaxed)))
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the configuration is refused: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Problem>),
    #[error("{0}")]
    Bind(String),
}

impl Engine {
    /// An engine serving `config` (refused whole if anything in it is wrong: nothing is bound).
    pub async fn start(instance: &str, config: Config) -> Result<Arc<Engine>, StartError> {
        let loaded = live::Loaded::build(config).map_err(StartError::Refused)?;
        let engine = Engine::idle(instance);
        engine
            .put_in_force(loaded)
            .await
            .map_err(StartError::Bind)?;
        Ok(engine)
    }

    /// An engine with no configuration yet (nothing bound): what an instance that pulls its
    /// configuration from the console starts as.
    pub fn idle(instance: &str) -> Arc<Engine> {
        let engine = Arc::new(Engine {
            instance: instance.to_owned(),
            started: now(),
            live: ArcSwap::from_pointee(live::Loaded::empty()),
            bans: bans::Bans::default(),
            auth: auth::Auth::new(),
            sso: sso::Sso::default(),
            valid: users::ValidUsers::default(),
            conns: conns::Conns::default(),
            statics: statics::Cache::default(),
            refused: Mutex::new(None),
            counters: Counters::default(),
            listeners: listen::Listeners::default(),
            health: health::HealthBook::default(),
        });
        tokio::spawn(housekeeping(Arc::downgrade(&engine)));
        tokio::spawn(peer::forward(Arc::downgrade(&engine)));
        tokio::spawn(ids_keys(Arc::downgrade(&engine)));
        engine
    }

    /// Puts `config` in force if it is valid and its listeners can be bound; otherwise the
    /// one in force keeps serving and the refusal is reported.
    pub async fn apply(self: &Arc<Self>, config: Config) -> Result<(), Vec<String>> {
        let version = config.version;
        let result = match live::Loaded::build(config) {
            Ok(loaded) => self.put_in_force(loaded).await.map_err(|e| vec![e]),
            Err(problems) => Err(problems.iter().map(ToString::to_string).collect()),
        };
        match &result {
            Ok(()) => {
                *lock(&self.refused) = None;
                tracing::info!(version, "configuration in force");
            }
            Err(problems) => {
                tracing::warn!(
                    version,
                    ?problems,
                    "configuration refused; the one in force keeps serving"
                );
                *lock(&self.refused) = Some(Refusal {
                    version,
                    problems: problems.clone(),
                    at: now(),
                });
            }
        }
        result
    }

    async fn put_in_force(self: &Arc<Self>, loaded: live::Loaded) -> Result<(), String> {
        let loaded = Arc::new(loaded);
        // Listeners first: a port that cannot be bound refuses the document before anything
        // changes; the new configuration is then what every next request reads.
        self.listeners.bind(self, &loaded).await?;
        self.statics.configure(&loaded.config.auth);
        self.live.store(loaded.clone());
        // What is believed may depend on it (the valid users' login, the cache's time).
        self.auth.changed();
        self.listeners.retire(&loaded);
        Ok(())
    }

    pub(crate) fn live(&self) -> Arc<live::Loaded> {
        self.live.load_full()
    }

    /// The configuration in force.
    pub fn config(&self) -> Arc<live::Loaded> {
        self.live()
    }

    /// The addresses bound for clients (with port 0 in the configuration: the port chosen).
    pub fn client_addresses(&self) -> Vec<std::net::SocketAddr> {
        self.listeners.bound()
    }

    /// The status port's address, when one is bound.
    pub fn status_address(&self) -> Option<std::net::SocketAddr> {
        self.listeners.status()
    }

    /// What the console is told: at most [`REPORTED`] sessions (the latest) and bans (those
    /// ending last), so a flood of banned addresses cannot make the report too large to take.
    pub fn report(&self) -> Report {
        let live = self.live();
        let mut sessions = self.auth.sessions();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.last));
        sessions.truncate(REPORTED);
        let mut bans = self.bans.list();
        bans.sort_by_key(|b| std::cmp::Reverse(b.until));
        bans.truncate(REPORTED);
        Report {
            instance: self.instance.clone(),
            engine: RELEASE.to_owned(),
            started: self.started,
            version: live.config.version,
            refused: lock(&self.refused).clone(),
            sessions,
            bans,
            cache: self.statics.stats(),
            upstreams: self.health.list(),
            served: live.served.clone(),
            counters: self.counters.snapshot(),
        }
    }

    /// Bans `target` here (an administrator's or the peer's decision). A banned address's open
    /// connections and WebSockets are closed at once; an account ban stops its passwords from
    /// being checked (see [`chain`]), and [`Engine::revoke`] closes what an account has open.
    pub fn ban(&self, ban: proxyconf::Ban) {
        let target = ban.target.clone();
        self.bans.add(ban);
        if let proxyconf::BanTarget::Address(address) = target {
            self.forget_address(address);
        }
    }

    /// Closes everything `address` (an address, or an IPv6 /64) has open and forgets that it
    /// authenticated (its WebSocket window closes with it).
    pub(crate) fn forget_address(&self, address: std::net::IpAddr) {
        self.forget_address_but(address, None);
    }

    /// As [`Engine::forget_address`], but the connection `spared` answers its request first.
    pub(crate) fn forget_address_but(
        &self,
        address: std::net::IpAddr,
        spared: Option<&conns::Handle>,
    ) {
        self.conns
            .close_but(&proxyconf::BanTarget::Address(address), spared);
        self.auth.forget_address(address);
    }

    /// Lifts a ban and forgets the failures that led to it.
    pub fn lift(&self, target: &proxyconf::BanTarget) -> bool {
        self.bans.lift(target)
    }

    /// Forgets what is cached for `user` and closes what it has open (its password changed, its
    /// account was removed).
    pub fn revoke(&self, user: &str) {
        self.auth.forget(user);
        self.sso.revoke(user);
        self.conns
            .close(&proxyconf::BanTarget::Account(user.to_owned()));
    }

    /// Stops accepting and closes every connection.
    pub fn shutdown(&self) {
        self.listeners.stop_all();
        self.conns.close_all();
    }
}

/// Expired bans, failures, cached credentials, rate-limit keys, cache entries and idle upstream
/// connections are dropped once a minute, so memory stays bounded under a flood of addresses.
async fn housekeeping(engine: std::sync::Weak<Engine>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        engine.bans.expire();
        engine.auth.expire(&engine.live().config.auth);
        engine.live().limits.forget_idle();
        engine.statics.expire();
        engine.sso.expire();
        engine.live().upstream.prune();
    }
}

/// The IdS keys, fetched again every `auth.ids_key_refresh_secs`, and the valid users, read
/// again every `auth.users_refresh_secs` (looked at every 5 s, so a first configuration has
/// them within seconds).
async fn ids_keys(engine: std::sync::Weak<Engine>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tick.tick().await;
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let live = engine.live();
        let refresh = std::time::Duration::from_secs(live.config.auth.ids_key_refresh_secs);
        if live.has_ids() && engine.sso.due(refresh, false) {
            chain::fetch_ids_keys(&engine, &live).await;
        }
        let users = std::time::Duration::from_secs(live.config.auth.users_refresh_secs);
        if live.users_login.is_some() && engine.valid.due(users) {
            chain::fetch_valid_users(&engine, &live).await;
        }
    }
}
