//! TLS servers on loopback that complete handshakes until the test ends.

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Any free port on 127.0.0.1.
const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// ring, the provider Gatehouse uses.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server configuration that serves `chain` with `key`.
pub fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> rustls::ServerConfig {
    rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("the chain and its key")
}

/// Serves `chain` with `key`; returns the port.
pub async fn serve(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> u16 {
    serve_config(server_config(chain, key), Arc::new(AtomicBool::new(true))).await
}

/// Serves with `config`; while `open` is false, connections are closed at once. Returns the
/// port. Each connection is held after its handshake until the client closes it.
pub async fn serve_config(config: rustls::ServerConfig, open: Arc<AtomicBool>) -> u16 {
    accept(config, open, LOOPBACK, |mut tls| async move {
        let _ = tls.read(&mut [0u8; 1]).await;
    })
    .await
}

/// Listens on `addr` (another loopback address on a node's port, say: a listener that took a
/// node's address) and keeps every byte clients send after their handshake; each connection is
/// answered `401` once it has sent a request head. Returns what was received so far.
pub async fn record(config: rustls::ServerConfig, addr: SocketAddr) -> Arc<Mutex<Vec<u8>>> {
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    accept(
        config,
        Arc::new(AtomicBool::new(true)),
        addr,
        move |mut tls| {
            let log = log.clone();
            async move {
                let mut buffer = [0u8; 4096];
                let mut head = Vec::new();
                while let Ok(n @ 1..) = tls.read(&mut buffer).await {
                    head.extend_from_slice(&buffer[..n]);
                    log.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend_from_slice(&buffer[..n]);
                    if head.windows(4).any(|w| w == b"\r\n\r\n") {
                        let _ = tls
                            .write_all(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n")
                            .await;
                        head.clear();
                    }
                }
            }
        },
    )
    .await;
    received
}

/// Serves `config` in front of the plain TCP server at `backend`: each connection's TLS ends
/// here and its bytes are relayed (HTTPS in front of an HTTP server). Returns the port.
pub async fn terminate(config: rustls::ServerConfig, backend: std::net::SocketAddr) -> u16 {
    let open = Arc::new(AtomicBool::new(true));
    accept(config, open, LOOPBACK, move |mut tls| async move {
        if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
        }
    })
    .await
}

type Tls = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;

/// Listens on `bind` and hands each connection, once its handshake is done, to `handle`
/// (while `open` is false, connections are closed at once). Returns the port.
async fn accept<F, Fut>(
    config: rustls::ServerConfig,
    open: Arc<AtomicBool>,
    bind: SocketAddr,
    handle: F,
) -> u16
where
    F: Fn(Tls) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let handle = Arc::new(handle);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            if !open.load(Ordering::Relaxed) {
                continue;
            }
            let (acceptor, handle) = (acceptor.clone(), handle.clone());
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    handle(tls).await;
                }
            });
        }
    });
    port
}
