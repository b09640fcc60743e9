//! `soshiki forward`: model-1 re-encryption of an envelope file, whole or per part.

use std::fs::OpenOptions;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use soshiki_core::armor;
use soshiki_core::cert::Roles;
use soshiki_core::envelope::{self, EnvelopeFile, EnvelopeHeader, Forwarder, SlotId};
use soshiki_core::error::ForwardError;
use soshiki_core::suite::Suite;
use soshiki_core::with_suite;

use super::common::{self, IdentityInput, KeyInput, KIND_MEMBER};
use crate::cli::ForwardArgs;
use crate::ctx::Ctx;
use crate::files::{self, EnvelopeInput, Staged, ARMOR_ENVELOPE};
use crate::i18n::{self, err, tr, M};
use crate::progress::Progress;

/// What to forward.
#[derive(Debug, Clone)]
pub struct Request {
    /// The envelope.
    pub input: PathBuf,
    /// The forwarder's key.
    pub key: PathBuf,
    /// The target's identity.
    pub to: PathBuf,
    /// Parts to forward (default: all held).
    pub parts: Option<Vec<u32>>,
    /// Output file (unless in place).
    pub out: Option<PathBuf>,
    /// Append the new header to the input.
    pub in_place: bool,
    /// ASCII armor output.
    pub armor: bool,
    /// Overwrite the output.
    pub force: bool,
}

/// What was forwarded.
#[derive(Debug, Clone)]
pub struct Forwarded {
    /// The forwarder's member name.
    pub from: String,
    /// The target's member name.
    pub to: String,
    /// The parts re-encrypted.
    pub parts: Vec<u32>,
    /// The file written (or appended to).
    pub path: PathBuf,
}

/// Forward an envelope.
pub fn forward(ctx: &Ctx, req: &Request) -> Result<Forwarded> {
    let mut input = files::open_envelope_input(&req.input)?;
    let key = common::read_key_file(&req.key, KIND_MEMBER)?;
    common::check_suite(&key.path, key.suite, &input.path, input.suite)?;
    let target = common::read_identity(&req.to)?;
    common::check_suite(&target.path, target.suite, &input.path, input.suite)?;
    if req.in_place && input.armored {
        return Err(err(M::InPlaceArmored, &[&input.path.display()]));
    }
    let out = match (&req.out, req.in_place) {
        (_, true) => None,
        (Some(o), false) => {
            files::check_absent(o, req.force)?;
            Some(o.clone())
        }
        (None, false) => return Err(err(M::ForwardNeedsOutput, &[])),
    };
    with_suite!(input.suite, S => forward_generic::<S>(ctx, req, &mut input, &key, &target, out.as_deref()))
}

fn forward_error(input: &Path, key_name: &str, e: &ForwardError, parts: usize) -> anyhow::Error {
    match e {
        ForwardError::NotHolder(slot) => err(M::NotHolder, &[&key_name, &slot, &input.display()]),
        ForwardError::NoSuchPart(n) => err(M::PartOutOfRange, &[n, &input.display(), &parts]),
        ForwardError::Verify(v) => err(
            M::EnvelopeInvalid,
            &[&input.display(), &i18n::verify_error(v)],
        ),
        other => err(
            M::ForwardFailed,
            &[&input.display(), &i18n::forward_error(other)],
        ),
    }
}

fn forward_generic<S: Suite>(
    ctx: &Ctx,
    req: &Request,
    input: &mut EnvelopeInput,
    key_input: &KeyInput,
    target_input: &IdentityInput,
    out: Option<&Path>,
) -> Result<Forwarded> {
    let file = files::open_envelope::<S>(input)?;
    let header = &file.header;
    let verified = header
        .clone()
        .verify_at(soshiki_client::flows::unix_now())
        .map_err(|e| {
            err(
                M::EnvelopeInvalid,
                &[&input.path.display(), &i18n::verify_error(&e)],
            )
        })?;
    let now = files::now();
    let target = common::verify_identity::<S>(target_input, now)?;
    let receiving = &header.core.recipient_org;
    if target.organization().fingerprint() != receiving.fingerprint() {
        return Err(err(
            M::TargetOtherOrg,
            &[
                &target_input.path.display(),
                &target.certificate().member_name,
                &target.organization().name,
                &receiving.name,
                &receiving.fingerprint().display_short(),
            ],
        ));
    }
    let count = header.core.parts.len();
    if let Some(parts) = &req.parts {
        if parts.is_empty() {
            return Err(err(M::NoParts, &[]));
        }
        for p in parts {
            if *p as usize >= count {
                return Err(err(M::PartOutOfRange, &[p, &input.path.display(), &count]));
            }
        }
    }
    let key = common::unlock_member::<S>(ctx, key_input)?;
    let held = verified.slots_held_by(key.encryption.public_key());
    if !held.contains(&SlotId::METADATA) {
        return Err(err(
            M::HoldsNothing,
            &[
                &key_input.path.display(),
                &key.certificate.member_name,
                &input.path.display(),
            ],
        ));
    }
    let roles = key.certificate.roles;
    if !(roles.contains(Roles::FORWARDER) || roles.contains(Roles::REPRESENTATIVE)) {
        return Err(err(
            M::NoForwardRole,
            &[
                &key_input.path.display(),
                &key.certificate.member_name,
                &roles.names().join(","),
            ],
        ));
    }
    // A hop may not predate the envelope or the previous hop, even with a slow clock.
    let time = header
        .slots
        .iter()
        .flat_map(|s| s.hops.iter().map(|h| h.time))
        .fold(now.max(header.core.created), u64::max);
    common::check_own_certificate(key_input, &key, time)?;
    let fwd = Forwarder {
        holder: &key.encryption,
        signer: &key.signing,
        cert: &key.certificate,
    };
    let new_header = verified
        .forward(
            &fwd,
            &target,
            req.parts.as_deref(),
            time,
            &mut rand_core::OsRng,
        )
        .map_err(|e| forward_error(&input.path, &key.certificate.member_name, &e, count))?;
    let parts: Vec<u32> = new_header
        .slots
        .iter()
        .filter_map(|s| s.slot.part_index())
        .collect();
    let path = match out {
        None => {
            append_in_place::<S>(input, &file, &new_header)?;
            input.path.clone()
        }
        Some(o) => write_copy::<S>(ctx, input, &file, &new_header, o, req.armor, req.force)?,
    };
    Ok(Forwarded {
        from: key.certificate.member_name.clone(),
        to: target.certificate().member_name.clone(),
        parts,
        path,
    })
}

fn write_copy<S: Suite>(
    ctx: &Ctx,
    input: &mut EnvelopeInput,
    file: &EnvelopeFile<S>,
    new_header: &EnvelopeHeader<S>,
    out: &Path,
    armored: bool,
    force: bool,
) -> Result<PathBuf> {
    let total = new_header.bodies_len();
    let bar = Progress::new(ctx.progress, total, tr(M::ProgressForward, &[]));
    let write_err = |e: &dyn std::fmt::Display| err(M::WriteFailed, &[&out.display(), e]);
    let mut staged = Staged::new(out, force)?;
    if armored {
        let mut buf = Vec::new();
        envelope::write_forwarded(file, &mut input.file, new_header, &mut buf, &mut |d| {
            bar.set(d)
        })
        .map_err(|e| write_err(&e))?;
        check_output::<S>(&mut std::io::Cursor::new(&buf), out)?;
        staged
            .file()
            .write_all(armor::encode(ARMOR_ENVELOPE, &buf).as_bytes())
            .map_err(|e| write_err(&e))?;
    } else {
        let mut w = BufWriter::with_capacity(1 << 20, staged.file());
        envelope::write_forwarded(file, &mut input.file, new_header, &mut w, &mut |d| {
            bar.set(d)
        })
        .map_err(|e| write_err(&e))?;
        w.flush().map_err(|e| write_err(&e))?;
        drop(w);
        check_output::<S>(staged.file(), out)?;
    }
    bar.finish();
    staged.commit()
}

/// Re-open what was written and verify it, so a broken output is never committed.
fn check_output<S: Suite>(src: &mut (impl std::io::Read + Seek), path: &Path) -> Result<()> {
    let f =
        EnvelopeFile::<S>::open(src).map_err(|e| err(M::ForwardFailed, &[&path.display(), &e]))?;
    f.header.verify().map_err(|e| {
        err(
            M::ForwardFailed,
            &[&path.display(), &i18n::verify_error(&e)],
        )
    })?;
    Ok(())
}

/// Append the new header and footer to the input; the last footer wins. Allowed only when the
/// new header keeps exactly the same bodies. On any failure the file is cut back.
fn append_in_place<S: Suite>(
    input: &mut EnvelopeInput,
    file: &EnvelopeFile<S>,
    new_header: &EnvelopeHeader<S>,
) -> Result<()> {
    if new_header.bodies != file.header.bodies {
        let dropped: Vec<String> = file
            .header
            .bodies
            .iter()
            .filter(|b| !new_header.bodies.contains(b))
            .filter_map(|b| SlotId::part(*b))
            .map(|s| s.to_string())
            .collect();
        return Err(err(
            M::InPlaceNeedsAllParts,
            &[&input.path.display(), &dropped.join(", ")],
        ));
    }
    let path = input.path.clone();
    let write_err = |e: &dyn std::fmt::Display| err(M::WriteFailed, &[&path.display(), e]);
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| write_err(&e))?;
    let original = f.seek(SeekFrom::End(0)).map_err(|e| write_err(&e))?;
    let result = (|| -> Result<()> {
        let mut w = BufWriter::new(&mut f);
        envelope::write_trailer(new_header, &mut w).map_err(|e| write_err(&e))?;
        w.flush().map_err(|e| write_err(&e))?;
        drop(w);
        f.sync_all().map_err(|e| write_err(&e))?;
        check_output::<S>(&mut f, &path)
    })();
    if let Err(e) = result {
        let _ = f.set_len(original);
        let _ = f.sync_all();
        return Err(e);
    }
    Ok(())
}

impl From<ForwardArgs> for Request {
    /// File mode's options (clap requires `INPUT` and `--to` without `--delivery`).
    fn from(a: ForwardArgs) -> Self {
        Request {
            input: a.input.unwrap_or_default(),
            key: a.key,
            to: a.to.unwrap_or_default(),
            parts: a.parts,
            out: a.out,
            in_place: a.in_place,
            armor: a.armor,
            force: a.force,
        }
    }
}

/// `soshiki forward`: an envelope file, or with `--delivery` a delivery on the server (model 2,
/// crates/soshiki-cli/src/cmd/client.rs).
pub fn command(ctx: &Ctx, args: ForwardArgs) -> Result<()> {
    if args.delivery.is_some() {
        return crate::cmd::client::deliver(ctx, args);
    }
    let r = forward(ctx, &Request::from(args))?;
    let parts = r
        .parts
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "{}",
        tr(M::ForwardDone, &[&r.from, &r.to, &parts, &r.path.display()])
    );
    Ok(())
}
