//! TLS servers on loopback that complete handshakes until the test ends.

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

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
    accept(config, open, |mut tls| async move {
        let _ = tls.read(&mut [0u8; 1]).await;
    })
    .await
}

/// Serves `config` in front of the plain TCP server at `backend`: each connection's TLS ends
/// here and its bytes are relayed (HTTPS in front of an HTTP server). Returns the port.
pub async fn terminate(config: rustls::ServerConfig, backend: std::net::SocketAddr) -> u16 {
    let open = Arc::new(AtomicBool::new(true));
    accept(config, open, move |mut tls| async move {
        if let Ok(mut plain) = tokio::net::TcpStream::connect(backend).await {
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
        }
    })
    .await
}

type Tls = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;

/// Listens on a loopback port and hands each connection, once its handshake is done, to
/// `handle` (while `open` is false, connections are closed at once). Returns the port.
async fn accept<F, Fut>(config: rustls::ServerConfig, open: Arc<AtomicBool>, handle: F) -> u16
where
    F: Fn(Tls) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
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
