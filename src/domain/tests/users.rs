//! Users: registering, finding an account by its name, names that look
//! alike, renaming, and where an account's unread counts start.

use rusqlite::Connection;
use uuid::Uuid;

use crate::domain::clock::Timestamp;
use crate::domain::error::Refusal;
use crate::domain::messages;
use crate::domain::names::LoginName;
use crate::domain::testing::{self, TestDb, name};
use crate::domain::users::*;

fn login(name: &str) -> LoginName {
    LoginName::try_from(name.to_owned()).unwrap()
}

fn first_seq(conn: &Connection, id: &Uuid) -> i64 {
    conn.query_row("SELECT first_seq FROM users WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .unwrap()
}

#[test]
fn inserted_accounts_are_found_by_name_and_id() {
    let t = TestDb::new();
    let id = insert(&t.conn, &name("alice"), "alice's hash", Timestamp(7)).unwrap();
    let bob = insert(&t.conn, &name("bob"), "bob's hash", Timestamp(8)).unwrap();
    assert_ne!(id, bob);
    assert_eq!(
        credentials(&t.conn, &login("alice")).unwrap(),
        Some((id, "alice's hash".to_owned()))
    );
    assert_eq!(credentials(&t.conn, &login("carol")).unwrap(), None);
    let user = load(&t.conn, &id).unwrap().unwrap();
    assert_eq!(
        (user.name.as_str(), user.created_at),
        ("alice", Timestamp(7))
    );
    assert!(name_taken(&t.conn, &name("alice")).unwrap());
    assert!(!name_taken(&t.conn, &name("carol")).unwrap());
}

#[test]
fn a_name_typed_in_another_normal_form_signs_in() {
    let t = TestDb::new();
    let id = testing::user(&t.conn, "caf\u{e9}");
    let found = credentials(&t.conn, &login("cafe\u{301}")).unwrap();
    assert_eq!(found.map(|(found, _)| found), Some(id));
}

#[test]
fn a_name_that_looks_like_a_taken_one_is_taken() {
    let t = TestDb::new();
    testing::user(&t.conn, "cope");
    // Case, and Cyrillic letters that look Latin: the same key.
    for look_alike in ["Cope", "COPE", "\u{441}\u{43e}\u{440}\u{435}"] {
        assert_eq!(name(look_alike).key(), name("cope").key());
        assert!(
            matches!(
                insert(&t.conn, &name(look_alike), "h", Timestamp(2)),
                Err(Refusal::Taken(_))
            ),
            "{look_alike}"
        );
    }
    assert!(insert(&t.conn, &name("copes"), "h", Timestamp(2)).is_ok());
    assert_eq!(accounts(&t.conn).unwrap().len(), 2);
}

#[test]
fn rename_moves_the_name_and_its_key() {
    let mut t = TestDb::new();
    let id = testing::user(&t.conn, "alice");
    testing::user(&t.conn, "bob");
    let keep = [0; 32];

    let renamed = update(&mut t.conn, &id, Some(&name("alicia")), None, &keep).unwrap();
    assert_eq!(renamed.unwrap().name, "alicia");
    assert_eq!(credentials(&t.conn, &login("alice")).unwrap(), None);
    assert!(credentials(&t.conn, &login("alicia")).unwrap().is_some());
    // The old name, and names like it, are free again.
    testing::user(&t.conn, "Alice");

    // A name like another's is refused, and changes nothing.
    assert!(matches!(
        update(&mut t.conn, &id, Some(&name("BOB")), None, &keep),
        Err(Refusal::Taken(_))
    ));
    assert_eq!(load(&t.conn, &id).unwrap().unwrap().name, "alicia");
    // A name like one's own is one's own.
    let same = update(&mut t.conn, &id, Some(&name("Alicia")), None, &keep).unwrap();
    assert_eq!(same.unwrap().name, "Alicia");
    // No such user: nothing.
    let nobody = update(&mut t.conn, &Uuid::new_v4(), Some(&name("x")), None, &keep);
    assert!(nobody.unwrap().is_none());
}

#[test]
fn an_account_counts_unread_from_the_history_as_it_was() {
    let t = TestDb::new();
    let early = testing::user(&t.conn, "early");
    assert_eq!(first_seq(&t.conn, &early), 0);
    let channel = testing::channel(&t.conn, early, "general");
    let mut last = None;
    for i in 0..3 {
        last = Some(testing::send(&t.conn, &channel, early, &format!("m{i}")));
    }
    let last = testing::seq_of(&t.conn, &last.unwrap().id);
    let late = testing::user(&t.conn, "late");
    assert_eq!(first_seq(&t.conn, &late), last);

    // A deleted newest message still counts as history.
    let newest = testing::send(&t.conn, &channel, early, "newest");
    messages::delete(&t.conn, &newest.id, &early).unwrap();
    let later = testing::user(&t.conn, "later");
    assert_eq!(first_seq(&t.conn, &later), last + 1);
}
