//! Text, places, contact cards and polls reach the contact's phone with
//! every field the sender gave, and the API then shows them sent.

use super::TestApp;
use super::sending::{SHOP_PHONE, linked_shop, queue, sent};
use serde_json::json;

const CUSTOMER: &str = "15550200002";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_and_link_previews_arrive_as_written() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;

    let plain = queue(
        &app,
        json!({"to": CUSTOMER, "text": "Your order #1042 has shipped 📦"}),
    )
    .await;
    // `message` is the name other gateways use for the same field.
    let legacy = queue(&app, json!({"to": CUSTOMER, "message": "Thanks!"})).await;
    let previewed = queue(
        &app,
        json!({"to": CUSTOMER, "type": "text",
               "text": "Track it at https://shop.example/track/1042 today",
               "linkPreview": true,
               "preview": {"title": "Order 1042", "description": "In transit"}}),
    )
    .await;

    let got = app.received(CUSTOMER, &plain).await;
    assert_eq!(got["type"], "text", "{got}");
    assert_eq!(got["text"], "Your order #1042 has shipped 📦");
    assert_eq!(got["linkPreview"], json!(null), "{got}");
    assert_eq!(got["from"], SHOP_PHONE);
    assert_eq!(got["copies"], 1, "{got}");

    let got = app.received(CUSTOMER, &legacy).await;
    assert_eq!(
        (&got["type"], &got["text"]),
        (&json!("text"), &json!("Thanks!"))
    );

    let got = app.received(CUSTOMER, &previewed).await;
    assert_eq!(got["type"], "text", "{got}");
    assert_eq!(
        got["text"],
        "Track it at https://shop.example/track/1042 today"
    );
    assert_eq!(
        got["linkPreview"],
        json!({"url": "https://shop.example/track/1042",
               "title": "Order 1042", "description": "In transit"}),
        "{got}"
    );

    for id in [&plain, &legacy, &previewed] {
        let m = sent(&app, id).await;
        assert_eq!(m["type"], "text", "{m}");
        assert_eq!(m["to"], format!("{CUSTOMER}@s.whatsapp.net"));
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locations_contact_cards_and_polls_arrive_field_by_field() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;

    let location = queue(
        &app,
        json!({"to": CUSTOMER, "type": "location",
               "location": {"latitude": 52.520008, "longitude": -13.404954,
                            "name": "Pick-up point", "address": "Alexanderplatz 1, Berlin"}}),
    )
    .await;
    let one_card = queue(
        &app,
        json!({"to": CUSTOMER, "type": "contacts",
               "contacts": [{"name": "Support Desk", "phone": "+1 555 020 0009"}]}),
    )
    .await;
    let own_vcard =
        "BEGIN:VCARD\nVERSION:3.0\nFN:Billing\nORG:Shop Ltd\nTEL;type=WORK:+15550200010\nEND:VCARD";
    let two_cards = queue(
        &app,
        json!({"to": CUSTOMER, "type": "contacts",
               "contacts": [{"name": "Support Desk", "phone": "15550200009"},
                            {"name": "Billing", "vcard": own_vcard}]}),
    )
    .await;
    let single_choice = queue(
        &app,
        json!({"to": CUSTOMER, "type": "poll",
               "poll": {"name": "Delivery day?", "options": ["Monday", "Tuesday", "Friday"]}}),
    )
    .await;
    let multiple_choice = queue(
        &app,
        json!({"to": CUSTOMER, "type": "poll",
               "poll": {"name": "Which extras?", "options": ["Gift wrap", "Card", "Insurance"],
                        "selectableCount": 2}}),
    )
    .await;

    let got = app.received(CUSTOMER, &location).await;
    assert_eq!(got["type"], "location", "{got}");
    assert_eq!(got["latitude"], 52.520008);
    assert_eq!(got["longitude"], -13.404954);
    assert_eq!(got["name"], "Pick-up point");
    assert_eq!(got["address"], "Alexanderplatz 1, Berlin");

    // A card from a name and number is a vCard WhatsApp can open a chat
    // from: the number is in `waid`.
    let got = app.received(CUSTOMER, &one_card).await;
    assert_eq!(got["type"], "contacts", "{got}");
    let cards = got["contacts"].as_array().unwrap();
    assert_eq!(cards.len(), 1, "{got}");
    assert_eq!(cards[0]["displayName"], "Support Desk");
    let vcard = cards[0]["vcard"].as_str().unwrap();
    assert!(vcard.starts_with("BEGIN:VCARD"), "{vcard}");
    assert!(vcard.contains("FN:Support Desk"), "{vcard}");
    assert!(vcard.contains("waid=15550200009:+15550200009"), "{vcard}");
    assert!(vcard.trim_end().ends_with("END:VCARD"), "{vcard}");

    let got = app.received(CUSTOMER, &two_cards).await;
    assert_eq!(got["type"], "contacts", "{got}");
    assert_eq!(got["displayName"], "2 contacts");
    let cards = got["contacts"].as_array().unwrap();
    assert_eq!(cards.len(), 2, "{got}");
    assert_eq!(cards[0]["displayName"], "Support Desk");
    assert!(
        cards[0]["vcard"]
            .as_str()
            .unwrap()
            .contains("waid=15550200009")
    );
    // A vCard given in full goes out untouched.
    assert_eq!(
        cards[1],
        json!({"displayName": "Billing", "vcard": own_vcard})
    );

    let got = app.received(CUSTOMER, &single_choice).await;
    assert_eq!(got["type"], "poll", "{got}");
    assert_eq!(got["name"], "Delivery day?");
    assert_eq!(got["options"], json!(["Monday", "Tuesday", "Friday"]));
    assert_eq!(got["selectableCount"], 1);

    let got = app.received(CUSTOMER, &multiple_choice).await;
    assert_eq!(got["type"], "poll", "{got}");
    assert_eq!(got["name"], "Which extras?");
    assert_eq!(got["options"], json!(["Gift wrap", "Card", "Insurance"]));
    assert_eq!(got["selectableCount"], 2);

    let kinds = [
        (&location, "location"),
        (&one_card, "contacts"),
        (&two_cards, "contacts"),
        (&single_choice, "poll"),
        (&multiple_choice, "poll"),
    ];
    for (id, kind) in kinds {
        assert_eq!(sent(&app, id).await["type"], kind);
    }
    app.stop().await;
}
