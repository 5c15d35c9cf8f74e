//! The writes that make, share and end channels: each checks everything it
//! may refuse before it stores anything (a refused write leaves its batch's
//! transaction as it found it).

use rusqlite::Connection;
use uuid::Uuid;

use super::writes::{After, Write};
use crate::domain::channels::{self, Channel, Kind};
use crate::domain::clock::Timestamp;
use crate::domain::error::Refusal;
use crate::domain::members;
use crate::domain::{markers, users};
use crate::realtime::hub::Event;

/// Stores a new public or private channel with its members (the owner
/// first), unless its owner already owns `most` (0: no limit).
pub struct CreateChannel {
    pub channel: Channel,
    pub most: u32,
}

impl Write for CreateChannel {
    type Output = Channel;

    fn apply(self, conn: &Connection, _: Timestamp) -> Result<Channel, Refusal> {
        let channel = self.channel;
        if self.most > 0 && channels::owned_by(conn, &channel.owner)? >= i64::from(self.most) {
            // Deleting one frees a place; otherwise, no sooner than an hour.
            return Err(Refusal::Limited(std::time::Duration::from_secs(3600)));
        }
        let members = channel.members.as_deref().unwrap_or_default();
        if let Some(unknown) = users::unknown(conn, members)? {
            return Err(Refusal::Invalid(format!("no user with id {unknown}")));
        }
        let seq = channels::insert(conn, &channel, None)?;
        for member in members {
            members::add(conn, seq, member)?;
        }
        Ok(channel)
    }

    fn events<'a>(channel: &'a Channel, events: &mut Vec<Event<'a>>) {
        events.push(Event::ChannelCreated(channel));
    }
}

/// Opens the direct conversation of `by` and `others` (1 to
/// `members::MAX_DIRECT` other accounts, without `by`, no repeats): the
/// one there is, or a new one `by` owns.
pub struct OpenDirect {
    pub by: Uuid,
    pub others: Vec<Uuid>,
}

/// A direct conversation, and whether it was just made.
pub struct Opened {
    pub channel: Channel,
    pub created: bool,
}

impl Write for OpenDirect {
    type Output = Opened;

    fn apply(self, conn: &Connection, now: Timestamp) -> Result<Opened, Refusal> {
        let mut people = vec![self.by];
        people.extend(self.others);
        let key = members::direct_key(&people);
        if let Some(channel) = channels::direct(conn, &key)? {
            return Ok(Opened {
                channel,
                created: false,
            });
        }
        let mut names = Vec::with_capacity(people.len());
        for id in &people {
            let user = users::load(conn, id)?
                .ok_or_else(|| Refusal::Invalid(format!("no user with id {id}")))?;
            names.push(user.name);
        }
        let channel = Channel {
            id: Uuid::new_v4(),
            name: names.join(", "),
            description: None,
            owner: self.by,
            created_at: now,
            kind: Kind::Direct,
            members: Some(people),
        };
        let seq = channels::insert(conn, &channel, Some(&key))?;
        for member in channel.members.iter().flatten() {
            members::add(conn, seq, member)?;
        }
        Ok(Opened {
            channel,
            created: true,
        })
    }

    fn events<'a>(opened: &'a Opened, events: &mut Vec<Event<'a>>) {
        if opened.created {
            events.push(Event::ChannelCreated(&opened.channel));
        }
    }
}

/// Adds `user` to private channel `channel`, if `by` is a member.
pub struct AddMember {
    pub channel: Uuid,
    pub by: Uuid,
    pub user: Uuid,
}

impl Write for AddMember {
    /// The channel as its new member sees it; `None` if `user` was a
    /// member already.
    type Output = Option<(Channel, Uuid)>;

    fn apply(self, conn: &Connection, _: Timestamp) -> Result<Self::Output, Refusal> {
        let seen = channels::seen_or_not_found(conn, &self.by, &self.channel)?;
        if seen.kind != Kind::Private {
            return Err(only_private());
        }
        if users::unknown(conn, &[self.user])?.is_some() {
            return Err(Refusal::Invalid(format!("no user with id {}", self.user)));
        }
        if !members::add(conn, seen.seq, &self.user)? {
            return Ok(None);
        }
        markers::start_at_end(conn, &self.user, seen.seq)?;
        let channel = channels::load(conn, &self.user, &self.channel)?
            .ok_or_else(|| channels::not_found(&self.channel))?;
        Ok(Some((channel, self.user)))
    }

    fn events<'a>(added: &'a Self::Output, events: &mut Vec<Event<'a>>) {
        if let Some((channel, user)) = added {
            events.push(Event::MemberAdded {
                channel: channel.id,
                user: *user,
                joined: channel,
            });
        }
    }
}

/// Removes `user` from private channel `channel`: `by` themselves, or
/// anyone if `by` owns it. An owner who leaves hands the channel to the
/// earliest member; the last one to leave deletes it.
pub struct RemoveMember {
    pub channel: Uuid,
    pub by: Uuid,
    pub user: Uuid,
}

/// Who left which channel, and whether that deleted it.
pub struct Left {
    pub channel: Uuid,
    pub user: Uuid,
    pub deleted: bool,
}

impl Write for RemoveMember {
    /// `None` if `user` was not a member.
    type Output = Option<Left>;

    fn apply(self, conn: &Connection, now: Timestamp) -> Result<Self::Output, Refusal> {
        let seen = channels::seen_or_not_found(conn, &self.by, &self.channel)?;
        if seen.kind != Kind::Private {
            return Err(only_private());
        }
        if self.user != self.by && seen.owner != self.by {
            return Err(Refusal::Forbidden(
                "only the channel's owner may remove someone else".into(),
            ));
        }
        if !members::remove(conn, seen.seq, &self.user)? {
            return Ok(None);
        }
        let next = members::earliest(conn, seen.seq)?;
        match next {
            None => channels::delete(conn, &seen, now)?,
            Some(next) if seen.owner == self.user => members::hand_over(conn, seen.seq, &next)?,
            Some(_) => {}
        }
        Ok(Some(Left {
            channel: self.channel,
            user: self.user,
            deleted: next.is_none(),
        }))
    }

    fn events<'a>(left: &'a Self::Output, events: &mut Vec<Event<'a>>) {
        if let Some(left) = left {
            events.push(Event::MemberRemoved {
                channel: left.channel,
                user: left.user,
            });
            if left.deleted {
                events.push(Event::ChannelDeleted { id: left.channel });
            }
        }
    }

    fn after(left: &Self::Output) -> After {
        match left {
            Some(left) if left.deleted => After::Purge,
            _ => After::Nothing,
        }
    }
}

fn only_private() -> Refusal {
    Refusal::Invalid("only a private channel's members change".into())
}

/// Deletes channel `id`, if `by` owns it; its rows are purged later.
pub struct DeleteChannel {
    pub id: Uuid,
    pub by: Uuid,
}

impl Write for DeleteChannel {
    /// The deleted channel's id.
    type Output = Uuid;

    fn apply(self, conn: &Connection, now: Timestamp) -> Result<Uuid, Refusal> {
        channels::delete_owned(conn, &self.id, &self.by, now)?;
        Ok(self.id)
    }

    fn events<'a>(id: &'a Uuid, events: &mut Vec<Event<'a>>) {
        events.push(Event::ChannelDeleted { id: *id });
    }

    fn after(_: &Uuid) -> After {
        After::Purge
    }
}
