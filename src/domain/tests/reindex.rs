//! Purging a channel that holds most of the messages: the search index is
//! rebuilt without it in steps, while the other channels' messages are
//! sent, edited and deleted, and the writer may restart at any step.

use rusqlite::Connection;
use uuid::Uuid;

use crate::domain::channels::delete_owned;
use crate::domain::clock::Timestamp;
use crate::domain::messages;
use crate::domain::purge::{Purged, purge_pending, purge_some};
use crate::domain::testing::{self, TestDb, count, hits, send, text};

fn table(conn: &Connection, name: &str) -> bool {
    count(
        conn,
        &format!("SELECT count(*) FROM sqlite_schema WHERE name = '{name}'"),
    ) == 1
}

/// What a purge step left: the new index is being built, the old one
/// emptied, or the channel's rows deleted.
#[derive(Debug, PartialEq)]
enum Stage {
    Building,
    Emptying,
    Deleting,
}

#[test]
fn a_purge_of_most_messages_rebuilds_the_index_without_them() {
    let t = TestDb::new();
    let owner = Uuid::new_v4();
    let kept = testing::channel(&t.conn, owner, "kept");
    let gone = testing::channel(&t.conn, owner, "gone");
    let mut stay = Vec::new();
    for i in 0..1000 {
        if i % 10 < 3 {
            stay.push(send(&t.conn, &kept, owner, &format!("keptword k{i}")));
        } else {
            send(&t.conn, &gone, owner, &format!("goneword g{i}"));
        }
    }
    delete_owned(&t.conn, &gone.id, &owner, Timestamp(5)).unwrap();

    let mut chosen = None;
    assert_eq!(purge_some(&t.conn, 16, &mut chosen).unwrap(), Purged::Rows);
    assert!(
        table(&t.conn, "messages_fts_next"),
        "700 of 1000: a rebuild"
    );
    // The first copy takes seqs 1 to 256; the rest come later.
    assert_eq!(purge_some(&t.conn, 16, &mut chosen).unwrap(), Purged::Rows);
    let (copied, later) = (&stay[0], &stay[stay.len() - 1]);
    for message in [copied, later] {
        messages::edit(&t.conn, &message.id, &owner, text("edited"), Timestamp(6)).unwrap();
    }
    for message in [&stay[1], &stay[stay.len() - 2]] {
        messages::delete(&t.conn, &message.id, &owner).unwrap();
    }
    send(&t.conn, &kept, owner, "keptword newcomer");

    let mut stages = Vec::new();
    loop {
        match purge_some(&t.conn, 16, &mut chosen).unwrap() {
            Purged::Rows => {}
            Purged::Nothing => break,
            Purged::Marked => panic!("an entry deleted, not left behind"),
        }
        let stage = if table(&t.conn, "messages_fts_next") {
            Stage::Building
        } else if table(&t.conn, "messages_fts_old") {
            Stage::Emptying
        } else {
            Stage::Deleting
        };
        if stages.last() != Some(&stage) {
            stages.push(stage);
            // The writer restarts: it forgets what it chose, the file
            // does not.
            chosen = None;
        }
        // The search index, whichever it is, never loses a kept message.
        assert_eq!(hits(&t.conn, "keptword"), 300 - 2 - 2 + 1);
        assert!(stages.len() <= 3 && count(&t.conn, "SELECT count(*) FROM messages") > 0);
    }
    assert_eq!(
        stages,
        [Stage::Building, Stage::Emptying, Stage::Deleting],
        "each stage in turn"
    );
    assert!(!purge_pending(&t.conn).unwrap());
    assert_eq!(count(&t.conn, "SELECT count(*) FROM messages"), 299);
    assert_eq!(hits(&t.conn, "goneword"), 0);
    assert_eq!(
        hits(&t.conn, "edited"),
        2,
        "edits before and after the copy"
    );
    assert_eq!(hits(&t.conn, "newcomer"), 1, "sent during the rebuild");
    for gone in ["k1", "k991"] {
        assert_eq!(hits(&t.conn, gone), 0, "{gone} was deleted");
    }
    assert_eq!(hits(&t.conn, "k10"), 1);
    assert!(testing::index_is_consistent(&t.conn));
    assert!(!table(&t.conn, "messages_fts_next") && !table(&t.conn, "messages_fts_old"));
    assert_eq!(
        count(
            &t.conn,
            "SELECT count(*) FROM meta WHERE key IN ('unindexed', 'reindexed_to')"
        ),
        0
    );
    // The triggers are the schema's again, and work: a delete unindexes.
    let triggers = count(
        &t.conn,
        "SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'messages_fts%'",
    );
    assert_eq!(triggers, 2);
    messages::delete(&t.conn, &stay[2].id, &owner).unwrap();
    assert_eq!(hits(&t.conn, "keptword"), 296);
    assert!(testing::index_is_consistent(&t.conn));

    // And again, on the index the first rebuild made (renamed into place).
    let again = testing::channel(&t.conn, owner, "again");
    for i in 0..400 {
        send(&t.conn, &again, owner, &format!("againword a{i}"));
    }
    delete_owned(&t.conn, &again.id, &owner, Timestamp(7)).unwrap();
    assert_eq!(purge_some(&t.conn, 16, &mut None).unwrap(), Purged::Rows);
    assert!(table(&t.conn, "messages_fts_next"), "400 of 698: a rebuild");
    while purge_some(&t.conn, 16, &mut None).unwrap() != Purged::Nothing {}
    assert_eq!(
        (hits(&t.conn, "againword"), hits(&t.conn, "keptword")),
        (0, 296)
    );
    assert!(testing::index_is_consistent(&t.conn));
}
