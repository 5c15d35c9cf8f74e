//! What a push service and a browser check of each push: the RFC 8030
//! headers, the VAPID JWT (RFC 8292), and the `aes128gcm` body (RFC 8291).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{PublicKey, SecretKey};
use serde_json::Value;
use sha2::Sha256;

/// The RFC 8030 and RFC 8292 headers, as read and checked.
pub(super) struct Headers {
    pub(super) ttl: Option<u64>,
    pub(super) urgency: Option<String>,
    pub(super) topic: Option<String>,
    pub(super) subject: Option<String>,
}

impl Headers {
    /// `header` gives a request header's value by its lower-case name;
    /// the JWT must be signed by `vapid_key` for the audience `origin`.
    pub(super) fn check(
        header: &dyn Fn(&str) -> Option<String>,
        vapid_key: &str,
        origin: &str,
        problems: &mut Vec<String>,
    ) -> Headers {
        match header("content-encoding").as_deref() {
            Some("aes128gcm") => {}
            other => problems.push(format!("Content-Encoding {other:?}, not aes128gcm")),
        }
        match header("content-type").as_deref() {
            None | Some("application/octet-stream") => {}
            Some(other) => problems.push(format!("Content-Type {other}")),
        }
        let ttl = match header("ttl") {
            Some(ttl) => ttl
                .parse()
                .map_err(|_| problems.push(format!("TTL {ttl:?} is not a number")))
                .ok(),
            None => {
                problems.push("no TTL".into());
                None
            }
        };
        let urgency = header("urgency");
        if let Some(urgency) = &urgency
            && !["very-low", "low", "normal", "high"].contains(&urgency.as_str())
        {
            problems.push(format!("Urgency {urgency:?}"));
        }
        let topic = header("topic");
        if let Some(topic) = &topic {
            let alphabet = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
            if topic.is_empty() || topic.len() > 32 || !topic.chars().all(alphabet) {
                problems.push(format!("Topic {topic:?}: not 1-32 base64url characters"));
            }
        }
        let subject = match header("authorization") {
            Some(value) => vapid(&value, vapid_key, origin).unwrap_or_else(|e| {
                problems.push(format!("Authorization {value:?}: {e}"));
                None
            }),
            None => {
                problems.push("no Authorization".into());
                None
            }
        };
        Headers {
            ttl,
            urgency,
            topic,
            subject,
        }
    }
}

/// Checks `vapid t=<jwt>, k=<key>` (RFC 8292 §3) and gives back `sub`.
fn vapid(value: &str, vapid_key: &str, origin: &str) -> Result<Option<String>, String> {
    let (scheme, params) = value.split_once(' ').ok_or("no parameters")?;
    if !scheme.eq_ignore_ascii_case("vapid") {
        return Err(format!("scheme {scheme}, not vapid"));
    }
    let mut named: HashMap<&str, &str> = HashMap::new();
    for param in params.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = param.split_once('=').ok_or("a parameter without =")?;
        named.insert(name, value);
    }
    let (token, k) = match (named.get("t"), named.get("k")) {
        (Some(t), Some(k)) => (*t, *k),
        _ => return Err("t= or k= missing".into()),
    };
    if k != vapid_key {
        return Err(format!("k={k}, not the server's key {}", vapid_key));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err("the JWT is not three parts".into());
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|e| e.to_string());
    let key = VerifyingKey::from_sec1_bytes(&decode(k)?).map_err(|_| "k is not a P-256 key")?;
    let signature = Signature::from_slice(&decode(signature)?)
        .map_err(|_| "the signature is not 64 bytes of r || s")?;
    key.verify(format!("{header}.{claims}").as_bytes(), &signature)
        .map_err(|_| "the signature does not verify against k")?;
    let json = |part: &str| -> Result<Value, String> {
        serde_json::from_slice(&decode(part)?).map_err(|e| e.to_string())
    };
    let (header, claims) = (json(header)?, json(claims)?);
    if header["alg"] != "ES256" {
        return Err(format!("JWT header {header}: alg is not ES256"));
    }
    if claims["aud"] != origin {
        return Err(format!("aud {}, not {}", claims["aud"], origin));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let now = i64::try_from(now).expect("now");
    match claims["exp"].as_i64() {
        Some(exp) if exp > now && exp <= now + 24 * 3600 => {}
        _ => {
            return Err(format!(
                "exp {} is not within 24 h from {now}",
                claims["exp"]
            ));
        }
    }
    match &claims["sub"] {
        Value::Null => Ok(None),
        Value::String(sub) => Ok(Some(sub.clone())),
        other => Err(format!("sub {other} is not a string")),
    }
}

/// The receiving side of RFC 8291 / RFC 8188 for one record (a copy of
/// the independent decrypt in src/push/ece/tests.rs).
pub(super) fn decrypt(ua_private: &SecretKey, auth: &[u8], body: &[u8]) -> Result<Vec<u8>, String> {
    let (salt, rest) = body.split_at_checked(16).ok_or("no salt")?;
    let (rs, rest) = rest.split_at_checked(4).ok_or("no rs")?;
    let (&idlen, rest) = rest.split_first().ok_or("no idlen")?;
    let (keyid, record) = rest.split_at_checked(idlen.into()).ok_or("short keyid")?;
    let rs = u32::from_be_bytes(rs.try_into().map_err(|_| "rs")?);
    if rs < 18 || record.len() > rs as usize {
        return Err(format!("record of {} bytes, rs {rs}", record.len()));
    }
    if keyid.len() != 65 {
        return Err(format!(
            "keyid of {} bytes, not the 65 of a point",
            keyid.len()
        ));
    }
    let as_public = PublicKey::from_sec1_bytes(keyid).map_err(|_| "keyid is not a key")?;
    let ua_public = ua_private.public_key().to_uncompressed_point();
    let ecdh = ua_private.diffie_hellman(&as_public);

    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(&ua_public);
    key_info.extend_from_slice(keyid);
    let mut ikm = [0; 32];
    Hkdf::<Sha256>::new(Some(auth), ecdh.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|e| e.to_string())?;
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0; 16], [0; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .map_err(|e| e.to_string())?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .map_err(|e| e.to_string())?;

    let mut padded = Aes128Gcm::new(&Key::<Aes128Gcm>::from(cek))
        .decrypt(&Nonce::from(nonce), record)
        .map_err(|_| "the record does not authenticate")?;
    // Strip the padding: zeros, then the delimiter, 2 for the last record.
    while padded.last() == Some(&0) {
        padded.pop();
    }
    match padded.pop() {
        Some(2) => Ok(padded),
        other => Err(format!("delimiter {other:?}, not 2")),
    }
}
