//! Events through `events.k8s.io/v1`, one per distinct note.
//!
//! kube-runtime's `Recorder` keys its six-minute series cache on type, reason, action and object, not on the note:
//! a second `Applied` ("Version 2 applied") within the window went out as `series.count: 2` of the *first*
//! message. Here the note is part of the key: a new note is a new Event with its own text, and only a repeat of
//! the same note within [`SERIES_WINDOW`] is aggregated into the existing Event's `series` (count and last time),
//! as client-go's correlator does.

use std::collections::HashMap;
use std::sync::Mutex;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event as K8sEvent;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::reconcile::{Event, EventType};

/// How long a repeat of the same note is folded into the earlier Event (kube-runtime's and client-go's window).
pub const SERIES_WINDOW: SignedDuration = SignedDuration::from_mins(6);
/// The `action` of every event.
pub const ACTION: &str = "Reconcile";
/// Longest note the API accepts (1 kB).
const NOTE_MAX: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    uid: String,
    namespace: String,
    name: String,
    warning: bool,
    reason: String,
    note: String,
}

#[derive(Debug, Clone)]
struct Sent {
    /// The Event object's name.
    name: String,
    /// Occurrences so far (1 = the create).
    count: i32,
    last: Timestamp,
}

/// Publishes events for the reporting controller; cheap to share (`Arc`).
pub struct EventPublisher {
    client: Client,
    controller: String,
    instance: String,
    sent: Mutex<HashMap<Key, Sent>>,
}

/// `note` cut to the API's 1 kB limit at a character boundary.
pub fn truncate_note(note: &str) -> &str {
    if note.len() <= NOTE_MAX {
        return note;
    }
    let mut end = NOTE_MAX;
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    &note[..end]
}

impl EventPublisher {
    /// Events of `controller` (the `reportingController`), from `instance` (the pod; `controller` when unknown).
    pub fn new(client: Client, controller: &str, instance: Option<String>) -> Self {
        Self {
            client,
            controller: controller.to_owned(),
            instance: instance.unwrap_or_else(|| controller.to_owned()),
            sent: Mutex::default(),
        }
    }

    /// Events remembered for aggregation (tests and diagnostics).
    pub fn remembered(&self) -> usize {
        self.sent.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Publishes `ev` on `regarding`: a new Event, or, for the same note within [`SERIES_WINDOW`], the next count
    /// of the earlier one's series. An aggregated Event that is gone (expired by the API server) is created again.
    pub async fn publish(
        &self,
        ev: &Event,
        regarding: &ObjectReference,
    ) -> Result<(), kube::Error> {
        let now = Timestamp::now();
        let note = truncate_note(&ev.note);
        let key = Key {
            uid: regarding.uid.clone().unwrap_or_default(),
            namespace: regarding.namespace.clone().unwrap_or_default(),
            name: regarding.name.clone().unwrap_or_default(),
            warning: ev.type_ == EventType::Warning,
            reason: ev.reason.clone(),
            note: note.to_owned(),
        };
        let ns = regarding.namespace.as_deref().unwrap_or("default");
        let api: Api<K8sEvent> = Api::namespaced(self.client.clone(), ns);
        let earlier = {
            let mut sent = self.sent.lock().expect("event cache");
            sent.retain(|_, s| s.last + SERIES_WINDOW > now);
            sent.get(&key).cloned()
        };
        if let Some(prev) = earlier {
            let count = prev.count + 1;
            let patch = json!({"series": {"count": count, "lastObservedTime": MicroTime(now)}});
            match api
                .patch(&prev.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    self.remember(key, prev.name, count, now);
                    return Ok(());
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let event = K8sEvent {
            action: Some(ACTION.into()),
            reason: Some(ev.reason.clone()),
            note: Some(note.to_owned()),
            type_: Some(
                match ev.type_ {
                    EventType::Normal => "Normal",
                    EventType::Warning => "Warning",
                }
                .into(),
            ),
            event_time: Some(MicroTime(now)),
            regarding: Some(regarding.clone()),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            metadata: ObjectMeta {
                namespace: Some(ns.to_owned()),
                name: Some(format!(
                    "{}.{:x}",
                    regarding.name.as_deref().unwrap_or(&self.controller),
                    now.as_nanosecond()
                )),
                ..ObjectMeta::default()
            },
            ..K8sEvent::default()
        };
        let name = event.metadata.name.clone().unwrap_or_default();
        api.create(&PostParams::default(), &event).await?;
        self.remember(key, name, 1, now);
        Ok(())
    }

    fn remember(&self, key: Key, name: String, count: i32, last: Timestamp) {
        if let Ok(mut sent) = self.sent.lock() {
            sent.insert(key, Sent { name, count, last });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_cut_at_1kb_on_a_character_boundary() {
        assert_eq!(truncate_note("short"), "short");
        let long = "é".repeat(600); // 1200 bytes
        let cut = truncate_note(&long);
        assert!(cut.len() <= 1024 && cut.len() >= 1023, "{}", cut.len());
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
