//! Byte sizes on the command line: `500MiB`, `20GiB`, `1TB`, `1048576` (plain bytes), and how
//! a size is printed back.

use soshiki_client::proto::MAX_QUOTA_BYTES;

/// Binary (IEC) and decimal (SI) units, lower-case.
const UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("kib", 1 << 10),
    ("mib", 1 << 20),
    ("gib", 1 << 30),
    ("tib", 1 << 40),
    ("pib", 1 << 50),
    ("kb", 1_000),
    ("mb", 1_000_000),
    ("gb", 1_000_000_000),
    ("tb", 1_000_000_000_000),
    ("pb", 1_000_000_000_000_000),
];

/// Why a size was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SizeError {
    /// Not a whole number with an optional unit.
    Malformed,
    /// Larger than [`MAX_QUOTA_BYTES`].
    TooLarge,
}

/// A quota: `none` (or `0`) is no quota, else a whole number with an optional unit (B, KiB,
/// MiB, GiB, TiB, PiB, KB, MB, GB, TB, PB; case-insensitive, a space allowed), at most
/// [`MAX_QUOTA_BYTES`].
pub fn parse_quota(text: &str) -> Result<Option<u64>, SizeError> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err(SizeError::Malformed);
    }
    let n: u64 = t[..digits].parse().map_err(|_| SizeError::TooLarge)?;
    let unit = t[digits..].trim_start().to_ascii_lowercase();
    let (_, scale) = UNITS
        .iter()
        .find(|(u, _)| *u == unit)
        .ok_or(SizeError::Malformed)?;
    let bytes = n.checked_mul(*scale).ok_or(SizeError::TooLarge)?;
    if bytes > MAX_QUOTA_BYTES {
        return Err(SizeError::TooLarge);
    }
    Ok(Some(bytes).filter(|&b| b > 0))
}

/// A size for people: `20 GiB`, `1.5 MiB (1572864 B)`, `512 B`.
pub fn format_size(bytes: u64) -> String {
    let Some((name, scale)) = ["PiB", "TiB", "GiB", "MiB", "KiB"]
        .iter()
        .zip([50u32, 40, 30, 20, 10])
        .map(|(n, s)| (*n, 1u64 << s))
        .find(|(_, s)| bytes >= *s)
    else {
        return format!("{bytes} B");
    };
    if bytes % scale == 0 {
        format!("{} {name}", bytes / scale)
    } else {
        let v = bytes as f64 / scale as f64;
        let v = format!("{v:.2}");
        let v = v.trim_end_matches('0').trim_end_matches('.');
        format!("{v} {name} ({bytes} B)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_sizes() {
        assert_eq!(parse_quota("500MiB"), Ok(Some(500 << 20)));
        assert_eq!(parse_quota("20GiB"), Ok(Some(20 << 30)));
        assert_eq!(parse_quota("20 gib"), Ok(Some(20 << 30)));
        assert_eq!(parse_quota("1GB"), Ok(Some(1_000_000_000)));
        assert_eq!(parse_quota("1048576"), Ok(Some(1 << 20)));
        assert_eq!(parse_quota("12B"), Ok(Some(12)));
        assert_eq!(parse_quota("1PiB"), Ok(Some(MAX_QUOTA_BYTES)));
        assert_eq!(parse_quota("none"), Ok(None));
        assert_eq!(parse_quota("0"), Ok(None));
        assert_eq!(parse_quota("0GiB"), Ok(None));
        for bad in ["", "GiB", "-5MiB", "1.5GiB", "5 MiBs", "5XB", "ten"] {
            assert_eq!(parse_quota(bad), Err(SizeError::Malformed), "{bad}");
        }
        for big in [
            "2PiB",
            "1025TiB",
            "99999999999999999999",
            "18446744073709551615GiB",
        ] {
            assert_eq!(parse_quota(big), Err(SizeError::TooLarge), "{big}");
        }
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(format_size(20 << 30), "20 GiB");
        assert_eq!(format_size(500 << 20), "500 MiB");
        assert_eq!(format_size(1_572_864), "1.5 MiB (1572864 B)");
        assert_eq!(format_size(1000), "1000 B");
        assert_eq!(format_size(0), "0 B");
    }
}
