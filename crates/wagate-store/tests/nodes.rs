//! Nodes in the store: registering, heartbeats, stopping and listing.

use chrono::{Duration, TimeZone, Utc};
use wagate_store::domain::NewNode;

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;
use test_db::test_db;

fn new_node(id: &str) -> NewNode {
    NewNode {
        id: id.to_string(),
        address: format!("http://{id}.internal:8080"),
        version: "1.2.3".to_string(),
        roles: ["api", "engine", "sender", "webhooks"]
            .map(String::from)
            .to_vec(),
    }
}

on_both_databases! {
    async fn a_registered_node_runs_until_stopped(backend) {
        let db = test_db(backend).await;
        let start = Utc.timestamp_millis_opt(1_700_000_000_123).unwrap();
        let node = db
            .store
            .register_node(&new_node("node_a"), start)
            .await
            .unwrap();
        assert_eq!(node.id, "node_a");
        assert_eq!(node.address, "http://node_a.internal:8080");
        assert_eq!(node.version, "1.2.3");
        assert_eq!(node.roles, ["api", "engine", "sender", "webhooks"]);
        assert_eq!((node.started_at, node.last_heartbeat), (start, start));
        assert_eq!((node.session_count, node.stopped_at), (0, None));

        let beat = start + Duration::seconds(10);
        assert!(db.store.node_heartbeat("node_a", 7, beat).await.unwrap());
        let listed = db.store.nodes().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].last_heartbeat, listed[0].session_count),
            (beat, 7)
        );
        assert_eq!(listed[0].started_at, start);

        let end = beat + Duration::seconds(3);
        assert!(db.store.stop_node("node_a", end).await.unwrap());
        let listed = db.store.nodes().await.unwrap();
        assert_eq!(listed[0].stopped_at, Some(end));
        assert_eq!(listed[0].last_heartbeat, end, "alive until it stopped");
        assert_eq!(listed[0].session_count, 7);
    }
}

on_both_databases! {
    async fn unknown_nodes_are_reported_not_created(backend) {
        let db = test_db(backend).await;
        assert!(
            !db.store
                .node_heartbeat("node_x", 1, Utc::now())
                .await
                .unwrap()
        );
        assert!(!db.store.stop_node("node_x", Utc::now()).await.unwrap());
        assert!(db.store.nodes().await.unwrap().is_empty());
    }
}

on_both_databases! {
    async fn nodes_are_listed_newest_heartbeat_first(backend) {
        let db = test_db(backend).await;
        let t0 = Utc.timestamp_millis_opt(1_700_000_000_000).unwrap();
        for (i, id) in ["node_a", "node_b", "node_c"].iter().enumerate() {
            let at = t0 + Duration::seconds(i as i64);
            db.store.register_node(&new_node(id), at).await.unwrap();
        }
        // The oldest one beats last, so it comes first.
        let later = t0 + Duration::seconds(30);
        db.store.node_heartbeat("node_a", 2, later).await.unwrap();
        let ids: Vec<String> = db
            .store
            .nodes()
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.id)
            .collect();
        assert_eq!(ids, ["node_a", "node_c", "node_b"]);
    }
}

on_both_databases! {
    async fn node_ids_are_unique(backend) {
        let db = test_db(backend).await;
        db.store
            .register_node(&new_node("node_a"), Utc::now())
            .await
            .unwrap();
        assert!(
            db.store
                .register_node(&new_node("node_a"), Utc::now())
                .await
                .is_err()
        );
    }
}
