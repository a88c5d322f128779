//! The event outbox: fan-out to matching endpoints in the same commit,
//! inbound deduplication, claims, attempts, disabling and replay.

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;
use chrono::Utc;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use wagate_core::{SessionId, SessionKey, TenantId};
use wagate_store::events::{Attempt, DeliveryState, InboundKey, NewEndpoint, NewEvent};
use wagate_store::testing::{TestBackend, TestDatabase};
use wagate_store::{Committer, Events, StateCipher};

async fn events(backend: TestBackend) -> (Events, TestDatabase) {
    let database = TestDatabase::create(backend).await;
    let (cipher, _) = StateCipher::generate();
    let events = Events::new(Committer::start(database.open().await), Arc::new(cipher))
        .await
        .unwrap();
    (events, database)
}

fn key(tenant: i64, session: &str) -> SessionKey {
    SessionKey {
        tenant: TenantId(tenant),
        session: SessionId::parse(session).unwrap(),
    }
}

fn event(k: &SessionKey, kind: &str, n: u32) -> NewEvent {
    NewEvent {
        id: format!("evt_{kind}_{n}"),
        key: k.clone(),
        kind: kind.into(),
        data: json!({ "n": n }),
        held_for: None,
    }
}

async fn endpoint(ev: &Events, id: &str, tenant: i64, session: Option<&str>, filter: &[&str]) {
    ev.create_endpoint(NewEndpoint {
        id: id.into(),
        tenant: TenantId(tenant),
        session: session.map(|s| SessionId::parse(s).unwrap()),
        url: format!("https://example.com/{id}"),
        events: filter.iter().map(|s| s.to_string()).collect(),
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
        headers: vec![("x-token".into(), "t".into())],
        shape: "native".into(),
    })
    .await
    .unwrap();
}

on_both_databases! {
    async fn events_fan_out_to_matching_endpoints_only(backend) {
        let (ev, _dir) = events(backend).await;
        endpoint(&ev, "wh_all", 1, None, &["*"]).await;
        endpoint(&ev, "wh_s1_msgs", 1, Some("s1"), &["message.received"]).await;
        endpoint(&ev, "wh_s2", 1, Some("s2"), &["*"]).await;
        endpoint(&ev, "wh_other_tenant", 2, None, &["*"]).await;
        let stored = ev.endpoint(TenantId(1), "wh_all").await.unwrap().unwrap();
        assert_eq!(stored.secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert!(ev.endpoint(TenantId(2), "wh_all").await.unwrap().is_none());

        let s1 = key(1, "s1");
        ev.append(vec![
            event(&s1, "message.received", 1),
            event(&s1, "session.status", 2),
        ])
        .await
        .unwrap();
        let claimed = ev
            .claim_deliveries(100, Duration::from_secs(60))
            .await
            .unwrap();
        let mut got: Vec<(String, i64)> = claimed
            .iter()
            .map(|c| (c.endpoint_id.clone(), c.event_seq))
            .collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("wh_all".into(), 1),
                ("wh_all".into(), 2),
                ("wh_s1_msgs".into(), 1)
            ]
        );
        // Claimed rows are not handed out twice while their claim holds.
        assert!(
            ev.claim_deliveries(100, Duration::from_secs(60))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            ev.after(TenantId(1), Some(&s1.session), 0, 10)
                .await
                .unwrap()
                .len(),
            2
        );
    }
}

on_both_databases! {
    async fn a_redelivered_inbound_message_is_one_event(backend) {
        let (ev, _dir) = events(backend).await;
        let s = key(1, "s1");
        let msg = |id: &str| InboundKey {
            chat: "15550001111@s.whatsapp.net".into(),
            sender: "15550001111@s.whatsapp.net".into(),
            message_id: id.into(),
        };
        let first = ev
            .append_inbound(vec![(msg("A"), event(&s, "message.received", 1))])
            .await
            .unwrap();
        let again = ev
            .append_inbound(vec![
                (msg("A"), event(&s, "message.received", 2)),
                (msg("B"), event(&s, "message.received", 3)),
            ])
            .await
            .unwrap();
        assert!(first[0].is_some());
        assert_eq!(again[0], None);
        assert!(again[1].is_some());
        assert_eq!(ev.after(TenantId(1), None, 0, 10).await.unwrap().len(), 2);
    }
}

on_both_databases! {
    async fn a_gone_endpoint_is_disabled_with_an_event_and_replay_requeues(backend) {
        let (ev, _dir) = events(backend).await;
        endpoint(&ev, "wh_a", 1, None, &["*"]).await;
        let s = key(1, "s1");
        let before = Utc::now() - chrono::Duration::seconds(1);
        ev.append(vec![
            event(&s, "message.received", 1),
            event(&s, "message.received", 2),
        ])
        .await
        .unwrap();
        let claimed = ev
            .claim_deliveries(1, Duration::from_secs(60))
            .await
            .unwrap();
        let mut disabled = event(&s, "webhook.disabled", 9);
        disabled.data = json!({ "endpointId": "wh_a", "reason": "the endpoint answered 410 Gone" });
        ev.record_attempt(Attempt {
            delivery_id: claimed[0].id,
            endpoint_id: "wh_a".into(),
            attempt: 1,
            status_code: Some(410),
            latency: Duration::from_millis(5),
            response_body: Some("gone".into()),
            error: None,
            verdict: "gone".into(),
            next: DeliveryState::Failed,
            disable: Some(disabled),
        })
        .await
        .unwrap();
        let e = ev.endpoint(TenantId(1), "wh_a").await.unwrap().unwrap();
        assert!(!e.enabled);
        assert_eq!(
            e.disabled_reason.as_deref(),
            Some("the endpoint answered 410 Gone")
        );
        // The other pending delivery was cancelled, nothing is due.
        assert!(
            ev.claim_deliveries(10, Duration::from_secs(60))
                .await
                .unwrap()
                .is_empty()
        );
        let log = ev.attempts("wh_a", None, 10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].status_code, Some(410));
        let kinds: Vec<String> = ev
            .after(TenantId(1), None, 0, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            ["message.received", "message.received", "webhook.disabled"]
        );

        let replayed = ev
            .replay(
                TenantId(1),
                "wh_a",
                before,
                Utc::now() + chrono::Duration::seconds(1),
            )
            .await
            .unwrap();
        assert_eq!(replayed, 3);
    }
}

on_both_databases! {
    async fn old_received_messages_skip_seed003_endpoints_and_held_ones_wait(backend) {
        let (ev, _dir) = events(backend).await;
        for (id, shape) in [("wh_native", "native"), ("wh_seed003", "seed003")] {
            ev.create_endpoint(NewEndpoint {
                id: id.into(),
                tenant: TenantId(1),
                session: None,
                url: format!("https://example.com/{id}"),
                events: vec!["*".into()],
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                headers: vec![],
                shape: shape.into(),
            })
            .await
            .unwrap();
        }
        let s = key(1, "s1");
        let received = |id: &str, days_ago: i64, held: Option<&str>| {
            let sent = Utc::now().timestamp() - days_ago * 86_400;
            let data = json!({
                "id": id, "chatId": "15550001111@s.whatsapp.net", "isGroup": false,
                "timestamp": sent, "type": "text", "text": id,
                "from": { "phone": "15550001111", "jid": "15550001111@s.whatsapp.net" },
            });
            let inbound = InboundKey {
                chat: "15550001111@s.whatsapp.net".into(),
                sender: "15550001111@s.whatsapp.net".into(),
                message_id: id.into(),
            };
            let event = NewEvent {
                id: format!("evt_{id}"),
                key: s.clone(),
                kind: "message.received".into(),
                data,
                held_for: held.map(str::to_string),
            };
            (inbound, event)
        };
        let seqs = ev
            .append_inbound(vec![
                received("recent", 89, None),
                received("old", 91, None),
                received("held", 0, Some("media")),
            ])
            .await
            .unwrap();
        let (recent, old, held) = (seqs[0].unwrap(), seqs[1].unwrap(), seqs[2].unwrap());
        // A tenant with no endpoints gets its event and no deliveries.
        let lone = ev.append(vec![event(&key(2, "s1"), "session.status", 1)]);
        let lone = lone.await.unwrap()[0];

        let deliveries = |ev: Events| async move {
            let claimed = ev.claim_deliveries(100, Duration::from_secs(60)).await;
            let mut got: Vec<(String, i64)> = claimed
                .unwrap()
                .into_iter()
                .map(|c| (c.endpoint_id, c.event_seq))
                .collect();
            got.sort();
            got
        };
        assert_eq!(
            deliveries(ev.clone()).await,
            [
                ("wh_native".into(), recent),
                ("wh_native".into(), old),
                ("wh_seed003".into(), recent),
            ]
        );
        // The held event's deliveries go out once it is released.
        let data = ev.get(held).await.unwrap().unwrap().data;
        ev.settle_held(held, data).await.unwrap();
        assert_eq!(
            deliveries(ev.clone()).await,
            [("wh_native".into(), held), ("wh_seed003".into(), held)]
        );
        assert_eq!(ev.after(TenantId(2), None, 0, 10).await.unwrap().len(), 1);
        assert!(ev.get(lone).await.unwrap().is_some());
    }
}
