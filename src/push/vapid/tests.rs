//! The JWT as a push service reads it: its claims, and a signature that
//! verifies against `k=`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::{Value, json};

use super::{VapidError, VapidKey};

/// Splits `vapid t=<jwt>, k=<key>`, checks the signature against `k`,
/// and gives back the JWT's header and claims.
fn verify(header_value: &str) -> (Value, Value, String) {
    let rest = header_value.strip_prefix("vapid t=").unwrap();
    let (jwt, k) = rest.split_once(", k=").unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(parts.len(), 3, "{jwt}");
    let public = URL_SAFE_NO_PAD.decode(k).unwrap();
    assert_eq!((public.len(), public[0]), (65, 0x04));
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    VerifyingKey::from_sec1_bytes(&public)
        .unwrap()
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .unwrap();
    let part =
        |i: usize| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[i]).unwrap()).unwrap();
    (part(0), part(1), k.to_string())
}

#[test]
fn the_jwt_verifies_against_k_and_carries_the_claims() {
    let key = VapidKey::generate().unwrap();
    let value = key.authorization(
        "https://push.example.net",
        1_700_000_000,
        Some("mailto:admin@example.org"),
    );
    let (header, claims, k) = verify(&value);
    assert_eq!(header, json!({"typ": "JWT", "alg": "ES256"}));
    assert_eq!(
        claims,
        json!({"aud": "https://push.example.net", "exp": 1_700_000_000, "sub": "mailto:admin@example.org"})
    );
    assert_eq!(k, key.public_base64url());
}

#[test]
fn without_a_contact_there_is_no_sub() {
    let key = VapidKey::generate().unwrap();
    let (_, claims, _) = verify(&key.authorization("http://127.0.0.1:8080", 42, None));
    assert_eq!(claims, json!({"aud": "http://127.0.0.1:8080", "exp": 42}));
}

#[test]
fn the_stored_secret_gives_back_the_same_key() {
    let key = VapidKey::generate().unwrap();
    let again = VapidKey::from_secret(&key.secret_bytes()).unwrap();
    assert_eq!(again.public_base64url(), key.public_base64url());
    assert_eq!(again.secret_bytes(), key.secret_bytes());
    // Signed by the one, verified against the other's k.
    let (_, _, k) = verify(&again.authorization("https://a.example", 1, None));
    assert_eq!(k, key.public_base64url());
    assert_ne!(
        VapidKey::generate().unwrap().secret_bytes(),
        key.secret_bytes()
    );
    assert!(!format!("{key:?}").contains(&URL_SAFE_NO_PAD.encode(key.secret_bytes())));
}

#[test]
fn a_secret_that_is_not_a_scalar_is_refused() {
    for bad in [&[][..], &[1; 31], &[1; 33], &[0; 32], &[0xff; 32]] {
        assert_eq!(
            VapidKey::from_secret(bad).unwrap_err(),
            VapidError::Secret,
            "{bad:?}"
        );
    }
}
