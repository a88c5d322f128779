mod app;
mod live;
mod session_lifecycle;

mod bootstrap;
mod config;
mod errors;
mod health;
mod keys;
mod openapi;
mod queue;
mod queue_pacing;
mod restarts;
mod sessions;
mod tenancy;

pub use app::{TestApp, assert_error, eventually};
