//! Browser state signed by the member key, numbered, and mirrored on the server.
//!
//! Whoever can write the browser profile (but has no passphrase) must not be able to change the
//! member's trust decisions unnoticed: the pinned organizations, the newest revocation-list
//! serials and audit checkpoints seen. A signature alone stops edits, not a **rollback** (an
//! older signed copy put back) or a **deletion**. So each saved state carries a serial number
//! that grows with every save, inside what the member key signs together with the member's
//! certificate id and the kind of state; and a copy of the newest one is kept on the server
//! (`PUT /v1/me/local-state/{kind}`, which refuses a serial that is not greater than the stored
//! one). At unlock the browser takes whichever verified copy has the higher serial
//! ([`reconcile`]). The server alone cannot forge a state (it lacks the member key); rolling one
//! back needs both the profile and the server.
//!
//! Sealed state (all integers big-endian):
//! `"SKBS" ‖ u8 version (1) ‖ u16 len ‖ certificate id (hex) ‖ u16 len ‖ kind ‖ u64 serial
//! ‖ u32 len ‖ text ‖ u16 len ‖ signature`, where the signature is the member's over
//! [`signed_message`] of the same certificate id, kind, serial and text.

use serde::Serialize;

use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"SKBS";
const VERSION: u8 = 1;
const DOMAIN: &[u8] = b"soshiki/v1/browser-state";

/// Largest sealed state (the server's cap on `PUT /v1/me/local-state/{kind}`).
pub const MAX_SEALED: usize = 64 * 1024;
/// Longest state text: what fits in [`MAX_SEALED`] with the framing, the certificate id, a
/// kind and a signature.
pub const MAX_TEXT: usize = MAX_SEALED - 512;
/// Longest kind name.
pub const MAX_KIND: usize = 32;

/// A kind name: 1 to 32 of `a-z`, `0-9`, `-`, starting with a letter (the server's pattern).
pub fn check_kind(kind: &str) -> Result<()> {
    let ok = !kind.is_empty()
        && kind.len() <= MAX_KIND
        && kind.as_bytes()[0].is_ascii_lowercase()
        && kind
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "a state kind is 1 to 32 of a-z, 0-9 and -, starting with a letter",
        ))
    }
}

/// What the member key signs: `"soshiki/v1/browser-state" ‖ u16 len ‖ certificate id ‖ u16 len
/// ‖ kind ‖ u64 serial ‖ u32 len ‖ text`.
pub fn signed_message(cert_id: &str, kind: &str, serial: u64, text: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(DOMAIN.len() + cert_id.len() + kind.len() + text.len() + 16);
    m.extend_from_slice(DOMAIN);
    push_u16(&mut m, cert_id.as_bytes());
    push_u16(&mut m, kind.as_bytes());
    m.extend_from_slice(&serial.to_be_bytes());
    m.extend_from_slice(&(text.len() as u32).to_be_bytes());
    m.extend_from_slice(text.as_bytes());
    m
}

fn push_u16(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(&b[..b.len().min(usize::from(u16::MAX))]);
}

/// A decoded (not yet verified) sealed state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sealed {
    /// The signer's certificate id.
    pub cert_id: String,
    /// Kind of state.
    pub kind: String,
    /// Serial number (from 1).
    pub serial: u64,
    /// The state, as text (JSON in the web UI).
    pub text: String,
    /// The member's signature over [`signed_message`].
    pub signature: Vec<u8>,
}

impl Sealed {
    /// Encode.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 200);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        push_u16(&mut out, self.cert_id.as_bytes());
        push_u16(&mut out, self.kind.as_bytes());
        out.extend_from_slice(&self.serial.to_be_bytes());
        out.extend_from_slice(&(self.text.len() as u32).to_be_bytes());
        out.extend_from_slice(self.text.as_bytes());
        push_u16(&mut out, &self.signature);
        out
    }

    /// Decode strictly (exact lengths, UTF-8, nothing after the signature).
    pub fn from_bytes(b: &[u8]) -> Result<Sealed> {
        let bad = || Error::malformed("not a sealed browser state");
        if b.len() > MAX_SEALED {
            return Err(bad());
        }
        let mut r = Reader(b);
        if r.take(4).ok_or_else(bad)? != MAGIC || r.take(1).ok_or_else(bad)? != [VERSION] {
            return Err(bad());
        }
        let cert_id = r.text16().ok_or_else(bad)?;
        let kind = r.text16().ok_or_else(bad)?;
        let serial = u64::from_be_bytes(r.take(8).ok_or_else(bad)?.try_into().map_err(|_| bad())?);
        let n = u32::from_be_bytes(r.take(4).ok_or_else(bad)?.try_into().map_err(|_| bad())?);
        let text =
            String::from_utf8(r.take(n as usize).ok_or_else(bad)?.to_vec()).map_err(|_| bad())?;
        let signature = r.bytes16().ok_or_else(bad)?.to_vec();
        if !r.0.is_empty() || serial == 0 {
            return Err(bad());
        }
        Ok(Sealed {
            cert_id,
            kind,
            serial,
            text,
            signature,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(a)
    }
    fn bytes16(&mut self) -> Option<&'a [u8]> {
        let n = u16::from_be_bytes(self.take(2)?.try_into().ok()?);
        self.take(usize::from(n))
    }
    fn text16(&mut self) -> Option<String> {
        String::from_utf8(self.bytes16()?.to_vec()).ok()
    }
}

/// A verified state: what [`crate::api::Session::open_local_state`] returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocalState {
    /// Serial number.
    pub serial: u64,
    /// The state text.
    pub text: String,
}

/// How one copy compares with the chosen one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CopyStatus {
    /// It is the chosen state (or a byte-identical copy of it).
    Current,
    /// There is no copy.
    Missing,
    /// It verifies but is older than (or differs at the same serial from) the chosen one:
    /// replace it.
    Older,
    /// It does not verify as this member's state of this kind: ignore it and replace it.
    Invalid,
}

/// What [`crate::api::Session::reconcile_local_state`] returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reconciled {
    /// The chosen state's serial (0: no valid copy; the next save uses 1).
    pub serial: u64,
    /// The chosen state's text (`None`: no valid copy).
    pub text: Option<String>,
    /// The chosen sealed state, to write wherever a copy is not `Current`.
    #[serde(skip)]
    pub sealed: Option<Vec<u8>>,
    /// The browser profile's copy.
    pub local: CopyStatus,
    /// The server's copy.
    pub server: CopyStatus,
}

/// Choose between the profile's and the server's copies, each already checked by `open`
/// (`None`: absent; `Some(Err)`: does not verify): the verified copy with the higher serial
/// wins; at equal serials the server's (the one every device of the member sees).
pub fn reconcile(
    local: Option<(&[u8], Result<LocalState>)>,
    server: Option<(&[u8], Result<LocalState>)>,
) -> Reconciled {
    let valid = |c: &Option<(&[u8], Result<LocalState>)>| match c {
        Some((b, Ok(s))) => Some((b.to_vec(), s.clone())),
        _ => None,
    };
    let (lv, sv) = (valid(&local), valid(&server));
    let chosen = match (&lv, &sv) {
        (Some(l), Some(s)) => Some(if l.1.serial > s.1.serial { l } else { s }),
        (Some(l), None) => Some(l),
        (None, Some(s)) => Some(s),
        (None, None) => None,
    }
    .cloned();
    let status = |copy: &Option<(&[u8], Result<LocalState>)>| match (copy, &chosen) {
        (None, _) => CopyStatus::Missing,
        (Some((_, Err(_))), _) => CopyStatus::Invalid,
        (Some((b, Ok(_))), Some((cb, _))) if *b == cb.as_slice() => CopyStatus::Current,
        (Some(_), _) => CopyStatus::Older,
    };
    Reconciled {
        local: status(&local),
        server: status(&server),
        serial: chosen.as_ref().map_or(0, |c| c.1.serial),
        text: chosen.as_ref().map(|c| c.1.text.clone()),
        sealed: chosen.map(|c| c.0),
    }
}
