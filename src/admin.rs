//! The admin commands, `azuma backup` and `azuma user ...`: they work on the
//! database file directly, and are safe while a server is serving it (WAL
//! lets them read beside it; their writes wait for the server's).

use std::fmt;
use std::io::{BufRead, IsTerminal};
use std::path::Path;

use uuid::Uuid;

use crate::auth::password::{HashError, Passwords};
use crate::config::DatabaseFile;
use crate::domain::backup;
use crate::domain::clock::Clock;
use crate::domain::db::{Db, OpenError, SyncMode};
use crate::domain::error::{Refusal, StoreError};
use crate::domain::names::{Password, UserName};
use crate::domain::{invites, users};

pub use crate::domain::users::Account;

/// Why an admin command failed: one line for the operator.
#[derive(Debug)]
pub struct AdminError(String);

impl From<crate::domain::names::Invalid> for AdminError {
    fn from(e: crate::domain::names::Invalid) -> Self {
        AdminError(e.0)
    }
}

impl fmt::Display for AdminError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminError {}

macro_rules! one_line {
    ($($from:ty),*) => {$(
        impl From<$from> for AdminError {
            fn from(e: $from) -> Self {
                AdminError(e.to_string())
            }
        }
    )*};
}

one_line!(OpenError, Refusal, HashError);

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError(crate::domain::error::chain(&e))
    }
}

/// Writes a consistent, compact copy of the database at `source` to
/// `target`, which must not exist. Reads one snapshot, so it holds every
/// write committed before it began, while the server goes on writing.
pub fn backup(source: &Path, target: &Path) -> Result<(), AdminError> {
    if !source.exists() {
        return Err(no_database(source));
    }
    if target.exists() {
        return Err(AdminError(format!(
            "{} exists; refusing to overwrite it",
            target.display()
        )));
    }
    Ok(backup::backup(source, target)?)
}

/// Makes an invitation on the database at `database` and prints its code
/// (and, given the server's `url`, the web client's link to it); when it
/// expires goes to standard error.
pub fn invite(
    database: &DatabaseFile,
    url: Option<&str>,
) -> Result<(), Box<dyn std::error::Error>> {
    if !database.path.exists() {
        return Err(no_database(&database.path).into());
    }
    let db = Db::open(&database.path, SyncMode::Full, 0, database.checkpoints())?;
    let now = Clock::default().now();
    let runtime = tokio::runtime::Runtime::new()?;
    let made = runtime
        .block_on(db.run(move |conn| invites::create(conn, None, now)))
        .map_err(|e: Refusal| AdminError(e.to_string()))?;
    let code = made.code.simple();
    println!("{code}");
    if let Some(url) = url {
        println!("{}/app/#invite={code}", url.trim_end_matches('/'));
    }
    eprintln!("valid until {}", made.expires_at.to_rfc3339());
    Ok(())
}

/// The database, opened for the `azuma user` commands.
pub struct Accounts {
    db: Db,
    passwords: Passwords,
    clock: Clock,
}

impl Accounts {
    /// Opens `database` (creating it only if `create`). New passwords are
    /// hashed at `scrypt` cost.
    pub fn open(
        database: &DatabaseFile,
        create: bool,
        scrypt: scrypt::Params,
    ) -> Result<Accounts, AdminError> {
        let path = &database.path;
        if !create && !path.exists() {
            return Err(no_database(path));
        }
        Ok(Accounts {
            db: Db::open(path, SyncMode::Full, 0, database.checkpoints())?,
            passwords: Passwords::new(scrypt, 0),
            clock: Clock::default(),
        })
    }

    /// Creates an account.
    pub async fn add(&self, name: UserName, password: Password) -> Result<Uuid, AdminError> {
        let hash = self.passwords.hash(password).await?;
        let now = self.clock.now();
        Ok(self
            .db
            .run(move |conn| users::insert(conn, &name, &hash, now))
            .await?)
    }

    /// Changes a password and signs the account out everywhere.
    pub async fn set_password(&self, name: String, password: Password) -> Result<(), AdminError> {
        let hash = self.passwords.hash(password).await?;
        Ok(self
            .db
            .run(move |conn| users::change_password(conn, &name, &hash))
            .await?)
    }

    /// Every account, oldest first.
    pub async fn list(&self) -> Result<Vec<Account>, AdminError> {
        Ok(self.db.run(|conn| users::accounts(conn)).await?)
    }

    /// Deletes an account (named `name`, or with the id `name`) and its
    /// sessions. Its messages and channels stay: other people's history is
    /// not rewritten.
    pub async fn remove(&self, name: String) -> Result<(), AdminError> {
        Ok(self.db.run(move |conn| users::remove(conn, &name)).await?)
    }
}

/// The new password: the first line of stdin, or asked twice without echo.
pub fn read_password(name: &str, from_stdin: bool) -> Result<Password, AdminError> {
    let failed = |e: std::io::Error| AdminError(format!("cannot read the password: {e}"));
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(failed)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(AdminError(
                "no terminal to ask for a password on; use --password-stdin".into(),
            ));
        }
        let first = rpassword::prompt_password(format!("Password for {name}: ")).map_err(failed)?;
        let again = rpassword::prompt_password("Again: ").map_err(failed)?;
        if first != again {
            return Err(AdminError("the passwords differ; nothing changed".into()));
        }
        first
    };
    Password::try_from(password).map_err(|e| AdminError(e.0))
}

/// `accounts` as `azuma user list` prints them. Names are escaped, so that
/// no name can hide itself or rewrite the terminal (control characters,
/// bidi overrides and invisible characters show as `\u{...}`).
pub fn table(accounts: &[Account]) -> String {
    use std::fmt::Write;
    let mut out = format!(
        "{:<32}  {:<36}  {:<27}  sessions\n",
        "name", "id", "created"
    );
    for a in accounts {
        let name = escape(&a.name);
        let created = a.created_at.to_rfc3339();
        let _ = writeln!(out, "{name:<32}  {}  {created}  {}", a.id, a.sessions);
    }
    out
}

/// `text` with everything but visible characters and plain spaces escaped.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c == ' ' || !(c.is_whitespace() || crate::domain::unicode::is_invisible(c)) {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect()
}

fn no_database(path: &Path) -> AdminError {
    AdminError(format!("no database at {}", path.display()))
}

/// What `azuma user` does.
#[derive(clap::Subcommand)]
pub enum UserAction {
    /// Create an account (asks for its password).
    Add {
        /// The account's name.
        name: String,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change an account's password (asks for it); signs it out everywhere.
    Passwd {
        /// The account's name.
        name: String,
        /// Read the password from the first line of standard input instead.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the accounts.
    List,
    /// Delete an account and its sessions; its messages and channels stay.
    Remove {
        /// The account's name, or its id.
        name: String,
    },
}

/// Carries out `azuma user ACTION` on the database at `database`, hashing
/// new passwords at cost `scrypt`; what it did, on standard output.
pub fn user(
    database: &DatabaseFile,
    scrypt: scrypt::Params,
    action: UserAction,
) -> Result<(), Box<dyn std::error::Error>> {
    let open = |create| Accounts::open(database, create, scrypt);
    let runtime = tokio::runtime::Runtime::new()?;
    match action {
        UserAction::Add {
            name,
            password_stdin,
        } => {
            let checked = UserName::try_from(name.clone())?;
            // Asked before anything is opened: a cancelled prompt changes nothing.
            let password = read_password(&name, password_stdin)?;
            let id = runtime.block_on(open(true)?.add(checked, password))?;
            println!("added {name} ({id})");
        }
        UserAction::Passwd {
            name,
            password_stdin,
        } => {
            let password = read_password(&name, password_stdin)?;
            runtime.block_on(open(false)?.set_password(name.clone(), password))?;
            println!("changed the password of {name}; their sessions are revoked");
        }
        UserAction::List => {
            let accounts = runtime.block_on(open(false)?.list())?;
            print!("{}", table(&accounts));
        }
        UserAction::Remove { name } => {
            runtime.block_on(open(false)?.remove(name.clone()))?;
            println!("removed {name}");
        }
    }
    Ok(())
}
