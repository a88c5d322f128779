//! Background work of the gateway that runs beside the API: for now the
//! webhook dispatcher, which turns the event outbox's delivery rows into
//! signed POSTs and records every attempt.
//!
//! The rows are the queue: a delivery is claimed for a visibility window,
//! attempted, and its outcome recorded in one commit. A dispatcher that
//! dies between claim and record leaves the claim to run out, and the
//! delivery is tried again with the same `webhook-id`, so receivers see
//! each event at least once and can drop repeats.

mod attempt;
mod batch;
mod dispatcher;
mod next_step;
mod render;
mod settings;

pub use dispatcher::Dispatcher;
pub use render::{NativeRender, Render};
pub use settings::DispatchSettings;
