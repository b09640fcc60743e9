//! `soshiki demo`: the Omachi scenario (BRIEF.md, use case 1) end to end, through the same
//! code paths as the commands, in a temporary directory.
//!
//! Omachi city's citizen division (市民課) sends the invitation list for the senior citizens'
//! celebration (敬老会): a cover letter and one CSV per district (Omachi, Yasaka), encrypted to
//! the receiving organization's representative. The representative forwards everything to the
//! section chief; the chief reads the labels and forwards each district's part (with the cover
//! letter) to that district's officer; each officer decrypts only its own part.

use std::path::{Path, PathBuf};

use anyhow::Result;
use soshiki_core::keyfile::KdfParams;
use soshiki_core::suite::{SuiteId, P256};
use soshiki_core::wire::limits;
use zeroize::Zeroizing;

use super::common::{self, KIND_MEMBER};
use super::{decrypt, encrypt, forward, inspect, keygen};
use crate::cli::DemoArgs;
use crate::ctx::{Ctx, PassSource};
use crate::files;
use crate::i18n::{err, tr, M};

const SENDER_ORG: &str = "大町市 市民課";
const RECEIVING_ORG: &str = "大町市 福祉課";
const DISTRICTS: [(&str, &str); 2] = [("Omachi", "大町"), ("Yasaka", "八坂")];

struct Member {
    name: &'static str,
    key: PathBuf,
    id: PathBuf,
}

/// A tiny deterministic generator for the synthetic roster (not cryptographic).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// A synthetic invitation list: invented names, ages 75 and over.
fn roster(district: &str, areas: &[&str], rows: usize, seed: u64) -> Vec<u8> {
    const SURNAMES: [&str; 16] = [
        "丸山",
        "中村",
        "小林",
        "山田",
        "高橋",
        "松本",
        "清水",
        "宮澤",
        "降旗",
        "百瀬",
        "大日方",
        "塩原",
        "伊藤",
        "西沢",
        "太田",
        "北澤",
    ];
    const GIVEN: [&str; 16] = [
        "ハナ",
        "キヨ",
        "トミ",
        "正一",
        "勝",
        "清",
        "静江",
        "文子",
        "茂",
        "和子",
        "貞夫",
        "芳子",
        "一郎",
        "ふみ",
        "喜代子",
        "武",
    ];
    let mut g = Lcg(seed);
    let mut s = String::from("番号,氏名,年齢,地区,区\n");
    for i in 1..=rows {
        let age = 75 + g.next(26);
        let _ = std::fmt::Write::write_fmt(
            &mut s,
            format_args!(
                "{i},{} {},{age},{district},{}\n",
                SURNAMES[g.next(SURNAMES.len())],
                GIVEN[g.next(GIVEN.len())],
                areas[g.next(areas.len())]
            ),
        );
    }
    s.into_bytes()
}

const COVER: &str = "福祉課 御中\n\n令和8年度 敬老会 招待者名簿を送付します。\n\
地区ごとに担当者へ配付してください。\n(この名簿の氏名はすべて架空のものです)\n\n大町市 市民課\n";

struct Checks {
    failed: usize,
}

impl Checks {
    fn check(&mut self, ok: bool, what: String) {
        if ok {
            println!("  [OK] {what}");
        } else {
            self.failed += 1;
            println!("  [NG] {what}");
        }
    }
}

/// `soshiki demo [NAME]`: the file-mode demo here, or a scenario against an embedded server
/// (crates/soshiki-cli/src/cmd/scenarios.rs).
pub fn command(args: DemoArgs) -> Result<()> {
    match args.name.as_deref() {
        None | Some("offline") => offline(),
        Some(name) => super::scenarios::command(name),
    }
}

/// The file-mode Omachi demo, no server.
fn offline() -> Result<()> {
    let ctx = Ctx {
        pass: PassSource::Fixed(Zeroizing::new("omachi-demo".into())),
        kdf: KdfParams::MINIMUM,
        progress: false,
    };
    let tmp = tempfile::Builder::new()
        .prefix("soshiki-demo-")
        .tempdir()
        .map_err(|e| err(M::TempFileFailed, &[&e]))?;
    let d = tmp.path();
    println!("{}", tr(M::DemoIntro, &[&d.display()]));

    // 1. Offline administration: two organizations, five members.
    println!("\n{}", tr(M::DemoStepKeys, &[]));
    let sender_org = keygen::keygen_org(
        &ctx,
        SENDER_ORG,
        SuiteId::P256,
        &d.join("shimin-org.key"),
        false,
        false,
    )?;
    let recv_org = keygen::keygen_org(
        &ctx,
        RECEIVING_ORG,
        SuiteId::P256,
        &d.join("fukushi-org.key"),
        false,
        false,
    )?;
    println!("  {SENDER_ORG}: {}", sender_org.fingerprint.display_short());
    println!(
        "  {RECEIVING_ORG}: {}",
        recv_org.fingerprint.display_short()
    );
    let member = |name: &'static str, file: &str, roles: &str, org: &Path| -> Result<Member> {
        let key = d.join(format!("{file}.key"));
        let r = keygen::keygen_member(&ctx, name, roles, org, &key, 30, false, false)?;
        println!(
            "  {}",
            tr(
                M::DemoMember,
                &[&name, &roles, &r.certificate.display_short()]
            )
        );
        Ok(Member {
            name,
            key,
            id: r.id_path,
        })
    };
    let clerk = member("市民課 松本", "clerk", "reader", &sender_org.key_path)?;
    let rep = member(
        "福祉課 受信代表 高橋",
        "representative",
        "representative",
        &recv_org.key_path,
    )?;
    let chief = member(
        "福祉課長 小林",
        "chief",
        "forwarder,reader",
        &recv_org.key_path,
    )?;
    let officers = [
        member(
            "大町地区担当 丸山",
            "officer-omachi",
            "reader",
            &recv_org.key_path,
        )?,
        member(
            "八坂地区担当 中村",
            "officer-yasaka",
            "reader",
            &recv_org.key_path,
        )?,
    ];

    // 2. The documents (synthetic).
    let docs = d.join("documents");
    std::fs::create_dir_all(&docs).map_err(|e| err(M::CannotWriteIn, &[&docs.display(), &e]))?;
    let cover_path = docs.join("送付状.txt");
    let list_paths = [docs.join("omachi.csv"), docs.join("yasaka.csv")];
    let lists = [
        roster("大町", &["東町", "九日町", "八日町", "俵町", "借馬"], 24, 7),
        roster("八坂", &["舟場", "大平", "切久保"], 12, 11),
    ];
    files::write_new(&cover_path, COVER.as_bytes(), false)?;
    for (p, l) in list_paths.iter().zip(&lists) {
        files::write_new(p, l, false)?;
    }

    // 3. The citizen division encrypts to the representative.
    println!("\n{}", tr(M::DemoStepSend, &[]));
    let to_rep = d.join("to-representative.skenv");
    let mut parts = vec![encrypt::part_spec(&cover_path, &[("kind", "cover")])];
    for (p, (district, _)) in list_paths.iter().zip(DISTRICTS) {
        parts.push(encrypt::part_spec(
            p,
            &[("kind", "list"), ("district", district)],
        ));
    }
    let w = encrypt::encrypt(
        &ctx,
        &encrypt::Request {
            key: clerk.key.clone(),
            to: vec![rep.id.clone()],
            parts,
            title: "令和8年度 敬老会 招待者名簿".into(),
            category: "keirokai-invitation".into(),
            chunk_size: limits::DEFAULT_CHUNK,
            recipient_org: Some(recv_org.fingerprint.to_hex()),
            armor: false,
            out: to_rep.clone(),
            force: false,
        },
    )?;
    println!(
        "  {}",
        tr(
            M::DemoSent,
            &[
                &clerk.name,
                &SENDER_ORG,
                &rep.name,
                &RECEIVING_ORG,
                &w.len()
            ]
        )
    );

    // 4. The representative forwards everything to the section chief.
    println!("\n{}", tr(M::DemoStepRoute, &[]));
    let to_chief = d.join("to-chief.skenv");
    let fwd = |input: &Path, key: &Path, to: &Path, parts: Option<Vec<u32>>, out: &Path| {
        forward::forward(
            &ctx,
            &forward::Request {
                input: input.to_path_buf(),
                key: key.to_path_buf(),
                to: to.to_path_buf(),
                parts,
                out: Some(out.to_path_buf()),
                in_place: false,
                armor: false,
                force: false,
            },
        )
    };
    let f = fwd(&to_rep, &rep.key, &chief.id, None, &to_chief)?;
    println!(
        "  {}",
        tr(M::DemoForwarded, &[&f.from, &f.to, &fmt_parts(&f.parts)])
    );

    // 5. The chief reads the labels (not the lists) and routes each district's part.
    let meta = read_metadata(&ctx, &to_chief, &chief.key)?;
    println!("  {}", tr(M::DemoChiefReads, &[&chief.name, &meta.title]));
    for (i, p) in meta.parts.iter().enumerate() {
        let labels = p
            .labels
            .iter()
            .map(|l| format!("{}={}", l.key, l.value))
            .collect::<Vec<_>>()
            .join(", ");
        println!("    #{i} {}  [{labels}]", p.name);
    }
    let has = |i: usize, k: &str, v: &str| {
        meta.parts[i]
            .labels
            .iter()
            .any(|l| l.key == k && l.value == v)
    };
    let mut finals = Vec::new();
    for ((district, _), officer) in DISTRICTS.iter().zip(&officers) {
        let parts: Vec<u32> = (0..meta.parts.len())
            .filter(|i| has(*i, "kind", "cover") || has(*i, "district", district))
            .map(|i| i as u32)
            .collect();
        let out = d.join(format!("to-{}.skenv", district.to_lowercase()));
        let f = fwd(&to_chief, &chief.key, &officer.id, Some(parts), &out)?;
        println!(
            "  {}",
            tr(M::DemoForwarded, &[&f.from, &f.to, &fmt_parts(&f.parts)])
        );
        finals.push(out);
    }

    // 6. Each officer verifies and decrypts what it holds.
    println!("\n{}", tr(M::DemoStepOpen, &[]));
    let mut checks = Checks { failed: 0 };
    let open = |input: &Path, key: &Path, out: &Path, part: Option<u32>| {
        decrypt::decrypt(
            &ctx,
            &decrypt::Request {
                input: input.to_path_buf(),
                key: key.to_path_buf(),
                out_dir: out.to_path_buf(),
                part,
                sender_org: Some(sender_org.fingerprint.to_hex()),
                force: false,
            },
        )
    };
    for (k, ((district, jp), officer)) in DISTRICTS.iter().zip(&officers).enumerate() {
        let own = (k + 1) as u32;
        let other = (2 - k) as u32;
        let dir = d.join(format!("opened-{}", district.to_lowercase()));
        let written = open(&finals[k], &officer.key, &dir, None)?;
        let idx: Vec<u32> = written.iter().map(|w| w.index).collect();
        println!(
            "  {}",
            tr(M::DemoOpened, &[&officer.name, &fmt_parts(&idx)])
        );
        checks.check(
            idx == vec![0, own],
            tr(M::DemoCheckParts, &[&officer.name, &fmt_parts(&[0, own])]),
        );
        let same = |i: u32, want: &[u8]| {
            written
                .iter()
                .find(|w| w.index == i)
                .and_then(|w| std::fs::read(&w.path).ok())
                .is_some_and(|b| b == want)
        };
        checks.check(
            same(0, COVER.as_bytes()) && same(own, &lists[k]),
            tr(M::DemoCheckBytes, &[&officer.name, jp]),
        );
        // The other district's part: not in this copy, not held in the other officer's copy,
        // and nothing in the chief's copy; each refusal is the expected one and writes nothing.
        let probe = d.join(format!("probe-{k}"));
        let other_path = &finals[1 - k];
        let denied = refused(
            open(&finals[k], &officer.key, &probe, Some(other)),
            tr(
                M::PartNotHeld,
                &[&officer.name, &other, &finals[k].display()],
            ),
        ) && refused(
            open(other_path, &officer.key, &probe, Some(other)),
            tr(
                M::PartNotHeld,
                &[&officer.name, &other, &other_path.display()],
            ),
        ) && refused(
            open(&to_chief, &officer.key, &probe, None),
            tr(
                M::HoldsNothing,
                &[&officer.key.display(), &officer.name, &to_chief.display()],
            ),
        );
        checks.check(
            denied && dir_is_empty(&probe),
            tr(M::DemoCheckDenied, &[&officer.name, &DISTRICTS[1 - k].1]),
        );
    }
    let probe = d.join("probe-chain");
    let nothing =
        |m: &Member, f: &Path| tr(M::HoldsNothing, &[&m.key.display(), &m.name, &f.display()]);
    let earlier_denied = refused(
        open(&finals[0], &chief.key, &probe, None),
        nothing(&chief, &finals[0]),
    ) && refused(
        open(&finals[1], &rep.key, &probe, None),
        nothing(&rep, &finals[1]),
    ) && refused(
        open(&to_chief, &rep.key, &probe, None),
        nothing(&rep, &to_chief),
    );
    checks.check(
        earlier_denied && dir_is_empty(&probe),
        tr(M::DemoCheckEarlier, &[]),
    );

    // 7. The chain, as any auditor can verify it without a key.
    println!("\n{}", tr(M::DemoStepChain, &[]));
    for f in &finals {
        let summary = inspect::verify(
            f,
            Some(&sender_org.fingerprint.to_hex()),
            Some(&recv_org.fingerprint.to_hex()),
        );
        checks.check(
            summary.is_ok(),
            tr(
                M::DemoCheckVerify,
                &[&f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()],
            ),
        );
        let mut input = files::open_envelope_input(f)?;
        let file = files::open_envelope::<P256>(&mut input)?;
        print!("{}", inspect::hop_chain(&file.header, "    "));
    }

    if checks.failed > 0 {
        return Err(err(M::DemoFailed, &[&checks.failed]));
    }
    println!("\n{}", tr(M::DemoDone, &[]));
    Ok(())
}

fn fmt_parts(p: &[u32]) -> String {
    p.iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an attempt failed with exactly the expected message.
fn refused<T>(r: Result<T>, expected: String) -> bool {
    matches!(r, Err(e) if e.to_string() == expected)
}

fn dir_is_empty(p: &Path) -> bool {
    std::fs::read_dir(p).map_or(true, |mut d| d.next().is_none())
}

fn read_metadata(
    ctx: &Ctx,
    envelope: &Path,
    key: &Path,
) -> Result<soshiki_core::envelope::Metadata> {
    let mut input = files::open_envelope_input(envelope)?;
    let file = files::open_envelope::<P256>(&mut input)?;
    let v = file.header.verify().map_err(|e| {
        err(
            M::EnvelopeInvalid,
            &[&envelope.display(), &crate::i18n::verify_error(&e)],
        )
    })?;
    let k = common::read_key_file(key, KIND_MEMBER)?;
    let member = common::unlock_member::<P256>(ctx, &k)?;
    v.open_metadata(&member.encryption)
        .map_err(|e| err(M::MetadataFailed, &[&crate::i18n::decrypt_error(&e)]))
}
