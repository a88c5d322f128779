//! Opening a received poll vote before its event is recorded: the poll's
//! secret comes from the session's store (whatsapp-rust keeps it for polls
//! the session sent and polls it received), the options' names from the
//! sent message or the received poll's event. A vote that cannot be opened
//! is still recorded, with the reason, never dropped.

use crate::Engine;
use crate::inbound::map::base_of;
use crate::inbound::map_poll_vote::{
    CREATOR_UNKNOWN, NO_CIPHERTEXT, SECRET_UNKNOWN, opened, sealed_vote, unopened,
};
use wacore::store::traits::MsgSecretStore;
use wagate_core::SessionKey;
use wagate_core::events::InboundMessage as Received;
use wagate_core::outbound::Content;
use whatsapp_rust::features::PollVoteCiphertext;
use whatsapp_rust::types::message::MessageInfo;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{Client, Jid};

/// Fills in the options a vote in `data` chose, or why they are unknown.
pub(crate) async fn open_vote(
    engine: &Engine,
    client: &Client,
    key: &SessionKey,
    message: &wa::Message,
    info: &MessageInfo,
    data: &mut Received,
) {
    let Some(vote) = data.poll_vote.as_mut() else {
        return;
    };
    let own = own_jid(client, info);
    let Some(sealed) = sealed_vote(base_of(message), info, own.as_ref()) else {
        return unopened(vote, NO_CIPHERTEXT);
    };
    let Some(creator) = sealed.creator.clone() else {
        return unopened(vote, CREATOR_UNKNOWN);
    };
    let Some(secret) = poll_secret(engine, client, key, info, &creator, sealed.poll_id).await
    else {
        return unopened(vote, SECRET_UNKNOWN);
    };
    let ciphertext = PollVoteCiphertext {
        enc_payload: sealed.payload,
        enc_iv: sealed.iv,
    };
    let decrypted = client
        .polls()
        .decrypt_vote(
            ciphertext,
            &secret,
            sealed.poll_id,
            &creator,
            &info.source.sender,
        )
        .await;
    match decrypted {
        Ok(hashes) => {
            let options = poll_options(engine, key, sealed.poll_id).await;
            opened(vote, &hashes, options.as_deref());
        }
        Err(e) => {
            tracing::warn!(session = %key.session, poll = sealed.poll_id, "cannot open a poll vote: {e}");
            unopened(vote, &format!("the vote cannot be decrypted: {e}"));
        }
    }
}

/// This session's JID in the namespace the chat uses, as WhatsApp keys a
/// vote on it.
fn own_jid(client: &Client, info: &MessageInfo) -> Option<Jid> {
    if info.source.chat.is_lid() || info.source.sender.is_lid() {
        client.lid().or_else(|| client.pn())
    } else {
        client.pn().or_else(|| client.lid())
    }
}

/// The poll's secret, stored under its chat and creator. A chat or creator
/// may have moved between phone number and LID since the poll, so the
/// other form of each is tried too.
async fn poll_secret(
    engine: &Engine,
    client: &Client,
    key: &SessionKey,
    info: &MessageInfo,
    creator: &Jid,
    poll_id: &str,
) -> Option<Vec<u8>> {
    let backend = engine.backend(key);
    let chats = with_other_form(client, &info.source.chat.to_non_ad()).await;
    let creators = with_other_form(client, creator).await;
    for chat in &chats {
        for creator in &creators {
            match backend
                .get_msg_secret(&chat.to_string(), &creator.to_string(), poll_id)
                .await
            {
                Ok(Some(secret)) => return Some(secret),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(session = %key.session, "cannot read a poll's secret: {e}");
                    return None;
                }
            }
        }
    }
    None
}

/// `jid` and, when the session knows it, the same person's other address
/// (LID for a number, number for a LID).
async fn with_other_form(client: &Client, jid: &Jid) -> Vec<Jid> {
    let mut all = vec![jid.clone()];
    if let Ok(Some(entry)) = client.get_lid_pn_entry(jid).await {
        let other = if jid.is_lid() {
            format!("{}@s.whatsapp.net", entry.phone_number)
        } else {
            format!("{}@lid", entry.lid)
        };
        all.extend(other.parse::<Jid>().ok());
    }
    all
}

/// The poll's options: a poll this session sent is in its outbox (its
/// WhatsApp id is the outbound message's id); a received one in its event.
async fn poll_options(engine: &Engine, key: &SessionKey, poll_id: &str) -> Option<Vec<String>> {
    match engine.outbox.queue.get(key, poll_id).await {
        Ok(Some(sent)) => {
            if let Content::Poll { options, .. } = sent.body.content {
                return Some(options);
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(session = %key.session, "cannot read a sent poll: {e}"),
    }
    wagate_store::polls::received_poll_options(engine.committer.db(), key, poll_id)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(session = %key.session, "cannot read a received poll: {e}");
            None
        })
}
