//! A node's HTTPS listeners: every handshake gets the node's current tomcat certificate (a
//! regeneration shows once the web service restarted); a Finesse node's first listener also
//! answers the Finesse REST subset of DOMAIN.md §5, its second is the notification service
//! (7443). Every request is recorded ([`crate::Seen`]) and, with client-auth on, refused 403
//! when it comes from an allowed host without a trusted client certificate
//! ([`crate::client_auth`]).

mod finesse;

use finesse::{api_error, connected_users, set_state, system_info, user, users};

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
        let Ok((mut tcp, peer)) = listener.accept().await else {
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
        let fleet = fleet.clone();
        tokio::spawn(async move {
            if faults.latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
            }
            if crate::legacy::screen(&fleet, node, &mut tcp).await {
                return;
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
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            if faults.keepalive_ms > 0 {
                // hyper's head timeout runs from the end of the last answer: an idle timeout.
                builder
                    .http1()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(Duration::from_millis(faults.keepalive_ms));
            }
            let _ = builder
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
    let mut response = next.run(request).await;
    // HSTS comes with the HTTPS redirect (seed 002).
    if api.fleet.spec_of(api.node).is_finesse() && api.fleet.read(api.node, |s| s.https_redirect) {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            header::HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
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
    if api.fleet.spec_of(node).kind == "ids" {
        app = app
            .route("/ids/v1/keys/verifying", get(ids_key))
            .route("/ids/v1/oauth/token", axum::routing::post(ids_token));
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

fn json(value: serde_json::Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// The IdS's token verifying key.
async fn ids_key(State(api): State<Api>) -> Response {
    match api.fleet.ids_key(api.node) {
        Some(key) => json(key),
        None => api_error(StatusCode::NOT_FOUND, "Not Found", "No such resource"),
    }
}

/// An access token for an agent who signs in with Basic credentials (the simulated identity
/// provider's part, in one step), valid an hour.
async fn ids_token(State(api): State<Api>, headers: HeaderMap) -> Response {
    let Some((user, password)) = finesse::basic(&headers) else {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Credentials are required",
        );
    };
    if !api.fleet.agent_password(&user, &password) {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Invalid credentials",
        );
    }
    match api.fleet.ids_token(api.node, &user, 3_600) {
        Some(token) => json(serde_json::json!({
            "access_token": token, "token_type": "Bearer", "expires_in": 3_600
        })),
        None => api_error(StatusCode::NOT_FOUND, "Not Found", "No such resource"),
    }
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
