//! The client's IP address, trusting exactly as many proxies as configured.
//!
//! With `TRUSTED_PROXIES=0` the TCP peer is the client and X-Forwarded-For is ignored (anyone
//! can forge it). With N trusted proxies, each appends the address it received from, so the
//! client is the N-th entry from the right.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request},
    http::HeaderMap,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

pub fn resolve(headers: &HeaderMap, peer: Option<IpAddr>, trusted_proxies: usize) -> IpAddr {
    let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if trusted_proxies == 0 {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    // The peer is the last proxy; the other trusted proxies appended the entries on the right.
    forwarded
        .len()
        .checked_sub(trusted_proxies)
        .and_then(|i| forwarded.get(i).copied())
        .or_else(|| forwarded.first().copied())
        .unwrap_or(peer)
}

/// Middleware: resolves the client IP once and stores it in the request extensions.
pub fn attach(request: &mut Request, trusted_proxies: usize) {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let ip = resolve(request.headers(), peer, trusted_proxies);
    request.extensions_mut().insert(ClientIp(ip));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", xff.parse().unwrap());
        h
    }

    #[test]
    fn without_trusted_proxies_forwarded_for_is_ignored() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        assert_eq!(resolve(&headers("1.2.3.4"), Some(peer), 0), peer);
    }

    #[test]
    fn with_one_proxy_the_rightmost_entry_is_the_client() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let ip = resolve(&headers("6.6.6.6, 203.0.113.9"), Some(peer), 1);
        assert_eq!(ip, "203.0.113.9".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn with_two_proxies_the_second_from_right_is_the_client() {
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let ip = resolve(&headers("6.6.6.6, 203.0.113.9, 10.0.0.2"), Some(peer), 2);
        assert_eq!(ip, "203.0.113.9".parse::<IpAddr>().unwrap());
    }
}
