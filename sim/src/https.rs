//! A node's HTTPS listeners: every handshake gets the node's current tomcat certificate (a
//! regeneration shows once the web service restarted); a Finesse node's first listener also
//! answers the Finesse REST subset of DOMAIN.md §5, its second is the notification service
//! (7443). Every request is recorded ([`crate::Seen`]) and, with client-auth on, refused 403
//! when it comes from an allowed host without a trusted client certificate
//! ([`crate::client_auth`]).

use crate::fleet::{NodeSpec, Users};
use crate::Fleet;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

#[derive(Debug)]
struct Current {
    fleet: Arc<Fleet>,
    node: usize,
}

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.fleet.served(self.node))
    }
}

/// What a listener serves.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Port {
    /// The node's home page and the desktop's static files.
    Web,
    /// Also the Finesse REST subset (8445).
    FinesseRest,
    /// Finesse's notification WebSocket (7443).
    Notifications,
}

pub(crate) async fn serve(fleet: Arc<Fleet>, node: usize, listener: TcpListener, port: Port) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Two TLS settings: with client-auth on, the handshake asks for a client certificate
    // (optional, as Tomcat does); with it off, it does not (what a probe sees).
    let resolver = Arc::new(Current {
        fleet: fleet.clone(),
        node,
    });
    let build = |ask: bool| {
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .ok()?;
        let config = if ask {
            builder
                .with_client_cert_verifier(Arc::new(crate::client_auth::Offer(provider.clone())))
                .with_cert_resolver(resolver.clone())
        } else {
            builder
                .with_no_client_auth()
                .with_cert_resolver(resolver.clone())
        };
        Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
    };
    let (Some(asking), Some(plain)) = (build(true), build(false)) else {
        return;
    };
    let app = router(fleet.clone(), node, port);
    loop {
        let Ok((tcp, peer)) = listener.accept().await else {
            continue;
        };
        let faults = fleet.faults(node);
        if faults.down {
            drop(tcp);
            continue;
        }
        let client_auth = fleet.read(node, |s| s.client_auth);
        let acceptor = if client_auth { &asking } else { &plain }.clone();
        let app = app.clone();
        tokio::spawn(async move {
            if faults.latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
            }
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let certificate = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| c.to_vec());
            let app = app.layer(axum::Extension(Peer(peer, certificate.map(Arc::new))));
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                .serve_connection_with_upgrades(TokioIo::new(tls), service)
                .await;
        });
    }
}

#[derive(Clone)]
struct Api {
    fleet: Arc<Fleet>,
    node: usize,
    /// Failed passwords per user: five within the window lock the account for 5 minutes.
    failures: Arc<Mutex<HashMap<String, (u32, Instant)>>>,
}

/// The connection's peer and the client certificate it presented.
#[derive(Clone)]
struct Peer(std::net::SocketAddr, Option<Arc<Vec<u8>>>);

/// Writes down every request before it is answered.
async fn record(
    State(api): State<Api>,
    peer: Option<axum::Extension<Peer>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let seen = crate::Seen {
        peer: peer
            .as_ref()
            .map(|p| p.0 .0)
            .unwrap_or_else(|| ([0, 0, 0, 0], 0).into()),
        method: request.method().to_string(),
        target: request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let address = seen.peer.ip();
    api.fleet.record(api.node, seen);
    let certificate = peer.as_ref().and_then(|p| p.0 .1.clone());
    if let Some(why) =
        api.fleet
            .client_refused(api.node, address, certificate.as_deref().map(Vec::as_slice))
    {
        return api_error(StatusCode::FORBIDDEN, "Forbidden", why);
    }
    next.run(request).await
}

fn router(fleet: Arc<Fleet>, node: usize, port: Port) -> Router {
    let api = Api {
        fleet,
        node,
        failures: Arc::default(),
    };
    let mut app = Router::new()
        .route("/", get(home))
        .route("/desktop/assets/{*file}", get(asset));
    if port == Port::Notifications {
        let notifications = crate::notify::Notifications {
            fleet: api.fleet.clone(),
            node,
        };
        app = app.route(
            "/ws/",
            get(crate::notify::upgrade).with_state(notifications),
        );
    }
    if port == Port::FinesseRest {
        app = app.route("/desktop/container/", get(desktop));
        app = app
            .route("/finesse/api/SystemInfo", get(system_info))
            .route("/finesse/api/ConnectedUsersInfo", get(connected_users))
            .route("/finesse/api/User/{id}", get(user).put(set_state))
            .route("/finesse/api/Users", get(users));
    }
    app.fallback(|| async { api_error(StatusCode::NOT_FOUND, "Not Found", "No such resource") })
        .layer(axum::middleware::from_fn_with_state(api.clone(), record))
        .with_state(api)
}

async fn home(State(api): State<Api>) -> impl IntoResponse {
    let spec = api.fleet.spec_of(api.node);
    axum::response::Html(format!(
        "<!doctype html><title>{0}</title><p>{0}: simulated {1} {2}</p>",
        spec.fqdn, spec.kind, spec.version
    ))
}

/// The simulated desktop: a sign-in form that reads the agent over the REST API, then opens
/// the notification WebSocket and shows its events (what the demo opens through the proxy).
async fn desktop() -> axum::response::Html<&'static str> {
    axum::response::Html(include_str!("desktop.html"))
}

/// The desktop's static files (what a proxy may serve from its cache without credentials).
async fn asset(Path(file): Path<String>) -> Response {
    let content_type = match file.rsplit_once('.').map(|(_, e)| e) {
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        format!("/* simulated desktop file {file} */\n"),
    )
        .into_response()
}

fn xml(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn api_error(status: StatusCode, kind: &str, message: &str) -> Response {
    xml(
        status,
        format!("<ApiErrors><ApiError><ErrorType>{kind}</ErrorType><ErrorMessage>{message}</ErrorMessage></ApiError></ApiErrors>"),
    )
}

/// Who the request authenticates as.
#[derive(PartialEq, Eq)]
enum Caller {
    Admin,
    Agent(String),
}

impl Api {
    fn spec(&self) -> &NodeSpec {
        self.fleet.spec_of(self.node)
    }

    /// Basic authentication against the node's admin account and its agents; five wrong
    /// passwords for one user lock it for five minutes (401 meanwhile, as Finesse does).
    /// `None`: answer [`unauthorized`].
    fn authenticate(&self, headers: &HeaderMap) -> Option<Caller> {
        let (user, password) = basic(headers)?;
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, since)) = failures.get(&user) {
            if *count >= 5 && since.elapsed() < Duration::from_secs(300) {
                return None;
            }
        }
        let spec = self.spec();
        let caller = if user == spec.username && password == spec.password {
            Some(Caller::Admin)
        } else {
            spec.agents
                .iter()
                .find(|a| a.id == user && a.password == password)
                .map(|a| Caller::Agent(a.id.clone()))
        };
        match caller {
            Some(caller) => {
                failures.remove(&user);
                Some(caller)
            }
            None => {
                let entry = failures.entry(user).or_insert((0, Instant::now()));
                if entry.1.elapsed() >= Duration::from_secs(300) {
                    *entry = (0, Instant::now());
                }
                entry.0 += 1;
                entry.1 = Instant::now();
                None
            }
        }
    }
}

impl Api {
    fn state_of(&self, agent: &str) -> String {
        self.fleet
            .agent_state(self.node, agent)
            .unwrap_or_else(|| "NOT_READY".into())
    }

    /// 401 without valid credentials, 403 for an agent.
    #[allow(clippy::result_large_err)]
    fn admin_only(&self, headers: &HeaderMap, what: &str) -> Result<(), Response> {
        match self.authenticate(headers) {
            Some(Caller::Admin) => Ok(()),
            Some(Caller::Agent(_)) => Err(api_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("Only administrators may {what}"),
            )),
            None => Err(unauthorized()),
        }
    }
}

fn unauthorized() -> Response {
    api_error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "Invalid credentials",
    )
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine as _;
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The cluster's Finesse nodes as SystemInfo names them; through the proxy (the request's
/// Host is a right-hand side of the proxy map) the proxy's names.
async fn system_info(State(api): State<Api>, headers: HeaderMap) -> Response {
    let secure = api
        .fleet
        .read(api.node, |s| s.properties.get("secureSystemInfo").cloned())
        .is_some_and(|v| v == "true");
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let map = api.fleet.read(api.node, |s| s.proxy_map.clone());
    let via_proxy = map.iter().any(|line| {
        line.split_once('=').is_some_and(|(_, external)| {
            external == host || external.split(':').next() == Some(&host)
        })
    });
    if (secure || via_proxy) && api.authenticate(&headers).is_none() {
        return unauthorized();
    }
    let spec = api.spec();
    let peers: Vec<&NodeSpec> = api
        .fleet
        .spec
        .clusters
        .iter()
        .find(|c| c.nodes.iter().any(|n| n.fqdn == spec.fqdn))
        .map(|c| c.nodes.iter().filter(|n| n.is_finesse()).collect())
        .unwrap_or_default();
    let name_of = |fqdn: &str| -> (String, String) {
        if via_proxy {
            let internal = format!("{fqdn}:8445");
            if let Some((_, external)) = map
                .iter()
                .filter_map(|l| l.split_once('='))
                .find(|(i, _)| i.eq_ignore_ascii_case(&internal) || i.eq_ignore_ascii_case(fqdn))
            {
                let (h, p) = external.split_once(':').unwrap_or((external, "443"));
                return (h.to_owned(), p.to_owned());
            }
        }
        (fqdn.to_owned(), "8445".to_owned())
    };
    let node_xml = |tag: &str, node: Option<&&NodeSpec>| {
        node.map(|n| {
            let (host, port) = name_of(&n.fqdn);
            format!("<{tag}><host>{host}</host><httpsPort>{port}</httpsPort><xmppPort>5222</xmppPort><xmppSecurePort>5223</xmppSecurePort></{tag}>")
        })
        .unwrap_or_default()
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let domain = spec
        .fqdn
        .split_once('.')
        .map(|(_, d)| d)
        .unwrap_or(&spec.fqdn);
    xml(
        StatusCode::OK,
        format!(
            "<SystemInfo><currentTimestamp>{now}</currentTimestamp><deploymentType>UCCE</deploymentType><status>IN_SERVICE</status><systemAuthMode>NON_SSO</systemAuthMode><xmppDomain>{fqdn}</xmppDomain><xmppPubSubDomain>pubsub.{fqdn}</xmppPubSubDomain>{primary}{secondary}<uri>/finesse/api/SystemInfo</uri><domain>{domain}</domain></SystemInfo>",
            fqdn = spec.fqdn,
            primary = node_xml("primaryNode", peers.first()),
            secondary = node_xml("secondaryNode", peers.get(1)),
        ),
    )
}

async fn connected_users(State(api): State<Api>, headers: HeaderMap) -> Response {
    if let Err(denied) = api.admin_only(&headers, "read connected users") {
        return denied;
    }
    let u: Users = api.fleet.users(api.node);
    xml(
        StatusCode::OK,
        format!(
            "<ConnectedUsersInfo><userSummary><desktopUsers>{}</desktopUsers><fippaUsers>{}</fippaUsers><thirdPartyUsers>{}</thirdPartyUsers><totalConnectedUsers>{}</totalConnectedUsers><totalConnectedUsersViaProxy>{}</totalConnectedUsersViaProxy></userSummary><uri>/finesse/api/ConnectedUsersInfo</uri></ConnectedUsersInfo>",
            u.desktop, u.fippa, u.third_party, u.total(), u.proxy
        ),
    )
}

impl Api {
    /// An agent's `<User>` with its current state.
    fn agent_xml(&self, a: &crate::fleet::Agent) -> String {
        let (id, first, last) = (&a.id, &a.first_name, &a.last_name);
        let state = self.state_of(id);
        format!("<User><uri>/finesse/api/User/{id}</uri><loginId>{id}</loginId><loginName>{id}</loginName><firstName>{first}</firstName><lastName>{last}</lastName><roles><role>Agent</role></roles><state>{state}</state></User>")
    }
}

async fn user(State(api): State<Api>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let Some(caller) = api.authenticate(&headers) else {
        return unauthorized();
    };
    if let Caller::Agent(me) = &caller {
        if *me != id {
            return api_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Agents may read only their own user",
            );
        }
    }
    match api.spec().agents.iter().find(|a| a.id == id) {
        Some(a) => xml(StatusCode::OK, api.agent_xml(a)),
        None => api_error(StatusCode::NOT_FOUND, "Not Found", "User not found"),
    }
}

/// `PUT /finesse/api/User/<id>` with `<User><state>READY</state></User>`: the agent's own
/// state change (202, as Finesse answers).
async fn set_state(
    State(api): State<Api>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    match api.authenticate(&headers) {
        Some(Caller::Agent(me)) if me == id => {}
        Some(_) => {
            return api_error(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "Agents may change only their own state",
            )
        }
        None => return unauthorized(),
    }
    let state = body
        .split_once("<state>")
        .and_then(|(_, rest)| rest.split_once("</state>"))
        .map(|(state, _)| state.trim().to_owned());
    match state {
        Some(state) if ["READY", "NOT_READY", "LOGOUT"].contains(&state.as_str()) => {
            api.fleet.set_agent_state(api.node, &id, &state);
            StatusCode::ACCEPTED.into_response()
        }
        _ => api_error(
            StatusCode::BAD_REQUEST,
            "Invalid Input",
            "state must be READY, NOT_READY or LOGOUT",
        ),
    }
}

async fn users(State(api): State<Api>, headers: HeaderMap) -> Response {
    if let Err(denied) = api.admin_only(&headers, "list users") {
        return denied;
    }
    let body: String = api.spec().agents.iter().map(|a| api.agent_xml(a)).collect();
    xml(StatusCode::OK, format!("<Users>{body}</Users>"))
}
