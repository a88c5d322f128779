//! wasim: the server side of WhatsApp Web, small enough to read, so the real
//! whatsapp-rust client runs end to end offline.

pub mod admin;
mod admin_faults;
mod admin_send;
mod conn;
mod content;
mod dispatch;
mod faults;
pub mod handshake;
mod iq;
mod keys;
pub mod limits;
pub mod media;
mod media_glue;
mod nodes;
mod pair_code;
mod pairing;
mod phone;
mod routing;
pub mod signal;
mod sim_config;
mod unacked;
mod usync;
pub mod wire;
mod world;

pub use admin::Sim;
pub use sim_config::SimConfig;
