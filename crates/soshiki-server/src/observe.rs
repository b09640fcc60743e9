//! What an operator watches: a request id on every request (`x-request-id`, in and out), one
//! access line per request, Prometheus/OpenMetrics metrics (`/metrics`), liveness (`/healthz`)
//! and readiness (`/readyz`: the database and the blob store answer).
//!
//! Nothing here sees a secret: the access line names the route *template* (never the path with
//! its ids, never a header or a body), and the metrics are counts by route, status and event.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;
use tracing::Instrument;

use crate::AppState;

/// The request id header, read from the client (or a proxy) and always answered.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id accepted from a client; a longer or otherwise unusable one is
/// replaced by a fresh id.
const MAX_REQUEST_ID: usize = 64;

/// A request's id (in the request's extensions, for handlers that log).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The route template a request matched (`/v1/deliveries/{id}`), carried from the router to
/// the access layer in the response's extensions.
#[derive(Clone, Debug)]
struct RouteTemplate(String);

/// Request labels: method, route template, status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// Latency labels: method and route template.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// What happened to deliveries (counted when the request that did it succeeded) and security
/// events.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
enum Event {
    /// An envelope's bodies were committed: a first delivery exists.
    delivery,
    /// A model-2 forward (re-encryption hops) was committed.
    forward,
    /// A delivery (or some of its parts) was recalled.
    recall,
    /// A reader reported a delivery opened.
    open,
    /// A login was refused (failed signature, unknown or expired challenge, revoked member).
    login_refused,
    /// An action statement was refused.
    statement_refused,
    /// A request was refused by the rate limit.
    rate_limited,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: Event,
}

/// The counters and histograms of one server process.
#[derive(Debug)]
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    events: Family<EventLabels, Counter>,
    upload_bytes: Counter<u64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            // 1 ms to ~33 s, doubling.
            latency: Family::new_with_constructor(|| {
                Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
                    0.001, 2.0, 16,
                ))
            }),
            events: Family::default(),
            upload_bytes: Counter::default(),
        }
    }
}

impl Metrics {
    fn event(&self, event: Event) {
        self.events.get_or_create(&EventLabels { event }).inc();
    }

    /// Body bytes received by a committed upload.
    pub fn uploaded(&self, bytes: u64) {
        self.upload_bytes.inc_by(bytes);
    }

    /// A refused login (security event).
    pub fn login_refused(&self) {
        self.event(Event::login_refused);
    }

    /// A refused action statement (security event).
    pub fn statement_refused(&self) {
        self.event(Event::statement_refused);
    }

    /// A request refused by the rate limit (security event).
    pub fn rate_limited(&self) {
        self.event(Event::rate_limited);
    }
}

/// The event a successful request of this route records, if any.
fn event_of(method: &str, route: &str) -> Option<Event> {
    match (method, route) {
        ("PUT", "/v1/uploads/{id}") => Some(Event::delivery),
        ("POST", "/v1/deliveries/{id}/forward") => Some(Event::forward),
        ("POST", "/v1/deliveries/{id}/recall") => Some(Event::recall),
        ("POST", "/v1/deliveries/{id}/opened") => Some(Event::open),
        _ => None,
    }
}

/// A usable client-supplied request id: 1 to 64 characters from `A-Z a-z 0-9 . _ : -`.
fn usable_request_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty()
        && s.len() <= MAX_REQUEST_ID
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-')))
    .then(|| s.to_owned())
}

/// Inner layer (after routing): record the matched route template for the access layer.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let mut resp = next.run(req).await;
    if let Some(r) = route {
        resp.extensions_mut().insert(RouteTemplate(r));
    }
    resp
}

/// Outer layer: request id, a span carrying it (so every event a handler logs names the
/// request), one access line, the request metrics.
pub async fn access(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(usable_request_id)
        .unwrap_or_else(crate::util::random_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let span = tracing::info_span!("request", request_id = %id);
    let mut resp = next.run(req).instrument(span).await;
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    let route = resp
        .extensions()
        .get::<RouteTemplate>()
        .map_or_else(|| "-".to_owned(), |r| r.0.clone());
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID, v);
    }
    let ms = elapsed.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(target: "soshiki::access", request_id = %id, %method, %route, status, ms, "request failed");
    } else {
        tracing::info!(target: "soshiki::access", request_id = %id, %method, %route, status, ms, "request");
    }
    let m = &st.metrics;
    m.requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    m.latency
        .get_or_create(&RouteLabels {
            method: method.clone(),
            route: route.clone(),
        })
        .observe(elapsed.as_secs_f64());
    if (200..300).contains(&status) {
        if let Some(e) = event_of(&method, &route) {
            m.event(e);
        }
    }
    resp
}

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Response {
    (StatusCode::OK, Json(Health { status: "ok" })).into_response()
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

/// `GET /readyz` answer.
#[derive(Serialize)]
struct Ready {
    status: &'static str,
    database: &'static str,
    blobs: &'static str,
}

/// `GET /readyz`: 200 when the database and the blob store answer, 503 (naming which does not)
/// otherwise. The causes go to the log, not to the answer.
pub async fn readyz(State(st): State<AppState>) -> Response {
    let db = st.store.pending_uploads(st.now()).await;
    let blobs = st.blobs.ping().await;
    if let Err(e) = &db {
        tracing::warn!(error = %e, "readiness: the database does not answer");
    }
    if let Err(e) = &blobs {
        tracing::warn!(error = %e, "readiness: the blob store does not answer");
    }
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ready = db.is_ok() && blobs.is_ok();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Ready {
        status: word(ready),
        database: word(db.is_ok()),
        blobs: word(blobs.is_ok()),
    };
    (status, Json(body)).into_response()
}

/// `GET /metrics`: OpenMetrics text (Prometheus scrapes it).
pub async fn metrics(State(st): State<AppState>, _headers: HeaderMap) -> Response {
    let pending = st.store.pending_uploads(st.now()).await;
    let mut registry = Registry::with_prefix("soshiki");
    let m: &Arc<Metrics> = &st.metrics;
    registry.register(
        "http_requests",
        "HTTP requests by method, route template and status",
        m.requests.clone(),
    );
    registry.register(
        "http_request_duration_seconds",
        "HTTP request latency by method and route template",
        m.latency.clone(),
    );
    registry.register(
        "events",
        "Deliveries, forwards, recalls, opens and security events",
        m.events.clone(),
    );
    registry.register(
        "audit_entries",
        "Audit-trail entries written",
        ConstCounter::new(soshiki_store::counters::audit_entries()),
    );
    registry.register(
        "upload_bytes",
        "Body bytes received by committed uploads",
        m.upload_bytes.clone(),
    );
    let backend = Family::<BackendLabels, Counter>::default();
    for (name, n) in [
        ("database", soshiki_store::counters::database_errors()),
        ("blobs", soshiki_store::counters::blob_errors()),
    ] {
        backend
            .get_or_create(&BackendLabels {
                backend: name.into(),
            })
            .inc_by(n);
    }
    registry.register(
        "backend_errors",
        "Failures of the database and the blob store since the process started",
        backend,
    );
    match pending {
        Ok(n) => registry.register(
            "pending_uploads",
            "Uploads started and not yet committed or expired",
            ConstGauge::new(i64::try_from(n).unwrap_or(i64::MAX)),
        ),
        Err(e) => tracing::warn!(error = %e, "metrics: pending uploads could not be counted"),
    }
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &registry) {
        tracing::error!(error = %e, "metrics could not be encoded");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    backend: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_from_clients_are_bounded_and_plain() {
        let ok = HeaderValue::from_static("req-42.a_b:c");
        assert_eq!(usable_request_id(&ok).as_deref(), Some("req-42.a_b:c"));
        for bad in ["", "a b", "x\u{7f}", "<script>", "a/b"] {
            if let Ok(v) = HeaderValue::from_str(bad) {
                assert_eq!(usable_request_id(&v), None, "{bad:?}");
            }
        }
        let long = HeaderValue::from_str(&"a".repeat(65)).expect("header");
        assert_eq!(usable_request_id(&long), None);
    }
}
