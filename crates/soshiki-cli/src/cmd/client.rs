//! The interactive management-server commands: `org`, `member`, `login`, `send`, `inbox`,
//! `deliver` (model-2 forward), `recall`, `open`, `receipts`, `audit`, `rules`, `agent`.
//!
//! Each receives its argument struct (crates/soshiki-cli/src/cli/client.rs) whole. A command run
//! as a member starts the same way, in [`MemberSession::open`]: it loads the client state (pins,
//! tokens, pending enrollments, audit anchors; `--state`, default `~/.soshiki`), unlocks the
//! member's key file, and logs in to `--server` (with a saved token while it is valid); then it
//! runs one step of the client library.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Result};
use rand_core::OsRng;
use soshiki_client::flows::{self, EnrollmentOutcome, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::json::Policy;
use soshiki_client::{Client, ClientError, ClientOptions, ClientState};
use soshiki_core::cert::{OrganizationKey, Roles};
use soshiki_core::keyfile::{peek_key_file, MemberKey};
use soshiki_core::suite::{Suite, SuiteId};

use crate::cli::{
    AgentArgs, ApproveArgs, CheckpointArgs, ConnArgs, DeliveryArgs, EnrollArgs, ForwardArgs,
    InboxArgs, KeyArgs, OpenArgs, OrgCreateArgs, OrgFingerprintArgs, OrgPolicyArgs, OrgShowArgs,
    PartnerAddArgs, PartnerRemoveArgs, ReceiptsArgs, RevocationsArgs, RevokeArgs, RulesArgs,
    SendArgs, SenderRoleArg,
};
use crate::cmd::agent;
use crate::cmd::common::{
    read_key_file, unlock_member, unlock_member_keeping_passphrase, unlock_org, KeyInput,
    KIND_MEMBER, KIND_ORGANIZATION,
};
use crate::cmd::embedded::{client_error_text, parts_text, step_err};
use crate::ctx::Ctx;
use crate::files::{self, ARMOR_KEY};
use crate::i18n::{self, err, tr, M};
use crate::progress::Progress;
use soshiki_client::trust::RulesSignature;

/// The client state and the server it talks to: `--server` (else the state's default, else
/// `http://127.0.0.1:7780`), `--state`, `--ca`.
struct Session {
    dir: PathBuf,
    state: ClientState,
    server: String,
    options: ClientOptions,
    /// The clients made, whose revocation-list serials are saved with the state.
    clients: Vec<Client>,
}

fn state_dir(c: &ConnArgs) -> PathBuf {
    c.state.clone().unwrap_or_else(|| {
        std::env::var_os("HOME").map_or_else(
            || PathBuf::from(".soshiki"),
            |h| PathBuf::from(h).join(".soshiki"),
        )
    })
}

impl Session {
    fn open(c: &ConnArgs) -> Result<Self> {
        let dir = state_dir(c);
        let state = ClientState::load(&dir)
            .map_err(|e| anyhow!(tr(M::StateUnreadable, &[&dir.display(), &e])))?;
        let server = c
            .server
            .clone()
            .or_else(|| state.server.clone())
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", soshiki_server::DEFAULT_PORT));
        let ca = match &c.ca {
            Some(p) => Some(
                std::fs::read(p)
                    .map_err(|e| err(M::FileUnreadable, &[&p.display(), &"PEM", &e]))?,
            ),
            None => None,
        };
        Ok(Self {
            dir,
            state,
            server: server.trim_end_matches('/').to_string(),
            options: ClientOptions {
                ca_certificate_pem: ca,
                connect_timeout: None,
            },
            clients: Vec::new(),
        })
    }

    fn save(&mut self) -> Result<()> {
        for c in &self.clients {
            self.state
                .remember_revocation_serials(&c.revocation_serials());
        }
        self.state.server = Some(self.server.clone());
        self.state.prune_tokens(flows::unix_now() as i64);
        self.state
            .save(&self.dir)
            .map_err(|e| anyhow!(tr(M::CannotWriteIn, &[&self.dir.display(), &e])))
    }

    /// A client that starts from the revocation-list serials seen before (a server replaying
    /// an older list is refused) and reports the new ones to [`Session::save`].
    fn client(&mut self) -> Result<Client> {
        let c =
            Client::new(&self.server, &self.options).map_err(|e| step_err(M::StepConnect, e))?;
        c.set_revocation_serials(&self.state.revocation_serials);
        self.clients.push(c.clone());
        Ok(c)
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow!(tr(M::ServeFailed, &[&e])))
}

fn write_key(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = files::parent_dir(path);
    let tmp = tempfile::NamedTempFile::new_in(&dir)
        .map_err(|e| err(M::CannotWriteIn, &[&dir.display(), &e]))?;
    std::fs::write(tmp.path(), bytes).map_err(|e| err(M::WriteFailed, &[&path.display(), &e]))?;
    tmp.persist(path)
        .map_err(|e| err(M::WriteFailed, &[&path.display(), &e.error]))?;
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    files::check_absent(path, force)?;
    write_key(path, bytes)
}

/// A logged-in client for `key`: a saved token if still valid, else a fresh login.
async fn logged_in<S: Suite>(s: &mut Session, key: &MemberKey<S>) -> Result<Client> {
    let mut client = s.client()?;
    let id = key.certificate.fingerprint().to_hex();
    if let Some(t) = s.state.token(&s.server, &id, flows::unix_now() as i64) {
        client.set_token(Some(t.token.clone()));
        return Ok(client);
    }
    let token = flows::login(&mut client, key)
        .await
        .map_err(|e| step_err(M::StepLogin, e))?;
    s.state.save_token(&s.server, &token);
    s.save()?;
    Ok(client)
}

/// A member's session: the client state, the member's unlocked key, and a client logged in as
/// the member. Every command run as a member (`--key FILE` and [`ConnArgs`]) opens one first;
/// the key file is read before (`read_key_file`) because its suite picks `S`.
struct MemberSession<S: Suite> {
    /// The client state and the server.
    session: Session,
    /// The member's key, unlocked.
    me: MemberKey<S>,
    /// A client logged in as the member.
    client: Client,
}

impl<S: Suite> MemberSession<S> {
    /// Load the client state, unlock the member key (asking for its passphrase), log in.
    async fn open(ctx: &Ctx, key: &KeyInput, conn: &ConnArgs) -> Result<Self> {
        let (session, me) = Self::unlock(ctx, key, conn)?;
        Self::log_in(session, me).await
    }

    /// As [`MemberSession::open`] for an administrator who also signs with the organization
    /// key: that key is unlocked after the member key and before anything is sent.
    async fn open_with_org_key(
        ctx: &Ctx,
        key: &KeyInput,
        conn: &ConnArgs,
        org_key: &Path,
    ) -> Result<(Self, OrganizationKey<S>)> {
        let (session, me) = Self::unlock(ctx, key, conn)?;
        let org = unlock_org::<S>(ctx, &read_key_file(org_key, KIND_ORGANIZATION)?)?;
        Ok((Self::log_in(session, me).await?, org))
    }

    fn unlock(ctx: &Ctx, key: &KeyInput, conn: &ConnArgs) -> Result<(Session, MemberKey<S>)> {
        let session = Session::open(conn)?;
        let me = unlock_member::<S>(ctx, key)?;
        Ok((session, me))
    }

    async fn log_in(mut session: Session, me: MemberKey<S>) -> Result<Self> {
        let client = logged_in(&mut session, &me).await?;
        Ok(Self {
            session,
            me,
            client,
        })
    }
}

fn is_pending<S: Suite>(key: &MemberKey<S>) -> bool {
    key.organization.name == flows::PENDING_ORG_NAME
}

// ---------------------------------------------------------------------------------------------
// org

/// `org create`: create the organization key and its first administrator's key locally,
/// register both, pin the organization.
pub fn org_create(ctx: &Ctx, args: OrgCreateArgs) -> Result<()> {
    let OrgCreateArgs {
        name,
        suite,
        out,
        admin_name,
        admin_out,
        force,
        registration_token_file,
        conn,
    } = &args;
    let (suite, force) = (SuiteId::from(*suite), *force);
    let token = match registration_token_file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .map_err(|e| anyhow!(tr(M::FileUnreadable, &[&f.display(), &"token", &e])))?,
        ),
        None => None,
    };
    files::check_absent(out, force)?;
    files::check_absent(admin_out, force)?;
    let pass = ctx.new_passphrase(out)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(suite, S => rt.block_on(async {
        let mut s = Session::open(conn)?;
        let t = flows::unix_now();
        let key = OrganizationKey::<S>::generate(name, t, &mut OsRng)
            .map_err(|e| anyhow!(i18n::verify_error(&e)))?;
        let admin = flows::certify_new_member(&key, admin_name, Roles::ADMIN, t, t + 5 * 365 * 86400)
            .map_err(|e| step_err(M::StepRegister, e))?;
        let client = s.client()?;
        client
            .register_org_with_token(&key.organization().to_bytes(), token.as_deref())
            .await
            .map_err(|e| step_err(M::StepRegister, e))?;
        flows::register_first_admin(&client, &admin)
            .await
            .map_err(|e| step_err(M::StepRegister, e))?;
        let mut client = client;
        flows::login(&mut client, &admin)
            .await
            .map_err(|e| step_err(M::StepLogin, e))?;
        flows::publish_revocations(&client, &admin, &key, &[], soshiki_client::trust::DEFAULT_REVOCATION_VALIDITY)
            .await
            .map_err(|e| step_err(M::StepRevoke, e))?;
        let kb = key.to_key_file(pass.as_bytes(), ctx.kdf, &mut OsRng)
            .map_err(|e| anyhow!(i18n::key_file_error(&e)))?;
        let ab = admin.to_key_file(pass.as_bytes(), ctx.kdf, &mut OsRng)
            .map_err(|e| anyhow!(i18n::key_file_error(&e)))?;
        write_new(out, &kb, force)?;
        write_new(admin_out, &ab, force)?;
        let fp = s.state.pin_own(key.organization());
        s.save()?;
        println!("{}", tr(M::OrgCreated, &[&name, &fp, &out.display(), &admin_out.display(),
            &admin.certificate.fingerprint().to_hex()]));
        Ok(())
    }))
}

/// `org show FINGERPRINT`: fetch, check the fingerprint, pin it, list the verified members.
pub fn org_show(args: OrgShowArgs) -> Result<()> {
    let OrgShowArgs {
        fingerprint,
        suite,
        conn,
    } = &args;
    let suite = SuiteId::from(*suite);
    let rt = runtime()?;
    soshiki_core::with_suite!(suite, S => rt.block_on(async {
        let mut s = Session::open(conn)?;
        let client = s.client()?;
        let org = flows::fetch_organization::<S>(&client, fingerprint)
            .await
            .map_err(|e| step_err(M::StepFetchOrg, e))?;
        let fp = s.state.pin(&org.to_bytes(), fingerprint)
            .map_err(|e| anyhow!(tr(M::PinFailed, &[&e])))?;
        s.save()?;
        println!("{}", tr(M::OrgShow, &[&org.name, &fp]));
        let info = client.org(&fp).await.map_err(|e| step_err(M::StepFetchOrg, e))?;
        println!("{}", policy_text(&info));
        let dir = match flows::directory(&client, &org).await {
            Ok(d) => d,
            Err(ClientError::NotLoggedIn | ClientError::Api { status: 401, .. }) => {
                println!("{}", tr(M::MembersNeedLogin, &[]));
                return Ok(());
            }
            Err(e) => return Err(step_err(M::StepFetchOrg, e)),
        };
        for e in dir {
            let ok = if e.usable().is_some() { tr(M::Verified, &[]) } else { e.info.status.clone() };
            println!("{}", tr(M::MemberLine, &[&e.info.name, &e.info.role_names.join(","), &e.info.cert_id, &ok]));
        }
        Ok(())
    }))
}

/// What `org policy` changes (`None`: keep the current value).
#[derive(Clone, Debug, Default)]
struct PolicyChange {
    /// `--expiry DAYS|none`.
    pub expiry: Option<String>,
    /// `--retention DAYS|none`.
    pub retention: Option<String>,
    /// `--max-validity DAYS|none`.
    pub max_validity: Option<String>,
    /// `--quota SIZE|none`.
    pub quota: Option<String>,
    /// `--sender-role required|not-required`.
    pub sender_role_required: Option<bool>,
}

impl PolicyChange {
    fn is_empty(&self) -> bool {
        self.expiry.is_none()
            && self.retention.is_none()
            && self.max_validity.is_none()
            && self.quota.is_none()
            && self.sender_role_required.is_none()
    }

    /// The current policy with these changes, every value checked.
    fn apply(&self, current: &soshiki_client::proto::json::OrgInfo) -> Result<Policy> {
        let days = |opt: &Option<String>, name: &str, now: Option<u32>| -> Result<Option<u32>> {
            match opt.as_deref().map(str::trim) {
                None => Ok(now),
                Some(v) if v.eq_ignore_ascii_case("none") => Ok(None),
                Some(v) => match v.parse::<u32>() {
                    Ok(d) if (1..=36_500).contains(&d) => Ok(Some(d)),
                    _ => Err(err(M::BadPolicyDays, &[&name, &v])),
                },
            }
        };
        let quota = match self.quota.as_deref() {
            None => current.quota_bytes,
            Some(v) => crate::size::parse_quota(v).map_err(|e| match e {
                crate::size::SizeError::Malformed => err(M::BadSize, &[&v]),
                crate::size::SizeError::TooLarge => err(M::SizeTooLarge, &[&v]),
            })?,
        };
        Ok(Policy {
            expiry_days: days(&self.expiry, "--expiry", current.expiry_days)?,
            retention_days: days(&self.retention, "--retention", current.retention_days)?,
            max_validity_days: days(
                &self.max_validity,
                "--max-validity",
                current.max_validity_days,
            )?,
            quota_bytes: quota,
            sender_role_required: self
                .sender_role_required
                .unwrap_or(current.sender_role_required),
        })
    }
}

/// An organization's policy, for people.
fn policy_text(o: &soshiki_client::proto::json::OrgInfo) -> String {
    let days = |d: Option<u32>| d.map_or_else(|| tr(M::NoLimit, &[]), |d| tr(M::Days, &[&d]));
    let quota = o
        .quota_bytes
        .map_or_else(|| tr(M::NoLimit, &[]), crate::size::format_size);
    tr(
        M::PolicyShow,
        &[
            &days(o.expiry_days),
            &days(o.retention_days),
            &days(o.max_validity_days),
            &quota,
            &tr(
                if o.sender_role_required {
                    M::SenderRoleRequired
                } else {
                    M::SenderRoleNotRequired
                },
                &[],
            ),
        ],
    )
}

/// `org policy --key ADMIN [--expiry …] [--retention …] [--max-validity …] [--quota …]`:
/// print the policy, or change the given parts (signed `set-policy`) and print the result.
///
/// Not [`MemberSession::open`]: showing the policy needs no login, so it logs in only to change.
pub fn org_policy(ctx: &Ctx, args: OrgPolicyArgs) -> Result<()> {
    let change = &PolicyChange {
        expiry: args.expiry,
        retention: args.retention,
        max_validity: args.max_validity,
        quota: args.quota,
        sender_role_required: args
            .sender_role
            .map(|r| matches!(r, SenderRoleArg::Required)),
    };
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let mut s = Session::open(&args.conn)?;
        let admin = unlock_member::<S>(ctx, &key)?;
        let org_id = admin.organization.fingerprint().to_hex();
        let client = s.client()?;
        let current = client.org(&org_id).await.map_err(|e| step_err(M::StepFetchOrg, e))?;
        if change.is_empty() {
            println!("{}", tr(M::PolicyOf, &[&current.name]));
            println!("{}", policy_text(&current));
            return Ok(());
        }
        let policy = change.apply(&current)?;
        let client = logged_in(&mut s, &admin).await?;
        let info = flows::set_policy(&client, &admin, &policy)
            .await
            .map_err(|e| step_err(M::StepPolicy, e))?;
        s.save()?;
        println!("{}", tr(M::PolicySet, &[&info.name]));
        println!("{}", policy_text(&info));
        Ok(())
    }))
}

/// `org fingerprint KEYFILE`: the organization fingerprint of an organization or member key.
pub fn org_fingerprint(ctx: &Ctx, args: OrgFingerprintArgs) -> Result<()> {
    let path = args.key.as_path();
    let bytes = files::read_small(path, M::WhatKeyFile, ARMOR_KEY)?;
    let (suite, kind) = peek_key_file(&bytes).map_err(|e| {
        err(
            M::KeyFileInvalid,
            &[&path.display(), &i18n::decode_error(&e)],
        )
    })?;
    soshiki_core::with_suite!(suite, S => {
        let org = if kind == KIND_ORGANIZATION {
            let k = read_key_file(path, KIND_ORGANIZATION)?;
            unlock_org::<S>(ctx, &k)?.organization().clone()
        } else {
            unlock_member::<S>(ctx, &read_key_file(path, KIND_MEMBER)?)?.organization
        };
        println!("{}", tr(M::OrgFingerprint, &[&org.fingerprint().display_short(), &org.fingerprint().to_hex()]));
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// member

/// `member enroll`: generate keys here, send the request, write the pending key file.
pub fn member_enroll(ctx: &Ctx, args: EnrollArgs) -> Result<()> {
    let EnrollArgs {
        org: org_fp,
        suite,
        name,
        roles,
        days,
        out,
        force,
        conn,
    } = &args;
    let (suite, days, force) = (SuiteId::from(*suite), *days, *force);
    let roles = Roles::parse(roles).ok_or_else(|| err(M::BadRoles, &[&roles]))?;
    if days == 0 || days > 36500 {
        return Err(err(M::BadDays, &[&days]));
    }
    files::check_absent(out, force)?;
    let pass = ctx.new_passphrase(out)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(suite, S => rt.block_on(async {
        let mut s = Session::open(conn)?;
        let client = s.client()?;
        let org = flows::fetch_organization::<S>(&client, org_fp)
            .await
            .map_err(|e| step_err(M::StepFetchOrg, e))?;
        let fp = s.state.pin(&org.to_bytes(), org_fp)
            .map_err(|e| anyhow!(tr(M::PinFailed, &[&e])))?;
        let t = flows::unix_now();
        let ticket = flows::enroll(&client, &org, name, roles, t, t + u64::from(days) * 86400, pass.as_bytes(), ctx.kdf)
            .await
            .map_err(|e| step_err(M::StepEnroll, e))?;
        write_new(out, &ticket.pending_key_file, force)?;
        let key_file = out.canonicalize().unwrap_or_else(|_| out.to_path_buf());
        s.state.enrollments.insert(ticket.id.clone(), soshiki_client::state::SavedEnrollment {
            server: s.server.clone(),
            org_id: fp,
            member_name: name.into(),
            key_file,
            created: t as i64,
            code: ticket.code.clone(),
        });
        s.save()?;
        println!("{}", tr(M::EnrollSent, &[&name, &org.name, &ticket.id, &out.display()]));
        println!("{}", tr(M::EnrollCode, &[&ticket.code]));
        Ok(())
    }))
}

/// The enrollment code the administrator types (`--code`, else asked on a terminal).
fn enrollment_code(given: Option<&str>, name: &str, days: u64) -> Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if let Some(c) = given {
        return Ok(c.to_string());
    }
    if !std::io::stdin().is_terminal() {
        return Err(err(M::NeedCode, &[]));
    }
    eprint!("{}", tr(M::PromptCode, &[&name, &days]));
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|_| err(M::NeedCode, &[]))?;
    Ok(line.trim().to_string())
}

/// `member approve [ID]`: without ID, list pending enrollments; with ID, certify and approve
/// the request whose enrollment code the administrator gives (`--code` or typed).
pub fn member_approve(ctx: &Ctx, args: ApproveArgs) -> Result<()> {
    let (org_key, code) = (args.org_key.as_deref(), args.code.as_deref());
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { me: admin, client, .. } = MemberSession::<S>::open(ctx, &key, &args.conn).await?;
        match args.id.as_deref() {
            None => {
                let list = flows::pending_enrollments(&client, &admin)
                    .await
                    .map_err(|e| step_err(M::StepApprove, e))?;
                if list.is_empty() {
                    println!("{}", tr(M::NoPending, &[]));
                }
                for r in list {
                    match &r.request {
                        Ok(req) => println!("{}", tr(M::PendingLine, &[&r.info.id, &req.member_name, &req.roles.names().join(","), &req.validity_days()])),
                        Err(e) => println!("{}", tr(M::PendingBad, &[&r.info.id, e])),
                    }
                }
            }
            Some(id) => {
                let p = org_key.ok_or_else(|| err(M::NeedOrgKey, &[]))?;
                let k = read_key_file(p, KIND_ORGANIZATION)?;
                let ok = unlock_org::<S>(ctx, &k)?;
                let code = match code {
                    Some(c) => c.to_string(),
                    None => {
                        // Show what is asked for (name, validity), never the code itself.
                        let info = client.enrollment(id).await.map_err(|e| step_err(M::StepApprove, e))?;
                        let org_id = admin.organization.fingerprint().to_hex();
                        let (_, req) = soshiki_client::proto::verify_enrollment::<S>(&info.request.0, &org_id)
                            .map_err(|e| step_err(M::StepApprove, ClientError::Untrusted(e.to_string())))?;
                        enrollment_code(None, &req.member_name, req.validity_days())?
                    }
                };
                let m = flows::approve_enrollment(&client, &admin, &ok, id, &code)
                    .await
                    .map_err(|e| step_err(M::StepApprove, e))?;
                let until = soshiki_core::cert::Certificate::<S>::from_bytes(&m.certificate.0)
                    .map(|c| files::format_time(c.not_after))
                    .unwrap_or_default();
                println!("{}", tr(M::Approved, &[&m.name, &m.cert_id, &until]));
            }
        }
        Ok(())
    }))
}

/// `member revoke CERT --org-key FILE`: a new revocation list signed with the organization
/// key, then the revocation on the server.
pub fn member_revoke(ctx: &Ctx, args: RevokeArgs) -> Result<()> {
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let (MemberSession { session: mut s, me: admin, client }, ok) =
            MemberSession::<S>::open_with_org_key(ctx, &key, &args.conn, &args.org_key).await?;
        let m = flows::revoke_member(&client, &admin, &ok, &args.cert)
            .await
            .map_err(|e| step_err(M::StepRevoke, e))?;
        s.save()?;
        println!("{}", tr(M::Revoked, &[&m.name, &m.cert_id]));
        Ok(())
    }))
}

/// `member revocations --org-key FILE [--days N]`: publish a fresh revocation list (the same
/// revocations, the next serial), before the current one goes stale.
pub fn member_revocations(ctx: &Ctx, args: RevocationsArgs) -> Result<()> {
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let (MemberSession { session: mut s, me: admin, client }, ok) =
            MemberSession::<S>::open_with_org_key(ctx, &key, &args.conn, &args.org_key).await?;
        let l = flows::publish_revocations(&client, &admin, &ok, &[], u64::from(args.days.max(1)) * 86_400)
            .await
            .map_err(|e| step_err(M::StepRevoke, e))?;
        s.save()?;
        println!("{}", tr(M::RevocationsPublished, &[&l.serial, &l.revoked.len(), &l.next_update]));
        Ok(())
    }))
}

/// Ask the administrator to confirm a partner organization's name (or take `--yes`).
fn confirm_partner(name: &str, fp: &str, own: &str, yes: bool) -> Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(err(M::PartnerNotConfirmed, &[]));
    }
    eprint!("{}", tr(M::PartnerConfirm, &[&name, &fp, &own]));
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|_| err(M::PartnerNotConfirmed, &[]))?;
    match line.trim().to_lowercase().as_str() {
        "y" | "yes" | "はい" => Ok(()),
        _ => Err(err(M::PartnerNotConfirmed, &[])),
    }
}

/// `org partners add FINGERPRINT --org-key FILE [--yes]`: look the organization up (its record
/// must have the typed fingerprint), show its name, confirm, publish the next partner list.
pub fn partners_add(ctx: &Ctx, args: PartnerAddArgs) -> Result<()> {
    let (fingerprint, suite) = (args.fingerprint.as_str(), SuiteId::from(args.suite));
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let (MemberSession { session: mut s, me: admin, client }, ok) =
            MemberSession::<S>::open_with_org_key(ctx, &key, &args.conn, &args.org_key).await?;
        let (name, fp) = soshiki_core::with_suite!(suite, P => {
            let org = flows::fetch_organization::<P>(&client, fingerprint)
                .await
                .map_err(|e| step_err(M::StepFetchOrg, e))?;
            (org.name.clone(), org.fingerprint())
        });
        confirm_partner(&name, &fp.to_hex(), &admin.organization.name, args.yes)?;
        let partner = soshiki_core::partners::Partner { organization: fp, name };
        let l = flows::publish_partners(&client, &admin, &ok, &[partner], &[])
            .await
            .map_err(|e| step_err(M::StepPartners, e))?;
        s.save()?;
        println!("{}", tr(M::PartnersPublished, &[&l.serial, &l.partners.len()]));
        Ok(())
    }))
}

/// `org partners remove FINGERPRINT --org-key FILE`.
pub fn partners_remove(ctx: &Ctx, args: PartnerRemoveArgs) -> Result<()> {
    let fingerprint = args.fingerprint.as_str();
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let (MemberSession { session: mut s, me: admin, client }, ok) =
            MemberSession::<S>::open_with_org_key(ctx, &key, &args.conn, &args.org_key).await?;
        let current = flows::partners(&client, &admin)
            .await
            .map_err(|e| step_err(M::StepPartners, e))?;
        let fp = current
            .as_ref()
            .and_then(|l| l.list().partners.iter().find(|p| p.organization.matches(fingerprint)))
            .map(|p| p.organization)
            .ok_or_else(|| err(M::PartnerNotListed, &[&fingerprint]))?;
        let l = flows::publish_partners(&client, &admin, &ok, &[], &[fp])
            .await
            .map_err(|e| step_err(M::StepPartners, e))?;
        s.save()?;
        println!("{}", tr(M::PartnersPublished, &[&l.serial, &l.partners.len()]));
        Ok(())
    }))
}

/// `org partners list`: the member's own organization's partner list, verified.
pub fn partners_list(ctx: &Ctx, args: KeyArgs) -> Result<()> {
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { session: mut s, me, client } = MemberSession::<S>::open(ctx, &key, &args.conn).await?;
        let list = flows::partners(&client, &me)
            .await
            .map_err(|e| step_err(M::StepPartners, e))?;
        s.save()?;
        match list {
            None => println!("{}", tr(M::PartnersNone, &[])),
            Some(l) => {
                println!("{}", tr(M::PartnersHeader, &[&me.organization.name, &l.serial()]));
                for p in &l.list().partners {
                    println!("{}", tr(M::PartnerLine, &[&p.organization.to_hex(), &p.name]));
                }
            }
        }
        Ok(())
    }))
}

/// `member list`: the member's own organization, certificates verified against its key file.
pub fn member_list(ctx: &Ctx, args: KeyArgs) -> Result<()> {
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { me, client, .. } = MemberSession::<S>::open(ctx, &key, &args.conn).await?;
        let dir = flows::directory(&client, &me.organization)
            .await
            .map_err(|e| step_err(M::StepFetchOrg, e))?;
        for e in dir {
            let ok = if e.usable().is_some() { tr(M::Verified, &[]) } else { e.info.status.clone() };
            println!("{}", tr(M::MemberLine, &[&e.info.name, &e.info.role_names.join(","), &e.info.cert_id, &ok]));
        }
        Ok(())
    }))
}

// ---------------------------------------------------------------------------------------------
// login

/// `login`: finish a pending enrollment if needed (rewriting the key file with the
/// certificate), then log in and save the token.
///
/// Not [`MemberSession::open`]: a pending key cannot log in yet, and a fresh login is the point.
pub fn login(ctx: &Ctx, args: KeyArgs) -> Result<()> {
    let key_file = read_key_file(&args.key, KIND_MEMBER)?;
    let key = args.key.as_path();
    let rt = runtime()?;
    soshiki_core::with_suite!(key_file.suite, S => rt.block_on(async {
        let mut s = Session::open(&args.conn)?;
        let (mut me, pass) = unlock_member_keeping_passphrase::<S>(ctx, &key_file)?;
        let bytes = key_file.bytes();
        let mut client = s.client()?;
        if is_pending(&me) {
            let canon = key.canonicalize().unwrap_or_else(|_| key.to_path_buf());
            let (id, enr) = s.state.enrollments.iter()
                .find(|(_, e)| e.key_file == canon)
                .map(|(i, e)| (i.clone(), e.clone()))
                .ok_or_else(|| err(M::NoEnrollment, &[&key.display()]))?;
            let org = s.state.pinned::<S>(&enr.org_id)
                .ok_or_else(|| err(M::NoEnrollment, &[&key.display()]))?;
            match flows::finish_enrollment(&client, &id, &org, bytes, pass.as_bytes())
                .await
                .map_err(|e| step_err(M::StepEnroll, e))?
            {
                EnrollmentOutcome::Approved(k) => {
                    let b = k.to_key_file(pass.as_bytes(), ctx.kdf, &mut OsRng)
                        .map_err(|e| anyhow!(i18n::key_file_error(&e)))?;
                    write_key(key, &b)?;
                    s.state.enrollments.remove(&id);
                    println!("{}", tr(M::EnrollDone, &[&k.certificate.member_name, &key.display()]));
                    me = *k;
                }
                EnrollmentOutcome::Rejected => return Err(err(M::EnrollRejected, &[&id])),
                _ => return Err(err(M::EnrollPending, &[&id, &enr.code])),
            }
        }
        let token = flows::login(&mut client, &me)
            .await
            .map_err(|e| step_err(M::StepLogin, e))?;
        s.state.save_token(&s.server, &token);
        s.save()?;
        println!("{}", tr(M::LoggedIn, &[&me.certificate.member_name, &s.server]));
        Ok(())
    }))
}

// ---------------------------------------------------------------------------------------------
// send, inbox, deliver, recall, open, receipts

/// `send`: encrypt locally to the representative of the organization with this fingerprint.
pub fn send(ctx: &Ctx, args: SendArgs) -> Result<()> {
    let SendArgs {
        to_org,
        parts,
        title,
        category,
        split_by,
        key: KeyArgs { key, conn },
    } = &args;
    let split_by = split_by.as_deref();
    let key = read_key_file(key, KIND_MEMBER)?;
    let mut outgoing = Vec::new();
    let mut total = 0u64;
    let mut split_any = false;
    for p in parts {
        let spec = crate::cmd::encrypt::parse_part(p)?;
        if let Some(column) = split_by.filter(|_| is_csv(&spec.path)) {
            split_any = true;
            for part in split_csv(&spec, column)? {
                total += part.1;
                outgoing.push(part.0);
            }
            continue;
        }
        let len = std::fs::metadata(&spec.path)
            .map_err(|e| {
                err(
                    M::FileUnreadable,
                    &[&spec.path.display(), &tr(M::WhatPart, &[]), &e],
                )
            })?
            .len();
        total += len;
        outgoing.push(OutgoingPart {
            info: spec.info,
            data: PartData::File(spec.path),
        });
    }
    if let (Some(column), false) = (split_by, split_any) {
        return Err(err(M::CsvNoCsvPart, &[&column]));
    }
    if outgoing.len() > soshiki_core::wire::limits::MAX_PARTS as usize {
        return Err(err(
            M::TooManyParts,
            &[&soshiki_core::wire::limits::MAX_PARTS],
        ));
    }
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { session: mut s, me, client } = MemberSession::<S>::open(ctx, &key, conn).await?;
        let org = flows::fetch_organization::<S>(&client, to_org)
            .await
            .map_err(|e| step_err(M::StepFetchOrg, e))?;
        // An organization in the verified partner list of the member's own organization counts
        // as pinned; otherwise the typed fingerprint pins it personally.
        let partners = flows::partners(&client, &me).await.map_err(|e| step_err(M::StepPartners, e))?;
        let fp = org.fingerprint();
        if flows::org_is_trusted(s.state.is_pinned(&fp), partners.as_ref(), &fp) && !s.state.is_pinned(&fp) {
            println!("{}", tr(M::PartnerTrusted, &[&org.name]));
        } else {
            s.state.pin(&org.to_bytes(), to_org).map_err(|e| anyhow!(tr(M::PinFailed, &[&e])))?;
        }
        s.save()?;
        let rep = flows::representative(&client, &org)
            .await
            .map_err(|e| step_err(M::StepSend, e))?;
        let bar = Arc::new(Progress::new(ctx.progress, total, tr(M::Uploading, &[])));
        let b2 = bar.clone();
        let opts = SendOptions { title: title.clone(), category: category.clone(), ..SendOptions::default() };
        let c = flows::send(&client, &me, &rep, &opts, outgoing, Some(Arc::new(move |n| b2.set(n))))
            .await
            .map_err(|e| step_err(M::StepSend, e))?;
        bar.finish();
        s.save()?;
        println!("{}", tr(M::Sent, &[&rep.certificate().member_name, &org.name, &c.envelope_id, &c.delivery_id]));
        Ok(())
    }))
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// `send --split-by`: the parts of one CSV file, made by the shared splitter (the browser's
/// too), each with the file's own labels and `COLUMN=value` (replacing a file label of that key).
fn split_csv(
    spec: &crate::cmd::encrypt::PartSpec,
    column: &str,
) -> Result<Vec<(OutgoingPart, u64)>> {
    use soshiki_client::csv_split;
    let what = tr(M::WhatPart, &[]);
    let bytes = std::fs::read(&spec.path)
        .map_err(|e| err(M::FileUnreadable, &[&spec.path.display(), &what, &e]))?;
    let file = spec.path.display();
    let refused =
        |e: csv_split::CsvError| err(M::CsvCannotSplit, &[&file, &column, &i18n::csv_error(&e)]);
    let split = csv_split::split_by_name(&spec.info.name, &bytes, column).map_err(refused)?;
    let list = split
        .parts
        .iter()
        .map(|p| tr(M::CsvSplitPart, &[&p.name, &p.rows]))
        .collect::<Vec<_>>()
        .join(", ");
    println!(
        "{}",
        tr(
            M::CsvSplitDone,
            &[
                &file,
                &i18n::csv_encoding(split.encoding),
                &split.label_key(),
                &split.parts.len(),
                &list
            ]
        )
    );
    let key = split.label_key().to_string();
    let labels: Vec<_> = spec
        .info
        .labels
        .iter()
        .filter(|l| l.key != key)
        .cloned()
        .collect();
    let max = soshiki_core::wire::limits::MAX_LABELS;
    if labels.len() >= max as usize {
        return Err(err(M::TooManyLabels, &[&file, &max]));
    }
    let parts = split
        .parts
        .iter()
        .map(|p| {
            let mut l = labels.clone();
            l.push(split.label(p));
            l
        })
        .collect::<Vec<_>>();
    Ok(split
        .parts
        .into_iter()
        .zip(parts)
        .map(|(p, labels)| {
            let len = p.bytes.len() as u64;
            let info = soshiki_core::envelope::PartInfo {
                name: p.name,
                labels,
            };
            (
                OutgoingPart {
                    info,
                    data: PartData::Bytes(p.bytes),
                },
                len,
            )
        })
        .collect())
}

/// `inbox`.
pub fn inbox(ctx: &Ctx, args: InboxArgs) -> Result<()> {
    let key = read_key_file(&args.key.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { client, .. } = MemberSession::<S>::open(ctx, &key, &args.key.conn).await?;
        let list = client.inbox(args.status.as_deref()).await.map_err(|e| step_err(M::StepInbox, e))?;
        if list.is_empty() {
            println!("{}", tr(M::InboxEmpty, &[]));
        }
        for d in list {
            println!("{}", tr(M::InboxLine, &[&d.id, &d.status, &d.sender_name, &d.sender_org_name,
                &parts_text(&d.parts), &parts_text(&d.forwardable_parts)]));
        }
        Ok(())
    }))
}

/// Parse `CERT:0,1` routes.
fn parse_routes(routes: &[String]) -> Result<Vec<(String, Vec<u32>)>> {
    routes
        .iter()
        .map(|r| {
            let (cert, parts) = r.split_once(':').ok_or_else(|| err(M::BadRoute, &[r]))?;
            let parts = parts
                .split(',')
                .map(|p| p.trim().parse::<u32>().map_err(|_| err(M::BadRoute, &[r])))
                .collect::<Result<Vec<u32>>>()?;
            Ok((cert.trim().to_ascii_lowercase(), parts))
        })
        .collect()
}

/// `forward --delivery ID --route CERT:PARTS…`: model-2 forward of a delivery's parts, in one
/// action.
pub fn deliver(ctx: &Ctx, args: ForwardArgs) -> Result<()> {
    let delivery = args.delivery.as_deref().unwrap_or_default();
    if args.routes.is_empty() {
        return Err(err(M::NeedRoute, &[]));
    }
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let plan = parse_routes(&args.routes)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { session: mut s, me, client } = MemberSession::<S>::open(ctx, &key, &args.conn).await?;
        let r = flows::forward(&client, &me, delivery, &plan)
            .await
            .map_err(|e| step_err(M::StepForward, e))?;
        s.save()?;
        for d in r.deliveries {
            println!("{}", tr(M::Delivered, &[&parts_text(&d.parts), &d.holder_cert, &d.id]));
        }
        Ok(())
    }))
}

/// `recall ID`.
pub fn recall(ctx: &Ctx, args: DeliveryArgs) -> Result<()> {
    let key = read_key_file(&args.key.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { me, client, .. } = MemberSession::<S>::open(ctx, &key, &args.key.conn).await?;
        let d = flows::recall(&client, &me, &args.delivery)
            .await
            .map_err(|e| step_err(M::StepRecall, e))?;
        println!("{}", tr(M::RecallDone, &[&d.id, &d.status]));
        Ok(())
    }))
}

/// `open ID --out DIR`.
pub fn open(ctx: &Ctx, args: OpenArgs) -> Result<()> {
    let (delivery, out) = (args.delivery.as_str(), args.out.as_path());
    let key = read_key_file(&args.key.key, KIND_MEMBER)?;
    std::fs::create_dir_all(out).map_err(|e| err(M::CannotWriteIn, &[&out.display(), &e]))?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { me, client, .. } = MemberSession::<S>::open(ctx, &key, &args.key.conn).await?;
        let bar = Arc::new(Progress::unknown(ctx.progress, tr(M::Downloading, &[])));
        let b2 = bar.clone();
        let o = flows::open(&client, &me, delivery, out, Some(Arc::new(move |n| b2.set(n))))
            .await
            .map_err(|e| step_err(M::StepOpen, e))?;
        bar.finish();
        println!("{}", tr(M::OpenedFrom, &[&o.metadata.title, &o.sender.certificate().member_name,
            &o.sender.organization().name, &o.sender.organization().fingerprint().display_short()]));
        for p in o.parts {
            println!("{}", tr(M::OpenedPart, &[&p.index, &p.info.name, &p.path.display(), &p.len]));
        }
        Ok(())
    }))
}

/// `receipts ENVELOPE`.
pub fn receipts(ctx: &Ctx, args: ReceiptsArgs) -> Result<()> {
    let key = read_key_file(&args.key.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { client, .. } = MemberSession::<S>::open(ctx, &key, &args.key.conn).await?;
        let r = client.receipts(&args.envelope).await.map_err(|e| step_err(M::StepReceipts, e))?;
        for x in r.receipts {
            println!("{}", tr(M::ReceiptFull, &[&x.time, &x.kind, &parts_text(&x.parts), &x.holder_roles.join(","), &x.delivery_id]));
        }
        Ok(())
    }))
}

// ---------------------------------------------------------------------------------------------
// audit, rules, agent

/// `audit show|verify`: fetch the whole trail, verify chain and signatures (both) and that it
/// extends every organization-signed checkpoint held (the server's and the one remembered),
/// and print the entries (`show`). The anchor of the last verification and the newest
/// checkpoint are kept in the state.
pub fn audit(ctx: &Ctx, args: KeyArgs, show: bool) -> Result<()> {
    let key = read_key_file(&args.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { session: mut s, me, client } = MemberSession::<S>::open(ctx, &key, &args.conn).await?;
        let org_id = me.organization.fingerprint().to_hex();
        let anchor = s.state.audit_anchors.get(&org_id).cloned();
        let remembered = s.state.audit_checkpoints.get(&org_id).map(|c| c.0.clone());
        let pins = s.state.clone();
        let report = flows::audit(&client, &me.organization, anchor.as_ref(), remembered.as_deref(), &|f| pins.is_pinned(f))
            .await
            .map_err(|e| step_err(M::StepAudit, e))?;
        if show {
            for e in &report.entries {
                println!("{}", tr(M::AuditLine, &[&e.seq, &e.created, &format!("{:?}", e.statement.action), &e.actor_name, &e.actor_org]));
            }
        }
        remember_audit(&mut s, &org_id, &report);
        s.save()?;
        println!("{}", tr(M::AuditOk, &[&me.organization.name, &report.entries.len()]));
        if let Some(cp) = report.checkpoint.as_deref().and_then(|b| soshiki_core::checkpoint::AuditCheckpoint::<S>::from_bytes(b).ok()) {
            println!("{}", tr(M::AuditCheckpointHeld, &[&cp.position, &cp.time]));
        }
        Ok(())
    }))
}

fn remember_audit(s: &mut Session, org_id: &str, report: &soshiki_client::audit::AuditReport) {
    if let Some(a) = report.anchor.clone() {
        s.state.audit_anchors.insert(org_id.to_string(), a);
    }
    if let Some(cp) = &report.checkpoint {
        s.state
            .audit_checkpoints
            .insert(org_id.to_string(), soshiki_client::proto::B64(cp.clone()));
    }
}

/// `audit checkpoint --org-key FILE`: verify the trail, then sign a checkpoint of its last
/// entry with the organization key and store it on the server (and in the state).
pub fn audit_checkpoint(ctx: &Ctx, args: CheckpointArgs) -> Result<()> {
    let key = read_key_file(&args.key.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let (MemberSession { session: mut s, me, client }, ok) =
            MemberSession::<S>::open_with_org_key(ctx, &key, &args.key.conn, &args.org_key).await?;
        let org_id = me.organization.fingerprint().to_hex();
        let anchor = s.state.audit_anchors.get(&org_id).cloned();
        let remembered = s.state.audit_checkpoints.get(&org_id).map(|c| c.0.clone());
        let pins = s.state.clone();
        let (mut report, cp) = flows::checkpoint(&client, &me, &ok, anchor.as_ref(), remembered.as_deref(), &|f| pins.is_pinned(f))
            .await
            .map_err(|e| step_err(M::StepAudit, e))?;
        report.checkpoint = Some(cp.checkpoint.clone());
        remember_audit(&mut s, &org_id, &report);
        s.save()?;
        println!("{}", tr(M::AuditCheckpointSigned, &[&me.organization.name, &cp.position]));
        Ok(())
    }))
}

/// `rules [--set RULE…]`: show, or replace, the forwarder's rules, and whether the rule set on
/// the server is the one this member signed.
pub fn rules(ctx: &Ctx, args: RulesArgs) -> Result<()> {
    let set = if args.clear || !args.set.is_empty() {
        Some(args.set.as_slice())
    } else {
        None
    };
    let key = read_key_file(&args.key.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { me, client, .. } = MemberSession::<S>::open(ctx, &key, &args.key.conn).await?;
        if let Some(r) = set {
            agent::parse_rules(r).map_err(|e| step_err(M::StepRules, e))?;
            flows::set_rules(&client, &me, r).await.map_err(|e| step_err(M::StepRules, e))?;
        }
        let (list, sig) = flows::signed_rules(&client, &me)
            .await
            .map_err(|e| step_err(M::StepRules, e))?;
        if list.is_empty() {
            println!("{}", tr(M::NoRules, &[]));
        }
        for r in &list {
            println!("  {r}");
        }
        match sig {
            RulesSignature::Empty => {}
            RulesSignature::Signed { time } => println!("{}", tr(M::RulesSigned, &[&time])),
            RulesSignature::Unsigned(why) => {
                return Err(anyhow!(tr(M::RulesUnsigned, &[&why])));
            }
        }
        Ok(())
    }))
}

/// `agent [--once]`: poll the inbox and apply the rules (model 2), until Ctrl-C.
pub fn agent(ctx: &Ctx, args: AgentArgs) -> Result<()> {
    let (once, interval) = (args.once, args.interval);
    let key = read_key_file(&args.key.key, KIND_MEMBER)?;
    let rt = runtime()?;
    soshiki_core::with_suite!(key.suite, S => rt.block_on(async {
        let MemberSession { session: mut s, me, mut client } = MemberSession::<S>::open(ctx, &key, &args.key.conn).await?;
        println!("{}", tr(M::AgentStarted, &[&me.certificate.member_name, &s.server]));
        let mut relogged = false;
        let cert_id = me.certificate.fingerprint().to_hex();
        loop {
            let seen = s.state.rules_seen.get(&cert_id).copied().unwrap_or(0);
            match agent::run_once(&client, &me, seen).await {
                Err(agent::AgentError::Rules(why)) => {
                    // Loud and final: rules that are not the ones this member signed are
                    // never applied, and the agent stops.
                    return Err(anyhow!(tr(M::AgentRulesRefused, &[&why])));
                }
                Err(agent::AgentError::Client(ClientError::Api { status: 401, .. })) if !relogged => {
                    relogged = true;
                    let t = flows::login(&mut client, &me).await.map_err(|e| step_err(M::StepLogin, e))?;
                    s.state.save_token(&s.server, &t);
                    s.save()?;
                    continue;
                }
                Err(agent::AgentError::Client(e)) if once => return Err(step_err(M::StepAgent, e)),
                Err(agent::AgentError::Client(e)) => eprintln!("{}", tr(M::StepFailed, &[&tr(M::StepAgent, &[]), &client_error_text(&e)])),
                Ok((done, rules_time)) => {
                    relogged = false;
                    if let Some(t) = rules_time {
                        s.state.rules_seen.insert(cert_id.clone(), t.max(seen));
                    }
                    s.save()?;
                    for f in done {
                        for (cert, parts, id) in f.routes {
                            println!("{}", tr(M::AgentForwarded, &[&f.title, &parts_text(&parts), &cert, &id]));
                        }
                    }
                }
            }
            if once {
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(interval.max(1))) => {}
                _ = tokio::signal::ctrl_c() => return Ok(()),
            }
        }
    }))
}
