use std::net::IpAddr;

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn refusal(policy: &AddressPolicy, text: &str) -> Option<Reason> {
    policy
        .check_ip(ip(text))
        .err()
        .map(|refused| refused.reason())
}

#[test]
fn special_ipv4_ranges_are_refused() {
    let policy = AddressPolicy::default();
    let table = [
        ("0.0.0.0", Reason::Unspecified),
        ("0.1.2.3", Reason::ThisNetwork),
        ("10.0.0.1", Reason::Private),
        ("10.255.255.255", Reason::Private),
        ("100.64.0.1", Reason::SharedAddressSpace),
        ("100.127.255.254", Reason::SharedAddressSpace),
        ("127.0.0.1", Reason::Loopback),
        ("127.255.0.9", Reason::Loopback),
        ("169.254.0.1", Reason::LinkLocal),
        ("169.254.169.254", Reason::CloudMetadata),
        ("172.16.0.1", Reason::Private),
        ("172.31.255.255", Reason::Private),
        ("192.0.0.8", Reason::ProtocolAssignments),
        ("192.0.2.10", Reason::Documentation),
        ("192.88.99.1", Reason::SixToFourRelay),
        ("192.168.1.1", Reason::Private),
        ("198.18.0.1", Reason::Benchmarking),
        ("198.19.255.1", Reason::Benchmarking),
        ("198.51.100.7", Reason::Documentation),
        ("203.0.113.7", Reason::Documentation),
        ("224.0.0.1", Reason::Multicast),
        ("239.255.255.250", Reason::Multicast),
        ("240.0.0.1", Reason::Reserved),
        ("255.255.255.255", Reason::Broadcast),
    ];
    for (address, reason) in table {
        assert_eq!(refusal(&policy, address), Some(reason), "{address}");
    }
}

#[test]
fn special_ipv6_ranges_are_refused() {
    let policy = AddressPolicy::default();
    let table = [
        ("::", Reason::Unspecified),
        ("::1", Reason::Loopback),
        ("fc00::1", Reason::UniqueLocal),
        ("fd12:3456::1", Reason::UniqueLocal),
        ("fd00:ec2::254", Reason::CloudMetadata),
        ("fe80::1", Reason::LinkLocal),
        ("febf::1", Reason::LinkLocal),
        ("fec0::1", Reason::SiteLocal),
        ("ff02::1", Reason::Multicast),
        ("100::1", Reason::DiscardOnly),
        ("2001::1", Reason::Teredo),
        ("2001:0:4136:e378::1", Reason::Teredo),
        ("2001:2::1", Reason::Benchmarking),
        ("2001:db8::1", Reason::Documentation),
        ("3fff::1", Reason::Documentation),
        ("64:ff9b:1::a00:1", Reason::LocalNat64),
    ];
    for (address, reason) in table {
        assert_eq!(refusal(&policy, address), Some(reason), "{address}");
    }
}

#[test]
fn ipv6_forms_are_judged_by_the_ipv4_they_embed() {
    let policy = AddressPolicy::default();
    let table = [
        (
            "::ffff:127.0.0.1",
            Embedding::Mapped,
            "127.0.0.1",
            Reason::Loopback,
        ),
        (
            "::ffff:a9fe:a9fe",
            Embedding::Mapped,
            "169.254.169.254",
            Reason::CloudMetadata,
        ),
        (
            "::10.0.0.1",
            Embedding::Compatible,
            "10.0.0.1",
            Reason::Private,
        ),
        (
            "64:ff9b::7f00:1",
            Embedding::Nat64,
            "127.0.0.1",
            Reason::Loopback,
        ),
        (
            "64:ff9b::192.168.0.1",
            Embedding::Nat64,
            "192.168.0.1",
            Reason::Private,
        ),
        (
            "2002:7f00:1::1",
            Embedding::SixToFour,
            "127.0.0.1",
            Reason::Loopback,
        ),
        (
            "2002:a9fe:a9fe::",
            Embedding::SixToFour,
            "169.254.169.254",
            Reason::CloudMetadata,
        ),
    ];
    for (address, embedding, v4, reason) in table {
        let refused = policy.check_ip(ip(address)).unwrap_err();
        assert_eq!(refused.address(), ip(address));
        assert_eq!(refused.reason(), reason, "{address}");
        assert_eq!(
            refused.embedded(),
            Some((embedding, v4.parse().unwrap())),
            "{address}"
        );
    }
}

#[test]
fn public_addresses_are_allowed() {
    let policy = AddressPolicy::default();
    for address in [
        "1.1.1.1",
        "8.8.8.8",
        "93.184.215.14",
        "100.63.255.255",
        "100.128.0.1",
        "172.15.255.255",
        "172.32.0.1",
        "192.0.1.1",
        "198.17.255.255",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert_eq!(policy.check_ip(ip(address)), Ok(()), "{address}");
    }
}

#[test]
fn the_allow_list_admits_addresses_and_blocks() {
    let policy = AddressPolicy::from_allow_list(["127.0.0.1/32", "10.0.0.0/8", "fd00::1"]).unwrap();
    assert_eq!(policy.check_ip(ip("127.0.0.1")), Ok(()));
    assert_eq!(refusal(&policy, "127.0.0.2"), Some(Reason::Loopback));
    assert_eq!(policy.check_ip(ip("10.20.30.40")), Ok(()));
    assert_eq!(refusal(&policy, "192.168.0.1"), Some(Reason::Private));
    assert_eq!(policy.check_ip(ip("fd00::1")), Ok(()));
    assert_eq!(refusal(&policy, "fd00::2"), Some(Reason::UniqueLocal));
    // The embedded IPv4 address is looked up in the allow-list too.
    assert_eq!(policy.check_ip(ip("::ffff:127.0.0.1")), Ok(()));
    assert_eq!(policy.check_ip(ip("64:ff9b::a01:203")), Ok(()));
    assert_eq!(
        refusal(&policy, "169.254.169.254"),
        Some(Reason::CloudMetadata)
    );
}

#[test]
fn allow_listing_everything_turns_the_filter_off() {
    let policy = AddressPolicy::from_allow_list(["0.0.0.0/0", "::/0"]).unwrap();
    for address in ["127.0.0.1", "169.254.169.254", "::1", "fe80::1"] {
        assert_eq!(policy.check_ip(ip(address)), Ok(()), "{address}");
    }
}

#[test]
fn a_bad_allow_list_entry_is_named() {
    let err = AddressPolicy::from_allow_list(["127.0.0.1", "10.0.0.0/33"]).unwrap_err();
    assert_eq!(err.entry, "10.0.0.0/33");
    assert_eq!(
        err.to_string(),
        "allowed address \"10.0.0.0/33\" is not an IP address or CIDR block \
         (expected e.g. \"10.0.0.0/8\" or \"127.0.0.1\"): \
         prefix length \"33\" is not a number from 0 to 32"
    );
    let err = AddressPolicy::from_allow_list(["localhost"]).unwrap_err();
    assert!(
        err.to_string()
            .contains("\"localhost\" is not an IP address"),
        "{err}"
    );
}

#[test]
fn refusals_name_the_address_and_the_reason() {
    let policy = AddressPolicy::default();
    let message = |text: &str| policy.check_ip(ip(text)).unwrap_err().to_string();
    assert_eq!(message("127.0.0.1"), "127.0.0.1 is a loopback address");
    assert_eq!(
        message("169.254.169.254"),
        "169.254.169.254 is the cloud metadata service address"
    );
    assert_eq!(
        message("::ffff:127.0.0.1"),
        "::ffff:127.0.0.1 is an IPv4-mapped address of 127.0.0.1, a loopback address"
    );
    assert_eq!(
        message("64:ff9b::a00:1"),
        "64:ff9b::a00:1 is a NAT64 address of 10.0.0.1, a private address"
    );
    assert_eq!(message("fe80::1"), "fe80::1 is a link-local address");
}
