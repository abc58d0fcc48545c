//! One request through the engine's checks, in order; the first that refuses answers (see the
//! crate's documentation for the chain). Every answer of the engine's own is counted by its
//! outcome in the report and the metrics.

mod bearer;
mod conn;
mod credentials;
mod finesse;
mod forward;
pub(crate) mod fuzzing;
mod identity;
mod request;
mod statics;

use bearer::authenticate_token;
pub(crate) use bearer::fetch_ids_keys;
pub(crate) use conn::{Activity, Conn};
use credentials::{credentials, protocol_credentials, without_credentials, Credentials};
use finesse::authenticate;
pub(crate) use finesse::fetch_valid_users;
pub(crate) use forward::address_value;
use forward::{error_chain, forward};
use identity::{identify, unauthorized};
use request::{authority, client_address, content_length, is_websocket, plain_path, under, Client};
use statics::statics;

use crate::body::{answer, boxed, Body, Guarded};
use crate::conns::Handle;
use crate::live::Loaded;
use crate::Engine;
use base64::Engine as _;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use proxyconf::{canonical, BanTarget, Class, Route};
use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

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
    // Read before the configuration: a memo made under a configuration another replaced
    // meanwhile never stands (putting one in force counts as a change after storing it).
    let generation = conn.engine.auth.generation();
    let live = conn.engine.live();
    let h1 = req.version() < Version::HTTP_2;
    // The access log (off unless asked for): the path is URI characters only (hyper refuses
    // anything else).
    let logged = tracing::enabled!(target: "access", tracing::Level::DEBUG)
        .then(|| (req.method().clone(), req.uri().path().to_owned()));
    let mut response = serve(&conn, &live, req, generation).await;
    if let Some((method, path)) = logged {
        tracing::debug!(
            target: "access",
            peer = %conn.peer.ip(),
            %method,
            %path,
            status = response.status().as_u16(),
        );
    }
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

async fn serve(
    conn: &Conn,
    live: &Loaded,
    mut req: Request<Incoming>,
    generation: u64,
) -> Response<Body> {
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
    let client = match client_address(conn.peer.ip(), config, req.headers()) {
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
        // Boxed, as the other paths not taken by most requests are: a request's future is
        // as large as its largest path and is copied whole as it moves.
        return Box::pin(statics(conn, live, route, req, client.address)).await;
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
    // The same credentials as this connection's last believed ones: nothing to read again.
    let authorization = req.headers().get(header::AUTHORIZATION);
    let recalled = authorization.and_then(|v| {
        engine
            .auth
            .recall(&conn.believed, v.as_bytes(), client.address)
    });
    let mut offered = None;
    let user = match recalled {
        Some(user) => {
            engine.auth.seen(&user, client.address);
            user
        }
        None => match identify(
            conn,
            live,
            (client, generation),
            &req,
            upgrade,
            &mut offered,
        )
        .await
        {
            Ok(user) => user,
            Err(refused) => return refused,
        },
    };
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
    let others_offered = without_credentials(req.headers_mut());
    let mut response = forward(conn, live, route, req, client.address, &user, upgrade).await;
    if let Some(entry) = offered.filter(|_| !others_offered) {
        if response.status() == StatusCode::SWITCHING_PROTOCOLS
            && !response
                .headers()
                .contains_key(header::SEC_WEBSOCKET_PROTOCOL)
        {
            if let Ok(value) = HeaderValue::from_str(&entry) {
                response
                    .headers_mut()
                    .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_be_read_two_ways_are_not_plain() {
        assert!(plain_path("/desktop/assets/js/app.js"));
        assert!(plain_path("/finesse/api/User/1001"));
        assert!(plain_path("/"));
        assert!(plain_path("/desktop/"));
        assert!(plain_path("/a%20b/c%2"));
        assert!(plain_path("/a/.b/..c/x.."));
        for bad in [
            "/desktop/assets/../../finesse/api/SystemInfo",
            "/desktop/assets/%2e%2e/x",
            "/desktop/assets/%2E%2E/x",
            "/desktop/assets/..%2fx",
            "/desktop/assets\\..\\x",
            "/desktop/./assets/x",
            "/x%00",
            "*",
            "",
            "/a//b",
            "//a",
            "/a/.",
            "/a/..",
            "/a%5Cb",
            "/a;b",
            "/a%2F",
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
}
