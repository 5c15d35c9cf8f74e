//! Session lifetimes, driven by the server's clock moved forward: 5 minutes
//! to first use, 14 days after each use, pruning, digests only.

use std::time::Duration;

use crate::helpers::TestServer;

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn stored_expiry(server: &TestServer) -> Vec<i64> {
    let conn = server.peek();
    let mut stmt = conn.prepare("SELECT expires_at FROM sessions").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[tokio::test]
async fn an_unused_token_expires_after_five_minutes() {
    let server = TestServer::start().await;
    let used_in_time = server.register("early", "pw").await;
    let never_used = server.register("late", "pw").await;
    server.clock.advance(4 * MINUTE + Duration::from_secs(59));
    server
        .get("/user/self", Some(&used_in_time))
        .await
        .assert_json(200);
    server.clock.advance(Duration::from_secs(2));
    server
        .get("/user/self", Some(&never_used))
        .await
        .assert_error(401, "UNAUTHORIZED");
    // The used one was renewed for 14 days.
    server
        .get("/user/self", Some(&used_in_time))
        .await
        .assert_json(200);
    server.stop().await;
}

#[tokio::test]
async fn each_use_extends_a_token_to_fourteen_days() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    server
        .get("/user/self", Some(&token))
        .await
        .assert_json(200);
    // 13 days later it still works, and that use renews it again.
    server.clock.advance(13 * DAY);
    server
        .get("/user/self", Some(&token))
        .await
        .assert_json(200);
    server.clock.advance(13 * DAY);
    server
        .get("/user/self", Some(&token))
        .await
        .assert_json(200);
    // Then 14 days of silence end it.
    server.clock.advance(14 * DAY + MINUTE);
    server
        .get("/user/self", Some(&token))
        .await
        .assert_error(401, "UNAUTHORIZED");
    server.stop().await;
}

/// Polls `check` for up to 10 s.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn requests_write_nothing_and_renewals_reach_the_file_in_the_background() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let issued = stored_expiry(&server)[0];
    server
        .get("/user/self", Some(&token))
        .await
        .assert_json(200);
    // The first use's renewal is written by the background tick.
    eventually("the first renewal", || {
        stored_expiry(&server)[0] > issued + 13 * 86_400_000_000
    })
    .await;

    // Authenticated requests commit nothing: no one writes the file.
    let peek = server.peek();
    let version = |c: &rusqlite::Connection| -> i64 {
        c.query_row("PRAGMA data_version", [], |r| r.get(0))
            .unwrap()
    };
    let before = version(&peek);
    for _ in 0..50 {
        server
            .get("/user/self", Some(&token))
            .await
            .assert_json(200);
    }
    assert_eq!(
        version(&peek),
        before,
        "an authenticated request wrote to the database"
    );

    // Once a renewal moves the expiry by more than a minute, it is written.
    let first = stored_expiry(&server)[0];
    server.clock.advance(Duration::from_secs(61));
    server
        .get("/user/self", Some(&token))
        .await
        .assert_json(200);
    eventually("the later renewal", || {
        stored_expiry(&server)[0] >= first + 61_000_000
    })
    .await;
    server.stop().await;
}

#[tokio::test]
async fn renewals_pending_at_shutdown_are_written() {
    let mut server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let issued = stored_expiry(&server)[0];
    server
        .get("/user/self", Some(&token))
        .await
        .assert_json(200);
    server.halt().await;
    assert!(stored_expiry(&server)[0] > issued + 13 * 86_400_000_000);
}

#[tokio::test]
async fn expired_sessions_are_pruned_in_the_background() {
    let server =
        TestServer::start_with(|c| c.prune_interval = azuma::Seconds(Duration::from_millis(50)))
            .await;
    let kept = server.register("kept", "pw").await;
    server.register("dropped", "pw").await;
    server.get("/user/self", Some(&kept)).await.assert_json(200);
    assert_eq!(stored_expiry(&server).len(), 2);

    server.clock.advance(6 * MINUTE);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while stored_expiry(&server).len() != 1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not pruned within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.get("/user/self", Some(&kept)).await.assert_json(200);
    server.stop().await;
}

#[tokio::test]
async fn the_database_holds_only_digests_of_tokens() {
    let mut server = TestServer::start().await;
    let token = server.register("azuma", "pw").await;
    let uuid = uuid::Uuid::parse_str(&token).unwrap();
    server.halt().await;
    let file = std::fs::read(&server.db_path).unwrap();
    let wal = std::fs::read(server.db_path.with_extension("db-wal")).unwrap_or_default();
    for haystack in [&file, &wal] {
        for needle in [token.as_bytes(), uuid.as_bytes().as_slice()] {
            assert!(
                !haystack.windows(needle.len()).any(|w| w == needle),
                "the token is stored in the clear"
            );
        }
    }
    let digest: Vec<u8> = server
        .peek()
        .query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))
        .unwrap();
    use sha2::Digest;
    assert_eq!(digest, sha2::Sha256::digest(uuid.as_bytes()).to_vec());
}
