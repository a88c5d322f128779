//! Protocol messages: edits and deletions a person sees in the chat, and
//! the housekeeping between devices no one sees.

use serde_json::{Value, json};
use wa::message::protocol_message::Type;
use waproto::whatsapp as wa;

/// `None` when this is no protocol message; `Some(None)` for one a phone
/// keeps out of the chat.
pub fn summarize(msg: &wa::Message) -> Option<Option<Value>> {
    let m = msg.protocol_message.as_option()?;
    let target = m.key.as_option().and_then(|k| k.id.clone());
    let summary = match m.r#type {
        Some(Type::MESSAGE_EDIT) => Some(json!({
            "type": "edit",
            "targetId": target,
            "text": m.edited_message.as_option().and_then(super::text_of),
        })),
        Some(Type::REVOKE) => Some(json!({"type": "revoke", "targetId": target})),
        Some(
            Type::APP_STATE_SYNC_KEY_SHARE
            | Type::APP_STATE_SYNC_KEY_REQUEST
            | Type::HISTORY_SYNC_NOTIFICATION
            | Type::PEER_DATA_OPERATION_REQUEST_MESSAGE
            | Type::PEER_DATA_OPERATION_REQUEST_RESPONSE_MESSAGE
            | Type::INITIAL_SECURITY_NOTIFICATION_SETTING_SYNC
            | Type::APP_STATE_FATAL_EXCEPTION_NOTIFICATION,
        ) => None,
        other => Some(json!({"type": "protocol", "protocolType": other.map(|t| t as i32)})),
    };
    Some(summary)
}
