//! The LAN side: the status port (Prometheus metrics at `/metrics`, the report as JSON at
//! `/status`) in plain HTTP for the monitoring network, and the cluster's `proxymap.txt` over
//! HTTPS for the nodes that fetch it from the proxy (seed 004: keep that port off the Internet).

use crate::body::{answer, bytes, Body};
use crate::Engine;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::fmt::Write as _;
use std::sync::Weak;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

type Handler = fn(&Engine, &Request<Incoming>) -> Response<Body>;

async fn serve(
    engine: Weak<Engine>,
    listener: TcpListener,
    stop: CancellationToken,
    tls: bool,
    handler: Handler,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Some(strong) = engine.upgrade() else {
            return;
        };
        let acceptor = if tls {
            match strong.live().lan_tls.clone() {
                Some(config) => Some(tokio_rustls::TlsAcceptor::from(config)),
                None => continue,
            }
        } else {
            None
        };
        let weak = engine.clone();
        // Served on a worker, as client connections are: a flood of handshakes here does not
        // hold up the main thread, which accepts the clients' connections.
        crate::workers::hand_over(tcp, move |tcp| async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let weak = weak.clone();
                async move {
                    let response = match weak.upgrade() {
                        Some(engine)
                            if req.method() == Method::GET || req.method() == Method::HEAD =>
                        {
                            handler(&engine, &req)
                        }
                        Some(_) => answer(StatusCode::METHOD_NOT_ALLOWED, "GET only"),
                        None => answer(StatusCode::SERVICE_UNAVAILABLE, "stopping"),
                    };
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10));
            let _ = match acceptor {
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await
                    {
                        Ok(Ok(stream)) => {
                            builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await
                        }
                        _ => return,
                    }
                }
                None => builder.serve_connection(TokioIo::new(tcp), service).await,
            };
        });
    }
}

pub(crate) async fn serve_status(
    engine: Weak<Engine>,
    listener: TcpListener,
    stop: CancellationToken,
) {
    serve(engine, listener, stop, false, status).await
}

pub(crate) async fn serve_proxymap(
    engine: Weak<Engine>,
    listener: TcpListener,
    stop: CancellationToken,
) {
    serve(engine, listener, stop, true, proxymap).await
}

fn typed(text: String, content_type: &'static str) -> Response<Body> {
    let mut response = Response::new(bytes(text));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn status(engine: &Engine, req: &Request<Incoming>) -> Response<Body> {
    match req.uri().path() {
        "/metrics" => typed(metrics(engine), "text/plain; version=0.0.4; charset=utf-8"),
        "/status" => typed(
            serde_json::to_string(&engine.report()).unwrap_or_default(),
            "application/json",
        ),
        "/healthz" => typed("ok\n".into(), "text/plain; charset=utf-8"),
        _ => answer(StatusCode::NOT_FOUND, "/metrics, /status or /healthz"),
    }
}

fn proxymap(engine: &Engine, req: &Request<Incoming>) -> Response<Body> {
    let live = engine.live();
    if req.uri().path() != "/proxymap.txt" || live.config.status.proxymap.is_empty() {
        return answer(StatusCode::NOT_FOUND, "no such file");
    }
    typed(
        live.config.status.proxymap.clone(),
        "text/plain; charset=utf-8",
    )
}

/// Prometheus text exposition of the engine's state.
pub fn metrics(engine: &Engine) -> String {
    let report = engine.report();
    let mut out = String::with_capacity(2048);
    let mut gauge = |name: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    };
    gauge(
        "gatehouse_proxy_config_version",
        "The configuration version in force.",
        report.version,
    );
    gauge(
        "gatehouse_proxy_sessions",
        "Users connected, by user and client address.",
        report.sessions.len() as u64,
    );
    gauge(
        "gatehouse_proxy_websockets",
        "Open WebSockets.",
        report.sessions.iter().map(|s| s.websockets as u64).sum(),
    );
    gauge(
        "gatehouse_proxy_bans",
        "Addresses and accounts banned now.",
        report.bans.len() as u64,
    );
    gauge(
        "gatehouse_proxy_connections",
        "Open client connections and tunnels.",
        engine.conns.open_count() as u64,
    );
    gauge(
        "gatehouse_proxy_cache_entries",
        "Static files in the cache.",
        report.cache.entries,
    );
    gauge(
        "gatehouse_proxy_cache_bytes",
        "Bytes of static files in the cache.",
        report.cache.bytes,
    );
    let _ = writeln!(out, "# HELP gatehouse_proxy_cache_hits_total Static files served from the cache.\n# TYPE gatehouse_proxy_cache_hits_total counter\ngatehouse_proxy_cache_hits_total {}", report.cache.hits);
    let _ = writeln!(out, "# HELP gatehouse_proxy_requests_total Requests answered, by outcome.\n# TYPE gatehouse_proxy_requests_total counter");
    for (outcome, n) in &report.counters {
        let _ = writeln!(
            out,
            "gatehouse_proxy_requests_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    let _ = writeln!(out, "# HELP gatehouse_proxy_upstream_up Whether an upstream answered last time.\n# TYPE gatehouse_proxy_upstream_up gauge");
    for h in &report.upstreams {
        let _ = writeln!(
            out,
            "gatehouse_proxy_upstream_up{{upstream=\"{}\"}} {}",
            escape(&h.upstream),
            u8::from(h.up)
        );
    }
    out
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
