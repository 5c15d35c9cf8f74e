//! `azuma backup`: a consistent copy of the database beside a running
//! server.

use std::fmt;
use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use super::db::{BUSY_TIMEOUT, OpenError, check};

/// Writes a consistent, compact copy of the azuma database at `source` to
/// `target` (which must not exist): one snapshot, taken beside a running
/// server. A mistyped `source` is an error, not a new empty database.
pub fn backup(source: &Path, target: &Path) -> Result<(), OpenError> {
    let failed = |e: &dyn fmt::Display| OpenError::Backup(e.to_string());
    let conn = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| OpenError::Failed(source.to_path_buf(), e.to_string()))?;
    check(&conn, source)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| failed(&e))?;
    // A copy leaves the live file as it was: no checkpoint as it closes
    // (Litestream, if it replicates the file, must do them all).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(|e| failed(&e))?;
    let target_text = target
        .to_str()
        .ok_or_else(|| failed(&format!("{} is not UTF-8", target.display())))?;
    conn.execute("VACUUM INTO ?1", [target_text])
        .map_err(|e| failed(&e))?;
    // VACUUM INTO does not sync what it wrote.
    std::fs::File::open(target)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(&e))
}
