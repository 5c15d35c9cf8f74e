//! Realtime: the hub every event is published through, who is online, and
//! the registry of open websocket connections. Above the domain, below the
//! routes.

pub mod audience;
pub mod connections;
pub mod hub;
pub mod presence;
pub mod typing;
