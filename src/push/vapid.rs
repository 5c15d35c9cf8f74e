//! The server's VAPID identity (RFC 8292): an ES256 key pair that signs a
//! short-lived JWT per push service, so a push service can tie a
//! subscription to the server that made it and refuse anyone else.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::sec1::ToSec1Point;
use serde_json::json;

/// The server's signing key; its 32-byte scalar is kept in the database.
#[derive(Clone)]
pub struct VapidKey {
    key: SigningKey,
}

/// Why a VAPID key could not be made or read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VapidError {
    /// The stored secret is not a P-256 scalar (32 bytes, 0 < s < n).
    Secret,
    /// The system's random number generator failed.
    Random,
}

impl fmt::Display for VapidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VapidError::Secret => f.write_str("the stored VAPID secret is not a P-256 key"),
            VapidError::Random => f.write_str("the system's random generator failed"),
        }
    }
}

impl std::error::Error for VapidError {}

impl fmt::Debug for VapidKey {
    /// The public half only: the secret never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public_base64url())
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    /// A new random key, made on the server's first start.
    pub fn generate() -> Result<VapidKey, VapidError> {
        let key = SigningKey::try_generate().map_err(|_| VapidError::Random)?;
        Ok(VapidKey { key })
    }

    /// The key [`VapidKey::secret_bytes`] gave out.
    pub fn from_secret(secret: &[u8]) -> Result<VapidKey, VapidError> {
        // Exactly 32 bytes: `from_slice` would also take a shorter slice.
        let bytes = <[u8; 32]>::try_from(secret).map_err(|_| VapidError::Secret)?;
        let key = SigningKey::from_bytes(&bytes.into()).map_err(|_| VapidError::Secret)?;
        Ok(VapidKey { key })
    }

    /// The private scalar, big-endian, to store.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The public key as browsers take it (`applicationServerKey`) and
    /// VAPID's `k=`: the 65-byte uncompressed point, base64url unpadded.
    pub fn public_base64url(&self) -> String {
        let point = self.key.verifying_key().as_affine().to_uncompressed_point();
        URL_SAFE_NO_PAD.encode(point)
    }

    /// The `Authorization` header value for a push to `audience` (the
    /// endpoint's origin, `scheme://host[:port]`), valid until
    /// `expires_unix` (RFC 8292 allows at most 24 hours ahead), with the
    /// operator's contact (`mailto:` or `https:`) as `sub` when given.
    pub fn authorization(
        &self,
        audience: &str,
        expires_unix: i64,
        subject: Option<&str>,
    ) -> String {
        let header = json!({"typ": "JWT", "alg": "ES256"});
        let mut claims = json!({"aud": audience, "exp": expires_unix});
        if let (Some(sub), Some(map)) = (subject, claims.as_object_mut()) {
            map.insert("sub".into(), sub.into());
        }
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // JWS ES256 is the fixed 64-byte r || s, not DER (RFC 7518 §3.4).
        // Deterministic (RFC 6979); it fails only for a zero r or s.
        let signature: Signature = self.key.sign(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
        format!(
            "vapid t={signed}.{signature}, k={}",
            self.public_base64url()
        )
    }
}

#[cfg(test)]
mod tests;
