//! A private or direct channel does not exist for anyone outside it: every
//! route and frame answers a non-member exactly as for an id never made,
//! while its members talk; and a removed member hears nothing more of it.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestServer, WsClient};
use crate::message::send;
use crate::private::{person, private};

/// What one request answered, with `hidden` (an id or a word) written as
/// `<x>`: a refusal names the id it was given.
type Answer = (String, u16, String);

/// Every route that takes a channel or a message, asked by `token` about
/// channel `channel` and message `message` (and a word of it, `word`).
async fn probe(
    server: &TestServer,
    token: &str,
    channel: &str,
    message: &str,
    word: &str,
) -> Vec<Answer> {
    let someone = uuid::Uuid::new_v4().to_string();
    let requests: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/channel/{channel}"), None),
        (
            Method::DELETE,
            "/channel".into(),
            Some(json!({"id": channel})),
        ),
        (Method::GET, format!("/channel/{channel}/messages"), None),
        (
            Method::GET,
            format!("/channel/{channel}/messages?before={message}"),
            None,
        ),
        (
            Method::GET,
            format!("/channel/{channel}/messages?after={message}&limit=5"),
            None,
        ),
        (
            Method::POST,
            format!("/channel/{channel}/read"),
            Some(json!({"message": message})),
        ),
        (Method::GET, format!("/channel/{channel}/members"), None),
        (
            Method::POST,
            format!("/channel/{channel}/members"),
            Some(json!({"user": someone})),
        ),
        (
            Method::DELETE,
            format!("/channel/{channel}/members/{someone}"),
            None,
        ),
        (
            Method::POST,
            "/message/send".into(),
            Some(json!({"channel": channel, "content": "hi"})),
        ),
        (Method::GET, format!("/message/{message}"), None),
        (
            Method::PATCH,
            format!("/message/{message}"),
            Some(json!({"content": "mine now"})),
        ),
        (Method::DELETE, format!("/message/{message}"), None),
        (
            Method::GET,
            format!("/message/search?q=hello&channel={channel}"),
            None,
        ),
        (
            Method::GET,
            format!("/message/search?q=hello&before={message}"),
            None,
        ),
        (Method::GET, format!("/message/search?q={word}"), None),
    ];
    let mut answers = Vec::new();
    for (method, path, body) in requests {
        let reply = server.call(method.clone(), &path, Some(token), body).await;
        let text = [channel, message, word, &someone]
            .iter()
            .fold(reply.text.clone(), |text, hidden| {
                text.replace(hidden, "<x>")
            });
        let what = [channel, message, word, &someone]
            .iter()
            .fold(format!("{method} {path}"), |p, hidden| {
                p.replace(hidden, "<x>")
            });
        answers.push((what, reply.status.as_u16(), text));
    }
    answers
}

/// What a `Typing` frame for `channel` gets back, if anything, within a
/// moment.
async fn typing_answer(ws: &mut WsClient, channel: &str) -> Option<Value> {
    let frame = json!({"type": "Typing", "content": {"channel": channel}});
    ws.send_text(&frame.to_string()).await;
    tokio::time::timeout(Duration::from_millis(500), ws.next_but("Status"))
        .await
        .ok()
}

#[tokio::test]
async fn a_non_member_gets_for_every_route_what_an_unknown_id_gets() {
    let server = TestServer::start().await;
    let (a, a_id) = person(&server, "ann").await;
    let (b, b_id) = person(&server, "ben").await;
    let (c, _) = person(&server, "cat").await;
    let secret = private(&server, &a, "secret plans", &[&b_id]).await;
    let direct = server
        .post("/direct", Some(&a), json!({"users": [b_id]}))
        .await;
    let direct = direct.assert_json(201)["id"].as_str().unwrap().to_owned();
    let mut outsider = WsClient::connect(&server.base).await;
    outsider.authenticate(&c).await;
    let mut outsider_typing = WsClient::connect(&server.base).await;
    outsider_typing.authenticate(&c).await;

    // The members talk all along: send, edit, delete, type, mark read.
    let talk = {
        let (server_base, a, b) = (server.base.clone(), a.clone(), b.clone());
        let channels = [secret.clone(), direct.clone()];
        tokio::spawn(async move {
            let http = crate::helpers::client();
            let mut typist = WsClient::connect(&server_base).await;
            typist.authenticate(&b).await;
            for round in 0..15 {
                for channel in &channels {
                    let text = format!("hello zebraword {round}");
                    let body = json!({"channel": channel, "content": text});
                    let sent = crate::helpers::call_at(
                        &http,
                        &server_base,
                        Method::POST,
                        "/message/send",
                        Some(&a),
                        Some(body),
                    )
                    .await;
                    let id = sent.body["id"].as_str().unwrap().to_owned();
                    let path = format!("/message/{id}");
                    let edit = json!({"content": format!("hello zebraword edited {round}")});
                    crate::helpers::call_at(
                        &http,
                        &server_base,
                        Method::PATCH,
                        &path,
                        Some(&a),
                        Some(edit),
                    )
                    .await;
                    let read = json!({"message": id});
                    crate::helpers::call_at(
                        &http,
                        &server_base,
                        Method::POST,
                        &format!("/channel/{channel}/read"),
                        Some(&b),
                        Some(read),
                    )
                    .await;
                    typist
                        .send_text(
                            &json!({"type": "Typing", "content": {"channel": channel}}).to_string(),
                        )
                        .await;
                    if round % 3 == 0 {
                        crate::helpers::call_at(
                            &http,
                            &server_base,
                            Method::DELETE,
                            &path,
                            Some(&a),
                            None,
                        )
                        .await;
                    }
                }
            }
        })
    };

    let unknown_channel = uuid::Uuid::new_v4().to_string();
    let unknown_message = uuid::Uuid::new_v4().to_string();
    let never = probe(&server, &c, &unknown_channel, &unknown_message, "yakword").await;
    for channel in [&secret, &direct] {
        let kept = send(&server, &a, channel, "hello zebraword kept").await;
        let message = kept["id"].as_str().unwrap();
        let seen = probe(&server, &c, channel, message, "zebraword").await;
        for (got, want) in seen.iter().zip(&never) {
            assert_eq!(got, want);
        }
        // It is all still there for its members.
        let history = server
            .get(&format!("/channel/{channel}/messages"), Some(&b))
            .await;
        assert!(
            history
                .assert_json(200)
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["id"] == kept["id"])
        );
        assert_eq!(
            typing_answer(&mut outsider_typing, channel).await,
            typing_answer(&mut outsider_typing, &uuid::Uuid::new_v4().to_string()).await,
        );
    }
    let lists = [
        server.get("/channel", Some(&c)).await,
        server.get("/user/self/unread", Some(&c)).await,
    ];
    for list in lists {
        assert_eq!(list.assert_json(200), &json!([]));
    }
    talk.await.unwrap();

    // Of all that, the outsider's connection heard nothing: statuses only.
    let _ = a_id;
    while let Ok(frame) = tokio::time::timeout(Duration::from_millis(700), outsider.next()).await {
        assert_eq!(frame["type"], "Status", "{frame}");
    }
}

#[tokio::test]
async fn no_frame_of_a_channel_reaches_a_member_after_their_removal() {
    let server = TestServer::start().await;
    let (a, _) = person(&server, "ann").await;
    let (c, c_id) = person(&server, "cat").await;
    for round in 0..5 {
        let channel = private(&server, &a, &format!("room {round}"), &[&c_id]).await;
        let mut cat = WsClient::connect(&server.base).await;
        cat.authenticate(&c).await;
        let sends = {
            let (base, a, channel) = (server.base.clone(), a.clone(), channel.clone());
            tokio::spawn(async move {
                let http = crate::helpers::client();
                let mut sending = Vec::new();
                for i in 0..60 {
                    let body = json!({"channel": channel, "content": format!("n{i}")});
                    let (http, base, a) = (http.clone(), base.clone(), a.clone());
                    sending.push(tokio::spawn(async move {
                        crate::helpers::call_at(
                            &http,
                            &base,
                            Method::POST,
                            "/message/send",
                            Some(&a),
                            Some(body),
                        )
                        .await
                    }));
                }
                for s in sending {
                    s.await.unwrap();
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(3 * round)).await;
        let path = format!("/channel/{channel}/members/{c_id}");
        let reply = server.call(Method::DELETE, &path, Some(&a), None).await;
        assert_eq!(reply.status, 204);
        sends.await.unwrap();
        let mut removed = false;
        loop {
            let Ok(frame) = tokio::time::timeout(Duration::from_millis(500), cat.next()).await
            else {
                break;
            };
            if frame["type"] == "MemberRemoved" {
                removed = true;
            } else if frame["type"] != "Status" {
                assert!(!removed, "after MemberRemoved: {frame}");
            }
        }
        assert!(removed, "MemberRemoved arrived");
    }
}
