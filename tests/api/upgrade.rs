//! Upgrades keep everything: a database as an earlier release left it
//! (the schema before the newest migration, and the one before) with accounts, a
//! signed-in session, messages, an edit, a delete's tombstone, read markers
//! and a channel half purged, served by this binary: migrated, and every
//! part of it served as before. (`azuma backup`'s copy of a database in
//! use restoring and serving: ops.rs.)

use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{Binary, old_database, stored_hash};

/// The schema versions of the last releases: every migration but the
/// newest one, or the newest two.
fn previous() -> [i64; 2] {
    let newest = include_str!("../../schema.sql")
        .lines()
        .filter(|l| l.starts_with("-- migration "))
        .count() as i64;
    [newest - 1, newest - 2]
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|m| m["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_database_of_the_previous_releases_is_migrated_and_served_whole() {
    for version in previous() {
        served_whole(version).await;
    }
}

async fn served_whole(previous: i64) {
    let dir = tempfile::tempdir().unwrap();
    let old = old_database(dir.path(), previous);
    let hash = stored_hash("pw").await;
    let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
    // bob's name has no key yet, as for accounts from before migration 4.
    old.execute(
        "INSERT INTO users (id, name, name_key, password, created_at, first_seq)
         VALUES (?1, 'alice', 'alice', ?3, 1, 0), (?2, 'bob', NULL, ?3, 2, 0)",
        rusqlite::params![alice, bob, hash],
    )
    .unwrap();
    // alice is signed in: her token must outlive the upgrade.
    let token = Uuid::new_v4();
    let digest = Sha256::digest(token.as_bytes()).to_vec();
    let far = 4_000_000_000_000_000i64; // microseconds: the 2090s
    old.execute(
        "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
        rusqlite::params![digest, alice, far],
    )
    .unwrap();
    let (family, gone) = (Uuid::new_v4(), Uuid::new_v4());
    old.execute(
        "INSERT INTO channel_rows (seq, id, name, owner, created_at, deleted_at)
         VALUES (1, ?1, 'family', ?3, 3, NULL), (2, ?2, 'old', ?3, 4, 5)",
        rusqlite::params![family, gone, alice],
    )
    .unwrap();
    let message: Vec<Uuid> = (0..7).map(|_| Uuid::new_v4()).collect();
    let contents = ["hello grandma", "hello all", "", "edited words", "see you"];
    for (seq, content) in (1..=5).zip(contents) {
        if seq == 3 {
            continue; // deleted: only its tombstone stays
        }
        let edited = (seq == 4).then_some(20i64);
        old.execute(
            "INSERT INTO messages (seq, id, channel, author, content, created_at, edited_at)
             VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6)",
            rusqlite::params![seq, message[seq as usize], alice, content, 10 + seq, edited],
        )
        .unwrap();
    }
    old.execute(
        "INSERT INTO message_tombstones (seq, id, channel) VALUES (3, ?1, 1)",
        [message[3]],
    )
    .unwrap();
    // The half-purged channel's last message, and the highest seq given.
    old.execute(
        "INSERT INTO messages (seq, id, channel, author, content, created_at)
         VALUES (6, ?1, 2, ?2, 'purge me', 16)",
        rusqlite::params![message[6], alice],
    )
    .unwrap();
    old.execute_batch(
        "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
         UPDATE meta SET value = 6 WHERE key = 'seq_high';",
    )
    .unwrap();
    // bob has read up to the second message.
    old.execute(
        "INSERT INTO read_markers (user, channel, seq, message) VALUES (?1, 1, 2, ?2)",
        rusqlite::params![bob, message[2]],
    )
    .unwrap();
    drop(old);

    let server = Binary::start(dir.path(), &["--database", "old.db"]).await;
    let peek = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    let version: i64 = peek
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert!(version > previous, "not migrated: {version}");
    drop(peek);

    let alice_token = token.to_string();
    let alice_token = Some(alice_token.as_str());
    let me = server
        .call(Method::GET, "/user/self", alice_token, None)
        .await;
    assert_eq!(me.assert_json(200)["name"], "alice");
    let login = json!({"name": "bob", "password": "pw"});
    let bob_token = server
        .call(Method::POST, "/user/login", None, Some(login))
        .await
        .token();
    let bob_token = Some(bob_token.as_str());

    let channels = server.call(Method::GET, "/channel", bob_token, None).await;
    let channels = channels.assert_json(200).clone();
    assert_eq!(ids(&channels), [family.to_string()], "{channels}");
    assert_eq!(channels[0]["kind"], "public");

    let history = format!("/channel/{family}/messages");
    let history = server.call(Method::GET, &history, bob_token, None).await;
    let history = history.assert_json(200).clone();
    let kept: Vec<String> = [1, 2, 4, 5].map(|i| message[i].to_string()).into();
    assert_eq!(ids(&history), kept);
    assert_eq!(history[2]["content"], "edited words");
    assert!(history[2]["edited_at"].is_string(), "{}", history[2]);
    // The deleted message is gone, and still a cursor.
    let deleted = format!("/message/{}", message[3]);
    let deleted = server.call(Method::GET, &deleted, bob_token, None).await;
    deleted.assert_error(404, "NOT_FOUND");
    let after = format!("/channel/{family}/messages?after={}", message[3]);
    let after = server.call(Method::GET, &after, bob_token, None).await;
    assert_eq!(ids(after.assert_json(200)), kept[2..]);

    // bob's marker counts what came after it.
    let unread = server
        .call(Method::GET, "/user/self/unread", bob_token, None)
        .await;
    let unread = unread.assert_json(200).clone();
    assert_eq!(unread[0]["last_read"], json!(message[2]), "{unread}");
    assert_eq!(unread[0]["unread"], 2, "{unread}");

    let found = server
        .call(Method::GET, "/message/search?q=hello", bob_token, None)
        .await;
    assert_eq!(found.assert_json(200).as_array().map(Vec::len), Some(2));
    let purged = server
        .call(Method::GET, "/message/search?q=purge", alice_token, None)
        .await;
    assert_eq!(purged.assert_json(200), &json!([]));

    // A new message goes after everything, seq_high included.
    let body = json!({"channel": family, "content": "after the upgrade"});
    let sent = server
        .call(Method::POST, "/message/send", bob_token, Some(body))
        .await;
    let new = sent.assert_json(200)["id"].as_str().unwrap().to_owned();
    let history = format!("/channel/{family}/messages");
    let history = server.call(Method::GET, &history, alice_token, None).await;
    assert_eq!(ids(history.assert_json(200)).last(), Some(&new));
}
