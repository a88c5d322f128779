//! Pairing by code: the client asks to be linked to a phone number and
//! shows an 8-character code; the phone's user types it in, the two sides
//! swap ephemeral keys wrapped with that code, and the phone links the
//! client exactly as after a QR scan.
//!
//! The server never sees the code. It routes the phone's `primary_hello` to
//! the client asking for that number, and only the phone, opening the
//! client's key bundle, learns whether the code it typed was the right one.

mod primary;

use crate::admin::AdminError;
use crate::conn::Conn;
use crate::nodes::{SERVER, attr, bytes, child, iq_error, iq_result, new_id, now, split_jid};
use crate::world::{CodeRequest, CompanionFinish, ConnId, World};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use base64::Engine as _;
use base64::prelude::BASE64_STANDARD;
use primary::{FinishError, PrimaryHello};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wacore::pair_code::PairCodeUtils;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;

/// The client answers at most three `primary_hello`s per code.
const MAX_ATTEMPTS: u32 = 3;

/// How long the phone waits for `companion_finish`. The client stretches
/// the code (PBKDF2, 2^17 rounds) before it answers, and gives its own
/// finish IQ 30 s.
const FINISH_TIMEOUT: Duration = Duration::from_secs(30);

/// `link_code_companion_reg` IQs from a client still pairing.
pub fn on_companion_iq(world: &Arc<World>, conn: &Conn, iq: &Node) -> Option<Node> {
    let reg = child(iq, "link_code_companion_reg")?;
    let id = pairing_conn(world, conn)?;
    let answer = match attr(reg, "stage").as_deref() {
        Some("companion_hello") => companion_hello(world, id, conn, reg),
        Some("companion_finish") => companion_finish(world, id, reg),
        _ => return None,
    };
    Some(match answer {
        Ok(children) => iq_result(iq, children),
        Err(why) => {
            // `bad-request` is the refusal WhatsApp gives both stages.
            tracing::debug!(conn = id, "pair-code request refused: {why}");
            iq_error(iq, 400, "bad-request")
        }
    })
}

/// The pairing connection `conn` is, matched by its writer so a second
/// socket with the same Noise key cannot answer for it.
fn pairing_conn(world: &World, conn: &Conn) -> Option<ConnId> {
    let st = world.lock();
    st.pairing.keys().copied().find(|id| {
        st.conns
            .get(id)
            .is_some_and(|h| h.tx.same_channel(&conn.handle.tx))
    })
}

fn child_bytes<'a>(node: &'a Node, tag: &str) -> Result<&'a [u8], String> {
    child(node, tag)
        .and_then(bytes)
        .ok_or_else(|| format!("missing <{tag}>"))
}

/// Stage one: remember what the client wants linked and hand it the ref
/// the phone's answer will carry.
fn companion_hello(
    world: &World,
    id: ConnId,
    conn: &Conn,
    reg: &Node,
) -> Result<Vec<Node>, String> {
    let phone = attr(reg, "jid")
        .as_deref()
        .and_then(split_jid)
        .filter(|(user, _, server)| server == SERVER && user.bytes().all(|b| b.is_ascii_digit()))
        .map(|(user, _, _)| user)
        .ok_or("jid is not a phone number")?;
    let wrapped = child_bytes(reg, "link_code_pairing_wrapped_companion_ephemeral_pub")?;
    if wrapped.len() != 80 {
        return Err("wrapped ephemeral key is not 80 bytes".into());
    }
    // The key the client authenticated the socket with, as WhatsApp checks.
    if child_bytes(reg, "companion_server_auth_key_pub")? != conn.handle.client_static {
        return Err("auth key is not this socket's Noise key".into());
    }
    let pairing_ref = format!("2@{}", BASE64_STANDARD.encode(rand::random::<[u8; 24]>()));
    let mut st = world.lock();
    let pending = st.pairing.get_mut(&id).ok_or("client is not pairing")?;
    // A new request replaces the old one, and a phone mid-way through the
    // old one sees its wait end.
    pending.code = Some(CodeRequest {
        phone,
        pairing_ref: pairing_ref.clone().into_bytes(),
        wrapped_ephemeral: wrapped.to_vec(),
        since: Instant::now(),
        attempts: 0,
        finish: None,
    });
    Ok(vec![
        NodeBuilder::new("link_code_companion_reg")
            .children([NodeBuilder::new("link_code_pairing_ref")
                .bytes(pairing_ref.into_bytes())
                .build()])
            .build(),
    ])
}

/// Stage two: the client's key bundle, passed to the phone that is waiting
/// for it. The server acknowledges it without being able to open it.
fn companion_finish(world: &World, id: ConnId, reg: &Node) -> Result<Vec<Node>, String> {
    let wrapped_bundle = child_bytes(reg, "link_code_pairing_wrapped_key_bundle")?.to_vec();
    let identity: [u8; 32] = child_bytes(reg, "companion_identity_public")?
        .try_into()
        .map_err(|_| "companion identity is not 32 bytes")?;
    let pairing_ref = child_bytes(reg, "link_code_pairing_ref")?;
    let mut st = world.lock();
    let request = st
        .pairing
        .get_mut(&id)
        .and_then(|p| p.code.as_mut())
        .ok_or("no code was asked for")?;
    if request.pairing_ref != pairing_ref {
        return Err("ref does not match the code request".into());
    }
    let phone = request.finish.take().ok_or("no phone is entering a code")?;
    phone
        .send(CompanionFinish {
            wrapped_bundle,
            identity,
        })
        .map_err(|_| "the phone stopped waiting")?;
    Ok(vec![])
}

#[derive(Deserialize)]
pub struct EnterCode {
    phone: String,
    code: String,
}

/// `POST /admin/pair-code`: the phone of `phone` types `code`. 200 once a
/// waiting client had that code and was sent pair-success.
pub async fn admin_enter_code(
    State(world): State<Arc<World>>,
    body: Result<Json<EnterCode>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let phone = crate::admin::phone(&body.phone, "phone")?;
    if !PairCodeUtils::validate_code(&body.code) {
        return Err(AdminError::BadRequest(format!(
            "code: '{}' is not 8 characters of 123456789ABCDEFGHJKLMNPQRSTVWXYZ",
            body.code
        )));
    }
    // Clients show and stretch the code in upper case.
    let code = body.code.to_ascii_uppercase();
    if !world.ensure_account(&phone) {
        return Err(AdminError::BadRequest(format!(
            "{phone} is not on WhatsApp"
        )));
    }
    // WhatsApp routes by number, so every client asking for it hears the
    // phone; only the one showing this code can answer so it opens.
    for conn in waiting_clients(&world, &phone) {
        match enter_code(&world, conn, &phone, &code).await {
            Ok(()) => return Ok(Json(json!({"phone": phone, "status": "paired"}))),
            Err(e) => tracing::debug!(conn, "code not taken: {e}"),
        }
    }
    Err(AdminError::NotFound(format!(
        "no client waiting to link {phone} shows code {code}"
    )))
}

fn waiting_clients(world: &World, phone: &str) -> Vec<ConnId> {
    let st = world.lock();
    st.pairing
        .iter()
        .filter(|(_, p)| {
            p.code.as_ref().is_some_and(|r| {
                r.phone == phone
                    && r.attempts < MAX_ATTEMPTS
                    && r.since.elapsed() <= PairCodeUtils::code_validity()
            })
        })
        .map(|(id, _)| *id)
        .collect()
}

/// The phone's side for one client: `primary_hello`, wait for the key
/// bundle, open it, and link the client with the ADV secret both derived.
async fn enter_code(world: &World, conn: ConnId, phone: &str, code: &str) -> anyhow::Result<()> {
    let (finished, wrapped, pairing_ref) = {
        let mut st = world.lock();
        let request = st
            .pairing
            .get_mut(&conn)
            .and_then(|p| p.code.as_mut())
            .ok_or_else(|| anyhow::anyhow!("client went away"))?;
        // One phone at a time per request; a waiter whose admin call was
        // dropped leaves a closed sender behind and does not count.
        if request.finish.as_ref().is_some_and(|tx| !tx.is_closed()) {
            anyhow::bail!("another code is being tried for this client");
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        request.finish = Some(tx);
        (
            rx,
            request.wrapped_ephemeral.clone(),
            request.pairing_ref.clone(),
        )
    };
    let typed = code.to_string();
    let hello = tokio::task::spawn_blocking(move || PrimaryHello::new(&typed, &wrapped))
        .await?
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;

    let (account, handle) = {
        let mut st = world.lock();
        let handle = st.conns.get(&conn).cloned();
        let request = st.pairing.get_mut(&conn).and_then(|p| p.code.as_mut());
        let (Some(handle), Some(request)) = (handle, request) else {
            anyhow::bail!("client went away");
        };
        if request.pairing_ref != pairing_ref {
            anyhow::bail!("client asked for a new code meanwhile");
        }
        request.attempts += 1;
        let account = st.accounts[phone].account_key.clone();
        (account, handle)
    };
    handle.send(primary_hello(&hello, &account, &pairing_ref));

    let finish = tokio::time::timeout(FINISH_TIMEOUT, finished)
        .await
        .map_err(|_| anyhow::anyhow!("client never sent companion_finish"))?
        .map_err(|_| anyhow::anyhow!("client went away or asked for a new code"))?;
    let registered = world.lock().pairing.get(&conn).map(|p| p.keys.identity);
    if registered != Some(finish.identity) {
        anyhow::bail!("companion_finish names an identity the client did not register");
    }
    let adv_secret = hello
        .finish(&account, &finish.wrapped_bundle, &finish.identity)
        .map_err(|e| match e {
            FinishError::WrongCode => anyhow::anyhow!("the client shows another code"),
            FinishError::Malformed(m) => anyhow::anyhow!("key bundle: {m}"),
        })?;
    crate::pairing::link(world, conn, phone, &adv_secret)
}

fn primary_hello(
    hello: &PrimaryHello,
    account: &wacore::libsignal::protocol::IdentityKeyPair,
    pairing_ref: &[u8],
) -> Node {
    NodeBuilder::new("notification")
        .attr("from", SERVER)
        .attr("type", "link_code_companion_reg")
        .attr("id", new_id())
        .attr("t", now().to_string())
        .children([NodeBuilder::new("link_code_companion_reg")
            .attr("stage", "primary_hello")
            .children([
                NodeBuilder::new("link_code_pairing_wrapped_primary_ephemeral_pub")
                    .bytes(hello.wrapped_ephemeral.to_vec())
                    .build(),
                NodeBuilder::new("primary_identity_pub")
                    .bytes(account.public_key().public_key_bytes().to_vec())
                    .build(),
                NodeBuilder::new("link_code_pairing_ref")
                    .bytes(pairing_ref.to_vec())
                    .build(),
            ])
            .build()])
        .build()
}
