//! Conformance of `WaStateBackend` with wacore's reference `InMemoryBackend`.
//!
//! Each test is a script of storage operations. The same script runs
//! against both backends (ours on a fresh SQLite file, then on a fresh
//! PostgreSQL schema) and every single
//! result must be equal. Results are normalized to JSON, with lists whose
//! order the traits leave unspecified sorted first.

#[path = "support/wa_state_ops.rs"]
mod ops;
#[path = "support/test_db.rs"]
#[macro_use]
mod test_db;

use ops::{DeviceArg, Op, S, apply};
use std::collections::HashMap;
use std::sync::Arc;
use wacore::appstate::hash::HashState;
use wacore::store::traits::{
    AppStateSyncKey, DeviceInfo, DeviceListRecord, LidPnMappingEntry, MsgSecretEntry, TcTokenEntry,
};
use wacore::store::{Device, InMemoryBackend};
use wagate_core::{SessionId, TenantId};
use wagate_store::testing::{TestBackend, TestDatabase};
use wagate_store::{Committer, StateCipher, WaStateBackend};

/// Runs `script` against a fresh backend on `database` and a fresh
/// in-memory one, asserting every step gives the same result.
async fn conform_on(backend: TestBackend, script: Vec<Op>) {
    let database = TestDatabase::create(backend).await;
    let (cipher, _) = StateCipher::generate();
    let ours = WaStateBackend::new(
        Committer::start(database.open().await),
        Arc::new(cipher),
        TenantId(7),
        SessionId::parse("conformance").unwrap(),
    );
    let reference = InMemoryBackend::new();
    for (step, op) in script.iter().enumerate() {
        let expected = apply(&reference, op).await;
        let got = apply(&ours, op).await;
        assert_eq!(got, expected, "step {step}: {op:?}");
    }
}

const ALICE: S = "15550001111@s.whatsapp.net";
const ALICE_2: S = "15550001111:2@s.whatsapp.net";
const ALICE_LID: S = "100000012345678:3@lid";
const BOB: S = "15550002222@s.whatsapp.net";
const GROUP: S = "120363000000000001@g.us";
const GROUP_2: S = "120363000000000002@g.us";

on_both_databases! {
    async fn identities_and_sessions_match_reference(backend) {
        use Op::*;
        conform_on(backend, vec![
            LoadIdentity(ALICE),
            HasSignalStateForUser("15550001111"),
            PutIdentity(ALICE, [1; 32]),
            LoadIdentity(ALICE),
            PutIdentity(ALICE, [2; 32]),
            LoadIdentity(ALICE),
            PutIdentitiesBatch(vec![(BOB, [3; 32]), (ALICE_2, [4; 32]), (BOB, [5; 32])]),
            LoadIdentity(BOB),
            LoadIdentity(ALICE_2),
            PutIdentitiesBatch(vec![]),
            HasSignalStateForUser("15550001111"),
            HasSignalStateForUser("1555000111"),
            HasSignalStateForUser("155500011110"),
            DeleteIdentity(ALICE),
            DeleteIdentity(ALICE),
            LoadIdentity(ALICE),
            HasSignalStateForUser("15550001111"),
            DeleteIdentity(ALICE_2),
            HasSignalStateForUser("15550001111"),
            GetSession(ALICE),
            HasSession(ALICE),
            PutSession(ALICE, b"ratchet-1"),
            GetSession(ALICE),
            HasSession(ALICE),
            PutSession(ALICE, b"ratchet-2"),
            GetSession(ALICE),
            PutSessionsBatch(vec![
                (BOB, b"bob-1"),
                (ALICE_LID, b"lid-1"),
                (ALICE, b"ratchet-3"),
            ]),
            GetSession(BOB),
            GetSession(ALICE_LID),
            GetSession(ALICE),
            HasSignalStateForUser("100000012345678"),
            HasSignalStateForUser("100000012345678:3"),
            PutSessionsBatch(vec![]),
            PutSession(ALICE, b""),
            GetSession(ALICE),
            DeleteSession(ALICE_LID),
            HasSession(ALICE_LID),
            HasSignalStateForUser("100000012345678"),
            DeleteSession("nobody@s.whatsapp.net"),
            HasSignalStateForUser("%"),
            HasSignalStateForUser("_5550001111"),
        ])
        .await;
    }
}

on_both_databases! {
    async fn prekeys_and_signed_prekeys_match_reference(backend) {
        use Op::*;
        conform_on(backend, vec![
            MaxPrekeyId,
            LoadPrekey(1),
            StorePrekey(1, b"pk-1", false),
            LoadPrekey(1),
            StorePrekeysBatch(vec![(2, b"pk-2"), (3, b"pk-3"), (10, b"pk-10")], false),
            MaxPrekeyId,
            LoadPrekeysBatch(vec![3, 1, 99, 10, 3]),
            LoadPrekeysBatch(vec![]),
            MarkPrekeysUploaded(vec![1, 2, 50]),
            RemovePrekey(2),
            MarkPrekeysUploaded(vec![2]),
            LoadPrekey(2),
            LoadPrekeysBatch(vec![1, 2, 3]),
            StorePrekey(3, b"pk-3b", true),
            LoadPrekey(3),
            RemovePrekey(10),
            MaxPrekeyId,
            StorePrekeysBatch(vec![], true),
            StorePrekey(u32::MAX, b"pk-max", true),
            MaxPrekeyId,
            LoadPrekey(u32::MAX),
            LoadAllSignedPrekeys,
            LoadSignedPrekey(1),
            StoreSignedPrekey(1, b"spk-1"),
            StoreSignedPrekey(2, b"spk-2"),
            StoreSignedPrekey(1, b"spk-1b"),
            LoadSignedPrekey(1),
            LoadAllSignedPrekeys,
            RemoveSignedPrekey(1),
            LoadSignedPrekey(1),
            LoadAllSignedPrekeys,
        ])
        .await;
    }
}

on_both_databases! {
    async fn sender_keys_and_device_status_match_reference(backend) {
        use Op::*;
        let sk = "120363000000000001@g.us::15550001111::1";
        let sk2 = "120363000000000001@g.us::15550002222::1";
        conform_on(backend, vec![
            GetSenderKey(sk),
            PutSenderKey(sk, b"chain-1"),
            GetSenderKey(sk),
            PutSenderKeysBatch(vec![(sk, b"chain-2"), (sk2, b"other")]),
            GetSenderKey(sk),
            GetSenderKey(sk2),
            DeleteSenderKey(sk),
            GetSenderKey(sk),
            GetSenderKeyDevices(GROUP),
            SetSenderKeyStatus(GROUP, vec![(ALICE_2, true), (BOB, false)]),
            SetSenderKeyStatus(GROUP_2, vec![(ALICE_2, true), (ALICE_LID, true)]),
            GetSenderKeyDevices(GROUP),
            SetSenderKeyStatus(GROUP, vec![(BOB, true), (ALICE_2, false)]),
            GetSenderKeyDevices(GROUP),
            SetSenderKeyStatus(GROUP, vec![]),
            DeleteSenderKeyDeviceRows(vec![ALICE_2]),
            GetSenderKeyDevices(GROUP),
            GetSenderKeyDevices(GROUP_2),
            DeleteSenderKeyDeviceRows(vec![]),
            ClearSenderKeyDevices(GROUP),
            GetSenderKeyDevices(GROUP),
            GetSenderKeyDevices(GROUP_2),
            SetSenderKeyStatus(GROUP, vec![(BOB, true)]),
            ClearAllSenderKeyDevices,
            GetSenderKeyDevices(GROUP),
            GetSenderKeyDevices(GROUP_2),
        ])
        .await;
    }
}

fn hash_state(version: u64, fill: u8, entries: &[(&str, &[u8])]) -> HashState {
    HashState {
        version,
        hash: [fill; 128],
        index_value_map: entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_vec()))
            .collect::<HashMap<_, _>>(),
        mac_mismatch_fatal: fill % 2 == 1,
    }
}

fn sync_key(data: u8, ts: i64) -> AppStateSyncKey {
    AppStateSyncKey {
        key_data: vec![data; 32],
        fingerprint: vec![data, 1, 2],
        timestamp: ts,
    }
}

on_both_databases! {
    async fn app_state_matches_reference(backend) {
        use Op::*;
        let m1: &[u8] = &[1; 32];
        let m2: &[u8] = &[2; 32];
        let m3: &[u8] = &[3; 32];
        conform_on(backend, vec![
            LatestSyncKeyId,
            GetSyncKey(b"k1"),
            SetSyncKey(b"k1", sync_key(1, 100)),
            SetSyncKey(b"k2", sync_key(2, 200)),
            LatestSyncKeyId,
            GetSyncKey(b"k1"),
            GetSyncKey(b"k2"),
            SetSyncKey(b"k1", sync_key(9, 300)),
            LatestSyncKeyId,
            GetSyncKey(b"k1"),
            GetVersion("regular"),
            SetVersion(
                "regular",
                hash_state(3, 7, &[("idx-a", b"val-a"), ("idx-b", b"")]),
            ),
            GetVersion("regular"),
            SetVersion("regular", hash_state(4, 8, &[])),
            GetVersion("regular"),
            GetVersion("critical_block"),
            PutMutationMacs("regular", 4, vec![(m1, b"v1"), (m2, b"v2")]),
            PutMutationMacs("critical_block", 1, vec![(m1, b"c1")]),
            GetMutationMac("regular", m1),
            GetMutationMac("critical_block", m1),
            GetMutationMac("regular", m3),
            GetMutationMacs("regular", vec![[1; 32], [2; 32], [3; 32]]),
            GetMutationMacs("regular", vec![]),
            PutMutationMacs("regular", 5, vec![(m1, b"v1b"), (m3, b"v3")]),
            GetMutationMacs("regular", vec![[1; 32], [2; 32], [3; 32]]),
            PutMutationMacs("regular", 6, vec![(b"short", b"vs")]),
            GetMutationMac("regular", b"short"),
            DeleteMutationMacs("regular", vec![m2, b"short", b"missing"]),
            GetMutationMacs("regular", vec![[1; 32], [2; 32], [3; 32]]),
            DeleteMutationMacs("regular", vec![]),
            ClearMutationMacs("regular"),
            GetMutationMacs("regular", vec![[1; 32], [3; 32]]),
            GetMutationMac("critical_block", m1),
        ])
        .await;
    }
}

fn lid(lid: &str, pn: &str, at: i64, source: &str) -> LidPnMappingEntry {
    LidPnMappingEntry {
        lid: lid.to_string(),
        phone_number: pn.to_string(),
        created_at: at,
        updated_at: at + 1,
        learning_source: source.to_string(),
    }
}

on_both_databases! {
    async fn lid_mappings_and_base_keys_match_reference(backend) {
        use Op::*;
        conform_on(backend, vec![
            GetLidMapping("100"),
            GetPnMapping("555"),
            GetAllLidMappings,
            PutLidMapping(lid("100", "555", 10, "usync")),
            GetLidMapping("100"),
            GetPnMapping("555"),
            // A second LID for the same phone becomes the phone's answer.
            PutLidMapping(lid("200", "555", 20, "peer_pn_message")),
            GetPnMapping("555"),
            GetLidMapping("100"),
            // LID 200 moves to another phone: 555 stops resolving (as in wacore).
            PutLidMapping(lid("200", "666", 30, "usync")),
            GetPnMapping("555"),
            GetPnMapping("666"),
            PutLidMappings(vec![
                lid("300", "777", 40, "history_sync"),
                lid("400", "888", 41, "history_sync"),
                lid("300", "999", 42, "usync"),
            ]),
            GetPnMapping("777"),
            GetPnMapping("999"),
            GetLidMapping("300"),
            PutLidMappings(vec![]),
            GetAllLidMappings,
            HasSameBaseKey(ALICE, "MSG1", b"base"),
            SaveBaseKey(ALICE, "MSG1", b"base"),
            HasSameBaseKey(ALICE, "MSG1", b"base"),
            HasSameBaseKey(ALICE, "MSG1", b"other"),
            HasSameBaseKey(ALICE, "MSG2", b"base"),
            SaveBaseKey(ALICE, "MSG1", b"other"),
            HasSameBaseKey(ALICE, "MSG1", b"other"),
            DeleteBaseKey(ALICE, "MSG1"),
            HasSameBaseKey(ALICE, "MSG1", b"other"),
        ])
        .await;
    }
}

fn device_list(user: &str, ids: &[u32], ts: i64) -> DeviceListRecord {
    DeviceListRecord {
        user: user.to_string(),
        devices: ids
            .iter()
            .map(|&id| DeviceInfo::new(id, Some(id + 1)).with_hosting(id == 99))
            .collect(),
        timestamp: ts,
        phash: Some(format!("2:{ts}")),
        raw_id: ids.first().copied(),
    }
}

on_both_databases! {
    async fn device_lists_and_group_metadata_match_reference(backend) {
        use Op::*;
        conform_on(backend, vec![
            GetDevices("15550001111"),
            UpdateDeviceList(device_list("15550001111", &[0, 2], 10)),
            GetDevices("15550001111"),
            UpdateDeviceLists(vec![
                device_list("15550002222", &[0], 11),
                device_list("15550001111", &[0, 2, 99], 12),
            ]),
            GetDevices("15550001111"),
            GetDevices("15550002222"),
            UpdateDeviceLists(vec![]),
            DeleteDevices("15550001111"),
            GetDevices("15550001111"),
            GetGroupMetadata(GROUP),
            PutGroupMetadata(GROUP, b"blob-v1"),
            GetGroupMetadata(GROUP),
            PutGroupMetadata(GROUP, b"blob-v2"),
            GetGroupMetadata(GROUP),
            DeleteGroupMetadata(GROUP),
            GetGroupMetadata(GROUP),
        ])
        .await;
    }
}

fn tc(token: &[u8], ts: i64, sender: Option<i64>) -> TcTokenEntry {
    TcTokenEntry {
        token: token.to_vec(),
        token_timestamp: ts,
        sender_timestamp: sender,
    }
}

on_both_databases! {
    async fn tc_tokens_match_reference(backend) {
        use Op::*;
        let (a, b, c, d) = ("1@lid", "2@lid", "3@lid", "4@lid");
        conform_on(backend, vec![
            GetTcToken(a),
            AllTcTokenJids,
            PutTcToken(a, tc(b"tok-a", 100, None)),
            GetTcToken(a),
            // Sender bucket only moves forward and keeps the token.
            TouchTcSender(a, 50),
            GetTcToken(a),
            TouchTcSender(a, 40),
            GetTcToken(a),
            TouchTcSender(a, 60),
            GetTcToken(a),
            // Placeholder for an unknown contact.
            TouchTcSender(b, 70),
            GetTcToken(b),
            // A real token replaces a placeholder even if older.
            StoreReceivedTcToken(b, b"tok-b", 10),
            GetTcToken(b),
            // Newer-wins: a stale token is ignored, a newer or equal one replaces.
            StoreReceivedTcToken(a, b"stale", 99),
            GetTcToken(a),
            StoreReceivedTcToken(a, b"same-age", 100),
            GetTcToken(a),
            StoreReceivedTcToken(a, b"newer", 150),
            GetTcToken(a),
            StoreReceivedTcToken(c, b"tok-c", 5),
            GetTcToken(c),
            PutTcToken(d, tc(b"", 1, Some(1))),
            GetTcToken(d),
            AllTcTokenJids,
            // Expiry: a (token 150, sender 60), b (token 10, sender 70),
            // c (token 5, no sender), d (placeholder, sender 1).
            DeleteExpiredTcTokens(20, 65),
            AllTcTokenJids,
            DeleteExpiredTcTokens(200, 100),
            AllTcTokenJids,
            PutTcToken(a, tc(b"x", 1, None)),
            DeleteTcToken(a),
            GetTcToken(a),
            AllTcTokenJids,
        ])
        .await;
    }
}

on_both_databases! {
    async fn sent_and_pending_messages_match_reference(backend) {
        use Op::*;
        conform_on(backend, vec![
            TakeSentMessage(ALICE, "M1"),
            StoreSentMessage(ALICE, "M1", b"payload-1"),
            StoreSentMessage(ALICE, "M2", b"payload-2"),
            StoreSentMessage(BOB, "M1", b"payload-b"),
            StoreSentMessage(ALICE, "M1", b"payload-1b"),
            TakeSentMessage(ALICE, "M1"),
            TakeSentMessage(ALICE, "M1"),
            DeleteExpiredSentMessages(-3600),
            TakeSentMessage(ALICE, "M2"),
            DeleteExpiredSentMessages(3600),
            TakeSentMessage(BOB, "M1"),
            GetPendingInbound(ALICE, ALICE_2, "S1"),
            StorePendingInbound(ALICE, ALICE_2, "S1", b"decrypted-1"),
            GetPendingInbound(ALICE, ALICE_2, "S1"),
            GetPendingInbound(ALICE, ALICE, "S1"),
            StorePendingInbound(ALICE, ALICE_2, "S1", b"decrypted-1b"),
            GetPendingInbound(ALICE, ALICE_2, "S1"),
            StorePendingInboundBatch(vec![
                (GROUP, ALICE_2, "S2", b"group-2"),
                (GROUP, BOB, "S2", b"group-bob"),
                (BOB, BOB, "S3", b"dm-3"),
            ]),
            GetPendingInbound(GROUP, BOB, "S2"),
            StorePendingInboundBatch(vec![]),
            DeletePendingInbound(ALICE, ALICE_2, "S1"),
            GetPendingInbound(ALICE, ALICE_2, "S1"),
            DeletePendingInboundBatch(vec![(GROUP, ALICE_2, "S2"), (GROUP, "x", "S2")]),
            GetPendingInbound(GROUP, ALICE_2, "S2"),
            GetPendingInbound(GROUP, BOB, "S2"),
            DeletePendingInboundBatch(vec![]),
            DeleteExpiredPendingInbound(-3600),
            GetPendingInbound(BOB, BOB, "S3"),
            DeleteExpiredPendingInbound(3600),
            GetPendingInbound(BOB, BOB, "S3"),
            GetPendingInbound(GROUP, BOB, "S2"),
        ])
        .await;
    }
}

fn secret(
    chat: &str,
    sender: &str,
    id: &str,
    fill: u8,
    expires_at: i64,
    ts: i64,
) -> MsgSecretEntry {
    MsgSecretEntry {
        chat: Arc::from(chat),
        sender: Arc::from(sender),
        msg_id: Arc::from(id),
        secret: [fill; 32],
        expires_at,
        message_ts: ts,
    }
}

on_both_databases! {
    async fn msg_secrets_match_reference(backend) {
        use Op::*;
        conform_on(backend, vec![
            GetMsgSecret(ALICE, ALICE, "M1"),
            PutMsgSecret(ALICE, ALICE, "M1", [1; 32]),
            GetMsgSecret(ALICE, ALICE, "M1"),
            GetMsgSecretWithTs(ALICE, ALICE, "M1"),
            PutMsgSecrets(vec![
                secret(GROUP, BOB, "G1", 2, 1000, 500),
                secret(GROUP, BOB, "G2", 3, 2000, 0),
                secret(BOB, BOB, "B1", 4, 1500, 700),
            ]),
            GetMsgSecretWithTs(GROUP, BOB, "G1"),
            // Merge: later deadline wins, 0 (never) wins, known ts is kept.
            PutMsgSecrets(vec![
                secret(GROUP, BOB, "G1", 5, 900, 0),
                secret(GROUP, BOB, "G2", 6, 2500, 800),
                secret(BOB, BOB, "B1", 7, 0, 600),
                secret(ALICE, ALICE, "M1", 8, 100, 50),
            ]),
            GetMsgSecretWithTs(GROUP, BOB, "G1"),
            GetMsgSecretWithTs(GROUP, BOB, "G2"),
            GetMsgSecretWithTs(BOB, BOB, "B1"),
            GetMsgSecretWithTs(ALICE, ALICE, "M1"),
            PutMsgSecrets(vec![]),
            // G1 expires at 1000 (inclusive cutoff), G2 at 2500, B1 and M1 never.
            DeleteExpiredMsgSecrets(999),
            DeleteExpiredMsgSecrets(1000),
            GetMsgSecret(GROUP, BOB, "G1"),
            DeleteExpiredMsgSecrets(10_000),
            GetMsgSecret(GROUP, BOB, "G2"),
            GetMsgSecret(BOB, BOB, "B1"),
            GetMsgSecret(ALICE, ALICE, "M1"),
        ])
        .await;
    }
}

on_both_databases! {
    async fn device_matches_reference(backend) {
        use Op::*;
        let mut device = Device::new();
        device.push_name = "Wagate Test".to_string();
        device.registration_id = 4242;
        device.next_pre_key_id = 31;
        device.props_hash = Some("abc".to_string());
        device.edge_routing_info = Some(vec![1, 2, 3]);
        let mut renamed = device.clone();
        renamed.push_name = "Renamed".to_string();
        renamed.login_counter = 3;
        conform_on(backend, vec![
            DeviceExists,
            DeviceLoad,
            DeviceCreate,
            DeviceExists,
            DeviceSave(DeviceArg(Box::new(device))),
            DeviceLoad,
            // create must not replace stored credentials
            DeviceCreate,
            DeviceLoad,
            DeviceSave(DeviceArg(Box::new(renamed))),
            DeviceLoad,
            DeviceExists,
        ])
        .await;
    }
}
