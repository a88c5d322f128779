//! The simulator as a running server: the client socket at `/ws/chat` and
//! the JSON admin API a test (or a person) uses to act as phones and
//! contacts and to inject faults. The endpoints and their request and
//! answer shapes are listed in the crate's README.md.

use crate::SimConfig;
use crate::media::MediaHost;
use crate::world::World;
use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::watch;

/// A running simulator. Dropping it stops the server.
pub struct Sim {
    addr: SocketAddr,
    world: Arc<World>,
    stop: watch::Sender<bool>,
}

impl Sim {
    /// Starts on an ephemeral loopback port, with a media host.
    pub async fn start() -> anyhow::Result<Sim> {
        Sim::start_with(SimConfig::default()).await
    }

    pub async fn start_on(addr: SocketAddr) -> anyhow::Result<Sim> {
        Sim::start_with(SimConfig {
            addr,
            ..SimConfig::default()
        })
        .await
    }

    /// Starts with the given address and limits; refuses limits that
    /// contradict each other.
    pub async fn start_with(config: SimConfig) -> anyhow::Result<Sim> {
        config.validate()?;
        let media = MediaHost::start_with(config.media)?;
        let world = World::new(Some(media));
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = watch::channel(false);
        let app = router(world.clone(), config.max_admin_media);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await;
        });
        Ok(Sim { addr, world, stop })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where clients connect: `ws://127.0.0.1:PORT/ws/chat`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws/chat", self.addr)
    }

    /// Base URL of the admin API.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The media host, whose certificate clients must trust.
    pub fn media(&self) -> Arc<MediaHost> {
        self.world.media.clone().expect("started with a media host")
    }

    pub fn stop(&self) {
        let _ = self.stop.send(true);
        if let Some(m) = &self.world.media {
            m.shutdown();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

fn router(world: Arc<World>, max_admin_media: usize) -> Router {
    Router::new()
        .route("/ws/chat", any(ws))
        .route("/admin/scan", post(scan))
        .route("/admin/pair-code", post(crate::pair_code::admin_enter_code))
        .route(
            "/admin/contacts/{phone}/send",
            crate::admin_send::route(max_admin_media),
        )
        .route(
            "/admin/contacts/{phone}/send-many",
            post(crate::admin_send::send_many),
        )
        .route("/admin/contacts/{phone}/inbox", get(inbox))
        .route("/admin/contacts/{phone}/receipts", get(receipts))
        .route(
            "/admin/contacts/{phone}/read",
            post(crate::admin_send::read),
        )
        .route("/admin/devices/{phone}/disconnect", post(disconnect))
        .route("/admin/disconnect-all", post(disconnect_all))
        .route("/admin/devices/{phone}/logout", post(logout))
        .route("/admin/devices/{phone}/stream-error", post(stream_error))
        .route("/admin/devices/{phone}/conflict", post(conflict))
        .route("/admin/devices/{phone}/refuse-login", post(refuse_login))
        .route("/admin/ack-delay", post(ack_delay))
        .route("/admin/stats", get(stats))
        .merge(crate::admin_faults::routes())
        .route("/admin/media-ca", get(media_ca))
        .fallback(|| async { AdminError::NotFound("no such admin route".into()) })
        .with_state(world)
}

/// Per-socket read buffer: most stanzas are well under 1 KiB.
const READ_BUFFER: usize = 16 << 10;

async fn ws(State(world): State<Arc<World>>, upgrade: WebSocketUpgrade) -> Response {
    // tungstenite zero-fills its whole read buffer (128 KiB by default) on
    // every socket: a quarter of the simulator's memory per connected device
    // in the connect_many bench. Bigger messages still arrive whole; the
    // buffer grows for them.
    upgrade
        .max_message_size(32 << 20)
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| crate::conn::serve(world, socket))
}

/// Admin API errors: a status and a JSON body naming the problem.
#[derive(Debug)]
pub enum AdminError {
    BadRequest(String),
    NotFound(String),
    TooLarge(String),
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, kind, message) = match self {
            AdminError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Bad Request", m),
            AdminError::NotFound(m) => (StatusCode::NOT_FOUND, "Not Found", m),
            AdminError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large", m),
        };
        (status, Json(json!({"error": kind, "message": message}))).into_response()
    }
}

impl From<JsonRejection> for AdminError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::BytesRejection(_) => AdminError::TooLarge(r.body_text()),
            _ => AdminError::BadRequest(format!("invalid JSON body: {}", r.body_text())),
        }
    }
}

/// Digits only, 7–20 of them: what the simulator accepts as a phone number.
pub fn phone(raw: &str, field: &str) -> Result<String, AdminError> {
    let digits = raw.trim_start_matches('+');
    if (7..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits.to_string())
    } else {
        Err(AdminError::BadRequest(format!(
            "{field}: '{raw}' is not a phone number (7-20 digits)"
        )))
    }
}

#[derive(Deserialize)]
struct ScanBody {
    qr: String,
    phone: String,
}

async fn scan(
    State(world): State<Arc<World>>,
    body: Result<Json<ScanBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let phone = phone(&body.phone, "phone")?;
    match crate::pairing::scan(&world, &body.qr, &phone) {
        Ok(()) => Ok(Json(json!({"phone": phone, "status": "paired"}))),
        Err(crate::pairing::PairError::Malformed(m)) => {
            Err(AdminError::BadRequest(format!("qr: {m}")))
        }
        Err(crate::pairing::PairError::NoSuchClient) => Err(AdminError::NotFound(
            "no connected client shows that QR".into(),
        )),
    }
}

fn known_account(world: &World, raw: &str) -> Result<String, AdminError> {
    let p = phone(raw, "phone")?;
    if world.lock().accounts.contains_key(&p) {
        Ok(p)
    } else {
        Err(AdminError::NotFound(format!("no account or contact {p}")))
    }
}

async fn inbox(
    State(world): State<Arc<World>>,
    Path(p): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let p = known_account(&world, &p)?;
    Ok(Json(Value::Array(world.lock().accounts[&p].inbox.clone())))
}

async fn receipts(
    State(world): State<Arc<World>>,
    Path(p): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let p = known_account(&world, &p)?;
    Ok(Json(Value::Array(
        world.lock().accounts[&p].receipts.clone(),
    )))
}

async fn disconnect(
    State(world): State<Arc<World>>,
    Path(p): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let p = known_account(&world, &p)?;
    Ok(Json(
        json!({"closed": crate::faults::drop_connections(&world, &p)}),
    ))
}

#[derive(Deserialize, Default)]
struct DisconnectAllBody {
    /// A stream error to send first (515 makes clients reconnect at once);
    /// without one the sockets just drop.
    code: Option<u16>,
}

/// Every logged-in device at once: how load tests stage a mass reconnect.
async fn disconnect_all(
    State(world): State<Arc<World>>,
    body: Option<Json<DisconnectAllBody>>,
) -> Json<Value> {
    let code = body.unwrap_or_default().0.code.map(|c| c.to_string());
    Json(json!({"closed": crate::faults::drop_all(&world, code.as_deref())}))
}

/// The media host's CA certificate, PEM, for clients running in another
/// process than the simulator.
async fn media_ca(State(world): State<Arc<World>>) -> Result<Response, AdminError> {
    let media = world
        .media
        .as_ref()
        .ok_or_else(|| AdminError::NotFound("no media host".into()))?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-pem-file")],
        media.ca_pem().to_string(),
    )
        .into_response())
}

async fn logout(
    State(world): State<Arc<World>>,
    Path(p): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let p = known_account(&world, &p)?;
    Ok(Json(
        json!({"loggedOut": crate::faults::logout(&world, &p)}),
    ))
}

#[derive(Deserialize)]
struct CodeBody {
    code: u16,
}

async fn stream_error(
    State(world): State<Arc<World>>,
    Path(p): Path<String>,
    body: Result<Json<CodeBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let p = known_account(&world, &p)?;
    Ok(Json(
        json!({"sent": crate::faults::stream_error(&world, &p, &body.code.to_string())}),
    ))
}

async fn conflict(
    State(world): State<Arc<World>>,
    Path(p): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let p = known_account(&world, &p)?;
    Ok(Json(json!({"sent": crate::faults::conflict(&world, &p)})))
}

#[derive(Deserialize)]
struct RefuseBody {
    refuse: bool,
}

async fn refuse_login(
    State(world): State<Arc<World>>,
    Path(p): Path<String>,
    body: Result<Json<RefuseBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    let p = phone(&p, "phone")?;
    let mut st = world.lock();
    if body.refuse {
        st.refuse_login.insert(p.clone());
    } else {
        st.refuse_login.remove(&p);
    }
    Ok(Json(json!({"phone": p, "refuse": body.refuse})))
}

#[derive(Deserialize)]
struct DelayBody {
    ms: u64,
}

async fn ack_delay(
    State(world): State<Arc<World>>,
    body: Result<Json<DelayBody>, JsonRejection>,
) -> Result<Json<Value>, AdminError> {
    let Json(body) = body?;
    world
        .counters
        .ack_delay_ms
        .store(body.ms, Ordering::Relaxed);
    Ok(Json(json!({"ms": body.ms})))
}

async fn stats(State(world): State<Arc<World>>) -> Json<Value> {
    let st = world.lock();
    let paired: usize = st
        .accounts
        .values()
        .filter(|a| !a.companions.is_empty())
        .count();
    Json(json!({
        "connectedDevices": st.online.len(),
        "connections": st.conns.len(),
        "pairedAccounts": paired,
        "linkedDevices": st.accounts.values().map(|a| a.companions.len()).sum::<usize>(),
        "accounts": st.accounts.len(),
        "messagesRelayed": world.counters.messages_relayed.load(Ordering::Relaxed),
        "duplicateMessages": world.counters.duplicate_messages.load(Ordering::Relaxed),
        "unackedMessages": st.unacked_count(),
        "offlineMessages": st.offline.values().map(Vec::len).sum::<usize>(),
        "logins": world.counters.logins.load(Ordering::Relaxed),
        "overlappingLogins": world.counters.overlapping_logins.load(Ordering::Relaxed),
        "handshakes": {
            "xx": world.counters.handshakes_xx.load(Ordering::Relaxed),
            "ik": world.counters.handshakes_ik.load(Ordering::Relaxed),
            "xxFallback": world.counters.handshakes_fallback.load(Ordering::Relaxed),
        },
    }))
}
