//! Media files, named by their SHA-256, on the local filesystem or in an
//! S3-compatible object store.
//!
//! Every file is first spooled to a temporary local file while its digest
//! is computed. Only once it is whole is it put under its real name: a
//! rename on the local disk, an upload that has completed in the object
//! store. So a message that refers to a blob can rely on it being there
//! and whole. Equal files share one blob.

mod links;
mod local;
mod s3;

pub use links::{LinkRefused, MediaLinks};
pub use s3::S3Settings;

use bytes::Bytes;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// The bytes of a blob as they are read, chunk by chunk.
pub type BlobStream = BoxStream<'static, io::Result<Bytes>>;

/// Where blobs are kept; cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    /// Partly written files; emptied when the store is opened.
    spool: PathBuf,
    place: Place,
}

#[derive(Debug, Clone)]
enum Place {
    Local(local::LocalBlobs),
    Object(Arc<s3::ObjectBlobs>),
}

/// A blob being written, chunk by chunk, as it streams in.
pub struct BlobWriter {
    place: Place,
    tmp: PathBuf,
    file: tokio::fs::File,
    hasher: Sha256,
    size: u64,
}

/// Blob names are hex digests; anything else (a path, say) is no blob.
fn valid_name(sha256: &str) -> bool {
    sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())
}

fn no_such_blob() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "no such blob")
}

/// Makes `dir` and removes what interrupted writes left there.
fn open_spool(dir: &std::path::Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let _ = std::fs::remove_file(entry?.path());
    }
    Ok(())
}

impl BlobStore {
    /// Keeps blobs in (and creates) `dir`; leftovers of interrupted writes
    /// are removed.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let dir = dir.into();
        let spool = dir.join("tmp");
        open_spool(&spool)?;
        Ok(BlobStore {
            spool,
            place: Place::Local(local::LocalBlobs::new(dir)),
        })
    }

    /// Keeps blobs in the bucket `settings` name, spooling files being
    /// written in (and creating) `spool`.
    pub fn s3(settings: &S3Settings, spool: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let spool = spool.into();
        open_spool(&spool)?;
        let objects = s3::ObjectBlobs::new(settings)?;
        Ok(BlobStore {
            spool,
            place: Place::Object(Arc::new(objects)),
        })
    }

    pub async fn writer(&self) -> io::Result<BlobWriter> {
        let tmp = self.spool.join(hex::encode(rand::random::<[u8; 12]>()));
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(BlobWriter {
            place: self.place.clone(),
            tmp,
            file,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Stores `bytes`; returns their SHA-256 (hex) and size.
    pub async fn put(&self, bytes: &[u8]) -> io::Result<(String, u64)> {
        let mut w = self.writer().await?;
        if let Err(e) = w.write(bytes).await {
            w.discard().await;
            return Err(e);
        }
        w.finish().await
    }

    /// The whole blob; `NotFound` if there is none of that name.
    pub async fn read(&self, sha256: &str) -> io::Result<Vec<u8>> {
        if !valid_name(sha256) {
            return Err(no_such_blob());
        }
        match &self.place {
            Place::Local(l) => l.read(sha256).await,
            Place::Object(o) => o.read(sha256).await,
        }
    }

    /// The blob as a stream, so large files are served without holding
    /// them in memory; `NotFound` if there is none of that name.
    pub async fn stream(&self, sha256: &str) -> io::Result<BlobStream> {
        if !valid_name(sha256) {
            return Err(no_such_blob());
        }
        match &self.place {
            Place::Local(l) => l.stream(sha256).await,
            Place::Object(o) => o.stream(sha256).await,
        }
    }

    pub async fn exists(&self, sha256: &str) -> io::Result<bool> {
        if !valid_name(sha256) {
            return Ok(false);
        }
        match &self.place {
            Place::Local(l) => l.exists(sha256).await,
            Place::Object(o) => o.exists(sha256).await,
        }
    }

    /// Removes the blob; removing one that is not there is no error.
    pub async fn delete(&self, sha256: &str) -> io::Result<()> {
        if !valid_name(sha256) {
            return Ok(());
        }
        match &self.place {
            Place::Local(l) => l.delete(sha256).await,
            Place::Object(o) => o.delete(sha256).await,
        }
    }
}

impl BlobWriter {
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.file.write_all(chunk).await
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Makes the blob durable under its name; only then may anything
    /// refer to it.
    pub async fn finish(mut self) -> io::Result<(String, u64)> {
        let sha = hex::encode(self.hasher.finalize_reset());
        let placed = async {
            self.file.flush().await?;
            match &self.place {
                Place::Local(l) => {
                    self.file.sync_all().await?;
                    l.place(&self.tmp, &sha).await
                }
                Place::Object(o) => o.place(&self.tmp, &sha, self.size).await,
            }
        }
        .await;
        // The local store renamed it away; the object store copied it.
        let _ = tokio::fs::remove_file(&self.tmp).await;
        placed.map(|()| (sha, self.size))
    }

    /// Drops what was written (a refused upload).
    pub async fn discard(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.tmp).await;
    }
}
