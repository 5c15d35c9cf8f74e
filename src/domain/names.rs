//! Input that can only hold valid values: each type checks the limits of
//! docs/API.md once, where it is built (from JSON through serde, or from the command
//! line), and every layer after that takes the type, not a `String`.

use std::fmt;

use serde::Deserialize;

use super::unicode;

/// Why a value was refused: a sentence for the client or the operator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn invalid<T>(why: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(why.into()))
}

/// The most bytes a password may have (docs/API.md, Limits, which the OpenAPI
/// document states from these).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The most characters a channel's name may have, after trimming.
pub const MAX_CHANNEL_NAME: usize = 100;
/// The most characters a channel's description may have.
pub const MAX_DESCRIPTION: usize = 1024;
/// The most characters a message may have.
pub const MAX_CONTENT: usize = 4000;

/// A user's name as docs/API.md's Limits say: 1–64 characters after NFC, no
/// control, format or invisible characters, no leading or trailing
/// whitespace, one script. Held in NFC, with its uniqueness key.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct UserName {
    name: String,
    key: String,
}

impl TryFrom<String> for UserName {
    type Error = Invalid;

    fn try_from(name: String) -> Result<Self, Invalid> {
        let name = unicode::user_name(&name).map_err(|why| Invalid(format!("name {why}")))?;
        let key = unicode::name_key(&name);
        Ok(UserName { name, key })
    }
}

impl UserName {
    /// The name, in NFC.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// What two names that look alike share: the confusable skeleton of
    /// the case-folded name. For comparison only, never shown.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// A name typed to sign in: 1–64 characters, no control characters. Looser
/// than [`UserName`], so that names from before today's rules still sign in;
/// anything else cannot be anyone's name and is refused before a lookup.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "String")]
pub struct LoginName(String);

impl TryFrom<String> for LoginName {
    type Error = Invalid;

    fn try_from(name: String) -> Result<Self, Invalid> {
        if !(1..=unicode::USER_NAME_MAX).contains(&name.chars().count()) {
            return invalid("name must be 1 to 64 characters");
        }
        if name.chars().any(char::is_control) {
            return invalid("name must not contain control characters");
        }
        Ok(LoginName(name))
    }
}

impl LoginName {
    /// The forms it may be stored under: as typed, and in NFC.
    pub fn forms(&self) -> [String; 2] {
        use unicode_normalization::UnicodeNormalization;
        [self.0.clone(), self.0.nfc().collect()]
    }

    /// The name, at most 64 characters: safe to log.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password: 1–1024 bytes. Its `Debug` hides it.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

impl TryFrom<String> for Password {
    type Error = Invalid;

    fn try_from(password: String) -> Result<Self, Invalid> {
        if password.is_empty() || password.len() > MAX_PASSWORD_BYTES {
            return invalid("password must be 1 to 1024 bytes");
        }
        Ok(Password(password))
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A channel's name: 1–100 characters after trimming, no control or format
/// characters; held trimmed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ChannelName(String);

impl TryFrom<String> for ChannelName {
    type Error = Invalid;

    fn try_from(name: String) -> Result<Self, Invalid> {
        let trimmed = name.trim();
        if !(1..=MAX_CHANNEL_NAME).contains(&trimmed.chars().count()) {
            return invalid("name must be 1 to 100 characters after trimming");
        }
        if !unicode::channel_text_ok(trimmed, false) {
            return invalid("name must not contain control or format characters");
        }
        Ok(ChannelName(trimmed.to_owned()))
    }
}

/// A channel's description: `None` when absent, empty or only whitespace;
/// otherwise at most 1024 characters, as given, with no control or format
/// characters but newlines and tabs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Option<String>")]
pub struct Description(Option<String>);

impl TryFrom<Option<String>> for Description {
    type Error = Invalid;

    fn try_from(text: Option<String>) -> Result<Self, Invalid> {
        let text = text.filter(|d| !d.trim().is_empty());
        if text
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            return invalid("description must be at most 1024 characters");
        }
        if text
            .as_ref()
            .is_some_and(|d| !unicode::channel_text_ok(d, true))
        {
            return invalid(
                "description must not contain control or format characters but newlines and tabs",
            );
        }
        Ok(Description(text))
    }
}

/// A message's content: 1–4000 characters, not only whitespace.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct MessageContent(String);

impl TryFrom<String> for MessageContent {
    type Error = Invalid;

    fn try_from(content: String) -> Result<Self, Invalid> {
        if !(1..=MAX_CONTENT).contains(&content.chars().count()) {
            return invalid("content must be 1 to 4000 characters");
        }
        if content.trim().is_empty() {
            return invalid("content must not be only whitespace");
        }
        Ok(MessageContent(content))
    }
}

impl MessageContent {
    /// The content of a message that carries attachments: it may be empty
    /// (or only whitespace, which is then stored as empty).
    pub fn beside_attachments(content: String) -> Result<Self, Invalid> {
        if content.chars().count() > MAX_CONTENT {
            return invalid("content must be at most 4000 characters");
        }
        if content.trim().is_empty() {
            return Ok(MessageContent(String::new()));
        }
        Ok(MessageContent(content))
    }
}

/// An attachment's file name: 1–255 characters, no control or format
/// characters, no `/` or `\` (it names a file, never a path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

impl TryFrom<String> for FileName {
    type Error = Invalid;

    fn try_from(name: String) -> Result<Self, Invalid> {
        if !(1..=255).contains(&name.chars().count()) {
            return invalid("name must be 1 to 255 characters");
        }
        if name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control() || unicode::is_invisible(c))
        {
            return invalid("name must not hold control or format characters, / or \\");
        }
        Ok(FileName(name))
    }
}

macro_rules! text_accessors {
    ($($name:ident),*) => {$(
        impl $name {
            /// The checked text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The checked text, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }
    )*};
}

text_accessors!(Password, ChannelName, MessageContent, FileName);

impl Description {
    /// The text, or `None` for no description.
    pub fn into_option(self) -> Option<String> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T: TryFrom<String, Error = Invalid>>(s: &str) -> bool {
        T::try_from(s.to_owned()).is_ok()
    }

    #[test]
    fn look_alike_user_names_share_a_key() {
        let key = |s: &str| UserName::try_from(s.to_owned()).unwrap().key().to_owned();
        assert_eq!(key("admin"), key("Admin"));
        assert_eq!(key("ace"), key("\u{430}\u{441}\u{435}"), "all Cyrillic");
        let mixed = unicode::name_key("\u{430}dmin");
        assert_eq!(key("admin"), mixed, "Cyrillic а, which is refused anyway");
        assert_ne!(key("admin"), key("admins"));
        let composed = UserName::try_from("adm\u{ed}n".to_owned()).unwrap();
        let decomposed = UserName::try_from("admi\u{301}n".to_owned()).unwrap();
        assert_eq!(composed, decomposed, "held in NFC");
    }

    #[test]
    fn invisible_and_mixed_user_names_are_refused() {
        for bad in ["admin\u{200b}", "\u{202e}admin", "\u{3164}", "p\u{430}ypal"] {
            assert!(!ok::<UserName>(bad), "{bad:?}");
        }
    }

    #[test]
    fn login_names() {
        assert!(ok::<LoginName>("any old name"));
        assert!(!ok::<LoginName>(""));
        assert!(!ok::<LoginName>(&"x".repeat(65)));
        assert!(!ok::<LoginName>("a\nb"));
    }

    #[test]
    fn channel_text_has_no_control_or_format_characters() {
        assert!(!ok::<ChannelName>("a\u{0}b"));
        assert!(!ok::<ChannelName>("a\u{1b}[31mb"));
        assert!(!ok::<ChannelName>("\u{202e}abc"));
        let parse = |d: &str| Description::try_from(Some(d.to_owned()));
        assert!(parse("two\nlines\tand a tab").is_ok());
        assert!(parse("a\u{0}b").is_err());
        assert!(parse("a\u{202e}b").is_err());
    }

    #[test]
    fn user_names() {
        for good in [
            "a",
            "azuma",
            "neo the one",
            "名前",
            &"x".repeat(64),
            &"é".repeat(64),
        ] {
            assert!(ok::<UserName>(good), "{good:?}");
        }
        for bad in [
            "",
            " a",
            "a ",
            "\ta",
            "a\nb",
            "a\u{0}b",
            "a\u{7f}",
            &"x".repeat(65),
            "\u{3000}a",
        ] {
            assert!(!ok::<UserName>(bad), "{bad:?}");
        }
    }

    #[test]
    fn passwords() {
        assert!(ok::<Password>("x"));
        assert!(ok::<Password>(&"x".repeat(1024)));
        assert!(ok::<Password>(&"é".repeat(512)));
        assert!(!ok::<Password>(""));
        assert!(!ok::<Password>(&"x".repeat(1025)));
        assert!(!ok::<Password>(&"é".repeat(513)));
        let secret = Password::try_from("hunter2".to_owned()).unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn channel_names_are_trimmed() {
        let name = ChannelName::try_from("  general \n".to_owned()).unwrap();
        assert_eq!(name.as_str(), "general");
        assert!(ok::<ChannelName>(&format!(" {} ", "x".repeat(100))));
        for bad in ["", "   ", &"x".repeat(101)] {
            assert!(!ok::<ChannelName>(bad), "{bad:?}");
        }
    }

    #[test]
    fn descriptions() {
        let parse = |d: Option<&str>| Description::try_from(d.map(str::to_owned));
        assert_eq!(parse(None).unwrap().into_option(), None);
        assert_eq!(parse(Some(" \t ")).unwrap().into_option(), None);
        assert_eq!(
            parse(Some(" x ")).unwrap().into_option().as_deref(),
            Some(" x ")
        );
        assert!(parse(Some(&"é".repeat(1024))).is_ok());
        assert!(parse(Some(&"é".repeat(1025))).is_err());
    }

    #[test]
    fn message_contents() {
        for good in ["x", " x ", &"é".repeat(4000)] {
            assert!(ok::<MessageContent>(good), "{good:?}");
        }
        for bad in ["", " \n\t", &"x".repeat(4001)] {
            assert!(!ok::<MessageContent>(bad), "{bad:?}");
        }
    }

    #[test]
    fn serde_refuses_what_try_from_refuses() {
        assert!(serde_json::from_str::<UserName>(r#""a\u0000b""#).is_err());
        assert!(serde_json::from_str::<Description>("null").is_ok());
        let content: MessageContent = serde_json::from_str(r#""hi""#).unwrap();
        assert_eq!(content.as_str(), "hi");
    }
}
