//! A part's body: AES-256-GCM in the STREAM construction (SPEC.md §6.2).
//!
//! The plaintext of length `L` is cut into `n = max(1, ⌈L / C⌉)` chunks of `C` bytes (the
//! last one shorter, or empty when `L = 0`). Chunk `i` is sealed with
//! `nonce = 0⁷ ‖ u32(i) ‖ last`, where `last` is `0x01` for the final chunk and `0x00`
//! otherwise, and empty associated data; it is written as `ciphertext ‖ tag`. The key is unique
//! to (envelope, part) (see [`crate::kdf`]), so no nonce repeats under a key; the counter stops
//! reordering, the last flag stops truncation and extension.
//!
//! Memory is constant (one chunk) for any body size, and chunk `i` can be read and decrypted
//! alone ([`decrypt_chunk`]).

use std::io::{Read, Write};

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::aead::{Aes256Gcm, NONCE_LEN, TAG_LEN};

/// Number of chunks for a plaintext of `len` bytes.
pub fn chunk_count(len: u64, chunk_size: u32) -> u64 {
    len.div_ceil(chunk_size as u64).max(1)
}

/// Ciphertext length of a plaintext of `len` bytes.
pub fn ciphertext_len(len: u64, chunk_size: u32) -> u64 {
    len + chunk_count(len, chunk_size) * TAG_LEN as u64
}

fn nonce(index: u64, last: bool) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    n[7..11].copy_from_slice(&(index as u32).to_be_bytes());
    n[11] = last as u8;
    n
}

/// Why a streaming operation stopped.
#[derive(Debug)]
pub enum StreamError {
    /// A chunk failed authentication, or the ciphertext has the wrong length (opaque).
    Authentication,
    /// The plaintext source gave a different length than announced.
    LengthMismatch,
    /// Reading or writing failed.
    Io(std::io::Error),
}

impl From<std::io::Error> for StreamError {
    fn from(e: std::io::Error) -> Self {
        StreamError::Io(e)
    }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Encrypt exactly `len` bytes from `src` to `dst`. Returns SHA-256 of the ciphertext written.
/// `progress` is called with the number of plaintext bytes done after each chunk.
pub fn encrypt(
    key: &Zeroizing<[u8; 32]>,
    chunk_size: u32,
    len: u64,
    src: &mut dyn Read,
    dst: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<[u8; 32], StreamError> {
    let aead = Aes256Gcm::new(key);
    let n = chunk_count(len, chunk_size);
    let cs = chunk_size as usize;
    // One chunk of buffer, no more than the body needs (small records stay cheap).
    let mut buf = Zeroizing::new(vec![0u8; (cs as u64).min(len) as usize + TAG_LEN]);
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    for i in 0..n {
        let last = i + 1 == n;
        let want = if last { (len - done) as usize } else { cs };
        let got = read_full(src, &mut buf[..want])?;
        if got != want {
            return Err(StreamError::LengthMismatch);
        }
        let tag = aead.seal_in_place(&nonce(i, last), &[], &mut buf[..want]);
        buf[want..want + TAG_LEN].copy_from_slice(&tag);
        hasher.update(&buf[..want + TAG_LEN]);
        dst.write_all(&buf[..want + TAG_LEN])?;
        done += want as u64;
        progress(done);
    }
    // The source must be exhausted: a longer source than announced is an error, not a silent cut.
    let mut probe = [0u8; 1];
    if read_full(src, &mut probe)? != 0 {
        return Err(StreamError::LengthMismatch);
    }
    Ok(hasher.finalize().into())
}

/// Decrypt a body of plaintext length `len` from `src` into `dst`, verifying every chunk.
/// Returns SHA-256 of the ciphertext read, which the caller compares with the signed digest
/// before it releases the plaintext (the CLI writes to a temporary file and renames on success).
pub fn decrypt(
    key: &Zeroizing<[u8; 32]>,
    chunk_size: u32,
    len: u64,
    src: &mut dyn Read,
    dst: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<[u8; 32], StreamError> {
    let aead = Aes256Gcm::new(key);
    let n = chunk_count(len, chunk_size);
    let cs = chunk_size as usize;
    // One chunk of buffer, no more than the body needs (small records stay cheap).
    let mut buf = Zeroizing::new(vec![0u8; (cs as u64).min(len) as usize + TAG_LEN]);
    let mut hasher = Sha256::new();
    let mut done = 0u64;
    for i in 0..n {
        let last = i + 1 == n;
        let want = if last { (len - done) as usize } else { cs };
        let got = read_full(src, &mut buf[..want + TAG_LEN])?;
        if got != want + TAG_LEN {
            return Err(StreamError::Authentication);
        }
        hasher.update(&buf[..want + TAG_LEN]);
        let mut tag = [0u8; TAG_LEN];
        tag.copy_from_slice(&buf[want..want + TAG_LEN]);
        aead.open_in_place(&nonce(i, last), &[], &mut buf[..want], &tag)
            .map_err(|_| StreamError::Authentication)?;
        dst.write_all(&buf[..want])?;
        done += want as u64;
        progress(done);
    }
    Ok(hasher.finalize().into())
}

/// Byte range of chunk `index` inside a part's ciphertext, and its plaintext length.
pub fn chunk_range(len: u64, chunk_size: u32, index: u64) -> Option<(u64, usize)> {
    let n = chunk_count(len, chunk_size);
    if index >= n {
        return None;
    }
    let start = index * (chunk_size as u64 + TAG_LEN as u64);
    let plain = if index + 1 == n {
        len - index * chunk_size as u64
    } else {
        chunk_size as u64
    };
    Some((start, plain as usize))
}

/// Decrypt chunk `index` alone (random access). `sealed` is the chunk's `ciphertext ‖ tag`.
pub fn decrypt_chunk(
    key: &Zeroizing<[u8; 32]>,
    chunk_size: u32,
    len: u64,
    index: u64,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, StreamError> {
    let (_, plain) = chunk_range(len, chunk_size, index).ok_or(StreamError::Authentication)?;
    if sealed.len() != plain + TAG_LEN {
        return Err(StreamError::Authentication);
    }
    let last = index + 1 == chunk_count(len, chunk_size);
    Aes256Gcm::new(key)
        .open(&nonce(index, last), &[], sealed)
        .map_err(|_| StreamError::Authentication)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(len: usize, cs: u32) {
        let key = Zeroizing::new([9u8; 32]);
        let pt: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let mut ct = Vec::new();
        let d1 = encrypt(&key, cs, len as u64, &mut &pt[..], &mut ct, &mut |_| {}).expect("enc");
        assert_eq!(ct.len() as u64, ciphertext_len(len as u64, cs));
        let mut out = Vec::new();
        let d2 = decrypt(&key, cs, len as u64, &mut &ct[..], &mut out, &mut |_| {}).expect("dec");
        assert_eq!(out, pt);
        assert_eq!(d1, d2);
        for i in 0..chunk_count(len as u64, cs) {
            let (start, plain) = chunk_range(len as u64, cs, i).expect("range");
            let sealed = &ct[start as usize..start as usize + plain + TAG_LEN];
            let p = decrypt_chunk(&key, cs, len as u64, i, sealed).expect("chunk");
            assert_eq!(
                &p[..],
                &pt[(i * cs as u64) as usize..(i * cs as u64) as usize + plain]
            );
        }
    }

    #[test]
    fn roundtrips_at_chunk_boundaries() {
        for len in [0, 1, 1023, 1024, 1025, 4096, 5000] {
            roundtrip(len, 1024);
        }
    }

    #[test]
    fn truncation_reordering_and_flips_are_caught() {
        let key = Zeroizing::new([9u8; 32]);
        let pt = vec![5u8; 3000];
        let mut ct = Vec::new();
        encrypt(&key, 1024, 3000, &mut &pt[..], &mut ct, &mut |_| {}).expect("enc");
        let dec = |c: &[u8], len: u64| {
            decrypt(&key, 1024, len, &mut &c[..], &mut Vec::new(), &mut |_| {})
        };
        // drop the last chunk and claim a shorter length: the last-chunk flag differs
        assert!(matches!(
            dec(&ct[..2 * 1040], 2048),
            Err(StreamError::Authentication)
        ));
        // swap chunks 0 and 1
        let mut swapped = ct.clone();
        swapped[..1040].copy_from_slice(&ct[1040..2080]);
        swapped[1040..2080].copy_from_slice(&ct[..1040]);
        assert!(matches!(
            dec(&swapped, 3000),
            Err(StreamError::Authentication)
        ));
        // flip a byte
        let mut flipped = ct.clone();
        flipped[2500] ^= 0x80;
        assert!(matches!(
            dec(&flipped, 3000),
            Err(StreamError::Authentication)
        ));
        // truncated file
        assert!(matches!(
            dec(&ct[..ct.len() - 1], 3000),
            Err(StreamError::Authentication)
        ));
    }

    #[test]
    fn source_length_must_match() {
        let key = Zeroizing::new([1u8; 32]);
        let pt = [0u8; 10];
        assert!(matches!(
            encrypt(&key, 1024, 11, &mut &pt[..], &mut Vec::new(), &mut |_| {}),
            Err(StreamError::LengthMismatch)
        ));
        assert!(matches!(
            encrypt(&key, 1024, 9, &mut &pt[..], &mut Vec::new(), &mut |_| {}),
            Err(StreamError::LengthMismatch)
        ));
    }
}
