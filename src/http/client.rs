//! Who the client is: the connection's peer, unless the peer is a trusted
//! reverse proxy; then the rightmost address of `X-Forwarded-For` that is
//! not itself a trusted proxy (docs/API.md, Client addresses). Headers from
//! anyone else are ignored, so no client can choose its own address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use warp::http::HeaderMap;

/// A range of addresses, `192.0.2.0/24` or `2001:db8::/32` (a bare address
/// is the range of just that address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    bits: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Cidr, String> {
        let invalid = || format!("{text:?} is not an address range like 192.0.2.0/24 or ::1/128");
        let (address, bits) = match text.trim().split_once('/') {
            Some((address, bits)) => (address, Some(bits)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address.parse().map_err(|_| invalid())?;
        let most = if network.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(bits) => bits
                .parse()
                .ok()
                .filter(|b| *b <= most)
                .ok_or_else(invalid)?,
            None => most,
        };
        Ok(Cidr { network, bits })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.bits)
    }
}

impl Cidr {
    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as
    /// its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.bits)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.bits))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client of a request from `peer` with `headers`, given the trusted
/// proxies.
pub fn client(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|range| range.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Every X-Forwarded-For header, in order, as one list; read from the
    // right, where the trusted proxies appended what they saw. Read as
    // bytes: what a client put further left (a byte that is not text, say)
    // must not hide what the proxies appended.
    let forwarded: Vec<&[u8]> = headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .collect();
    for hop in forwarded.iter().rev() {
        match address(hop) {
            Some(ip) if is_trusted(ip) => continue,
            Some(ip) => return ip.to_canonical(),
            // Not an address: whatever is left of it was made up.
            None => return peer,
        }
    }
    peer
}

/// One entry of `X-Forwarded-For`: an address, with or without a port
/// (`203.0.113.9:5555`, `[2001:db8::1]:443`).
fn address(hop: &[u8]) -> Option<IpAddr> {
    let hop = std::str::from_utf8(hop.trim_ascii()).ok()?;
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

#[cfg(test)]
mod tests {
    use warp::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn parses_and_matches_ranges() {
        let range: Cidr = "192.0.2.0/24".parse().unwrap();
        assert!(range.contains(ip("192.0.2.200")));
        assert!(range.contains(ip("::ffff:192.0.2.1")));
        assert!(!range.contains(ip("192.0.3.1")));
        assert!("10.0.0.1".parse::<Cidr>().unwrap().contains(ip("10.0.0.1")));
        assert!(
            "0.0.0.0/0"
                .parse::<Cidr>()
                .unwrap()
                .contains(ip("203.0.113.9"))
        );
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:1::1")) && !v6.contains(ip("2001:db9::1")));
        for bad in ["", "192.0.2.0/33", "::/129", "nope/8", "192.0.2.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
        assert_eq!(range.to_string(), "192.0.2.0/24");
    }

    #[test]
    fn reads_forwarded_for_only_from_trusted_proxies() {
        let trusted: Vec<Cidr> = vec![
            "127.0.0.2/32".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
        let proxy = ip("127.0.0.2");
        let client = |peer, values: &[&str]| super::client(peer, &headers(values), &trusted);
        assert_eq!(client(proxy, &["203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            client(proxy, &["6.6.6.6, 203.0.113.9"]),
            ip("203.0.113.9"),
            "spoofed chain"
        );
        assert_eq!(
            client(proxy, &["203.0.113.9, 10.1.2.3"]),
            ip("203.0.113.9"),
            "two proxies"
        );
        assert_eq!(
            client(proxy, &["6.6.6.6", "203.0.113.9"]),
            ip("203.0.113.9"),
            "two headers"
        );
        assert_eq!(client(proxy, &["garbage, 203.0.113.9"]), ip("203.0.113.9"));
        assert_eq!(
            client(proxy, &["203.0.113.9, garbage"]),
            proxy,
            "broken chain"
        );
        assert_eq!(client(proxy, &["203.0.113.9:5555"]), ip("203.0.113.9"));
        assert_eq!(client(proxy, &["[2001:db8::1]:443"]), ip("2001:db8::1"));
        let mut raw = HeaderMap::new();
        raw.append(
            "x-forwarded-for",
            HeaderValue::from_bytes(b"\xff, 203.0.113.9").unwrap(),
        );
        assert_eq!(
            super::client(proxy, &raw, &trusted),
            ip("203.0.113.9"),
            "a byte that is not text, left of the proxy's entry"
        );
        assert_eq!(client(proxy, &[]), proxy);
        assert_eq!(client(proxy, &["10.0.0.1"]), proxy, "only proxies");
        assert_eq!(
            client(ip("127.0.0.1"), &["203.0.113.9"]),
            ip("127.0.0.1"),
            "untrusted peer"
        );
    }
}
