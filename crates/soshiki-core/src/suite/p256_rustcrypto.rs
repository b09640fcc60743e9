//! P-256 point arithmetic from the pure-Rust `p256` crate (browser builds, and a cross-check of
//! the OpenSSL backend in native tests).

use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::elliptic_curve::PrimeField;
use p256::{AffinePoint, EncodedPoint, FieldBytes, ProjectivePoint, Scalar};

/// A P-256 point.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Point(ProjectivePoint);

fn scalar(bytes: &[u8; 32]) -> Scalar {
    // Callers pass encodings of valid scalars only.
    Option::<Scalar>::from(Scalar::from_repr(FieldBytes::from(*bytes))).unwrap_or(Scalar::ZERO)
}

#[allow(dead_code)] // each backend is used by one target; both are compiled in native tests
impl Point {
    pub(super) fn decode_compressed(bytes: &[u8]) -> Option<Point> {
        let ep = EncodedPoint::from_bytes(bytes).ok()?;
        if !ep.is_compressed() {
            return None;
        }
        let ap: Option<AffinePoint> = AffinePoint::from_encoded_point(&ep).into();
        let p = ProjectivePoint::from(ap?);
        if bool::from(p.is_identity()) {
            return None;
        }
        Some(Point(p))
    }

    pub(super) fn encode_compressed(&self) -> Vec<u8> {
        if bool::from(self.0.is_identity()) {
            return vec![0u8; 33];
        }
        self.0
            .to_affine()
            .to_encoded_point(true)
            .as_bytes()
            .to_vec()
    }

    pub(super) fn generator() -> Point {
        Point(ProjectivePoint::GENERATOR)
    }

    pub(super) fn mul_base(s: &[u8; 32]) -> Point {
        Point(ProjectivePoint::GENERATOR * scalar(s))
    }

    pub(super) fn mul(&self, s: &[u8; 32]) -> Point {
        Point(self.0 * scalar(s))
    }

    #[allow(dead_code)]
    pub(super) fn mul_base_add(a: &[u8; 32], q: &Point, b: &[u8; 32]) -> Point {
        Point(ProjectivePoint::GENERATOR * scalar(a) + q.0 * scalar(b))
    }

    pub(super) fn add(&self, other: &Point) -> Point {
        Point(self.0 + other.0)
    }

    pub(super) fn neg(&self) -> Point {
        Point(-self.0)
    }

    pub(super) fn is_identity(&self) -> bool {
        bool::from(self.0.is_identity())
    }

    #[allow(dead_code)]
    pub(super) fn sum_of_products_vartime(
        terms: &[(zeroize::Zeroizing<[u8; 32]>, &Point)],
    ) -> Point {
        Point(terms.iter().fold(ProjectivePoint::IDENTITY, |acc, (s, p)| {
            acc + p.0 * scalar(s)
        }))
    }
}

impl core::fmt::Debug for Point {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "P256Element({})", hex::encode(self.encode_compressed()))
    }
}
