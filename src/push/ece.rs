//! Push message encryption (RFC 8291): one `aes128gcm` record (RFC 8188)
//! that only the subscribing browser can read, the key agreed by ECDH
//! between a fresh key per message and the browser's `p256dh`, bound to
//! its `auth` secret.

use std::fmt;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes128Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::common::getrandom;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

/// The record size announced in the header; one record always fits it.
const RECORD_SIZE: u32 = 4096;
/// salt (16) + rs (4) + idlen (1) + keyid (the 65-byte public key).
const HEADER_LEN: usize = 16 + 4 + 1 + 65;
/// The largest plaintext RFC 8291 §4 guarantees a push service accepts:
/// 4096 bytes of body, less the header, the padding delimiter and the tag.
pub const MAX_PLAINTEXT: usize = 4096 - HEADER_LEN - 1 - 16;

/// A subscription's `keys`, parsed once at subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionKeys {
    p256dh: PublicKey,
    auth: [u8; 16],
}

/// Why a subscription's keys were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    /// `p256dh` or `auth` is not base64url.
    Base64(&'static str),
    /// `p256dh` is not an uncompressed point on P-256.
    NotAPoint,
    /// `auth` is not 16 bytes.
    AuthLength(usize),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Base64(field) => write!(f, "keys.{field} is not base64url"),
            KeyError::NotAPoint => {
                f.write_str("keys.p256dh is not an uncompressed P-256 public key")
            }
            KeyError::AuthLength(n) => write!(f, "keys.auth is {n} bytes, not 16"),
        }
    }
}

impl std::error::Error for KeyError {}

/// Why a message could not be encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncryptError {
    /// Over [`MAX_PLAINTEXT`] bytes: it would not fit one record.
    TooLong(usize),
    /// The system's random number generator failed.
    Random,
    /// HKDF or AES-GCM refused a length (cannot happen with these sizes).
    Cipher,
}

impl fmt::Display for EncryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncryptError::TooLong(n) => {
                write!(f, "push payload of {n} bytes is over {MAX_PLAINTEXT}")
            }
            EncryptError::Random => f.write_str("the system's random generator failed"),
            EncryptError::Cipher => f.write_str("the cipher refused its input"),
        }
    }
}

impl std::error::Error for EncryptError {}

/// Decodes base64url, with or without its `=` padding (browsers differ).
fn decode(text: &str, field: &'static str) -> Result<Vec<u8>, KeyError> {
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| KeyError::Base64(field))
}

/// The 65-byte uncompressed SEC1 encoding, as Web Push sends keys.
fn uncompressed(key: &PublicKey) -> [u8; 65] {
    let mut out = [0; 65];
    out.copy_from_slice(key.to_uncompressed_point().as_slice());
    out
}

impl SubscriptionKeys {
    /// Parses `keys.p256dh` (a 65-byte uncompressed point, 0x04 first) and
    /// `keys.auth` (16 bytes), both base64url.
    pub fn parse(p256dh_b64url: &str, auth_b64url: &str) -> Result<SubscriptionKeys, KeyError> {
        let point = decode(p256dh_b64url, "p256dh")?;
        if point.len() != 65 || point[0] != 0x04 {
            return Err(KeyError::NotAPoint);
        }
        let p256dh = PublicKey::from_sec1_bytes(&point).map_err(|_| KeyError::NotAPoint)?;
        let auth = decode(auth_b64url, "auth")?;
        let auth =
            <[u8; 16]>::try_from(auth.as_slice()).map_err(|_| KeyError::AuthLength(auth.len()))?;
        Ok(SubscriptionKeys { p256dh, auth })
    }

    /// `p256dh` as stored: base64url without padding.
    pub fn p256dh_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(uncompressed(&self.p256dh))
    }

    /// `auth` as stored: base64url without padding.
    pub fn auth_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }

    /// The whole `aes128gcm` request body for `plaintext`, with a fresh
    /// salt and a fresh ephemeral key (never reused: RFC 8291 §3.4).
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        let mut salt = [0; 16];
        getrandom::fill(&mut salt).map_err(|_| EncryptError::Random)?;
        let ephemeral = SecretKey::try_generate().map_err(|_| EncryptError::Random)?;
        encrypt_with(self, &ephemeral, &salt, plaintext)
    }
}

/// HKDF-SHA-256 expand into `N` bytes.
fn expand<const N: usize>(prk: &Hkdf<Sha256>, info: &[&[u8]]) -> Result<[u8; N], EncryptError> {
    let mut out = [0; N];
    prk.expand_multi_info(info, &mut out)
        .map_err(|_| EncryptError::Cipher)?;
    Ok(out)
}

/// RFC 8291 §3.3–3.4 and RFC 8188 §2, with the random inputs given, so
/// the tests can reproduce RFC 8291 Appendix A.
fn encrypt_with(
    keys: &SubscriptionKeys,
    as_secret: &SecretKey,
    salt: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EncryptError::TooLong(plaintext.len()));
    }
    let ua_public = uncompressed(&keys.p256dh);
    let as_public = uncompressed(&as_secret.public_key());
    let shared = as_secret.diffie_hellman(&keys.p256dh);

    // IKM = HKDF(salt = auth, ikm = ECDH, info = "WebPush: info\0" || ua || as)
    let prk_key = Hkdf::<Sha256>::new(Some(&keys.auth), shared.raw_secret_bytes());
    let ikm: [u8; 32] = expand(&prk_key, &[b"WebPush: info\0", &ua_public, &as_public])?;
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let cek: [u8; 16] = expand(&prk, &[b"Content-Encoding: aes128gcm\0"])?;
    let nonce: [u8; 12] = expand(&prk, &[b"Content-Encoding: nonce\0"])?;

    // One record, so its sequence number is 0 and the nonce is used as is;
    // 0x02 marks the last record, with no further padding.
    let mut record = Vec::with_capacity(plaintext.len() + 1 + 16);
    record.extend_from_slice(plaintext);
    record.push(0x02);
    Aes128Gcm::new(&Key::<Aes128Gcm>::from(cek))
        .encrypt_in_place(&Nonce::from(nonce), &[], &mut record)
        .map_err(|_| EncryptError::Cipher)?;

    let mut body = Vec::with_capacity(HEADER_LEN + record.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(&as_public);
    body.extend_from_slice(&record);
    Ok(body)
}

#[cfg(test)]
mod tests;
