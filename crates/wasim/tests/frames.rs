//! Property tests for the bytes wasim reads off a socket: whatever a client
//! (or anything else that connects) sends, decoding errors out instead of
//! panicking, and well-formed streams come back intact however they are cut.

use proptest::prelude::*;
use wacore_binary::Node;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::consts::WA_CONN_HEADER;
use wacore_noise::NoiseCipher;
use wasim::wire::{CipherState, Deframer, decode_node, frame};

/// Splits `data` at the given cut points (taken modulo its length).
fn chunks<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts
        .iter()
        .map(|c| if data.is_empty() { 0 } else { c % data.len() })
        .collect();
    at.push(0);
    at.push(data.len());
    at.sort_unstable();
    at.dedup();
    at.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

/// Feeds the pieces in order, draining frames after each; stops at the
/// first error. Returns the frames and whether the stream was rejected.
fn deframe(pieces: &[&[u8]]) -> (Vec<Vec<u8>>, bool) {
    let mut d = Deframer::default();
    let mut frames = Vec::new();
    for piece in pieces {
        if d.feed(piece).is_err() {
            return (frames, true);
        }
        while let Some(f) = d.next_frame() {
            frames.push(f.to_vec());
        }
    }
    (frames, false)
}

fn cipher(key: [u8; 32]) -> CipherState {
    CipherState::new(NoiseCipher::new(&key).expect("any 32-byte key"))
}

/// Small binary nodes: known tags and attribute names (their dictionary
/// tokens take the encoder's other paths), free text, bytes and children.
fn node() -> impl Strategy<Value = Node> {
    let tag = prop_oneof![
        Just("iq".to_string()),
        Just("message".to_string()),
        Just("receipt".to_string()),
        "[a-z]{1,12}",
    ];
    let attrs = proptest::collection::vec(
        (
            prop::sample::select(vec!["id", "type", "to", "t", "xmlns", "zz"]),
            "[a-zA-Z0-9 ._-]{0,24}",
        ),
        0..4,
    );
    let leaf = (
        tag,
        attrs,
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
    )
        .prop_map(|(tag, attrs, bytes)| {
            let mut b = NodeBuilder::new_dynamic(tag).attrs(attrs);
            if let Some(bytes) = bytes {
                b = b.bytes(bytes);
            }
            b.build()
        });
    leaf.prop_recursive(3, 24, 4, |inner| {
        ("[a-z]{1,8}", proptest::collection::vec(inner, 1..4))
            .prop_map(|(tag, kids)| NodeBuilder::new_dynamic(tag).children(kids).build())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_streams_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..4096),
        cuts in proptest::collection::vec(any::<usize>(), 0..16),
        with_header in any::<bool>(),
    ) {
        let mut stream = Vec::new();
        if with_header {
            stream.extend_from_slice(&WA_CONN_HEADER);
        }
        stream.extend_from_slice(&data);
        let (frames, _) = deframe(&chunks(&stream, &cuts));
        // Every frame came out of the stream with its 3-byte length.
        let consumed: usize = frames.iter().map(|f| f.len() + 3).sum();
        prop_assert!(consumed <= stream.len());
    }

    #[test]
    fn valid_streams_round_trip_in_any_chunking(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..2048), 0..8),
        preintro in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..64)),
        cuts in proptest::collection::vec(any::<usize>(), 0..32),
    ) {
        let mut stream = Vec::new();
        if let Some(blob) = &preintro {
            // `ED`, two version bytes, a 3-byte length, the routing blob.
            stream.extend_from_slice(b"ED\x00\x01");
            stream.extend_from_slice(&(blob.len() as u32).to_be_bytes()[1..]);
            stream.extend_from_slice(blob);
        }
        stream.extend_from_slice(&WA_CONN_HEADER);
        for p in &payloads {
            stream.extend(frame(p).unwrap());
        }
        let (frames, rejected) = deframe(&chunks(&stream, &cuts));
        prop_assert!(!rejected);
        prop_assert_eq!(frames, payloads);
    }

    #[test]
    fn opening_garbage_is_an_error(
        key in any::<[u8; 32]>(),
        garbage in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        prop_assert!(cipher(key).open(garbage.as_slice().into()).is_err());
    }

    #[test]
    fn tampered_frames_are_rejected_and_intact_ones_open(
        key in any::<[u8; 32]>(),
        node in node(),
        flip in any::<usize>(),
        bit in 0u8..8,
    ) {
        let sealed = cipher(key).seal(&node).unwrap();
        let body = &sealed[3..];
        let opened = cipher(key).open(body.into()).unwrap();
        prop_assert_eq!(&opened.tag, &node.tag);

        let mut bad = body.to_vec();
        let i = flip % bad.len();
        bad[i] ^= 1 << bit;
        prop_assert!(cipher(key).open(bad.as_slice().into()).is_err());
    }

    #[test]
    fn decoding_random_payloads_never_panics(
        flags in prop_oneof![Just(0u8), Just(2u8), any::<u8>()],
        body in proptest::collection::vec(any::<u8>(), 0..2048),
    ) {
        let mut payload = vec![flags];
        payload.extend_from_slice(&body);
        let _ = decode_node(&payload);
        let _ = decode_node(&body);
    }

    #[test]
    fn marshalled_nodes_decode_to_the_same_encoding(node in node()) {
        let bytes = wacore_binary::marshal(&node).unwrap();
        let decoded = decode_node(&bytes).unwrap();
        prop_assert_eq!(&decoded.tag, &node.tag);
        prop_assert_eq!(wacore_binary::marshal(&decoded).unwrap(), bytes);
    }
}

#[test]
fn an_oversized_preintro_is_refused() {
    let mut d = Deframer::default();
    assert!(d.feed(b"ED\x00\x01\xff\xff\xff").is_err());
}
