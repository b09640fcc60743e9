//! Every top-level wire object is framed the same way (SPEC.md §2): magic, version, suite, the
//! object's fields, nothing after them. These tests hold each [`Codec`] object to that frame, so
//! an object that checks its frame differently (or not at all) is caught here, not by a reader
//! of its code.

mod common;

use common::*;
use soshiki_core::cert::{Organization, Roles};
use soshiki_core::checkpoint::AuditCheckpoint;
use soshiki_core::envelope::{EnvelopeHeader, Forwarder};
use soshiki_core::error::DecodeError;
use soshiki_core::keyfile::MemberIdentity;
use soshiki_core::partners::{Partner, PartnerList};
use soshiki_core::revocation::{RevocationList, Revoked};
use soshiki_core::split::{ForwardResponse, ForwardingRequest};
use soshiki_core::suite::{Ristretto255, Suite, P256};
use soshiki_core::wire::{Codec, Frame};

/// Decode an encoding and encode the result again.
type Again = fn(&[u8]) -> Result<Vec<u8>, DecodeError>;

/// One encoded object of each kind, for suite `S`, with its frame.
fn samples<S: Suite>() -> Vec<(Frame, Vec<u8>, Again)> {
    let mut rng = rng(11);
    let w = world::<S>(1, &mut rng);
    let org = w.city.organization().clone();
    let cert = w.staff[0].cert.clone();
    let revocation = w
        .city
        .issue_revocation_list(
            3,
            NOW,
            NOW + 86_400,
            &[Revoked {
                certificate: cert.fingerprint(),
                revoked_at: NOW,
            }],
            &mut rng,
        )
        .expect("revocation list");
    let partners = w
        .city
        .issue_partner_list(
            2,
            NOW,
            &[Partner {
                organization: w.sender_org.organization().fingerprint(),
                name: "長野県".into(),
            }],
            &mut rng,
        )
        .expect("partner list");
    let checkpoint = w
        .city
        .sign_checkpoint(7, [9; 32], NOW, &mut rng)
        .expect("checkpoint");
    let identity = MemberIdentity {
        organization: org.clone(),
        certificate: member(&w.city, "clerk", Roles::READER, &mut rng).cert,
    };
    let header = open::<S>(&w.send(&[b"records".to_vec()], 1024, &mut rng)).header;
    let request = header.forwarding_request(None).expect("request");
    let response = request
        .clone()
        .verify()
        .expect("verify")
        .make_hops(
            &Forwarder {
                holder: &w.rep.enc,
                signer: &w.rep.sig,
                cert: &w.rep.cert,
            },
            &w.verified(&w.staff[0]),
            None,
            NOW + 10,
            &mut rng,
        )
        .expect("hops");
    /// Decode, then encode again (what a round trip must give back).
    fn again<T: Codec>(bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
        T::decode(bytes).map(|o| o.encode())
    }
    vec![
        (
            Organization::<S>::FRAME,
            org.encode(),
            again::<Organization<S>>,
        ),
        (
            <soshiki_core::cert::Certificate<S> as Codec>::FRAME,
            cert.encode(),
            again::<soshiki_core::cert::Certificate<S>>,
        ),
        (
            RevocationList::<S>::FRAME,
            revocation.encode(),
            again::<RevocationList<S>>,
        ),
        (
            PartnerList::<S>::FRAME,
            partners.encode(),
            again::<PartnerList<S>>,
        ),
        (
            AuditCheckpoint::<S>::FRAME,
            checkpoint.encode(),
            again::<AuditCheckpoint<S>>,
        ),
        (
            MemberIdentity::<S>::FRAME,
            identity.encode(),
            again::<MemberIdentity<S>>,
        ),
        (
            EnvelopeHeader::<S>::FRAME,
            header.encode(),
            again::<EnvelopeHeader<S>>,
        ),
        (
            ForwardingRequest::<S>::FRAME,
            request.encode(),
            again::<ForwardingRequest<S>>,
        ),
        (
            ForwardResponse::<S>::FRAME,
            response.encode(),
            again::<ForwardResponse<S>>,
        ),
    ]
}

fn frames_hold<S: Suite, Other: Suite>() {
    for (frame, bytes, decode) in samples::<S>() {
        let what = frame.what;
        let prefix = frame.magic.len() + 3;
        assert_eq!(&bytes[..frame.magic.len()], frame.magic, "{what}");
        assert_eq!(bytes[frame.magic.len()], frame.version, "{what}");
        assert_eq!(frame.peek_suite(&bytes), Ok(S::ID), "{what}");
        assert_eq!(
            decode(&bytes).as_deref(),
            Ok(&bytes[..]),
            "{what} round trip"
        );

        let mut magic = bytes.clone();
        magic[0] ^= 0x20;
        assert_eq!(decode(&magic), Err(DecodeError::BadMagic(what)));

        let mut version = bytes.clone();
        version[frame.magic.len()] = frame.version.wrapping_add(1);
        assert_eq!(
            decode(&version),
            Err(DecodeError::UnsupportedVersion {
                what,
                version: frame.version.wrapping_add(1)
            })
        );

        let mut suite = bytes.clone();
        suite[frame.magic.len() + 1..prefix].copy_from_slice(&Other::ID.to_u16().to_be_bytes());
        assert_eq!(
            decode(&suite),
            Err(DecodeError::SuiteMismatch {
                expected: S::ID,
                found: Other::ID
            }),
            "{what}"
        );
        let mut unknown = bytes.clone();
        unknown[frame.magic.len() + 1..prefix].copy_from_slice(&[0xff, 0xfe]);
        assert_eq!(decode(&unknown), Err(DecodeError::UnknownSuite(0xfffe)));

        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            decode(&longer),
            Err(DecodeError::TrailingBytes(1)),
            "{what}"
        );

        for cut in [0, 1, frame.magic.len(), prefix - 1, prefix, bytes.len() - 1] {
            assert!(
                matches!(decode(&bytes[..cut]), Err(DecodeError::Truncated(_))),
                "{what} cut at {cut}: {:?}",
                decode(&bytes[..cut])
            );
        }
    }
}

#[test]
fn every_object_checks_its_frame_the_same_way_p256() {
    frames_hold::<P256, Ristretto255>();
}

#[test]
fn every_object_checks_its_frame_the_same_way_ristretto255() {
    frames_hold::<Ristretto255, P256>();
}

#[test]
fn no_two_objects_share_magic_bytes() {
    let mut magics: Vec<&[u8]> = samples::<P256>().iter().map(|(f, _, _)| f.magic).collect();
    let n = magics.len();
    magics.sort();
    magics.dedup();
    assert_eq!(magics.len(), n, "{magics:?}");
    assert!(magics.iter().all(|m| m.starts_with(b"SK") && m.len() == 5));
}
