//! The writer through its public API, on a real database: what each caller
//! is answered, what the hub publishes, and what each transaction of the
//! writer's connection changed (seen through SQLite's hooks).

mod batches;
mod erase;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::hooks::Action;
use serde_json::Value;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{Writer, writes};
use crate::domain::channels::Channel;
use crate::domain::clock::Clock;
use crate::domain::error::Refusal;
use crate::domain::messages::Message;
use crate::domain::names::MessageContent;
use crate::domain::testing::{self, TestDb};
use crate::realtime::hub::{Frame, Hub};

/// Each write as one call, as the tests read best: what a handler does
/// with `submit`.
impl Writer {
    async fn send(
        &self,
        channel: Uuid,
        author: Uuid,
        content: MessageContent,
    ) -> Result<Message, Refusal> {
        let write = writes::SendMessage {
            channel,
            author,
            content,
            attachments: Vec::new(),
        };
        self.submit(write).await.map(|sent| sent.message)
    }

    async fn edit(&self, id: Uuid, by: Uuid, content: MessageContent) -> Result<Message, Refusal> {
        self.submit(writes::Edit { id, by, content }).await
    }

    async fn mark_read(&self, user: Uuid, channel: Uuid, message: Uuid) -> Result<(), Refusal> {
        let write = writes::MarkRead {
            user,
            channel,
            message,
        };
        self.submit(write).await.map(drop)
    }

    async fn create_channel(&self, channel: Channel, most: u32) -> Result<Channel, Refusal> {
        self.submit(super::channels::CreateChannel { channel, most })
            .await
    }

    async fn delete_channel(&self, id: Uuid, by: Uuid) -> Result<(), Refusal> {
        self.submit(super::channels::DeleteChannel { id, by })
            .await
            .map(drop)
    }

    async fn probe(&self) -> Result<(), Refusal> {
        self.submit(writes::Probe).await
    }
}

/// One row change: what was done, to which table.
type Change = (Action, String);

/// The transactions the writer's connection committed, in order, each as
/// its row changes.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Changes>>);

#[derive(Default)]
struct Changes {
    open: Vec<Change>,
    committed: Vec<Vec<Change>>,
}

impl Log {
    /// Records what `conn` commits from now on.
    fn watch(conn: &Connection) -> Log {
        let log = Log::default();
        let (on_change, on_commit, on_rollback) = (log.0.clone(), log.0.clone(), log.0.clone());
        conn.update_hook(Some(move |action, _: &str, table: &str, _| {
            on_change
                .lock()
                .unwrap()
                .open
                .push((action, table.to_owned()));
        }))
        .unwrap();
        conn.commit_hook(Some(move || {
            let mut changes = on_commit.lock().unwrap();
            let open = std::mem::take(&mut changes.open);
            changes.committed.push(open);
            false // let it commit
        }))
        .unwrap();
        conn.rollback_hook(Some(move || on_rollback.lock().unwrap().open.clear()))
            .unwrap();
        log
    }

    /// How many transactions committed so far.
    fn commits(&self) -> usize {
        self.0.lock().unwrap().committed.len()
    }

    /// The transactions committed since the first `skip`.
    fn since(&self, skip: usize) -> Vec<Vec<Change>> {
        self.0.lock().unwrap().committed[skip..].to_vec()
    }
}

/// How many of `changes` are `action` on `table`.
fn changed(changes: &[Change], action: Action, table: &str) -> usize {
    changes
        .iter()
        .filter(|(a, t)| *a == action && t == table)
        .count()
}

/// A writer on a fresh database, its hub, and what it commits.
struct Harness {
    writer: Arc<Writer>,
    hub: Arc<Hub>,
    log: Log,
    /// Last: the database outlives the writer's use of it.
    t: TestDb,
}

/// Starts a writer on a fresh database.
fn start() -> Harness {
    start_on(TestDb::new())
}

/// Starts a writer on `t`'s database, as the server does.
fn start_on(t: TestDb) -> Harness {
    let conn = t.connection();
    let log = Log::watch(&conn);
    let hub = Arc::new(Hub::default());
    let writer = Writer::start(
        conn,
        hub.clone(),
        None,
        Clock::default(),
        crate::media::links::Links::new(vec![1; 32]),
        Default::default(),
        None,
    )
    .unwrap();
    Harness {
        writer: Arc::new(writer),
        hub,
        log,
        t,
    }
}

impl Harness {
    /// A new channel, created through the writer.
    async fn channel(&self, owner: Uuid, name: &str) -> Channel {
        let channel = testing::new_channel(owner, name);
        self.writer.create_channel(channel, 0).await.unwrap()
    }

    /// Sends `count` messages to `channel` at once; answered in any order.
    async fn send_many(&self, channel: &Channel, author: Uuid, count: usize, words: usize) {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..count {
            let (writer, id) = (self.writer.clone(), channel.id);
            let text: Vec<String> = (0..words).map(|w| format!("m{i}w{w}")).collect();
            let text = testing::text(&format!("bulk {}", text.join(" ")));
            tasks.spawn(async move { writer.send(id, author, text).await.unwrap() });
        }
        tasks.join_all().await;
    }

    /// The one integer `sql` returns, read on a connection of the test's.
    fn count(&self, sql: &str) -> i64 {
        testing::count(&self.t.conn, sql)
    }
}

/// Holds the database's write lock, so that the writer waits at the start
/// of its next batch and the writes queued meanwhile share the batch after
/// it. [`release`] within the busy timeout.
fn hold_lock(t: &TestDb) -> Connection {
    let conn = t.connection();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn
}

fn release(conn: Connection) {
    conn.execute_batch("ROLLBACK").unwrap();
}

/// Lets every spawned task run until it waits for its answer: each has
/// queued its write by then.
async fn let_tasks_queue() {
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Every frame published so far, as (type, the id it is about).
fn frames(frames: &mut broadcast::Receiver<Frame>) -> Vec<(String, Uuid)> {
    let mut seen = Vec::new();
    while let Ok(frame) = frames.try_recv() {
        let event: Value = serde_json::from_str(frame.text.as_str()).unwrap();
        let content = &event["content"];
        let id = content.get("message").unwrap_or(&content["id"]);
        seen.push((
            event["type"].as_str().unwrap().to_owned(),
            id.as_str().unwrap().parse().unwrap(),
        ));
    }
    seen
}
