//! The HTTP server: accepts connections and runs the warp filter chain on
//! each request, with what `warp::serve` cannot give: the client's address
//! and the connection upgrade as request extensions (`warp::addr::remote`
//! reads an extension that only warp's own server can set), a panic in a handler
//! answered as the API's 500, `Connection: close` when a request body was
//! left unread, a timeout on slow request headers, and a bounded wait for
//! requests in flight at shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use hyper::body::{Body, Frame, SizeHint};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tracing::Instrument;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, Request, header};
use warp::reply::Response;

use super::error::ApiError;
use crate::sync::lock;

/// A client must send its request headers within this.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The peer address of a request's connection (a request extension).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub SocketAddr);

/// The connection upgrade of a request that asked for one (a request
/// extension): taken once, by the route that accepts the upgrade.
#[derive(Clone)]
pub struct UpgradeSlot(Arc<Mutex<Option<OnUpgrade>>>);

impl UpgradeSlot {
    /// The upgrade, the first time.
    pub fn take(&self) -> Option<OnUpgrade> {
        lock(&self.0).take()
    }
}

/// Serves `routes` on `listener` until `shutdown` completes, then waits at
/// most `grace` for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    routes: BoxedFilter<(Response,)>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = service(routes.clone(), peer);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT);
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after {grace:?}; stopping anyway");
    }
}

/// The filter chain as a service for one connection from `peer`.
fn service<B>(
    routes: BoxedFilter<(Response,)>,
    peer: SocketAddr,
) -> impl hyper::service::Service<Request<B>, Response = Response, Error = Infallible, Future: Send>
+ Send
+ 'static
where
    B: Body + Send + Sync + Unpin + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let routes = warp::service(routes);
    hyper::service::service_fn(move |request: Request<B>| {
        // Only a request with a body has one to leave unread.
        let read = (!request.body().is_end_stream()).then(|| Arc::new(AtomicBool::new(false)));
        let mut request = request.map(|body| Tracked {
            body,
            read: read.clone(),
        });
        request.extensions_mut().insert(ClientAddr(peer));
        if request.headers().contains_key(header::UPGRADE) {
            let upgrade = hyper::upgrade::on(&mut request);
            request
                .extensions_mut()
                .insert(UpgradeSlot(Arc::new(Mutex::new(Some(upgrade)))));
        }
        // For the log, should a handler panic; both clones share, not copy.
        let (method, uri) = (request.method().clone(), request.uri().clone());
        // Whatever is logged while the request runs (a 500's cause, say)
        // names the request.
        let id = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!("request", id, %method, path = uri.path());
        let response = tower_service::Service::call(&mut routes.clone(), request);
        let response = async move {
            let mut response = match AssertUnwindSafe(response).catch_unwind().await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => ApiError::internal(format!("{method} {uri} panicked")).to_response(),
            };
            // hyper closes a connection whose request body was left unread,
            // without a word: say so, or the client may reuse it and fail.
            if read.is_some_and(|read| !read.load(Ordering::Relaxed)) {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(response)
        };
        response.instrument(span)
    })
}

/// The id of the next request, for its span.
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// A request body that notes when it has been read to its end (`read` is
/// `None` for a request without a body).
struct Tracked<B> {
    body: B,
    read: Option<Arc<AtomicBool>>,
}

impl<B: Body + Unpin> Body for Tracked<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let (Poll::Ready(None), Some(read)) = (&polled, &self.read) {
            read.store(true, Ordering::Relaxed);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use hyper::service::Service;
    use warp::{Filter, Reply};

    use super::*;

    async fn call(routes: BoxedFilter<(Response,)>) -> (u16, Vec<u8>) {
        let response = call_with(routes, String::new()).await;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, body.to_vec())
    }

    async fn call_with(routes: BoxedFilter<(Response,)>, body: String) -> Response {
        let peer = SocketAddr::from(([192, 0, 2, 7], 4321));
        service::<String>(routes, peer)
            .call(Request::post("/").body(body).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_response_leaving_the_body_unread_closes_the_connection() {
        let ignores = || warp::any().map(|| "ignored".into_response()).boxed();
        let reads = || {
            warp::body::bytes()
                .map(|b: bytes::Bytes| b.len().to_string().into_response())
                .boxed()
        };
        let close = |r: &Response| r.headers().get(header::CONNECTION).cloned();
        assert_eq!(
            close(&call_with(ignores(), "body".into()).await),
            Some(HeaderValue::from_static("close"))
        );
        assert_eq!(close(&call_with(reads(), "body".into()).await), None);
        assert_eq!(close(&call_with(ignores(), String::new()).await), None);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_with_the_api_500() {
        let routes = warp::any().map(|| -> Response { panic!("a bug") }).boxed();
        let (status, body) = call(routes).await;
        assert_eq!(status, 500);
        assert_eq!(body, br#"{"message":"INTERNAL_SERVER_ERROR"}"#);
    }

    /// A log line made while a request runs names the request.
    #[tokio::test]
    async fn failures_are_logged_in_the_request_span() {
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                lock(&self.0).extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let routes = warp::any()
            .and_then(|| async {
                Err::<Response, _>(warp::Rejection::from(ApiError::internal("disk on fire")))
            })
            .recover(crate::http::error::recover)
            .unify()
            .boxed();
        assert_eq!(call(routes).await.0, 500);
        let log = String::from_utf8(lock(&lines.0).clone()).unwrap();
        assert!(log.contains("request{id="), "{log}");
        assert!(log.contains("method=POST path=\"/\""), "{log}");
        assert!(log.contains("disk on fire"), "{log}");
    }

    #[tokio::test]
    async fn requests_carry_the_client_address() {
        let routes = warp::ext::get::<ClientAddr>()
            .map(|ClientAddr(addr)| addr.to_string().into_response())
            .boxed();
        assert_eq!(call(routes).await, (200, b"192.0.2.7:4321".to_vec()));
    }
}
