//! The threads that serve clients, as nginx has worker processes: each runs a single-threaded
//! tokio runtime of its own, and a client connection lives on the worker it was handed when
//! accepted, with everything its requests do (TLS, the chain, the upstream connection it
//! borrows, a WebSocket tunnel). No request's task moves between threads and no wake-up of
//! one crosses a thread; a work-stealing runtime pays for both on every request, which was
//! about a twentieth of the forwarded path's CPU time (BENCHMARKS.md).
//!
//! The main thread's runtime accepts (handing each connection round-robin to a worker: the
//! clients', and those of the status, `proxymap.txt` and peer ports), follows the
//! configuration, tells the console and the peer, and keeps house. Without workers (the engine
//! as a library, its tests) connections are served on the runtime that accepts them.

use std::cell::Cell;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use tokio::runtime::Handle;

static WORKERS: OnceLock<Workers> = OnceLock::new();

thread_local! {
    /// This thread's worker number; `None` on any other thread.
    static INDEX: Cell<Option<usize>> = const { Cell::new(None) };
}

struct Workers {
    handles: Vec<Handle>,
    next: AtomicUsize,
}

/// Starts `count` worker threads (at least one), once per process.
pub fn start(count: usize) -> std::io::Result<()> {
    let count = count.max(1);
    let mut handles = Vec::with_capacity(count);
    for index in 0..count {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("worker-{index}"))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                INDEX.set(Some(index));
                let _ = tx.send(Ok(runtime.handle().clone()));
                runtime.block_on(std::future::pending::<()>());
            })?;
        let handle = rx
            .recv()
            .map_err(|_| std::io::Error::other("a worker thread ended at its start"))??;
        handles.push(handle);
    }
    WORKERS
        .set(Workers {
            handles,
            next: AtomicUsize::new(0),
        })
        .map_err(|_| std::io::Error::other("the workers are started already"))
}

/// How many places per-thread state needs: one per worker and one for every other thread.
pub(crate) fn places() -> usize {
    WORKERS.get().map_or(1, |w| w.handles.len() + 1)
}

/// This thread's place among [`places`].
pub(crate) fn place() -> usize {
    INDEX
        .get()
        .unwrap_or_else(|| WORKERS.get().map_or(0, |w| w.handles.len()))
}

/// Runs `serve` on the next worker, or here when there are none. The connection is registered
/// with the worker's own event loop there (`tokio::net::TcpStream::from_std`).
pub(crate) fn hand_over<F, Fut>(tcp: tokio::net::TcpStream, serve: F)
where
    F: FnOnce(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(workers) = WORKERS.get() else {
        tokio::spawn(serve(tcp));
        return;
    };
    let tcp = match tcp.into_std() {
        Ok(tcp) => tcp,
        Err(e) => {
            tracing::warn!(error = %e, "a connection could not be handed to a worker");
            return;
        }
    };
    let n = workers.next.fetch_add(1, Ordering::Relaxed) % workers.handles.len();
    workers.handles[n].spawn(async move {
        match tokio::net::TcpStream::from_std(tcp) {
            Ok(tcp) => serve(tcp).await,
            Err(e) => tracing::warn!(error = %e, "a worker could not take a connection"),
        }
    });
}
