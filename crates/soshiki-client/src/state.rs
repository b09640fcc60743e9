//! The client's small local state file: pinned organizations, login tokens, pending
//! enrollments and audit anchors (`client-state.json` in a directory the caller chooses).
//!
//! Pins are the client's trust anchors: an organization is pinned only after its fingerprint
//! was compared with one obtained out of band ([`ClientState::pin`] takes the fingerprint text
//! the user typed). Every certificate the server hands out is verified against a pinned record,
//! never against a record the server supplies.
//!
//! The file holds no secret key. A bearer token is a credential for one hour; the file is
//! written with mode 0600 on Unix.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use soshiki_core::cert::{Fingerprint, Organization};
use soshiki_core::suite::{Suite, SuiteId};

use crate::audit::AuditAnchor;
use crate::proto::B64;

/// File name inside the state directory.
pub const STATE_FILE: &str = "client-state.json";

/// A pinned organization record.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct PinnedOrg {
    /// Name from the record.
    pub name: String,
    /// Suite name.
    pub suite: String,
    /// The self-signed record.
    pub record: B64,
}

/// A login token for one member on one server.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SavedToken {
    /// Server base URL.
    pub server: String,
    /// Certificate id.
    pub cert_id: String,
    /// The bearer token.
    pub token: String,
    /// Expiry (Unix seconds).
    pub expires: i64,
}

/// An enrollment waiting for approval.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SavedEnrollment {
    /// Server base URL.
    pub server: String,
    /// Organization id.
    pub org_id: String,
    /// Member name requested.
    pub member_name: String,
    /// Where the pending key file was written.
    pub key_file: PathBuf,
    /// Request time.
    pub created: i64,
    /// The request's enrollment code, to tell the administrator.
    #[serde(default)]
    pub code: String,
}

/// The whole state file.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClientState {
    /// Default server base URL.
    #[serde(default)]
    pub server: Option<String>,
    /// Pinned organizations by fingerprint (hex).
    #[serde(default)]
    pub pins: BTreeMap<String, PinnedOrg>,
    /// Login tokens by `server ␠ cert id`.
    #[serde(default)]
    pub tokens: BTreeMap<String, SavedToken>,
    /// Pending enrollments by enrollment id.
    #[serde(default)]
    pub enrollments: BTreeMap<String, SavedEnrollment>,
    /// Audit anchors by organization id.
    #[serde(default)]
    pub audit_anchors: BTreeMap<String, AuditAnchor>,
    /// The highest revocation-list serial seen, by organization id: an older list (a server
    /// replaying an old "active" status) is refused.
    #[serde(default)]
    pub revocation_serials: BTreeMap<String, u64>,
    /// The newest organization-signed audit checkpoint seen, by organization id: every trail
    /// read later must extend it, and the server may not withhold it.
    #[serde(default)]
    pub audit_checkpoints: BTreeMap<String, B64>,
    /// The time of the newest signed rule set an agent applied, by owner certificate id: an
    /// older signed rule set (restored by someone who can write the server's database) is
    /// refused.
    #[serde(default)]
    pub rules_seen: BTreeMap<String, u64>,
}

/// Why a pin was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinError {
    /// The record does not decode or its self-signature is invalid.
    #[error("not a valid organization record: {0}")]
    Record(String),
    /// The fingerprint the user gave does not match the record.
    #[error("the organization's fingerprint {found} does not match the expected {expected}")]
    Mismatch {
        /// What the user typed.
        expected: String,
        /// The record's fingerprint.
        found: String,
    },
}

impl ClientState {
    /// The state file's path in `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    /// Load from `dir` (an absent file is an empty state).
    pub fn load(dir: &Path) -> io::Result<Self> {
        match std::fs::read(Self::path(dir)) {
            Ok(b) => serde_json::from_slice(&b)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e),
        }
    }

    /// Save atomically to `dir` (created if needed).
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let json = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        let tmp = dir.join(format!(".{STATE_FILE}.tmp"));
        {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            io::Write::write_all(&mut f, &json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, Self::path(dir))
    }

    /// Pin an organization record after checking it against the fingerprint the user obtained
    /// out of band (full hex or at least 32 hex digits, as `Fingerprint::matches` accepts).
    pub fn pin(&mut self, record: &[u8], expected_fingerprint: &str) -> Result<String, PinError> {
        let suite = soshiki_core::cert::ORGANIZATION_FRAME
            .peek_suite(record)
            .map_err(|e| PinError::Record(e.to_string()))?;
        let (fp, name) = soshiki_core::with_suite!(suite, S => {
            let o = Organization::<S>::from_bytes(record).map_err(|e| PinError::Record(e.to_string()))?;
            (o.fingerprint(), o.name.clone())
        });
        if !fp.matches(expected_fingerprint) {
            return Err(PinError::Mismatch {
                expected: expected_fingerprint.to_string(),
                found: fp.to_hex(),
            });
        }
        self.pins.insert(
            fp.to_hex(),
            PinnedOrg {
                name,
                suite: suite.name().to_string(),
                record: B64(record.to_vec()),
            },
        );
        Ok(fp.to_hex())
    }

    /// Pin a record the caller created itself (e.g. the administrator's own organization).
    pub fn pin_own<S: Suite>(&mut self, org: &Organization<S>) -> String {
        let fp = org.fingerprint().to_hex();
        self.pins.insert(
            fp.clone(),
            PinnedOrg {
                name: org.name.clone(),
                suite: S::ID.name().to_string(),
                record: B64(org.to_bytes()),
            },
        );
        fp
    }

    /// A pinned organization by fingerprint text (full hex or a prefix of at least 32 hex
    /// digits).
    pub fn pinned<S: Suite>(&self, fingerprint: &str) -> Option<Organization<S>> {
        self.pins.iter().find_map(|(fp, p)| {
            let f = crate::proto::parse_fingerprint(fp)?;
            if !f.matches(fingerprint) || p.suite != S::ID.name() {
                return None;
            }
            Organization::<S>::from_bytes(&p.record.0)
                .ok()
                .filter(|o| o.fingerprint() == f)
        })
    }

    /// The suite of a pinned organization.
    pub fn pinned_suite(&self, fingerprint: &str) -> Option<SuiteId> {
        self.pins.iter().find_map(|(fp, p)| {
            let f = crate::proto::parse_fingerprint(fp)?;
            f.matches(fingerprint)
                .then(|| SuiteId::from_name(&p.suite))
                .flatten()
        })
    }

    /// Whether an organization is pinned.
    pub fn is_pinned(&self, fp: &Fingerprint) -> bool {
        self.pins.contains_key(&fp.to_hex())
    }

    fn token_key(server: &str, cert_id: &str) -> String {
        format!("{server} {cert_id}")
    }

    /// Remember a token.
    pub fn save_token(&mut self, server: &str, token: &crate::proto::json::Token) {
        self.tokens.insert(
            Self::token_key(server, &token.cert_id),
            SavedToken {
                server: server.into(),
                cert_id: token.cert_id.clone(),
                token: token.token.clone(),
                expires: token.expires,
            },
        );
    }

    /// A token still valid at `now` (with a minute of margin).
    pub fn token(&self, server: &str, cert_id: &str, now: i64) -> Option<&SavedToken> {
        self.tokens
            .get(&Self::token_key(server, cert_id))
            .filter(|t| t.expires > now + 60)
    }

    /// Remember revocation-list serials (keeping the highest per organization).
    pub fn remember_revocation_serials(&mut self, seen: &BTreeMap<String, u64>) {
        for (org, serial) in seen {
            let e = self.revocation_serials.entry(org.clone()).or_insert(0);
            *e = (*e).max(*serial);
        }
    }

    /// Forget expired tokens.
    pub fn prune_tokens(&mut self, now: i64) {
        self.tokens.retain(|_, t| t.expires > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soshiki_core::cert::OrganizationKey;
    use soshiki_core::suite::P256;

    #[test]
    fn pin_checks_the_fingerprint_and_roundtrips() {
        let mut rng = rand_core::OsRng;
        let org = OrganizationKey::<P256>::generate("大町市", 1, &mut rng).expect("org");
        let other = OrganizationKey::<P256>::generate("大町市", 1, &mut rng).expect("org");
        let rec = org.organization().to_bytes();
        let mut st = ClientState::default();
        let wrong = other.organization().fingerprint().to_hex();
        assert!(matches!(
            st.pin(&rec, &wrong),
            Err(PinError::Mismatch { .. })
        ));
        let short = org.organization().fingerprint().display_short();
        let fp = st.pin(&rec, &short).expect("pin by short form");
        assert_eq!(st.pinned::<P256>(&fp).as_ref(), Some(org.organization()));
        assert!(st
            .pinned::<soshiki_core::suite::Ristretto255>(&fp)
            .is_none());
        let dir = std::env::temp_dir().join(format!("soshiki-state-{}", std::process::id()));
        st.save(&dir).expect("save");
        let back = ClientState::load(&dir).expect("load");
        assert_eq!(back, st);
        std::fs::remove_dir_all(&dir).ok();
    }
}
