//! Lock helpers shared by the dialects: polling back-off and durations in messages. Each dialect's lock is in its
//! own `lock.rs`; [`fnv1_32`] (Postgres) and [`adler32`] (SQLite) are re-exported here.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use crate::postgres::lock::fnv1_32;
pub use crate::sqlite::lock::adler32;

/// Polling back-off: attempt `k` sleeps `d + random[0, d)` with `d = min(25ms · 2^k, 1s)`.
pub(crate) struct Backoff {
    attempt: u32,
    rng: u64,
}

impl Backoff {
    pub(crate) fn new() -> Self {
        let local = 0u8;
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ (u64::from(std::process::id()) << 32)
            ^ (&raw const local as usize as u64);
        Self {
            attempt: 0,
            rng: seed | 1,
        }
    }

    /// The base delay of attempt `k`.
    pub(crate) fn base(k: u32) -> Duration {
        let ms = 25u64.saturating_mul(1u64 << k.min(20));
        Duration::from_millis(ms.min(1000))
    }

    /// The next sleep, never past `deadline` (so the last attempt happens right at the deadline).
    pub(crate) fn next_delay(&mut self, deadline: Instant) -> Duration {
        let d = Self::base(self.attempt);
        self.attempt += 1;
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let jitter = Duration::from_nanos(r % d.as_nanos().max(1) as u64);
        let sleep = d + jitter;
        let left = deadline.saturating_duration_since(Instant::now());
        sleep.min(left)
    }
}

/// Formats a duration for messages (`10s`, `1.5s`, `250ms`).
pub(crate) fn human(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(Backoff::base(0), Duration::from_millis(25));
        assert_eq!(Backoff::base(1), Duration::from_millis(50));
        assert_eq!(Backoff::base(5), Duration::from_millis(800));
        assert_eq!(Backoff::base(6), Duration::from_secs(1));
        assert_eq!(Backoff::base(40), Duration::from_secs(1));
        let mut b = Backoff::new();
        let far = Instant::now() + Duration::from_secs(60);
        for k in 0..10 {
            let d = b.next_delay(far);
            let base = Backoff::base(k);
            assert!(d >= base && d < base * 2, "attempt {k}: {d:?}");
        }
        let near = Instant::now() + Duration::from_millis(5);
        assert!(b.next_delay(near) <= Duration::from_millis(5));
    }
}
