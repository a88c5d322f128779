//! The guarded client against real local servers: what it refuses, what it
//! follows, and how it stops.

mod addresses;
mod limits;
mod metadata;
mod redirects;
mod support;
