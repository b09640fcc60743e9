//! Sending: the header first (verified completely), then the bodies streamed to the blob store
//! while every part is hashed; the envelope becomes visible only after the blob is durable and
//! the transaction commits. And the sender's receipts.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use soshiki_core::cert::Roles;
use soshiki_core::envelope::{EnvelopeHeader, SlotId};
use soshiki_core::suite::Suite;
use soshiki_core::with_suite;
use soshiki_proto::json::{EnvelopeCommitted, Receipt, Receipts, UploadCreated};
use soshiki_proto::{ActionSpec, B64};
use soshiki_store::{
    DeliveryRow, DeliveryStatus, EnvelopeRow, MemberStatus, StoreError, UploadRow,
};

use crate::auth::Actor;
use crate::error::{codes, ApiError, ApiResult};
use crate::extract::{BinaryBody, IdPath, QueryParams};
use crate::page::{List, PageParams, PageQuery};
use crate::upload::{self, checked_stream, PendingUpload};
use crate::util::{self, blocking, has_role, random_bytes, random_id, role_names};
use crate::{action, AppState};

/// What the server learns from a verified fresh header.
struct Summary {
    envelope_id: String,
    sender_cert: String,
    sender_org: String,
    recipient_org: String,
    recipient_cert: String,
    parts: Vec<(u64, [u8; 32])>,
    bodies_len: u64,
}

fn summarize<S: Suite>(bytes: &[u8], now: u64) -> ApiResult<Summary> {
    let h = EnvelopeHeader::<S>::from_bytes(bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed envelope header: {e}")))?;
    let verified = h
        .verify_at(now)
        .map_err(|e| ApiError::BadRequest(format!("the envelope does not verify: {e}")))?;
    let h = verified.header();
    let n = h.core.parts.len() as u32;
    let fresh = h.certificates.is_empty()
        && h.slots.iter().all(|s| s.hops.is_empty())
        && h.slots
            .iter()
            .map(|s| s.slot)
            .eq(std::iter::once(SlotId::METADATA).chain(SlotId::parts(n)))
        && h.bodies.iter().copied().eq(0..n);
    if !fresh {
        return Err(ApiError::BadRequest(
            "a sent envelope must be as encrypted: every slot, every body, no hop".into(),
        ));
    }
    Ok(Summary {
        envelope_id: hex::encode(h.core.envelope_id),
        sender_cert: h.core.sender_cert.fingerprint().to_hex(),
        sender_org: h.core.sender_org.fingerprint().to_hex(),
        recipient_org: h.core.recipient_org.fingerprint().to_hex(),
        recipient_cert: h.core.recipient_cert.fingerprint().to_hex(),
        parts: (0..n)
            .map(|i| (h.body_len(i), h.core.parts[i as usize].body_digest))
            .collect(),
        bodies_len: h.bodies_len(),
    })
}

/// Check that the addressed member is an active representative of the recipient organization.
async fn check_recipient(st: &AppState, org_id: &str, cert_id: &str) -> ApiResult<()> {
    st.store.org(org_id).await.map_err(|e| match e {
        StoreError::NotFound(_) => {
            ApiError::BadRequest("the recipient organization is not registered here".into())
        }
        other => other.into(),
    })?;
    let m = st.store.member(cert_id).await.map_err(|e| match e {
        StoreError::NotFound(_) => {
            ApiError::BadRequest("the recipient certificate is not registered here".into())
        }
        other => other.into(),
    })?;
    if m.org_id != org_id {
        return Err(ApiError::BadRequest(
            "the recipient certificate belongs to another organization".into(),
        ));
    }
    if m.status != MemberStatus::Active {
        return Err(ApiError::BadRequest("the recipient is revoked".into()));
    }
    if !has_role(m.roles, Roles::REPRESENTATIVE) {
        return Err(ApiError::BadRequest(
            "the recipient is not a representative of its organization".into(),
        ));
    }
    Ok(())
}

/// Where the sender's organization requires the sender role for sending outside (its policy),
/// the logged-in member's certificate must carry it (403 `no-sending-role`).
async fn check_sending_role(st: &AppState, actor: &Actor) -> ApiResult<()> {
    let org = st.store.org(&actor.member.org_id).await?;
    if org.sender_role_required && !has_role(actor.member.roles, Roles::SENDER) {
        return Err(ApiError::coded(
            StatusCode::FORBIDDEN,
            codes::NO_SENDING_ROLE,
            "the organization's policy lets only members with the sender role send to other \
             organizations, and this member's certificate does not carry it",
        ));
    }
    Ok(())
}

/// `POST /v1/envelopes`: the header of an envelope the logged-in member encrypted; answers
/// where to upload exactly `bodies_len` bytes.
pub async fn create_upload(
    State(st): State<AppState>,
    actor: Actor,
    headers: HeaderMap,
    BinaryBody(body): BinaryBody,
) -> ApiResult<(StatusCode, Json<UploadCreated>)> {
    let suite = soshiki_core::envelope::HEADER_FRAME
        .peek_suite(&body)
        .map_err(|e| ApiError::BadRequest(format!("malformed envelope header: {e}")))?;
    if suite != actor.suite {
        return Err(ApiError::BadRequest(
            "the envelope is of another cipher suite than the sender's organization".into(),
        ));
    }
    let bytes = body.to_vec();
    let now = util::now_u64(&st);
    let (sum, bytes) = blocking(move || {
        let s = with_suite!(suite, S => summarize::<S>(&bytes, now)?);
        Ok((s, bytes))
    })
    .await?;
    if sum.sender_cert != actor.cert_id() {
        return Err(ApiError::Forbidden(
            "the envelope's sender is not the logged-in member".into(),
        ));
    }
    if sum.sender_org != actor.member.org_id {
        return Err(ApiError::BadRequest(
            "the envelope names another sender organization".into(),
        ));
    }
    check_sending_role(&st, &actor).await?;
    check_recipient(&st, &sum.recipient_org, &sum.recipient_cert).await?;
    match st.store.envelope(&sum.envelope_id).await {
        Ok(_) => {
            return Err(ApiError::Conflict(
                "an envelope with this id was already uploaded".into(),
            ))
        }
        Err(StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let spec = ActionSpec::send(&sum.envelope_id, &sum.recipient_cert, &bytes);
    let (statement, _) = action::statement(&headers)?;
    with_suite!(suite, S => {
        let cert = util::member_cert::<S>(&actor.member)?;
        action::check::<S>(&st, &headers, &cert, &spec)?;
    });
    let upload_id = random_id();
    let now = st.now();
    let pending = PendingUpload {
        suite: suite.to_u16(),
        actor_cert: sum.sender_cert,
        envelope_id: sum.envelope_id.clone(),
        sender_org: sum.sender_org,
        recipient_org: sum.recipient_org,
        recipient_cert: sum.recipient_cert,
        statement: B64(statement),
        bodies_len: sum.bodies_len,
        parts: sum
            .parts
            .iter()
            .map(|(l, d)| (*l, hex::encode(d)))
            .collect(),
        header_len: bytes.len() as u64,
    };
    let record = upload::encode(&pending, &bytes)?;
    // The record first: from now on it claims the pending record's blob (and, once a PUT
    // starts, the body blob) against the orphan collector. It reserves the bodies and the
    // pending record against the organization's quota; over the quota it is refused (413
    // `quota-exceeded`) and nothing is stored. So is one more than the member's allowance of
    // unfinished uploads (429 `too-many-pending-uploads`): a member cannot pile up records
    // that each reserve quota and blobs until they expire.
    st.store
        .create_upload(
            &UploadRow {
                id: upload_id.clone(),
                org_id: pending.sender_org.clone(),
                actor_cert: pending.actor_cert.clone(),
                record_key: upload::pending_key(&upload_id),
                blob_key: body_key(&pending.envelope_id),
                bytes: sum.bodies_len.saturating_add(record.len() as u64),
                created: now,
                expires: now + upload::START_TTL,
            },
            st.limits.max_pending_uploads,
        )
        .await?;
    if let Err(e) = upload::save(&*st.blobs, &upload_id, record).await {
        // Nothing half-written: the record of an upload that cannot start is removed, so it
        // does not reserve the organization's quota until it expires.
        if let Err(e2) = st.store.abandon_upload(&upload_id).await {
            tracing::error!(error = %e2, "an upload whose record could not be stored is left to expire");
        }
        return Err(e);
    }
    Ok((
        StatusCode::CREATED,
        Json(UploadCreated {
            upload_id,
            envelope_id: sum.envelope_id,
            bodies_len: sum.bodies_len,
        }),
    ))
}

/// `PUT /v1/uploads/{id}`: exactly `bodies_len` bytes, streamed to the blob store while each
/// part is hashed and checked against the sender's signed digest. Answers 201 only after the
/// blob is durable and the envelope and its first delivery are committed.
pub async fn upload(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(upload_id): IdPath,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<EnvelopeCommitted>)> {
    let rec = st.store.upload(&upload_id).await.map_err(unknown_upload)?;
    if rec.actor_cert != actor.cert_id() {
        return Err(ApiError::Forbidden(
            "only the sender who created the upload can complete it".into(),
        ));
    }
    let (p, header_bytes) = upload::load(&*st.blobs, &upload_id).await?;
    if p.actor_cert != actor.cert_id() {
        return Err(ApiError::Forbidden(
            "only the sender who created the upload can complete it".into(),
        ));
    }
    if let Some(v) = headers.get(header::CONTENT_LENGTH) {
        let n: u64 = v
            .to_str()
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ApiError::BadRequest("malformed Content-Length".into()))?;
        if n != p.bodies_len {
            return Err(ApiError::BadRequest(format!(
                "the body length {n} differs from the announced {} bytes",
                p.bodies_len
            )));
        }
    }
    check_recipient(&st, &p.recipient_org, &p.recipient_cert).await?;
    let mut parts = Vec::with_capacity(p.parts.len());
    for (len, d) in &p.parts {
        let d: [u8; 32] = hex::decode(d)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| ApiError::Internal("pending upload digest".into()))?;
        parts.push((*len, d));
    }
    // This attempt's own body blob, claimed by the record before a byte is written.
    let blob_key = body_key(&p.envelope_id);
    let started = st.now();
    st.store
        .renew_upload(&upload_id, started, started + upload::RUN_TTL, &blob_key)
        .await
        .map_err(unknown_upload)?;
    let fault = Arc::new(Mutex::new(None));
    let stream = checked_stream(body.into_data_stream(), parts, p.bodies_len, fault.clone());
    if let Err(e) = st.blobs.put(&blob_key, p.bodies_len, stream).await {
        let _ = st.blobs.delete(&blob_key).await;
        let f = fault.lock().ok().and_then(|mut g| g.take());
        return Err(match f {
            Some(f) => ApiError::BadRequest(f.message()),
            None => ApiError::Internal(format!("storing the body: {e}")),
        });
    }
    // The body is durable; now make the envelope visible, atomically with the audit entries.
    let now = st.now();
    let env = EnvelopeRow {
        id: p.envelope_id.clone(),
        suite: p.suite,
        sender_cert: p.actor_cert.clone(),
        sender_org: p.sender_org.clone(),
        recipient_org: p.recipient_org.clone(),
        blob_key: blob_key.clone(),
        bodies_len: p.bodies_len,
        created: now,
        body_removed: false,
    };
    let first = DeliveryRow {
        id: random_id(),
        envelope_id: p.envelope_id.clone(),
        holder_cert: p.recipient_cert.clone(),
        holder_org: p.recipient_org.clone(),
        parent: None,
        created_by: p.actor_cert.clone(),
        header: header_bytes,
        parts: (0..p.parts.len() as u32).collect(),
        status: DeliveryStatus::Delivered,
        created: now,
        updated: now,
        downloaded: None,
    };
    let mut audit = vec![action::entry(&st, &p.sender_org, &p.statement.0)];
    if p.recipient_org != p.sender_org {
        audit.push(action::entry(&st, &p.recipient_org, &p.statement.0));
    }
    if let Err(e) = st
        .store
        .commit_upload(&upload_id, st.now(), &env, &first, &audit)
        .await
    {
        // This attempt's blob: never committed, so never anyone else's.
        let _ = st.blobs.delete(&blob_key).await;
        return Err(match e {
            StoreError::NotFound(_) => unknown_upload(e),
            StoreError::Conflict(_) => match st.store.upload(&upload_id).await {
                Ok(r) if r.expires <= st.now() => upload_expired(),
                Ok(r) if r.blob_key != blob_key => {
                    ApiError::Conflict("another upload attempt of this envelope took over".into())
                }
                _ => ApiError::Conflict("an envelope with this id was already uploaded".into()),
            },
            other => other.into(),
        });
    }
    st.metrics.uploaded(p.bodies_len);
    let _ = st.blobs.delete(&upload::pending_key(&upload_id)).await;
    Ok((
        StatusCode::CREATED,
        Json(EnvelopeCommitted {
            envelope_id: p.envelope_id,
            delivery_id: first.id,
        }),
    ))
}

/// A fresh body blob key for envelope `envelope_id` (one per upload attempt).
fn body_key(envelope_id: &str) -> String {
    format!("body-{envelope_id}-{}", hex::encode(random_bytes::<8>()))
}

fn upload_expired() -> ApiError {
    ApiError::coded(
        StatusCode::GONE,
        codes::UPLOAD_EXPIRED,
        "the upload expired: create it again with POST /v1/envelopes",
    )
}

/// A store error about an upload record: gone (404) or expired (410 `upload-expired`).
fn unknown_upload(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(_) => ApiError::NotFound(
            "unknown or finished upload: create it again with POST /v1/envelopes".into(),
        ),
        StoreError::Conflict(_) => upload_expired(),
        other => other.into(),
    }
}

/// `GET /v1/envelopes/{id}/receipts[?limit=…&after=…]`: the sender (or an administrator of the
/// sender's organization) sees what happened to its envelope, by role, not by name. Paged by
/// delivery (`limit` deliveries, oldest first, each giving one to three receipts); the
/// receipts of a page are in time order, and `next` continues after its last delivery.
pub async fn receipts(
    State(st): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    QueryParams(q): QueryParams<PageParams>,
) -> ApiResult<Json<Receipts>> {
    let page = PageQuery::parse(List::Receipts, q.limit, q.after.as_deref())?;
    let env = st
        .store
        .envelope(&id)
        .await
        .map_err(ApiError::store("unknown envelope", ""))?;
    if env.sender_cert != actor.cert_id() && actor.require_admin(&env.sender_org).is_err() {
        return Err(ApiError::Forbidden(
            "only the sender sees an envelope's receipts".into(),
        ));
    }
    // One statement gives the page's deliveries with their holders' and creators' roles.
    let rows = st
        .store
        .receipt_rows(&id, page.request())
        .await
        .map_err(page.store_err())?;
    let names = |r: Option<u8>| r.map(role_names).unwrap_or_default();
    let mut out = Vec::new();
    for row in &rows.items {
        let d = &row.delivery;
        let holder = names(row.holder_roles);
        let kind = if d.parent.is_none() {
            "delivered"
        } else {
            "forwarded"
        };
        out.push(Receipt {
            kind: kind.into(),
            time: d.created,
            delivery_id: d.id.clone(),
            parts: d.parts.clone(),
            by_roles: names(row.creator_roles),
            holder_roles: holder.clone(),
        });
        if let Some(t) = d.downloaded {
            // Observed by the server: the holder took the capsules or bodies of these parts.
            out.push(Receipt {
                kind: "downloaded".into(),
                time: t,
                delivery_id: d.id.clone(),
                parts: d.parts.clone(),
                by_roles: holder.clone(),
                holder_roles: holder.clone(),
            });
        }
        let after = match d.status {
            s @ DeliveryStatus::Opened => Some((s.as_str(), holder.clone())),
            s @ (DeliveryStatus::Recalled | DeliveryStatus::Expired) => Some((s.as_str(), vec![])),
            DeliveryStatus::Delivered | DeliveryStatus::Forwarded => None,
        };
        if let Some((kind, by)) = after {
            out.push(Receipt {
                kind: kind.into(),
                time: d.updated,
                delivery_id: d.id.clone(),
                parts: d.parts.clone(),
                by_roles: by,
                holder_roles: holder,
            });
        }
    }
    out.sort_by_key(|r| r.time);
    Ok(Json(Receipts {
        envelope_id: id,
        receipts: out,
        next: page.next(rows.next),
    }))
}
