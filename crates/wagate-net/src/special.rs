//! The special-purpose address ranges (IANA's registries, RFC 6890 and
//! successors) that a tenant's URL must not reach: the gateway's own host,
//! its private network, the cloud metadata service, and addresses that are
//! not meant to be dialled at all.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::cidr::Cidr;

/// Why an address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    Unspecified,
    ThisNetwork,
    Loopback,
    Private,
    SharedAddressSpace,
    LinkLocal,
    CloudMetadata,
    ProtocolAssignments,
    Documentation,
    SixToFourRelay,
    Benchmarking,
    Multicast,
    Reserved,
    Broadcast,
    UniqueLocal,
    SiteLocal,
    DiscardOnly,
    Teredo,
    LocalNat64,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Unspecified => "the unspecified address",
            Reason::ThisNetwork => "a \"this network\" address (0.0.0.0/8)",
            Reason::Loopback => "a loopback address",
            Reason::Private => "a private address",
            Reason::SharedAddressSpace => "a carrier-grade NAT address (100.64.0.0/10)",
            Reason::LinkLocal => "a link-local address",
            Reason::CloudMetadata => "the cloud metadata service address",
            Reason::ProtocolAssignments => "an IETF protocol assignment address (192.0.0.0/24)",
            Reason::Documentation => "a documentation address",
            Reason::SixToFourRelay => "a 6to4 relay anycast address",
            Reason::Benchmarking => "a benchmarking address",
            Reason::Multicast => "a multicast address",
            Reason::Reserved => "a reserved address (240.0.0.0/4)",
            Reason::Broadcast => "the broadcast address",
            Reason::UniqueLocal => "a unique local address (fc00::/7)",
            Reason::SiteLocal => "a site-local address (fec0::/10)",
            Reason::DiscardOnly => "a discard-only address (100::/64)",
            Reason::Teredo => "a Teredo tunnel address (2001::/32)",
            Reason::LocalNat64 => "a local-use NAT64 address (64:ff9b:1::/48)",
        })
    }
}

/// IPv6 forms that carry an IPv4 address the packets end up at; the
/// IPv4 address is what gets judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Embedding {
    /// `::ffff:a.b.c.d` — a dual-stack socket dials `a.b.c.d` itself.
    Mapped,
    /// `::a.b.c.d` (deprecated, but still parsed by resolvers).
    Compatible,
    /// `64:ff9b::a.b.c.d`, translated to IPv4 by a NAT64 gateway.
    Nat64,
    /// `2002:aabb:ccdd::/48`, tunnelled to `aa.bb.cc.dd`.
    SixToFour,
}

impl fmt::Display for Embedding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Embedding::Mapped => "an IPv4-mapped address",
            Embedding::Compatible => "an IPv4-compatible address",
            Embedding::Nat64 => "a NAT64 address",
            Embedding::SixToFour => "a 6to4 address",
        })
    }
}

/// What an address is, before any allow-list is consulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Global,
    Special(Reason),
    Embeds(Embedding, Ipv4Addr),
}

// First match wins, so single addresses come before the blocks holding them.
const V4_RANGES: &[(Cidr, Reason)] = &[
    (Cidr::v4(Ipv4Addr::UNSPECIFIED, 32), Reason::Unspecified),
    (Cidr::v4(Ipv4Addr::BROADCAST, 32), Reason::Broadcast),
    (
        Cidr::v4(Ipv4Addr::new(169, 254, 169, 254), 32),
        Reason::CloudMetadata,
    ),
    (Cidr::v4(Ipv4Addr::new(0, 0, 0, 0), 8), Reason::ThisNetwork),
    (Cidr::v4(Ipv4Addr::new(10, 0, 0, 0), 8), Reason::Private),
    (
        Cidr::v4(Ipv4Addr::new(100, 64, 0, 0), 10),
        Reason::SharedAddressSpace,
    ),
    (Cidr::v4(Ipv4Addr::new(127, 0, 0, 0), 8), Reason::Loopback),
    (
        Cidr::v4(Ipv4Addr::new(169, 254, 0, 0), 16),
        Reason::LinkLocal,
    ),
    (Cidr::v4(Ipv4Addr::new(172, 16, 0, 0), 12), Reason::Private),
    (
        Cidr::v4(Ipv4Addr::new(192, 0, 0, 0), 24),
        Reason::ProtocolAssignments,
    ),
    (
        Cidr::v4(Ipv4Addr::new(192, 0, 2, 0), 24),
        Reason::Documentation,
    ),
    (
        Cidr::v4(Ipv4Addr::new(192, 88, 99, 0), 24),
        Reason::SixToFourRelay,
    ),
    (Cidr::v4(Ipv4Addr::new(192, 168, 0, 0), 16), Reason::Private),
    (
        Cidr::v4(Ipv4Addr::new(198, 18, 0, 0), 15),
        Reason::Benchmarking,
    ),
    (
        Cidr::v4(Ipv4Addr::new(198, 51, 100, 0), 24),
        Reason::Documentation,
    ),
    (
        Cidr::v4(Ipv4Addr::new(203, 0, 113, 0), 24),
        Reason::Documentation,
    ),
    (Cidr::v4(Ipv4Addr::new(224, 0, 0, 0), 4), Reason::Multicast),
    (Cidr::v4(Ipv4Addr::new(240, 0, 0, 0), 4), Reason::Reserved),
];

// The forms that embed IPv4 are handled before this table (see `embedded_v4`).
const V6_RANGES: &[(Cidr, Reason)] = &[
    (Cidr::v6(Ipv6Addr::UNSPECIFIED, 128), Reason::Unspecified),
    (Cidr::v6(Ipv6Addr::LOCALHOST, 128), Reason::Loopback),
    // AWS's IPv6 metadata endpoint; it sits inside fc00::/7.
    (
        Cidr::v6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254), 128),
        Reason::CloudMetadata,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48),
        Reason::LocalNat64,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64),
        Reason::DiscardOnly,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32),
        Reason::Teredo,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48),
        Reason::Benchmarking,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
        Reason::Documentation,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20),
        Reason::Documentation,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
        Reason::UniqueLocal,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
        Reason::LinkLocal,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10),
        Reason::SiteLocal,
    ),
    (
        Cidr::v6(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
        Reason::Multicast,
    ),
];

pub(crate) fn classify(ip: IpAddr) -> Class {
    let table = match ip {
        IpAddr::V4(_) => V4_RANGES,
        IpAddr::V6(v6) => {
            if let Some((embedding, v4)) = embedded_v4(v6) {
                return Class::Embeds(embedding, v4);
            }
            V6_RANGES
        }
    };
    table
        .iter()
        .find(|(range, _)| range.contains(ip))
        .map_or(Class::Global, |(_, reason)| Class::Special(*reason))
}

fn embedded_v4(ip: Ipv6Addr) -> Option<(Embedding, Ipv4Addr)> {
    let [.., a, b, c, d] = ip.octets();
    let low32 = Ipv4Addr::new(a, b, c, d);
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some((Embedding::Mapped, low32)),
        // `::` and `::1` are addresses of their own, not 0.0.0.0 and 0.0.0.1.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, _, _] => Some((Embedding::Compatible, low32)),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some((Embedding::Nat64, low32)),
        [0x2002, high, low, ..] => Some((
            Embedding::SixToFour,
            Ipv4Addr::from_bits(u32::from(high) << 16 | u32::from(low)),
        )),
        _ => None,
    }
}
