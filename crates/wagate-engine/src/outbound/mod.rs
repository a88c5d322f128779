//! Sending queued messages: building WhatsApp's protobuf for each kind,
//! one pacing sender per session, and acks and receipts back to the queue.

mod acks;
pub mod build;
mod build_changes;
mod build_media;
mod build_shared;
mod outbox;
mod pacing;
mod sender;

pub use build::MediaSource;
pub use outbox::{OutboundSettings, Outbox};
