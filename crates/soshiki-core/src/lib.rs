#![forbid(unsafe_code)]
#![warn(missing_docs)]
//! # Soshiki core: organizational cryptography (組織暗号)
//!
//! A sender encrypts a document to another organization's **representative** (受信代表者).
//! Inside the receiving organization the document is forwarded hop by hop — representative,
//! section chief, the staff member in charge — and each forwarder **re-encrypts** it to the next
//! person without ever producing the plaintext (EC-ElGamal re-encryption, [`scheme`]).
//! Each part of a document can go to a different reader, routed by labels that every holder can
//! read but a server cannot.
//!
//! The whole story, on P-256 (the default suite; [`suite::Ristretto255`] works the same):
//!
//! ```
//! use soshiki_core::cert::{CertificateRequest, OrganizationKey, Roles};
//! use soshiki_core::envelope::{self, EncryptOptions, EnvelopeFile, Forwarder, Label, PartInfo, PartSource, Sender, SlotId};
//! use soshiki_core::keys::{SecretKey, SigningKey};
//! use soshiki_core::suite::P256;
//! use std::io::Cursor;
//!
//! let mut rng = rand_core::OsRng;
//! let now = 1_700_000_000;
//! // Two organizations, each certifying its members' keys.
//! let prefecture = OrganizationKey::<P256>::generate("長野県 福祉課", now, &mut rng)?;
//! let city = OrganizationKey::<P256>::generate("大町市 市民課", now, &mut rng)?;
//! let member = |org: &OrganizationKey<P256>, name: &str, roles: Roles, rng: &mut rand_core::OsRng| {
//!     let (enc, sig) = (SecretKey::<P256>::generate(rng), SigningKey::<P256>::generate(rng));
//!     let req = CertificateRequest { member_name: name.into(), roles, encryption_key: enc.public_key().clone(),
//!         signing_key: sig.verifying_key(), not_before: now, not_after: now + 86_400 };
//!     let cert = org.certify(&req, rng).expect("certify");
//!     (enc, sig, cert)
//! };
//! let (_, sender_sig, sender_cert) = member(&prefecture, "送信担当", Roles::READER, &mut rng);
//! let (rep, rep_sig, rep_cert) = member(&city, "受信代表", Roles::REPRESENTATIVE, &mut rng);
//! let (chief, chief_sig, chief_cert) = member(&city, "課長", Roles::FORWARDER, &mut rng);
//! let (staff, _, staff_cert) = member(&city, "大町地区担当", Roles::READER, &mut rng);
//!
//! // The sender encrypts a two-part list to the city's representative.
//! let to_rep = rep_cert.verify(city.organization(), now)?;
//! let sender = Sender { org: prefecture.organization(), cert: &sender_cert, signing_key: &sender_sig };
//! let part = |name: &str, district: &str, body: &'static [u8]| PartSource {
//!     info: PartInfo { name: name.into(), labels: vec![Label::parse(&format!("district={district}")).unwrap()] },
//!     len: body.len() as u64, reader: Box::new(body) };
//! let opts = EncryptOptions { title: "敬老会 名簿".into(), category: "list".into(), chunk_size: 65536, created: now };
//! let mut file = Vec::new();
//! envelope::encrypt(&sender, &to_rep, &opts,
//!     vec![part("omachi.csv", "Omachi", b"name,age\n..."), part("yasaka.csv", "Yasaka", b"name,age\n,,,")],
//!     &mut file, &mut rng, &mut |_| {})?;
//!
//! // The representative forwards everything to the section chief (re-encryption: no plaintext).
//! let f = EnvelopeFile::<P256>::open(&mut Cursor::new(&file))?;
//! let v = f.header.clone().verify()?; // verify takes the header; the file keeps its bodies
//! let to_chief = chief_cert.verify(city.organization(), now)?;
//! let h1 = v.forward(&Forwarder { holder: &rep, signer: &rep_sig, cert: &rep_cert }, &to_chief, None, now + 60, &mut rng)?;
//!
//! // The chief reads the labels and forwards only the Omachi part to the Omachi officer.
//! let v1 = h1.verify()?;
//! let meta = v1.open_metadata(&chief)?;
//! let omachi: Vec<u32> = (0..meta.parts.len() as u32)
//!     .filter(|i| meta.parts[*i as usize].labels.iter().any(|l| l.value == "Omachi")).collect();
//! let to_staff = staff_cert.verify(city.organization(), now)?;
//! let h2 = v1.forward(&Forwarder { holder: &chief, signer: &chief_sig, cert: &chief_cert }, &to_staff, Some(&omachi), now + 120, &mut rng)?;
//!
//! // The staff member verifies the sender and every hop, then decrypts.
//! let mut out_file = Vec::new();
//! envelope::write_forwarded(&f, &mut Cursor::new(&file), &h2, &mut out_file, &mut |_| {})?;
//! let f2 = EnvelopeFile::<P256>::open(&mut Cursor::new(&out_file))?;
//! let v2 = f2.header.clone().verify()?;
//! assert_eq!(v2.sender().organization().fingerprint(), prefecture.organization().fingerprint());
//! let mut plain = Vec::new();
//! envelope::decrypt_part(&v2, &f2, &mut Cursor::new(&out_file), 0, &staff, &mut plain, &mut |_| {})?;
//! assert_eq!(plain, b"name,age\n...");
//! // The Yasaka part was not forwarded to this officer, and the chief cannot open it any more.
//! let (yasaka, omachi_part) = (SlotId::part(1).unwrap(), SlotId::part(0).unwrap());
//! assert!(v2.open_slot(yasaka, &staff).is_err());
//! assert!(v2.open_slot(omachi_part, &chief).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules, bottom up: [`suite`] (groups and signatures), [`wire`] (bounded codec; every
//! top-level object is a [`wire::Codec`] whose [`wire::Frame`] is checked in one place),
//! [`scheme`] (the slide formulas, split re-encryption and its proof), [`keys`] (key holders,
//! including ECDH-only tokens), [`cert`] (organizations and certificates), [`revocation`] and
//! [`checkpoint`] (organization-signed revocation lists and audit checkpoints), [`kdf`] and
//! [`stream`] (body encryption, on two threads for bodies of several chunks), [`envelope`] (the
//! document format; slots are named by [`envelope::SlotId`]), [`keyfile`] and [`armor`].
//! The wire format is specified in `SPEC.md`; the threat model in `THREAT_MODEL.md`.

pub mod aead;
pub mod armor;
pub mod cert;
pub mod checkpoint;
pub mod envelope;
pub mod error;
pub mod hash;
pub mod kdf;
pub mod keyfile;
pub mod keys;
pub mod partners;
pub mod revocation;
pub mod scheme;
pub use envelope::model2 as split;
pub mod stream;
pub mod suite;
pub mod verified;
pub mod wire;
