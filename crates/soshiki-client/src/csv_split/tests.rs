//! The shared CSV splitter, as a specification: encodings, original bytes, quoting, line ends,
//! grouping, names and labels, and every refusal.

use super::*;
use proptest::prelude::*;

fn cp932(s: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = SHIFT_JIS.encode(s);
    assert!(!unmappable, "{s:?} is not CP932");
    bytes.into_owned()
}

fn bom(s: &str) -> Vec<u8> {
    [UTF8_BOM, s.as_bytes()].concat()
}

/// The file's bytes after its header line.
fn rows_of(file: &[u8], header_len: usize) -> Vec<u8> {
    file[header_len..].to_vec()
}

/// The parts minus their header, each checked to start with `header`.
fn parts_minus_headers(split: &CsvSplit, header: &[u8]) -> Vec<Vec<u8>> {
    split
        .parts
        .iter()
        .map(|p| {
            assert!(
                p.bytes.starts_with(header),
                "part {} starts with the original header bytes",
                p.name
            );
            p.bytes[header.len()..].to_vec()
        })
        .collect()
}

/// An Excel-like export from Japanese Windows: CP932, CRLF, a quoted address with a comma, a
/// note with a line break, and characters whose second byte is `\` (表 95 5C, ソ 83 5C).
const EXCEL_EXPORT: &str = "番号,氏名,住所,地区,備考\r\n\
1,架空 太郎,大町市大町1-1,大町,\r\n\
2,架空 花子,\"大町市八坂2-2, 表町\",八坂,ソフト表示\r\n\
3,架空 次郎,大町市美麻3-3,美麻,\"一行目\r\n二行目 表\"\r\n\
4,架空 三郎,大町市大町4-4,大町,\"\"\"引用\"\" ソ\"\r\n\
5,架空 四郎,大町市八坂5-5,八坂,表\r\n\
6,架空 五郎,大町市美麻6-6,美麻,ソ\r\n";

#[test]
fn the_test_data_really_has_backslash_second_bytes() {
    assert_eq!(cp932("表"), [0x95, 0x5C]);
    assert_eq!(cp932("ソ"), [0x83, 0x5C]);
    let file = cp932(EXCEL_EXPORT);
    assert!(
        file.windows(3).any(|w| w == [0x95, 0x5C, b'\r']),
        "表 right before a line end"
    );
    assert!(
        file.windows(3).any(|w| w == [0x83, 0x5C, b'"']),
        "ソ right before a closing quote"
    );
}

#[test]
fn cp932_excel_export_splits_into_three_districts_with_original_bytes() {
    let file = cp932(EXCEL_EXPORT);
    let header = cp932("番号,氏名,住所,地区,備考\r\n");
    let s = split("対象者.csv", &file, 3).expect("split");
    assert_eq!(s.encoding, CsvEncoding::Cp932);
    assert_eq!(s.columns, ["番号", "氏名", "住所", "地区", "備考"]);
    assert_eq!(s.label_key(), "地区");
    let values: Vec<&str> = s.parts.iter().map(|p| p.value.as_str()).collect();
    assert_eq!(
        values,
        ["大町", "八坂", "美麻"],
        "order of first appearance"
    );
    let names: Vec<&str> = s.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["対象者_大町.csv", "対象者_八坂.csv", "対象者_美麻.csv"]
    );
    assert_eq!(
        s.label(&s.parts[1]),
        Label {
            key: "地区".into(),
            value: "八坂".into()
        }
    );
    let bodies = parts_minus_headers(&s, &header);
    let line = |n: usize| -> Vec<u8> {
        let rows: Vec<&str> = EXCEL_EXPORT.split_inclusive("\r\n").collect();
        // Record 3 spans two physical lines (a line break inside quotes).
        let joined = format!("{}{}", rows[3], rows[4]);
        let records = [rows[1], rows[2], joined.as_str(), rows[5], rows[6], rows[7]];
        cp932(records[n - 1])
    };
    assert_eq!(bodies[0], [line(1), line(4)].concat());
    assert_eq!(bodies[1], [line(2), line(5)].concat());
    assert_eq!(bodies[2], [line(3), line(6)].concat());
    assert_eq!(s.parts.iter().map(|p| p.rows).sum::<usize>(), 6);
    // Each part is CP932 itself: the same splitter reads it back as one group.
    for p in &s.parts {
        let again = split("x.csv", &p.bytes, 3).expect("part re-split");
        assert_eq!(again.encoding, CsvEncoding::Cp932);
        assert_eq!(again.parts.len(), 1);
        assert_eq!(again.parts[0].value, p.value);
        assert_eq!(again.parts[0].bytes, p.bytes);
    }
}

#[test]
fn a_field_ending_in_a_backslash_second_byte_is_not_an_escape() {
    // 表 (95 5C) and ソ (83 5C) just before a comma and a quote: in a parser that treated 0x5C
    // as an escape or decoded as UTF-8, these rows would merge or change group.
    let file = cp932("地区,名\r\n表,ソ\r\n\"ソ\",表\r\n表,\"a,ソ\"\r\n");
    let s = split("a.csv", &file, 0).expect("split");
    let values: Vec<&str> = s.parts.iter().map(|p| p.value.as_str()).collect();
    assert_eq!(values, ["表", "ソ"]);
    assert_eq!(s.parts[0].rows, 2);
    assert_eq!(s.parts[1].rows, 1);
    assert_eq!(
        s.parts[0].bytes,
        cp932("地区,名\r\n表,ソ\r\n表,\"a,ソ\"\r\n")
    );
}

#[test]
fn utf8_with_bom_keeps_the_bom_at_the_start_of_every_part() {
    let file = bom("id,district\r\n1,Omachi\r\n2,Yasaka\r\n3,Omachi\r\n");
    let header = inspect(&file).expect("header");
    assert_eq!(header.encoding, CsvEncoding::Utf8Bom);
    assert_eq!(
        header.columns,
        ["id", "district"],
        "no BOM in the first name"
    );
    let s = split("list.csv", &file, 1).expect("split");
    assert_eq!(s.parts.len(), 2);
    assert_eq!(
        s.parts[0].bytes,
        bom("id,district\r\n1,Omachi\r\n3,Omachi\r\n")
    );
    assert_eq!(s.parts[1].bytes, bom("id,district\r\n2,Yasaka\r\n"));
    assert_eq!(s.parts[0].name, "list_Omachi.csv");
}

#[test]
fn utf8_without_bom_and_lf_line_ends_are_kept() {
    let text = "番号,地区\n1,大町\n2,美麻\n3,大町\n";
    let s = split("t.csv", text.as_bytes(), 1).expect("split");
    assert_eq!(s.encoding, CsvEncoding::Utf8);
    assert_eq!(s.parts[0].bytes, "番号,地区\n1,大町\n3,大町\n".as_bytes());
    assert_eq!(s.parts[1].bytes, "番号,地区\n2,美麻\n".as_bytes());
}

#[test]
fn quoted_fields_with_commas_quotes_and_newlines_stay_in_their_row() {
    let text = "id,note,district\r\n1,\"a, b\",X\r\n2,\"line1\r\nline2, \"\"quoted\"\"\",Y\r\n3,\"\",X\r\n4,\"multi\nLF\",Y\r\n";
    let s = split("q.csv", text.as_bytes(), 2).expect("split");
    assert_eq!(s.parts.len(), 2);
    assert_eq!(
        s.parts[0].bytes,
        "id,note,district\r\n1,\"a, b\",X\r\n3,\"\",X\r\n".as_bytes()
    );
    assert_eq!(
        s.parts[1].bytes,
        "id,note,district\r\n2,\"line1\r\nline2, \"\"quoted\"\"\",Y\r\n4,\"multi\nLF\",Y\r\n"
            .as_bytes()
    );
    // The quoted column itself as the split column: quotes removed from the value.
    let s = split("q.csv", text.as_bytes(), 1).expect("split");
    assert_eq!(s.parts[1].value, "line1\r\nline2, \"quoted\"");
}

#[test]
fn a_last_row_without_line_end_gets_the_header_line_end() {
    let s = split("t.csv", b"k,v\r\n1,a\r\n2,b\r\n3,a", 1).expect("split");
    assert_eq!(s.parts[0].bytes, b"k,v\r\n1,a\r\n3,a\r\n");
    let s = split("t.csv", b"k,v\n1,a\n2,a", 1).expect("split");
    assert_eq!(s.parts[0].bytes, b"k,v\n1,a\n2,a\n");
}

#[test]
fn blank_lines_are_not_rows_and_are_counted() {
    let s = split("t.csv", b"k,v\r\n1,a\r\n\r\n2,b\r\n\r\n", 1).expect("split");
    assert_eq!(s.blank_lines, 2);
    assert_eq!(s.parts.iter().map(|p| p.rows).sum::<usize>(), 2);
}

#[test]
fn an_empty_value_is_its_own_group_named_kuuran_with_an_empty_label() {
    let s = split(
        "名簿.csv",
        "id,地区\n1,大町\n2,\n3,  \n4,大町\n".as_bytes(),
        1,
    )
    .expect("split");
    assert_eq!(s.parts.len(), 2);
    assert_eq!(s.parts[1].value, "");
    assert_eq!(s.parts[1].rows, 2, "whitespace only is empty too");
    assert_eq!(s.parts[1].name, format!("名簿_{EMPTY_VALUE_NAME}.csv"));
    assert_eq!(s.label(&s.parts[1]).value, "");
}

#[test]
fn values_are_trimmed_so_padded_cells_join_their_group() {
    let s = split("t.csv", b"k,v\n1,a\n2, a \n", 1).expect("split");
    assert_eq!(s.parts.len(), 1);
    assert_eq!(s.parts[0].rows, 2);
}

#[test]
fn part_names_are_safe_and_unique() {
    let text = "k,v\n1,../../etc/passwd\n2,a\\b\n3,Omachi\n4,OMACHI\n5,CON\n6,x\u{202E}fdp.exe\n";
    let s = split("dir/list.csv", text.as_bytes(), 1).expect("split");
    let names: Vec<&str> = s.parts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "list_.._.._etc_passwd.csv",
            "list_a_b.csv",
            "list_Omachi.csv",
            "list_OMACHI_2.csv",
            "list_CON.csv",
            "list_xfdp.exe.csv",
        ]
    );
    for n in names {
        assert_eq!(safe_part_name(n, 0), n, "already safe: {n}");
    }
    // The labels keep the real values.
    assert_eq!(s.parts[0].value, "../../etc/passwd");
}

#[test]
fn a_file_without_extension_gets_the_value_appended() {
    let s = split("list", b"k,v\n1,a\n", 1).expect("split");
    assert_eq!(s.parts[0].name, "list_a");
}

#[test]
fn columns_are_chosen_by_name_or_by_number() {
    let cols: Vec<String> = ["番号", "地区", "2", "地区"].map(String::from).into();
    assert_eq!(resolve_column(&cols, "番号"), Ok(0));
    assert_eq!(resolve_column(&cols, " 番号 "), Ok(0));
    assert_eq!(resolve_column(&cols, "1"), Ok(0));
    assert_eq!(
        resolve_column(&cols, "2"),
        Ok(2),
        "a name wins over a number"
    );
    assert_eq!(resolve_column(&cols, "4"), Ok(3));
    assert!(matches!(
        resolve_column(&cols, "地区"),
        Err(CsvError::AmbiguousColumn { ref numbers, .. }) if numbers == "2, 4"
    ));
    let e = resolve_column(&cols, "district").unwrap_err();
    assert!(matches!(e, CsvError::NoSuchColumn { .. }));
    assert!(e.to_string().contains("1:番号, 2:地区"), "{e}");
    assert!(matches!(
        resolve_column(&cols, "5"),
        Err(CsvError::NoSuchColumn { .. })
    ));
    assert!(matches!(
        resolve_column(&cols, "0"),
        Err(CsvError::NoSuchColumn { .. })
    ));
}

#[test]
fn a_row_without_the_column_names_its_physical_line() {
    // Line 2-3 is one record (quoted line break): the short row is on line 4.
    let e = split("t.csv", b"a,b,c\n1,\"x\ny\",z\n2,only\n", 2).unwrap_err();
    assert_eq!(
        e,
        CsvError::MissingField {
            line: 4,
            column: 3,
            fields: 2
        }
    );
    assert_eq!(e.to_string(), "line 4 has 2 field(s): column 3 is missing");
}

#[test]
fn an_unclosed_quote_is_an_error_naming_its_line() {
    let e = split("t.csv", b"a,b\n1,x\n2,\"never closed\n3,y\n", 1).unwrap_err();
    assert_eq!(e, CsvError::UnterminatedQuote { line: 3 });
}

#[test]
fn utf16_with_or_without_bom_is_refused_saying_so() {
    let text = "番号,地区\r\n1,大町\r\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let ascii_le: Vec<u8> = "id,district\r\n1,Omachi\r\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let with_bom = |encoding: &str, bom: &str| CsvError::Utf16 {
        encoding: encoding.into(),
        bom: bom.into(),
    };
    for (bytes, want) in [
        (
            [&[0xFF, 0xFE][..], &le].concat(),
            with_bom("UTF-16 LE", "FF FE"),
        ),
        (
            [&[0xFE, 0xFF][..], &be].concat(),
            with_bom("UTF-16 BE", "FE FF"),
        ),
        (
            [&[0xFF, 0xFE, 0, 0][..], b"1\0\0\0"].concat(),
            with_bom("UTF-32 LE", "FF FE 00 00"),
        ),
        (
            ascii_le,
            CsvError::Utf16NoBom {
                encoding: "UTF-16 LE".into(),
            },
        ),
    ] {
        let e = inspect(&bytes).unwrap_err();
        assert_eq!(e, want);
        assert!(e.to_string().contains("not UTF-8 or Shift_JIS"), "{e}");
        assert_eq!(split("x.csv", &bytes, 0).unwrap_err(), e);
    }
}

#[test]
fn binary_files_are_refused() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    assert_eq!(inspect(png).unwrap_err(), CsvError::Binary { offset: 8 });
    let zip = b"PK\x03\x04\x14\0\x06\0";
    assert_eq!(inspect(zip).unwrap_err(), CsvError::Binary { offset: 5 });
}

#[test]
fn bytes_valid_in_neither_encoding_are_refused_with_their_place() {
    // CP932 text, then FF FF (never CP932 nor UTF-8) on line 3.
    let mut file = cp932("番号,地区\r\n1,大町\r\n2,");
    let offset = file.len();
    file.extend_from_slice(b"\xFF\xFF\r\n");
    let e = inspect(&file).unwrap_err();
    assert_eq!(
        e,
        CsvError::UnknownEncoding {
            line: 3,
            offset,
            bytes: "FF FF 0D 0A".into()
        }
    );
    // A BOM promises UTF-8: CP932 after it is refused.
    let file = [UTF8_BOM, &cp932("番号\r\n")].concat();
    assert!(matches!(
        inspect(&file).unwrap_err(),
        CsvError::BadUtf8AfterBom {
            line: 1,
            offset: 3,
            ..
        }
    ));
}

#[test]
fn empty_files_and_header_only_files_are_refused() {
    assert_eq!(inspect(b"").unwrap_err(), CsvError::Empty);
    assert_eq!(inspect(UTF8_BOM).unwrap_err(), CsvError::Empty);
    assert_eq!(
        split("t.csv", b"a,b\r\n", 0).unwrap_err(),
        CsvError::NoDataRows
    );
    assert_eq!(split("t.csv", b"a,b", 0).unwrap_err(), CsvError::NoDataRows);
}

#[test]
fn a_label_needs_a_column_name_and_values_within_the_label_limits() {
    assert_eq!(
        split("t.csv", b"a,,c\n1,2,3\n", 1).unwrap_err(),
        CsvError::UnnamedColumn { number: 2 }
    );
    let long = format!("{},b\n1,2\n", "k".repeat(65));
    assert_eq!(
        split("t.csv", long.as_bytes(), 0).unwrap_err(),
        CsvError::ColumnNameTooLong {
            number: 1,
            limit: 64
        }
    );
    let long = format!("a,b\n1,2\n2,{}\n", "v".repeat(257));
    assert_eq!(
        split("t.csv", long.as_bytes(), 1).unwrap_err(),
        CsvError::ValueTooLong {
            line: 3,
            limit: 256
        }
    );
}

#[test]
fn more_values_than_an_envelope_has_parts_is_refused() {
    let mut text = String::from("id\n");
    for i in 0..MAX_SPLIT_PARTS {
        text.push_str(&format!("{i}\n"));
    }
    let s = split("t.csv", text.as_bytes(), 0).expect("exactly the limit");
    assert_eq!(s.parts.len(), MAX_SPLIT_PARTS);
    text.push_str("one more\n");
    assert_eq!(
        split("t.csv", text.as_bytes(), 0).unwrap_err(),
        CsvError::TooManyParts {
            limit: MAX_SPLIT_PARTS
        }
    );
}

#[test]
fn errors_serialize_with_a_stable_code_for_the_browser() {
    let v = serde_json::to_value(CsvError::MissingField {
        line: 4,
        column: 3,
        fields: 2,
    })
    .expect("json");
    assert_eq!(
        v,
        serde_json::json!({"code": "missing-field", "line": 4, "column": 3, "fields": 2})
    );
    let v = serde_json::to_value(CsvError::TooManyParts { limit: 7 }).expect("json");
    assert_eq!(v, serde_json::json!({"code": "too-many-parts", "limit": 7}));
    assert_eq!(
        serde_json::to_value(CsvEncoding::Cp932).expect("json"),
        serde_json::json!("cp932")
    );
}

// ---------------------------------------------------------------------------------------------
// Property: for any table, encoding and line end, the parts are a partition of the rows with
// their original bytes.

/// Cell text from an alphabet with the delimiters, quotes, line breaks, spaces and CP932
/// characters whose second byte is ASCII: `\` (表 95 5C, ソ 83 5C, 十 8F 5C), `|` (ポ 83 7C),
/// `@` (① 87 40), and a half-width katakana (ｱ B1).
fn cell() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop::sample::select(vec![
            "a", "Z", "1", ",", "\"", "\r\n", "\n", " ", "表", "ソ", "十", "ポ", "八坂", "美麻",
            "大町", "ｱ", "①", "\\",
        ]),
        0..6,
    )
    .prop_map(|v| v.concat())
}

fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\r', '\n']) || cell.starts_with(' ') {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

proptest! {
    #[test]
    fn parts_are_a_partition_of_the_rows_with_original_bytes(
        ncols in 1usize..4,
        rows in proptest::collection::vec(proptest::collection::vec(cell(), 4), 1..25),
        column in 0usize..4,
        group_of in proptest::collection::vec(0usize..4, 25),
        encoding in prop::sample::select(vec![CsvEncoding::Utf8, CsvEncoding::Utf8Bom, CsvEncoding::Cp932]),
        crlf in any::<bool>(),
        final_line_end in any::<bool>(),
    ) {
        let column = column % ncols;
        let eol = if crlf { "\r\n" } else { "\n" };
        let districts = ["大町", "八坂", "美麻", ""];
        let header: Vec<String> = (0..ncols).map(|i| format!("列{i}")).collect();
        let mut records = vec![format!("{}{eol}", header.join(","))];
        let mut want_values = Vec::new();
        for (r, row) in rows.iter().enumerate() {
            let mut cells: Vec<String> = row[..ncols].to_vec();
            // The split column gets a district (sometimes with spaces or quotes around it).
            let d = districts[group_of[r]];
            cells[column] = if r % 3 == 0 { format!(" {d}") } else { d.to_string() };
            want_values.push(d.to_string());
            // A row of one empty cell would be a blank line: give it content.
            if ncols == 1 && cells[0].is_empty() {
                cells[0] = "\"\"".into();
                records.push(format!("{}{eol}", cells[0]));
                continue;
            }
            let line: Vec<String> = cells.iter().map(|c| quote(c)).collect();
            records.push(format!("{}{eol}", line.join(",")));
        }
        let mut text = records.concat();
        if !final_line_end {
            text.truncate(text.len() - eol.len());
        }
        let enc = |s: &str| match encoding {
            CsvEncoding::Utf8 => s.as_bytes().to_vec(),
            CsvEncoding::Utf8Bom => bom(s),
            CsvEncoding::Cp932 => cp932(s),
        };
        let file = enc(&text);
        let s = split("p.csv", &file, column).expect("split");
        // The detected encoding: CP932 text that is all ASCII is (also) UTF-8.
        if encoding == CsvEncoding::Cp932 && text.is_ascii() {
            prop_assert_eq!(s.encoding, CsvEncoding::Utf8);
        } else {
            prop_assert_eq!(s.encoding, encoding);
        }
        let head = enc(&records[0]);
        // Groups in order of first appearance, each row in the part of its value.
        let mut order: Vec<String> = Vec::new();
        for v in &want_values {
            if !order.contains(v) { order.push(v.clone()); }
        }
        let got: Vec<String> = s.parts.iter().map(|p| p.value.clone()).collect();
        prop_assert_eq!(&got, &order);
        let mut expected_parts: Vec<Vec<u8>> = vec![head.clone(); order.len()];
        for (r, v) in want_values.iter().enumerate() {
            let g = order.iter().position(|o| o == v).expect("group");
            // Records are encoded one by one (CP932 and UTF-8 are stateless), BOM only once.
            let mut rec = match encoding {
                CsvEncoding::Cp932 => cp932(&records[r + 1]),
                _ => records[r + 1].as_bytes().to_vec(),
            };
            if !rec.ends_with(b"\n") { rec.extend_from_slice(eol.as_bytes()); }
            expected_parts[g].extend_from_slice(&rec);
        }
        for (p, want) in s.parts.iter().zip(&expected_parts) {
            prop_assert!(p.bytes.starts_with(&head));
            prop_assert_eq!(&p.bytes, want);
        }
        // Concatenated minus headers: the original rows (a line end added to an unterminated
        // last row), in part order.
        let total: usize = s.parts.iter().map(|p| p.bytes.len() - head.len()).sum();
        let added = if final_line_end { 0 } else { eol.len() };
        prop_assert_eq!(total, rows_of(&file, head.len()).len() + added);
        prop_assert_eq!(s.parts.iter().map(|p| p.rows).sum::<usize>(), rows.len());
    }
}

#[test]
fn split_by_name_or_number_is_split_by_index() {
    let file = cp932(EXCEL_EXPORT);
    let by_index = split("a.csv", &file, 3).expect("index");
    assert_eq!(split_by_name("a.csv", &file, "地区"), Ok(by_index.clone()));
    assert_eq!(split_by_name("a.csv", &file, "4"), Ok(by_index.clone()));
    assert_eq!(split_by_number("a.csv", &file, 4), Ok(by_index));
    assert!(matches!(
        split_by_number("a.csv", &file, 0),
        Err(CsvError::NoSuchColumn { .. })
    ));
    assert!(matches!(
        split_by_name("a.csv", &file, "district"),
        Err(CsvError::NoSuchColumn { .. })
    ));
}
