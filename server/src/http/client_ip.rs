//! The client's IP address. X-Forwarded-For is believed only when the connection comes from a
//! configured proxy (TRUSTED_PROXIES, a list of CIDR ranges); then the client is the rightmost
//! address that is not itself a trusted proxy. Anyone else's X-Forwarded-For is ignored: it
//! is a header the client writes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request},
    http::HeaderMap,
};
use ipnet::IpNet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The key rate limits count under (see `rate_key`).
    pub fn rate_key(self) -> IpAddr {
        rate_key(self.0)
    }
}

/// One IPv6 client usually holds a whole /64, so limits key IPv6 addresses by their /64
/// (otherwise each request could come from a new address). IPv4-mapped addresses count as the
/// IPv4 address.
pub fn rate_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn normalise(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpNet]) -> bool {
    let ip = normalise(ip);
    trusted.iter().any(|net| net.contains(&ip))
}

pub fn resolve(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[IpNet]) -> IpAddr {
    let peer = normalise(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let mut client = peer;
    // Walk from the right (the hop nearest to us) past our own proxies.
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else {
            // Garbage a trusted proxy passed on: stop at the last hop we can vouch for.
            break;
        };
        client = normalise(ip);
        if !is_trusted(client, trusted) {
            break;
        }
    }
    client
}

/// Middleware: resolves the client IP once and stores it in the request extensions.
pub fn attach(request: &mut Request, trusted: &[IpNet]) {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let ip = resolve(request.headers(), peer, trusted);
    request.extensions_mut().insert(ClientIp(ip));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse_trusted_proxies;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(s: &str) -> Vec<IpNet> {
        parse_trusted_proxies(s).unwrap()
    }

    #[test]
    fn without_trusted_proxies_forwarded_for_is_ignored() {
        assert_eq!(
            resolve(&headers("1.2.3.4"), Some(ip("10.0.0.5")), &[]),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn forwarded_for_from_a_peer_outside_the_trusted_ranges_is_ignored() {
        // The old code trusted the header from whoever connected once TRUSTED_PROXIES was set.
        let trusted = nets("10.0.0.0/8");
        let got = resolve(&headers("6.6.6.6"), Some(ip("198.51.100.20")), &trusted);
        assert_eq!(got, ip("198.51.100.20"));
    }

    #[test]
    fn the_client_is_the_rightmost_address_that_is_not_a_trusted_proxy() {
        let trusted = nets("10.0.0.0/8, 192.0.2.1");
        let got = resolve(
            &headers("6.6.6.6, 203.0.113.9, 192.0.2.1, 10.0.0.2"),
            Some(ip("10.0.0.1")),
            &trusted,
        );
        assert_eq!(got, ip("203.0.113.9"));
        // A forged leftmost entry never wins.
        let got = resolve(
            &headers("127.0.0.1, 203.0.113.9"),
            Some(ip("10.0.0.1")),
            &trusted,
        );
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn garbage_in_the_header_stops_at_the_last_trusted_hop() {
        let trusted = nets("10.0.0.0/8");
        let got = resolve(
            &headers("203.0.113.9, nonsense"),
            Some(ip("10.0.0.1")),
            &trusted,
        );
        assert_eq!(got, ip("10.0.0.1"));
    }

    #[test]
    fn ipv4_mapped_peers_match_ipv4_ranges() {
        let trusted = nets("127.0.0.1/32");
        let got = resolve(
            &headers("203.0.113.9"),
            Some(ip("::ffff:127.0.0.1")),
            &trusted,
        );
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn trusted_proxies_parse_as_cidr_lists_and_the_old_count_means_loopback() {
        assert!(nets("").is_empty());
        assert!(nets("0").is_empty());
        assert_eq!(nets("10.0.0.0/8,::1 192.0.2.7").len(), 3);
        let legacy = nets("2");
        assert!(is_trusted(ip("127.0.0.1"), &legacy) && is_trusted(ip("::1"), &legacy));
        assert!(!is_trusted(ip("198.51.100.1"), &legacy));
        assert!(parse_trusted_proxies("10.0.0.0/33").is_err());
        assert!(parse_trusted_proxies("proxy.example").is_err());
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        assert_eq!(
            rate_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
            rate_key(ip("2001:db8:1:2::1"))
        );
        assert_ne!(
            rate_key(ip("2001:db8:1:2::1")),
            rate_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(rate_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        assert_eq!(rate_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }
}
