//! Which events a webhook endpoint (or a stream) wants.

use super::EventKind;
use crate::CoreError;
use serde::{Deserialize, Serialize};

/// The events a subscriber asked for. On the wire it is a JSON array of
/// names: `["*"]` for everything, or `["message.received", ...]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub enum EventFilter {
    /// Every kind, including kinds added after the subscription was made.
    #[default]
    All,
    /// These kinds only; never empty, no duplicates, in the order given.
    Only(Vec<EventKind>),
}

impl EventFilter {
    /// Builds a filter from event names. A `*` anywhere means everything:
    /// the other names add nothing to it, so refusing them would only
    /// annoy. An unknown name is an error that names it, and so is an
    /// empty list — a subscription to nothing is almost surely a mistake.
    pub fn parse<I, S>(names: I) -> Result<Self, CoreError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut kinds = Vec::new();
        let mut all = false;
        for name in names {
            let name = name.as_ref();
            if name == "*" {
                all = true;
                continue;
            }
            let kind = EventKind::parse(name).ok_or_else(|| {
                CoreError::validation(
                    "events",
                    format!(
                        "unknown event \"{name}\"; expected \"*\" or {}",
                        known_names()
                    ),
                )
            })?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if all {
            Ok(EventFilter::All)
        } else if kinds.is_empty() {
            Err(CoreError::validation(
                "events",
                format!("must name at least one event: \"*\" or {}", known_names()),
            ))
        } else {
            Ok(EventFilter::Only(kinds))
        }
    }

    pub fn matches(&self, kind: EventKind) -> bool {
        match self {
            EventFilter::All => true,
            EventFilter::Only(kinds) => kinds.contains(&kind),
        }
    }

    /// The names, as a client would write them.
    pub fn names(&self) -> Vec<String> {
        match self {
            EventFilter::All => vec!["*".to_string()],
            EventFilter::Only(kinds) => kinds.iter().map(|k| k.as_str().to_string()).collect(),
        }
    }
}

fn known_names() -> String {
    EventKind::ALL.map(EventKind::as_str).join(", ")
}

impl TryFrom<Vec<String>> for EventFilter {
    type Error = CoreError;
    fn try_from(names: Vec<String>) -> Result<Self, CoreError> {
        EventFilter::parse(names)
    }
}

impl From<EventFilter> for Vec<String> {
    fn from(filter: EventFilter) -> Vec<String> {
        filter.names()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from_json(value: serde_json::Value) -> Result<EventFilter, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn star_matches_everything() {
        let filter = from_json(json!(["*"])).unwrap();
        assert_eq!(filter, EventFilter::All);
        assert!(EventKind::ALL.into_iter().all(|k| filter.matches(k)));
        assert_eq!(serde_json::to_value(&filter).unwrap(), json!(["*"]));
        assert_eq!(
            from_json(json!(["message.status", "*"])).unwrap(),
            EventFilter::All
        );
        assert_eq!(EventFilter::default(), EventFilter::All);
    }

    #[test]
    fn a_list_matches_its_kinds_only() {
        let filter = from_json(json!([
            "message.received",
            "session.qr",
            "message.received"
        ]))
        .unwrap();
        assert_eq!(
            filter,
            EventFilter::Only(vec![EventKind::MessageReceived, EventKind::SessionQr])
        );
        assert!(filter.matches(EventKind::MessageReceived));
        assert!(filter.matches(EventKind::SessionQr));
        assert!(!filter.matches(EventKind::MessageStatus));
        assert!(!filter.matches(EventKind::WebhookDisabled));
        assert_eq!(
            serde_json::to_value(&filter).unwrap(),
            json!(["message.received", "session.qr"])
        );
    }

    #[test]
    fn unknown_names_are_named_in_the_error() {
        let err = EventFilter::parse(["message.received", "message_received"]).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("events: "), "{text}");
        assert!(text.contains("\"message_received\""), "{text}");
        assert!(text.contains("session.status"), "{text}");

        let err = from_json(json!(["qr_code"])).unwrap_err();
        assert!(err.to_string().contains("\"qr_code\""), "{err}");
    }

    #[test]
    fn empty_and_malformed_lists_are_refused() {
        let err = EventFilter::parse(Vec::<String>::new()).unwrap_err();
        assert!(matches!(
            err,
            CoreError::Validation {
                field: "events",
                ..
            }
        ));
        assert!(from_json(json!([])).is_err());
        assert!(from_json(json!("*")).is_err());
        assert!(from_json(json!([1])).is_err());
    }
}
