//! The envelope file container: prefix, bodies, trailer (SPEC.md §8).

use std::io::{Read, Seek, SeekFrom, Write};

use super::header::EnvelopeHeader;
use super::slot::SlotId;
use super::verify::VerifiedEnvelope;
use crate::error::{DecodeError, DecryptError, VerifyError};
use crate::keys::KeyHolder;
use crate::stream;
use crate::suite::{Suite, SuiteId};
use crate::wire::{limits, Frame, Reader};

/// The file container's frame; the envelope id follows it in the prefix (the container is read
/// from both ends, so it is not a [`crate::wire::Codec`] object).
const FILE_FRAME: Frame = Frame {
    magic: b"SKENV",
    version: FILE_VERSION,
    what: "envelope file",
};
const FOOTER_MAGIC: &[u8; 8] = b"SKEND\x00\x00\x01";
/// Prefix length: magic, version, suite, envelope id.
pub const PREFIX_LEN: u64 = 5 + 1 + 2 + 16;
const FOOTER_LEN: u64 = 16;
/// File container version.
pub const FILE_VERSION: u8 = 1;

/// The envelope file prefix: `"SKENV" ‖ version ‖ suite ‖ envelope id` (SPEC.md §8).
pub fn file_prefix<S: Suite>(envelope_id: &[u8; 16]) -> Vec<u8> {
    let mut w = FILE_FRAME.writer::<S>();
    w.raw(envelope_id);
    w.into_bytes()
}

/// Write `header ‖ footer` (the footer is `u64(header length) ‖ "SKEND\0\0\1"`).
pub fn write_trailer<S: Suite>(
    header: &EnvelopeHeader<S>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    write_encoded_trailer(&header.to_bytes(), out)
}

pub(super) fn write_encoded_trailer(h: &[u8], out: &mut dyn Write) -> std::io::Result<()> {
    out.write_all(h)?;
    out.write_all(&(h.len() as u64).to_be_bytes())?;
    out.write_all(FOOTER_MAGIC)?;
    out.flush()
}

/// The suite of an envelope file, read from its prefix.
pub fn peek_file_suite(prefix: &[u8]) -> Result<SuiteId, DecodeError> {
    FILE_FRAME.peek_suite(prefix)
}

/// An envelope file opened for reading: its header, and where its bodies are.
#[derive(Debug)]
pub struct EnvelopeFile<S: Suite> {
    /// The header (unverified until [`EnvelopeHeader::verify`]).
    pub header: EnvelopeHeader<S>,
    /// Offset of the header in the file (bodies end at or before it).
    pub header_offset: u64,
}

/// Why an envelope file could not be opened or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// A structural problem.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A body does not match the signed digest.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// Reading failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl<S: Suite> EnvelopeFile<S> {
    /// Read the prefix and the trailer (the header) of a seekable envelope file. Reads no body.
    pub fn open<R: Read + Seek>(f: &mut R) -> Result<Self, FileError> {
        let len = f.seek(SeekFrom::End(0))?;
        if len < PREFIX_LEN + FOOTER_LEN {
            return Err(DecodeError::Truncated("envelope file").into());
        }
        f.seek(SeekFrom::Start(0))?;
        let mut prefix = [0u8; PREFIX_LEN as usize];
        f.read_exact(&mut prefix)?;
        let mut r = Reader::new(&prefix);
        FILE_FRAME.read::<S>(&mut r)?;
        let id: [u8; 16] = r.array("envelope id")?;
        f.seek(SeekFrom::Start(len - FOOTER_LEN))?;
        let mut footer = [0u8; FOOTER_LEN as usize];
        f.read_exact(&mut footer)?;
        if &footer[8..] != FOOTER_MAGIC {
            return Err(DecodeError::Truncated(
                "envelope file (missing footer: incomplete or damaged)",
            )
            .into());
        }
        let hlen = u64::from_be_bytes(
            footer[..8]
                .try_into()
                .map_err(|_| DecodeError::Truncated("footer"))?,
        );
        if hlen > limits::MAX_HEADER {
            return Err(DecodeError::LimitExceeded {
                what: limits::HEADER_LENGTH,
                limit: limits::MAX_HEADER,
            }
            .into());
        }
        if hlen > len - PREFIX_LEN - FOOTER_LEN {
            return Err(DecodeError::Truncated("envelope header").into());
        }
        let header_offset = len - FOOTER_LEN - hlen;
        f.seek(SeekFrom::Start(header_offset))?;
        let mut hb = vec![0u8; hlen as usize];
        f.read_exact(&mut hb)?;
        let header = EnvelopeHeader::<S>::from_bytes(&hb)?;
        if header.core.envelope_id != id {
            return Err(
                DecodeError::InvalidValue("envelope id differs between prefix and header").into(),
            );
        }
        if PREFIX_LEN + header.bodies_len() > header_offset {
            return Err(DecodeError::Truncated("envelope bodies").into());
        }
        Ok(Self {
            header,
            header_offset,
        })
    }

    /// Absolute file offset of part `index`'s body.
    pub fn body_start(&self, index: u32) -> Option<u64> {
        self.header.body_offset(index).map(|o| PREFIX_LEN + o)
    }
}

/// Decrypt part `index` from an opened envelope file into `out`, verifying every chunk and the
/// signed body digest. On error the caller must discard what was written (the CLI writes to a
/// temporary file and renames only on success).
pub fn decrypt_part<S: Suite, R: Read + Seek>(
    verified: &VerifiedEnvelope<S>,
    file: &EnvelopeFile<S>,
    src: &mut R,
    index: u32,
    holder: &dyn KeyHolder<S>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<(), DecryptError> {
    // The one u32 that is no part index (it names the metadata slot) opens nothing here.
    let slot = SlotId::part(index)
        .ok_or_else(|| DecryptError::NotRecipient(format!("part {index} (no such part)")))?;
    let keys = verified.open_slot(slot, holder)?;
    let start = file
        .body_start(index)
        .ok_or_else(|| DecryptError::NotRecipient(format!("{slot} (body not in this copy)")))?;
    let desc = &verified.header().core.parts[index as usize];
    src.seek(SeekFrom::Start(start))
        .map_err(|e| DecryptError::Io(e.to_string()))?;
    let body_len = stream::ciphertext_len(desc.plaintext_len, verified.header().core.chunk_size);
    let mut limited =
        std::io::BufReader::with_capacity(body_len.min(1 << 20) as usize, src.take(body_len));
    let digest = stream::decrypt(
        &keys.key,
        verified.header().core.chunk_size,
        desc.plaintext_len,
        &mut limited,
        out,
        progress,
    )
    .map_err(|e| match e {
        stream::StreamError::Io(e) => DecryptError::Io(e.to_string()),
        _ => DecryptError::Failed,
    })?;
    if digest != desc.body_digest {
        return Err(DecryptError::Verify(VerifyError::BodyDigest(index)));
    }
    Ok(())
}

/// Verify a body's ciphertext against the signed digest without any key (for `verify`).
/// A read failure is [`FileError::Io`]; a mismatch is [`FileError::Verify`].
pub fn check_body_digest<S: Suite, R: Read + Seek>(
    file: &EnvelopeFile<S>,
    src: &mut R,
    index: u32,
) -> Result<(), FileError> {
    use sha2::Digest;
    let start = file
        .body_start(index)
        .ok_or(VerifyError::Inconsistent("body not present"))?;
    src.seek(SeekFrom::Start(start))?;
    let mut h = sha2::Sha256::new();
    let want = file.header.body_len(index);
    let mut take = src.take(want);
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    loop {
        let n = take.read(&mut buf)?;
        if n == 0 {
            break;
        }
        got += n as u64;
        h.update(&buf[..n]);
    }
    let d: [u8; 32] = h.finalize().into();
    if got != want || d != file.header.core.parts[index as usize].body_digest {
        return Err(VerifyError::BodyDigest(index).into());
    }
    Ok(())
}

/// Copy a forwarded envelope to `out`: the prefix, the bodies the new header keeps (byte for
/// byte, no cryptography), then the new header and footer.
pub fn write_forwarded<S: Suite, R: Read + Seek>(
    file: &EnvelopeFile<S>,
    src: &mut R,
    new_header: &EnvelopeHeader<S>,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<(), FileError> {
    out.write_all(&file_prefix::<S>(&new_header.core.envelope_id))?;
    let mut done = 0;
    for b in &new_header.bodies {
        let start = file
            .body_start(*b)
            .ok_or(DecodeError::InvalidValue("body not present in the source"))?;
        src.seek(SeekFrom::Start(start))?;
        let n = std::io::copy(&mut src.take(file.header.body_len(*b)), out)?;
        if n != file.header.body_len(*b) {
            return Err(DecodeError::Truncated("envelope body").into());
        }
        done += n;
        progress(done);
    }
    write_trailer(new_header, out)?;
    Ok(())
}
