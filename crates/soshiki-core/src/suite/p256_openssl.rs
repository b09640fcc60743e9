//! P-256 point arithmetic backed by OpenSSL (native targets).

use std::sync::LazyLock;

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcPoint, PointConversionForm};
use openssl::nid::Nid;

#[allow(clippy::expect_used)]
static GROUP: LazyLock<EcGroup> = LazyLock::new(|| {
    EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("OpenSSL provides P-256")
});

// OpenSSL fails on valid inputs only when it cannot allocate memory.
const OOM: &str = "OpenSSL EC arithmetic failed (out of memory)";

fn ctx() -> BigNumContext {
    BigNumContext::new().expect(OOM)
}

/// A scalar as an OpenSSL bignum in the secure heap, flagged constant-time, cleared on drop.
fn secret_bn(bytes: &[u8; 32]) -> BigNum {
    let mut bn = BigNum::new_secure().expect(OOM);
    bn.copy_from_slice(bytes).expect(OOM);
    bn.set_const_time();
    bn
}

/// A P-256 point held by OpenSSL.
pub struct Point(EcPoint);

impl Point {
    pub(super) fn decode_compressed(bytes: &[u8]) -> Option<Point> {
        use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
        if bytes.len() != 33 || !(bytes[0] == 0x02 || bytes[0] == 0x03) {
            return None;
        }
        // The square root of decompression is about 2.5 times faster in the p256 crate than in
        // OpenSSL's generic BN_mod_sqrt (12 µs against 28 µs here), and headers carry dozens of
        // points. The p256 crate checks the point is on the curve; OpenSSL checks the
        // uncompressed form again below. P-256 has cofactor 1, so every curve point other than
        // infinity is in the prime-order group.
        let encoded = p256::EncodedPoint::from_bytes(bytes).ok()?;
        let affine: Option<p256::AffinePoint> =
            p256::AffinePoint::from_encoded_point(&encoded).into();
        let uncompressed = affine?.to_encoded_point(false);
        let mut c = ctx();
        let p = EcPoint::from_bytes(&GROUP, uncompressed.as_bytes(), &mut c).ok()?;
        if p.is_infinity(&GROUP) || !p.is_on_curve(&GROUP, &mut c).ok()? {
            return None;
        }
        Some(Point(p))
    }

    pub(super) fn encode_compressed(&self) -> Vec<u8> {
        if self.0.is_infinity(&GROUP) {
            return vec![0u8; 33];
        }
        self.0
            .to_bytes(&GROUP, PointConversionForm::COMPRESSED, &mut ctx())
            .expect(OOM)
    }

    pub(super) fn generator() -> Point {
        Point(
            GROUP
                .generator_opt()
                .expect("P-256 has a generator")
                .to_owned(&GROUP)
                .expect(OOM),
        )
    }

    pub(super) fn mul_base(s: &[u8; 32]) -> Point {
        let mut r = EcPoint::new(&GROUP).expect(OOM);
        r.mul_generator2(&GROUP, &secret_bn(s), &mut ctx())
            .expect(OOM);
        Point(r)
    }

    pub(super) fn mul(&self, s: &[u8; 32]) -> Point {
        let mut r = EcPoint::new(&GROUP).expect(OOM);
        r.mul2(&GROUP, &self.0, &secret_bn(s), &mut ctx())
            .expect(OOM);
        Point(r)
    }

    /// `a·G + b·Q` in one OpenSSL call (public scalars).
    pub(super) fn mul_base_add(a: &[u8; 32], q: &Point, b: &[u8; 32]) -> Point {
        let mut c = ctx();
        let mut r = EcPoint::new(&GROUP).expect(OOM);
        let (a, b) = (
            BigNum::from_slice(a).expect(OOM),
            BigNum::from_slice(b).expect(OOM),
        );
        r.mul_full(&GROUP, &a, &q.0, &b, &mut c).expect(OOM);
        Point(r)
    }

    pub(super) fn add(&self, other: &Point) -> Point {
        let mut r = EcPoint::new(&GROUP).expect(OOM);
        r.add(&GROUP, &self.0, &other.0, &mut ctx()).expect(OOM);
        Point(r)
    }

    pub(super) fn neg(&self) -> Point {
        let mut r = self.0.to_owned(&GROUP).expect(OOM);
        r.invert2(&GROUP, &mut ctx()).expect(OOM);
        Point(r)
    }

    pub(super) fn is_identity(&self) -> bool {
        self.0.is_infinity(&GROUP)
    }

    pub(super) fn sum_of_products_vartime(
        terms: &[(zeroize::Zeroizing<[u8; 32]>, &Point)],
    ) -> Point {
        let mut c = ctx();
        let mut acc = EcPoint::new(&GROUP).expect(OOM);
        for (s, p) in terms {
            let bn = BigNum::from_slice(&s[..]).expect(OOM);
            let mut t = EcPoint::new(&GROUP).expect(OOM);
            t.mul2(&GROUP, &p.0, &bn, &mut c).expect(OOM);
            let mut sum = EcPoint::new(&GROUP).expect(OOM);
            sum.add(&GROUP, &acc, &t, &mut c).expect(OOM);
            acc = sum;
        }
        Point(acc)
    }
}

/// ECDSA P-256 verification of a SHA-256 `digest` with OpenSSL; `public` is SEC1 uncompressed.
pub(super) fn ecdsa_verify(public: &[u8], digest: &[u8], r: &[u8], s: &[u8]) -> bool {
    let verify = || -> Result<bool, openssl::error::ErrorStack> {
        let mut c = ctx();
        let point = EcPoint::from_bytes(&GROUP, public, &mut c)?;
        let key = openssl::ec::EcKey::from_public_key(&GROUP, &point)?;
        let sig = openssl::ecdsa::EcdsaSig::from_private_components(
            BigNum::from_slice(r)?,
            BigNum::from_slice(s)?,
        )?;
        sig.verify(digest, &key)
    };
    verify().unwrap_or(false)
}

impl Clone for Point {
    fn clone(&self) -> Self {
        Point(self.0.to_owned(&GROUP).expect(OOM))
    }
}

impl PartialEq for Point {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq(&GROUP, &other.0, &mut ctx()).unwrap_or(false)
    }
}

impl Eq for Point {}

impl core::fmt::Debug for Point {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "P256Element({})", hex::encode(self.encode_compressed()))
    }
}
