//! Fills a stopped azuma's database with messages for `bench/run`, straight
//! into the file (the API would take minutes), with the same SQLite azuma
//! is built with: the search index's triggers need its FTS5.
//!
//! `cargo bench --bench fill -- DATABASE COUNT` adds COUNT messages by the
//! first account, spread round-robin over every channel, each eight words
//! from a vocabulary of 512 (some common, most rare, as chat is), stamped
//! one microsecond apart. Prints `filled COUNT SECONDS`.
// A benchmark that cannot go on stops with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

/// Common words; the rest of the vocabulary is made from them (`the37`),
/// so that a few words are in most messages and most words in few.
const COMMON: [&str; 32] = [
    "the", "and", "you", "that", "was", "for", "are", "with", "his", "they", "this", "have",
    "from", "one", "had", "word", "but", "not", "what", "all", "were", "when", "your", "can",
    "said", "there", "use", "each", "which", "she", "how", "their",
];

/// Word `n` of the 512.
fn word(n: u64) -> String {
    let n = n % 512;
    match COMMON.get(n as usize) {
        Some(common) => (*common).to_owned(),
        None => format!("{}{n}", COMMON[(n % 32) as usize]),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (Some(path), Some(count)) = (
        args.first(),
        args.get(1).and_then(|c| c.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: fill DATABASE COUNT");
        std::process::exit(2);
    };
    let began = Instant::now();
    let mut db = rusqlite::Connection::open(path).expect("open the database");
    let tx = db.transaction().expect("begin");
    let channels: Vec<i64> = tx
        .prepare("SELECT seq FROM channels ORDER BY seq")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("channels");
    let author: Vec<u8> = tx
        .query_row(
            "SELECT id FROM users ORDER BY created_at LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("an account");
    assert!(!channels.is_empty(), "make a channel first");
    let before: i64 = tx
        .query_row("SELECT coalesce(max(seq), 0) FROM messages", [], |r| {
            r.get(0)
        })
        .expect("the newest message");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO messages (id, channel, author, content, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .expect("prepare");
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            // xorshift: cheap, deterministic
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for i in 0..count {
            let words: Vec<String> = (0..8)
                .map(|_| {
                    // Square a uniform draw: small numbers come up more often.
                    let u = (next() % 1000) as f64 / 1000.0;
                    word((u * u * 512.0) as u64)
                })
                .collect();
            let id = uuid::Uuid::new_v4();
            let channel = channels[(i % channels.len() as u64) as usize];
            insert
                .execute(rusqlite::params![
                    id,
                    channel,
                    author,
                    words.join(" "),
                    1_700_000_000_000_000_i64 + i as i64
                ])
                .expect("insert");
        }
    }
    // As the writer does: new messages are indexed for search together.
    tx.execute(
        "INSERT INTO messages_fts (rowid, content, channel)
         SELECT seq, content, channel FROM messages WHERE seq > ?1",
        [before],
    )
    .expect("index for search");
    tx.commit().expect("commit");
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    println!("filled {count} {:.1}", began.elapsed().as_secs_f64());
}
