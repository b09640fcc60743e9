//! The management-server scenarios, run through the `soshiki` binary: each starts an embedded
//! server in a temporary directory, runs one of the seeds' cases through the client library,
//! and checks every reader's parts, every forwarder's and outsider's failure to read, the
//! audit trail, and the server's files for plaintext.

use std::process::{Command, Output};

fn soshiki(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(args)
        .env_remove("SOSHIKI_PASSPHRASE")
        .output()
        .expect("run soshiki")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run a scenario in English and return its standard output, asserting success.
fn scenario(name: &str, expect: &[&str]) -> String {
    let out = soshiki(&["--lang", "en", "demo", name]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "demo {name} failed:\n{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(!stdout.contains("CHECK FAILED"), "{stdout}");
    assert!(
        stdout.contains(&format!("Scenario {name}: all ")),
        "{stdout}"
    );
    assert!(
        stdout.contains("holds no plaintext and no member secret key"),
        "{stdout}"
    );
    assert!(stdout.contains("the audit trail of"), "{stdout}");
    for e in expect {
        assert!(
            stdout.contains(e),
            "demo {name}: missing {e:?} in\n{stdout}"
        );
    }
    stdout
}

#[test]
fn omachi_splits_the_list_by_district() {
    let out = scenario(
        "omachi",
        &[
            "FORWARD 大町市 受付窓口 朝霧: part(s) 0 -> 大町地区 担当",
            "CHECK OK  大町地区 担当 got exactly part(s) 0, byte for byte",
            "CHECK OK  八坂地区 担当 got exactly part(s) 1, byte for byte",
            "CHECK OK  美麻地区 担当 got exactly part(s) 2, byte for byte",
            "CHECK OK  大町市 受付窓口 朝霧 cannot open",
            "cannot decrypt any part even with a copy",
        ],
    );
    assert_eq!(out.matches("OPEN    ").count(), 3, "{out}");
}

#[test]
fn minowa_goes_to_the_care_managers() {
    scenario(
        "minowa",
        &[
            "part(s) 0, 2 -> ケアマネ 大滝",
            "CHECK OK  ケアマネ 大滝 got exactly part(s) 0, 2, byte for byte",
            "CHECK OK  ケアマネ 柏木 got exactly part(s) 1, byte for byte",
        ],
    );
}

#[test]
fn tsubame_routes_dv_and_welfare_by_rules() {
    scenario(
        "tsubame",
        &[
            "RULE    燕市 窓口 (エージェント) 桐原: kind=dv -> DV 相談員 桜井",
            "CHECK OK  the rules of",
            "CHECK OK  DV 相談員 桜井 got exactly part(s) 1, byte for byte",
            "CHECK OK  生活福祉 担当 白石 got exactly part(s) 2, byte for byte",
            "CHECK OK  住民記録 担当 小松 got exactly part(s) 0, byte for byte",
            "CHECK OK  住民記録 担当 小松 cannot open the delivery held by DV 相談員 桜井",
        ],
    );
}

#[test]
fn kakogawa_agent_redistributes_three_divisions() {
    let out = scenario("kakogawa", &["AGENT   避難支援 名簿エージェント"]);
    assert_eq!(out.matches("AGENT   ").count(), 6, "{out}");
    assert_eq!(out.matches("got exactly part(s)").count(), 6, "{out}");
}

#[test]
fn kyoto_referral_clerk_cannot_read() {
    scenario(
        "kyoto-referral",
        &[
            "CHECK OK  連携室 事務 高畑 cannot open the delivery held by 循環器内科 医師 千早",
            "CHECK OK  連携室 事務 高畑 cannot decrypt any part",
            "CHECK OK  循環器内科 医師 千早 got exactly part(s) 0, 1, byte for byte",
        ],
    );
}

#[test]
fn outsourcing_to_a_contractor() {
    scenario(
        "outsourcing",
        &[
            "CHECK OK  入力担当 中園 got exactly part(s) 0, byte for byte",
            "CHECK OK  入力担当 野辺 got exactly part(s) 1, byte for byte",
        ],
    );
}

#[test]
fn wrong_recipient_is_recalled_and_reforwarded() {
    scenario(
        "wrong-recipient",
        &[
            "RECALL  町 窓口 日向 recalled the unopened delivery to 母子保健 担当 藤波 (誤送付先)",
            "CHECK OK  the delivery to 母子保健 担当 藤波 (誤送付先) is recalled",
            "(the server refused (410)",
            "CHECK OK  児童相談 担当 星野 got exactly part(s) 0, byte for byte",
            "recalled: part(s) 0",
        ],
    );
}

#[test]
fn unknown_scenario_is_a_clear_error() {
    let out = soshiki(&["--lang", "en", "demo", "nowhere"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("unknown scenario nowhere"), "{err}");
    assert!(err.contains("wrong-recipient"), "{err}");
    let out = soshiki(&["--lang", "ja", "demo", "nowhere"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("不明なシナリオ"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn offline_demo_still_runs() {
    let out = soshiki(&["--lang", "en", "demo", "offline"]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// `soshiki serve` and the interactive commands

struct Served {
    child: std::process::Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Served {
    serve_with(&[], "Press Ctrl-C")
}

/// Start `soshiki serve` on a free port; read its output until a line containing `until`.
fn serve_with(extra: &[&str], until: &str) -> Served {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(["--lang", "en", "serve", "--bind", "127.0.0.1:0"])
        .args(extra)
        .arg("--data")
        .arg(dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn serve");
    let stdout = child.stdout.take().expect("stdout");
    // The guard kills the server even if this function panics below.
    let mut served = Served {
        child,
        url: String::new(),
        dir,
    };
    let mut reader = std::io::BufReader::new(stdout);
    let mut url = None;
    let mut all = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).expect("read");
        assert!(n > 0, "serve ended early:\n{all}");
        all.push_str(&line);
        if url.is_none() {
            url = line
                .split_whitespace()
                .find(|w| w.starts_with("http://") || w.starts_with("https://"))
                .map(str::to_string);
        }
        if line.contains(until) {
            break;
        }
    }
    served.url = url.unwrap_or_else(|| panic!("no URL in {all}"));
    served
}

/// Run a server command as a member (minimal Argon2, passphrase from the environment).
fn run(s: &Served, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(["--lang", "en", "--kdf-min"])
        .args(args)
        .env("SOSHIKI_PASSPHRASE", "test passphrase")
        .env("SOSHIKI_SERVER", &s.url)
        .env("SOSHIKI_STATE", s.dir.path().join("state"))
        .current_dir(s.dir.path())
        .output()
        .expect("run soshiki")
}

fn ok(s: &Served, args: &[&str]) -> String {
    let out = run(s, args);
    assert!(
        out.status.success(),
        "soshiki {args:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn hex64(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_hexdigit())
        .find(|w| w.len() == 64)
        .unwrap_or_else(|| panic!("no 64-hex id in {s:?}"))
        .to_string()
}

fn create_org(s: &Served, tag: &str, name: &str) -> String {
    let out = ok(
        s,
        &[
            "org",
            "create",
            "--name",
            name,
            "--out",
            &format!("{tag}.orgkey"),
            "--admin-name",
            &format!("{name} admin"),
            "--admin-out",
            &format!("{tag}-admin.key"),
        ],
    );
    hex64(&out)
}

fn enroll(s: &Served, org_tag: &str, fp: &str, tag: &str, name: &str, roles: &str) -> String {
    let key = format!("{tag}.key");
    let sent = ok(
        s,
        &[
            "member", "enroll", "--org", fp, "--name", name, "--roles", roles, "--out", &key,
        ],
    );
    // The enrollment code shown on the member's device, typed by the administrator.
    let code = sent
        .split_whitespace()
        .find(|w| {
            w.len() == 19
                && w.split('-')
                    .all(|g| g.len() == 4 && g.bytes().all(|b| b.is_ascii_digit()))
        })
        .unwrap_or_else(|| panic!("no enrollment code in {sent}"))
        .to_string();
    let admin = format!("{org_tag}-admin.key");
    let list = ok(s, &["member", "approve", "--key", &admin]);
    let id = list
        .lines()
        .find(|l| l.contains(name))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("{name} not pending in {list}"))
        .to_string();
    let orgkey = format!("{org_tag}.orgkey");
    let approve = |code: Option<&str>| {
        let mut args = vec![
            "member",
            "approve",
            &id,
            "--key",
            &admin,
            "--org-key",
            &orgkey,
        ];
        if let Some(c) = code {
            args.extend(["--code", c]);
        }
        run(s, &args)
    };
    // Without the code (no terminal to ask on), or with another code: nothing is certified.
    for code in [None, Some("0000-0000-0000-0000")] {
        let out = approve(code);
        assert!(!out.status.success(), "approved with {code:?}");
        let e = text(&out.stderr);
        assert!(e.contains("enrollment code"), "{e}");
    }
    let out = approve(Some(&code));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let login = ok(s, &["login", "--key", &key]);
    assert!(login.contains("Enrollment approved"), "{login}");
    let list = ok(s, &["member", "list", "--key", &key]);
    let line = list.lines().find(|l| l.contains(name)).expect("listed");
    assert!(line.contains("(verified)"), "{line}");
    hex64(line)
}

#[test]
fn serve_and_the_interactive_commands() {
    let s = serve();
    let city = create_org(&s, "city", "Fictional City");
    let pref = create_org(&s, "pref", "Fictional Prefecture");
    let show = ok(&s, &["org", "show", &city]);
    assert!(show.contains("Fictional City"), "{show}");
    let fp = ok(&s, &["org", "fingerprint", "city-admin.key"]);
    assert!(fp.contains(&city), "{fp}");

    enroll(
        &s,
        "city",
        &city,
        "rep",
        "Reception",
        "representative,forwarder",
    );
    let a = enroll(&s, "city", &city, "a", "Officer A", "reader");
    let b = enroll(&s, "city", &city, "b", "Officer B", "reader");
    enroll(&s, "pref", &pref, "sender", "Sender", "reader");

    std::fs::write(
        s.dir.path().join("a.csv"),
        "id,name\n1,Resident One in district A\n",
    )
    .expect("w");
    std::fs::write(
        s.dir.path().join("b.csv"),
        "id,name\n2,Resident Two in district B\n",
    )
    .expect("w");
    let sent = ok(
        &s,
        &[
            "send",
            "--key",
            "sender.key",
            "--to-org",
            &city,
            "--title",
            "List",
            "--part",
            "a.csv::district=A",
            "--part",
            "b.csv::district=B",
        ],
    );
    let envelope = sent
        .split("envelope ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .expect("envelope id")
        .to_string();

    // By hand: part 0 to officer A.
    let inbox = ok(&s, &["inbox", "--key", "rep.key"]);
    let first = inbox
        .split_whitespace()
        .next()
        .expect("delivery")
        .to_string();
    let fwd = ok(
        &s,
        &[
            "forward",
            "--delivery",
            &first,
            "--route",
            &format!("{a}:0"),
            "--key",
            "rep.key",
        ],
    );
    let da = fwd
        .split("delivery ")
        .nth(1)
        .expect("new delivery")
        .trim()
        .to_string();
    // The representative cannot open.
    let out = run(
        &s,
        &["open", &first, "--key", "rep.key", "--out", "rep-out"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("opening failed"),
        "{}",
        text(&out.stderr)
    );

    // By rule: the agent sends part 1 to officer B.
    ok(
        &s,
        &[
            "rules",
            "--key",
            "rep.key",
            "--set",
            &format!("district=B -> {b}"),
        ],
    );
    let agent = ok(&s, &["agent", "--once", "--key", "rep.key"]);
    assert!(agent.contains(&format!("part(s) 1 -> {b}")), "{agent}");
    let db = agent
        .split("(delivery ")
        .nth(1)
        .expect("delivery")
        .trim_end_matches([')', '\n'])
        .to_string();
    let shown = ok(&s, &["rules", "--key", "rep.key"]);
    assert!(shown.contains("signed by your member key"), "{shown}");

    ok(&s, &["open", &da, "--key", "a.key", "--out", "a-out"]);
    ok(&s, &["open", &db, "--key", "b.key", "--out", "b-out"]);
    assert_eq!(
        std::fs::read(s.dir.path().join("a-out/a.csv")).expect("a"),
        std::fs::read(s.dir.path().join("a.csv")).expect("a")
    );
    assert_eq!(
        std::fs::read(s.dir.path().join("b-out/b.csv")).expect("b"),
        std::fs::read(s.dir.path().join("b.csv")).expect("b")
    );
    assert!(!s.dir.path().join("a-out/b.csv").exists());

    let receipts = ok(&s, &["receipts", &envelope, "--key", "sender.key"]);
    assert_eq!(receipts.matches("opened").count(), 2, "{receipts}");
    let audit = ok(&s, &["audit", "verify", "--key", "city-admin.key"]);
    assert!(audit.contains("verifies"), "{audit}");
    let show = ok(&s, &["audit", "show", "--key", "city-admin.key"]);
    assert!(show.contains("Reception"), "{show}");

    // Revocation: a new list signed with the organization key; officer A can no longer log in.
    let out = run(&s, &["member", "revoke", &a, "--key", "city-admin.key"]);
    assert!(!out.status.success(), "the organization key is required");
    ok(
        &s,
        &[
            "member",
            "revoke",
            &a,
            "--key",
            "city-admin.key",
            "--org-key",
            "city.orgkey",
        ],
    );
    let out = run(&s, &["login", "--key", "a.key"]);
    assert!(!out.status.success());
    let fresh = ok(
        &s,
        &[
            "member",
            "revocations",
            "--key",
            "city-admin.key",
            "--org-key",
            "city.orgkey",
        ],
    );
    assert!(fresh.contains("revocation list #3 (1 revoked)"), "{fresh}");
    // A signed checkpoint of the trail, checked by later verifications.
    let cp = ok(
        &s,
        &[
            "audit",
            "checkpoint",
            "--key",
            "city-admin.key",
            "--org-key",
            "city.orgkey",
        ],
    );
    assert!(cp.contains("Signed a checkpoint"), "{cp}");
    let audit = ok(&s, &["audit", "verify", "--key", "city-admin.key"]);
    assert!(audit.contains("organization-signed checkpoint"), "{audit}");

    // The organization's policy: shown, changed part by part, the quota in human sizes.
    let policy = ok(&s, &["org", "policy", "--key", "pref-admin.key"]);
    assert!(policy.contains("storage quota: no limit"), "{policy}");
    for (bad, why) in [("2PiB", "at most 1PiB"), ("lots", "expected a size")] {
        let out = run(
            &s,
            &["org", "policy", "--key", "pref-admin.key", "--quota", bad],
        );
        assert!(!out.status.success(), "--quota {bad} accepted");
        assert!(text(&out.stderr).contains(why), "{}", text(&out.stderr));
    }
    ok(
        &s,
        &["org", "policy", "--key", "pref-admin.key", "--expiry", "30"],
    );
    let set = ok(
        &s,
        &[
            "org",
            "policy",
            "--key",
            "pref-admin.key",
            "--quota",
            "1KiB",
        ],
    );
    assert!(set.contains("storage quota: 1 KiB"), "{set}");
    assert!(set.contains("expire after: 30 days"), "kept: {set}");
    let show = ok(&s, &["org", "show", &pref]);
    assert!(show.contains("storage quota: 1 KiB"), "{show}");
    // Over the quota, a send is refused with a message people understand, in both languages.
    let send = [
        "send",
        "--key",
        "sender.key",
        "--to-org",
        &city,
        "--part",
        "a.csv",
    ];
    let out = run(&s, &send);
    assert!(!out.status.success(), "sent over the quota");
    let e = text(&out.stderr);
    assert!(e.contains("storage quota would be exceeded"), "{e}");
    let out = Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(["--lang", "ja", "--kdf-min"])
        .args(send)
        .env("SOSHIKI_PASSPHRASE", "test passphrase")
        .env("SOSHIKI_SERVER", &s.url)
        .env("SOSHIKI_STATE", s.dir.path().join("state"))
        .current_dir(s.dir.path())
        .output()
        .expect("run soshiki");
    assert!(!out.status.success());
    let e = text(&out.stderr);
    assert!(e.contains("組織の保存容量の上限を超える"), "{e}");
    let set = ok(
        &s,
        &[
            "org",
            "policy",
            "--key",
            "pref-admin.key",
            "--quota",
            "none",
        ],
    );
    assert!(set.contains("storage quota: no limit"), "{set}");
    ok(&s, &send);
}

/// `org partners`: the administrator adds the prefecture after seeing its name (without a
/// terminal and without --yes nothing is added), a member lists the verified list, a member
/// who is not the administrator cannot publish, and removing takes it off.
#[test]
fn org_partners_add_list_remove() {
    let s = serve();
    let city = create_org(&s, "city", "Fictional City");
    let pref = create_org(&s, "pref", "Fictional Prefecture");
    let clerk = enroll(&s, "city", &city, "clerk", "City clerk", "reader");
    assert!(!clerk.is_empty());
    let none = ok(&s, &["org", "partners", "list", "--key", "clerk.key"]);
    assert!(none.contains("has published no partner list"), "{none}");
    let add = |key: &str, yes: bool| {
        let mut args = vec![
            "org",
            "partners",
            "add",
            &pref,
            "--key",
            key,
            "--org-key",
            "city.orgkey",
        ];
        if yes {
            args.push("--yes");
        }
        run(&s, &args)
    };
    let unconfirmed = add("city-admin.key", false);
    assert!(!unconfirmed.status.success());
    assert!(
        text(&unconfirmed.stderr).contains("not added"),
        "{}",
        text(&unconfirmed.stderr)
    );
    let none = ok(&s, &["org", "partners", "list", "--key", "clerk.key"]);
    assert!(none.contains("has published no partner list"), "{none}");
    let refused = add("clerk.key", true);
    assert!(
        !refused.status.success(),
        "a reader published a partner list"
    );
    let added = add("city-admin.key", true);
    assert!(added.status.success(), "{}", text(&added.stderr));
    assert!(
        text(&added.stdout).contains("partner list #1 (1 partner organization(s))"),
        "{}",
        text(&added.stdout)
    );
    let list = ok(&s, &["org", "partners", "list", "--key", "clerk.key"]);
    assert!(list.contains("list #1"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.contains(&pref) && l.contains("Fictional Prefecture")),
        "{list}"
    );
    let removed = ok(
        &s,
        &[
            "org",
            "partners",
            "remove",
            &pref,
            "--key",
            "city-admin.key",
            "--org-key",
            "city.orgkey",
        ],
    );
    assert!(removed.contains("partner list #2 (0 partner"), "{removed}");
    let list = ok(&s, &["org", "partners", "list", "--key", "clerk.key"]);
    assert!(list.contains("list #2") && !list.contains(&pref), "{list}");
}

/// A database writer edits the forwarder's rule to send parts to someone else: `rules` says the
/// rules are not signed and the agent refuses, loudly, and forwards nothing.
#[test]
fn agent_refuses_rules_edited_in_the_database() {
    let s = serve();
    let city = create_org(&s, "city", "Fictional City");
    let pref = create_org(&s, "pref", "Fictional Prefecture");
    enroll(
        &s,
        "city",
        &city,
        "rep",
        "Reception",
        "representative,forwarder",
    );
    let a = enroll(&s, "city", &city, "a", "Officer A", "reader");
    let mallory = enroll(&s, "city", &city, "m", "Mallory", "reader");
    enroll(&s, "pref", &pref, "sender", "Sender", "reader");
    ok(
        &s,
        &[
            "rules",
            "--key",
            "rep.key",
            "--set",
            &format!("district=A -> {a}"),
        ],
    );
    std::fs::write(s.dir.path().join("a.csv"), "id\n1\n").expect("w");
    ok(
        &s,
        &[
            "send",
            "--key",
            "sender.key",
            "--to-org",
            &city,
            "--part",
            "a.csv::district=A",
        ],
    );
    let db = s.dir.path().join("data").join("soshiki.sqlite");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt")
        .block_on(async {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
                .await
                .expect("db");
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE rules SET rule = 'district=A -> {mallory}'"
            )))
            .execute(&pool)
            .await
            .expect("edit the rule");
            pool.close().await;
        });
    let out = run(&s, &["agent", "--once", "--key", "rep.key"]);
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("REFUSED") && err.contains("changed on the server"),
        "{err}"
    );
    let shown = run(&s, &["rules", "--key", "rep.key"]);
    assert!(!shown.status.success());
    assert!(
        text(&shown.stderr).contains("NOT signed"),
        "{}",
        text(&shown.stderr)
    );
    let inbox = ok(&s, &["inbox", "--key", "m.key"]);
    assert!(inbox.contains("The inbox is empty"), "{inbox}");
    // Setting the rules again (signed) makes the agent work again, to the signed target.
    ok(
        &s,
        &[
            "rules",
            "--key",
            "rep.key",
            "--set",
            &format!("district=A -> {a}"),
        ],
    );
    let agent = ok(&s, &["agent", "--once", "--key", "rep.key"]);
    assert!(agent.contains(&format!("part(s) 0 -> {a}")), "{agent}");
}

#[test]
fn serve_demo_seeds_usable_keys() {
    let s = serve_with(&["--demo"], "Press Ctrl-C");
    let demo = s.dir.path().join("data/demo");
    for name in [
        "omachi",
        "minowa",
        "tsubame",
        "kakogawa",
        "kyoto-referral",
        "outsourcing",
        "wrong-recipient",
    ] {
        assert!(demo.join(name).is_dir(), "{name}");
    }
    let pass = demo.join("passphrase.txt");
    let key = demo.join("omachi/omachi-rep.key");
    let (pass, key) = (pass.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    let login = ok(&s, &["--passphrase-file", pass, "login", "--key", key]);
    assert!(
        login.contains("Logged in as 大町市 受付窓口 朝霧"),
        "{login}"
    );
    // A sample delivery waits: the prefecture's sample list, its first part already forwarded
    // to the first district officer, the rest to forward.
    let inbox = ok(&s, &["--passphrase-file", pass, "inbox", "--key", key]);
    assert!(
        inbox.contains("delivered  from 県 送付担当 青葉") && inbox.contains("forwardable 1, 2, 3"),
        "{inbox}"
    );
    let officer = demo.join("omachi/omachi-omachi.key");
    let officer_inbox = ok(
        &s,
        &[
            "--passphrase-file",
            pass,
            "inbox",
            "--key",
            officer.to_str().expect("utf-8"),
        ],
    );
    assert!(
        officer_inbox.contains("delivered  from 県 送付担当 青葉"),
        "{officer_inbox}"
    );
    let list = ok(
        &s,
        &["--passphrase-file", pass, "member", "list", "--key", key],
    );
    // Administrator, representative, the city's sender and three district officers.
    assert_eq!(list.matches("(verified)").count(), 6, "{list}");
    assert!(list.contains("送付担当 柏木 [reader,sender]"), "{list}");
}

/// A plain HTTP GET on the server (no client library): the response body.
fn http_get(s: &Served, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = s.url.trim_start_matches("http://").trim_end_matches('/');
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    write!(c, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("request");
    let mut resp = String::new();
    c.read_to_string(&mut resp).expect("response");
    resp.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// A shared server with closed registration, from the command line. `serve --registration
/// closed` without a token file does not start (it says what is missing); with one, a stranger's
/// `org create` (no token, or a wrong one) is refused with the server's explanation and
/// registers nothing, and the operator's `org create --registration-token-file` registers.
#[test]
fn closed_registration_admits_only_the_operator_from_the_command_line() {
    // Without the token file: refused at start, never listening.
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args([
            "--lang",
            "en",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--registration",
            "closed",
        ])
        .arg("--data")
        .arg(dir.path().join("data"))
        .env_remove("SOSHIKI_REGISTRATION_TOKEN_FILE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn serve");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve --registration closed without a token file kept running");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("output");
    assert!(!status.success());
    let err = text(&out.stderr);
    assert!(err.contains("registration_token_file"), "{err}");

    // With the operator's token file.
    let token_dir = tempfile::tempdir().expect("tmp");
    let token_file = token_dir.path().join("registration-token");
    std::fs::write(&token_file, "operator-token-0123456789abcdef\n").expect("token");
    let wrong_file = token_dir.path().join("guessed-token");
    std::fs::write(&wrong_file, "guessed-token-0123456789abcdef\n").expect("token");
    let token = token_file.to_str().expect("utf-8 path");
    let s = serve_with(
        &[
            "--registration",
            "closed",
            "--registration-token-file",
            token,
        ],
        "Press Ctrl-C",
    );
    let create = |tag: &str, extra: &[&str]| {
        let mut args = vec!["org", "create", "--name", "勝手な組織", "--out"];
        let out = format!("{tag}.orgkey");
        let admin = format!("{tag}-admin.key");
        args.extend([
            out.as_str(),
            "--admin-name",
            "管理者",
            "--admin-out",
            admin.as_str(),
        ]);
        args.extend(extra);
        run(&s, &args)
    };
    for (tag, extra) in [
        ("stranger", vec![]),
        (
            "guesser",
            vec![
                "--registration-token-file",
                wrong_file.to_str().expect("utf-8"),
            ],
        ),
    ] {
        let out = create(tag, &extra);
        let err = text(&out.stderr);
        assert!(
            !out.status.success(),
            "{tag} registered:\n{}",
            text(&out.stdout)
        );
        assert!(
            err.contains("registration on this server is closed"),
            "{tag}: the server's reason is shown: {err}"
        );
    }
    assert!(
        !http_get(&s, "/v1/orgs").contains("\"id\""),
        "no organization was registered"
    );
    let out = create("operator", &["--registration-token-file", token]);
    assert!(
        out.status.success(),
        "the operator registers:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let fp = hex64(&text(&out.stdout));
    let orgs = http_get(&s, "/v1/orgs");
    assert_eq!(orgs.matches("\"id\"").count(), 1, "{orgs}");
    assert!(orgs.contains(&fp), "{orgs}");
}

/// HTTPS with a self-signed certificate made by `openssl` (skipped, with a note, on a machine
/// without it): `serve --tls-cert/--tls-key --demo` seeds over TLS and a member logs in with
/// `--ca`.
#[test]
fn serve_over_tls() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args(["-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .output();
    if !made.is_ok_and(|o| o.status.success()) {
        eprintln!("openssl not available: TLS test skipped");
        return;
    }
    let (c, k) = (cert.to_str().expect("utf-8"), key.to_str().expect("utf-8"));
    let s = serve_with(&["--demo", "--tls-cert", c, "--tls-key", k], "Press Ctrl-C");
    assert!(s.url.starts_with("https://"), "{}", s.url);
    let demo = s.dir.path().join("data/demo");
    let pass = demo.join("passphrase.txt");
    let member = demo.join("kyoto-referral/hospital-doctor.key");
    let (pass, member) = (
        pass.to_str().expect("utf-8"),
        member.to_str().expect("utf-8"),
    );
    let login = ok(
        &s,
        &[
            "--passphrase-file",
            pass,
            "login",
            "--key",
            member,
            "--ca",
            c,
        ],
    );
    assert!(login.contains("https://"), "{login}");
    // Without the CA the connection is refused, with a clear error.
    let out = run(
        &s,
        &[
            "--passphrase-file",
            pass,
            "inbox",
            "--key",
            member,
            "--state",
            "other",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot reach the server"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn japanese_scenario_output() {
    let out = soshiki(&["--lang", "ja", "demo", "kyoto-referral"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("確認 OK"), "{stdout}");
    assert!(stdout.contains("件の確認がすべて成功しました"), "{stdout}");
    assert!(stdout.contains("を開封できない"), "{stdout}");
}

/// An Excel export from Japanese Windows (CP932, CRLF; 表 and ソ have 0x5C as second byte; a
/// quoted address with a comma and a quoted note with a line break).
const CP932_LIST: &str = "番号,氏名,住所,地区,備考\r\n\
1,架空 太郎,大町市大町1-1,大町,\r\n\
2,架空 花子,\"大町市八坂2-2, 表町\",八坂,ソフト表示\r\n\
3,架空 次郎,大町市美麻3-3,美麻,\"一行目\r\n二行目 表\"\r\n\
4,架空 三郎,大町市大町4-4,大町,ソ\r\n\
5,架空 四郎,大町市八坂5-5,八坂,表\r\n";

fn cp932(s: &str) -> Vec<u8> {
    let (b, _, unmappable) = encoding_rs::SHIFT_JIS.encode(s);
    assert!(!unmappable);
    b.into_owned()
}

/// `send --split-by 地区` on a CP932 file: three parts labelled 地区=…, routed by the
/// representative's rules on those labels, opened by the officers: each gets exactly the
/// original CP932 bytes of the header and its district's rows.
#[test]
fn send_split_by_column_keeps_cp932_bytes_per_district() {
    let s = serve();
    let city = create_org(&s, "city", "Fictional City");
    let pref = create_org(&s, "pref", "Fictional Prefecture");
    enroll(
        &s,
        "city",
        &city,
        "rep",
        "Reception",
        "representative,forwarder",
    );
    let a = enroll(&s, "city", &city, "a", "Omachi and Miasa", "reader");
    let b = enroll(&s, "city", &city, "b", "Yasaka", "reader");
    enroll(&s, "pref", &pref, "sender", "Sender", "reader");
    let file = cp932(CP932_LIST);
    std::fs::write(s.dir.path().join("対象者.csv"), &file).expect("w");
    std::fs::write(s.dir.path().join("cover.txt"), "送付状").expect("w");

    // A wrong column is refused before anything is sent, naming the columns.
    let out = run(
        &s,
        &[
            "send",
            "--key",
            "sender.key",
            "--to-org",
            &city,
            "--part",
            "対象者.csv",
            "--split-by",
            "district",
        ],
    );
    assert!(!out.status.success());
    let e = text(&out.stderr);
    assert!(
        e.contains("no column \"district\"") && e.contains("4:地区"),
        "{e}"
    );

    let sent = ok(
        &s,
        &[
            "send",
            "--key",
            "sender.key",
            "--to-org",
            &city,
            "--title",
            "名簿",
            "--part",
            "cover.txt",
            "--part",
            "対象者.csv::year=2026",
            "--split-by",
            "地区",
        ],
    );
    assert!(
        sent.contains("Shift_JIS (CP932)") && sent.contains("into 3 part(s)"),
        "{sent}"
    );
    assert!(sent.contains("対象者_八坂.csv (2 row(s))"), "{sent}");

    ok(
        &s,
        &[
            "rules",
            "--key",
            "rep.key",
            "--set",
            &format!("地区=大町 -> {a}"),
            "--set",
            &format!("地区=美麻 & year=2026 -> {a}"),
            "--set",
            &format!("地区=八坂 -> {b}"),
        ],
    );
    let agent = ok(&s, &["agent", "--once", "--key", "rep.key"]);
    assert!(agent.contains(&format!("part(s) 1, 3 -> {a}")), "{agent}");
    assert!(agent.contains(&format!("part(s) 2 -> {b}")), "{agent}");
    let delivery = |key: &str| {
        let inbox = ok(&s, &["inbox", "--key", key]);
        inbox
            .split_whitespace()
            .next()
            .expect("a delivery")
            .to_string()
    };
    let da = delivery("a.key");
    let db = delivery("b.key");
    ok(&s, &["open", &da, "--key", "a.key", "--out", "a-out"]);
    ok(&s, &["open", &db, "--key", "b.key", "--out", "b-out"]);

    let rows: Vec<&str> = CP932_LIST.split_inclusive("\r\n").collect();
    let part = |lines: &[&str]| cp932(&lines.concat());
    let read = |p: &str| std::fs::read(s.dir.path().join(p)).expect(p);
    let header = rows[0];
    assert_eq!(
        read("a-out/対象者_大町.csv"),
        part(&[header, rows[1], rows[5]])
    );
    assert_eq!(
        read("a-out/対象者_美麻.csv"),
        part(&[header, rows[3], rows[4]])
    );
    assert_eq!(
        read("b-out/対象者_八坂.csv"),
        part(&[header, rows[2], rows[6]])
    );
    assert!(!s.dir.path().join("b-out/対象者_大町.csv").exists());
}

/// Files the splitter cannot read are refused with what was found, in the user's language.
#[test]
fn send_split_by_refuses_utf16_and_names_the_file() {
    let s = serve();
    let city = create_org(&s, "city", "Fictional City");
    enroll(&s, "city", &city, "sender", "Sender", "reader");
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("地区\r\n大町\r\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(s.dir.path().join("list.csv"), utf16).expect("w");
    let args = [
        "send",
        "--key",
        "sender.key",
        "--to-org",
        &city,
        "--part",
        "list.csv",
        "--split-by",
        "1",
    ];
    let out = run(&s, &args);
    assert!(!out.status.success());
    let e = text(&out.stderr);
    assert!(
        e.contains("cannot split list.csv") && e.contains("UTF-16 LE (byte-order mark FF FE)"),
        "{e}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(["--lang", "ja", "--kdf-min"])
        .args(args)
        .env("SOSHIKI_PASSPHRASE", "test passphrase")
        .env("SOSHIKI_SERVER", &s.url)
        .env("SOSHIKI_STATE", s.dir.path().join("state"))
        .current_dir(s.dir.path())
        .output()
        .expect("run");
    let e = text(&out.stderr);
    assert!(e.contains("list.csv を列 \"1\" で分割できません"), "{e}");
    assert!(
        e.contains("UTF-8 でも Shift_JIS (CP932) でもありません"),
        "{e}"
    );
    // --split-by without any CSV part.
    std::fs::write(s.dir.path().join("a.txt"), "x").expect("w");
    let out = run(
        &s,
        &[
            "send",
            "--key",
            "sender.key",
            "--to-org",
            &city,
            "--part",
            "a.txt",
            "--split-by",
            "1",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("needs a --part whose file name ends in .csv"));
}

/// `backup --to`, `backup verify` and `restore` on a running demo server's data directory:
/// complete backups verify, an altered one does not and is never restored, a used target is
/// refused, and the restored directory serves the demo's members.
#[test]
fn backup_verify_and_restore_from_the_command_line() {
    let mut s = serve_with(&["--demo"], "Press Ctrl-C");
    let root = s.dir.path().to_path_buf();
    let data = root.join("data");
    let (data_s, bk, bk2, restored) = (
        data.display().to_string(),
        root.join("bk").display().to_string(),
        root.join("bk2").display().to_string(),
        root.join("restored").display().to_string(),
    );
    let out = ok(&s, &["backup", "--to", &bk, "--data", &data_s]);
    assert!(
        out.contains("backup written to") && out.contains("16 organizations"),
        "{out}"
    );
    let v = ok(&s, &["backup", "verify", &bk]);
    assert!(v.contains("the backup verifies"), "{v}");
    let again = run(&s, &["backup", "--to", &bk, "--data", &data_s]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("is not empty"),
        "{}",
        text(&again.stderr)
    );

    // An altered database file: verify names it, restore refuses and writes nothing.
    let db = root.join("bk").join("soshiki.sqlite");
    let mut bytes = std::fs::read(&db).expect("db");
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&db, &bytes).expect("tamper");
    let bad = run(&s, &["backup", "verify", &bk]);
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("soshiki.sqlite"),
        "{}",
        text(&bad.stderr)
    );
    let refused = run(&s, &["restore", &bk, "--data", &restored]);
    assert!(!refused.status.success());
    assert!(
        !root.join("restored/soshiki.sqlite").exists(),
        "nothing restored"
    );

    ok(&s, &["backup", "--to", &bk2, "--data", &data_s]);
    let r = ok(&s, &["restore", &bk2, "--data", &restored]);
    assert!(r.contains("restored"), "{r}");
    let twice = run(&s, &["restore", &bk2, "--data", &restored]);
    assert!(!twice.status.success());
    assert!(
        text(&twice.stderr).contains("exists"),
        "{}",
        text(&twice.stderr)
    );
    let _ = s.child.kill();
    let _ = s.child.wait();

    // The restored directory serves: a demo member logs in and lists its organization.
    let mut child = Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args([
            "--lang",
            "en",
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data",
            &restored,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve the restored directory");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("first line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("url")
        .to_string();
    let demo = root.join("data/demo");
    let list = Command::new(env!("CARGO_BIN_EXE_soshiki"))
        .args(["--lang", "en", "--passphrase-file"])
        .arg(demo.join("passphrase.txt"))
        .args(["member", "list", "--key"])
        .arg(demo.join("omachi/omachi-rep.key"))
        .env("SOSHIKI_SERVER", &url)
        .env("SOSHIKI_STATE", root.join("state2"))
        .output()
        .expect("member list");
    let _ = child.kill();
    let _ = child.wait();
    assert!(list.status.success(), "{}", text(&list.stderr));
    assert_eq!(
        text(&list.stdout).matches("(verified)").count(),
        6,
        "{}",
        text(&list.stdout)
    );
}
