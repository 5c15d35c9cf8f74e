//! The access log: a line per request. Through tracing, its event (the
//! fields' dynamic dispatch, `Display` of the method and the address,
//! the formatter's thread-local buffer) cost more of `GET /` than anything
//! else the log does. Where the log is the server's own (stderr, without
//! colours), the line is formatted here instead, straight into the log's
//! buffer, byte for byte as tracing writes it (a test compares the two).
//! Elsewhere (colours on a terminal, a test's own subscriber) tracing
//! writes it. Either way `RUST_LOG` decides whether it is written.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

use super::line::{self, Clock};
use super::{Buffered, Shared};

/// The lines' target: where they were logged from before, which a
/// `RUST_LOG` directive may name.
const TARGET: &str = "azuma::http::server";

/// The log's buffer, once lines may be written to it directly.
static DIRECT: OnceLock<Arc<Shared>> = OnceLock::new();

thread_local! {
    /// A line being formatted, its allocation kept from line to line.
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// From now on, access lines go straight to `writer`'s buffer: for a
/// subscriber that writes there without colours, in the default format.
pub fn write_directly(writer: &Buffered) {
    let _ = DIRECT.set(writer.0.clone());
}

/// One request's line.
pub struct Access<'a> {
    pub id: u64,
    pub method: &'a str,
    /// Never the query: a signed link's signature is there.
    pub path: &'a str,
    pub status: u16,
    pub micros: u64,
    pub client: IpAddr,
}

impl Access<'_> {
    /// Logs the line at INFO, not named by the request as other lines
    /// logged in it are: the request's fields are the line's own.
    pub fn log(&self) {
        if !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
            return;
        }
        match DIRECT.get() {
            Some(shared) => LINE.with_borrow_mut(|line| {
                line.clear();
                if self.format(line).is_ok() {
                    // Nowhere to report a failed write of the log itself.
                    let _ = (&**shared).write_all(line.as_bytes());
                }
            }),
            None => self.through_tracing(),
        }
    }

    fn through_tracing(&self) {
        tracing::info!(
            target: TARGET,
            parent: None,
            id = self.id,
            method = %self.method,
            path = self.path,
            status = self.status,
            micros = self.micros,
            client = %self.client,
            "request"
        );
    }

    /// The line as tracing-subscriber's default format, without colours,
    /// writes [`Self::through_tracing`]'s event.
    fn format(&self, out: &mut String) -> fmt::Result {
        Clock.format_time(&mut Writer::new(out))?;
        out.push_str("  INFO ");
        out.push_str(TARGET);
        out.push_str(": request id=");
        line::push_digits(out, self.id);
        out.push_str(" method=");
        out.push_str(self.method);
        out.push_str(" path=");
        if line::plain(self.path) {
            out.push('"');
            out.push_str(self.path);
            out.push('"');
        } else {
            write!(out, "{:?}", self.path)?;
        }
        out.push_str(" status=");
        line::push_digits(out, u64::from(self.status));
        out.push_str(" micros=");
        line::push_digits(out, self.micros);
        write!(out, " client={}", self.client)?;
        out.push('\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;
    use crate::log::testing::Lines;

    #[test]
    fn lines_read_as_tracing_writes_them() {
        let requests = [
            Access {
                id: 0,
                method: "GET",
                path: "/",
                status: 200,
                micros: 0,
                client: IpAddr::from([127, 0, 0, 1]),
            },
            Access {
                id: u64::MAX,
                method: "DELETE",
                path: "/channel/%22x%5C/a\"b\\c",
                status: 404,
                micros: 1_234_567,
                client: IpAddr::from(Ipv6Addr::LOCALHOST),
            },
            Access {
                id: 10,
                method: "PATCH",
                path: "/größe/\u{7}",
                status: 503,
                micros: 10,
                client: IpAddr::from([203, 0, 113, 9]),
            },
        ];
        let lines = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(lines.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let _inside = tracing::info_span!("request", id = 5).entered();
            for request in &requests {
                request.through_tracing();
            }
        });
        let theirs = lines.text();
        let theirs: Vec<&str> = theirs.lines().collect();
        assert_eq!(theirs.len(), requests.len());
        for (request, theirs) in requests.iter().zip(theirs) {
            let mut ours = String::new();
            request.format(&mut ours).unwrap();
            let ours = ours.strip_suffix('\n').unwrap();
            // The timestamps differ by when each was taken: compare after.
            assert_eq!(ours[27..], theirs[27..]);
        }
    }
}
