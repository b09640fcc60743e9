//! Loading key and identity files, with the suite read from their prefixes.

use std::path::{Path, PathBuf};

use anyhow::Result;
use soshiki_core::cert::{OrganizationKey, VerifiedCertificate};
use soshiki_core::error::KeyFileError;
use soshiki_core::keyfile::{peek_identity, peek_key_file, MemberIdentity, MemberKey};
use soshiki_core::suite::{Suite, SuiteId};
use zeroize::Zeroizing;

use crate::ctx::Ctx;
use crate::files::{self, ARMOR_IDENTITY, ARMOR_KEY};
use crate::i18n::{self, err, M};

/// Key-file kinds as named by the core.
pub const KIND_MEMBER: &str = "member";
pub const KIND_ORGANIZATION: &str = "organization";

/// A key file read from disk, still locked.
#[derive(Debug)]
pub struct KeyInput {
    /// Where it came from.
    pub path: PathBuf,
    bytes: Vec<u8>,
    /// Its suite.
    pub suite: SuiteId,
}

impl KeyInput {
    /// The file's bytes, as read.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Read a key file and check that it holds a key of `kind`.
pub fn read_key_file(path: &Path, kind: &'static str) -> Result<KeyInput> {
    let bytes = files::read_small(path, M::WhatKeyFile, ARMOR_KEY)?;
    let (suite, found) = peek_key_file(&bytes).map_err(|e| {
        err(
            M::KeyFileInvalid,
            &[&path.display(), &i18n::decode_error(&e)],
        )
    })?;
    if found != kind {
        return Err(err(
            M::WrongKeyKind,
            &[
                &path.display(),
                &i18n::key_kind(found),
                &i18n::key_kind(kind),
            ],
        ));
    }
    Ok(KeyInput {
        path: path.to_path_buf(),
        bytes,
        suite,
    })
}

fn key_file_error(path: &Path, e: &KeyFileError) -> anyhow::Error {
    match e {
        KeyFileError::Unlock => err(M::WrongPassphrase, &[&path.display()]),
        other => err(
            M::KeyFileInvalid,
            &[&path.display(), &i18n::key_file_error(other)],
        ),
    }
}

/// Unlock a member key (asks for its passphrase).
pub fn unlock_member<S: Suite>(ctx: &Ctx, k: &KeyInput) -> Result<MemberKey<S>> {
    Ok(unlock_member_keeping_passphrase(ctx, k)?.0)
}

/// Unlock a member key and keep its passphrase (`login` rewrites the key file with it).
pub fn unlock_member_keeping_passphrase<S: Suite>(
    ctx: &Ctx,
    k: &KeyInput,
) -> Result<(MemberKey<S>, Zeroizing<String>)> {
    let pass = ctx.existing_passphrase(&k.path)?;
    let key = MemberKey::<S>::from_key_file(&k.bytes, pass.as_bytes())
        .map_err(|e| key_file_error(&k.path, &e))?;
    Ok((key, pass))
}

/// Unlock an organization key (asks for its passphrase).
pub fn unlock_org<S: Suite>(ctx: &Ctx, k: &KeyInput) -> Result<OrganizationKey<S>> {
    let pass = ctx.existing_passphrase(&k.path)?;
    OrganizationKey::<S>::from_key_file(&k.bytes, pass.as_bytes())
        .map_err(|e| key_file_error(&k.path, &e))
}

/// Check that a member's own certificate is valid now (needed to send or forward).
pub fn check_own_certificate<S: Suite>(k: &KeyInput, key: &MemberKey<S>, now: u64) -> Result<()> {
    key.certificate
        .verify(&key.organization, now)
        .map(|_| ())
        .map_err(|_| {
            err(
                M::OwnCertificateInvalid,
                &[&k.path.display(), &key.certificate.member_name],
            )
        })
}

/// An identity file read from disk, not yet decoded.
#[derive(Debug)]
pub struct IdentityInput {
    /// Where it came from.
    pub path: PathBuf,
    bytes: Vec<u8>,
    /// Its suite.
    pub suite: SuiteId,
}

/// Read an identity file (`NAME.id`).
pub fn read_identity(path: &Path) -> Result<IdentityInput> {
    let bytes = files::read_small(path, M::WhatIdentity, ARMOR_IDENTITY)?;
    let suite = peek_identity(&bytes).map_err(|e| {
        err(
            M::IdentityInvalid,
            &[&path.display(), &i18n::decode_error(&e)],
        )
    })?;
    Ok(IdentityInput {
        path: path.to_path_buf(),
        bytes,
        suite,
    })
}

/// Decode an identity and verify its certificate against its organization at `now`.
pub fn verify_identity<S: Suite>(id: &IdentityInput, now: u64) -> Result<VerifiedCertificate<S>> {
    let ident = MemberIdentity::<S>::from_bytes(&id.bytes).map_err(|e| {
        err(
            M::IdentityInvalid,
            &[&id.path.display(), &i18n::decode_error(&e)],
        )
    })?;
    ident.verify(now).map_err(|_| {
        err(
            M::IdentityNotValid,
            &[&id.path.display(), &ident.certificate.member_name],
        )
    })
}

/// Fail unless a key (or identity) file's suite is the envelope's (or sender key's) suite.
pub fn check_suite(path: &Path, suite: SuiteId, other: &Path, expected: SuiteId) -> Result<()> {
    if suite != expected {
        return Err(err(
            M::SuiteMismatch,
            &[&path.display(), &suite, &other.display(), &expected],
        ));
    }
    Ok(())
}
