//! The generous global per-IP limit, in memory (the security limits on sign-in and friends are
//! kept in Postgres by their features).

use std::sync::Arc;

use axum::{body::Body, http::Request};
use tower_governor::{
    governor::GovernorConfigBuilder, key_extractor::KeyExtractor, GovernorError, GovernorLayer,
};

use governor::middleware::StateInformationMiddleware;

use super::ClientIp;
use crate::config::Config;

/// Keys requests by the IP resolved by `client_ip` (which honours TRUSTED_PROXIES), IPv6
/// clients by their /64.
#[derive(Debug, Clone, Copy)]
pub struct ClientIpKey;

impl KeyExtractor for ClientIpKey {
    type Key = std::net::IpAddr;

    fn extract<T>(&self, req: &Request<T>) -> Result<Self::Key, GovernorError> {
        req.extensions()
            .get::<ClientIp>()
            .map(|ip| ip.rate_key())
            .ok_or(GovernorError::UnableToExtractKey)
    }
}

pub type GlobalLimit = GovernorLayer<ClientIpKey, StateInformationMiddleware, Body>;

#[allow(
    clippy::expect_used,
    reason = "start-up: the builder refuses only a zero period or burst, and both are at least 1"
)]
pub fn global_layer(config: &Config) -> GlobalLimit {
    let per_second = config.global_rate_per_second.max(1);
    let governor = GovernorConfigBuilder::default()
        .key_extractor(ClientIpKey)
        // At least one nanosecond: over a billion a second would round to zero.
        .per_nanosecond((1_000_000_000 / per_second).max(1))
        .burst_size(config.global_rate_burst.max(1))
        .use_headers()
        .finish()
        .expect("rate limit settings are positive");
    let governor = Arc::new(governor);
    // Forget idle clients so memory stays bounded.
    let limiter = governor.limiter().clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            limiter.retain_recent();
        }
    });
    GovernorLayer::new(governor)
}
