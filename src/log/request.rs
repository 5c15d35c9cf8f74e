//! The request a line is logged in. A line logged while a request runs
//! names it as a span would (`WARN request{id=7 method=POST
//! path="/user/login"}: azuma::routes::session: ...`), but a tracing span
//! per request (registered, its fields formatted into a string of their
//! own, entered, exited, closed) cost `GET /` about a tenth of its
//! throughput with the log on. The request is a task-local instead, which
//! costs nothing until a line is logged, and [`Format`] writes it where
//! the library writes a span.

use std::fmt::{self, Write as _};
use std::future::Future;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{self, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use warp::http::{Method, Uri};

use super::Clock;

tokio::task_local! {
    static REQUEST: Request;
}

/// What names a request in the log.
pub struct Request {
    pub id: u64,
    pub method: Method,
    /// Only its path is written: a signed link's signature is in its query.
    pub uri: Uri,
}

/// Runs `future` as `request`: what it logs names the request.
pub fn scope<F: Future>(request: Request, future: F) -> impl Future<Output = F::Output> {
    REQUEST.scope(request, future)
}

/// The library's default format (with [`Clock`]), and the request's
/// context in a line logged where one runs, in no span of its own.
pub struct Format;

impl<S, N> FormatEvent<S, N> for Format
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let library = format().with_ansi(writer.has_ansi_escapes());
        let named = event.is_contextual() && ctx.lookup_current().is_none();
        let context = named
            .then(|| REQUEST.try_with(|r| r.context(writer.has_ansi_escapes())))
            .and_then(Result::ok);
        let Some(context) = context else {
            return library.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        library.format_event(ctx, Writer::new(&mut line), event)?;
        let at = after_level(&line, *event.metadata().level()).unwrap_or(0);
        writer.write_str(&line[..at])?;
        if at > 0 {
            writer.write_str(&context)?;
        }
        writer.write_str(&line[at..])
    }
}

fn format() -> format::Format<format::Full, Clock> {
    format::format().with_timer(Clock)
}

impl Request {
    /// What the library writes for a span `request` with these fields.
    fn context(&self, ansi: bool) -> String {
        let (bold, italic, dimmed, plain) = if ansi {
            (("\x1b[1m", "\x1b[0m"), "\x1b[3m", "\x1b[2m", "\x1b[0m")
        } else {
            (("", ""), "", "", "")
        };
        let (b, r) = bold;
        let mut out = format!("{b}request{r}{b}{{{r}");
        let fields: [(&str, &dyn fmt::Display); 3] = [
            ("id", &self.id),
            ("method", &self.method),
            ("path", &format_args!("{:?}", self.uri.path())),
        ];
        for (i, (name, value)) in fields.into_iter().enumerate() {
            let space = if i == 0 { "" } else { " " };
            let name = if ansi {
                format!("{italic}{name}{plain}{dimmed}={plain}")
            } else {
                format!("{name}=")
            };
            let _ = write!(out, "{space}{name}{value}");
        }
        let _ = write!(out, "{b}}}{r}{dimmed}:{plain} ");
        out
    }
}

/// Where the line's level ends (after the space that follows it): the
/// timestamp comes first, and no level's name can be read in one.
fn after_level(line: &str, level: Level) -> Option<usize> {
    let name = level.as_str();
    let end = line.find(name)? + name.len();
    let rest = &line[end..];
    let reset = if rest.starts_with("\x1b[0m") { 4 } else { 0 };
    rest[reset..].starts_with(' ').then_some(end + reset + 1)
}

#[cfg(test)]
mod tests;
