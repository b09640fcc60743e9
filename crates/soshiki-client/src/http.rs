//! The typed HTTP client: one method per endpoint of the `/v1` API.
//!
//! These methods move bytes and JSON; they verify nothing. The protocol steps that verify what
//! the server returns and do the cryptography locally are in [`crate::flows`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWrite, AsyncWriteExt};

use crate::error::{ClientError, Result};
use crate::proto::json::*;
use crate::proto::{ActionStatement, ACTION_HEADER, B64};

/// Progress callback: total bytes transferred so far.
pub type Progress = Arc<dyn Fn(u64) + Send + Sync>;

/// Connection options.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// Trust only this CA certificate (PEM) for HTTPS, e.g. a server's self-signed certificate.
    /// Without it the platform's trust store is used.
    pub ca_certificate_pem: Option<Vec<u8>>,
    /// Timeout for connecting (the default is 30 s). Transfers themselves are not limited, so
    /// large uploads and downloads can take as long as they need.
    pub connect_timeout: Option<Duration>,
}

/// A connection to one management server, optionally logged in as one member.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    origin: String,
    token: Option<String>,
    /// Recently fetched directory entries (see [`Client::member_recent`]), shared by clones.
    recent_members: Arc<Mutex<HashMap<String, (Instant, MemberInfo)>>>,
    /// Recently accepted revocation lists (see [`Client::recent_revocation_list`]), shared by
    /// clones.
    recent_revocation_lists: RecentLists,
    /// Rows per page when following a list (see [`Client::set_page_limit`]).
    page_limit: u32,
    /// The highest revocation-list serial seen per organization id, shared by clones (load it
    /// from and save it to the client's state: [`Client::set_revocation_serials`]).
    revocation_serials: Arc<Mutex<BTreeMap<String, u64>>>,
}

/// How long [`Client::member_recent`] reuses a directory entry.
pub const MEMBER_REUSE: Duration = Duration::from_secs(60);

/// How long [`Client::recent_revocation_list`] reuses an accepted revocation list. Short: a
/// list newer than the reused one is enforced meanwhile by the server alone (it refuses targets
/// that are no longer active), so the window is what a forwarder gives up to an honest server.
pub const REVOCATION_REUSE: Duration = Duration::from_secs(10);

/// Revocation lists by organization id, with when they were fetched.
type RecentLists = Arc<Mutex<HashMap<String, (Instant, Option<RevocationListInfo>)>>>;

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("logged_in", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connect to `base_url` (e.g. `http://127.0.0.1:7780` or `https://soshiki.example`).
    pub fn new(base_url: &str, options: &ClientOptions) -> Result<Self> {
        let base = Url::parse(base_url)
            .map_err(|e| ClientError::Invalid(format!("invalid server URL {base_url}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(ClientError::Invalid(format!(
                "the server URL must start with http:// or https://: {base_url}"
            )));
        }
        let mut b = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout.unwrap_or(Duration::from_secs(30)))
            .user_agent(concat!("soshiki-client/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &options.ca_certificate_pem {
            let cert = reqwest::Certificate::from_pem(pem)?;
            b = b.tls_certs_only([cert]);
        }
        let origin = base.origin().ascii_serialization();
        Ok(Self {
            http: b.build()?,
            base,
            origin,
            token: None,
            recent_members: Arc::default(),
            recent_revocation_lists: Arc::default(),
            page_limit: PAGE_LIMIT,
            revocation_serials: Arc::default(),
        })
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The origin logins are signed for (scheme, host and port as dialled).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Rows per page when following a list (clamped to 1..=[`PAGE_LIMIT`]; default
    /// [`PAGE_LIMIT`]). Whole listings are still complete, in more requests.
    pub fn set_page_limit(&mut self, limit: u32) {
        self.page_limit = limit.clamp(1, PAGE_LIMIT);
    }

    /// Use a bearer token (from [`crate::flows::login`] or a saved state).
    pub fn set_token(&mut self, token: Option<String>) {
        self.token = token;
    }

    /// Start from the revocation-list serials a previous session saw
    /// ([`crate::ClientState::revocation_serials`]).
    pub fn set_revocation_serials(&self, seen: &BTreeMap<String, u64>) {
        if let Ok(mut m) = self.revocation_serials.lock() {
            for (org, serial) in seen {
                let e = m.entry(org.clone()).or_insert(0);
                *e = (*e).max(*serial);
            }
        }
    }

    /// The highest revocation-list serial seen per organization (save it in the state).
    pub fn revocation_serials(&self) -> BTreeMap<String, u64> {
        self.revocation_serials
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// The highest revocation-list serial seen for `org_id` (0: none).
    pub fn revocation_serial(&self, org_id: &str) -> u64 {
        self.revocation_serials
            .lock()
            .ok()
            .and_then(|m| m.get(org_id).copied())
            .unwrap_or(0)
    }

    /// Remember that a verified list of `org_id` has serial `serial`.
    pub fn remember_revocation_serial(&self, org_id: &str, serial: u64) {
        if let Ok(mut m) = self.revocation_serials.lock() {
            let e = m.entry(org_id.to_owned()).or_insert(0);
            *e = (*e).max(serial);
        }
    }

    /// Whether a token is set.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| ClientError::Invalid(format!("bad path {path}: {e}")))
    }

    fn req(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        let mut r = self.http.request(method, self.url(path)?);
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        Ok(r)
    }

    fn authed(&self, method: Method, path: &str) -> Result<RequestBuilder> {
        if self.token.is_none() {
            return Err(ClientError::NotLoggedIn);
        }
        self.req(method, path)
    }

    async fn check(resp: Response) -> Result<Response> {
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body = resp.bytes().await.unwrap_or_default();
        let (code, message) = match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => (e.error.code, e.error.message),
            Err(_) => (
                "http".into(),
                status
                    .canonical_reason()
                    .unwrap_or("unexpected answer")
                    .into(),
            ),
        };
        Err(ClientError::Api {
            status: status.as_u16(),
            code,
            message,
        })
    }

    /// Send a request that is safe to repeat (a read, or the creation of a pending upload,
    /// whose duplicate expires unused). When it could not be sent on a kept-alive connection
    /// that the server had already closed (writing failed, or the connection closed before any
    /// answer), it is sent once more on a fresh connection instead of failing the whole step.
    async fn send_repeatable(rb: RequestBuilder) -> reqwest::Result<Response> {
        let again = rb.try_clone();
        match (rb.send().await, again) {
            (Err(e), Some(again)) if e.is_request() && !e.is_timeout() => again.send().await,
            (r, _) => r,
        }
    }

    async fn send_json<T: DeserializeOwned>(resp: reqwest::Result<Response>) -> Result<T> {
        let resp = Self::check(resp?).await?;
        let bytes = resp.bytes().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Untrusted(format!("malformed answer from the server: {e}")))
    }

    async fn json<T: DeserializeOwned>(rb: RequestBuilder) -> Result<T> {
        let is_read = rb
            .try_clone()
            .and_then(|c| c.build().ok())
            .is_some_and(|r| r.method() == Method::GET);
        if is_read {
            return Self::send_json(Self::send_repeatable(rb).await).await;
        }
        let resp = Self::check(rb.send().await?).await?;
        let bytes = resp.bytes().await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ClientError::Untrusted(format!("malformed answer from the server: {e}")))
    }

    async fn binary(rb: RequestBuilder) -> Result<Vec<u8>> {
        let resp = Self::check(Self::send_repeatable(rb).await?).await?;
        Ok(resp.bytes().await?.to_vec())
    }

    fn with_action(rb: RequestBuilder, action: &ActionStatement) -> RequestBuilder {
        rb.header(ACTION_HEADER, action.to_header_value())
    }

    fn post_json<B: Serialize>(
        &self,
        path: &str,
        body: &B,
        action: Option<&ActionStatement>,
        auth: bool,
    ) -> Result<RequestBuilder> {
        let rb = if auth {
            self.authed(Method::POST, path)?
        } else {
            self.req(Method::POST, path)?
        };
        let rb = rb.json(body);
        Ok(match action {
            Some(a) => Self::with_action(rb, a),
            None => rb,
        })
    }

    // ----- server -----

    /// `GET /v1/info`.
    pub async fn info(&self) -> Result<ServerInfo> {
        Self::json(self.req(Method::GET, "/v1/info")?).await
    }

    /// `GET /v1/openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value> {
        Self::json(self.req(Method::GET, "/v1/openapi.json")?).await
    }

    // ----- organizations -----

    /// `POST /v1/orgs`: register a self-signed organization record.
    pub async fn register_org(&self, record: &[u8]) -> Result<OrgInfo> {
        self.register_org_with_token(record, None).await
    }

    /// `POST /v1/orgs` on a server whose registration is closed: with the operator's token
    /// (`soshiki-registration-token` header).
    pub async fn register_org_with_token(
        &self,
        record: &[u8],
        token: Option<&str>,
    ) -> Result<OrgInfo> {
        let body = RegisterOrg {
            record: B64(record.to_vec()),
        };
        let mut rb = self.post_json("/v1/orgs", &body, None, false)?;
        if let Some(t) = token {
            rb = rb.header(crate::proto::REGISTRATION_TOKEN_HEADER, t.trim());
        }
        Self::json(rb).await
    }

    /// `GET /v1/orgs`, every page.
    pub async fn orgs(&self) -> Result<Vec<OrgInfo>> {
        all_pages(|after| async move {
            let l = self.orgs_page(self.page_limit, after.as_deref()).await?;
            Ok((l.orgs, l.next))
        })
        .await
    }

    /// `GET /v1/orgs?limit=…&after=…`: one page.
    pub async fn orgs_page(&self, limit: u32, after: Option<&str>) -> Result<OrgList> {
        Self::json(page_query(self.req(Method::GET, "/v1/orgs")?, limit, after)).await
    }

    /// `GET /v1/orgs/{org}`.
    pub async fn org(&self, org_id: &str) -> Result<OrgInfo> {
        Self::json(self.req(Method::GET, &format!("/v1/orgs/{org_id}"))?).await
    }

    /// `PUT /v1/orgs/{org}/policy` (administrator).
    pub async fn set_policy(
        &self,
        org_id: &str,
        policy: &Policy,
        action: &ActionStatement,
    ) -> Result<OrgInfo> {
        let rb = self
            .authed(Method::PUT, &format!("/v1/orgs/{org_id}/policy"))?
            .json(policy);
        Self::json(Self::with_action(rb, action)).await
    }

    // ----- members -----

    /// `POST /v1/orgs/{org}/members`: the organization's first administrator.
    pub async fn register_admin(
        &self,
        org_id: &str,
        certificate: &[u8],
        action: &ActionStatement,
    ) -> Result<MemberInfo> {
        let body = CertificateBody {
            certificate: B64(certificate.to_vec()),
        };
        Self::json(self.post_json(
            &format!("/v1/orgs/{org_id}/members"),
            &body,
            Some(action),
            false,
        )?)
        .await
    }

    /// `GET /v1/orgs/{org}/members`, every page.
    pub async fn members(&self, org_id: &str) -> Result<Vec<MemberInfo>> {
        all_pages(|after| async move {
            let l = self
                .members_page(org_id, self.page_limit, after.as_deref())
                .await?;
            Ok((l.members, l.next))
        })
        .await
    }

    /// `GET /v1/orgs/{org}/members?limit=…&after=…`: one page.
    pub async fn members_page(
        &self,
        org_id: &str,
        limit: u32,
        after: Option<&str>,
    ) -> Result<MemberList> {
        let rb = self.authed(Method::GET, &format!("/v1/orgs/{org_id}/members"))?;
        Self::json(page_query(rb, limit, after)).await
    }

    /// `GET /v1/members/{cert}`.
    pub async fn member(&self, cert_id: &str) -> Result<MemberInfo> {
        Self::json(self.authed(Method::GET, &format!("/v1/members/{cert_id}"))?).await
    }

    /// [`Client::member`], reusing an entry fetched less than [`MEMBER_REUSE`] ago: what an
    /// agent forwarding many items to the same few targets needs. The caller still verifies
    /// the certificate; a revocation newer than the entry is enforced by the server, which
    /// refuses a forward to a member that is no longer active.
    pub async fn member_recent(&self, cert_id: &str) -> Result<MemberInfo> {
        if let Ok(m) = self.recent_members.lock() {
            if let Some((at, info)) = m.get(cert_id) {
                if at.elapsed() < MEMBER_REUSE {
                    return Ok(info.clone());
                }
            }
        }
        let info = self.member(cert_id).await?;
        if let Ok(mut m) = self.recent_members.lock() {
            if m.len() >= 10_000 {
                m.clear();
            }
            m.insert(cert_id.to_owned(), (Instant::now(), info.clone()));
        }
        Ok(info)
    }

    /// `POST /v1/members/{cert}/revoke` (administrator).
    pub async fn revoke(&self, cert_id: &str, action: &ActionStatement) -> Result<MemberInfo> {
        let rb = self.authed(Method::POST, &format!("/v1/members/{cert_id}/revoke"))?;
        Self::json(Self::with_action(rb, action)).await
    }

    /// `GET /v1/orgs/{org}/revocations`: the newest organization-signed revocation list, or
    /// `None` if the organization has published none. Not verified here.
    pub async fn revocation_list(&self, org_id: &str) -> Result<Option<RevocationListInfo>> {
        match Self::json(self.req(Method::GET, &format!("/v1/orgs/{org_id}/revocations"))?).await {
            Ok(l) => Ok(Some(l)),
            Err(e) if is_not_found(&e) && e.code() == Some("not-found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A revocation list this client fetched and its caller accepted less than
    /// [`REVOCATION_REUSE`] ago ([`Client::keep_revocation_list`]), if any: `Some(None)` when
    /// the organization had published none. The caller verifies it again before use (against
    /// the pinned organization and the highest serial seen), so reuse never accepts a list a
    /// fresh fetch would not have been allowed to return.
    pub fn recent_revocation_list(&self, org_id: &str) -> Option<Option<RevocationListInfo>> {
        let m = self.recent_revocation_lists.lock().ok()?;
        let (at, list) = m.get(org_id)?;
        (at.elapsed() < REVOCATION_REUSE).then(|| list.clone())
    }

    /// Keep an accepted revocation list for [`Client::recent_revocation_list`]. Publishing a
    /// list through this client forgets the organization's entry.
    pub fn keep_revocation_list(&self, org_id: &str, list: Option<RevocationListInfo>) {
        if let Ok(mut m) = self.recent_revocation_lists.lock() {
            if m.len() >= 1_000 {
                m.clear();
            }
            m.insert(org_id.to_owned(), (Instant::now(), list));
        }
    }

    /// `PUT /v1/orgs/{org}/revocations` (administrator).
    pub async fn publish_revocation_list(
        &self,
        org_id: &str,
        list: &[u8],
        action: &ActionStatement,
    ) -> Result<RevocationListInfo> {
        let body = RevocationListBody {
            list: B64(list.to_vec()),
        };
        if let Ok(mut m) = self.recent_revocation_lists.lock() {
            m.remove(org_id);
        }
        let rb = self
            .authed(Method::PUT, &format!("/v1/orgs/{org_id}/revocations"))?
            .json(&body);
        Self::json(Self::with_action(rb, action)).await
    }

    /// `GET /v1/orgs/{org}/partners` (members of the organization): the newest
    /// organization-signed partner list, or `None` if the organization has published none. Not
    /// verified here.
    pub async fn partner_list(&self, org_id: &str) -> Result<Option<PartnerListInfo>> {
        let rb = self.authed(Method::GET, &format!("/v1/orgs/{org_id}/partners"))?;
        match Self::json(rb).await {
            Ok(l) => Ok(Some(l)),
            Err(e) if is_not_found(&e) && e.code() == Some("not-found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /v1/orgs/{org}/partners` (administrator).
    pub async fn publish_partner_list(
        &self,
        org_id: &str,
        list: &[u8],
        action: &ActionStatement,
    ) -> Result<PartnerListInfo> {
        let body = PartnerListBody {
            list: B64(list.to_vec()),
        };
        let rb = self
            .authed(Method::PUT, &format!("/v1/orgs/{org_id}/partners"))?
            .json(&body);
        Self::json(Self::with_action(rb, action)).await
    }

    /// `GET /v1/orgs/{org}/checkpoint`: the newest organization-signed audit checkpoint, or
    /// `None` if there is none. Not verified here.
    pub async fn checkpoint(&self, org_id: &str) -> Result<Option<CheckpointInfo>> {
        match Self::json(self.req(Method::GET, &format!("/v1/orgs/{org_id}/checkpoint"))?).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if is_not_found(&e) && e.code() == Some("not-found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /v1/orgs/{org}/checkpoint` (administrator).
    pub async fn publish_checkpoint(
        &self,
        org_id: &str,
        checkpoint: &[u8],
        action: &ActionStatement,
    ) -> Result<CheckpointInfo> {
        let body = CheckpointBody {
            checkpoint: B64(checkpoint.to_vec()),
        };
        let rb = self
            .authed(Method::PUT, &format!("/v1/orgs/{org_id}/checkpoint"))?
            .json(&body);
        Self::json(Self::with_action(rb, action)).await
    }

    // ----- enrollments -----

    /// `POST /v1/orgs/{org}/enrollments`: an `enroll` statement. Returns the enrollment id.
    pub async fn create_enrollment(&self, org_id: &str, statement: &[u8]) -> Result<String> {
        let body = CreateEnrollment {
            request: B64(statement.to_vec()),
        };
        Ok(Self::json::<EnrollmentCreated>(self.post_json(
            &format!("/v1/orgs/{org_id}/enrollments"),
            &body,
            None,
            false,
        )?)
        .await?
        .id)
    }

    /// `GET /v1/orgs/{org}/enrollments?status=…` (administrator), every page.
    pub async fn enrollments(&self, org_id: &str, status: &str) -> Result<Vec<EnrollmentInfo>> {
        all_pages(|after| async move {
            let l = self
                .enrollments_page(org_id, status, self.page_limit, after.as_deref())
                .await?;
            Ok((l.enrollments, l.next))
        })
        .await
    }

    /// `GET /v1/orgs/{org}/enrollments?status=…&limit=…&after=…`: one page.
    pub async fn enrollments_page(
        &self,
        org_id: &str,
        status: &str,
        limit: u32,
        after: Option<&str>,
    ) -> Result<EnrollmentList> {
        let rb = self
            .authed(Method::GET, &format!("/v1/orgs/{org_id}/enrollments"))?
            .query(&[("status", status)]);
        Self::json(page_query(rb, limit, after)).await
    }

    /// `GET /v1/enrollments/{id}` (no login: the id is the capability).
    pub async fn enrollment(&self, id: &str) -> Result<EnrollmentInfo> {
        Self::json(self.req(Method::GET, &format!("/v1/enrollments/{id}"))?).await
    }

    /// `POST /v1/enrollments/{id}/approve` (administrator).
    pub async fn approve_enrollment(
        &self,
        id: &str,
        certificate: &[u8],
        action: &ActionStatement,
    ) -> Result<MemberInfo> {
        let body = CertificateBody {
            certificate: B64(certificate.to_vec()),
        };
        Self::json(self.post_json(
            &format!("/v1/enrollments/{id}/approve"),
            &body,
            Some(action),
            true,
        )?)
        .await
    }

    /// `POST /v1/enrollments/{id}/reject` (administrator).
    pub async fn reject_enrollment(
        &self,
        id: &str,
        action: &ActionStatement,
    ) -> Result<EnrollmentInfo> {
        let rb = self.authed(Method::POST, &format!("/v1/enrollments/{id}/reject"))?;
        Self::json(Self::with_action(rb, action)).await
    }

    // ----- authentication -----

    /// `POST /v1/auth/challenge`.
    pub async fn challenge(&self, cert_id: &str) -> Result<Challenge> {
        let body = ChallengeRequest {
            cert_id: cert_id.into(),
        };
        Self::json(self.post_json("/v1/auth/challenge", &body, None, false)?).await
    }

    /// `POST /v1/auth/token`.
    pub async fn token(&self, req: &TokenRequest) -> Result<Token> {
        Self::json(self.post_json("/v1/auth/token", req, None, false)?).await
    }

    // ----- envelopes -----

    /// `POST /v1/envelopes`: the envelope header; returns where to upload the bodies.
    pub async fn create_upload(
        &self,
        header: Vec<u8>,
        action: &ActionStatement,
    ) -> Result<UploadCreated> {
        let rb = self
            .authed(Method::POST, "/v1/envelopes")?
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(header);
        Self::send_json(Self::send_repeatable(Self::with_action(rb, action)).await).await
    }

    /// `PUT /v1/uploads/{id}` with exactly `len` bytes from `body`. Answers once the envelope is
    /// durably stored and delivered.
    pub async fn upload_bodies(
        &self,
        upload_id: &str,
        body: reqwest::Body,
        len: u64,
    ) -> Result<EnvelopeCommitted> {
        let rb = self
            .authed(Method::PUT, &format!("/v1/uploads/{upload_id}"))?
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(body);
        Self::json(rb).await
    }

    /// `PUT /v1/uploads/{id}` streaming `len` bytes of a file from `offset`, in constant memory.
    pub async fn upload_bodies_from_file(
        &self,
        upload_id: &str,
        path: &Path,
        offset: u64,
        len: u64,
        progress: Option<Progress>,
    ) -> Result<EnvelopeCommitted> {
        let mut f = tokio::fs::File::open(path).await?;
        f.seek(std::io::SeekFrom::Start(offset)).await?;
        let reader = f.take(len);
        let mut done = 0u64;
        let stream = tokio_util::io::ReaderStream::with_capacity(reader, 1 << 20).map(move |r| {
            if let (Ok(b), Some(p)) = (&r, &progress) {
                done += b.len() as u64;
                p(done);
            }
            r
        });
        self.upload_bodies(upload_id, reqwest::Body::wrap_stream(stream), len)
            .await
    }

    /// `GET /v1/envelopes/{id}/receipts` (the sender), every page: all receipts of the
    /// envelope in time order (`next` is `None`).
    pub async fn receipts(&self, envelope_id: &str) -> Result<Receipts> {
        let mut receipts = all_pages(|after| async move {
            let r = self
                .receipts_page(envelope_id, self.page_limit, after.as_deref())
                .await?;
            Ok((r.receipts, r.next))
        })
        .await?;
        receipts.sort_by_key(|r| r.time);
        Ok(Receipts {
            envelope_id: envelope_id.to_owned(),
            receipts,
            next: None,
        })
    }

    /// `GET /v1/envelopes/{id}/receipts?limit=…&after=…`: the receipts of one page of the
    /// envelope's deliveries (`limit` deliveries, each giving one to three receipts).
    pub async fn receipts_page(
        &self,
        envelope_id: &str,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Receipts> {
        let rb = self.authed(
            Method::GET,
            &format!("/v1/envelopes/{envelope_id}/receipts"),
        )?;
        Self::json(page_query(rb, limit, after)).await
    }

    // ----- deliveries -----

    /// `GET /v1/inbox`, optionally only deliveries with `status`, every page.
    pub async fn inbox(&self, status: Option<&str>) -> Result<Vec<DeliveryInfo>> {
        all_pages(|after| async move {
            let l = self
                .inbox_page(status, self.page_limit, after.as_deref())
                .await?;
            Ok((l.deliveries, l.next))
        })
        .await
    }

    /// `GET /v1/inbox?status=…&limit=…&after=…`: one page.
    pub async fn inbox_page(
        &self,
        status: Option<&str>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<Inbox> {
        let mut rb = self.authed(Method::GET, "/v1/inbox")?;
        if let Some(s) = status {
            rb = rb.query(&[("status", s)]);
        }
        Self::json(page_query(rb, limit, after)).await
    }

    /// `GET /v1/deliveries/{id}`.
    pub async fn delivery(&self, id: &str) -> Result<DeliveryInfo> {
        Self::json(self.authed(Method::GET, &format!("/v1/deliveries/{id}"))?).await
    }

    /// `GET /v1/deliveries/{id}/header` (readers only: it holds the capsules).
    pub async fn delivery_header(&self, id: &str) -> Result<Vec<u8>> {
        Self::binary(self.authed(Method::GET, &format!("/v1/deliveries/{id}/header"))?).await
    }

    /// `GET /v1/deliveries/{id}/metadata` (every holder): the header with the metadata slot
    /// only (no part capsule, no body); not a download.
    pub async fn delivery_metadata(&self, id: &str) -> Result<Vec<u8>> {
        Self::binary(self.authed(Method::GET, &format!("/v1/deliveries/{id}/metadata"))?).await
    }

    /// `GET /v1/deliveries/{id}/forwarding-request[?parts=…]`: the core's forwarding request
    /// (no part's `C1`).
    pub async fn forwarding_request(&self, id: &str, parts: Option<&[u32]>) -> Result<Vec<u8>> {
        let mut rb = self.authed(
            Method::GET,
            &format!("/v1/deliveries/{id}/forwarding-request"),
        )?;
        if let Some(p) = parts {
            let list: Vec<String> = p.iter().map(u32::to_string).collect();
            rb = rb.query(&[("parts", list.join(","))]);
        }
        Self::binary(rb).await
    }

    /// `POST /v1/deliveries/{id}/forward`: one encoded forward response per target.
    pub async fn forward(
        &self,
        id: &str,
        responses: Vec<Vec<u8>>,
        action: &ActionStatement,
    ) -> Result<ForwardResult> {
        let body = ForwardBody {
            responses: responses.into_iter().map(B64).collect(),
        };
        Self::json(self.post_json(
            &format!("/v1/deliveries/{id}/forward"),
            &body,
            Some(action),
            true,
        )?)
        .await
    }

    /// `POST /v1/deliveries/{id}/recall`.
    pub async fn recall(&self, id: &str, action: &ActionStatement) -> Result<DeliveryInfo> {
        let rb = self.authed(Method::POST, &format!("/v1/deliveries/{id}/recall"))?;
        Self::json(Self::with_action(rb, action)).await
    }

    /// `POST /v1/deliveries/{id}/recall` with `{"parts": [...]}`: recall only those parts
    /// (the statement must be [`ActionSpec::recall_parts`](crate::proto::ActionSpec::recall_parts)).
    pub async fn recall_parts(
        &self,
        id: &str,
        parts: &[u32],
        action: &ActionStatement,
    ) -> Result<DeliveryInfo> {
        let rb = self
            .authed(Method::POST, &format!("/v1/deliveries/{id}/recall"))?
            .json(&crate::proto::json::RecallBody {
                parts: Some(parts.to_vec()),
            });
        Self::json(Self::with_action(rb, action)).await
    }

    /// `POST /v1/deliveries/{id}/opened`.
    pub async fn mark_opened(&self, id: &str, action: &ActionStatement) -> Result<DeliveryInfo> {
        let rb = self.authed(Method::POST, &format!("/v1/deliveries/{id}/opened"))?;
        Self::json(Self::with_action(rb, action)).await
    }

    /// `GET /v1/deliveries/{id}/envelope`: stream the delivery's envelope file into `out`
    /// (constant memory). Returns the number of bytes written.
    pub async fn download_envelope<W: AsyncWrite + Unpin>(
        &self,
        id: &str,
        out: &mut W,
        progress: Option<Progress>,
    ) -> Result<u64> {
        let resp = Self::check(
            self.authed(Method::GET, &format!("/v1/deliveries/{id}/envelope"))?
                .send()
                .await?,
        )
        .await?;
        let expected = resp.content_length();
        let mut stream = resp.bytes_stream();
        let mut n = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            out.write_all(&chunk).await?;
            n += chunk.len() as u64;
            if let Some(p) = &progress {
                p(n);
            }
        }
        out.flush().await?;
        if expected.is_some_and(|e| e != n) {
            return Err(ClientError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the download ended early",
            )));
        }
        Ok(n)
    }

    // ----- audit, rules -----

    /// `GET /v1/orgs/{org}/audit?from=&limit=` (administrator).
    pub async fn audit(&self, org_id: &str, from: u64, limit: u32) -> Result<AuditPage> {
        let rb = self
            .authed(Method::GET, &format!("/v1/orgs/{org_id}/audit"))?
            .query(&[("from", from.to_string()), ("limit", limit.to_string())]);
        Self::json(rb).await
    }

    /// `GET /v1/rules`: the logged-in forwarder's rules (unverified: see
    /// [`crate::flows::signed_rules`]).
    pub async fn rules(&self) -> Result<Vec<String>> {
        Ok(self.rules_with_statement().await?.rules)
    }

    /// `GET /v1/rules` with the owner's `set-rules` statement stored with the rules.
    pub async fn rules_with_statement(&self) -> Result<Rules> {
        Self::json::<Rules>(self.authed(Method::GET, "/v1/rules")?).await
    }

    /// `PUT /v1/rules`.
    pub async fn set_rules(
        &self,
        rules: &[String],
        action: &ActionStatement,
    ) -> Result<Vec<String>> {
        let body = Rules {
            rules: rules.to_vec(),
            statement: None,
        };
        let rb = self.authed(Method::PUT, "/v1/rules")?.json(&body);
        Ok(Self::json::<Rules>(Self::with_action(rb, action))
            .await?
            .rules)
    }
}

/// Whether an error is the server saying "not found".
pub fn is_not_found(e: &ClientError) -> bool {
    e.status() == Some(StatusCode::NOT_FOUND.as_u16())
}

/// Rows per page the client asks for (the server's maximum).
pub const PAGE_LIMIT: u32 = 1000;

/// The most pages one listing follows: a server that keeps answering `next` (a loop, a
/// lie) cannot keep the client fetching forever.
pub const MAX_PAGES: usize = 1000;

fn page_query(rb: RequestBuilder, limit: u32, after: Option<&str>) -> RequestBuilder {
    let rb = rb.query(&[("limit", limit)]);
    match after {
        Some(a) => rb.query(&[("after", a)]),
        None => rb,
    }
}

/// Follow `next` from the first page until the last, at most [`MAX_PAGES`] pages; a cursor
/// seen before in this listing (a loop A→A or A→B→A) is refused as untrusted server data.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<T>, Option<String>)>>,
{
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_PAGES {
        let (items, next) = page(after.clone()).await?;
        out.extend(items);
        match next {
            None => return Ok(out),
            Some(n) if !seen.insert(n.clone()) => {
                return Err(ClientError::Untrusted(
                    "the server repeated a page cursor".into(),
                ))
            }
            Some(n) => after = Some(n),
        }
    }
    Err(ClientError::Untrusted(format!(
        "the listing did not end after {MAX_PAGES} pages"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server whose cursors loop (A→A, or A→B→A) is caught at the first repeat, not after
    /// [`MAX_PAGES`] pages; an honest listing is returned whole.
    #[test]
    fn looping_page_cursors_are_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        for cycle in [vec!["a"], vec!["a", "b"], vec!["a", "b", "c"]] {
            let calls = std::cell::Cell::new(0usize);
            let r = rt.block_on(all_pages(|_after| {
                let i = calls.get();
                calls.set(i + 1);
                let next = cycle[i % cycle.len()].to_string();
                async move { Ok((vec![i], Some(next))) }
            }));
            assert!(
                matches!(&r, Err(ClientError::Untrusted(m)) if m.contains("repeated")),
                "{cycle:?}: {r:?}"
            );
            assert_eq!(
                calls.get(),
                cycle.len() + 1,
                "{cycle:?}: stopped at the first repeat"
            );
        }
        let calls = std::cell::Cell::new(0usize);
        let all = rt
            .block_on(all_pages(|_after| {
                let i = calls.get();
                calls.set(i + 1);
                let next = (i < 2).then(|| format!("c{i}"));
                async move { Ok((vec![i], next)) }
            }))
            .expect("honest listing");
        assert_eq!(all, vec![0, 1, 2]);
    }
}
