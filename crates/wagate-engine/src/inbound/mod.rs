//! Received messages: what whatsapp-rust decrypts, turned into the
//! gateway's native `message.received` payload.

pub mod map;
mod map_media;
pub mod map_poll_vote;
mod map_shared;

#[cfg(test)]
mod map_tests;
#[cfg(test)]
mod map_tests_kinds;
#[cfg(test)]
mod map_tests_poll_vote;
