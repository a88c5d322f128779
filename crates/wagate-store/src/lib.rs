pub mod blobs;
pub mod commit;
pub mod domain;
pub mod events;
pub mod history;
pub mod media_downloads;
pub mod outbound;
pub mod polls;

pub use blobs::BlobStore;
pub use commit::Committer;
pub use domain::Store;
pub use events::Events;
pub use outbound::{Outbound, OutboundRecord};
pub mod cipher;
pub mod sqlite;
pub mod wa_state;

pub use cipher::StateCipher;
pub use wa_state::WaStateBackend;

/// Migrations of the SQLite database, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
pub mod db;
#[cfg(feature = "testing")]
pub mod testing;
