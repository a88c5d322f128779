//! A claimed batch made ready to send: its events read in one query and
//! each of its endpoints once, instead of two reads for every delivery.
//!
//! Endpoints are read when the batch is claimed, and the batch starts at
//! once, so disabling, deleting or editing an endpoint still applies to
//! the next claim.

use std::collections::HashMap;
use std::sync::Arc;

use wagate_core::CoreError;
use wagate_store::Events;
use wagate_store::events::{ClaimedDelivery, Endpoint, StoredEvent};

/// One claimed delivery with what its attempt needs.
pub(crate) struct Ready {
    pub claimed: ClaimedDelivery,
    /// `None`: the event was deleted since it was queued.
    pub event: Option<Arc<StoredEvent>>,
    /// `None`: the endpoint was deleted (or the event is gone).
    pub endpoint: Option<Arc<Endpoint>>,
}

/// Reads the events and endpoints of `claimed`, keeping its order.
pub(crate) async fn prepare(
    events: &Events,
    claimed: Vec<ClaimedDelivery>,
) -> Result<Vec<Ready>, CoreError> {
    let mut seqs: Vec<i64> = claimed.iter().map(|c| c.event_seq).collect();
    seqs.sort_unstable();
    seqs.dedup();
    let found: HashMap<i64, Arc<StoredEvent>> = events
        .events_by_seq(&seqs)
        .await?
        .into_iter()
        .map(|(seq, event)| (seq, Arc::new(event)))
        .collect();
    // By tenant and id: an endpoint is only ever the tenant's own.
    let mut endpoints: HashMap<(i64, String), Option<Arc<Endpoint>>> = HashMap::new();
    let mut ready = Vec::with_capacity(claimed.len());
    for claimed in claimed {
        let event = found.get(&claimed.event_seq).cloned();
        let endpoint = match &event {
            Some(event) => {
                let key = (event.key.tenant.0, claimed.endpoint_id.clone());
                if !endpoints.contains_key(&key) {
                    let read = events
                        .endpoint(event.key.tenant, &claimed.endpoint_id)
                        .await?;
                    endpoints.insert(key.clone(), read.map(Arc::new));
                }
                endpoints[&key].clone()
            }
            None => None,
        };
        ready.push(Ready {
            claimed,
            event,
            endpoint,
        });
    }
    Ok(ready)
}
