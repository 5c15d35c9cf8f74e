//! Read markers: they only move forward, stay in their channel, and
//! unread counts (capped, from the account's start, deleted messages left
//! out).

use rusqlite::Connection;
use uuid::Uuid;

use crate::domain::error::Refusal;
use crate::domain::markers::*;
use crate::domain::messages;
use crate::domain::testing::{self, TestDb, send};

/// `user`'s unread count in each channel, in the channels' order.
fn counts(conn: &Connection, user: &Uuid) -> Vec<i64> {
    unread(conn, user)
        .unwrap()
        .iter()
        .map(|u| u.unread)
        .collect()
}

#[test]
fn a_marker_only_moves_forward() {
    let t = TestDb::new();
    let user = testing::user(&t.conn, "alice");
    let channel = testing::channel(&t.conn, user, "general");
    let old = send(&t.conn, &channel, user, "old");
    let new = send(&t.conn, &channel, user, "new");
    send(&t.conn, &channel, user, "newest");

    let moved = mark(&t.conn, &user, &channel.id, &new.id).unwrap().unwrap();
    assert_eq!(
        (moved.user, moved.channel, moved.message),
        (user, channel.id, new.id)
    );
    assert!(
        mark(&t.conn, &user, &channel.id, &old.id)
            .unwrap()
            .is_none()
    );
    assert!(
        mark(&t.conn, &user, &channel.id, &new.id)
            .unwrap()
            .is_none()
    );
    let line = &unread(&t.conn, &user).unwrap()[0];
    assert_eq!((line.last_read, line.unread), (Some(new.id), 1));
}

#[test]
fn a_message_of_another_channel_or_no_channel_is_refused() {
    let t = TestDb::new();
    let user = testing::user(&t.conn, "alice");
    let here = testing::channel(&t.conn, user, "here");
    let there = testing::channel(&t.conn, user, "there");
    let elsewhere = send(&t.conn, &there, user, "elsewhere");
    assert!(matches!(
        mark(&t.conn, &user, &here.id, &elsewhere.id),
        Err(Refusal::Invalid(_))
    ));
    assert!(matches!(
        mark(&t.conn, &user, &Uuid::new_v4(), &elsewhere.id),
        Err(Refusal::NotFound(_))
    ));
    assert!(unread(&t.conn, &user).unwrap()[0].last_read.is_none());
}

#[test]
fn sending_moves_the_authors_marker() {
    let t = TestDb::new();
    let user = testing::user(&t.conn, "alice");
    let channel = testing::channel(&t.conn, user, "general");
    let (message, place) = testing::send_at(&t.conn, &channel, user, "hi");
    let marker = sent(&t.conn, &message, place).unwrap().unwrap();
    assert_eq!(marker.message, message.id);
    assert!(sent(&t.conn, &message, place).unwrap().is_none());
    assert_eq!(counts(&t.conn, &user), [0]);
}

#[test]
fn unread_counts_stop_at_the_cap() {
    let t = TestDb::new();
    let user = testing::user(&t.conn, "alice");
    let channel = testing::channel(&t.conn, user, "general");
    let tx = t.conn.unchecked_transaction().unwrap();
    let sent: Vec<_> = (0..UNREAD_CAP + 5)
        .map(|i| testing::send_at(&tx, &channel, user, &format!("m{i}")).0)
        .collect();
    tx.commit().unwrap();
    assert_eq!(counts(&t.conn, &user), [UNREAD_CAP]);
    // Just below the cap, the count is exact.
    mark(&t.conn, &user, &channel.id, &sent[5].id).unwrap();
    assert_eq!(counts(&t.conn, &user), [UNREAD_CAP - 1]);
    mark(&t.conn, &user, &channel.id, &sent[1000].id).unwrap();
    assert_eq!(counts(&t.conn, &user), [4]);
}

/// What the triggers keep for `channel` (its messages and the seq of its
/// 1000th newest), next to what counting says.
fn kept_and_counted(conn: &Connection, channel: &Uuid) -> [(i64, Option<i64>); 2] {
    let kept = conn
        .query_row(
            "SELECT message_count, cap_seq FROM channel_rows WHERE id = ?1",
            [channel],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let counted = conn
        .query_row(
            "SELECT (SELECT count(*) FROM messages m WHERE m.channel = c.seq),
                    (SELECT m.seq FROM messages m WHERE m.channel = c.seq
                     ORDER BY m.seq DESC LIMIT 1 OFFSET ?2 - 1)
             FROM channel_rows c WHERE c.id = ?1",
            rusqlite::params![channel, UNREAD_CAP],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    [kept, counted]
}

#[test]
fn each_channel_keeps_its_thousandth_newest_message() {
    let t = TestDb::new();
    let user = testing::user(&t.conn, "alice");
    let channel = testing::channel(&t.conn, user, "general");
    let other = testing::channel(&t.conn, user, "other");
    let tx = t.conn.unchecked_transaction().unwrap();
    let mut sent = Vec::new();
    for i in 0..UNREAD_CAP + 3 {
        sent.push(send(&tx, &channel, user, &format!("m{i}")));
        if i % 7 == 0 {
            send(&tx, &other, user, "elsewhere");
        }
        if (UNREAD_CAP - 2..=UNREAD_CAP + 2).contains(&i) {
            let [kept, counted] = kept_and_counted(&tx, &channel.id);
            assert_eq!(kept, counted, "after message {i}");
            assert_eq!(kept.1.is_some(), i + 1 >= UNREAD_CAP);
        }
    }
    tx.commit().unwrap();
    // Deleting the newest, the 1000th newest itself, one older than it,
    // then enough to go below a thousand.
    let cap = sent.len() - UNREAD_CAP as usize;
    for i in [sent.len() - 1, cap, cap - 2, 0, 10, 20] {
        messages::delete(&t.conn, &sent[i].id, &user).unwrap();
        let [kept, counted] = kept_and_counted(&t.conn, &channel.id);
        assert_eq!(kept, counted, "after deleting message {i}");
    }
    assert_eq!(
        kept_and_counted(&t.conn, &channel.id)[0],
        (UNREAD_CAP - 3, None)
    );
    assert_eq!(kept_and_counted(&t.conn, &other.id)[0].0, 144);
}

#[test]
fn a_channel_never_marked_counts_from_the_accounts_first_seq() {
    let t = TestDb::new();
    let early = testing::user(&t.conn, "early");
    let old = testing::channel(&t.conn, early, "old");
    for i in 0..3 {
        send(&t.conn, &old, early, &format!("before {i}"));
    }
    let late = testing::user(&t.conn, "late");
    assert_eq!(counts(&t.conn, &late), [0]);
    assert_eq!(counts(&t.conn, &early), [3]);
    send(&t.conn, &old, early, "after");
    let new = testing::channel(&t.conn, early, "new");
    send(&t.conn, &new, early, "in the new channel");
    assert_eq!(counts(&t.conn, &late), [1, 1]);
    let lines = unread(&t.conn, &late).unwrap();
    assert_eq!([lines[0].channel, lines[1].channel], [old.id, new.id]);
}

#[test]
fn deleted_messages_are_not_counted() {
    let t = TestDb::new();
    let user = testing::user(&t.conn, "alice");
    let reader = testing::user(&t.conn, "bob");
    let channel = testing::channel(&t.conn, user, "general");
    let sent: Vec<_> = (0..4)
        .map(|i| send(&t.conn, &channel, user, &format!("m{i}")))
        .collect();
    mark(&t.conn, &reader, &channel.id, &sent[0].id).unwrap();
    assert_eq!(counts(&t.conn, &reader), [3]);
    messages::delete(&t.conn, &sent[2].id, &user).unwrap();
    assert_eq!(counts(&t.conn, &reader), [2]);
    // The marker may stand on a deleted message.
    messages::delete(&t.conn, &sent[1].id, &user).unwrap();
    mark(&t.conn, &reader, &channel.id, &sent[1].id)
        .unwrap()
        .unwrap();
    assert_eq!(counts(&t.conn, &reader), [1]);
}
