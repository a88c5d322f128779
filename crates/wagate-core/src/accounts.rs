//! User accounts: who may log in to the dashboard API, with what role.
//!
//! Emails and passwords are parsed here, at the edge, so the store and the
//! API only ever see valid ones. Passwords are kept as Argon2id hashes in
//! PHC string form (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), which carry
//! their own parameters: raising the cost later leaves old hashes working.

use crate::CoreError;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;
use std::fmt;
use std::sync::OnceLock;

/// What a user may do: an admin acts as an admin API key, a customer as a
/// tenant key of its own tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UserRole {
    Admin,
    Customer,
}

impl UserRole {
    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Admin => "admin",
            UserRole::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(UserRole::Admin),
            "customer" => Some(UserRole::Customer),
            _ => None,
        }
    }
}

impl fmt::Display for UserRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A login email, trimmed and lower-cased: two spellings that differ only
/// in case are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The longest address SMTP can carry (RFC 5321 path limit).
const MAX_EMAIL_LEN: usize = 254;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, CoreError> {
        let invalid =
            || CoreError::validation("email", "must be an email address like name@example.com");
        let email = raw.trim().to_lowercase();
        if email.is_empty() || email.len() > MAX_EMAIL_LEN {
            return Err(invalid());
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password that meets the rules. `Debug` never shows it.
pub struct Password(String);

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted; hashing cost must not grow with input a
/// client controls.
pub const MAX_PASSWORD_CHARS: usize = 1024;

impl Password {
    /// Checks a password being set (at user creation or a change).
    pub fn new(raw: &str) -> Result<Self, CoreError> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(CoreError::validation(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters"),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(CoreError::validation(
                "password",
                format!("must be at most {MAX_PASSWORD_CHARS} characters"),
            ));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A stored password: an Argon2id PHC string.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl fmt::Debug for PasswordHash {
    // The hash is not the password, but it is what an attacker would crack.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(..)")
    }
}

/// Argon2id with OWASP's recommended cost: 19 MiB of memory, two passes,
/// one lane. Tens of milliseconds per login on a server core.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHash {
    /// Hashes `password` under a fresh random salt. CPU-bound: call it
    /// off the async runtime's worker threads.
    pub fn of(password: &Password) -> Self {
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
        let hash = hasher()
            .hash_password(password.0.as_bytes(), &salt)
            .expect("Argon2id hashes any password of bounded length");
        PasswordHash(hash.to_string())
    }

    /// A stored PHC string, as read back from the database; `None` when it
    /// is not one.
    pub fn from_phc(phc: &str) -> Option<Self> {
        argon2::PasswordHash::new(phc).ok()?;
        Some(PasswordHash(phc.to_string()))
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the password this hash was made from. The
    /// final comparison runs in constant time. CPU-bound, like [`of`].
    ///
    /// [`of`]: PasswordHash::of
    pub fn verify(&self, candidate: &str) -> bool {
        let Ok(parsed) = argon2::PasswordHash::new(&self.0) else {
            return false;
        };
        hasher()
            .verify_password(candidate.as_bytes(), &parsed)
            .is_ok()
    }

    /// A hash no one knows the password of, made with the same cost as
    /// real ones. A login for an unknown email is checked against it, so
    /// it takes as long as a wrong password for a known one.
    pub fn decoy() -> &'static PasswordHash {
        static DECOY: OnceLock<PasswordHash> = OnceLock::new();
        DECOY.get_or_init(|| {
            let mut secret = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut secret);
            PasswordHash::of(&Password(hex::encode(secret)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        let email = Email::parse("  Ana.Silva@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "ana.silva@example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "ana@exa mple.com",
            "ana@example..com",
            "ana@-example.com",
            "a@b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(Password::new("1234567").is_err());
        assert!(Password::new("12345678").is_ok());
        // Characters, not bytes: seven accented letters are still seven.
        assert!(Password::new("ééééééé").is_err());
        assert!(Password::new(&"x".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        assert_eq!(
            format!("{:?}", Password::new("secret-pw").unwrap()),
            "Password([redacted])"
        );
    }

    #[test]
    fn hashes_verify_only_their_password() {
        let hash = PasswordHash::of(&Password::new("correct horse").unwrap());
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hash.verify("correct horse"));
        assert!(!hash.verify("correct horsE"));
        assert!(!hash.verify(""));
        let again = PasswordHash::of(&Password::new("correct horse").unwrap());
        assert_ne!(hash, again, "every hash has its own salt");
        assert_eq!(PasswordHash::from_phc(hash.as_phc()), Some(hash.clone()));
        assert_eq!(PasswordHash::from_phc("plain"), None);
        assert!(!PasswordHash::decoy().verify("correct horse"));
        // The decoy costs what a real hash costs, or refusing an unknown
        // email would be quicker than refusing a wrong password.
        let params = |h: &PasswordHash| h.as_phc().rsplitn(3, '$').nth(2).unwrap().to_string();
        assert_eq!(params(PasswordHash::decoy()), params(&hash));
    }

    #[test]
    fn roles_round_trip() {
        for role in [UserRole::Admin, UserRole::Customer] {
            assert_eq!(UserRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(UserRole::parse("Admin"), None);
    }
}
