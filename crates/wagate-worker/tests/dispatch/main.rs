//! The dispatcher against a real SQLite outbox and real local receivers:
//! what receivers get, how failures are retried and recorded, and when
//! endpoints are disabled, refused or passed over.

mod addresses;
mod delivery;
mod endpoints;
mod support;
