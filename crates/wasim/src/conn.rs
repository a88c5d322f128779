//! One client socket: handshake, then registration (pairing) or login, then
//! a loop that decrypts stanzas and hands them to the handlers.

use crate::handshake::{Established, Progress, respond_to_hello};
use crate::nodes::iq_set;
use crate::wire::{CipherState, Deframer, frame};
use crate::world::{ConnHandle, ConnId, DeviceAddr, DeviceKeys, Outbound, PendingPairing, World};
use anyhow::{Context, Result, anyhow, bail};
use axum::extract::ws::{Message, WebSocket};
use bytes::BytesMut;
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::consts::WA_CONN_HEADER;

/// Most bytes of undecoded frames an authenticated client may have in flight.
const MAX_STANZA_BUFFER: usize = 48 << 20;

/// How long a client may take for each handshake message.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(20);

/// What this socket turned out to be after the handshake.
pub enum Role {
    /// A new device showing QR codes.
    Pairing,
    /// A logged-in companion.
    Device(DeviceAddr),
}

pub struct Conn {
    pub id: ConnId,
    pub handle: ConnHandle,
    pub role: Role,
}

pub async fn serve(world: Arc<World>, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let mut deframer = Deframer::default();
    let established = match handshake(&world, &mut sink, &mut stream, &mut deframer).await {
        Ok(e) => e,
        Err(e) => {
            tracing::debug!("handshake failed: {e:#}");
            return;
        }
    };
    // Authenticated: stanzas (media-heavy history, big prekey uploads) may
    // be as large as a websocket message.
    deframer.allow_buffering(MAX_STANZA_BUFFER);
    let id = world.next_conn_id();
    let (tx, rx) = mpsc::unbounded_channel();
    let handle = ConnHandle {
        tx,
        client_static: established.client_static,
    };
    let writer = tokio::spawn(write_loop(sink, CipherState::new(established.write), rx));
    world.lock().conns.insert(id, handle.clone());

    let mut reader = CipherState::new(established.read);
    if let Some(role) = admit(&world, id, &handle, &established.payload) {
        let mut conn = Conn {
            id,
            handle: handle.clone(),
            role,
        };
        if let Err(e) = read_loop(&world, &mut conn, &mut stream, &mut deframer, &mut reader).await
        {
            tracing::debug!(conn = id, "connection ended: {e:#}");
        }
    }
    forget(&world, id);
    drop(handle);
    let _ = writer.await;
}

type Sink = futures::stream::SplitSink<WebSocket, Message>;
type Stream = futures::stream::SplitStream<WebSocket>;

async fn next_frame(stream: &mut Stream, deframer: &mut Deframer) -> Result<BytesMut> {
    loop {
        if let Some(f) = deframer.next_frame() {
            return Ok(f);
        }
        match stream.next().await {
            Some(Ok(Message::Binary(data))) => deframer.feed(&data)?,
            Some(Ok(Message::Close(_))) | None => bail!("closed"),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(anyhow!("socket: {e}")),
        }
    }
}

async fn handshake(
    world: &World,
    sink: &mut Sink,
    stream: &mut Stream,
    deframer: &mut Deframer,
) -> Result<Established> {
    let hello = tokio::time::timeout(HANDSHAKE_TIMEOUT, next_frame(stream, deframer)).await??;
    let progress = respond_to_hello(&world.server, &WA_CONN_HEADER, &hello, |key| {
        world.device_by_noise(key).is_some()
    })?;
    match progress {
        Progress::Done { reply, established } => {
            world.counters.handshakes_ik.fetch_add(1, Ordering::Relaxed);
            sink.send(Message::Binary(frame(&reply)?.into())).await?;
            Ok(established)
        }
        Progress::AwaitFinish {
            reply,
            pending,
            fallback,
        } => {
            let counter = if fallback {
                &world.counters.handshakes_fallback
            } else {
                &world.counters.handshakes_xx
            };
            counter.fetch_add(1, Ordering::Relaxed);
            sink.send(Message::Binary(frame(&reply)?.into())).await?;
            let finish =
                tokio::time::timeout(HANDSHAKE_TIMEOUT, next_frame(stream, deframer)).await??;
            pending.finish(&finish)
        }
    }
}

async fn write_loop(
    mut sink: Sink,
    mut cipher: CipherState,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
) {
    while let Some(out) = rx.recv().await {
        match out {
            Outbound::Node(node) => {
                let Ok(bytes) = cipher.seal(&node) else {
                    continue;
                };
                if sink.send(Message::Binary(bytes.into())).await.is_err() {
                    break;
                }
            }
            Outbound::Close => break,
        }
    }
    let _ = sink.close().await;
}

/// Decides what a freshly handshaken client is: a registration starts
/// pairing; a login is accepted (`<success>`) or refused (`<failure>`).
fn admit(
    world: &World,
    id: ConnId,
    handle: &ConnHandle,
    payload: &waproto::whatsapp::ClientPayload,
) -> Option<Role> {
    if let Some(reg) = payload.device_pairing_data.as_option() {
        let keys = registration_keys(reg).ok()?;
        world.lock().pairing.insert(
            id,
            PendingPairing {
                keys,
                noise_pub: handle.client_static,
                code: None,
            },
        );
        crate::pairing::offer_qr_refs(world, id, handle);
        return Some(Role::Pairing);
    }
    let phone = payload.username?.to_string();
    let device = u16::try_from(payload.device.unwrap_or(0)).ok()?;
    let mut st = world.lock();
    let known = st
        .accounts
        .get(&phone)
        .and_then(|a| a.companions.get(&device))
        .is_some_and(|c| c.noise_pub == handle.client_static);
    if !known || st.refuse_login.contains(&phone) {
        handle.send(NodeBuilder::new("failure").attr("reason", "401").build());
        handle.close();
        return None;
    }
    let lid = st.accounts[&phone].lid.clone();
    let addr = (phone, device);
    // A second login of the same device replaces the first, as WhatsApp
    // does: the old socket is told `conflict` and closed.
    if let Some(old) = st
        .online
        .insert(addr.clone(), id)
        .and_then(|c| st.conns.get(&c).cloned())
    {
        world
            .counters
            .overlapping_logins
            .fetch_add(1, Ordering::Relaxed);
        old.send(stream_error_conflict());
        old.close();
    }
    drop(st);
    world.counters.logins.fetch_add(1, Ordering::Relaxed);
    handle.send(
        NodeBuilder::new("success")
            .attr("t", crate::nodes::now().to_string())
            .attr("lid", format!("{lid}:{device}@lid"))
            .attr("location", "sim")
            .attr("props", "1")
            .build(),
    );
    Some(Role::Device(addr))
}

pub fn stream_error_conflict() -> Node {
    NodeBuilder::new("stream:error")
        .children([NodeBuilder::new("conflict")
            .attr("type", "replaced")
            .build()])
        .build()
}

fn registration_keys(
    reg: &waproto::whatsapp::client_payload::DevicePairingRegistrationData,
) -> Result<DeviceKeys> {
    let be = |b: &Option<Vec<u8>>, what: &str| -> Result<u32> {
        let b = b.as_deref().with_context(|| format!("missing {what}"))?;
        if b.len() > 4 {
            bail!("{what} too long");
        }
        Ok(b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
    };
    let key = |b: &Option<Vec<u8>>, what: &str| -> Result<[u8; 32]> {
        b.as_deref()
            .and_then(|b| b.try_into().ok())
            .with_context(|| format!("bad {what}"))
    };
    Ok(DeviceKeys {
        registration_id: be(&reg.e_regid, "registration id")?,
        identity: key(&reg.e_ident, "identity")?,
        signed_prekey_id: be(&reg.e_skey_id, "signed prekey id")?,
        signed_prekey: key(&reg.e_skey_val, "signed prekey")?,
        signed_prekey_signature: reg.e_skey_sig.clone().unwrap_or_default(),
        one_time: Default::default(),
    })
}

async fn read_loop(
    world: &Arc<World>,
    conn: &mut Conn,
    stream: &mut Stream,
    deframer: &mut Deframer,
    reader: &mut CipherState,
) -> Result<()> {
    loop {
        let frame = next_frame(stream, deframer).await?;
        let node = reader.open(frame)?;
        crate::dispatch::handle(world, conn, node).await;
    }
}

fn forget(world: &World, id: ConnId) {
    let back_elsewhere = {
        let mut st = world.lock();
        st.conns.remove(&id);
        st.pairing.remove(&id);
        st.qr_refs.retain(|_, c| *c != id);
        st.online.retain(|_, c| *c != id);
        st.requeue_unacked(id)
    };
    // The device logged in again before this connection was seen to end.
    if let Some((device, nodes)) = back_elsewhere {
        for node in nodes {
            world.deliver(&device, node);
        }
    }
}

/// Sends an IQ the server initiates and remembers what it was for.
pub fn send_iq(
    world: &World,
    handle: &ConnHandle,
    xmlns: &str,
    child: Node,
    awaiting: crate::world::Awaiting,
) -> String {
    let id = crate::nodes::new_id();
    world.lock().awaiting.insert(id.clone(), awaiting);
    handle.send(iq_set(&id, xmlns, child));
    id
}
