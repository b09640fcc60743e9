//! The wire layer: every object encodes itself with a [`Writer`] and reads itself with a
//! [`Reader`]. Integers are big-endian. Variable-length fields carry a length prefix and every
//! length and count is checked against a bound before anything is allocated (SPEC.md §2).
//! Parsing never needs a secret.

use crate::error::DecodeError;
use crate::suite::{Suite, SuiteId};

/// Limits on lengths and counts, shared by encoder and decoder (SPEC.md §2.3).
pub mod limits {
    /// Maximum parts in one envelope.
    pub const MAX_PARTS: u32 = 100_000;
    /// Maximum hops per slot.
    pub const MAX_HOPS: u32 = 64;
    /// Maximum certificates carried in one envelope header.
    pub const MAX_CERTIFICATES: u32 = 4096;
    /// Maximum labels per part.
    pub const MAX_LABELS: u32 = 16;
    /// Maximum label key length in bytes.
    pub const MAX_LABEL_KEY: u32 = 64;
    /// Maximum label value length in bytes.
    pub const MAX_LABEL_VALUE: u32 = 256;
    /// Maximum title / category / name length in bytes.
    pub const MAX_TEXT: u32 = 1024;
    /// Maximum encoded header length in bytes.
    pub const MAX_HEADER: u64 = 64 * 1024 * 1024;
    /// Maximum sealed-metadata length in bytes.
    pub const MAX_METADATA: u32 = 16 * 1024 * 1024;
    /// Smallest allowed chunk size.
    pub const MIN_CHUNK: u32 = 1024;
    /// Largest allowed chunk size.
    pub const MAX_CHUNK: u32 = 16 * 1024 * 1024;
    /// Default chunk size.
    pub const DEFAULT_CHUNK: u32 = 64 * 1024;
    /// Maximum plaintext length of one part in bytes (64 TiB). A part must also fit in
    /// [`MAX_CHUNKS`] chunks of the envelope's chunk size, so that the 32-bit chunk counter in
    /// the STREAM nonce never repeats.
    pub const MAX_PART_LEN: u64 = 1 << 46;
    /// Maximum number of chunks in one part (the STREAM counter is 32 bits).
    pub const MAX_CHUNKS: u64 = 1 << 32;
    /// Maximum certificates in one revocation list.
    pub const MAX_REVOKED: u32 = 100_000;
    /// Maximum partner organizations in one partner list.
    pub const MAX_PARTNERS: u32 = 10_000;
    /// Name of the header-length limit in [`crate::error::DecodeError::LimitExceeded`].
    pub const HEADER_LENGTH: &str = "header length";

    /// Whether a part of `len` bytes is allowed with chunks of `chunk_size` bytes.
    pub fn part_len_ok(len: u64, chunk_size: u32) -> bool {
        len <= MAX_PART_LEN && crate::stream::chunk_count(len, chunk_size) <= MAX_CHUNKS
    }
}

/// Appends encoded fields to a buffer.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// The bytes written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Raw bytes, no prefix.
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// One byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.buf.push(v);
        self
    }

    /// Big-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    /// Big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    /// Big-endian u64.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.raw(&v.to_be_bytes())
    }

    /// `u16` length then bytes. Callers keep lengths within their bounds.
    pub fn bytes16(&mut self, b: &[u8]) -> &mut Self {
        debug_assert!(b.len() <= u16::MAX as usize);
        self.u16(b.len() as u16).raw(b)
    }

    /// `u32` length then bytes.
    pub fn bytes32(&mut self, b: &[u8]) -> &mut Self {
        debug_assert!(b.len() <= u32::MAX as usize);
        self.u32(b.len() as u32).raw(b)
    }

    /// A suite identifier.
    pub fn suite(&mut self, id: SuiteId) -> &mut Self {
        self.u16(id.to_u16())
    }

    /// A point in the suite's fixed-length encoding.
    pub fn point<S: Suite>(&mut self, p: &S::Point) -> &mut Self {
        self.raw(&S::point_to_bytes(p))
    }

    /// A scalar, 32 bytes.
    pub fn scalar<S: Suite>(&mut self, s: &S::Scalar) -> &mut Self {
        let b = zeroize::Zeroizing::new(S::scalar_to_bytes(s));
        self.raw(&b[..])
    }
}

/// Reads fields from a byte slice, checking every bound.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Start reading `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fail unless everything was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    /// `n` raw bytes.
    pub fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::Truncated(what));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A fixed-size array.
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// One byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    /// Big-endian u16.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Big-endian u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Big-endian u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A count, checked against `limit` before use.
    pub fn count(&mut self, what: &'static str, limit: u32) -> Result<u32, DecodeError> {
        let n = self.u32(what)?;
        if n > limit {
            return Err(DecodeError::LimitExceeded {
                what,
                limit: limit as u64,
            });
        }
        Ok(n)
    }

    /// `u16`-prefixed bytes of at most `limit`.
    pub fn bytes16(&mut self, what: &'static str, limit: u32) -> Result<&'a [u8], DecodeError> {
        let n = self.u16(what)? as u32;
        if n > limit {
            return Err(DecodeError::LimitExceeded {
                what,
                limit: limit as u64,
            });
        }
        self.take(n as usize, what)
    }

    /// `u32`-prefixed bytes of at most `limit`.
    pub fn bytes32(&mut self, what: &'static str, limit: u32) -> Result<&'a [u8], DecodeError> {
        let n = self.u32(what)?;
        if n > limit {
            return Err(DecodeError::LimitExceeded {
                what,
                limit: limit as u64,
            });
        }
        self.take(n as usize, what)
    }

    /// `u16`-prefixed UTF-8 text of at most `limit` bytes.
    pub fn text16(&mut self, what: &'static str, limit: u32) -> Result<String, DecodeError> {
        let b = self.bytes16(what, limit)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::InvalidUtf8(what))
    }
    /// A validated point.
    pub fn point<S: Suite>(&mut self, what: &'static str) -> Result<S::Point, DecodeError> {
        S::point_from_bytes(self.take(S::POINT_LEN, what)?)
    }

    /// A canonical non-zero scalar.
    pub fn scalar<S: Suite>(&mut self, what: &'static str) -> Result<S::Scalar, DecodeError> {
        S::scalar_from_bytes(self.take(32, what)?)
    }
}

/// The frame every top-level wire object starts with (SPEC.md §2): its magic bytes, one version
/// byte and the `u16` cipher suite; the object's fields follow, and nothing after them. The
/// frame is checked in one place ([`Frame::read`], [`Frame::decode`]), so no object writes the
/// magic, version, suite and trailing-byte checks out again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The object's magic bytes.
    pub magic: &'static [u8],
    /// The one version this implementation writes and reads.
    pub version: u8,
    /// The object's name in errors ("certificate", "audit checkpoint").
    pub what: &'static str,
}

impl Frame {
    /// A writer holding this frame for suite `S`; the object's fields are written after it.
    pub fn writer<S: Suite>(&self) -> Writer {
        self.writer_for(S::ID)
    }

    /// [`Frame::writer`] for a suite known only at run time.
    pub fn writer_for(&self, suite: SuiteId) -> Writer {
        let mut w = Writer::new();
        self.write_for(&mut w, suite);
        w
    }

    /// This frame for suite `S`, then what `fields` writes: a whole encoding, or the signed
    /// body of an object whose signature follows.
    pub fn encode<S: Suite>(&self, fields: impl FnOnce(&mut Writer)) -> Vec<u8> {
        let mut w = self.writer::<S>();
        fields(&mut w);
        w.into_bytes()
    }

    /// Append this frame to `w` (where a signed message puts a label before the object).
    pub fn write_for(&self, w: &mut Writer, suite: SuiteId) {
        w.raw(self.magic).u8(self.version).suite(suite);
    }

    /// Read and check the frame: the magic, the version, then the suite, which must be `S`.
    pub fn read<S: Suite>(&self, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        self.read_for(r, S::ID)
    }

    /// [`Frame::read`] for a suite known only at run time (one copy of the code for every
    /// suite, where the browser module's size matters).
    pub fn read_for(&self, r: &mut Reader<'_>, suite: SuiteId) -> Result<(), DecodeError> {
        let found = self.read_any(r)?;
        if found != suite {
            return Err(DecodeError::SuiteMismatch {
                expected: suite,
                found,
            });
        }
        Ok(())
    }

    /// Read and check the magic and the version, and return the suite the object names (for
    /// objects that may be of any suite, such as action statements).
    pub fn read_any(&self, r: &mut Reader<'_>) -> Result<SuiteId, DecodeError> {
        if r.take(self.magic.len(), self.what)? != self.magic {
            return Err(DecodeError::BadMagic(self.what));
        }
        let version = r.u8(self.what)?;
        if version != self.version {
            return Err(DecodeError::UnsupportedVersion {
                what: self.what,
                version,
            });
        }
        SuiteId::from_u16(r.u16("suite")?)
    }

    /// Decode a whole buffer: the frame ([`Frame::read`]), the object's `fields`, and no byte
    /// after them.
    pub fn decode<'a, S: Suite, T>(
        &self,
        bytes: &'a [u8],
        fields: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<T, DecodeError> {
        let mut r = Reader::new(bytes);
        self.read_for(&mut r, S::ID)?;
        let object = fields(&mut r)?;
        r.finish()?;
        Ok(object)
    }

    /// The suite an encoded object names, read before decoding it (to dispatch with
    /// [`crate::with_suite!`]). Checks the magic only.
    pub fn peek_suite(&self, bytes: &[u8]) -> Result<SuiteId, DecodeError> {
        peek_suite(bytes, self.magic, self.what)
    }
}

/// A top-level wire object: a [`Frame`], then fields. `decode` checks the frame, reads the
/// fields and refuses trailing bytes, the same way for every object; each object supplies only
/// its fields. (The objects keep their inherent `to_bytes`/`from_bytes`, which call these.)
pub trait Codec: Sized {
    /// The object's frame.
    const FRAME: Frame;
    /// The suite the object belongs to.
    type Suite: Suite;

    /// Read the fields that follow the frame.
    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Write the fields that follow the frame.
    fn write_fields(&self, w: &mut Writer);

    /// The whole encoding: frame, then fields.
    fn encode(&self) -> Vec<u8> {
        Self::FRAME.encode::<Self::Suite>(|w| self.write_fields(w))
    }

    /// Decode a whole buffer (strict: frame, fields, nothing after them).
    fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::FRAME.decode::<Self::Suite, _>(bytes, |r| Self::read_fields(r))
    }

    /// Read one object, frame included, from inside a larger one.
    fn read(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::FRAME.read::<Self::Suite>(r)?;
        Self::read_fields(r)
    }
}

/// Read the suite of an object from its first bytes (`magic || version || suite`), so callers
/// can dispatch with [`crate::with_suite!`] before decoding it.
pub fn peek_suite(
    bytes: &[u8],
    magic: &'static [u8],
    what: &'static str,
) -> Result<SuiteId, DecodeError> {
    let mut r = Reader::new(bytes);
    if r.take(magic.len(), what)? != magic {
        return Err(DecodeError::BadMagic(what));
    }
    let _version = r.u8(what)?;
    SuiteId::from_u16(r.u16("suite")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bounded_before_allocation() {
        let mut w = Writer::new();
        w.u32(limits::MAX_PARTS + 1);
        let bytes = w.into_bytes();
        let err = Reader::new(&bytes)
            .count("parts", limits::MAX_PARTS)
            .unwrap_err();
        assert_eq!(
            err,
            DecodeError::LimitExceeded {
                what: "parts",
                limit: limits::MAX_PARTS as u64
            }
        );
    }

    #[test]
    fn truncation_names_the_field() {
        let err = Reader::new(&[0, 1]).u32("chunk size").unwrap_err();
        assert_eq!(err, DecodeError::Truncated("chunk size"));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        let r = Reader::new(&[1]);
        assert_eq!(r.finish(), Err(DecodeError::TrailingBytes(1)));
    }
}
