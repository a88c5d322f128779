//! A store over a fresh, migrated database that lives as long as the
//! test's `TestDb`, and the macro that runs a test on both databases.

#![allow(dead_code)] // each test file takes what it needs

use wagate_store::Store;
use wagate_store::testing::{TestBackend, TestDatabase};

pub struct TestDb {
    pub store: Store,
    pub database: TestDatabase,
}

pub async fn test_db(backend: TestBackend) -> TestDb {
    let database = TestDatabase::create(backend).await;
    TestDb {
        store: Store::new(database.open().await),
        database,
    }
}

/// Defines the test `async fn name(backend) { … }` as a module of two
/// tests, `name::sqlite` and `name::postgres`, each running the body on
/// its database.
#[macro_export]
macro_rules! on_both_databases {
    ($(async fn $name:ident($backend:ident) $body:block)+) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($backend: wagate_store::testing::TestBackend) $body

            #[tokio::test]
            async fn sqlite() {
                case(wagate_store::testing::TestBackend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                case(wagate_store::testing::TestBackend::Postgres).await
            }
        }
    )+};
}
