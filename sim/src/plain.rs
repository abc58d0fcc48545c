//! A Finesse node's unencrypted ports: HTTP (80, 8082), which answers a 301 to the desktop's
//! HTTPS port while the HTTPS redirect is on (seeds 001, 002) and the desktop in the clear
//! otherwise; and the notification service's XMPP (5222) and BOSH (7071) ports, which accept
//! connections only while `enableInsecureOpenfirePort` is true (seed 001: disabled by
//! default).

use crate::Fleet;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serves plain HTTP on `listener`; `https` is the port a redirect points to.
pub(crate) async fn serve_http(fleet: Arc<Fleet>, node: usize, listener: TcpListener, https: u16) {
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let fleet = fleet.clone();
        async move {
            if fleet.faults(node).down {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            if fleet.read(node, |s| s.https_redirect) {
                let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let location = format!("https://{}:{https}{path}", fleet.spec_of(node).fqdn);
                return Response::builder()
                    .status(StatusCode::MOVED_PERMANENTLY)
                    .header(header::LOCATION, location)
                    .body(axum::body::Body::empty())
                    .unwrap_or_default();
            }
            axum::response::Html(
                "<!doctype html><title>Finesse</title><p>Cisco Finesse desktop (over HTTP)</p>",
            )
            .into_response()
        }
    });
    let _ = axum::serve(listener, app).await;
}

/// Opens `address` while the node's `enableInsecureOpenfirePort` is true and closes it
/// otherwise (looked at every 200 ms); what connects is greeted as XMPP would and closed.
pub(crate) async fn serve_insecure(fleet: Arc<Fleet>, node: usize, address: SocketAddr) {
    let mut listener: Option<TcpListener> = None;
    loop {
        let open = fleet.read(node, |s| {
            s.properties
                .get("enableInsecureOpenfirePort")
                .map(String::as_str)
                == Some("true")
        });
        match (open, &listener) {
            (true, None) => listener = TcpListener::bind(address).await.ok(),
            (false, Some(_)) => listener = None,
            _ => {}
        }
        let Some(open) = &listener else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        tokio::select! {
            accepted = open.accept() => {
                if let Ok((mut tcp, _)) = accepted {
                    use tokio::io::AsyncWriteExt;
                    let _ = tcp.write_all(b"<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>").await;
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}
