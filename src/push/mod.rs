//! Web Push: the cryptography of RFC 8291 (payload) and RFC 8292 (VAPID).
pub mod ece;
pub mod vapid;
