//! `GET /api/v1/admin/nodes` (admin keys): the gateway processes that have
//! served this database, and whether each still runs.

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::views::rfc3339;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use wagate_store::domain::NodeRecord;

/// A node that has not stopped but was not heard from for this long is
/// taken for dead: three missed heartbeats (they come every 10 s).
pub const MISSING_AFTER: Duration = Duration::seconds(30);

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/admin/nodes", get(list_nodes))
}

/// A gateway process and what it last reported.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeView {
    #[schema(example = "node_3f9c2a7b1e04d685")]
    pub id: String,
    /// Where the node's API is reached.
    #[schema(example = "http://10.0.0.5:8080")]
    pub address: String,
    #[schema(example = "0.1.0")]
    pub version: String,
    /// What the node does: `api`, `engine`, `sender`, `webhooks`.
    #[schema(example = json!(["api", "engine", "sender", "webhooks"]))]
    pub roles: Vec<String>,
    #[schema(example = "2024-01-15T10:30:00.000Z")]
    pub started_at: String,
    #[schema(example = "2024-01-15T10:45:10.000Z")]
    pub last_heartbeat: String,
    /// Connected sessions at the last heartbeat.
    #[schema(example = 12)]
    pub session_count: u32,
    /// `running`; `stopped` (shut down cleanly); or `missing`: not
    /// stopped, but no heartbeat for more than 30 seconds.
    #[schema(example = "running")]
    pub state: &'static str,
}

impl NodeView {
    fn at(node: NodeRecord, now: DateTime<Utc>) -> Self {
        let state = if node.stopped_at.is_some() {
            "stopped"
        } else if now - node.last_heartbeat > MISSING_AFTER {
            "missing"
        } else {
            "running"
        };
        NodeView {
            id: node.id,
            address: node.address,
            version: node.version,
            roles: node.roles,
            started_at: rfc3339(node.started_at),
            last_heartbeat: rfc3339(node.last_heartbeat),
            session_count: node.session_count,
            state,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeList {
    pub nodes: Vec<NodeView>,
}

/// The nodes that have served this database, the most recently heard
/// from first.
#[utoipa::path(get, path = "/api/v1/admin/nodes", tag = "nodes",
    responses((status = 200, body = NodeList),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("apiKey" = [])))]
pub async fn list_nodes(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<NodeList>, ApiError> {
    caller.require_admin()?;
    let now = Utc::now();
    let nodes = state.store.nodes().await?;
    Ok(Json(NodeList {
        nodes: nodes.into_iter().map(|n| NodeView::at(n, now)).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(last_heartbeat: DateTime<Utc>, stopped_at: Option<DateTime<Utc>>) -> NodeRecord {
        NodeRecord {
            id: "node_0123456789abcdef".to_string(),
            address: "http://127.0.0.1:8080".to_string(),
            version: "0.1.0".to_string(),
            roles: vec!["api".to_string()],
            started_at: last_heartbeat,
            last_heartbeat,
            session_count: 0,
            stopped_at,
        }
    }

    #[test]
    fn a_node_is_missing_once_its_heartbeats_stop_for_30_seconds() {
        let now = Utc::now();
        let state = |beat: DateTime<Utc>, stopped| NodeView::at(node(beat, stopped), now).state;
        assert_eq!(state(now - Duration::seconds(10), None), "running");
        assert_eq!(state(now - MISSING_AFTER, None), "running");
        assert_eq!(state(now - Duration::seconds(31), None), "missing");
        assert_eq!(state(now - Duration::hours(1), Some(now)), "stopped");
    }

    #[test]
    fn times_are_rfc3339_with_milliseconds() {
        let at = DateTime::parse_from_rfc3339("2024-01-15T10:30:00.5Z")
            .unwrap()
            .with_timezone(&Utc);
        let view = NodeView::at(node(at, None), at);
        assert_eq!(view.started_at, "2024-01-15T10:30:00.500Z");
        assert_eq!(view.last_heartbeat, "2024-01-15T10:30:00.500Z");
    }
}
