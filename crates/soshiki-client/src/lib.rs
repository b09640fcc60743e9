#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! # Soshiki client: the member's side of the management server
//!
//! The management server (`soshiki-server`) is a directory, a set of inboxes and a keyless
//! combiner; it never holds a key that decrypts. Everything that needs a key happens here, on
//! the member's device:
//!
//! | step | function | what the device does |
//! |---|---|---|
//! | organization | [`flows::register_organization`], [`flows::register_first_admin`] | the admin creates the organization key locally and certifies its own key |
//! | enrollment | [`flows::enroll`], [`flows::finish_enrollment`] | a member generates keys, proves possession, keeps them in a pending key file |
//! | approval | [`flows::pending_enrollments`], [`flows::approve_enrollment`] | the admin checks the proof and certifies **locally** with the organization key |
//! | login | [`flows::login`] | signs a challenge bound to the server's origin; gets a bearer token |
//! | directory | [`flows::directory`], [`flows::certified_member`], [`flows::representative`] | verifies each certificate against a **pinned** organization |
//! | send | [`flows::send`] | encrypts to a temporary envelope file, uploads header then bodies |
//! | forward | [`flows::forward_view`], [`flows::forward`] | model 2: verifies the request (no `C1`), opens the labels, makes shares per target |
//! | open | [`flows::open`] | downloads the envelope stream, verifies the chain, decrypts, marks opened |
//! | recall | [`flows::recall`] | withdraws an unopened delivery |
//! | receipts | [`Client::receipts`] | the sender's view: delivered, forwarded, opened, recalled |
//! | audit | [`flows::audit`], [`audit::verify_audit`] | recomputes the hash chain and checks every actor's signature |
//! | rules | [`flows::set_rules`], [`flows::signed_rules`], [`rules::plan`] | a forwarder's routing rules, signed by its own key and evaluated by its agent |
//! | revocation | [`flows::revocations`], [`flows::publish_revocations`], [`trust`] | the organization-signed revocation list every sender and forwarder checks |
//! | checkpoint | [`flows::checkpoint`], [`trust::verify_checkpoints`] | organization-signed anchors of the audit trail |
//!
//! [`Client`] has one typed method per endpoint; [`ClientState`] keeps pins, tokens, pending
//! enrollments and audit anchors in a small JSON file. The wire protocol shared with the
//! server and the browser (action statements, enrollment requests, JSON bodies) is the
//! `soshiki-proto` crate, re-exported as [`proto`].
//!
//! Without the default `http` feature the crate is only [`proto`], [`audit`], [`rules`],
//! [`steps`], [`trust`], [`state`], [`names`] and [`csv_split`] (what the browser,
//! `soshiki-wasm`, needs).
//!
//! A CLI is a thin layer over this crate: load the member key file (core `keyfile`), load the
//! [`ClientState`], make a [`Client`] with the saved token, call one function of [`flows`],
//! save the state.

pub mod audit;
pub mod csv_split;
pub mod names;
pub mod rules;
pub mod state;
pub mod steps;
pub mod trust;

/// The wire protocol shared with the server and the browser: the `soshiki-proto` crate.
pub use soshiki_proto as proto;

#[cfg(feature = "http")]
pub mod error;
#[cfg(feature = "http")]
pub mod flows;
#[cfg(feature = "http")]
pub mod http;

#[cfg(feature = "http")]
pub use error::{ClientError, Result};
#[cfg(feature = "http")]
pub use http::{Client, ClientOptions, Progress};
pub use state::ClientState;
