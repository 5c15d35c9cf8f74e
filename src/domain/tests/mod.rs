//! The domain's objects on a real database, one file each; short, with
//! the helpers of `domain::testing`.

mod channels;
mod markers;
mod messages;
mod reindex;
mod search;
mod users;
