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
/// `progress` is called with the number of plaintext bytes done, after each chunk (after each
/// batch of chunks on the two-thread path).
///
/// On native targets a body of [`PIPELINE_MIN_CHUNKS`] chunks or more is digested on a second
/// thread while this one reads, seals and writes (`encrypt_pipelined`): AES-GCM and SHA-256
/// then run on two cores at once. The bytes written and the digest are the same either way.
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
    #[cfg(not(target_arch = "wasm32"))]
    if n >= PIPELINE_MIN_CHUNKS {
        return encrypt_pipelined(&aead, chunk_size, len, src, dst, progress);
    }
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
    expect_exhausted(src)?;
    Ok(hasher.finalize().into())
}

/// The source must be exhausted: a longer source than announced is an error, not a silent cut.
fn expect_exhausted(src: &mut dyn Read) -> Result<(), StreamError> {
    let mut probe = [0u8; 1];
    if read_full(src, &mut probe)? != 0 {
        return Err(StreamError::LengthMismatch);
    }
    Ok(())
}

/// Bodies with at least this many chunks are encrypted on two threads; smaller ones (records,
/// short lists) stay on the caller's thread, where a thread start would cost more than it saves.
#[cfg(not(target_arch = "wasm32"))]
pub const PIPELINE_MIN_CHUNKS: u64 = 4;

/// Buffers in flight between the two threads.
#[cfg(not(target_arch = "wasm32"))]
const PIPELINE_DEPTH: usize = 3;

/// Sealed chunks handed to the digest thread at a time: about this many plaintext bytes (at
/// least one chunk), so a hand-over (a wake-up of the other thread) is paid once per batch and
/// not once per 64 KiB chunk. Memory: at most [`PIPELINE_DEPTH`] batches, each of this size or
/// one chunk if chunks are larger.
#[cfg(not(target_arch = "wasm32"))]
const PIPELINE_BATCH: usize = 1 << 20;

/// [`encrypt`] on two threads. This thread reads, seals and writes each chunk; a scoped worker
/// feeds the sealed chunks to SHA-256 in order (the digest is the slower half on machines with
/// SHA and AES instructions, so it gets a core to itself). Sealed chunks go over in batches of
/// about [`PIPELINE_BATCH`] bytes; the batch buffers go round through two bounded channels, so
/// memory stays at [`PIPELINE_DEPTH`] batches, and a buffer is reused only after the worker has
/// digested it. The reader and writer never leave this thread. On an error this thread stops
/// sending, the worker ends, and the scope joins it before the error is returned; every buffer
/// is zeroized on drop.
#[cfg(not(target_arch = "wasm32"))]
fn encrypt_pipelined(
    aead: &Aes256Gcm,
    chunk_size: u32,
    len: u64,
    src: &mut dyn Read,
    dst: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> Result<[u8; 32], StreamError> {
    use std::sync::mpsc::sync_channel;
    type Sealed = (usize, Zeroizing<Vec<u8>>);
    let n = chunk_count(len, chunk_size);
    let cs = chunk_size as usize;
    // No batch longer than the body, and buffers made only when the worker still holds every
    // one made so far: a body of a few chunks costs one buffer of its own size.
    let per_batch = (PIPELINE_BATCH / cs).clamp(1, n.min(usize::MAX as u64) as usize);
    let worker_stopped = || StreamError::Io(std::io::Error::other("the digest thread stopped"));
    std::thread::scope(|scope| {
        // Capacity = every buffer that exists, so neither side's sends ever block.
        let (to_digest, digesting) = sync_channel::<Sealed>(PIPELINE_DEPTH);
        let (to_reuse, reusable) = sync_channel::<Zeroizing<Vec<u8>>>(PIPELINE_DEPTH);
        let digester = scope.spawn(move || {
            let mut hasher = Sha256::new();
            for (filled, buf) in digesting {
                hasher.update(&buf[..filled]);
                // This thread may already have stopped on an error; the buffer is then dropped.
                let _ = to_reuse.send(buf);
            }
            <[u8; 32]>::from(hasher.finalize())
        });
        let mut made = 0;
        let mut done = 0u64;
        let mut i = 0u64;
        while i < n {
            let mut buf = match reusable.try_recv() {
                Ok(b) => b,
                Err(_) if made < PIPELINE_DEPTH => {
                    made += 1;
                    Zeroizing::new(vec![0u8; per_batch * (cs + TAG_LEN)])
                }
                Err(_) => reusable.recv().map_err(|_| worker_stopped())?,
            };
            let mut filled = 0;
            for _ in 0..per_batch {
                if i == n {
                    break;
                }
                let last = i + 1 == n;
                let want = if last { (len - done) as usize } else { cs };
                let chunk = &mut buf[filled..filled + want + TAG_LEN];
                if read_full(src, &mut chunk[..want])? != want {
                    return Err(StreamError::LengthMismatch);
                }
                let tag = aead.seal_in_place(&nonce(i, last), &[], &mut chunk[..want]);
                chunk[want..].copy_from_slice(&tag);
                filled += want + TAG_LEN;
                done += want as u64;
                i += 1;
            }
            dst.write_all(&buf[..filled])?;
            to_digest
                .send((filled, buf))
                .map_err(|_| worker_stopped())?;
            progress(done);
        }
        drop(to_digest);
        let digest = digester.join().map_err(|_| worker_stopped())?;
        expect_exhausted(src)?;
        Ok(digest)
    })
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

    /// The sequential loop, kept here as the reference the two-thread path must match.
    fn encrypt_sequential(key: &Zeroizing<[u8; 32]>, cs: u32, pt: &[u8]) -> (Vec<u8>, [u8; 32]) {
        let aead = Aes256Gcm::new(key);
        let n = chunk_count(pt.len() as u64, cs);
        let mut out = Vec::new();
        for (i, chunk) in pt.chunks(cs as usize).enumerate() {
            let mut buf = chunk.to_vec();
            let tag = aead.seal_in_place(&nonce(i as u64, i as u64 + 1 == n), &[], &mut buf);
            out.extend_from_slice(&buf);
            out.extend_from_slice(&tag);
        }
        let digest = Sha256::digest(&out).into();
        (out, digest)
    }

    #[test]
    fn two_threads_write_the_same_bytes_and_digest_as_one() {
        let key = Zeroizing::new([3u8; 32]);
        let cs = 1024u32;
        // The last count spans more batches than there are buffers, so buffers are reused.
        let reused = (PIPELINE_DEPTH * PIPELINE_BATCH / cs as usize + 3) as u64;
        for chunks in [PIPELINE_MIN_CHUNKS, PIPELINE_MIN_CHUNKS + 1, 40, reused] {
            for tail in [0usize, 1, 1023] {
                let len = (chunks as usize - 1) * cs as usize + tail.max(1);
                let pt: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
                let mut ct = Vec::new();
                let mut seen = Vec::new();
                let digest = encrypt(&key, cs, len as u64, &mut &pt[..], &mut ct, &mut |d| {
                    seen.push(d)
                })
                .expect("enc");
                assert_eq!((ct.clone(), digest), encrypt_sequential(&key, cs, &pt));
                assert!(!seen.is_empty());
                assert_eq!(seen.last().copied(), Some(len as u64));
                assert!(seen.windows(2).all(|w| w[0] < w[1]));
            }
        }
    }

    /// A reader that fails after `ok` bytes, and a writer that fails after `ok` bytes.
    struct FailAfter(usize);
    impl Read for FailAfter {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("disk gone"));
            }
            let k = buf.len().min(self.0);
            buf[..k].fill(1);
            self.0 -= k;
            Ok(k)
        }
    }
    impl Write for FailAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn two_threads_stop_cleanly_on_short_failing_or_long_sources_and_failing_sinks() {
        let key = Zeroizing::new([4u8; 32]);
        let len = 20 * 1024u64;
        let pt = vec![2u8; len as usize];
        let enc = |src: &mut dyn Read, dst: &mut dyn Write| {
            encrypt(&key, 1024, len, src, dst, &mut |_| {})
        };
        assert!(matches!(
            enc(&mut &pt[..10_000], &mut Vec::new()),
            Err(StreamError::LengthMismatch)
        ));
        let longer = vec![2u8; len as usize + 1];
        assert!(matches!(
            enc(&mut &longer[..], &mut Vec::new()),
            Err(StreamError::LengthMismatch)
        ));
        assert!(matches!(
            enc(&mut FailAfter(5000), &mut Vec::new()),
            Err(StreamError::Io(_))
        ));
        assert!(matches!(
            enc(&mut &pt[..], &mut FailAfter(3 * 1040)),
            Err(StreamError::Io(_))
        ));
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
