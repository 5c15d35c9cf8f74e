//! What every handler shares, built once by [`crate::Server::bind`].

use std::sync::Arc;

use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::auth::password::Passwords;
use crate::auth::rate::Rate;
use crate::auth::sessions::Sessions;
use crate::auth::throttle::Throttle;
use crate::domain::clock::Clock;
use crate::domain::db::Db;
use crate::domain::user_cache::UserCache;
use crate::media::links::Links;
use crate::realtime::connections::{Connections, Limits};
use crate::realtime::hub::Hub;
use crate::realtime::presence::Presence;
use crate::realtime::typing::Typing;
use crate::writer::Writer;

/// The application's state.
pub struct State {
    pub db: Db,
    pub passwords: Passwords,
    pub clock: Clock,
    pub hub: Arc<Hub>,
    pub sessions: Sessions,
    pub users: UserCache,
    pub writer: Writer,
    pub presence: Arc<Presence>,
    /// Web Push: its key and where pushes may go.
    pub push: crate::push::Push,
    pub typing: Typing,
    pub connections: Arc<Connections>,
    pub realtime: Limits,
    /// Who may register.
    pub registration: crate::config::Registration,
    pub throttle: Throttle,
    /// Channels created per user.
    pub channel_rate: Rate<Uuid>,
    /// Channels one user may own; 0 for no limit.
    pub channels_per_user: u32,
    /// Searches per user.
    pub search_rate: Rate<Uuid>,
    /// Searches running at once: the rest wait, so that searches never hold
    /// every connection of the pool and other reads always find one.
    pub searches: Semaphore,
    /// Message edits and deletes per user.
    pub edit_rate: Rate<Uuid>,
    /// Typing and status events per user that reach others.
    pub signal_rate: Rate<Uuid>,
    /// Signs attachment links.
    pub links: Links,
    /// Thumbnails being made: each decodes a whole image, so only a few
    /// at a time.
    pub thumbnails: Semaphore,
    /// Bytes one upload may have.
    pub max_upload: u64,
}

/// Shared handle on the [`State`].
pub type App = Arc<State>;
