//! The group committer: jobs share transactions, each answers only after
//! its commit, and one job's failure undoes only that job.

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;

use wagate_store::Committer;
use wagate_store::commit::CommitError;
use wagate_store::testing::{TestBackend, TestDatabase};

async fn committer(backend: TestBackend) -> (Committer, TestDatabase) {
    let database = TestDatabase::create(backend).await;
    let db = database.open().await;
    wagate_store::db::query("CREATE TABLE t (k TEXT PRIMARY KEY, v BIGINT NOT NULL)")
        .execute(&db)
        .await
        .unwrap();
    (Committer::start(db), database)
}

async fn insert(c: &Committer, k: &str, v: i64) -> Result<u64, CommitError> {
    let k = k.to_string();
    c.run(move |conn| {
        Box::pin(async move {
            let done = wagate_store::db::query("INSERT INTO t (k, v) VALUES ($1, $2)")
                .bind(k)
                .bind(v)
                .execute(conn)
                .await?;
            Ok(done.rows_affected())
        })
    })
    .await
}

async fn count(c: &Committer) -> i64 {
    wagate_store::db::query_scalar("SELECT COUNT(*) FROM t")
        .fetch_one(c.db())
        .await
        .unwrap()
}

on_both_databases! {
    async fn concurrent_jobs_are_all_committed_and_answered(backend) {
        let (c, _dir) = committer(backend).await;
        let jobs = (0..500).map(|i| {
            let c = c.clone();
            async move { insert(&c, &format!("k{i}"), i).await }
        });
        let results = futures::future::join_all(jobs).await;
        assert!(results.iter().all(|r| matches!(r, Ok(1))));
        // Answered only after commit: another connection sees every row.
        assert_eq!(count(&c).await, 500);
    }
}

on_both_databases! {
    async fn a_failing_job_undoes_only_its_own_writes(backend) {
        let (c, _dir) = committer(backend).await;
        insert(&c, "taken", 1).await.unwrap();
        // A job that writes a row and then fails: neither write may stay.
        let failing = {
            let c = c.clone();
            async move {
                c.run(|conn| {
                    Box::pin(async move {
                        wagate_store::db::query("INSERT INTO t (k, v) VALUES ('half', 2)")
                            .execute(&mut *conn)
                            .await?;
                        wagate_store::db::query("INSERT INTO t (k, v) VALUES ('taken', 3)")
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    })
                })
                .await
            }
        };
        let (failed, ok_a, ok_b) = tokio::join!(failing, insert(&c, "a", 4), insert(&c, "b", 5));
        assert!(matches!(failed, Err(CommitError::Job(_))), "{failed:?}");
        assert!(ok_a.is_ok() && ok_b.is_ok());
        let keys: Vec<String> = wagate_store::db::query_scalar("SELECT k FROM t ORDER BY k")
            .fetch_all(c.db())
            .await
            .unwrap();
        assert_eq!(keys, ["a", "b", "taken"]);
    }
}

on_both_databases! {
    async fn a_job_returns_what_it_read_inside_the_transaction(backend) {
        let (c, _dir) = committer(backend).await;
        insert(&c, "x", 41).await.unwrap();
        let v: i64 = c
            .run(|conn| {
                Box::pin(async move {
                    wagate_store::db::query_scalar("UPDATE t SET v = v + 1 WHERE k = 'x' RETURNING v")
                        .fetch_one(conn)
                        .await
                })
            })
            .await
            .unwrap();
        assert_eq!(v, 42);
    }
}

/// A job of two statements: `half{i}`, then `key` (which fails when it
/// is taken, after the first write was made).
async fn two_inserts(c: &Committer, i: usize, key: String) -> Result<(), CommitError> {
    c.run(move |conn| {
        Box::pin(async move {
            wagate_store::db::query("INSERT INTO t (k, v) VALUES ($1, 1)")
                .bind(format!("half{i}"))
                .execute(&mut *conn)
                .await?;
            wagate_store::db::query("INSERT INTO t (k, v) VALUES ($1, 1)")
                .bind(key)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
    })
    .await
}

on_both_databases! {
    async fn failing_and_succeeding_jobs_interleaved_keep_exactly_the_good_writes(backend) {
        let (c, _dir) = committer(backend).await;
        insert(&c, "taken", 0).await.unwrap();
        // Failures first, last and back to back, all submitted together so
        // they share transactions.
        let plan = [false, true, false, false, true, true, false, true, false];
        let jobs = plan.iter().enumerate().map(|(i, ok)| {
            let c = c.clone();
            let key = if *ok {
                format!("ok{i}")
            } else {
                "taken".into()
            };
            async move { two_inserts(&c, i, key).await }
        });
        let results = futures::future::join_all(jobs).await;
        for (ok, result) in plan.iter().zip(&results) {
            assert_eq!(*ok, result.is_ok(), "{result:?}");
        }
        let keys: Vec<String> = wagate_store::db::query_scalar("SELECT k FROM t ORDER BY k")
            .fetch_all(c.db())
            .await
            .unwrap();
        let mut want = vec!["taken".to_string()];
        for (i, ok) in plan.iter().enumerate() {
            if *ok {
                want.push(format!("half{i}"));
                want.push(format!("ok{i}"));
            }
        }
        want.sort();
        assert_eq!(keys, want);
    }
}
