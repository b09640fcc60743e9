//! The routing metadata: labels, part descriptions, its sealed encoding (SPEC.md §7.2).

use super::header::SignedCore;
use crate::aead::Aes256Gcm;
use crate::error::{DecodeError, DecryptError, EncryptError, VerifyError};
use crate::kdf::SlotKeys;
use crate::suite::Suite;
use crate::wire::{limits, Reader, Writer};

const METADATA_VERSION: u8 = 1;

/// A routing label on a part, e.g. `district=Yasaka` or `category=DV`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Key, 1–64 bytes.
    pub key: String,
    /// Value, 0–256 bytes.
    pub value: String,
}

impl Label {
    /// Parse `key=value`.
    pub fn parse(s: &str) -> Option<Label> {
        let (k, v) = s.split_once('=')?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty()
            || k.len() > limits::MAX_LABEL_KEY as usize
            || v.len() > limits::MAX_LABEL_VALUE as usize
        {
            return None;
        }
        Some(Label {
            key: k.into(),
            value: v.into(),
        })
    }
}

/// What the metadata says of one part.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PartInfo {
    /// A name, usually the original file name.
    pub name: String,
    /// Routing labels.
    pub labels: Vec<Label>,
}

/// The routing metadata, readable by every holder in the chain and by no server.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Metadata {
    /// Title (件名).
    pub title: String,
    /// Category, e.g. `care-certification`.
    pub category: String,
    /// One entry per part, in part order.
    pub parts: Vec<PartInfo>,
}

impl Metadata {
    pub(super) fn check(&self) -> Result<(), EncryptError> {
        let too_long = |what, s: &str, lim: u32| {
            if s.len() > lim as usize {
                Err(EncryptError::LimitExceeded {
                    what,
                    limit: lim as u64,
                })
            } else {
                Ok(())
            }
        };
        too_long("title", &self.title, limits::MAX_TEXT)?;
        too_long("category", &self.category, limits::MAX_TEXT)?;
        for p in &self.parts {
            too_long("part name", &p.name, limits::MAX_TEXT)?;
            if p.labels.len() > limits::MAX_LABELS as usize {
                return Err(EncryptError::LimitExceeded {
                    what: "labels per part",
                    limit: limits::MAX_LABELS as u64,
                });
            }
            for l in &p.labels {
                if l.key.is_empty() {
                    return Err(EncryptError::Invalid("a label key is empty"));
                }
                too_long("label key", &l.key, limits::MAX_LABEL_KEY)?;
                too_long("label value", &l.value, limits::MAX_LABEL_VALUE)?;
            }
        }
        Ok(())
    }

    /// Encode (SPEC.md §7.2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(METADATA_VERSION)
            .bytes16(self.title.as_bytes())
            .bytes16(self.category.as_bytes())
            .u32(self.parts.len() as u32);
        for p in &self.parts {
            w.bytes16(p.name.as_bytes()).u32(p.labels.len() as u32);
            for l in &p.labels {
                w.bytes16(l.key.as_bytes()).bytes16(l.value.as_bytes());
            }
        }
        w.into_bytes()
    }

    /// Decode.
    pub fn from_bytes(b: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(b);
        let v = r.u8("metadata version")?;
        if v != METADATA_VERSION {
            return Err(DecodeError::UnsupportedVersion {
                what: "metadata",
                version: v,
            });
        }
        let title = r.text16("title", limits::MAX_TEXT)?;
        let category = r.text16("category", limits::MAX_TEXT)?;
        let n = r.count("metadata part count", limits::MAX_PARTS)?;
        let mut parts = Vec::with_capacity(n.min(1024) as usize);
        for _ in 0..n {
            let name = r.text16("part name", limits::MAX_TEXT)?;
            let nl = r.count("label count", limits::MAX_LABELS)?;
            let mut labels = Vec::with_capacity(nl as usize);
            for _ in 0..nl {
                let key = r.text16("label key", limits::MAX_LABEL_KEY)?;
                if key.is_empty() {
                    return Err(DecodeError::InvalidValue("empty label key"));
                }
                labels.push(Label {
                    key,
                    value: r.text16("label value", limits::MAX_LABEL_VALUE)?,
                });
            }
            parts.push(PartInfo { name, labels });
        }
        r.finish()?;
        Ok(Metadata {
            title,
            category,
            parts,
        })
    }
}

pub(super) fn metadata_aad(envelope_id: &[u8; 16]) -> Vec<u8> {
    let mut a = b"soshiki/v1/metadata".to_vec();
    a.extend_from_slice(envelope_id);
    a
}

pub(super) fn decrypt_metadata<S: Suite>(
    core: &SignedCore<S>,
    keys: &SlotKeys,
) -> Result<Metadata, DecryptError> {
    let pt = Aes256Gcm::new(&keys.key)
        .open(
            &[0u8; 12],
            &metadata_aad(&core.envelope_id),
            &core.sealed_metadata,
        )
        .map_err(|_| DecryptError::Failed)?;
    let m = Metadata::from_bytes(&pt).map_err(|_| DecryptError::Failed)?;
    if m.parts.len() != core.parts.len() {
        return Err(DecryptError::Verify(VerifyError::Inconsistent(
            "the metadata describes another number of parts",
        )));
    }
    Ok(m)
}
