//! Message history end to end: a conversation with a wasim contact in
//! both directions reads back through the chat routes, a contact's edits
//! and deletions show on their messages, other tenants see nothing, and a
//! tenant's retention removes old history.

use super::sending::{SHOP, SHOP_PHONE, linked_shop, queue, sent};
use super::{TestApp, assert_error, eventually};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const CONTACT: &str = "15550400002";
const CONTACT_JID: &str = "15550400002@s.whatsapp.net";
const CHATS: &str = "/api/v1/sessions/shop/chats";

fn messages_of(chat: &str) -> String {
    format!("{CHATS}/{chat}/messages")
}

impl TestApp {
    /// Contact `CONTACT` sends `body` to the shop (wasim's contact send).
    async fn contact_writes(&self, body: Value) -> String {
        let mut body = body;
        body["to"] = SHOP_PHONE.into();
        let path = format!("/admin/contacts/{CONTACT}/send");
        let (status, answer) = self.sim_call(Method::POST, &path, Some(body)).await;
        assert_eq!(status, 200, "{answer}");
        answer["id"].as_str().unwrap().to_string()
    }

    /// The chat's messages (`query` appended), once `check` accepts them.
    async fn history_until(&self, query: &str, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let path = format!("{}?{query}", messages_of(CONTACT_JID));
        eventually(Duration::from_secs(30), || async {
            let page = self.read(&path, &self.admin_key).await;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            check(&items).then_some(items)
        })
        .await
    }

    /// Walks every page of `path` (which has a `?`); returns the items.
    async fn all_pages(&self, path: &str) -> Vec<Value> {
        let (mut items, mut cursor) = (Vec::new(), None::<i64>);
        loop {
            let url = match cursor {
                Some(c) => format!("{path}&cursor={c}"),
                None => path.to_string(),
            };
            let page = self.read(&url, &self.admin_key).await;
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["nextCursor"].as_i64() {
                Some(c) => cursor = Some(c),
                None => return items,
            }
        }
    }
}

fn texts(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|m| m["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn a_conversation_in_both_directions_reads_back_in_order() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;
    app.contact_writes(json!({"text": "hi", "pushName": "Ana"}))
        .await;
    app.history_until("", |m| m.len() == 1).await;
    let hello = queue(&app, json!({"to": CONTACT, "text": "hello Ana"})).await;
    sent(&app, &hello).await;
    app.contact_writes(json!({"text": "thanks"})).await;
    let (status, answer) = app
        .sim_call(
            Method::POST,
            &format!("/admin/contacts/{CONTACT}/send-many"),
            Some(json!({"to": SHOP_PHONE, "count": 3})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    app.history_until("", |m| m.len() == 6).await;

    let newest_first = app
        .all_pages(&format!("{}?limit=2", messages_of(CONTACT)))
        .await;
    let expected = ["msg 3", "msg 2", "msg 1", "thanks", "hello Ana", "hi"];
    assert_eq!(texts(&newest_first), expected);
    let oldest_first = app
        .all_pages(&format!(
            "{}?order=asc&limit=4",
            messages_of("%2B1 555 040-0002")
        ))
        .await;
    let mut reversed = expected.to_vec();
    reversed.reverse();
    assert_eq!(texts(&oldest_first), reversed);

    let mine = &newest_first[4];
    assert_eq!(
        (mine["id"].as_str(), mine["direction"].as_str()),
        (Some(hello.as_str()), Some("out"))
    );
    assert_eq!(mine["fromMe"], true);
    assert!(
        ["sent", "delivered", "read"].contains(&mine["status"].as_str().unwrap()),
        "{mine}"
    );
    assert_eq!(mine["content"]["text"], "hello Ana");
    let theirs = &newest_first[5];
    assert_eq!(theirs["direction"], "in");
    assert_eq!(theirs["from"]["phone"], CONTACT);
    assert_eq!(theirs["from"]["pushName"], "Ana");
    assert_eq!(theirs["content"]["type"], "text");
    assert!(
        theirs["eventId"].as_str().unwrap().starts_with("evt_"),
        "{theirs}"
    );

    let chats = app.read(CHATS, &app.admin_key).await;
    let chat = &chats["items"][0];
    assert_eq!(chats["nextCursor"], Value::Null);
    assert_eq!(
        (chat["chatId"].as_str(), chat["kind"].as_str()),
        (Some(CONTACT_JID), Some("direct"))
    );
    assert_eq!(chat["messageCount"], 6);
    assert_eq!(chat["lastMessage"]["text"], "msg 3");
    assert_eq!(chat["lastMessage"]["direction"], "in");

    // Filters by time; unknown chats are empty; bad parameters are named.
    let hello_at = mine["timestamp"].as_str().unwrap();
    let before = app
        .read(
            &format!("{}?before={}", messages_of(CONTACT), urlencode(hello_at)),
            &app.admin_key,
        )
        .await;
    assert_eq!(texts(before["items"].as_array().unwrap()), ["hi"]);
    let nobody = app.read(&messages_of("15550499999"), &app.admin_key).await;
    assert_eq!(nobody, json!({"items": [], "nextCursor": null}));
    for (query, field) in [
        ("cursor=abc", "cursor"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("order=up", "order"),
        ("before=yesterday", "before"),
        ("cursor=999999", "cursor"),
    ] {
        let response = app
            .get(&format!("{}?{query}", messages_of(CONTACT)), &app.admin_key)
            .await;
        let body = assert_error(response, 400, "Validation Error").await;
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    let response = app.get(&messages_of("not-a-chat"), &app.admin_key).await;
    assert_eq!(
        assert_error(response, 400, "Validation Error").await["field"],
        "chatId"
    );
    let response = app.get(&format!("{CHATS}?limit=x"), &app.admin_key).await;
    assert_eq!(
        assert_error(response, 400, "Validation Error").await["field"],
        "limit"
    );
}

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test]
async fn a_contacts_edits_and_deletions_show_on_their_messages() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;
    let first = app.contact_writes(json!({"text": "see you at 5"})).await;
    let second = app
        .contact_writes(json!({"text": "wrong chat, sorry"}))
        .await;
    let pdf = super::sending::base64(b"%PDF-1.4 the menu");
    app.contact_writes(json!({"type": "document", "content": pdf,
        "mimetype": "application/pdf", "filename": "menu.pdf"}))
        .await;
    app.contact_writes(json!({"type": "edit", "targetId": first, "text": "see you at 6"}))
        .await;
    app.contact_writes(json!({"type": "revoke", "targetId": second}))
        .await;
    let items = app
        .history_until("order=asc", |m| {
            m.len() == 3 && m[0]["edited"] == true && m[1]["deleted"] == true
        })
        .await;
    let edited = &items[0];
    assert_eq!(edited["id"], first.as_str());
    assert_eq!(edited["text"], "see you at 6");
    assert_eq!(
        edited["content"]["text"], "see you at 5",
        "the original stays in content"
    );
    assert!(edited["editedAt"].is_string());
    let deleted = &items[1];
    assert_eq!(deleted["id"], second.as_str());
    assert_eq!(
        (&deleted["text"], &deleted["content"]),
        (&Value::Null, &Value::Null)
    );
    let document = &items[2];
    assert_eq!(document["type"], "document");
    let url = document["mediaUrl"].as_str().unwrap();
    assert_eq!(document["content"]["media"]["url"], url);
    assert!(url.ends_with(&format!(
        "/api/v1/media/{}",
        document["eventId"].as_str().unwrap()
    )));
    let chats = app.read(CHATS, &app.admin_key).await;
    assert_eq!(chats["items"][0]["messageCount"], 3);
}

#[tokio::test]
async fn another_tenant_sees_no_history_and_cannot_set_its_retention() {
    let app = TestApp::spawn().await;
    app.create_session(&app.admin_key, SHOP).await;
    let (other, other_key) = app.tenant_with_key("other").await;
    let response = app.get(CHATS, &other_key).await;
    assert_error(response, 404, "Not Found").await;
    let response = app.get(&messages_of(CONTACT), &other_key).await;
    assert_error(response, 404, "Not Found").await;
    assert_eq!(
        app.read(CHATS, &app.admin_key).await,
        json!({"items": [], "nextCursor": null})
    );

    // A tenant key reads and changes its own tenant only.
    let own = format!("/api/v1/tenants/{other}");
    assert_eq!(
        app.read(&own, &other_key).await["historyRetentionDays"],
        Value::Null
    );
    let changed = patch(&app, &own, &other_key, json!({"historyRetentionDays": 7})).await;
    assert_eq!(changed.status(), 200);
    assert_eq!(
        changed.json::<Value>().await.unwrap()["historyRetentionDays"],
        7
    );
    let unchanged = patch(&app, &own, &other_key, json!({})).await;
    assert_eq!(
        unchanged.json::<Value>().await.unwrap()["historyRetentionDays"],
        7
    );
    let cleared = patch(
        &app,
        &own,
        &other_key,
        json!({"historyRetentionDays": null}),
    )
    .await;
    assert_eq!(
        cleared.json::<Value>().await.unwrap()["historyRetentionDays"],
        Value::Null
    );
    let too_long = patch(
        &app,
        &own,
        &other_key,
        json!({"historyRetentionDays": 99999}),
    )
    .await;
    assert_error(too_long, 400, "Validation Error").await;
    let default_tenant = format!("/api/v1/tenants/{}", default_tenant(&app).await);
    let body = json!({"historyRetentionDays": 1});
    let response = patch(&app, &default_tenant, &other_key, body).await;
    assert_error(response, 404, "Not Found").await;
    assert_error(app.get(&default_tenant, &other_key).await, 404, "Not Found").await;
    let kiosk = app.create_session(&app.admin_key, "kiosk").await;
    let session_key = kiosk["apiKey"].as_str().unwrap();
    assert_error(
        app.get(&default_tenant, session_key).await,
        403,
        "Forbidden",
    )
    .await;
}

/// The id of the tenant the admin key's sessions are created in.
async fn default_tenant(app: &TestApp) -> i64 {
    let tenants = app.read("/api/v1/tenants", &app.admin_key).await;
    let default = tenants["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "default");
    default.unwrap()["id"].as_i64().unwrap()
}

async fn patch(app: &TestApp, path: &str, key: &str, body: Value) -> reqwest::Response {
    app.request(Method::PATCH, path, key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_short_retention_removes_old_history() {
    let app = TestApp::spawn_with(&[("WAGATE_HISTORY_SWEEP_INTERVAL_MS", "50")]).await;
    linked_shop(&app).await;
    let old = app.contact_writes(json!({"text": "last week"})).await;
    app.contact_writes(json!({"text": "today"})).await;
    app.history_until("", |m| m.len() == 2).await;
    // Make the first message three days old, as if time had passed.
    wagate_store::db::query(
        "UPDATE chat_messages SET at = at - 3 * 86400000 WHERE message_id = $1",
    )
    .bind(&old)
    .execute(app.store().db())
    .await
    .unwrap();
    let tenant = format!("/api/v1/tenants/{}", default_tenant(&app).await);
    let body = json!({"historyRetentionDays": 1});
    let response = patch(&app, &tenant, &app.admin_key, body).await;
    assert_eq!(response.status(), 200);
    let left = app.history_until("", |m| m.len() == 1).await;
    assert_eq!(texts(&left), ["today"]);
    let chats = app.read(CHATS, &app.admin_key).await;
    assert_eq!(chats["items"][0]["messageCount"], 1);
}
