//! The sessions' background task: writes renewals, prunes expired sessions
//! (and uploads no message took), and notices revocations made by another
//! process (the admin commands).

use std::convert::Infallible;
use std::time::Duration;

use super::sessions::Sessions;
use crate::domain::clock::Clock;
use crate::domain::db::Db;
use crate::domain::error::StoreError;
use crate::domain::user_cache::UserCache;
use crate::domain::{attachments, sessions};

/// How long an upload waits for a message to carry it.
const UNUSED_UPLOADS: Duration = Duration::from_secs(24 * 3600);
/// How long an upload may take before what is stored of it is deleted.
const INCOMPLETE_UPLOADS: Duration = Duration::from_secs(3600);

/// How often renewals are written and revocations looked for.
pub const TICK: Duration = Duration::from_secs(1);

/// Every [`TICK`]: writes pending renewals, and on a revocation made by
/// another process forgets what memory holds and closes the websockets of
/// tokens that are gone. Every `prune_interval`: deletes expired sessions.
/// Runs until the task is dropped.
pub async fn maintain(
    db: &Db,
    sessions: &Sessions,
    users: &UserCache,
    clock: &Clock,
    prune_interval: Duration,
) -> Infallible {
    let mut ticks = tokio::time::interval(TICK.min(prune_interval));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_prune = tokio::time::Instant::now() + prune_interval;
    let mut seen: Option<i64> = None;
    loop {
        ticks.tick().await;
        let prune = tokio::time::Instant::now() >= next_prune;
        if prune {
            next_prune = tokio::time::Instant::now() + prune_interval;
        }
        if let Err(e) = sessions.persist(prune).await {
            log(&e);
        }
        if prune {
            let now = clock.now();
            let (unused, incomplete) = (now.minus(UNUSED_UPLOADS), now.minus(INCOMPLETE_UPLOADS));
            if let Err(e) = db
                .run(move |conn| attachments::prune(conn, unused, incomplete))
                .await
            {
                log(&e);
            }
        }
        match db.run(|conn| sessions::revocations(conn)).await {
            Ok(now) if seen.is_some_and(|before| before != now) => {
                seen = Some(now);
                users.forget_all();
                if let Err(e) = sessions.forget_all().await {
                    log(&e);
                }
            }
            Ok(now) => seen = Some(now),
            Err(e) => log(&e),
        }
    }
}

fn log(e: &StoreError) {
    let cause = crate::domain::error::chain(e);
    tracing::warn!(%cause, "session maintenance failed");
}
