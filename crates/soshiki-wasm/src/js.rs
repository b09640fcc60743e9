//! The wasm-bindgen layer: converts JavaScript values to and from the plain Rust API of
//! [`crate::api`] and nothing else. The contract is the crate's `API.md` (names and shapes).
//!
//! Conventions: binary values are `Uint8Array`, times are Unix seconds as `number`, structured
//! results are plain objects with camelCase fields, and every failure is a JS `Error` whose
//! message is `"<code>: <English text>"`.

use js_sys::{Array, Object, Reflect, Uint8Array, JSON};
use serde::Serialize;
use soshiki_client::audit::AuditAnchor;
use soshiki_core::envelope::Label;
use soshiki_core::envelope::PartInfo;
use soshiki_core::keyfile::KdfParams;
use soshiki_proto::ActionSpec;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use zeroize::Zeroizing;

use crate::api::{self, CertRef, EncryptRequest, ForwardTarget, OutgoingPart, RulePart};
use crate::error::{Code, Error, Result};
use crate::open;

type JsResult<T> = core::result::Result<T, JsError>;

fn js_err(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

/// The clock for action statements: the browser's, in Unix seconds.
fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0).max(0.0) as u64
}

fn time(v: f64, what: &str) -> Result<u64> {
    // Integers up to 2^53 are exact in a JS number.
    if (0.0..=9_007_199_254_740_991.0).contains(&v) {
        Ok(v as u64)
    } else {
        Err(Error::invalid(format!(
            "{what} must be a non-negative number of seconds"
        )))
    }
}

fn get(obj: &JsValue, key: &str) -> Result<JsValue> {
    if !obj.is_object() {
        return Err(Error::invalid(format!(
            "expected an object with field {key}"
        )));
    }
    Reflect::get(obj, &JsValue::from_str(key))
        .map_err(|_| Error::invalid(format!("cannot read field {key}")))
}

fn bytes_of(v: &JsValue, what: &str) -> Result<Vec<u8>> {
    v.dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| Error::invalid(format!("{what} must be a Uint8Array")))
}

/// Bytes given as a `Uint8Array` or a base64 string; `null`/`undefined` is none.
fn opt_bytes(v: &JsValue, what: &str) -> Result<Option<Vec<u8>>> {
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    if let Some(s) = v.as_string() {
        return soshiki_proto::B64::decode(&s)
            .map(Some)
            .ok_or_else(|| Error::invalid(format!("{what} is not base64")));
    }
    bytes_of(v, what).map(Some)
}

fn string_of(v: &JsValue, what: &str) -> Result<String> {
    v.as_string()
        .ok_or_else(|| Error::invalid(format!("{what} must be a string")))
}

/// A string, or "" when absent.
fn opt_string(v: &JsValue, what: &str) -> Result<String> {
    if v.is_undefined() || v.is_null() {
        Ok(String::new())
    } else {
        string_of(v, what)
    }
}

fn array_of(v: &JsValue, what: &str) -> Result<Array> {
    if Array::is_array(v) {
        Ok(Array::from(v))
    } else {
        Err(Error::invalid(format!("{what} must be an array")))
    }
}

fn strings_of(v: &JsValue, what: &str) -> Result<Vec<String>> {
    array_of(v, what)?
        .iter()
        .map(|s| string_of(&s, what))
        .collect()
}

fn u32_of(v: &JsValue, what: &str) -> Result<u32> {
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) => Ok(n as u32),
        _ => Err(Error::invalid(format!(
            "{what} must be a non-negative integer"
        ))),
    }
}

fn u32s_of(v: &JsValue, what: &str) -> Result<Vec<u32>> {
    array_of(v, what)?
        .iter()
        .map(|n| u32_of(&n, what))
        .collect()
}

/// `{key: value}` labels (values as strings; numbers are accepted and printed).
fn labels_of(v: &JsValue) -> Result<Vec<(String, String)>> {
    if v.is_undefined() || v.is_null() {
        return Ok(vec![]);
    }
    if !v.is_object() {
        return Err(Error::invalid("labels must be an object {key: value}"));
    }
    let mut out = Vec::new();
    for entry in Object::entries(v.unchecked_ref::<Object>()).iter() {
        let pair = Array::from(&entry);
        let key = string_of(&pair.get(0), "a label key")?;
        let value = pair.get(1);
        let value = match value.as_f64() {
            Some(n) => n.to_string(),
            None => string_of(&value, "a label value")?,
        };
        out.push((key, value));
    }
    Ok(out)
}

fn cert_ref(v: &JsValue) -> Result<CertRef> {
    if let Some(s) = v.as_string() {
        Ok(CertRef::Id(s))
    } else {
        Ok(CertRef::Bytes(bytes_of(
            v,
            "a certificate (id string or Uint8Array)",
        )?))
    }
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue> {
    let text = serde_json::to_string(v).map_err(|e| Error::new(Code::Internal, e.to_string()))?;
    JSON::parse(&text).map_err(|_| Error::new(Code::Internal, "cannot build the result object"))
}

fn set(obj: &JsValue, key: &str, value: &JsValue) -> Result<()> {
    Reflect::set(obj, &JsValue::from_str(key), value)
        .map(|_| ())
        .map_err(|_| Error::new(Code::Internal, "cannot build the result object"))
}

fn u8a(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

fn passphrase(p: String) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(p.into_bytes())
}

// ---------------------------------------------------------------------------------------------
// Free functions

/// The crate version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").into()
}

/// `{suite, kind}` of a key file.
#[wasm_bindgen(js_name = keyFileInfo)]
pub fn key_file_info(bytes: &[u8]) -> JsResult<JsValue> {
    api::key_file_info(bytes)
        .and_then(|i| to_js(&i))
        .map_err(js_err)
}

/// The file name under which to save part `index` named `name` by its sender: the one
/// part-name policy of every client (`soshiki_client::names::safe_part_name`).
#[wasm_bindgen(js_name = safePartName)]
pub fn safe_part_name(name: &str, index: u32) -> String {
    soshiki_client::names::safe_part_name(name, index)
}

/// A CSV refusal as a JS `Error`: message `"invalid: <English text>"` (as every error of this
/// API) and a `csv` property `{code, …}` (`soshiki_client::csv_split::CsvError`, serialized)
/// from which the UI writes its own sentence.
fn csv_err(e: soshiki_client::csv_split::CsvError) -> JsValue {
    let err = js_sys::Error::new(&Error::invalid(e.to_string()).to_string());
    if let Ok(detail) = to_js(&e) {
        let _ = Reflect::set(&err, &JsValue::from_str("csv"), &detail);
    }
    err.into()
}

/// `{encoding, columns}` of a CSV file: `encoding` is `utf-8-bom`, `utf-8` or `cp932`. A file
/// in another encoding, or not text, throws (see [`csv_err`]).
#[wasm_bindgen(js_name = csvColumns)]
pub fn csv_columns(bytes: &[u8]) -> core::result::Result<JsValue, JsValue> {
    let header = api::csv_columns(bytes).map_err(csv_err)?;
    to_js(&header).map_err(|e| js_err(e).into())
}

/// Split a CSV file into one part per value of a column, by the splitter the CLI uses:
/// `column` is the column's 1-based number, or a string (a header name, else a number).
/// Result `{encoding, columns, column (the label key), blankLines, parts: [{value, name, rows,
/// bytes: Uint8Array}]}`; each part's bytes are the header line and its rows, original bytes.
#[wasm_bindgen(js_name = splitCsv)]
pub fn split_csv(
    bytes: &[u8],
    file_name: &str,
    column: JsValue,
) -> core::result::Result<JsValue, JsValue> {
    let column = match (column.as_f64(), column.as_string()) {
        (Some(_), _) => {
            api::CsvColumn::Number(u32_of(&column, "column").map_err(|e| JsValue::from(js_err(e)))?)
        }
        (None, Some(s)) => api::CsvColumn::Name(s),
        _ => {
            return Err(js_err(Error::invalid("column must be a number or a string")).into());
        }
    };
    let split = api::split_csv(bytes, file_name, &column).map_err(csv_err)?;
    (|| {
        let out: JsValue = Object::new().into();
        set(&out, "encoding", &JsValue::from_str(split.encoding.code()))?;
        set(&out, "columns", &to_js(&split.columns)?)?;
        set(&out, "column", &JsValue::from_str(split.label_key()))?;
        set(
            &out,
            "blankLines",
            &JsValue::from_f64(split.blank_lines as f64),
        )?;
        let parts = Array::new();
        for p in &split.parts {
            let o: JsValue = Object::new().into();
            set(&o, "value", &JsValue::from_str(&p.value))?;
            set(&o, "name", &JsValue::from_str(&p.name))?;
            set(&o, "rows", &JsValue::from_f64(p.rows as f64))?;
            set(&o, "bytes", &u8a(&p.bytes))?;
            parts.push(&o);
        }
        set(&out, "parts", &parts.into())?;
        Ok(out)
    })()
    .map_err(|e| js_err(e).into())
}

/// `{id, name, suite, created, fingerprintShort}` of a self-signed organization record.
#[wasm_bindgen(js_name = organizationInfo)]
pub fn organization_info(record: &[u8]) -> JsResult<JsValue> {
    api::organization_info(record)
        .and_then(|i| to_js(&i))
        .map_err(js_err)
}

/// Verify a member certificate against a pinned organization record at `now`.
#[wasm_bindgen(js_name = verifyMember)]
pub fn verify_member(org_record: &[u8], certificate: &[u8], now: f64) -> JsResult<JsValue> {
    (|| {
        to_js(&api::verify_member(
            org_record,
            certificate,
            time(now, "now")?,
        )?)
    })()
    .map_err(js_err)
}

/// Verify the member's own organization's partner list (`GET /v1/orgs/{org}/partners` →
/// `list`; `null` if the server has none) against its record and the highest serial this
/// browser has seen. Result `null` (none published, none seen) or `{serial, partners:
/// [[orgId, name]]}`: remember `serial`; throws `untrusted` for a changed, replayed or withheld
/// list.
#[cfg(feature = "partners")]
#[wasm_bindgen(js_name = verifyPartners)]
pub fn verify_partners(
    org_record: &[u8],
    list: JsValue,
    seen_serial: f64,
    now: f64,
) -> JsResult<JsValue> {
    (|| {
        let list = opt_bytes(&list, "list")?;
        to_js(&api::verify_partners(
            org_record,
            list.as_deref(),
            time(seen_serial, "seenSerial")?,
            time(now, "now")?,
        )?)
    })()
    .map_err(js_err)
}

/// Verify an organization's revocation list (`GET /v1/orgs/{org}/revocations` → `list`;
/// `null` if the server has none) against the pinned record, the highest serial this browser
/// has seen and `now`; with `certificate`, throw `untrusted` if the list revokes it.
/// Result `{serial, issued, nextUpdate, revoked: [certId]}`: remember `serial`.
#[wasm_bindgen(js_name = verifyRevocations)]
pub fn verify_revocations(
    org_record: &[u8],
    list: JsValue,
    seen_serial: f64,
    now: f64,
    certificate: JsValue,
) -> JsResult<JsValue> {
    (|| {
        let list = opt_bytes(&list, "list")?;
        let cert = opt_bytes(&certificate, "certificate")?;
        to_js(&api::verify_revocations(
            org_record,
            list.as_deref(),
            time(seen_serial, "seenSerial")?,
            time(now, "now")?,
            cert.as_deref(),
        )?)
    })()
    .map_err(js_err)
}

/// Generate keys and the enrollment request: `{statement, code, pendingKeyFile}`. Show `code`
/// (the enrollment code) to the member: the administrator types it to approve.
#[wasm_bindgen(js_name = createEnrollment)]
pub fn create_enrollment(
    org_record: &[u8],
    member_name: &str,
    roles: &str,
    not_before: f64,
    not_after: f64,
    passphrase_text: String,
) -> JsResult<JsValue> {
    let pass = passphrase(passphrase_text);
    (|| {
        if pass.is_empty() {
            return Err(Error::invalid("the passphrase is empty"));
        }
        let e = api::create_enrollment(
            org_record,
            member_name,
            roles,
            time(not_before, "notBefore")?,
            time(not_after, "notAfter")?,
            &pass,
            KdfParams::DEFAULT,
            now_secs(),
        )?;
        let obj: JsValue = Object::new().into();
        set(&obj, "statement", &u8a(&e.statement))?;
        set(&obj, "code", &JsValue::from_str(&e.code))?;
        set(&obj, "pendingKeyFile", &u8a(&e.pending_key_file))?;
        Ok(obj)
    })()
    .map_err(js_err)
}

/// Check the issued certificate and return the complete member key file. `statement` is this
/// device's `enroll` statement (the `request` of `GET /v1/enrollments/{id}`): `orgRecord` must
/// be the organization it names (a swapped record is refused).
#[wasm_bindgen(js_name = finishEnrollment)]
pub fn finish_enrollment(
    org_record: &[u8],
    certificate: &[u8],
    pending_key_file: &[u8],
    passphrase_text: String,
    statement: &[u8],
) -> JsResult<Vec<u8>> {
    let pass = passphrase(passphrase_text);
    api::finish_enrollment(
        org_record,
        certificate,
        pending_key_file,
        &pass,
        KdfParams::DEFAULT,
        statement,
    )
    .map_err(js_err)
}

/// Route parts by rules: `[{part, target, rule}]` (`target`/`rule` null when unmatched).
/// `category` (optional) is the envelope category for `category=…` tests.
#[wasm_bindgen(js_name = testRules)]
pub fn test_rules(rules: JsValue, parts: JsValue, category: JsValue) -> JsResult<JsValue> {
    (|| {
        let rules = strings_of(&rules, "rules")?;
        let mut ps = Vec::new();
        for p in array_of(&parts, "parts")?.iter() {
            let labels = labels_of(&get(&p, "labels")?)?
                .into_iter()
                .map(|(key, value)| Label { key, value })
                .collect();
            ps.push(RulePart {
                index: u32_of(&get(&p, "index")?, "part index")?,
                info: PartInfo {
                    name: opt_string(&get(&p, "name")?, "part name")?,
                    labels,
                },
            });
        }
        let category = opt_string(&category, "category")?;
        to_js(&api::test_rules(&rules, &ps, &category)?)
    })()
    .map_err(js_err)
}

/// Verify an audit page (the JSON object or text of `GET /v1/orgs/{org}/audit`).
/// `pinned` (optional): other organizations' ids the user has pinned; `anchor` (optional):
/// `{seq, hash}` kept from an earlier verification.
#[wasm_bindgen(js_name = verifyAudit)]
pub fn verify_audit(
    org_record: &[u8],
    page: JsValue,
    pinned: JsValue,
    anchor: JsValue,
    served_checkpoint: JsValue,
    remembered_checkpoint: JsValue,
) -> JsResult<JsValue> {
    (|| {
        let page_text = match page.as_string() {
            Some(s) => s,
            None => JSON::stringify(&page)
                .ok()
                .and_then(|s| s.as_string())
                .ok_or_else(|| Error::malformed("the audit page is not JSON"))?,
        };
        // Certificates (Uint8Array) in `pinned` are accepted and ignored: the page carries them.
        let pinned: Vec<String> = if Array::is_array(&pinned) {
            Array::from(&pinned)
                .iter()
                .filter_map(|v| v.as_string())
                .collect()
        } else {
            vec![]
        };
        let anchor: Option<AuditAnchor> = if anchor.is_object() {
            let text = JSON::stringify(&anchor)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_default();
            Some(serde_json::from_str(&text).map_err(|e| Error::invalid(format!("anchor: {e}")))?)
        } else {
            None
        };
        let served = opt_bytes(&served_checkpoint, "checkpoint")?;
        let remembered = opt_bytes(&remembered_checkpoint, "remembered checkpoint")?;
        to_js(&api::verify_audit_checkpoints(
            org_record,
            &page_text,
            &pinned,
            anchor.as_ref(),
            served.as_deref(),
            remembered.as_deref(),
        )?)
    })()
    .map_err(js_err)
}

// ---------------------------------------------------------------------------------------------
// Session

/// An unlocked member key. `free()` zeroizes it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Session {
    inner: api::Session,
}

#[wasm_bindgen]
impl Session {
    /// Unlock a member key file with its passphrase (Argon2id).
    pub fn unlock(key_file: &[u8], passphrase_text: String) -> JsResult<Session> {
        let pass = passphrase(passphrase_text);
        api::Session::unlock(key_file, &pass)
            .map(|inner| Session { inner })
            .map_err(js_err)
    }

    /// Certificate id (hex).
    #[wasm_bindgen(getter, js_name = certId)]
    pub fn cert_id(&self) -> String {
        self.inner.cert_id()
    }
    /// Organization id (hex).
    #[wasm_bindgen(getter, js_name = orgId)]
    pub fn org_id(&self) -> String {
        self.inner.org_id()
    }
    /// Organization name.
    #[wasm_bindgen(getter, js_name = orgName)]
    pub fn org_name(&self) -> String {
        self.inner.org_name()
    }
    /// Member name.
    #[wasm_bindgen(getter, js_name = memberName)]
    pub fn member_name(&self) -> String {
        self.inner.member_name()
    }
    /// Role names.
    #[wasm_bindgen(getter)]
    pub fn roles(&self) -> Vec<String> {
        self.inner.roles()
    }
    /// Suite name.
    #[wasm_bindgen(getter)]
    pub fn suite(&self) -> String {
        self.inner.suite()
    }
    /// Certificate validity start.
    #[wasm_bindgen(getter, js_name = notBefore)]
    pub fn not_before(&self) -> f64 {
        self.inner.not_before() as f64
    }
    /// Certificate validity end.
    #[wasm_bindgen(getter, js_name = notAfter)]
    pub fn not_after(&self) -> f64 {
        self.inner.not_after() as f64
    }
    /// Whether this is a pending enrollment's key file (not yet approved).
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> bool {
        self.inner.pending()
    }

    /// The organization record.
    #[wasm_bindgen(js_name = organizationRecord)]
    pub fn organization_record(&self) -> Vec<u8> {
        self.inner.organization_record()
    }
    /// The certificate.
    pub fn certificate(&self) -> Vec<u8> {
        self.inner.certificate()
    }

    /// The key file under a (new) passphrase.
    #[wasm_bindgen(js_name = exportKeyFile)]
    pub fn export_key_file(&self, passphrase_text: String) -> JsResult<Vec<u8>> {
        let pass = passphrase(passphrase_text);
        self.inner
            .export_key_file(&pass, KdfParams::DEFAULT)
            .map_err(js_err)
    }

    /// Seal browser state (the pinned organizations, trust anchors) as state `kind` with
    /// `serial`, signed by this member's key: a `Uint8Array` to keep in the profile and on the
    /// server (`PUT /v1/me/local-state/{kind}`).
    #[wasm_bindgen(js_name = sealLocalState)]
    pub fn seal_local_state(&self, kind: &str, serial: f64, text: &str) -> JsResult<Vec<u8>> {
        time(serial, "serial")
            .and_then(|n| self.inner.seal_local_state(kind, n, text))
            .map_err(js_err)
    }

    /// Open a sealed state of `kind`: `{serial, text}`; throws `untrusted` unless it is this
    /// member's.
    #[wasm_bindgen(js_name = openLocalState)]
    pub fn open_local_state(&self, kind: &str, sealed: &[u8]) -> JsResult<JsValue> {
        self.inner
            .open_local_state(kind, sealed)
            .and_then(|s| to_js(&s))
            .map_err(js_err)
    }

    /// Choose between the profile's and the server's sealed copies (each a `Uint8Array`,
    /// base64 or null): `{serial, text, sealed, local, server}` where `local`/`server` is
    /// `current`, `missing`, `older` or `invalid` and `sealed` (or null) is the chosen copy to
    /// write wherever a copy is not `current`.
    #[wasm_bindgen(js_name = reconcileLocalState)]
    pub fn reconcile_local_state(
        &self,
        kind: &str,
        local: JsValue,
        server: JsValue,
    ) -> JsResult<JsValue> {
        (|| {
            let l = opt_bytes(&local, "local")?;
            let sv = opt_bytes(&server, "server")?;
            let r = self
                .inner
                .reconcile_local_state(kind, l.as_deref(), sv.as_deref())?;
            let obj = to_js(&r)?;
            let sealed = r.sealed.as_deref().map_or(JsValue::NULL, u8a);
            set(&obj, "sealed", &sealed)?;
            Ok(obj)
        })()
        .map_err(js_err)
    }

    /// The login signature for `POST /v1/auth/token`.
    #[wasm_bindgen(js_name = signLogin)]
    pub fn sign_login(&self, origin: &str, nonce: &[u8]) -> JsResult<Vec<u8>> {
        self.inner.sign_login(origin, nonce).map_err(js_err)
    }

    fn action(&self, spec: Result<ActionSpec>) -> JsResult<String> {
        spec.map(|s| self.inner.sign_action(&s, now_secs()))
            .map_err(js_err)
    }

    /// `send` statement. `recipientCert`: certificate id or bytes.
    #[wasm_bindgen(js_name = actionSend)]
    pub fn action_send(
        &self,
        envelope_id: &str,
        recipient_cert: JsValue,
        header: &[u8],
    ) -> JsResult<String> {
        self.action((|| {
            let id = self.inner.resolve_cert(&cert_ref(&recipient_cert)?)?;
            Ok(ActionSpec::send(envelope_id, &id, header))
        })())
    }

    /// `forward` statement. `targets`: `[{cert (id or bytes; or certificate), parts}]` in the
    /// order of `responses`.
    #[wasm_bindgen(js_name = actionForward)]
    pub fn action_forward(
        &self,
        delivery_id: &str,
        envelope_id: &str,
        targets: JsValue,
        responses: JsValue,
    ) -> JsResult<String> {
        self.action((|| {
            let mut ts = Vec::new();
            for t in array_of(&targets, "targets")?.iter() {
                let mut c = get(&t, "cert")?;
                if c.is_undefined() {
                    c = get(&t, "certificate")?;
                }
                let id = self.inner.resolve_cert(&cert_ref(&c)?)?;
                let mut parts = u32s_of(&get(&t, "parts")?, "parts")?;
                parts.sort_unstable();
                ts.push((id, parts));
            }
            let rs: Vec<Vec<u8>> = array_of(&responses, "responses")?
                .iter()
                .map(|r| bytes_of(&r, "a response"))
                .collect::<Result<_>>()?;
            Ok(ActionSpec::forward(delivery_id, envelope_id, &ts, &rs))
        })())
    }

    /// `recall` statement.
    #[wasm_bindgen(js_name = actionRecall)]
    pub fn action_recall(&self, delivery_id: &str) -> JsResult<String> {
        self.action(Ok(ActionSpec::recall(delivery_id)))
    }

    /// `recall` statement for some parts only (`parts` sorted and deduplicated here; send the
    /// same list as `{"parts": [...]}`).
    #[wasm_bindgen(js_name = actionRecallParts)]
    pub fn action_recall_parts(&self, delivery_id: &str, parts: Vec<u32>) -> JsResult<String> {
        let mut parts = parts;
        parts.sort_unstable();
        parts.dedup();
        self.action(Ok(ActionSpec::recall_parts(delivery_id, &parts)))
    }

    /// `open` statement.
    #[wasm_bindgen(js_name = actionOpen)]
    pub fn action_open(&self, delivery_id: &str, envelope_id: &str) -> JsResult<String> {
        self.action(Ok(ActionSpec::open(delivery_id, envelope_id)))
    }

    /// Whether `{rules, statement}` from `GET /v1/rules` are the rules this member signed:
    /// `{state: "signed"|"unsigned"|"empty", time, reason}`.
    #[wasm_bindgen(js_name = verifyRules)]
    pub fn verify_rules(&self, rules: JsValue, statement: JsValue) -> JsResult<JsValue> {
        (|| {
            let rules = strings_of(&rules, "rules")?;
            let st = opt_bytes(&statement, "statement")?;
            to_js(&self.inner.verify_rules(&rules, st.as_deref()))
        })()
        .map_err(js_err)
    }

    /// `publish-revocations` statement for a list from `OrgKey.revocationList`.
    #[wasm_bindgen(js_name = actionPublishRevocations)]
    pub fn action_publish_revocations(
        &self,
        org_id: &str,
        serial: f64,
        list: &[u8],
    ) -> JsResult<String> {
        self.action(
            time(serial, "serial").map(|n| ActionSpec::publish_revocations(org_id, n, list)),
        )
    }

    /// `publish-partners` statement for a list from `OrgKey.signPartners`.
    #[cfg(feature = "partners")]
    #[wasm_bindgen(js_name = actionPublishPartners)]
    pub fn action_publish_partners(
        &self,
        org_id: &str,
        serial: f64,
        list: &[u8],
    ) -> JsResult<String> {
        self.action(time(serial, "serial").map(|n| ActionSpec::publish_partners(org_id, n, list)))
    }

    /// `checkpoint` statement for a checkpoint from `OrgKey.signCheckpoint`.
    #[wasm_bindgen(js_name = actionCheckpoint)]
    pub fn action_checkpoint(
        &self,
        org_id: &str,
        position: f64,
        checkpoint: &[u8],
    ) -> JsResult<String> {
        self.action(
            time(position, "position").map(|n| ActionSpec::checkpoint(org_id, n, checkpoint)),
        )
    }

    /// `set-rules` statement (each rule is checked).
    #[wasm_bindgen(js_name = actionSetRules)]
    pub fn action_set_rules(&self, rules: JsValue) -> JsResult<String> {
        self.action(strings_of(&rules, "rules").and_then(|r| self.inner.set_rules_spec(&r)))
    }

    /// `approve` statement: the issued certificate and the member's enroll statement.
    #[wasm_bindgen(js_name = actionApprove)]
    pub fn action_approve(
        &self,
        enrollment_id: &str,
        certificate: &[u8],
        statement: &[u8],
    ) -> JsResult<String> {
        self.action(
            self.inner
                .approve_spec(enrollment_id, certificate, statement),
        )
    }

    /// `reject` statement.
    #[wasm_bindgen(js_name = actionReject)]
    pub fn action_reject(&self, enrollment_id: &str, statement: &[u8]) -> JsResult<String> {
        self.action(Ok(ActionSpec::reject(enrollment_id, statement)))
    }

    /// `revoke` statement.
    #[wasm_bindgen(js_name = actionRevoke)]
    pub fn action_revoke(&self, cert_id: &str, certificate: &[u8]) -> JsResult<String> {
        self.action(Ok(ActionSpec::revoke(cert_id, certificate)))
    }

    /// `set-policy` statement (`null` = none); `quotaBytes`: the storage quota in bytes, a
    /// whole number from 0 (no quota) to 2^50 (`MAX_QUOTA_BYTES`); `senderRoleRequired`:
    /// whether only members with the sender role may send outside.
    #[wasm_bindgen(js_name = actionSetPolicy)]
    pub fn action_set_policy(
        &self,
        org_id: &str,
        expiry_days: Option<u32>,
        retention_days: Option<u32>,
        max_validity_days: Option<u32>,
        quota_bytes: Option<f64>,
        sender_role_required: bool,
    ) -> JsResult<String> {
        self.action(crate::api::quota_from_js(quota_bytes).map(|quota_bytes| {
            ActionSpec::set_policy(
                org_id,
                &soshiki_proto::json::Policy {
                    expiry_days,
                    retention_days,
                    max_validity_days,
                    quota_bytes,
                    sender_role_required,
                },
            )
        }))
    }

    /// Encrypt in memory: `{envelopeId, header, envelope, bodiesOffset, bodiesLength}`.
    pub fn encrypt(&self, options: JsValue, now: f64) -> JsResult<JsValue> {
        (|| {
            let mut parts = Vec::new();
            for p in array_of(&get(&options, "parts")?, "parts")?.iter() {
                parts.push(OutgoingPart {
                    name: opt_string(&get(&p, "name")?, "part name")?,
                    labels: labels_of(&get(&p, "labels")?)?,
                    data: Zeroizing::new(bytes_of(&get(&p, "data")?, "part data")?),
                });
            }
            let chunk = get(&options, "chunkSize")?;
            let req = EncryptRequest {
                recipient_org: bytes_of(&get(&options, "recipientOrg")?, "recipientOrg")?,
                recipient_cert: bytes_of(&get(&options, "recipientCert")?, "recipientCert")?,
                title: opt_string(&get(&options, "title")?, "title")?,
                category: opt_string(&get(&options, "category")?, "category")?,
                chunk_size: if chunk.is_undefined() || chunk.is_null() {
                    None
                } else {
                    Some(u32_of(&chunk, "chunkSize")?)
                },
                parts,
            };
            let e = self.inner.encrypt(&req, time(now, "now")?)?;
            drop(req);
            let obj: JsValue = Object::new().into();
            set(&obj, "envelopeId", &JsValue::from_str(&e.envelope_id))?;
            set(&obj, "header", &u8a(&e.header))?;
            set(&obj, "envelope", &u8a(&e.envelope))?;
            set(
                &obj,
                "bodiesOffset",
                &JsValue::from_f64(e.bodies_offset as f64),
            )?;
            set(
                &obj,
                "bodiesLength",
                &JsValue::from_f64(e.bodies_length as f64),
            )?;
            Ok(obj)
        })()
        .map_err(js_err)
    }

    /// Verify a forwarding request and open its labels (model 2: no part's C1). A time
    /// (creation, hop) later than `now` plus the allowed skew (300 s) is refused.
    #[wasm_bindgen(js_name = forwardView)]
    pub fn forward_view(&self, request: &[u8], now: f64) -> JsResult<JsValue> {
        (|| to_js(&self.inner.forward_view(request, time(now, "now")?)?))().map_err(js_err)
    }

    /// One ForwardResponse per target (`[{certificate, parts}]`), each target verified against
    /// this member's own organization at `now`.
    pub fn forward(&self, request: &[u8], targets: JsValue, now: f64) -> JsResult<Array> {
        (|| {
            let mut ts = Vec::new();
            for t in array_of(&targets, "targets")?.iter() {
                let mut c = get(&t, "certificate")?;
                if c.is_undefined() {
                    c = get(&t, "cert")?;
                }
                ts.push(ForwardTarget {
                    certificate: bytes_of(&c, "a target certificate")?,
                    parts: u32s_of(&get(&t, "parts")?, "parts")?,
                });
            }
            let out = self.inner.forward(request, &ts, time(now, "now")?)?;
            Ok(out.iter().map(|r| u8a(r)).collect::<Array>())
        })()
        .map_err(js_err)
    }

    /// Verify a delivery's metadata copy (`GET /v1/deliveries/{id}/metadata`) and open its
    /// title, category, part names and labels (no part key is involved).
    #[wasm_bindgen(js_name = readMetadata)]
    pub fn read_metadata(&self, header: &[u8], now: f64) -> JsResult<JsValue> {
        (|| to_js(&self.inner.read_metadata(header, time(now, "now")?)?))().map_err(js_err)
    }

    /// Verify a delivery's header (no time later than `now` plus 300 s) and prepare to
    /// decrypt.
    #[wasm_bindgen(js_name = beginOpen)]
    pub fn begin_open(&self, header: &[u8], now: f64) -> JsResult<Opener> {
        (|| {
            Ok(Opener {
                inner: self.inner.begin_open(header, time(now, "now")?)?,
            })
        })()
        .map_err(js_err)
    }
}

/// A verified header with the keys of this member's parts. `free()` zeroizes them.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Opener {
    inner: open::Opener,
}

#[wasm_bindgen]
impl Opener {
    /// `{envelopeId, title, category, senderOrg, senderName, parts, hops, …}`.
    pub fn info(&self) -> JsResult<JsValue> {
        to_js(self.inner.info()).map_err(js_err)
    }

    /// A streaming decryptor for a part this member holds.
    pub fn part(&self, index: u32) -> JsResult<PartDecryptor> {
        self.inner
            .part(index)
            .map(|inner| PartDecryptor { inner })
            .map_err(js_err)
    }
}

/// Decrypts one part in constant memory. `free()` zeroizes its key.
#[wasm_bindgen]
#[derive(Debug)]
pub struct PartDecryptor {
    inner: open::PartDecryptor,
}

#[wasm_bindgen]
impl PartDecryptor {
    /// Any piece of the ciphertext; returns the plaintext authenticated so far.
    pub fn push(&mut self, cipher: &[u8]) -> JsResult<Uint8Array> {
        self.inner
            .push(cipher)
            .map(|pt| Uint8Array::from(&pt[..]))
            .map_err(js_err)
    }

    /// Checks completeness and the signed digest; returns the rest of the plaintext.
    pub fn finish(&mut self) -> JsResult<Uint8Array> {
        self.inner
            .finish()
            .map(|pt| Uint8Array::from(&pt[..]))
            .map_err(js_err)
    }
}

/// An unlocked organization key (approving enrollments). `free()` zeroizes it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct OrgKey {
    inner: api::OrgKey,
}

#[wasm_bindgen]
impl OrgKey {
    /// Unlock an organization key file.
    pub fn unlock(key_file: &[u8], passphrase_text: String) -> JsResult<OrgKey> {
        let pass = passphrase(passphrase_text);
        api::OrgKey::unlock(key_file, &pass)
            .map(|inner| OrgKey { inner })
            .map_err(js_err)
    }
    /// Organization id.
    #[wasm_bindgen(getter, js_name = orgId)]
    pub fn org_id(&self) -> String {
        self.inner.org_id()
    }
    /// Organization name.
    #[wasm_bindgen(getter, js_name = orgName)]
    pub fn org_name(&self) -> String {
        self.inner.org_name()
    }
    /// Suite name.
    #[wasm_bindgen(getter)]
    pub fn suite(&self) -> String {
        self.inner.suite()
    }
    /// The organization record.
    #[wasm_bindgen(js_name = organizationRecord)]
    pub fn organization_record(&self) -> Vec<u8> {
        self.inner.organization_record()
    }
    /// `{name, roles, notBefore, notAfter, validityDays, ok, problem}` of an `enroll` statement
    /// (never its enrollment code: the administrator must type the code the member shows).
    #[wasm_bindgen(js_name = reviewEnrollment)]
    pub fn review_enrollment(&self, statement: &[u8]) -> JsResult<JsValue> {
        to_js(&self.inner.review_enrollment(statement)).map_err(js_err)
    }
    /// The next revocation list: `current` (the `list` the server serves, or null for the
    /// first) plus the certificate ids `revoke`, fresh for `validityDays` days (30 if null).
    /// Result `{serial, list: Uint8Array}`; publish it with `PUT /v1/orgs/{org}/revocations`
    /// `{"list": base64}` and `session.actionPublishRevocations(orgId, serial, list)`.
    #[wasm_bindgen(js_name = revocationList)]
    pub fn revocation_list(
        &self,
        current: JsValue,
        revoke: JsValue,
        validity_days: Option<f64>,
    ) -> JsResult<JsValue> {
        (|| {
            let current = opt_bytes(&current, "current list")?;
            let revoke = if revoke.is_undefined() || revoke.is_null() {
                vec![]
            } else {
                strings_of(&revoke, "revoke")?
            };
            let days = validity_days
                .map(|d| time(d, "validityDays"))
                .transpose()?
                .unwrap_or(30);
            let (serial, list) = self.inner.revocation_list(
                current.as_deref(),
                &revoke,
                now_secs(),
                days.max(1) * 86_400,
            )?;
            let obj = js_sys::Object::new();
            set(&obj, "serial", &JsValue::from_f64(serial as f64))?;
            set(&obj, "list", &u8a(&list))?;
            Ok(obj.into())
        })()
        .map_err(js_err)
    }
    /// The next partner list: `current` (the `list` the server serves, or null for the first)
    /// with the organization `addId` (named `addName`, as the administrator confirmed it)
    /// added and the organization ids `remove` removed. Result `{serial, list: Uint8Array}`;
    /// publish it with `PUT /v1/orgs/{org}/partners` and `session.actionPublishPartners`.
    #[cfg(feature = "partners")]
    #[wasm_bindgen(js_name = signPartners)]
    pub fn sign_partners(
        &self,
        current: JsValue,
        add_id: Option<String>,
        add_name: Option<String>,
        remove: JsValue,
    ) -> JsResult<JsValue> {
        (|| {
            let current = opt_bytes(&current, "current list")?;
            let remove = if remove.is_undefined() || remove.is_null() {
                vec![]
            } else {
                strings_of(&remove, "remove")?
            };
            let add = add_id.as_deref().zip(add_name.as_deref());
            let (serial, list) =
                self.inner
                    .partner_list(current.as_deref(), add, &remove, now_secs())?;
            let obj = js_sys::Object::new();
            set(&obj, "serial", &JsValue::from_f64(serial as f64))?;
            set(&obj, "list", &u8a(&list))?;
            Ok(obj.into())
        })()
        .map_err(js_err)
    }
    /// Sign a checkpoint of the trail: entry `position` has chain hash `headHex` (the `hash`
    /// of that entry in a page `verifyAudit` verified). Publish it with
    /// `PUT /v1/orgs/{org}/checkpoint` `{"checkpoint": base64}` and `session.actionCheckpoint`.
    #[wasm_bindgen(js_name = signCheckpoint)]
    pub fn sign_checkpoint(&self, position: f64, head_hex: &str) -> JsResult<Vec<u8>> {
        (|| {
            self.inner
                .sign_checkpoint(time(position, "position")?, head_hex, now_secs())
        })()
        .map_err(js_err)
    }
    /// Whether `typed` is the enrollment code of this `enroll` statement (to enable the
    /// approve button only when it matches).
    #[wasm_bindgen(js_name = enrollmentCodeMatches)]
    pub fn enrollment_code_matches(&self, statement: &[u8], typed: &str) -> bool {
        self.inner.enrollment_code_matches(statement, typed)
    }
    /// Certify a verified enrollment whose enrollment code is `code` (typed by the
    /// administrator); `maxValidityDays`: the organization's policy (null: no limit);
    /// `notBefore`/`notAfter` null = as requested (they may only shorten it).
    pub fn certify(
        &self,
        statement: &[u8],
        code: &str,
        max_validity_days: Option<u32>,
        not_before: Option<f64>,
        not_after: Option<f64>,
    ) -> JsResult<Vec<u8>> {
        (|| {
            let validity = soshiki_client::steps::ValidityChoice {
                not_before: not_before.map(|v| time(v, "notBefore")).transpose()?,
                not_after: not_after.map(|v| time(v, "notAfter")).transpose()?,
                max_validity_days,
            };
            self.inner.certify(statement, code, validity)
        })()
        .map_err(js_err)
    }
}
