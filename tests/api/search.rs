//! `GET /message/search`: plain text only, whatever is typed.

use reqwest::Method;
use serde_json::json;

use crate::channel::create_channel;
use crate::helpers::{Reply, TestServer};
use crate::message::send;

/// A search with `query` as its parameters.
async fn search(server: &TestServer, token: &str, query: &[(&str, &str)]) -> Reply {
    let response = server
        .client
        .get(server.url("/message/search"))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .expect("search");
    Reply::from(response).await
}

/// What a search answers: the contents, newest first.
async fn found(server: &TestServer, token: &str, query: &[(&str, &str)]) -> Vec<String> {
    let reply = search(server, token, query).await;
    let body = reply.assert_json(200);
    body.as_array()
        .expect("an array")
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect()
}

/// The status of a search; any error must be the API's 400.
async fn status(server: &TestServer, token: &str, query: &[(&str, &str)]) -> u16 {
    let reply = search(server, token, query).await;
    if reply.status != 200 {
        reply.assert_error(reply.status.as_u16(), "BAD_REQUEST");
    }
    reply.status.as_u16()
}

const TEXTS: [&str; 8] = [
    "Hello World",
    "Café au lait",
    "help me please",
    "world peace now",
    "near hello and or not content",
    "שלום עולם",
    "party 🎉 time",
    "naïve résumé",
];

#[tokio::test]
async fn finds_every_word_folding_case_and_diacritics_newest_first() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let general = create_channel(&server, &token, "general").await;
    let other = create_channel(&server, &token, "other").await;
    let mut sent = Vec::new();
    for (i, text) in TEXTS.iter().enumerate() {
        let channel = if i % 2 == 0 { &general } else { &other };
        sent.push(send(&server, &token, channel, text).await);
    }
    let q = |q: &'static str| [("q", q)];
    assert_eq!(
        found(&server, &token, &q("hel")).await,
        [
            "near hello and or not content",
            "help me please",
            "Hello World"
        ]
    );
    assert_eq!(
        found(&server, &token, &q("HELLO wor")).await,
        ["Hello World"]
    );
    assert_eq!(found(&server, &token, &q("cafe")).await, ["Café au lait"]);
    assert_eq!(
        found(&server, &token, &q("NAIVE resume")).await,
        ["naïve résumé"]
    );
    assert_eq!(found(&server, &token, &q("שלום")).await, ["שלום עולם"]);
    assert_eq!(
        found(&server, &token, &q("🎉 party")).await,
        ["party 🎉 time"]
    );
    assert!(found(&server, &token, &q("pleased")).await.is_empty());
    let in_general = [("q", "wor"), ("channel", general.as_str())];
    assert_eq!(found(&server, &token, &in_general).await, ["Hello World"]);
    let in_other = [("q", "wor"), ("channel", other.as_str())];
    assert_eq!(found(&server, &token, &in_other).await, ["world peace now"]);
    let before = sent[2]["id"].as_str().unwrap();
    let paged = [("q", "hel"), ("before", before)];
    assert_eq!(found(&server, &token, &paged).await, ["Hello World"]);
    let limited = [("q", "hel"), ("limit", "1")];
    assert_eq!(
        found(&server, &token, &limited).await,
        ["near hello and or not content"]
    );

    // Edited messages match their new text only; deleted ones never.
    let edit = json!({"content": "goodbye world"});
    let path = format!("/message/{}", sent[0]["id"].as_str().unwrap());
    server
        .call(Method::PATCH, &path, Some(&token), Some(edit))
        .await
        .assert_json(200);
    assert_eq!(
        found(&server, &token, &q("hello wor")).await,
        Vec::<String>::new()
    );
    assert_eq!(
        found(&server, &token, &q("goodbye")).await,
        ["goodbye world"]
    );
    let path = format!("/message/{}", sent[3]["id"].as_str().unwrap());
    assert_eq!(
        server
            .call(Method::DELETE, &path, Some(&token), None)
            .await
            .status,
        204
    );
    assert_eq!(
        found(&server, &token, &q("peace")).await,
        Vec::<String>::new()
    );
    // A deleted message is still a place to page from.
    let deleted = sent[3]["id"].as_str().unwrap();
    let after_delete = [("q", "hel"), ("before", deleted)];
    assert_eq!(
        found(&server, &token, &after_delete).await,
        ["help me please"]
    );
    server.stop().await;
}

#[tokio::test]
async fn hostile_queries_are_plain_text() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let channel = create_channel(&server, &token, "general").await;
    for text in TEXTS {
        send(&server, &token, &channel, text).await;
    }
    let punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".repeat(7);
    let none: Vec<String> = Vec::new();
    let near = vec!["near hello and or not content".to_owned()];
    let hello = vec![
        "near hello and or not content".to_owned(),
        "Hello World".to_owned(),
    ];
    // (query, what its plain words find)
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("\"hello", hello.clone()),
        ("hello\"", hello.clone()),
        ("\"hello world\"", vec!["Hello World".to_owned()]),
        ("hello*", hello.clone()),
        ("*hello", hello.clone()),
        ("-hello", hello.clone()),
        ("hello -world", vec!["Hello World".to_owned()]),
        ("hello AND content", near.clone()),
        ("hello OR peace", none.clone()),
        ("hello NOT world", none.clone()),
        ("NEAR(hello content)", near.clone()),
        ("NEAR(", near.clone()),
        ("NEAR(hello", near.clone()),
        ("content:hello", near.clone()),
        ("content: world", none.clone()),
        ("(hello", hello.clone()),
        ("^hello", hello.clone()),
        ("hello)", hello.clone()),
        ("{hello}", hello.clone()),
        ("🎉🎉 party", vec!["party 🎉 time".to_owned()]),
        ("\u{202e}שלום", vec!["שלום עולם".to_owned()]),
    ];
    for (query, want) in cases {
        assert_eq!(
            found(&server, &token, &[("q", query)]).await,
            want,
            "{query}"
        );
    }
    for word_less in ["", "   ", "\"", "*", "()", "-", "🎉", punctuation.as_str()] {
        assert_eq!(
            status(&server, &token, &[("q", word_less)]).await,
            400,
            "{word_less:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_and_unknown_search_parameters() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let unknown = "318cd399-f47f-478f-8d09-c9c414c3750d";
    for query in [
        vec![],
        vec![("q", "x".repeat(201))],
        vec![("q", "hi".to_owned()), ("channel", "nope".to_owned())],
        vec![("q", "hi".to_owned()), ("before", "nope".to_owned())],
        vec![("q", "hi".to_owned()), ("before", unknown.to_owned())],
        vec![("q", "hi".to_owned()), ("limit", "0".to_owned())],
        vec![("q", "hi".to_owned()), ("limit", "101".to_owned())],
    ] {
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(status(&server, &token, &query).await, 400, "{query:?}");
    }
    let response = server
        .client
        .get(server.url("/message/search"))
        .bearer_auth(&token)
        .query(&[("q", "hi"), ("channel", unknown)])
        .send()
        .await
        .unwrap();
    crate::helpers::Reply::from(response)
        .await
        .assert_error(404, "NOT_FOUND");
    let unauthenticated = server.get("/message/search?q=hi", None).await;
    unauthenticated.assert_error(401, "UNAUTHORIZED");
    server.stop().await;
}

#[tokio::test]
async fn a_database_of_schema_6_gets_its_index_rebuilt_with_channels() {
    // Two channels, a message each with the same words, and a tombstone
    // holding the highest seq.
    let dir = tempfile::tempdir().unwrap();
    let old = crate::helpers::old_database(dir.path(), 6);
    let hash = crate::helpers::stored_hash("pw").await;
    let user = uuid::Uuid::new_v4();
    let channels = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()];
    old.execute(
        "INSERT INTO users (id, name, name_key, password, created_at) VALUES (?1, 'old', 'old', ?2, 1)",
        rusqlite::params![user, hash],
    )
    .unwrap();
    for (seq, channel) in (1_i64..).zip(&channels) {
        old.execute(
            "INSERT INTO channel_rows (seq, id, name, owner, created_at) VALUES (?1, ?2, 'c', ?3, 2)",
            rusqlite::params![seq, channel, user],
        )
        .unwrap();
        old.execute(
            "INSERT INTO messages (seq, id, channel, author, content, created_at)
             VALUES (?1, ?2, ?3, ?4, 'kept words', ?1)",
            rusqlite::params![seq, uuid::Uuid::new_v4(), seq, user],
        )
        .unwrap();
    }
    old.execute(
        "INSERT INTO message_tombstones (seq, id, channel) VALUES (9, ?1, 2)",
        [uuid::Uuid::new_v4()],
    )
    .unwrap();
    drop(old);

    let server = crate::helpers::Binary::start(dir.path(), &["--database", "old.db"]).await;
    let login = json!({"name": "old", "password": "pw"});
    let token = server
        .call(Method::POST, "/user/login", None, Some(login))
        .await
        .token();
    let path = format!("/message/search?q=kept&channel={}", channels[0]);
    let found = server.call(Method::GET, &path, Some(&token), None).await;
    let found = found
        .assert_json(200)
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["channel"], json!(channels[0]));
    let everywhere = server
        .call(Method::GET, "/message/search?q=words", Some(&token), None)
        .await;
    assert_eq!(
        everywhere.assert_json(200).as_array().map(Vec::len),
        Some(2)
    );
    drop(server);
    let db = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
    let high: i64 = db
        .query_row("SELECT value FROM meta WHERE key = 'seq_high'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(high, 9, "the tombstone's seq is the high-water mark");
}
