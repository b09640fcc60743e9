//! Model 2 (split re-encryption through a keyless server), as a specification.
mod common;

use common::*;
use soshiki_core::envelope::Forwarder;
use soshiki_core::split::ForwardingRequest;
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn model2_story<S: Suite>() {
    let mut rng = rng(11);
    let w = world::<S>(3, &mut rng);
    let bodies = vec![b"omachi records".to_vec(), b"yasaka records".to_vec()];
    let file = w.send(&bodies, 1024, &mut rng);
    let stored = open::<S>(&file).header; // what the server keeps

    // The server hands the representative a request: C2 values only for parts.
    let req = stored.forwarding_request(None).expect("request");
    let wire = req.to_bytes();
    for slot in stored.slots.iter().filter(|s| !s.slot.is_metadata()) {
        let c1 = S::point_to_bytes(&slot.capsule.c1);
        assert!(
            !wire.windows(c1.len()).any(|win| win == c1.as_slice()),
            "a part's C1 must never reach a forwarder"
        );
    }
    let req = ForwardingRequest::<S>::from_bytes(&wire).expect("decode request");
    let verified = req.clone().verify().expect("request verifies");
    let meta = verified
        .open_metadata(&w.rep.enc)
        .expect("forwarder reads labels");
    assert_eq!(meta.parts[1].labels[0].value, "D1");

    // Part 0 to staff0, part 1 to staff1, in one action; each response applied by the server.
    let fwd = Forwarder {
        holder: &w.rep.enc,
        signer: &w.rep.sig,
        cert: &w.rep.cert,
    };
    for (part, who) in [(0u32, 0usize), (1, 1)] {
        let target = w.verified(&w.staff[who]);
        let resp = verified
            .make_hops(&fwd, &target, Some(&[part]), NOW + 10, &mut rng)
            .expect("hops");
        let resp = soshiki_core::split::ForwardResponse::<S>::from_bytes(&resp.to_bytes())
            .expect("decode response");
        let delivered = stored.apply_forward(&resp).expect("server combines");
        let out = rewrap(&file, &delivered);
        assert_eq!(
            read_part::<S>(&out, part, &w.staff[who].enc).expect("reader decrypts"),
            bodies[part as usize]
        );
        assert!(read_part::<S>(&out, part, &w.staff[2].enc).is_err());
    }
}

#[test]
fn model2_story_p256() {
    model2_story::<P256>();
}

#[test]
fn model2_story_ristretto() {
    model2_story::<Ristretto255>();
}

fn lying_server_is_caught<S: Suite>() {
    let mut rng = rng(12);
    let w = world::<S>(2, &mut rng);
    let file = w.send(&[b"a".to_vec(), b"b".to_vec()], 1024, &mut rng);
    let stored = open::<S>(&file).header;

    // A server that substitutes a C2 (say, one it wants decrypted) is caught by the forwarder.
    let mut req = stored.forwarding_request(None).expect("request");
    req.parts[0].c2 = S::mul_base(&S::random_scalar(&mut rng));
    assert!(
        req.clone().verify().is_err(),
        "substituted C2 must be rejected"
    );

    // Swapping two parts' C2 values is caught too (each is bound to its slot).
    let mut req = stored.forwarding_request(None).expect("request");
    let c = req.parts[0].c2.clone();
    req.parts[0].c2 = req.parts[1].c2.clone();
    req.parts[1].c2 = c;
    assert!(req.clone().verify().is_err(), "swapped C2 must be rejected");

    // A target key from another organization (a server naming its own key) is refused.
    let req = stored.forwarding_request(None).expect("request");
    let v = req.clone().verify().expect("verify");
    let fwd = Forwarder {
        holder: &w.rep.enc,
        signer: &w.rep.sig,
        cert: &w.rep.cert,
    };
    let outsider = w
        .outsider
        .cert
        .verify(w.other_city.organization(), NOW)
        .expect("valid elsewhere");
    assert!(v
        .make_hops(&fwd, &outsider, None, NOW + 1, &mut rng)
        .is_err());

    // A forged response (tampered X) is rejected by the combiner.
    let target = w.verified(&w.staff[0]);
    let mut resp = v
        .make_hops(&fwd, &target, None, NOW + 1, &mut rng)
        .expect("hops");
    resp.hops[1].1.x = S::add(&resp.hops[1].1.x, &S::generator());
    assert!(stored.apply_forward(&resp).is_err());
}

#[test]
fn lying_server_is_caught_p256() {
    lying_server_is_caught::<P256>();
}

#[test]
fn lying_server_is_caught_ristretto() {
    lying_server_is_caught::<Ristretto255>();
}

/// Sixteen hops, alternating model 1 (the forwarder re-encrypts the file itself) and model 2
/// (shares through the keyless combiner): every hop verifies, the capsule never grows, only the
/// last holder can decrypt.
fn sixteen_hops_mixed<S: Suite>() {
    let mut rng = rng(13);
    let w = world::<S>(16, &mut rng);
    let body = vec![0x5au8; 3000];
    let file = w.send(std::slice::from_ref(&body), 1024, &mut rng);
    let mut header = open::<S>(&file).header;
    let capsule_len = |h: &soshiki_core::envelope::EnvelopeHeader<S>| {
        let mut wr = soshiki_core::wire::Writer::new();
        h.slot(part_slot(0)).expect("slot").capsule.write(&mut wr);
        wr.into_bytes().len()
    };
    let first_len = capsule_len(&header);
    let mut holder = &w.rep;
    for (i, next) in w.staff.iter().enumerate() {
        let target = w.verified(next);
        let fwd = Forwarder {
            holder: &holder.enc,
            signer: &holder.sig,
            cert: &holder.cert,
        };
        let time = NOW + 1 + i as u64;
        header = if i % 2 == 0 {
            header
                .verify()
                .expect("verify")
                .forward(&fwd, &target, None, time, &mut rng)
                .expect("model 1")
        } else {
            let req = header.forwarding_request(None).expect("request");
            let resp = req
                .verify()
                .expect("request verifies")
                .make_hops(&fwd, &target, None, time, &mut rng)
                .expect("hops");
            header.apply_forward(&resp).expect("combine")
        };
        assert_eq!(
            capsule_len(&header),
            first_len,
            "the capsule does not grow with hops"
        );
        holder = next;
    }
    assert_eq!(header.slot(part_slot(0)).expect("slot").hops.len(), 16);
    let out = rewrap(&file, &header);
    assert_eq!(
        read_part::<S>(&out, 0, &w.staff[15].enc).expect("last holder reads"),
        body
    );
    for earlier in std::iter::once(&w.rep).chain(&w.staff[..15]) {
        assert!(
            read_part::<S>(&out, 0, &earlier.enc).is_err(),
            "an earlier holder cannot read"
        );
    }
}

#[test]
fn sixteen_hops_mixed_p256() {
    sixteen_hops_mixed::<P256>();
}

#[test]
fn sixteen_hops_mixed_ristretto() {
    sixteen_hops_mixed::<Ristretto255>();
}
