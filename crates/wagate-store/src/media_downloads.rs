//! What a received file's download needs, kept until the download has
//! settled, so one cut off by a restart can be run again. The row is
//! written before its event commits (a row without its event is dropped
//! at the next start) and sealed: the media key decrypts the file.

use crate::cipher::StateCipher;
use crate::commit::Committer;
use crate::db::query;
use crate::outbound::{commit_failed, internal, now_ms};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use wagate_core::{CoreError, SessionId, SessionKey, TenantId};

/// Sealing context of a row's parameters.
const KIND: &str = "media_download";

/// Where a file is on WhatsApp's media hosts and how to decrypt and check
/// it, as the message described it. Bytes travel as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaFetch {
    pub direct_path: String,
    pub media_key: Option<String>,
    pub file_sha256: String,
    pub file_enc_sha256: Option<String>,
    pub file_length: u64,
    pub mimetype: String,
    /// `image`, `video`, `audio`, `document` or `sticker`: which key the
    /// media key expands to.
    pub media_type: String,
}

/// A download left to run: its event, by `seq`, and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingDownload {
    pub event_seq: i64,
    pub event_id: String,
    pub key: SessionKey,
    pub fetch: MediaFetch,
}

/// The rows, over the process's committer. Cheap to clone.
#[derive(Clone)]
pub struct MediaDownloads {
    committer: Committer,
    cipher: Arc<StateCipher>,
}

impl MediaDownloads {
    pub fn new(committer: Committer, cipher: Arc<StateCipher>) -> Self {
        MediaDownloads { committer, cipher }
    }

    fn aad(key: &SessionKey, event_id: &str) -> Vec<u8> {
        StateCipher::aad(key.tenant, &key.session, KIND, &[event_id.as_bytes()])
    }

    /// Keeps the parameters of event `event_id`'s file, sealed.
    pub async fn remember(
        &self,
        items: Vec<(SessionKey, String, MediaFetch)>,
    ) -> Result<(), CoreError> {
        let mut rows = Vec::with_capacity(items.len());
        for (key, event_id, fetch) in items {
            let json =
                serde_json::to_vec(&fetch).map_err(|e| CoreError::Internal(e.to_string()))?;
            let sealed = self.cipher.seal(&Self::aad(&key, &event_id), &json);
            rows.push((key, event_id, sealed));
        }
        let now = now_ms();
        self.committer
            .run(move |conn| {
                Box::pin(async move {
                    for (key, event_id, sealed) in &rows {
                        query(
                            "INSERT INTO media_downloads \
                               (event_id, tenant_id, session_id, params, created_at) \
                             VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (event_id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, \
                               session_id = EXCLUDED.session_id, params = EXCLUDED.params, \
                               created_at = EXCLUDED.created_at",
                        )
                        .bind(event_id)
                        .bind(key.tenant.0)
                        .bind(key.session.as_str())
                        .bind(sealed)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .await
            .map_err(commit_failed)
    }

    /// Every download left to run. Rows whose event never committed (the
    /// process stopped in between, or it was a redelivery) are dropped.
    pub async fn pending(&self) -> Result<Vec<PendingDownload>, CoreError> {
        let rows = query(
            "SELECT d.event_id, d.tenant_id, d.session_id, d.params, e.seq \
             FROM media_downloads d LEFT JOIN events e ON e.id = d.event_id \
             ORDER BY d.created_at",
        )
        .fetch_all(self.committer.db())
        .await
        .map_err(internal)?;
        let mut pending = Vec::new();
        for row in rows {
            let event_id: String = row.try_get("event_id").map_err(internal)?;
            let Some(seq) = row.try_get::<Option<i64>, _>("seq").map_err(internal)? else {
                self.forget(&event_id).await?;
                continue;
            };
            let session: String = row.try_get("session_id").map_err(internal)?;
            let key = SessionKey {
                tenant: TenantId(row.try_get("tenant_id").map_err(internal)?),
                session: SessionId::parse(&session)
                    .map_err(|e| CoreError::Internal(e.to_string()))?,
            };
            let sealed: Vec<u8> = row.try_get("params").map_err(internal)?;
            let fetch = self
                .cipher
                .open(&Self::aad(&key, &event_id), &sealed)
                .map_err(|e| CoreError::Internal(e.to_string()))
                .and_then(|json| {
                    serde_json::from_slice(&json).map_err(|e| CoreError::Internal(e.to_string()))
                });
            match fetch {
                Ok(fetch) => pending.push(PendingDownload {
                    event_seq: seq,
                    event_id,
                    key,
                    fetch,
                }),
                // Not for this master key: the event is settled as failed
                // by whoever finds it still held.
                Err(e) => {
                    tracing::error!(
                        event = seq,
                        "cannot open a media download's parameters: {e}"
                    );
                    self.forget(&event_id).await?;
                }
            }
        }
        Ok(pending)
    }

    /// The download of event `event_id` has settled (or never will).
    pub async fn forget(&self, event_id: &str) -> Result<(), CoreError> {
        let event_id = event_id.to_string();
        self.committer
            .run(move |conn| {
                Box::pin(async move {
                    query("DELETE FROM media_downloads WHERE event_id = $1")
                        .bind(&event_id)
                        .execute(&mut *conn)
                        .await
                        .map(|_| ())
                })
            })
            .await
            .map_err(commit_failed)
    }
}
