//! How the HTTP server treats its clients, as options: what one may hold
//! of it, and which peers are proxies to be believed.

use std::time::Duration;

use super::client::Cidr;

/// Open connections from one address, websockets included: ten people
/// behind one address, each with a few tabs and apps, fit; a script
/// holding thousands does not.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 64;
/// Deadline for a request's headers (and the keep-alive idle time), for
/// its body, and for a write the client leaves waiting.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How the server treats its clients: what one may hold of it, and which
/// peers are proxies to be believed about who the client is.
#[derive(Clone, Debug, clap::Args)]
pub struct Options {
    /// A client must send a request's line and headers within this, from
    /// the accept for the first request and from the end of the previous
    /// response for the next (so it is also the keep-alive idle timeout).
    /// A write the client leaves waiting this long closes the connection.
    #[arg(skip = REQUEST_TIMEOUT)]
    pub header_timeout: Duration,
    /// A request's body must have arrived this long after its headers.
    #[arg(skip = REQUEST_TIMEOUT)]
    pub body_timeout: Duration,
    /// Open connections from one address, websockets included (0: no limit).
    /// Connections from a trusted proxy are not counted: behind it, every
    /// client shares its address.
    #[arg(long = "max-connections-per-address", env = "AZUMA_MAX_CONNECTIONS_PER_ADDRESS",
          default_value_t = MAX_CONNECTIONS_PER_ADDRESS, value_name = "COUNT")]
    pub per_address: usize,
    /// A reverse proxy (e.g. 127.0.0.1/32) whose X-Forwarded-For names the client;
    /// repeat it (or separate with commas) for several. Without it, no header is believed.
    #[arg(
        long = "trusted-proxy",
        env = "AZUMA_TRUSTED_PROXY",
        value_delimiter = ',',
        value_name = "RANGE"
    )]
    pub trusted_proxies: Vec<Cidr>,
}
