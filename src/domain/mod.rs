//! The bottom layer: azuma's objects and their storage. SQL lives here and
//! nowhere else, and what it returns are storage errors and refusals, never
//! HTTP ones. Everything above depends on this; this depends on nothing
//! above it.

pub mod attachments;
pub mod backup;
pub mod channels;
pub mod clock;
pub mod db;
pub mod error;
pub mod history;
pub mod invites;
pub mod markers;
pub mod members;
pub mod mentions;
pub mod messages;
pub mod names;
pub mod notifications;
pub mod purge;
pub mod push;
pub mod reindex;
pub mod search;
pub mod sessions;
pub mod unicode;
pub mod user_cache;
pub mod users;
pub mod wal;
mod words;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
