//! Secrets cannot leak by accident: their `Debug` output is fixed and never contains the secret.
mod common;

use common::*;
use soshiki_core::cert::OrganizationKey;
use soshiki_core::kdf::derive_slot_keys;
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::keys::{EcdhOnlyKey, SecretKey, SigningKey};
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn assert_redacted(debug: &str, secret: &[u8]) {
    let hex = hex::encode(secret);
    assert!(
        !debug.contains(&hex),
        "secret bytes appear in Debug output: {debug}"
    );
    assert!(
        !debug.contains(&hex[..16]),
        "a secret prefix appears in Debug output: {debug}"
    );
}

fn debug_of_secrets<S: Suite>(expected_scalar_debug: &str) {
    let mut rng = rng(5);
    let sk = SecretKey::<S>::generate(&mut rng);
    let secret = sk.to_secret_bytes();
    let d = format!("{sk:?}");
    assert!(
        d.starts_with("SecretKey { public: PublicKey(") && d.ends_with(", .. }"),
        "{d}"
    );
    assert_redacted(&d, &secret[..]);

    let scalar = S::random_scalar(&mut rng);
    assert_eq!(format!("{scalar:?}"), expected_scalar_debug);

    let sig = SigningKey::<S>::generate(&mut rng);
    let d = format!("{sig:?}");
    assert!(
        d.starts_with("SigningKey { verifying_key: VerifyingKey(") && d.ends_with(", .. }"),
        "{d}"
    );
    assert_redacted(&d, &sig.to_secret_bytes()[..]);

    let org = OrganizationKey::<S>::generate("org", NOW, &mut rng).expect("org");
    let d = format!("{org:?}");
    assert!(
        d.starts_with("OrganizationKey { record: Organization {") && d.ends_with(", .. }"),
        "{d}"
    );
    assert_redacted(&d, &org.signing_key().to_secret_bytes()[..]);

    let m = member(&org, "m", soshiki_core::cert::Roles::READER, &mut rng);
    let mk = MemberKey {
        encryption: m.enc,
        signing: m.sig,
        organization: org.organization().clone(),
        certificate: m.cert,
    };
    assert_eq!(format!("{mk:?}"), "MemberKey { member: \"m\", .. }");
    let file = mk
        .to_key_file(b"pass", KdfParams::MINIMUM, &mut rng)
        .expect("key file");
    assert_redacted(&hex::encode(&file), &mk.encryption.to_secret_bytes()[..]);

    let keys = derive_slot_keys::<S>(&S::generator(), &[0; 16], part_slot(0));
    let d = format!("{keys:?}");
    assert!(
        d.starts_with("SlotKeys { commitment: ") && d.ends_with(", .. }"),
        "{d}"
    );
    assert_redacted(&d, &keys.key[..]);
}

#[test]
fn p256_secrets_are_redacted() {
    debug_of_secrets::<P256>("P256Scalar { .. }");
    let mut rng = rng(6);
    let card = EcdhOnlyKey::new(SecretKey::<P256>::generate(&mut rng));
    assert!(format!("{card:?}").ends_with(", .. }"));
}

#[test]
fn ristretto_secrets_are_redacted() {
    debug_of_secrets::<Ristretto255>("RistrettoScalar { .. }");
}
