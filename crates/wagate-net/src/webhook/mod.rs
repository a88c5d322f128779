//! Webhook delivery as Standard Webhooks v1 describes it: signed POSTs of
//! JSON, retried on a schedule, to addresses the [`AddressPolicy`] allows.
//!
//! - [`WebhookSecret`], [`sign`] and [`verify`]: the `webhook-signature`
//!   header (`verify` is what a receiver runs; the gateway's tests and
//!   tenants' tooling use it);
//! - [`WebhookRetry`]: when a failed message is tried again, and when its
//!   endpoint is given up;
//! - [`deliver`]: one attempt, recorded as a [`DeliveryOutcome`].
//!
//! Storing messages and attempts, and the worker that claims and schedules
//! them, live with the gateway's queue.
//!
//! [`AddressPolicy`]: crate::AddressPolicy

mod delivery;
mod headers;
mod retry;
mod secret;
mod signature;

pub use delivery::{
    DeliveryOutcome, DeliveryRequest, RESPONSE_BODY_CAP, Verdict, WEBHOOK_USER_AGENT, deliver,
};
pub use headers::{EndpointHeaders, HeaderRefused};
pub use retry::{BACK_OFF_MIN, WebhookRetry, parse_retry_after};
pub use secret::{GENERATED_SECRET_BYTES, SecretError, WebhookSecret};
pub use signature::{DEFAULT_TOLERANCE, SignatureHeaders, VerifyError, sign, verify};
