use crate::CoreError;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A tenant's database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct TenantId(pub i64);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A session id as clients name it: `[A-Za-z0-9_-]{1,64}`, unique per tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok {
            Ok(SessionId(raw.to_string()))
        } else {
            Err(CoreError::validation(
                "sessionId",
                "must be 1-64 characters of A-Z, a-z, 0-9, '_' or '-'",
            ))
        }
    }

    /// A short random id for sessions created without one.
    pub fn generate() -> Self {
        let bytes: [u8; 6] = rand::thread_rng().r#gen();
        SessionId(hex::encode(bytes))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SessionId {
    type Error = CoreError;
    fn try_from(s: String) -> Result<Self, CoreError> {
        SessionId::parse(&s)
    }
}

impl From<SessionId> for String {
    fn from(s: SessionId) -> String {
        s.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a message goes: a user (by phone number) or a full JID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// Digits only, country code first, no `+`.
    Phone(String),
    /// A JID such as `123@g.us` or `456@lid`, kept as written.
    Jid(String),
}

impl Recipient {
    /// Accepts `+1 555 000-1111`, `15550001111`, or `user@server`.
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let raw = raw.trim();
        if let Some((user, server)) = raw.split_once('@') {
            let user_ok = !user.is_empty()
                && user
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'-' || b == b':' || b == b'.');
            let server_ok = matches!(
                server,
                "s.whatsapp.net" | "g.us" | "lid" | "c.us" | "newsletter"
            );
            if user_ok && server_ok {
                let server = if server == "c.us" {
                    "s.whatsapp.net"
                } else {
                    server
                };
                return Ok(Recipient::Jid(format!("{user}@{server}")));
            }
            return Err(CoreError::validation("to", "is not a valid WhatsApp JID"));
        }
        let digits: String = raw
            .trim_start_matches('+')
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        if digits.len() < 7 || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CoreError::validation(
                "to",
                "must be a phone number with country code (digits, optional '+') or a JID",
            ));
        }
        Ok(Recipient::Phone(digits))
    }

    /// The JID a message to this recipient is addressed to.
    pub fn to_jid(&self) -> String {
        match self {
            Recipient::Phone(d) => format!("{d}@s.whatsapp.net"),
            Recipient::Jid(j) => j.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_rules() {
        assert!(SessionId::parse("abc_DEF-123").is_ok());
        assert!(SessionId::parse("").is_err());
        assert!(SessionId::parse(&"a".repeat(65)).is_err());
        assert!(SessionId::parse("a b").is_err());
        assert!(SessionId::parse("ümlaut").is_err());
        assert_eq!(SessionId::generate().as_str().len(), 12);
    }

    #[test]
    fn recipients() {
        assert_eq!(
            Recipient::parse("+1 555 000-1111").unwrap(),
            Recipient::Phone("15550001111".into())
        );
        assert_eq!(
            Recipient::parse("123-456@g.us").unwrap().to_jid(),
            "123-456@g.us"
        );
        assert_eq!(
            Recipient::parse("15550001111@c.us").unwrap().to_jid(),
            "15550001111@s.whatsapp.net"
        );
        assert!(Recipient::parse("abc").is_err());
        assert!(Recipient::parse("1@example.com").is_err());
        assert!(Recipient::parse("12").is_err());
    }
}
