//! File handling: reading key, identity and envelope files (binary or armored), staging outputs
//! in temporary files that are renamed into place only on success, safe output names, times.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use soshiki_core::armor;
use soshiki_core::cert::{Fingerprint, Organization};
use soshiki_core::envelope::{peek_file_suite, EnvelopeFile, FileError, PREFIX_LEN};
use soshiki_core::error::DecodeError;
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_core::with_suite;
use tempfile::NamedTempFile;

use crate::i18n::{self, err, M};

/// Largest key, identity or organization file accepted (they are a few KiB).
const MAX_SMALL_FILE: u64 = 1 << 20;
/// Largest armored envelope accepted (base64 of `armor::MAX_ARMORED` plus line breaks).
const MAX_ARMORED_TEXT: u64 =
    (armor::MAX_ARMORED as u64) / 3 * 4 + (armor::MAX_ARMORED as u64) / 48 + 1024;

/// Armor kinds.
pub const ARMOR_ENVELOPE: &str = "ENVELOPE";
pub const ARMOR_IDENTITY: &str = "IDENTITY";
pub const ARMOR_ORGANIZATION: &str = "ORGANIZATION";
pub const ARMOR_KEY: &str = "KEY";

/// Read a small file (key, identity, organization record), removing ASCII armor of `kind`.
/// `what` names the file's role in messages.
pub fn read_small(path: &Path, what: M, kind: &str) -> Result<Vec<u8>> {
    let what = i18n::tr(what, &[]);
    let meta = std::fs::metadata(path).map_err(|e| io_err(path, &what, &e))?;
    if !meta.is_file() {
        return Err(err(M::NotAFile, &[&path.display(), &what]));
    }
    if meta.len() > MAX_SMALL_FILE {
        return Err(err(M::FileTooLarge, &[&path.display(), &what]));
    }
    let bytes = std::fs::read(path).map_err(|e| io_err(path, &what, &e))?;
    dearmor(path, bytes, kind)
}

fn io_err(path: &Path, what: &str, e: &std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        err(M::FileMissing, &[&path.display(), &what])
    } else {
        err(M::FileUnreadable, &[&path.display(), &what, e])
    }
}

/// Remove ASCII armor if present, checking its kind.
pub fn dearmor(path: &Path, bytes: Vec<u8>, kind: &str) -> Result<Vec<u8>> {
    if !armor::is_armored(&bytes) {
        return Ok(bytes);
    }
    let (found, data) = armor::decode(&bytes)
        .map_err(|e| err(M::BadArmor, &[&path.display(), &i18n::decode_error(&e)]))?;
    if found != kind {
        return Err(err(M::WrongArmorKind, &[&path.display(), &found, &kind]));
    }
    Ok(data)
}

/// An envelope opened for reading: the file itself, or a decoded copy of an armored one.
#[derive(Debug)]
pub struct EnvelopeInput {
    /// The path given by the user.
    pub path: PathBuf,
    /// The binary envelope (an anonymous temporary file for armored input).
    pub file: File,
    /// The suite named by the prefix.
    pub suite: SuiteId,
    /// Whether the input was armored.
    pub armored: bool,
}

/// Open an envelope file (binary or armored) and read its suite from the prefix.
pub fn open_envelope_input(path: &Path) -> Result<EnvelopeInput> {
    let what = i18n::tr(M::WhatEnvelope, &[]);
    let mut file = File::open(path).map_err(|e| io_err(path, &what, &e))?;
    let meta = file.metadata().map_err(|e| io_err(path, &what, &e))?;
    if !meta.is_file() {
        return Err(err(M::NotAFile, &[&path.display(), &what]));
    }
    let mut head = Vec::with_capacity(64);
    (&mut file)
        .take(64)
        .read_to_end(&mut head)
        .map_err(|e| io_err(path, &what, &e))?;
    let mut armored = false;
    if armor::is_armored(&head) {
        if meta.len() > MAX_ARMORED_TEXT {
            return Err(err(M::FileTooLarge, &[&path.display(), &what]));
        }
        let mut text = head;
        file.read_to_end(&mut text)
            .map_err(|e| io_err(path, &what, &e))?;
        let data = dearmor(path, text, ARMOR_ENVELOPE)?;
        let mut tmp = tempfile::tempfile().map_err(|e| err(M::TempFileFailed, &[&e]))?;
        tmp.write_all(&data)
            .map_err(|e| err(M::TempFileFailed, &[&e]))?;
        file = tmp;
        armored = true;
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io_err(path, &what, &e))?;
    let mut prefix = Vec::with_capacity(PREFIX_LEN as usize);
    (&mut file)
        .take(PREFIX_LEN)
        .read_to_end(&mut prefix)
        .map_err(|e| io_err(path, &what, &e))?;
    let suite = peek_file_suite(&prefix).map_err(|e| envelope_decode_error(path, &e))?;
    Ok(EnvelopeInput {
        path: path.to_path_buf(),
        file,
        suite,
        armored,
    })
}

/// Read the header of an opened envelope input (no body is read).
pub fn open_envelope<S: Suite>(input: &mut EnvelopeInput) -> Result<EnvelopeFile<S>> {
    EnvelopeFile::<S>::open(&mut input.file).map_err(|e| file_error(&input.path, e))
}

/// An error reading or checking an envelope file, named by its cause.
pub fn file_error(path: &Path, e: FileError) -> anyhow::Error {
    match e {
        FileError::Decode(d) => envelope_decode_error(path, &d),
        FileError::Io(e) => err(
            M::FileUnreadable,
            &[&path.display(), &i18n::tr(M::WhatEnvelope, &[]), &e],
        ),
        FileError::Verify(v) => err(
            M::EnvelopeInvalid,
            &[&path.display(), &i18n::verify_error(&v)],
        ),
        other => err(M::EnvelopeDamaged, &[&path.display(), &other]),
    }
}

/// A decoding error of an envelope file, named by its cause.
pub fn envelope_decode_error(path: &Path, e: &DecodeError) -> anyhow::Error {
    match e {
        DecodeError::BadMagic(_) => err(M::NotAnEnvelope, &[&path.display()]),
        DecodeError::Truncated(_) => err(
            M::EnvelopeTruncated,
            &[&path.display(), &i18n::decode_error(e)],
        ),
        DecodeError::LimitExceeded {
            what: "header length",
            limit,
        } => err(M::HeaderTooLarge, &[&path.display(), limit]),
        _ => err(
            M::EnvelopeDamaged,
            &[&path.display(), &i18n::decode_error(e)],
        ),
    }
}

/// The directory a file lives in (`.` for a bare name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Fail if `path` exists and `force` is not set.
pub fn check_absent(path: &Path, force: bool) -> Result<()> {
    if !force && std::fs::symlink_metadata(path).is_ok() {
        return Err(err(M::OutputExists, &[&path.display()]));
    }
    Ok(())
}

/// A temporary file in the destination's directory, renamed into place by [`Staged::commit`].
/// Dropping it without committing deletes it.
#[derive(Debug)]
pub struct Staged {
    tmp: NamedTempFile,
    target: PathBuf,
    force: bool,
}

impl Staged {
    /// Create a temporary file beside `target`.
    pub fn new(target: &Path, force: bool) -> Result<Self> {
        check_absent(target, force)?;
        let dir = parent_dir(target);
        let tmp = tempfile::Builder::new()
            .prefix(".soshiki-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(|e| err(M::CannotWriteIn, &[&dir.display(), &e]))?;
        Ok(Staged {
            tmp,
            target: target.to_path_buf(),
            force,
        })
    }

    /// The file to write into.
    pub fn file(&mut self) -> &mut File {
        self.tmp.as_file_mut()
    }

    /// Flush to disk and rename to the final path (never replacing a file unless forced).
    pub fn commit(self) -> Result<PathBuf> {
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| err(M::WriteFailed, &[&self.target.display(), &e]))?;
        let target = self.target;
        let res = if self.force {
            self.tmp.persist(&target)
        } else {
            self.tmp.persist_noclobber(&target)
        };
        match res {
            Ok(_) => Ok(target),
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(err(M::OutputExists, &[&target.display()]))
            }
            Err(e) => Err(err(M::WriteFailed, &[&target.display(), &e.error])),
        }
    }
}

/// Write `bytes` to `target` through a staged temporary file.
pub fn write_new(target: &Path, bytes: &[u8], force: bool) -> Result<PathBuf> {
    let mut s = Staged::new(target, force)?;
    s.file()
        .write_all(bytes)
        .map_err(|e| err(M::WriteFailed, &[&target.display(), &e]))?;
    s.commit()
}

/// The file name of a decrypted part: the one policy shared by every client
/// (`soshiki_client::names`, table-tested there).
pub use soshiki_client::names::safe_part_name;

/// A file name derived from a member's name (for per-recipient envelopes).
pub fn safe_member_file_name(name: &str, fallback: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s
        .trim_matches(|c| c == '.' || c == '_')
        .chars()
        .take(100)
        .collect::<String>();
    if s.is_empty() {
        fallback.to_string()
    } else {
        s
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DD HH:MM:SS UTC`.
pub fn format_time(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian calendar, 400-year eras).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// An organization pin given on the command line: a fingerprint (at least 32 hex digits,
/// spaces and colons allowed) or the path of an organization record (`org.pub`).
#[derive(Debug, Clone)]
pub struct OrgPin {
    text: String,
}

impl OrgPin {
    /// Parse a pin argument.
    pub fn parse(arg: &str) -> Result<Self> {
        let p = Path::new(arg);
        if p.is_file() {
            let bytes = read_small(p, M::WhatOrganization, ARMOR_ORGANIZATION)?;
            let suite = soshiki_core::cert::ORGANIZATION_FRAME
                .peek_suite(&bytes)
                .map_err(|e| {
                    err(
                        M::OrganizationInvalid,
                        &[&p.display(), &i18n::decode_error(&e)],
                    )
                })?;
            let fp = with_suite!(suite, S => Organization::<S>::from_bytes(&bytes).map(|o| o.fingerprint()))
                .map_err(|e| err(M::OrganizationInvalid, &[&p.display(), &i18n::decode_error(&e)]))?;
            return Ok(OrgPin { text: fp.to_hex() });
        }
        if arg
            .chars()
            .any(|c| !(c.is_ascii_hexdigit() || c == ' ' || c == ':'))
        {
            return Err(err(M::BadFingerprint, &[&arg]));
        }
        if arg.chars().filter(char::is_ascii_hexdigit).count() < 32 {
            return Err(err(M::FingerprintTooShort, &[&arg]));
        }
        Ok(OrgPin {
            text: arg.to_string(),
        })
    }

    /// Whether a fingerprint matches the pin.
    pub fn matches(&self, fp: &Fingerprint) -> bool {
        fp.matches(&self.text)
    }

    /// The pin as given (for messages).
    pub fn text(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_file_names() {
        assert_eq!(safe_member_file_name("受信代表 高橋", "r"), "受信代表_高橋");
        assert_eq!(safe_member_file_name("../x", "r"), "x");
        assert_eq!(safe_member_file_name("///", "r1"), "r1");
    }

    #[test]
    fn times_format_as_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }
}
