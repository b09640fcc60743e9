//! The JSON request and response bodies of the API. Binary values are standard base64 with
//! padding ([`B64`]); identifiers are lower-case hex (organization and certificate ids are
//! fingerprints).

use crate::B64;
use serde::{Deserialize, Serialize};

/// Every error response: `{"error": {"code": …, "message": …}}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// An error's code and safe message.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// `bad-request`, `unauthorized`, `forbidden`, `not-found`, `conflict`, `gone`,
    /// `too-large`, `no-route` or `internal`.
    pub code: String,
    /// What is wrong (never an internal detail).
    pub message: String,
}

/// `GET /v1/info`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerInfo {
    /// Always `soshiki/v1`.
    pub api: String,
    /// Server version.
    pub version: String,
    /// The origin the server signs logins for.
    pub origin: String,
}

/// `POST /v1/orgs`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RegisterOrg {
    /// The self-signed organization record.
    pub record: B64,
}

/// An organization in the directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgInfo {
    /// Fingerprint, hex.
    pub id: String,
    /// Suite name (`p256`, `ristretto255`).
    pub suite: String,
    /// Name from the record.
    pub name: String,
    /// The self-signed record (verify and pin it yourself).
    pub record: B64,
    /// Registration time.
    pub created: i64,
    /// Days after which unopened deliveries expire.
    pub expiry_days: Option<u32>,
    /// Days after which bodies are removed.
    pub retention_days: Option<u32>,
    /// The longest validity of a member certificate, in days (`null`: no limit).
    #[serde(default)]
    pub max_validity_days: Option<u32>,
    /// The storage quota in bytes (`null`: unlimited).
    #[serde(default)]
    pub quota_bytes: Option<u64>,
    /// Whether only members with the sender role may send to other organizations.
    #[serde(default)]
    pub sender_role_required: bool,
}

/// `GET /v1/orgs`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OrgList {
    /// Organizations, by name.
    pub orgs: Vec<OrgInfo>,
    /// The cursor of the next page (`after`), `null` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

/// `PUT /v1/orgs/{org}/policy`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Policy {
    /// Days after which an unopened delivery expires (`null`: never).
    pub expiry_days: Option<u32>,
    /// Days after which bodies are removed (`null`: kept).
    pub retention_days: Option<u32>,
    /// The longest validity of a member certificate the organization issues, in days
    /// (`null`: no limit). The administrator's client caps an approval at it and the server
    /// refuses a certificate that exceeds it.
    #[serde(default)]
    pub max_validity_days: Option<u32>,
    /// The organization's storage quota in bytes (`null` or 0: unlimited; at most
    /// [`crate::MAX_QUOTA_BYTES`]): the bodies of envelopes its members sent that the server
    /// still stores, the headers of deliveries they created and their unfinished uploads.
    /// An upload that would exceed it is refused (413 `quota-exceeded`).
    #[serde(default)]
    pub quota_bytes: Option<u64>,
    /// Whether only members with the sender role (`Roles::SENDER`) may send to other
    /// organizations (`false`, the default: every member may). The server refuses a `send`
    /// by a member without it (403 `no-sending-role`); clients do not offer sending.
    #[serde(default)]
    pub sender_role_required: bool,
}

impl Policy {
    /// The quota, `None` for no quota (absent or 0).
    pub fn quota(&self) -> Option<u64> {
        self.quota_bytes.filter(|&b| b > 0)
    }
}

/// `POST /v1/orgs/{org}/members` (first administrator) and
/// `POST /v1/enrollments/{id}/approve`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CertificateBody {
    /// A certificate issued by the organization.
    pub certificate: B64,
}

/// A member certificate in the directory.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberInfo {
    /// Certificate fingerprint, hex.
    pub cert_id: String,
    /// Organization fingerprint, hex.
    pub org_id: String,
    /// Name from the certificate.
    pub name: String,
    /// Role bits.
    pub roles: u8,
    /// Role names.
    pub role_names: Vec<String>,
    /// The certificate (verify it against your pinned organization).
    pub certificate: B64,
    /// `active` or `revoked`.
    pub status: String,
    /// Registration time.
    pub created: i64,
    /// Revocation time.
    pub revoked_at: Option<i64>,
}

/// `GET /v1/orgs/{org}/members`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MemberList {
    /// Members (all statuses), by name.
    pub members: Vec<MemberInfo>,
    /// The cursor of the next page (`after`), `null` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

/// `POST /v1/orgs/{org}/enrollments`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CreateEnrollment {
    /// The `enroll` action statement (see [`crate::verify_enrollment`]).
    pub request: B64,
}

/// The answer to an enrollment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrollmentCreated {
    /// Enrollment id (keep it to fetch the certificate).
    pub id: String,
}

/// An enrollment.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrollmentInfo {
    /// Id.
    pub id: String,
    /// Organization.
    pub org_id: String,
    /// The member's `enroll` statement.
    pub request: B64,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// Time of the request.
    pub created: i64,
    /// The issued certificate's id, once approved.
    pub cert_id: Option<String>,
    /// The issued certificate, once approved.
    pub certificate: Option<B64>,
}

/// `GET /v1/orgs/{org}/enrollments`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnrollmentList {
    /// Enrollments with the requested status, oldest first.
    pub enrollments: Vec<EnrollmentInfo>,
    /// The cursor of the next page (`after`), `null` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

/// `POST /v1/auth/challenge`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChallengeRequest {
    /// The member's certificate id.
    pub cert_id: String,
}

/// A login challenge.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Challenge {
    /// 32 random bytes to sign.
    pub nonce: B64,
    /// Expiry time.
    pub expires: i64,
}

/// `POST /v1/auth/token`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenRequest {
    /// The member's certificate id.
    pub cert_id: String,
    /// The challenge's nonce.
    pub nonce: B64,
    /// Signature over [`crate::login_message`].
    pub signature: B64,
}

/// A bearer token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Token {
    /// `Authorization: Bearer <token>`.
    pub token: String,
    /// Expiry time.
    pub expires: i64,
    /// Whose token it is.
    pub cert_id: String,
}

/// `POST /v1/envelopes`: where to upload the bodies.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UploadCreated {
    /// `PUT /v1/uploads/{upload_id}`.
    pub upload_id: String,
    /// The envelope id (hex).
    pub envelope_id: String,
    /// Exactly how many bytes to upload.
    pub bodies_len: u64,
}

/// `PUT /v1/uploads/{id}`: the envelope is committed and delivered.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EnvelopeCommitted {
    /// Envelope id.
    pub envelope_id: String,
    /// The representative's delivery.
    pub delivery_id: String,
}

/// A delivery: one holder's copy of (some parts of) an envelope. No capsule.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeliveryInfo {
    /// Id.
    pub id: String,
    /// Envelope id.
    pub envelope_id: String,
    /// Suite name.
    pub suite: String,
    /// Holder's certificate id.
    pub holder_cert: String,
    /// Holder's organization.
    pub holder_org: String,
    /// The delivery it was forwarded from.
    pub parent: Option<String>,
    /// Who created it (sender or forwarder certificate id).
    pub created_by: String,
    /// Part indices held.
    pub parts: Vec<u32>,
    /// Parts not currently forwarded onward (what a forward may still take).
    pub forwardable_parts: Vec<u32>,
    /// `delivered`, `forwarded`, `opened`, `recalled` or `expired`.
    pub status: String,
    /// Creation time.
    pub created: i64,
    /// Last change.
    pub updated: i64,
    /// Sender's certificate id.
    pub sender_cert: String,
    /// Sender's name (from the directory; the signed header is authoritative).
    pub sender_name: String,
    /// Sender's organization id.
    pub sender_org: String,
    /// Sender's organization name (from the directory).
    pub sender_org_name: String,
    /// Whether the body is still stored.
    pub body_available: bool,
    /// When the holder first downloaded the delivery's capsules or bodies, as the server
    /// observed it (`None`: never). A downloaded delivery cannot be recalled.
    #[serde(default)]
    pub downloaded: Option<i64>,
    /// The deliveries forwarded from this one, oldest first: every one not recalled (what
    /// its holder may recall from any device) and the 20 most recently recalled. Empty for a viewer outside the holder's
    /// organization (the sender never learns who holds what inside it).
    #[serde(default)]
    pub forwards: Vec<ForwardedInfo>,
}

/// A delivery forwarded from another one.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ForwardedInfo {
    /// Id.
    pub id: String,
    /// Holder's certificate id.
    pub holder_cert: String,
    /// Part indices.
    pub parts: Vec<u32>,
    /// `delivered`, `forwarded`, `opened`, `recalled` or `expired`.
    pub status: String,
    /// Creation time.
    pub created: i64,
}

/// `GET /v1/inbox`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Inbox {
    /// Newest first.
    pub deliveries: Vec<DeliveryInfo>,
    /// The cursor of the next page (`after`), `null` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

/// `POST /v1/deliveries/{id}/forward`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ForwardBody {
    /// One encoded `ForwardResponse` per target.
    pub responses: Vec<B64>,
}

/// `POST /v1/deliveries/{id}/recall` (optional body): recall only these parts.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RecallBody {
    /// The parts to recall (ascending, no duplicates, a proper subset of the delivery's);
    /// absent: the whole delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<Vec<u32>>,
}

/// A delivery created by a forward.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewDelivery {
    /// Id.
    pub id: String,
    /// Target certificate id.
    pub holder_cert: String,
    /// Parts.
    pub parts: Vec<u32>,
}

/// The answer to a forward.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ForwardResult {
    /// One per response, in order.
    pub deliveries: Vec<NewDelivery>,
}

/// One event in an envelope's life, as its sender sees it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Receipt {
    /// `delivered`, `forwarded`, `downloaded` (observed by the server: the holder took
    /// the capsules or bodies), `opened` (reported by the reader after a download),
    /// `recalled` or `expired`.
    pub kind: String,
    /// When.
    pub time: i64,
    /// The delivery concerned.
    pub delivery_id: String,
    /// Parts concerned.
    pub parts: Vec<u32>,
    /// Role names of the member who acted (forwarder, or the reader who opened).
    pub by_roles: Vec<String>,
    /// Role names of the holder of the delivery.
    pub holder_roles: Vec<String>,
}

/// `GET /v1/envelopes/{id}/receipts`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Receipts {
    /// Envelope id.
    pub envelope_id: String,
    /// The receipts of this page's deliveries, in time order.
    pub receipts: Vec<Receipt>,
    /// The cursor of the next page (`after`), `null` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

/// One stored audit entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Sequence number, from 1.
    pub seq: u64,
    /// The actor-signed statement.
    pub entry: B64,
    /// Previous hash, hex.
    pub prev_hash: String,
    /// This entry's hash, hex.
    pub hash: String,
    /// Server time of the entry.
    pub created: i64,
}

/// An actor certificate with its organization record, for audit verification.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ActorCertificate {
    /// Certificate id.
    pub cert_id: String,
    /// The certificate.
    pub certificate: B64,
    /// The issuing organization's record.
    pub org_record: B64,
}

/// `GET /v1/orgs/{org}/audit`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditPage {
    /// Organization.
    pub org_id: String,
    /// Entries in order.
    pub entries: Vec<AuditRecord>,
    /// Every certificate an entry names as its actor.
    pub certificates: Vec<ActorCertificate>,
}

/// `GET/PUT /v1/rules`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Rules {
    /// Rules in evaluation order (text, evaluated by the forwarder's agent).
    pub rules: Vec<String>,
    /// In answers: the owner's `set-rules` action statement that stored these rules (the
    /// agent applies the rules only if it verifies with the owner's own key; `null` for
    /// rules stored without one). Ignored in requests (the statement is the action header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<B64>,
}

/// `PUT /v1/orgs/{org}/revocations` and `PUT /v1/orgs/{org}/partners`: an
/// organization-signed list (revocation list, SPEC.md §5.6; partner list, §5.8).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedListBody {
    /// The organization-signed list.
    pub list: B64,
}
/// `PUT /v1/orgs/{org}/revocations`.
pub type RevocationListBody = SignedListBody;
/// `PUT /v1/orgs/{org}/partners`.
pub type PartnerListBody = SignedListBody;

/// `GET /v1/orgs/{org}/revocations` and `GET /v1/orgs/{org}/partners`: the newest list
/// the organization published.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedListInfo {
    /// Organization.
    pub org_id: String,
    /// The list's serial number (verify the list itself).
    pub serial: u64,
    /// The organization-signed list.
    pub list: B64,
    /// When the server stored it.
    pub created: i64,
}
/// `GET /v1/orgs/{org}/revocations`.
pub type RevocationListInfo = SignedListInfo;
/// `GET /v1/orgs/{org}/partners`.
pub type PartnerListInfo = SignedListInfo;

/// `PUT /v1/orgs/{org}/checkpoint`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointBody {
    /// The organization-signed audit checkpoint (SPEC.md §5.7).
    pub checkpoint: B64,
}

/// `PUT /v1/me/local-state/{kind}` and its answer, and `GET /v1/me/local-state/{kind}`:
/// a member's own browser state (pins, trust anchors), sealed and signed by the member key
/// on the member's device. The server stores it opaquely, newest serial only.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LocalStateBody {
    /// The state's serial number (the server keeps only a greater one than it has).
    #[serde(deserialize_with = "json_integer")]
    pub serial: u64,
    /// The sealed state (at most 64 KiB).
    pub state: B64,
}

/// A JSON integer as JSON Schema defines it: `12` and `12.0` alike (any number without a
/// fractional part), within `u64`.
fn json_integer<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        U(u64),
        F(f64),
    }
    match N::deserialize(d)? {
        N::U(n) => Ok(n),
        N::F(f) if f.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&f) => Ok(f as u64),
        N::F(f) => Err(serde::de::Error::custom(format!(
            "{f} is not a non-negative integer"
        ))),
    }
}

/// `GET /v1/orgs/{org}/checkpoint`: the newest checkpoint of the organization's trail.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointInfo {
    /// Organization.
    pub org_id: String,
    /// The anchored position (verify the checkpoint itself).
    pub position: u64,
    /// The organization-signed checkpoint.
    pub checkpoint: B64,
    /// When the server stored it.
    pub created: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64_json() {
        let v = RegisterOrg {
            record: B64(vec![0, 1, 2, 255]),
        };
        let s = serde_json::to_string(&v).expect("json");
        assert_eq!(s, r#"{"record":"AAEC/w=="}"#);
        let back: RegisterOrg = serde_json::from_str(&s).expect("parse");
        assert_eq!(back.record.0, vec![0, 1, 2, 255]);
        assert!(serde_json::from_str::<RegisterOrg>(r#"{"record":"!!"}"#).is_err());
    }
}
