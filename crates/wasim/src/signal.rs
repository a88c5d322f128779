//! A simulated WhatsApp device's Signal state (a phone or a contact's
//! phone): identity, prekeys and sessions, kept in memory, with the
//! encrypt/decrypt steps a real device performs on `<enc>` payloads.

use anyhow::{Result, anyhow};
use async_trait::async_trait;
use std::collections::HashMap;
use wacore_libsignal::protocol::{
    CiphertextMessage, Direction, GenericSignedPreKey, IdentityChange, IdentityKey,
    IdentityKeyPair, KeyPair, PreKeyBundle, PreKeyId, PreKeyRecord, PreKeySignalMessage,
    ProtocolAddress, PublicKey, SessionRecord, SignalMessage, SignalProtocolError, SignedPreKeyId,
    SignedPreKeyRecord, Timestamp, UsePQRatchet,
};
use wacore_libsignal::protocol::{
    IdentityKeyStore, PreKeyStore, SessionStore, SignedPreKeyStore, message_decrypt,
    message_encrypt, process_prekey_bundle,
};
use waproto::whatsapp as wa;

/// A Send-able CSPRNG for use across awaits (the thread-local one is not).
fn rng() -> rand::rngs::StdRng {
    rand::make_rng::<rand::rngs::StdRng>()
}

type SignalResult<T> = std::result::Result<T, SignalProtocolError>;

/// The public half of a device's keys, as the server hands it out in
/// `<key>` answers so others can start a session.
#[derive(Clone, Debug)]
pub struct PublishedKeys {
    pub registration_id: u32,
    pub identity: [u8; 32],
    pub signed_prekey_id: u32,
    pub signed_prekey: [u8; 32],
    pub signed_prekey_signature: Vec<u8>,
    /// One-time prekeys not yet handed out.
    pub one_time: Vec<(u32, [u8; 32])>,
}

pub struct SignalParty {
    identity: IdentityKeyPair,
    registration_id: u32,
    signed_prekey: SignedPreKeyRecord,
    prekeys: HashMap<u32, PreKeyRecord>,
    sessions: HashMap<String, SessionRecord>,
    identities: HashMap<String, IdentityKey>,
}

fn pub32(key: &PublicKey) -> [u8; 32] {
    key.public_key_bytes()
        .try_into()
        .expect("curve25519 public keys are 32 bytes")
}

impl SignalParty {
    /// A fresh device with a signed prekey and `one_time` prekeys.
    pub fn generate(one_time: u32) -> Self {
        let mut rng = rng();
        let identity = IdentityKeyPair::generate(&mut rng);
        let spk = KeyPair::generate(&mut rng);
        let sig = identity
            .private_key()
            .calculate_signature(&spk.public_key.serialize(), &mut rng)
            .expect("signing with a fresh key");
        let signed_prekey =
            SignedPreKeyRecord::new(1.into(), Timestamp::from_epoch_millis(0), &spk, &sig);
        let prekeys = (1..=one_time)
            .map(|id| {
                (
                    id,
                    PreKeyRecord::new(id.into(), &KeyPair::generate(&mut rng)),
                )
            })
            .collect();
        SignalParty {
            identity,
            registration_id: rand::random::<u32>() & 0x3fff,
            signed_prekey,
            prekeys,
            sessions: HashMap::new(),
            identities: HashMap::new(),
        }
    }

    pub fn identity_pub(&self) -> [u8; 32] {
        pub32(self.identity.public_key())
    }

    pub fn identity_pair(&self) -> &IdentityKeyPair {
        &self.identity
    }

    pub fn published(&self) -> PublishedKeys {
        let spk_pub = self.signed_prekey.public_key().expect("own signed prekey");
        let mut one_time: Vec<(u32, [u8; 32])> = self
            .prekeys
            .iter()
            .map(|(id, r)| (*id, pub32(&r.public_key().expect("own prekey"))))
            .collect();
        one_time.sort_by_key(|(id, _)| *id);
        PublishedKeys {
            registration_id: self.registration_id,
            identity: self.identity_pub(),
            signed_prekey_id: u32::from(self.signed_prekey.id().expect("own signed prekey")),
            signed_prekey: pub32(&spk_pub),
            signed_prekey_signature: self
                .signed_prekey
                .signature()
                .expect("own signature")
                .to_vec(),
            one_time,
        }
    }

    pub fn has_session(&self, peer: &ProtocolAddress) -> bool {
        self.sessions.contains_key(&peer.to_string())
    }

    /// Starts a session with a device from its published keys.
    pub async fn start_session(
        &mut self,
        peer: &ProtocolAddress,
        keys: &PublishedKeys,
        one_time: Option<(u32, [u8; 32])>,
    ) -> Result<()> {
        let pk = |b: &[u8; 32]| {
            PublicKey::from_djb_public_key_bytes(b).map_err(|e| anyhow!("bad key: {e}"))
        };
        let bundle = PreKeyBundle::new(
            keys.registration_id,
            peer.device_id(),
            one_time
                .map(|(id, k)| pk(&k).map(|k| (PreKeyId::from(id), k)))
                .transpose()?,
            SignedPreKeyId::from(keys.signed_prekey_id),
            pk(&keys.signed_prekey)?,
            keys.signed_prekey_signature.clone(),
            IdentityKey::new(pk(&keys.identity)?),
        )?;
        let (mut sessions, mut identities, _, _) = self.views();
        process_prekey_bundle(
            peer,
            &mut sessions,
            &mut identities,
            &bundle,
            &mut rng(),
            UsePQRatchet::No,
        )
        .await?;
        Ok(())
    }

    /// Encrypts a message for `peer`: `("pkmsg"|"msg", ciphertext)`.
    pub async fn encrypt(
        &mut self,
        peer: &ProtocolAddress,
        message: &wa::Message,
    ) -> Result<(&'static str, Vec<u8>)> {
        let padded = wacore::messages::MessageUtils::encode_and_pad(message);
        let (mut sessions, mut identities, _, _) = self.views();
        let out = message_encrypt(&padded, peer, &mut sessions, &mut identities).await?;
        Ok(match out {
            CiphertextMessage::PreKeySignalMessage(m) => ("pkmsg", m.serialized().to_vec()),
            CiphertextMessage::SignalMessage(m) => ("msg", m.serialized().to_vec()),
            other => {
                return Err(anyhow!(
                    "unexpected ciphertext kind {:?}",
                    other.message_type()
                ));
            }
        })
    }

    /// Decrypts an `<enc type="pkmsg|msg">` payload from `peer` and decodes
    /// the padded `Message` inside.
    pub async fn decrypt(
        &mut self,
        peer: &ProtocolAddress,
        kind: &str,
        body: &[u8],
    ) -> Result<wa::Message> {
        let ciphertext = match kind {
            "pkmsg" => CiphertextMessage::PreKeySignalMessage(PreKeySignalMessage::try_from(body)?),
            "msg" => CiphertextMessage::SignalMessage(SignalMessage::try_from(body)?),
            other => return Err(anyhow!("unsupported enc type {other}")),
        };
        let (mut sessions, mut identities, mut prekeys, signed) = self.views();
        let result = message_decrypt(
            &ciphertext,
            peer,
            &mut sessions,
            &mut identities,
            &mut prekeys,
            &signed,
            &mut rng(),
            UsePQRatchet::No,
        )
        .await?;
        if let Some(id) = result.consumed_prekey_id {
            self.prekeys.remove(&u32::from(id));
        }
        wacore::messages::decode_plaintext(&result.plaintext, 2)
    }
}

impl SignalParty {
    /// The four store views libsignal wants, each over its own field.
    fn views(
        &mut self,
    ) -> (
        SessionView<'_>,
        IdentityView<'_>,
        PreKeyView<'_>,
        SignedView<'_>,
    ) {
        (
            SessionView(&mut self.sessions),
            IdentityView {
                pair: &self.identity,
                registration_id: self.registration_id,
                known: &mut self.identities,
            },
            PreKeyView(&mut self.prekeys),
            SignedView(&self.signed_prekey),
        )
    }
}

struct SessionView<'a>(&'a mut HashMap<String, SessionRecord>);
struct IdentityView<'a> {
    pair: &'a IdentityKeyPair,
    registration_id: u32,
    known: &'a mut HashMap<String, IdentityKey>,
}
struct PreKeyView<'a>(&'a mut HashMap<u32, PreKeyRecord>);
struct SignedView<'a>(&'a SignedPreKeyRecord);

#[async_trait]
impl SessionStore for SessionView<'_> {
    async fn load_session(&self, address: &ProtocolAddress) -> SignalResult<Option<SessionRecord>> {
        Ok(self.0.get(&address.to_string()).cloned())
    }
    async fn has_session(&self, address: &ProtocolAddress) -> SignalResult<bool> {
        Ok(self.0.contains_key(&address.to_string()))
    }
    async fn store_session(
        &mut self,
        address: &ProtocolAddress,
        record: SessionRecord,
    ) -> SignalResult<()> {
        self.0.insert(address.to_string(), record);
        Ok(())
    }
}

#[async_trait]
impl IdentityKeyStore for IdentityView<'_> {
    async fn get_identity_key_pair(&self) -> SignalResult<IdentityKeyPair> {
        Ok(self.pair.clone())
    }
    async fn get_local_registration_id(&self) -> SignalResult<u32> {
        Ok(self.registration_id)
    }
    async fn save_identity(
        &mut self,
        address: &ProtocolAddress,
        identity: &IdentityKey,
    ) -> SignalResult<IdentityChange> {
        let previous = self.known.insert(address.to_string(), *identity);
        Ok(match previous {
            Some(old) if old != *identity => IdentityChange::ReplacedExisting,
            _ => IdentityChange::NewOrUnchanged,
        })
    }
    // Simulated devices trust on first use and accept key changes, as a
    // phone does after showing "security code changed".
    async fn is_trusted_identity(
        &self,
        _: &ProtocolAddress,
        _: &IdentityKey,
        _: Direction,
    ) -> SignalResult<bool> {
        Ok(true)
    }
    async fn get_identity(&self, address: &ProtocolAddress) -> SignalResult<Option<IdentityKey>> {
        Ok(self.known.get(&address.to_string()).copied())
    }
}

#[async_trait]
impl PreKeyStore for PreKeyView<'_> {
    async fn get_pre_key(&self, id: PreKeyId) -> SignalResult<PreKeyRecord> {
        self.0
            .get(&u32::from(id))
            .cloned()
            .ok_or(SignalProtocolError::InvalidPreKeyId)
    }
    async fn save_pre_key(&mut self, id: PreKeyId, record: &PreKeyRecord) -> SignalResult<()> {
        self.0.insert(u32::from(id), record.clone());
        Ok(())
    }
    async fn remove_pre_key(&mut self, id: PreKeyId) -> SignalResult<()> {
        self.0.remove(&u32::from(id));
        Ok(())
    }
}

#[async_trait]
impl SignedPreKeyStore for SignedView<'_> {
    async fn get_signed_pre_key(&self, id: SignedPreKeyId) -> SignalResult<SignedPreKeyRecord> {
        if self.0.id()? == id {
            Ok(self.0.clone())
        } else {
            Err(SignalProtocolError::InvalidSignedPreKeyId)
        }
    }
    async fn save_signed_pre_key(
        &mut self,
        _: SignedPreKeyId,
        _: &SignedPreKeyRecord,
    ) -> SignalResult<()> {
        Ok(())
    }
}
