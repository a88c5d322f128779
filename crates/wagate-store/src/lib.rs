pub mod domain;

pub use domain::Store;
pub mod cipher;
pub mod sqlite;
pub mod wa_state;

pub use cipher::StateCipher;
pub use wa_state::WaStateBackend;

/// Migrations of the SQLite database, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
