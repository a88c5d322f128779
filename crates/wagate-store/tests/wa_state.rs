//! What the wa_state backend promises beyond trait behaviour: sessions are
//! isolated, secrets are sealed at rest and bound to their place, state
//! survives a restart, and deleting a session leaves nothing behind.

use bytes::Bytes;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::Device;
use wacore::store::traits::*;
use wagate_core::{SessionId, TenantId};
use wagate_store::db::{Db, query, query_scalar};
use wagate_store::{Committer, StateCipher, WaStateBackend};

struct TestDb {
    pool: Db,
    url: String,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

async fn test_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wagate.db");
    let url = format!("sqlite://{}", path.display());
    let pool = Db::open(&url).await.unwrap();
    TestDb {
        pool,
        url,
        path,
        _dir: dir,
    }
}

fn session(id: &str) -> SessionId {
    SessionId::parse(id).unwrap()
}

fn backend(pool: &Db, cipher: &Arc<StateCipher>, tenant: i64, id: &str) -> WaStateBackend {
    WaStateBackend::new(
        Committer::start(pool.clone()),
        cipher.clone(),
        TenantId(tenant),
        session(id),
    )
}

const PEER: &str = "15550001111@s.whatsapp.net";
const PEER_LID: &str = "100000012345678@lid";
const GROUP: &str = "120363000000000001@g.us";
const SENDER_KEY: &str = "120363000000000001@g.us::15550001111::1";

/// Every sealed value carries this, so it must never appear in the file.
const MARK: &str = "SEALED-MARKER";

fn marked(what: &str) -> Vec<u8> {
    format!("{MARK}-{what}").into_bytes()
}

fn marked32(what: &str) -> [u8; 32] {
    let mut out = [b'.'; 32];
    let m = marked(what);
    let n = m.len().min(32);
    out[..n].copy_from_slice(&m[..n]);
    out
}

fn paired_device(name: &str) -> Device {
    let mut device = Device::new();
    device.push_name = format!("{MARK}-{name}");
    device.pn = Some("15559990000:4@s.whatsapp.net".parse().unwrap());
    device
}

/// Writes one record of every kind the backend stores.
async fn populate(b: &WaStateBackend) {
    b.save(&paired_device("push-name")).await.unwrap();
    b.put_identity(PEER, marked32("identity")).await.unwrap();
    b.put_session(PEER, &marked("session")).await.unwrap();
    b.store_prekey(1, &marked("prekey"), false).await.unwrap();
    b.store_signed_prekey(1, &marked("signed-prekey"))
        .await
        .unwrap();
    b.put_sender_key(SENDER_KEY, &marked("sender-key"))
        .await
        .unwrap();
    let sync_key = AppStateSyncKey {
        key_data: marked("sync-key"),
        fingerprint: vec![1],
        timestamp: 1,
    };
    b.set_sync_key(b"key-1", sync_key).await.unwrap();
    let state = HashState {
        version: 2,
        index_value_map: HashMap::from([(format!("{MARK}-index"), vec![1])]),
        ..HashState::default()
    };
    b.set_version("regular", state).await.unwrap();
    let mac = AppStateMutationMAC {
        index_mac: vec![7; 32],
        value_mac: marked("value-mac"),
    };
    b.put_mutation_macs("regular", 2, &[mac]).await.unwrap();
    b.set_sender_key_status(GROUP, &[(PEER, true)])
        .await
        .unwrap();
    let mapping = LidPnMappingEntry {
        lid: "100000012345678".into(),
        phone_number: "15550001111".into(),
        created_at: 1,
        updated_at: 2,
        learning_source: "usync".into(),
    };
    b.put_lid_mapping(&mapping).await.unwrap();
    b.save_base_key(PEER, "M1", &marked("base-key"))
        .await
        .unwrap();
    let devices = DeviceListRecord {
        user: "15550001111".into(),
        devices: vec![DeviceInfo::new(0, None)],
        timestamp: 1,
        phash: Some(format!("{MARK}-phash")),
        raw_id: None,
    };
    b.update_device_list(devices).await.unwrap();
    b.put_group_metadata(GROUP, &marked("group")).await.unwrap();
    b.store_received_tc_token(PEER_LID, &marked("tc-token"), 5)
        .await
        .unwrap();
    b.store_sent_message(PEER, "M1", &marked("sent"))
        .await
        .unwrap();
    b.store_pending_inbound(PEER, PEER, "S1", &marked("pending"))
        .await
        .unwrap();
    b.put_msg_secret(PEER, PEER, "M1", &marked32("msg-secret"))
        .await
        .unwrap();
}

/// Reads back everything [`populate`] wrote, as comparable text; a session
/// that never wrote anything yields only "absent" entries.
async fn snapshot(b: &WaStateBackend) -> Vec<String> {
    let device = b.load().await.unwrap().map(|d| d.push_name);
    vec![
        format!("device {device:?}"),
        format!("identity {:?}", b.load_identity(PEER).await.unwrap()),
        format!("session {:?}", b.get_session(PEER).await.unwrap()),
        format!("prekey {:?}", b.load_prekey(1).await.unwrap()),
        format!("signed {:?}", b.load_signed_prekey(1).await.unwrap()),
        format!(
            "sender key {:?}",
            b.get_sender_key(SENDER_KEY).await.unwrap()
        ),
        format!("sync key {:?}", b.get_sync_key(b"key-1").await.unwrap()),
        format!("latest {:?}", b.get_latest_sync_key_id().await.unwrap()),
        format!(
            "version {:?}",
            b.get_version("regular").await.unwrap().version
        ),
        format!(
            "mac {:?}",
            b.get_mutation_mac("regular", &[7; 32]).await.unwrap()
        ),
        format!("skd {:?}", b.get_sender_key_devices(GROUP).await.unwrap()),
        format!(
            "lid {:?}",
            b.get_pn_mapping("15550001111")
                .await
                .unwrap()
                .map(|m| m.lid)
        ),
        format!(
            "base {:?}",
            b.has_same_base_key(PEER, "M1", &marked("base-key"))
                .await
                .unwrap()
        ),
        format!(
            "devices {:?}",
            b.get_devices("15550001111").await.unwrap().map(|d| d.phash)
        ),
        format!("group {:?}", b.get_group_metadata(GROUP).await.unwrap()),
        format!(
            "tc {:?}",
            b.get_tc_token(PEER_LID).await.unwrap().map(|t| t.token)
        ),
        format!(
            "pending {:?}",
            b.get_pending_inbound(PEER, PEER, "S1").await.unwrap()
        ),
        format!(
            "secret {:?}",
            b.get_msg_secret(PEER, PEER, "M1").await.unwrap()
        ),
    ]
}

async fn wa_tables(pool: &Db) -> Vec<String> {
    query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'wa\\_%' ESCAPE '\\'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Rows per wa_state table for one session.
async fn row_counts(pool: &Db, tenant: i64, id: &str) -> Vec<(String, i64)> {
    let mut counts = Vec::new();
    for table in wa_tables(pool).await {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE tenant_id = $1 AND session_id = $2");
        let n: i64 = query_scalar(sql)
            .bind(tenant)
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap();
        counts.push((table, n));
    }
    counts
}

#[tokio::test]
async fn sessions_do_not_see_each_others_state() {
    let db = test_db().await;
    let cipher = Arc::new(StateCipher::generate().0);
    let a = backend(&db.pool, &cipher, 1, "alpha");
    let b = backend(&db.pool, &cipher, 1, "beta");
    // Same session id under another tenant is another session.
    let c = backend(&db.pool, &cipher, 2, "alpha");
    let empty = snapshot(&b).await;

    populate(&a).await;
    let full = snapshot(&a).await;
    assert_ne!(full, empty);
    assert_eq!(snapshot(&b).await, empty);
    assert_eq!(snapshot(&c).await, empty);
    assert!(!b.has_credentials().await.unwrap());
    assert!(!b.has_signal_state_for_user("15550001111").await.unwrap());
    assert_eq!(b.get_all_lid_mappings().await.unwrap().len(), 0);
    assert_eq!(b.get_all_tc_token_jids().await.unwrap().len(), 0);
    assert_eq!(b.take_sent_message(PEER, "M1").await.unwrap(), None);

    // Writes and sweeps of another session never touch this one's rows.
    b.put_session(PEER, b"beta's").await.unwrap();
    c.clear_all_sender_key_devices().await.unwrap();
    c.delete_expired_sent_messages(i64::MAX).await.unwrap();
    c.delete_expired_pending_inbound(i64::MAX).await.unwrap();
    c.delete_expired_tc_tokens(i64::MAX, i64::MAX)
        .await
        .unwrap();
    c.clear_mutation_macs("regular").await.unwrap();
    assert_eq!(snapshot(&a).await, full);
    assert_eq!(
        b.get_session(PEER).await.unwrap().as_deref(),
        Some(&b"beta's"[..])
    );
}

#[tokio::test]
async fn secrets_are_not_stored_in_plaintext() {
    let db = test_db().await;
    let cipher = Arc::new(StateCipher::generate().0);
    let a = backend(&db.pool, &cipher, 1, "alpha");
    populate(&a).await;

    let raw_session: Vec<u8> =
        query_scalar("SELECT record FROM wa_signal_session WHERE address = $1")
            .bind(PEER)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let plain = marked("session");
    assert!(!contains(&raw_session, &plain));
    assert_eq!(
        raw_session.len(),
        24 + plain.len() + 16,
        "nonce || ciphertext || tag"
    );

    let raw_device: Vec<u8> = query_scalar("SELECT device FROM wa_device")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    for needle in [
        MARK.as_bytes(),
        b"noise_key",
        b"identity_key",
        b"adv_secret_key",
    ] {
        assert!(!contains(&raw_device, needle));
    }

    // Every byte on disk, database and write-ahead log: no sealed value
    // leaks anywhere, in any table or index.
    let mut on_disk = std::fs::read(&db.path).unwrap();
    on_disk.extend(std::fs::read(db.path.with_extension("db-wal")).unwrap_or_default());
    assert!(
        contains(&on_disk, PEER.as_bytes()),
        "the scan sees row keys"
    );
    assert!(
        !contains(&on_disk, MARK.as_bytes()),
        "a sealed value is readable on disk"
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn sealed_blobs_only_open_where_they_were_written() {
    let db = test_db().await;
    let cipher = Arc::new(StateCipher::generate().0);
    let a = backend(&db.pool, &cipher, 1, "alpha");
    let b = backend(&db.pool, &cipher, 1, "beta");
    let other_tenant = backend(&db.pool, &cipher, 2, "alpha");
    populate(&a).await;

    // Copy alpha's Signal session and device into the other sessions' rows.
    for (tenant, id) in [(1, "beta"), (2, "alpha")] {
        query(
            "INSERT INTO wa_signal_session (tenant_id, session_id, address, record) \
             SELECT $1, $2, address, record FROM wa_signal_session WHERE tenant_id = 1 AND session_id = 'alpha'",
        )
        .bind(tenant)
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
        query(
            "INSERT INTO wa_device (tenant_id, session_id, device, paired) \
             SELECT $1, $2, device, paired FROM wa_device WHERE tenant_id = 1 AND session_id = 'alpha'",
        )
        .bind(tenant)
        .bind(id)
        .execute(&db.pool)
        .await
        .unwrap();
    }
    for thief in [&b, &other_tenant] {
        assert!(thief.get_session(PEER).await.is_err());
        assert!(thief.load().await.is_err());
    }

    // Within one session, a blob moved to another row or another column
    // fails too.
    query(
        "INSERT INTO wa_signal_session (tenant_id, session_id, address, record) \
         SELECT tenant_id, session_id, 'other@s.whatsapp.net', record FROM wa_signal_session \
         WHERE tenant_id = 1 AND session_id = 'alpha'",
    )
    .execute(&db.pool)
    .await
    .unwrap();
    assert!(a.get_session("other@s.whatsapp.net").await.is_err());
    query(
        "UPDATE wa_sender_key SET record = (SELECT record FROM wa_signal_session \
         WHERE tenant_id = 1 AND session_id = 'alpha' AND address = $1)",
    )
    .bind(PEER)
    .execute(&db.pool)
    .await
    .unwrap();
    assert!(a.get_sender_key(SENDER_KEY).await.is_err());

    // The original rows still open.
    assert_eq!(
        a.get_session(PEER).await.unwrap().unwrap(),
        Bytes::from(marked("session"))
    );
    assert!(a.load().await.unwrap().is_some());
}

#[tokio::test]
async fn state_survives_reopening_the_database() {
    let db = test_db().await;
    let (cipher, _) = StateCipher::generate();
    let key = cipher.to_base64();
    let cipher = Arc::new(cipher);
    let a = backend(&db.pool, &cipher, 1, "alpha");
    populate(&a).await;
    let device = a.load().await.unwrap().unwrap();
    let before = snapshot(&a).await;
    drop(a);
    db.pool.close().await;

    let pool = Db::open(&db.url).await.unwrap();
    let cipher = Arc::new(StateCipher::from_base64(&key).unwrap());
    let a = backend(&pool, &cipher, 1, "alpha");
    assert_eq!(snapshot(&a).await, before);
    let reloaded = a.load().await.unwrap().unwrap();
    assert_eq!(
        serde_json::to_value(&reloaded).unwrap(),
        serde_json::to_value(&device).unwrap()
    );
    assert_eq!(
        *reloaded.device_props,
        wacore::store::device::DEVICE_PROPS.clone()
    );
    assert!(a.is_paired().await.unwrap());

    // Another master key cannot read the state.
    let stranger = backend(&pool, &Arc::new(StateCipher::generate().0), 1, "alpha");
    assert!(stranger.load().await.is_err());
    assert!(stranger.get_session(PEER).await.is_err());
}

#[tokio::test]
async fn delete_all_removes_one_session_completely() {
    let db = test_db().await;
    let cipher = Arc::new(StateCipher::generate().0);
    let a = backend(&db.pool, &cipher, 1, "alpha");
    let b = backend(&db.pool, &cipher, 1, "beta");
    populate(&a).await;
    populate(&b).await;
    let b_rows = row_counts(&db.pool, 1, "beta").await;
    let b_state = snapshot(&b).await;
    assert!(wa_tables(&db.pool).await.len() >= 19);
    assert!(
        row_counts(&db.pool, 1, "alpha")
            .await
            .iter()
            .all(|(_, n)| *n > 0),
        "populate fills every table"
    );

    let removed = WaStateBackend::delete_all(&db.pool, TenantId(1), &session("alpha"))
        .await
        .unwrap();
    let left = row_counts(&db.pool, 1, "alpha").await;
    assert!(left.iter().all(|(_, n)| *n == 0), "left behind: {left:?}");
    let expected: i64 = b_rows.iter().map(|(_, n)| n).sum();
    assert_eq!(removed as i64, expected);
    assert!(!a.has_credentials().await.unwrap());

    assert_eq!(row_counts(&db.pool, 1, "beta").await, b_rows);
    assert_eq!(snapshot(&b).await, b_state);
}

#[tokio::test]
async fn credentials_and_pairing_are_reported() {
    let db = test_db().await;
    let cipher = Arc::new(StateCipher::generate().0);
    let a = backend(&db.pool, &cipher, 1, "alpha");
    assert!(!a.has_credentials().await.unwrap());
    assert!(!a.is_paired().await.unwrap());

    assert_eq!(a.create().await.unwrap(), 1);
    assert!(a.has_credentials().await.unwrap());
    assert!(!a.is_paired().await.unwrap());
    let fresh = a.load().await.unwrap().unwrap();

    a.save(&paired_device("paired")).await.unwrap();
    assert!(a.is_paired().await.unwrap());
    let paired = a.load().await.unwrap().unwrap();
    assert_ne!(paired.push_name, fresh.push_name);
    assert_eq!(
        paired.pn.map(|j| j.to_string()).as_deref(),
        Some("15559990000:4@s.whatsapp.net")
    );

    // A second create keeps the paired device.
    a.create().await.unwrap();
    assert!(a.is_paired().await.unwrap());

    let report = a.resource_report().await;
    assert_eq!(report.memory_bytes, Some(0));
}

#[tokio::test]
async fn prekey_upload_flag_is_tracked_without_resurrecting_keys() {
    let db = test_db().await;
    let cipher = Arc::new(StateCipher::generate().0);
    let a = backend(&db.pool, &cipher, 1, "alpha");
    let keys: Vec<(u32, Bytes)> = (1..=3).map(|i| (i, Bytes::from(vec![i as u8]))).collect();
    a.store_prekeys_batch(&keys, false).await.unwrap();
    a.remove_prekey(2).await.unwrap();
    a.mark_prekeys_uploaded(&[1, 2]).await.unwrap();
    assert_eq!(a.prekey_uploaded(1).await.unwrap(), Some(true));
    assert_eq!(a.prekey_uploaded(2).await.unwrap(), None);
    assert_eq!(a.prekey_uploaded(3).await.unwrap(), Some(false));
}

#[tokio::test]
async fn many_sessions_write_concurrently_through_one_pool() {
    let db = test_db().await;
    let cipher = Arc::new(StateCipher::generate().0);
    let mut tasks = Vec::new();
    for s in 0..16 {
        let b = backend(&db.pool, &cipher, 1, &format!("s{s}"));
        tasks.push(tokio::spawn(async move {
            for round in 0..20u8 {
                let batch: Vec<(Arc<str>, Bytes)> = (0..5)
                    .map(|p| {
                        (
                            Arc::from(format!("{p}@s.whatsapp.net")),
                            Bytes::from(vec![round; 64]),
                        )
                    })
                    .collect();
                b.put_sessions_batch(&batch).await?;
                b.set_sender_key_status(GROUP, &[(PEER, round % 2 == 0)])
                    .await?;
            }
            b.get_session("4@s.whatsapp.net").await
        }));
    }
    for t in tasks {
        let last = t.await.unwrap().unwrap();
        assert_eq!(last.as_deref(), Some(&[19u8; 64][..]));
    }
    let total: i64 = query("SELECT COUNT(*) AS n FROM wa_signal_session")
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(total, 16 * 5);
}
