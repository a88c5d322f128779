//! Bytes on the socket: the connection header, 3-byte length frames, and
//! Noise transport encryption of binary nodes once the handshake is done.

use anyhow::{Result, anyhow, bail};
use bytes::BytesMut;
use wacore_binary::Node;
use wacore_binary::consts::WA_CONN_HEADER;
use wacore_noise::NoiseCipher;
use wacore_noise::framing::FrameDecoder;

/// Splits the client's byte stream into frames, first stripping the
/// connection header (`WA 6 3`, optionally preceded by an `ED` edge-routing
/// pre-intro).
pub struct Deframer {
    header: Option<Vec<u8>>,
    frames: FrameDecoder,
    /// Most bytes of undecoded frames held at once.
    limit: usize,
}

/// Handshake messages are a few hundred bytes: a client that announces a
/// bigger frame before it has authenticated is not allowed to make the
/// server buffer it.
pub const HANDSHAKE_BUFFER_LIMIT: usize = 64 * 1024;

impl Default for Deframer {
    fn default() -> Self {
        Deframer {
            header: Some(Vec::new()),
            frames: FrameDecoder::new(),
            limit: HANDSHAKE_BUFFER_LIMIT,
        }
    }
}

/// Largest edge-routing blob a client may send before its header.
const MAX_PREINTRO: usize = 64 * 1024;

impl Deframer {
    /// Lets an authenticated client send frames up to `limit` bytes.
    pub fn allow_buffering(&mut self, limit: usize) {
        self.limit = limit;
    }

    pub fn feed(&mut self, data: &[u8]) -> Result<()> {
        self.feed_unchecked(data)?;
        if self.frames.buffered_len() > self.limit {
            bail!(
                "{} bytes of unfinished frames (limit {})",
                self.frames.buffered_len(),
                self.limit
            );
        }
        Ok(())
    }

    fn feed_unchecked(&mut self, data: &[u8]) -> Result<()> {
        let Some(head) = self.header.as_mut() else {
            self.frames.feed(data);
            return Ok(());
        };
        head.extend_from_slice(data);
        let mut skip = 0;
        if head.len() >= 2 && &head[..2] == b"ED" {
            if head.len() < 7 {
                return Ok(());
            }
            let len =
                (usize::from(head[4]) << 16) | (usize::from(head[5]) << 8) | usize::from(head[6]);
            if len > MAX_PREINTRO {
                bail!("edge routing pre-intro of {len} bytes");
            }
            skip = 7 + len;
        }
        if head.len() < skip + WA_CONN_HEADER.len() {
            if head.len() > MAX_PREINTRO + 16 {
                bail!("no connection header");
            }
            return Ok(());
        }
        if head[skip..skip + 2] != WA_CONN_HEADER[..2] {
            bail!("bad connection header {:02x?}", &head[skip..skip + 4]);
        }
        let rest = head.split_off(skip + WA_CONN_HEADER.len());
        self.header = None;
        self.frames.feed(&rest);
        Ok(())
    }

    pub fn next_frame(&mut self) -> Option<BytesMut> {
        if self.header.is_some() {
            return None;
        }
        self.frames.decode_frame()
    }
}

/// Prefixes a payload with its 3-byte big-endian length.
pub fn frame(payload: &[u8]) -> Result<Vec<u8>> {
    if payload.len() >= 1 << 24 {
        bail!("frame of {} bytes is too large", payload.len());
    }
    let mut out = Vec::with_capacity(payload.len() + 3);
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(payload);
    Ok(out)
}

/// One direction of an established connection: its cipher and counter.
pub struct CipherState {
    cipher: NoiseCipher,
    counter: u32,
}

impl CipherState {
    pub fn new(cipher: NoiseCipher) -> Self {
        CipherState { cipher, counter: 0 }
    }

    /// Encrypts a node into a ready-to-send frame.
    pub fn seal(&mut self, node: &Node) -> Result<Vec<u8>> {
        let plain = wacore_binary::marshal(node)?;
        let sealed = self.cipher.encrypt_with_counter(self.counter, &plain)?;
        self.counter += 1;
        frame(&sealed)
    }

    /// Decrypts and decodes one frame from the client.
    /// Decrypts in place: a prekey upload is tens of KiB, and a thousand
    /// clients pairing at once would each hold a copy.
    pub fn open(&mut self, mut frame: BytesMut) -> Result<Node> {
        self.cipher
            .decrypt_in_place_with_counter(self.counter, &mut frame)
            .map_err(|e| anyhow!("frame decrypt: {e}"))?;
        self.counter += 1;
        decode_node(&frame)
    }
}

/// Decodes a decrypted payload (flags byte, maybe zlib, binary node).
pub fn decode_node(payload: &[u8]) -> Result<Node> {
    let unpacked = wacore_binary::util::unpack(payload)?;
    Ok(wacore_binary::marshal::unmarshal_ref(&unpacked)?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_then_frames_in_pieces() {
        let mut d = Deframer::default();
        let mut stream = WA_CONN_HEADER.to_vec();
        stream.extend(frame(b"hello").unwrap());
        stream.extend(frame(b"").unwrap());
        for b in &stream {
            d.feed(&[*b]).unwrap();
        }
        assert_eq!(&d.next_frame().unwrap()[..], b"hello");
        assert_eq!(d.next_frame().unwrap().len(), 0);
        assert!(d.next_frame().is_none());
    }

    #[test]
    fn edge_routing_preintro_is_skipped() {
        let mut d = Deframer::default();
        let mut stream = b"ED\x00\x01\x00\x00\x02xy".to_vec();
        stream.extend_from_slice(&WA_CONN_HEADER);
        stream.extend(frame(b"hi").unwrap());
        d.feed(&stream).unwrap();
        assert_eq!(&d.next_frame().unwrap()[..], b"hi");
    }

    #[test]
    fn an_unauthenticated_client_cannot_make_the_server_buffer_a_huge_frame() {
        let mut d = Deframer::default();
        let mut stream = WA_CONN_HEADER.to_vec();
        stream.extend_from_slice(&[0xff, 0xff, 0xff]);
        d.feed(&stream).unwrap();
        let chunk = vec![0u8; 16 * 1024];
        let refused = (0..8).any(|_| d.feed(&chunk).is_err());
        assert!(
            refused,
            "a 16 MiB frame announced before the handshake is refused"
        );
        let mut d = Deframer::default();
        d.allow_buffering(1 << 20);
        d.feed(&stream).unwrap();
        assert!(
            (0..8).all(|_| d.feed(&chunk).is_ok()),
            "after the handshake it may stream in"
        );
    }

    #[test]
    fn garbage_header_is_an_error_not_a_panic() {
        let mut d = Deframer::default();
        assert!(d.feed(b"GET / HTTP/1.1").is_err());
    }
}
