#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! # Soshiki management server (管理サーバ)
//!
//! A directory of organizations and member certificates, an inbox per member, and a
//! **keyless** model-2 combiner: senders upload envelopes encrypted on their own devices,
//! forwarders receive forwarding requests that never contain a part's `C1` and answer with
//! re-encryption shares, and the server checks every proof and applies the shares
//! (`C1' = C1 − X`) with the core's `apply_forward`. Readers download an envelope file stream and
//! decrypt on their device.
//!
//! The server holds no key that decrypts and calls no decryption function: it uses only the
//! core's decoding, verification, `forwarding_request` and `apply_forward`. A test reads this
//! crate's sources and fails if any of them names a secret-key type or a decryption function;
//! another scans the whole database and blob directory after a scenario for every secret key
//! and every plaintext.
//!
//! ```text
//! client                                    server                              store
//!   POST /v1/envelopes (header, signed) ──▶ verify header, sender, recipient
//!   PUT  /v1/uploads/{id} (bodies)      ──▶ hash every part while streaming ──▶ blob put (durable)
//!                                           check every signed digest       ──▶ commit_envelope
//!   GET  …/forwarding-request           ◀── C2s + metadata capsule, no part C1
//!   POST …/forward (shares, signed)     ──▶ apply_forward per target        ──▶ commit_forward
//!   GET  …/envelope                     ◀── prefix ‖ bodies ‖ header ‖ footer (file container)
//! ```
//!
//! Every mutating request carries an action statement signed by the actor
//! (`soshiki_proto::ActionStatement`); the server checks it against the actor's
//! certificate and stores it as the actor's audit entry in the same transaction as the change,
//! where the store offers one (see docs/server-design.md).
//!
//! Entry points: [`router`] (an axum `Router` over an [`AppState`]), [`start`] (bind and serve,
//! with the maintenance task) and [`serve`] (start and run until Ctrl-C).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;
use soshiki_store::{BlobStore, Store, Timestamp};

mod action;
mod audit;
mod auth;
mod deliveries;
mod demo;
mod enroll;
mod envelopes;
mod error;
mod extract;
mod local_state;
pub mod maintenance;
mod members;
pub mod observe;
mod openapi;
mod orgs;
mod page;
mod rules;
mod status;
pub mod throttle;
mod upload;
mod util;
mod web;

pub use error::{codes, ApiError};
pub use openapi::OPENAPI_JSON;
pub use throttle::RateLimit;
pub use util::SHOWN_RECALLED_FORWARDS;

/// A source of the current time (Unix seconds); replaceable in tests.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    })
}

/// Everything a handler needs. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The metadata store.
    pub store: Arc<dyn Store>,
    /// The blob store for bodies.
    pub blobs: Arc<dyn BlobStore>,
    /// The origin (`scheme://host:port`) logins are signed for: what clients dial.
    pub origin: String,
    /// The clock.
    pub clock: Clock,
    /// Operator limits (rate limits, registration, enrollment lifetime).
    pub limits: Limits,
    /// Rate-limit buckets of the unauthenticated endpoints.
    pub(crate) throttle: throttle::Throttle,
    /// Organization id -> cipher suite. An organization's suite is fixed by its self-signed
    /// record (its id is the record's fingerprint), so caching it can never go stale.
    suites: Arc<FingerprintCache<soshiki_core::suite::SuiteId>>,
    /// Certificate id -> validity (`not_before`, `not_after`), read on every authenticated
    /// request; fixed by the certificate (its id is its fingerprint).
    validities: Arc<FingerprintCache<(u64, u64)>>,
    /// Counters and histograms of this process (`/metrics`).
    pub metrics: Arc<observe::Metrics>,
    /// Demo mode: the directory of the demo's key files (`GET /v1/demo/members`).
    pub demo_dir: Option<Arc<PathBuf>>,
}

/// Facts read from an immutable object, keyed by the object's fingerprint: they can never go
/// stale. Bounded: cleared when it grows past 100,000 entries.
#[derive(Debug)]
struct FingerprintCache<V>(std::sync::RwLock<std::collections::HashMap<String, V>>);

impl<V> Default for FingerprintCache<V> {
    fn default() -> Self {
        Self(std::sync::RwLock::default())
    }
}

impl<V: Copy> FingerprintCache<V> {
    fn get(&self, id: &str) -> Option<V> {
        self.0.read().ok()?.get(id).copied()
    }

    fn insert(&self, id: &str, value: V) {
        if let Ok(mut m) = self.0.write() {
            if m.len() >= 100_000 {
                m.clear();
            }
            m.insert(id.to_owned(), value);
        }
    }
}

impl core::fmt::Debug for AppState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AppState")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// A state with the system clock.
    pub fn new(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        origin: impl Into<String>,
    ) -> Self {
        Self {
            store,
            blobs,
            origin: origin.into(),
            clock: system_clock(),
            limits: Limits::default(),
            throttle: throttle::Throttle::new(RateLimit::default()),
            suites: Arc::default(),
            validities: Arc::default(),
            metrics: Arc::default(),
            demo_dir: None,
        }
    }

    /// This state with operator limits `limits` (fresh rate-limit buckets).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.throttle = throttle::Throttle::new(limits.rate_limit);
        self.limits = limits;
        self
    }

    /// The cached suite of organization `org_id`, if known.
    pub(crate) fn cached_suite(&self, org_id: &str) -> Option<soshiki_core::suite::SuiteId> {
        self.suites.get(org_id)
    }

    /// Remember the suite of organization `org_id`.
    pub(crate) fn cache_suite(&self, org_id: &str, suite: soshiki_core::suite::SuiteId) {
        self.suites.insert(org_id, suite);
    }

    /// The cached validity (`not_before`, `not_after`) of certificate `cert_id`, if known.
    pub(crate) fn cached_validity(&self, cert_id: &str) -> Option<(u64, u64)> {
        self.validities.get(cert_id)
    }

    /// Remember the validity of certificate `cert_id`.
    pub(crate) fn cache_validity(&self, cert_id: &str, validity: (u64, u64)) {
        self.validities.insert(cert_id, validity);
    }

    /// Now, Unix seconds.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }
}

/// Who may register an organization (`POST /v1/orgs`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Registration {
    /// Anyone (the record is self-signed; its id is its key's fingerprint). The default.
    #[default]
    Open,
    /// Only who presents this token in the `soshiki-registration-token` header: the
    /// operator of a shared server (`soshiki serve --registration closed
    /// --registration-token-file FILE`; `soshiki org register --registration-token-file`).
    Closed {
        /// The token (compared in constant time).
        token: String,
    },
}

/// What the operator bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Per-address rate limit of the unauthenticated endpoints.
    pub rate_limit: RateLimit,
    /// Who may register organizations.
    pub registration: Registration,
    /// Pending enrollment requests expire after this many seconds.
    pub enrollment_ttl: i64,
    /// Unfinished uploads (created with `POST /v1/envelopes`, not yet committed, not expired)
    /// one member may have at once; one more is refused with 429 `too-many-pending-uploads`.
    pub max_pending_uploads: u32,
}

/// The default of [`Limits::max_pending_uploads`].
pub const DEFAULT_MAX_PENDING_UPLOADS: u32 = 8;

impl Default for Limits {
    fn default() -> Self {
        Self {
            rate_limit: RateLimit::default(),
            registration: Registration::Open,
            enrollment_ttl: 7 * 86_400,
            max_pending_uploads: DEFAULT_MAX_PENDING_UPLOADS,
        }
    }
}

/// Largest JSON body (enrollments, certificates, policies, rules).
const JSON_LIMIT: usize = 2 << 20;
/// Largest envelope header or forward body: the core's header limit plus framing.
const HEADER_LIMIT: usize = soshiki_core::wire::limits::MAX_HEADER as usize + 1024;
/// Largest forward body: one response per target, each at most a header's worth of hops, in
/// base64 JSON.
const FORWARD_LIMIT: usize = HEADER_LIMIT * 2;

/// Every route: method, path, handler. The OpenAPI document must describe exactly these (a
/// test checks it).
fn route_table() -> Vec<(&'static str, &'static str, MethodRouter<AppState>)> {
    vec![
        ("GET", "/v1/info", get(util::info)),
        ("GET", "/v1/openapi.json", get(openapi::document)),
        ("POST", "/v1/orgs", post(orgs::register)),
        ("GET", "/v1/orgs", get(orgs::list)),
        ("GET", "/v1/orgs/{org}", get(orgs::show)),
        ("PUT", "/v1/orgs/{org}/policy", put(orgs::set_policy)),
        (
            "POST",
            "/v1/orgs/{org}/members",
            post(members::register_admin),
        ),
        ("GET", "/v1/orgs/{org}/members", get(members::list)),
        ("GET", "/v1/members/{cert}", get(members::show)),
        ("POST", "/v1/members/{cert}/revoke", post(members::revoke)),
        (
            "GET",
            "/v1/orgs/{org}/revocations",
            get(status::revocations),
        ),
        (
            "PUT",
            "/v1/orgs/{org}/revocations",
            put(status::publish_revocations),
        ),
        ("GET", "/v1/orgs/{org}/partners", get(status::partners)),
        (
            "PUT",
            "/v1/orgs/{org}/partners",
            put(status::publish_partners),
        ),
        ("GET", "/v1/orgs/{org}/checkpoint", get(status::checkpoint)),
        (
            "PUT",
            "/v1/orgs/{org}/checkpoint",
            put(status::publish_checkpoint),
        ),
        ("POST", "/v1/orgs/{org}/enrollments", post(enroll::create)),
        ("GET", "/v1/orgs/{org}/enrollments", get(enroll::list)),
        ("GET", "/v1/enrollments/{id}", get(enroll::show)),
        (
            "POST",
            "/v1/enrollments/{id}/approve",
            post(enroll::approve),
        ),
        ("POST", "/v1/enrollments/{id}/reject", post(enroll::reject)),
        ("POST", "/v1/auth/challenge", post(auth::challenge)),
        ("POST", "/v1/auth/token", post(auth::token)),
        (
            "POST",
            "/v1/envelopes",
            post(envelopes::create_upload).layer(DefaultBodyLimit::max(HEADER_LIMIT)),
        ),
        (
            "PUT",
            "/v1/uploads/{id}",
            // Streamed straight to the blob store; exactly the announced length is accepted.
            put(envelopes::upload).layer(DefaultBodyLimit::disable()),
        ),
        (
            "GET",
            "/v1/envelopes/{id}/receipts",
            get(envelopes::receipts),
        ),
        ("GET", "/v1/inbox", get(deliveries::inbox)),
        ("GET", "/v1/deliveries/{id}", get(deliveries::show)),
        ("GET", "/v1/deliveries/{id}/header", get(deliveries::header)),
        (
            "GET",
            "/v1/deliveries/{id}/metadata",
            get(deliveries::metadata),
        ),
        (
            "GET",
            "/v1/deliveries/{id}/forwarding-request",
            get(deliveries::forwarding_request),
        ),
        (
            "POST",
            "/v1/deliveries/{id}/forward",
            post(deliveries::forward).layer(DefaultBodyLimit::max(FORWARD_LIMIT)),
        ),
        (
            "POST",
            "/v1/deliveries/{id}/recall",
            post(deliveries::recall),
        ),
        (
            "POST",
            "/v1/deliveries/{id}/opened",
            post(deliveries::opened),
        ),
        (
            "GET",
            "/v1/deliveries/{id}/envelope",
            get(deliveries::envelope),
        ),
        ("GET", "/v1/orgs/{org}/audit", get(audit::list)),
        ("GET", "/v1/rules", get(rules::get)),
        ("PUT", "/v1/rules", put(rules::put)),
        ("GET", "/v1/me/local-state/{kind}", get(local_state::get)),
        ("PUT", "/v1/me/local-state/{kind}", put(local_state::put)),
    ]
}

/// The routes whose requests must carry a signed action statement in the `soshiki-action`
/// header (every change a member makes). A request without the header is refused with 400
/// before anything else is looked at; the OpenAPI document marks exactly these operations'
/// header as required (a test checks it).
pub const SIGNED_ROUTES: &[(&str, &str)] = &[
    ("PUT", "/v1/orgs/{org}/policy"),
    ("POST", "/v1/orgs/{org}/members"),
    ("POST", "/v1/members/{cert}/revoke"),
    ("PUT", "/v1/orgs/{org}/revocations"),
    ("PUT", "/v1/orgs/{org}/checkpoint"),
    ("PUT", "/v1/orgs/{org}/partners"),
    ("POST", "/v1/enrollments/{id}/approve"),
    ("POST", "/v1/enrollments/{id}/reject"),
    ("POST", "/v1/envelopes"),
    ("POST", "/v1/deliveries/{id}/forward"),
    ("POST", "/v1/deliveries/{id}/recall"),
    ("POST", "/v1/deliveries/{id}/opened"),
    ("PUT", "/v1/rules"),
];

/// Every `(method, path)` the router serves, paths in axum syntax (`/v1/orgs/{org}`).
pub fn routes() -> Vec<(&'static str, &'static str)> {
    route_table().into_iter().map(|(m, p, _)| (m, p)).collect()
}

/// The HTTP API, with `/healthz`, `/readyz` and `/metrics`.
pub fn router(state: AppState) -> Router {
    router_with(state, true)
}

/// The HTTP API, with `/healthz` and `/readyz`, and `/metrics` unless `metrics_here` is false
/// (metrics served on their own address, [`metrics_router`]).
pub fn router_with(state: AppState, metrics_here: bool) -> Router {
    let mut r: Router<AppState> = Router::new();
    for (method, path, handler) in route_table() {
        let handler = if SIGNED_ROUTES.contains(&(method, path)) {
            handler.route_layer(axum::middleware::from_fn(action::require_header))
        } else {
            handler
        };
        r = r.route(path, handler);
    }
    r = r
        .route("/healthz", get(observe::healthz))
        .route("/readyz", get(observe::readyz));
    if state.demo_dir.is_some() {
        r = r.route("/v1/demo/members", get(demo::members));
    }
    if metrics_here {
        r = r.route("/metrics", get(observe::metrics));
    }
    r = r.merge(web::router());
    r.route_layer(axum::middleware::from_fn(observe::tag_route))
        .fallback(util::no_route)
        .method_not_allowed_fallback(util::method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::access,
        ))
        .with_state(state)
}

/// The operator's listener when metrics have their own address: `/metrics`, `/healthz` and
/// `/readyz` only.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(observe::metrics))
        .route("/healthz", get(observe::healthz))
        .route("/readyz", get(observe::readyz))
        .with_state(state)
}

/// Certificate and private key (PEM files) for HTTPS.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain, PEM.
    pub cert: PathBuf,
    /// Private key, PEM.
    pub key: PathBuf,
}

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// Address to bind (default `127.0.0.1:7780`; port 0 picks a free port).
    pub bind: SocketAddr,
    /// Database URL (`sqlite:///…/soshiki.sqlite` or `postgres://…`).
    pub database_url: String,
    /// Blob store (a directory, `file:///…` or `s3://bucket?endpoint=…`).
    pub blobs_url: String,
    /// The origin clients dial (`https://soshiki.example`); default `http(s)://` + the bound
    /// address.
    pub origin: Option<String>,
    /// HTTPS certificate and key; plain HTTP without.
    pub tls: Option<TlsFiles>,
    /// How often expiry, retention and orphan collection run.
    pub maintenance_interval: Duration,
    /// Rate limits, registration, enrollment lifetime.
    pub limits: Limits,
    /// Demo mode: the directory `serve --demo` writes the demo's key files and index to
    /// (`GET /v1/demo/members` serves the index; `None`: no such route).
    pub demo_dir: Option<PathBuf>,
    /// Where `/metrics` is served: `None` on the main address, or its own address (plain
    /// HTTP, for the monitoring network; the main address then has no `/metrics`).
    pub metrics_bind: Option<SocketAddr>,
}

/// The demo index file `serve --demo` writes in the demo directory.
pub const DEMO_INDEX: &str = demo::INDEX;

/// The default port.
pub const DEFAULT_PORT: u16 = 7780;

impl ServeConfig {
    /// The embedded default: SQLite and body files in `data_dir` (created if needed), bound to
    /// `127.0.0.1:7780`.
    pub fn with_data_dir(data_dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let dir = data_dir.canonicalize()?;
        let db = dir.join("soshiki.sqlite");
        Ok(Self {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            database_url: format!("sqlite://{}", db.display()),
            blobs_url: dir.join("blobs").display().to_string(),
            origin: None,
            tls: None,
            maintenance_interval: Duration::from_secs(60),
            limits: Limits::default(),
            metrics_bind: None,
            demo_dir: None,
        })
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The database or blob store could not be opened.
    #[error("storage: {0}")]
    Store(#[from] soshiki_store::StoreError),
    /// Binding, TLS files, serving.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A running server.
#[derive(Debug)]
pub struct RunningServer {
    /// The bound address.
    pub addr: SocketAddr,
    /// The origin logins are signed for.
    pub origin: String,
    /// The state (store, blobs).
    pub state: AppState,
    /// The metrics address, when metrics have their own ([`ServeConfig::metrics_bind`]).
    pub metrics_addr: Option<SocketAddr>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    metrics_task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    maintenance: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    /// The base URL clients use (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.origin
    }

    /// Stop accepting connections, finish the requests in flight, stop the maintenance task.
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        self.maintenance.abort();
        if let Some(t) = self.metrics_task {
            t.await
                .map_err(|e| std::io::Error::other(e.to_string()))??;
        }
        self.task
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))?
    }
}

/// Open the stores, bind, and serve in the background (with the maintenance task).
pub async fn start(config: ServeConfig) -> Result<RunningServer, ServeError> {
    let store: Arc<dyn Store> = Arc::from(soshiki_store::open_store(&config.database_url).await?);
    let blobs: Arc<dyn BlobStore> = Arc::from(soshiki_store::open_blobs(&config.blobs_url).await?);
    let listener = std::net::TcpListener::bind(config.bind)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let origin = config
        .origin
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{addr}"));
    let mut state = AppState::new(store, blobs, origin.trim_end_matches('/'))
        .with_limits(config.limits.clone());
    state.demo_dir = config.demo_dir.clone().map(Arc::new);
    let (tx, mut rx) = tokio::sync::watch::channel(false);
    let app = router_with(state.clone(), config.metrics_bind.is_none());
    let metrics_task = match config.metrics_bind {
        Some(bind) => {
            let listener = tokio::net::TcpListener::bind(bind).await?;
            let metrics_addr = listener.local_addr()?;
            tracing::info!(%metrics_addr, "metrics listening");
            let mut stop = tx.subscribe();
            let app = metrics_router(state.clone());
            Some((
                metrics_addr,
                tokio::spawn(async move {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = stop.wait_for(|s| *s).await;
                        })
                        .await
                }),
            ))
        }
        None => None,
    };
    let task = match &config.tls {
        Some(tls) => {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let rustls_config =
                axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key).await?;
            let handle = axum_server::Handle::new();
            let h2 = handle.clone();
            tokio::spawn(async move {
                let _ = rx.wait_for(|stop| *stop).await;
                h2.graceful_shutdown(Some(Duration::from_secs(30)));
            });
            let server = axum_server::from_tcp_rustls(listener, rustls_config)?.handle(handle);
            tokio::spawn(async move {
                server
                    .serve(app.into_make_service_with_connect_info::<SocketAddr>())
                    .await
            })
        }
        None => {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|stop| *stop).await;
                })
                .await
            })
        }
    };
    let maintenance = tokio::spawn(maintenance::run_periodically(
        state.clone(),
        config.maintenance_interval,
    ));
    tracing::info!(%addr, origin = %state.origin, "soshiki server listening");
    Ok(RunningServer {
        addr,
        origin: state.origin.clone(),
        state,
        metrics_addr: metrics_task.as_ref().map(|(a, _)| *a),
        shutdown: tx,
        task,
        metrics_task: metrics_task.map(|(_, t)| t),
        maintenance,
    })
}

/// Start and serve until Ctrl-C (SIGINT), then shut down gracefully.
pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    let server = start(config).await?;
    tokio::signal::ctrl_c().await?;
    tracing::info!("shutting down");
    server.shutdown().await?;
    Ok(())
}
