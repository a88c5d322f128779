//! Address blocks written as CIDR: the special-purpose ranges and the
//! operator's allow-list share this one type.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A block of addresses of one family; host bits are kept cleared so two
/// spellings of one block compare equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cidr {
    V4 { bits: u32, prefix: u8 },
    V6 { bits: u128, prefix: u8 },
}

impl Cidr {
    /// For constant tables; the caller writes the network address itself.
    pub(crate) const fn v4(network: Ipv4Addr, prefix: u8) -> Self {
        Cidr::V4 {
            bits: network.to_bits(),
            prefix,
        }
    }

    pub(crate) const fn v6(network: Ipv6Addr, prefix: u8) -> Self {
        Cidr::V6 {
            bits: network.to_bits(),
            prefix,
        }
    }

    /// The block holding exactly one address.
    pub(crate) fn single(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(ip) => Cidr::v4(ip, 32),
            IpAddr::V6(ip) => Cidr::v6(ip, 128),
        }
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (*self, ip) {
            (Cidr::V4 { bits, prefix }, IpAddr::V4(ip)) => {
                let mask = mask32(prefix);
                bits & mask == ip.to_bits() & mask
            }
            (Cidr::V6 { bits, prefix }, IpAddr::V6(ip)) => {
                let mask = mask128(prefix);
                bits & mask == ip.to_bits() & mask
            }
            _ => false,
        }
    }

    /// Parses `10.0.0.0/8`, `fd00::/8`, or a bare address (a block of one).
    /// Host bits after the prefix are dropped: `10.1.2.3/8` is `10.0.0.0/8`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let ip: IpAddr = address
            .parse()
            .map_err(|_| format!("{address:?} is not an IP address"))?;
        let Some(prefix) = prefix else {
            return Ok(Cidr::single(ip));
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let prefix: u8 =
            prefix.parse().ok().filter(|p| *p <= max).ok_or_else(|| {
                format!("prefix length {prefix:?} is not a number from 0 to {max}")
            })?;
        Ok(match ip {
            IpAddr::V4(ip) => Cidr::V4 {
                bits: ip.to_bits() & mask32(prefix),
                prefix,
            },
            IpAddr::V6(ip) => Cidr::V6 {
                bits: ip.to_bits() & mask128(prefix),
                prefix,
            },
        })
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses_only() {
        let private = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.255.0.1")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(
            !private.contains(ip("::ffff:10.0.0.1")),
            "families never mix"
        );

        let ula = Cidr::parse("fc00::/7").unwrap();
        assert!(ula.contains(ip("fd12::1")));
        assert!(!ula.contains(ip("fe80::1")));
    }

    #[test]
    fn zero_and_full_prefixes() {
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains(ip("203.0.113.9"))
        );
        assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
        let one = Cidr::parse("127.0.0.1").unwrap();
        assert_eq!(one, Cidr::parse("127.0.0.1/32").unwrap());
        assert!(!one.contains(ip("127.0.0.2")));
    }

    #[test]
    fn host_bits_are_dropped() {
        assert_eq!(
            Cidr::parse("10.1.2.3/8").unwrap(),
            Cidr::parse("10.0.0.0/8").unwrap()
        );
    }

    #[test]
    fn bad_entries_say_what_is_wrong() {
        assert_eq!(
            Cidr::parse("10.0.0/8").unwrap_err(),
            "\"10.0.0\" is not an IP address"
        );
        assert_eq!(
            Cidr::parse("10.0.0.0/33").unwrap_err(),
            "prefix length \"33\" is not a number from 0 to 32"
        );
        assert!(Cidr::parse("example.com").is_err());
        assert!(Cidr::parse("::1/129").is_err());
        assert!(Cidr::parse("10.0.0.0/").is_err());
    }
}
