//! Linking a new device: QR refs for the client to show, a simulated phone
//! that "scans" one, the ADV identity it signs, and the 515 restart.

use crate::conn::send_iq;
use crate::nodes::{SERVER, attr, bytes, child};
use crate::world::{Awaiting, Companion, ConnHandle, ConnId, World};
use anyhow::{Result, anyhow};
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use buffa::Message as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;
use waproto::whatsapp as wa;

/// How many QR refs a connection gets; the client rotates through them.
const QR_REFS: usize = 6;

/// Why a scan or code entry did not link a device.
#[derive(Debug)]
pub enum PairError {
    Malformed(String),
    NoSuchClient,
}

pub fn offer_qr_refs(world: &World, conn: ConnId, handle: &ConnHandle) {
    let refs: Vec<String> = (0..QR_REFS)
        .map(|_| {
            let r: [u8; 18] = rand::random();
            format!("2@{}", BASE64_STANDARD.encode(r))
        })
        .collect();
    {
        let mut st = world.lock();
        for r in &refs {
            st.qr_refs.insert(r.clone(), conn);
        }
    }
    let node = NodeBuilder::new("pair-device")
        .children(
            refs.into_iter()
                .map(|r| NodeBuilder::new("ref").bytes(r.into_bytes()).build()),
        )
        .build();
    send_iq(world, handle, "md", node, Awaiting::Other);
}

/// The phone scans `qr`: the client showing it becomes a companion of
/// `phone`.
pub fn scan(world: &World, qr: &str, phone: &str) -> Result<(), PairError> {
    let (pairing_ref, noise_pub, identity_pub) = wacore::pair::PairUtils::parse_qr_code(qr)
        .map_err(|e| PairError::Malformed(e.to_string()))?;
    let adv_secret = qr
        .split(',')
        .nth(3)
        .and_then(|s| BASE64_STANDARD.decode(s).ok())
        .filter(|s| s.len() == 32)
        .ok_or_else(|| PairError::Malformed("QR has no 32-byte ADV secret".into()))?;
    let conn = {
        let st = world.lock();
        let conn = *st
            .qr_refs
            .get(&pairing_ref)
            .ok_or(PairError::NoSuchClient)?;
        let pending = st.pairing.get(&conn).ok_or(PairError::NoSuchClient)?;
        if pending.noise_pub != noise_pub || pending.keys.identity != identity_pub {
            return Err(PairError::Malformed(
                "QR keys do not match the client showing it".into(),
            ));
        }
        conn
    };
    link(world, conn, phone, &adv_secret).map_err(|e| PairError::Malformed(e.to_string()))
}

/// Makes the pairing connection `conn` a companion of `phone` and sends it
/// pair-success signed by the phone's account key.
pub fn link(world: &World, conn: ConnId, phone: &str, adv_secret: &[u8]) -> Result<()> {
    if !world.ensure_account(phone) {
        return Err(anyhow!("{phone} is not on WhatsApp"));
    }
    let mut st = world.lock();
    let pending = st
        .pairing
        .remove(&conn)
        .ok_or_else(|| anyhow!("client went away"))?;
    st.qr_refs.retain(|_, c| *c != conn);
    let handle = st
        .conns
        .get(&conn)
        .cloned()
        .ok_or_else(|| anyhow!("client went away"))?;
    let account = st.accounts.get_mut(phone).expect("ensured above");
    let device_id = account.next_device_id;
    account.next_device_id = account
        .next_device_id
        .checked_add(1)
        .ok_or_else(|| anyhow!("device ids exhausted"))?;
    let key_index = account.next_key_index;
    account.next_key_index += 1;
    let details = wa::ADVDeviceIdentity {
        raw_id: Some(account.raw_id),
        timestamp: Some(crate::nodes::now()),
        key_index: Some(key_index),
        ..Default::default()
    }
    .encode_to_vec();
    let account_key = account.account_key.clone();
    let lid = account.lid.clone();
    account.companions.insert(
        device_id,
        Companion {
            id: device_id,
            noise_pub: pending.noise_pub,
            key_index,
            keys: pending.keys.clone(),
            signed_identity: None,
            got_key_share: false,
        },
    );
    st.noise_index
        .insert(pending.noise_pub, (phone.to_string(), device_id));
    drop(st);

    // The phone's account key vouches for the companion's identity key.
    let mut to_sign = vec![6u8, 0];
    to_sign.extend_from_slice(&details);
    to_sign.extend_from_slice(&pending.keys.identity);
    let account_signature = account_key
        .private_key()
        .calculate_signature(&to_sign, &mut rand::rng())
        .map_err(|e| anyhow!("sign: {e}"))?;
    let signed = wa::ADVSignedDeviceIdentity {
        details: Some(details),
        account_signature_key: Some(account_key.public_key().public_key_bytes().to_vec()),
        account_signature: Some(account_signature.to_vec()),
        device_signature: None,
    }
    .encode_to_vec();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(adv_secret).map_err(|e| anyhow!("{e}"))?;
    mac.update(&signed);
    let container = wa::ADVSignedDeviceIdentityHMAC {
        details: Some(signed),
        hmac: Some(mac.finalize().into_bytes().to_vec()),
        ..Default::default()
    }
    .encode_to_vec();

    let success = NodeBuilder::new("pair-success")
        .children([
            NodeBuilder::new("device-identity").bytes(container).build(),
            NodeBuilder::new("device")
                .attr("jid", format!("{phone}:{device_id}@{SERVER}"))
                .attr("lid", format!("{lid}:{device_id}@lid"))
                .build(),
            NodeBuilder::new("platform").attr("name", "smba").build(),
        ])
        .build();
    send_iq(
        world,
        &handle,
        "md",
        success,
        Awaiting::PairSuccess {
            phone: phone.to_string(),
            device: device_id,
            conn,
        },
    );
    Ok(())
}

/// The client's answer to pair-success: keep its self-signed identity and
/// restart the stream (515) so it logs in with its new credentials.
pub fn on_pair_answer(world: &World, phone: &str, device: u16, conn: ConnId, answer: &Node) {
    let signed = child(answer, "pair-device-sign")
        .and_then(|s| child(s, "device-identity"))
        .and_then(bytes)
        .map(<[u8]>::to_vec);
    let mut st = world.lock();
    let ok = attr(answer, "type").as_deref() == Some("result") && signed.is_some();
    if let Some(account) = st.accounts.get_mut(phone) {
        if ok {
            if let Some(c) = account.companions.get_mut(&device) {
                c.signed_identity = signed;
            }
        } else {
            account.companions.remove(&device);
        }
    }
    if let Some(handle) = st.conns.get(&conn) {
        handle.send(NodeBuilder::new("stream:error").attr("code", "515").build());
    }
}
