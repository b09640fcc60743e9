//! `soshiki decrypt`: verify everything, then decrypt the held parts into temporary files that
//! are renamed into place only when every part decrypted and verified.

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use soshiki_core::envelope::{self, SlotId};
use soshiki_core::error::DecryptError;
use soshiki_core::suite::Suite;
use soshiki_core::with_suite;

use super::common::{self, KeyInput, KIND_MEMBER};
use crate::cli::DecryptArgs;
use crate::ctx::Ctx;
use crate::files::{self, EnvelopeInput, OrgPin, Staged};
use crate::i18n::{self, err, tr, M};
use crate::progress::Progress;

/// What to decrypt.
#[derive(Debug, Clone)]
pub struct Request {
    /// The envelope.
    pub input: PathBuf,
    /// The reader's key.
    pub key: PathBuf,
    /// Output directory.
    pub out_dir: PathBuf,
    /// Only this part.
    pub part: Option<u32>,
    /// Pin of the sender's organization.
    pub sender_org: Option<String>,
    /// Overwrite existing files.
    pub force: bool,
}

/// A part written.
#[derive(Debug, Clone)]
pub struct WrittenPart {
    /// Part index.
    pub index: u32,
    /// Where it was written.
    pub path: PathBuf,
    /// Plaintext length.
    pub len: u64,
}

/// Decrypt.
pub fn decrypt(ctx: &Ctx, req: &Request) -> Result<Vec<WrittenPart>> {
    let pin = req.sender_org.as_deref().map(OrgPin::parse).transpose()?;
    let mut input = files::open_envelope_input(&req.input)?;
    let key = common::read_key_file(&req.key, KIND_MEMBER)?;
    common::check_suite(&key.path, key.suite, &input.path, input.suite)?;
    with_suite!(input.suite, S => decrypt_generic::<S>(ctx, req, &mut input, &key, pin.as_ref()))
}

fn decrypt_error(input: &Path, index: u32, e: &DecryptError) -> anyhow::Error {
    match e {
        DecryptError::Verify(v) => err(
            M::EnvelopeInvalid,
            &[&input.display(), &i18n::verify_error(v)],
        ),
        DecryptError::Io(detail) => err(
            M::FileUnreadable,
            &[&input.display(), &tr(M::WhatEnvelope, &[]), detail],
        ),
        other => err(
            M::DecryptFailed,
            &[&index, &input.display(), &i18n::decrypt_error(other)],
        ),
    }
}

fn decrypt_generic<S: Suite>(
    ctx: &Ctx,
    req: &Request,
    input: &mut EnvelopeInput,
    key_input: &KeyInput,
    pin: Option<&OrgPin>,
) -> Result<Vec<WrittenPart>> {
    let file = files::open_envelope::<S>(input)?;
    let verified = file
        .header
        .clone()
        .verify_at(soshiki_client::flows::unix_now())
        .map_err(|e| {
            err(
                M::EnvelopeInvalid,
                &[&input.path.display(), &i18n::verify_error(&e)],
            )
        })?;
    let sender_org = verified.sender().organization();
    if let Some(pin) = pin {
        if !pin.matches(&sender_org.fingerprint()) {
            return Err(err(
                M::SenderOrgNotPinned,
                &[
                    &sender_org.name,
                    &sender_org.fingerprint().display_short(),
                    &pin.text(),
                ],
            ));
        }
    }
    let count = file.header.core.parts.len();
    if let Some(p) = req.part {
        if p as usize >= count {
            return Err(err(M::PartOutOfRange, &[&p, &input.path.display(), &count]));
        }
    }
    let key = common::unlock_member::<S>(ctx, key_input)?;
    let held: Vec<u32> = verified
        .slots_held_by(key.encryption.public_key())
        .into_iter()
        .filter_map(SlotId::part_index)
        .collect();
    let wanted: Vec<u32> = match req.part {
        Some(p) if held.contains(&p) => vec![p],
        Some(p) => {
            return Err(err(
                M::PartNotHeld,
                &[&key.certificate.member_name, &p, &input.path.display()],
            ))
        }
        None if held.is_empty() => {
            return Err(err(
                M::HoldsNothing,
                &[
                    &key_input.path.display(),
                    &key.certificate.member_name,
                    &input.path.display(),
                ],
            ))
        }
        None => held,
    };
    for p in &wanted {
        if !file.header.bodies.contains(p) {
            return Err(err(M::BodyMissing, &[p, &input.path.display()]));
        }
    }
    // Part names come from the sealed metadata (sanitized); without it, `part-N.bin`.
    let meta = verified.open_metadata(&key.encryption).ok();
    let mut used = HashSet::new();
    let mut targets = Vec::with_capacity(wanted.len());
    for p in &wanted {
        let name = meta
            .as_ref()
            .and_then(|m| m.parts.get(*p as usize))
            .map(|i| i.name.as_str())
            .unwrap_or("");
        let mut name = files::safe_part_name(name, *p);
        if !used.insert(name.clone()) {
            name = format!("part-{p}-{name}");
            used.insert(name.clone());
        }
        let path = req.out_dir.join(name);
        files::check_absent(&path, req.force)?;
        targets.push(path);
    }
    std::fs::create_dir_all(&req.out_dir)
        .map_err(|e| err(M::CannotWriteIn, &[&req.out_dir.display(), &e]))?;
    let total: u64 = wanted
        .iter()
        .map(|p| file.header.core.parts[*p as usize].plaintext_len)
        .sum();
    let bar = Progress::new(ctx.progress, total, tr(M::ProgressDecrypt, &[]));
    let mut staged = Vec::with_capacity(wanted.len());
    let mut done = 0u64;
    for (p, target) in wanted.iter().zip(&targets) {
        let mut out = Staged::new(target, req.force)?;
        let base = done;
        {
            let mut w = BufWriter::with_capacity(1 << 20, out.file());
            envelope::decrypt_part(
                &verified,
                &file,
                &mut input.file,
                *p,
                &key.encryption,
                &mut w,
                &mut |d| bar.set(base + d),
            )
            .map_err(|e| decrypt_error(&input.path, *p, &e))?;
            w.flush()
                .map_err(|e| err(M::WriteFailed, &[&target.display(), &e]))?;
        }
        done += file.header.core.parts[*p as usize].plaintext_len;
        staged.push((*p, out));
    }
    bar.finish();
    let mut written = Vec::with_capacity(staged.len());
    for (index, out) in staged {
        let path = out.commit()?;
        written.push(WrittenPart {
            index,
            path,
            len: file.header.core.parts[index as usize].plaintext_len,
        });
    }
    Ok(written)
}

impl From<DecryptArgs> for Request {
    fn from(a: DecryptArgs) -> Self {
        Request {
            input: a.input,
            key: a.key,
            out_dir: a.out,
            part: a.part,
            sender_org: a.sender_org,
            force: a.force,
        }
    }
}

/// `soshiki decrypt`.
pub fn command(ctx: &Ctx, args: DecryptArgs) -> Result<()> {
    for w in decrypt(ctx, &Request::from(args))? {
        println!(
            "{}",
            tr(M::DecryptDone, &[&w.index, &w.len, &w.path.display()])
        );
    }
    Ok(())
}
