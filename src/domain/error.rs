//! What the domain layer reports: storage failures, and the reasons an
//! operation was refused. Neither knows about HTTP; the API maps them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// The underlying cause of a failure, kept whole for the log.
pub type Cause = Arc<dyn std::error::Error + Send + Sync>;

/// Makes a [`Cause`] from a message or any error.
pub fn cause(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Cause {
    Arc::from(e.into())
}

/// The database could not do what was asked.
#[derive(Clone, Debug)]
pub enum StoreError {
    /// The database stayed locked past the busy timeout, or no connection
    /// was free: worth retrying.
    Busy(Cause),
    /// The disk (or the database's size limit) is full: nothing was
    /// written; worth retrying once space is freed.
    Full(Cause),
    /// Anything else: a bug, or a broken disk.
    Failed(Cause),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Busy(_) => f.write_str("the database is busy"),
            StoreError::Full(_) => f.write_str("the disk is full"),
            StoreError::Failed(_) => f.write_str("the database failed"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Busy(c) | StoreError::Full(c) | StoreError::Failed(c) => Some(c.as_ref()),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked, DiskFull};
        match e.sqlite_error_code() {
            Some(DatabaseBusy | DatabaseLocked) => StoreError::Busy(cause(e)),
            Some(DiskFull) => StoreError::Full(cause(e)),
            _ => StoreError::Failed(cause(e)),
        }
    }
}

/// Why a domain operation did not happen.
#[derive(Clone, Debug)]
pub enum Refusal {
    /// The object it names does not exist; says which.
    NotFound(String),
    /// The caller may not do this; says why.
    Forbidden(String),
    /// A value that must be unique is taken; says which.
    Taken(String),
    /// The request does not make sense here; says why.
    Invalid(String),
    /// The caller has done this as often as allowed; may again after this.
    Limited(std::time::Duration),
    /// Storage failed.
    Store(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Store(e)
    }
}

impl From<rusqlite::Error> for Refusal {
    fn from(e: rusqlite::Error) -> Self {
        Refusal::Store(e.into())
    }
}

/// For the operator (the admin commands): one line.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotFound(why)
            | Refusal::Forbidden(why)
            | Refusal::Taken(why)
            | Refusal::Invalid(why) => f.write_str(why),
            Refusal::Limited(wait) => write!(f, "too many; try again in {wait:?}"),
            Refusal::Store(e) => f.write_str(&chain(e)),
        }
    }
}

/// An error and its sources, joined by ": ", for a log line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(source) = next {
        text.push_str(": ");
        text.push_str(&source.to_string());
        next = source.source();
    }
    text
}

/// Whether `e` is a UNIQUE (or primary key) constraint failing.
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// Why the database could not be opened. Each is one line for the operator.
#[derive(Debug)]
pub enum OpenError {
    /// The file exists but is not an azuma database (or not SQLite at all).
    NotAzuma(PathBuf),
    /// The file was written by a newer azuma.
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// SQLite refused (permissions, a missing directory, a full disk...);
    /// the reason.
    Failed(PathBuf, String),
    /// A backup could not be written; the reason.
    Backup(String),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::NotAzuma(p) => write!(
                f,
                "{} is not an azuma database; refusing to touch it",
                p.display()
            ),
            OpenError::TooNew { path, found, known } => write!(
                f,
                "{} has schema version {found}, newer than this azuma knows ({known}); \
                 run a newer azuma",
                path.display()
            ),
            OpenError::Failed(p, e) => write!(f, "cannot open database {}: {e}", p.display()),
            OpenError::Backup(e) => write!(f, "backup failed: {e}"),
        }
    }
}

impl std::error::Error for OpenError {}
