//! A contact asks polls and votes on the client's, with votes encrypted the
//! way WhatsApp encrypts them: the client opens them with the poll's secret.

mod common;

use common::*;
use reqwest::Method;
use serde_json::json;
use whatsapp_rust::PollVoteCiphertext;
use whatsapp_rust::wacore::poll::compute_option_hash;
use whatsapp_rust::waproto::whatsapp as wa;

const ME: &str = "15550001111";
const CONTACT: &str = "15550002222";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_asks_single_and_multiple_choice_polls() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    for selectable in [1, 2] {
        let id = contact_send(
            &sim,
            CONTACT,
            ME,
            json!({"type": "poll", "name": "Lunch?", "options": ["Pizza", "Sushi", "Salad"],
                   "selectableCount": selectable}),
        )
        .await;
        let got = client.received(&id).await;
        let poll = if selectable == 1 {
            got.message.poll_creation_message_v3.as_option()
        } else {
            got.message.poll_creation_message.as_option()
        };
        let poll = poll.expect("a poll of the version WhatsApp uses for it");
        assert_eq!(poll.name.as_deref(), Some("Lunch?"));
        let options: Vec<_> = poll
            .options
            .iter()
            .map(|o| o.option_name.as_deref())
            .collect();
        assert_eq!(options, [Some("Pizza"), Some("Sushi"), Some("Salad")]);
        assert_eq!(poll.selectable_options_count, Some(selectable));
        let context = got.message.message_context_info.as_option();
        let secret = context.and_then(|c| c.message_secret.as_deref());
        assert_eq!(
            secret.map(<[u8]>::len),
            Some(32),
            "a 32-byte message secret"
        );
    }
}

/// Opens the contact's vote in `update` with the poll's secret, as the
/// poll's creator (the client): the hashes of the options it picked.
async fn open_vote(
    client: &TestClient,
    update: &wa::message::PollUpdateMessage,
    secret: &[u8],
    poll_id: &str,
) -> Vec<Vec<u8>> {
    let vote = update.vote.as_option().expect("an encrypted vote");
    let ciphertext = PollVoteCiphertext {
        enc_payload: vote.enc_payload.as_deref().expect("payload"),
        enc_iv: vote.enc_iv.as_deref().expect("iv"),
    };
    client
        .client
        .polls()
        .decrypt_vote(
            ciphertext,
            secret,
            poll_id,
            &user_jid(ME),
            &user_jid(CONTACT),
        )
        .await
        .expect("the client opens the vote")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_votes_on_the_clients_poll() {
    init_logs();
    let sim = wasim::Sim::start().await.unwrap();
    let client = paired_client(&sim, ME).await;
    let options = ["Mon".to_string(), "Tue".into(), "Wed".into()];
    let (sent, secret) = client
        .client
        .polls()
        .create(user_jid(CONTACT), "Meet when?", &options, 2)
        .await
        .expect("poll");
    let poll_id = sent.message_id;
    inbox_entry(&sim, CONTACT, &poll_id).await;

    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "pollVote", "targetId": poll_id, "options": ["Tue", "Wed"]}),
    )
    .await;
    let got = client.received(&id).await;
    let update = got.message.poll_update_message.as_option();
    let update = update.expect("a poll update");
    let key = update
        .poll_creation_message_key
        .as_option()
        .expect("poll key");
    assert_eq!(key.id.as_deref(), Some(poll_id.as_str()));
    assert_eq!(key.from_me, Some(false), "the contact did not create it");
    let picked = open_vote(&client, update, &secret, &poll_id).await;
    let want = ["Tue", "Wed"].map(|o| compute_option_hash(o).to_vec());
    assert_eq!(picked, want);

    // Taking the vote back is a vote for nothing.
    let id = contact_send(
        &sim,
        CONTACT,
        ME,
        json!({"type": "pollVote", "targetId": poll_id, "options": []}),
    )
    .await;
    let got = client.received(&id).await;
    let update = got.message.poll_update_message.as_option().expect("update");
    let picked = open_vote(&client, update, &secret, &poll_id).await;
    assert!(picked.is_empty(), "{picked:?}");

    let send = format!("/admin/contacts/{CONTACT}/send");
    let vote = |target: &str, options: serde_json::Value| {
        Some(json!({"to": ME, "type": "pollVote", "targetId": target, "options": options}))
    };
    let (status, body) = admin(&sim, Method::POST, &send, vote(&poll_id, json!(["Thu"]))).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().unwrap().starts_with("options"),
        "{body}"
    );
    let three = json!(["Mon", "Tue", "Wed"]);
    let (status, body) = admin(&sim, Method::POST, &send, vote(&poll_id, three)).await;
    assert_eq!(status, 400, "more choices than the poll allows: {body}");
    let (status, body) = admin(&sim, Method::POST, &send, vote("3EB0NOPOLL", json!([]))).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["message"].as_str().unwrap().starts_with("targetId"),
        "{body}"
    );
}
