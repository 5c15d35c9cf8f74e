//! The database: one SQLite file in WAL mode, its schema migrations, and a
//! pool of connections used only from blocking threads.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, ErrorCode, OpenFlags};

pub use super::error::OpenError;
use super::error::{StoreError, cause};
use super::wal::{self, Checkpoints};

/// The schema, as migration sections (see the file's header).
const SCHEMA: &str = include_str!("../../schema.sql");
/// `PRAGMA application_id` of an azuma database ("Azum").
const APPLICATION_ID: i64 = 0x417A_756D;
/// How long a statement waits for a lock before the request gets a 503.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs `checkpoint` (see `wal`) waiting at most `wait` for the lock or
/// for readers, where every wait holds back writes; then the usual busy
/// timeout again.
pub fn waiting<T>(
    conn: &Connection,
    wait: Duration,
    checkpoint: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.busy_timeout(wait)?;
    let done = checkpoint(conn);
    conn.busy_timeout(BUSY_TIMEOUT)?;
    done
}
/// Connections in the pool; SQLite runs one writer at a time anyway.
const POOL_SIZE: u32 = 8;
/// Searches that may hold a pool connection at once: however many run,
/// most of the pool stays for every other read.
pub const SEARCHES: usize = 2;

/// What a committed transaction survives: the `synchronous` setting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SyncMode {
    /// Every acknowledged write survives a power cut (one fsync per commit).
    #[default]
    Full,
    /// Acknowledged writes survive a crash of azuma, not always a power cut
    /// (synced at checkpoints only; the database itself stays intact).
    Normal,
}

impl SyncMode {
    fn pragma(self) -> &'static str {
        match self {
            SyncMode::Full => "FULL",
            SyncMode::Normal => "NORMAL",
        }
    }
}

/// One migration step: the schema version it produces and its SQL.
struct Migration<'a> {
    version: i64,
    sql: &'a str,
}

/// Splits `schema.sql` at its `-- migration N:` headers.
fn migrations(schema: &str) -> Vec<Migration<'_>> {
    let mut starts: Vec<(i64, usize)> = Vec::new();
    let mut offset = 0;
    for line in schema.split_inclusive('\n') {
        let version = line
            .strip_prefix("-- migration ")
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.trim().parse().ok());
        if let Some(version) = version {
            starts.push((version, offset));
        }
        offset += line.len();
    }
    let ends = starts
        .iter()
        .skip(1)
        .map(|&(_, at)| at)
        .chain([schema.len()]);
    starts
        .iter()
        .zip(ends)
        .map(|(&(version, start), end)| Migration {
            version,
            sql: &schema[start..end],
        })
        .collect()
}

/// The schema version this binary writes.
pub fn latest_version() -> i64 {
    migrations(SCHEMA).last().map_or(0, |m| m.version)
}

/// A pool of configured connections to the database file.
#[derive(Clone)]
pub struct Db {
    pool: Pool<SqliteConnectionManager>,
    path: PathBuf,
    sync: SyncMode,
    max_bytes: u64,
    checkpoints: Checkpoints,
}

impl Db {
    /// Opens (creating if absent) and migrates the database at `path`,
    /// which may grow to `max_bytes` (0: as far as the disk allows; past
    /// it, writes fail as on a full disk). Nothing is written to a file that
    /// turns out not to be ours or too new.
    /// Blocking: call before serving or from a blocking thread.
    pub fn open(
        path: &Path,
        sync: SyncMode,
        max_bytes: u64,
        checkpoints: Checkpoints,
    ) -> Result<Db, OpenError> {
        let failed = |e: &dyn fmt::Display| OpenError::Failed(path.to_path_buf(), e.to_string());
        let mut conn = Connection::open_with_flags(path, open_flags()).map_err(|e| failed(&e))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| failed(&e))?;
        check(&conn, path)?;
        checkpoints.configure(&conn).map_err(|e| failed(&e))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| failed(&e))?;
        migrate(&mut conn).map_err(|e| failed(&e))?;
        drop(conn);

        let manager = SqliteConnectionManager::file(path)
            .with_flags(open_flags())
            .with_init(move |conn| configure(conn, sync, max_bytes, checkpoints));
        let pool = Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(BUSY_TIMEOUT)
            .build(manager)
            .map_err(|e| failed(&e))?;
        Ok(Db {
            pool,
            path: path.to_path_buf(),
            sync,
            max_bytes,
            checkpoints,
        })
    }

    /// A connection of its own, configured like the pool's, for a task that
    /// keeps one (the message writer). Blocking.
    pub fn dedicated(&self) -> Result<Connection, OpenError> {
        let failed = |e: rusqlite::Error| OpenError::Failed(self.path.clone(), e.to_string());
        let mut conn = Connection::open_with_flags(&self.path, open_flags()).map_err(failed)?;
        configure(&mut conn, self.sync, self.max_bytes, self.checkpoints).map_err(failed)?;
        Ok(conn)
    }

    /// Runs `f` with a connection on a blocking thread, so the async
    /// runtime never waits on the disk. A panic in `f` is a failure.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| StoreError::Busy(cause(e)))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Failed(cause(e)))?
    }

    /// Moves everything in the WAL into the database file and empties the
    /// WAL, so that a stopped server leaves one self-contained file.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            // Another checkpoint (the writer's thread's, passive) makes this
            // one answer busy at once, not wait: it is over within moments.
            let until = std::time::Instant::now() + Duration::from_secs(1);
            while !wal::truncate(conn)? {
                if std::time::Instant::now() >= until {
                    return Err(StoreError::Busy(cause("checkpoint blocked by a reader")));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Ok(())
        })
        .await
    }

    /// Whether the database answers a query and has room for a write under
    /// its size cap. (Whether it takes writes is the writer's to show:
    /// `Writer::probe`.)
    pub async fn healthy(&self) -> bool {
        self.run(|conn| {
            conn.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?;
            // Near its size limit, the next write may not fit: room for
            // less than a request body (64 KiB: 16 pages of 4 KiB) is full.
            let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
            let most: i64 = conn.pragma_query_value(None, "max_page_count", |r| r.get(0))?;
            let free: i64 = conn.pragma_query_value(None, "freelist_count", |r| r.get(0))?;
            if most.saturating_sub(pages).saturating_add(free) < 16 {
                return Err(StoreError::Full(cause("the database is at its size limit")));
            }
            Ok(())
        })
        .await
        .is_ok()
    }
}

/// Accepts an azuma database this binary can migrate, or an empty file;
/// reads only, so a refused file is left exactly as it was.
pub fn check(conn: &Connection, path: &Path) -> Result<(), OpenError> {
    let read = || -> rusqlite::Result<(i64, i64, i64)> {
        let app_id = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
        let version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let objects = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
        Ok((app_id, version, objects))
    };
    let (app_id, found, objects) = match read() {
        Ok(header) => header,
        Err(e) if e.sqlite_error_code() == Some(ErrorCode::NotADatabase) => {
            return Err(OpenError::NotAzuma(path.to_path_buf()));
        }
        Err(e) => return Err(OpenError::Failed(path.to_path_buf(), e.to_string())),
    };
    let known = latest_version();
    match (app_id, found, objects) {
        (APPLICATION_ID, found, _) if found > known => Err(OpenError::TooNew {
            path: path.to_path_buf(),
            found,
            known,
        }),
        (APPLICATION_ID, _, _) | (0, 0, 0) => Ok(()),
        _ => Err(OpenError::NotAzuma(path.to_path_buf())),
    }
}

/// Applies, in one transaction, every migration the file has not seen.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for step in migrations(SCHEMA).iter().filter(|m| m.version > current) {
        tx.execute_batch(step.sql)?;
        tx.pragma_update(None, "user_version", step.version)?;
    }
    super::users::backfill_keys(&tx)?;
    tx.commit()
}

fn open_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// Per-connection settings; the journal mode lives in the file itself.
fn configure(
    conn: &mut Connection,
    sync: SyncMode,
    max_bytes: u64,
    checkpoints: Checkpoints,
) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    checkpoints.configure(conn)?;
    // Never in a commit: the writer's checkpoint thread does it, where no
    // write waits (and, with no server running, the last close).
    conn.pragma_update(None, "wal_autocheckpoint", 0)?;
    if max_bytes > 0 {
        let page: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let pages = max_bytes / u64::try_from(page).unwrap_or(4096).max(1);
        conn.pragma_update(
            None,
            "max_page_count",
            i64::try_from(pages).unwrap_or(i64::MAX),
        )?;
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A deleted message's bytes are overwritten, not left in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "synchronous", sync.pragma())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_migrations_are_numbered_from_one_without_gaps() {
        let steps = migrations(SCHEMA);
        assert!(!steps.is_empty());
        for (i, step) in steps.iter().enumerate() {
            assert_eq!(step.version, i as i64 + 1);
            assert!(step.sql.starts_with("-- migration "));
        }
        assert_eq!(latest_version(), steps.len() as i64);
    }

    /// SHA-256 of each migration as shipped (trailing blank lines aside). A
    /// database that has run one never runs it again: an edit would reach
    /// new databases only, and the two would differ for good.
    const SHIPPED: [&str; 12] = [
        "af42e9dc27e26deb5a5f4f76551b92a40abe066a7f3e80561caa91b7b1b3a9b2",
        "07db1ec3d50973480bb8c8b17d4fe6790a4845bb02ff9d6edb7cc4e367d0fa74",
        "4775d09dd79ec2fd2ffa70a7c94893b0a2f1d4581365e075fd91aff178d16af5",
        "51b21ae57e990625965e2f8ebef37935a1079299927b6f33d81fa91f237f1ce6",
        "4fa017b302442cd397573b037cea4e3f644aa17c50620f560a1310cae83dd2c1",
        "ca18da8bfa64afe3b7293d1c485f3d54659a22ae931728019f956bf489811a45",
        "517bf901d35649c34083b4c9221dcd731176a7b9f5692fb96ec5341974872bb2",
        "72dec0ab76410a4c8aa50fe54db4e072d750d827f7ad4660c97db7d0ae163188",
        "86a633fed55f7483d242d39460f0f69c54982b7fbdf98143cba17ab9883ff601",
        "5214c741e72f396da64328987326dcdf4d8b53dad2caf45285ee9781260f9e15",
        "824e629be52f19d4837ee76a32d92924a444853c7bb2e43ce75788a52917c207",
        "85dbf0b7b969a4c9c59e69ffe7bc89bebd44ef97b575c8c09dc9f44aeef2556e",
    ];

    #[test]
    fn shipped_migrations_are_never_edited() {
        use sha2::{Digest, Sha256};
        let steps = migrations(SCHEMA);
        for (step, shipped) in steps.iter().zip(SHIPPED) {
            let digest = Sha256::digest(step.sql.trim_end().as_bytes());
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(
                hex, shipped,
                "migration {} was edited after it shipped: change the schema \
                 with a new migration instead",
                step.version
            );
        }
        assert_eq!(
            steps.len(),
            SHIPPED.len(),
            "a new migration: add its digest to SHIPPED when it ships"
        );
    }

    #[test]
    fn splits_sections_exactly() {
        let steps = migrations("-- head\n-- migration 1: a\nA;\n-- migration 2: b\nB;\n");
        let sql: Vec<_> = steps.iter().map(|m| (m.version, m.sql)).collect();
        assert_eq!(
            sql,
            [
                (1, "-- migration 1: a\nA;\n"),
                (2, "-- migration 2: b\nB;\n")
            ]
        );
    }
}
