//! The operation language of the wa_state conformance suite: every
//! storage call as data, and how to apply it to any `Backend`, with the
//! result normalized to JSON so two backends' answers compare directly.

use bytes::Bytes;
use serde_json::{Value, json};
use std::fmt;
use std::sync::Arc;
use wacore::appstate::hash::HashState;
use wacore::appstate::processor::AppStateMutationMAC;
use wacore::store::Device;
use wacore::store::traits::{
    AppStateSyncKey, Backend, DeviceListRecord, LidPnMappingEntry, MsgSecretEntry,
    PendingInboundKey, PendingInboundRow, TcTokenEntry,
};

/// A `Device` for scripts; the type itself has no `Debug`.
#[derive(Clone)]
pub struct DeviceArg(pub Box<Device>);

impl fmt::Debug for DeviceArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Device(push_name={:?})", self.0.push_name)
    }
}

pub type S = &'static str;

#[derive(Debug, Clone)]
pub enum Op {
    PutIdentity(S, [u8; 32]),
    PutIdentitiesBatch(Vec<(S, [u8; 32])>),
    LoadIdentity(S),
    DeleteIdentity(S),
    PutSession(S, &'static [u8]),
    PutSessionsBatch(Vec<(S, &'static [u8])>),
    GetSession(S),
    HasSession(S),
    DeleteSession(S),
    HasSignalStateForUser(S),
    StorePrekey(u32, &'static [u8], bool),
    StorePrekeysBatch(Vec<(u32, &'static [u8])>, bool),
    LoadPrekey(u32),
    LoadPrekeysBatch(Vec<u32>),
    MarkPrekeysUploaded(Vec<u32>),
    RemovePrekey(u32),
    MaxPrekeyId,
    StoreSignedPrekey(u32, &'static [u8]),
    LoadSignedPrekey(u32),
    LoadAllSignedPrekeys,
    RemoveSignedPrekey(u32),
    PutSenderKey(S, &'static [u8]),
    PutSenderKeysBatch(Vec<(S, &'static [u8])>),
    GetSenderKey(S),
    DeleteSenderKey(S),
    SetSyncKey(&'static [u8], AppStateSyncKey),
    GetSyncKey(&'static [u8]),
    LatestSyncKeyId,
    SetVersion(S, HashState),
    GetVersion(S),
    PutMutationMacs(S, u64, Vec<(&'static [u8], &'static [u8])>),
    GetMutationMac(S, &'static [u8]),
    GetMutationMacs(S, Vec<[u8; 32]>),
    DeleteMutationMacs(S, Vec<&'static [u8]>),
    ClearMutationMacs(S),
    SetSenderKeyStatus(S, Vec<(S, bool)>),
    GetSenderKeyDevices(S),
    ClearSenderKeyDevices(S),
    DeleteSenderKeyDeviceRows(Vec<S>),
    ClearAllSenderKeyDevices,
    PutLidMapping(LidPnMappingEntry),
    PutLidMappings(Vec<LidPnMappingEntry>),
    GetLidMapping(S),
    GetPnMapping(S),
    GetAllLidMappings,
    SaveBaseKey(S, S, &'static [u8]),
    HasSameBaseKey(S, S, &'static [u8]),
    DeleteBaseKey(S, S),
    UpdateDeviceList(DeviceListRecord),
    UpdateDeviceLists(Vec<DeviceListRecord>),
    GetDevices(S),
    DeleteDevices(S),
    PutGroupMetadata(S, &'static [u8]),
    GetGroupMetadata(S),
    DeleteGroupMetadata(S),
    PutTcToken(S, TcTokenEntry),
    GetTcToken(S),
    DeleteTcToken(S),
    AllTcTokenJids,
    DeleteExpiredTcTokens(i64, i64),
    TouchTcSender(S, i64),
    StoreReceivedTcToken(S, &'static [u8], i64),
    StoreSentMessage(S, S, &'static [u8]),
    TakeSentMessage(S, S),
    /// Cutoff relative to now, in seconds.
    DeleteExpiredSentMessages(i64),
    StorePendingInbound(S, S, S, &'static [u8]),
    StorePendingInboundBatch(Vec<(S, S, S, &'static [u8])>),
    GetPendingInbound(S, S, S),
    DeletePendingInbound(S, S, S),
    DeletePendingInboundBatch(Vec<(S, S, S)>),
    /// Cutoff relative to now, in seconds.
    DeleteExpiredPendingInbound(i64),
    PutMsgSecret(S, S, S, [u8; 32]),
    PutMsgSecrets(Vec<MsgSecretEntry>),
    GetMsgSecret(S, S, S),
    GetMsgSecretWithTs(S, S, S),
    DeleteExpiredMsgSecrets(i64),
    DeviceExists,
    DeviceCreate,
    DeviceSave(DeviceArg),
    DeviceLoad,
}

fn ok<T: serde::Serialize>(r: wacore::store::error::Result<T>) -> Value {
    match r {
        Ok(v) => serde_json::to_value(v).expect("result serializes"),
        Err(e) => json!({ "error": format!("{e}: {:?}", std::error::Error::source(&e)) }),
    }
}

fn sorted<T: serde::Serialize>(r: wacore::store::error::Result<Vec<T>>) -> Value {
    let mut v = ok(r);
    if let Value::Array(items) = &mut v {
        items.sort_by_key(|i| i.to_string());
    }
    v
}

fn arcs(rows: &[(S, &'static [u8])]) -> Vec<(Arc<str>, Bytes)> {
    rows.iter()
        .map(|(a, b)| (Arc::from(*a), Bytes::from_static(b)))
        .collect()
}

/// Applies one operation and returns its normalized result.
pub async fn apply(b: &dyn Backend, op: &Op) -> Value {
    let now = wacore::time::now_secs();
    match op.clone() {
        Op::PutIdentity(a, k) => ok(b.put_identity(a, k).await),
        Op::PutIdentitiesBatch(rows) => {
            let rows: Vec<_> = rows.into_iter().map(|(a, k)| (Arc::from(a), k)).collect();
            ok(b.put_identities_batch(&rows).await)
        }
        Op::LoadIdentity(a) => ok(b.load_identity(a).await),
        Op::DeleteIdentity(a) => ok(b.delete_identity(a).await),
        Op::PutSession(a, s) => ok(b.put_session(a, s).await),
        Op::PutSessionsBatch(rows) => ok(b.put_sessions_batch(&arcs(&rows)).await),
        Op::GetSession(a) => ok(b.get_session(a).await.map(|s| s.map(|s| s.to_vec()))),
        Op::HasSession(a) => ok(b.has_session(a).await),
        Op::DeleteSession(a) => ok(b.delete_session(a).await),
        Op::HasSignalStateForUser(u) => ok(b.has_signal_state_for_user(u).await),
        Op::StorePrekey(id, r, up) => ok(b.store_prekey(id, r, up).await),
        Op::StorePrekeysBatch(rows, up) => {
            let rows: Vec<_> = rows
                .into_iter()
                .map(|(i, r)| (i, Bytes::from_static(r)))
                .collect();
            ok(b.store_prekeys_batch(&rows, up).await)
        }
        Op::LoadPrekey(id) => ok(b.load_prekey(id).await.map(|r| r.map(|r| r.to_vec()))),
        Op::LoadPrekeysBatch(ids) => ok(b.load_prekeys_batch(&ids).await.map(|v| {
            v.into_iter()
                .map(|(i, r)| (i, r.to_vec()))
                .collect::<Vec<_>>()
        })),
        Op::MarkPrekeysUploaded(ids) => ok(b.mark_prekeys_uploaded(&ids).await),
        Op::RemovePrekey(id) => ok(b.remove_prekey(id).await),
        Op::MaxPrekeyId => ok(b.get_max_prekey_id().await),
        Op::StoreSignedPrekey(id, r) => ok(b.store_signed_prekey(id, r).await),
        Op::LoadSignedPrekey(id) => ok(b.load_signed_prekey(id).await),
        Op::LoadAllSignedPrekeys => sorted(b.load_all_signed_prekeys().await),
        Op::RemoveSignedPrekey(id) => ok(b.remove_signed_prekey(id).await),
        Op::PutSenderKey(a, r) => ok(b.put_sender_key(a, r).await),
        Op::PutSenderKeysBatch(rows) => ok(b.put_sender_keys_batch(&arcs(&rows)).await),
        Op::GetSenderKey(a) => ok(b.get_sender_key(a).await),
        Op::DeleteSenderKey(a) => ok(b.delete_sender_key(a).await),
        Op::SetSyncKey(id, k) => ok(b.set_sync_key(id, k).await),
        Op::GetSyncKey(id) => ok(b.get_sync_key(id).await),
        Op::LatestSyncKeyId => ok(b.get_latest_sync_key_id().await),
        Op::SetVersion(n, s) => ok(b.set_version(n, s).await),
        Op::GetVersion(n) => ok(b.get_version(n).await),
        Op::PutMutationMacs(n, v, macs) => {
            let macs: Vec<_> = macs
                .into_iter()
                .map(|(i, v)| AppStateMutationMAC {
                    index_mac: i.to_vec(),
                    value_mac: v.to_vec(),
                })
                .collect();
            ok(b.put_mutation_macs(n, v, &macs).await)
        }
        Op::GetMutationMac(n, i) => ok(b.get_mutation_mac(n, i).await),
        Op::GetMutationMacs(n, idx) => {
            let found = b.get_mutation_macs(n, &idx).await.map(|m| {
                let mut v: Vec<_> = m.into_iter().collect();
                v.sort();
                v.into_iter()
                    .map(|(k, v)| (k.to_vec(), v))
                    .collect::<Vec<_>>()
            });
            ok(found)
        }
        Op::DeleteMutationMacs(n, idx) => {
            let idx: Vec<Vec<u8>> = idx.into_iter().map(<[u8]>::to_vec).collect();
            ok(b.delete_mutation_macs(n, &idx).await)
        }
        Op::ClearMutationMacs(n) => ok(b.clear_mutation_macs(n).await),
        Op::SetSenderKeyStatus(g, entries) => ok(b.set_sender_key_status(g, &entries).await),
        Op::GetSenderKeyDevices(g) => sorted(b.get_sender_key_devices(g).await),
        Op::ClearSenderKeyDevices(g) => ok(b.clear_sender_key_devices(g).await),
        Op::DeleteSenderKeyDeviceRows(d) => ok(b.delete_sender_key_device_rows(&d).await),
        Op::ClearAllSenderKeyDevices => ok(b.clear_all_sender_key_devices().await),
        Op::PutLidMapping(e) => ok(b.put_lid_mapping(&e).await),
        Op::PutLidMappings(e) => ok(b.put_lid_mappings(&e).await),
        Op::GetLidMapping(l) => ok(b.get_lid_mapping(l).await),
        Op::GetPnMapping(p) => ok(b.get_pn_mapping(p).await),
        Op::GetAllLidMappings => sorted(b.get_all_lid_mappings().await),
        Op::SaveBaseKey(a, m, k) => ok(b.save_base_key(a, m, k).await),
        Op::HasSameBaseKey(a, m, k) => ok(b.has_same_base_key(a, m, k).await),
        Op::DeleteBaseKey(a, m) => ok(b.delete_base_key(a, m).await),
        Op::UpdateDeviceList(r) => ok(b.update_device_list(r).await),
        Op::UpdateDeviceLists(r) => ok(b.update_device_lists(r).await),
        Op::GetDevices(u) => ok(b.get_devices(u).await),
        Op::DeleteDevices(u) => ok(b.delete_devices(u).await),
        Op::PutGroupMetadata(g, m) => ok(b.put_group_metadata(g, m).await),
        Op::GetGroupMetadata(g) => ok(b.get_group_metadata(g).await),
        Op::DeleteGroupMetadata(g) => ok(b.delete_group_metadata(g).await),
        Op::PutTcToken(j, e) => ok(b.put_tc_token(j, &e).await),
        Op::GetTcToken(j) => ok(b.get_tc_token(j).await),
        Op::DeleteTcToken(j) => ok(b.delete_tc_token(j).await),
        Op::AllTcTokenJids => sorted(b.get_all_tc_token_jids().await),
        Op::DeleteExpiredTcTokens(t, s) => ok(b.delete_expired_tc_tokens(t, s).await),
        Op::TouchTcSender(j, t) => ok(b.touch_tc_token_sender_timestamp(j, t).await),
        Op::StoreReceivedTcToken(j, t, ts) => ok(b.store_received_tc_token(j, t, ts).await),
        Op::StoreSentMessage(c, m, p) => ok(b.store_sent_message(c, m, p).await),
        Op::TakeSentMessage(c, m) => ok(b.take_sent_message(c, m).await),
        Op::DeleteExpiredSentMessages(rel) => ok(b.delete_expired_sent_messages(now + rel).await),
        Op::StorePendingInbound(c, s, i, m) => ok(b.store_pending_inbound(c, s, i, m).await),
        Op::StorePendingInboundBatch(rows) => {
            let rows: Vec<_> = rows
                .iter()
                .map(|&(chat, sender, id, message)| PendingInboundRow {
                    chat,
                    sender,
                    id,
                    message,
                })
                .collect();
            ok(b.store_pending_inbound_batch(&rows).await)
        }
        Op::GetPendingInbound(c, s, i) => ok(b.get_pending_inbound(c, s, i).await),
        Op::DeletePendingInbound(c, s, i) => ok(b.delete_pending_inbound(c, s, i).await),
        Op::DeletePendingInboundBatch(keys) => {
            let keys: Vec<_> = keys
                .iter()
                .map(|&(chat, sender, id)| PendingInboundKey { chat, sender, id })
                .collect();
            ok(b.delete_pending_inbound_batch(&keys).await)
        }
        Op::DeleteExpiredPendingInbound(rel) => {
            ok(b.delete_expired_pending_inbound(now + rel).await)
        }
        Op::PutMsgSecret(c, s, m, secret) => ok(b.put_msg_secret(c, s, m, &secret).await),
        Op::PutMsgSecrets(entries) => ok(b.put_msg_secrets(entries).await),
        Op::GetMsgSecret(c, s, m) => ok(b.get_msg_secret(c, s, m).await),
        Op::GetMsgSecretWithTs(c, s, m) => ok(b.get_msg_secret_with_ts(c, s, m).await),
        Op::DeleteExpiredMsgSecrets(cutoff) => ok(b.delete_expired_msg_secrets(cutoff).await),
        Op::DeviceExists => ok(b.exists().await),
        // The returned id is backend-specific (the in-memory one counts
        // calls; ours has one device row per session) and the client only
        // logs it, so only success is compared.
        Op::DeviceCreate => ok(b.create().await.map(|_| ())),
        Op::DeviceSave(d) => ok(b.save(&d.0).await),
        Op::DeviceLoad => ok(b.load().await),
    }
}
