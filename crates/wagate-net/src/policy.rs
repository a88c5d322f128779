//! Which addresses the gateway may call: everything public, plus whatever
//! special-purpose address the operator allow-lists (a webhook receiver on
//! the same host, a media store on the private network).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use crate::cidr::Cidr;
use crate::special::{self, Class, Embedding, Reason};

/// The address filter for outbound calls, built once from configuration.
///
/// The default refuses every special-purpose address and allows none.
/// `["0.0.0.0/0", "::/0"]` turns the filter off (for development only).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    allowed: Vec<Cidr>,
}

/// An allow-list entry that is neither an IP address nor a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "allowed address {entry:?} is not an IP address or CIDR block \
     (expected e.g. \"10.0.0.0/8\" or \"127.0.0.1\"): {problem}"
)]
pub struct PolicyError {
    /// The entry as configured.
    pub entry: String,
    problem: String,
}

/// An address the policy will not call, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    address: IpAddr,
    reason: Reason,
    embedded: Option<(Embedding, Ipv4Addr)>,
}

impl AddressPolicy {
    /// Parses the operator's allow-list: IP addresses and CIDR blocks, v4
    /// or v6. Fails on the first entry that is neither.
    pub fn from_allow_list<I, S>(entries: I) -> Result<Self, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let allowed = entries
            .into_iter()
            .map(|entry| {
                let entry = entry.as_ref();
                Cidr::parse(entry).map_err(|problem| PolicyError {
                    entry: entry.to_owned(),
                    problem,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(AddressPolicy { allowed })
    }

    /// Allows public addresses and allow-listed ones; refuses the rest.
    ///
    /// An IPv6 form that embeds an IPv4 address (mapped, compatible, NAT64,
    /// 6to4) is judged by the IPv4 address, allow-list included, because
    /// that is where the connection ends up.
    pub fn check_ip(&self, address: IpAddr) -> Result<(), Refused> {
        if self.allows(address) {
            return Ok(());
        }
        match special::classify(address) {
            Class::Global => Ok(()),
            Class::Special(reason) => Err(Refused {
                address,
                reason,
                embedded: None,
            }),
            Class::Embeds(embedding, v4) => {
                self.check_ip(IpAddr::V4(v4)).map_err(|inner| Refused {
                    address,
                    reason: inner.reason,
                    embedded: Some((embedding, v4)),
                })
            }
        }
    }

    fn allows(&self, address: IpAddr) -> bool {
        self.allowed.iter().any(|block| block.contains(address))
    }
}

impl Refused {
    /// The address as it was given (for an embedding, the IPv6 form).
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// Why the address (or the IPv4 address it embeds) is refused.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// The IPv4 address inside an IPv6 form, when that was what was judged.
    pub fn embedded(&self) -> Option<(Embedding, Ipv4Addr)> {
        self.embedded
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.embedded {
            None => write!(f, "{} is {}", self.address, self.reason),
            Some((embedding, v4)) => write!(
                f,
                "{} is {embedding} of {v4}, {}",
                self.address, self.reason
            ),
        }
    }
}

impl std::error::Error for Refused {}

#[cfg(test)]
mod tests;
