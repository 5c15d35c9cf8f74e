//! Batches: writes that wait share a commit, each is answered with its own
//! result, and events leave in commit order.

use std::collections::HashSet;

use tokio::task::JoinSet;
use uuid::Uuid;

use super::super::writes;
use super::{frames, hold_lock, let_tasks_queue, release, start};
use crate::domain::error::Refusal;
use crate::domain::testing::{self, text};
use crate::realtime::hub::Audience;

#[tokio::test]
async fn concurrent_sends_share_a_commit_and_each_is_answered() {
    let h = start();
    let author = Uuid::new_v4();
    let channel = h.channel(author, "general").await;
    let before = h.log.commits();
    let lock = hold_lock(&h.t);
    let mut tasks = JoinSet::new();
    for i in 0..200 {
        let writer = h.writer.clone();
        tasks.spawn(async move {
            let sent = writer
                .send(channel.id, author, text(&format!("n{i}")))
                .await;
            (i, sent)
        });
    }
    let_tasks_queue().await;
    assert_eq!(h.log.commits(), before, "nothing commits under the lock");
    release(lock);

    let mut ids = HashSet::new();
    for (i, sent) in tasks.join_all().await {
        let message = sent.unwrap();
        assert_eq!(message.content, format!("n{i}"), "each its own answer");
        assert_eq!((message.channel, message.author), (channel.id, author));
        ids.insert(message.id);
    }
    assert_eq!(ids.len(), 200);
    assert_eq!(h.count("SELECT count(*) FROM messages"), 200);
    // The batch the writer had begun, and one for every write that waited.
    let commits = h.log.commits() - before;
    assert!((1..=2).contains(&commits), "{commits} commits");
}

#[tokio::test]
async fn events_reach_a_subscriber_in_commit_order() {
    let h = start();
    let mut heard = h.hub.subscribe();
    let author = Uuid::new_v4();
    let channel = h.channel(author, "general").await;
    // Several waves of concurrent sends: several batches.
    for _ in 0..4 {
        h.send_many(&channel, author, 30, 1).await;
    }
    let mut stored =
        h.t.conn
            .prepare("SELECT id FROM messages ORDER BY seq")
            .unwrap();
    let stored: Vec<Uuid> = stored
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored.len(), 120);
    // Each message, then the author's marker moving to it.
    let mut want = vec![("ChannelCreated".to_owned(), channel.id)];
    for id in stored {
        want.push(("Message".to_owned(), id));
        want.push(("ReadMarker".to_owned(), id));
    }
    assert_eq!(frames(&mut heard), want);
}

#[tokio::test]
async fn a_read_marker_is_for_its_user_only() {
    let h = start();
    let author = Uuid::new_v4();
    let channel = h.channel(author, "general").await;
    let message = h
        .writer
        .send(channel.id, author, text("hello"))
        .await
        .unwrap();
    let reader = Uuid::new_v4();
    let mut heard = h.hub.subscribe();
    h.writer
        .mark_read(reader, channel.id, message.id)
        .await
        .unwrap();
    let frame = heard.try_recv().unwrap();
    assert_eq!(frame.to, Audience::Only(reader));
    // Marking it again moves nothing, and says nothing.
    h.writer
        .mark_read(reader, channel.id, message.id)
        .await
        .unwrap();
    assert!(heard.try_recv().is_err());
}

#[tokio::test]
async fn a_refused_write_does_not_fail_the_others_in_its_batch() {
    let h = start();
    let (owner, other) = (Uuid::new_v4(), Uuid::new_v4());
    let channel = h.channel(owner, "general").await;
    let elsewhere = h.channel(owner, "elsewhere").await;
    let theirs = h.writer.send(elsewhere.id, owner, text("x")).await.unwrap();
    let mut heard = h.hub.subscribe();
    let before = h.log.commits();

    let lock = hold_lock(&h.t);
    let w = h.writer.clone();
    // The writer takes the probe alone, and waits for the lock with it.
    let probe = tokio::spawn(async move { w.probe().await });
    let_tasks_queue().await;
    let w = h.writer.clone();
    let batch = tokio::spawn(async move {
        let first = w.send(channel.id, owner, text("first"));
        let unknown = w.send(Uuid::new_v4(), owner, text("lost"));
        let wrong_channel = w.mark_read(owner, channel.id, theirs.id);
        let not_author = w.edit(theirs.id, other, text("mine now"));
        let not_owner = w.delete_channel(channel.id, other);
        let last = w.send(channel.id, owner, text("last"));
        tokio::join!(first, unknown, wrong_channel, not_author, not_owner, last)
    });
    let_tasks_queue().await;
    release(lock);

    probe.await.unwrap().unwrap();
    let (first, unknown, wrong_channel, not_author, not_owner, last) = batch.await.unwrap();
    assert!(matches!(unknown, Err(Refusal::NotFound(_))));
    assert!(matches!(wrong_channel, Err(Refusal::Invalid(_))));
    assert!(matches!(not_author, Err(Refusal::Forbidden(_))));
    assert!(matches!(not_owner, Err(Refusal::Forbidden(_))));
    let (first, last) = (first.unwrap(), last.unwrap());
    // The probe's batch (which the others may have joined), then one.
    let commits = h.log.commits() - before;
    assert!((1..=2).contains(&commits), "{commits} commits");
    assert_eq!(h.count("SELECT count(*) FROM messages"), 3);
    assert_eq!(
        h.count("SELECT count(*) FROM messages WHERE content = 'x'"),
        1,
        "the edit refused"
    );
    // What was refused published nothing.
    let want: Vec<(String, Uuid)> = [first.id, first.id, last.id, last.id]
        .into_iter()
        .zip(["Message", "ReadMarker", "Message", "ReadMarker"])
        .map(|(id, kind)| (kind.to_owned(), id))
        .collect();
    assert_eq!(super::frames(&mut heard), want);
}

/// A write that edits the newest message, whichever it is: the only way a
/// write can touch a message stored earlier in its own batch.
struct EditNewest;

impl writes::Write for EditNewest {
    type Output = ();

    fn apply(
        self,
        conn: &rusqlite::Connection,
        _: crate::domain::clock::Timestamp,
    ) -> Result<(), crate::domain::error::Refusal> {
        conn.execute(
            "UPDATE messages SET content = 'edited later' WHERE seq = (SELECT max(seq) FROM messages)",
            [],
        )?;
        Ok(())
    }
}

#[test]
fn messages_are_indexed_before_a_later_write_of_their_batch_touches_them() {
    let mut t = crate::domain::testing::TestDb::new();
    let author = crate::domain::testing::user(&t.conn, "ann");
    let channel = crate::domain::testing::channel(&t.conn, author, "here");
    let (reply, _) = tokio::sync::oneshot::channel();
    let send = writes::SendMessage {
        channel: channel.id,
        author,
        content: text("first words"),
        attachments: Vec::new(),
    };
    let (edit_reply, _) = tokio::sync::oneshot::channel();
    let mut jobs: Vec<Box<dyn super::super::job::Job>> = vec![
        super::super::job::Pending::new(send, reply),
        super::super::job::Pending::new(EditNewest, edit_reply),
    ];
    let hub = crate::realtime::hub::Hub::default();
    super::super::commit(
        &mut t.conn,
        &mut jobs,
        (&hub, None),
        &crate::domain::clock::Clock::default(),
        &crate::media::links::Links::new(vec![1; 32]),
    )
    .expect("the batch commits");
    // The index holds the edited text only, and agrees with the table.
    assert!(
        testing::index_is_consistent(&t.conn),
        "the index matches the messages"
    );
    let count = |word| testing::hits(&t.conn, word);
    assert_eq!((count("first"), count("later")), (0, 1));
}

/// A chunk that cannot be stored (its upload is gone: here, never made)
/// fails alone; the sends in its batch are stored.
#[tokio::test]
async fn a_failed_chunk_fails_its_upload_not_its_batch() {
    let h = start();
    let author = Uuid::new_v4();
    let channel = h.channel(author, "general").await;
    let lock = hold_lock(&h.t);
    let writer = h.writer.clone();
    let chunk = tokio::spawn(async move {
        let data = vec![7; 1000];
        let write = writes::StoreChunk {
            seq: 999_999,
            variant: 0,
            n: 0,
            data,
        };
        writer.submit(write).await
    });
    let writer = h.writer.clone();
    let sent =
        tokio::spawn(async move { writer.send(channel.id, author, text("still here")).await });
    let_tasks_queue().await;
    release(lock);
    let stored = chunk.await.unwrap();
    assert!(matches!(stored, Ok(Err(_))), "the chunk alone fails");
    assert_eq!(sent.await.unwrap().unwrap().content, "still here");
    assert_eq!(h.count("SELECT count(*) FROM attachment_chunks"), 0);
}
