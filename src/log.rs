//! Where log lines go: appended to a shared buffer by whoever logs, and
//! written to stderr by a thread of its own every few milliseconds. A
//! request never waits on a write, and no line wakes a thread (a channel
//! per line, as tracing-appender has, woke the writer ~45,000 times a
//! second under load and still cost a sixth of `GET /`'s throughput).

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

use crate::sync::lock;

mod access;
mod line;
mod request;
#[cfg(test)]
pub mod testing;

pub use access::{Access, write_directly};
pub use line::{Clock, Fields};
pub use request::{Format, Request, scope};

/// How long a line may wait in the buffer.
const PERIOD: Duration = Duration::from_millis(20);
/// Past this many bytes waiting, the thread is woken at once; past four
/// times as many, loggers wait for it (the log is never lossy).
const HIGH: usize = 256 * 1024;

#[derive(Default)]
pub struct Shared {
    state: Mutex<State>,
    /// The buffer filled up, or the log is closing.
    ready: Condvar,
    /// The buffer was written out.
    drained: Condvar,
}

#[derive(Default)]
struct State {
    lines: Vec<u8>,
    closing: bool,
}

/// The writer for `tracing_subscriber::fmt().with_writer(...)`.
#[derive(Clone)]
pub struct Buffered(Arc<Shared>);

/// Keeps the writing thread; dropping it writes out every line left.
pub struct Guard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A writer that buffers for stderr, and the guard that flushes it.
pub fn to_stderr() -> std::io::Result<(Buffered, Guard)> {
    let shared = Arc::new(Shared::default());
    let thread = {
        let shared = shared.clone();
        std::thread::Builder::new()
            .name("azuma-log".into())
            .spawn(move || write_out(&shared, &mut std::io::stderr()))?
    };
    let guard = Guard {
        shared: shared.clone(),
        thread: Some(thread),
    };
    Ok((Buffered(shared), guard))
}

/// The thread: every [`PERIOD`] (or at once when the buffer is full),
/// takes what is waiting and writes it; ends once closing and empty.
fn write_out(shared: &Shared, out: &mut impl Write) {
    let mut spare = Vec::new();
    loop {
        let closing = {
            let mut state = lock(&shared.state);
            if !state.closing && state.lines.len() < HIGH {
                state = shared
                    .ready
                    .wait_timeout(state, PERIOD)
                    .map_or_else(|poisoned| poisoned.into_inner().0, |(s, _)| s);
            }
            std::mem::swap(&mut state.lines, &mut spare);
            state.closing
        };
        shared.drained.notify_all();
        // Nowhere to report a failed write of the log itself.
        let _ = out.write_all(&spare).and_then(|()| out.flush());
        spare.clear();
        if closing && lock(&shared.state).lines.is_empty() {
            return;
        }
    }
}

impl Write for &Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut state = lock(&self.state);
        while state.lines.len() >= 4 * HIGH && !state.closing {
            self.ready.notify_one();
            state = self
                .drained
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        state.lines.extend_from_slice(bytes);
        if state.lines.len() >= HIGH {
            self.ready.notify_one();
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffered {
    type Writer = &'a Shared;

    fn make_writer(&'a self) -> Self::Writer {
        &self.0
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        lock(&self.shared.state).closing = true;
        self.shared.ready.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_written_in_order_by_the_time_the_guard_is_dropped() {
        let shared = Arc::new(Shared::default());
        let out = testing::Lines::default();
        let thread = {
            let (shared, mut out) = (shared.clone(), out.clone());
            std::thread::spawn(move || write_out(&shared, &mut out))
        };
        let guard = Guard {
            shared: shared.clone(),
            thread: Some(thread),
        };
        let writer = Buffered(shared);
        let lines = 20_000;
        for i in 0..lines {
            writeln!(writer.make_writer(), "line {i} {}", "x".repeat(100)).unwrap();
        }
        drop(guard);
        let written = out.text();
        let numbers: Vec<usize> = written
            .lines()
            .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(numbers, (0..lines).collect::<Vec<_>>());
    }
}
