//! The API's JSON error in place of hyper's own. A request hyper cannot
//! parse (a malformed request line or header, headers over
//! [`MAX_HEADER_BYTES`](super::MAX_HEADER_BYTES) or
//! [`MAX_HEADERS`](super::MAX_HEADERS)) never reaches the service: hyper
//! answers it itself, `400` or `431` with an empty body, then closes, and
//! offers no hook to say otherwise. The API promises its JSON body on every
//! error, so the connection's IO recognises that answer and writes the
//! API's in its place.
//!
//! Recognising it must never touch a response of ours (an attachment could
//! hold any bytes). hyper writes its answer only when no response is under
//! way: after the last one was written and flushed in full. [`Exchanges`]
//! counts the requests the service took and the response bodies hyper is
//! done with; a write that comes after a completed flush while all of them
//! are done, and no request came since, can only be hyper's. Its bytes must
//! also read as that answer: `400` or `431`, `content-length: 0`, no
//! `content-type`. Anything else passes through untouched.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use warp::http::Response;

use super::error::ApiError;

/// One connection's requests, as the service took them and hyper finished
/// answering them.
#[derive(Default)]
pub struct Exchanges {
    taken: AtomicU64,
    done: AtomicU64,
}

impl Exchanges {
    /// Counts a request the service took: call it as the service is called,
    /// and give the answer to [`answered`](Exchanges::answered). (In the
    /// server's own service, not a service wrapped around it: that layer
    /// cost every request a future and its moves.)
    pub fn took(&self) {
        self.taken.fetch_add(1, Ordering::Relaxed);
    }

    /// `response` with a body that counts as done once hyper drops it.
    pub fn answered<B>(self: &Arc<Self>, response: Response<B>) -> Response<Counted<B>> {
        response.map(|body| Counted(body, self.clone()))
    }

    /// The requests taken so far, if every response to them is done.
    fn idle(&self) -> Option<u64> {
        let taken = self.taken.load(Ordering::Relaxed);
        (self.done.load(Ordering::Relaxed) == taken).then_some(taken)
    }
}

/// A response body that counts as done once hyper drops it, which it does
/// after taking its last bytes (or giving up on it).
pub struct Counted<B>(B, Arc<Exchanges>);

impl<B> Drop for Counted<B> {
    fn drop(&mut self) {
        self.1.done.fetch_add(1, Ordering::Relaxed);
    }
}

impl<B: Body + Unpin> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

/// A connection's IO, with hyper's own error answers made the API's.
pub struct ParseErrors<I> {
    io: I,
    exchanges: Arc<Exchanges>,
    /// The requests taken when a flush last completed with every response
    /// done, if nothing was written since: the next write is hyper's own.
    idle_at: Option<u64>,
    /// The API's answer in place of hyper's, and how much of it is written.
    answer: Option<(Vec<u8>, usize)>,
}

impl<I> ParseErrors<I> {
    pub fn new(io: I, exchanges: Arc<Exchanges>) -> ParseErrors<I> {
        ParseErrors {
            io,
            exchanges,
            idle_at: Some(0),
            answer: None,
        }
    }

    /// Whether `bytes`, about to be written, are hyper's own answer; if so,
    /// the API's is queued in their place.
    fn replaced(&mut self, bytes: &[u8]) -> bool {
        if self.idle_at.is_none() || self.idle_at != self.exchanges.idle() {
            return false;
        }
        match api_answer(bytes) {
            Some(answer) => {
                self.answer = Some((answer, 0));
                self.idle_at = None;
                true
            }
            None => false,
        }
    }
}

impl<I: AsyncWrite + Unpin> ParseErrors<I> {
    /// Writes out the queued answer, if any (on every write and flush, and
    /// almost never one: the test is inlined, the writing is not).
    #[inline]
    fn poll_answer(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.answer.is_none() {
            return Poll::Ready(Ok(()));
        }
        self.poll_queued(cx)
    }

    #[inline(never)]
    fn poll_queued(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((answer, written)) = &mut self.answer {
            if *written == answer.len() {
                self.answer = None;
                break;
            }
            match ready!(Pin::new(&mut self.io).poll_write(cx, &answer[*written..]))? {
                0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                n => *written += n,
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Notes what a write of the inner IO wrote.
    fn wrote(&mut self, polled: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.idle_at = None;
        }
        polled
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for ParseErrors<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for ParseErrors<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_answer(cx))?;
        if self.replaced(buf) {
            return Poll::Ready(Ok(buf.len()));
        }
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_answer(cx))?;
        // hyper's answer is its whole write buffer: one slice.
        let mut full = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (full.next(), full.next())
            && self.replaced(only)
        {
            return Poll::Ready(Ok(only.len()));
        }
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_answer(cx))?;
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        self.idle_at = self.exchanges.idle();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_answer(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The API's answer in place of `head`, if `head` reads as hyper's own
/// bodiless answer to a request it could not parse. Its status line and
/// `date` stay.
fn api_answer(head: &[u8]) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(head).ok()?.strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let error = match status_line.strip_prefix("HTTP/1.")?.get(1..6)? {
        " 400 " => ApiError::BadRequest(String::from("the request line or a header is malformed")),
        " 431 " => ApiError::HeadersTooLarge,
        _ => return None,
    };
    let (mut bodiless, mut kept) = (false, String::new());
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("content-length") {
            bodiless = value.trim() == "0";
        } else if name.eq_ignore_ascii_case("content-type") {
            return None;
        } else if !name.eq_ignore_ascii_case("connection") {
            kept.push_str(line);
            kept.push_str("\r\n");
        }
    }
    if !bodiless {
        return None;
    }
    let (_, body) = error.json();
    let mut answer = format!(
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n{kept}\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;
    use futures_util::StreamExt;
    use http_body_util::StreamBody;
    use hyper_util::rt::TokioIo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use std::convert::Infallible;

    use warp::http::Request;

    use super::*;

    /// A body whose last bytes, written on their own after a flush, read
    /// exactly as hyper's answer: they are sent as they are.
    #[tokio::test]
    async fn a_body_that_reads_like_hypers_answer_is_left_alone() {
        const LOOKALIKE: &str = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        let exchanges = Arc::new(Exchanges::default());
        let counts = exchanges.clone();
        let service = hyper::service::service_fn(move |_: Request<hyper::body::Incoming>| {
            counts.took();
            let counts = counts.clone();
            async move {
                let chunks =
                    futures_util::stream::iter(["x", LOOKALIKE]).then(|chunk| async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, Infallible>(Frame::data(Bytes::from_static(chunk.as_bytes())))
                    });
                let length = 1 + LOOKALIKE.len();
                let response = Response::builder().header("content-length", length);
                let response = response.body(StreamBody::new(Box::pin(chunks))).unwrap();
                Ok::<_, Infallible>(counts.answered(response))
            }
        });
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let io = TokioIo::new(ParseErrors::new(server, exchanges));
        let connection = hyper::server::conn::http1::Builder::new().serve_connection(io, service);
        tokio::spawn(connection);
        let request = b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
        client.write_all(request).await.unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(
            answer.ends_with(&format!("\r\n\r\nx{LOOKALIKE}")),
            "{answer}"
        );
    }

    #[test]
    fn only_hypers_bodiless_400_and_431_are_replaced() {
        let date = "date: Fri, 04 Dec 2026 22:57:43 GMT";
        let hyper = format!(
            "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
             content-length: 0\r\n{date}\r\n\r\n"
        );
        let answer = String::from_utf8(api_answer(hyper.as_bytes()).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("\r\ncontent-type: application/json\r\n"));
        assert!(head.contains(&format!("\r\ncontent-length: {}\r\n", body.len())));
        assert!(head.contains("\r\nconnection: close\r\n") && head.contains(date));
        assert!(body.starts_with(r#"{"message":"REQUEST_HEADER_FIELDS_TOO_LARGE""#));
        let bad = "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n";
        assert!(api_answer(bad.as_bytes()).is_some());
        for other in [
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            "HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 400 Bad Request\r\n\r\n",
            "\u{81}\u{5}hello",
        ] {
            assert!(api_answer(other.as_bytes()).is_none(), "{other:?}");
        }
    }
}
