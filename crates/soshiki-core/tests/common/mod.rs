//! Shared fixtures for integration tests: two organizations and their members.
#![allow(dead_code)]

use std::io::Cursor;

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use soshiki_core::cert::{
    Certificate, CertificateRequest, OrganizationKey, Roles, VerifiedCertificate,
};
use soshiki_core::envelope::{
    self, EncryptOptions, EnvelopeFile, Label, PartInfo, PartSource, Sender, SlotId,
};
use soshiki_core::keys::{SecretKey, SigningKey};
use soshiki_core::suite::Suite;

pub const NOW: u64 = 1_750_000_000;

/// The slot of part `i` (a valid part index).
pub fn part_slot(i: u32) -> SlotId {
    SlotId::part(i).expect("a part index")
}

pub struct Member<S: Suite> {
    pub enc: SecretKey<S>,
    pub sig: SigningKey<S>,
    pub cert: Certificate<S>,
}

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

pub fn member<S: Suite>(
    org: &OrganizationKey<S>,
    name: &str,
    roles: Roles,
    rng: &mut ChaCha20Rng,
) -> Member<S> {
    let enc = SecretKey::<S>::generate(rng);
    let sig = SigningKey::<S>::generate(rng);
    let req = CertificateRequest {
        member_name: name.into(),
        roles,
        encryption_key: enc.public_key().clone(),
        signing_key: sig.verifying_key(),
        not_before: NOW - 10,
        not_after: NOW + 365 * 86_400,
    };
    let cert = org.certify(&req, rng).expect("certify");
    Member { enc, sig, cert }
}

pub struct World<S: Suite> {
    pub sender_org: OrganizationKey<S>,
    pub city: OrganizationKey<S>,
    pub other_city: OrganizationKey<S>,
    pub sender: Member<S>,
    pub rep: Member<S>,
    /// forwarders and readers of the city, any number
    pub staff: Vec<Member<S>>,
    pub outsider: Member<S>,
}

pub fn world<S: Suite>(staff: usize, rng: &mut ChaCha20Rng) -> World<S> {
    let sender_org = OrganizationKey::<S>::generate("長野県", NOW - 100, rng).expect("org");
    let city = OrganizationKey::<S>::generate("大町市", NOW - 100, rng).expect("org");
    let other_city = OrganizationKey::<S>::generate("白馬村", NOW - 100, rng).expect("org");
    let sender = member(&sender_org, "sender", Roles::READER, rng);
    let rep = member(
        &city,
        "representative",
        Roles::REPRESENTATIVE.union(Roles::FORWARDER),
        rng,
    );
    let staff = (0..staff)
        .map(|i| {
            member(
                &city,
                &format!("staff{i}"),
                Roles::FORWARDER.union(Roles::READER),
                rng,
            )
        })
        .collect();
    let outsider = member(
        &other_city,
        "outsider",
        Roles::FORWARDER.union(Roles::READER),
        rng,
    );
    World {
        sender_org,
        city,
        other_city,
        sender,
        rep,
        staff,
        outsider,
    }
}

impl<S: Suite> World<S> {
    pub fn verified(&self, m: &Member<S>) -> VerifiedCertificate<S> {
        m.cert
            .verify(self.city.organization(), NOW)
            .expect("verify")
    }

    /// Encrypt `bodies` (one part each, label district=Dn) to the representative.
    pub fn send(&self, bodies: &[Vec<u8>], chunk_size: u32, rng: &mut ChaCha20Rng) -> Vec<u8> {
        let sender = Sender {
            org: self.sender_org.organization(),
            cert: &self.sender.cert,
            signing_key: &self.sender.sig,
        };
        let parts = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| PartSource {
                info: PartInfo {
                    name: format!("part{i}.csv"),
                    labels: vec![Label::parse(&format!("district=D{i}")).expect("label")],
                },
                len: b.len() as u64,
                reader: Box::new(Cursor::new(b.clone())),
            })
            .collect();
        let opts = EncryptOptions {
            title: "test".into(),
            category: "list".into(),
            chunk_size,
            created: NOW,
        };
        let mut out = Vec::new();
        envelope::encrypt(
            &sender,
            &self.verified(&self.rep),
            &opts,
            parts,
            &mut out,
            rng,
            &mut |_| {},
        )
        .expect("encrypt");
        out
    }
}

pub fn open<S: Suite>(file: &[u8]) -> EnvelopeFile<S> {
    EnvelopeFile::<S>::open(&mut Cursor::new(file)).expect("open")
}

/// Decrypt part `i` of an envelope file with `key`.
pub fn read_part<S: Suite>(
    file: &[u8],
    i: u32,
    key: &SecretKey<S>,
) -> Result<Vec<u8>, soshiki_core::error::DecryptError> {
    let f = open::<S>(file);
    let v = f.header.clone().verify()?;
    let mut out = Vec::new();
    envelope::decrypt_part(
        &v,
        &f,
        &mut Cursor::new(file),
        i,
        key,
        &mut out,
        &mut |_| {},
    )?;
    Ok(out)
}

/// Rebuild a file around a new header (bodies copied).
pub fn rewrap<S: Suite>(file: &[u8], header: &envelope::EnvelopeHeader<S>) -> Vec<u8> {
    let f = open::<S>(file);
    let mut out = Vec::new();
    envelope::write_forwarded(&f, &mut Cursor::new(file), header, &mut out, &mut |_| {})
        .expect("rewrap");
    out
}
