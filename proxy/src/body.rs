//! Bodies: the engine's own short answers, and a client's request body held to the body limit
//! and the body timeout while it streams upstream.

use bytes::Bytes;
use http::{header, HeaderValue, Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::{BodyExt, Full};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::{Instant, Sleep};

pub(crate) type Error = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Body = http_body_util::combinators::BoxBody<Bytes, Error>;

pub(crate) fn boxed<B>(body: B) -> Body
where
    B: HttpBody<Data = Bytes> + Send + Sync + 'static,
    B::Error: Into<Error>,
{
    body.map_err(Into::into).boxed()
}

pub(crate) fn bytes(data: impl Into<Bytes>) -> Body {
    boxed(Full::new(data.into()))
}

/// An answer of the engine's own: `status` with a one-line text.
pub(crate) fn answer(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(bytes(format!("{text}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum Refused {
    #[error("the request body is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the client sent no body data for {0:?}")]
    Slow(Duration),
}

/// A request body as it streams upstream: more than `limit` bytes, or a pause longer than
/// `pause` between two pieces, ends it with an error (the upstream request is abandoned).
pub(crate) struct Guarded<B> {
    inner: B,
    limit: u64,
    seen: u64,
    pause: Duration,
    sleep: Pin<Box<Sleep>>,
}

impl<B> Guarded<B> {
    pub fn new(inner: B, limit: u64, pause: Duration) -> Self {
        Guarded {
            inner,
            limit,
            seen: 0,
            pause,
            sleep: Box::pin(tokio::time::sleep(pause)),
        }
    }
}

impl<B> HttpBody for Guarded<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<Error>,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.seen += data.len() as u64;
                    if this.seen > this.limit {
                        return Poll::Ready(Some(Err(Refused::TooLarge(this.limit).into())));
                    }
                }
                let deadline = Instant::now() + this.pause;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Refused::Slow(this.pause).into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
