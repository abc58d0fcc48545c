//! Sending a request upstream: the headers it carries, the answer's, and WebSocket tunnels.

use super::*;

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

pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
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
pub(super) fn upstream_headers(
    headers: &mut HeaderMap,
    client: HeaderValue,
    forwarder_header: Option<&str>,
) {
    strip_hop_by_hop(headers);
    // One look at each field rather than a lookup per name: most heads carry none of them.
    let replaced = |name: &HeaderName| {
        CLIENT_ADDRESS.contains(name)
            || forwarder_header.is_some_and(|f| name.as_str().eq_ignore_ascii_case(f))
    };
    if headers.keys().any(replaced) {
        for name in CLIENT_ADDRESS {
            headers.remove(name);
        }
        if let Some(name) = forwarder_header {
            headers.remove(name);
        }
    }
    headers.insert(HeaderName::from_static("x-forwarded-for"), client.clone());
    headers.insert(HeaderName::from_static("x-real-ip"), client);
    headers.insert(
        HeaderName::from_static("x-forwarded-proto"),
        HeaderValue::from_static("https"),
    );
}

/// `client` as a header value (a connection's peer's is made once, with the connection).
pub(crate) fn address_value(client: IpAddr) -> HeaderValue {
    HeaderValue::from_str(&client.to_string()).expect("an address is a header value")
}

pub(super) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // One look at each field rather than a lookup per name: most heads carry none of them.
    if !headers
        .keys()
        .any(|name| HOP_BY_HOP.contains(name) || name == header::UPGRADE)
    {
        return;
    }
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
    host_header: Option<HeaderValue>,
    client: HeaderValue,
    forwarder_header: Option<&str>,
    upgrade: bool,
) -> Result<Request<B>, ()> {
    let (mut parts, body) = req.into_parts();
    // Origin form: the connection is the route's (an HTTP/2 request's authority goes as Host).
    parts.uri = match parts.uri.path_and_query() {
        Some(p) if p.as_str().starts_with('/') => Uri::from(p.clone()),
        Some(_) => return Err(()),
        None => Uri::from_static("/"),
    };
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
pub(super) fn client_host(req: &Request<Incoming>) -> Option<HeaderValue> {
    req.headers().get(header::HOST).cloned().or_else(|| {
        req.uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
    })
}

/// Sends `req` to the route's upstream (see [`upstream_request`]) and waits for its answer's
/// head; the upstream's health is written down either way.
pub(super) async fn send(
    conn: &Conn,
    live: &Loaded,
    route: &Route,
    req: Request<Body>,
    host: Option<HeaderValue>,
    client: IpAddr,
    upgrade: bool,
) -> Result<Response<Body>, Response<Body>> {
    let config = &live.config;
    let forwarder_header = config.forwarders.header.as_deref();
    // Most clients are the connection's peer, whose address is written once per connection.
    let client = if client == canonical(conn.peer.ip()) {
        conn.peer_value.clone()
    } else {
        address_value(client)
    };
    let Ok(req) = upstream_request(req, host, client, forwarder_header, upgrade) else {
        return Err(refuse(
            conn,
            "bad_request",
            StatusCode::BAD_REQUEST,
            "the request target cannot be forwarded",
        ));
    };
    let upstream = &route.internal;
    let timeout = Duration::from_secs(config.timeouts.upstream_response_secs);
    // Made in place (a future held in a variable first would take its room twice).
    let sent = async {
        if upgrade {
            // Boxed: rare, and connecting makes a large future (copied whole as it moves).
            let answer = Box::pin(live.upstream.upgrade(upstream, req)).await;
            answer.map(|r| r.map(boxed))
        } else {
            live.upstream
                .send(upstream, req)
                .await
                .map(|r| r.map(boxed))
        }
    };
    match tokio::time::timeout(timeout, sent).await {
        Ok(Ok(response)) => {
            conn.engine.health.ok(upstream);
            Ok(response)
        }
        Ok(Err(e)) => {
            // The client's body broke off (too large, too slow): the client's doing, not the
            // upstream's.
            match body_refusal(&*e) {
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
            let reason = error_chain(&*e);
            tracing::warn!(%upstream, %reason, "upstream failed");
            conn.engine.health.failed(upstream, reason);
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
                .failed(upstream, format!("no answer in {timeout:?}"));
            Err(refuse(
                conn,
                "upstream_timeout",
                StatusCode::GATEWAY_TIMEOUT,
                "the upstream did not answer in time",
            ))
        }
    }
}

pub(super) async fn forward(
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
        // Most requests have no body: nothing to guard, no timer to make.
        if hyper::body::Body::is_end_stream(&body) {
            return boxed(http_body_util::Empty::<Bytes>::new());
        }
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
    Response::from_parts(parts, body)
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

#[cfg(test)]
mod tests {
    use super::*;

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
        upstream_headers(
            &mut h,
            address_value("198.51.100.7".parse().unwrap()),
            Some("X-Client"),
        );
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
}
