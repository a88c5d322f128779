//! A fenced wa_state backend writes only while its node holds the
//! session's lease at its epoch, on each of its write paths (group commit,
//! own transaction, single statement); once another node took the lease
//! over, every write fails as lease-lost and leaves the state as it was.
//! An unfenced backend writes regardless.

#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_db::{TestDb, test_db};
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::error::{Result, StoreError};
use wacore::store::traits::*;
use wagate_core::{SessionId, SessionKey};
use wagate_store::domain::{Lease, NewSession};
use wagate_store::wa_state::is_lease_lost;
use wagate_store::{Committer, StateCipher, WaStateBackend};

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(300);

const PEER: &str = "15550001111@s.whatsapp.net";
const CHAT: &str = "15550002222@s.whatsapp.net";
const PREKEY: u32 = 5;
const COLLECTION: &str = "regular";
const SYNC_KEY_ID: &[u8] = b"sync-key";
const INDEX_MAC: [u8; 32] = [7; 32];

/// A session row to lease and an unfenced backend for its state.
async fn setup(db: &TestDb) -> (SessionKey, WaStateBackend) {
    let tenant = db.store.default_tenant().await.unwrap().id;
    let key = SessionKey {
        tenant,
        session: SessionId::parse("shop").unwrap(),
    };
    let new = NewSession {
        key: key.clone(),
        name: None,
        webhook_url: None,
    };
    db.store.create_session(&new).await.unwrap();
    let (cipher, _) = StateCipher::generate();
    let backend = WaStateBackend::new(
        Committer::start(db.store.db().clone()),
        Arc::new(cipher),
        key.tenant,
        key.session.clone(),
    );
    (key, backend)
}

/// What the writes of [`write_each_path`] leave behind.
#[derive(Debug, PartialEq)]
struct Snapshot {
    identity: Option<[u8; 32]>,
    prekey: Option<Vec<u8>>,
    mutation_mac: Option<Vec<u8>>,
    version: u64,
    sync_key: Option<Vec<u8>>,
}

/// Writes generation `n` of one value per write path: an identity through
/// the group commit, a prekey and a mutation MAC each in a transaction of
/// their own, a collection version and a sync key as single statements.
async fn write_each_path(b: &WaStateBackend, n: u8) -> Vec<(&'static str, Result<()>)> {
    let mac = AppStateMutationMAC {
        index_mac: INDEX_MAC.to_vec(),
        value_mac: vec![n; 4],
    };
    let state = HashState {
        version: u64::from(n),
        ..HashState::default()
    };
    let sync_key = AppStateSyncKey {
        key_data: vec![n; 4],
        fingerprint: vec![n],
        timestamp: i64::from(n),
    };
    vec![
        ("put_identity", b.put_identity(PEER, [n; 32]).await),
        ("store_prekey", b.store_prekey(PREKEY, &[n; 8], false).await),
        (
            "put_mutation_macs",
            b.put_mutation_macs(COLLECTION, u64::from(n), &[mac]).await,
        ),
        ("set_version", b.set_version(COLLECTION, state).await),
        ("set_sync_key", b.set_sync_key(SYNC_KEY_ID, sync_key).await),
    ]
}

async fn snapshot(b: &WaStateBackend) -> Snapshot {
    Snapshot {
        identity: b.load_identity(PEER).await.unwrap(),
        prekey: b.load_prekey(PREKEY).await.unwrap().map(|r| r.to_vec()),
        mutation_mac: b.get_mutation_mac(COLLECTION, &INDEX_MAC).await.unwrap(),
        version: b.get_version(COLLECTION).await.unwrap().version,
        sync_key: b
            .get_sync_key(SYNC_KEY_ID)
            .await
            .unwrap()
            .map(|k| k.key_data),
    }
}

fn written(n: u8) -> Snapshot {
    Snapshot {
        identity: Some([n; 32]),
        prekey: Some(vec![n; 8]),
        mutation_mac: Some(vec![n; 4]),
        version: u64::from(n),
        sync_key: Some(vec![n; 4]),
    }
}

fn assert_all_ok(results: Vec<(&'static str, Result<()>)>) {
    for (what, result) in results {
        if let Err(e) = result {
            panic!("{what} failed: {e} ({:?})", e.source());
        }
    }
}

/// Asserts `err` is the refusal of a write fenced at `epoch`.
fn assert_lease_lost(what: &str, err: &StoreError, epoch: i64) {
    assert!(is_lease_lost(err), "{what}: not a lost lease: {err:?}");
    assert!(matches!(err, StoreError::Database(_)), "{what}: {err:?}");
    let reason = err.source().map(|s| s.to_string()).unwrap_or_default();
    assert_eq!(
        reason,
        format!("this node no longer holds the session's lease (epoch {epoch})"),
        "{what}"
    );
}

/// Waits for `key`'s current lease to run out, then takes it for `node`.
async fn take_over(db: &TestDb, key: &SessionKey, node: &str) -> Lease {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(lease) = db.store.acquire_lease(key, node, LONG).await.unwrap() {
            return lease;
        }
        assert!(Instant::now() < deadline, "the lease never ran out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_databases! {
    async fn the_lease_holder_writes_through_every_path(backend) {
        let db = test_db(backend).await;
        let (key, state) = setup(&db).await;
        let lease = db.store.acquire_lease(&key, "node_a", LONG).await.unwrap().unwrap();
        let fenced = state.clone().fenced("node_a", lease.epoch);

        assert_all_ok(write_each_path(&fenced, 1).await);
        assert_eq!(snapshot(&fenced).await, written(1));
        assert_eq!(snapshot(&state).await, written(1));

        // Deletes and takes are writes too.
        fenced.store_sent_message(CHAT, "m1", b"payload").await.unwrap();
        assert_eq!(
            fenced.take_sent_message(CHAT, "m1").await.unwrap().as_deref(),
            Some(&b"payload"[..])
        );
        fenced.remove_prekey(PREKEY).await.unwrap();
        assert_eq!(fenced.load_prekey(PREKEY).await.unwrap(), None);
    }

    async fn a_node_that_lost_the_lease_writes_nothing(backend) {
        let db = test_db(backend).await;
        let (key, state) = setup(&db).await;
        let old = db.store.acquire_lease(&key, "node_a", SHORT).await.unwrap().unwrap();
        let stale = state.clone().fenced("node_a", old.epoch);
        assert_all_ok(write_each_path(&stale, 1).await);
        stale.store_sent_message(CHAT, "m1", b"payload").await.unwrap();

        // node_a stops renewing; node_b takes the session under a new epoch.
        let taken = take_over(&db, &key, "node_b").await;
        assert_eq!(taken.epoch, old.epoch + 1);

        for (what, result) in write_each_path(&stale, 2).await {
            let err = result.expect_err(what);
            assert_lease_lost(what, &err, old.epoch);
        }
        let err = stale.take_sent_message(CHAT, "m1").await.unwrap_err();
        assert_lease_lost("take_sent_message", &err, old.epoch);
        let err = stale.remove_prekey(PREKEY).await.unwrap_err();
        assert_lease_lost("remove_prekey", &err, old.epoch);
        assert_eq!(snapshot(&state).await, written(1), "the refused writes left no trace");

        // The new holder's epoch is the only one that writes; the old
        // epoch does not, whichever node names it.
        let behind = state.clone().fenced("node_b", old.epoch);
        let err = behind.set_version(COLLECTION, HashState::default()).await.unwrap_err();
        assert_lease_lost("set_version", &err, old.epoch);
        let holder = state.clone().fenced("node_b", taken.epoch);
        assert_all_ok(write_each_path(&holder, 3).await);
        assert_eq!(snapshot(&state).await, written(3));
        assert_eq!(
            holder.take_sent_message(CHAT, "m1").await.unwrap().as_deref(),
            Some(&b"payload"[..])
        );
    }

    async fn an_unfenced_backend_writes_whoever_holds_the_lease(backend) {
        let db = test_db(backend).await;
        let (key, state) = setup(&db).await;
        assert_all_ok(write_each_path(&state, 1).await);
        assert_eq!(snapshot(&state).await, written(1));

        db.store.acquire_lease(&key, "node_a", LONG).await.unwrap().unwrap();
        assert_all_ok(write_each_path(&state, 2).await);
        assert_eq!(snapshot(&state).await, written(2));
        state.store_sent_message(CHAT, "m1", b"payload").await.unwrap();
        assert!(state.take_sent_message(CHAT, "m1").await.unwrap().is_some());
    }
}
