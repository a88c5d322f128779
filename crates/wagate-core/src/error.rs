use thiserror::Error;

/// Errors of the domain rules; each maps to a client-facing status in the API.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// Input that breaks a rule; `field` names the offending field.
    #[error("{field}: {message}")]
    Validation {
        field: &'static str,
        message: String,
    },
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The session exists but cannot do this now (e.g. not connected).
    #[error("{0}")]
    Unavailable(String),
    /// The tenant's tier does not allow this now.
    #[error("{}", .0.message)]
    LimitReached(Box<crate::tiers::LimitExceeded>),
    /// Something failed inside; the text is for logs, never for clients.
    #[error("internal: {0}")]
    Internal(String),
}

impl CoreError {
    pub fn validation(field: &'static str, message: impl Into<String>) -> Self {
        CoreError::Validation {
            field,
            message: message.into(),
        }
    }
}
