//! AES-256-GCM with a 96-bit nonce and 128-bit tag, from `ring` on native targets and from the
//! RustCrypto `aes-gcm` crate in the browser. A native test checks both give identical bytes.

use zeroize::Zeroizing;

/// Tag length in bytes.
pub const TAG_LEN: usize = 16;
/// Nonce length in bytes.
pub const NONCE_LEN: usize = 12;

/// An AES-256-GCM key ready for use.
pub struct Aes256Gcm {
    #[cfg(not(target_arch = "wasm32"))]
    key: ring::aead::LessSafeKey,
    #[cfg(target_arch = "wasm32")]
    key: aes_gcm::Aes256Gcm,
}

impl core::fmt::Debug for Aes256Gcm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Aes256Gcm").finish_non_exhaustive()
    }
}

/// Authentication failed (opaque).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AeadError;

impl Aes256Gcm {
    /// Key setup.
    pub fn new(key: &Zeroizing<[u8; 32]>) -> Self {
        #[cfg(not(target_arch = "wasm32"))]
        {
            // AES_256_GCM accepts any 32-byte key.
            #[allow(clippy::expect_used)]
            let unbound = ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, &key[..])
                .expect("32-byte key");
            Self {
                key: ring::aead::LessSafeKey::new(unbound),
            }
        }
        #[cfg(target_arch = "wasm32")]
        {
            use aes_gcm::KeyInit;
            Self {
                key: aes_gcm::Aes256Gcm::new(aes_gcm::Key::<aes_gcm::Aes256Gcm>::from_slice(
                    &key[..],
                )),
            }
        }
    }

    /// Encrypt `buf` in place and return the tag.
    pub fn seal_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
    ) -> [u8; TAG_LEN] {
        #[cfg(not(target_arch = "wasm32"))]
        {
            let n = ring::aead::Nonce::assume_unique_for_key(*nonce);
            #[allow(clippy::expect_used)]
            let tag = self
                .key
                .seal_in_place_separate_tag(n, ring::aead::Aad::from(aad), buf)
                .expect("chunk within AES-GCM length limit");
            let mut t = [0u8; TAG_LEN];
            t.copy_from_slice(tag.as_ref());
            t
        }
        #[cfg(target_arch = "wasm32")]
        {
            use aes_gcm::AeadInPlace;
            #[allow(clippy::expect_used)]
            let tag = self
                .key
                .encrypt_in_place_detached(aes_gcm::Nonce::from_slice(nonce), aad, buf)
                .expect("chunk within AES-GCM length limit");
            let mut t = [0u8; TAG_LEN];
            t.copy_from_slice(&tag);
            t
        }
    }

    /// Decrypt `buf` in place given its tag; on failure `buf` is zeroed.
    pub fn open_in_place(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        buf: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AeadError> {
        #[cfg(not(target_arch = "wasm32"))]
        let ok = {
            let n = ring::aead::Nonce::assume_unique_for_key(*nonce);
            let tag = ring::aead::Tag::from(*tag);
            self.key
                .open_in_place_separate_tag(n, ring::aead::Aad::from(aad), tag, buf, 0..)
                .is_ok()
        };
        #[cfg(target_arch = "wasm32")]
        let ok = {
            use aes_gcm::AeadInPlace;
            self.key
                .decrypt_in_place_detached(
                    aes_gcm::Nonce::from_slice(nonce),
                    aad,
                    buf,
                    aes_gcm::Tag::from_slice(tag),
                )
                .is_ok()
        };
        if ok {
            Ok(())
        } else {
            buf.iter_mut().for_each(|b| *b = 0);
            Err(AeadError)
        }
    }

    /// One-shot seal: returns `ciphertext ‖ tag`.
    pub fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        let tag = self.seal_in_place(nonce, aad, &mut buf);
        buf.extend_from_slice(&tag);
        buf
    }

    /// One-shot open of `ciphertext ‖ tag`.
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, AeadError> {
        if sealed.len() < TAG_LEN {
            return Err(AeadError);
        }
        let (ct, tag) = sealed.split_at(sealed.len() - TAG_LEN);
        let mut buf = Zeroizing::new(ct.to_vec());
        let mut t = [0u8; TAG_LEN];
        t.copy_from_slice(tag);
        self.open_in_place(nonce, aad, &mut buf, &t)?;
        Ok(buf)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn ring_matches_rustcrypto_aes_gcm() {
        use aes_gcm::{AeadInPlace, KeyInit};
        let key = Zeroizing::new([0x42u8; 32]);
        let nonce = [7u8; 12];
        let ours = Aes256Gcm::new(&key);
        for len in [0usize, 1, 15, 16, 17, 1000] {
            let pt: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = ours.seal(&nonce, b"aad", &pt);
            let rc =
                aes_gcm::Aes256Gcm::new(aes_gcm::Key::<aes_gcm::Aes256Gcm>::from_slice(&key[..]));
            let mut buf = pt.clone();
            let tag = rc
                .encrypt_in_place_detached(aes_gcm::Nonce::from_slice(&nonce), b"aad", &mut buf)
                .expect("seal");
            buf.extend_from_slice(&tag);
            assert_eq!(sealed, buf);
            assert_eq!(
                &ours.open(&nonce, b"aad", &sealed).expect("open")[..],
                &pt[..]
            );
            let mut bad = sealed.clone();
            bad[0] ^= 1;
            assert!(ours.open(&nonce, b"aad", &bad).is_err());
        }
    }
}
