//! HTTPS with rustls: the server given a certificate and key (PEM), the client trusting that
//! certificate only.

mod common;

use common::*;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::PKey;
use openssl::x509::extension::SubjectAlternativeName;
use openssl::x509::{X509Builder, X509NameBuilder};
use soshiki_client::{flows, Client, ClientOptions};
use soshiki_core::cert::Roles;
use soshiki_core::suite::P256;
use soshiki_server::TlsFiles;

/// A self-signed certificate for 127.0.0.1: (certificate PEM, key PEM).
fn self_signed() -> (Vec<u8>, Vec<u8>) {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("group");
    let key = PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey");
    let mut name = X509NameBuilder::new().expect("name");
    name.append_entry_by_text("CN", "soshiki test").expect("cn");
    let name = name.build();
    let mut b = X509Builder::new().expect("builder");
    b.set_version(2).expect("v3");
    b.set_serial_number(
        &BigNum::from_u32(1)
            .expect("bn")
            .to_asn1_integer()
            .expect("serial"),
    )
    .expect("serial");
    b.set_subject_name(&name).expect("subject");
    b.set_issuer_name(&name).expect("issuer");
    b.set_pubkey(&key).expect("pubkey");
    b.set_not_before(&Asn1Time::days_from_now(0).expect("t"))
        .expect("nb");
    b.set_not_after(&Asn1Time::days_from_now(2).expect("t"))
        .expect("na");
    let san = SubjectAlternativeName::new()
        .ip("127.0.0.1")
        .build(&b.x509v3_context(None, None))
        .expect("san");
    b.append_extension(san).expect("ext");
    b.sign(&key, MessageDigest::sha256()).expect("sign");
    let cert = b.build();
    (
        cert.to_pem().expect("pem"),
        key.private_key_to_pem_pkcs8().expect("key pem"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_rustls() {
    let dir = tempfile::tempdir().expect("tmp");
    let (cert, key) = self_signed();
    let (cp, kp) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cp, &cert).expect("write");
    std::fs::write(&kp, &key).expect("write");
    let mut cfg = config(&dir.path().join("data"));
    cfg.tls = Some(TlsFiles { cert: cp, key: kp });
    let server = soshiki_server::start(cfg).await.expect("start");
    let url = server.url().to_string();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    // Without trusting the certificate, nothing goes through.
    let untrusting = Client::new(&url, &ClientOptions::default()).expect("client");
    assert!(untrusting.info().await.is_err());
    let opts = ClientOptions {
        ca_certificate_pem: Some(cert),
        ..ClientOptions::default()
    };
    let c = Client::new(&url, &opts).expect("client");
    assert_eq!(c.info().await.expect("info").origin, url);

    // The whole login flow works over HTTPS (the origin signed is the https one).
    let org = soshiki_core::cert::OrganizationKey::<P256>::generate(
        "市",
        now() - 60,
        &mut rand_core::OsRng,
    )
    .expect("org");
    flows::register_organization(&c, org.organization())
        .await
        .expect("register");
    let admin = flows::certify_new_member(&org, "管理者", Roles::ADMIN, now() - 60, now() + 3600)
        .expect("admin");
    flows::register_first_admin(&c, &admin)
        .await
        .expect("admin");
    let mut c = c;
    flows::login(&mut c, &admin).await.expect("login");
    assert!(c.inbox(None).await.expect("inbox").is_empty());
    server.shutdown().await.expect("shutdown");
}
