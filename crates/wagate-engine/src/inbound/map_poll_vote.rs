//! A vote names the options chosen by the SHA-256 of their names, and that
//! list is encrypted with a key derived from the poll's secret, the poll's
//! id and the creator's and voter's JIDs. Here: which poll a vote is on and
//! who made it (so the caller can find the secret), and what the event
//! says once the vote is opened, or why it could not be. Pure, so every
//! outcome is tested without a client or a database.

use wagate_core::events::PollVote;
use whatsapp_rust::Jid;
use whatsapp_rust::types::message::MessageInfo;
use whatsapp_rust::wacore_binary::JidExt;
use whatsapp_rust::waproto::whatsapp as wa;

/// What the mapper says until the vote is opened.
pub const NOT_OPENED: &str = "the vote has not been decrypted";
/// Nobody holds the poll's secret: the poll was sent before this session
/// was linked, or its secret has expired.
pub const SECRET_UNKNOWN: &str = "the poll is not known to this session (its secret is missing)";
pub const CREATOR_UNKNOWN: &str = "the vote does not say who created the poll";
pub const NO_CIPHERTEXT: &str = "the vote carries no encrypted choice";
pub const OPTIONS_UNKNOWN: &str = "the poll's options are not known to the gateway";
pub const FOREIGN_OPTION: &str = "the vote names an option the poll does not have";

/// The encrypted vote and what its key is derived from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedVote<'a> {
    pub poll_id: &'a str,
    /// Who created the poll, without a device; `None` when the vote does
    /// not say.
    pub creator: Option<Jid>,
    pub payload: &'a [u8],
    pub iv: &'a [u8],
}

/// The vote in `msg` (already unwrapped), or `None` when it carries none.
/// `own` is this session's JID, the creator of a poll the contact votes on
/// in a direct chat when the vote's key does not name it.
pub fn sealed_vote<'a>(
    msg: &'a wa::Message,
    info: &MessageInfo,
    own: Option<&Jid>,
) -> Option<SealedVote<'a>> {
    let update = msg.poll_update_message.as_option()?;
    let key = update.poll_creation_message_key.as_option()?;
    let vote = update.vote.as_option()?;
    Some(SealedVote {
        poll_id: key.id.as_deref()?,
        creator: creator(key, info, own),
        payload: vote.enc_payload.as_deref()?,
        iv: vote.enc_iv.as_deref()?,
    })
}

/// The poll's key is written from the voter's side: `from_me` means the
/// voter made the poll; a group names the creator as participant; in a
/// direct chat anything else is the other side, this session.
fn creator(key: &wa::MessageKey, info: &MessageInfo, own: Option<&Jid>) -> Option<Jid> {
    if let Some(p) = key.participant.as_deref().filter(|p| !p.is_empty()) {
        return p.parse::<Jid>().ok().map(|j| j.to_non_ad());
    }
    if key.from_me == Some(true) {
        return Some(info.source.sender.to_non_ad());
    }
    if info.source.is_group {
        return None;
    }
    key.remote_jid
        .as_deref()
        .and_then(|j| j.parse::<Jid>().ok())
        .filter(|j| !j.is_group())
        .map(|j| j.to_non_ad())
        .or_else(|| own.map(Jid::to_non_ad))
}

/// The vote opened: `hashes` as decrypted, named by the poll's `options`
/// when the gateway knows them. An empty list is a vote taken back.
pub fn opened(vote: &mut PollVote, hashes: &[Vec<u8>], options: Option<&[String]>) {
    vote.selected_option_hashes = Some(hashes.iter().map(hex::encode).collect());
    let Some(options) = options else {
        return unopened(vote, OPTIONS_UNKNOWN);
    };
    let named: Option<Vec<String>> = hashes
        .iter()
        .map(|h| {
            options
                .iter()
                .find(|o| wacore::poll::compute_option_hash(o).as_slice() == h.as_slice())
                .cloned()
        })
        .collect();
    match named {
        Some(names) => {
            vote.selected_options = Some(names);
            vote.reason = None;
        }
        None => unopened(vote, FOREIGN_OPTION),
    }
}

/// The choice stays unknown, for `reason`; the event still goes out.
pub fn unopened(vote: &mut PollVote, reason: &str) {
    vote.selected_options = None;
    vote.reason = Some(reason.to_string());
}
