//! Rate limits on the unauthenticated endpoints (organization registration, enrollment
//! creation, login challenges and tokens): a token bucket per client address, in memory, per
//! server process. A request over the limit is refused with 429, code `rate-limited` and a
//! `Retry-After` header, before any work or any store access.
//!
//! The client address is the TCP peer (the server is started with connect info); behind a
//! reverse proxy every request shares the proxy's address, so such deployments rate-limit at
//! the proxy and may disable this one (`RateLimit::off`). IPv6 clients are grouped by /64,
//! since one host usually holds a whole /64.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::AppState;

/// The limit: `burst` requests at once, refilled at `per_minute` requests per minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per minute and client address (0: no limit).
    pub per_minute: u32,
    /// Requests a client may make at once.
    pub burst: u32,
}

impl RateLimit {
    /// No limit.
    pub const fn off() -> Self {
        Self {
            per_minute: 0,
            burst: 0,
        }
    }
}

impl Default for RateLimit {
    /// 600 per minute with bursts of 300: above what the people and scripts of one office do
    /// (a login is two requests), far below a flood.
    fn default() -> Self {
        Self {
            per_minute: 600,
            burst: 300,
        }
    }
}

/// Most client addresses remembered; beyond, the table is cleared (a flood of addresses then
/// gets fresh buckets, which only makes the limit looser, never blocks anyone wrongly).
const MAX_CLIENTS: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    /// Milliseconds of the last refill.
    at: u128,
}

/// The buckets of one server process.
#[derive(Clone, Debug, Default)]
pub struct Throttle {
    limit: Option<RateLimit>,
    buckets: Arc<Mutex<HashMap<IpAddr, Bucket>>>,
}

impl Throttle {
    /// A throttle enforcing `limit` (`per_minute == 0`: none).
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit: (limit.per_minute > 0).then_some(limit),
            buckets: Arc::default(),
        }
    }

    /// Take one token for `ip` at `now_ms`; `Err(seconds to wait)` when none is left.
    pub fn take(&self, ip: IpAddr, now_ms: u128) -> Result<(), u64> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let ip = group(ip);
        let burst = f64::from(limit.burst.max(1));
        let per_ms = f64::from(limit.per_minute) / 60_000.0;
        let Ok(mut map) = self.buckets.lock() else {
            return Ok(());
        };
        if map.len() >= MAX_CLIENTS && !map.contains_key(&ip) {
            map.clear();
        }
        let b = map.entry(ip).or_insert(Bucket {
            tokens: burst,
            at: now_ms,
        });
        let elapsed = now_ms.saturating_sub(b.at) as f64;
        b.tokens = (b.tokens + elapsed * per_ms).min(burst);
        b.at = now_ms;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = (1.0 - b.tokens) / per_ms;
            Err((wait_ms / 1000.0).ceil().max(1.0) as u64)
        }
    }
}

/// IPv4 addresses as they are; IPv6 by /64.
fn group(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// An extractor that admits the request under the client address's rate limit (first in a
/// handler's arguments, so a refused request costs nothing). Without connect info (a router
/// driven in-process by tests) there is no address and no limit.
#[derive(Debug)]
pub struct Admitted;

impl FromRequestParts<AppState> for Admitted {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(Admitted);
        };
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        st.throttle
            .take(addr.ip(), now_ms)
            .map(|()| Admitted)
            .map_err(|retry| {
                st.metrics.rate_limited();
                tracing::warn!(event = "rate-limited", ip = %addr.ip(), path = parts.uri.path(), retry_after = retry, "rate limit");
                ApiError::RateLimited(retry)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refuses_past_the_burst_and_refills() {
        let t = Throttle::new(RateLimit {
            per_minute: 60,
            burst: 3,
        });
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(t.take(a, 1_000), Ok(()));
        }
        assert_eq!(t.take(a, 1_000), Err(1), "burst used up");
        assert_eq!(
            t.take(b, 1_000),
            Ok(()),
            "another address has its own bucket"
        );
        assert_eq!(t.take(a, 2_000), Ok(()), "one token per second comes back");
        assert_eq!(t.take(a, 2_000), Err(1));
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let t = Throttle::new(RateLimit {
            per_minute: 1,
            burst: 1,
        });
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2::ffff".parse().expect("ip");
        assert_eq!(t.take(a, 0), Ok(()));
        assert!(t.take(b, 0).is_err(), "same /64");
        assert_eq!(
            Throttle::new(RateLimit::off()).take(a, 0),
            Ok(()),
            "off means off"
        );
    }
}
