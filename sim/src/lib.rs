//! A fleet of simulated Cisco VOS appliances on loopback: for each node an SSH server speaking
//! the `admin:` CLI ([`cli`]), HTTPS listeners serving its tomcat certificate, and on Finesse
//! nodes the Finesse REST subset ([`https`]). State is kept in a JSON file between runs.
//!
//! Used by the `gatehouse-sim` binary (the demo fleet), by Gatehouse's tests and benchmarks.

mod broadworks;
pub mod cli;
mod client_auth;
mod cti;
pub mod fleet;
mod https;
mod ids;
mod install;
mod legacy;
mod node;
mod notify;
mod pki;
mod plain;
mod run;
mod scp;
mod ssh;
mod state;

use node::certified;
pub use pki::{self_signed, Issued};
pub use run::{inventory_csv, start, start_toml, NodeAddr, Running};

use fleet::{Faults, FleetSpec, NodeSpec, Profile, Users};
use rustls::sign::CertifiedKey;
use state::Store;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::task::JoinSet;

pub use state::{Cors, CorsMode, NodeState, StoreError, StoredCert};

/// The demo fleet (`sim/demo-fleet.toml`): what `gatehouse serve --demo` runs.
pub const DEMO_FLEET: &str = include_str!("../demo-fleet.toml");

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Pki(#[from] pki::PkiError),
    #[error("{fqdn}: {message}")]
    Node { fqdn: String, message: String },
    /// The fleet's description is not a fleet.
    #[error("the fleet: {0}")]
    Spec(String),
    #[error("listening on {address}: {error}")]
    Listen {
        address: String,
        error: std::io::Error,
    },
}

/// The simulated fleet: its specification, the state of every node, and what each serves now.
pub struct Fleet {
    pub spec: FleetSpec,
    nodes: Vec<NodeSpec>,
    store: Mutex<Store>,
    live: Vec<Live>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("nodes", &self.nodes.len())
            .finish()
    }
}

/// A node's run-time parts that are not persisted.
struct Live {
    /// What the HTTPS endpoints serve (the tomcat certificate as of the last restart).
    served: RwLock<Arc<CertifiedKey>>,
    faults: Mutex<Faults>,
    users: Mutex<Users>,
    /// The SSH server configuration (its host key), renewed when the host key changes.
    ssh: RwLock<Arc<russh::server::Config>>,
    /// SSH connections open now, and the most ever open at once.
    ssh_open: std::sync::atomic::AtomicUsize,
    ssh_most: std::sync::atomic::AtomicUsize,
    /// The latest HTTPS requests that reached the node (what tests of a proxy in front of it
    /// assert on).
    seen: Mutex<std::collections::VecDeque<Seen>>,
    /// Agents' states as set through `PUT /finesse/api/User/<id>`.
    agent_states: Mutex<std::collections::HashMap<String, String>>,
    /// Pushed to the node's notification WebSockets.
    events: tokio::sync::broadcast::Sender<String>,
    /// An IdS node's SSO token signing key.
    ids: Option<ids::Signer>,
}

/// One HTTPS request as it reached a node.
#[derive(Debug, Clone)]
pub struct Seen {
    pub peer: std::net::SocketAddr,
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How many requests a node remembers.
const SEEN: usize = 4096;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Fleet {
    /// Loads (or creates) every node's state: host key, keys and certificates, trust stores.
    pub fn new(spec: FleetSpec, state: Option<&Path>) -> Result<Arc<Self>, Error> {
        let mut store = Store::open(state)?;
        let nodes = install::install(&spec, &mut store)?;
        store.save()?;
        let live = nodes
            .iter()
            .map(|node| {
                let state = &store.nodes[&node.fqdn];
                Ok(Live {
                    served: RwLock::new(certified(node, state)?),
                    faults: Mutex::new(node.faults.clone()),
                    users: Mutex::new(node.connected_users),
                    ssh: RwLock::new(ssh::config(node, &state.host_key)?),
                    ssh_open: Default::default(),
                    ssh_most: Default::default(),
                    seen: Mutex::default(),
                    agent_states: Mutex::default(),
                    events: tokio::sync::broadcast::channel(256).0,
                    ids: (node.kind == "ids")
                        .then(|| ids::Signer::new(&node.fqdn))
                        .flatten(),
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(Arc::new(Self {
            spec,
            nodes,
            store: Mutex::new(store),
            live,
        }))
    }

    pub fn spec_of(&self, node: usize) -> &NodeSpec {
        &self.nodes[node]
    }

    pub fn index(&self, fqdn: &str) -> Option<usize> {
        self.nodes
            .iter()
            .position(|n| n.fqdn.eq_ignore_ascii_case(fqdn))
    }

    pub(crate) fn read<R>(&self, node: usize, f: impl FnOnce(&NodeState) -> R) -> R {
        let store = lock(&self.store);
        f(&store.nodes[&self.nodes[node].fqdn])
    }

    /// Changes a node's state and saves the file (a failed save is logged: the appliance
    /// itself has no way to say so).
    pub(crate) fn edit<R>(&self, node: usize, f: impl FnOnce(&mut NodeState) -> R) -> R {
        let mut store = lock(&self.store);
        let result = f(store
            .nodes
            .get_mut(&self.nodes[node].fqdn)
            .expect("every node has a state"));
        if let Err(error) = store.save() {
            tracing::error!(%error, "saving the simulator's state");
        }
        result
    }

    /// What the node is configured with now (tests and the demo look; admins change it over
    /// SSH).
    pub fn state(&self, node: usize) -> NodeState {
        self.read(node, NodeState::clone)
    }

    /// Changes the node's configuration as an admin at its console would (tests and the demo's
    /// drift).
    pub fn change_by_hand(&self, node: usize, change: impl FnOnce(&mut NodeState)) {
        self.edit(node, change)
    }

    /// SSH connections to the node open now, and the most that were ever open at once.
    pub fn ssh_sessions(&self, node: usize) -> (usize, usize) {
        use std::sync::atomic::Ordering::SeqCst;
        let live = &self.live[node];
        (live.ssh_open.load(SeqCst), live.ssh_most.load(SeqCst))
    }

    /// Counts an SSH connection opened (`true`) or closed.
    pub(crate) fn count_ssh(&self, node: usize, opened: bool) {
        use std::sync::atomic::Ordering::SeqCst;
        let live = &self.live[node];
        if opened {
            let now = live.ssh_open.fetch_add(1, SeqCst) + 1;
            live.ssh_most.fetch_max(now, SeqCst);
        } else {
            live.ssh_open.fetch_sub(1, SeqCst);
        }
    }

    /// The HTTPS requests that reached `node` (the latest 4,096), oldest first.
    pub fn seen(&self, node: usize) -> Vec<Seen> {
        lock(&self.live[node].seen).iter().cloned().collect()
    }

    /// An agent's state as last set through the REST API (`None`: never set).
    pub fn agent_state(&self, node: usize, agent: &str) -> Option<String> {
        lock(&self.live[node].agent_states).get(agent).cloned()
    }

    pub(crate) fn set_agent_state(&self, node: usize, agent: &str, state: &str) {
        lock(&self.live[node].agent_states).insert(agent.to_owned(), state.to_owned());
        let _ = self.live[node].events.send(notify::update(agent, state));
    }

    pub(crate) fn events(&self, node: usize) -> tokio::sync::broadcast::Receiver<String> {
        self.live[node].events.subscribe()
    }

    /// Whether `user` with `password` is one of `node`'s agents.
    pub(crate) fn is_agent(&self, node: usize, user: &str, password: &str) -> bool {
        self.spec_of(node)
            .agents
            .iter()
            .any(|a| a.id == user && a.password == password)
    }

    pub(crate) fn record(&self, node: usize, seen: Seen) {
        let mut list = lock(&self.live[node].seen);
        if list.len() == SEEN {
            list.pop_front();
        }
        list.push_back(seen);
    }

    pub fn users(&self, node: usize) -> Users {
        *lock(&self.live[node].users)
    }

    /// Changes a node's connected users (as agents sign in and out).
    pub fn set_users(&self, node: usize, users: Users) {
        *lock(&self.live[node].users) = users;
    }

    pub fn faults(&self, node: usize) -> Faults {
        lock(&self.live[node].faults).clone()
    }

    /// Injects faults at run time. A host-key change makes a new key at once (kept).
    pub fn set_faults(&self, node: usize, faults: Faults) -> Result<(), Error> {
        let renew = faults.host_key_changed && !self.faults(node).host_key_changed;
        if renew {
            let key = pki::rsa_key(2048)?;
            let config = ssh::config(&self.nodes[node], &key)?;
            self.edit(node, |s| s.host_key = key);
            *self.live[node]
                .ssh
                .write()
                .unwrap_or_else(|e| e.into_inner()) = config;
        }
        *lock(&self.live[node].faults) = faults;
        Ok(())
    }

    /// Applies a fleet file's run-time parts (each node's faults and connected users) to the
    /// running fleet, as on SIGHUP. Returns what changed, one line per node; nodes the file
    /// adds or removes are named as ignored (adding nodes needs a restart).
    pub fn reload(&self, spec: &FleetSpec) -> Result<Vec<String>, Error> {
        let mut changes = Vec::new();
        for wanted in spec.nodes() {
            let Some(node) = self.index(&wanted.fqdn) else {
                changes.push(format!(
                    "{}: not running (ignored; restart to add it)",
                    wanted.fqdn
                ));
                continue;
            };
            if self.faults(node) != wanted.faults {
                self.set_faults(node, wanted.faults.clone())?;
                changes.push(format!("{}: faults {:?}", wanted.fqdn, wanted.faults));
            }
            if self.users(node) != wanted.connected_users {
                self.set_users(node, wanted.connected_users);
                changes.push(format!(
                    "{}: connected users {:?}",
                    wanted.fqdn, wanted.connected_users
                ));
            }
        }
        for running in &self.nodes {
            if !spec
                .nodes()
                .any(|n| n.fqdn.eq_ignore_ascii_case(&running.fqdn))
            {
                changes.push(format!(
                    "{}: not in the file (left running as it is)",
                    running.fqdn
                ));
            }
        }
        Ok(changes)
    }
}
