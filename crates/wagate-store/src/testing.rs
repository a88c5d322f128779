//! Fresh databases for tests, on SQLite or PostgreSQL.
//!
//! A SQLite test database is a file in a temporary directory. A
//! PostgreSQL one is a schema of its own in the server's `test` database,
//! named in the URL's `search_path`, so tests run side by side and a
//! server started on the URL sees only its own tables. The schema is
//! dropped with the [`TestDatabase`].

use crate::db::Db;
use sqlx::Executor;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where PostgreSQL test schemas are made, unless `WAGATE_TEST_POSTGRES_URL`
/// says otherwise.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

impl TestBackend {
    /// `WAGATE_TEST_DATABASE=postgres` runs tests that take their
    /// database from the environment on PostgreSQL; SQLite otherwise.
    pub fn from_env() -> TestBackend {
        match std::env::var("WAGATE_TEST_DATABASE").as_deref() {
            Ok("postgres") | Ok("postgresql") => TestBackend::Postgres,
            _ => TestBackend::Sqlite,
        }
    }
}

/// A database made for one test.
#[derive(Debug)]
pub struct TestDatabase {
    /// What `WAGATE_DATABASE_URL` would say.
    pub url: String,
    pub backend: TestBackend,
    /// The PostgreSQL schema, dropped at the end.
    schema: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A new, empty database (not migrated yet: [`TestDatabase::open`]
    /// migrates, as a server starting on [`TestDatabase::url`] does).
    pub async fn create(backend: TestBackend) -> TestDatabase {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("wagate.db").display());
                TestDatabase {
                    url,
                    backend,
                    schema: None,
                    _dir: Some(dir),
                }
            }
            TestBackend::Postgres => {
                let base = std::env::var("WAGATE_TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string());
                let schema = unique_schema();
                let mut admin = admin_connection(&base).await;
                admin
                    .execute(format!("CREATE SCHEMA {schema}").as_str())
                    .await
                    .expect("a test schema");
                let separator = if base.contains('?') { '&' } else { '?' };
                // The schema's name also names its connections, so the
                // drop can end those still open.
                let url = format!(
                    "{base}{separator}options[search_path]={schema}&application_name={schema}"
                );
                TestDatabase {
                    url,
                    backend,
                    schema: Some((base, schema)),
                    _dir: None,
                }
            }
        }
    }

    /// [`TestDatabase::create`] on the backend the environment names.
    pub async fn from_env() -> TestDatabase {
        TestDatabase::create(TestBackend::from_env()).await
    }

    /// Opens (and migrates) the database.
    pub async fn open(&self) -> Db {
        Db::open(&self.url).await.expect("the test database opens")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((base, schema)) = self.schema.take() else {
            return;
        };
        // Drop may run inside a runtime, which cannot block on another
        // future: a thread of its own does the dropping.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let mut admin = admin_connection(&base).await;
                // The test's runtime is blocked on this drop: connections
                // it still holds (one in a transaction, say) would hold
                // their locks for ever.
                let end = format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name = '{schema}' AND pid <> pg_backend_pid()"
                );
                let _ = admin.execute(end.as_str()).await;
                let sql = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                if let Err(e) = admin.execute(sql.as_str()).await {
                    eprintln!("cannot drop test schema {schema}: {e}");
                }
            })
        });
        let _ = dropped.join();
    }
}

async fn admin_connection(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {url} for tests: {e}"))
}

/// A schema name no other test process or test uses.
fn unique_schema() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "wagate_t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}
