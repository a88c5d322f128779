//! Outbound HTTP for wagate, guarded against server-side request forgery.
//!
//! The gateway calls URLs its tenants give it: media to attach to outbound
//! messages, and webhook endpoints. Without a guard, those URLs reach
//! whatever the gateway's host can reach — loopback admin ports, the
//! private network, the cloud metadata service. This crate refuses such
//! addresses unless an operator allow-lists them:
//!
//! - [`AddressPolicy`] decides whether one IP address may be called;
//! - [`check_url`] checks a URL's scheme, credentials and IP-literal host;
//! - [`guarded_client`] builds a `reqwest` client whose resolver drops
//!   refused addresses (so the address dialled is the address checked) and
//!   whose redirects are re-checked hop by hop;
//! - [`fetch_capped`] downloads a body with a size cap and a deadline;
//! - [`link_preview`] reads the title, description and image of a linked
//!   page and makes the thumbnail a preview card shows;
//! - [`webhook`] signs, delivers and schedules webhook messages.
//!
//! Callers that send requests themselves must run [`check_url`] on the URL
//! first (as [`webhook::deliver`] does): `reqwest` does not resolve
//! IP-literal hosts, so the guarded resolver never sees them.

mod cidr;
mod client;
mod fetch;
mod file_name;
pub mod link_preview;
mod policy;
mod resolver;
mod special;
mod url_check;
pub mod webhook;

pub use client::{ClientOptions, RedirectRefused, Redirects, TooManyRedirects, guarded_client};
pub use fetch::{FetchError, Fetched, fetch_capped};
pub use policy::{AddressPolicy, PolicyError, Refused};
pub use resolver::{GuardedResolver, HostRefused};
pub use special::{Embedding, Reason};
pub use url_check::{UrlRejected, check_url};

/// The URL type every function here takes (`reqwest`'s, i.e. the `url` crate's).
pub use reqwest::Url;
