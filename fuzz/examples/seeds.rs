//! Writes valid inputs for every fuzz target, from a seeded RNG, so the fuzzer starts past the
//! magic bytes and signatures: `cargo run --manifest-path fuzz/Cargo.toml --example seeds -- DIR`
//! creates `DIR/<target>/<name>` files (scripts/fuzz-smoke.sh uses `fuzz/corpus`).

use std::error::Error;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use soshiki_core::armor;
use soshiki_core::cert::{Certificate, CertificateRequest, OrganizationKey, Roles};
use soshiki_core::envelope::{
    self, EncryptOptions, EnvelopeFile, Forwarder, Label, PartInfo, PartSource, Sender,
};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::keys::{EcdhOnlyKey, KeyHolder, SecretKey, SigningKey};
use soshiki_core::suite::{Ristretto255, Suite, P256};
use soshiki_core::wire::Writer;

/// Must match `PASSPHRASE` in fuzz_targets/key_file.rs.
const PASSPHRASE: &[u8] = b"fuzz";
const NOW: u64 = 1_750_000_000;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

struct Seeds {
    root: PathBuf,
}

impl Seeds {
    fn put(&self, target: &str, name: &str, bytes: &[u8]) -> Result<()> {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)?;
        Ok(())
    }
}

struct Member<S: Suite> {
    enc: SecretKey<S>,
    sig: SigningKey<S>,
    cert: Certificate<S>,
}

fn member<S: Suite>(
    org: &OrganizationKey<S>,
    name: &str,
    roles: Roles,
    rng: &mut ChaCha20Rng,
) -> Result<Member<S>> {
    let enc = SecretKey::<S>::generate(rng);
    let sig = SigningKey::<S>::generate(rng);
    let req = CertificateRequest {
        member_name: name.into(),
        roles,
        encryption_key: enc.public_key().clone(),
        signing_key: sig.verifying_key(),
        not_before: NOW - 10,
        not_after: NOW + 86_400,
    };
    let cert = org.certify(&req, rng)?;
    Ok(Member { enc, sig, cert })
}

fn suite_seeds<S: Suite>(out: &Seeds, rng: &mut ChaCha20Rng) -> Result<()> {
    let tag = S::ID.name();
    let sender_org = OrganizationKey::<S>::generate("sender org", NOW - 100, rng)?;
    let city = OrganizationKey::<S>::generate("大町市", NOW - 100, rng)?;
    let sender = member(&sender_org, "sender", Roles::READER, rng)?;
    let rep = member(
        &city,
        "rep",
        Roles::REPRESENTATIVE.union(Roles::FORWARDER),
        rng,
    )?;
    let staff = member(&city, "staff", Roles::FORWARDER.union(Roles::READER), rng)?;

    out.put(
        "organization",
        &format!("{tag}-org"),
        &city.organization().to_bytes(),
    )?;
    out.put("certificate", &format!("{tag}-cert"), &rep.cert.to_bytes())?;
    let revoked = [soshiki_core::revocation::Revoked {
        certificate: staff.cert.fingerprint(),
        revoked_at: NOW - 10,
    }];
    out.put(
        "revocation_list",
        &format!("{tag}-revocations"),
        &city
            .issue_revocation_list(2, NOW, NOW + 86_400, &revoked, rng)?
            .to_bytes(),
    )?;
    let partners = [soshiki_core::partners::Partner {
        organization: soshiki_core::cert::Fingerprint([0x42; 32]),
        name: "長野県".into(),
    }];
    out.put(
        "partner_list",
        &format!("{tag}-partners"),
        &city
            .issue_partner_list(3, NOW, &partners, rng)?
            .to_bytes(),
    )?;
    out.put(
        "audit_checkpoint",
        &format!("{tag}-checkpoint"),
        &city.sign_checkpoint(7, [0x5a; 32], NOW, rng)?.to_bytes(),
    )?;
    let mk = MemberKey {
        encryption: rep.enc.clone(),
        signing: SigningKey::from_secret_bytes(&rep.sig.to_secret_bytes()[..])?,
        organization: city.organization().clone(),
        certificate: rep.cert.clone(),
    };
    out.put(
        "identity",
        &format!("{tag}-identity"),
        &mk.identity().to_bytes(),
    )?;
    out.put(
        "key_file",
        &format!("{tag}-member"),
        &mk.to_key_file(PASSPHRASE, KdfParams::MINIMUM, rng)?,
    )?;
    out.put(
        "key_file",
        &format!("{tag}-org"),
        &city.to_key_file(PASSPHRASE, KdfParams::MINIMUM, rng)?,
    )?;
    out.put(
        "armor",
        &format!("{tag}-identity"),
        armor::encode("IDENTITY", &mk.identity().to_bytes()).as_bytes(),
    )?;

    // A two-part envelope to the representative, then one hop (model 1) to the staff member.
    let bodies: [&[u8]; 2] = [b"name,district\nA,Omachi\n", b""];
    let parts = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| PartSource {
            info: PartInfo {
                name: format!("p{i}.csv"),
                labels: vec![Label {
                    key: "district".into(),
                    value: format!("D{i}"),
                }],
            },
            len: b.len() as u64,
            reader: Box::new(Cursor::new(b.to_vec())),
        })
        .collect();
    let s = Sender {
        org: sender_org.organization(),
        cert: &sender.cert,
        signing_key: &sender.sig,
    };
    let opts = EncryptOptions {
        title: "seed".into(),
        category: "list".into(),
        chunk_size: 1024,
        created: NOW,
    };
    let to_rep = rep.cert.verify(city.organization(), NOW)?;
    let mut file = Vec::new();
    let h0 = envelope::encrypt(&s, &to_rep, &opts, parts, &mut file, rng, &mut |_| {})?;
    out.put("envelope_file", &format!("{tag}-0hops"), &file)?;
    out.put("envelope_header", &format!("{tag}-0hops"), &h0.to_bytes())?;
    out.put(
        "armor",
        &format!("{tag}-envelope"),
        armor::encode("ENVELOPE", &file).as_bytes(),
    )?;
    let meta = h0.clone().verify()?.open_metadata(&rep.enc)?;
    out.put("metadata", &format!("{tag}-metadata"), &meta.to_bytes())?;

    let f = EnvelopeFile::<S>::open(&mut Cursor::new(&file))?;
    let to_staff = staff.cert.verify(city.organization(), NOW)?;
    let fwd = Forwarder {
        holder: &rep.enc,
        signer: &rep.sig,
        cert: &rep.cert,
    };
    let h1 = f
        .header
        .clone()
        .verify()?
        .forward(&fwd, &to_staff, Some(&[0]), NOW + 5, rng)?;
    let mut file1 = Vec::new();
    envelope::write_forwarded(&f, &mut Cursor::new(&file), &h1, &mut file1, &mut |_| {})?;
    out.put("envelope_file", &format!("{tag}-1hop"), &file1)?;
    out.put("envelope_header", &format!("{tag}-1hop"), &h1.to_bytes())?;
    for (i, slot) in h1.slots.iter().enumerate() {
        for hop in &slot.hops {
            let mut w = Writer::new();
            hop.write(&mut w);
            out.put("hop", &format!("{tag}-hop{i}"), w.as_bytes())?;
        }
    }

    // Model 2: the request the server sends the staff member, and its response to the rep.
    let req = h1.forwarding_request(None)?;
    out.put(
        "forwarding_request",
        &format!("{tag}-request"),
        &req.to_bytes(),
    )?;
    let req0 = h0.forwarding_request(None)?;
    out.put(
        "forwarding_request",
        &format!("{tag}-request-0hops"),
        &req0.to_bytes(),
    )?;
    let verified = req0.verify()?;
    let resp = verified.make_hops(&fwd, &to_staff, None, NOW + 5, rng)?;
    out.put(
        "forward_response",
        &format!("{tag}-response"),
        &resp.to_bytes(),
    )?;

    // A hop signed by an ECDH-only holder (P-256 only: Ristretto255 has no x-only ECDH).
    let card = EcdhOnlyKey::new(rep.enc.clone());
    if card.diffie_hellman(&S::generator()).is_ok() {
        let fwd = Forwarder {
            holder: &card,
            signer: &rep.sig,
            cert: &rep.cert,
        };
        let resp = verified.make_hops(&fwd, &to_staff, None, NOW + 5, rng)?;
        out.put(
            "forward_response",
            &format!("{tag}-response-signed"),
            &resp.to_bytes(),
        )?;
        for (i, (_, hop)) in resp.hops.iter().enumerate() {
            let mut w = Writer::new();
            hop.write(&mut w);
            out.put("hop", &format!("{tag}-signed-hop{i}"), w.as_bytes())?;
        }
    }
    Ok(())
}

fn main() -> Result<()> {
    let root = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: seeds DIR")?;
    let out = Seeds { root };
    let mut rng = ChaCha20Rng::seed_from_u64(0x5eed);
    suite_seeds::<P256>(&out, &mut rng)?;
    suite_seeds::<Ristretto255>(&out, &mut rng)?;
    let n = count(Path::new(&out.root))?;
    println!("wrote {n} seed files under {}", out.root.display());
    Ok(())
}

fn count(dir: &Path) -> Result<usize> {
    let mut n = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        n += if e.file_type()?.is_dir() {
            count(&e.path())?
        } else {
            1
        };
    }
    Ok(n)
}
