//! The components behind the engine. A route's internal name is the upstream's SNI and the name
//! its certificate must carry (verified against the cluster's trust); the TCP connection goes to
//! the route's address when it gives one, from the configured source address when there is one.
//!
//! Connections are kept alive per upstream and driven by the request using them: a request
//! takes an idle connection (or opens one), writes itself and reads the answer's head in its
//! own task, and the answer's body reads the rest as the client takes it, handing the
//! connection back when it has been read to its end. No task per upstream connection and no
//! channel between it and the client's: that hand-off was most of what forwarding cost
//! (BENCHMARKS.md). A WebSocket upgrade gets a connection of its own, driven by a task, since
//! the tunnel outlives the request.

use crate::body::{Body, Error};
use crate::lock;
use bytes::Bytes;
use http::{header, HeaderValue, Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use proxyconf::{Config, Host, HostPort};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;

type Io = TokioIo<TlsStream<TcpStream>>;
/// Boxed: it holds the TLS session and hyper's state, and it moves with every request.
type Connection = Pin<Box<http1::Connection<Io, Body>>>;

/// How long a connection may wait unused before it is closed rather than reused.
const IDLE_FOR: Duration = Duration::from_secs(30);
/// Idle connections kept per upstream (more are closed as their answers end).
const IDLE_PER_UPSTREAM: usize = 64;

/// The upstreams of one configuration and their kept-alive connections.
#[derive(Clone)]
pub(crate) struct Client(Arc<Pool>);

struct Pool {
    connector: Connector,
    /// Per route's internal side and per worker (a connection is driven by the thread whose
    /// event loop it is registered with); made with the configuration, so looking one up takes
    /// no lock.
    idle: HashMap<HostPort, Box<[Arc<Slot>]>>,
}

type Slot = Mutex<Vec<Idle>>;

struct Idle {
    sender: http1::SendRequest<Body>,
    connection: Connection,
    since: Instant,
}

/// A client for `config`'s routes.
pub(crate) fn client(tls: Arc<rustls::ClientConfig>, config: &Config) -> Client {
    let idle = config
        .routes
        .iter()
        .map(|r| {
            let slots = (0..crate::workers::places())
                .map(|_| Arc::new(Slot::default()))
                .collect();
            (r.internal.clone(), slots)
        })
        .collect();
    Client(Arc::new(Pool {
        connector: Connector::new(tls, config),
        idle,
    }))
}

impl Client {
    /// Sends `req` (its target in origin form) to `upstream` over a kept-alive connection, or a
    /// new one; a request without `Host` gets the upstream's. A kept connection the upstream
    /// closed before the request was written is replaced and the request sent again.
    pub(crate) async fn send(
        &self,
        upstream: &HostPort,
        mut req: Request<Body>,
    ) -> Result<Response<Answer>, Error> {
        if !req.headers().contains_key(header::HOST) {
            let host = HeaderValue::from_str(&upstream.to_string())?;
            req.headers_mut().insert(header::HOST, host);
        }
        let place = crate::workers::place();
        let slot = self.0.idle.get(upstream).and_then(|s| s.get(place));
        loop {
            let kept = slot.and_then(|s| checkout(s));
            let reused = kept.is_some();
            let (mut sender, connection) = match kept {
                Some(pair) => pair,
                // Boxed: connecting is rare and its future large (see `Connection`).
                None => Box::pin(self.open(upstream)).await?,
            };
            let mut sending = std::pin::pin!(sender.try_send_request(req));
            let mut connection = Some(connection);
            let answer = poll_fn(|cx| {
                // The connection writes the request and reads the answer as it is driven here.
                // Ended (the component closed it, perhaps before taking the request), it is
                // dropped at once: a request it never took comes back as not sent (sent again
                // on a new connection) rather than waiting for the timeout.
                if connection
                    .as_mut()
                    .is_some_and(|c| c.as_mut().poll(cx).is_ready())
                {
                    connection = None;
                }
                sending.as_mut().poll(cx)
            })
            .await;
            match answer {
                Ok(response) => {
                    let kept = connection.map(|connection| Kept {
                        slot: slot.cloned(),
                        sender,
                        connection,
                    });
                    return Ok(response.map(|body| Answer { body, kept }));
                }
                Err(mut e) => match e.take_message() {
                    Some(back) if reused => req = back,
                    _ => return Err(e.into_error().into()),
                },
            }
        }
    }

    /// Sends `req` (origin form) to `upstream` over a connection of its own that can switch
    /// protocols: a WebSocket upgrade, whose tunnel takes the connection over.
    pub(crate) async fn upgrade(
        &self,
        upstream: &HostPort,
        req: Request<Body>,
    ) -> Result<Response<Incoming>, Error> {
        let io = self.0.connector.connect(upstream).await?;
        let (mut sender, connection) = http1::handshake(io).await?;
        tokio::spawn(async move {
            if let Err(e) = connection.with_upgrades().await {
                tracing::debug!(error = %e, "upstream upgrade connection ended");
            }
        });
        Ok(sender.send_request(req).await?)
    }

    async fn open(
        &self,
        upstream: &HostPort,
    ) -> Result<(http1::SendRequest<Body>, Connection), Error> {
        let io = self.0.connector.connect(upstream).await?;
        let (sender, connection) = http1::handshake(io).await?;
        Ok((sender, Box::pin(connection)))
    }

    /// Closes connections idle too long (the answers' ends check too; this catches upstreams
    /// no request goes to any more).
    pub(crate) fn prune(&self) {
        for slot in self.0.idle.values().flatten() {
            lock(slot).retain(|c| c.since.elapsed() < IDLE_FOR);
        }
    }
}

/// An idle connection of `slot` ready for a request, the newest first: each is looked at once
/// without waiting (a connection the upstream closed ends there, one still settling after its
/// last answer becomes ready) and those that are not ready are closed.
fn checkout(slot: &Slot) -> Option<(http1::SendRequest<Body>, Connection)> {
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        let mut idle = {
            let mut list = lock(slot);
            let stale = list
                .iter()
                .position(|c| c.since.elapsed() < IDLE_FOR)
                .unwrap_or(list.len());
            list.drain(..stale);
            list.pop()?
        };
        if idle.connection.as_mut().poll(&mut cx).is_ready() {
            continue;
        }
        if let Poll::Ready(Ok(())) = idle.sender.poll_ready(&mut cx) {
            return Some((idle.sender, idle.connection));
        }
    }
}

/// A connection carrying an answer's body, back to its slot when the body has been read.
struct Kept {
    /// `None` for an upstream that is not a route's (not kept after the answer).
    slot: Option<Arc<Slot>>,
    sender: http1::SendRequest<Body>,
    connection: Connection,
}

/// An upstream answer's body. Reading it drives the connection it comes over.
pub(crate) struct Answer {
    body: Incoming,
    kept: Option<Kept>,
}

impl Answer {
    fn release(&mut self) {
        if let Some(mut kept) = self.kept.take() {
            // Settled once without waiting: a connection still writing the request's body (the
            // component answered before reading it all) or closing is not kept.
            let mut cx = Context::from_waker(Waker::noop());
            if kept.connection.as_mut().poll(&mut cx).is_ready()
                || !matches!(kept.sender.poll_ready(&mut cx), Poll::Ready(Ok(())))
            {
                return;
            }
            let Some(slot) = &kept.slot else {
                return;
            };
            let mut list = lock(slot);
            if list.len() < IDLE_PER_UPSTREAM {
                list.push(Idle {
                    sender: kept.sender,
                    connection: kept.connection,
                    since: Instant::now(),
                });
            }
        }
    }
}

impl Drop for Answer {
    /// An answer read to its end (or that had no body) gives its connection back; one dropped
    /// before that closes it.
    fn drop(&mut self) {
        if http_body::Body::is_end_stream(&self.body) {
            self.release();
        }
    }
}

impl http_body::Body for Answer {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let this = self.get_mut();
        let mut frame = Pin::new(&mut this.body).poll_frame(cx);
        if frame.is_pending() {
            if let Some(kept) = &mut this.kept {
                // Reads the socket into the body; a closed or failed connection ends the
                // body (with hyper's error when it broke off).
                if kept.connection.as_mut().poll(cx).is_ready() {
                    this.kept = None;
                }
                frame = Pin::new(&mut this.body).poll_frame(cx);
            }
        }
        match &frame {
            Poll::Ready(None) => this.release(),
            // The last frame: trailers come only after the data has ended.
            Poll::Ready(Some(Ok(f))) if f.is_trailers() || this.body.is_end_stream() => {
                this.release()
            }
            Poll::Ready(Some(Err(_))) => this.kept = None,
            _ => {}
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[derive(Clone)]
struct Connector {
    tls: tokio_rustls::TlsConnector,
    /// A route's internal side → where to connect, when the route gives an address.
    addresses: Arc<HashMap<HostPort, SocketAddr>>,
    bind: Option<IpAddr>,
    timeout: Duration,
}

impl Connector {
    fn new(tls: Arc<rustls::ClientConfig>, config: &Config) -> Connector {
        let addresses = config
            .routes
            .iter()
            .filter_map(|r| r.address.map(|a| (r.internal.clone(), a)))
            .collect();
        Connector {
            tls: tokio_rustls::TlsConnector::from(tls),
            addresses: Arc::new(addresses),
            bind: config.upstream.bind,
            timeout: Duration::from_secs(config.timeouts.upstream_connect_secs),
        }
    }

    /// A TLS connection to `upstream`, its certificate verified for its name.
    async fn connect(&self, upstream: &HostPort) -> io::Result<Io> {
        let connect = async {
            let tcp = match (self.addresses.get(upstream), &upstream.host) {
                (Some(address), _) => self.tcp(*address).await?,
                (None, Host::V4(a)) => {
                    self.tcp(SocketAddr::new((*a).into(), upstream.port))
                        .await?
                }
                (None, Host::V6(a)) => {
                    self.tcp(SocketAddr::new((*a).into(), upstream.port))
                        .await?
                }
                (None, Host::Name(name)) => {
                    let mut last = io::Error::other(format!("{name} resolves to nothing"));
                    let mut found = None;
                    for address in tokio::net::lookup_host((name.as_str(), upstream.port)).await? {
                        match self.tcp(address).await {
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
            let name = match &upstream.host {
                Host::Name(name) => rustls::pki_types::ServerName::try_from(name.clone())
                    .map_err(|_| io::Error::other(format!("{name} is not a server name")))?,
                Host::V4(a) => IpAddr::from(*a).into(),
                Host::V6(a) => IpAddr::from(*a).into(),
            };
            Ok::<_, io::Error>(TokioIo::new(self.tls.connect(name, tcp).await?))
        };
        tokio::time::timeout(self.timeout, connect)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connecting timed out"))?
    }

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
