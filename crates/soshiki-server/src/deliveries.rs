//! Deliveries: the inbox, model-2 forwarding (request without any part's `C1`, then the
//! keyless combiner), recall, opened, and the envelope download for readers.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::Deserialize;
use soshiki_core::cert::Roles;
use soshiki_core::envelope::{self, EnvelopeHeader};
use soshiki_core::split::ForwardResponse;
use soshiki_core::suite::{Suite, SuiteId};
use soshiki_core::with_suite;
use soshiki_proto::json::{
    DeliveryInfo, ForwardBody, ForwardResult, Inbox, NewDelivery, RecallBody,
};
use soshiki_proto::{check_forward_plan, ActionSpec, MAX_FORWARD_TARGETS};
use soshiki_store::{DeliveryRow, DeliveryStatus, MemberStatus};

use crate::auth::Actor;
use crate::error::{codes, ApiError, ApiResult};
use crate::extract::{IdPath, JsonBody, QueryParams};
use crate::page::{List, PageQuery};
use crate::util::{self, blocking, delivery_info, forwardable_parts, has_live_children, random_id};
use crate::{action, AppState};

/// Query of `GET /v1/inbox`.
#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    /// Only deliveries with this status.
    status: Option<String>,
    /// Rows per page (1..=1000, default 100).
    limit: Option<u64>,
    /// The previous page's `next` cursor.
    after: Option<String>,
}

/// `GET /v1/inbox`: the logged-in member's deliveries, newest first.
pub async fn inbox(
    State(st): State<AppState>,
    actor: Actor,
    QueryParams(q): QueryParams<InboxQuery>,
) -> ApiResult<Json<Inbox>> {
    let filter = match q.status.as_deref() {
        None => None,
        Some(s) => Some(s.parse::<DeliveryStatus>().map_err(|_| {
            ApiError::BadRequest(format!(
                "unknown status {s:?}: delivered, forwarded, opened, recalled or expired"
            ))
        })?),
    };
    let page = PageQuery::parse(List::Inbox, q.limit, q.after.as_deref())?;
    let rows = st
        .store
        .inbox(actor.cert_id(), filter, page.request())
        .await
        .map_err(page.store_err())?;
    let mut out = Vec::with_capacity(rows.items.len());
    for d in &rows.items {
        out.push(delivery_info(&st, d, &actor).await?);
    }
    Ok(Json(Inbox {
        deliveries: out,
        next: page.next(rows.next),
    }))
}

async fn load(st: &AppState, id: &str) -> ApiResult<DeliveryRow> {
    st.store
        .delivery(id)
        .await
        .map_err(ApiError::store("unknown delivery", ""))
}

fn require_holder(actor: &Actor, d: &DeliveryRow) -> ApiResult<()> {
    if d.holder_cert == actor.cert_id() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only the holder of the delivery may do this".into(),
        ))
    }
}

/// Readers get the full header (with the capsules of their parts); forwarders without the
/// reader role never do, so that they can forward without ever being able to read.
fn require_reader(actor: &Actor, d: &DeliveryRow) -> ApiResult<()> {
    require_holder(actor, d)?;
    if !actor.has(Roles::READER) {
        return Err(ApiError::Forbidden(
            "only a member with the reader role may download an envelope".into(),
        ));
    }
    match d.status {
        DeliveryStatus::Delivered | DeliveryStatus::Opened => Ok(()),
        other => Err(ApiError::Gone(format!(
            "the delivery was {}",
            other.as_str()
        ))),
    }
}

/// `GET /v1/deliveries/{id}`: for its holder, its creator, or an administrator of its
/// organization.
pub async fn show(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> ApiResult<Json<DeliveryInfo>> {
    let d = load(&st, &id).await?;
    if d.holder_cert != actor.cert_id()
        && d.created_by != actor.cert_id()
        && actor.require_admin(&d.holder_org).is_err()
    {
        return Err(ApiError::Forbidden("this delivery is not yours".into()));
    }
    Ok(Json(delivery_info(&st, &d, &actor).await?))
}

fn octets(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response()
}

/// `GET /v1/deliveries/{id}/header` (the holder, a reader): the delivery's envelope header,
/// restricted to the parts its holder still holds (see [`readable_header`]).
pub async fn header(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let d = load(&st, &id).await?;
    require_reader(&actor, &d)?;
    let env = st.store.envelope(&d.envelope_id).await?;
    let header = readable_header(&st, &d, env.suite).await?;
    record_download(&st, &d).await?;
    Ok(octets(header))
}

/// `GET /v1/deliveries/{id}/metadata` (the holder, any role): the delivery's header with the
/// metadata slot only — no part capsule, no body — so that whoever held a delivery keeps
/// seeing its title, category, part names and labels (sealed to its own key) after forwarding
/// every part onward, and an inbox listing never counts as a download.
pub async fn metadata(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let d = load(&st, &id).await?;
    require_holder(&actor, &d)?;
    match d.status {
        DeliveryStatus::Delivered | DeliveryStatus::Opened | DeliveryStatus::Forwarded => {}
        other => {
            return Err(ApiError::Gone(format!(
                "the delivery was {}",
                other.as_str()
            )))
        }
    }
    let env = st.store.envelope(&d.envelope_id).await?;
    Ok(octets(restricted_header(&d, env.suite, Vec::new()).await?))
}

/// Record, before any capsule or body leaves, that the holder downloads the delivery (the
/// server's own observation: receipts show it and a downloaded delivery cannot be recalled).
/// A delivery recalled or forwarded meanwhile is refused.
async fn record_download(st: &AppState, d: &DeliveryRow) -> ApiResult<()> {
    st.store
        .record_download(&d.id, st.now())
        .await
        .map_err(|e| match e {
            soshiki_store::StoreError::Conflict(_) => {
                ApiError::Gone("the delivery was recalled, forwarded or expired meanwhile".into())
            }
            other => ApiError::store("unknown delivery", "")(other),
        })?;
    Ok(())
}

/// The delivery's header as its holder may read it now: the metadata slot and the slots and
/// bodies of the parts it still holds. A part forwarded onward (to a live, not recalled,
/// child) is dropped, capsule (`C1`) and body alike, so a holder with the reader role cannot
/// keep reading what it forwarded away; a recall gives the part back. `410 parts-forwarded`
/// when nothing is left.
async fn readable_header(st: &AppState, d: &DeliveryRow, suite: u16) -> ApiResult<Vec<u8>> {
    let all = st.store.children(&d.id, 0).await?;
    let keep = util::retained_parts(d, &all);
    if keep.is_empty() {
        return Err(ApiError::coded(
            StatusCode::GONE,
            codes::PARTS_FORWARDED,
            "every part of this delivery was forwarded onward",
        ));
    }
    if keep == d.parts {
        return Ok(d.header.clone());
    }
    restricted_header(d, suite, keep).await
}

/// The suite of a stored envelope.
fn stored_suite(suite: u16) -> ApiResult<SuiteId> {
    SuiteId::from_u16(suite).map_err(|e| ApiError::Internal(format!("stored suite: {e}")))
}

/// The delivery's header restricted to the parts in `keep` ([`restrict_header`]), off the
/// async runtime.
async fn restricted_header(d: &DeliveryRow, suite: u16, keep: Vec<u32>) -> ApiResult<Vec<u8>> {
    let suite = stored_suite(suite)?;
    let header = d.header.clone();
    blocking(move || with_suite!(suite, S => restrict_header::<S>(&header, &keep))).await
}

/// `header` without the slots and bodies of parts not in `keep` (the metadata slot stays).
/// The result still verifies: every slot is checked on its own against the signed core.
fn restrict_header<S: Suite>(header: &[u8], keep: &[u32]) -> ApiResult<Vec<u8>> {
    let mut h = EnvelopeHeader::<S>::from_bytes(header)
        .map_err(|e| ApiError::Internal(format!("stored header: {e}")))?;
    h.slots
        .retain(|s| s.slot.part_index().is_none_or(|i| keep.contains(&i)));
    h.bodies.retain(|b| keep.contains(b));
    Ok(h.to_bytes())
}

/// The parts of a partial recall: ascending, without duplicates, each held by the delivery.
fn check_recalled_parts(d: &DeliveryRow, parts: &[u32]) -> ApiResult<()> {
    if parts.is_empty() || parts.windows(2).any(|w| w[0] >= w[1]) {
        return Err(ApiError::BadRequest(
            "parts to recall: a non-empty ascending list without duplicates".into(),
        ));
    }
    if let Some(p) = parts.iter().find(|p| !d.parts.contains(p)) {
        return Err(ApiError::BadRequest(format!(
            "part {p} is not in this delivery"
        )));
    }
    Ok(())
}

/// Recall some of a delivery's parts: the delivery keeps the others (its stored header loses
/// the recalled parts' slots and bodies), and a new recalled delivery of the same holder
/// records the recalled parts, so receipts and the forwarder's list show them as recalled.
async fn recall_some(
    st: &AppState,
    actor: &Actor,
    d: &DeliveryRow,
    parts: Vec<u32>,
    entry: &[u8],
) -> ApiResult<Json<DeliveryInfo>> {
    let kept: Vec<u32> = d
        .parts
        .iter()
        .copied()
        .filter(|p| !parts.contains(p))
        .collect();
    let env = st.store.envelope(&d.envelope_id).await?;
    let kept_header = restricted_header(d, env.suite, kept).await?;
    let now = st.now();
    let recalled = DeliveryRow {
        id: random_id(),
        envelope_id: d.envelope_id.clone(),
        holder_cert: d.holder_cert.clone(),
        holder_org: d.holder_org.clone(),
        parent: d.parent.clone(),
        created_by: d.created_by.clone(),
        header: Vec::new(),
        parts,
        status: DeliveryStatus::Recalled,
        created: d.created,
        updated: now,
        downloaded: None,
    };
    let row = st
        .store
        .recall_parts(
            &d.id,
            &kept_header,
            &recalled,
            now,
            &action::entry(st, &d.holder_org, entry),
        )
        .await
        .map_err(ApiError::store(
            "unknown delivery",
            "the delivery was downloaded, opened, forwarded or recalled meanwhile",
        ))?;
    Ok(Json(delivery_info(st, &row, actor).await?))
}

/// Query of the forwarding request.
#[derive(Debug, Deserialize)]
pub struct PartsQuery {
    /// Comma-separated part indices (default: every forwardable part).
    parts: Option<String>,
}

fn parse_parts(s: &str) -> ApiResult<Vec<u32>> {
    let mut v = Vec::new();
    for p in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        v.push(
            p.parse::<u32>()
                .map_err(|_| ApiError::BadRequest(format!("malformed part index {p:?}")))?,
        );
    }
    v.sort_unstable();
    v.dedup();
    Ok(v)
}

fn require_forwarder(actor: &Actor, d: &DeliveryRow) -> ApiResult<()> {
    require_holder(actor, d)?;
    if !actor.can_forward() {
        return Err(ApiError::Forbidden(
            "only a representative or forwarder may forward".into(),
        ));
    }
    match d.status {
        DeliveryStatus::Delivered | DeliveryStatus::Forwarded => Ok(()),
        other => Err(delivery_changed(format!(
            "the delivery was {} and cannot be forwarded",
            other.as_str()
        ))),
    }
}

/// 409 `delivery-changed`: the delivery is no longer what the forwarding request was made
/// from (recalled, opened, expired, or forwarded by another request).
fn delivery_changed(message: String) -> ApiError {
    ApiError::coded(StatusCode::CONFLICT, codes::DELIVERY_CHANGED, message)
}

/// `GET /v1/deliveries/{id}/forwarding-request[?parts=0,2]` (the holder, a forwarder): the
/// core's forwarding request — the signed core, the certificates, the metadata slot whole and,
/// for each offered part, only its `C2` and hops. No part's `C1` is ever sent.
pub async fn forwarding_request(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    QueryParams(q): QueryParams<PartsQuery>,
) -> ApiResult<Response> {
    let d = load(&st, &id).await?;
    require_forwarder(&actor, &d)?;
    let all = st.store.children(&d.id, 0).await?;
    let available = forwardable_parts(&d, &all);
    let parts = match q.parts.as_deref() {
        None => available.clone(),
        Some(s) => parse_parts(s)?,
    };
    if parts.is_empty() {
        return Err(ApiError::Conflict(
            "no part of this delivery is left to forward".into(),
        ));
    }
    // A well-formed index of a part this delivery does not have names nothing here: 404.
    if let Some(p) = parts.iter().find(|p| !d.parts.contains(p)) {
        return Err(ApiError::NotFound(format!(
            "part {p} is not in this delivery"
        )));
    }
    if let Some(p) = parts.iter().find(|p| !available.contains(p)) {
        return Err(ApiError::coded(
            StatusCode::CONFLICT,
            codes::PART_ALREADY_FORWARDED,
            format!("part {p} was already forwarded (recall it first)"),
        ));
    }
    let suite = actor.suite;
    let bytes = blocking(move || {
        with_suite!(suite, S => {
            let h = EnvelopeHeader::<S>::from_bytes(&d.header)
                .map_err(|e| ApiError::Internal(format!("stored header: {e}")))?;
            let req = h
                .forwarding_request(Some(&parts))
                .map_err(|e| ApiError::Internal(format!("forwarding request: {e}")))?;
            Ok(req.to_bytes())
        })
    })
    .await?;
    Ok(octets(bytes))
}

/// One verified forward response, applied.
struct Applied {
    forwarder: String,
    target: String,
    parts: Vec<u32>,
    header: Vec<u8>,
}

fn apply_all<S: Suite>(parent: &[u8], responses: &[Vec<u8>]) -> ApiResult<Vec<Applied>> {
    let h = EnvelopeHeader::<S>::from_bytes(parent)
        .map_err(|e| ApiError::Internal(format!("stored header: {e}")))?;
    let mut out = Vec::with_capacity(responses.len());
    for (i, r) in responses.iter().enumerate() {
        let resp = ForwardResponse::<S>::from_bytes(r)
            .map_err(|e| ApiError::BadRequest(format!("forward response {i} is malformed: {e}")))?;
        let new = h.apply_forward(&resp).map_err(|e| {
            ApiError::BadRequest(format!("forward response {i} does not verify: {e}"))
        })?;
        out.push(Applied {
            forwarder: resp.forwarder.fingerprint().to_hex(),
            target: resp.target.fingerprint().to_hex(),
            parts: new
                .slots
                .iter()
                .filter_map(|s| s.slot.part_index())
                .collect(),
            header: new.to_bytes(),
        });
    }
    Ok(out)
}

/// `POST /v1/deliveries/{id}/forward` (the holder, a forwarder): one core `ForwardResponse`
/// per target; parts of different responses must not overlap. Each response is verified and
/// applied by the keyless combiner (`apply_forward`: every proof checked, `C1' = C1 − X`); every
/// target must be an active member of the holder's organization. All new deliveries, the
/// parent's state and the audit entry commit in one transaction.
pub async fn forward(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ForwardBody>,
) -> ApiResult<(StatusCode, Json<ForwardResult>)> {
    let d = load(&st, &id).await?;
    require_forwarder(&actor, &d)?;
    if body.responses.is_empty() || body.responses.len() > MAX_FORWARD_TARGETS {
        return Err(ApiError::coded(
            StatusCode::BAD_REQUEST,
            codes::TOO_MANY_TARGETS,
            format!(
                "a forward carries 1 to {MAX_FORWARD_TARGETS} responses (one per target; the \
                 signed forward statement names each target), not {}",
                body.responses.len()
            ),
        ));
    }
    let all = st.store.children(&d.id, 0).await?;
    let available = forwardable_parts(&d, &all);
    let responses: Vec<Vec<u8>> = body.responses.into_iter().map(|b| b.0).collect();
    let suite = actor.suite;
    let (applied, responses) = {
        let parent = d.header.clone();
        blocking(move || {
            let a = with_suite!(suite, S => apply_all::<S>(&parent, &responses)?);
            Ok((a, responses))
        })
        .await?
    };
    let mut taken: Vec<u32> = Vec::new();
    for a in &applied {
        if a.forwarder != actor.cert_id() {
            return Err(ApiError::Forbidden(
                "a forward response is made by another member than the logged-in holder".into(),
            ));
        }
        let not_member = |why: &str| {
            ApiError::coded(
                StatusCode::BAD_REQUEST,
                codes::TARGET_NOT_MEMBER,
                format!(
                    "target {} is not an active member of the holder's organization ({why})",
                    a.target
                ),
            )
        };
        let t = st.store.member(&a.target).await.map_err(|e| match e {
            soshiki_store::StoreError::NotFound(_) => not_member("not registered"),
            other => other.into(),
        })?;
        if t.org_id != d.holder_org {
            return Err(not_member("a member of another organization"));
        }
        if t.status != MemberStatus::Active {
            return Err(not_member("revoked"));
        }
        if a.parts.is_empty() {
            return Err(ApiError::BadRequest(
                "a forward response carries no part".into(),
            ));
        }
        for p in &a.parts {
            if !available.contains(p) {
                return Err(ApiError::coded(
                    StatusCode::CONFLICT,
                    codes::PART_ALREADY_FORWARDED,
                    format!("part {p} is not available for forwarding (already forwarded?)"),
                ));
            }
            if taken.contains(p) {
                return Err(ApiError::BadRequest(format!(
                    "part {p} is sent to more than one target"
                )));
            }
            taken.push(*p);
        }
    }
    let targets: Vec<(String, Vec<u32>)> = applied
        .iter()
        .map(|a| (a.target.clone(), a.parts.clone()))
        .collect();
    check_forward_plan(&targets)
        .map_err(|m| ApiError::coded(StatusCode::BAD_REQUEST, codes::TOO_MANY_TARGETS, m))?;
    let spec = ActionSpec::forward(&id, &d.envelope_id, &targets, &responses);
    let entry = with_suite!(suite, S => {
        let cert = util::member_cert::<S>(&actor.member)?;
        action::check::<S>(&st, &headers, &cert, &spec)?
    });
    let now = st.now();
    let rows: Vec<DeliveryRow> = applied
        .into_iter()
        .map(|a| DeliveryRow {
            id: random_id(),
            envelope_id: d.envelope_id.clone(),
            holder_cert: a.target,
            holder_org: d.holder_org.clone(),
            parent: Some(id.clone()),
            created_by: actor.cert_id().to_string(),
            header: a.header,
            parts: a.parts,
            status: DeliveryStatus::Delivered,
            created: now,
            updated: now,
            downloaded: None,
        })
        .collect();
    let parent_status = if available.iter().all(|p| taken.contains(p)) {
        DeliveryStatus::Forwarded
    } else {
        DeliveryStatus::Delivered
    };
    match st
        .store
        .commit_forward(
            &id,
            parent_status,
            &rows,
            &[action::entry(&st, &d.holder_org, &entry)],
        )
        .await
    {
        Ok(()) => {}
        Err(soshiki_store::StoreError::Conflict(_)) => {
            // Tell a delivery that changed since it was read (another request forwarded,
            // recalled or opened it) from any other conflict (a replayed statement, a target
            // revoked meanwhile).
            let now = load(&st, &id).await?;
            let now_available = forwardable_parts(&now, &st.store.children(&id, 0).await?);
            if now.status != d.status || now_available != available {
                return Err(delivery_changed(format!(
                    "the delivery changed meanwhile (it is now {}): reload it and fetch a new \
                     forwarding request",
                    now.status.as_str()
                )));
            }
            return Err(ApiError::Conflict(
                "the forward conflicts with the current state: its signed statement was \
                 already used (sign a new one), or a target was revoked meanwhile"
                    .into(),
            ));
        }
        Err(e) => return Err(ApiError::store("unknown delivery", "")(e)),
    }
    Ok((
        StatusCode::CREATED,
        Json(ForwardResult {
            deliveries: rows
                .into_iter()
                .map(|r| NewDelivery {
                    id: r.id,
                    holder_cert: r.holder_cert,
                    parts: r.parts,
                })
                .collect(),
        }),
    ))
}

/// `POST /v1/deliveries/{id}/recall`: by the member that created the delivery (its
/// forwarder, or the sender for a first delivery) or an administrator of its organization,
/// only while it is unopened and not forwarded onward. Its capsules are destroyed and its parts
/// become forwardable again from the previous holder.
pub async fn recall(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<DeliveryInfo>> {
    let only: Option<Vec<u32>> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<RecallBody>(&body)
            .map_err(|e| ApiError::BadRequest(format!("malformed recall body: {e}")))?
            .parts
    };
    let d = load(&st, &id).await?;
    if d.created_by != actor.cert_id() && actor.require_admin(&d.holder_org).is_err() {
        return Err(ApiError::Forbidden(
            "only the member who forwarded this delivery or an administrator may recall it".into(),
        ));
    }
    match d.status {
        DeliveryStatus::Delivered if d.downloaded.is_some() => {
            return Err(already_downloaded());
        }
        DeliveryStatus::Delivered => {}
        DeliveryStatus::Opened => {
            return Err(ApiError::Conflict(
                "the delivery was already opened and cannot be recalled".into(),
            ))
        }
        other => {
            return Err(ApiError::Conflict(format!(
                "the delivery was {} and cannot be recalled",
                other.as_str()
            )))
        }
    }
    let all = st.store.children(&d.id, 0).await?;
    if has_live_children(&d, &all) {
        return Err(ApiError::Conflict(
            "the delivery was forwarded onward: recall those deliveries first".into(),
        ));
    }
    let spec = match &only {
        None => ActionSpec::recall(&id),
        Some(parts) => {
            check_recalled_parts(&d, parts)?;
            ActionSpec::recall_parts(&id, parts)
        }
    };
    let entry = with_suite!(actor.suite, S => {
        let cert = util::member_cert::<S>(&actor.member)?;
        action::check::<S>(&st, &headers, &cert, &spec)?
    });
    if let Some(parts) = only.filter(|p| *p != d.parts) {
        return recall_some(&st, &actor, &d, parts, &entry).await;
    }
    let row = match st
        .store
        .recall(&id, st.now(), &action::entry(&st, &d.holder_org, &entry))
        .await
    {
        Ok(row) => row,
        Err(soshiki_store::StoreError::Conflict(_))
            if load(&st, &id).await.is_ok_and(|d| d.downloaded.is_some()) =>
        {
            return Err(already_downloaded());
        }
        Err(e) => {
            return Err(ApiError::store(
                "unknown delivery",
                "the delivery was opened, forwarded or recalled meanwhile",
            )(e))
        }
    };
    Ok(Json(delivery_info(&st, &row, &actor).await?))
}

fn already_downloaded() -> ApiError {
    ApiError::coded(
        StatusCode::CONFLICT,
        codes::ALREADY_DOWNLOADED,
        "the holder already downloaded this delivery: it cannot be recalled (its capsules \
         and bodies left the server)",
    )
}

/// `POST /v1/deliveries/{id}/opened` (the holder, a reader).
pub async fn opened(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    headers: HeaderMap,
) -> ApiResult<Json<DeliveryInfo>> {
    let d = load(&st, &id).await?;
    require_reader(&actor, &d)?;
    if d.downloaded.is_none() {
        // A receipt never claims more than the server knows: nothing was read from here.
        return Err(ApiError::coded(
            StatusCode::CONFLICT,
            codes::NOT_DOWNLOADED,
            "the delivery was never downloaded: download it before marking it opened",
        ));
    }
    let spec = ActionSpec::open(&id, &d.envelope_id);
    let entry = with_suite!(actor.suite, S => {
        let cert = util::member_cert::<S>(&actor.member)?;
        action::check::<S>(&st, &headers, &cert, &spec)?
    });
    st.store
        .mark_opened(&id, st.now(), &action::entry(&st, &d.holder_org, &entry))
        .await
        .map_err(ApiError::store(
            "unknown delivery",
            "the delivery cannot be opened now",
        ))?;
    Ok(Json(
        delivery_info(&st, &load(&st, &id).await?, &actor).await?,
    ))
}

/// The pieces of the envelope stream for a delivery.
struct Layout {
    prefix: Vec<u8>,
    /// `(offset in the envelope's bodies blob, length)` per body in the delivery's header.
    ranges: Vec<(u64, u64)>,
    trailer: Vec<u8>,
}

fn layout<S: Suite>(header: &[u8]) -> ApiResult<Layout> {
    let h = EnvelopeHeader::<S>::from_bytes(header)
        .map_err(|e| ApiError::Internal(format!("stored header: {e}")))?;
    let prefix = envelope::file_prefix::<S>(&h.core.envelope_id);
    // The blob holds every part's body in order, as the sender uploaded them.
    let mut offsets = Vec::with_capacity(h.core.parts.len());
    let mut off = 0u64;
    for i in 0..h.core.parts.len() as u32 {
        offsets.push(off);
        off += h.body_len(i);
    }
    let ranges = h
        .bodies
        .iter()
        .map(|b| (offsets[*b as usize], h.body_len(*b)))
        .collect();
    let mut trailer = Vec::new();
    envelope::write_trailer(&h, &mut trailer)
        .map_err(|e| ApiError::Internal(format!("trailer: {e}")))?;
    Ok(Layout {
        prefix,
        ranges,
        trailer,
    })
}

/// `GET /v1/deliveries/{id}/envelope` (the holder, a reader): the delivery as an envelope
/// file — prefix ‖ the delivery's bodies from the blob ‖ its header ‖ footer (SPEC.md §8) —
/// streamed in constant memory, so the client decrypts it exactly as a file.
pub async fn envelope(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> ApiResult<Response> {
    let d = load(&st, &id).await?;
    require_reader(&actor, &d)?;
    let env = st.store.envelope(&d.envelope_id).await?;
    if env.body_removed {
        return Err(ApiError::Gone(
            "the envelope's body was removed (retention or expiry)".into(),
        ));
    }
    let header = readable_header(&st, &d, env.suite).await?;
    record_download(&st, &d).await?;
    let lay = with_suite!(stored_suite(env.suite)?, S => layout::<S>(&header)?);
    let total = lay.prefix.len() as u64
        + lay.ranges.iter().map(|r| r.1).sum::<u64>()
        + lay.trailer.len() as u64;
    if let Some(last) = lay.ranges.iter().map(|(o, l)| o + l).max() {
        if last > env.bodies_len {
            return Err(ApiError::Internal("delivery bodies beyond the blob".into()));
        }
    }
    let blobs = st.blobs.clone();
    let key = env.blob_key.clone();
    let bodies = futures::stream::iter(lay.ranges)
        .then(move |(off, len)| {
            let (blobs, key) = (blobs.clone(), key.clone());
            async move {
                blobs
                    .get_range(&key, off, len)
                    .await
                    .map_err(std::io::Error::other)
            }
        })
        .try_flatten();
    let stream =
        futures::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(lay.prefix)) })
            .chain(bodies)
            .chain(futures::stream::once(async move {
                Ok(Bytes::from(lay.trailer))
            }));
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, total.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
