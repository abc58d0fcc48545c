//! The desktop's static files: served from the cache without credentials, or fetched with a
//! fixed set of headers and kept when they may be shared.

use super::forward::{client_host, send, strip_hop_by_hop};
use super::*;

/// A static file: from the cache, or fetched with a fixed set of headers (none of the client's
/// credentials, cookies or preferences, so that one answer fits every client) and kept when it
/// is a complete 200 answer to a request without a query that the upstream lets be shared
/// (no `no-store`, `private` or `Vary`). Requests with a query are fetched and passed on, not
/// kept: cache-busting queries cannot evict the files everyone uses.
pub(super) async fn statics(
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
        return Response::from_parts(parts, body);
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
