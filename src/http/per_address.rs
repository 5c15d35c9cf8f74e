//! The cap on open connections per client address, websockets included,
//! and the polite refusal of a connection over it.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::sync::lock;

/// Open connections per client address (an IPv6 address counts as its /64:
/// one host usually has a whole one).
#[derive(Clone, Default)]
pub struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

/// One connection's place in its address's count, given back when the last
/// clone is dropped: by the connection task, or by the websocket that the
/// connection was upgraded to.
#[derive(Clone)]
pub struct Held {
    /// Kept for its `Drop`; `None` when there is no cap.
    _place: Option<Arc<HeldInner>>,
}

struct HeldInner {
    table: PerAddress,
    key: IpAddr,
}

impl PerAddress {
    /// A place for a connection from `ip`, if its address has one of `max`
    /// left; with `max` 0, always (and nothing is counted).
    pub fn enter(&self, ip: IpAddr, max: usize) -> Option<Held> {
        if max == 0 {
            return Some(Held { _place: None });
        }
        let key = match ip.to_canonical() {
            IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from_bits(v6.to_bits() & !((1u128 << 64) - 1))),
            v4 => v4,
        };
        let mut table = lock(&self.0);
        let open = table.entry(key).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        let place = HeldInner {
            table: self.clone(),
            key,
        };
        Some(Held {
            _place: Some(Arc::new(place)),
        })
    }
}

impl Drop for HeldInner {
    fn drop(&mut self) {
        let mut table = lock(&self.table.0);
        if let Some(open) = table.get_mut(&self.key) {
            *open -= 1;
            if *open == 0 {
                table.remove(&self.key);
            }
        }
    }
}

/// The answer to a connection over its address's cap.
static REFUSAL: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body =
        r#"{"message":"TOO_MANY_REQUESTS","detail":"too many open connections from this address"}"#;
    format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
         retry-after: 10\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// Answers 429 without reading the request, then closes: the write side at
/// once, the socket after reading what the client sent (a little of it, for
/// a short time), lest closing with unread input reset the connection and
/// destroy the answer before the client reads it.
pub async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        stream.write_all(&REFUSAL).await?;
        stream.shutdown().await?;
        let mut scratch = [0; 4096];
        let mut budget = 64 * 1024;
        while budget > 0 {
            match stream.read(&mut scratch).await? {
                0 => break,
                n => budget -= n.min(budget),
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address_and_gives_places_back() {
        let table = PerAddress::default();
        let a = IpAddr::from([192, 0, 2, 1]);
        let first = table.enter(a, 2).unwrap();
        let second = table.enter(a, 2).unwrap();
        assert!(table.enter(a, 2).is_none());
        assert!(table.enter(IpAddr::from([192, 0, 2, 2]), 2).is_some());
        let upgraded = second.clone();
        drop(second);
        assert!(table.enter(a, 2).is_none(), "a clone still holds the place");
        drop(upgraded);
        assert!(table.enter(a, 2).is_some());
        drop(first);
        assert!(table.enter(a, 0).is_some(), "0 lifts the cap");
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64() {
        let table = PerAddress::default();
        let one: IpAddr = "2001:db8::1".parse().unwrap();
        let other: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        let _held = table.enter(one, 1).unwrap();
        assert!(table.enter(other, 1).is_none());
        assert!(table.enter("2001:db8:0:1::1".parse().unwrap(), 1).is_some());
    }
}
