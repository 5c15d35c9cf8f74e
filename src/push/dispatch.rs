//! Who hears of a stored message: each account that may see its channel,
//! but its author, whose level there asks for it (`all`; `mentions` and
//! named in it), and who has no websocket open (a client that is
//! connected already shows it); each of their subscriptions gets it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use uuid::Uuid;

use super::slots::{Notification, Slots};
use crate::domain::channels::Kind;
use crate::domain::db::Db;
use crate::domain::error::{StoreError, chain};
use crate::domain::messages::Message;
use crate::domain::notifications::Level;
use crate::domain::push::{self, Recipient};
use crate::domain::users;
use crate::realtime::presence::Presence;

/// Characters of a message a push shows.
const TEXT: usize = 200;

/// Least time between two looks at the queue that found more than one
/// message: under a stream of messages, a channel's recipients are read
/// once per look, not once per message. A message alone goes at once.
const PACE: Duration = Duration::from_millis(100);

/// Most messages taken from the queue in one look.
const BATCH: usize = 1024;

/// What a push needs of a stored message.
pub struct Stored {
    channel: Uuid,
    message: Uuid,
    author: Uuid,
    text: String,
    mentions: Vec<Uuid>,
}

impl Stored {
    pub fn of(message: &Message) -> Stored {
        let text = if message.content.is_empty() {
            message
                .attachments
                .first()
                .map(|a| a.name.clone())
                .unwrap_or_default()
        } else {
            message.content.chars().take(TEXT).collect()
        };
        Stored {
            channel: message.channel,
            message: message.id,
            author: message.author,
            text,
            mentions: message.mentions.clone(),
        }
    }
}

/// Reads the queue until the server stops.
pub async fn run(
    mut queue: mpsc::Receiver<Stored>,
    db: Db,
    presence: Arc<Presence>,
    slots: Arc<Slots>,
) {
    while let Some(first) = queue.recv().await {
        let started = Instant::now();
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(stored) => batch.push(stored),
                Err(_) => break,
            }
        }
        let busy = batch.len() > 1;
        let mut channels: Vec<(Uuid, Vec<Stored>)> = Vec::new();
        for stored in batch {
            match channels.iter_mut().find(|(id, _)| *id == stored.channel) {
                Some((_, messages)) => messages.push(stored),
                None => channels.push((stored.channel, vec![stored])),
            }
        }
        for (channel, messages) in channels {
            if let Err(e) = notify(&db, &presence, &slots, channel, messages).await {
                tracing::warn!(cause = %chain(&e), "cannot work out a message's pushes");
            }
        }
        if busy {
            tokio::time::sleep_until(started + PACE).await;
        }
    }
}

/// Schedules the pushes of `messages`, all stored in `channel`.
async fn notify(
    db: &Db,
    presence: &Presence,
    slots: &Arc<Slots>,
    channel: Uuid,
    messages: Vec<Stored>,
) -> Result<(), StoreError> {
    let mut authors: Vec<Uuid> = messages.iter().map(|m| m.author).collect();
    authors.sort_unstable();
    authors.dedup();
    let found = db
        .run(move |conn| {
            let Some((channel, recipients)) = push::recipients(conn, &channel)? else {
                return Ok::<_, StoreError>(None);
            };
            let mut names = HashMap::new();
            for author in authors {
                if let Some(user) = users::load(conn, &author)? {
                    names.insert(author, user.name);
                }
            }
            Ok(Some((channel, recipients, names)))
        })
        .await?;
    let Some((info, recipients, names)) = found else {
        return Ok(());
    };
    for Recipient {
        user,
        level,
        subscription,
    } in recipients
    {
        let heard = messages.iter().rev().find(|m| {
            m.author != user
                && match level {
                    Level::All => true,
                    Level::Mentions => m.mentions.contains(&user),
                    Level::None => false,
                }
        });
        let Some(message) = heard else { continue };
        if presence.is_connected(&user) {
            continue;
        }
        let mentioned = message.mentions.contains(&user);
        slots.schedule(
            subscription,
            Notification {
                user,
                channel,
                channel_name: info.name.clone(),
                message: message.message,
                author: names.get(&message.author).cloned().unwrap_or_default(),
                text: message.text.clone(),
                urgent: mentioned || info.kind == Kind::Direct,
            },
        );
    }
    Ok(())
}
