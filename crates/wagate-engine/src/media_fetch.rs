//! Received files: downloaded after their event commits, tried a few times
//! with backoff, and run again after a restart from the parameters kept
//! with the event (see `wagate_store::media_downloads`). Only when every
//! attempt fails is the file reported `failed`; either way the event's
//! held deliveries then go out with the final `media.status`.

use crate::Engine;
use crate::inbound::map::base_of;
use futures::StreamExt;
use serde_json::Value;
use std::sync::{Arc, Weak};
use std::time::Duration;
use wagate_core::SessionKey;
use wagate_store::media_downloads::{MediaFetch, PendingDownload};
use whatsapp_rust::Client;
use whatsapp_rust::download::{DownloadParams, Downloadable, MediaType};
use whatsapp_rust::waproto::whatsapp as wa;

/// Downloads of one file before it is given up on.
const ATTEMPTS: u32 = 4;
/// The wait after the first failure; it doubles after each one.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Downloads resumed after a restart run this many at a time, so a
/// backlog does not flood the media hosts or the blob store.
const RESUMED_AT_ONCE: usize = 4;
/// How long a resumed download waits for its session to be back online.
const RECONNECT_WAIT: Duration = Duration::from_secs(60);
const RECONNECT_POLL: Duration = Duration::from_millis(200);

const MEDIA_TYPES: [(MediaType, &str); 5] = [
    (MediaType::Image, "image"),
    (MediaType::Video, "video"),
    (MediaType::Audio, "audio"),
    (MediaType::Document, "document"),
    (MediaType::Sticker, "sticker"),
];

/// What downloading `message`'s file takes, or `None` when it names none.
pub(crate) fn fetch_of(message: &wa::Message, mimetype: &str) -> Option<MediaFetch> {
    let d = downloadable(message)?;
    let media_type = MEDIA_TYPES
        .iter()
        .find(|(t, _)| *t == d.app_info())
        .map(|(_, name)| name.to_string())?;
    Some(MediaFetch {
        direct_path: d.direct_path()?.to_string(),
        media_key: d.media_key().map(hex::encode),
        file_sha256: hex::encode(d.file_sha256()?),
        file_enc_sha256: d.file_enc_sha256().map(hex::encode),
        file_length: d.file_length().unwrap_or_default(),
        mimetype: mimetype.to_string(),
        media_type,
    })
}

/// The part of `message` that names its file on WhatsApp's media hosts.
fn downloadable(message: &wa::Message) -> Option<&dyn Downloadable> {
    let m = base_of(message);
    macro_rules! first_of {
        ($($kind:ident),*) => {
            None$(.or_else(|| m.$kind.as_option().map(|x| x as &dyn Downloadable)))*
        };
    }
    first_of!(
        image_message,
        video_message,
        ptv_message,
        audio_message,
        document_message,
        sticker_message
    )
}

fn params_of(f: &MediaFetch) -> Result<DownloadParams, String> {
    let bytes = |hex_str: &str| hex::decode(hex_str).map_err(|e| format!("bad parameter: {e}"));
    let media_type = MEDIA_TYPES
        .iter()
        .find(|(_, name)| *name == f.media_type)
        .map(|(t, _)| *t)
        .ok_or_else(|| format!("unknown media type {}", f.media_type))?;
    Ok(DownloadParams {
        direct_path: f.direct_path.clone(),
        media_key: f.media_key.as_deref().map(bytes).transpose()?,
        file_sha256: bytes(&f.file_sha256)?,
        file_enc_sha256: f.file_enc_sha256.as_deref().map(bytes).transpose()?,
        file_length: f.file_length,
        media_type,
    })
}

/// Downloads event `seq`'s file (trying again with backoff), stores it,
/// records the outcome in the event's `data` and releases its deliveries.
pub(crate) async fn fetch_and_settle(
    engine: Weak<Engine>,
    key: SessionKey,
    mut client: Arc<Client>,
    seq: i64,
    event_id: String,
    fetch: MediaFetch,
    mut data: Value,
) {
    let mut outcome = Err("no download was tried".to_string());
    let mut backoff = FIRST_BACKOFF;
    for attempt in 1..=ATTEMPTS {
        let Some(e) = engine.upgrade() else { return };
        // After a reconnect the session has a new client.
        if let Some(current) = e.client_of(&key) {
            client = current;
        }
        outcome = download_and_store(&e, &client, &fetch).await;
        match &outcome {
            Ok(_) => break,
            Err(err) if attempt < ATTEMPTS => {
                tracing::info!(
                    event = seq,
                    attempt,
                    "received media download failed, retrying: {err}"
                );
                drop(e);
                tokio::time::sleep(backoff).await;
                backoff *= 2;
            }
            Err(_) => {}
        }
    }
    let Some(engine) = engine.upgrade() else {
        return;
    };
    settle(&engine, seq, &event_id, &mut data, outcome).await;
}

async fn download_and_store(
    engine: &Engine,
    client: &Client,
    fetch: &MediaFetch,
) -> Result<(String, u64), String> {
    let params = params_of(fetch)?;
    let bytes = client.download(&params).await.map_err(|e| e.to_string())?;
    engine
        .outbox
        .media
        .store(&bytes)
        .await
        .map_err(|e| e.to_string())
}

/// Records how the download ended and lets the event's deliveries go;
/// the kept parameters are dropped once that is committed.
pub(crate) async fn settle(
    engine: &Engine,
    seq: i64,
    event_id: &str,
    data: &mut Value,
    outcome: Result<(String, u64), String>,
) {
    if let Some(media) = data.get_mut("media").and_then(Value::as_object_mut) {
        match outcome {
            Ok((sha256, size)) => {
                media.insert("status".into(), "stored".into());
                media.insert("sha256".into(), sha256.into());
                media.insert("size".into(), size.into());
                media.remove("error");
            }
            Err(e) => {
                tracing::warn!(event = seq, "cannot fetch received media: {e}");
                media.insert("status".into(), "failed".into());
                media.insert("error".into(), format!("download failed: {e}").into());
            }
        }
    }
    if let Err(e) = engine.events.settle_held(seq, data.clone()).await {
        tracing::error!(event = seq, "cannot record received media: {e}");
        return;
    }
    if let Err(e) = engine.media_downloads.forget(event_id).await {
        tracing::error!(
            event = seq,
            "cannot drop a settled download's parameters: {e}"
        );
    }
}

/// After a restart: runs again the downloads the last process left
/// unsettled, a few at a time, each once its session is back online.
pub(crate) async fn resume(engine: Arc<Engine>, pending: Vec<PendingDownload>) {
    let weak = Arc::downgrade(&engine);
    drop(engine);
    futures::stream::iter(pending)
        .for_each_concurrent(RESUMED_AT_ONCE, |p| {
            let weak = weak.clone();
            async move { resume_one(weak, p).await }
        })
        .await;
}

async fn resume_one(engine: Weak<Engine>, p: PendingDownload) {
    let Some(client) = online_client(&engine, &p.key).await else {
        if let Some(engine) = engine.upgrade()
            && let Ok(Some(event)) = engine.events.get(p.event_seq).await
        {
            let mut data = event.data;
            let outcome = Err("the session did not come back online to download it".into());
            settle(&engine, p.event_seq, &p.event_id, &mut data, outcome).await;
        }
        return;
    };
    let data = match engine.upgrade() {
        Some(e) => match e.events.get(p.event_seq).await {
            Ok(Some(event)) => event.data,
            Ok(None) => return,
            Err(err) => {
                tracing::error!(
                    event = p.event_seq,
                    "cannot read an event to resume its media: {err}"
                );
                return;
            }
        },
        None => return,
    };
    fetch_and_settle(
        engine,
        p.key,
        client,
        p.event_seq,
        p.event_id,
        p.fetch,
        data,
    )
    .await;
}

/// The session's client once it is logged in, or `None` after
/// [`RECONNECT_WAIT`] (or when the engine stops).
async fn online_client(engine: &Weak<Engine>, key: &SessionKey) -> Option<Arc<Client>> {
    let deadline = tokio::time::Instant::now() + RECONNECT_WAIT;
    loop {
        let client = engine.upgrade()?.client_of(key);
        if let Some(client) = client.filter(|c| c.is_logged_in()) {
            return Some(client);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(RECONNECT_POLL).await;
    }
}
