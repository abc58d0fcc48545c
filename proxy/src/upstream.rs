//! The components behind the engine: one pooled HTTPS client per configuration. A route's
//! internal name is the upstream's SNI and the name its certificate must carry (verified
//! against the cluster's trust); the TCP connection goes to the route's address when it gives
//! one, from the configured source address when there is one.

use crate::body::Body;
use crate::{lock, now};
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use proxyconf::{Config, Health};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;

pub(crate) type Client = hyper_util::client::legacy::Client<Connector, Body>;

impl Connector {
    fn new(tls: Arc<rustls::ClientConfig>, config: &Config) -> Connector {
        let addresses = config
            .routes
            .iter()
            .filter_map(|r| {
                r.address
                    .map(|a| ((r.internal.host.folded().into_owned(), r.internal.port), a))
            })
            .collect();
        Connector {
            tls: tokio_rustls::TlsConnector::from(tls),
            addresses: Arc::new(addresses),
            bind: config.upstream.bind,
            timeout: Duration::from_secs(config.timeouts.upstream_connect_secs),
        }
    }
}

/// A client for `config`'s routes.
pub(crate) fn client(tls: Arc<rustls::ClientConfig>, config: &Config) -> Client {
    hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(64)
        .build(Connector::new(tls, config))
}

#[derive(Clone)]
pub(crate) struct Connector {
    tls: tokio_rustls::TlsConnector,
    /// (internal host folded, port) → where to connect.
    addresses: Arc<HashMap<(String, u16), SocketAddr>>,
    bind: Option<IpAddr>,
    timeout: Duration,
}

impl tower_service::Service<http::Uri> for Connector {
    type Response = TokioIo<Upstream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let host = uri
                .host()
                .ok_or_else(|| io::Error::other("no upstream host"))?
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned();
            let port = uri.port_u16().unwrap_or(443);
            let connect = async {
                let tcp = match this.addresses.get(&(host.to_ascii_lowercase(), port)) {
                    Some(address) => this.tcp(*address).await?,
                    None => {
                        let mut last = io::Error::other(format!("{host} resolves to nothing"));
                        let mut found = None;
                        for address in tokio::net::lookup_host((host.as_str(), port)).await? {
                            match this.tcp(address).await {
                                Ok(tcp) => {
                                    found = Some(tcp);
                                    break;
                                }
                                Err(e) => last = e,
                            }
                        }
                        found.ok_or(last)?
                    }
                };
                tcp.set_nodelay(true)?;
                let name = rustls::pki_types::ServerName::try_from(host.clone())
                    .map_err(|_| io::Error::other(format!("{host} is not a server name")))?;
                let tls = this.tls.connect(name, tcp).await?;
                Ok::<_, io::Error>(TokioIo::new(Upstream(tls)))
            };
            tokio::time::timeout(this.timeout, connect)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connecting timed out"))?
        })
    }
}

impl Connector {
    async fn tcp(&self, address: SocketAddr) -> io::Result<TcpStream> {
        let socket = if address.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if let Some(bind) = self.bind {
            socket.bind(SocketAddr::new(bind, 0))?;
        }
        socket.connect(address).await
    }
}

/// A TLS connection to an upstream.
pub(crate) struct Upstream(TlsStream<TcpStream>);

impl Connection for Upstream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl AsyncRead for Upstream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Upstream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }
}

/// How each upstream answered lately.
#[derive(Default)]
pub(crate) struct HealthBook(Mutex<BTreeMap<String, Health>>);

impl HealthBook {
    pub fn ok(&self, upstream: &str) {
        let mut book = lock(&self.0);
        // Every forwarded request passes here: no allocation once the upstream is known.
        let h = match book.get_mut(upstream) {
            Some(h) => h,
            None => book
                .entry(upstream.to_owned())
                .or_insert_with(|| fresh(upstream)),
        };
        h.up = true;
        h.last_ok = Some(now());
    }

    pub fn failed(&self, upstream: &str, error: String) {
        let mut book = lock(&self.0);
        let h = book
            .entry(upstream.to_owned())
            .or_insert_with(|| fresh(upstream));
        h.up = false;
        h.last_error = Some(error);
    }

    pub fn list(&self) -> Vec<Health> {
        lock(&self.0).values().cloned().collect()
    }
}

fn fresh(upstream: &str) -> Health {
    Health {
        upstream: upstream.to_owned(),
        up: false,
        last_ok: None,
        last_error: None,
    }
}
