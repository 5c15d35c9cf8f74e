//! Mentions: `@name` in a message names an account, matched as the people
//! search matches names (without case or diacritics), the longest name
//! that fits; it mentions that account if it may see the channel. A
//! message keeps its mentions (`messages.mentions`, the ids one after
//! another) and the `mentions` table indexes them for unread counts.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use uuid::Uuid;

use super::channels::{Kind, Seen};
use super::error::StoreError;
use super::unicode::{is_word_char, sort_key};

/// The accounts `content` mentions that may see `channel`, in the order
/// they are first named, each once.
pub fn find(conn: &Connection, channel: &Seen, content: &str) -> Result<Vec<Uuid>, StoreError> {
    if !content.contains('@') {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached("SELECT id, name FROM users")?;
    let names = stmt
        .query_map([], |r| Ok((r.get::<_, Uuid>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut found = named(content, &names);
    if channel.kind != Kind::Public {
        let mut member =
            conn.prepare_cached("SELECT 1 FROM channel_members WHERE channel = ?1 AND user = ?2")?;
        let mut seen = Vec::with_capacity(found.len());
        for id in found {
            if member.exists(params![channel.seq, id])? {
                seen.push(id);
            }
        }
        found = seen;
    }
    Ok(found)
}

/// The most `@`s of one message looked at: a message names a few people,
/// and each `@` costs a few name comparisons.
const MOST_ATS: usize = 32;

/// How far after an `@` a name may reach, in characters: the longest name
/// (64), with room for its diacritics typed apart (NFD).
const REACH: usize = 128;

/// The accounts of `names` that `content` names after an `@` that starts a
/// word, each once: at each `@`, the longest text up to a word's end whose
/// form as the people search compares names (without case or diacritics)
/// is an account's name.
fn named(content: &str, names: &[(Uuid, String)]) -> Vec<Uuid> {
    let by_key: HashMap<String, Uuid> = names
        .iter()
        .map(|(id, name)| (sort_key(name), *id))
        .collect();
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    let mut ats = 0;
    for (at, c) in content.char_indices() {
        let starts = previous.is_none_or(|p| !is_word_char(p));
        previous = Some(c);
        if c != '@' || !starts {
            continue;
        }
        ats += 1;
        if ats > MOST_ATS {
            break;
        }
        let rest = &content[at + 1..];
        // Where a word ends within reach, longest first.
        let mut ends: Vec<usize> = Vec::new();
        let mut chars = rest.char_indices().take(REACH).peekable();
        while let Some((i, c)) = chars.next() {
            let next = chars.peek().map(|&(_, n)| n);
            if is_word_char(c) && next.is_none_or(|n| !is_word_char(n)) {
                ends.push(i + c.len_utf8());
            }
        }
        let hit = ends
            .iter()
            .rev()
            .find_map(|&end| by_key.get(&sort_key(&rest[..end])));
        if let Some(id) = hit
            && !found.contains(id)
        {
            found.push(*id);
        }
    }
    found
}

/// Stores `ids` as the mentions of the message at `seq` in the channel at
/// `channel_seq`, replacing any it had.
pub fn store(
    conn: &Connection,
    seq: i64,
    channel_seq: i64,
    ids: &[Uuid],
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM mentions WHERE seq = ?1")?
        .execute([seq])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO mentions (user, channel, seq) VALUES (?1, ?2, ?3)",
    )?;
    for id in ids {
        insert.execute(params![id, channel_seq, seq])?;
    }
    conn.prepare_cached("UPDATE messages SET mentions = ?2 WHERE seq = ?1")?
        .execute(params![seq, encode(ids)])?;
    Ok(())
}

/// The column's form of `ids`: their bytes one after another, or NULL.
fn encode(ids: &[Uuid]) -> Option<Vec<u8>> {
    (!ids.is_empty()).then(|| ids.iter().flat_map(|id| *id.as_bytes()).collect())
}

/// The ids a `messages.mentions` value holds.
pub fn decode(column: Option<Vec<u8>>) -> Vec<Uuid> {
    column
        .unwrap_or_default()
        .chunks_exact(16)
        .filter_map(|bytes| Uuid::from_slice(bytes).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<(Uuid, String)> {
        ["Ann", "Ann Marie", "Émile", "bob"]
            .iter()
            .map(|name| (Uuid::new_v4(), (*name).to_string()))
            .collect()
    }

    fn names_in(content: &str, people: &[(Uuid, String)]) -> Vec<String> {
        named(content, people)
            .iter()
            .filter_map(|id| people.iter().find(|(p, _)| p == id))
            .map(|(_, name)| name.clone())
            .collect()
    }

    #[test]
    fn the_longest_name_that_fits_a_word_is_mentioned() {
        let people = people();
        assert_eq!(names_in("hi @ann marie!", &people), ["Ann Marie"]);
        assert_eq!(names_in("hi @Ann, and @ANN again", &people), ["Ann"]);
        assert_eq!(names_in("@emile @Bob", &people), ["Émile", "bob"]);
        assert_eq!(names_in("@annie @bobby", &people), Vec::<String>::new());
        assert_eq!(
            names_in("mail me: x@bob or @", &people),
            Vec::<String>::new()
        );
        assert_eq!(names_in("(@bob)", &people), ["bob"]);
        // Diacritics typed apart (NFD) match as the people search does.
        assert_eq!(names_in("@E\u{301}mile", &people), ["Émile"]);
    }

    /// At most 32 `@`s are looked at, each against names up to a word's
    /// end (what the bench would show if it grew slow).
    #[test]
    fn a_message_of_at_signs_names_nobody_and_ends() {
        let people: Vec<(Uuid, String)> = (0..1000)
            .map(|i| (Uuid::new_v4(), format!("person {i}")))
            .collect();
        let flood = "@".repeat(4000);
        let words = "@a ".repeat(1300);
        assert!(named(&flood, &people).is_empty());
        assert!(named(&words, &people).is_empty());
        assert_eq!(
            names_in("@person 7 and @person 77", &people),
            ["person 7", "person 77"]
        );
    }

    #[test]
    fn ids_survive_the_column() {
        let ids = vec![Uuid::new_v4(), Uuid::new_v4()];
        assert_eq!(decode(encode(&ids)), ids);
        assert_eq!(decode(encode(&[])), Vec::<Uuid>::new());
    }
}
