//! `soshiki inspect` (header, hop chain, signature check; never decrypts a body) and
//! `soshiki verify` (header, hops and body digests, without any key).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use soshiki_core::envelope::{self, describe_hop, EnvelopeHeader, SlotId};
use soshiki_core::error::DecryptError;
use soshiki_core::scheme::HopAuth;
use soshiki_core::suite::Suite;
use soshiki_core::with_suite;

use super::common::{self, KeyInput, KIND_MEMBER};
use crate::cli::{InspectArgs, VerifyArgs};
use crate::ctx::Ctx;
use crate::files::{self, OrgPin};
use crate::i18n::{self, err, tr, M};

/// The name of a slot's current holder, read from the (possibly unverified) header.
pub fn holder_name<S: Suite>(h: &EnvelopeHeader<S>, slot: SlotId) -> Option<String> {
    let s = h.slot(slot)?;
    Some(match s.hops.last() {
        Some(hop) => describe_hop(h, hop).1,
        None => h.core.recipient_cert.member_name.clone(),
    })
}

/// The hop chain of every slot, one line per hop.
pub fn hop_chain<S: Suite>(h: &EnvelopeHeader<S>, indent: &str) -> String {
    let mut s = String::new();
    for slot in &h.slots {
        let name = match slot.slot.part_index() {
            None => tr(M::SlotMetadata, &[]),
            Some(i) => tr(M::SlotPart, &[&i]),
        };
        let _ = writeln!(
            s,
            "{indent}{name}: {}",
            tr(M::HeldBy, &[&holder_name(h, slot.slot).unwrap_or_default()])
        );
        if slot.hops.is_empty() {
            let _ = writeln!(s, "{indent}  {}", tr(M::NoHops, &[]));
        }
        for (i, hop) in slot.hops.iter().enumerate() {
            let (from, to) = describe_hop(h, hop);
            let auth = match hop.auth {
                HopAuth::Proof(_) => tr(M::HopProof, &[]),
                HopAuth::Signature(_) => tr(M::HopSignature, &[]),
            };
            let _ = writeln!(
                s,
                "{indent}  {}. {from} → {to}  {}  {auth}",
                i + 1,
                files::format_time(hop.time)
            );
        }
    }
    s
}

/// `soshiki inspect`: print the report; exit non-zero if verification failed.
pub fn inspect_command(ctx: &Ctx, args: InspectArgs) -> Result<()> {
    let (path, key) = (args.input.as_path(), args.key.as_deref());
    let mut input = files::open_envelope_input(path)?;
    let key = match key {
        Some(k) => {
            let k = common::read_key_file(k, KIND_MEMBER)?;
            common::check_suite(&k.path, k.suite, &input.path, input.suite)?;
            Some(k)
        }
        None => None,
    };
    let suite = input.suite;
    let (report, failure) = with_suite!(suite, S => {
        let file = files::open_envelope::<S>(&mut input)?;
        report::<S>(ctx, path, input.armored, &file.header, key.as_ref())?
    });
    print!("{report}");
    match failure {
        Some(reason) => Err(err(M::EnvelopeInvalid, &[&path.display(), &reason])),
        None => Ok(()),
    }
}

fn report<S: Suite>(
    ctx: &Ctx,
    path: &Path,
    armored: bool,
    h: &EnvelopeHeader<S>,
    key: Option<&KeyInput>,
) -> Result<(String, Option<String>)> {
    let c = &h.core;
    let mut s = String::new();
    let armor_note = if armored {
        tr(M::ArmoredNote, &[])
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "{}",
        tr(M::InspectEnvelope, &[&path.display(), &armor_note])
    );
    let _ = writeln!(s, "  {}", tr(M::InspectSuite, &[&S::ID]));
    let _ = writeln!(s, "  {}", tr(M::InspectId, &[&hex::encode(c.envelope_id)]));
    let _ = writeln!(
        s,
        "  {}",
        tr(M::InspectCreated, &[&files::format_time(c.created)])
    );
    let _ = writeln!(
        s,
        "  {}",
        tr(
            M::InspectSender,
            &[
                &c.sender_cert.member_name,
                &c.sender_org.name,
                &c.sender_org.fingerprint().display_short()
            ]
        )
    );
    let _ = writeln!(
        s,
        "  {}",
        tr(
            M::InspectRecipient,
            &[
                &c.recipient_cert.member_name,
                &c.recipient_org.name,
                &c.recipient_org.fingerprint().display_short()
            ]
        )
    );
    let _ = writeln!(s, "  {}", tr(M::InspectChunk, &[&c.chunk_size]));
    let _ = writeln!(s, "  {}", tr(M::InspectParts, &[&c.parts.len()]));
    for (i, p) in c.parts.iter().enumerate() {
        let i = i as u32;
        let holder = SlotId::part(i)
            .and_then(|slot| holder_name(h, slot))
            .unwrap_or_else(|| tr(M::NotInCopy, &[]));
        let body = if h.bodies.contains(&i) {
            tr(M::BodyPresent, &[])
        } else {
            tr(M::BodyAbsent, &[])
        };
        let _ = writeln!(
            s,
            "    {}",
            tr(M::InspectPart, &[&i, &p.plaintext_len, &holder, &body])
        );
    }
    let _ = writeln!(s, "  {}", tr(M::InspectHops, &[]));
    s.push_str(&hop_chain(h, "    "));
    let bodies = if h.bodies.is_empty() {
        tr(M::NoneWord, &[])
    } else {
        h.bodies
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(s, "  {}", tr(M::InspectBodies, &[&bodies]));
    let verified = h.clone().verify_at(soshiki_client::flows::unix_now());
    let failure = match &verified {
        Ok(_) => {
            let hops: usize = h.slots.iter().map(|s| s.hops.len()).sum();
            let _ = writeln!(s, "  {}", tr(M::InspectSignaturesOk, &[&hops]));
            None
        }
        Err(e) => {
            let reason = i18n::verify_error(e);
            let _ = writeln!(s, "  {}", tr(M::InspectSignaturesFailed, &[&reason]));
            Some(reason)
        }
    };
    if let Some(k) = key {
        let _ = writeln!(s, "  {}", tr(M::InspectMetadata, &[&k.path.display()]));
        match &verified {
            Err(_) => {
                let _ = writeln!(s, "    {}", tr(M::MetadataNeedsValid, &[]));
            }
            Ok(v) => {
                let key = common::unlock_member::<S>(ctx, k)?;
                match v.open_metadata(&key.encryption) {
                    Ok(m) => {
                        let _ = writeln!(s, "    {}", tr(M::MetaTitle, &[&m.title]));
                        let _ = writeln!(s, "    {}", tr(M::MetaCategory, &[&m.category]));
                        for (i, p) in m.parts.iter().enumerate() {
                            let labels = p
                                .labels
                                .iter()
                                .map(|l| format!("{}={}", l.key, l.value))
                                .collect::<Vec<_>>()
                                .join(", ");
                            let _ = writeln!(s, "    {}", tr(M::MetaPart, &[&i, &p.name, &labels]));
                        }
                    }
                    Err(DecryptError::NotRecipient(_)) => {
                        let _ = writeln!(
                            s,
                            "    {}",
                            tr(M::KeyHoldsNoSlot, &[&key.certificate.member_name])
                        );
                    }
                    Err(e) => {
                        let _ = writeln!(
                            s,
                            "    {}",
                            tr(M::MetadataFailed, &[&i18n::decrypt_error(&e)])
                        );
                    }
                }
            }
        }
    }
    Ok((s, failure))
}

/// Verify an envelope file without a key. Returns a one-line summary.
pub fn verify(
    path: &Path,
    sender_org: Option<&str>,
    recipient_org: Option<&str>,
) -> Result<String> {
    let sender_pin = sender_org.map(OrgPin::parse).transpose()?;
    let recipient_pin = recipient_org.map(OrgPin::parse).transpose()?;
    let mut input = files::open_envelope_input(path)?;
    with_suite!(input.suite, S => {
        let file = files::open_envelope::<S>(&mut input)?;
        let h = &file.header;
        let v = h.clone().verify_at(soshiki_client::flows::unix_now()).map_err(|e| err(M::EnvelopeInvalid, &[&path.display(), &i18n::verify_error(&e)]))?;
        let sorg = v.sender().organization();
        if let Some(pin) = &sender_pin {
            if !pin.matches(&sorg.fingerprint()) {
                return Err(err(M::SenderOrgNotPinned, &[&sorg.name, &sorg.fingerprint().display_short(), &pin.text()]));
            }
        }
        let rorg = v.recipient().organization();
        if let Some(pin) = &recipient_pin {
            if !pin.matches(&rorg.fingerprint()) {
                return Err(err(M::RecipientOrgMismatch, &[&rorg.name, &rorg.fingerprint().display_short(), &pin.text()]));
            }
        }
        for b in &h.bodies {
            envelope::check_body_digest(&file, &mut input.file, *b).map_err(|e| match e {
                envelope::FileError::Verify(e) => err(M::EnvelopeInvalid, &[&path.display(), &i18n::verify_error(&e)]),
                other => files::file_error(path, other),
            })?;
        }
        let hops: usize = h.slots.iter().map(|s| s.hops.len()).sum();
        Ok(tr(
            M::VerifyOk,
            &[&path.display(), &v.sender().certificate().member_name, &sorg.name, &sorg.fingerprint().display_short(), &hops, &h.bodies.len()],
        ))
    })
}

/// `soshiki verify`.
pub fn verify_command(args: VerifyArgs) -> Result<()> {
    let report = verify(
        &args.input,
        args.sender_org.as_deref(),
        args.recipient_org.as_deref(),
    )?;
    println!("{report}");
    Ok(())
}
