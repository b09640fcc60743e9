//! `soshiki encrypt`: parts with labels, to one or more recipients.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use soshiki_core::armor;
use soshiki_core::cert::{Fingerprint, VerifiedCertificate};
use soshiki_core::envelope::{self, EncryptOptions, Label, PartInfo, PartSource, Sender};
use soshiki_core::suite::Suite;
use soshiki_core::wire::limits;
use soshiki_core::with_suite;

use super::common::{self, IdentityInput, KeyInput, KIND_MEMBER};
use crate::cli::EncryptArgs;
use crate::ctx::Ctx;
use crate::files::{self, OrgPin, Staged, ARMOR_ENVELOPE};
use crate::i18n::{self, err, tr, M};
use crate::progress::Progress;

/// Envelope file extension used when writing one envelope per recipient.
pub const ENVELOPE_EXT: &str = "skenv";

/// What to encrypt.
#[derive(Debug, Clone)]
pub struct Request {
    /// Sender's member key.
    pub key: PathBuf,
    /// Recipient identity files.
    pub to: Vec<PathBuf>,
    /// `FILE[::k=v,k=v]` specifications.
    pub parts: Vec<String>,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Chunk size.
    pub chunk_size: u32,
    /// Optional pin of the recipients' organization.
    pub recipient_org: Option<String>,
    /// ASCII armor output.
    pub armor: bool,
    /// Output file (one recipient) or directory (several).
    pub out: PathBuf,
    /// Overwrite existing outputs.
    pub force: bool,
}

/// One envelope written.
#[derive(Debug, Clone)]
pub struct Written {
    /// Recipient member name.
    pub recipient: String,
    /// Recipient organization name.
    pub org: String,
    /// Recipient organization fingerprint.
    pub org_fingerprint: Fingerprint,
    /// The envelope file.
    pub path: PathBuf,
}

#[derive(Debug)]
pub(crate) struct PartSpec {
    pub(crate) path: PathBuf,
    pub(crate) info: PartInfo,
}

pub(crate) fn parse_part(spec: &str) -> Result<PartSpec> {
    let (file, labels) = match spec.split_once("::") {
        Some((f, l)) => (f, Some(l)),
        None => (spec, None),
    };
    if file.is_empty() {
        return Err(err(M::BadPartSpec, &[&spec]));
    }
    let mut parsed = Vec::new();
    for l in labels
        .into_iter()
        .flat_map(|l| l.split(','))
        .filter(|l| !l.trim().is_empty())
    {
        parsed.push(Label::parse(l).ok_or_else(|| err(M::BadLabel, &[&l, &spec]))?);
    }
    if parsed.len() > limits::MAX_LABELS as usize {
        return Err(err(M::TooManyLabels, &[&spec, &limits::MAX_LABELS]));
    }
    let path = PathBuf::from(file);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    Ok(PartSpec {
        path,
        info: PartInfo {
            name,
            labels: parsed,
        },
    })
}

fn open_part(p: &PartSpec) -> Result<(File, u64)> {
    let what = tr(M::WhatPart, &[]);
    let f = File::open(&p.path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err(M::FileMissing, &[&p.path.display(), &what])
        } else {
            err(M::FileUnreadable, &[&p.path.display(), &what, &e])
        }
    })?;
    let meta = f
        .metadata()
        .map_err(|e| err(M::FileUnreadable, &[&p.path.display(), &what, &e]))?;
    if !meta.is_file() {
        return Err(err(M::NotAFile, &[&p.path.display(), &what]));
    }
    Ok((f, meta.len()))
}

/// Encrypt, writing one envelope per recipient. Every output is staged and renamed into place
/// only when all of them were written.
pub fn encrypt(ctx: &Ctx, req: &Request) -> Result<Vec<Written>> {
    let parts = req
        .parts
        .iter()
        .map(|s| parse_part(s))
        .collect::<Result<Vec<_>>>()?;
    if parts.is_empty() {
        return Err(err(M::NoParts, &[]));
    }
    if parts.len() > limits::MAX_PARTS as usize {
        return Err(err(M::TooManyParts, &[&limits::MAX_PARTS]));
    }
    let mut total = 0u64;
    for p in &parts {
        total += open_part(p)?.1;
    }
    let cs = req.chunk_size;
    if !(limits::MIN_CHUNK..=limits::MAX_CHUNK).contains(&cs) || !cs.is_power_of_two() {
        return Err(err(M::BadChunkSize, &[&cs]));
    }
    if req.armor && total > (armor::MAX_ARMORED as u64) / 2 {
        return Err(err(M::TooLargeForArmor, &[&total]));
    }
    if req.title.len() > limits::MAX_TEXT as usize || req.category.len() > limits::MAX_TEXT as usize
    {
        return Err(err(M::TextTooLong, &[&limits::MAX_TEXT]));
    }
    let key = common::read_key_file(&req.key, KIND_MEMBER)?;
    let ids = req
        .to
        .iter()
        .map(|p| common::read_identity(p))
        .collect::<Result<Vec<_>>>()?;
    for id in &ids {
        common::check_suite(&id.path, id.suite, &key.path, key.suite)?;
    }
    let pin = req
        .recipient_org
        .as_deref()
        .map(OrgPin::parse)
        .transpose()?;
    if req.to.len() > 1 {
        if req.out.is_file() {
            return Err(err(M::OutputNotDirectory, &[&req.out.display()]));
        }
        std::fs::create_dir_all(&req.out)
            .map_err(|e| err(M::CannotWriteIn, &[&req.out.display(), &e]))?;
    }
    with_suite!(key.suite, S => encrypt_generic::<S>(ctx, req, &key, &ids, pin.as_ref(), &parts, total))
}

fn encrypt_generic<S: Suite>(
    ctx: &Ctx,
    req: &Request,
    key_input: &KeyInput,
    ids: &[IdentityInput],
    pin: Option<&OrgPin>,
    parts: &[PartSpec],
    total: u64,
) -> Result<Vec<Written>> {
    let now = files::now();
    // Every recipient is checked before the passphrase is asked for.
    let mut recipients: Vec<VerifiedCertificate<S>> = Vec::with_capacity(ids.len());
    for id in ids {
        let r = common::verify_identity::<S>(id, now)?;
        if let Some(pin) = pin {
            if !pin.matches(&r.organization().fingerprint()) {
                return Err(err(
                    M::RecipientOrgNotPinned,
                    &[
                        &id.path.display(),
                        &r.organization().name,
                        &r.organization().fingerprint().display_short(),
                        &pin.text(),
                    ],
                ));
            }
        }
        // Only the certified roles count (the core refuses any other recipient too).
        if !r.is_representative() {
            return Err(err(
                M::RecipientNotRepresentative,
                &[
                    &id.path.display(),
                    &r.certificate().member_name,
                    &r.certificate().roles.names().join(","),
                ],
            ));
        }
        recipients.push(r);
    }
    let targets = output_paths(req, &recipients)?;
    for t in &targets {
        files::check_absent(t, req.force)?;
    }
    let key = common::unlock_member::<S>(ctx, key_input)?;
    common::check_own_certificate(key_input, &key, now)?;
    let sender = Sender {
        org: &key.organization,
        cert: &key.certificate,
        signing_key: &key.signing,
    };
    let opts = EncryptOptions {
        title: req.title.clone(),
        category: req.category.clone(),
        chunk_size: req.chunk_size,
        created: now,
    };
    let mut rng = rand_core::OsRng;
    let mut staged = Vec::with_capacity(recipients.len());
    for (recipient, target) in recipients.iter().zip(&targets) {
        let mut sources = Vec::with_capacity(parts.len());
        for p in parts {
            let (f, len) = open_part(p)?;
            sources.push(PartSource {
                info: p.info.clone(),
                len,
                reader: Box::new(BufReader::with_capacity(1 << 20, f)),
            });
        }
        let name = &recipient.certificate().member_name;
        let bar = Progress::new(ctx.progress, total, tr(M::ProgressEncrypt, &[name]));
        let mut out = Staged::new(target, req.force)?;
        let result = if req.armor {
            let mut buf = Vec::new();
            let r = envelope::encrypt(
                &sender,
                recipient,
                &opts,
                sources,
                &mut buf,
                &mut rng,
                &mut |d| bar.set(d),
            );
            r.map(|_| armor::encode(ARMOR_ENVELOPE, &buf))
                .and_then(|text| {
                    out.file()
                        .write_all(text.as_bytes())
                        .map_err(soshiki_core::error::EncryptError::Io)
                })
        } else {
            let mut w = BufWriter::with_capacity(1 << 20, out.file());
            envelope::encrypt(
                &sender,
                recipient,
                &opts,
                sources,
                &mut w,
                &mut rng,
                &mut |d| bar.set(d),
            )
            .and_then(|_| w.flush().map_err(soshiki_core::error::EncryptError::Io))
        };
        bar.finish();
        result.map_err(|e| {
            err(
                M::EncryptFailed,
                &[&target.display(), &i18n::encrypt_error(&e)],
            )
        })?;
        staged.push((out, recipient));
    }
    let mut written = Vec::with_capacity(staged.len());
    for (out, recipient) in staged {
        let path = out.commit()?;
        written.push(Written {
            recipient: recipient.certificate().member_name.clone(),
            org: recipient.organization().name.clone(),
            org_fingerprint: recipient.organization().fingerprint(),
            path,
        });
    }
    Ok(written)
}

/// One recipient: the output file itself. Several: `<dir>/<member>.skenv`, unique names.
fn output_paths<S: Suite>(
    req: &Request,
    recipients: &[VerifiedCertificate<S>],
) -> Result<Vec<PathBuf>> {
    if recipients.len() == 1 {
        return Ok(vec![req.out.clone()]);
    }
    let mut out: Vec<PathBuf> = Vec::with_capacity(recipients.len());
    for (i, r) in recipients.iter().enumerate() {
        let base = files::safe_member_file_name(
            &r.certificate().member_name,
            &format!("recipient-{}", i + 1),
        );
        let mut p = req.out.join(format!("{base}.{ENVELOPE_EXT}"));
        let mut n = 2;
        while out.contains(&p) {
            p = req.out.join(format!("{base}-{n}.{ENVELOPE_EXT}"));
            n += 1;
        }
        out.push(p);
    }
    Ok(out)
}

impl From<EncryptArgs> for Request {
    fn from(a: EncryptArgs) -> Self {
        Request {
            key: a.key,
            to: a.to,
            parts: a.parts,
            title: a.title,
            category: a.category,
            chunk_size: a.chunk_size,
            recipient_org: a.recipient_org,
            armor: a.armor,
            out: a.out,
            force: a.force,
        }
    }
}

/// `soshiki encrypt`.
pub fn command(ctx: &Ctx, args: EncryptArgs) -> Result<()> {
    let req = &Request::from(args);
    let written = encrypt(ctx, req)?;
    for w in &written {
        println!(
            "{}",
            tr(
                M::EncryptDone,
                &[
                    &req.parts.len(),
                    &w.recipient,
                    &w.org,
                    &w.org_fingerprint.display_short(),
                    &w.path.display()
                ]
            )
        );
    }
    Ok(())
}

/// Where `Path` is used by callers that build requests (the demo).
pub fn part_spec(path: &Path, labels: &[(&str, &str)]) -> String {
    let mut s = path.display().to_string();
    if !labels.is_empty() {
        s.push_str("::");
        s.push_str(
            &labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    s
}
