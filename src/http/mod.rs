//! HTTP plumbing shared by every route: the server loop, JSON in and out,
//! the error model, CORS and the common filters.

pub mod asset;
pub mod body;
pub mod client;
pub mod cors;
pub mod error;
pub mod filters;
pub mod json;
pub mod per_address;
pub mod server;
pub mod tls;

/// The largest request body accepted, in bytes (docs/API.md: 64 KiB).
pub const MAX_BODY: usize = 64 * 1024;
