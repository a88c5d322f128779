//! The guarded client against real local servers: what it refuses, what it
//! follows, how it stops, and what webhook deliveries record.

mod addresses;
mod limits;
mod link_preview;
mod metadata;
mod redirects;
mod support;
mod webhook;
