//! A store over a fresh, migrated SQLite file that lives as long as the
//! test's `TestDb`.

use wagate_store::Store;

pub struct TestDb {
    pub store: Store,
    _dir: tempfile::TempDir,
}

pub async fn test_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("wagate.db").display());
    let pool = wagate_store::sqlite::open_sqlite(&url).await.unwrap();
    TestDb {
        store: Store::new(pool),
        _dir: dir,
    }
}
