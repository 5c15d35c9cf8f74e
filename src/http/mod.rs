//! HTTP plumbing shared by every route: the server loop, JSON in and out,
//! the error model, CORS and the common filters.

pub mod asset;
pub mod body;
pub mod client;
pub mod cors;
pub mod deadline;
pub mod error;
pub mod filters;
pub mod json;
pub mod local_only;
pub mod options;
pub mod parse_errors;
pub mod per_address;
pub mod server;
pub mod tls;

/// The largest request body accepted, in bytes (docs/API.md: 64 KiB).
pub const MAX_BODY: usize = 64 * 1024;
/// The largest request line plus header block, in bytes: over it, 431.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// The most header fields a request may have: over it, 431 (hyper's own
/// default, named so that the error's detail can say it).
pub const MAX_HEADERS: usize = 100;
