//! The outcome writer: each outcome moves its message, joins the chat's
//! history and announces a `message.status` event with its deliveries,
//! all in one commit; values are stored as the readers expect them.

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;
use serde_json::json;
use std::time::Duration;
use wagate_core::outbound::{Content, MessageId, OutboundBody, OutboundStatus};
use wagate_store::events::NewEndpoint;
use wagate_store::outbound::{Accept, NewOutbound, Outcome};

#[path = "support/outbox.rs"]
mod outbox;
use outbox::{Fixture, fixture};
use wagate_store::testing::TestBackend;

impl Fixture {
    /// Queues a text to `phone` and claims it; returns its id.
    async fn sending(&self, phone: &str, text: &str) -> MessageId {
        let id = MessageId::generate();
        let accept = Accept {
            key: self.key.clone(),
            messages: vec![NewOutbound {
                id: id.clone(),
                recipient: format!("{phone}@s.whatsapp.net"),
                body: OutboundBody {
                    content: Content::Text {
                        text: text.into(),
                        link_preview: None,
                    },
                    reply_to: None,
                },
                send_at: None,
                batch_id: None,
            }],
            idempotency: None,
            response_status: 202,
            response: json!({}),
        };
        self.enqueuer.submit(accept).await.unwrap();
        let claimed = self
            .queue
            .claim(&self.key, "test", 10, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(claimed.iter().any(|c| c.id == id));
        id
    }

    /// Records `outcomes` as one batch.
    async fn apply(&self, outcomes: Vec<Outcome>) {
        for o in outcomes {
            self.outcomes.record(o);
        }
        self.outcomes.flush().await;
    }

    async fn status(&self, id: &MessageId) -> OutboundStatus {
        let m = self.queue.get(&self.key, id.as_str()).await.unwrap();
        m.expect("the message").status
    }

    /// The `message.status` events so far: (id, status, error).
    async fn announced(&self) -> Vec<(String, String, Option<String>)> {
        let events = self.events.after(self.key.tenant, None, 0, 100).await;
        let events = events.unwrap().into_iter();
        let events = events.filter(|e| e.kind == "message.status").map(|e| {
            let d = &e.data;
            let error = d.get("error").and_then(|e| e.as_str()).map(str::to_string);
            (
                d["id"].as_str().unwrap().into(),
                d["status"].as_str().unwrap().into(),
                error,
            )
        });
        events.collect()
    }

    async fn rows(&self, sql: &'static str) -> Vec<(String, String)> {
        let rows = wagate_store::db::query(sql)
            .fetch_all(self.store.db())
            .await
            .unwrap();
        rows.iter()
            .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap()))
            .collect()
    }
}

on_both_databases! {
    async fn outcomes_move_messages_once_and_announce_each_move(backend) {
        let f = fixture(backend).await;
        f.events
            .create_endpoint(NewEndpoint {
                id: "wh_all".into(),
                tenant: f.key.tenant,
                session: None,
                url: "https://example.com/hook".into(),
                events: vec!["message.status".into()],
                secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
                headers: vec![],
                shape: "native".into(),
            })
            .await
            .unwrap();
        let (a, b, c) = (
            f.sending("15550400001", "one").await,
            f.sending("15550400002", "two").await,
            f.sending("15550400003", "three").await,
        );
        let at_ms = 1_700_000_000_000;
        f.apply(vec![
            Outcome::Sent {
                id: a.clone(),
                at_ms,
            },
            Outcome::Retry {
                id: b.clone(),
                not_before_ms: at_ms,
                reason: "capped".into(),
                counts: false,
            },
            Outcome::Failed {
                id: c.clone(),
                reason: "refused".into(),
            },
        ])
        .await;
        // A receipt for the sent one, one that changes nothing (a lower
        // status), and an ack that comes again.
        f.apply(vec![
            Outcome::Receipt {
                key: f.key.clone(),
                id: a.as_str().into(),
                status: OutboundStatus::Read,
                at_ms: at_ms + 2000,
            },
            Outcome::Receipt {
                key: f.key.clone(),
                id: a.as_str().into(),
                status: OutboundStatus::Delivered,
                at_ms: at_ms + 3000,
            },
            Outcome::Sent {
                id: a.clone(),
                at_ms: at_ms + 4000,
            },
        ])
        .await;

        assert_eq!(f.status(&a).await, OutboundStatus::Read);
        assert_eq!(f.status(&b).await, OutboundStatus::Queued);
        assert_eq!(f.status(&c).await, OutboundStatus::Failed);
        let retried = f.queue.get(&f.key, b.as_str()).await.unwrap().unwrap();
        // A try that did not count gives its attempt back and keeps no error.
        assert_eq!((retried.attempts, retried.last_error), (0, None));
        assert_eq!(retried.wait_reason.as_deref(), Some("capped"));
        let sent = f.queue.get(&f.key, a.as_str()).await.unwrap().unwrap();
        assert_eq!(sent.sent_at.unwrap().timestamp_millis(), at_ms);
        assert_eq!(sent.read_at.unwrap().timestamp_millis(), at_ms + 2000);
        assert_eq!(sent.delivered_at.unwrap().timestamp_millis(), at_ms + 3000);

        let (a, c) = (a.as_str().to_string(), c.as_str().to_string());
        assert_eq!(
            f.announced().await,
            [
                (a.clone(), "sent".into(), None),
                (c.clone(), "failed".into(), Some("refused".into())),
                (a.clone(), "read".into(), None),
            ]
        );
        // Every announcement is queued for the endpoint.
        let deliveries = f
            .events
            .claim_deliveries(100, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(deliveries.len(), 3);
        // Both left the queue, so both are in their chats (a failed message
        // too); the one that waits is not yet.
        let history = f
            .rows("SELECT message_id, text FROM chat_messages ORDER BY message_id")
            .await;
        let mut want = vec![(a, "one".to_string()), (c, "three".to_string())];
        want.sort();
        assert_eq!(history, want);
    }
}

/// SQLite keeps whatever type a value is bound with; PostgreSQL's columns
/// have fixed types, so this holds there by construction.
#[tokio::test]
async fn values_are_stored_with_the_types_the_readers_expect() {
    let f = fixture(TestBackend::Sqlite).await;
    let a = f.sending("15550400001", "one").await;
    let b = f.sending("15550400002", "two").await;
    f.apply(vec![
        Outcome::Sent {
            id: a.clone(),
            at_ms: 1_700_000_000_000,
        },
        Outcome::Retry {
            id: b.clone(),
            not_before_ms: 1_700_000_000_000,
            reason: "offline".into(),
            counts: true,
        },
    ])
    .await;
    // Times and ids are integers, JSON is text, absent values are NULL,
    // flags are 0 or 1.
    let types = f
        .rows(
            "SELECT 'event', typeof(seq) || typeof(tenant_id) || typeof(data) || typeof(created_at) \
             FROM events \
             UNION ALL SELECT id, typeof(sent_at) || typeof(updated_at) || held || typeof(last_error) \
             || typeof(claimed_by) FROM outbound_messages \
             UNION ALL SELECT 'history', typeof(sender_jid) || typeof(event_seq) || typeof(at) \
             || typeof(text) FROM chat_messages",
        )
        .await;
    assert_eq!(
        types,
        [
            ("event".into(), "integerintegertextinteger".into()),
            (a.as_str().into(), "integerinteger0nullnull".into()),
            (b.as_str().into(), "nullinteger1textnull".into()),
            ("history".into(), "nullnullintegertext".into()),
        ]
    );
    let data: String = wagate_store::db::query_scalar("SELECT data FROM events")
        .fetch_one(f.store.db())
        .await
        .unwrap();
    let want = json!({
        "id": a.as_str(), "to": "15550400001@s.whatsapp.net", "status": "sent",
        "timestamp": 1_700_000_000,
    });
    assert_eq!(data, want.to_string());
}

on_both_databases! {
    async fn an_outcome_that_cannot_be_written_leaves_nothing_and_spares_the_batch(backend) {
        let f = fixture(backend).await;
        let a = f.sending("15550400001", "one").await;
        let b = f.sending("15550400002", "two").await;
        // The second message's history row is refused: its status and its
        // event must not stay, and the first message's must.
        let refusal = match backend {
            TestBackend::Sqlite => vec![format!(
                "CREATE TRIGGER refuse_history BEFORE INSERT ON chat_messages \
                 WHEN NEW.message_id = '{}' BEGIN SELECT RAISE(ABORT, 'refused'); END",
                b.as_str()
            )],
            TestBackend::Postgres => vec![
                format!(
                    "CREATE FUNCTION refuse_history() RETURNS trigger AS $$ BEGIN \
                     IF NEW.message_id = '{}' THEN RAISE EXCEPTION 'refused'; END IF; \
                     RETURN NEW; END $$ LANGUAGE plpgsql",
                    b.as_str()
                ),
                "CREATE TRIGGER refuse_history BEFORE INSERT ON chat_messages \
                 FOR EACH ROW EXECUTE FUNCTION refuse_history()"
                    .to_string(),
            ],
        };
        for sql in refusal {
            wagate_store::db::query(sql).execute(f.store.db()).await.unwrap();
        }
        let sent = |id: &MessageId| Outcome::Sent {
            id: id.clone(),
            at_ms: 1_700_000_000_000,
        };
        f.apply(vec![sent(&a), sent(&b)]).await;
        assert_eq!(f.status(&a).await, OutboundStatus::Sent);
        assert_eq!(f.status(&b).await, OutboundStatus::Sending);
        assert_eq!(f.announced().await.len(), 1);
        let chats = |f: &Fixture| {
            let db = f.store.db().clone();
            async move {
                let rows = wagate_store::db::query(
                    "SELECT chat_jid, message_count FROM chats ORDER BY chat_jid",
                )
                .fetch_all(&db)
                .await
                .unwrap();
                rows.iter()
                    .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap()))
                    .collect::<Vec<(String, i64)>>()
            }
        };
        assert_eq!(chats(&f).await, [("15550400001@s.whatsapp.net".into(), 1)]);

        // Once it can be written, the refused one is.
        let drop = match backend {
            TestBackend::Sqlite => "DROP TRIGGER refuse_history",
            TestBackend::Postgres => "DROP TRIGGER refuse_history ON chat_messages",
        };
        wagate_store::db::query(drop)
            .execute(f.store.db())
            .await
            .unwrap();
        f.apply(vec![sent(&b)]).await;
        assert_eq!(f.status(&b).await, OutboundStatus::Sent);
        assert_eq!(f.announced().await.len(), 2);
        assert_eq!(
            chats(&f).await,
            [
                ("15550400001@s.whatsapp.net".into(), 1),
                ("15550400002@s.whatsapp.net".into(), 1)
            ]
        );
    }
}
