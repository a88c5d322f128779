//! Media files on the local filesystem, named by their SHA-256.
//!
//! A file is written to a temporary name, fsynced and renamed into place,
//! so a crash never leaves a half-written blob under a real name, and a
//! message that refers to a blob can rely on it being whole. Equal files
//! share one blob.

use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
}

/// A blob being written, chunk by chunk, as it streams in.
pub struct BlobWriter {
    dir: PathBuf,
    tmp: PathBuf,
    file: tokio::fs::File,
    hasher: Sha256,
    size: u64,
}

fn valid_name(sha256: &str) -> bool {
    sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit())
}

impl BlobStore {
    /// Uses (and creates) `dir`; leftovers of interrupted writes are removed.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<BlobStore> {
        let dir = dir.into();
        std::fs::create_dir_all(dir.join("tmp"))?;
        for entry in std::fs::read_dir(dir.join("tmp"))? {
            let _ = std::fs::remove_file(entry?.path());
        }
        Ok(BlobStore { dir })
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.dir.join(&sha256[..2]).join(sha256)
    }

    pub async fn writer(&self) -> io::Result<BlobWriter> {
        let tmp = self
            .dir
            .join("tmp")
            .join(hex::encode(rand::random::<[u8; 12]>()));
        let file = tokio::fs::File::create(&tmp).await?;
        Ok(BlobWriter {
            dir: self.dir.clone(),
            tmp,
            file,
            hasher: Sha256::new(),
            size: 0,
        })
    }

    /// Stores `bytes`; returns their SHA-256 (hex) and size.
    pub async fn put(&self, bytes: &[u8]) -> io::Result<(String, u64)> {
        let mut w = self.writer().await?;
        w.write(bytes).await?;
        w.finish().await
    }

    pub async fn read(&self, sha256: &str) -> io::Result<Vec<u8>> {
        if !valid_name(sha256) {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such blob"));
        }
        tokio::fs::read(self.path_of(sha256)).await
    }

    pub async fn exists(&self, sha256: &str) -> bool {
        valid_name(sha256)
            && tokio::fs::try_exists(self.path_of(sha256))
                .await
                .unwrap_or(false)
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

    /// Makes the blob durable under its name.
    pub async fn finish(mut self) -> io::Result<(String, u64)> {
        self.file.flush().await?;
        self.file.sync_all().await?;
        let sha = hex::encode(self.hasher.finalize_reset());
        let shard = self.dir.join(&sha[..2]);
        tokio::fs::create_dir_all(&shard).await?;
        let dest = shard.join(&sha);
        tokio::fs::rename(&self.tmp, &dest).await?;
        sync_dir(&shard).await?;
        Ok((sha, self.size))
    }

    /// Drops what was written (a refused upload).
    pub async fn discard(self) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.tmp).await;
    }
}

/// A rename is durable only once its directory is synced.
async fn sync_dir(dir: &Path) -> io::Result<()> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || std::fs::File::open(dir)?.sync_all())
        .await
        .map_err(io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_named_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let (a, size) = store.put(b"hello").await.unwrap();
        assert_eq!(size, 5);
        assert_eq!(
            a,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        let (b, _) = store.put(b"hello").await.unwrap();
        assert_eq!(a, b);
        assert_eq!(store.read(&a).await.unwrap(), b"hello");
        assert!(store.read("../etc/passwd").await.is_err());
        let w = store.writer().await.unwrap();
        w.discard().await;
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
