//! The one policy for turning a part's name (chosen by the sender, sealed in the metadata) into
//! a file name on the reader's device. Every client uses it: the CLI (file-mode `decrypt`,
//! server-mode `open`), [`crate::flows::open`], and the browser (`safePartName` in
//! `soshiki-wasm`, used by the open page).
//!
//! A sender controls the name completely, so the policy assumes it is hostile:
//!
//! - only the last path component is kept (`/` and `\` separate directories): no directory
//!   is ever created or entered, `..` and `.` never survive;
//! - control characters (C0, DEL, C1) and invisible formatting characters are removed,
//!   including every bidirectional control (U+061C, U+200E, U+200F, U+202A–U+202E,
//!   U+2066–U+2069) that could make `txt.exe` display as `exe.txt`, and zero-width characters
//!   (U+200B–U+200D, U+2060, U+FEFF);
//! - the characters Windows reserves (`< > : " / \ | ? *`) become `_`;
//! - leading dots (no hidden dotfiles) and leading or trailing spaces and trailing dots
//!   (which Windows drops silently) are removed;
//! - a Windows device name (`CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`, `LPT0`–`LPT9`, with
//!   superscript digits too, `CONIN$`, `CONOUT$`; any case, with or without an extension) gets
//!   a leading `_`;
//! - the result is at most [`MAX_NAME_BYTES`] bytes of UTF-8 (cut at a character boundary,
//!   keeping a short extension);
//! - if nothing is left, the name is `part-N.bin`.
//!
//! The result is a plain file name that is the same on every client.

/// The longest file name produced, in bytes of UTF-8 (file systems allow 255).
pub const MAX_NAME_BYTES: usize = 200;

/// Characters removed from names: controls and invisible or bidirectional formatting.
pub fn is_removed_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

/// Characters Windows does not allow in a file name (replaced by `_`).
pub fn is_reserved_char(c: char) -> bool {
    matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*')
}

/// Whether `stem` (the name up to its first dot) is a Windows device name.
fn is_device_name(stem: &str) -> bool {
    let upper = stem.trim_end_matches(' ').to_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && rest.len() == 1
        && matches!(rest[0], '0'..='9' | '¹' | '²' | '³')
}

/// Cut `s` to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn trim_edges(s: &str) -> &str {
    s.trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
}

/// The file name under which part `index`, named `name` by its sender, is saved (see the
/// module documentation for the policy).
pub fn safe_part_name(name: &str, index: u32) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !is_removed_char(*c))
        .map(|c| if is_reserved_char(c) { '_' } else { c })
        .collect();
    let mut out = trim_edges(&cleaned).to_string();
    if out.len() > MAX_NAME_BYTES {
        // Keep a short extension (`.csv`) when cutting a long name.
        let ext = out
            .rfind('.')
            .map(|i| out[i..].to_string())
            .filter(|e| e.len() <= 16 && e.len() < out.len());
        out = match ext {
            Some(e) => {
                let stem = &out[..out.len() - e.len()];
                format!("{}{e}", trim_edges(cut(stem, MAX_NAME_BYTES - e.len())))
            }
            None => trim_edges(cut(&out, MAX_NAME_BYTES)).to_string(),
        };
        out = trim_edges(&out).to_string();
    }
    if out.is_empty() || out.starts_with('.') {
        return format!("part-{index}.bin");
    }
    let stem = out.split('.').next().unwrap_or("");
    if is_device_name(stem) {
        out.insert(0, '_');
        if out.len() > MAX_NAME_BYTES {
            out = trim_edges(cut(&out, MAX_NAME_BYTES)).to_string();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule of the policy, as (sender's name, index, saved name).
    const TABLE: &[(&str, u32, &str)] = &[
        // Ordinary names are kept.
        ("omachi.csv", 1, "omachi.csv"),
        ("敬老会 名簿 2026.xlsx", 2, "敬老会 名簿 2026.xlsx"),
        ("report.v2.final.pdf", 0, "report.v2.final.pdf"),
        // Directories and traversal.
        ("../../etc/passwd", 1, "passwd"),
        ("C:\\Users\\x\\名簿.csv", 2, "名簿.csv"),
        ("..", 3, "part-3.bin"),
        (".", 3, "part-3.bin"),
        ("a/..", 3, "part-3.bin"),
        ("dir/", 5, "part-5.bin"),
        ("dir\\", 5, "part-5.bin"),
        ("/", 9, "part-9.bin"),
        ("", 0, "part-0.bin"),
        // Dotfiles.
        (".bashrc", 4, "bashrc"),
        ("...hidden.txt", 4, "hidden.txt"),
        ("....", 4, "part-4.bin"),
        // Control characters.
        ("bad\u{7}name", 4, "badname"),
        ("line\nbreak.txt", 4, "linebreak.txt"),
        ("tab\there", 4, "tabhere"),
        ("del\u{7f}.txt", 4, "del.txt"),
        ("c1\u{85}\u{9b}.txt", 4, "c1.txt"),
        // Bidirectional overrides and invisible characters.
        ("invoice\u{202E}txt.exe", 6, "invoicetxt.exe"),
        ("a\u{202A}b\u{202B}c\u{202C}d\u{202D}e.txt", 6, "abcde.txt"),
        ("x\u{2066}y\u{2067}z\u{2068}w\u{2069}.txt", 6, "xyzw.txt"),
        ("l\u{200E}r\u{200F}m\u{061C}.txt", 6, "lrm.txt"),
        ("zero\u{200B}width\u{FEFF}.txt", 6, "zerowidth.txt"),
        ("\u{202E}", 7, "part-7.bin"),
        // Characters Windows reserves.
        ("c:x", 6, "c_x"),
        ("a<b>c:d\"e|f?g*h.txt", 6, "a_b_c_d_e_f_g_h.txt"),
        ("what?.csv", 6, "what_.csv"),
        // Trailing dots and spaces, leading spaces.
        ("name.txt.", 8, "name.txt"),
        ("name.txt . . ", 8, "name.txt"),
        ("  padded.txt  ", 8, "padded.txt"),
        ("   ", 8, "part-8.bin"),
        // Windows device names, any case, with or without extension.
        ("CON", 1, "_CON"),
        ("con.txt", 1, "_con.txt"),
        ("Prn.csv", 1, "_Prn.csv"),
        ("aux", 1, "_aux"),
        ("NUL.tar.gz", 1, "_NUL.tar.gz"),
        ("COM1", 1, "_COM1"),
        ("com9.log", 1, "_com9.log"),
        ("LPT1.txt", 1, "_LPT1.txt"),
        ("lpt9", 1, "_lpt9"),
        ("COM¹.txt", 1, "_COM¹.txt"),
        ("CONIN$", 1, "_CONIN$"),
        ("dir/CON .txt", 1, "_CON .txt"),
        // Not device names.
        ("CONSOLE.txt", 1, "CONSOLE.txt"),
        ("COM10.txt", 1, "COM10.txt"),
        ("LPT.txt", 1, "LPT.txt"),
        ("nullable.csv", 1, "nullable.csv"),
    ];

    #[test]
    fn part_name_policy_table() {
        for (name, index, want) in TABLE {
            assert_eq!(&safe_part_name(name, *index), want, "name {name:?}");
        }
    }

    #[test]
    fn every_result_is_a_plain_safe_file_name() {
        let nasty = [
            "a".repeat(1000),
            format!("{}.csv", "名".repeat(300)),
            format!("{}.{}", "b".repeat(300), "x".repeat(40)),
            format!("CON.{}", "c".repeat(300)),
            "..\\..\\..\\Windows\\System32\\drivers\\etc\\hosts".into(),
        ];
        for n in TABLE.iter().map(|(n, _, _)| n.to_string()).chain(nasty) {
            let s = safe_part_name(&n, 3);
            assert!(!s.is_empty() && s.len() <= MAX_NAME_BYTES, "{n:?} -> {s:?}");
            assert!(
                !s.starts_with('.') && !s.ends_with('.') && !s.ends_with(' '),
                "{s:?}"
            );
            assert!(
                !s.chars().any(|c| is_removed_char(c) || is_reserved_char(c)),
                "{s:?}"
            );
            assert!(!is_device_name(s.split('.').next().unwrap_or("")), "{s:?}");
            assert_eq!(safe_part_name(&s, 3), s, "idempotent for {n:?}");
        }
        let long = safe_part_name(&format!("{}.csv", "名".repeat(300)), 0);
        assert!(
            long.ends_with(".csv"),
            "the extension survives a cut: {long}"
        );
    }
}
