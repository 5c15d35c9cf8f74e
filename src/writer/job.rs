//! A write waiting in the writer's queue with the caller who waits for it:
//! any [`Write`], behind one object-safe face, so that one queue and one
//! batch carry every kind.

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::writes::{After, Write};
use crate::domain::clock::Timestamp;
use crate::domain::error::{Refusal, StoreError, cause};
use crate::media::links::Links;
use crate::realtime::hub::Event;

/// What the writer does with a queued write.
pub trait Job: Send {
    /// Stores it; an `Err` fails the whole batch (nothing is stored).
    fn apply(&mut self, conn: &Connection, now: Timestamp, links: &Links)
    -> Result<(), StoreError>;
    /// The seq of the message it stored, if any.
    fn sent(&self) -> Option<i64>;
    /// Whether it may touch messages stored before it in its batch (which
    /// must then be indexed first): anything but a send.
    fn touches_messages(&self) -> bool;
    /// Whether it is heavy (an upload's chunk: a large blob to write), so
    /// that a batch takes at most one.
    fn heavy(&self) -> bool;
    /// Appends the events it publishes after the commit.
    fn events<'a>(&'a self, events: &mut Vec<Event<'a>>);
    /// What else it asks of the writer, once committed.
    fn after(&self) -> After;
    /// Answers the caller with its result.
    fn answer(self: Box<Self>);
    /// Answers the caller with the batch's failure.
    fn fail(self: Box<Self>, e: StoreError);
}

/// A write, its result once applied, and who waits for it.
pub struct Pending<W: Write> {
    write: Option<W>,
    result: Option<Result<W::Output, Refusal>>,
    reply: oneshot::Sender<Result<W::Output, Refusal>>,
}

impl<W: Write> Pending<W> {
    /// `write`, answered on `reply`.
    pub fn new(write: W, reply: oneshot::Sender<Result<W::Output, Refusal>>) -> Box<Self> {
        Box::new(Pending {
            write: Some(write),
            result: None,
            reply,
        })
    }

    fn output(&self) -> Option<&W::Output> {
        self.result.as_ref().and_then(|r| r.as_ref().ok())
    }
}

impl<W: Write> Job for Pending<W> {
    fn apply(
        &mut self,
        conn: &Connection,
        now: Timestamp,
        links: &Links,
    ) -> Result<(), StoreError> {
        let Some(write) = self.write.take() else {
            return Ok(());
        };
        match write.apply(conn, now) {
            // The transaction is in doubt: the batch rolls back.
            Err(Refusal::Store(e)) => Err(e),
            Ok(mut output) => {
                W::sign(&mut output, links, now);
                self.result = Some(Ok(output));
                Ok(())
            }
            refused => {
                self.result = Some(refused);
                Ok(())
            }
        }
    }

    fn sent(&self) -> Option<i64> {
        self.output().and_then(W::sent)
    }

    fn touches_messages(&self) -> bool {
        !W::ONLY_ADDS_MESSAGES
    }

    fn heavy(&self) -> bool {
        W::HEAVY
    }

    fn events<'a>(&'a self, events: &mut Vec<Event<'a>>) {
        if let Some(output) = self.output() {
            W::events(output, events);
        }
    }

    fn after(&self) -> After {
        self.output().map_or(After::Nothing, W::after)
    }

    fn answer(self: Box<Self>) {
        let result = self.result.unwrap_or_else(|| {
            Err(Refusal::Store(StoreError::Failed(cause(
                "a write was never applied",
            ))))
        });
        // A caller who went away (its client is gone) needs no answer.
        drop(self.reply.send(result));
    }

    fn fail(self: Box<Self>, e: StoreError) {
        drop(self.reply.send(Err(Refusal::Store(e))));
    }
}
