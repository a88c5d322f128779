//! Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, R2, ...).
//!
//! A file reaches the bucket only as a complete object: small ones in one
//! PUT, large ones as a multipart upload that S3 shows under the key only
//! once it is completed, and aborts if a part fails.

use super::BlobStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ObjectStore, PutPayload, WriteMultipart};
use std::fmt;
use std::io;
use std::path::Path;
use tokio::io::AsyncReadExt;

/// Files up to this size go in one PUT; larger ones in parts of it.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight at once, so a large file never sits whole in memory.
const PARTS_IN_FLIGHT: usize = 2;

/// Which bucket, and how to reach it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// For stores other than AWS (`http://minio:9000`); `None` is AWS.
    pub endpoint: Option<String>,
    /// Keys are `<prefix>/<sha256>`; empty puts them at the bucket's root.
    pub prefix: String,
    /// `None`: the standard AWS environment variables, profile or
    /// instance role.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// `https://endpoint/bucket/key` rather than `https://bucket.endpoint/key`.
    pub path_style: bool,
}

impl fmt::Debug for S3Settings {
    // The secret key never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "[redacted]"),
            )
            .field("path_style", &self.path_style)
            .finish()
    }
}

pub(super) struct ObjectBlobs {
    bucket: String,
    prefix: Key,
    client: AmazonS3,
}

impl fmt::Debug for ObjectBlobs {
    // The client's own Debug shows its credentials.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectBlobs")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix.as_ref())
            .finish_non_exhaustive()
    }
}

fn io_error(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            io::Error::new(io::ErrorKind::NotFound, "no such blob")
        }
        e => io::Error::other(e),
    }
}

impl ObjectBlobs {
    pub(super) fn new(s: &S3Settings) -> io::Result<Self> {
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            .with_virtual_hosted_style_request(!s.path_style);
        if let Some(endpoint) = &s.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(id) = &s.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &s.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let client = builder.build().map_err(io::Error::other)?;
        let prefix = Key::parse(s.prefix.trim_matches('/'))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        Ok(ObjectBlobs {
            bucket: s.bucket.clone(),
            prefix,
            client,
        })
    }

    fn key(&self, sha256: &str) -> Key {
        self.prefix.child(sha256)
    }

    /// Uploads the spooled file `tmp` unless the bucket has the blob
    /// already; returns once the object is complete.
    pub(super) async fn place(&self, tmp: &Path, sha256: &str, size: u64) -> io::Result<()> {
        let key = self.key(sha256);
        match self.client.head(&key).await {
            Ok(meta) if meta.size == size => return Ok(()),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(io_error(e)),
        }
        if size <= PART_SIZE as u64 {
            let bytes = tokio::fs::read(tmp).await?;
            self.client
                .put(&key, PutPayload::from(bytes))
                .await
                .map_err(io_error)?;
            return Ok(());
        }
        let upload = self.client.put_multipart(&key).await.map_err(io_error)?;
        let mut parts = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let sent = async {
            let mut file = tokio::fs::File::open(tmp).await?;
            let mut buf = vec![0; 1024 * 1024];
            loop {
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok::<_, io::Error>(());
                }
                parts
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(io_error)?;
                parts.write(&buf[..n]);
            }
        }
        .await;
        match sent {
            Ok(()) => parts.finish().await.map(drop).map_err(io_error),
            Err(e) => {
                // Parts of an unfinished upload cost storage until aborted.
                let _ = parts.abort().await;
                Err(e)
            }
        }
    }

    pub(super) async fn read(&self, sha256: &str) -> io::Result<Vec<u8>> {
        let got = self.client.get(&self.key(sha256)).await.map_err(io_error)?;
        Ok(got.bytes().await.map_err(io_error)?.to_vec())
    }

    pub(super) async fn stream(&self, sha256: &str) -> io::Result<BlobStream> {
        let got = self.client.get(&self.key(sha256)).await.map_err(io_error)?;
        Ok(got.into_stream().map_err(io_error).boxed())
    }

    pub(super) async fn exists(&self, sha256: &str) -> io::Result<bool> {
        match self.client.head(&self.key(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io_error(e)),
        }
    }

    pub(super) async fn delete(&self, sha256: &str) -> io::Result<()> {
        match self.client.delete(&self.key(sha256)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_error(e)),
        }
    }
}
