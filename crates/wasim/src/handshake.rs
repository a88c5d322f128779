//! Server side of WhatsApp's Noise handshakes: XX for new devices, IK for
//! reconnects with a cached server key, and XX-fallback when IK is refused.

use anyhow::{Context, Result, anyhow, bail};
use buffa::Message as _;
use wacore_binary::consts::{NOISE_PATTERN_IK, NOISE_PATTERN_XX, NOISE_PATTERN_XXFALLBACK};
use wacore_libsignal::protocol::KeyPair;
use wacore_noise::{NoiseCipher, NoiseHandshake};
use waproto::whatsapp::{self as wa, HandshakeMessage, cert_chain::noise_certificate};

/// The simulator's long-lived Noise identity and the certificate chain that
/// vouches for it. The chain is unsigned: only clients built with
/// `danger-skip-cert-chain-verify` accept it, which is the point.
pub struct ServerIdentity {
    pub static_kp: KeyPair,
    cert_chain: Vec<u8>,
}

impl ServerIdentity {
    pub fn generate() -> Self {
        let static_kp = KeyPair::generate(&mut rand::rng());
        let cert_chain = unsigned_cert_chain(static_kp.public_key.public_key_bytes());
        ServerIdentity {
            static_kp,
            cert_chain,
        }
    }

    pub fn static_pub(&self) -> [u8; 32] {
        self.static_kp
            .public_key
            .public_key_bytes()
            .try_into()
            .expect("curve25519 public keys are 32 bytes")
    }
}

fn unsigned_cert_chain(leaf_key: &[u8]) -> Vec<u8> {
    // WhatsApp's root signs the intermediate, which signs the leaf. The
    // client checks serials, the leaf key and validity windows even when it
    // skips signatures, so those must be right; issuer serial 0 is the root.
    let intermediate = noise_certificate::Details {
        serial: Some(1),
        issuer_serial: Some(0),
        key: Some(
            KeyPair::generate(&mut rand::rng())
                .public_key
                .public_key_bytes()
                .to_vec(),
        ),
        not_before: Some(1_600_000_000),
        not_after: Some(4_000_000_000),
    };
    let leaf = noise_certificate::Details {
        serial: Some(2),
        issuer_serial: Some(1),
        key: Some(leaf_key.to_vec()),
        not_before: Some(1_600_000_000),
        not_after: Some(4_000_000_000),
    };
    let cert = |details: &noise_certificate::Details| wa::cert_chain::NoiseCertificate {
        details: Some(details.encode_to_vec()),
        signature: Some(vec![0u8; 64]),
    };
    wa::CertChain {
        leaf: buffa::MessageField::some(cert(&leaf)),
        intermediate: buffa::MessageField::some(cert(&intermediate)),
    }
    .encode_to_vec()
}

/// What a finished handshake yields: transport ciphers, the client's static
/// key (its device identity on the wire) and its ClientPayload.
pub struct Established {
    pub write: NoiseCipher,
    pub read: NoiseCipher,
    pub client_static: [u8; 32],
    pub payload: wa::ClientPayload,
}

/// A handshake waiting for the client's next message.
pub enum Progress {
    /// XX or XX-fallback: the server hello was produced; the client finish
    /// will complete it.
    AwaitFinish {
        reply: Vec<u8>,
        pending: PendingXx,
        fallback: bool,
    },
    /// IK accepted in one round trip.
    Done {
        reply: Vec<u8>,
        established: Established,
    },
}

pub struct PendingXx {
    noise: NoiseHandshake,
    ephemeral: KeyPair,
}

fn key32(bytes: &[u8], what: &str) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| anyhow!("{what}: expected 32 bytes, got {}", bytes.len()))
}

/// Answers a ClientHello. `knows_static` says whether a client presenting
/// this static key may resume with IK; when it returns false the server
/// forces XX-fallback, as WhatsApp does after rotating its key.
pub fn respond_to_hello(
    server: &ServerIdentity,
    prologue: &[u8],
    hello_bytes: &[u8],
    knows_static: impl Fn(&[u8; 32]) -> bool,
) -> Result<Progress> {
    let msg = HandshakeMessage::decode_from_slice(hello_bytes).context("client hello")?;
    let hello = msg
        .client_hello
        .into_option()
        .ok_or_else(|| anyhow!("no client hello"))?;
    let client_eph = key32(
        hello.ephemeral.as_deref().unwrap_or(&[]),
        "client ephemeral",
    )?;

    if let (Some(enc_static), Some(enc_payload)) = (&hello.r#static, &hello.payload) {
        if let Some(done) = try_ik(
            server,
            prologue,
            &client_eph,
            enc_static,
            enc_payload,
            &knows_static,
        )? {
            return Ok(done);
        }
        return xx_server_hello(server, prologue, client_eph, NOISE_PATTERN_XXFALLBACK, true);
    }
    xx_server_hello(server, prologue, client_eph, NOISE_PATTERN_XX, false)
}

fn try_ik(
    server: &ServerIdentity,
    prologue: &[u8],
    client_eph: &[u8; 32],
    enc_static: &[u8],
    enc_payload: &[u8],
    knows_static: &impl Fn(&[u8; 32]) -> bool,
) -> Result<Option<Progress>> {
    let mut noise = NoiseHandshake::new(NOISE_PATTERN_IK, prologue)?;
    noise.authenticate(&server.static_pub());
    noise.authenticate(client_eph);
    noise.mix_shared_secret(server.static_kp.private_key.serialize(), client_eph)?;
    // A client whose cached server key is stale fails here: fall back.
    let Ok(client_static) = noise.decrypt(enc_static) else {
        return Ok(None);
    };
    let client_static = key32(&client_static, "client static")?;
    noise.mix_shared_secret(server.static_kp.private_key.serialize(), &client_static)?;
    let Ok(payload_bytes) = noise.decrypt(enc_payload) else {
        return Ok(None);
    };
    if !knows_static(&client_static) {
        return Ok(None);
    }
    let payload = wa::ClientPayload::decode_from_slice(&payload_bytes).context("IK payload")?;

    let ephemeral = KeyPair::generate(&mut rand::rng());
    let eph_pub = ephemeral.public_key.public_key_bytes().to_vec();
    noise.authenticate(&eph_pub);
    noise.mix_shared_secret(ephemeral.private_key.serialize(), client_eph)?;
    noise.mix_shared_secret(ephemeral.private_key.serialize(), &client_static)?;
    let enc_cert = noise.encrypt(&server.cert_chain)?;
    let reply = server_hello(eph_pub, None, enc_cert);
    let (client_write, client_read) = noise.finish()?;
    Ok(Some(Progress::Done {
        reply,
        established: Established {
            write: client_read,
            read: client_write,
            client_static,
            payload,
        },
    }))
}

fn xx_server_hello(
    server: &ServerIdentity,
    prologue: &[u8],
    client_eph: [u8; 32],
    pattern: &str,
    fallback: bool,
) -> Result<Progress> {
    let mut noise = NoiseHandshake::new(pattern, prologue)?;
    noise.authenticate(&client_eph);
    let ephemeral = KeyPair::generate(&mut rand::rng());
    let eph_pub = ephemeral.public_key.public_key_bytes().to_vec();
    noise.authenticate(&eph_pub);
    noise.mix_shared_secret(ephemeral.private_key.serialize(), &client_eph)?;
    let enc_static = noise.encrypt(&server.static_pub())?;
    noise.mix_shared_secret(server.static_kp.private_key.serialize(), &client_eph)?;
    let enc_cert = noise.encrypt(&server.cert_chain)?;
    let reply = server_hello(eph_pub, Some(enc_static), enc_cert);
    Ok(Progress::AwaitFinish {
        reply,
        pending: PendingXx { noise, ephemeral },
        fallback,
    })
}

fn server_hello(ephemeral: Vec<u8>, enc_static: Option<Vec<u8>>, enc_cert: Vec<u8>) -> Vec<u8> {
    HandshakeMessage {
        server_hello: buffa::MessageField::some(wa::handshake_message::ServerHello {
            ephemeral: Some(ephemeral),
            r#static: enc_static,
            payload: Some(enc_cert),
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

impl PendingXx {
    /// Completes XX (or XX-fallback) with the client's finish message.
    pub fn finish(mut self, finish_bytes: &[u8]) -> Result<Established> {
        let msg = HandshakeMessage::decode_from_slice(finish_bytes).context("client finish")?;
        let finish = msg
            .client_finish
            .into_option()
            .ok_or_else(|| anyhow!("no client finish"))?;
        let (Some(enc_static), Some(enc_payload)) = (finish.r#static, finish.payload) else {
            bail!("client finish lacks static or payload");
        };
        let client_static = key32(&self.noise.decrypt(&enc_static)?, "client static")?;
        self.noise
            .mix_shared_secret(self.ephemeral.private_key.serialize(), &client_static)?;
        let payload_bytes = self.noise.decrypt(&enc_payload)?;
        let payload = wa::ClientPayload::decode_from_slice(&payload_bytes).context("payload")?;
        let (client_write, client_read) = self.noise.finish()?;
        Ok(Established {
            write: client_read,
            read: client_write,
            client_static,
            payload,
        })
    }
}
