use tracing_subscriber::fmt::format::DefaultFields;
use tracing_subscriber::fmt::time::SystemTime;

use super::{Clock, Fields};
use crate::log::testing::Lines;

#[derive(Debug)]
struct Broken;

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the disk \"broke\"")
    }
}

impl std::error::Error for Broken {}

/// Every kind of field the server logs, and the awkward ones.
fn events() {
    let span = tracing::info_span!("request", id = 42_u64, peer = "127.0.0.1:5000");
    let _entered = span.enter();
    tracing::info!(
        method = "GET",
        path = "/user/self",
        status = 200_u64,
        micros = 1234_u64,
        "answered"
    );
    tracing::info!(
        r#type = "Message",
        negative = -5_i64,
        zero = 0_u64,
        big = u64::MAX,
        "typed"
    );
    tracing::warn!(
        text = "say \"hi\" \\ there",
        unicode = "größe",
        ctrl = "a\tb",
        "quoted"
    );
    tracing::warn!(flag = true, ratio = 0.5_f64, "other kinds");
    tracing::error!(
        error = &Broken as &(dyn std::error::Error + 'static),
        "failed"
    );
    tracing::info!("escapes \x1b[31m red \x07 bell \u{85} next");
    tracing::info!(debugged = ?vec![1, 2], shown = %"plain", "debug and display");
    tracing::info!(empty = "", "an empty string");
    tracing::info!(message = 5_u64, after = 1_u64);
}

fn lines(ours: bool) -> Vec<String> {
    let lines = Lines::default();
    let builder = tracing_subscriber::fmt()
        .with_writer(lines.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO);
    if ours {
        let subscriber = builder.fmt_fields(Fields).with_timer(Clock).finish();
        tracing::subscriber::with_default(subscriber, events);
    } else {
        let subscriber = builder
            .fmt_fields(DefaultFields::new())
            .with_timer(SystemTime)
            .finish();
        tracing::subscriber::with_default(subscriber, events);
    }
    lines.text().lines().map(str::to_owned).collect()
}

#[test]
fn lines_read_as_the_librarys_default_format_writes_them() {
    let (ours, theirs) = (lines(true), lines(false));
    assert_eq!(ours.len(), 9);
    assert_eq!(ours.len(), theirs.len());
    for (ours, theirs) in ours.iter().zip(&theirs) {
        // The timestamps differ by when each ran: `2025-01-31T23:59:59.123456Z`.
        let (time, rest) = ours.split_at(27);
        let (their_time, their_rest) = theirs.split_at(27);
        assert_eq!(rest, their_rest);
        let shape = |t: &str| {
            t.bytes()
                .map(|b| if b.is_ascii_digit() { b'0' } else { b })
                .collect::<Vec<_>>()
        };
        assert_eq!(shape(time), shape(their_time), "{time} vs {their_time}");
        assert_eq!(shape(time), b"0000-00-00T00:00:00.000000Z");
    }
}

#[test]
fn the_clock_is_now() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(lines.clone())
        .with_ansi(false)
        .with_timer(Clock)
        .finish();
    let before = chrono::Utc::now();
    tracing::subscriber::with_default(subscriber, || tracing::info!("now"));
    let after = chrono::Utc::now();
    let text = lines.text();
    let stamp = chrono::DateTime::parse_from_rfc3339(&text[..27]).unwrap();
    let micro = chrono::Duration::microseconds(1);
    assert!(before - micro <= stamp && stamp <= after + micro, "{text}");
}
