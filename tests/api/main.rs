//! Black-box tests: real servers on 127.0.0.1:0 with temporary databases,
//! driven over real HTTP like a client would.

mod binary;
mod channel;
mod errors;
mod fuzz;
mod hardening;
mod helpers;
mod index;
mod message;
mod ops;
mod process;
mod security;
mod session;
mod user;
mod ws;
