//! One request through the engine's checks, in order; the first that refuses answers (see the
//! crate's documentation for the chain). Every answer of the engine's own is counted by its
//! outcome in the report and the metrics.

use crate::body::{answer, boxed, Body, Guarded};
use crate::conns::Handle;
use crate::live::Loaded;
use crate::{auth, Engine};
use base64::Engine as _;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use proxyconf::{canonical, BanTarget, Class, Route};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// One client connection, as every request on it sees it.
pub(crate) struct Conn {
    pub engine: Arc<Engine>,
    pub peer: SocketAddr,
    /// The port clients connected to (the listener's public port).
    pub port: u16,
    /// The TLS server name the client asked for, lowercased.
    pub sni: Option<String>,
    pub handle: Handle,
    /// More connections from this address than the limit: every request is answered 503.
    pub over_limit: bool,
    pub requests: AtomicU32,
    pub activity: Activity,
}

/// Requests in flight on a connection and when the last one ended.
pub(crate) struct Activity {
    in_flight: AtomicU32,
    since: std::sync::Mutex<std::time::Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            in_flight: AtomicU32::new(0),
            since: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }
}

impl Activity {
    /// How long nothing has been in flight (zero while something is).
    pub fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        crate::lock(&self.since).elapsed()
    }

    fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self)
    }
}

struct InFlight<'a>(&'a Activity);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *crate::lock(&self.0.since) = std::time::Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Headers that concern one connection only (RFC 9110 §7.6.1), never forwarded either way.
const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
];

/// Client-address headers a client may have sent: replaced by what the engine determined.
const CLIENT_ADDRESS: [HeaderName; 3] = [
    HeaderName::from_static("x-forwarded-for"),
    HeaderName::from_static("x-real-ip"),
    header::FORWARDED,
];

pub(crate) async fn handle(
    conn: Arc<Conn>,
    req: Request<Incoming>,
) -> Result<Response<Body>, std::convert::Infallible> {
    let _in_flight = conn.activity.start();
    let live = conn.engine.live();
    let h1 = req.version() < Version::HTTP_2;
    let method = req.method().clone();
    let target = req.uri().path().to_owned();
    let mut response = serve(&conn, &live, req).await;
    // The access log: the path is URI characters only (hyper refuses anything else).
    tracing::debug!(
        target: "access",
        peer = %conn.peer.ip(),
        %method,
        path = %target,
        status = response.status().as_u16(),
    );
    if h1 {
        let n = conn.requests.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= live.config.timeouts.keepalive_requests || conn.over_limit {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
    }
    Ok(response)
}

/// An answer of the engine's own, counted under `outcome`.
fn refuse(conn: &Conn, outcome: &'static str, status: StatusCode, text: &str) -> Response<Body> {
    conn.engine.counters.add(outcome);
    answer(status, text)
}

async fn serve(conn: &Conn, live: &Loaded, mut req: Request<Incoming>) -> Response<Body> {
    let engine = &conn.engine;
    let config = &live.config;
    if conn.over_limit {
        return refuse(
            conn,
            "too_many_connections",
            StatusCode::SERVICE_UNAVAILABLE,
            "too many connections from your address",
        );
    }
    let _stream = if req.version() == Version::HTTP_2 {
        let (guard, open) = engine.conns.stream(canonical(conn.peer.ip()));
        if open > config.limits.http2_streams
            && !config.forwarders.includes(canonical(conn.peer.ip()))
        {
            return refuse(
                conn,
                "too_many_connections",
                StatusCode::SERVICE_UNAVAILABLE,
                "too many requests at once from your address",
            );
        }
        Some(guard)
    } else {
        None
    };
    // Framing is hyper's: duplicate or differing lengths, a Transfer-Encoding not ending in
    // chunked, and folded headers are refused with 400; with both Transfer-Encoding and
    // Content-Length the length is dropped and the connection closed after the answer (RFC 9112
    // §6.1). The body is sent upstream framed anew, so nothing left over can reach it.
    let Some((host, port)) = authority(&req, conn.port) else {
        return refuse(
            conn,
            "bad_request",
            StatusCode::BAD_REQUEST,
            "the request names no valid host",
        );
    };
    if conn
        .sni
        .as_deref()
        .is_some_and(|sni| !sni.eq_ignore_ascii_case(&host))
    {
        return refuse(
            conn,
            "misdirected",
            StatusCode::MISDIRECTED_REQUEST,
            "the host differs from the TLS server name",
        );
    }
    let Some(route) = live.route(&host, port).filter(|_| port == conn.port) else {
        return refuse(
            conn,
            "unknown_host",
            StatusCode::NOT_FOUND,
            "this host is not served here",
        );
    };
    let client = match client_address(conn, config, req.headers()) {
        Ok(client) => client,
        Err(why) => return refuse(conn, "bad_request", StatusCode::BAD_REQUEST, why),
    };
    let exempt = client.exempt;
    if !exempt && engine.bans.banned(&BanTarget::Address(client.key)) {
        return refuse(
            conn,
            "banned",
            StatusCode::IM_A_TEAPOT,
            "blocked for exceeding the retry limit",
        );
    }
    if matches!(*req.method(), Method::CONNECT | Method::TRACE) {
        return refuse(
            conn,
            "bad_request",
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        );
    }
    let path = req.uri().path().to_owned();
    if !plain_path(&path) {
        return refuse(
            conn,
            "bad_request",
            StatusCode::BAD_REQUEST,
            "the path is not plain",
        );
    }
    if config.auth.refused_prefixes.iter().any(|p| under(&path, p)) {
        return refuse(
            conn,
            "refused_path",
            StatusCode::FORBIDDEN,
            "not available through the proxy",
        );
    }
    let class = Class::of(route.component, &path);
    if !exempt {
        if let Err(wait) = live.limits.check(class, client.key) {
            let mut response = refuse(
                conn,
                "rate_limited",
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests",
            );
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            return response;
        }
    }
    if let Some(length) = content_length(req.headers()) {
        if length > config.limits.body_bytes {
            return refuse(
                conn,
                "too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            );
        }
    }
    let upgrade = is_websocket(&req);
    if !upgrade
        && matches!(*req.method(), Method::GET | Method::HEAD)
        && config
            .auth
            .static_prefixes
            .iter()
            .any(|p| path.starts_with(p.as_str()))
    {
        return statics(conn, live, route, req, client.address).await;
    }
    // A CORS preflight carries no credentials by design (browsers send none): the component
    // answers it, rate-limited like everything else.
    if *req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        && !req.headers().contains_key(header::AUTHORIZATION)
    {
        return forward(conn, live, route, req, client.address, "", None).await;
    }
    let user = match credentials(req.headers()) {
        Credentials::Basic(user, password) => {
            match authenticate(conn, live, client, &user, &password, req.headers()).await {
                Ok(()) => {
                    engine.auth.seen(&user, client.address);
                    user
                }
                Err(refused) => return refused,
            }
        }
        Credentials::Bearer => {
            return unauthorized(
                conn,
                "SSO tokens are not accepted by this proxy's configuration",
                false,
            );
        }
        Credentials::Malformed => {
            return unauthorized(conn, "the credentials are not readable", false);
        }
        Credentials::None if upgrade => {
            let window = Duration::from_secs(config.auth.websocket_window_secs);
            match engine.auth.recently(client.address, window) {
                Some(user) => user,
                None => {
                    return refuse(
                        conn,
                        "unauthorized",
                        StatusCode::UNAUTHORIZED,
                        "Authorization Failed",
                    );
                }
            }
        }
        Credentials::None => {
            return unauthorized(conn, "credentials required", navigation(req.headers()))
        }
    };
    engine.conns.user(&conn.handle, &user);
    let upgrade = if upgrade {
        // A WebSocket holds a connection as long as it is open: it counts against the limit.
        let (tunnel, open) = engine.conns.open(client.key, !exempt);
        if !exempt && open > config.limits.http1_connections {
            return refuse(
                conn,
                "too_many_connections",
                StatusCode::SERVICE_UNAVAILABLE,
                "too many connections from your address",
            );
        }
        engine.conns.user(&tunnel, &user);
        Some((hyper::upgrade::on(&mut req), tunnel))
    } else {
        None
    };
    forward(conn, live, route, req, client.address, &user, upgrade).await
}

/// The 401 answer. Only a page the browser navigates to without credentials is challenged
/// (`WWW-Authenticate: Basic`, the browser's own prompt); the desktop's own requests (fetch,
/// XHR) are answered without the challenge, as Finesse answers them, or every mistyped
/// password would open the browser's sign-in dialog over the desktop.
fn unauthorized(conn: &Conn, text: &str, challenge: bool) -> Response<Body> {
    let mut response = refuse(conn, "unauthorized", StatusCode::UNAUTHORIZED, text);
    if challenge {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Finesse\""),
        );
    }
    response
}

/// A top-level navigation (`Sec-Fetch-Mode: navigate`), or a client that does not say (curl,
/// older clients).
fn navigation(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-mode")
        .is_none_or(|mode| mode.as_bytes() == b"navigate")
}

/// The host and port the request is for: HTTP/2's `:authority` or HTTP/1.1's absolute target,
/// else the `Host` header; no port means the listener's. When both a target authority and a
/// `Host` header are given they must name the same host and port (the upstream reads `Host`).
fn authority(req: &Request<Incoming>, listener_port: u16) -> Option<(String, u16)> {
    let parse = |text: &str| -> Option<(String, u16)> {
        if text.contains('@') {
            return None;
        }
        let authority: http::uri::Authority = text.parse().ok()?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return None;
        }
        Some((
            host.to_ascii_lowercase(),
            authority.port_u16().unwrap_or(listener_port),
        ))
    };
    let header = match req.headers().get(header::HOST) {
        Some(value) => Some(parse(value.to_str().ok()?)?),
        None => None,
    };
    match (req.uri().authority(), header) {
        (Some(target), header) => {
            let target = parse(target.as_str())?;
            header.is_none_or(|h| h == target).then_some(target)
        }
        (None, header) => header,
    }
}

/// Who the client is, as far as the engine can tell.
#[derive(Clone, Copy)]
pub(crate) struct Client {
    /// Its address: what the upstream and the report are told.
    pub address: IpAddr,
    /// What bans, failures and rates are counted by: the address, or its /64 for IPv6 (one
    /// host holds a whole /64, so counting single addresses would let it rotate).
    pub key: IpAddr,
    /// A listed forwarder speaking for itself (seed 004: "not blocked or rate limited").
    pub exempt: bool,
}

impl Client {
    fn new(address: IpAddr, exempt: bool) -> Client {
        let key = match address {
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            v4 => v4,
        };
        Client {
            address,
            key,
            exempt,
        }
    }
}

/// The client: the socket's address, unless the socket is a listed forwarder. From a
/// forwarder, the configured header's address (the last of a list: the one the forwarder
/// added); a forwarder that sends no header speaks for itself (seed 004: devices without
/// header support) and is exempt. A header given twice or not holding an address is refused:
/// an address the engine cannot read would otherwise make the client the exempt forwarder.
fn client_address(
    conn: &Conn,
    config: &proxyconf::Config,
    headers: &HeaderMap,
) -> Result<Client, &'static str> {
    let socket = canonical(conn.peer.ip());
    if !config.forwarders.includes(socket) {
        return Ok(Client::new(socket, false));
    }
    let Some(name) = &config.forwarders.header else {
        return Ok(Client::new(socket, true));
    };
    let mut values = headers.get_all(name.as_str()).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(Client::new(socket, true)),
        (Some(value), None) => value
            .to_str()
            .ok()
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok())
            .map(|a| Client::new(canonical(a), false))
            .ok_or("the forwarder's client address header does not hold an address"),
        _ => Err("the forwarder's client address header is given twice"),
    }
}

/// A path without dot segments, empty segments, backslashes, NUL, encoded slashes and dots, or
/// `;` path parameters (Tomcat drops them, then normalises: `/a/..;/b` is `/b` there), which
/// the upstream might read differently from the engine's prefix checks.
fn plain_path(path: &str) -> bool {
    if !path.starts_with('/') || path.contains("//") || path.contains(';') {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2e")
        || lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%00")
    {
        return false;
    }
    !path.contains('\\') && !path.split('/').any(|s| s == ".." || s == ".")
}

/// `path` is `prefix` or below it.
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix).is_some_and(|rest| {
        rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/') || rest.starts_with('?')
    })
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn is_websocket<B>(req: &Request<B>) -> bool {
    req.version() == Version::HTTP_11
        && req.method() == Method::GET
        && req
            .headers()
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
        && req
            .headers()
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

enum Credentials {
    Basic(String, String),
    Bearer,
    Malformed,
    None,
}

fn credentials(headers: &HeaderMap) -> Credentials {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Credentials::None;
    };
    let Ok(value) = value.to_str() else {
        return Credentials::Malformed;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::Bearer;
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Credentials::Malformed;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
        return Credentials::Malformed;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return Credentials::Malformed;
    };
    match text.split_once(':') {
        Some((user, password)) => Credentials::Basic(user.to_owned(), password.to_owned()),
        None => Credentials::Malformed,
    }
}

/// Basic credentials: believed from the cache, else checked against Finesse. A failure counts
/// against the address and the account; reaching the limit bans them. An address ban closes
/// what the address has open. An account ban stops every further check of that account's
/// passwords (no more guessing) but lets credentials already believed through: anyone can
/// fail five times with an agent's name, and that must not throw the agent out.
async fn authenticate(
    conn: &Conn,
    live: &Loaded,
    client: Client,
    user: &str,
    password: &str,
    headers: &HeaderMap,
) -> Result<(), Response<Body>> {
    let engine = &conn.engine;
    let config = &live.config;
    // Login IDs are counted without case, so that `Agent1` and `agent1` share one count.
    let account = BanTarget::Account(user.to_ascii_lowercase());
    let plausible = auth::plausible_user(user);
    if plausible && engine.auth.believed(user, password) {
        return Ok(());
    }
    if plausible && engine.bans.banned(&account) {
        return Err(refuse(
            conn,
            "banned",
            StatusCode::IM_A_TEAPOT,
            "blocked for exceeding the retry limit",
        ));
    }
    let accepted = if plausible {
        match finesse_accepts(conn, live, user, headers).await {
            Ok(accepted) => accepted,
            Err(reason) => {
                tracing::warn!(%reason, "credentials could not be checked");
                return Err(refuse(
                    conn,
                    "auth_unavailable",
                    StatusCode::BAD_GATEWAY,
                    "credentials could not be checked",
                ));
            }
        }
    } else {
        false
    };
    let mut targets = Vec::with_capacity(2);
    if !client.exempt {
        targets.push(BanTarget::Address(client.key));
    }
    if plausible {
        targets.push(account);
    }
    if accepted {
        engine.bans.succeeded(&targets);
        engine
            .auth
            .remember(user, password, config.auth.credential_cache_secs);
        return Ok(());
    }
    let mut banned = false;
    for ban in engine.bans.failed(&targets, &config.bans) {
        banned |= matches!(ban.target, BanTarget::Address(_));
        if let BanTarget::Address(address) = ban.target {
            // This connection still answers (401), then closes: it is over the line now.
            engine.forget_address_but(address, Some(&conn.handle));
        }
    }
    let mut refused = unauthorized(conn, "Invalid credentials", false);
    if banned {
        refused
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Err(refused)
}

/// Asks Finesse (`GET /finesse/api/User/<id>` with the client's credentials): `Ok(false)` when
/// it refuses them, `Err` when no Finesse node answered.
async fn finesse_accepts(
    conn: &Conn,
    live: &Loaded,
    user: &str,
    headers: &HeaderMap,
) -> Result<bool, String> {
    let config = &live.config;
    let targets: Vec<&proxyconf::HostPort> = if config.auth.finesse.is_empty() {
        config
            .routes
            .iter()
            .filter(|r| r.component == proxyconf::Component::Finesse)
            .map(|r| &r.internal)
            .take(2)
            .collect()
    } else {
        config.auth.finesse.iter().collect()
    };
    let mut last = String::from("no Finesse node");
    for target in targets {
        let Ok(uri) = format!("https://{target}/finesse/api/User/{user}").parse::<Uri>() else {
            continue;
        };
        let mut req = Request::get(uri);
        if let Some(v) = headers.get(header::AUTHORIZATION) {
            req = req.header(header::AUTHORIZATION, v.clone());
        }
        let Ok(req) = req.body(crate::body::bytes(Bytes::new())) else {
            continue;
        };
        let upstream = target.to_string();
        let timeout = Duration::from_secs(config.timeouts.upstream_connect_secs + 10);
        match tokio::time::timeout(timeout, live.upstream.request(req)).await {
            Ok(Ok(response)) => {
                conn.engine.health.ok(&upstream);
                match response.status() {
                    StatusCode::OK => return Ok(true),
                    StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND => return Ok(false),
                    other => last = format!("{upstream} answered {other}"),
                }
            }
            Ok(Err(e)) => {
                last = format!("{upstream}: {}", error_chain(&e));
                conn.engine.health.failed(&upstream, last.clone());
            }
            Err(_) => {
                last = format!("{upstream}: no answer in {timeout:?}");
                conn.engine.health.failed(&upstream, last.clone());
            }
        }
    }
    Err(last)
}

/// The engine's own refusal of a request body, somewhere in `e`'s causes.
fn body_refusal<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a crate::body::Refused> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if let Some(refused) = c.downcast_ref::<crate::body::Refused>() {
            return Some(refused);
        }
        cause = c.source();
    }
    None
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The headers sent upstream: hop-by-hop ones (and those `Connection` names) dropped, the
/// client-address headers replaced by the engine's finding.
fn upstream_headers(headers: &mut HeaderMap, client: IpAddr, forwarder_header: Option<&str>) {
    strip_hop_by_hop(headers);
    for name in CLIENT_ADDRESS {
        headers.remove(name);
    }
    if let Some(name) = forwarder_header {
        headers.remove(name);
    }
    let value = HeaderValue::from_str(&client.to_string()).expect("an address is a header value");
    headers.insert(HeaderName::from_static("x-forwarded-for"), value.clone());
    headers.insert(HeaderName::from_static("x-real-ip"), value);
    headers.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static("https"),
    );
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    headers.remove(header::UPGRADE);
}

/// The upstream request for `req`: to the route's internal side, with the client's `Host`
/// (the components recognise proxied requests by it).
fn upstream_request<B>(
    req: Request<B>,
    route: &Route,
    host_header: Option<HeaderValue>,
    client: IpAddr,
    forwarder_header: Option<&str>,
    upgrade: bool,
) -> Result<Request<B>, ()> {
    let (mut parts, body) = req.into_parts();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!("https://{}{}", route.internal, path)
        .parse()
        .map_err(|_| ())?;
    parts.version = Version::HTTP_11;
    // HTTP/2 may split cookies over several fields; HTTP/1.1 wants one (RFC 9113 §8.2.3).
    let cookies: Vec<&[u8]> = parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    if cookies.len() > 1 {
        let joined = HeaderValue::from_bytes(&cookies.join(&b"; "[..])).map_err(|_| ())?;
        parts.headers.insert(header::COOKIE, joined);
    }
    upstream_headers(&mut parts.headers, client, forwarder_header);
    if let Some(host) = host_header {
        parts.headers.insert(header::HOST, host);
    }
    if upgrade {
        websocket_upgrade(&mut parts.headers);
    }
    Ok(Request::from_parts(parts, body))
}

/// `Connection: upgrade` and `Upgrade: websocket`, the only hop-by-hop headers passed on (those
/// of the client's or the upstream's own being dropped).
fn websocket_upgrade(headers: &mut HeaderMap) {
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
}

/// The `Host` the upstream sees: the one the client used (HTTP/2's authority as a header).
fn client_host(req: &Request<Incoming>) -> Option<HeaderValue> {
    req.headers().get(header::HOST).cloned().or_else(|| {
        req.uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    })
}

/// Sends `req` to the route's upstream (see [`upstream_request`]) and waits for its answer's
/// head; the upstream's health is written down either way.
async fn send(
    conn: &Conn,
    live: &Loaded,
    route: &Route,
    req: Request<Body>,
    host: Option<HeaderValue>,
    client: IpAddr,
    upgrade: bool,
) -> Result<Response<Incoming>, Response<Body>> {
    let config = &live.config;
    let forwarder_header = config.forwarders.header.as_deref();
    let Ok(req) = upstream_request(req, route, host, client, forwarder_header, upgrade) else {
        return Err(refuse(
            conn,
            "bad_request",
            StatusCode::BAD_REQUEST,
            "the request target cannot be forwarded",
        ));
    };
    let upstream = route.internal.to_string();
    let timeout = Duration::from_secs(config.timeouts.upstream_response_secs);
    match tokio::time::timeout(timeout, live.upstream.request(req)).await {
        Ok(Ok(response)) => {
            conn.engine.health.ok(&upstream);
            Ok(response)
        }
        Ok(Err(e)) => {
            // The client's body broke off (too large, too slow): the client's doing, not the
            // upstream's.
            match body_refusal(&e) {
                Some(crate::body::Refused::TooLarge(_)) => {
                    return Err(refuse(
                        conn,
                        "too_large",
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the request body is too large",
                    ))
                }
                Some(crate::body::Refused::Slow(_)) => {
                    return Err(refuse(
                        conn,
                        "slow_body",
                        StatusCode::REQUEST_TIMEOUT,
                        "the request body stopped coming",
                    ))
                }
                None => {}
            }
            let reason = error_chain(&e);
            tracing::warn!(%upstream, %reason, "upstream failed");
            conn.engine.health.failed(&upstream, reason);
            Err(refuse(
                conn,
                "no_upstream",
                StatusCode::BAD_GATEWAY,
                "no live upstream",
            ))
        }
        Err(_) => {
            conn.engine
                .health
                .failed(&upstream, format!("no answer in {timeout:?}"));
            Err(refuse(
                conn,
                "upstream_timeout",
                StatusCode::GATEWAY_TIMEOUT,
                "the upstream did not answer in time",
            ))
        }
    }
}

async fn forward(
    conn: &Conn,
    live: &Loaded,
    route: &Route,
    req: Request<Incoming>,
    client: IpAddr,
    user: &str,
    upgrade: Option<(hyper::upgrade::OnUpgrade, Handle)>,
) -> Response<Body> {
    let config = &live.config;
    let host = client_host(&req);
    let req = req.map(|body| {
        boxed(Guarded::new(
            body,
            config.limits.body_bytes,
            Duration::from_secs(config.timeouts.client_body_secs),
        ))
    });
    let mut response = match send(conn, live, route, req, host, client, upgrade.is_some()).await {
        Ok(response) => response,
        Err(refused) => return refused,
    };
    conn.engine.counters.add("forwarded");
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        let Some((client_side, handle)) = upgrade else {
            return refuse(
                conn,
                "no_upstream",
                StatusCode::BAD_GATEWAY,
                "the upstream switched protocols unasked",
            );
        };
        let upstream_side = hyper::upgrade::on(&mut response);
        tunnel(conn, handle, client, user, client_side, upstream_side);
        let (mut parts, _) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        websocket_upgrade(&mut parts.headers);
        return Response::from_parts(parts, boxed(http_body_util::Empty::<Bytes>::new()));
    }
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, boxed(body))
}

/// Joins the client's and the upstream's upgraded connections; registered so that a ban or a
/// revoke closes it at once.
fn tunnel(
    conn: &Conn,
    handle: Handle,
    client: IpAddr,
    user: &str,
    client_side: hyper::upgrade::OnUpgrade,
    upstream_side: hyper::upgrade::OnUpgrade,
) {
    let engine = conn.engine.clone();
    let user = user.to_owned();
    tokio::spawn(async move {
        let (Ok(client_io), Ok(upstream_io)) = (client_side.await, upstream_side.await) else {
            return;
        };
        engine.auth.websocket(&user, client, true);
        let mut a = hyper_util::rt::TokioIo::new(client_io);
        let mut b = hyper_util::rt::TokioIo::new(upstream_io);
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
            _ = handle.close.cancelled() => {}
        }
        engine.auth.websocket(&user, client, false);
        drop(handle);
    });
}

/// A static file: from the cache, or fetched with a fixed set of headers (none of the client's
/// credentials, cookies or preferences, so that one answer fits every client) and kept when it
/// is a complete 200 answer to a request without a query that the upstream lets be shared
/// (no `no-store`, `private` or `Vary`). Requests with a query are fetched and passed on, not
/// kept: cache-busting queries cannot evict the files everyone uses.
async fn statics(
    conn: &Conn,
    live: &Loaded,
    route: &Route,
    req: Request<Incoming>,
    client: IpAddr,
) -> Response<Body> {
    let engine = &conn.engine;
    let key = format!(
        "{}{}",
        route.external,
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    let head = req.method() == Method::HEAD;
    let keep = req.uri().query().is_none();
    if let Some(entry) = keep.then(|| engine.statics.get(&key)).flatten() {
        engine.counters.add("static_cached");
        let mut response = Response::new(if head {
            crate::body::bytes(Bytes::new())
        } else {
            crate::body::bytes(entry.body.clone())
        });
        *response.headers_mut() = entry.headers;
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(entry.body.len()));
        return response;
    }
    let host = client_host(&req);
    let mut fetch = Request::get(req.uri().clone())
        .body(crate::body::bytes(Bytes::new()))
        .expect("a GET of a parsed target is a request");
    for name in [header::ACCEPT, header::USER_AGENT] {
        if let Some(value) = req.headers().get(&name) {
            fetch.headers_mut().insert(name, value.clone());
        }
    }
    let response = match send(conn, live, route, fetch, host, client, false).await {
        Ok(response) => response,
        Err(refused) => return refused,
    };
    let (mut parts, body) = response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::SET_COOKIE);
    let small =
        content_length(&parts.headers).is_some_and(|n| n <= crate::statics::MAX_ENTRY as u64);
    let shared = !parts.headers.contains_key(header::VARY)
        && !parts
            .headers
            .get_all(header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                let v = v.to_ascii_lowercase();
                v.contains("no-store") || v.contains("private")
            });
    if parts.status != StatusCode::OK || !small || !keep || !shared {
        engine.counters.add("static_passed");
        return Response::from_parts(parts, boxed(body));
    }
    let Ok(collected) = body.collect().await else {
        return refuse(
            conn,
            "no_upstream",
            StatusCode::BAD_GATEWAY,
            "the upstream's answer broke off",
        );
    };
    let data = collected.to_bytes();
    engine.statics.put(key, &parts.headers, data.clone());
    engine.counters.add("static_fetched");
    Response::from_parts(
        parts,
        if head {
            crate::body::bytes(Bytes::new())
        } else {
            crate::body::bytes(data)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_be_read_two_ways_are_not_plain() {
        assert!(plain_path("/desktop/assets/js/app.js"));
        assert!(plain_path("/finesse/api/User/1001"));
        for bad in [
            "/desktop/assets/../../finesse/api/SystemInfo",
            "/desktop/assets/%2e%2e/x",
            "/desktop/assets/%2E%2E/x",
            "/desktop/assets/..%2fx",
            "/desktop/assets\\..\\x",
            "/desktop/./assets/x",
            "/x%00",
            "*",
        ] {
            assert!(!plain_path(bad), "{bad}");
        }
    }

    #[test]
    fn a_prefix_covers_itself_and_below_only() {
        assert!(under("/cfadmin", "/cfadmin"));
        assert!(under("/cfadmin/x", "/cfadmin"));
        assert!(!under("/cfadministrator", "/cfadmin"));
        assert!(under("/desktop/assets/x", "/desktop/assets/"));
    }

    #[test]
    fn hop_by_hop_and_client_address_headers_do_not_reach_the_upstream() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Secret"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert("x-forwarded-for", HeaderValue::from_static("1.2.3.4"));
        h.insert("x-real-ip", HeaderValue::from_static("1.2.3.4"));
        h.insert("x-client", HeaderValue::from_static("1.2.3.4"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        upstream_headers(&mut h, "198.51.100.7".parse().unwrap(), Some("X-Client"));
        let mut names: Vec<&str> = h.keys().map(|k| k.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "accept",
                "x-forwarded-for",
                "x-forwarded-proto",
                "x-real-ip"
            ]
        );
        assert_eq!(h["x-forwarded-for"], "198.51.100.7");
        assert_eq!(h["x-real-ip"], "198.51.100.7");
    }

    #[test]
    fn basic_credentials_are_read_and_anything_else_is_told_apart() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWdlbnQxOnBhc3M6d29yZA=="),
        );
        assert!(
            matches!(credentials(&h), Credentials::Basic(u, p) if u == "agent1" && p == "pass:word")
        );
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert!(matches!(credentials(&h), Credentials::Bearer));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(matches!(credentials(&h), Credentials::Malformed));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Digest x"));
        assert!(matches!(credentials(&h), Credentials::Malformed));
        h.remove(header::AUTHORIZATION);
        assert!(matches!(credentials(&h), Credentials::None));
    }
}
