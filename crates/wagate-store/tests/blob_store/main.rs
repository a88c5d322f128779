//! One suite for every blob store backend: the local directory and an
//! S3-compatible bucket (moto's server standing in for S3).

mod moto;

use futures::TryStreamExt;
use std::io::ErrorKind;
use std::path::Path;
use wagate_store::BlobStore;

const HELLO_SHA: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

fn spooled(spool: &Path) -> usize {
    std::fs::read_dir(spool).unwrap().count()
}

/// What every backend must do alike; `spool` is where it keeps files
/// being written.
async fn suite(store: &BlobStore, spool: &Path) {
    let (a, size) = store.put(b"hello").await.unwrap();
    assert_eq!((a.as_str(), size), (HELLO_SHA, 5));
    let (b, _) = store.put(b"hello").await.unwrap();
    assert_eq!(a, b, "equal content, one blob");
    assert_eq!(store.read(&a).await.unwrap(), b"hello");
    assert!(store.exists(&a).await.unwrap());

    // Written in chunks, larger than one upload part.
    let big: Vec<u8> = (0..9 * 1024 * 1024 + 7).map(|i| (i % 251) as u8).collect();
    let mut w = store.writer().await.unwrap();
    for chunk in big.chunks(64 * 1024) {
        w.write(chunk).await.unwrap();
    }
    assert_eq!(w.size(), big.len() as u64);
    let (big_sha, big_size) = w.finish().await.unwrap();
    assert_eq!(big_size, big.len() as u64);
    assert_eq!(store.read(&big_sha).await.unwrap(), big);
    let streamed: Vec<u8> = store
        .stream(&big_sha)
        .await
        .unwrap()
        .map_ok(|chunk| chunk.to_vec())
        .try_concat()
        .await
        .unwrap();
    assert_eq!(streamed, big);

    // Names that are not digests reach nothing, whatever they say.
    for bad in ["../etc/passwd", "", &a[..63], &format!("{a}/x")] {
        assert_eq!(
            store.read(bad).await.unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert!(!store.exists(bad).await.unwrap());
        assert!(store.stream(bad).await.is_err());
    }
    let absent = "0".repeat(64);
    assert_eq!(
        store.read(&absent).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(
        store.stream(&absent).await.err().unwrap().kind(),
        ErrorKind::NotFound
    );
    assert!(!store.exists(&absent).await.unwrap());

    store.delete(&a).await.unwrap();
    assert!(!store.exists(&a).await.unwrap());
    assert_eq!(
        store.read(&a).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    store.delete(&a).await.unwrap();
    assert!(store.exists(&big_sha).await.unwrap(), "others stay");

    let mut w = store.writer().await.unwrap();
    w.write(b"refused").await.unwrap();
    w.discard().await;
    assert_eq!(
        spooled(spool),
        0,
        "a discarded or finished write leaves nothing spooled"
    );
}

#[tokio::test]
async fn local_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    suite(&store, &dir.path().join("tmp")).await;
    assert!(
        dir.path().join(&HELLO_SHA[..2]).is_dir(),
        "sharded by digest"
    );
}

#[tokio::test]
async fn s3_store_passes_the_suite() {
    let Some(moto) = moto::MotoServer::start() else {
        return;
    };
    let spool = tempfile::tempdir().unwrap();
    let settings = moto.bucket("suite", "media/blobs");
    let store = BlobStore::s3(&settings, spool.path()).unwrap();
    suite(&store, spool.path()).await;

    // The bucket holds each blob under the prefix, whole.
    let (sha, _) = store.put(b"in the bucket").await.unwrap();
    assert_eq!(
        moto.object("suite", &format!("media/blobs/{sha}"))
            .as_deref(),
        Some(&b"in the bucket"[..])
    );
    // Debug output names the bucket but never the secret.
    let shown = format!("{settings:?} {store:?}");
    assert!(
        shown.contains("suite") && !shown.contains("test-secret"),
        "{shown}"
    );
}
