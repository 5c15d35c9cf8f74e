//! The schemas of the types that only hold valid input: the limits of
//! docs/API.md, stated from the same constants the types check (the web
//! client reads them from here).

use std::borrow::Cow;

use serde_json::json;
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, Type};
use utoipa::openapi::{OpenApi, RefOr, schema::SchemaType};
use utoipa::{Modify, PartialSchema, ToSchema};

use crate::domain::names::{
    ChannelName, Description, LoginName, MAX_CHANNEL_NAME, MAX_CONTENT, MAX_DESCRIPTION,
    MAX_PASSWORD_BYTES, MessageContent, Password, UserName,
};
use crate::domain::unicode::{self, USER_NAME_MAX};
use crate::realtime::typing;

/// A regex character class body of the characters of the Basic
/// Multilingual Plane for which `pick` holds, as `\uXXXX` ranges (which
/// ECMA-262 and the common validators all read). Characters beyond it are
/// left out: no single syntax names them for every validator.
fn class(pick: impl Fn(char) -> bool) -> String {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for c in (0..=0xFFFF).filter_map(char::from_u32).filter(|&c| pick(c)) {
        let c = u32::from(c);
        match ranges.last_mut() {
            Some((_, end)) if *end + 1 == c => *end = c,
            _ => ranges.push((c, c)),
        }
    }
    ranges
        .iter()
        .map(|&(start, end)| match end - start {
            0 => format!("\\u{start:04X}"),
            _ => format!("\\u{start:04X}-\\u{end:04X}"),
        })
        .collect()
}

/// A pattern for text without control or format characters (but `allowed`),
/// with at least one character that is not whitespace.
fn plain_text(allowed: &[char]) -> String {
    let banned = class(|c| unicode::is_control_or_format(c) && !allowed.contains(&c));
    let space = class(char::is_whitespace);
    format!("^[^{banned}]*[^{space}{banned}][^{banned}]*$")
}

/// A string schema of `min..=max` characters, with what it cannot say in
/// `description`.
fn text(min: usize, max: usize, description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(min))
        .max_length(Some(max))
        .description(Some(description))
}

macro_rules! schema {
    ($type:ty, $name:literal, $schema:expr) => {
        impl PartialSchema for $type {
            fn schema() -> RefOr<Schema> {
                $schema.into()
            }
        }

        impl ToSchema for $type {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

schema!(
    UserName,
    "UserName",
    text(
        1,
        USER_NAME_MAX,
        "1-64 characters after NFC; no control, format or invisible characters; \
         no leading or trailing whitespace; letters of one script (UTS #39 highly \
         restrictive); unique by how it looks (UTS #39 confusable skeleton)"
    )
);

schema!(
    LoginName,
    "LoginName",
    text(1, USER_NAME_MAX, "A user's name; no control characters")
        .pattern(Some(format!("^[^{}]*$", class(char::is_control))))
);

schema!(
    Password,
    "Password",
    text(
        1,
        MAX_PASSWORD_BYTES,
        "1-1024 bytes of UTF-8 (so at most 1024 characters, fewer when they are not ASCII)"
    )
);

schema!(
    ChannelName,
    "ChannelName",
    text(
        1,
        MAX_CHANNEL_NAME,
        "1-100 characters after trimming, stored trimmed; no control or format characters"
    )
    .pattern(Some(plain_text(&[])))
);

schema!(
    Description,
    "Description",
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .max_length(Some(MAX_DESCRIPTION))
        .description(Some(
            "At most 1024 characters; no control or format characters but newline and tab. \
             Empty or whitespace-only is stored as null."
        ))
        .pattern(Some(format!(
            "^[^{}]*$",
            class(|c| unicode::is_control_or_format(c) && c != '\n' && c != '\t')
        )))
);

schema!(
    MessageContent,
    "MessageContent",
    text(1, MAX_CONTENT, "1-4000 characters, not whitespace only")
        .pattern(Some(format!("[^{}]", class(char::is_whitespace))))
);

/// States on the `Typing` frame of `ClientFrame`, as `x-azuma-interval-ms`,
/// how often the server relays one per user and channel
/// ([`typing::INTERVAL`]): what a client paces its own frames by.
pub struct TypingInterval;

impl Modify for TypingInterval {
    fn modify(&self, doc: &mut OpenApi) {
        let frames = doc
            .components
            .as_mut()
            .and_then(|c| c.schemas.get_mut("ClientFrame"));
        let Some(RefOr::T(Schema::OneOf(frames))) = frames else {
            return;
        };
        let typing = frames.items.iter_mut().find_map(|frame| match frame {
            RefOr::T(Schema::Object(frame)) if is_frame(frame, "Typing") => Some(frame),
            _ => None,
        });
        if let Some(frame) = typing {
            frame
                .extensions
                .get_or_insert_with(Default::default)
                .insert(
                    "x-azuma-interval-ms".into(),
                    json!(typing::INTERVAL.as_millis()),
                );
        }
    }
}

/// Whether `frame` is the schema of the frames of type `name`.
fn is_frame(frame: &Object, name: &str) -> bool {
    matches!(
        frame.properties.get("type"),
        Some(RefOr::T(Schema::Object(tag)))
            if tag.enum_values.as_deref() == Some(&[json!(name)][..])
    )
}
