#![warn(missing_docs)]
//! # Soshiki in the browser
//!
//! A thin WebAssembly layer over `soshiki-core`, `soshiki-proto` (the wire protocol) and
//! `soshiki-client` (rules, trust and audit only: no HTTP). The web UI does the HTTP calls itself; everything that needs a key or
//! verifies a signature runs here, on the member's device, so that the server never sees a key
//! or a plaintext. The JavaScript API is specified in `API.md` (next to this crate's Cargo.toml).
//!
//! - [`api`]: the API as plain Rust (tested natively);
//! - [`local_state`]: browser state signed by the member key, numbered against rollback;
//! - [`open`]: streaming decryption of a downloaded part in constant memory;
//! - [`js`]: the wasm-bindgen conversions;
//! - [`error`]: error codes (`"<code>: <text>"` in JavaScript).

pub mod api;
pub mod error;
pub mod js;
pub mod local_state;
pub mod open;
