//! Starting real servers (in-process on port 0, or the real binary) and
//! talking to them over real HTTP.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use azuma::{Clock, Config, Server};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod push;
mod ws;
pub use push::{Answer, Browser, Delivery, PushService, listener_that_counts};
pub use ws::WsClient;

/// The cheapest scrypt cost: tests hash many passwords.
pub fn cheap_scrypt() -> scrypt::Params {
    azuma::password::params(4, 8, 1).expect("valid test scrypt params")
}

/// A server running in this test's runtime, on a temporary database.
pub struct TestServer {
    pub base: String,
    pub clock: Clock,
    pub db_path: PathBuf,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    _dir: TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(|_| {}).await
    }

    /// Starts a server whose config `adjust` may change.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("azuma.db");
        let mut config = Config::new(&db_path);
        config.listen = "127.0.0.1:0".parse().expect("address");
        config.scrypt = azuma::ScryptCost {
            log_n: 4,
            r: 8,
            p: 1,
        };
        // The harness registers, signs in and connects far more from
        // 127.0.0.1 than people would: the per-address and per-user limits
        // are lifted here, and each is tested on its own (security.rs).
        config.login_throttle.per_minute = 0;
        config.hash_queue = 0;
        config.http.per_address = 0;
        config.channels_per_hour = 0;
        config.channels_per_user = 0;
        config.searches_per_minute = 0;
        config.edits_per_minute = 0;
        config.typing_status_per_second = 0;
        adjust(&mut config);
        let clock = config.clock.clone();
        let server = Server::bind(config).await.expect("server starts");
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async {
            let _ = stopped.await;
        }));
        TestServer {
            base,
            clock,
            db_path,
            client: client(),
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        call_at(&self.client, &self.base, method, path, token, body).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Registers `name` and returns the new token.
    pub async fn register(&self, name: &str, password: &str) -> String {
        register_at(&self.client, &self.base, name, password).await
    }

    /// Logs in and returns the new token.
    pub async fn login(&self, name: &str, password: &str) -> String {
        login_at(&self.client, &self.base, name, password).await
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        self.halt().await;
    }

    /// Stops the server but keeps its database files for inspection.
    pub async fn halt(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("server stops within 10 s")
                .expect("server task ends cleanly");
        }
    }

    /// A second connection to the database file, for looking inside.
    pub fn peek(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(&self.db_path).expect("open database")
    }
}

/// `dir/old.db` with the schema as it stood at `version` (every migration
/// up to it, none after), for tests of what a newer azuma makes of it.
pub fn old_database(dir: &Path, version: i64) -> rusqlite::Connection {
    let schema = include_str!("../../../schema.sql");
    let next = format!("-- migration {}:", version + 1);
    let upto = &schema[..schema.find(&next).expect("a later migration")];
    let old = rusqlite::Connection::open(dir.join("old.db")).expect("old.db");
    old.execute_batch(upto).expect("the old schema");
    old.pragma_update(None, "user_version", version)
        .expect("its version");
    old
}

/// `password` hashed as azuma stores it (at the harness's cheap cost).
pub async fn stored_hash(password: &str) -> String {
    let hashes = azuma::password::Passwords::new(cheap_scrypt(), 0);
    let password = azuma::names::Password::try_from(password.to_owned()).expect("a password");
    hashes.hash(password).await.expect("a hash")
}

/// A client whose connections come from `from`: any 127.x.y.z is this
/// host, so tests can play several clients.
pub fn client_from(from: [u8; 4]) -> reqwest::Client {
    builder()
        .local_address(std::net::IpAddr::from(from))
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A client builder. The server's push client chose the TLS library's
/// cryptography (ring) for the process; a test's client that is built
/// before any server starts chooses it here.
pub fn builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A client that never goes through a proxy.
pub fn client() -> reqwest::Client {
    builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// A response, fully read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub body: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn token(&self) -> String {
        let token = self.body["token"].as_str().expect("a token").to_owned();
        assert_uuid(&token);
        token
    }

    /// Asserts the API's JSON error with this status and code.
    #[track_caller]
    pub fn assert_error(&self, status: u16, message: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/json"));
        assert_eq!(self.body["message"], message, "body: {}", self.text);
        let fields: Vec<_> = self.body.as_object().expect("object").keys().collect();
        assert!(
            fields.iter().all(|k| *k == "message" || *k == "detail"),
            "unexpected fields in {}",
            self.text
        );
        if status == 401 {
            assert_eq!(self.header("www-authenticate"), Some("Bearer"));
        }
    }

    /// Asserts a 2xx JSON answer with this status.
    #[track_caller]
    pub fn assert_json(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        assert_eq!(self.header("content-type"), Some("application/json"));
        &self.body
    }
}

/// Lowercase, hyphenated UUID.
#[track_caller]
pub fn assert_uuid(s: &str) {
    let parsed = uuid::Uuid::parse_str(s).unwrap_or_else(|_| panic!("{s:?} is not a UUID"));
    assert_eq!(
        parsed.hyphenated().to_string(),
        s,
        "not lowercase-hyphenated"
    );
}

/// RFC 3339, UTC, microseconds, `Z`: `2021-03-28T14:39:40.063095Z`.
#[track_caller]
pub fn assert_timestamp(s: &str) {
    let b = s.as_bytes();
    assert_eq!(b.len(), 27, "{s:?}");
    assert!(s.ends_with('Z') && b[10] == b'T' && b[19] == b'.', "{s:?}");
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|_| panic!("{s:?}"));
}

/// Sends raw bytes on a fresh connection and returns what comes back until
/// the server closes or `wait` passes.
pub async fn raw(base: &str, request: &[u8], wait: Duration) -> String {
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                out.extend_from_slice(&buf[..n]);
                if out.windows(4).any(|w| w == b"\r\n\r\n") && response_complete(&out) {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a buffered response has all of its Content-Length body.
fn response_complete(out: &[u8]) -> bool {
    let text = String::from_utf8_lossy(out);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    body.len() >= length
}

/// The real `azuma` binary, started on port 0.
pub struct Binary {
    pub child: Child,
    pub base: String,
    /// A client for it.
    pub http: reqwest::Client,
    /// The process's stderr, line by line. A task drains the pipe all the
    /// time: a full pipe would block the server's next log line.
    log: tokio::sync::mpsc::UnboundedReceiver<String>,
}

impl Binary {
    /// Starts `azuma` with `args` (plus cheap hashing, and port 0 unless
    /// `args` has a `--listen`) in `cwd`
    /// and waits for its "listening on" line.
    pub async fn start(cwd: &Path, args: &[&str]) -> Binary {
        Binary::spawn(binary(cwd), args).await
    }

    /// Starts `command` (the binary, perhaps wrapped) like [`Binary::start`].
    pub async fn spawn(mut command: Command, args: &[&str]) -> Binary {
        // Port 0, unless `args` says where.
        if !args.contains(&"--listen") {
            command.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = command
            .args(["--scrypt-log-n", "4", "--scrypt-p", "1"])
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn azuma");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let (lines, log) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                if lines.send(line).is_err() {
                    // Nobody listens any more; keep draining.
                    while let Ok(Some(_)) = stderr.next_line().await {}
                    return;
                }
            }
        });
        let mut binary = Binary {
            child,
            base: String::new(),
            http: client(),
            log,
        };
        let line = binary.wait_for_log(&["listening on http"]).await;
        let at = line.find("listening on ").expect("found") + "listening on ".len();
        binary.base = line[at..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_owned();
        binary
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        call_at(&self.http, &self.base, method, path, token, body).await
    }

    /// Sends a signal (`TERM`, `INT`, `KILL`) to the process.
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().expect("still running");
        let sent = std::process::Command::new("kill")
            .args([format!("-{name}"), pid.to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success());
    }

    /// Waits for the process to exit.
    pub async fn exit(&mut self, within: Duration) -> std::process::ExitStatus {
        tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("azuma still running after {within:?}"))
            .expect("wait")
    }

    /// Reads stderr lines until one contains all of `needles`.
    pub async fn wait_for_log(&mut self, needles: &[&str]) -> String {
        let mut lines = self.lines_until(needles).await;
        lines.pop().expect("the matching line")
    }

    /// Reads stderr lines until one contains all of `needles`; every line
    /// read, that one last.
    pub async fn lines_until(&mut self, needles: &[&str]) -> Vec<String> {
        let mut seen = Vec::new();
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let line = self.log.recv().await.unwrap_or_else(|| {
                    panic!("azuma's stderr closed before a line with {needles:?}")
                });
                let found = needles.iter().all(|n| line.contains(n));
                seen.push(line);
                if found {
                    return;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no log line with {needles:?} within 30 s"));
        seen
    }
}

/// A command running the real binary in `cwd`. `AZUMA_TEST_BINARY`, if set,
/// is the command line to run instead (absolute paths), e.g. another
/// architecture's build under an emulator.
pub fn binary(cwd: &Path) -> Command {
    let line = std::env::var("AZUMA_TEST_BINARY")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_azuma").to_owned());
    let mut parts = line.split_whitespace();
    let mut command = Command::new(parts.next().expect("AZUMA_TEST_BINARY is empty"));
    command.args(parts);
    configured(command, cwd)
}

/// [`binary`] as an unprivileged user (`nobody`, through `setpriv`) when
/// the tests run as root, for whom file permissions do not apply: `cwd`
/// is given to that user, and a copy of the binary put in it (the build's
/// own directory may be one `nobody` cannot enter).
pub fn unprivileged(cwd: &Path) -> Command {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").expect("/proc/self").uid() == 0;
    if !root {
        return binary(cwd);
    }
    std::os::unix::fs::chown(cwd, Some(NOBODY), Some(NOBODY)).expect("chown");
    let copy = cwd.join("azuma");
    if !copy.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_azuma"), &copy).expect("copy the binary");
    }
    let mut command = Command::new("setpriv");
    command.args([
        format!("--reuid={NOBODY}"),
        format!("--regid={NOBODY}"),
        "--clear-groups".to_owned(),
    ]);
    command.arg(&copy);
    configured(command, cwd)
}

/// The uid and gid of `nobody` on Debian.
const NOBODY: u32 = 65534;

fn configured(mut command: Command, cwd: &Path) -> Command {
    command
        .current_dir(cwd)
        .env_remove("AZUMA_LISTEN")
        .env_remove("AZUMA_DATABASE")
        .env_remove("AZUMA_LITESTREAM")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Sends a request to the server at `base` with an optional bearer token
/// and JSON body.
pub async fn call_at(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = http.request(method, format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    Reply::from(request.send().await.expect("request completes")).await
}

/// Registers over HTTP at `base` and returns the token.
pub async fn register_at(http: &reqwest::Client, base: &str, name: &str, password: &str) -> String {
    let body = serde_json::json!({"name": name, "password": password});
    let reply = call_at(http, base, Method::POST, "/user/register", None, Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.token()
}

/// Logs in over HTTP at `base` and returns the new token.
pub async fn login_at(http: &reqwest::Client, base: &str, name: &str, password: &str) -> String {
    let body = serde_json::json!({"name": name, "password": password});
    let reply = call_at(http, base, Method::POST, "/user/login", None, Some(body)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.token()
}

/// Creates a channel over HTTP at `base` and returns its id.
pub async fn channel_at(http: &reqwest::Client, base: &str, token: &str, name: &str) -> String {
    let body = serde_json::json!({"name": name});
    let reply = call_at(
        http,
        base,
        Method::POST,
        "/channel",
        Some(token),
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
    reply.body["id"].as_str().expect("id").to_owned()
}

/// Sends `content` to `channel` over HTTP at `base` and returns the new
/// message's id (asserting the 200).
pub async fn send_at(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    channel: &str,
    content: &str,
) -> String {
    let body = serde_json::json!({"channel": channel, "content": content});
    let reply = call_at(
        http,
        base,
        Method::POST,
        "/message/send",
        Some(token),
        Some(body),
    )
    .await;
    reply.assert_json(200)["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Every message id in `channel`, oldest first, walked back with `before`.
pub async fn history_at(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    channel: &str,
) -> Vec<String> {
    let newest = format!("{base}/channel/{channel}/messages?limit=100");
    let mut ids: Vec<String> = Vec::new();
    let mut url = newest.clone();
    loop {
        let mut page = get_page(http, &url, token).await;
        let full = page.len() == 100;
        let Some(oldest) = page.first().cloned() else {
            return ids;
        };
        page.extend(ids);
        ids = page;
        if !full {
            return ids;
        }
        url = format!("{newest}&before={oldest}");
    }
}

async fn get_page(http: &reqwest::Client, url: &str, token: &str) -> Vec<String> {
    let response = http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .expect("history");
    let reply = Reply::from(response).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}
