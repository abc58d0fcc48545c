//! The engine's sockets: the client listeners of the configuration in force, its status port
//! and its `proxymap.txt` port. A new configuration binds what is new first (a port that
//! cannot be bound refuses it), then stops accepting on what it no longer lists; connections
//! already open stay open whichever configuration they started under.

use crate::chain::{self, Conn};
use crate::live::Loaded;
use crate::{lock, status, Engine};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use proxyconf::canonical;
use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Role {
    Clients,
    Status,
    Proxymap,
    Peer,
}

#[derive(Default)]
pub struct Listeners(Mutex<HashMap<(Role, SocketAddr), Bound>>);

struct Bound {
    local: SocketAddr,
    stop: CancellationToken,
}

fn wanted(loaded: &Loaded) -> Vec<(Role, SocketAddr)> {
    let c = &loaded.config;
    let mut out: Vec<_> = c
        .listeners
        .iter()
        .map(|l| (Role::Clients, l.address))
        .collect();
    out.extend(c.status.address.map(|a| (Role::Status, a)));
    if loaded.lan_tls.is_some() {
        out.extend(c.status.proxymap_address.map(|a| (Role::Proxymap, a)));
    }
    if loaded.peer.is_some() {
        out.extend(c.peer.as_ref().map(|p| (Role::Peer, p.listen)));
    }
    out
}

impl Listeners {
    /// Binds every address of `loaded` not bound yet; on a failure, unbinds what it just bound.
    pub(crate) async fn bind(&self, engine: &Arc<Engine>, loaded: &Loaded) -> Result<(), String> {
        let mut fresh = Vec::new();
        for key in wanted(loaded) {
            if lock(&self.0).contains_key(&key) {
                continue;
            }
            match TcpListener::bind(key.1).await {
                Ok(listener) => fresh.push((key, listener)),
                Err(e) => {
                    return Err(format!("{} cannot be bound: {e}", key.1));
                }
            }
        }
        let mut bound = lock(&self.0);
        for ((role, address), listener) in fresh {
            let stop = CancellationToken::new();
            let local = listener.local_addr().unwrap_or(address);
            let weak = Arc::downgrade(engine);
            match role {
                Role::Clients => {
                    tokio::spawn(accept(weak, address, listener, stop.clone()));
                }
                Role::Status => {
                    tokio::spawn(status::serve_status(weak, listener, stop.clone()));
                }
                Role::Proxymap => {
                    tokio::spawn(status::serve_proxymap(weak, listener, stop.clone()));
                }
                Role::Peer => {
                    tokio::spawn(crate::peer::serve(weak, listener, stop.clone()));
                }
            }
            bound.insert((role, address), Bound { local, stop });
        }
        Ok(())
    }

    /// Stops accepting on what `loaded` no longer lists.
    pub(crate) fn retire(&self, loaded: &Loaded) {
        let keep = wanted(loaded);
        lock(&self.0).retain(|key, b| {
            let kept = keep.contains(key);
            if !kept {
                b.stop.cancel();
            }
            kept
        });
    }

    pub(crate) fn stop_all(&self) {
        for (_, b) in lock(&self.0).drain() {
            b.stop.cancel();
        }
    }

    pub(crate) fn bound(&self) -> Vec<SocketAddr> {
        let mut out: Vec<_> = lock(&self.0)
            .iter()
            .filter(|((role, _), _)| *role == Role::Clients)
            .map(|(_, b)| b.local)
            .collect();
        out.sort();
        out
    }

    pub(crate) fn status(&self) -> Option<SocketAddr> {
        lock(&self.0)
            .iter()
            .find(|((role, _), _)| *role == Role::Status)
            .map(|(_, b)| b.local)
    }
}

async fn accept(
    engine: Weak<Engine>,
    address: SocketAddr,
    listener: TcpListener,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!(%address, error = %e, "accepting failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(engine) = engine.upgrade() else {
            return;
        };
        let _ = tcp.set_nodelay(true);
        crate::workers::hand_over(tcp, move |tcp| connection(engine, address, tcp, peer));
    }
}

async fn connection(
    engine: Arc<Engine>,
    address: SocketAddr,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
) {
    let live = engine.live();
    let Some(tls) = live.tls.get(&address).cloned() else {
        return;
    };
    let Some(port) = live
        .config
        .listeners
        .iter()
        .find(|l| l.address == address)
        .map(|l| l.port())
    else {
        return;
    };
    let t = &live.config.timeouts;
    let header_timeout = Duration::from_secs(t.client_header_secs);
    let send_timeout = Duration::from_secs(t.send_secs);
    let keepalive = Duration::from_secs(t.keepalive_secs);
    let limits = live.config.limits.clone();
    let ip = canonical(peer.ip());
    let forwarder = live.config.forwarders.includes(ip);
    // Counted from the handshake on: a client holding handshakes open counts too.
    let (handle, open) = engine.conns.open(ip, !forwarder);
    let over_limit = !forwarder && open > limits.http1_connections;
    drop(live);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let stream = tokio::select! {
        handshake = tokio::time::timeout(header_timeout, acceptor.accept(tcp)) => match handshake {
            Ok(Ok(stream)) => stream,
            _ => {
                engine.counters.add("tls_refused");
                return;
            }
        },
        _ = handle.close.cancelled() => return,
    };
    let sni = stream
        .get_ref()
        .1
        .server_name()
        .map(str::to_ascii_lowercase);
    let close = handle.close.clone();
    let conn = Arc::new(Conn {
        engine: engine.clone(),
        peer,
        peer_value: chain::address_value(ip),
        port,
        sni,
        handle,
        over_limit,
        requests: AtomicU32::new(0),
        activity: chain::Activity::default(),
        believed: Default::default(),
    });
    let watched = conn.clone();
    let service = hyper::service::service_fn(move |req| chain::handle(conn.clone(), req));
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(limits.head_bytes.max(8192))
        // At most 100 header fields: hyper's default, kept so (setting it, even to 100, makes
        // hyper allocate and fill its header tables on every request).
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_streams)
        .max_header_list_size(limits.head_bytes as u32)
        .keep_alive_interval(Some(keepalive))
        .keep_alive_timeout(keepalive);
    let io = TokioIo::new(Timed::new(stream, send_timeout));
    let served = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(served);
    // Idle (no request in flight) for `keepalive`: closed gracefully. hyper's HTTP/2 pings only
    // find dead peers; a live one could otherwise hold the connection forever.
    let mut tick = tokio::time::interval((keepalive / 4).max(Duration::from_millis(250)));
    let mut closing = false;
    // Made once: a `cancelled()` made anew on every wake-up would register with the token (a
    // lock) and leave it again each time.
    let cancelled = close.cancelled();
    tokio::pin!(cancelled);
    loop {
        tokio::select! {
            // The connection first: it is what wakes this task nearly every time.
            biased;
            _ = served.as_mut() => return,
            _ = &mut cancelled => return,
            _ = tick.tick() => {
                if !closing && watched.activity.idle_for() >= keepalive {
                    closing = true;
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// A client connection whose writes may not stall longer than `send` (a client that stops
/// reading cannot hold the engine's buffers).
pub(crate) struct Timed<S> {
    inner: S,
    send: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<S> Timed<S> {
    fn new(inner: S, send: Duration) -> Self {
        Timed {
            inner,
            send,
            stalled: None,
        }
    }

    fn on_write<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Pending => {
                let send = self.send;
                let sleep = self.stalled.get_or_insert_with(|| {
                    Box::pin(tokio::time::sleep_until(Instant::now() + send))
                });
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client stopped reading",
                    ))),
                    Poll::Pending => Poll::Pending,
                }
            }
            ready => {
                self.stalled = None;
                ready
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Timed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Timed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.on_write(cx, result)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.inner).poll_flush(cx);
        self.on_write(cx, result)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.on_write(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
