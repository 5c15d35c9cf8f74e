//! Mentions: `@name` in a message names an account, matched as the people
//! search matches names (without case or diacritics), the longest name
//! that fits; it mentions that account if it may see the channel. A
//! message keeps its mentions (`messages.mentions`, the ids one after
//! another) and the `mentions` table indexes them for unread counts.

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

/// The accounts of `names` that `content` names after an `@` that starts a
/// word, each once: at each `@`, the longest name whose characters, as the
/// people search compares them, are the next ones, and end a word.
fn named(content: &str, names: &[(Uuid, String)]) -> Vec<Uuid> {
    let keyed: Vec<(Uuid, String, usize)> = names
        .iter()
        .map(|(id, name)| (*id, sort_key(name), name.chars().count()))
        .collect();
    let mut found = Vec::new();
    let mut previous: Option<char> = None;
    for (at, c) in content.char_indices() {
        let starts = previous.is_none_or(|p| !is_word_char(p));
        previous = Some(c);
        if c != '@' || !starts {
            continue;
        }
        let rest = &content[at + 1..];
        let mut best: Option<(usize, Uuid)> = None;
        for (id, key, chars) in &keyed {
            if best.is_some_and(|(longest, _)| longest >= *chars) {
                continue;
            }
            let end = rest
                .char_indices()
                .nth(*chars)
                .map_or(rest.len(), |(i, _)| i);
            if rest[..end].chars().count() != *chars
                || rest[end..].chars().next().is_some_and(is_word_char)
            {
                continue;
            }
            if sort_key(&rest[..end]) == *key {
                best = Some((*chars, *id));
            }
        }
        if let Some((_, id)) = best
            && !found.contains(&id)
        {
            found.push(id);
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
    }

    #[test]
    fn ids_survive_the_column() {
        let ids = vec![Uuid::new_v4(), Uuid::new_v4()];
        assert_eq!(decode(encode(&ids)), ids);
        assert_eq!(decode(encode(&[])), Vec::<Uuid>::new());
    }
}
