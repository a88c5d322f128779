//! Poll votes: which poll and creator a vote names, and what the event
//! says once the vote is opened or cannot be.

use super::map_poll_vote::{
    FOREIGN_OPTION, OPTIONS_UNKNOWN, SealedVote, opened, sealed_vote, unopened,
};
use wacore::poll::{
    PollVoteCiphertext, compute_option_hash, decrypt_poll_vote_with_secret,
    encrypt_poll_vote_with_secret,
};
use wagate_core::events::PollVote;
use whatsapp_rust::Jid;
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::types::message::{MessageInfo, MessageSource};
use whatsapp_rust::waproto::whatsapp::{self as wa, message as m};

const OWN: &str = "15550001111@s.whatsapp.net";
const VOTER: &str = "15550002222@s.whatsapp.net";
const GROUP: &str = "120363025246125888@g.us";

fn jid(s: &str) -> Jid {
    s.parse().unwrap()
}

fn info(chat: &str, sender: &str) -> MessageInfo {
    MessageInfo {
        source: MessageSource {
            chat: jid(chat),
            sender: jid(sender),
            is_group: chat.ends_with("@g.us"),
            ..Default::default()
        },
        id: "3EB0VOTE".into(),
        ..Default::default()
    }
}

fn vote_message(key: wa::MessageKey, payload: Vec<u8>, iv: Vec<u8>) -> wa::Message {
    wa::Message {
        poll_update_message: MessageField::some(m::PollUpdateMessage {
            poll_creation_message_key: MessageField::some(key),
            vote: MessageField::some(m::PollEncValue {
                enc_payload: Some(payload),
                enc_iv: Some(iv),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn key(remote: &str, from_me: bool, participant: Option<&str>) -> wa::MessageKey {
    wa::MessageKey {
        remote_jid: Some(remote.into()),
        from_me: Some(from_me),
        id: Some("3EB0POLL".into()),
        participant: participant.map(str::to_string),
    }
}

fn creator_of(key: wa::MessageKey, info: &MessageInfo) -> Option<Jid> {
    let msg = vote_message(key, vec![1; 20], vec![2; 12]);
    sealed_vote(&msg, info, Some(&jid(OWN))).unwrap().creator
}

fn blank() -> PollVote {
    PollVote {
        poll_id: "3EB0POLL".into(),
        selected_options: None,
        selected_option_hashes: None,
        reason: None,
    }
}

fn options() -> Vec<String> {
    ["Monday", "Tuesday", "Friday"].map(String::from).to_vec()
}

#[test]
fn a_contacts_vote_in_a_direct_chat_is_on_this_sessions_poll() {
    let by_voter = info(VOTER, "15550002222:4@s.whatsapp.net");
    assert_eq!(creator_of(key(OWN, false, None), &by_voter), Some(jid(OWN)));
    // A key that names no usable chat still points at this session.
    assert_eq!(
        creator_of(key(GROUP, false, None), &by_voter),
        Some(jid(OWN))
    );
}

#[test]
fn a_vote_on_the_voters_own_poll_names_the_voter() {
    let by_voter = info(VOTER, "15550002222:4@s.whatsapp.net");
    assert_eq!(
        creator_of(key(VOTER, true, None), &by_voter),
        Some(jid(VOTER))
    );
}

#[test]
fn in_a_group_the_participant_made_the_poll_and_without_one_nobody_knows() {
    let in_group = info(GROUP, VOTER);
    let author = "15550003333:2@s.whatsapp.net";
    assert_eq!(
        creator_of(key(GROUP, false, Some(author)), &in_group),
        Some(jid("15550003333@s.whatsapp.net"))
    );
    assert_eq!(creator_of(key(GROUP, false, None), &in_group), None);
}

#[test]
fn a_vote_without_its_ciphertext_is_not_sealed() {
    let mut msg = vote_message(key(OWN, false, None), vec![1; 20], vec![2; 12]);
    msg.poll_update_message.as_option_mut().unwrap().vote = MessageField::none();
    assert_eq!(sealed_vote(&msg, &info(VOTER, VOTER), None), None);
}

#[test]
fn an_opened_vote_names_the_options_chosen_with_their_hashes() {
    let secret = [7u8; 32];
    let chosen = vec![compute_option_hash("Tuesday").to_vec()];
    let (payload, iv) =
        encrypt_poll_vote_with_secret(&chosen, &secret, "3EB0POLL", OWN, VOTER).unwrap();
    let msg = vote_message(key(OWN, false, None), payload, iv.to_vec());
    let sealed: SealedVote<'_> = sealed_vote(&msg, &info(VOTER, VOTER), None).unwrap();
    let creator = sealed.creator.clone().unwrap().to_string();
    let hashes = decrypt_poll_vote_with_secret(
        PollVoteCiphertext {
            enc_payload: sealed.payload,
            enc_iv: sealed.iv,
        },
        &secret,
        sealed.poll_id,
        &creator,
        VOTER,
    )
    .unwrap();
    let mut vote = blank();
    vote.reason = Some("the vote has not been decrypted".into());
    opened(&mut vote, &hashes, Some(&options()));
    assert_eq!(vote.selected_options, Some(vec!["Tuesday".to_string()]));
    assert_eq!(
        vote.selected_option_hashes,
        Some(vec![hex::encode(compute_option_hash("Tuesday"))])
    );
    assert_eq!(vote.reason, None);
    let json = serde_json::to_value(&vote).unwrap();
    assert_eq!(json["selectedOptions"], serde_json::json!(["Tuesday"]));
    assert!(json.get("reason").is_none());
}

#[test]
fn a_vote_taken_back_chooses_nothing() {
    let mut vote = blank();
    opened(&mut vote, &[], Some(&options()));
    assert_eq!(vote.selected_options, Some(vec![]));
    assert_eq!(vote.selected_option_hashes, Some(vec![]));
}

#[test]
fn without_the_polls_options_only_the_hashes_are_given() {
    let mut vote = blank();
    let hash = compute_option_hash("Friday").to_vec();
    opened(&mut vote, std::slice::from_ref(&hash), None);
    assert_eq!(vote.selected_options, None);
    assert_eq!(vote.selected_option_hashes, Some(vec![hex::encode(&hash)]));
    assert_eq!(vote.reason.as_deref(), Some(OPTIONS_UNKNOWN));
}

#[test]
fn a_hash_of_no_option_leaves_the_names_unknown() {
    let mut vote = blank();
    let hashes = [
        compute_option_hash("Monday").to_vec(),
        compute_option_hash("Sunday").to_vec(),
    ];
    opened(&mut vote, &hashes, Some(&options()));
    assert_eq!(vote.selected_options, None);
    assert_eq!(vote.reason.as_deref(), Some(FOREIGN_OPTION));
}

#[test]
fn an_unopened_vote_says_null_and_why() {
    let mut vote = blank();
    unopened(&mut vote, "the poll is not known");
    let json = serde_json::to_value(&vote).unwrap();
    assert_eq!(json["selectedOptions"], serde_json::Value::Null);
    assert_eq!(json["reason"], "the poll is not known");
    assert!(json.get("selectedOptionHashes").is_none());
}
