//! A write deadline for every connection. A client that sends requests and
//! never reads the answers would otherwise hold its connection, and the
//! answers buffered for it, for as long as it likes: hyper waits on a full
//! socket forever. So a write (or flush) that makes no progress for longer
//! than the deadline fails with `TimedOut`, and hyper closes the
//! connection. Any progress starts the wait afresh, so a slow reader is
//! served; only one that stops reading is let go.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `io` whose writes fail once they have waited `limit` without progress.
pub struct Deadline<I> {
    io: I,
    limit: Duration,
    /// Made the first time a write waits, which most never do.
    timer: Option<Pin<Box<Sleep>>>,
    /// Whether the timer runs: from the first write that waits, until any
    /// write, flush or shutdown gets somewhere.
    armed: bool,
}

impl<I> Deadline<I> {
    pub fn new(io: I, limit: Duration) -> Deadline<I> {
        Deadline {
            io,
            limit,
            timer: None,
            armed: false,
        }
    }

    /// What `polled`, the inner result, becomes: the same, or an error
    /// once the writes have waited past the limit. (Inlined: it runs on
    /// every write and flush, and almost all of them are ready.)
    #[inline]
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.armed = false;
            return polled;
        }
        match self.waited(cx) {
            Poll::Ready(e) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Starts or polls the timer of a write that waits: ready with the
    /// error once it has waited past the limit.
    #[inline(never)]
    fn waited(&mut self, cx: &mut Context<'_>) -> Poll<io::Error> {
        let limit = self.limit;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if !self.armed {
            timer.as_mut().reset(Instant::now() + limit);
            self.armed = true;
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client took nothing for {limit:?}"),
            )),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Deadline<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Deadline<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.io).poll_shutdown(cx);
        self.watch(cx, polled)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_write_that_waits_past_the_limit_fails_and_progress_restarts_it() {
        let limit = Duration::from_millis(300);
        // A pipe of 16 bytes whose far end reads only when told.
        let (near, mut far) = tokio::io::duplex(16);
        let mut io = Deadline::new(near, limit);
        io.write_all(&[0; 16]).await.unwrap();
        // The reader takes a little every 200 ms: the writes wait, each
        // for less than the limit, 800 ms in all.
        let reader = tokio::spawn(async move {
            let mut buf = [0; 8];
            for _ in 0..4 {
                tokio::time::sleep(Duration::from_millis(200)).await;
                far.read_exact(&mut buf).await.unwrap();
            }
            far
        });
        io.write_all(&[0; 32]).await.unwrap();
        let _far = reader.await.unwrap();
        // Now nobody reads.
        let started = Instant::now();
        let stalled = io.write_all(&[0; 1]).await.unwrap_err();
        assert_eq!(stalled.kind(), io::ErrorKind::TimedOut);
        let waited = started.elapsed();
        assert!(waited >= limit && waited < limit * 3, "{waited:?}");
    }
}
