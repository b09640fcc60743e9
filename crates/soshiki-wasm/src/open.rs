//! Streaming decryption in constant memory: the browser pushes a part's ciphertext in pieces
//! of any size as it downloads, and gets back the plaintext that has been authenticated.
//!
//! The core offers the STREAM body decryption pull-based (`stream::decrypt` over `Read`) and
//! per chunk (`stream::decrypt_chunk`). A browser download is push-based, so this module cuts
//! the pushed bytes into chunks and calls `stream::decrypt_chunk` for each (the AEAD, nonces and
//! last-chunk flag stay in the core), and computes the body digest over the ciphertext exactly
//! as `envelope::decrypt_part` does (SHA-256 of the body, compared with the sender-signed
//! digest). At most one chunk is buffered: the partial chunk being received, and the plaintext
//! of the last chunk, which is released only by `finish` once the digest has been checked.

use sha2::{Digest, Sha256};
use soshiki_core::aead::TAG_LEN;
use soshiki_core::stream;
use zeroize::Zeroizing;

use crate::api::EnvelopeView;
use crate::error::{Error, Result};

/// A part this member can decrypt.
pub struct HeldPart {
    /// Part index.
    pub index: u32,
    /// Plaintext length.
    pub plaintext_len: u64,
    /// The sender-signed SHA-256 of the body ciphertext.
    pub body_digest: [u8; 32],
    /// The part's body key.
    pub key: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for HeldPart {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HeldPart")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

/// A verified envelope header with the keys of the parts this member holds.
#[derive(Debug)]
pub struct Opener {
    info: EnvelopeView,
    chunk_size: u32,
    parts: Vec<HeldPart>,
}

impl Opener {
    pub(crate) fn new(info: EnvelopeView, chunk_size: u32, parts: Vec<HeldPart>) -> Self {
        Self {
            info,
            chunk_size,
            parts,
        }
    }

    /// What the envelope says (verified), with the readable parts' byte ranges.
    pub fn info(&self) -> &EnvelopeView {
        &self.info
    }

    /// A decryptor for part `index` (a part this member holds).
    pub fn part(&self, index: u32) -> Result<PartDecryptor> {
        let p = self
            .parts
            .iter()
            .find(|p| p.index == index)
            .ok_or_else(|| {
                Error::invalid(format!("part {index} is not readable by this member"))
            })?;
        Ok(PartDecryptor {
            key: Zeroizing::new(*p.key),
            chunk_size: self.chunk_size,
            len: p.plaintext_len,
            chunks: stream::chunk_count(p.plaintext_len, self.chunk_size),
            next: 0,
            buf: Zeroizing::new(Vec::new()),
            last: None,
            hasher: Sha256::new(),
            digest: p.body_digest,
            failed: false,
        })
    }
}

/// Decrypts one part's body pushed in pieces.
pub struct PartDecryptor {
    key: Zeroizing<[u8; 32]>,
    chunk_size: u32,
    len: u64,
    chunks: u64,
    /// The next chunk to decrypt.
    next: u64,
    /// The partial chunk received so far (ciphertext).
    buf: Zeroizing<Vec<u8>>,
    /// The last chunk's plaintext, held back until the digest is checked.
    last: Option<Zeroizing<Vec<u8>>>,
    hasher: Sha256,
    digest: [u8; 32],
    failed: bool,
}

impl core::fmt::Debug for PartDecryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PartDecryptor")
            .field("next", &self.next)
            .field("chunks", &self.chunks)
            .finish_non_exhaustive()
    }
}

impl PartDecryptor {
    fn fail(&mut self) -> Error {
        self.failed = true;
        self.buf.clear();
        self.last = None;
        Error::decrypt_failed()
    }

    /// Sealed length of chunk `next` (plaintext + tag).
    fn sealed_len(&self) -> Option<usize> {
        stream::chunk_range(self.len, self.chunk_size, self.next).map(|(_, p)| p + TAG_LEN)
    }

    fn open_chunk(&mut self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        self.hasher.update(sealed);
        let pt = stream::decrypt_chunk(&self.key, self.chunk_size, self.len, self.next, sealed);
        match pt {
            Ok(pt) => {
                self.next += 1;
                Ok(pt)
            }
            Err(_) => Err(self.fail()),
        }
    }

    /// Take any piece of the ciphertext; return the plaintext authenticated so far (possibly
    /// empty). The last chunk's plaintext is returned by [`PartDecryptor::finish`].
    pub fn push(&mut self, mut input: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if self.failed {
            return Err(Error::decrypt_failed());
        }
        let mut out = Zeroizing::new(Vec::with_capacity(input.len()));
        while !input.is_empty() {
            let Some(sealed_len) = self.sealed_len() else {
                // More ciphertext than the signed length.
                return Err(self.fail());
            };
            let pt = if self.buf.is_empty() && input.len() >= sealed_len {
                // A whole chunk in the input: decrypt it in place of copying it.
                let (chunk, rest) = input.split_at(sealed_len);
                input = rest;
                self.open_chunk(chunk)?
            } else {
                let take = (sealed_len - self.buf.len()).min(input.len());
                self.buf.extend_from_slice(&input[..take]);
                input = &input[take..];
                if self.buf.len() < sealed_len {
                    break;
                }
                let sealed = std::mem::take(&mut *self.buf);
                let pt = self.open_chunk(&sealed);
                // Keep the buffer's allocation for the next chunk.
                *self.buf = sealed;
                self.buf.clear();
                pt?
            };
            if self.next == self.chunks {
                self.last = Some(pt);
            } else {
                out.extend_from_slice(&pt);
            }
        }
        Ok(out)
    }

    /// Check that the whole body arrived and matches the sender's signed digest; return the
    /// last chunk's plaintext. Any failure is `decrypt-failed`: discard what was written.
    pub fn finish(&mut self) -> Result<Zeroizing<Vec<u8>>> {
        if self.failed || self.next != self.chunks || !self.buf.is_empty() {
            return Err(self.fail());
        }
        let digest: [u8; 32] = self.hasher.finalize_reset().into();
        if digest != self.digest {
            return Err(self.fail());
        }
        self.failed = true; // finished: no more input
        Ok(self.last.take().unwrap_or_default())
    }
}
