//! Everything the simulated WhatsApp server knows: accounts (phone numbers)
//! with their simulated phone and linked companion devices, live
//! connections, pending pairings, offline queues and counters.

use crate::handshake::ServerIdentity;
use crate::signal::SignalParty;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use wacore_binary::Node;

pub type ConnId = u64;

/// What the writer half of a connection is asked to do.
#[derive(Debug)]
pub enum Outbound {
    Node(Node),
    /// Close the socket (after sending what is queued).
    Close,
}

#[derive(Clone)]
pub struct ConnHandle {
    pub tx: mpsc::UnboundedSender<Outbound>,
    /// The client's Noise static key: its identity on the wire.
    pub client_static: [u8; 32],
}

impl ConnHandle {
    pub fn send(&self, node: Node) {
        let _ = self.tx.send(Outbound::Node(node));
    }
    pub fn close(&self) {
        let _ = self.tx.send(Outbound::Close);
    }
}

/// Keys a new device registered with (from its ClientPayload) and uploaded.
#[derive(Clone, Debug, Default)]
pub struct DeviceKeys {
    pub registration_id: u32,
    pub identity: [u8; 32],
    pub signed_prekey_id: u32,
    pub signed_prekey: [u8; 32],
    pub signed_prekey_signature: Vec<u8>,
    /// Uploaded one-time prekeys not yet handed out.
    pub one_time: crate::keys::OneTimePrekeys,
}

/// A linked companion device (a whatsapp-rust client).
#[derive(Clone, Debug)]
pub struct Companion {
    pub id: u16,
    pub noise_pub: [u8; 32],
    pub key_index: u32,
    pub keys: DeviceKeys,
    /// ADVSignedDeviceIdentity with the device's own signature, from its
    /// `pair-device-sign` answer; served with its prekeys.
    pub signed_identity: Option<Vec<u8>>,
    /// The phone has sent this device the app-state key share.
    pub got_key_share: bool,
}

/// What a phone must know of a poll it received to vote on it.
#[derive(Clone, Debug)]
pub struct ReceivedPoll {
    /// The poll's `messageContextInfo.messageSecret`: votes are encrypted
    /// with a key derived from it.
    pub secret: Vec<u8>,
    pub options: Vec<String>,
    /// How many options a vote may pick; 0 for any number.
    pub selectable: u32,
}

/// A phone number: its simulated primary phone and its companions.
pub struct Account {
    pub phone: String,
    pub lid: String,
    pub raw_id: u32,
    pub push_name: String,
    /// The primary device (device 0), simulated here.
    pub primary: Arc<tokio::sync::Mutex<SignalParty>>,
    pub primary_identity: [u8; 32],
    /// The account (primary device) identity key that signs companions.
    pub account_key: wacore_libsignal::protocol::IdentityKeyPair,
    /// The primary's published keys; one-time prekeys leave as they are handed out.
    pub primary_keys: crate::signal::PublishedKeys,
    pub companions: BTreeMap<u16, Companion>,
    pub next_key_index: u32,
    /// Device ids are never reused: the phone's Signal session with an
    /// unlinked device must not be mistaken for one with its successor.
    pub next_device_id: u16,
    /// Decrypted messages the primary device received.
    pub inbox: Vec<serde_json::Value>,
    /// Receipts companions sent for the phone's messages.
    pub receipts: Vec<serde_json::Value>,
    /// Polls the phone received or sent, by (creator phone, message id).
    pub polls: HashMap<(String, String), ReceivedPoll>,
    /// The key the phone shares so companions can sync app state.
    pub app_state_key: waproto::whatsapp::message::AppStateSyncKey,
}

fn new_app_state_key(raw_id: u32) -> waproto::whatsapp::message::AppStateSyncKey {
    use waproto::whatsapp::message as m;
    m::AppStateSyncKey {
        key_id: buffa::MessageField::some(m::AppStateSyncKeyId {
            key_id: Some(rand::random::<[u8; 6]>().to_vec()),
        }),
        key_data: buffa::MessageField::some(m::AppStateSyncKeyData {
            key_data: Some(rand::random::<[u8; 32]>().to_vec()),
            fingerprint: buffa::MessageField::some(m::AppStateSyncKeyFingerprint {
                raw_id: Some(raw_id),
                current_index: Some(0),
                device_indexes: vec![0],
            }),
            timestamp: Some(crate::nodes::now() as i64 * 1000),
        }),
    }
}

impl Account {
    pub fn new(phone: &str) -> Self {
        let party = SignalParty::generate(50);
        let primary_identity = party.identity_pub();
        let account_key = party.identity_pair().clone();
        let primary_keys = party.published();
        let raw_id = rand::random::<u32>() >> 1;
        Account {
            phone: phone.to_string(),
            lid: format!(
                "{}",
                100_000_000_000_000u64 + rand::random::<u64>() % 899_999_999_999_999
            ),
            raw_id,
            push_name: format!("Contact {phone}"),
            primary: Arc::new(tokio::sync::Mutex::new(party)),
            primary_identity,
            account_key,
            primary_keys,
            companions: BTreeMap::new(),
            next_key_index: 1,
            next_device_id: 1,
            inbox: Vec::new(),
            receipts: Vec::new(),
            polls: HashMap::new(),
            app_state_key: new_app_state_key(raw_id),
        }
    }
}

/// A connection that registered (XX with pairing data) and waits for a
/// phone to scan its QR or enter its pair code.
#[derive(Debug)]
pub struct PendingPairing {
    pub keys: DeviceKeys,
    pub noise_pub: [u8; 32],
    /// Set once the client asked to link by code (`companion_hello`).
    pub code: Option<CodeRequest>,
}

/// A client's request to be linked to `phone` by a code it shows.
#[derive(Debug)]
pub struct CodeRequest {
    pub phone: String,
    pub pairing_ref: Vec<u8>,
    /// The client's ephemeral key, wrapped with a key stretched from the
    /// code; only a phone that knows the code can unwrap it.
    pub wrapped_ephemeral: Vec<u8>,
    /// When the code was asked for; the client drops it after ~180 s.
    pub since: std::time::Instant,
    /// `primary_hello`s sent for this request; the client answers three.
    pub attempts: u32,
    /// The phone waiting for the client's `companion_finish`, while it
    /// tries a code.
    pub finish: Option<tokio::sync::oneshot::Sender<CompanionFinish>>,
}

/// What the client sends back in `companion_finish`.
#[derive(Debug)]
pub struct CompanionFinish {
    pub wrapped_bundle: Vec<u8>,
    pub identity: [u8; 32],
}

/// A device address: phone number and device id.
pub type DeviceAddr = (String, u16);

#[derive(Default)]
pub struct WorldState {
    pub accounts: HashMap<String, Account>,
    /// LID user → phone number.
    pub lid_to_phone: HashMap<String, String>,
    pub conns: HashMap<ConnId, ConnHandle>,
    pub online: HashMap<DeviceAddr, ConnId>,
    pub pairing: HashMap<ConnId, PendingPairing>,
    /// QR ref → connection showing it.
    pub qr_refs: HashMap<String, ConnId>,
    pub offline: HashMap<DeviceAddr, Vec<Node>>,
    /// Messages each connection was sent and has not acknowledged; due
    /// again when it ends (see [`crate::unacked`]).
    pub unacked: HashMap<ConnId, crate::unacked::Unacked>,
    /// Phone numbers whose companions are refused at login.
    pub refuse_login: HashSet<String>,
    /// Outgoing IQs awaiting the client's answer: id → what they were.
    pub awaiting: HashMap<String, Awaiting>,
    /// Companion Noise key → device, so an IK handshake finds its device
    /// without scanning every account. Entries are checked against
    /// `accounts` on use, so unlinking needs no bookkeeping here.
    pub noise_index: HashMap<[u8; 32], DeviceAddr>,
    /// How messages from clients are acknowledged (a fault to inject).
    pub ack_mode: crate::faults::AckMode,
    /// Numbers that are not on WhatsApp: no account, no devices, no keys.
    pub unregistered: HashSet<String>,
}

impl WorldState {
    /// The Noise key the companion at `addr` is registered with.
    fn noise_of(&self, addr: &DeviceAddr) -> Option<&[u8; 32]> {
        self.accounts
            .get(&addr.0)?
            .companions
            .get(&addr.1)
            .map(|c| &c.noise_pub)
    }
}

#[derive(Clone, Debug)]
pub enum Awaiting {
    /// pair-success sent to this device; its answer carries the signature.
    PairSuccess {
        phone: String,
        device: u16,
        conn: ConnId,
    },
    Other,
}

#[derive(Default)]
pub struct Counters {
    pub messages_relayed: AtomicU64,
    pub handshakes_xx: AtomicU64,
    pub handshakes_ik: AtomicU64,
    pub handshakes_fallback: AtomicU64,
    pub logins: AtomicU64,
    pub ack_delay_ms: AtomicU64,
    /// Messages a phone received again under an id it already shows.
    pub duplicate_messages: AtomicU64,
    /// Logins of a device while another socket of the same device was
    /// still live: two gateways running one session at once.
    pub overlapping_logins: AtomicU64,
}

pub struct World {
    pub server: ServerIdentity,
    pub state: Mutex<WorldState>,
    pub counters: Counters,
    next_conn: AtomicU64,
    pub media: Option<Arc<crate::media::MediaHost>>,
}

impl World {
    pub fn new(media: Option<Arc<crate::media::MediaHost>>) -> Arc<Self> {
        Arc::new(World {
            server: ServerIdentity::generate(),
            state: Mutex::new(WorldState::default()),
            counters: Counters::default(),
            next_conn: AtomicU64::new(1),
            media,
        })
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, WorldState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The registered companion with this Noise key, if any. Every IK
    /// handshake asks, so a mass reconnect must not scan all accounts per
    /// device: the index answers, and the scan is left for keys it lacks.
    pub fn device_by_noise(&self, key: &[u8; 32]) -> Option<DeviceAddr> {
        let mut st = self.lock();
        if let Some(addr) = st.noise_index.get(key).cloned() {
            if st.noise_of(&addr) == Some(key) {
                return Some(addr);
            }
            st.noise_index.remove(key);
        }
        let found = st.accounts.values().find_map(|a| {
            a.companions
                .values()
                .find(|c| &c.noise_pub == key)
                .map(|c| (a.phone.clone(), c.id))
        })?;
        st.noise_index.insert(*key, found.clone());
        Some(found)
    }

    /// Sends to a device now if it is online, else keeps it for its next
    /// login. Returns true when delivered live; a message stays due until
    /// the device acknowledges it.
    pub fn deliver(&self, to: &DeviceAddr, node: Node) -> bool {
        let mut st = self.lock();
        if let Some(&conn) = st.online.get(to)
            && let Some(handle) = st.conns.get(&conn).cloned()
        {
            st.sent_unacked(conn, to, &node);
            handle.send(node);
            return true;
        }
        st.offline.entry(to.clone()).or_default().push(node);
        false
    }

    /// Resolves a user part (phone or LID) to the phone number.
    pub fn phone_of(&self, user: &str, server: &str) -> Option<String> {
        let st = self.lock();
        if server == "lid" {
            st.lid_to_phone.get(user).cloned()
        } else {
            Some(user.to_string())
        }
    }

    /// The account for `phone`, created (as a simulated contact) if new.
    /// False for a number that is not on WhatsApp: it never gets one.
    pub fn ensure_account(&self, phone: &str) -> bool {
        {
            let st = self.lock();
            if st.unregistered.contains(phone) {
                return false;
            }
            if st.accounts.contains_key(phone) {
                return true;
            }
        }
        // Making an account generates its phone's Signal keys (about a
        // millisecond): under the lock, every connection would wait on each
        // new account while a thousand phones scan at once. A racing creator may win; its account
        // is kept and this one dropped.
        let account = Account::new(phone);
        let mut st = self.lock();
        if st.unregistered.contains(phone) {
            return false;
        }
        if !st.accounts.contains_key(phone) {
            st.lid_to_phone
                .insert(account.lid.clone(), phone.to_string());
            st.accounts.insert(phone.to_string(), account);
        }
        true
    }
}
