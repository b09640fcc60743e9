//! Criterion benchmarks per operation, for both suites.
//!
//! ```text
//! cargo bench -p soshiki-core --bench operations                # full
//! cargo bench -p soshiki-core --bench operations -- --quick     # quick
//! cargo bench -p soshiki-core --bench operations -- ristretto255/make_share
//! ```
//! Benchmark ids are `<suite>/<operation>`. The comparison with peer libraries (umbral-pre, age,
//! raw AES-GCM) lives in the unpublished `benches/compare` crate.

use std::hint::black_box;
use std::io::Cursor;
use std::time::Duration;

use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, Criterion, Throughput,
};
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha20Rng;
use soshiki_core::cert::{
    CertificateRequest, Fingerprint, OrganizationKey, Roles, VerifiedCertificate,
};
use soshiki_core::envelope::{
    self, EncryptOptions, EnvelopeFile, Forwarder, PartInfo, PartSource, Sender, SlotId,
};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::keys::{SecretKey, SigningKey};
use soshiki_core::scheme::{self, HopContext, HopStatement};
use soshiki_core::suite::{Ristretto255, Suite, P256};

const NOW: u64 = 1_700_000_000;
const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const PASSPHRASE: &[u8] = b"correct horse battery staple";

struct Member<S: Suite> {
    key: MemberKey<S>,
}

impl<S: Suite> Member<S> {
    fn new(org: &OrganizationKey<S>, name: &str, roles: Roles, rng: &mut ChaCha20Rng) -> Self {
        let encryption = SecretKey::<S>::generate(rng);
        let signing = SigningKey::<S>::generate(rng);
        let req = CertificateRequest {
            member_name: name.into(),
            roles,
            encryption_key: encryption.public_key().clone(),
            signing_key: signing.verifying_key(),
            not_before: NOW,
            not_after: NOW + 10 * 365 * 86_400,
        };
        let certificate = org.certify(&req, rng).expect("benchmark setup: certify");
        Member {
            key: MemberKey {
                encryption,
                signing,
                organization: org.organization().clone(),
                certificate,
            },
        }
    }

    fn verified(&self) -> VerifiedCertificate<S> {
        self.key
            .certificate
            .verify(&self.key.organization, NOW)
            .expect("benchmark setup: certificate verifies")
    }
}

/// A sender's organization and member, and a receiving organization with its representative
/// (who forwards) and a reader.
struct World<S: Suite> {
    sending: OrganizationKey<S>,
    sender: Member<S>,
    rep: Member<S>,
    reader: Member<S>,
}

impl<S: Suite> World<S> {
    fn new(rng: &mut ChaCha20Rng) -> Self {
        let sending = OrganizationKey::<S>::generate("長野県 福祉課", NOW, rng)
            .expect("benchmark setup: organization");
        let receiving = OrganizationKey::<S>::generate("大町市 市民課", NOW, rng)
            .expect("benchmark setup: organization");
        let sender = Member::new(&sending, "送信担当", Roles::READER, rng);
        let rep = Member::new(&receiving, "受信代表", Roles::REPRESENTATIVE, rng);
        let reader = Member::new(&receiving, "大町地区担当", Roles::READER, rng);
        World {
            sending,
            sender,
            rep,
            reader,
        }
    }

    fn sender(&self) -> Sender<'_, S> {
        Sender {
            org: self.sending.organization(),
            cert: &self.sender.key.certificate,
            signing_key: &self.sender.key.signing,
        }
    }

    fn forwarder(&self) -> Forwarder<'_, S> {
        Forwarder {
            holder: &self.rep.key.encryption,
            signer: &self.rep.key.signing,
            cert: &self.rep.key.certificate,
        }
    }

    /// A one-part envelope file of `body`, addressed to the representative.
    fn envelope(
        &self,
        to_rep: &VerifiedCertificate<S>,
        body: &[u8],
        rng: &mut ChaCha20Rng,
    ) -> Vec<u8> {
        let mut file = Vec::with_capacity(body.len() + 4 * KIB);
        envelope::encrypt(
            &self.sender(),
            to_rep,
            &options(),
            vec![part(body)],
            &mut file,
            rng,
            &mut |_| {},
        )
        .expect("benchmark setup: encrypt");
        file
    }
}

fn options() -> EncryptOptions {
    EncryptOptions {
        title: "敬老会 名簿".into(),
        category: "list".into(),
        chunk_size: 64 * 1024,
        created: NOW,
    }
}

fn part(body: &[u8]) -> PartSource<'_> {
    PartSource {
        info: PartInfo {
            name: "omachi.csv".into(),
            labels: vec![],
        },
        len: body.len() as u64,
        reader: Box::new(body),
    }
}

fn payload(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn scheme_benches<S: Suite>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rng: &mut ChaCha20Rng,
) {
    let a = SecretKey::<S>::generate(rng);
    let b = SecretKey::<S>::generate(rng);
    let m = S::mul_base(&S::random_scalar(rng));
    let s = S::random_scalar(rng);
    let q = S::mul_base(&S::random_scalar(rng));
    g.bench_function("scalar_mul", |bn| {
        bn.iter(|| S::mul(black_box(&q), black_box(&s)))
    });
    g.bench_function("encrypt_point", |bn| {
        bn.iter(|| scheme::encrypt_point(black_box(&m), a.public_key(), rng))
    });
    let capsule = scheme::encrypt_point(&m, a.public_key(), rng);
    assert_eq!(scheme::decrypt_point(&capsule, &a).expect("decrypts"), m);
    g.bench_function("decrypt_point", |bn| {
        bn.iter(|| scheme::decrypt_point(black_box(&capsule), &a))
    });

    let ctx = HopContext {
        envelope_id: [7; 16],
        slot: SlotId::part(0).expect("part 0"),
        hop_index: 1,
        forwarder_cert: Fingerprint([1; 32]),
        target_cert: Fingerprint([2; 32]),
        time: NOW,
    };
    let st = HopStatement {
        context: &ctx,
        from: a.public_key(),
        to: b.public_key(),
        c2: &capsule.c2,
    };
    g.bench_function("make_share", |bn| {
        bn.iter(|| scheme::make_share(black_box(&st), &a, None, rng))
    });
    let share = scheme::make_share(&st, &a, None, rng).expect("share");
    let verified = share.clone().verify(&st, None).expect("share verifies");
    g.bench_function("share_verify", |bn| {
        bn.iter_batched(
            || share.clone(),
            |sh| sh.verify(black_box(&st), None),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("combine", |bn| {
        bn.iter(|| verified.combine(black_box(&capsule.c1)))
    });
    assert_eq!(
        scheme::decrypt_point(&verified.combine(&capsule.c1), &b).expect("decrypts"),
        m
    );
}

fn envelope_benches<S: Suite>(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rng: &mut ChaCha20Rng,
) {
    let w = World::<S>::new(rng);
    let to_rep = w.rep.verified();
    let cert = &w.rep.key.certificate;
    let org = &w.rep.key.organization;
    // Without the memo of verified signatures (`soshiki_core::verified`): the full check.
    g.bench_function("certificate_verify", |bn| {
        bn.iter(|| {
            soshiki_core::verified::forget_all();
            black_box(cert).verify(org, NOW)
        })
    });
    g.bench_function("certificate_verify_remembered", |bn| {
        bn.iter(|| black_box(cert).verify(org, NOW))
    });

    for (name, len) in [
        ("envelope_encrypt_1KiB", KIB),
        ("envelope_encrypt_1MiB", MIB),
    ] {
        let body = payload(len);
        let mut out = Vec::with_capacity(len + 4 * KIB);
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function(name, |bn| {
            bn.iter(|| {
                out.clear();
                envelope::encrypt(
                    &w.sender(),
                    &to_rep,
                    &options(),
                    vec![part(&body)],
                    &mut out,
                    rng,
                    &mut |_| {},
                )
            })
        });
    }

    // Forward (model 1, file mode): header only, bodies untouched, so the body size is moot.
    let file = w.envelope(&to_rep, &payload(MIB), rng);
    let opened = EnvelopeFile::<S>::open(&mut Cursor::new(&file)).expect("opens");
    let v = opened.header.clone().verify().expect("verifies");
    let to_reader = w.reader.verified();
    let fw = w.forwarder();
    g.throughput(Throughput::Elements(1));
    g.bench_function("envelope_verify_header", |bn| {
        bn.iter(|| {
            soshiki_core::verified::forget_all();
            black_box(&opened.header).clone().verify()
        })
    });
    g.bench_function("envelope_forward_header", |bn| {
        bn.iter(|| v.forward(&fw, &to_reader, None, NOW + 60, rng))
    });

    // Decrypt 1 MiB as the reader of a forwarded envelope (chain verified once, outside).
    let h = v
        .forward(&fw, &to_reader, None, NOW + 60, rng)
        .expect("forwards");
    let mut forwarded = Vec::with_capacity(file.len() + 4 * KIB);
    envelope::write_forwarded(
        &opened,
        &mut Cursor::new(&file),
        &h,
        &mut forwarded,
        &mut |_| {},
    )
    .expect("writes");
    let f2 = EnvelopeFile::<S>::open(&mut Cursor::new(&forwarded)).expect("opens");
    let v2 = f2.header.clone().verify().expect("verifies");
    let mut plain = Vec::with_capacity(MIB);
    envelope::decrypt_part(
        &v2,
        &f2,
        &mut Cursor::new(&forwarded[..]),
        0,
        &w.reader.key.encryption,
        &mut plain,
        &mut |_| {},
    )
    .expect("decrypts");
    assert_eq!(plain, payload(MIB));
    g.throughput(Throughput::Bytes(MIB as u64));
    g.bench_function("envelope_decrypt_1MiB", |bn| {
        bn.iter(|| {
            plain.clear();
            envelope::decrypt_part(
                &v2,
                &f2,
                &mut Cursor::new(&forwarded[..]),
                0,
                &w.reader.key.encryption,
                &mut plain,
                &mut |_| {},
            )
        })
    });

    // Unlocking a member key file with the weakest accepted Argon2id parameters.
    let key_file = w
        .reader
        .key
        .to_key_file(PASSPHRASE, KdfParams::MINIMUM, rng)
        .expect("key file");
    g.throughput(Throughput::Elements(1));
    g.bench_function("keyfile_unlock_minimum", |bn| {
        bn.iter(|| MemberKey::<S>::from_key_file(black_box(&key_file), PASSPHRASE))
    });
}

fn suite<S: Suite>(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2024);
    let mut g = c.benchmark_group(S::ID.name());
    scheme_benches::<S>(&mut g, &mut rng);
    envelope_benches::<S>(&mut g, &mut rng);
    g.finish();
}

fn p256(c: &mut Criterion) {
    suite::<P256>(c);
}

fn ristretto255(c: &mut Criterion) {
    suite::<Ristretto255>(c);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(20);
    targets = p256, ristretto255
}
criterion_main!(benches);
