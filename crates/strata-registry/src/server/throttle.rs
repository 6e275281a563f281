//! Throttling of web UI logins, per client network and per server process: at most [`LOGIN_FAILURES`] failed
//! attempts within [`LOGIN_WINDOW`]; further attempts are refused (429 with `Retry-After`) until the oldest of
//! them leaves the window. An attempt counts from the moment it starts and is forgotten only when it succeeds,
//! so parallel guesses are counted too.
//!
//! A client is its IPv4 address or its IPv6 /64 network (one host usually owns a whole /64). Behind a reverse
//! proxy every client has the proxy's address and they share one allowance; forwarded-for headers are not
//! trusted, since any client could set them.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per client within [`LOGIN_WINDOW`].
pub const LOGIN_FAILURES: usize = 5;
/// The window over which failed logins are counted.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(60);
/// Clients tracked at once; past this (under a distributed attack) new clients are refused until old entries
/// age out, rather than forgetting the ones being throttled.
const MAX_CLIENTS: usize = 50_000;

/// Whom failed logins are counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Client {
    V4([u8; 4]),
    V6Net([u8; 8]),
    /// The peer address is not known (the router used without a socket): one shared allowance.
    Unknown,
}

impl Client {
    pub(crate) fn of(ip: Option<IpAddr>) -> Self {
        match ip {
            Some(IpAddr::V4(a)) => Self::V4(a.octets()),
            Some(IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                Some(v4) => Self::V4(v4.octets()),
                None => {
                    let mut net = [0; 8];
                    net.copy_from_slice(&a.octets()[..8]);
                    Self::V6Net(net)
                }
            },
            None => Self::Unknown,
        }
    }
}

/// One login attempt in progress; report its success with [`LoginThrottle::succeeded`].
#[derive(Debug)]
pub(crate) struct Attempt {
    client: Client,
    at: Instant,
}

pub(crate) struct LoginThrottle {
    limit: usize,
    window: Duration,
    max_clients: usize,
    attempts: Mutex<HashMap<Client, VecDeque<Instant>>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self::new(LOGIN_FAILURES, LOGIN_WINDOW, MAX_CLIENTS)
    }
}

impl LoginThrottle {
    pub(crate) fn new(limit: usize, window: Duration, max_clients: usize) -> Self {
        Self {
            limit: limit.max(1),
            window,
            max_clients,
            attempts: Mutex::default(),
        }
    }

    /// Starts an attempt of `client` at `now`: `Ok` to go on, or `Err(wait)` when the client must wait that
    /// long first.
    pub(crate) fn begin(&self, client: Client, now: Instant) -> Result<Attempt, Duration> {
        let window = self.window;
        let live = |at: &Instant| now.saturating_duration_since(*at) < window;
        let Ok(mut map) = self.attempts.lock() else {
            return Err(window);
        };
        if !map.contains_key(&client) && map.len() >= self.max_clients {
            map.retain(|_, q| q.back().is_some_and(live));
            if map.len() >= self.max_clients {
                return Err(window);
            }
        }
        let q = map.entry(client).or_default();
        while q.front().is_some_and(|at| !live(at)) {
            q.pop_front();
        }
        if q.len() >= self.limit {
            let oldest = q.front().copied().unwrap_or(now);
            return Err(window.saturating_sub(now.saturating_duration_since(oldest)));
        }
        q.push_back(now);
        Ok(Attempt { client, at: now })
    }

    /// The attempt succeeded: it no longer counts as a failure.
    pub(crate) fn succeeded(&self, attempt: Attempt) {
        if let Ok(mut map) = self.attempts.lock()
            && let Some(q) = map.get_mut(&attempt.client)
        {
            if let Some(i) = q.iter().position(|at| *at == attempt.at) {
                q.remove(i);
            }
            if q.is_empty() {
                map.remove(&attempt.client);
            }
        }
    }
}

/// Whole seconds for `Retry-After`: rounded up, at least 1.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Client = Client::V4([10, 0, 0, 1]);
    const B: Client = Client::V4([10, 0, 0, 2]);

    #[test]
    fn failures_beyond_the_limit_wait_until_the_oldest_leaves_the_window() {
        let t = LoginThrottle::new(3, Duration::from_secs(60), 100);
        let t0 = Instant::now();
        for i in 0..3 {
            t.begin(A, t0 + Duration::from_secs(i))
                .expect("within the limit");
        }
        let wait = t.begin(A, t0 + Duration::from_secs(10)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        // Refused attempts do not extend the wait.
        let wait = t.begin(A, t0 + Duration::from_secs(30)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(30));
        // Another client is not affected.
        t.begin(B, t0 + Duration::from_secs(30))
            .expect("other client");
        // The oldest failure leaves the window: one more attempt.
        t.begin(A, t0 + Duration::from_secs(60))
            .expect("after the window");
        assert!(t.begin(A, t0 + Duration::from_secs(60)).is_err());
    }

    #[test]
    fn a_success_is_not_counted_but_parallel_attempts_are() {
        let t = LoginThrottle::new(2, Duration::from_secs(60), 100);
        let t0 = Instant::now();
        let ok = t.begin(A, t0).unwrap();
        t.succeeded(ok);
        // Two attempts in flight at once use up the allowance before either finishes.
        let _a = t.begin(A, t0).unwrap();
        let _b = t.begin(A, t0 + Duration::from_millis(1)).unwrap();
        assert!(t.begin(A, t0 + Duration::from_millis(2)).is_err());
    }

    #[test]
    fn a_full_table_refuses_new_clients_until_entries_age_out() {
        let t = LoginThrottle::new(5, Duration::from_secs(60), 2);
        let t0 = Instant::now();
        t.begin(A, t0).unwrap();
        t.begin(B, t0).unwrap();
        let c = Client::V4([10, 0, 0, 3]);
        assert!(t.begin(c, t0 + Duration::from_secs(1)).is_err());
        // Known clients go on.
        t.begin(A, t0 + Duration::from_secs(1)).unwrap();
        t.begin(c, t0 + Duration::from_secs(62))
            .expect("old entries aged out");
    }

    #[test]
    fn clients_are_ipv4_addresses_and_ipv6_networks() {
        let v6 = |s: &str| Client::of(Some(s.parse().unwrap()));
        assert_eq!(v6("2001:db8:1:2::1"), v6("2001:db8:1:2:ffff::9"));
        assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
        assert_eq!(v6("::ffff:10.0.0.1"), A);
        assert_eq!(Client::of(None), Client::Unknown);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(59_001)), 60);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
    }
}
