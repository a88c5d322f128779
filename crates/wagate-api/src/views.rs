//! What clients see of stored rows: camelCase JSON, RFC 3339 times, keys
//! masked, QR codes both as text and as a PNG data URL.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, SecondsFormat, Utc};
use image::Luma;
use qrcode::QrCode;
use serde::Serialize;
use utoipa::ToSchema;
use wagate_core::SessionStatus;
use wagate_store::domain::{ApiKeyRecord, SessionRecord, Tenant};

/// A time as every answer writes it: RFC 3339, milliseconds, `Z`.
pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A session and what the engine last recorded about it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionView {
    #[schema(example = "my-session-01")]
    pub session_id: String,
    pub tenant_id: i64,
    pub name: Option<String>,
    /// `disconnected`, `connecting`, `qr`, `connected` or `logged_out`.
    #[schema(example = "qr")]
    pub status: &'static str,
    /// The QR text to scan, while status is `qr`.
    #[schema(example = "2@abc123xyz...")]
    pub qr_code: Option<String>,
    /// The same QR as a PNG data URL.
    #[schema(example = "data:image/png;base64,iVBORw0KGgo...")]
    pub qr_image: Option<String>,
    /// The pairing code to enter on the phone, while one is offered.
    #[schema(example = "ABCD1234")]
    pub pair_code: Option<String>,
    #[schema(example = "5511999999999")]
    pub phone_number: Option<String>,
    #[schema(example = "2024-01-15T10:30:00.000Z")]
    pub last_connected: Option<String>,
    pub webhook: Option<String>,
    #[schema(example = "2024-01-15T10:30:00.000Z")]
    pub created_at: String,
    /// The gateway node running the session (see `GET /api/v1/admin/nodes`);
    /// `null` while none does.
    #[schema(example = "node_3f2a9c01d4e5b678")]
    pub node: Option<String>,
}

impl From<SessionRecord> for SessionView {
    fn from(s: SessionRecord) -> Self {
        // A QR left over from an earlier state is no longer scannable.
        let qr = s.qr.filter(|_| s.status == SessionStatus::Qr);
        let qr_image = qr.as_deref().and_then(qr_data_url);
        SessionView {
            session_id: s.key.session.to_string(),
            tenant_id: s.key.tenant.0,
            name: s.name,
            status: s.status.as_str(),
            qr_code: qr,
            qr_image,
            pair_code: s.pair_code,
            phone_number: s.phone,
            last_connected: s.last_connected.map(rfc3339),
            webhook: s.webhook_url,
            created_at: rfc3339(s.created_at),
            node: s.node,
        }
    }
}

/// Renders `text` as a QR PNG data URL; `None` (logged) if it cannot be.
pub fn qr_data_url(text: &str) -> Option<String> {
    let rendered = QrCode::new(text.as_bytes())
        .map(|code| code.render::<Luma<u8>>().min_dimensions(256, 256).build());
    let image = match rendered {
        Ok(image) => image,
        Err(err) => {
            tracing::warn!(%err, "QR text cannot be encoded");
            return None;
        }
    };
    let mut png = std::io::Cursor::new(Vec::new());
    if let Err(err) = image.write_to(&mut png, image::ImageFormat::Png) {
        tracing::warn!(%err, "QR image cannot be written as PNG");
        return None;
    }
    Some(format!(
        "data:image/png;base64,{}",
        BASE64.encode(png.into_inner())
    ))
}

/// An API key as listed: masked, never the secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub id: i64,
    /// `admin`, `tenant` or `session`.
    #[schema(example = "session")]
    pub scope: &'static str,
    #[schema(example = "***3123")]
    pub masked: String,
    pub name: Option<String>,
    pub tenant_id: i64,
    pub session_id: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(k: ApiKeyRecord) -> Self {
        KeyView {
            id: k.id,
            scope: k.scope.as_str(),
            masked: k.masked(),
            name: k.name,
            tenant_id: k.tenant.0,
            session_id: k.session.map(String::from),
            created_at: rfc3339(k.created_at),
            revoked_at: k.revoked_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantView {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    /// Days of message history kept: 0 forever, null the gateway's
    /// default (`history_retention_days`).
    pub history_retention_days: Option<u32>,
    /// The service tier whose limits apply (`GET /api/v1/admin/tiers`).
    #[schema(example = "basic")]
    pub tier: String,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        TenantView {
            id: t.id.0,
            name: t.name,
            created_at: rfc3339(t.created_at),
            history_retention_days: t.history_retention_days,
            tier: t.tier.as_str().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn qr_renders_as_png_data_url() {
        let url = super::qr_data_url("2@abc,def,ghi").unwrap();
        assert!(url.starts_with("data:image/png;base64,iVBORw0KGgo"));
    }
}
