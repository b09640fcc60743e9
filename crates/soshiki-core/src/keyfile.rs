//! Passphrase-protected key files and public identity files (SPEC.md §9).
//!
//! ```text
//! KeyFile  = "SKKEY" ‖ version=1 ‖ suite ‖ kind ‖ m_kib:u32 ‖ t:u32 ‖ p:u8 ‖ salt[16] ‖ nonce[12]
//!            ‖ u32 len ‖ AES-256-GCM(Argon2id(passphrase, salt, m, t, p), nonce, aad = all before)
//! member plaintext       = enc scalar[32] ‖ signing key[32] ‖ Organization ‖ Certificate
//! organization plaintext = signing key[32] ‖ Organization
//! Identity = "SKMID" ‖ version=1 ‖ suite ‖ Organization ‖ Certificate      (public)
//! ```
//! A wrong passphrase and an altered file give the same error. Secrets are decrypted into
//! zeroizing buffers.

use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::aead::Aes256Gcm;
use crate::cert::{Certificate, Organization, OrganizationKey, VerifiedCertificate};
use crate::error::{DecodeError, KeyFileError, VerifyError};
use crate::keys::{SecretKey, SigningKey};
use crate::suite::{Suite, SuiteId};
use crate::wire::{Codec, Frame, Reader, Writer};

/// The frame of a passphrase-sealed key file (its fields are read by `unseal`, which needs the
/// passphrase, so a key file is not a [`Codec`] object).
const KEY_FRAME: Frame = Frame {
    magic: b"SKKEY",
    version: 1,
    what: "key file",
};

/// The frame of a member identity file.
const IDENTITY_FRAME: Frame = Frame {
    magic: b"SKMID",
    version: 1,
    what: "identity",
};
const KIND_MEMBER: u8 = 1;
const KIND_ORGANIZATION: u8 = 2;

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u8,
}

impl KdfParams {
    /// The default: 64 MiB, 3 passes, 1 lane (RFC 9106's second recommendation, one lane).
    pub const DEFAULT: KdfParams = KdfParams {
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };
    /// The weakest accepted: 8 MiB, 1 pass (tests and constrained devices).
    pub const MINIMUM: KdfParams = KdfParams {
        m_kib: 8 * 1024,
        t: 1,
        p: 1,
    };

    fn check(&self) -> Result<(), KeyFileError> {
        let ok = (8 * 1024..=1024 * 1024).contains(&self.m_kib)
            && (1..=16).contains(&self.t)
            && (1..=8).contains(&self.p);
        if ok {
            Ok(())
        } else {
            Err(KeyFileError::Parameters)
        }
    }
}

fn derive(
    pass: &[u8],
    salt: &[u8; 16],
    p: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeyFileError> {
    p.check()?;
    let params =
        Params::new(p.m_kib, p.t, p.p as u32, Some(32)).map_err(|_| KeyFileError::Parameters)?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(pass, salt, &mut out[..])
        .map_err(|_| KeyFileError::Parameters)?;
    Ok(out)
}

fn seal<S: Suite>(
    kind: u8,
    plaintext: &[u8],
    pass: &[u8],
    params: KdfParams,
    rng: &mut impl CryptoRngCore,
) -> Result<Vec<u8>, KeyFileError> {
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    let key = derive(pass, &salt, &params)?;
    let mut w = KEY_FRAME.writer::<S>();
    w.u8(kind)
        .u32(params.m_kib)
        .u32(params.t)
        .u8(params.p)
        .raw(&salt)
        .raw(&nonce);
    let sealed = Aes256Gcm::new(&key).seal(&nonce, w.as_bytes(), plaintext);
    w.bytes32(&sealed);
    Ok(w.into_bytes())
}

fn kind_name(k: u8) -> &'static str {
    match k {
        KIND_MEMBER => "member",
        KIND_ORGANIZATION => "organization",
        _ => "unknown",
    }
}

fn unseal<S: Suite>(
    bytes: &[u8],
    want: u8,
    pass: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyFileError> {
    let mut r = Reader::new(bytes);
    KEY_FRAME.read::<S>(&mut r)?;
    let kind = r.u8("key kind")?;
    if kind != want {
        return Err(KeyFileError::WrongKind {
            expected: kind_name(want),
            found: kind_name(kind),
        });
    }
    let params = KdfParams {
        m_kib: r.u32("argon2 memory")?,
        t: r.u32("argon2 passes")?,
        p: r.u8("argon2 lanes")?,
    };
    let salt: [u8; 16] = r.array("salt")?;
    let nonce: [u8; 12] = r.array("nonce")?;
    let aad_len = r.position();
    let sealed = r.bytes32("sealed key", 1 << 16)?;
    r.finish()?;
    let key = derive(pass, &salt, &params)?;
    Aes256Gcm::new(&key)
        .open(&nonce, &bytes[..aad_len], sealed)
        .map_err(|_| KeyFileError::Unlock)
}

/// The suite and kind of a key file, from its first bytes.
pub fn peek_key_file(bytes: &[u8]) -> Result<(SuiteId, &'static str), DecodeError> {
    let suite = KEY_FRAME.peek_suite(bytes)?;
    let kind = *bytes
        .get(KEY_FRAME.magic.len() + 3)
        .ok_or(DecodeError::Truncated("key kind"))?;
    Ok((suite, kind_name(kind)))
}

/// A member's secret keys with its certificate and organization record.
pub struct MemberKey<S: Suite> {
    /// ElGamal key `a`.
    pub encryption: SecretKey<S>,
    /// Signing key.
    pub signing: SigningKey<S>,
    /// The member's organization.
    pub organization: Organization<S>,
    /// The member's certificate.
    pub certificate: Certificate<S>,
}

impl<S: Suite> core::fmt::Debug for MemberKey<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemberKey")
            .field("member", &self.certificate.member_name)
            .finish_non_exhaustive()
    }
}

impl<S: Suite> MemberKey<S> {
    /// Protect with a passphrase.
    pub fn to_key_file(
        &self,
        passphrase: &[u8],
        params: KdfParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<u8>, KeyFileError> {
        let mut pt = Zeroizing::new(Vec::new());
        pt.extend_from_slice(&self.encryption.to_secret_bytes()[..]);
        pt.extend_from_slice(&self.signing.to_secret_bytes()[..]);
        pt.extend_from_slice(&self.organization.to_bytes());
        pt.extend_from_slice(&self.certificate.to_bytes());
        seal::<S>(KIND_MEMBER, &pt, passphrase, params, rng)
    }

    /// Unlock a key file.
    pub fn from_key_file(bytes: &[u8], passphrase: &[u8]) -> Result<Self, KeyFileError> {
        let pt = unseal::<S>(bytes, KIND_MEMBER, passphrase)?;
        let mut r = Reader::new(&pt);
        let encryption = SecretKey::from_secret_bytes(r.take(32, "encryption key")?)?;
        let signing = SigningKey::from_secret_bytes(r.take(32, "signing key")?)?;
        let organization = Organization::read(&mut r)?;
        let certificate = Certificate::read(&mut r)?;
        r.finish()?;
        if certificate.encryption_key != *encryption.public_key()
            || certificate.signing_key != signing.verifying_key()
        {
            return Err(DecodeError::InvalidValue("certificate does not match the keys").into());
        }
        Ok(Self {
            encryption,
            signing,
            organization,
            certificate,
        })
    }

    /// The public identity others address.
    pub fn identity(&self) -> MemberIdentity<S> {
        MemberIdentity {
            organization: self.organization.clone(),
            certificate: self.certificate.clone(),
        }
    }
}

/// An organization's key file contents.
impl<S: Suite> OrganizationKey<S> {
    /// Protect with a passphrase.
    pub fn to_key_file(
        &self,
        passphrase: &[u8],
        params: KdfParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<u8>, KeyFileError> {
        let mut pt = Zeroizing::new(Vec::new());
        pt.extend_from_slice(&self.signing_key().to_secret_bytes()[..]);
        pt.extend_from_slice(&self.organization().to_bytes());
        seal::<S>(KIND_ORGANIZATION, &pt, passphrase, params, rng)
    }

    /// Unlock. The organization record is restored as stored (not re-signed).
    pub fn from_key_file(bytes: &[u8], passphrase: &[u8]) -> Result<Self, KeyFileError> {
        let pt = unseal::<S>(bytes, KIND_ORGANIZATION, passphrase)?;
        let mut r = Reader::new(&pt);
        let sk = SigningKey::from_secret_bytes(r.take(32, "signing key")?)?;
        let org = Organization::read(&mut r)?;
        r.finish()?;
        OrganizationKey::from_parts(sk, org).ok_or(KeyFileError::Decode(DecodeError::InvalidValue(
            "organization record does not match the key",
        )))
    }
}

/// A member's public identity: organization record and certificate. Unverified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberIdentity<S: Suite> {
    /// Issuing organization.
    pub organization: Organization<S>,
    /// Certificate.
    pub certificate: Certificate<S>,
}

impl<S: Suite> Codec for MemberIdentity<S> {
    const FRAME: Frame = IDENTITY_FRAME;
    type Suite = S;

    fn read_fields(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            organization: Organization::read(r)?,
            certificate: Certificate::read(r)?,
        })
    }

    fn write_fields(&self, w: &mut Writer) {
        w.raw(&self.organization.to_bytes())
            .raw(&self.certificate.to_bytes());
    }
}

impl<S: Suite> MemberIdentity<S> {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.encode()
    }

    /// Decode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes)
    }

    /// Verify the certificate against the enclosed organization at time `now`. The caller must
    /// still compare the organization's fingerprint with one it trusts.
    pub fn verify(&self, now: u64) -> Result<VerifiedCertificate<S>, VerifyError> {
        self.certificate.verify(&self.organization, now)
    }
}

/// The suite of an identity file.
pub fn peek_identity(bytes: &[u8]) -> Result<SuiteId, DecodeError> {
    IDENTITY_FRAME.peek_suite(bytes)
}
