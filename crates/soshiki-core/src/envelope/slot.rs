//! Slot identifiers: the routing metadata's slot or a part's slot (SPEC.md §6.1, §7.1).
//!
//! On the wire a slot is a `u32`: a part index, or `0xFFFFFFFF` for the metadata slot.
//! [`SlotId::to_wire`] and [`SlotId::from_wire`] are the only places that know that encoding;
//! everything else names slots through [`SlotId`].

use core::cmp::Ordering;
use core::fmt;

/// The wire value of the metadata slot.
const METADATA_WIRE: u32 = u32::MAX;

/// A slot of an envelope: the routing metadata's ([`SlotId::METADATA`]) or a part's
/// ([`SlotId::part`]).
///
/// A part index is never `0xFFFFFFFF` (that value is the metadata slot on the wire), so
/// [`SlotId::part`] refuses it. Slots are ordered as a header lists them (SPEC.md §7.1): the
/// metadata slot first, then part slots by ascending index.
///
/// ```
/// use soshiki_core::envelope::SlotId;
///
/// let part = SlotId::part(2).expect("a part index");
/// assert_eq!(part.part_index(), Some(2));
/// assert_eq!(SlotId::METADATA.part_index(), None);
/// assert!(SlotId::METADATA < part);
/// assert_eq!(part.to_string(), "part 2");
/// assert_eq!(SlotId::from_wire(part.to_wire()), part);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotId(u32);

impl SlotId {
    /// The slot of the routing metadata's capsule.
    pub const METADATA: Self = Self(METADATA_WIRE);

    /// The slot of part `index`; `None` for `0xFFFFFFFF`, which is not a part index.
    pub const fn part(index: u32) -> Option<Self> {
        if index == METADATA_WIRE {
            None
        } else {
            Some(Self(index))
        }
    }

    /// The slots of parts `0..count`, ascending (every index below a `u32` count is a part
    /// index).
    pub fn parts(count: u32) -> impl DoubleEndedIterator<Item = Self> + ExactSizeIterator {
        (0..count).map(Self)
    }

    /// Whether this is the metadata slot.
    pub const fn is_metadata(self) -> bool {
        self.0 == METADATA_WIRE
    }

    /// The part index of a part slot; `None` for the metadata slot.
    pub const fn part_index(self) -> Option<u32> {
        if self.is_metadata() {
            None
        } else {
            Some(self.0)
        }
    }

    /// Encode: the slot's `u32` on the wire (`0xFFFFFFFF` for the metadata slot). Also what
    /// key derivation and hop contexts bind (`u32(slot)`, big-endian).
    pub const fn to_wire(self) -> u32 {
        self.0
    }

    /// Decode a slot's `u32` from the wire: `0xFFFFFFFF` is the metadata slot, any other value
    /// a part index (whether that part exists is the caller's check).
    pub const fn from_wire(value: u32) -> Self {
        Self(value)
    }

    /// The position in a header's slot order: metadata `0`, part `i` at `i + 1`.
    const fn order_key(self) -> u64 {
        match self.part_index() {
            None => 0,
            Some(i) => i as u64 + 1,
        }
    }
}

impl Ord for SlotId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

impl PartialOrd for SlotId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `metadata` or `part {index}`, as used in messages (SPEC.md §2.5 `{slot}`).
impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.part_index() {
            None => f.write_str("metadata"),
            Some(i) => write!(f, "part {i}"),
        }
    }
}

impl fmt::Debug for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.part_index() {
            None => f.write_str("SlotId::METADATA"),
            Some(i) => write!(f, "SlotId::part({i})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip() {
        assert_eq!(SlotId::METADATA.to_wire(), 0xFFFF_FFFF);
        assert_eq!(SlotId::from_wire(0xFFFF_FFFF), SlotId::METADATA);
        for i in [0, 1, 7, 99_999, 0xFFFF_FFFE] {
            let s = SlotId::part(i).expect("part index");
            assert_eq!(s.to_wire(), i);
            assert_eq!(SlotId::from_wire(i), s);
            assert_eq!(SlotId::from_wire(s.to_wire()).part_index(), Some(i));
            assert!(!s.is_metadata());
        }
        let m = SlotId::from_wire(SlotId::METADATA.to_wire());
        assert!(m.is_metadata());
        assert_eq!(m.part_index(), None);
    }

    #[test]
    fn u32_max_is_metadata_never_a_part() {
        assert_eq!(SlotId::from_wire(u32::MAX), SlotId::METADATA);
        assert!(SlotId::from_wire(u32::MAX).is_metadata());
        assert_eq!(SlotId::part(u32::MAX), None);
        assert_eq!(
            SlotId::parts(u32::MAX).next_back(),
            SlotId::part(u32::MAX - 1)
        );
    }

    #[test]
    fn ordering_is_the_header_order() {
        let p = |i| SlotId::part(i).expect("part index");
        assert!(SlotId::METADATA < p(0));
        assert!(SlotId::METADATA < p(u32::MAX - 1));
        assert!(p(0) < p(1));
        assert!(p(1) < p(u32::MAX - 1));
        let mut v = vec![p(3), SlotId::METADATA, p(0), p(u32::MAX - 1), p(2)];
        v.sort();
        assert_eq!(v, vec![SlotId::METADATA, p(0), p(2), p(3), p(u32::MAX - 1)]);
        assert_eq!(SlotId::parts(3).collect::<Vec<_>>(), vec![p(0), p(1), p(2)]);
        assert_eq!(SlotId::METADATA.cmp(&SlotId::METADATA), Ordering::Equal);
    }

    #[test]
    fn display() {
        assert_eq!(SlotId::METADATA.to_string(), "metadata");
        assert_eq!(SlotId::part(0).expect("part").to_string(), "part 0");
        assert_eq!(SlotId::part(41).expect("part").to_string(), "part 41");
        assert_eq!(format!("{:?}", SlotId::METADATA), "SlotId::METADATA");
        assert_eq!(
            format!("{:?}", SlotId::part(3).expect("part")),
            "SlotId::part(3)"
        );
    }
}
