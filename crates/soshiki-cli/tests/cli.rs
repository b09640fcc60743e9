//! End-to-end tests of the `soshiki` binary: the whole flow on both suites, and one test per
//! kind of bad input (non-zero exit, a clear message, no output or temporary file left behind).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

const PASS: &str = "correct horse battery staple";

/// One test's working directory with two organizations and their members.
struct Fixture {
    dir: TempDir,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    #[track_caller]
    fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// A failure with exit code 1 whose message contains `needle`, and never a panic.
    #[track_caller]
    fn fails_with(self, needle: &str) -> Self {
        assert_eq!(
            self.code, 1,
            "expected exit 1\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "panic:\n{}", self.stderr);
        self
    }
}

impl Fixture {
    /// Organizations `org-a` (sender) and `org-b` (receiver); members `sender` and `outsider`
    /// of A, `rep`, `chief`, `r1`, `r2` of B; two part files.
    fn new(suite: &str) -> Self {
        let f = Fixture {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        f.run(&[
            "keygen",
            "org",
            "--name",
            "Org A 市民課",
            "--suite",
            suite,
            "-o",
            "org-a.key",
        ])
        .ok();
        f.run(&[
            "keygen",
            "org",
            "--name",
            "Org B 福祉課",
            "--suite",
            suite,
            "-o",
            "org-b.key",
        ])
        .ok();
        for (name, roles, org) in [
            ("sender", "reader", "org-a.key"),
            ("outsider", "reader,forwarder", "org-a.key"),
            ("rep", "representative", "org-b.key"),
            ("chief", "forwarder,reader", "org-b.key"),
            ("r1", "reader", "org-b.key"),
            ("r2", "reader", "org-b.key"),
        ] {
            let out = format!("{name}.key");
            f.run(&[
                "keygen",
                "member",
                "--name",
                name,
                "--roles",
                roles,
                "--org-key",
                org,
                "-o",
                &out,
            ])
            .ok();
        }
        fs::write(f.path("cover.txt"), "送付状: 敬老会の名簿を送ります\n").expect("write");
        fs::write(f.path("list.csv"), list_bytes()).expect("write");
        f
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_soshiki"));
        c.current_dir(self.dir.path())
            .arg("--kdf-min")
            .args(args)
            .env("SOSHIKI_PASSPHRASE", PASS)
            .env("LANG", "C")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES");
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run soshiki"))
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.cmd(args);
        for (k, v) in env {
            c.env(k, v);
        }
        Run::from(c.output().expect("run soshiki"))
    }

    /// Encrypt cover.txt and list.csv (labelled) from `sender` to `rep` into `out`.
    fn encrypt(&self, out: &str) {
        self.run(&[
            "encrypt",
            "--key",
            "sender.key",
            "--to",
            "rep.id",
            "--part",
            "cover.txt::kind=cover",
            "--part",
            "list.csv::district=Omachi,kind=list",
            "--title",
            "敬老会 名簿",
            "--category",
            "keirokai",
            "--chunk-size",
            "4096",
            "-o",
            out,
        ])
        .ok();
    }

    fn read(&self, p: &str) -> Vec<u8> {
        fs::read(self.path(p)).expect("read")
    }

    /// Files (including hidden temporaries) in a directory; empty if it does not exist.
    fn entries(&self, dir: &str) -> Vec<String> {
        match fs::read_dir(self.path(dir)) {
            Ok(rd) => rd
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect(),
            Err(_) => vec![],
        }
    }

    #[track_caller]
    fn assert_empty(&self, dir: &str) {
        let e = self.entries(dir);
        assert!(e.is_empty(), "{dir} should be empty, has {e:?}");
    }

    /// Names in the fixture directory that look like leftover temporary files.
    fn temporaries(&self) -> Vec<String> {
        self.entries(".")
            .into_iter()
            .filter(|n| n.starts_with(".soshiki-"))
            .collect()
    }
}

fn list_bytes() -> Vec<u8> {
    let mut s = String::from("番号,氏名,年齢,地区\n");
    for i in 0..3000 {
        s.push_str(&format!("{i},架空 太郎{i},{},Omachi\n", 75 + i % 25));
    }
    s.into_bytes()
}

fn flip_byte(path: &Path, offset: u64) {
    let mut b = fs::read(path).expect("read");
    let i = offset as usize;
    b[i] ^= 0x01;
    fs::write(path, b).expect("write");
}

// ---------------------------------------------------------------------------------------------
// The whole flow

fn whole_flow(suite: &str) {
    let f = Fixture::new(suite);
    f.encrypt("e.skenv");

    // Inspect with the representative's key shows the sealed labels; nothing is decrypted.
    let r = f.run(&["inspect", "e.skenv", "--key", "rep.key"]).ok();
    assert!(
        r.stdout.contains(&format!("Suite:       {suite}")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Signatures:  OK"), "{}", r.stdout);
    assert!(r.stdout.contains("Title:    敬老会 名簿"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("#1 list.csv  labels: district=Omachi, kind=list"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("sender — Org A 市民課"), "{}", r.stdout);

    // Representative → chief (whole), chief → r1 (part 1 only).
    let r = f
        .run(&[
            "forward",
            "e.skenv",
            "--key",
            "rep.key",
            "--to",
            "chief.id",
            "-o",
            "chief.skenv",
        ])
        .ok();
    assert!(
        r.stdout.contains("from rep to chief: part(s) 0, 1"),
        "{}",
        r.stdout
    );
    let r = f
        .run(&[
            "forward",
            "chief.skenv",
            "--key",
            "chief.key",
            "--to",
            "r1.id",
            "--parts",
            "1",
            "-o",
            "r1.skenv",
        ])
        .ok();
    assert!(
        r.stdout.contains("from chief to r1: part(s) 1"),
        "{}",
        r.stdout
    );

    // r1 decrypts exactly the list.
    let r = f
        .run(&["decrypt", "r1.skenv", "--key", "r1.key", "-o", "out1"])
        .ok();
    assert!(r.stdout.contains("Part 1"), "{}", r.stdout);
    assert_eq!(f.entries("out1"), vec!["list.csv".to_string()]);
    assert_eq!(f.read("out1/list.csv"), list_bytes());

    // The hop chain is visible without a key, and the copy verifies.
    let r = f.run(&["inspect", "r1.skenv"]).ok();
    assert!(r.stdout.contains("1. rep → chief"), "{}", r.stdout);
    assert!(r.stdout.contains("2. chief → r1"), "{}", r.stdout);
    assert!(r.stdout.contains("re-encryption proof"), "{}", r.stdout);
    assert!(r.stdout.contains("#0  "), "{}", r.stdout);
    assert!(r.stdout.contains("(not in this copy)"), "{}", r.stdout);
    assert!(r.stdout.contains("Bodies:      1"), "{}", r.stdout);
    let r = f.run(&["verify", "r1.skenv"]).ok();
    assert!(
        r.stdout
            .starts_with("OK: r1.skenv: sent by sender of Org A"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("4 hop(s) and 1 body/bodies"),
        "{}",
        r.stdout
    );

    // In-place forward chief → r2 of the whole envelope: the file grows by a trailer only.
    fs::copy(f.path("chief.skenv"), f.path("inplace.skenv")).expect("copy");
    let before = fs::metadata(f.path("inplace.skenv")).expect("meta").len();
    f.run(&[
        "forward",
        "inplace.skenv",
        "--key",
        "chief.key",
        "--to",
        "r2.id",
        "--in-place",
    ])
    .ok();
    let after = fs::read(f.path("inplace.skenv")).expect("read");
    assert!(after.len() as u64 > before);
    assert_eq!(
        &after[..before as usize],
        &f.read("chief.skenv")[..],
        "in-place only appends"
    );
    f.run(&["decrypt", "inplace.skenv", "--key", "r2.key", "-o", "out2"])
        .ok();
    assert_eq!(f.read("out2/cover.txt"), f.read("cover.txt"));
    assert_eq!(f.read("out2/list.csv"), list_bytes());
    f.run(&["verify", "inplace.skenv"]).ok();
    // The chief no longer holds the in-place copy.
    f.run(&[
        "decrypt",
        "inplace.skenv",
        "--key",
        "chief.key",
        "-o",
        "out3",
    ])
    .fails_with("holds nothing");
    f.assert_empty("out3");

    // Pinning the sender's organization by fingerprint file or hex.
    f.run(&[
        "decrypt",
        "r1.skenv",
        "--key",
        "r1.key",
        "-o",
        "out4",
        "--sender-org",
        "org-a.pub",
    ])
    .ok();
    f.run(&[
        "verify",
        "r1.skenv",
        "--sender-org",
        "org-a.pub",
        "--recipient-org",
        "org-b.pub",
    ])
    .ok();
    assert!(f.temporaries().is_empty(), "{:?}", f.temporaries());
}

#[test]
fn whole_flow_p256() {
    whole_flow("p256");
}

#[test]
fn whole_flow_ristretto255() {
    whole_flow("ristretto255");
}

#[test]
fn armored_envelopes_and_identities_work_everywhere() {
    let f = Fixture::new("p256");
    f.run(&[
        "keygen",
        "member",
        "--name",
        "r3",
        "--org-key",
        "org-b.key",
        "-o",
        "r3.key",
        "--armor",
    ])
    .ok();
    assert!(f
        .read("r3.id")
        .starts_with(b"-----BEGIN SOSHIKI IDENTITY-----"));
    f.run(&[
        "encrypt",
        "--key",
        "sender.key",
        "--to",
        "rep.id",
        "--part",
        "cover.txt",
        "--armor",
        "-o",
        "e.asc",
    ])
    .ok();
    assert!(f
        .read("e.asc")
        .starts_with(b"-----BEGIN SOSHIKI ENVELOPE-----"));
    f.run(&["verify", "e.asc"]).ok();
    f.run(&[
        "forward", "e.asc", "--key", "rep.key", "--to", "r3.id", "--armor", "-o", "r3.asc",
    ])
    .ok();
    assert!(f
        .read("r3.asc")
        .starts_with(b"-----BEGIN SOSHIKI ENVELOPE-----"));
    f.run(&[
        "forward",
        "e.asc",
        "--key",
        "rep.key",
        "--to",
        "r3.id",
        "--in-place",
    ])
    .fails_with("--in-place works only on binary");
    f.run(&["decrypt", "r3.asc", "--key", "r3.key", "-o", "out"])
        .ok();
    assert_eq!(f.read("out/cover.txt"), f.read("cover.txt"));
    let r = f.run(&["inspect", "r3.asc"]).ok();
    assert!(r.stdout.contains("(ASCII armor)"), "{}", r.stdout);
}

#[test]
fn several_recipients_get_one_envelope_each() {
    let f = Fixture::new("ristretto255");
    // A second representative, of the sender's own organization.
    f.run(&[
        "keygen",
        "member",
        "--name",
        "rep-a",
        "--roles",
        "representative,reader",
        "--org-key",
        "org-a.key",
        "-o",
        "rep-a.key",
    ])
    .ok();
    let r = f
        .run(&[
            "encrypt",
            "--key",
            "sender.key",
            "--to",
            "rep.id",
            "--to",
            "rep-a.id",
            "--part",
            "cover.txt::k=v",
            "-o",
            "multi",
        ])
        .ok();
    assert!(r.stdout.contains("to rep of Org B"), "{}", r.stdout);
    let mut names = f.entries("multi");
    names.sort();
    assert_eq!(
        names,
        vec!["rep-a.skenv".to_string(), "rep.skenv".to_string()]
    );
    f.run(&[
        "decrypt",
        "multi/rep-a.skenv",
        "--key",
        "rep-a.key",
        "-o",
        "out",
    ])
    .ok();
    assert_eq!(f.read("out/cover.txt"), f.read("cover.txt"));
    f.run(&[
        "decrypt",
        "multi/rep.skenv",
        "--key",
        "rep-a.key",
        "-o",
        "out-x",
    ])
    .fails_with("holds nothing");
}

/// Finding 2 in file mode: a reader's identity file (whatever anyone says about it) is not an
/// address. `encrypt` checks the certified roles and writes nothing, for any recipient list.
#[test]
fn encrypt_refuses_a_recipient_without_the_representative_role() {
    let f = Fixture::new("p256");
    for to in [vec!["r1.id"], vec!["rep.id", "chief.id"]] {
        let mut args = vec!["encrypt", "--key", "sender.key"];
        for t in &to {
            args.extend(["--to", t]);
        }
        args.extend(["--part", "cover.txt::k=v", "-o", "refused"]);
        f.run(&args).fails_with("is not a representative");
        assert!(
            !f.path("refused").exists() || f.entries("refused").is_empty(),
            "nothing written for {to:?}"
        );
    }
}

#[test]
fn demo_runs_end_to_end() {
    let f = Fixture {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    let r = f.run(&["demo"]).ok();
    assert!(r.stdout.contains("All checks passed."), "{}", r.stdout);
    assert!(!r.stdout.contains("[NG]"), "{}", r.stdout);
    assert!(
        r.stdout.contains("福祉課長 小林 → 大町地区担当 丸山"),
        "{}",
        r.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Bad inputs: one test each

#[test]
fn wrong_key_is_refused() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    f.run(&["decrypt", "e.skenv", "--key", "r1.key", "-o", "out"])
        .fails_with("this key (r1) holds nothing in e.skenv");
    f.assert_empty("out");
    // A key of another organization, too.
    f.run(&["decrypt", "e.skenv", "--key", "outsider.key", "-o", "out"])
        .fails_with("holds nothing");
    f.assert_empty("out");
}

#[test]
fn tampered_body_byte_leaves_no_plaintext() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    // Part 0 (the cover letter) is intact; part 1's body is altered near its end, so part 0
    // decrypts fine first: still nothing may be left behind.
    let len = fs::metadata(f.path("e.skenv")).expect("meta").len();
    let r = f.run(&["inspect", "e.skenv"]).ok();
    assert!(r.stdout.contains("Signatures:  OK"));
    flip_byte(&f.path("e.skenv"), 24 + 4096 + 40_000.min(len / 2));
    f.run(&["decrypt", "e.skenv", "--key", "rep.key", "-o", "out"])
        .fails_with("part 1 of e.skenv: decryption failed");
    f.assert_empty("out");
    f.run(&["verify", "e.skenv"])
        .fails_with("the body of part 1 was altered");
}

#[test]
fn tampered_header_byte_is_refused() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    let b = f.read("e.skenv");
    let hdr = b
        .windows(5)
        .rposition(|w| w == b"SKHDR")
        .expect("header magic");
    // The creation time (after magic, version, suite and envelope id) is signed by the sender.
    fs::copy(f.path("e.skenv"), f.path("t1.skenv")).expect("copy");
    flip_byte(&f.path("t1.skenv"), (hdr + 5 + 1 + 2 + 16 + 7) as u64);
    f.run(&["decrypt", "t1.skenv", "--key", "rep.key", "-o", "out"])
        .fails_with("t1.skenv: verification failed: the sender's signature does not match");
    f.assert_empty("out");
    f.run(&["verify", "t1.skenv"])
        .fails_with("the sender's signature does not match");
    let r = f
        .run(&["inspect", "t1.skenv"])
        .fails_with("the sender's signature does not match");
    assert!(r.stdout.contains("Signatures:  FAILED"), "{}", r.stdout);
    // The sender organization's self-signed name: the header no longer decodes.
    fs::copy(f.path("e.skenv"), f.path("t2.skenv")).expect("copy");
    let name = b[hdr..]
        .windows(5)
        .position(|w| w == "Org A".as_bytes())
        .expect("org name")
        + hdr;
    flip_byte(&f.path("t2.skenv"), name as u64);
    f.run(&["decrypt", "t2.skenv", "--key", "rep.key", "-o", "out"])
        .fails_with("t2.skenv: damaged envelope");
    f.assert_empty("out");
}

#[test]
fn truncated_file_is_refused() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    let b = f.read("e.skenv");
    fs::write(f.path("cut.skenv"), &b[..b.len() - 100]).expect("write");
    f.run(&["decrypt", "cut.skenv", "--key", "rep.key", "-o", "out"])
        .fails_with("cut.skenv: the envelope is truncated");
    f.assert_empty("out");
    fs::write(f.path("tiny.skenv"), &b[..30]).expect("write");
    f.run(&["verify", "tiny.skenv"])
        .fails_with("tiny.skenv: the envelope is truncated");
}

#[test]
fn wrong_suite_key_is_refused() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    f.run(&[
        "keygen",
        "org",
        "--name",
        "R",
        "--suite",
        "ristretto255",
        "-o",
        "r-org.key",
    ])
    .ok();
    f.run(&[
        "keygen",
        "member",
        "--name",
        "rr",
        "--org-key",
        "r-org.key",
        "-o",
        "rr.key",
    ])
    .ok();
    f.run(&["decrypt", "e.skenv", "--key", "rr.key", "-o", "out"])
        .fails_with("rr.key uses suite ristretto255, but e.skenv uses p256");
    f.assert_empty("out");
    f.run(&[
        "forward", "e.skenv", "--key", "rep.key", "--to", "rr.id", "-o", "x.skenv",
    ])
    .fails_with("rr.id uses suite ristretto255");
    assert!(!f.path("x.skenv").exists());
    f.run(&[
        "encrypt",
        "--key",
        "sender.key",
        "--to",
        "rr.id",
        "--part",
        "cover.txt",
        "-o",
        "y.skenv",
    ])
    .fails_with("rr.id uses suite ristretto255");
    assert!(!f.path("y.skenv").exists());
}

#[test]
fn missing_or_unreadable_key_file_is_refused() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    f.run(&["decrypt", "e.skenv", "--key", "nope.key", "-o", "out"])
        .fails_with("nope.key: no such key file");
    f.assert_empty("out");
    fs::create_dir(f.path("dir.key")).expect("mkdir");
    f.run(&["decrypt", "e.skenv", "--key", "dir.key", "-o", "out"])
        .fails_with("dir.key: not a regular file");
    fs::write(f.path("junk.key"), b"not a key at all").expect("write");
    f.run(&["decrypt", "e.skenv", "--key", "junk.key", "-o", "out"])
        .fails_with("junk.key: not a usable key file");
    // An organization key where a member key is needed.
    f.run(&["decrypt", "e.skenv", "--key", "org-a.key", "-o", "out"])
        .fails_with("org-a.key: wrong kind of key (organization); a member key is needed");
    f.assert_empty("out");
}

#[test]
fn wrong_passphrase_is_refused_in_both_languages() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    f.run_with(
        &["decrypt", "e.skenv", "--key", "rep.key", "-o", "out"],
        &[("SOSHIKI_PASSPHRASE", "wrong")],
    )
    .fails_with("rep.key: wrong passphrase");
    f.assert_empty("out");
    f.run_with(
        &["decrypt", "e.skenv", "--key", "rep.key", "-o", "out"],
        &[("SOSHIKI_PASSPHRASE", "wrong"), ("LANG", "ja_JP.UTF-8")],
    )
    .fails_with("rep.key: パスフレーズが違います");
    f.assert_empty("out");
    // --lang overrides the locale; a passphrase file overrides the environment.
    fs::write(f.path("pass.txt"), "wrong\n").expect("write");
    f.run_with(
        &[
            "--lang",
            "en",
            "decrypt",
            "e.skenv",
            "--key",
            "rep.key",
            "-o",
            "out",
            "--passphrase-file",
            "pass.txt",
        ],
        &[("LANG", "ja_JP.UTF-8")],
    )
    .fails_with("wrong passphrase");
    fs::write(f.path("pass.txt"), format!("{PASS}\n")).expect("write");
    f.run_with(
        &[
            "decrypt",
            "e.skenv",
            "--key",
            "rep.key",
            "-o",
            "out",
            "--passphrase-file",
            "pass.txt",
        ],
        &[("SOSHIKI_PASSPHRASE", "wrong")],
    )
    .ok();
}

#[test]
fn oversize_header_is_refused() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    let b = f.read("e.skenv");
    let mut evil = b[..24].to_vec();
    evil.extend_from_slice(&[0u8; 200]);
    evil.extend_from_slice(&(1u64 << 40).to_be_bytes());
    evil.extend_from_slice(b"SKEND\x00\x00\x01");
    fs::write(f.path("evil.skenv"), evil).expect("write");
    f.run(&["decrypt", "evil.skenv", "--key", "rep.key", "-o", "out"])
        .fails_with("evil.skenv: the header claims more than 67108864 bytes");
    f.assert_empty("out");
    f.run(&["inspect", "evil.skenv"])
        .fails_with("the header claims more than");
}

#[test]
fn not_an_envelope_is_refused() {
    let f = Fixture::new("p256");
    f.run(&["decrypt", "cover.txt", "--key", "rep.key", "-o", "out"])
        .fails_with("cover.txt: not a Soshiki envelope");
    f.assert_empty("out");
    f.run(&["verify", "org-a.pub"])
        .fails_with("org-a.pub: not a Soshiki envelope");
    f.run(&["inspect", "missing.skenv"])
        .fails_with("missing.skenv: no such envelope file");
    // Armor of the wrong kind.
    f.run(&["keygen", "org", "--name", "C", "--armor", "-o", "org-c.key"])
        .ok();
    f.run(&["verify", "org-c.pub"])
        .fails_with("org-c.pub: the armor holds ORGANIZATION, expected ENVELOPE");
}

#[test]
fn forwarding_outside_the_receiving_organization_is_refused() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    f.run(&[
        "forward",
        "e.skenv",
        "--key",
        "rep.key",
        "--to",
        "outsider.id",
        "-o",
        "x.skenv",
    ])
    .fails_with("outsider belongs to Org A 市民課, not to the receiving organization Org B 福祉課");
    assert!(!f.path("x.skenv").exists());
    assert!(f.temporaries().is_empty());
}

#[test]
fn part_index_out_of_range_is_refused() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    f.run(&[
        "decrypt", "e.skenv", "--key", "rep.key", "--part", "5", "-o", "out",
    ])
    .fails_with("part 5 does not exist: e.skenv has 2 part(s)");
    f.assert_empty("out");
    f.run(&[
        "forward", "e.skenv", "--key", "rep.key", "--to", "r1.id", "--parts", "0,5", "-o",
        "x.skenv",
    ])
    .fails_with("part 5 does not exist");
    assert!(!f.path("x.skenv").exists());
    // A part that exists but is not in r1's copy.
    f.run(&[
        "forward", "e.skenv", "--key", "rep.key", "--to", "r1.id", "--parts", "1", "-o", "r1.skenv",
    ])
    .ok();
    f.run(&[
        "decrypt", "r1.skenv", "--key", "r1.key", "--part", "0", "-o", "out",
    ])
    .fails_with("r1 does not hold part 0");
    f.assert_empty("out");
}

#[test]
fn existing_outputs_are_never_overwritten_without_force() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    fs::create_dir(f.path("out")).expect("mkdir");
    fs::write(f.path("out/list.csv"), b"keep me").expect("write");
    f.run(&["decrypt", "e.skenv", "--key", "rep.key", "-o", "out"])
        .fails_with("already exists (use --force");
    assert_eq!(f.read("out/list.csv"), b"keep me");
    assert_eq!(
        f.entries("out"),
        vec!["list.csv".to_string()],
        "cover.txt must not be written either"
    );
    f.run(&[
        "decrypt", "e.skenv", "--key", "rep.key", "-o", "out", "--force",
    ])
    .ok();
    assert_eq!(f.read("out/list.csv"), list_bytes());
    let before = f.read("e.skenv");
    f.run(&[
        "encrypt",
        "--key",
        "sender.key",
        "--to",
        "rep.id",
        "--part",
        "cover.txt",
        "-o",
        "e.skenv",
    ])
    .fails_with("e.skenv already exists");
    assert_eq!(f.read("e.skenv"), before);
    f.run(&["keygen", "org", "--name", "X", "-o", "org-a.key"])
        .fails_with("org-a.key already exists");
}

#[test]
fn in_place_forward_of_some_parts_is_refused_and_leaves_the_file_unchanged() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    let before = f.read("e.skenv");
    f.run(&[
        "forward",
        "e.skenv",
        "--key",
        "rep.key",
        "--to",
        "r1.id",
        "--parts",
        "1",
        "--in-place",
    ])
    .fails_with("--in-place needs every body to stay, but this forward drops part 0");
    assert_eq!(f.read("e.skenv"), before);
}

#[test]
fn bad_command_line_values_are_refused() {
    let f = Fixture::new("p256");
    f.run(&[
        "encrypt",
        "--key",
        "sender.key",
        "--to",
        "rep.id",
        "--part",
        "cover.txt::novalue",
        "-o",
        "x.skenv",
    ])
    .fails_with("invalid label \"novalue\"");
    f.run(&[
        "encrypt",
        "--key",
        "sender.key",
        "--to",
        "rep.id",
        "--part",
        "gone.txt",
        "-o",
        "x.skenv",
    ])
    .fails_with("gone.txt: no such part file");
    f.run(&[
        "encrypt",
        "--key",
        "sender.key",
        "--to",
        "rep.id",
        "--part",
        "cover.txt",
        "--chunk-size",
        "1000",
        "-o",
        "x.skenv",
    ])
    .fails_with("invalid chunk size 1000");
    f.run(&[
        "keygen",
        "member",
        "--name",
        "z",
        "--roles",
        "king",
        "--org-key",
        "org-a.key",
        "-o",
        "z.key",
    ])
    .fails_with("invalid roles");
    f.run(&[
        "decrypt",
        "x.skenv",
        "--key",
        "rep.key",
        "--sender-org",
        "abcd",
    ])
    .fails_with("fingerprint too short");
    assert!(!f.path("x.skenv").exists());
    assert!(!f.path("z.key").exists());
}

#[test]
fn readers_cannot_forward_and_pins_are_enforced() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    f.run(&[
        "forward", "e.skenv", "--key", "rep.key", "--to", "r1.id", "-o", "r1.skenv",
    ])
    .ok();
    f.run(&[
        "forward", "r1.skenv", "--key", "r1.key", "--to", "r2.id", "-o", "r2.skenv",
    ])
    .fails_with("r1 may not forward (roles: reader)");
    assert!(!f.path("r2.skenv").exists());
    f.run(&[
        "decrypt",
        "r1.skenv",
        "--key",
        "r1.key",
        "--sender-org",
        "org-b.pub",
        "-o",
        "out",
    ])
    .fails_with("refused: the sender's organization is Org A");
    f.assert_empty("out");
    f.run(&["verify", "r1.skenv", "--recipient-org", "org-a.pub"])
        .fails_with("the recipient organization is Org B");
    f.run(&[
        "encrypt",
        "--key",
        "sender.key",
        "--to",
        "rep.id",
        "--part",
        "cover.txt",
        "--recipient-org",
        "org-a.pub",
        "-o",
        "y.skenv",
    ])
    .fails_with("rep.id: the recipient's organization is Org B");
    assert!(!f.path("y.skenv").exists());
}

#[test]
fn japanese_messages_follow_the_locale() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    let r = f
        .run_with(&["inspect", "e.skenv"], &[("LANG", "ja_JP.UTF-8")])
        .ok();
    assert!(r.stdout.contains("暗号スイート: p256"), "{}", r.stdout);
    f.run_with(
        &["decrypt", "e.skenv", "--key", "r1.key", "-o", "out"],
        &[("LC_ALL", "ja_JP.UTF-8")],
    )
    .fails_with("エラー: r1.key: この鍵(r1)で開けるものは e.skenv にありません");
    f.assert_empty("out");
}

#[test]
fn missing_passphrase_without_a_terminal_fails_instead_of_waiting() {
    let f = Fixture::new("p256");
    f.encrypt("e.skenv");
    let mut c = f.cmd(&["decrypt", "e.skenv", "--key", "rep.key", "-o", "out"]);
    c.env_remove("SOSHIKI_PASSPHRASE")
        .stdin(std::process::Stdio::null());
    Run::from(c.output().expect("run soshiki"))
        .fails_with("no passphrase: no terminal to ask on; set SOSHIKI_PASSPHRASE");
    f.assert_empty("out");
    // A new key never gets an empty passphrase.
    f.run_with(
        &["keygen", "org", "--name", "E", "-o", "e.key"],
        &[("SOSHIKI_PASSPHRASE", "")],
    )
    .fails_with("e.key: an empty passphrase is not allowed");
    assert!(!f.path("e.key").exists());
}
