//! Accepting and claiming messages: an idempotency key replays its first
//! answer and refuses another request; claims hand out due messages in
//! acceptance order, once.

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;
use serde_json::json;
use std::time::Duration;
use wagate_core::outbound::{Content, MessageId, OutboundBody};
use wagate_core::{SessionId, SessionKey};
use wagate_store::outbound::{Accept, AcceptOutcome, Enqueuer, IdempotencyKey, NewOutbound};
use wagate_store::{Committer, Outbound, Store};

fn text(recipient: &str, text: &str) -> NewOutbound {
    NewOutbound {
        id: MessageId::generate(),
        recipient: recipient.into(),
        body: OutboundBody {
            content: Content::Text {
                text: text.into(),
                link_preview: None,
            },
            reply_to: None,
        },
        send_at: None,
        batch_id: Some("batch_1".into()),
    }
}

on_both_databases! {
    async fn keys_replay_the_first_answer_and_claims_follow_acceptance_order(backend) {
        let database = wagate_store::testing::TestDatabase::create(backend).await;
        let db = database.open().await;
        let tenant = Store::new(db.clone()).default_tenant().await.unwrap();
        let queue = Outbound::new(Committer::start(db));
        let enqueuer = Enqueuer::start(queue.clone()).await.unwrap();
        let key = SessionKey {
            tenant: tenant.id,
            session: SessionId::parse("shop").unwrap(),
        };
        let request = |hash: &str, messages: Vec<NewOutbound>| Accept {
            key: key.clone(),
            messages,
            idempotency: Some(IdempotencyKey {
                key: "order-17".into(),
                request_hash: hash.into(),
            }),
            response_status: 202,
            response: json!({ "accepted": 2 }),
        };
        let to = "15550500001@s.whatsapp.net";
        let (first, second) = (text(to, "one"), text(to, "two"));
        let accepted = enqueuer
            .submit(request("h1", vec![first.clone(), second.clone()]))
            .await;
        assert_eq!(accepted.unwrap(), AcceptOutcome::Accepted);
        let again = enqueuer.submit(request("h1", vec![text(to, "one")])).await;
        assert_eq!(
            again.unwrap(),
            AcceptOutcome::Replayed {
                status: 202,
                body: json!({ "accepted": 2 })
            }
        );
        let other = enqueuer.submit(request("h2", vec![text(to, "x")])).await;
        assert_eq!(other.unwrap(), AcceptOutcome::KeyReused);

        let stored = queue.get(&key, first.id.as_str()).await.unwrap().unwrap();
        assert_eq!(stored.batch_id.as_deref(), Some("batch_1"));
        assert_eq!(stored.body, first.body);
        assert_eq!((stored.send_at, stored.attempts), (None, 0));

        let claimed = queue
            .claim(&key, "worker-1", 10, Duration::from_secs(60))
            .await
            .unwrap();
        let ids: Vec<_> = claimed.iter().map(|c| (c.id.clone(), c.attempts)).collect();
        assert_eq!(ids, [(first.id, 1), (second.id, 1)]);
        assert_eq!(claimed[1].recipient, to);
        // Claimed rows are not handed out again while their claim holds.
        let none = queue.claim(&key, "worker-2", 10, Duration::from_secs(60));
        assert!(none.await.unwrap().is_empty());
    }
}
