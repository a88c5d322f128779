//! The document's field rules, with its wording: `sessionId` 1-64
//! characters of letters, digits, `_` and `-`; `to` 10-20 digits; a
//! `message` of 1-4096 characters. Fields arrive as raw JSON values, so a
//! missing field and one of the wrong type each get their own message.

use crate::error::ApiError;
use crate::messages::MAX_TEXT_CHARS;
use serde_json::Value;
use wagate_core::SessionId;

const SESSION_ID_MAX: usize = 64;
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 10..=20;

fn text<'a>(field: &str, value: Option<&'a Value>) -> Result<&'a str, ApiError> {
    match value {
        None | Some(Value::Null) => Err(ApiError::validation(field, "is required")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(ApiError::validation(field, "must be a string")),
    }
}

/// A `sessionId` field of a body.
pub fn session_id(value: Option<&Value>) -> Result<SessionId, ApiError> {
    session_id_text(text("sessionId", value)?)
}

/// A session id from a body or the path.
pub fn session_id_text(raw: &str) -> Result<SessionId, ApiError> {
    let field = "sessionId";
    if raw.is_empty() {
        return Err(ApiError::validation(field, "must not be empty"));
    }
    if raw.chars().count() > SESSION_ID_MAX {
        return Err(ApiError::validation(
            field,
            format!("must be at most {SESSION_ID_MAX} characters"),
        ));
    }
    if !raw
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(ApiError::validation(
            field,
            "must contain only alphanumeric characters, underscores, and hyphens",
        ));
    }
    Ok(SessionId::parse(raw)?)
}

/// `to`: the number with its country code, digits only.
pub fn phone(value: Option<&Value>) -> Result<String, ApiError> {
    let raw = text("to", value)?;
    let digits = raw.bytes().all(|b| b.is_ascii_digit());
    if !digits || !PHONE_DIGITS.contains(&raw.len()) {
        return Err(ApiError::validation(
            "to",
            format!(
                "must be {}-{} digits: the phone number with country code, without '+', spaces or dashes",
                PHONE_DIGITS.start(),
                PHONE_DIGITS.end()
            ),
        ));
    }
    Ok(raw.to_string())
}

/// `message`: the text to send.
pub fn message(value: Option<&Value>) -> Result<String, ApiError> {
    let raw = text("message", value)?;
    if raw.is_empty() || raw.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::validation(
            "message",
            format!("must be 1-{MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn message_of(err: ApiError) -> String {
        match err {
            ApiError::Validation { field, message } => format!("{field} {message}"),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn session_ids_follow_the_document() {
        assert_eq!(
            session_id(Some(&json!("my-session_01"))).unwrap().as_str(),
            "my-session_01"
        );
        let cases = [
            (None, "sessionId is required"),
            (Some(json!(7)), "sessionId must be a string"),
            (Some(json!("")), "sessionId must not be empty"),
            (
                Some(json!("a".repeat(65))),
                "sessionId must be at most 64 characters",
            ),
            (
                Some(json!("my session!")),
                "sessionId must contain only alphanumeric characters, underscores, and hyphens",
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(
                message_of(session_id(value.as_ref()).unwrap_err()),
                expected
            );
        }
        assert!(session_id(Some(&json!("a".repeat(64)))).is_ok());
    }

    #[test]
    fn phones_are_10_to_20_digits() {
        assert!(phone(Some(&json!("5511999999999"))).is_ok());
        assert!(phone(Some(&json!("1415555123"))).is_ok());
        assert!(phone(Some(&json!("1".repeat(20)))).is_ok());
        for bad in [
            "+5511999999999",
            "55 11 99999-9999",
            "141555512",
            "123456789012345678901",
        ] {
            assert!(phone(Some(&json!(bad))).is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_are_1_to_4096_characters() {
        assert!(message(Some(&json!("é".repeat(4096)))).is_ok());
        assert!(message(Some(&json!("x".repeat(4097)))).is_err());
        assert!(message(Some(&json!(""))).is_err());
        assert_eq!(
            message_of(message(None).unwrap_err()),
            "message is required"
        );
    }
}
