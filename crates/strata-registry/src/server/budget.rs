//! The budget of request-body bytes in flight ([`Limits::max_upload_bytes_in_flight`]): every request that reads
//! a body (pushes above all) reserves its size before reading it and keeps the reservation until its response is
//! built, so the bodies being read, validated and stored at once never add up to more than the budget, whatever
//! the number of concurrent clients. Requests that do not fit wait in arrival order (a fair semaphore).
//!
//! [`Limits::max_upload_bytes_in_flight`]: crate::upload::Limits::max_upload_bytes_in_flight

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

#[derive(Debug)]
pub(crate) struct UploadBudget {
    permits: Arc<Semaphore>,
    /// Bytes per permit: 1, unless the budget is over 4 GiB (the semaphore's requests are `u32`).
    unit: usize,
    /// The budget in permits.
    units: u32,
    /// Bytes reserved now (for `/metrics`).
    in_flight: Arc<AtomicUsize>,
}

/// A reservation; dropping it gives the bytes back.
#[derive(Debug)]
pub(crate) struct Reservation {
    _permit: OwnedSemaphorePermit,
    bytes: usize,
    in_flight: Arc<AtomicUsize>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.in_flight.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

impl UploadBudget {
    pub(crate) fn new(bytes: usize) -> Self {
        let unit = bytes.div_ceil(u32::MAX as usize).max(1);
        let units = u32::try_from(bytes.div_ceil(unit).max(1)).unwrap_or(u32::MAX);
        Self {
            permits: Arc::new(Semaphore::new(units as usize)),
            unit,
            units,
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Waits until `bytes` fit the budget and reserves them. A request larger than the whole budget reserves all
    /// of it, so it runs alone instead of never.
    pub(crate) async fn reserve(&self, bytes: usize) -> Reservation {
        let units = u32::try_from(bytes.div_ceil(self.unit).max(1))
            .unwrap_or(u32::MAX)
            .min(self.units);
        let permit = self
            .permits
            .clone()
            .acquire_many_owned(units)
            .await
            .expect("the budget's semaphore is never closed");
        self.in_flight.fetch_add(bytes, Ordering::Relaxed);
        Reservation {
            _permit: permit,
            bytes,
            in_flight: self.in_flight.clone(),
        }
    }

    /// Bytes reserved now.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    async fn waits(b: &UploadBudget, bytes: usize) -> bool {
        tokio::time::timeout(Duration::from_millis(50), b.reserve(bytes))
            .await
            .is_err()
    }

    #[tokio::test]
    async fn reservations_wait_for_room_and_oversized_ones_run_alone() {
        let b = UploadBudget::new(10_000);
        let first = b.reserve(6_000).await;
        assert_eq!(b.in_flight(), 6_000);
        // Exact to the byte: 6,000 + 4,001 does not fit, 6,000 + 4,000 does.
        assert!(waits(&b, 4_001).await, "must wait while the budget is full");
        let second = b.reserve(4_000).await;
        assert_eq!(b.in_flight(), 10_000);
        drop((first, second));
        assert_eq!(b.in_flight(), 0);
        // Larger than the budget: reserves all of it rather than waiting forever.
        let huge = b.reserve(100_000).await;
        assert!(waits(&b, 1).await);
        drop(huge);
        assert_eq!(b.in_flight(), 0);
    }

    #[tokio::test]
    async fn budgets_over_four_gib_work_in_coarser_units() {
        let b = UploadBudget::new(8 << 30);
        let first = b.reserve(5 << 30).await;
        assert!(waits(&b, 4 << 30).await);
        let second = b.reserve(3 << 30).await;
        drop((first, second));
        assert_eq!(b.in_flight(), 0);
    }
}
