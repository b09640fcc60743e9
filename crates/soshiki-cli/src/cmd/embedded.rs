//! The demo engine: organizations and members enrolled through the real protocol against a
//! management server, envelopes sent, forwarded (by hand or by the agent), recalled and opened
//! through the client library, with every step printed and every expectation checked.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};
use rand_core::{OsRng, RngCore};
use soshiki_client::flows::{self, EnrollmentOutcome, OutgoingPart, PartData, SendOptions};
use soshiki_client::{Client, ClientError, ClientOptions};
use soshiki_core::cert::{OrganizationKey, Roles};
use soshiki_core::envelope::{self, EnvelopeFile, Label, PartInfo};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::suite::P256;

use crate::cmd::agent;
use crate::i18n::{self, tr, M};

/// The suite the demos use.
pub type S = P256;

/// Needle length for the plaintext scan of the server's files.
const NEEDLE: usize = 16;

/// A client error in the user's language (core errors through the core translations; the
/// server's own message is kept as it came).
pub fn client_error_text(e: &ClientError) -> String {
    use soshiki_core::envelope::FileError;
    match e {
        ClientError::Transport(_) => {
            // The cause (TLS, refused connection, …) is in the source chain.
            let mut causes = String::new();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                let t = s.to_string();
                if !causes.contains(&t) {
                    causes.push_str(": ");
                    causes.push_str(&t);
                }
                src = s.source();
            }
            tr(M::CeTransport, &[&causes])
        }
        ClientError::Api { code, message, .. } if code == "quota-exceeded" => {
            tr(M::CeQuota, &[message])
        }
        ClientError::Api { code, .. } if code == "no-sending-role" => tr(M::CeNoSendingRole, &[]),
        ClientError::Api { code, message, .. } if code == "too-many-pending-uploads" => {
            tr(M::CeTooManyPending, &[message])
        }
        ClientError::Api {
            status, message, ..
        } => tr(M::CeApi, &[status, message]),
        ClientError::Untrusted(m) => tr(M::CeUntrusted, &[m]),
        ClientError::Decode(d) => i18n::decode_error(d),
        ClientError::Verify(v) => i18n::verify_error(v),
        ClientError::Encrypt(x) => i18n::encrypt_error(x),
        ClientError::Decrypt(x) => i18n::decrypt_error(x),
        ClientError::Forward(x) => i18n::forward_error(x),
        ClientError::KeyFile(x) => i18n::key_file_error(x),
        ClientError::File(FileError::Decode(d)) => i18n::decode_error(d),
        ClientError::File(FileError::Verify(v)) => i18n::verify_error(v),
        ClientError::Io(x) => tr(M::DcIo, &[x]),
        ClientError::NotLoggedIn => tr(M::CeNotLoggedIn, &[]),
        ClientError::Trust(t) => i18n::trust_error(t),
        other => other.to_string(),
    }
}

/// Turn a client error into a CLI error naming the step.
pub fn step_err(step: M, e: ClientError) -> anyhow::Error {
    anyhow!(tr(M::StepFailed, &[&tr(step, &[]), &client_error_text(&e)]))
}

/// An organization of the demo.
pub struct DemoOrg {
    /// Short ASCII tag (file names).
    pub tag: String,
    /// The organization key (held by its administrator).
    pub key: OrganizationKey<S>,
    /// Index of the administrator in [`Demo::members`].
    pub admin: usize,
}

/// A member of the demo, logged in.
pub struct DemoMember {
    /// Short ASCII tag (file names).
    pub tag: String,
    /// Display name.
    pub name: String,
    /// Roles, for display.
    pub roles: Roles,
    /// Index of its organization.
    pub org: usize,
    /// Its keys.
    pub key: MemberKey<S>,
    /// Its logged-in client.
    pub client: Client,
}

impl DemoMember {
    /// Certificate id.
    pub fn id(&self) -> String {
        self.key.certificate.fingerprint().to_hex()
    }
}

/// A part to send: name, labels, plaintext.
pub struct DemoPart {
    /// Part name.
    pub name: String,
    /// `key=value` labels.
    pub labels: Vec<String>,
    /// Plaintext.
    pub body: Vec<u8>,
}

impl DemoPart {
    /// A part.
    pub fn new(name: &str, labels: &[&str], body: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            labels: labels.iter().map(|l| (*l).to_string()).collect(),
            body,
        }
    }
}

/// A sent envelope.
pub struct Sent {
    /// Envelope id.
    pub envelope: String,
    /// The representative's delivery.
    pub delivery: String,
    /// Sender index.
    pub from: usize,
    /// Plaintexts by part index.
    pub bodies: Vec<Vec<u8>>,
}

/// The demo state.
pub struct Demo {
    /// Server URL.
    pub url: String,
    /// Organizations.
    pub orgs: Vec<DemoOrg>,
    /// Members (administrators included).
    pub members: Vec<DemoMember>,
    /// Only create organizations and members (for `serve --demo`).
    pub seed_only: bool,
    checks: u32,
    failures: u32,
    needles: Vec<[u8; NEEDLE]>,
    kdf: KdfParams,
    /// Connection options (a CA certificate for a TLS server).
    pub options: ClientOptions,
}

fn now() -> u64 {
    flows::unix_now()
}

fn role_text(r: Roles) -> String {
    r.names().join(",")
}

/// Add the 16-byte prefixes of every line (and windows of long lines) of `text` to `out`.
fn needles_of(text: &[u8], out: &mut Vec<[u8; NEEDLE]>) {
    for line in text.split(|b| *b == b'\n') {
        let mut i = 0;
        while i + NEEDLE <= line.len() {
            let mut n = [0u8; NEEDLE];
            n.copy_from_slice(&line[i..i + NEEDLE]);
            out.push(n);
            i += NEEDLE;
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            files_under(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

impl Demo {
    /// A demo against the server at `url`.
    pub fn new(url: &str, seed_only: bool) -> Self {
        Self {
            url: url.trim_end_matches('/').to_string(),
            orgs: Vec::new(),
            members: Vec::new(),
            seed_only,
            checks: 0,
            failures: 0,
            needles: Vec::new(),
            kdf: KdfParams::MINIMUM,
            options: ClientOptions::default(),
        }
    }

    fn client(&self) -> Result<Client> {
        Client::new(&self.url, &self.options).map_err(|e| step_err(M::StepConnect, e))
    }

    /// Record a check.
    pub fn check(&mut self, ok: bool, text: String) {
        self.checks += 1;
        if ok {
            println!("{}", tr(M::CheckOk, &[&text]));
        } else {
            self.failures += 1;
            println!("{}", tr(M::CheckFailed, &[&text]));
        }
    }

    /// Checks made and failed.
    pub fn tally(&self) -> (u32, u32) {
        (self.checks, self.failures)
    }

    /// A member's display name.
    pub fn name(&self, m: usize) -> &str {
        &self.members[m].name
    }

    fn org_name(&self, o: usize) -> &str {
        &self.orgs[o].key.organization().name
    }

    /// Create and register an organization and its first administrator (logged in).
    pub async fn org(&mut self, tag: &str, name: &str) -> Result<usize> {
        let t = now();
        let key = OrganizationKey::<S>::generate(name, t.saturating_sub(3600), &mut OsRng)
            .map_err(|e| anyhow!("{e}"))?;
        let mut client = self.client()?;
        flows::register_organization(&client, key.organization())
            .await
            .map_err(|e| step_err(M::StepRegister, e))?;
        // A member's name is data (in its certificate), Japanese like the organizations' names.
        let admin_name = format!("{name} 管理者");
        let admin = flows::certify_new_member(
            &key,
            &admin_name,
            Roles::ADMIN,
            t.saturating_sub(3600),
            t + 365 * 86400,
        )
        .map_err(|e| step_err(M::StepRegister, e))?;
        flows::register_first_admin(&client, &admin)
            .await
            .map_err(|e| step_err(M::StepRegister, e))?;
        flows::login(&mut client, &admin)
            .await
            .map_err(|e| step_err(M::StepLogin, e))?;
        flows::publish_revocations(
            &client,
            &admin,
            &key,
            &[],
            soshiki_client::trust::DEFAULT_REVOCATION_VALIDITY,
        )
        .await
        .map_err(|e| step_err(M::StepRevoke, e))?;
        // As an office would run it: only staff given the sender role send outside.
        flows::set_policy(
            &client,
            &admin,
            &soshiki_client::proto::json::Policy {
                sender_role_required: true,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| step_err(M::StepRegister, e))?;
        let o = self.orgs.len();
        println!(
            "{}",
            tr(
                M::ChainOrg,
                &[&name, &key.organization().fingerprint().display_short()]
            )
        );
        self.members.push(DemoMember {
            tag: format!("{tag}-admin"),
            name: admin_name,
            roles: Roles::ADMIN,
            org: o,
            key: admin,
            client,
        });
        self.orgs.push(DemoOrg {
            tag: tag.into(),
            key,
            admin: self.members.len() - 1,
        });
        Ok(o)
    }

    /// Enroll a member through the real flow (keys generated on "its device", request with
    /// proof of possession, approval by the administrator with the organization key), log in.
    pub async fn member(
        &mut self,
        org: usize,
        tag: &str,
        name: &str,
        roles: Roles,
    ) -> Result<usize> {
        let t = now();
        let mut pass = [0u8; 16];
        OsRng.fill_bytes(&mut pass);
        let mut client = self.client()?;
        let record = self.orgs[org].key.organization().clone();
        let ticket = flows::enroll(
            &client,
            &record,
            name,
            roles,
            t.saturating_sub(3600),
            t + 365 * 86400,
            &pass,
            self.kdf,
        )
        .await
        .map_err(|e| step_err(M::StepEnroll, e))?;
        let admin = &self.members[self.orgs[org].admin];
        flows::approve_enrollment(
            &admin.client,
            &admin.key,
            &self.orgs[org].key,
            &ticket.id,
            &ticket.code,
        )
        .await
        .map_err(|e| step_err(M::StepApprove, e))?;
        let key = match flows::finish_enrollment(
            &client,
            &ticket.id,
            &record,
            &ticket.pending_key_file,
            &pass,
        )
        .await
        .map_err(|e| step_err(M::StepEnroll, e))?
        {
            EnrollmentOutcome::Approved(k) => *k,
            _ => return Err(anyhow!(tr(M::EnrollNotApproved, &[&name]))),
        };
        flows::login(&mut client, &key)
            .await
            .map_err(|e| step_err(M::StepLogin, e))?;
        println!(
            "{}",
            tr(M::ChainMember, &[&name, &role_text(roles), &record.name])
        );
        self.members.push(DemoMember {
            tag: tag.into(),
            name: name.into(),
            roles,
            org,
            key,
            client,
        });
        Ok(self.members.len() - 1)
    }

    /// Send an envelope from member `from` to organization `to`'s representative (the sender
    /// fetches the organization by the fingerprint it got out of band and verifies the
    /// representative's certificate against it).
    pub async fn send(
        &mut self,
        from: usize,
        to: usize,
        title: &str,
        category: &str,
        parts: Vec<DemoPart>,
    ) -> Result<Sent> {
        let fp = self.orgs[to].key.organization().fingerprint().to_hex();
        let m = &self.members[from];
        let org = flows::fetch_organization::<S>(&m.client, &fp)
            .await
            .map_err(|e| step_err(M::StepSend, e))?;
        let rep = flows::representative(&m.client, &org)
            .await
            .map_err(|e| step_err(M::StepSend, e))?;
        let mut bodies = Vec::new();
        let mut out = Vec::new();
        for p in parts {
            let labels = p
                .labels
                .iter()
                .map(|l| Label::parse(l).ok_or_else(|| anyhow!(tr(M::BadDemoLabel, &[l]))))
                .collect::<Result<Vec<_>>>()?;
            needles_of(&p.body, &mut self.needles);
            bodies.push(p.body.clone());
            out.push(OutgoingPart {
                info: PartInfo {
                    name: p.name,
                    labels,
                },
                data: PartData::Bytes(p.body),
            });
        }
        needles_of(title.as_bytes(), &mut self.needles);
        let opts = SendOptions {
            title: title.into(),
            category: category.into(),
            chunk_size: 1024,
            temp_dir: None,
        };
        let n = bodies.len();
        let c = flows::send(&m.client, &m.key, &rep, &opts, out, None)
            .await
            .map_err(|e| step_err(M::StepSend, e))?;
        println!(
            "{}",
            tr(
                M::ChainSend,
                &[
                    &m.name,
                    &self.org_name(m.org),
                    &rep.certificate().member_name,
                    &org.name,
                    &title,
                    &n
                ]
            )
        );
        Ok(Sent {
            envelope: c.envelope_id,
            delivery: c.delivery_id,
            from,
            bodies,
        })
    }

    /// Forward parts of `delivery` held by `by`: `plan` is `(target member, parts)`. Returns
    /// the new delivery ids in plan order.
    pub async fn forward(
        &mut self,
        by: usize,
        delivery: &str,
        plan: &[(usize, Vec<u32>)],
    ) -> Result<Vec<String>> {
        let m = &self.members[by];
        let wire: Vec<(String, Vec<u32>)> = plan
            .iter()
            .map(|(t, p)| (self.members[*t].id(), p.clone()))
            .collect();
        let res = flows::forward(&m.client, &m.key, delivery, &wire)
            .await
            .map_err(|e| step_err(M::StepForward, e))?;
        let mut ids = Vec::new();
        for (t, p) in plan {
            let id = self.members[*t].id();
            let d = res
                .deliveries
                .iter()
                .find(|d| d.holder_cert == id)
                .ok_or_else(|| anyhow!(tr(M::StepFailed, &[&tr(M::StepForward, &[]), &id])))?;
            println!(
                "{}",
                tr(
                    M::ChainForward,
                    &[&m.name, &parts_text(p), &self.members[*t].name]
                )
            );
            ids.push(d.id.clone());
        }
        Ok(ids)
    }

    /// Store `rules` (`CONDITION`, target member) for forwarder `by`, then run one agent pass as
    /// `by` (the same code as `soshiki agent --once`). Returns `(target, parts, delivery,
    /// parent delivery)`.
    pub async fn agent(
        &mut self,
        by: usize,
        rules: &[(&str, usize)],
    ) -> Result<Vec<(usize, Vec<u32>, String, String)>> {
        let texts: Vec<String> = rules
            .iter()
            .map(|(c, t)| format!("{c} -> {}", self.members[*t].id()))
            .collect();
        let m = &self.members[by];
        flows::set_rules(&m.client, &m.key, &texts)
            .await
            .map_err(|e| step_err(M::StepRules, e))?;
        for (c, t) in rules {
            println!(
                "{}",
                tr(M::ChainRule, &[&m.name, c, &self.members[*t].name])
            );
        }
        let (done, _) = agent::run_once(&m.client, &m.key, 0)
            .await
            .map_err(|e| match e {
                agent::AgentError::Client(e) => step_err(M::StepAgent, e),
                agent::AgentError::Rules(why) => anyhow!(tr(M::AgentRulesRefused, &[&why])),
            })?;
        let mut out = Vec::new();
        for f in done {
            for (cert, parts, id) in f.routes {
                let t = self
                    .members
                    .iter()
                    .position(|x| x.id() == cert)
                    .ok_or_else(|| anyhow!(tr(M::StepFailed, &[&tr(M::StepAgent, &[]), &cert])))?;
                println!(
                    "{}",
                    tr(
                        M::ChainAgentForward,
                        &[
                            &m.name,
                            &f.title,
                            &parts_text(&parts),
                            &self.members[t].name
                        ]
                    )
                );
                out.push((t, parts, id, f.delivery.clone()));
            }
            if !f.unmatched.is_empty() {
                println!(
                    "{}",
                    tr(M::ChainAgentKept, &[&m.name, &parts_text(&f.unmatched)])
                );
            }
        }
        Ok(out)
    }

    /// Recall an unopened delivery.
    pub async fn recall(&mut self, by: usize, delivery: &str, holder: usize) -> Result<()> {
        let m = &self.members[by];
        let info = flows::recall(&m.client, &m.key, delivery)
            .await
            .map_err(|e| step_err(M::StepRecall, e))?;
        println!(
            "{}",
            tr(M::ChainRecall, &[&m.name, &self.members[holder].name])
        );
        let ok = info.status == "recalled";
        self.check(
            ok,
            tr(
                M::CheckRecalled,
                &[&self.members[holder].name, &info.status],
            ),
        );
        Ok(())
    }

    /// Member `m` opens `delivery` and must get exactly `expected` (part index, plaintext).
    pub async fn open_expect(
        &mut self,
        m: usize,
        delivery: &str,
        expected: &[(u32, &[u8])],
    ) -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| anyhow!(tr(M::TempFileFailed, &[&e])))?;
        let mem = &self.members[m];
        let opened = flows::open(&mem.client, &mem.key, delivery, dir.path(), None)
            .await
            .map_err(|e| step_err(M::StepOpen, e))?;
        let got: Vec<u32> = opened.parts.iter().map(|p| p.index).collect();
        let names: Vec<String> = opened.parts.iter().map(|p| p.info.name.clone()).collect();
        println!(
            "{}",
            tr(
                M::ChainOpen,
                &[&mem.name, &parts_text(&got), &names.join(", ")]
            )
        );
        let mut ok = got.len() == expected.len();
        for (idx, body) in expected {
            match opened.parts.iter().find(|p| p.index == *idx) {
                Some(p) => {
                    let data = std::fs::read(&p.path).unwrap_or_default();
                    ok &= data == *body;
                }
                None => ok = false,
            }
        }
        let want: Vec<u32> = expected.iter().map(|(i, _)| *i).collect();
        let name = mem.name.clone();
        self.check(ok, tr(M::CheckReaderParts, &[&name, &parts_text(&want)]));
        Ok(())
    }

    /// Member `m` tries to open `delivery` (held by `holder`) and must fail.
    pub async fn cannot_open(&mut self, m: usize, delivery: &str, holder: usize) -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| anyhow!(tr(M::TempFileFailed, &[&e])))?;
        let mem = &self.members[m];
        let r = flows::open(&mem.client, &mem.key, delivery, dir.path(), None).await;
        let written = std::fs::read_dir(dir.path()).map_or(0, Iterator::count);
        let (ok, why) = match r {
            Ok(_) => (false, String::from("opened")),
            Err(e) => (written == 0, client_error_text(&e)),
        };
        let text = tr(
            M::CheckCannotOpen,
            &[&mem.name, &self.members[holder].name, &why],
        );
        self.check(ok, text);
        Ok(())
    }

    /// The reader `reader` downloads its envelope bytes for `delivery`; the forwarder `by` gets
    /// that copy and tries to decrypt every part with its own key: it must fail.
    pub async fn stolen_copy(&mut self, by: usize, reader: usize, delivery: &str) -> Result<()> {
        let r = &self.members[reader];
        let mut bytes = Vec::new();
        r.client
            .download_envelope(delivery, &mut bytes, None)
            .await
            .map_err(|e| step_err(M::StepOpen, e))?;
        let fwd = &self.members[by];
        let mut src = std::io::Cursor::new(bytes);
        let mut opened_any = false;
        if let Ok(file) = EnvelopeFile::<S>::open(&mut src) {
            if let Ok(verified) = file.header.clone().verify() {
                for index in 0..file.header.core.parts.len() as u32 {
                    let mut out = Vec::new();
                    let r = envelope::decrypt_part(
                        &verified,
                        &file,
                        &mut src,
                        index,
                        &fwd.key.encryption,
                        &mut out,
                        &mut |_| {},
                    );
                    opened_any |= r.is_ok();
                }
            }
        }
        let text = tr(M::CheckStolenCopy, &[&fwd.name, &r.name]);
        self.check(!opened_any, text);
        Ok(())
    }

    /// Print the sender's receipts for an envelope.
    pub async fn receipts(&mut self, sent: &Sent) -> Result<()> {
        let m = &self.members[sent.from];
        let r = m
            .client
            .receipts(&sent.envelope)
            .await
            .map_err(|e| step_err(M::StepReceipts, e))?;
        println!("{}", tr(M::ReceiptsHeader, &[&m.name]));
        for x in &r.receipts {
            let kind = match x.kind.as_str() {
                "delivered" => tr(M::RcDelivered, &[]),
                "forwarded" => tr(M::RcForwarded, &[]),
                "downloaded" => tr(M::RcDownloaded, &[]),
                "opened" => tr(M::RcOpened, &[]),
                "recalled" => tr(M::RcRecalled, &[]),
                other => other.to_string(),
            };
            println!(
                "{}",
                tr(
                    M::ReceiptLine,
                    &[&kind, &parts_text(&x.parts), &x.holder_roles.join(",")]
                )
            );
        }
        Ok(())
    }

    /// Verify an organization's audit trail as its administrator and anchor it with a
    /// checkpoint signed by the organization key.
    pub async fn audit(&mut self, org: usize) -> Result<()> {
        let a = &self.members[self.orgs[org].admin];
        let r = flows::checkpoint(&a.client, &a.key, &self.orgs[org].key, None, None, &|_| {
            false
        })
        .await
        .map(|(report, _)| report);
        let name = self.org_name(org).to_string();
        match r {
            Ok(rep) => self.check(true, tr(M::CheckAudit, &[&name, &rep.entries.len()])),
            Err(e) => self.check(false, tr(M::CheckAuditFailed, &[&name, &e])),
        }
        Ok(())
    }

    /// Scan every file of the server's data directory for plaintext and member secret keys.
    pub fn scan_server(&mut self, data_dir: &Path) -> Result<()> {
        let mut set: HashSet<[u8; NEEDLE]> = self.needles.iter().copied().collect();
        for m in &self.members {
            let e = m.key.encryption.to_secret_bytes();
            let s = m.key.signing.to_secret_bytes();
            for k in [&e[..], &s[..]] {
                let mut n = [0u8; NEEDLE];
                n.copy_from_slice(&k[..NEEDLE]);
                set.insert(n);
            }
        }
        let mut files = Vec::new();
        files_under(data_dir, &mut files)
            .map_err(|e| anyhow!(tr(M::ReadFailed, &[&data_dir.display(), &e])))?;
        let mut total = 0u64;
        let mut leaks = Vec::new();
        for f in &files {
            let data = match std::fs::read(f) {
                Ok(d) => d,
                // SQLite removes its journal files while closing.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(anyhow!(tr(M::ReadFailed, &[&f.display(), &e]))),
            };
            total += data.len() as u64;
            if data.windows(NEEDLE).any(|w| {
                let mut n = [0u8; NEEDLE];
                n.copy_from_slice(w);
                set.contains(&n)
            }) {
                leaks.push(f.display().to_string());
            }
        }
        let ok = leaks.is_empty() && !set.is_empty();
        let text = if ok {
            tr(M::CheckServerBlind, &[&files.len(), &total])
        } else {
            tr(M::CheckServerLeak, &[&leaks.join(", ")])
        };
        self.check(ok, text);
        Ok(())
    }
}

/// `0, 2` style list of parts.
pub fn parts_text(p: &[u32]) -> String {
    p.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}
