//! Watch streams that come back quickly after an API-server outage.
//!
//! kube-runtime's default watcher back-off (client-go's: 0.8 s doubling to 30 s, plus up to 100 % jitter, reset only
//! by an event) let the waits reach 20–50 s across the connection errors of a restarting API server and the `410
//! Gone` that follows, so a spec change made after the server returned waited a minute or two. Here:
//!
//! - errors back off from [`BACKOFF_FIRST`], doubling, at most [`BACKOFF_CAP`] (jitter stays below the cap);
//! - the back-off starts over after a complete list (`InitDone`) or a delivered watch event;
//! - `410 Gone` (the resource version expired, as after an API-server restart) re-lists at once with a fresh
//!   watcher, whichever request it answered; only a second `410` without a successful list in between waits;
//! - the `Controller` adds no back-off of its own on top ([`NoDelay`]): its default, applied to the merged
//!   trigger stream, paused every watch after any watch's error and was the larger part of the delay (94 s after a
//!   40 s outage in `the_controller_reconciles_within_seconds_after_the_api_server_returns`).

use std::fmt::Debug;
use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use kube::Resource;
use kube::api::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher::{self, Event};
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

/// First wait after an error.
pub const BACKOFF_FIRST: Duration = Duration::from_millis(250);
/// Longest wait between two attempts.
pub const BACKOFF_CAP: Duration = Duration::from_secs(3);

/// The wait policy between failed watch or list attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    failures: u32,
    gone_since_list: bool,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    /// A fresh policy.
    pub fn new() -> Self {
        Self {
            failures: 0,
            gone_since_list: false,
        }
    }

    /// The wait after one more failure: [`BACKOFF_FIRST`] × 2^n, at most [`BACKOFF_CAP`], less up to 25 % jitter
    /// (so replicas and watches do not retry in lockstep, and never beyond the cap).
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.failures.min(16);
        self.failures = self.failures.saturating_add(1);
        let d = BACKOFF_FIRST.saturating_mul(1u32 << exp).min(BACKOFF_CAP);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.subsec_nanos())
            .unwrap_or(0);
        d - d.mul_f64(f64::from(nanos % 1000) / 4000.0)
    }

    /// The wait after a `410 Gone`: none for the first since the last successful list, else as any failure.
    pub fn after_gone(&mut self) -> Duration {
        if std::mem::replace(&mut self.gone_since_list, true) {
            self.next_delay()
        } else {
            Duration::ZERO
        }
    }

    /// A list completed or the watch delivered: start over.
    pub fn reset(&mut self) {
        *self = Self::new();
    }
}

/// The back-off to give kube's `Controller` for its merged trigger stream: none. The watches wait by themselves
/// ([`resilient`]); the controller's default (client-go's, reset only by an event) would pause *every* watch after
/// an error of any of them, for up to a minute once a restart's errors have piled up.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDelay;

impl Iterator for NoDelay {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        Some(Duration::ZERO)
    }
}

impl kube::runtime::utils::Backoff for NoDelay {
    fn reset(&mut self) {}
}

/// Whether a watcher error is the API server's `410 Gone` (expired resource version), on any request.
pub fn is_gone(e: &watcher::Error) -> bool {
    match e {
        watcher::Error::WatchError(s) => s.code == 410,
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => s.code == 410,
        _ => false,
    }
}

type EventStream<K> = Pin<Box<dyn Stream<Item = Result<Event<K>, watcher::Error>> + Send>>;

/// Applies [`Backoff`] to the watcher `make` builds; on `410 Gone` the watcher is replaced by a new one (a fresh
/// list). The stream never ends.
pub fn resilient<K, F, S>(make: F) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send
where
    K: Send + 'static,
    F: Fn() -> S + Send + 'static,
    S: Stream<Item = Result<Event<K>, watcher::Error>> + Send + 'static,
{
    struct St<K, F> {
        make: F,
        inner: EventStream<K>,
        backoff: Backoff,
        wait: Option<Duration>,
    }
    let inner: EventStream<K> = Box::pin(make());
    let st = St {
        make,
        inner,
        backoff: Backoff::new(),
        wait: None,
    };
    futures::stream::unfold(st, |mut st| async move {
        if let Some(d) = st.wait.take()
            && !d.is_zero()
        {
            tokio::time::sleep(d).await;
        }
        let item = st.inner.next().await?;
        match &item {
            Ok(Event::InitDone | Event::Apply(_) | Event::Delete(_)) => st.backoff.reset(),
            Ok(_) => {}
            Err(e) => {
                let first = st.backoff.failures == 0 && !st.backoff.gone_since_list;
                let d = if is_gone(e) {
                    let make = &st.make;
                    st.inner = Box::pin(make());
                    st.backoff.after_gone()
                } else {
                    st.backoff.next_delay()
                };
                if first {
                    warn!(error = %e, retry_in = ?d, "watch interrupted; retrying");
                } else {
                    debug!(error = %e, retry_in = ?d, "watch still failing");
                }
                st.wait = Some(d);
            }
        }
        Some((item, st))
    })
}

/// A resilient watch of `api`'s objects (of their metadata only for an `Api<PartialObjectMeta<K>>`).
pub fn objects<K>(
    api: Api<K>,
    config: watcher::Config,
) -> impl Stream<Item = Result<Event<K>, watcher::Error>> + Send
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    resilient(move || watcher::watcher(api.clone(), config.clone()))
}

/// The objects to reconcile from a *reflected* watch: an applied object at once; the objects of a (re-)list once the
/// list is complete (`InitDone`), read from `store`, which the reflector has switched to the new list by then.
///
/// kube's `applied_objects` passes listed objects on page by page while the store still holds the previous list,
/// and the controller reconciles what the store holds: after an outage, a resource created or changed meanwhile was
/// reconciled as it was before (or dropped as not found), and its new generation then filtered as seen. Only
/// references are held during the list, not objects.
pub fn applied_after_lists<K, S>(
    events: S,
    store: Store<K>,
) -> impl Stream<Item = Result<K, watcher::Error>> + Send
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Default + Eq + std::hash::Hash + Clone + Send + Sync,
    S: Stream<Item = Result<Event<K>, watcher::Error>> + Send + 'static,
{
    struct St<K: Resource + 'static>
    where
        K::DynamicType: Eq + std::hash::Hash + Clone,
    {
        events: Pin<Box<dyn Stream<Item = Result<Event<K>, watcher::Error>> + Send>>,
        store: Store<K>,
        listing: Vec<ObjectRef<K>>,
        ready: std::vec::IntoIter<ObjectRef<K>>,
    }
    let st = St {
        events: Box::pin(events),
        store,
        listing: Vec::new(),
        ready: Vec::new().into_iter(),
    };
    futures::stream::unfold(st, |mut st| async move {
        loop {
            if let Some(r) = st.ready.next() {
                if let Some(obj) = st.store.get(&r) {
                    return Some((Ok(K::clone(&obj)), st));
                }
                continue;
            }
            match st.events.next().await? {
                Ok(Event::Apply(obj)) => return Some((Ok(obj), st)),
                Ok(Event::Delete(_)) => {}
                Ok(Event::Init) => st.listing.clear(),
                Ok(Event::InitApply(obj)) => st.listing.push(ObjectRef::from_obj(&obj)),
                Ok(Event::InitDone) => st.ready = std::mem::take(&mut st.listing).into_iter(),
                Err(e) => return Some((Err(e), st)),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_250ms_and_stay_under_the_cap() {
        let mut b = Backoff::new();
        let d: Vec<Duration> = (0..8).map(|_| b.next_delay()).collect();
        for (i, d) in d.iter().enumerate() {
            let nominal = BACKOFF_FIRST.saturating_mul(1 << i).min(BACKOFF_CAP);
            assert!(*d <= nominal && *d >= nominal.mul_f64(0.75), "{i}: {d:?}");
        }
        assert!(d[7] <= BACKOFF_CAP);
        b.reset();
        assert!(b.next_delay() <= BACKOFF_FIRST);
    }

    #[test]
    fn the_first_gone_after_a_list_relists_at_once() {
        let mut b = Backoff::new();
        b.next_delay();
        assert_eq!(b.after_gone(), Duration::ZERO);
        assert!(
            b.after_gone() > Duration::ZERO,
            "a second 410 in a row waits"
        );
        b.reset();
        assert_eq!(b.after_gone(), Duration::ZERO);
    }
}
