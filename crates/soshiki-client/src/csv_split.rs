//! Splitting a CSV file into one part per value of a column: the one implementation used by
//! the CLI (`soshiki send --split-by COLUMN`) and, through `soshiki-wasm` (`splitCsv`,
//! `csvColumns`), by the browser, so both make the same parts with the same names and labels.
//!
//! # What a part is
//!
//! A part holds the **original bytes** of its rows, in the file's own encoding: the header line
//! first (with the UTF-8 byte-order mark when the file has one, so Excel still recognises the
//! encoding of every part), then each of its rows exactly as they were (quotes, `CRLF` or `LF`
//! line ends, newlines inside quoted fields). Nothing is decoded and re-encoded. The only bytes
//! added are a line end after a last row that had none (the header's line end, so the rows of a
//! part are separated); blank lines (no byte before the line end) are not rows and are left out
//! (counted in [`CsvSplit::blank_lines`]). So, blank lines aside, concatenating the parts minus
//! their repeated header gives the file's rows byte for byte, and every row is in exactly one
//! part.
//!
//! Parts come in the order in which their value first appears. A part's value is the chosen
//! field with surrounding whitespace trimmed; its label is `column name = value` (the label a
//! forwarder's routing rules match) and its name is `{file stem}_{value}{extension}` made safe by
//! [`crate::names::safe_part_name`] (an empty value is named [`EMPTY_VALUE_NAME`]; names that
//! would collide, also by letter case, get `_2`, `_3`, …).
//!
//! # Encodings
//!
//! Detected from the bytes: UTF-8 with a byte-order mark, UTF-8 without one, or CP932 (the
//! Shift_JIS of Excel on Japanese Windows, the WHATWG `Shift_JIS` decoder of `encoding_rs`). UTF-8
//! wins when the bytes are valid UTF-8 (plain ASCII is UTF-8). Anything else (UTF-16 or UTF-32
//! with or without a byte-order mark, a NUL byte, bytes valid in neither encoding) is refused
//! with an error that says what was found and where. The encoding is needed only to read the
//! header names and the chosen column's values; the parts are cut from the bytes.
//!
//! # Why cutting bytes is safe in CP932
//!
//! The parser looks only at four ASCII bytes: `"` (0x22), `,` (0x2C), CR (0x0D) and LF (0x0A).
//! In UTF-8 every byte of a multi-byte character is 0x80 or above. In CP932 a double-byte
//! character's first byte is 0x81–0x9F or 0xE0–0xFC and its second byte 0x40–0x7E or 0x80–0xFC:
//! the second byte may be `\` (0x5C, as in 表 = 0x95 0x5C or ソ = 0x83 0x5C) or `@`/`[`/`|`…,
//! but never one of the four delimiter bytes, all below 0x40. So a delimiter byte is always a
//! delimiter, and a field's bytes are always whole characters.
//!
//! # Quoting (RFC 4180, as Excel reads it)
//!
//! A field that starts with `"` is quoted: it may hold commas, line ends and `""` (one quote);
//! it ends at the next single `"`. Bytes after the closing quote and before the next delimiter
//! are kept in the value (Excel does the same). A `"` inside an unquoted field is an ordinary
//! character. A quoted field still open at the end of the file is an error naming the line
//! where it began. Line numbers are physical lines (1-based), as a text editor shows them.
//!
//! The hand-written scanner (instead of the `csv` crate) is what gives exact byte spans of each
//! record, the line of each record, and a clear error for an unterminated quote.

use std::collections::HashMap;

use encoding_rs::{DecoderResult, SHIFT_JIS};
use serde::Serialize;
use soshiki_core::envelope::Label;
use soshiki_core::wire::limits;

use crate::names::safe_part_name;

/// The most parts one split may make: the envelope's part limit (SPEC.md §2.3).
pub const MAX_SPLIT_PARTS: usize = limits::MAX_PARTS as usize;

/// The name given to the group of rows whose value is empty (in its part's file name; its
/// label value stays empty, as in the file).
pub const EMPTY_VALUE_NAME: &str = "(空欄)";

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The encoding of a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CsvEncoding {
    /// UTF-8 starting with the byte-order mark EF BB BF (Excel's "CSV UTF-8").
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    /// UTF-8 without a byte-order mark (or plain ASCII).
    #[serde(rename = "utf-8")]
    Utf8,
    /// CP932 / Shift_JIS (Excel's "CSV" on Japanese Windows).
    #[serde(rename = "cp932")]
    Cp932,
}

impl CsvEncoding {
    /// The stable code: `utf-8-bom`, `utf-8` or `cp932`.
    pub const fn code(self) -> &'static str {
        match self {
            CsvEncoding::Utf8Bom => "utf-8-bom",
            CsvEncoding::Utf8 => "utf-8",
            CsvEncoding::Cp932 => "cp932",
        }
    }
}

/// Why a file cannot be split. Serialized (for the browser) as `{code, …fields}` with the code
/// in kebab-case and the fields in camelCase; the English text is the `Display`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "code",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum CsvError {
    /// UTF-16 or UTF-32 text with a byte-order mark.
    #[error("the file is {encoding} (byte-order mark {bom}), not UTF-8 or Shift_JIS (CP932)")]
    Utf16 {
        /// `UTF-16 LE`, `UTF-16 BE`, `UTF-32 LE` or `UTF-32 BE`.
        encoding: String,
        /// The byte-order mark in hex, e.g. `FF FE`.
        bom: String,
    },
    /// UTF-16 text without a byte-order mark (NUL bytes between ASCII ones).
    #[error("the file is {encoding} without a byte-order mark, not UTF-8 or Shift_JIS (CP932)")]
    Utf16NoBom {
        /// `UTF-16 LE` or `UTF-16 BE`.
        encoding: String,
    },
    /// A NUL byte: not a text file.
    #[error("the file is not text: a NUL byte at byte offset {offset}")]
    Binary {
        /// Byte offset of the first NUL.
        offset: usize,
    },
    /// The file starts with the UTF-8 byte-order mark but is not UTF-8.
    #[error("the file starts with a UTF-8 byte-order mark but line {line} is not UTF-8 (bytes {bytes} at byte offset {offset})")]
    BadUtf8AfterBom {
        /// Line of the first bad byte.
        line: usize,
        /// Byte offset of the first bad byte.
        offset: usize,
        /// The bad bytes in hex (up to 4).
        bytes: String,
    },
    /// Valid in neither UTF-8 nor CP932.
    #[error("the file is neither UTF-8 nor Shift_JIS (CP932): line {line} has bytes {bytes} (byte offset {offset}) that are valid in neither")]
    UnknownEncoding {
        /// Line of the bad bytes.
        line: usize,
        /// Byte offset of the bad bytes.
        offset: usize,
        /// The bad bytes in hex (up to 4).
        bytes: String,
    },
    /// Nothing at all, not even a header line.
    #[error("the file is empty: no header line")]
    Empty,
    /// A header line and no row.
    #[error("the file has a header line but no data rows")]
    NoDataRows,
    /// A quoted field never closed.
    #[error("the quoted field that begins on line {line} is never closed")]
    UnterminatedQuote {
        /// Line where the record with the open quote begins.
        line: usize,
    },
    /// A row without the chosen column.
    #[error("line {line} has {fields} field(s): column {column} is missing")]
    MissingField {
        /// Line where the row begins.
        line: usize,
        /// The chosen column (1-based).
        column: usize,
        /// How many fields the row has.
        fields: usize,
    },
    /// No column of that name or number.
    #[error("no column {column:?}; the columns are: {available}")]
    NoSuchColumn {
        /// What was asked for.
        column: String,
        /// The header's columns, `1:name, 2:name, …`.
        available: String,
    },
    /// Several columns have that name.
    #[error("several columns are named {column:?} (numbers {numbers}); give the column's number")]
    AmbiguousColumn {
        /// The name.
        column: String,
        /// Their 1-based numbers, comma-separated.
        numbers: String,
    },
    /// The chosen column has no name in the header, so it cannot be a label key.
    #[error("column {number} has no name in the header line; a label needs one")]
    UnnamedColumn {
        /// The column (1-based).
        number: usize,
    },
    /// The chosen column's name is too long for a label key.
    #[error("the name of column {number} is longer than {limit} bytes, the limit of a label key")]
    ColumnNameTooLong {
        /// The column (1-based).
        number: usize,
        /// The limit in bytes of UTF-8.
        limit: usize,
    },
    /// A value too long for a label value.
    #[error("line {line}: the value is longer than {limit} bytes, the limit of a label value")]
    ValueTooLong {
        /// Line of the row.
        line: usize,
        /// The limit in bytes of UTF-8.
        limit: usize,
    },
    /// More distinct values than an envelope may have parts.
    #[error("the column has more than {limit} different values; an envelope holds at most {limit} parts")]
    TooManyParts {
        /// The limit.
        limit: usize,
    },
}

/// The header of a CSV file: its encoding and column names (for a column picker).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CsvHeader {
    /// The detected encoding.
    pub encoding: CsvEncoding,
    /// The column names, decoded and trimmed (the byte-order mark removed).
    pub columns: Vec<String>,
}

/// One part of a split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvPart {
    /// The value of the column shared by the part's rows (trimmed; may be empty).
    pub value: String,
    /// The part's file name (already a safe file name).
    pub name: String,
    /// How many rows (not counting the header).
    pub rows: usize,
    /// The header line and the rows, original bytes.
    pub bytes: Vec<u8>,
}

/// A file split by a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvSplit {
    /// The detected encoding.
    pub encoding: CsvEncoding,
    /// The column names of the header.
    pub columns: Vec<String>,
    /// The chosen column (0-based).
    pub column: usize,
    /// The parts, in order of first appearance of their value.
    pub parts: Vec<CsvPart>,
    /// Blank lines left out.
    pub blank_lines: usize,
}

impl CsvSplit {
    /// The label key of every part: the chosen column's name.
    pub fn label_key(&self) -> &str {
        &self.columns[self.column]
    }

    /// The routing label of `part`: `column name = value`.
    pub fn label(&self, part: &CsvPart) -> Label {
        Label {
            key: self.label_key().to_string(),
            value: part.value.clone(),
        }
    }
}

/// The encoding and column names of a CSV file.
pub fn inspect(bytes: &[u8]) -> Result<CsvHeader, CsvError> {
    let encoding = detect(bytes)?;
    let mut scan = Scanner::new(bytes, encoding);
    let mut fields = Vec::new();
    let header = scan.next(Want::All, &mut fields)?.ok_or(CsvError::Empty)?;
    if header.is_blank() && scan.at_end() {
        return Err(CsvError::Empty);
    }
    let columns = fields
        .iter()
        .map(|f| decode(f, encoding).trim().to_string())
        .collect();
    Ok(CsvHeader { encoding, columns })
}

/// The 0-based column named `spec` (exactly, after trimming), else numbered `spec` (1-based).
/// A name shared by several columns is refused (give the number).
pub fn resolve_column(columns: &[String], spec: &str) -> Result<usize, CsvError> {
    let want = spec.trim();
    let named: Vec<usize> = (0..columns.len()).filter(|&i| columns[i] == want).collect();
    match named.as_slice() {
        [one] => return Ok(*one),
        [] => {}
        many => {
            return Err(CsvError::AmbiguousColumn {
                column: want.into(),
                numbers: many
                    .iter()
                    .map(|i| (i + 1).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }
    match want.parse::<usize>() {
        Ok(n) => column_number(columns, n),
        Err(_) => Err(no_such_column(columns, want)),
    }
}

/// The 0-based index of the column numbered `number` (1-based, as shown to a user).
pub fn column_number(columns: &[String], number: usize) -> Result<usize, CsvError> {
    if (1..=columns.len()).contains(&number) {
        Ok(number - 1)
    } else {
        Err(no_such_column(columns, &number.to_string()))
    }
}

fn no_such_column(columns: &[String], column: &str) -> CsvError {
    CsvError::NoSuchColumn {
        column: column.into(),
        available: columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}:{c}", i + 1))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Split `bytes` (the file named `file_name`) by the 0-based `column`: see the module
/// documentation.
pub fn split(file_name: &str, bytes: &[u8], column: usize) -> Result<CsvSplit, CsvError> {
    split_inspected(file_name, bytes, inspect(bytes)?, column)
}

/// [`split`] by the column named `spec`, else numbered `spec` ([`resolve_column`]): what
/// `soshiki send --split-by COLUMN` does.
pub fn split_by_name(file_name: &str, bytes: &[u8], spec: &str) -> Result<CsvSplit, CsvError> {
    let header = inspect(bytes)?;
    let column = resolve_column(&header.columns, spec)?;
    split_inspected(file_name, bytes, header, column)
}

/// [`split`] by the column numbered `number` (1-based, as a column picker shows it).
pub fn split_by_number(file_name: &str, bytes: &[u8], number: usize) -> Result<CsvSplit, CsvError> {
    let header = inspect(bytes)?;
    let column = column_number(&header.columns, number)?;
    split_inspected(file_name, bytes, header, column)
}

/// [`split`] of a file whose `header` was read by [`inspect`] (the encoding is detected once).
fn split_inspected(
    file_name: &str,
    bytes: &[u8],
    header: CsvHeader,
    column: usize,
) -> Result<CsvSplit, CsvError> {
    let encoding = header.encoding;
    let columns = header.columns;
    let key = columns
        .get(column)
        .ok_or_else(|| no_such_column(&columns, &column.saturating_add(1).to_string()))?;
    if key.is_empty() {
        return Err(CsvError::UnnamedColumn { number: column + 1 });
    }
    if key.len() > limits::MAX_LABEL_KEY as usize {
        return Err(CsvError::ColumnNameTooLong {
            number: column + 1,
            limit: limits::MAX_LABEL_KEY as usize,
        });
    }

    let mut scan = Scanner::new(bytes, encoding);
    let mut fields = Vec::new();
    let head = scan.next(Want::All, &mut fields)?.ok_or(CsvError::Empty)?;
    // Every part starts with the file's first bytes up to the end of the header line: the
    // byte-order mark, when there is one, included.
    let head_bytes = &bytes[..head.end];
    let line_end: &[u8] = match &bytes[head.body_end..head.end] {
        b"" => b"\r\n",
        e => e,
    };

    struct Group {
        value: String,
        rows: usize,
        bytes: Vec<u8>,
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut blank_lines = 0;
    while let Some(rec) = scan.next(Want::One(column), &mut fields)? {
        if rec.is_blank() {
            blank_lines += 1;
            continue;
        }
        if rec.fields <= column {
            return Err(CsvError::MissingField {
                line: rec.line,
                column: column + 1,
                fields: rec.fields,
            });
        }
        let value = decode(&fields[0], encoding).trim().to_string();
        if value.len() > limits::MAX_LABEL_VALUE as usize {
            return Err(CsvError::ValueTooLong {
                line: rec.line,
                limit: limits::MAX_LABEL_VALUE as usize,
            });
        }
        let g = match index.get(&value) {
            Some(&g) => g,
            None => {
                if groups.len() == MAX_SPLIT_PARTS {
                    return Err(CsvError::TooManyParts {
                        limit: MAX_SPLIT_PARTS,
                    });
                }
                index.insert(value.clone(), groups.len());
                groups.push(Group {
                    value,
                    rows: 0,
                    bytes: head_bytes.to_vec(),
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[g];
        group.rows += 1;
        group.bytes.extend_from_slice(&bytes[rec.start..rec.end]);
        if rec.end == rec.body_end {
            // The last row of a file without a final line end.
            group.bytes.extend_from_slice(line_end);
        }
    }
    if groups.is_empty() {
        return Err(CsvError::NoDataRows);
    }

    let mut taken = std::collections::HashSet::new();
    let parts = groups
        .into_iter()
        .enumerate()
        .map(|(i, g)| CsvPart {
            name: part_name(file_name, &g.value, i as u32, &mut taken),
            value: g.value,
            rows: g.rows,
            bytes: g.bytes,
        })
        .collect();
    Ok(CsvSplit {
        encoding,
        columns,
        column,
        parts,
        blank_lines,
    })
}

/// `{stem}_{value}{extension}` as a safe file name, unique (ignoring letter case) among `taken`.
fn part_name(
    file_name: &str,
    value: &str,
    index: u32,
    taken: &mut std::collections::HashSet<String>,
) -> String {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or("");
    let (stem, ext) = match base.rfind('.') {
        Some(i) if i > 0 => (&base[..i], &base[i..]),
        _ => (base, ""),
    };
    // A value is data, not a path: its separators must not cut the name.
    let shown: String = if value.is_empty() {
        EMPTY_VALUE_NAME.into()
    } else {
        value.replace(['/', '\\'], "_")
    };
    let mut n = 1;
    loop {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("_{n}")
        };
        let name = safe_part_name(&format!("{stem}_{shown}{suffix}{ext}"), index);
        if taken.insert(name.to_lowercase()) {
            return name;
        }
        n += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding detection

fn hex_at(bytes: &[u8], offset: usize) -> String {
    bytes[offset..bytes.len().min(offset + 4)]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn line_at(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// The byte offset of the first byte that is not CP932, if any (decoded in small pieces).
fn cp932_error_at(bytes: &[u8]) -> Option<usize> {
    let mut decoder = SHIFT_JIS.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(16 * 1024);
    let mut read_total = 0;
    loop {
        out.clear();
        let (result, read) =
            decoder.decode_to_string_without_replacement(&bytes[read_total..], &mut out, true);
        read_total += read;
        match result {
            DecoderResult::InputEmpty => return None,
            DecoderResult::OutputFull => continue,
            DecoderResult::Malformed(bad, extra) => {
                return Some(read_total - extra as usize - bad as usize)
            }
        }
    }
}

fn detect(bytes: &[u8]) -> Result<CsvEncoding, CsvError> {
    let boms: [(&[u8], &str); 4] = [
        (b"\xFF\xFE\0\0", "UTF-32 LE"),
        (b"\0\0\xFE\xFF", "UTF-32 BE"),
        (b"\xFF\xFE", "UTF-16 LE"),
        (b"\xFE\xFF", "UTF-16 BE"),
    ];
    for (bom, encoding) in boms {
        if bytes.starts_with(bom) {
            return Err(CsvError::Utf16 {
                encoding: encoding.into(),
                bom: hex_at(bom, 0),
            });
        }
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        // ASCII text in UTF-16 without a byte-order mark: every other byte is NUL.
        let sample = &bytes[..bytes.len().min(512)];
        let nul_even = sample.iter().step_by(2).filter(|&&b| b == 0).count();
        let nul_odd = sample
            .iter()
            .skip(1)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count();
        let half = sample.len() / 2;
        let no_bom = |encoding: &str| {
            Err(CsvError::Utf16NoBom {
                encoding: encoding.into(),
            })
        };
        if half >= 2 && nul_odd * 4 >= half * 3 && nul_even == 0 {
            return no_bom("UTF-16 LE");
        }
        if half >= 2 && nul_even * 4 >= half * 3 && nul_odd == 0 {
            return no_bom("UTF-16 BE");
        }
        return Err(CsvError::Binary { offset });
    }
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return match std::str::from_utf8(rest) {
            Ok(_) => Ok(CsvEncoding::Utf8Bom),
            Err(e) => {
                let offset = UTF8_BOM.len() + e.valid_up_to();
                Err(CsvError::BadUtf8AfterBom {
                    line: line_at(bytes, offset),
                    offset,
                    bytes: hex_at(bytes, offset),
                })
            }
        };
    }
    let utf8_error = match std::str::from_utf8(bytes) {
        Ok(_) => return Ok(CsvEncoding::Utf8),
        Err(e) => e.valid_up_to(),
    };
    match cp932_error_at(bytes) {
        None => Ok(CsvEncoding::Cp932),
        Some(cp932_error) => {
            // The bytes that broke the encoding that got further are the likely culprit.
            let offset = utf8_error.max(cp932_error);
            Err(CsvError::UnknownEncoding {
                line: line_at(bytes, offset),
                offset,
                bytes: hex_at(bytes, offset),
            })
        }
    }
}

/// Decode a field of a file already checked to be valid in `encoding`.
fn decode(field: &[u8], encoding: CsvEncoding) -> String {
    match encoding {
        CsvEncoding::Utf8 | CsvEncoding::Utf8Bom => String::from_utf8_lossy(field).into_owned(),
        CsvEncoding::Cp932 => SHIFT_JIS.decode_without_bom_handling(field).0.into_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// The record scanner

/// Which field values to collect.
#[derive(Clone, Copy)]
enum Want {
    All,
    One(usize),
}

/// A record: its byte span and where it is.
#[derive(Debug)]
struct Record {
    /// First byte.
    start: usize,
    /// End of the record's content (before the line end).
    body_end: usize,
    /// End including the line end (`== body_end` for a last line without one).
    end: usize,
    /// Physical line (1-based) where the record begins.
    line: usize,
    /// Number of fields.
    fields: usize,
}

impl Record {
    fn is_blank(&self) -> bool {
        self.start == self.body_end
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Scanner<'a> {
    fn new(bytes: &'a [u8], encoding: CsvEncoding) -> Self {
        let pos = if encoding == CsvEncoding::Utf8Bom {
            UTF8_BOM.len()
        } else {
            0
        };
        Scanner {
            bytes,
            pos,
            line: 1,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    /// The next record, its wanted field values (quotes removed) in `out`; `None` at the end.
    fn next(&mut self, want: Want, out: &mut Vec<Vec<u8>>) -> Result<Option<Record>, CsvError> {
        out.clear();
        if self.at_end() {
            return Ok(None);
        }
        let b = self.bytes;
        let start = self.pos;
        let line = self.line;
        let mut i = self.pos;
        let mut field = 0usize;
        let mut value = Vec::new();
        let wanted = |f: usize| match want {
            Want::All => true,
            Want::One(c) => c == f,
        };
        let (body_end, end) = loop {
            // One field starting at `i`.
            let keep = wanted(field);
            let mut quoted = b.get(i) == Some(&b'"');
            if quoted {
                i += 1;
            }
            let stop = loop {
                let Some(&c) = b.get(i) else {
                    if quoted {
                        return Err(CsvError::UnterminatedQuote { line });
                    }
                    break None;
                };
                if quoted {
                    if c == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            if keep {
                                value.push(b'"');
                            }
                            i += 2;
                        } else {
                            quoted = false;
                            i += 1;
                        }
                        continue;
                    }
                    if c == b'\n' {
                        self.line += 1;
                    }
                } else if c == b',' || c == b'\n' || c == b'\r' {
                    break Some(c);
                }
                if keep {
                    value.push(c);
                }
                i += 1;
            };
            if keep {
                out.push(std::mem::take(&mut value));
            }
            field += 1;
            match stop {
                Some(b',') => i += 1,
                Some(b'\r') if b.get(i + 1) == Some(&b'\n') => break (i, i + 2),
                Some(_) => break (i, i + 1),
                None => break (i, i),
            }
        };
        if end > body_end {
            self.line += 1;
        }
        self.pos = end;
        Ok(Some(Record {
            start,
            body_end,
            end,
            line,
            fields: field,
        }))
    }
}

#[cfg(test)]
mod tests;
