//! Who may send to other organizations (issue 9: the 送信 menu shown to reader-only staff).
//! An organization's policy can require the sender role (SPEC.md §5.3, `sender_role_required`).
//! Played by a member without the role who sends anyway, with a correct signed `send`
//! statement: the server refuses (403 `no-sending-role`) and stores nothing; a member given the
//! role sends; without the policy every member sends, as before. The policy is part of the
//! administrator's signed `set-policy` statement, so a statement for one setting does not set
//! the other.

mod common;

use common::*;
use soshiki_client::flows::{self, sign_action, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::json::{EnvelopeCommitted, Policy};
use soshiki_client::proto::ActionSpec;
use soshiki_client::ClientError;
use soshiki_core::cert::{Roles, VerifiedCertificate};
use soshiki_core::envelope::PartInfo;
use soshiki_core::suite::P256;

fn part() -> Vec<OutgoingPart> {
    vec![OutgoingPart {
        info: PartInfo {
            name: "list.csv".into(),
            labels: vec![],
        },
        data: PartData::Bytes(b"id,name\n1,x\n".to_vec()),
    }]
}

#[tokio::test]
async fn only_members_with_the_sender_role_send_where_the_policy_requires_it() {
    let server = start().await;
    let url = server.url();
    let st = server.server.state.clone();
    let pref = create_org::<P256>(&url, "長野県").await;
    let city = create_org::<P256>(&url, "大町市").await;
    let clerk = enroll(&url, &pref, "送付担当", Roles::READER.union(Roles::SENDER)).await;
    let reader = enroll(&url, &pref, "閲覧のみの職員", Roles::READER).await;
    let rep = enroll(
        &url,
        &city,
        "代表",
        Roles::REPRESENTATIVE.union(Roles::FORWARDER),
    )
    .await;
    let to = flows::certified_member(&clerk.client, city.record(), &rep.id())
        .await
        .expect("rep");

    // Without the policy, every member sends (the behaviour before it existed).
    send(&reader, &to).await.expect("no policy: a reader sends");
    let info = flows::set_policy(
        &pref.admin.client,
        &pref.admin.key,
        &Policy {
            sender_role_required: true,
            ..Policy::default()
        },
    )
    .await
    .expect("policy");
    assert!(info.sender_role_required, "the directory shows the policy");
    let shown = pref.admin.client.org(&pref.id()).await.expect("org");
    assert!(shown.sender_role_required);

    // The reader sends anyway, with its own valid signature: refused, nothing stored.
    // What the organization has stored (bodies, headers, pending uploads), before.
    let stored_before = st
        .store
        .org_usage(&pref.id(), st.now())
        .await
        .expect("usage");
    match send(&reader, &to).await {
        Err(ClientError::Api { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "no-sending-role"));
        }
        other => panic!("a reader without the sender role sent: {other:?}"),
    }
    assert_eq!(
        st.store
            .org_usage(&pref.id(), st.now())
            .await
            .expect("usage"),
        stored_before,
        "no envelope, delivery or upload slot"
    );

    // The member given the role sends; the recipient's organization is unaffected by the
    // sending organization's policy.
    let sent = send(&clerk, &to).await.expect("the sender sends");
    assert!(!sent.delivery_id.is_empty());

    // The city has not set the policy: its representative could send outside.
    assert!(
        !city
            .admin
            .client
            .org(&city.id())
            .await
            .expect("org")
            .sender_role_required
    );

    // A `set-policy` statement signed for "required" does not turn it off: the flag is one of
    // the statement's subjects.
    let signed_required = sign_action(
        &pref.admin.key,
        &ActionSpec::set_policy(
            &pref.id(),
            &Policy {
                sender_role_required: true,
                ..Policy::default()
            },
        ),
    );
    let lifted = pref
        .admin
        .client
        .set_policy(&pref.id(), &Policy::default(), &signed_required)
        .await;
    assert!(
        matches!(
            lifted,
            Err(ClientError::Api {
                status: 400 | 403,
                ..
            })
        ),
        "a statement for another setting is refused: {lifted:?}"
    );
    assert!(
        pref.admin
            .client
            .org(&pref.id())
            .await
            .expect("org")
            .sender_role_required
    );
    match send(&reader, &to).await {
        Err(ClientError::Api { code, .. }) => assert_eq!(code, "no-sending-role"),
        other => panic!("the policy was lifted by a mismatched statement: {other:?}"),
    }

    // Lifted by the administrator's statement for "not required": the reader sends again.
    flows::set_policy(&pref.admin.client, &pref.admin.key, &Policy::default())
        .await
        .expect("lift");
    send(&reader, &to)
        .await
        .expect("policy lifted: a reader sends");
}

async fn send(
    m: &Member<P256>,
    to: &VerifiedCertificate<P256>,
) -> Result<EnvelopeCommitted, ClientError> {
    flows::send(&m.client, &m.key, to, &SendOptions::default(), part(), None).await
}
