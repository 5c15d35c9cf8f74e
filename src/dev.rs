//! `azuma dev`: a throwaway server to try a client against, in one
//! command: loopback only (its names, and CORS for pages on this machine),
//! a temporary database removed on exit, and demo accounts and channels
//! with a short conversation.

use std::io::Write;
use std::net::SocketAddr;

use uuid::Uuid;

use crate::domain::channels::{Channel, Kind};
use crate::domain::error::Refusal;
use crate::domain::names::{LoginName, MessageContent, Password, UserName};
use crate::domain::users;
use crate::writer::{channels, writes};
use crate::{Config, Server, StartError};

/// The demo accounts' password.
const PASSWORD: &str = "azuma";
/// The demo accounts.
const ACCOUNTS: [&str; 2] = ["alice", "bob"];
/// Who (an index into [`ACCOUNTS`]) said what.
type Line = (usize, &'static str);

/// The demo channels (owned by alice and bob), each with its name,
/// description and conversation, oldest first.
const CHANNELS: [(&str, &str, &[Line]); 2] = [
    (
        "general",
        "Everything about this server",
        &[
            (0, "Welcome! This server forgets everything when it stops."),
            (1, "Hi alice. Is the history paged?"),
            (
                0,
                "Yes: GET /channel/{id}/messages?before=<message id>, oldest first.",
            ),
            (
                1,
                "And new messages arrive over the websocket as Message frames.",
            ),
        ],
    ),
    (
        "random",
        "Anything else",
        &[(1, "Lunch, anyone?"), (0, "Always.")],
    ),
];

/// Why `azuma dev` could not start.
#[derive(Debug)]
pub enum DevError {
    /// The address is not a loopback one: a dev server is never public.
    NotLoopback(SocketAddr),
    /// The temporary directory could not be made.
    TempDir(std::io::Error),
    /// The server could not start.
    Start(StartError),
    /// The demo data could not be stored.
    Seed(String),
}

impl std::fmt::Display for DevError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DevError::NotLoopback(addr) => write!(
                f,
                "{addr} is not a loopback address: azuma dev only listens on 127.0.0.1 or ::1"
            ),
            DevError::TempDir(e) => write!(f, "cannot make a temporary directory: {e}"),
            DevError::Start(e) => e.fmt(f),
            DevError::Seed(why) => write!(f, "cannot store the demo data: {why}"),
        }
    }
}

impl std::error::Error for DevError {}

/// Serves a throwaway server on `listen` until `shutdown`, then removes its
/// database.
pub async fn run(
    listen: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DevError> {
    if !listen.ip().is_loopback() {
        return Err(DevError::NotLoopback(listen));
    }
    let dir = std::env::temp_dir().join(format!("azuma-dev-{}", Uuid::new_v4()));
    std::fs::create_dir(&dir).map_err(DevError::TempDir)?;
    let result = serve(listen, &dir, shutdown).await;
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!(error = %e, dir = %dir.display(), "could not remove the temporary database");
    }
    result
}

async fn serve(
    listen: SocketAddr,
    dir: &std::path::Path,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), DevError> {
    let mut config = Config::new(dir.join("azuma.db"));
    config.listen = listen;
    // Its password is public: no website may drive it (http/local_only.rs).
    config.local_only = true;
    // Throwaway data: a cheap hash and no fsync per commit (a crash loses
    // a database that is deleted anyway), so the demo costs nothing to seed.
    config.scrypt = crate::config::ScryptCost {
        log_n: 4,
        r: 8,
        p: 1,
    };
    config.sync = crate::SyncMode::Normal;
    let server = Server::bind(config).await.map_err(DevError::Start)?;
    seed(&server).await.map_err(DevError::Seed)?;
    // Not println!: a closed stdout (its reader gone) must not end the
    // server, it only loses the summary.
    let summary = summary(server.local_addr(), &dir.join("azuma.db"));
    let _ = writeln!(std::io::stdout(), "{summary}");
    server.run(shutdown).await;
    Ok(())
}

/// Stores the demo accounts, channels and conversation through the same
/// writer as the API's own writes (search index and read markers included).
async fn seed(server: &Server) -> Result<(), String> {
    let app = &server.app;
    let mut ids = Vec::new();
    for name in ACCOUNTS {
        let login = LoginName::try_from(name.to_owned()).map_err(|e| e.0)?;
        let name = UserName::try_from(name.to_owned()).map_err(|e| e.0)?;
        let password = Password::try_from(PASSWORD.to_owned()).map_err(|e| e.0)?;
        let hash = app
            .passwords
            .hash(password)
            .await
            .map_err(|e| e.to_string())?;
        let now = app.clock.now();
        // Registering also opens a session; unused, it just expires.
        let found = app
            .db
            .run(move |conn| {
                users::register(conn, &name, &hash, None, now)?;
                Ok::<_, Refusal>(users::credentials(conn, &login)?)
            })
            .await
            .map_err(|e| format!("{e:?}"))?;
        ids.push(found.ok_or("a demo account vanished")?.0);
    }
    for (owner, (name, description, conversation)) in CHANNELS.into_iter().enumerate() {
        let channel = Channel {
            id: Uuid::new_v4(),
            name: name.into(),
            description: Some(description.into()),
            owner: ids[owner],
            created_at: app.clock.now(),
            kind: Kind::Public,
            members: None,
        };
        let channel = app
            .writer
            .submit(channels::CreateChannel { channel, most: 0 })
            .await
            .map_err(|e| format!("{e:?}"))?;
        // Queued in order (each send queues on its first poll) and
        // committed together.
        let mut sends = Vec::new();
        for (author, text) in conversation {
            let content = MessageContent::try_from((*text).to_owned()).map_err(|e| e.0)?;
            sends.push(app.writer.submit(writes::SendMessage {
                channel: channel.id,
                author: ids[*author],
                content,
                attachments: Vec::new(),
            }));
        }
        for sent in futures_util::future::join_all(sends).await {
            sent.map_err(|e| format!("{e:?}"))?;
        }
    }
    Ok(())
}

/// What to try first.
fn summary(addr: SocketAddr, database: &std::path::Path) -> String {
    let base = format!("http://{addr}");
    let login = format!(
        "curl -s {base}/user/login -H 'Content-Type: application/json' \
         -d '{{\"name\": \"alice\", \"password\": \"{PASSWORD}\"}}'"
    );
    [
        "azuma dev: a throwaway server; everything is gone when it stops (Ctrl-C).".to_owned(),
        String::new(),
        format!("  API        {base}/   (document: {base}/openapi.json)"),
        format!("  Websocket  ws://{addr}/init_ws"),
        format!("  Accounts   alice and bob, password \"{PASSWORD}\""),
        "  Channels   general and random, with a short conversation".to_owned(),
        "  CORS       pages on localhost, 127.0.0.1 or [::1], any port".to_owned(),
        format!("  Database   {}", database.display()),
        String::new(),
        "Log in, then list the channels with the token:".to_owned(),
        format!("  {login}"),
        format!("  curl -s {base}/channel -H 'Authorization: Bearer TOKEN'"),
        "Watch everything live:".to_owned(),
        format!("  websocat ws://{addr}/init_ws"),
        "  {\"type\": \"Authenticate\", \"content\": {\"token\": \"TOKEN\"}}".to_owned(),
    ]
    .join("\n")
}
