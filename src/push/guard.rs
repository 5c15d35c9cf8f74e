//! No requests where they don't belong: a push endpoint is a URL that any
//! user chooses, so the server must never be made to call into the
//! owner's LAN, its own loopback or a cloud's metadata address. An
//! endpoint must be `https://` to a host whose addresses are all public;
//! the addresses are checked when a subscription is made and again by the
//! client's resolver on every connection, and the connection is made to
//! the addresses that were checked, so a name that changes its answers
//! (DNS rebinding) gets nowhere. `--push-allow-host` names the exceptions.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A host (and maybe port) that pushes may go to, whatever its addresses
/// and over plain `http://` too: a self-hosted push service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost {
    /// The host, lowercase, IPv6 without brackets.
    host: String,
    /// The port, or any.
    port: Option<u16>,
}

/// Parses `HOST` or `HOST:PORT` (IPv6 in brackets), as `--push-allow-host`
/// takes it.
pub fn parse_allowed(raw: &str) -> Result<AllowedHost, String> {
    let bad = || format!("{raw:?} is not HOST or HOST:PORT");
    let raw = raw.trim();
    let (host, port) = match raw.strip_prefix('[') {
        Some(bracketed) => {
            let (host, rest) = bracketed.split_once(']').ok_or_else(bad)?;
            host.parse::<std::net::Ipv6Addr>().map_err(|_| bad())?;
            match rest {
                "" => (host, None),
                _ => (host, Some(rest.strip_prefix(':').ok_or_else(bad)?)),
            }
        }
        None => match raw.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (raw, None),
        },
    };
    let port = port
        .map(|p| p.parse::<u16>().map_err(|_| bad()))
        .transpose()?;
    let name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':');
    if host.is_empty() || !host.chars().all(name_char) {
        return Err(bad());
    }
    Ok(AllowedHost {
        host: host.to_ascii_lowercase(),
        port,
    })
}

fn unbracketed(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

/// Why an endpoint is refused.
#[derive(Debug)]
pub enum Refused {
    /// Not a URL this server sends pushes to (scheme, host, port).
    Url(String),
    /// Its host cannot be resolved.
    Unresolved(String),
    /// One of its addresses is not public.
    Address(IpAddr),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Url(why) => f.write_str(why),
            Refused::Unresolved(host) => write!(f, "{host} cannot be resolved"),
            Refused::Address(ip) => write!(f, "{ip} is not a public address"),
        }
    }
}

impl std::error::Error for Refused {}

/// What decides where pushes may go.
#[derive(Clone, Debug, Default)]
pub struct Guard {
    allowed: Arc<Vec<AllowedHost>>,
}

impl Guard {
    pub fn new(allowed: Vec<AllowedHost>) -> Guard {
        Guard {
            allowed: Arc::new(allowed),
        }
    }

    /// Whether `host` (lowercase) at `port` was allowed by name.
    fn allows(&self, host: &str, port: u16) -> bool {
        self.allowed
            .iter()
            .any(|a| a.host == host && a.port.is_none_or(|p| p == port))
    }

    /// Checks `url`'s form: `https://` (or an allowed host), no user info,
    /// a host. An IP address given as the host is checked here, since no
    /// resolver sees it.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let host = url
            .host_str()
            .map(|h| unbracketed(h).to_ascii_lowercase())
            .ok_or_else(|| Refused::Url("the endpoint has no host".into()))?;
        let port = url.port_or_known_default().unwrap_or(0);
        let allowed = self.allows(&host, port);
        // An allowed name reaches any of its addresses, so only on the
        // ports it was allowed with.
        if !allowed && self.allowed.iter().any(|a| a.host == host) {
            return Err(Refused::Url("not a port pushes may go to".into()));
        }
        match url.scheme() {
            "https" => {}
            "http" if allowed => {}
            _ => return Err(Refused::Url("the endpoint must be https://".into())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused::Url(
                "the endpoint must not carry credentials".into(),
            ));
        }
        if let Ok(ip) = host.parse::<IpAddr>()
            && !allowed
            && !is_public(ip)
        {
            return Err(Refused::Address(ip));
        }
        Ok(())
    }

    /// Checks `url` and every address its host has now: the check made
    /// when a subscription is taken.
    pub async fn check(&self, url: &Url) -> Result<(), Refused> {
        self.check_url(url)?;
        let Some(host) = url.host_str() else {
            return Err(Refused::Url("the endpoint has no host".into()));
        };
        if unbracketed(host).parse::<IpAddr>().is_ok() {
            return Ok(());
        }
        self.resolve_checked(host.to_ascii_lowercase())
            .await
            .map(drop)
    }

    /// The addresses of `host`, if every one may be called.
    async fn resolve_checked(&self, host: String) -> Result<Vec<SocketAddr>, Refused> {
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
            .await
            .map_err(|_| Refused::Unresolved(host.clone()))?
            .collect();
        if found.is_empty() {
            return Err(Refused::Unresolved(host));
        }
        // An allowed name may have any address; its port was checked with
        // the URL (`check_url`) before any connection.
        if !self.allowed.iter().any(|a| a.host == host)
            && let Some(bad) = found.iter().find(|a| !is_public(a.ip()))
        {
            return Err(Refused::Address(bad.ip()));
        }
        Ok(found)
    }
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.clone();
        let host = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            let addrs = guard.resolve_checked(host).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is an address of the public internet: not loopback,
/// private, shared (CGNAT), link-local (cloud metadata lives there),
/// multicast, documentation, benchmarking, reserved or unspecified, in
/// IPv4 or in any IPv6 form that embeds IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // Only global unicast (2000::/3) is public, less the ranges in it that
    // embed IPv4 (6to4, Teredo) or are for documentation and benchmarks.
    (s[0] & 0xe000) == 0x2000
        && s[0] != 0x2002 // 6to4
        && !(s[0] == 0x2001 && s[1] == 0) // Teredo
        && !(s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        && !(s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0) // benchmarking
        && !(s[0] == 0x2001 && s[1] < 0x0200) // other IETF assignments
        && s[0] != 0x3fff // documentation (RFC 9637)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "192.0.2.1",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2002:7f00:1::",
            "2001:db8::1",
            "2001::1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = private.parse().unwrap();
            assert!(!is_public(ip), "{private} is not public");
        }
        for public in ["1.1.1.1", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(is_public(ip), "{public} is public");
        }
    }

    #[test]
    fn urls_are_https_to_public_hosts_unless_allowed() {
        let guard = Guard::new(vec![parse_allowed("127.0.0.1:8443").unwrap()]);
        let ok = |u: &str| guard.check_url(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("https://push.example.com/abc"));
        assert!(!ok("http://push.example.com/abc"));
        assert!(!ok("https://127.0.0.1/abc"));
        assert!(ok("http://127.0.0.1:8443/abc"));
        assert!(!ok("http://127.0.0.1:8444/abc"));
        let named = Guard::new(vec![parse_allowed("push.lan:8443").unwrap()]);
        let ok = |u: &str| named.check_url(&Url::parse(u).unwrap()).is_ok();
        assert!(ok("https://push.lan:8443/x"));
        assert!(ok("http://push.lan:8443/x"));
        assert!(
            !ok("https://push.lan:22/x"),
            "an allowed name on another port"
        );
        assert!(!ok("https://push.lan/x"));
        assert!(!ok("https://[::1]/abc"));
        assert!(!ok("https://user:pw@push.example.com/"));
        assert!(!ok("ftp://push.example.com/"));
        assert!(!ok("https://169.254.169.254/latest/meta-data"));
        assert_eq!(
            parse_allowed("[::1]:80").unwrap(),
            AllowedHost {
                host: "::1".into(),
                port: Some(80)
            }
        );
        assert!(parse_allowed("host/path").is_err());
        assert!(parse_allowed("host:99999").is_err());
        assert!(parse_allowed("[::1").is_err());
        assert_eq!(parse_allowed("Push.LAN").unwrap().port, None);
    }
}
