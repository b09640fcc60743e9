//! What the load and operations benchmarks share: organizations and members enrolled through
//! the real protocol (certificates valid for a day).

#![allow(dead_code)]

use std::sync::Arc;

use rand_core::OsRng;
use soshiki_client::flows::{self, EnrollmentOutcome};
use soshiki_client::{Client, ClientOptions};
use soshiki_core::cert::{OrganizationKey, Roles};
use soshiki_core::keyfile::{KdfParams, MemberKey};
use soshiki_core::suite::P256;

pub type S = P256;
pub type R<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;
pub const PASS: &[u8] = b"bench passphrase";

/// A member's key and its logged-in client.
pub struct Member {
    pub key: Arc<MemberKey<S>>,
    pub client: Client,
}

/// Certificate id.
pub fn id(k: &MemberKey<S>) -> String {
    k.certificate.fingerprint().to_hex()
}

pub async fn org(url: &str, name: &str) -> R<(OrganizationKey<S>, Member)> {
    let t = flows::unix_now();
    let key = OrganizationKey::<S>::generate(name, t - 3600, &mut OsRng)?;
    let mut client = Client::new(url, &ClientOptions::default())?;
    flows::register_organization(&client, key.organization()).await?;
    let admin = flows::certify_new_member(
        &key,
        &format!("{name} 管理者"),
        Roles::ADMIN,
        t - 3600,
        t + 86_400,
    )?;
    flows::register_first_admin(&client, &admin).await?;
    flows::login(&mut client, &admin).await?;
    flows::publish_revocations(
        &client,
        &admin,
        &key,
        &[],
        soshiki_client::trust::DEFAULT_REVOCATION_VALIDITY,
    )
    .await?;
    Ok((
        key,
        Member {
            key: Arc::new(admin),
            client,
        },
    ))
}

pub async fn member(
    url: &str,
    org: &(OrganizationKey<S>, Member),
    name: &str,
    roles: Roles,
) -> R<Member> {
    let t = flows::unix_now();
    let mut client = Client::new(url, &ClientOptions::default())?;
    let ticket = flows::enroll(
        &client,
        org.0.organization(),
        name,
        roles,
        t - 3600,
        t + 86_400,
        PASS,
        KdfParams::MINIMUM,
    )
    .await?;
    flows::approve_enrollment(&org.1.client, &org.1.key, &org.0, &ticket.id, &ticket.code).await?;
    let key = match flows::finish_enrollment(
        &client,
        &ticket.id,
        org.0.organization(),
        &ticket.pending_key_file,
        PASS,
    )
    .await?
    {
        EnrollmentOutcome::Approved(k) => *k,
        other => return Err(format!("not approved: {other:?}").into()),
    };
    flows::login(&mut client, &key).await?;
    Ok(Member {
        key: Arc::new(key),
        client,
    })
}
