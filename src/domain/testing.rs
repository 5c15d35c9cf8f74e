//! For unit tests: a fresh database in a temporary directory, opened the
//! way the server opens it (`Db::open`, then a dedicated connection), and
//! short ways to fill it.

use rusqlite::Connection;
use tempfile::TempDir;
use uuid::Uuid;

use super::channels::{self, Channel};
use super::clock::Timestamp;
use super::db::{Db, SyncMode};
use super::messages::{self, Message, Place};
use super::names::{MessageContent, UserName};
use super::{search, users};

/// A migrated database and a connection to it; the directory goes with it.
pub(crate) struct TestDb {
    /// The pool, as the server holds it.
    pub db: Db,
    /// A connection of its own, like the writer's.
    pub conn: Connection,
    // Last: removed after the connections are closed.
    _dir: TempDir,
}

impl TestDb {
    /// A new, empty, migrated database.
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // Synced at checkpoints only: the tests do not test the disk.
        let db = Db::open(
            &dir.path().join("azuma.db"),
            SyncMode::Normal,
            0,
            Default::default(),
        )
        .expect("open");
        let conn = db.dedicated().expect("a dedicated connection");
        TestDb {
            db,
            conn,
            _dir: dir,
        }
    }

    /// One more connection, configured like the server's.
    pub fn connection(&self) -> Connection {
        self.db.dedicated().expect("a dedicated connection")
    }
}

/// The checked content `text`.
pub(crate) fn text(text: &str) -> MessageContent {
    MessageContent::try_from(text.to_owned()).expect("valid content")
}

/// The checked user name `name`.
pub(crate) fn name(name: &str) -> UserName {
    UserName::try_from(name.to_owned()).expect("a valid name")
}

/// Registers `name` (a placeholder password hash); the account's id.
pub(crate) fn user(conn: &Connection, name: &str) -> Uuid {
    users::insert(conn, &self::name(name), "hash", Timestamp(1)).expect("a free name")
}

/// A channel named `name` owned by `owner`, not stored.
pub(crate) fn new_channel(owner: Uuid, name: &str) -> Channel {
    Channel {
        id: Uuid::new_v4(),
        name: name.to_owned(),
        description: None,
        owner,
        created_at: Timestamp(1),
        kind: channels::Kind::Public,
        members: None,
    }
}

/// Stores a channel named `name` owned by `owner`.
pub(crate) fn channel(conn: &Connection, owner: Uuid, name: &str) -> Channel {
    let channel = new_channel(owner, name);
    channels::insert(conn, &channel, None).expect("insert a channel");
    channel
}

/// Stores a message and indexes it for search, as the writer does.
pub(crate) fn send(conn: &Connection, channel: &Channel, author: Uuid, content: &str) -> Message {
    let (message, place) = send_at(conn, channel, author, content);
    search::index(conn, search::Index::Live, place.seq, place.seq).expect("index");
    message
}

/// Stores a message without indexing it; where it is stored.
pub(crate) fn send_at(
    conn: &Connection,
    channel: &Channel,
    author: Uuid,
    content: &str,
) -> (Message, Place) {
    let seen = channels::seen_or_not_found(conn, &author, &channel.id).expect("a channel seen");
    messages::insert(conn, &seen, author, text(content), &[], Timestamp(2)).expect("insert")
}

/// The one integer `sql` returns.
pub(crate) fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

/// The storage seq of message `id` (deleted or not).
pub(crate) fn seq_of(conn: &Connection, id: &Uuid) -> i64 {
    conn.query_row(
        "SELECT seq FROM messages WHERE id = ?1 UNION ALL
         SELECT seq FROM message_tombstones WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .expect("a message")
}

/// How many messages the search index finds for the FTS5 query `word`.
pub(crate) fn hits(conn: &Connection, word: &str) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?1",
        [word],
        |r| r.get(0),
    )
    .expect("an FTS5 query")
}

/// Checks the search index against the messages it indexes.
pub(crate) fn index_is_consistent(conn: &Connection) -> bool {
    conn.execute(
        "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .is_ok()
}
