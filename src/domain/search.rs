//! Search: plain text in, the messages that contain every word out, newest
//! first. The text never reaches FTS5 as query syntax: it is split into
//! words, each word is quoted, and only the last one is made a prefix.

use rusqlite::{Connection, params};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::channels;
use super::error::{Refusal, StoreError};
use super::messages::{self, Message};
use super::names::Invalid;
use super::unicode;

/// The most characters a search may have, after trimming.
pub const MAX_QUERY: usize = 200;

/// A search's words, as an FTS5 expression that can only mean "every one
/// of these words, the last as a prefix".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query(String);

impl TryFrom<String> for Query {
    type Error = Invalid;

    fn try_from(q: String) -> Result<Self, Invalid> {
        let q: String = q.trim().nfc().collect();
        if !(1..=MAX_QUERY).contains(&q.chars().count()) {
            return Err(Invalid(format!(
                "q must be 1 to {MAX_QUERY} characters after trimming"
            )));
        }
        let words: Vec<&str> = q
            .split(|c: char| !unicode::is_word_char(c))
            .filter(|w| !w.is_empty())
            .collect();
        let Some((last, rest)) = words.split_last() else {
            return Err(Invalid("q must hold at least one letter or digit".into()));
        };
        // Words hold letters, digits and marks only: no quote to escape.
        let mut expression: String = rest.iter().map(|w| format!("\"{w}\" ")).collect();
        expression.push_str(&format!("\"{last}\"*"));
        Ok(Query(expression))
    }
}

impl Query {
    /// The FTS5 expression.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Indexes the messages stored with seq `first` to `last` (those that
/// exist): new messages are indexed together, once per group commit, in
/// the transaction that stores them. Edits and deletes keep the index in
/// step through triggers, so every message must be indexed before one of
/// those touches it.
pub fn index(conn: &Connection, first: i64, last: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages_fts (rowid, content)
         SELECT seq, content FROM messages WHERE seq BETWEEN ?1 AND ?2",
    )?
    .execute([first, last])?;
    Ok(())
}

/// The newest `limit` messages matching `query`, in channel `channel` if
/// given, stored before message `before` if given.
pub fn search(
    conn: &Connection,
    query: &Query,
    channel: Option<&Uuid>,
    before: Option<&Uuid>,
    limit: u32,
) -> Result<Vec<Message>, Refusal> {
    let channel_seq = match channel {
        Some(id) => Some(channels::seq(conn, id)?.ok_or_else(|| channels::not_found(id))?),
        None => None,
    };
    let below = match before {
        Some(id) => messages::seq_in(conn, id, None)?
            .ok_or_else(|| Refusal::Invalid(format!("{id} is not a message")))?,
        None => i64::MAX,
    };
    // The columns of `messages::from_row`.
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.author, c.id, m.content, m.created_at, m.edited_at
         FROM messages_fts f
         JOIN messages m ON m.seq = f.rowid
         JOIN channels c ON c.seq = m.channel
         WHERE messages_fts MATCH ?1 AND f.rowid < ?2 AND (?3 IS NULL OR m.channel = ?3)
         ORDER BY f.rowid DESC
         LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![query.as_str(), below, channel_seq, limit],
        messages::from_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expression(q: &str) -> Result<String, Invalid> {
        Query::try_from(q.to_owned()).map(|q| q.0)
    }

    #[test]
    fn words_are_quoted_and_the_last_is_a_prefix() {
        assert_eq!(expression("hello").unwrap(), "\"hello\"*");
        assert_eq!(expression("  Hello, wor").unwrap(), "\"Hello\" \"wor\"*");
        assert_eq!(expression("café").unwrap(), "\"café\"*");
        assert_eq!(expression("cafe\u{301}").unwrap(), "\"café\"*", "NFC first");
    }

    #[test]
    fn operators_are_only_characters() {
        for (q, want) in [
            ("\"unbalanced", "\"unbalanced\"*"),
            ("a AND b", "\"a\" \"AND\" \"b\"*"),
            ("NEAR(a b)", "\"NEAR\" \"a\" \"b\"*"),
            ("content: x", "\"content\" \"x\"*"),
            ("-x *y ^z", "\"x\" \"y\" \"z\"*"),
            ("a OR (b NOT c)", "\"a\" \"OR\" \"b\" \"NOT\" \"c\"*"),
        ] {
            assert_eq!(expression(q).unwrap(), want, "{q}");
        }
    }

    #[test]
    fn refuses_what_has_no_words() {
        for q in [
            "",
            "   ",
            "\"*-()",
            &"!".repeat(200),
            "🎉🎉",
            &"a".repeat(201),
        ] {
            assert!(expression(q).is_err(), "{q}");
        }
        assert!(expression(&format!(" {} ", "a".repeat(200))).is_ok());
    }
}
