//! Received messages: what whatsapp-rust decrypts, turned into the
//! gateway's native `message.received` payload.

pub mod map;
mod map_media;
mod map_shared;

#[cfg(test)]
mod map_tests;
#[cfg(test)]
mod map_tests_kinds;
