//! A configuration made ready to serve: its files read, its TLS built, its routes indexed, its
//! rate limiters made. Built whole before it replaces the one in force, so a document that
//! cannot be served (a key that does not open, a certificate that covers no route) is refused
//! with the reason and changes nothing.

use crate::limits::Limits;
use crate::tls;
use crate::upstream::{self, Client};
use proxyconf::{Config, Problem, Route, Served};
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;

pub struct Loaded {
    pub config: Config,
    /// External host (lowercased) → its ports and their indexes in `config.routes`: looked up
    /// by the host as the request gives it, without making a key.
    routes: HashMap<String, Vec<(u16, usize)>>,
    /// Each listener's TLS, by bound address.
    pub(crate) tls: HashMap<SocketAddr, Arc<rustls::ServerConfig>>,
    /// The LAN-side `proxymap.txt` port's TLS (the first listener certificate).
    pub(crate) lan_tls: Option<Arc<rustls::ServerConfig>>,
    pub(crate) upstream: Client,
    pub limits: Limits,
    pub served: Vec<Served>,
    /// The HA peer link, when the configuration names a peer.
    pub(crate) peer: Option<crate::peer::Link>,
    /// The Finesse administrator the valid users are read with (`auth.users_credentials`).
    pub(crate) users_login: Option<(String, String)>,
}

/// `login:password` from `file` (one line; the file should be readable by the engine only).
fn read_login(file: &str) -> Result<(String, String), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
    let line = text.lines().next().unwrap_or_default();
    match line.split_once(':') {
        Some((login, password)) if !login.is_empty() && !password.is_empty() => {
            Ok((login.to_owned(), password.to_owned()))
        }
        _ => Err(format!("{file} does not hold login:password")),
    }
}

impl Loaded {
    /// The IdS routes' internal sides (where SSO keys are fetched), without repeats.
    pub(crate) fn ids(&self) -> Vec<&proxyconf::HostPort> {
        let mut out: Vec<&proxyconf::HostPort> = Vec::new();
        for r in &self.config.routes {
            if r.component == proxyconf::Component::Ids && !out.contains(&&r.internal) {
                out.push(&r.internal);
            }
        }
        out
    }

    pub(crate) fn has_ids(&self) -> bool {
        !self.ids().is_empty()
    }

    /// Before the first configuration: nothing bound, nothing routed.
    pub(crate) fn empty() -> Loaded {
        let config = Config {
            schema: proxyconf::SCHEMA,
            version: 0,
            pair: String::new(),
            listeners: Vec::new(),
            routes: Vec::new(),
            forwarders: Default::default(),
            auth: Default::default(),
            limits: Default::default(),
            bans: Default::default(),
            timeouts: Default::default(),
            upstream: Default::default(),
            status: Default::default(),
            peer: None,
        };
        Loaded {
            limits: Limits::new(&config.limits.rates),
            upstream: upstream::client(
                tls::client(&[], None).expect("an empty trust builds"),
                &config,
            ),
            routes: HashMap::new(),
            tls: HashMap::new(),
            lan_tls: None,
            served: Vec::new(),
            peer: None,
            users_login: None,
            config,
        }
    }

    pub fn build(config: Config) -> Result<Loaded, Vec<Problem>> {
        let mut problems = config.check();
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut served = Vec::new();
        let mut tls = HashMap::new();
        let mut first_key = None;
        for (i, listener) in config.listeners.iter().enumerate() {
            let hosts: HashSet<String> = config
                .routes
                .iter()
                .filter(|r| r.external.port == listener.port())
                .map(|r| r.external.host.exact().to_ascii_lowercase())
                .collect();
            let mut keys = Vec::new();
            for (j, pair) in listener.certificates.iter().enumerate() {
                match tls::load_pair(pair, &format!("listeners[{i}].certificates[{j}]")) {
                    Ok(loaded) => {
                        served.push(Served {
                            listener: Some(listener.address),
                            pem: loaded.pem,
                        });
                        first_key.get_or_insert_with(|| loaded.key.clone());
                        keys.push(loaded.key);
                    }
                    Err(p) => problems.push(p),
                }
            }
            if !keys.is_empty() {
                let mut hosts: Vec<&String> = hosts.iter().collect();
                hosts.sort();
                for host in hosts {
                    if !keys.iter().any(|k| tls::covers(k, host)) {
                        problems.push(Problem::new(
                            format!("listeners[{i}].certificates"),
                            format!(
                                "no certificate covers {host}, which is routed on port {}",
                                listener.port()
                            ),
                        ));
                    }
                }
            }
            tls.insert(listener.address, tls::server(keys, hosts));
        }
        let client_pair = match &config.upstream.client_certificate {
            Some(pair) => match tls::load_pair(pair, "upstream.client_certificate") {
                Ok(loaded) => Some(loaded),
                Err(p) => {
                    problems.push(p);
                    None
                }
            },
            None => None,
        };
        let client = match tls::client(&config.upstream.trust, client_pair.as_ref()) {
            Ok(c) => Some(c),
            Err(p) => {
                problems.push(p);
                None
            }
        };
        let peer = match (&config.peer, &client_pair) {
            (Some(peer), Some(own)) => match crate::peer::link(peer, &own.key) {
                Ok(link) => Some(link),
                Err(p) => {
                    problems.push(p);
                    None
                }
            },
            _ => None,
        };
        let users_login = match &config.auth.users_credentials {
            Some(file) => match read_login(file) {
                Ok(login) => Some(login),
                Err(message) => {
                    problems.push(Problem::new("auth.users_credentials", message));
                    None
                }
            },
            None => None,
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        if let Some(loaded) = client_pair {
            served.push(Served {
                listener: None,
                pem: loaded.pem,
            });
        }
        let mut routes: HashMap<String, Vec<(u16, usize)>> = HashMap::new();
        for (i, r) in config.routes.iter().enumerate() {
            routes
                .entry(r.external.host.exact().to_ascii_lowercase())
                .or_default()
                .push((r.external.port, i));
        }
        Ok(Loaded {
            users_login,
            limits: Limits::new(&config.limits.rates),
            upstream: upstream::client(client.expect("no problem: built"), &config),
            routes,
            tls,
            lan_tls: first_key.map(tls::lan),
            served,
            peer,
            config,
        })
    }

    /// The route for `host` (any case) on a listener whose clients use `port`.
    /// The route for `host` (lowercase, as `chain::request::authority` gives it) and `port`.
    pub fn route(&self, host: &str, port: u16) -> Option<&Route> {
        let (_, i) = self.routes.get(host)?.iter().find(|(p, _)| *p == port)?;
        Some(&self.config.routes[*i])
    }
}
