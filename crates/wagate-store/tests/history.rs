//! Message history: received and sent messages read back as chats, edits
//! and deletions shown on their message, and retention that deletes old
//! history but never what is still owed to someone.

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;
use serde_json::json;
use std::time::Duration;
use wagate_core::outbound::{Content, MessageId, MessageRef, OutboundBody};
use wagate_core::{CoreError, TenantId};
use wagate_store::events::{Attempt, DeliveryState, InboundKey, NewEndpoint, NewEvent};
use wagate_store::history::{ChatQuery, sweep_once};
use wagate_store::outbound::{Accept, Outcome};

const DAY_MS: i64 = 86_400_000;

#[path = "support/outbox.rs"]
mod outbox;
use outbox::{Fixture, fixture};

fn jid(phone: &str) -> String {
    format!("{phone}@s.whatsapp.net")
}

/// Unix seconds `secs_ago` seconds before now.
fn ago(secs_ago: i64) -> i64 {
    chrono::Utc::now().timestamp() - secs_ago
}

impl Fixture {
    /// Contact `phone` writes `body` (the message part of the payload).
    async fn receive(&self, phone: &str, id: &str, ts: i64, body: serde_json::Value) -> i64 {
        let mut data = json!({
            "id": id, "chatId": jid(phone), "isGroup": false, "timestamp": ts,
            "from": { "phone": phone, "jid": jid(phone) },
        });
        data.as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let key = InboundKey {
            chat: jid(phone),
            sender: jid(phone),
            message_id: id.into(),
        };
        let event = NewEvent {
            id: format!("evt_{id}"),
            key: self.key.clone(),
            kind: "message.received".into(),
            data,
            held_for: None,
        };
        let seqs = self.events.append_inbound(vec![(key, event)]).await;
        seqs.unwrap()[0].expect("a new message")
    }

    async fn text_in(&self, phone: &str, id: &str, ts: i64, text: &str) -> i64 {
        self.receive(phone, id, ts, json!({ "type": "text", "text": text }))
            .await
    }

    /// Queues `content` to `phone`; returns its id.
    async fn queue(&self, phone: &str, content: Content) -> String {
        let id = MessageId::generate();
        let accept = Accept {
            key: self.key.clone(),
            messages: vec![wagate_store::outbound::NewOutbound {
                id: id.clone(),
                recipient: jid(phone),
                body: OutboundBody {
                    content,
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
        id.as_str().to_string()
    }

    /// Queues and sends `content` to `phone`, acked at `at_ms`.
    async fn send(&self, phone: &str, content: Content, at_ms: i64) -> String {
        let id = self.queue(phone, content).await;
        let claimed = self
            .queue
            .claim(&self.key, "test", 10, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(claimed.iter().any(|c| c.id.as_str() == id));
        self.outcomes.record(Outcome::Sent {
            id: MessageId::parse(&id).unwrap(),
            at_ms,
        });
        self.outcomes.flush().await;
        id
    }

    async fn page(
        &self,
        chat: &str,
        cursor: Option<i64>,
        ascending: bool,
    ) -> (Vec<String>, Option<i64>) {
        let q = ChatQuery {
            chat_jid: chat.into(),
            cursor,
            ascending,
            limit: 2,
            ..Default::default()
        };
        let page = self.store.chat_messages(&self.key, &q).await.unwrap();
        let texts = page
            .items
            .iter()
            .map(|m| m.text.clone().unwrap_or_default());
        (texts.collect(), page.next)
    }

    /// Marks every due webhook delivery delivered.
    async fn deliver_all(&self) {
        let claimed = self
            .events
            .claim_deliveries(100, Duration::from_secs(60))
            .await
            .unwrap();
        for d in claimed {
            let attempt = Attempt {
                delivery_id: d.id,
                endpoint_id: d.endpoint_id,
                attempt: d.attempt,
                status_code: Some(200),
                latency: Duration::from_millis(3),
                response_body: None,
                error: None,
                verdict: "delivered".into(),
                next: DeliveryState::Delivered,
                disable: None,
            };
            self.events.record_attempt(attempt).await.unwrap();
        }
    }

    async fn count(&self, sql: impl Into<std::borrow::Cow<'static, str>>) -> i64 {
        wagate_store::db::query_scalar(sql)
            .fetch_one(self.store.db())
            .await
            .unwrap()
    }
}

fn text(t: &str) -> Content {
    Content::Text {
        text: t.into(),
        link_preview: None,
    }
}

on_both_databases! {
    async fn a_conversation_reads_back_in_order_with_pagination(backend) {
        let f = fixture(backend).await;
        let (ana, bo) = ("15550300001", "15550300002");
        f.text_in(ana, "IN1", ago(100), "hi").await;
        f.send(ana, text("hello ana"), (ago(90)) * 1000).await;
        // Written offline earlier, arriving late: placed by its own time.
        f.text_in(ana, "IN0", ago(120), "are you there?").await;
        f.text_in(bo, "BO1", ago(85), "bo here").await;
        f.text_in(ana, "IN2", ago(80), "thanks").await;

        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let (texts, next) = f.page(&jid(ana), cursor, false).await;
            seen.extend(texts);
            match next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ["thanks", "hello ana", "hi", "are you there?"]);
        let (first, next) = f.page(&jid(ana), None, true).await;
        assert_eq!(first, ["are you there?", "hi"]);
        let (second, next) = f.page(&jid(ana), next, true).await;
        assert_eq!(
            (second, next),
            (vec!["hello ana".into(), "thanks".into()], None)
        );

        let all = f
            .store
            .chat_messages(
                &f.key,
                &ChatQuery {
                    chat_jid: jid(ana),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items;
        let sent = &all[1];
        assert_eq!(sent.direction, "out");
        assert_eq!(sent.sent.as_ref().unwrap().status, "sent");
        assert_eq!(sent.sent.as_ref().unwrap().body["text"], "hello ana");
        let received = &all[0];
        assert_eq!(
            (received.direction.as_str(), received.sender_jid.clone()),
            ("in", Some(jid(ana)))
        );
        assert_eq!(received.event.as_ref().unwrap().1["text"], "thanks");

        let window = ChatQuery {
            chat_jid: jid(ana),
            before_ms: Some(ago(85) * 1000),
            after_ms: Some(ago(110) * 1000),
            limit: 10,
            ..Default::default()
        };
        let window = f.store.chat_messages(&f.key, &window).await.unwrap().items;
        let texts: Vec<_> = window.iter().map(|m| m.text.clone().unwrap()).collect();
        assert_eq!(texts, ["hello ana", "hi"]);

        let chats = f.store.chats(&f.key, None, 1).await.unwrap();
        assert_eq!(chats.items[0].chat_jid, jid(ana));
        assert_eq!(chats.items[0].message_count, 4);
        assert_eq!(chats.items[0].last.text.as_deref(), Some("thanks"));
        let rest = f.store.chats(&f.key, chats.next, 1).await.unwrap();
        assert_eq!((rest.items[0].chat_jid.clone(), rest.next), (jid(bo), None));

        let nobody = ChatQuery {
            chat_jid: jid("15550399999"),
            limit: 5,
            ..Default::default()
        };
        assert!(
            f.store
                .chat_messages(&f.key, &nobody)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let stray = ChatQuery {
            chat_jid: jid(bo),
            cursor: chats.next,
            limit: 5,
            ..Default::default()
        };
        let err = f.store.chat_messages(&f.key, &stray).await.unwrap_err();
        assert!(
            matches!(
                err,
                CoreError::Validation {
                    field: "cursor",
                    ..
                }
            ),
            "{err}"
        );
    }
}

on_both_databases! {
    async fn edits_deletions_and_reactions_show_on_their_message(backend) {
        let f = fixture(backend).await;
        let ana = "15550300011";
        f.text_in(ana, "A1", ago(50), "see you at 5").await;
        f.text_in(ana, "A2", ago(40), "oops").await;
        let mine = f.send(ana, text("ok"), ago(30) * 1000).await;
        f.receive(
            ana,
            "A3",
            ago(20),
            json!({"type": "edit", "edit": {"targetId": "A1", "text": "see you at 6"}}),
        )
        .await;
        f.receive(
            ana,
            "A4",
            ago(15),
            json!({"type": "revoke", "revoke": {"targetId": "A2"}}),
        )
        .await;
        f.receive(
            ana,
            "A5",
            ago(10),
            json!({"type": "reaction", "reaction": {"targetId": mine, "emoji": "👍"}}),
        )
        .await;
        let target = MessageRef {
            id: "A1".into(),
            from_me: false,
            participant: None,
            text: None,
        };
        f.send(
            ana,
            Content::Reaction {
                target,
                emoji: "❤".into(),
            },
            ago(5) * 1000,
        )
        .await;
        let target = MessageRef {
            id: mine.clone(),
            from_me: true,
            participant: None,
            text: None,
        };
        f.send(
            ana,
            Content::Edit {
                target,
                text: "ok!".into(),
            },
            ago(4) * 1000,
        )
        .await;

        let q = ChatQuery {
            chat_jid: jid(ana),
            ascending: true,
            limit: 10,
            ..Default::default()
        };
        let items = f.store.chat_messages(&f.key, &q).await.unwrap().items;
        let ids: Vec<&str> = items.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(
            ids,
            ["A1", "A2", mine.as_str()],
            "changes are not messages of their own"
        );
        assert_eq!(items[0].text.as_deref(), Some("see you at 6"));
        assert!(items[0].edited_at.is_some());
        assert_eq!(items[0].event.as_ref().unwrap().1["text"], "see you at 5");
        assert_eq!(items[0].reactions, [("me".to_string(), "❤".to_string())]);
        assert!(items[1].deleted_at.is_some() && items[1].edited_at.is_none());
        assert_eq!(items[2].text.as_deref(), Some("ok!"));
        assert_eq!(items[2].reactions, [(jid(ana), "👍".to_string())]);
        let chats = f.store.chats(&f.key, None, 10).await.unwrap().items;
        assert_eq!(chats[0].message_count, 3);
    }
}

on_both_databases! {
    async fn retention_deletes_old_history_but_not_what_is_still_owed(backend) {
        let f = fixture(backend).await;
        let (ana, bo) = ("15550300021", "15550300022");
        f.text_in(bo, "B1", ago(3 * 86_400), "old and done").await;
        f.send(bo, text("old reply"), (ago(3 * 86_400) + 5) * 1000)
            .await;
        let endpoint = NewEndpoint {
            id: "wh_1".into(),
            tenant: f.key.tenant,
            session: None,
            url: "https://example.com/hook".into(),
            events: vec!["message.received".into()],
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            headers: vec![],
            shape: "native".into(),
        };
        f.events.create_endpoint(endpoint).await.unwrap();
        f.text_in(ana, "A1", ago(3 * 86_400), "old, webhook pending")
            .await;
        let queued = f.queue(ana, text("old, still queued")).await;
        f.text_in(ana, "A2", ago(60), "recent").await;
        assert_eq!(
            f.store.chats(&f.key, None, 10).await.unwrap().items.len(),
            2
        );

        // A one-day retention, in tiny batches.
        f.store
            .set_history_retention(f.key.tenant, Some(1))
            .await
            .unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        let report = sweep_once(&f.committer, now, 0, 2).await.unwrap();
        assert_eq!(report.messages, 2, "{report:?}");
        let chats = f.store.chats(&f.key, None, 10).await.unwrap().items;
        assert_eq!(chats.len(), 1, "bo's chat is gone with its messages");
        assert_eq!(
            (chats[0].chat_jid.clone(), chats[0].message_count),
            (jid(ana), 2)
        );
        assert_eq!(f.count("SELECT COUNT(*) FROM inbound_seen").await, 2);
        assert!(f.queue.get(&f.key, &queued).await.unwrap().is_some());
        assert_eq!(f.count("SELECT COUNT(*) FROM outbound_messages").await, 1);
        // B1's event went with it; the rest were written just now.
        assert_eq!(f.count("SELECT COUNT(*) FROM events").await, 3);

        // Once delivered, the old message goes; the recent one stays.
        f.deliver_all().await;
        let report = sweep_once(&f.committer, now, 0, 2).await.unwrap();
        assert_eq!(report.messages, 1, "{report:?}");
        let chats = f.store.chats(&f.key, None, 10).await.unwrap().items;
        assert_eq!(chats[0].message_count, 1);
        assert_eq!(chats[0].last.text.as_deref(), Some("recent"));
        // Two days on, everything old enough and owed to nobody is gone.
        let report = sweep_once(&f.committer, now + 2 * DAY_MS, 0, 2)
            .await
            .unwrap();
        // A2 goes with its event; the sent message's status event on its own.
        assert_eq!((report.messages, report.events), (1, 1), "{report:?}");
        for table in [
            "events",
            "webhook_deliveries",
            "webhook_attempts",
            "inbound_seen",
            "chats",
        ] {
            let n = f.count(format!("SELECT COUNT(*) FROM {table}")).await;
            assert_eq!(n, 0, "{table}");
        }
        assert!(f.queue.get(&f.key, &queued).await.unwrap().is_some());

        // 0 keeps forever, whatever the default.
        f.text_in(ana, "A3", ago(10 * 86_400), "ancient").await;
        f.deliver_all().await;
        f.store
            .set_history_retention(f.key.tenant, Some(0))
            .await
            .unwrap();
        let report = sweep_once(&f.committer, now + 365 * DAY_MS, 1, 2)
            .await
            .unwrap();
        assert_eq!(report, Default::default());
        // No setting: the default applies.
        f.store
            .set_history_retention(f.key.tenant, None)
            .await
            .unwrap();
        let report = sweep_once(&f.committer, now, 1, 2).await.unwrap();
        assert_eq!(report.messages, 1, "{report:?}");
        assert!(
            f.store
                .chats(&f.key, None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        let bad = f
            .store
            .set_history_retention(f.key.tenant, Some(40_000))
            .await;
        assert!(matches!(bad, Err(CoreError::Validation { .. })));
        assert!(
            f.store
                .set_history_retention(TenantId(99), Some(3))
                .await
                .unwrap()
                .is_none()
        );
    }
}
