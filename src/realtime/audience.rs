//! Whom each frame is for. The hub keeps, for every channel, who hears of
//! it: everyone for a public channel, its members for a private or direct
//! one. That is a copy of the membership the database holds, loaded at
//! start and changed only by the events that change it (`ChannelCreated`,
//! `MemberAdded`, `MemberRemoved`, `ChannelDeleted`), applied in the order
//! their transactions commit: a frame published after a `MemberRemoved`
//! never reaches the removed member. A channel it does not know reaches
//! nobody.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

/// Whom a frame is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Every authenticated connection.
    Everyone,
    /// One user's connections.
    Only(Uuid),
    /// Everyone's but one user's.
    AllBut(Uuid),
    /// The connections of these users (sorted).
    Members(Arc<[Uuid]>),
    /// The connections of these users (sorted) but one's.
    MembersBut(Arc<[Uuid]>, Uuid),
    /// No connection.
    Nobody,
}

impl Audience {
    /// Whether connections of `user` get the frame.
    pub fn includes(&self, user: &Uuid) -> bool {
        match self {
            Audience::Everyone => true,
            Audience::Only(only) => only == user,
            Audience::AllBut(other) => other != user,
            Audience::Members(members) => members.binary_search(user).is_ok(),
            Audience::MembersBut(members, other) => {
                other != user && members.binary_search(user).is_ok()
            }
            Audience::Nobody => false,
        }
    }

    /// This audience but `user`, as long as `user` is in it (else nobody:
    /// someone outside a channel says nothing in it).
    pub fn but(self, user: Uuid) -> Audience {
        match self {
            Audience::Everyone => Audience::AllBut(user),
            Audience::Members(members) if members.binary_search(&user).is_ok() => {
                Audience::MembersBut(members, user)
            }
            _ => Audience::Nobody,
        }
    }
}

/// Who hears of each channel.
#[derive(Default)]
pub struct Reaches(HashMap<Uuid, Option<Arc<[Uuid]>>>);

impl Reaches {
    /// The reaches of `channels`: each id with its members, `None` for a
    /// public channel.
    pub fn new(channels: impl IntoIterator<Item = (Uuid, Option<Vec<Uuid>>)>) -> Reaches {
        let mut reaches = Reaches::default();
        for (id, members) in channels {
            reaches.set(id, members);
        }
        reaches
    }

    /// Channel `id` now reaches `members`, or everyone for `None`.
    pub fn set(&mut self, id: Uuid, members: Option<Vec<Uuid>>) {
        self.0.insert(id, members.map(sorted));
    }

    /// Who hears of channel `id`.
    pub fn of(&self, id: &Uuid) -> Audience {
        match self.0.get(id) {
            Some(None) => Audience::Everyone,
            Some(Some(members)) => Audience::Members(members.clone()),
            None => Audience::Nobody,
        }
    }

    /// `user` joined channel `id`.
    pub fn add(&mut self, id: &Uuid, user: Uuid) {
        if let Some(Some(members)) = self.0.get_mut(id) {
            let mut more = members.to_vec();
            more.push(user);
            *members = sorted(more);
        }
    }

    /// `user` left channel `id`.
    pub fn remove(&mut self, id: &Uuid, user: &Uuid) {
        if let Some(Some(members)) = self.0.get_mut(id) {
            *members = members.iter().filter(|m| *m != user).copied().collect();
        }
    }

    /// Channel `id` is gone.
    pub fn forget(&mut self, id: &Uuid) {
        self.0.remove(id);
    }
}

fn sorted(mut members: Vec<Uuid>) -> Arc<[Uuid]> {
    members.sort_unstable();
    members.dedup();
    members.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_hear_of_their_channel_and_nobody_of_an_unknown_one() {
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let (public, private) = (Uuid::new_v4(), Uuid::new_v4());
        let mut reaches = Reaches::new([(public, None), (private, Some(vec![b, a]))]);
        assert_eq!(reaches.of(&public), Audience::Everyone);
        let members = reaches.of(&private);
        assert!(members.includes(&a) && members.includes(&b) && !members.includes(&c));
        assert!(!reaches.of(&Uuid::new_v4()).includes(&a));
        let typing = reaches.of(&private).but(a);
        assert!(!typing.includes(&a) && typing.includes(&b) && !typing.includes(&c));
        assert_eq!(reaches.of(&private).but(c), Audience::Nobody);
        reaches.add(&private, c);
        assert!(reaches.of(&private).includes(&c));
        reaches.remove(&private, &a);
        assert!(!reaches.of(&private).includes(&a));
        reaches.forget(&private);
        assert_eq!(reaches.of(&private), Audience::Nobody);
    }
}
