//! Describes media a phone received: fetched from the simulator's media
//! host, decrypted, and summarized by digest and size.

use crate::content::MediaRef;
use crate::world::World;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub fn describe(world: &World, m: MediaRef<'_>) -> Value {
    let mut v = json!({"type": m.kind});
    let (Some(host), Some(path), Some(key)) = (world.media.as_ref(), m.direct_path, m.media_key)
    else {
        v["error"] = json!("media reference incomplete or no media host");
        return v;
    };
    match host.decrypt_download(path, key, media_type(m.kind), m.file_enc_sha256) {
        Ok(plain) => {
            let digest = Sha256::digest(&plain);
            v["sha256"] = json!(hex::encode(digest));
            v["size"] = json!(plain.len());
            // A sender whose metadata disagrees with its media is a bug a real
            // phone would show as a broken file; surface it, don't hide it.
            if m.file_sha256
                .is_some_and(|claimed| claimed != digest.as_slice())
            {
                v["error"] = json!("file_sha256 does not match the decrypted media");
            } else if m.file_length.is_some_and(|n| n != plain.len() as u64) {
                v["error"] = json!("file_length does not match the decrypted media");
            }
        }
        Err(e) => v["error"] = json!(format!("download failed: {e:#}")),
    }
    v
}

pub fn media_type(kind: &str) -> wacore::download::MediaType {
    use wacore::download::MediaType;
    match kind {
        "image" => MediaType::Image,
        "video" => MediaType::Video,
        "audio" => MediaType::Audio,
        "sticker" => MediaType::Sticker,
        _ => MediaType::Document,
    }
}
