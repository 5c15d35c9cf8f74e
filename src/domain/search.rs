//! Search: plain text in, the messages that contain every word out, newest
//! first. The text never reaches FTS5 as query syntax: it is split into
//! words, each word is quoted, and only the last one is made a prefix.

use rusqlite::{Connection, params};
use unicode_normalization::UnicodeNormalization;
use uuid::Uuid;

use super::channels::{self, SEEN};
use super::error::{Refusal, StoreError};
use super::messages::{self, Message};
use super::names::Invalid;
use super::unicode;

/// The most characters a search may have, after trimming.
pub const MAX_QUERY: usize = 200;
/// The most distinct words a search uses: each is one more walk through
/// the index, and a message that holds ten of the words asked for is
/// found; beyond them, the first words and the last (the one being typed)
/// count.
pub const MAX_WORDS: usize = 10;

/// A search's words, as an FTS5 expression over the messages' text that
/// can only mean "every one of these words, the last as a prefix".
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
        // A word of marks alone (a combining accent) holds no letter or
        // digit: the index has no such word.
        let mut words: Vec<&str> = q
            .split(|c: char| !unicode::is_word_char(c))
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .collect();
        let Some(last) = words.pop() else {
            return Err(Invalid("q must hold at least one letter or digit".into()));
        };
        // A word asked for twice costs twice and finds nothing more.
        let mut seen = vec![last.to_lowercase()];
        words.retain(|w| {
            let key = w.to_lowercase();
            let new = !seen.contains(&key);
            seen.push(key);
            new
        });
        words.truncate(MAX_WORDS - 1);
        // Words hold letters, digits and marks only: no quote to escape.
        let mut expression = String::from("content : (");
        for word in words {
            expression.push_str(&format!("\"{word}\" "));
        }
        expression.push_str(&format!("\"{last}\"*)"));
        Ok(Query(expression))
    }
}

impl Query {
    /// The FTS5 expression, limited to the channel stored with seq
    /// `channel` if given: the channel's word is then one more term of the
    /// AND, so FTS5 skips to that channel's entries.
    fn expression(&self, channel: Option<i64>) -> String {
        match channel {
            Some(seq) => format!("channel : \"{seq}\" AND {}", self.0),
            None => self.0.clone(),
        }
    }
}

/// Which search index to write: the one searches read, or the one a purge
/// is building to take its place (see `reindex`).
#[derive(Clone, Copy, Debug)]
pub enum Index {
    Live,
    Next,
}

macro_rules! index_sql {
    ($table:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " (rowid, content, channel)
             SELECT seq, content || coalesce(char(10) || files, ''), channel FROM messages
             WHERE seq BETWEEN ?1 AND ?2
             AND channel IS NOT (SELECT value FROM meta WHERE key = 'unindexed')"
        )
    };
}

/// Indexes the messages stored with seq `first` to `last` (those that
/// exist, but for a channel being purged by a rebuild): new messages are
/// indexed together, once per group commit, in the transaction that
/// stores them. Edits and deletes keep the index in step through
/// triggers, so every message must be indexed before one of those touches
/// it.
pub fn index(conn: &Connection, index: Index, first: i64, last: i64) -> Result<(), StoreError> {
    let sql = match index {
        Index::Live => index_sql!("messages_fts"),
        Index::Next => index_sql!("messages_fts_next"),
    };
    conn.prepare_cached(sql)?.execute([first, last])?;
    Ok(())
}

/// Merges the index's segments, writing about `pages` pages: repeated
/// until it changes nothing, it leaves one segment, without the entries of
/// messages deleted while FTS5's secure-delete was off (a purge).
pub fn merge(conn: &Connection, pages: i64) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO messages_fts (messages_fts, rank) VALUES ('merge', ?1)")?
        .execute([-pages])?;
    Ok(())
}

/// The newest `limit` messages matching `query` in the channels `viewer`
/// may see, in channel `channel` if given, stored before message `before`
/// if given. What one costs is
/// bounded by its words (at most [`MAX_WORDS`]), its channel (a term inside
/// the index) and `limit`: FTS5 does the walking inside the index, where
/// no progress handler or interrupt reaches.
pub fn search(
    conn: &Connection,
    viewer: &Uuid,
    query: &Query,
    channel: Option<&Uuid>,
    before: Option<&Uuid>,
    limit: u32,
) -> Result<Vec<Message>, Refusal> {
    let channel_seq = match channel {
        Some(id) => Some(channels::seen_or_not_found(conn, viewer, id)?.seq),
        None => None,
    };
    let below = match before {
        Some(id) => messages::seq_seen(conn, viewer, id)?
            .ok_or_else(|| Refusal::Invalid(format!("{id} is not a message")))?,
        None => i64::MAX,
    };
    // The columns of `messages::from_row`.
    let mut stmt = conn.prepare_cached(&format!(
        "WITH {SEEN}
         SELECT m.id, m.author, c.id, m.content, m.created_at, m.edited_at,
                m.files IS NOT NULL, m.mentions
         FROM messages_fts f
         JOIN messages m ON m.seq = f.rowid
         JOIN seen c ON c.seq = m.channel
         WHERE messages_fts MATCH ?2 AND f.rowid < ?3
         ORDER BY f.rowid DESC
         LIMIT ?4"
    ))?;
    let rows = stmt.query_map(
        params![viewer, query.expression(channel_seq), below, limit],
        messages::from_row,
    )?;
    let mut found: Vec<Message> = rows.collect::<rusqlite::Result<_>>()?;
    messages::fill(conn, found.iter_mut())?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of `q`'s expression, inside its column filter.
    fn expression(q: &str) -> Result<String, Invalid> {
        let query = Query::try_from(q.to_owned())?;
        let inner = query
            .0
            .strip_prefix("content : (")
            .and_then(|e| e.strip_suffix(')'));
        Ok(inner.expect("a column filter around the words").to_owned())
    }

    #[test]
    fn a_channel_is_a_term_of_its_own() {
        let query = Query::try_from("hi".to_owned()).unwrap();
        assert_eq!(query.expression(None), "content : (\"hi\"*)");
        assert_eq!(
            query.expression(Some(42)),
            "channel : \"42\" AND content : (\"hi\"*)"
        );
    }

    #[test]
    fn repeated_words_count_once_and_at_most_max_words() {
        assert_eq!(
            expression("the The x the Th").unwrap(),
            "\"the\" \"x\" \"Th\"*"
        );
        assert_eq!(expression("the x THE").unwrap(), "\"x\" \"THE\"*");
        let many: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
        let words = expression(&many.join(" ")).unwrap();
        assert_eq!(words.split(' ').count(), MAX_WORDS);
        assert!(
            words.starts_with("\"w0\" ") && words.ends_with("\"w39\"*"),
            "{words}"
        );
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
            "\u{301}",
            "\u{301}\u{302} \u{303}",
            &"a".repeat(201),
        ] {
            assert!(expression(q).is_err(), "{q}");
        }
        assert!(expression(&format!(" {} ", "a".repeat(200))).is_ok());
    }
}
