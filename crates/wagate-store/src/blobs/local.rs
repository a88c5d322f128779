//! Blobs as files in a directory, sharded by the first two hex digits of
//! their name so no directory grows too large.

use super::BlobStream;
use futures::StreamExt;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub(super) struct LocalBlobs {
    dir: PathBuf,
}

impl LocalBlobs {
    pub(super) fn new(dir: PathBuf) -> Self {
        LocalBlobs { dir }
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(sha256)
    }

    /// Renames the synced spool file `tmp` into place.
    pub(super) async fn place(&self, tmp: &Path, sha256: &str) -> io::Result<()> {
        let shard = self.dir.join(&sha256[..2]);
        tokio::fs::create_dir_all(&shard).await?;
        tokio::fs::rename(tmp, shard.join(sha256)).await?;
        sync_dir(&shard).await
    }

    pub(super) async fn read(&self, sha256: &str) -> io::Result<Vec<u8>> {
        tokio::fs::read(self.path_of(sha256)).await
    }

    pub(super) async fn stream(&self, sha256: &str) -> io::Result<BlobStream> {
        let file = tokio::fs::File::open(self.path_of(sha256)).await?;
        Ok(tokio_util::io::ReaderStream::new(file).boxed())
    }

    pub(super) async fn exists(&self, sha256: &str) -> io::Result<bool> {
        tokio::fs::try_exists(self.path_of(sha256)).await
    }

    pub(super) async fn delete(&self, sha256: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path_of(sha256)).await {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }
}

/// A rename is durable only once its directory is synced.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}
