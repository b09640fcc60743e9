//! `soshiki keygen org` and `soshiki keygen member` (offline administration).

use std::path::{Path, PathBuf};

use anyhow::Result;
use soshiki_core::armor;
use soshiki_core::cert::{CertificateRequest, Fingerprint, OrganizationKey, Roles};
use soshiki_core::keyfile::MemberKey;
use soshiki_core::keys::{SecretKey, SigningKey};
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_core::with_suite;

use super::common::{self, KIND_ORGANIZATION};
use crate::cli::{KeygenMemberArgs, KeygenOrgArgs};
use crate::ctx::Ctx;
use crate::files::{self, ARMOR_IDENTITY, ARMOR_ORGANIZATION};
use crate::i18n::{err, tr, M};

/// What `keygen org` wrote.
#[derive(Debug)]
pub struct OrgResult {
    /// The passphrase-protected key file.
    pub key_path: PathBuf,
    /// The public organization record.
    pub pub_path: PathBuf,
    /// The organization's fingerprint.
    pub fingerprint: Fingerprint,
}

/// What `keygen member` wrote.
#[derive(Debug)]
pub struct MemberResult {
    /// The passphrase-protected member key file.
    pub key_path: PathBuf,
    /// The public identity file.
    pub id_path: PathBuf,
    /// The certificate's fingerprint.
    pub certificate: Fingerprint,
    /// The issuing organization's name.
    pub org_name: String,
    /// The issuing organization's fingerprint.
    pub org_fingerprint: Fingerprint,
}

fn check_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > soshiki_core::wire::limits::MAX_TEXT as usize {
        return Err(err(M::BadName, &[&name]));
    }
    Ok(())
}

fn beside(out: &Path, ext: &str) -> Result<PathBuf> {
    let p = out.with_extension(ext);
    if p == out {
        return Err(err(M::OutputNameClash, &[&out.display(), &ext]));
    }
    Ok(p)
}

fn public_bytes(kind: &str, bytes: &[u8], armored: bool) -> Vec<u8> {
    if armored {
        armor::encode(kind, bytes).into_bytes()
    } else {
        bytes.to_vec()
    }
}

/// Write a key file and its public companion; if the second write fails, remove the first.
fn write_pair(
    key_path: &Path,
    key: &[u8],
    pub_path: &Path,
    public: &[u8],
    force: bool,
) -> Result<()> {
    files::write_new(key_path, key, force)?;
    if let Err(e) = files::write_new(pub_path, public, force) {
        let _ = std::fs::remove_file(key_path);
        return Err(e);
    }
    Ok(())
}

/// Create an organization key and its public record.
pub fn keygen_org(
    ctx: &Ctx,
    name: &str,
    suite: SuiteId,
    out: &Path,
    armored: bool,
    force: bool,
) -> Result<OrgResult> {
    check_name(name)?;
    let pub_path = beside(out, "pub")?;
    files::check_absent(out, force)?;
    files::check_absent(&pub_path, force)?;
    let pass = ctx.new_passphrase(out)?;
    let mut rng = rand_core::OsRng;
    let now = files::now();
    let (key, record, fingerprint) = with_suite!(suite, S => {
        let org = OrganizationKey::<S>::generate(name, now, &mut rng).map_err(|_| err(M::BadName, &[&name]))?;
        let key = org
            .to_key_file(pass.as_bytes(), ctx.kdf, &mut rng)
            .map_err(|e| err(M::KeyFileInvalid, &[&out.display(), &crate::i18n::key_file_error(&e)]))?;
        (key, org.organization().to_bytes(), org.organization().fingerprint())
    });
    write_pair(
        out,
        &key,
        &pub_path,
        &public_bytes(ARMOR_ORGANIZATION, &record, armored),
        force,
    )?;
    Ok(OrgResult {
        key_path: out.to_path_buf(),
        pub_path,
        fingerprint,
    })
}

/// Create a member key certified by an organization key.
#[allow(clippy::too_many_arguments)]
pub fn keygen_member(
    ctx: &Ctx,
    name: &str,
    roles: &str,
    org_key: &Path,
    out: &Path,
    days: u32,
    armored: bool,
    force: bool,
) -> Result<MemberResult> {
    check_name(name)?;
    let roles = match Roles::parse(roles) {
        Some(r) if r != Roles::empty() => r,
        _ => return Err(err(M::BadRoles, &[&roles])),
    };
    if days == 0 || days > 36_500 {
        return Err(err(M::BadDays, &[&days]));
    }
    let id_path = beside(out, "id")?;
    files::check_absent(out, force)?;
    files::check_absent(&id_path, force)?;
    let org_input = common::read_key_file(org_key, KIND_ORGANIZATION)?;
    with_suite!(org_input.suite, S => member_generic::<S>(ctx, name, roles, &org_input, out, &id_path, days, armored, force))
}

#[allow(clippy::too_many_arguments)]
fn member_generic<S: Suite>(
    ctx: &Ctx,
    name: &str,
    roles: Roles,
    org_input: &common::KeyInput,
    out: &Path,
    id_path: &Path,
    days: u32,
    armored: bool,
    force: bool,
) -> Result<MemberResult> {
    let org = common::unlock_org::<S>(ctx, org_input)?;
    let pass = ctx.new_passphrase(out)?;
    let mut rng = rand_core::OsRng;
    let now = files::now();
    let encryption = SecretKey::<S>::generate(&mut rng);
    let signing = SigningKey::<S>::generate(&mut rng);
    let req = CertificateRequest {
        member_name: name.to_string(),
        roles,
        encryption_key: encryption.public_key().clone(),
        signing_key: signing.verifying_key(),
        // A few minutes of tolerance for clocks that differ between machines.
        not_before: now.saturating_sub(300),
        not_after: now + u64::from(days) * 86_400,
    };
    let certificate = org
        .certify(&req, &mut rng)
        .map_err(|_| err(M::BadName, &[&name]))?;
    let member = MemberKey {
        encryption,
        signing,
        organization: org.organization().clone(),
        certificate,
    };
    let key = member
        .to_key_file(pass.as_bytes(), ctx.kdf, &mut rng)
        .map_err(|e| {
            err(
                M::KeyFileInvalid,
                &[&out.display(), &crate::i18n::key_file_error(&e)],
            )
        })?;
    let identity = public_bytes(ARMOR_IDENTITY, &member.identity().to_bytes(), armored);
    write_pair(out, &key, id_path, &identity, force)?;
    Ok(MemberResult {
        key_path: out.to_path_buf(),
        id_path: id_path.to_path_buf(),
        certificate: member.certificate.fingerprint(),
        org_name: member.organization.name.clone(),
        org_fingerprint: member.organization.fingerprint(),
    })
}

/// `soshiki keygen org`.
pub fn org_command(ctx: &Ctx, args: KeygenOrgArgs) -> Result<()> {
    let KeygenOrgArgs {
        name,
        suite,
        out,
        armor,
        force,
    } = args;
    let suite = SuiteId::from(suite);
    let r = keygen_org(ctx, &name, suite, &out, armor, force)?;
    println!(
        "{}",
        tr(
            M::KeygenOrgDone,
            &[&name, &suite, &r.key_path.display(), &r.pub_path.display()]
        )
    );
    println!(
        "{}",
        tr(
            M::OrgFingerprint,
            &[&r.fingerprint.display_short(), &r.fingerprint.to_hex()]
        )
    );
    Ok(())
}

/// `soshiki keygen member`.
pub fn member_command(ctx: &Ctx, args: KeygenMemberArgs) -> Result<()> {
    let KeygenMemberArgs {
        name,
        roles,
        org_key,
        out,
        days,
        armor,
        force,
    } = args;
    let r = keygen_member(ctx, &name, &roles, &org_key, &out, days, armor, force)?;
    println!(
        "{}",
        tr(
            M::KeygenMemberDone,
            &[
                &name,
                &r.org_name,
                &r.key_path.display(),
                &r.id_path.display()
            ]
        )
    );
    println!(
        "{}",
        tr(
            M::CertFingerprint,
            &[&r.certificate.display_short(), &r.certificate.to_hex()]
        )
    );
    println!(
        "{}",
        tr(
            M::OrgFingerprint,
            &[
                &r.org_fingerprint.display_short(),
                &r.org_fingerprint.to_hex()
            ]
        )
    );
    Ok(())
}
