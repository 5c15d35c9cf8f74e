//! The HTTP server: accepts connections and runs the warp filter chain on
//! each request, with what `warp::serve` cannot give: the client's address
//! and the connection upgrade as request extensions (`warp::addr::remote`
//! reads an extension that only warp's own server can set), a panic in a
//! handler answered as the API's 500, `Connection: close` when a request
//! body was left unread, and a bounded wait for requests in flight at
//! shutdown. It speaks HTTP/1.1 only, and bounds what one client can hold:
//! deadlines for the headers (from the accept, and between requests), each
//! body and each write, a header block limit, a cap on open connections per
//! address; hyper's own refusals get the API's JSON (`parse_errors`).

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use hyper::body::Body;
use hyper::server::conn::http1;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, Request, header};
use warp::reply::Response;

use super::body::{BoxError, Tracked, WarpBody};
use super::client::{self, Cidr};
use super::deadline::Deadline;
use super::error::ApiError;
use super::options::Options;
use super::parse_errors::{Counted, Exchanges, ParseErrors};
use super::per_address::{Held, PerAddress, refuse};
use super::tls::Tls;
use crate::log;
use crate::sync::lock;

/// Refusals being written at once; past this, a connection over its
/// address's cap is just dropped.
const MAX_REFUSING: usize = 256;

/// The client's address (a request extension): the peer's, or what a
/// trusted proxy says it is.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

/// The connection upgrade of a request that asked for one (a request
/// extension): taken once, by the route that accepts the upgrade, with the
/// connection's place in its address's count, to keep while it is open.
#[derive(Clone)]
pub struct UpgradeSlot(Arc<Mutex<Option<OnUpgrade>>>, Held);

impl UpgradeSlot {
    /// The upgrade, the first time.
    pub fn take(&self) -> Option<(OnUpgrade, Held)> {
        let upgrade = lock(&self.0).take()?;
        Some((upgrade, self.1.clone()))
    }
}

/// Serves `routes` on `listener` until `shutdown` completes, then waits at
/// most `grace` for the requests in flight.
pub async fn serve(
    listener: TcpListener,
    routes: BoxedFilter<(Response,)>,
    options: Options,
    tls: Option<Arc<Tls>>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    // HTTP/1.1 only: no protocol detection, no HTTP/2.
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .max_header_size(super::MAX_HEADER_BYTES);
    // The header count is hyper's default (MAX_HEADERS): setting it, even
    // to the same 100, makes hyper fill its header arrays on every request.
    // Each connection task holds a receiver until its connection is done.
    let (stop, _) = watch::channel(());
    let per_address = PerAddress::default();
    let refusing = Arc::new(AtomicUsize::new(0));
    let trusted: Arc<[Cidr]> = options.trusted_proxies.clone().into();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut failing = Failing::default();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    failing.recovered();
                    accepted
                }
                Err(e) => {
                    // Out of file descriptors, say: wait rather than spin
                    // (the connection stays queued), and say so once a second.
                    failing.failed(&e);
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_millis(50)) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        let from_proxy = trusted.iter().any(|range| range.contains(peer.ip()));
        let cap = if from_proxy { 0 } else { options.per_address };
        let Some(held) = per_address.enter(peer.ip(), cap) else {
            tracing::debug!(%peer, "too many connections from this address");
            if refusing.fetch_add(1, Ordering::Relaxed) < MAX_REFUSING {
                let refusing = refusing.clone();
                tokio::spawn(async move {
                    refuse(stream).await;
                    refusing.fetch_sub(1, Ordering::Relaxed);
                });
            } else {
                refusing.fetch_sub(1, Ordering::Relaxed);
            }
            continue;
        };
        let stream = Deadline::new(stream, options.header_timeout);
        let exchanges = Arc::<Exchanges>::default();
        let service = service(
            routes.clone(),
            peer,
            held,
            &options,
            trusted.clone(),
            &exchanges,
        );
        let service = (service, exchanges);
        let (http, stop) = (http.clone(), stop.subscribe());
        match &tls {
            None => drop(tokio::spawn(connection(stream, http, service, stop, peer))),
            Some(tls) => {
                let (acceptor, deadline) = (tls.acceptor(), options.header_timeout);
                tokio::spawn(async move {
                    // The handshake counts against the header deadline.
                    match tokio::time::timeout(deadline, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => connection(stream, http, service, stop, peer).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake too slow"),
                    }
                });
            }
        }
    }
    drop(listener);
    stop.send_replace(());
    if tokio::time::timeout(grace, stop.closed()).await.is_err() {
        tracing::warn!("requests still running after {grace:?}; stopping anyway");
    }
}

/// Serves one connection (plain or TLS) until it ends, or, once `stop`
/// changes, until its request in flight is answered.
async fn connection<I, S>(
    io: I,
    http: http1::Builder,
    (service, exchanges): (S, Arc<Exchanges>),
    mut stop: watch::Receiver<()>,
    peer: SocketAddr,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming> + Send,
    S::Future: Send,
    S::ResBody: 'static,
    <S::ResBody as Body>::Error: Into<BoxError>,
{
    let connection = http
        .serve_connection(TokioIo::new(ParseErrors::new(io, exchanges)), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let ended = tokio::select! {
        ended = connection.as_mut() => ended,
        _ = stop.changed() => {
            // Finish the request in flight, then close.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = ended {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
    drop(stop);
}

/// The filter chain as a service for one connection from `peer`, with one
/// access-log line per request, its requests and answers counted in
/// `exchanges` (for `parse_errors`).
fn service<B>(
    routes: BoxedFilter<(Response,)>,
    peer: SocketAddr,
    held: Held,
    options: &Options,
    trusted: Arc<[Cidr]>,
    exchanges: &Arc<Exchanges>,
) -> impl hyper::service::Service<
    Request<B>,
    Response = warp::http::Response<Counted<WarpBody>>,
    Error = Infallible,
    Future: Send,
> + Send
+ 'static
where
    B: Body + Send + Sync + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    let (routes, exchanges) = (warp::service(routes), exchanges.clone());
    let body_timeout = options.body_timeout;
    hyper::service::service_fn(move |request: Request<B>| {
        exchanges.took();
        let exchanges = exchanges.clone();
        let started = Instant::now();
        let client_ip = client::client(peer.ip(), request.headers(), &trusted);
        let (parts, body) = request.into_parts();
        let (body, read) = Tracked::new(body, body_timeout);
        let mut request = Request::from_parts(parts, body);
        request.extensions_mut().insert(ClientAddr(client_ip));
        if request.headers().contains_key(header::UPGRADE) {
            let upgrade = hyper::upgrade::on(&mut request);
            request.extensions_mut().insert(UpgradeSlot(
                Arc::new(Mutex::new(Some(upgrade))),
                held.clone(),
            ));
        }
        // Whatever is logged while the request runs (a 500's cause, say)
        // names it. The clones share, not copy.
        let (method, uri) = (request.method().clone(), request.uri().clone());
        let id = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
        let named = log::Request {
            id,
            method: method.clone(),
            uri: uri.clone(),
        };
        let response = tower_service::Service::call(&mut routes.clone(), request);
        let response = async move {
            let path = uri.path(); // never the query: a signed link's signature
            let mut response = match AssertUnwindSafe(response).catch_unwind().await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => ApiError::internal(format!("{method} {path} panicked")).to_response(),
            };
            // hyper closes a connection whose request body was left unread,
            // without a word: say so, or the client may reuse it and fail.
            if read.is_some_and(|read| !read.load(Ordering::Relaxed)) {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            // With its own fields, not the request's name: it is the line.
            log::Access {
                id,
                method: method.as_str(),
                path,
                status: response.status().as_u16(),
                micros: started.elapsed().as_micros() as u64,
                client: client_ip,
            }
            .log();
            Ok(exchanges.answered(response))
        };
        log::scope(named, response)
    })
}

/// Accept failures (running out of file descriptors, above all), logged at
/// most once a second with how many there were.
#[derive(Default)]
struct Failing {
    since_logged: u64,
    logged_at: Option<Instant>,
}

impl Failing {
    fn failed(&mut self, e: &std::io::Error) {
        self.since_logged += 1;
        if self
            .logged_at
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(error = %e, failures = self.since_logged, "cannot accept connections");
            self.since_logged = 0;
            self.logged_at = Some(Instant::now());
        }
    }

    fn recovered(&mut self) {
        if self.logged_at.take().is_some() {
            tracing::info!("accepting connections again");
            self.since_logged = 0;
        }
    }
}

/// The id of the next request, for the log.
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

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

    async fn call_with(
        routes: BoxedFilter<(Response,)>,
        body: String,
    ) -> warp::http::Response<Counted<WarpBody>> {
        let peer = SocketAddr::from(([192, 0, 2, 7], 4321));
        let held = PerAddress::default().enter(peer.ip(), 0).expect("no cap");
        let options = Options {
            header_timeout: Duration::from_secs(5),
            body_timeout: Duration::from_secs(5),
            per_address: 0,
            trusted_proxies: Vec::new(),
        };
        let exchanges = Arc::default();
        service::<String>(routes, peer, held, &options, Arc::from([]), &exchanges)
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
        let close = |r: &warp::http::Response<_>| r.headers().get(header::CONNECTION).cloned();
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
    async fn failures_are_logged_named_by_their_request() {
        let lines = log::testing::Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(lines.clone())
            .with_ansi(false)
            .event_format(log::Format)
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
        let log = lines.text();
        let failure = log.lines().find(|line| line.contains("disk on fire"));
        let failure = failure.unwrap_or_else(|| panic!("{log}"));
        assert!(failure.contains(" ERROR request{id="), "{log}");
        assert!(failure.contains(" method=POST path=\"/\"}: "), "{log}");
    }

    #[tokio::test]
    async fn requests_carry_the_client_address() {
        let routes = warp::ext::get::<ClientAddr>()
            .map(|ClientAddr(addr)| addr.to_string().into_response())
            .boxed();
        assert_eq!(call(routes).await, (200, b"192.0.2.7".to_vec()));
    }
}
