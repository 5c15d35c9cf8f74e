//! Web Push (RFC 8030, 8291, 8292): when a message is stored, the people
//! who would hear of it but have no websocket open get a push on each of
//! their browsers' subscriptions, encrypted for that browser (the push
//! service never reads it) and signed with the server's VAPID key.
//!
//! Nothing waits on a push service: the writer hands each stored message
//! to a bounded queue without waiting ([`Notifier`]); one task reads the
//! queue and works out who hears of what (`dispatch`); each subscription
//! then has at most one push under way, on a task of its own, and newer
//! news replaces what waits for it (`slots`), so a slow or dead push
//! service holds up only its own subscriptions.

mod deliver;
mod dispatch;
pub mod ece;
pub mod guard;
mod slots;
pub mod vapid;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use reqwest::Url;
use tokio::sync::mpsc;

use crate::domain::db::Db;
use crate::domain::messages::Message;
use crate::realtime::presence::Presence;
use dispatch::Stored;
use guard::{AllowedHost, Guard, Refused};
use vapid::VapidKey;

/// Stored messages waiting to be looked at; past this, new ones are not
/// pushed (and the log says so) rather than held in memory.
const QUEUE: usize = 4096;

/// The push options of `azuma serve`.
#[derive(Clone, Debug, Default, Args)]
pub struct PushOptions {
    /// Also send Web Push to this HOST or HOST:PORT, even on the LAN or over http
    /// (a self-hosted push service such as UnifiedPush); repeat it for several.
    #[arg(long = "push-allow-host", env = "AZUMA_PUSH_ALLOW_HOST", value_delimiter = ',',
          value_name = "HOST[:PORT]", value_parser = guard::parse_allowed)]
    pub allow_hosts: Vec<AllowedHost>,
    /// How push services may reach whoever runs this server (a mailto: or https: URL,
    /// sent in the VAPID signature's `sub`).
    #[arg(long = "push-contact", env = "AZUMA_PUSH_CONTACT", value_name = "URL",
          value_parser = parse_contact)]
    pub contact: Option<String>,
    /// The pace of pushes (tests quicken it).
    #[arg(skip)]
    pub pace: Pace,
}

/// How often pushes go to one subscription.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Least time between two pushes to one subscription: what arrives
    /// meanwhile is folded into the next (a phone need not buzz more
    /// often). While news keeps coming it doubles, up to `longest`, and
    /// it is back to this once a wait passes with nothing new.
    pub spacing: Duration,
    /// The longest spacing.
    pub longest: Duration,
    /// The first wait before a retry; it doubles after each.
    pub backoff: Duration,
}

impl Default for Pace {
    fn default() -> Self {
        Pace {
            spacing: Duration::from_secs(1),
            longest: Duration::from_secs(30),
            backoff: Duration::from_secs(2),
        }
    }
}

fn parse_contact(raw: &str) -> Result<String, String> {
    let url = Url::parse(raw).map_err(|e| format!("{raw:?} is not a URL ({e})"))?;
    match url.scheme() {
        "mailto" | "https" => Ok(raw.to_string()),
        _ => Err(format!("{raw:?} must be a mailto: or https: URL")),
    }
}

/// Hands stored messages to the push queue; the writer keeps one.
#[derive(Clone)]
pub struct Notifier {
    queue: mpsc::Sender<Stored>,
    full: Arc<AtomicBool>,
}

impl Notifier {
    /// `message` was stored: its pushes are to go out. Never waits.
    pub fn stored(&self, message: &Message) {
        match self.queue.try_send(Stored::of(message)) {
            Ok(()) => self.full.store(false, Ordering::Relaxed),
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.full.swap(true, Ordering::Relaxed) {
                    tracing::warn!("the push queue is full: messages stored now are not pushed");
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// Web Push: the key, the guard, and the tasks that send.
pub struct Push {
    public_key: String,
    guard: Guard,
}

/// Why pushes cannot start.
#[derive(Debug)]
pub struct StartError(String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "web push: {}", self.0)
    }
}

impl std::error::Error for StartError {}

impl Push {
    /// Starts the push tasks with the VAPID key `secret`; the writer
    /// hands them stored messages through the [`Notifier`].
    pub fn start(
        db: Db,
        presence: Arc<Presence>,
        options: &PushOptions,
        secret: &[u8],
    ) -> Result<(Push, Notifier), StartError> {
        let key = Arc::new(VapidKey::from_secret(secret).map_err(|e| StartError(e.to_string()))?);
        let guard = Guard::new(options.allow_hosts.clone());
        // The TLS library's process-wide choice of cryptography: ring, as
        // the server's own TLS uses (already chosen if this errs).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let slots = slots::Slots::new(slots::Shared {
            db: db.clone(),
            presence: presence.clone(),
            client: std::sync::Mutex::new(None),
            guard: guard.clone(),
            key: key.clone(),
            contact: options.contact.clone(),
            pace: options.pace,
        });
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(dispatch::run(waiting, db, presence, slots));
        let public_key = key.public_base64url();
        Ok((
            Push { public_key, guard },
            Notifier {
                queue,
                full: Arc::new(AtomicBool::new(false)),
            },
        ))
    }

    /// The VAPID public key, as `GET /push/key` gives it.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Whether pushes may go to `endpoint`: its form, and every address
    /// its host has now.
    pub async fn check(&self, endpoint: &Url) -> Result<(), Refused> {
        self.guard.check(endpoint).await
    }
}
