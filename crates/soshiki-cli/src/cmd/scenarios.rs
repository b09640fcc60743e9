//! `soshiki demo NAME`: the seeds' cases, end to end against an embedded server on 127.0.0.1
//! with a temporary data directory. Synthetic data only (generated names and addresses).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, Result};
use soshiki_core::cert::Roles;

use crate::cmd::embedded::{Demo, DemoPart, Sent};
use crate::i18n::{tr, M};

/// Every scenario: name, and its one-line description message.
pub const SCENARIOS: &[(&str, M)] = &[
    ("omachi", M::ScenOmachi),
    ("minowa", M::ScenMinowa),
    ("tsubame", M::ScenTsubame),
    ("kakogawa", M::ScenKakogawa),
    ("kyoto-referral", M::ScenKyoto),
    ("outsourcing", M::ScenOutsourcing),
    ("wrong-recipient", M::ScenWrong),
];

const REP: Roles = Roles::REPRESENTATIVE.union(Roles::FORWARDER);
const READ: Roles = Roles::READER;
/// Staff who send to other organizations: every demo organization requires the sender role
/// for that (`Demo::org` sets the policy), so the other readers are not offered sending.
const SEND: Roles = Roles::READER.union(Roles::SENDER);

const SURNAMES: &[&str] = &[
    "青葉", "朝霧", "石森", "内海", "大滝", "柏木", "北川", "桐原", "小松", "桜井", "白石", "杉浦",
    "高畑", "千早", "月岡", "土屋", "中園", "野辺", "橋爪", "日向", "藤波", "星野", "松風", "水沢",
];
const GIVEN: &[&str] = &[
    "一郎", "花子", "健二", "美和", "信夫", "和子", "正道", "幸子", "勝也", "千代", "昭", "節子",
    "茂", "房江", "博", "春江", "実", "清美",
];

/// A deterministic generator of synthetic rows (no real person's data).
fn person(seed: u64, i: u64) -> (String, u64) {
    let x = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(i.wrapping_mul(1_442_695_040_888_963_407));
    let y = x ^ (x >> 29);
    let s = SURNAMES[(y % SURNAMES.len() as u64) as usize];
    let g = GIVEN[((y >> 8) % GIVEN.len() as u64) as usize];
    (format!("{s} {g}"), y >> 16)
}

/// A CSV list: `header` then `n` rows built by `row(id, name, random)`.
fn csv(header: &str, seed: u64, n: u64, row: impl Fn(u64, &str, u64) -> String) -> Vec<u8> {
    let mut s = format!("{header}\n");
    for i in 0..n {
        let (name, r) = person(seed, i);
        s.push_str(&row(i, &name, r));
        s.push('\n');
    }
    s.into_bytes()
}

/// A synthetic address in a fictitious town.
fn address(town: &str, r: u64) -> String {
    format!(
        "{town} {}-{}-{}",
        r % 9 + 1,
        (r >> 4) % 30 + 1,
        (r >> 9) % 20 + 1
    )
}

/// Run scenario `name` against a fresh embedded server.
pub fn command(name: &str) -> Result<()> {
    let desc = SCENARIOS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, m)| *m)
        .ok_or_else(|| {
            let names: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
            anyhow!(tr(M::ScenarioUnknown, &[&name, &names.join(", ")]))
        })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| anyhow!(tr(M::ServeFailed, &[&e])))?;
    rt.block_on(async move {
        let dir = tempfile::tempdir().map_err(|e| anyhow!(tr(M::TempFileFailed, &[&e])))?;
        let mut config = soshiki_server::ServeConfig::with_data_dir(dir.path())
            .map_err(|e| anyhow!(tr(M::ServeFailed, &[&e])))?;
        config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        config.maintenance_interval = Duration::from_secs(3600);
        let server = soshiki_server::start(config)
            .await
            .map_err(|e| anyhow!(tr(M::ServeFailed, &[&e])))?;
        println!("{}", tr(M::ScenarioStart, &[&name, &tr(desc, &[])]));
        println!(
            "{}",
            tr(M::ScenarioServer, &[&server.url(), &dir.path().display()])
        );
        let mut d = Demo::new(server.url(), false);
        let r = play(&mut d, name).await;
        // Stop the server before scanning its files, so everything is flushed.
        let stopped = server.shutdown().await;
        r?;
        stopped.map_err(|e| anyhow!(tr(M::ServeFailed, &[&e])))?;
        // Let the database pool finish closing (it checkpoints its journal).
        tokio::time::sleep(Duration::from_millis(300)).await;
        d.scan_server(dir.path())?;
        let (checks, failures) = d.tally();
        if failures > 0 {
            return Err(anyhow!(tr(M::ScenarioFailed, &[&name, &failures, &checks])));
        }
        println!("{}", tr(M::ScenarioPassed, &[&name, &checks]));
        Ok(())
    })
}

/// Run (or, with `d.seed_only`, only set up) scenario `name`.
pub async fn play(d: &mut Demo, name: &str) -> Result<()> {
    match name {
        "omachi" => omachi(d).await,
        "minowa" => minowa(d).await,
        "tsubame" => tsubame(d).await,
        "kakogawa" => kakogawa(d).await,
        "kyoto-referral" => kyoto(d).await,
        "outsourcing" => outsourcing(d).await,
        "wrong-recipient" => wrong_recipient(d).await,
        other => Err(anyhow!(tr(M::ScenarioUnknown, &[&other, &""]))),
    }
}

/// `serve --demo`: sample deliveries, so every demo member's inbox has something to do. Each
/// member with the sender role sends a sample list to the representative of the scenario's
/// other organization, one part per officer there and one more; the representative forwards
/// the first part to the first officer (who can open it, and which the representative can
/// recall) and keeps the rest to forward. Synthetic data only.
pub async fn seed_deliveries(d: &mut Demo) -> Result<()> {
    let senders: Vec<usize> = (0..d.members.len())
        .filter(|&m| d.members[m].roles.contains(Roles::SENDER))
        .collect();
    for s in senders {
        let from = d.members[s].org;
        let Some(rep) = (0..d.members.len()).find(|&m| {
            d.members[m].org != from && d.members[m].roles.contains(Roles::REPRESENTATIVE)
        }) else {
            continue;
        };
        let to = d.members[rep].org;
        let officers: Vec<usize> = (0..d.members.len())
            .filter(|&m| {
                d.members[m].org == to
                    && m != rep
                    && d.members[m].roles.contains(Roles::READER)
                    && !d.members[m].roles.contains(Roles::REPRESENTATIVE)
                    && !d.members[m].roles.contains(Roles::SENDER)
            })
            .take(3)
            .collect();
        let seed = s as u64 * 7 + 3;
        let mut parts: Vec<DemoPart> = officers
            .iter()
            .enumerate()
            .map(|(i, &o)| {
                let body = csv("番号,氏名,住所", seed + i as u64, 5, |n, name, r| {
                    format!("S{i}-{n:03},{name},{}", address("架空県架空町", r))
                });
                let label = format!("for={}", d.members[o].tag);
                DemoPart::new(&format!("sample-{}.csv", i + 1), &[&label], body)
            })
            .collect();
        parts.push(DemoPart::new(
            "sample-rest.csv",
            &["for=unassigned"],
            csv("番号,氏名,住所", seed + 99, 3, |n, name, r| {
                format!("R-{n:03},{name},{}", address("架空県架空町", r))
            }),
        ));
        // Document data, like the scenarios' titles: Japanese whatever the interface language.
        let title = format!("【デモ】サンプル名簿（架空）{}より", d.members[s].name);
        let sent = d.send(s, to, &title, "demo", parts).await?;
        if let Some(&first) = officers.first() {
            d.forward(rep, &sent.delivery, &[(first, vec![0])]).await?;
        }
    }
    Ok(())
}

/// Every reader opens its delivery and gets exactly its parts.
async fn open_all(d: &mut Demo, sent: &Sent, got: &[(usize, Vec<u32>, String)]) -> Result<()> {
    for (m, parts, id) in got {
        let exp: Vec<(u32, &[u8])> = parts
            .iter()
            .map(|p| (*p, sent.bodies[*p as usize].as_slice()))
            .collect();
        d.open_expect(*m, id, &exp).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------

async fn omachi(d: &mut Demo) -> Result<()> {
    let pref = d.org("pref", "長野県 健康福祉部 (架空)").await?;
    let city = d.org("omachi", "大町市 福祉課 (架空)").await?;
    let sender = d
        .member(pref, "pref-sender", "県 送付担当 青葉", SEND)
        .await?;
    let rep = d
        .member(city, "omachi-rep", "大町市 受付窓口 朝霧", REP)
        .await?;
    // The city's one member who sends outside (the district officers only read).
    d.member(city, "omachi-sender", "大町市 福祉課 送付担当 柏木", SEND)
        .await?;
    let districts = [("Omachi", "大町"), ("Yasaka", "八坂"), ("Miasa", "美麻")];
    let mut officers = Vec::new();
    for (tag, ja) in districts {
        let t = format!("omachi-{}", tag.to_lowercase());
        officers.push(d.member(city, &t, &format!("{ja}地区 担当"), READ).await?);
    }
    if d.seed_only {
        return Ok(());
    }
    let parts = districts
        .iter()
        .enumerate()
        .map(|(i, (tag, ja))| {
            let body = csv(
                "番号,氏名,年齢,住所",
                10 + i as u64,
                30 + 10 * i as u64,
                |n, name, r| {
                    format!(
                        "{tag}-{n:04},{name},{},{}",
                        75 + r % 25,
                        address(&format!("架空県{ja}町"), r)
                    )
                },
            );
            let label = format!("district={tag}");
            DemoPart::new(&format!("{}.csv", tag.to_lowercase()), &[&label], body)
        })
        .collect();
    let sent = d
        .send(
            sender,
            city,
            "令和7年度 敬老会 対象者名簿 (架空)",
            "keirokai",
            parts,
        )
        .await?;
    let plan: Vec<(usize, Vec<u32>)> = officers
        .iter()
        .enumerate()
        .map(|(i, o)| (*o, vec![i as u32]))
        .collect();
    let got = forward_plan(d, rep, &sent.delivery, plan).await?;
    d.cannot_open(rep, &sent.delivery, rep).await?;
    open_all(d, &sent, &got).await?;
    d.cannot_open(officers[0], &got[1].2, officers[1]).await?;
    d.stolen_copy(rep, officers[0], &got[0].2).await?;
    d.receipts(&sent).await?;
    d.audit(city).await
}

async fn minowa(d: &mut Demo) -> Result<()> {
    let town = d.org("minowa", "箕輪町 介護保険係 (架空)").await?;
    let provider = d.org("care", "みどり介護サービス (架空)").await?;
    let sender = d
        .member(town, "minowa-sender", "介護保険係 石森", SEND)
        .await?;
    let rep = d
        .member(provider, "care-rep", "事業所 受付 内海", REP)
        .await?;
    let mut managers = Vec::new();
    for (i, n) in ["ケアマネ 大滝", "ケアマネ 柏木"].iter().enumerate() {
        managers.push(
            d.member(provider, &format!("care-manager{}", i + 1), n, READ)
                .await?,
        );
    }
    if d.seed_only {
        return Ok(());
    }
    let cms = ["cm1", "cm2", "cm1"];
    let parts = cms
        .iter()
        .enumerate()
        .map(|(i, cm)| {
            let body = csv(
                "被保険者番号,氏名,認定結果,有効期間",
                20 + i as u64,
                5 + i as u64,
                |n, name, r| {
                    format!(
                        "H{i}{n:05},{name},要介護{},令和7年{}月から12か月",
                        r % 5 + 1,
                        r % 12 + 1
                    )
                },
            );
            DemoPart::new(
                &format!("nintei-{i}.csv"),
                &[&format!("caremanager={cm}")],
                body,
            )
        })
        .collect();
    let sent = d
        .send(sender, provider, "要介護認定結果 (架空)", "nintei", parts)
        .await?;
    let plan = vec![(managers[0], vec![0, 2]), (managers[1], vec![1])];
    let got = forward_plan(d, rep, &sent.delivery, plan).await?;
    d.cannot_open(rep, &sent.delivery, rep).await?;
    open_all(d, &sent, &got).await?;
    d.cannot_open(managers[1], &got[0].2, managers[0]).await?;
    d.stolen_copy(rep, managers[0], &got[0].2).await?;
    d.receipts(&sent).await?;
    d.audit(provider).await
}

async fn tsubame(d: &mut Demo) -> Result<()> {
    let from = d.org("sanjo", "転出元 架空市 市民課").await?;
    let city = d.org("tsubame", "燕市 市民課 (架空)").await?;
    let sender = d
        .member(from, "sanjo-sender", "転出元 市民課 北川", SEND)
        .await?;
    let rep = d
        .member(city, "tsubame-rep", "燕市 窓口 (エージェント) 桐原", REP)
        .await?;
    let clerk = d
        .member(city, "tsubame-clerk", "住民記録 担当 小松", READ)
        .await?;
    let dv = d.member(city, "tsubame-dv", "DV 相談員 桜井", READ).await?;
    let welfare = d
        .member(city, "tsubame-welfare", "生活福祉 担当 白石", READ)
        .await?;
    if d.seed_only {
        return Ok(());
    }
    let (name, r) = person(7, 1);
    let parts = vec![
        DemoPart::new(
            "juminhyo.txt",
            &["kind=resident"],
            format!(
                "住民票記載事項\n氏名: {name}\n新住所: {}\n",
                address("架空県燕町", r)
            )
            .into_bytes(),
        ),
        DemoPart::new(
            "dv-shien.txt",
            &["kind=dv"],
            format!("DV等支援措置 申出あり\n対象者: {name}\n加害者からの閲覧制限: 有効\n")
                .into_bytes(),
        ),
        DemoPart::new(
            "seikatsu-hogo.txt",
            &["kind=welfare"],
            format!("生活保護 受給記録\n対象者: {name}\n移管日: 令和7年4月1日\n").into_bytes(),
        ),
    ];
    let sent = d
        .send(sender, city, "転入者 記録の引継ぎ (架空)", "tennyu", parts)
        .await?;
    let got = d
        .agent(
            rep,
            &[("kind=dv", dv), ("kind=welfare", welfare), ("*", clerk)],
        )
        .await?;
    let got: Vec<(usize, Vec<u32>, String)> =
        got.into_iter().map(|(t, p, id, _)| (t, p, id)).collect();
    let routed = got.len() == 3
        && [(dv, 1u32), (welfare, 2), (clerk, 0)]
            .iter()
            .all(|(m, p)| got.iter().any(|(t, ps, _)| t == m && ps == &vec![*p]));
    d.check(routed, tr(M::CheckRules, &[&d.name(rep).to_string()]));
    d.cannot_open(rep, &sent.delivery, rep).await?;
    open_all(d, &sent, &got).await?;
    if let Some((_, _, dv_delivery)) = got.iter().find(|(t, _, _)| *t == dv) {
        let dv_delivery = dv_delivery.clone();
        d.cannot_open(clerk, &dv_delivery, dv).await?;
        d.stolen_copy(rep, dv, &dv_delivery).await?;
        d.stolen_copy(clerk, dv, &dv_delivery).await?;
    }
    d.receipts(&sent).await?;
    d.audit(city).await
}

async fn kakogawa(d: &mut Demo) -> Result<()> {
    let city = d.org("kakogawa", "加古川市 危機管理課 (架空)").await?;
    let divs = [
        ("kaigo", "加古川市 介護保険課 (架空)", "要介護者"),
        ("shogai", "加古川市 障害福祉課 (架空)", "障害者"),
        ("korei", "加古川市 高齢者支援課 (架空)", "独居高齢者"),
    ];
    let mut senders = Vec::new();
    for (tag, name, _) in divs {
        let o = d.org(tag, name).await?;
        senders.push(
            d.member(o, &format!("{tag}-sender"), &format!("{name} 担当"), SEND)
                .await?,
        );
    }
    let agent = d
        .member(city, "kakogawa-agent", "避難支援 名簿エージェント", REP)
        .await?;
    let codes = ["D01", "D02"];
    let mut leaders = Vec::new();
    for c in codes {
        leaders.push(
            d.member(
                city,
                &format!("kakogawa-{}", c.to_lowercase()),
                &format!("地区 {c} 避難支援 担当"),
                READ,
            )
            .await?,
        );
    }
    if d.seed_only {
        return Ok(());
    }
    let rules: Vec<(String, usize)> = codes
        .iter()
        .zip(&leaders)
        .map(|(c, l)| (format!("district={c}"), *l))
        .collect();
    let rule_refs: Vec<(&str, usize)> = rules.iter().map(|(c, l)| (c.as_str(), *l)).collect();
    let mut all = Vec::new();
    for (k, ((tag, _, kind), s)) in divs.iter().zip(&senders).enumerate() {
        let parts = codes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let body = csv(
                    "番号,氏名,区分,住所,支援内容",
                    30 + (k * 10 + i) as u64,
                    6,
                    |n, name, r| {
                        format!(
                            "{tag}-{c}-{n:03},{name},{kind},{},{}",
                            address(&format!("架空市{c}地区"), r),
                            ["車いす", "声かけ", "搬送"][(r % 3) as usize]
                        )
                    },
                );
                DemoPart::new(&format!("{tag}-{c}.csv"), &[&format!("district={c}")], body)
            })
            .collect();
        let sent = d
            .send(
                *s,
                city,
                &format!("避難行動要支援者名簿 {kind} (架空)"),
                "hinan-shien",
                parts,
            )
            .await?;
        all.push(sent);
    }
    // One agent pass routes every division's list per district code.
    let got = d.agent(agent, &rule_refs).await?;
    d.check(
        got.len() == 6,
        tr(M::CheckRules, &[&d.name(agent).to_string()]),
    );
    for sent in &all {
        d.cannot_open(agent, &sent.delivery, agent).await?;
    }
    for (t, parts, id, parent) in &got {
        let sent = all
            .iter()
            .find(|s| &s.delivery == parent)
            .ok_or_else(|| anyhow!(tr(M::StepFailed, &[&tr(M::StepAgent, &[]), parent])))?;
        let exp: Vec<(u32, &[u8])> = parts
            .iter()
            .map(|p| (*p, sent.bodies[*p as usize].as_slice()))
            .collect();
        d.open_expect(*t, id, &exp).await?;
        d.stolen_copy(agent, *t, id).await?;
    }
    d.audit(city).await
}

async fn kyoto(d: &mut Demo) -> Result<()> {
    let clinic = d.org("clinic", "みやこ診療所 (架空)").await?;
    let hospital = d.org("hospital", "架空総合病院 地域医療連携室").await?;
    let gp = d
        .member(clinic, "clinic-doctor", "診療所 医師 杉浦", SEND)
        .await?;
    let clerk = d
        .member(hospital, "liaison-clerk", "連携室 事務 高畑", REP)
        .await?;
    let doctor = d
        .member(hospital, "hospital-doctor", "循環器内科 医師 千早", READ)
        .await?;
    if d.seed_only {
        return Ok(());
    }
    let (name, r) = person(99, 3);
    let parts = vec![
        DemoPart::new(
            "shokaijo.txt",
            &["dept=cardiology"],
            format!("診療情報提供書\n患者: {name} ({} 歳)\n主訴: 労作時の胸部圧迫感\n依頼: 精査と加療\n", 50 + r % 30).into_bytes(),
        ),
        DemoPart::new(
            "ecg.csv",
            &["dept=cardiology", "kind=test"],
            csv("時刻ms,誘導II(mV)", 5, 40, |n, _, r| format!("{},{}.{:02}", n * 4, r % 2, r % 100)),
        ),
    ];
    let sent = d
        .send(gp, hospital, "紹介状 (架空)", "referral", parts)
        .await?;
    let ids = d
        .forward(clerk, &sent.delivery, &[(doctor, vec![0, 1])])
        .await?;
    d.cannot_open(clerk, &sent.delivery, clerk).await?;
    d.cannot_open(clerk, &ids[0], doctor).await?;
    open_all(d, &sent, &[(doctor, vec![0, 1], ids[0].clone())]).await?;
    d.stolen_copy(clerk, doctor, &ids[0]).await?;
    d.receipts(&sent).await?;
    d.audit(hospital).await
}

async fn outsourcing(d: &mut Demo) -> Result<()> {
    let city = d.org("city", "架空市 健康推進課").await?;
    let contractor = d.org("contractor", "架空データ入力株式会社").await?;
    let officer = d
        .member(city, "city-officer", "健康推進課 月岡", SEND)
        .await?;
    let rep = d
        .member(contractor, "contractor-rep", "受託窓口 土屋", REP)
        .await?;
    let workers = [
        d.member(contractor, "worker-a", "入力担当 中園", READ)
            .await?,
        d.member(contractor, "worker-b", "入力担当 野辺", READ)
            .await?,
    ];
    if d.seed_only {
        return Ok(());
    }
    let parts = (0..2u64)
        .map(|i| {
            let body = csv(
                "受診券番号,氏名,生年,住所",
                60 + i,
                12,
                |n, name, r| {
                    format!(
                        "K{i}{n:05},{name},{},{}",
                        1950 + r % 40,
                        address("架空市本町", r)
                    )
                },
            );
            DemoPart::new(&format!("kenshin-{i}.csv"), &[&format!("batch={i}")], body)
        })
        .collect();
    let sent = d
        .send(
            officer,
            contractor,
            "特定健診 受診票 入力委託 (架空)",
            "itaku",
            parts,
        )
        .await?;
    let plan = vec![(workers[0], vec![0]), (workers[1], vec![1])];
    let got = forward_plan(d, rep, &sent.delivery, plan).await?;
    d.cannot_open(rep, &sent.delivery, rep).await?;
    open_all(d, &sent, &got).await?;
    d.stolen_copy(rep, workers[0], &got[0].2).await?;
    d.receipts(&sent).await?;
    d.audit(contractor).await
}

async fn wrong_recipient(d: &mut Demo) -> Result<()> {
    let pref = d.org("pref2", "架空県 子ども家庭課").await?;
    let city = d.org("city2", "架空町 子育て支援課").await?;
    let sender = d.member(pref, "pref2-sender", "県 担当 橋爪", SEND).await?;
    let rep = d.member(city, "city2-rep", "町 窓口 日向", REP).await?;
    let wrong = d
        .member(city, "city2-wrong", "母子保健 担当 藤波 (誤送付先)", READ)
        .await?;
    let right = d
        .member(city, "city2-right", "児童相談 担当 星野", READ)
        .await?;
    if d.seed_only {
        return Ok(());
    }
    let body = csv(
        "番号,児童氏名,保護者,住所",
        77,
        8,
        |n, name, r| {
            let (parent, _) = person(78, n);
            format!("C{n:04},{name},{parent},{}", address("架空町中央", r))
        },
    );
    let sent = d
        .send(
            sender,
            city,
            "要保護児童 情報提供 (架空)",
            "jido",
            vec![DemoPart::new("jido.csv", &["team=jido"], body)],
        )
        .await?;
    let first = d.forward(rep, &sent.delivery, &[(wrong, vec![0])]).await?;
    d.recall(rep, &first[0], wrong).await?;
    d.cannot_open(wrong, &first[0], wrong).await?;
    let again = d.forward(rep, &sent.delivery, &[(right, vec![0])]).await?;
    open_all(d, &sent, &[(right, vec![0], again[0].clone())]).await?;
    d.cannot_open(wrong, &again[0], right).await?;
    d.stolen_copy(wrong, right, &again[0]).await?;
    d.receipts(&sent).await?;
    d.audit(city).await
}

/// Forward parts per `plan` (member, parts) in one action; returns (member, parts, delivery id).
async fn forward_plan(
    d: &mut Demo,
    by: usize,
    delivery: &str,
    plan: Vec<(usize, Vec<u32>)>,
) -> Result<Vec<(usize, Vec<u32>, String)>> {
    let ids = d.forward(by, delivery, &plan).await?;
    Ok(plan
        .into_iter()
        .zip(ids)
        .map(|((m, p), id)| (m, p, id))
        .collect())
}
