//! ASCII armor for email and text channels (SPEC.md §10).
//!
//! ```text
//! -----BEGIN SOSHIKI <KIND>-----
//! <standard padded base64 of the binary object, lines of exactly 64 characters, the last ≤ 64>
//! -----END SOSHIKI <KIND>-----
//! ```
//! Lines end in LF or CRLF; whitespace before the BEGIN line and after the END line is ignored.

use base64::Engine;

use crate::error::DecodeError;

/// Largest binary object accepted in armor (256 MiB).
pub const MAX_ARMORED: usize = 256 * 1024 * 1024;
const LINE: usize = 64;

/// Whether `bytes` starts (after whitespace) with an armor BEGIN line.
pub fn is_armored(bytes: &[u8]) -> bool {
    let s = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    bytes[s..].starts_with(b"-----BEGIN SOSHIKI ")
}

/// Armor `data` as `kind` (`ENVELOPE`, `KEY`, `IDENTITY`, `ORGANIZATION`).
pub fn encode(kind: &str, data: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = format!("-----BEGIN SOSHIKI {kind}-----\n");
    for chunk in b64.as_bytes().chunks(LINE) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END SOSHIKI {kind}-----\n"));
    out
}

/// Decode armor; returns `(kind, data)`.
pub fn decode(text: &[u8]) -> Result<(String, Vec<u8>), DecodeError> {
    if text.len() > MAX_ARMORED / 3 * 4 + MAX_ARMORED / 48 + 1024 {
        return Err(DecodeError::LimitExceeded {
            what: "armored input",
            limit: MAX_ARMORED as u64,
        });
    }
    // ASCII whitespace only (SP, HT, LF, FF, CR), as `is_armored`; then lines end at LF, each
    // with at most one CR before it removed. Trimming first means a final newline never makes
    // an empty last line (SPEC.md §10).
    let text = std::str::from_utf8(text)
        .map_err(|_| DecodeError::Armor("not ASCII"))?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    if text.is_empty() {
        return Err(DecodeError::Armor("empty"));
    }
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().ok_or(DecodeError::Armor("empty"))?;
    let kind = first
        .strip_prefix("-----BEGIN SOSHIKI ")
        .and_then(|r| r.strip_suffix("-----"))
        .ok_or(DecodeError::Armor("missing BEGIN line"))?
        .to_string();
    let end = format!("-----END SOSHIKI {kind}-----");
    let mut b64 = String::new();
    let mut ended = false;
    let mut short_seen = false;
    for line in lines.by_ref() {
        if line == end {
            ended = true;
            break;
        }
        if short_seen || line.len() > LINE || line.is_empty() {
            return Err(DecodeError::Armor("bad line length"));
        }
        short_seen = line.len() < LINE;
        b64.push_str(line);
    }
    if !ended {
        return Err(DecodeError::Armor("missing END line"));
    }
    if lines.next().is_some() {
        return Err(DecodeError::Armor("text after the END line"));
    }
    let data = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map_err(|_| DecodeError::Armor("invalid base64"))?;
    Ok((kind, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_rejections() {
        for n in [0usize, 1, 47, 48, 49, 1000] {
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let a = encode("ENVELOPE", &data);
            assert_eq!(
                decode(a.as_bytes()).expect("decode"),
                ("ENVELOPE".to_string(), data.clone())
            );
            assert_eq!(
                decode(a.replace('\n', "\r\n").as_bytes()).expect("crlf").1,
                data
            );
        }
        let a = encode("KEY", &[1, 2, 3]);
        assert!(decode(
            a.replace("END SOSHIKI KEY", "END SOSHIKI ENVELOPE")
                .as_bytes()
        )
        .is_err());
        assert!(decode(a.replace("AQID", "AQI*").as_bytes()).is_err());
        assert!(decode(b"hello").is_err());
        assert!(decode(format!("{a}trailing").as_bytes()).is_err());
        assert!(decode(format!("\n  {a}\n\n").as_bytes()).is_ok());
    }

    #[test]
    fn only_ascii_whitespace_surrounds_the_armor() {
        let a = encode("KEY", &[1, 2, 3]);
        // U+3000 (ideographic space) is whitespace to Unicode, not to the armor format.
        assert_eq!(
            decode(format!("\u{3000}{a}").as_bytes()),
            Err(DecodeError::Armor("missing BEGIN line"))
        );
        assert_eq!(
            decode(format!("{a}\u{3000}").as_bytes()),
            Err(DecodeError::Armor("text after the END line"))
        );
        assert!(!is_armored(format!("\u{3000}{a}").as_bytes()));
        // One CR per line is a CRLF line ending; a second one is part of the line.
        assert_eq!(
            decode(a.replace('\n', "\r\r\n").as_bytes()),
            Err(DecodeError::Armor("missing BEGIN line"))
        );
        assert_eq!(decode(b" \t\r\n "), Err(DecodeError::Armor("empty")));
    }
}
