//! Black-box tests: real servers on 127.0.0.1:0 with temporary databases,
//! driven over real HTTP like a client would.
// A panic in a test is a failed test: unwrap and expect are how they say so.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod attachment;
mod binary;
mod browser;
mod channel;
mod conversation;
mod dev;
mod errors;
mod faults;
mod full;
mod fuzz;
mod hardening;
mod helpers;
mod http_limits;
mod index;
mod invite;
mod litestream;
mod message;
mod nginx;
mod openapi;
mod ops;
mod options;
mod private;
mod process;
mod proxy;
mod purge;
mod push;
mod search;
mod security;
mod session;
mod tls;
mod typing;
mod unread;
mod upgrade;
mod user;
mod visibility;
mod ws;
