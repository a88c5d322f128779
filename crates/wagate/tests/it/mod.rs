mod app;
mod live;
mod session_lifecycle;

mod bootstrap;
mod config;
mod errors;
mod health;
mod history;
mod inbound;
mod keys;
mod link_preview;
mod openapi;
mod queue;
mod queue_pacing;
mod receiver;
mod restarts;
mod send_batches;
mod send_changes;
mod send_errors;
mod send_kinds;
mod send_media;
mod sending;
mod sessions;
mod stream;
mod tenancy;
mod webhooks;

pub use app::{TestApp, assert_error, eventually};
