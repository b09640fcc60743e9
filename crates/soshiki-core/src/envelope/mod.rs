//! Document envelopes (SPEC.md §7).
//!
//! An envelope has
//! - a **signed core**: version, suite, envelope id, time, sender organization and certificate,
//!   recipient (representative) organization and certificate, chunk size, the sealed routing
//!   metadata, and per part its length, body digest and *origin capsule* (the digest of the
//!   sender's `C1`, the sender's `C2`, and the key commitment), all signed by the sender;
//! - **slots**: the current capsule of each part (and of the metadata, slot
//!   [`SlotId::METADATA`]) with its chain of hops, each hop a re-encryption proof or signature;
//! - the **certificates** the hops refer to;
//! - the list of part **bodies** present in this copy.
//!
//! Every holder of a slot can open the metadata (title, category, per-part labels) because the
//! metadata has a capsule of its own that travels with each forward; a server that stores the
//! header has no key and cannot. Forwarding touches only slots: bodies are never read, so its
//! cost does not depend on their size.
//!
//! Threat model (T1 body confidentiality, T3 tampering, T5 malleability): see THREAT_MODEL.md.
//!
//! One module per stage, each depending only on the ones above it
//! (`tests/structure.rs` checks that no two modules of the core import each other):
//!
//! | module | what |
//! |---|---|
//! | [`slot`] | slot identifiers ([`SlotId`]) and their `u32` wire encoding |
//! | [`header`] | the signed core, slots, hops, the header codec |
//! | [`metadata`] | the routing metadata and its sealed encoding |
//! | [`verify`] | verifying a header: certificates, signatures, hops; [`VerifiedEnvelope`] |
//! | [`hops`] | making and combining hops (both models), [`ForwardResponse`] |
//! | [`model1`] | forwarding with the whole header (file mode) |
//! | [`model2`] | forwarding through a keyless server: the forwarding request (also `crate::split`) |
//! | [`encryption`] | encrypting an envelope |
//! | [`file`](mod@file) | the envelope file container |

pub mod encryption;
pub mod file;
pub mod header;
pub mod hops;
pub mod metadata;
pub mod model1;
pub mod model2;
pub mod slot;
pub mod verify;

// The envelope's public names at `crate::envelope::*`, whichever stage defines them.
pub use encryption::*;
pub use file::*;
pub use header::*;
pub use hops::*;
pub use metadata::*;
pub use slot::*;
pub use verify::*;
