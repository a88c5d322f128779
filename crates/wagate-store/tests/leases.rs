//! Session leases on both databases: one holder at a time, renewal keeps
//! the epoch, a lease that ran out goes to another node under a higher
//! epoch, and the old holder's check fails from then on.

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;

use std::time::{Duration, Instant};
use test_db::{TestDb, test_db};
use wagate_core::{SessionId, SessionKey};
use wagate_store::domain::NewSession;
use wagate_store::domain::leases::holds_lease;

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(300);

async fn session(db: &TestDb, id: &str) -> SessionKey {
    let tenant = db.store.default_tenant().await.unwrap().id;
    let key = SessionKey {
        tenant,
        session: SessionId::parse(id).unwrap(),
    };
    let new = NewSession {
        key: key.clone(),
        name: None,
        webhook_url: None,
    };
    db.store.create_session(&new).await.unwrap();
    key
}

/// Whether `node` passes the fence of `key` at `epoch`, asked as a write
/// would ask, inside its transaction.
async fn passes(db: &TestDb, key: &SessionKey, node: &str, epoch: i64) -> bool {
    let mut tx = db.store.db().begin().await.unwrap();
    let backend = tx.backend();
    let held = holds_lease(&mut tx, backend, key, node, epoch)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    held
}

on_both_databases! {
    async fn one_node_holds_a_lease_and_renewing_keeps_its_epoch(backend) {
        let db = test_db(backend).await;
        let key = session(&db, "shop").await;
        let first = db.store.acquire_lease(&key, "node_a", LONG).await.unwrap().unwrap();
        assert_eq!(first.epoch, 1);
        assert_eq!(db.store.acquire_lease(&key, "node_b", LONG).await.unwrap(), None);

        let again = db.store.acquire_lease(&key, "node_a", LONG).await.unwrap().unwrap();
        assert_eq!(again.epoch, 1, "holding on is no new epoch");
        assert!(again.expires_at_ms >= first.expires_at_ms);
        let renewed = db.store.renew_leases("node_a", LONG).await.unwrap();
        assert_eq!(renewed.len(), 1);
        assert_eq!((&renewed[0].key, renewed[0].epoch), (&key, 1));
        assert!(db.store.renew_leases("node_b", LONG).await.unwrap().is_empty());
        assert!(passes(&db, &key, "node_a", 1).await);
        assert!(!passes(&db, &key, "node_b", 1).await);
        assert!(db.store.orphaned_sessions(10).await.unwrap().is_empty());

        let missing = SessionKey {
            tenant: key.tenant,
            session: SessionId::parse("nobody").unwrap(),
        };
        assert_eq!(db.store.acquire_lease(&missing, "node_a", LONG).await.unwrap(), None);
    }

    async fn a_lease_that_ran_out_goes_to_another_node_under_a_new_epoch(backend) {
        let db = test_db(backend).await;
        let key = session(&db, "shop").await;
        let old = db.store.acquire_lease(&key, "node_a", SHORT).await.unwrap().unwrap();

        // node_a stops renewing; once the lease ran out it is an orphan,
        // and node_b takes it.
        let deadline = Instant::now() + Duration::from_secs(10);
        let taken = loop {
            if let Some(lease) = db.store.acquire_lease(&key, "node_b", LONG).await.unwrap() {
                break lease;
            }
            assert!(Instant::now() < deadline, "the lease never ran out");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(taken.epoch, old.epoch + 1);

        // The old holder gets nothing back, and its writes are fenced off.
        assert!(db.store.renew_leases("node_a", LONG).await.unwrap().is_empty());
        assert_eq!(db.store.acquire_lease(&key, "node_a", LONG).await.unwrap(), None);
        assert!(!passes(&db, &key, "node_a", old.epoch).await);
        assert!(passes(&db, &key, "node_b", taken.epoch).await);
    }

    async fn run_out_leases_are_listed_for_takeover_and_a_release_frees_one(backend) {
        let db = test_db(backend).await;
        let lapsing = session(&db, "lapsing").await;
        let kept = session(&db, "kept").await;
        let released = session(&db, "released").await;
        db.store.acquire_lease(&lapsing, "node_a", SHORT).await.unwrap().unwrap();
        db.store.acquire_lease(&kept, "node_a", LONG).await.unwrap().unwrap();
        let lease = db.store.acquire_lease(&released, "node_a", LONG).await.unwrap().unwrap();

        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let orphans = db.store.orphaned_sessions(10).await.unwrap();
            if !orphans.is_empty() {
                assert_eq!(orphans, std::slice::from_ref(&lapsing));
                break;
            }
            assert!(Instant::now() < deadline, "the short lease never ran out");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // A stale epoch releases nothing; the holder's own does.
        assert!(!db.store.release_lease(&released, "node_a", lease.epoch + 1).await.unwrap());
        assert!(db.store.release_lease(&released, "node_a", lease.epoch).await.unwrap());
        assert!(!passes(&db, &released, "node_a", lease.epoch).await);
        let next = db.store.acquire_lease(&released, "node_b", LONG).await.unwrap().unwrap();
        assert_eq!(next.epoch, lease.epoch + 1);
    }
}

on_both_databases! {
    async fn a_handed_over_session_is_an_orphan_at_once_and_the_census_shares_it(backend) {
        let db = test_db(backend).await;
        let a = session(&db, "a").await;
        let b = session(&db, "b").await;
        let c = session(&db, "c").await;
        let la = db.store.acquire_lease(&a, "node_a", LONG).await.unwrap().unwrap();
        db.store.acquire_lease(&b, "node_a", LONG).await.unwrap().unwrap();
        db.store.acquire_lease(&c, "node_b", LONG).await.unwrap().unwrap();
        let census = db.store.lease_census("node_c").await.unwrap();
        assert_eq!((census.live, census.orphans, census.mine, census.other_nodes), (3, 0, 0, 2));
        assert_eq!(census.orphans_to_take(), 0);

        assert!(!db.store.hand_over_lease(&a, "node_a", la.epoch + 1).await.unwrap());
        assert!(db.store.hand_over_lease(&a, "node_a", la.epoch).await.unwrap());
        assert_eq!(db.store.orphaned_sessions(10).await.unwrap(), vec![a.clone()]);
        let census = db.store.lease_census("node_c").await.unwrap();
        assert_eq!((census.live, census.orphans, census.mine), (2, 1, 0));
        assert_eq!(census.orphans_to_take(), 1, "node_c holds none: it takes it");
        let census = db.store.lease_census("node_a").await.unwrap();
        assert_eq!(census.orphans_to_take(), 1, "two nodes alive, three sessions: a share is two");

        let taken = db.store.acquire_lease(&a, "node_c", LONG).await.unwrap().unwrap();
        assert_eq!(taken.epoch, la.epoch + 1);
        assert!(!passes(&db, &a, "node_a", la.epoch).await);
    }
}

on_both_databases! {
    async fn a_single_node_takes_over_a_live_lease_under_a_new_epoch(backend) {
        let db = test_db(backend).await;
        let key = session(&db, "shop").await;
        let old = db.store.acquire_lease(&key, "node_old", LONG).await.unwrap().unwrap();
        let new = db.store.take_over_lease(&key, "node_new", LONG).await.unwrap().unwrap();
        assert_eq!(new.epoch, old.epoch + 1);
        assert!(passes(&db, &key, "node_new", new.epoch).await);
        assert!(!passes(&db, &key, "node_old", old.epoch).await);
        assert!(db.store.renew_leases("node_old", LONG).await.unwrap().is_empty());
    }
}
