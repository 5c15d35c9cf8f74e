//! The request body as handlers read it: it notes whether it was read to
//! its end, and gives up on a client that stalls in the middle of it. The
//! deadline moves on with each piece that arrives, by the time it would
//! take at [`MIN_RATE`]: a large upload over a slow line arrives, a
//! trickle does not hold a connection for long.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Buf;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The slowest a body may arrive, once its deadline is spent, in bytes
/// per second: a phone upload on a poor line.
pub const MIN_RATE: u64 = 32 * 1024;

/// Any error, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of warp's responses, a type warp does not name.
pub type WarpBody = <warp::reply::Response as HasBody>::Body;

/// A response's body type.
pub trait HasBody {
    type Body;
}

impl<B> HasBody for warp::http::Response<B> {
    type Body = B;
}

/// The error of a request body that did not arrive in time.
#[derive(Debug)]
pub struct BodyTimeout(pub Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the request body did not arrive within {:?}", self.0)
    }
}

impl std::error::Error for BodyTimeout {}

/// A request body that notes when it has been read to its end (`read` is
/// `None` for a request without a body), and fails with [`BodyTimeout`]
/// once it makes its reader wait past its deadline.
pub struct Tracked<B> {
    body: B,
    read: Option<Arc<AtomicBool>>,
    deadline: Instant,
    limit: Duration,
    /// Armed the first time the body is not ready, which most never are not.
    timer: Option<Pin<Box<Sleep>>>,
}

impl<B: Body> Tracked<B> {
    /// Wraps `body`, which must arrive within `limit` from now; the flag
    /// (for a body that is not empty) turns true once it is read to its end.
    pub fn new(body: B, limit: Duration) -> (Tracked<B>, Option<Arc<AtomicBool>>) {
        let read = (!body.is_end_stream()).then(|| Arc::new(AtomicBool::new(false)));
        let tracked = Tracked {
            body,
            read: read.clone(),
            deadline: Instant::now() + limit,
            limit,
            timer: None,
        };
        (tracked, read)
    }
}

impl<B> Body for Tracked<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(None) => {
                if let Some(read) = &this.read {
                    read.store(true, Ordering::Relaxed);
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(frame)) => {
                if let Ok(frame) = &frame
                    && let Some(data) = frame.data_ref()
                {
                    let bytes = u64::try_from(data.remaining()).unwrap_or(u64::MAX);
                    this.deadline +=
                        Duration::from_micros(bytes.saturating_mul(1_000_000) / MIN_RATE);
                    if let Some(timer) = &mut this.timer {
                        timer.as_mut().reset(this.deadline);
                    }
                }
                Poll::Ready(Some(frame.map_err(Into::into)))
            }
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                ready!(timer.as_mut().poll(cx));
                Poll::Ready(Some(Err(BodyTimeout(this.limit).into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
