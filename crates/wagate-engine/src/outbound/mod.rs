//! Sending queued messages: building WhatsApp's protobuf for each kind,
//! one pacing sender per session, and acks and receipts back to the queue.

mod acks;
pub mod build;
mod build_changes;
mod build_link;
mod build_media;
mod build_shared;
mod lanes;
mod outbox;
mod pacing;
mod send_one;
mod sender;

pub use build::{JpegThumbnail, LinkCard, MediaSource};
pub use outbox::{OutboundSettings, Outbox};
