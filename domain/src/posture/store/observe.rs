//! Looking at one node for its posture: its settings over SSH (each read on its own, so one
//! refusal leaves the others), its plain-HTTP ports, the desktop's HSTS header, the
//! unencrypted notification ports, and what each HTTPS endpoint accepts below TLS 1.2 or
//! without AEAD. What could not be looked at is a gap, never a pass.

use super::super::items::read_items;
use super::super::{Gap, Http, Observed, Tls};
use crate::auth::principal::RequestContext;
use crate::inventory::model::NodeKind;
use crate::reconcile::State;
use crate::scans::probe::Target;
use crate::Services;
use std::collections::HashMap;
use std::time::Duration;

/// How long one question to a port may take.
const WAIT: Duration = Duration::from_secs(5);

/// A node as the posture looks at it.
#[derive(Debug, Clone)]
pub(super) struct Looked {
    pub id: i64,
    pub fqdn: String,
    pub kind: NodeKind,
    pub address: Option<String>,
    /// Its HTTPS endpoints' ports.
    pub endpoints: Vec<u16>,
    /// Services not at their default ports (`node_port`).
    pub ports: HashMap<String, u16>,
}

impl Looked {
    fn port(&self, service: &str, default: u16) -> u16 {
        self.ports.get(service).copied().unwrap_or(default)
    }

    fn target(&self, port: u16) -> Target {
        Target {
            fqdn: self.fqdn.clone(),
            address: self.address.clone(),
            port,
        }
    }

    fn gap(&self, what: impl Into<String>, why: impl Into<String>) -> Gap {
        Gap {
            node_id: self.id,
            node: self.fqdn.clone(),
            what: what.into(),
            why: why.into(),
        }
    }
}

/// Everything the rules need about `node`.
pub(super) async fn observe(
    services: &Services,
    context: &RequestContext,
    node: Looked,
) -> Observed {
    let node = &node;
    let mut seen = Observed {
        node_id: node.id,
        fqdn: node.fqdn.clone(),
        kind: node.kind.as_str().into(),
        ..Observed::default()
    };
    let (settings, network) = tokio::join!(settings(services, context, node), network(node));
    let (read, mut gaps) = settings;
    for (key, state) in read {
        match state {
            State::Setting(value) => {
                seen.settings.insert(key, value);
            }
            State::List(hosts) if key == crate::access_policy::items::ALLOWED_HOSTS => {
                seen.allowed_hosts = Some(hosts)
            }
            _ => {}
        }
    }
    let (http, hsts, open, tls, more) = network;
    seen.http = http;
    seen.hsts = hsts;
    seen.open_insecure = open;
    seen.tls = tls;
    gaps.extend(more);
    seen.gaps = gaps;
    seen
}

/// Every posture setting the node's kind has, read over SSH.
async fn settings(
    services: &Services,
    context: &RequestContext,
    node: &Looked,
) -> (Vec<(String, State)>, Vec<Gap>) {
    if !node.kind.is_vos() {
        return (Vec::new(), Vec::new());
    }
    let kind = node.kind;
    let read = crate::appliances::store::with_node(
        services,
        context,
        node.id,
        crate::appliances::store::Purpose::Read,
        |driver| async move {
            let mut out = Vec::new();
            for item in read_items()
                .into_iter()
                .filter(|i| i.supports(kind).is_ok())
            {
                out.push((item.key(), item.label(), item.read(&*driver, kind).await));
            }
            Ok(out)
        },
    )
    .await;
    match read {
        Err(error) => (
            Vec::new(),
            vec![node.gap("settings over SSH", error.to_string())],
        ),
        Ok(Err(failure)) => (
            Vec::new(),
            vec![node.gap("settings over SSH", failure.to_string())],
        ),
        Ok(Ok(items)) => {
            let mut states = Vec::new();
            let mut gaps = Vec::new();
            for (key, label, state) in items {
                match state {
                    Ok(state) => states.push((key.to_owned(), state)),
                    Err(error) => gaps.push(node.gap(label, error.to_string())),
                }
            }
            (states, gaps)
        }
    }
}

type Network = (
    Vec<Http>,
    Option<(u16, String)>,
    Vec<(u16, String)>,
    Vec<Tls>,
    Vec<Gap>,
);

/// The ports: HTTP, HSTS and the notification ports on Finesse; TLS below 1.2 everywhere.
async fn network(node: &Looked) -> Network {
    let mut gaps = Vec::new();
    let mut http = Vec::new();
    let mut hsts = None;
    let mut open = Vec::new();
    if node.kind == NodeKind::Finesse {
        let client = client(node).await;
        for (service, default) in [("http", 80), ("http_alt", 8082)] {
            let port = node.port(service, default);
            let url = format!("http://{}:{port}/desktop/", node.fqdn);
            match client.as_ref().map(|c| c.get(&url).send()) {
                Ok(sent) => match sent.await {
                    Ok(answer) => http.push(Http {
                        port,
                        status: answer.status().as_u16(),
                        location: answer
                            .headers()
                            .get(reqwest::header::LOCATION)
                            .and_then(|l| l.to_str().ok())
                            .map(str::to_owned),
                    }),
                    // Nothing listens: plain HTTP is off altogether, which is no finding.
                    Err(e) if refused(&e) => {}
                    Err(e) => gaps.push(node.gap(format!("HTTP on port {port}"), chain(&e))),
                },
                Err(e) => gaps.push(node.gap("HTTP", e.clone())),
            }
        }
        let port = node.port("desktop", 8445);
        let url = format!("https://{}:{port}/desktop/", node.fqdn);
        match client.as_ref().map(|c| c.get(&url).send()) {
            Ok(sent) => match sent.await {
                Ok(answer) => {
                    let header = answer
                        .headers()
                        .get(reqwest::header::STRICT_TRANSPORT_SECURITY)
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or_default();
                    hsts = Some((port, header.to_owned()));
                }
                Err(e) => gaps.push(node.gap(format!("HSTS on port {port}"), chain(&e))),
            },
            Err(e) => gaps.push(node.gap("HSTS", e)),
        }
        for (service, default, what) in [
            ("xmpp", 5222, "XMPP"),
            ("bosh", 7071, "BOSH/WebSocket over HTTP"),
        ] {
            let port = node.port(service, default);
            let deadline = std::time::Instant::now() + WAIT;
            match crate::scans::probe::connect(&node.target(port), deadline).await {
                Ok(_) => open.push((port, what.to_owned())),
                Err(e) if e.code == "refused" => {}
                Err(e) => gaps.push(node.gap(format!("{what} port {port}"), e.message)),
            }
        }
    }
    let mut tls = Vec::new();
    // A BroadWorks node's CTI port is probed as the CTI page probes it (`super::cti`).
    if node.endpoints.is_empty()
        && !node.kind.default_endpoints().is_empty()
        && node.kind != NodeKind::BroadWorks
    {
        gaps.push(node.gap(
            "TLS versions",
            "the node has no HTTPS endpoint in the inventory: add its ports",
        ));
    }
    for port in &node.endpoints {
        match crate::scans::offer::legacy(&node.target(*port), WAIT).await {
            Ok(legacy) => tls.push(Tls {
                port: *port,
                legacy_protocols: legacy.protocols,
                weak_suite: legacy.weak_suite,
            }),
            Err(e) => gaps.push(node.gap(format!("TLS versions on port {port}"), e.message)),
        }
    }
    (http, hsts, open, tls, gaps)
}

/// Whether nothing listened (the connection was refused), as against a failure to look.
fn refused(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::ConnectionRefused;
        }
        cause = e.source();
    }
    false
}

/// An error with its causes, in one line.
fn chain(error: &reqwest::Error) -> String {
    let mut out = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        out.push_str(": ");
        out.push_str(&e.to_string());
        cause = e.source();
    }
    out
}

/// An HTTP client for this node: its FQDN resolved once to its management address (as the
/// TLS probes connect), any certificate accepted (only headers are read), redirects not
/// followed.
async fn client(node: &Looked) -> Result<reqwest::Client, String> {
    let tls = crate::scans::probe::client_config()?;
    let host = node.address.as_deref().unwrap_or(&node.fqdn);
    let address = tokio::time::timeout(WAIT, tokio::net::lookup_host((host, 0)))
        .await
        .map_err(|_| format!("resolving {host} took too long"))?
        .map_err(|e| format!("{host} does not resolve: {e}"))?
        .next()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(WAIT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
        .resolve(&node.fqdn, address)
        .build()
        .map_err(|e| e.to_string())
}
