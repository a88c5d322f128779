//! Where media files are kept (the local disk or an S3-compatible bucket)
//! and whether received media gets signed public links.

use super::Raw;
use anyhow::bail;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use wagate_store::BlobStore;
use wagate_store::blobs::S3Settings;

/// The longest a public media link may stay valid: a week.
const MAX_PUBLIC_URL_TTL_S: u64 = 7 * 24 * 3600;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MediaStore {
    /// `<data_dir>/media`
    #[default]
    Local,
    S3(S3Settings),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Media {
    pub store: MediaStore,
    /// How long a signed public link to received media stays valid;
    /// `None`: payloads carry no such link.
    pub public_url_ttl: Option<Duration>,
}

impl Media {
    pub(super) fn from_raw(raw: &BTreeMap<&'static str, Raw>) -> anyhow::Result<Media> {
        let text = |key: &str| raw.get(key).map(|r| r.value.trim().to_string());
        let store = match text("media_store").as_deref() {
            None | Some("local") => MediaStore::Local,
            Some("s3") => {
                let Some(bucket) = text("s3_bucket") else {
                    bail!("s3_bucket: must be set when media_store is \"s3\"");
                };
                let endpoint = text("s3_endpoint");
                if let Some(e) = &endpoint
                    && !(e.starts_with("http://") || e.starts_with("https://"))
                {
                    bail!(
                        "{}: expected an http:// or https:// URL",
                        raw["s3_endpoint"].origin
                    );
                }
                let path_style = match text("s3_path_style").as_deref() {
                    None | Some("true") => true,
                    Some("false") => false,
                    Some(_) => bail!("{}: expected true or false", raw["s3_path_style"].origin),
                };
                let (access_key_id, secret_access_key) =
                    (text("s3_access_key_id"), text("s3_secret_access_key"));
                if access_key_id.is_some() != secret_access_key.is_some() {
                    bail!("s3_access_key_id and s3_secret_access_key: set both or neither");
                }
                MediaStore::S3(S3Settings {
                    bucket,
                    region: text("s3_region").unwrap_or_else(|| "us-east-1".into()),
                    endpoint,
                    prefix: text("s3_prefix").unwrap_or_default(),
                    access_key_id,
                    secret_access_key,
                    path_style,
                })
            }
            Some(other) => bail!(
                "{}: unknown media store '{other}' (expected local or s3)",
                raw["media_store"].origin
            ),
        };
        let public_url_ttl = match raw.get("media_public_url_ttl_s") {
            None => None,
            Some(r) => match r.value.trim().parse::<u64>() {
                Ok(0) => None,
                Ok(s) if s <= MAX_PUBLIC_URL_TTL_S => Some(Duration::from_secs(s)),
                _ => bail!(
                    "{}: expected a whole number of seconds from 0 to {MAX_PUBLIC_URL_TTL_S}",
                    r.origin
                ),
            },
        };
        Ok(Media {
            store,
            public_url_ttl,
        })
    }

    /// Opens the configured store; the local one lives in
    /// `<data_dir>/media`, and the S3 one spools there.
    pub fn open_store(&self, data_dir: &Path) -> std::io::Result<BlobStore> {
        let dir = data_dir.join("media");
        match &self.store {
            MediaStore::Local => BlobStore::open(dir),
            MediaStore::S3(s3) => BlobStore::s3(s3, dir.join("spool")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;
    use super::*;

    #[test]
    fn local_by_default_s3_when_asked() {
        assert_eq!(load(&[]).unwrap().media, Media::default());
        let config = load(&[
            ("WAGATE_MEDIA_STORE", "s3"),
            ("WAGATE_S3_BUCKET", "wa-media"),
            ("WAGATE_S3_ENDPOINT", "http://127.0.0.1:9000"),
            ("WAGATE_S3_PREFIX", "prod"),
            ("WAGATE_S3_ACCESS_KEY_ID", "AKIAEXAMPLE"),
            ("WAGATE_S3_SECRET_ACCESS_KEY", "very-secret-s3-key"),
            ("WAGATE_MEDIA_PUBLIC_URL_TTL_S", "3600"),
        ])
        .unwrap();
        let MediaStore::S3(s3) = &config.media.store else {
            panic!("{config:?}");
        };
        assert_eq!(
            (s3.bucket.as_str(), s3.region.as_str()),
            ("wa-media", "us-east-1")
        );
        assert_eq!(s3.prefix, "prod");
        assert!(s3.path_style);
        assert_eq!(config.media.public_url_ttl, Some(Duration::from_secs(3600)));
        let shown = format!("{config:?}");
        assert!(!shown.contains("very-secret-s3-key"), "{shown}");
    }

    #[test]
    fn bad_media_settings_are_refused() {
        for vars in [
            &[("WAGATE_MEDIA_STORE", "ftp")][..],
            &[("WAGATE_MEDIA_STORE", "s3")],
            &[
                ("WAGATE_MEDIA_STORE", "s3"),
                ("WAGATE_S3_BUCKET", "b"),
                ("WAGATE_S3_ENDPOINT", "minio:9000"),
            ],
            &[
                ("WAGATE_MEDIA_STORE", "s3"),
                ("WAGATE_S3_BUCKET", "b"),
                ("WAGATE_S3_ACCESS_KEY_ID", "only-the-id"),
            ],
            &[("WAGATE_MEDIA_PUBLIC_URL_TTL_S", "-1")],
            &[("WAGATE_MEDIA_PUBLIC_URL_TTL_S", "604801")],
        ] {
            assert!(load(vars).is_err(), "{vars:?}");
        }
        let off = load(&[("WAGATE_MEDIA_PUBLIC_URL_TTL_S", "0")]).unwrap();
        assert_eq!(off.media.public_url_ttl, None);
    }
}
