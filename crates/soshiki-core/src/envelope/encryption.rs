//! Encrypting an envelope: slots, capsules, the signed core and the bodies (SPEC.md §7.1).

use std::io::{Read, Write};

use rand_core::CryptoRngCore;

use super::file::{file_prefix, write_encoded_trailer};
use super::header::{c1_digest, EnvelopeHeader, OriginCapsule, PartDescriptor, SignedCore, Slot};
use super::metadata::{metadata_aad, Metadata, PartInfo};
use super::slot::SlotId;
use crate::aead::Aes256Gcm;
use crate::cert::{Certificate, Organization, VerifiedCertificate};
use crate::error::EncryptError;
use crate::kdf::{derive_slot_keys, SlotKeys};
use crate::keys::SigningKey;
use crate::scheme::{hazmat, Capsule};
use crate::stream;
use crate::suite::Suite;
use crate::wire::limits;

/// The sender's credentials.
pub struct Sender<'a, S: Suite> {
    /// Sending organization.
    pub org: &'a Organization<S>,
    /// Sender's certificate.
    pub cert: &'a Certificate<S>,
    /// Sender's signing key.
    pub signing_key: &'a SigningKey<S>,
}

impl<S: Suite> core::fmt::Debug for Sender<'_, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("cert", &self.cert.member_name)
            .finish_non_exhaustive()
    }
}

/// A part to encrypt: its metadata and a source of exactly `len` bytes.
pub struct PartSource<'a> {
    /// Name and labels.
    pub info: PartInfo,
    /// Plaintext length.
    pub len: u64,
    /// Plaintext.
    pub reader: Box<dyn Read + 'a>,
}

impl core::fmt::Debug for PartSource<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PartSource")
            .field("info", &self.info)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Options for [`encrypt`].
#[derive(Clone, Debug)]
pub struct EncryptOptions {
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Chunk size (power of two, 1 KiB – 16 MiB).
    pub chunk_size: u32,
    /// Creation time, Unix seconds.
    pub created: u64,
}

fn fresh_slot<S: Suite>(
    to: &VerifiedCertificate<S>,
    envelope_id: &[u8; 16],
    slot: SlotId,
    rng: &mut impl CryptoRngCore,
) -> (Capsule<S>, OriginCapsule<S>, SlotKeys) {
    // M is a uniformly random group element; the body key is derived from it.
    let m = S::mul_base(&S::random_scalar(rng));
    let capsule = hazmat::encrypt_point_with_r(&m, to.encryption_key(), &S::random_scalar(rng));
    let keys = derive_slot_keys::<S>(&m, envelope_id, slot);
    let origin = OriginCapsule {
        c1_digest: c1_digest::<S>(envelope_id, slot, &capsule.c1),
        c2: capsule.c2.clone(),
        commitment: keys.commitment,
    };
    (capsule, origin, keys)
}

/// Encrypt parts to a recipient, writing a complete envelope file to `out`
/// (prefix, bodies, header, footer; see [`EnvelopeFile`](super::EnvelopeFile)). Constant memory for any size.
/// `progress` receives the total plaintext bytes done.
///
/// The recipient must be a verified certificate whose signed roles include the representative
/// role ([`VerifiedCertificate::is_representative`]); any other is refused before anything is
/// written, whatever a directory says about it.
pub fn encrypt<S: Suite>(
    sender: &Sender<'_, S>,
    recipient: &VerifiedCertificate<S>,
    options: &EncryptOptions,
    parts: Vec<PartSource<'_>>,
    out: &mut dyn Write,
    rng: &mut impl CryptoRngCore,
    progress: &mut dyn FnMut(u64),
) -> Result<EnvelopeHeader<S>, EncryptError> {
    if parts.is_empty() {
        return Err(EncryptError::Invalid("an envelope needs at least one part"));
    }
    if parts.len() > limits::MAX_PARTS as usize {
        return Err(EncryptError::LimitExceeded {
            what: "parts",
            limit: limits::MAX_PARTS as u64,
        });
    }
    let cs = options.chunk_size;
    if !(limits::MIN_CHUNK..=limits::MAX_CHUNK).contains(&cs) || !cs.is_power_of_two() {
        return Err(EncryptError::Invalid(
            "chunk size must be a power of two from 1 KiB to 16 MiB",
        ));
    }
    if sender.cert.issuer != sender.org.fingerprint() {
        return Err(EncryptError::Invalid(
            "the sender's certificate is not issued by the sender's organization",
        ));
    }
    if !recipient.is_representative() {
        return Err(EncryptError::Invalid(
            "the recipient's certificate does not carry the representative role: an envelope \
             is addressed only to an organization's representative",
        ));
    }
    let metadata = Metadata {
        title: options.title.clone(),
        category: options.category.clone(),
        parts: parts.iter().map(|p| p.info.clone()).collect(),
    };
    metadata.check()?;
    // Every reader verifies the sender's certificate at `created` (SPEC.md §7.4 step 1):
    // refuse to write what no reader would accept.
    if sender.cert.verify(sender.org, options.created).is_err() {
        return Err(EncryptError::Invalid(
            "the sender's certificate is not valid at the creation time",
        ));
    }
    let to = recipient.certificate();
    if !(to.not_before <= options.created && options.created <= to.not_after) {
        return Err(EncryptError::Invalid(
            "the recipient's certificate is not valid at the creation time",
        ));
    }
    let mut envelope_id = [0u8; 16];
    rng.fill_bytes(&mut envelope_id);
    out.write_all(&file_prefix::<S>(&envelope_id))?;

    let (meta_capsule, metadata_origin, meta_keys) =
        fresh_slot(recipient, &envelope_id, SlotId::METADATA, rng);
    let sealed_metadata = Aes256Gcm::new(&meta_keys.key).seal(
        &[0u8; 12],
        &metadata_aad(&envelope_id),
        &metadata.to_bytes(),
    );
    if sealed_metadata.len() > limits::MAX_METADATA as usize {
        return Err(EncryptError::LimitExceeded {
            what: "metadata",
            limit: limits::MAX_METADATA as u64,
        });
    }
    let mut slots = vec![Slot {
        slot: SlotId::METADATA,
        capsule: meta_capsule,
        hops: vec![],
    }];
    let mut descriptors = Vec::with_capacity(parts.len());
    let mut done_before = 0u64;
    // At most MAX_PARTS parts (checked above): each index fits a part slot.
    for (slot, mut part) in SlotId::parts(parts.len() as u32).zip(parts) {
        if !limits::part_len_ok(part.len, cs) {
            return Err(EncryptError::LimitExceeded {
                what: "part length",
                limit: limits::MAX_PART_LEN,
            });
        }
        let (capsule, origin, keys) = fresh_slot(recipient, &envelope_id, slot, rng);
        let base = done_before;
        let body_digest =
            stream::encrypt(&keys.key, cs, part.len, &mut part.reader, out, &mut |d| {
                progress(base + d)
            })
            .map_err(|e| match e {
                stream::StreamError::Io(e) => EncryptError::Io(e),
                _ => EncryptError::Invalid(
                    "a part's source ended early or ran past its announced length",
                ),
            })?;
        done_before += part.len;
        descriptors.push(PartDescriptor {
            plaintext_len: part.len,
            body_digest,
            origin,
        });
        slots.push(Slot {
            slot,
            capsule,
            hops: vec![],
        });
    }
    let core = SignedCore {
        envelope_id,
        created: options.created,
        chunk_size: cs,
        sender_org: sender.org.clone(),
        sender_cert: sender.cert.clone(),
        recipient_org: recipient.organization().clone(),
        recipient_cert: recipient.certificate().clone(),
        metadata_origin,
        sealed_metadata,
        parts: descriptors,
    };
    let sender_signature = sender.signing_key.sign(&core.signed_message(), rng);
    let bodies = (0..core.parts.len() as u32).collect();
    let header = EnvelopeHeader {
        core,
        sender_signature,
        certificates: vec![],
        slots,
        bodies,
    };
    let encoded = header.to_bytes();
    if encoded.len() as u64 > limits::MAX_HEADER {
        return Err(EncryptError::LimitExceeded {
            what: limits::HEADER_LENGTH,
            limit: limits::MAX_HEADER,
        });
    }
    write_encoded_trailer(&encoded, out)?;
    Ok(header)
}
