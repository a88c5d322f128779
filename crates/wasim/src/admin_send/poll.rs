//! Polls: a contact asks one, or votes on one the account sent it. Votes
//! are end-to-end encrypted a second time, with a key derived from the
//! poll's message secret, so only the poll's participants can count them.

use super::{SendBody, Sender, bad, now_ms, required};
use crate::admin::AdminError;
use buffa::MessageField;
use std::collections::HashSet;
use wacore::poll::{compute_option_hash, encrypt_poll_vote_with_secret};
use waproto::whatsapp as wa;

/// WhatsApp's bounds on a poll's options.
const OPTIONS: std::ops::RangeInclusive<usize> = 2..=12;

/// A poll with a fresh 32-byte message secret, for the account to vote
/// with. Single-choice polls travel as v3 and the others as v1, as WhatsApp
/// Web sends them.
pub fn create(body: &SendBody) -> Result<wa::Message, AdminError> {
    let name = required(&body.name, "name", "a poll")?;
    let options = body.options.as_deref().unwrap_or_default();
    if !OPTIONS.contains(&options.len()) {
        return Err(bad(format!(
            "options: a poll has {} to {} options, not {}",
            OPTIONS.start(),
            OPTIONS.end(),
            options.len()
        )));
    }
    distinct_and_named(options)?;
    let selectable = body.selectable_count.unwrap_or(1);
    if selectable as usize > options.len() {
        return Err(bad(format!(
            "selectableCount: {selectable} is more than the {} options (0 = any number)",
            options.len()
        )));
    }
    let poll = wa::message::PollCreationMessage {
        name: Some(name.into()),
        options: options
            .iter()
            .map(|o| wa::message::poll_creation_message::Option {
                option_name: Some(o.clone()),
                option_hash: None,
            })
            .collect(),
        selectable_options_count: Some(selectable),
        poll_content_type: Some(wa::message::PollContentType::TEXT),
        ..Default::default()
    };
    let mut message = wa::Message {
        message_context_info: MessageField::some(wa::MessageContextInfo {
            message_secret: Some(rand::random::<[u8; 32]>().to_vec()),
            ..Default::default()
        }),
        ..Default::default()
    };
    if selectable == 1 {
        message.poll_creation_message_v3 = MessageField::some(poll);
    } else {
        message.poll_creation_message = MessageField::some(poll);
    }
    Ok(message)
}

/// A vote on poll `targetId`, which the account sent the contact or the
/// contact sent the account, for the options named (none takes the
/// contact's vote back). The vote names options by hash, encrypted with a
/// key both sides derive from the poll's secret, its id and the creator's
/// and voter's JIDs.
pub fn vote(sender: &Sender<'_>, body: &SendBody) -> Result<wa::Message, AdminError> {
    let target = required(&body.target_id, "targetId", "a poll vote")?;
    let picked = body
        .options
        .as_deref()
        .ok_or_else(|| bad("options: required for a poll vote ([] takes a vote back)".into()))?;
    let (poll, own) = {
        let world = sender.world.lock();
        let polls = world.accounts.get(sender.from).map(|a| &a.polls);
        let by = |creator: &str| {
            polls?
                .get(&(creator.to_string(), target.to_string()))
                .cloned()
        };
        by(sender.to)
            .map(|p| (p, false))
            .or_else(|| by(sender.from).map(|p| (p, true)))
            .ok_or_else(|| {
                AdminError::NotFound(format!(
                    "targetId: {} has no poll {target} from {} or of its own",
                    sender.from, sender.to
                ))
            })?
    };
    distinct_and_named(picked)?;
    if let Some(unknown) = picked.iter().find(|p| !poll.options.contains(p)) {
        return Err(bad(format!(
            "options: '{unknown}' is not an option of poll {target}"
        )));
    }
    if poll.selectable != 0 && picked.len() > poll.selectable as usize {
        return Err(bad(format!(
            "options: poll {target} allows {} choice(s), not {}",
            poll.selectable,
            picked.len()
        )));
    }
    let hashes: Vec<Vec<u8>> = picked
        .iter()
        .map(|p| compute_option_hash(p).to_vec())
        .collect();
    let voter = super::user_jid(sender.from);
    let creator = if own { voter.clone() } else { sender.chat() };
    let (payload, iv) =
        encrypt_poll_vote_with_secret(&hashes, &poll.secret, target, &creator, &voter)
            .map_err(|e| bad(format!("targetId: the poll's secret is unusable: {e:#}")))?;
    let update = wa::message::PollUpdateMessage {
        poll_creation_message_key: MessageField::some(wa::MessageKey {
            // The key is the voter's view: the chat is the account, and
            // `from_me` says the voter made the poll.
            remote_jid: Some(sender.chat()),
            from_me: Some(own),
            id: Some(target.into()),
            participant: None,
        }),
        vote: MessageField::some(wa::message::PollEncValue {
            enc_payload: Some(payload),
            enc_iv: Some(iv.to_vec()),
        }),
        sender_timestamp_ms: Some(now_ms()),
        ..Default::default()
    };
    Ok(wa::Message {
        poll_update_message: MessageField::some(update),
        ..Default::default()
    })
}

/// Votes name options by the hash of their name: two alike could not be
/// told apart, and an empty one cannot be shown.
fn distinct_and_named(options: &[String]) -> Result<(), AdminError> {
    let mut seen = HashSet::new();
    for option in options {
        if option.is_empty() {
            return Err(bad("options: an option name is empty".into()));
        }
        if !seen.insert(option) {
            return Err(bad(format!("options: '{option}' is named twice")));
        }
    }
    Ok(())
}
