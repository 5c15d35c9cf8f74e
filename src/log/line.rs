//! How a line is formatted: byte for byte as tracing-subscriber's default
//! format writes it, only cheaper where the access log spends, one line per
//! request. The library formats each line's timestamp from the clock's
//! seconds up (a dozen `write!`s), every field through `Debug` with its
//! name and `=` painted, and each message character by character through
//! its ANSI escaper; here the timestamp's seconds are formatted once a
//! second, and strings that need no escaping, integers and messages are
//! written whole. On a terminal (colours) the library's own formatting is
//! used unchanged.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultFields, DefaultVisitor, Writer};
use tracing_subscriber::fmt::time::{self, FormatTime};

/// The timestamp, as `time::SystemTime` writes it
/// (`2025-01-31T23:59:59.123456Z`).
pub struct Clock;

/// The second last formatted, and its `2025-01-31T23:59:59.`.
#[derive(Default)]
struct Second {
    at: u64,
    text: String,
}

thread_local! {
    static SECOND: RefCell<Second> = RefCell::default();
}

impl FormatTime for Clock {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        let Ok(since) = SystemTime::now().duration_since(UNIX_EPOCH) else {
            return time::SystemTime.format_time(w);
        };
        let (at, micros) = (since.as_secs(), since.subsec_micros());
        SECOND.with(|second| {
            let mut second = second.borrow_mut();
            if second.at != at || second.text.is_empty() {
                let Some(date) = i64::try_from(at)
                    .ok()
                    .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
                else {
                    return time::SystemTime.format_time(w);
                };
                second.text.clear();
                write!(second.text, "{}.", date.format("%Y-%m-%dT%H:%M:%S"))?;
                second.at = at;
            }
            w.write_str(&second.text)
        })?;
        let mut digits = *b"000000Z";
        write_digits(&mut digits[..6], u64::from(micros));
        w.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
    }
}

/// Writes `value`'s last `out.len()` decimal digits into `out`, from the
/// right.
fn write_digits(out: &mut [u8], mut value: u64) {
    for byte in out.iter_mut().rev() {
        *byte = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// `value` in decimal, written into `digits`.
fn decimal(digits: &mut [u8; 20], value: u64) -> &str {
    let len = value.checked_ilog10().map_or(1, |log| log as usize + 1);
    write_digits(&mut digits[..len], value);
    // Only ASCII digits were written.
    std::str::from_utf8(&digits[..len]).unwrap_or_default()
}

/// Appends `value` in decimal, as `Display` would.
pub(super) fn push_digits(out: &mut String, value: u64) {
    out.push_str(decimal(&mut [0; 20], value));
}

/// Whether the library writes `value` (a field other than the message)
/// as it is between quotes: printable ASCII with nothing to escape.
pub(super) fn plain(value: &str) -> bool {
    value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

/// The fields, as `DefaultFields` writes them (`message name=value ...`).
pub struct Fields;

impl<'writer> FormatFields<'writer> for Fields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        if writer.has_ansi_escapes() {
            return DefaultFields::new().format_fields(writer, fields);
        }
        let mut visitor = Visitor {
            writer,
            is_empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// `DefaultVisitor` without colours, taking the short way where it can.
struct Visitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: fmt::Result,
}

impl Visitor<'_> {
    /// Whether to write `field`, and if so its separating space and name:
    /// the library skips `log.` fields (the `log` crate's metadata) and
    /// writes `r#type` as `type`.
    fn start(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.result.is_err() || name.starts_with("log.") {
            return false;
        }
        self.pad();
        let name = name.strip_prefix("r#").unwrap_or(name);
        self.result = self
            .writer
            .write_str(name)
            .and_then(|()| self.writer.write_char('='));
        self.result.is_ok()
    }

    fn pad(&mut self) {
        if self.is_empty {
            self.is_empty = false;
        } else {
            self.result = self.writer.write_char(' ');
        }
    }

    /// What the library does with this field.
    fn as_library(&mut self, field: &Field, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        // What the library skips must not count as written.
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        let mut library = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut library);
        self.result = library.finish();
        self.is_empty = false;
    }
}

impl Visit for Visitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            if self.result.is_ok() {
                self.pad();
                let sanitize = self.writer.sanitizes_ansi_escapes();
                let mut escaped = Escaping {
                    inner: &mut self.writer,
                    sanitize,
                };
                self.result = self.result.and_then(|()| write!(escaped, "{value:?}"));
            }
        } else if self.start(field) {
            self.result = write!(self.writer, "{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" || !plain(value) {
            return self.as_library(field, |library| library.record_str(field, value));
        }
        if self.start(field) {
            self.result = self
                .writer
                .write_char('"')
                .and_then(|()| self.writer.write_str(value))
                .and_then(|()| self.writer.write_char('"'));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "message" {
            return self.record_debug(field, &value);
        }
        if self.start(field) {
            let mut digits = [0; 20];
            self.result = self.writer.write_str(decimal(&mut digits, value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        match u64::try_from(value) {
            Ok(value) => self.record_u64(field, value),
            Err(_) => self.record_debug(field, &value),
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.as_library(field, |library| library.record_error(field, value));
    }
}

/// The library's ANSI escaper for messages (`EscapeGuard`): the control
/// characters a terminal acts on are written as escapes. A piece without
/// any is written whole.
struct Escaping<'a, 'w> {
    inner: &'a mut Writer<'w>,
    sanitize: bool,
}

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // 0xc2 leads U+0080..U+00BF in UTF-8, the C1 controls among them.
        if !self.sanitize
            || !s
                .bytes()
                .any(|b| matches!(b, 0x1b | 0x07 | 0x08 | 0x0c | 0x7f | 0xc2))
        {
            return self.inner.write_str(s);
        }
        for ch in s.chars() {
            match ch {
                '\x1b' => self.inner.write_str("\\x1b")?,
                '\x07' => self.inner.write_str("\\x07")?,
                '\x08' => self.inner.write_str("\\x08")?,
                '\x0c' => self.inner.write_str("\\x0c")?,
                '\x7f' => self.inner.write_str("\\x7f")?,
                '\u{80}'..='\u{9f}' => write!(self.inner, "\\u{{{:x}}}", ch as u32)?,
                _ => self.inner.write_char(ch)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
