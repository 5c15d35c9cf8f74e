//! Who may do what: sessions (checked, renewed, revoked), password hashing
//! and the login throttle. No HTTP here; the routes call into it.

pub mod maintain;
pub mod password;
pub mod rate;
pub mod sessions;
pub mod throttle;
