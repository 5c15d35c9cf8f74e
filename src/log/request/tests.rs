use super::*;
use crate::log::Fields;
use crate::log::testing::Lines;

fn request() -> Request {
    Request {
        id: 7,
        method: Method::POST,
        uri: "/user/l%22ogin\"?signature=secret".parse().unwrap(),
    }
}

/// One line at each level, with a field and a message to escape.
fn events() {
    tracing::error!(name = "bob", "failed \x1b[31m");
    tracing::warn!(name = "bob", "failed");
    tracing::info!(count = 3_u64, "counted");
    tracing::debug!("debugged");
    tracing::trace!("traced");
}

/// What `events` writes, ours with the request as a task-local, the
/// library's in a span with the request's fields.
fn lines(ours: bool, ansi: bool) -> Vec<String> {
    let lines = Lines::default();
    let builder = tracing_subscriber::fmt()
        .with_writer(lines.clone())
        .fmt_fields(Fields)
        .with_ansi(ansi)
        .with_max_level(Level::TRACE);
    if ours {
        let subscriber = builder.event_format(Format).finish();
        tracing::subscriber::with_default(subscriber, || REQUEST.sync_scope(request(), events));
    } else {
        let subscriber = builder.with_timer(Clock).finish();
        tracing::subscriber::with_default(subscriber, || {
            let request = request();
            let _span = tracing::info_span!(
                "request",
                id = request.id,
                method = %request.method,
                path = request.uri.path()
            )
            .entered();
            events();
        });
    }
    // The timestamps differ by when each ran.
    lines
        .text()
        .lines()
        .map(|line| line.replace(|c: char| c.is_ascii_digit(), "0"))
        .collect()
}

#[test]
fn a_request_is_named_as_its_span_would_be() {
    for ansi in [false, true] {
        let (ours, theirs) = (lines(true, ansi), lines(false, ansi));
        assert_eq!(ours.len(), 5);
        assert_eq!(ours, theirs, "ansi: {ansi}");
        assert!(ours.iter().all(|line| !line.contains("secret")), "{ours:?}");
    }
    assert!(
        lines(true, false)[1].contains(
            " WARN request{id=0 method=POST path=\"/user/l%00ogin\\\"\"}: azuma::log::request::tests: failed name=\"bob\""
        ),
        "{:?}",
        lines(true, false)
    );
}

#[test]
fn lines_outside_a_request_or_outside_its_context_are_the_librarys() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(lines.clone())
        .with_ansi(false)
        .event_format(Format)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("outside");
        REQUEST.sync_scope(request(), || {
            tracing::info!(parent: None, "the access line");
            let _span = tracing::info_span!("inner").entered();
            tracing::info!("in a span of its own");
        });
    });
    let text = lines.text();
    let lines: Vec<&str> = text.lines().map(|line| &line[28..]).collect();
    assert_eq!(
        lines,
        [
            " INFO azuma::log::request::tests: outside",
            " INFO azuma::log::request::tests: the access line",
            " INFO inner: azuma::log::request::tests: in a span of its own",
        ]
    );
}
