//! RFC 8291 Appendix A byte for byte, and a round trip through a decrypt
//! written from RFC 8188 independently of the code under test (the test
//! suite's push-service stand-in carries a copy of it).

use aes_gcm::aead::Aead;
use aes_gcm::{Aes128Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use p256::elliptic_curve::Generate;
use p256::elliptic_curve::sec1::ToSec1Point;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;

use super::{EncryptError, KeyError, MAX_PLAINTEXT, SubscriptionKeys, encrypt_with};

// RFC 8291 Appendix A.
const PLAINTEXT: &[u8] = b"When I grow up, I want to be a watermelon";
const AS_PRIVATE: &str = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
const AS_PUBLIC: &str =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
const UA_PUBLIC: &str =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
const SALT: &str = "DGv6ra1nlYgDCS1FRnbzlw";
const BODY: &str = concat!(
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml",
    "mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT",
    "pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
);

fn b64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

fn secret(text: &str) -> SecretKey {
    SecretKey::from_slice(&b64(text)).unwrap()
}

fn public_b64(key: &SecretKey) -> String {
    URL_SAFE_NO_PAD.encode(key.public_key().to_uncompressed_point())
}

/// The receiving side of RFC 8291 / RFC 8188, for one record.
fn decrypt(ua_private: &SecretKey, auth: &[u8], body: &[u8]) -> Result<Vec<u8>, String> {
    let (salt, rest) = body.split_at_checked(16).ok_or("no salt")?;
    let (rs, rest) = rest.split_at_checked(4).ok_or("no rs")?;
    let (&idlen, rest) = rest.split_first().ok_or("no idlen")?;
    let (keyid, record) = rest.split_at_checked(idlen.into()).ok_or("short keyid")?;
    let rs = u32::from_be_bytes(rs.try_into().unwrap());
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
        .unwrap();
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0; 16], [0; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .unwrap();
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
        .unwrap();

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

#[test]
fn rfc8291_appendix_a_byte_for_byte() {
    let (as_private, ua_private) = (secret(AS_PRIVATE), secret(UA_PRIVATE));
    // The vector's own key pairs agree with themselves.
    assert_eq!(public_b64(&as_private), AS_PUBLIC);
    assert_eq!(public_b64(&ua_private), UA_PUBLIC);

    let keys = SubscriptionKeys::parse(UA_PUBLIC, AUTH).unwrap();
    let salt: [u8; 16] = b64(SALT).try_into().unwrap();
    let body = encrypt_with(&keys, &as_private, &salt, PLAINTEXT).unwrap();
    assert_eq!(URL_SAFE_NO_PAD.encode(&body), BODY);
    assert_eq!(decrypt(&ua_private, &b64(AUTH), &body).unwrap(), PLAINTEXT);
}

#[test]
fn round_trip_with_fresh_keys_each_time() {
    let ua_private = SecretKey::try_generate().unwrap();
    let auth = [7u8; 16];
    let keys =
        SubscriptionKeys::parse(&public_b64(&ua_private), &URL_SAFE_NO_PAD.encode(auth)).unwrap();
    let message = br#"{"channel":"c","text":"hello"}"#;
    let (one, two) = (
        keys.encrypt(message).unwrap(),
        keys.encrypt(message).unwrap(),
    );
    assert_ne!(one[..16], two[..16], "a fresh salt per message");
    assert_ne!(
        one[21..86],
        two[21..86],
        "a fresh ephemeral key per message"
    );
    assert_eq!(u32::from_be_bytes(one[16..20].try_into().unwrap()), 4096);
    assert_eq!(one[20], 65);
    assert_eq!(one.len(), 86 + message.len() + 1 + 16);
    for body in [&one, &two] {
        assert_eq!(decrypt(&ua_private, &auth, body).unwrap(), message);
    }
    // The wrong auth secret does not decrypt.
    assert!(decrypt(&ua_private, &[8u8; 16], &one).is_err());
}

#[test]
fn the_largest_payload_fits_one_record_and_no_more() {
    let ua_private = SecretKey::try_generate().unwrap();
    let keys = SubscriptionKeys::parse(&public_b64(&ua_private), AUTH).unwrap();
    let body = keys.encrypt(&[b'x'; MAX_PLAINTEXT]).unwrap();
    assert_eq!(body.len(), 4096);
    assert_eq!(
        decrypt(&ua_private, &b64(AUTH), &body).unwrap().len(),
        MAX_PLAINTEXT
    );
    assert_eq!(
        keys.encrypt(&[b'x'; MAX_PLAINTEXT + 1]),
        Err(EncryptError::TooLong(MAX_PLAINTEXT + 1))
    );
}

#[test]
fn parse_accepts_padding_and_gives_back_unpadded() {
    let keys = SubscriptionKeys::parse(&format!("{UA_PUBLIC}="), &format!("{AUTH}==")).unwrap();
    assert_eq!(keys.p256dh_base64url(), UA_PUBLIC);
    assert_eq!(keys.auth_base64url(), AUTH);
    assert_eq!(keys, SubscriptionKeys::parse(UA_PUBLIC, AUTH).unwrap());
}

#[test]
fn parse_refuses_what_is_not_a_subscription_key() {
    let point = b64(UA_PUBLIC);
    let enc = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let refused = |p256dh: &str, auth: &str| SubscriptionKeys::parse(p256dh, auth).unwrap_err();

    // Compressed: a valid point, but not what browsers send.
    let compressed = PublicKey::from_sec1_bytes(&point)
        .unwrap()
        .to_compressed_point();
    assert_eq!(refused(&enc(&compressed), AUTH), KeyError::NotAPoint);
    let mut off_curve = point.clone();
    off_curve[64] ^= 1;
    assert_eq!(refused(&enc(&off_curve), AUTH), KeyError::NotAPoint);
    let mut wrong_tag = point.clone();
    wrong_tag[0] = 0x05;
    assert_eq!(refused(&enc(&wrong_tag), AUTH), KeyError::NotAPoint);
    assert_eq!(refused(&enc(&point[..64]), AUTH), KeyError::NotAPoint);
    assert_eq!(refused(&enc(&[0u8; 65]), AUTH), KeyError::NotAPoint);
    assert_eq!(refused("", AUTH), KeyError::NotAPoint);

    assert_eq!(refused(UA_PUBLIC, &enc(&[1; 15])), KeyError::AuthLength(15));
    assert_eq!(refused(UA_PUBLIC, &enc(&[1; 17])), KeyError::AuthLength(17));
    assert_eq!(refused(UA_PUBLIC, ""), KeyError::AuthLength(0));

    assert_eq!(refused("BCVx+r7N", AUTH), KeyError::Base64("p256dh"));
    assert_eq!(
        refused(UA_PUBLIC, "BTBZ MqHH6r4Tts7J_aSIgg"),
        KeyError::Base64("auth")
    );
    assert_eq!(
        refused(UA_PUBLIC, "BTBZMqHH6r4Tts7J/aSIgg"),
        KeyError::Base64("auth")
    );
}
