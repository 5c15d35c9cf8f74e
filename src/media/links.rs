//! Signed links to attachments: `<img>` and `<video>` cannot send a
//! bearer token, and a token never goes in a URL. A link names the
//! attachment, which variant (the file or its thumbnail) and until when it
//! works, and carries an HMAC-SHA256 of those under the server's own key
//! (kept in the database, so links outlive a restart). Expiries are rounded
//! to the day, so a link stays the same for a day and browsers cache it.

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use uuid::Uuid;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// What a link gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    File,
    Thumbnail,
}

impl Variant {
    fn tag(self) -> &'static str {
        match self {
            Variant::File => "file",
            Variant::Thumbnail => "thumbnail",
        }
    }
}

/// The signer.
#[derive(Clone)]
pub struct Links {
    key: Vec<u8>,
}

impl Links {
    /// Links signed with `key`.
    pub fn new(key: Vec<u8>) -> Links {
        Links { key }
    }

    fn mac(&self, id: &Uuid, variant: Variant, expires: i64) -> Option<Vec<u8>> {
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.key).ok()?;
        mac.update(format!("{id}/{}/{expires}", variant.tag()).as_bytes());
        Some(mac.finalize().into_bytes().to_vec())
    }

    /// The path of `variant` of attachment `id`, working until at least a
    /// day after `now` (Unix seconds).
    pub fn url(&self, id: &Uuid, variant: Variant, now: i64) -> String {
        let expires = (now / DAY + 2) * DAY;
        let sig: String = self
            .mac(id, variant, expires)
            .unwrap_or_default()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let tail = match variant {
            Variant::File => "",
            Variant::Thumbnail => "/thumbnail",
        };
        format!("/attachment/{id}{tail}?exp={expires}&sig={sig}")
    }

    /// Whether `sig` signs `variant` of `id` until `expires`, still good at
    /// `now`.
    pub fn check(&self, id: &Uuid, variant: Variant, expires: i64, sig: &str, now: i64) -> bool {
        if expires <= now || sig.len() != 64 {
            return false;
        }
        let Some(given) = (0..32)
            .map(|i| u8::from_str_radix(sig.get(i * 2..i * 2 + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        let Ok(mut mac) = hmac::Hmac::<Sha256>::new_from_slice(&self.key) else {
            return false;
        };
        mac.update(format!("{id}/{}/{expires}", variant.tag()).as_bytes());
        mac.verify_slice(&given).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (i64, String) {
        let query = url.split_once('?').unwrap().1;
        let (exp, sig) = query.split_once('&').unwrap();
        (exp[4..].parse().unwrap(), sig[4..].to_owned())
    }

    #[test]
    fn a_link_works_for_its_attachment_and_variant_until_it_expires() {
        let links = Links::new(vec![7; 32]);
        let id = Uuid::new_v4();
        let now = 1_000_000;
        let url = links.url(&id, Variant::File, now);
        assert!(url.starts_with(&format!("/attachment/{id}?exp=")));
        let (exp, sig) = parts(&url);
        assert!(exp >= now + DAY);
        assert!(links.check(&id, Variant::File, exp, &sig, now));
        assert!(!links.check(&id, Variant::Thumbnail, exp, &sig, now));
        assert!(!links.check(&Uuid::new_v4(), Variant::File, exp, &sig, now));
        assert!(!links.check(&id, Variant::File, exp + 1, &sig, now));
        assert!(!links.check(&id, Variant::File, exp, &sig, exp));
        assert!(!Links::new(vec![8; 32]).check(&id, Variant::File, exp, &sig, now));
        let mut bad = sig.clone();
        bad.replace_range(0..1, if &sig[..1] == "0" { "1" } else { "0" });
        assert!(!links.check(&id, Variant::File, exp, &bad, now));
        assert!(!links.check(&id, Variant::File, exp, "zz", now));
        assert_eq!(
            url,
            links.url(&id, Variant::File, now + 60),
            "the same all day"
        );
    }
}
