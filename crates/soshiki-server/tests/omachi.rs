//! The Omachi flow over HTTP on both suites: organizations, enrollment, login, a three-part
//! list sent to the city's representative, forwarded per district to different officers in
//! one action, a wrong forward recalled and re-forwarded, every officer opening exactly its
//! part, the sender's receipts, the audit trail verified (and every kind of tampering with the
//! database detected), and finally a scan of the whole data directory for any secret key or
//! plaintext.

mod common;

use common::*;
use soshiki_client::audit::AuditAnchor;
use soshiki_client::flows::{self, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::{audit_hash, Action};
use soshiki_client::rules::{plan, Rule};
use soshiki_client::ClientError;
use soshiki_core::cert::Roles;
use soshiki_core::envelope::{Label, PartInfo};
use soshiki_core::suite::{Ristretto255, Suite, P256};

fn district_list(district: &str, n: usize) -> Vec<u8> {
    let mut s = format!("氏名,年齢,住所 ({district} 地区 敬老会)\n");
    for i in 0..n {
        s.push_str(&format!(
            "{district}-住民{i:04},{},{district} {i}-{}\n",
            75 + i % 20,
            i * 7 % 13
        ));
    }
    s.into_bytes()
}

type Row = (i64, Vec<u8>, Vec<u8>, Vec<u8>, i64);

async fn trail(pool: &sqlx::SqlitePool, org: &str) -> Vec<Row> {
    sqlx::query_as::<_, Row>(
        "SELECT seq, entry, prev_hash, hash, created FROM audit WHERE org_id = ? ORDER BY seq",
    )
    .bind(org)
    .fetch_all(pool)
    .await
    .expect("read trail")
}

async fn replace_trail(pool: &sqlx::SqlitePool, org: &str, rows: &[Row]) {
    sqlx::query("DELETE FROM audit WHERE org_id = ?")
        .bind(org)
        .execute(pool)
        .await
        .expect("delete");
    for (seq, entry, prev, hash, created) in rows {
        sqlx::query("INSERT INTO audit (org_id, seq, entry, prev_hash, hash, created) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(org)
            .bind(seq)
            .bind(entry)
            .bind(prev)
            .bind(hash)
            .bind(created)
            .execute(pool)
            .await
            .expect("insert");
    }
}

/// Recompute seq numbers and the hash chain, as an attacker with database access would.
fn rechain(rows: &mut [Row]) {
    let mut prev = [0u8; 32];
    for (i, r) in rows.iter_mut().enumerate() {
        r.0 = i as i64 + 1;
        r.2 = prev.to_vec();
        prev = audit_hash(&prev, r.0 as u64, &r.1);
        r.3 = prev.to_vec();
    }
}

async fn verify_city<S: Suite>(
    city: &Org<S>,
    anchor: Option<&AuditAnchor>,
) -> Result<soshiki_client::audit::AuditReport, ClientError> {
    flows::audit(&city.admin.client, city.record(), anchor, None, &|_| false).await
}

fn failure_seq(r: Result<soshiki_client::audit::AuditReport, ClientError>) -> (u64, String) {
    match r {
        Err(ClientError::Audit(f)) => (f.seq, f.reason),
        other => panic!("expected an audit failure, got {other:?}"),
    }
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("read_dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

async fn omachi<S: Suite>() {
    let ts = start().await;
    let url = ts.url();
    let pref = create_org::<S>(&url, "長野県 福祉課").await;
    let city = create_org::<S>(&url, "大町市 市民課").await;
    let sender = enroll(&url, &pref, "県 送信担当", Roles::READER).await;
    let rep = enroll(&url, &city, "大町市 受信代表", Roles::REPRESENTATIVE).await;
    let x = enroll(&url, &city, "大町地区 担当", Roles::READER).await;
    let y = enroll(&url, &city, "八坂地区 担当", Roles::READER).await;
    let w = enroll(&url, &city, "誤送付先 担当", Roles::READER).await;
    let z = enroll(&url, &city, "美麻地区 担当", Roles::READER).await;

    // The sender pins the city by fingerprint and addresses its representative.
    let pinned_city = flows::fetch_organization::<S>(
        &sender.client,
        &city.record().fingerprint().display_short(),
    )
    .await
    .expect("fetch city");
    assert_eq!(&pinned_city, city.record());
    let to = flows::representative(&sender.client, &pinned_city)
        .await
        .expect("representative");
    assert_eq!(to.certificate().fingerprint().to_hex(), rep.id());

    let districts = ["Omachi", "Yasaka", "Miasa"];
    let bodies: Vec<Vec<u8>> = districts
        .iter()
        .enumerate()
        .map(|(i, d)| district_list(d, 40 + 30 * i))
        .collect();
    let title = "令和七年度 敬老会 対象者名簿";
    let category = "keirokai-meibo";
    let parts = districts
        .iter()
        .zip(&bodies)
        .map(|(d, b)| OutgoingPart {
            info: PartInfo {
                name: format!("{}.csv", d.to_lowercase()),
                labels: vec![Label::parse(&format!("district={d}")).expect("label")],
            },
            data: PartData::Bytes(b.clone()),
        })
        .collect();
    let opts = SendOptions {
        title: title.into(),
        category: category.into(),
        chunk_size: 1024,
        temp_dir: None,
    };
    let committed = flows::send(&sender.client, &sender.key, &to, &opts, parts, None)
        .await
        .expect("send");

    // The representative sees the delivery, can read its labels, cannot download the body.
    let inbox = rep.client.inbox(None).await.expect("inbox");
    assert_eq!(inbox.len(), 1);
    let first = &inbox[0];
    assert_eq!(first.id, committed.delivery_id);
    assert_eq!(first.forwardable_parts, vec![0, 1, 2]);
    assert_eq!(first.sender_cert, sender.id());
    let no = rep
        .client
        .delivery_header(&first.id)
        .await
        .expect_err("no header for a non-reader");
    assert_eq!(no.status(), Some(403));
    let view = flows::forward_view(&rep.client, &rep.key, &first.id, None)
        .await
        .expect("view");
    assert_eq!(view.metadata().title, title);
    assert_eq!(view.parts(), vec![0, 1, 2]);
    assert_eq!(
        view.sender().certificate().fingerprint().to_hex(),
        sender.id()
    );

    // Rules evaluated locally (the Miasa rule points at the wrong officer, on purpose).
    let rules: Vec<Rule> = [("Omachi", &x), ("Yasaka", &y), ("Miasa", &w)]
        .iter()
        .map(|(d, m)| Rule::parse(&format!("district={d} -> {}", m.id())).expect("rule"))
        .collect();
    let (routes, unmatched) = plan(view.metadata(), view.parts(), &rules);
    assert!(unmatched.is_empty());
    assert_eq!(routes.len(), 3);
    // A part the view does not offer is refused before anything is sent.
    let e = flows::forward_viewed(&rep.client, &rep.key, &view, &[(x.id(), vec![7])])
        .await
        .expect_err("part 7 is not offered");
    assert!(e.to_string().contains("not offered"), "{e}");
    // The forward is made from the request the view verified: no second fetch.
    let fwd = flows::forward_viewed(&rep.client, &rep.key, &view, &routes)
        .await
        .expect("forward");
    assert_eq!(fwd.deliveries.len(), 3);
    let delivery_of = |m: &Member<S>| {
        fwd.deliveries
            .iter()
            .find(|d| d.holder_cert == m.id())
            .expect("delivery")
            .id
            .clone()
    };
    let (dx, dy, dw) = (delivery_of(&x), delivery_of(&y), delivery_of(&w));
    let parent = rep.client.delivery(&first.id).await.expect("parent");
    assert_eq!(parent.status, "forwarded");
    assert!(parent.forwardable_parts.is_empty());

    // Wrong officer: recalled before it was opened, then re-forwarded to the right one.
    let recalled = flows::recall(&rep.client, &rep.key, &dw)
        .await
        .expect("recall");
    assert_eq!(recalled.status, "recalled");
    let out_w = tempfile::tempdir().expect("tmp");
    let e = flows::open(&w.client, &w.key, &dw, out_w.path(), None)
        .await
        .expect_err("recalled delivery cannot be opened");
    assert_eq!(e.status(), Some(410), "{e}");
    assert_eq!(
        std::fs::read_dir(out_w.path()).expect("dir").count(),
        0,
        "nothing written"
    );
    let parent = rep.client.delivery(&first.id).await.expect("parent");
    assert_eq!(parent.forwardable_parts, vec![2]);
    let again = flows::forward(&rep.client, &rep.key, &first.id, &[(z.id(), vec![2])])
        .await
        .expect("re-forward");
    let dz = again.deliveries[0].id.clone();
    // The parent lists what was forwarded from it, recalled ones included (any device of the
    // holder can show and recall them).
    let parent = rep.client.delivery(&first.id).await.expect("parent");
    let listed: Vec<(String, String, Vec<u32>, String)> = parent
        .forwards
        .iter()
        .map(|f| {
            (
                f.id.clone(),
                f.holder_cert.clone(),
                f.parts.clone(),
                f.status.clone(),
            )
        })
        .collect();
    for (d, m, part, status) in [
        (&dx, &x, 0u32, "delivered"),
        (&dy, &y, 1, "delivered"),
        (&dw, &w, 2, "recalled"),
        (&dz, &z, 2, "delivered"),
    ] {
        assert!(
            listed.contains(&(d.clone(), m.id(), vec![part], status.to_string())),
            "{d} for part {part} ({status}) in {listed:?}"
        );
    }
    assert_eq!(listed.len(), 4);

    // Each officer opens and gets exactly its district's list, and nothing else.
    for (m, d, idx) in [(&x, &dx, 0u32), (&y, &dy, 1), (&z, &dz, 2)] {
        let out = tempfile::tempdir().expect("tmp");
        let opened = flows::open(&m.client, &m.key, d, out.path(), None)
            .await
            .expect("open");
        assert_eq!(opened.parts.len(), 1);
        assert_eq!(opened.parts[0].index, idx);
        assert_eq!(read(&opened.parts[0].path), bodies[idx as usize]);
        assert_eq!(
            opened.parts[0].info.labels[0].value,
            districts[idx as usize]
        );
        assert_eq!(opened.metadata.title, title);
        assert_eq!(
            opened.sender.certificate().fingerprint().to_hex(),
            sender.id()
        );
        assert_eq!(
            opened.sender.organization().fingerprint(),
            pref.record().fingerprint()
        );
        let files: Vec<_> = std::fs::read_dir(out.path()).expect("dir").collect();
        assert_eq!(files.len(), 1, "only the plaintext, no temporary file left");
        assert_eq!(m.client.delivery(d).await.expect("d").status, "opened");
    }
    // An opened delivery cannot be recalled.
    let e = flows::recall(&rep.client, &rep.key, &dx)
        .await
        .expect_err("recall after open");
    assert_eq!(e.status(), Some(409));

    // The sender's receipts.
    let receipts = sender
        .client
        .receipts(&committed.envelope_id)
        .await
        .expect("receipts");
    let count = |k: &str| receipts.receipts.iter().filter(|r| r.kind == k).count();
    assert_eq!(
        (
            count("delivered"),
            count("forwarded"),
            count("opened"),
            count("recalled")
        ),
        (1, 4, 3, 1)
    );
    assert!(receipts
        .receipts
        .iter()
        .filter(|r| r.kind == "forwarded")
        .all(|r| r.by_roles == vec!["representative".to_string()]
            && r.holder_roles == vec!["reader".to_string()]));
    let e = x
        .client
        .receipts(&committed.envelope_id)
        .await
        .expect_err("not the sender");
    assert_eq!(e.status(), Some(403));

    // The audit trails verify.
    let report = verify_city(&city, None).await.expect("city trail verifies");
    let actions: Vec<Action> = report.entries.iter().map(|e| e.statement.action).collect();
    use Action::*;
    assert_eq!(
        actions,
        vec![
            RegisterAdmin,
            PublishRevocations,
            Approve,
            Approve,
            Approve,
            Approve,
            Approve,
            Send,
            Forward,
            Recall,
            Forward,
            Open,
            Open,
            Open
        ]
    );
    assert!(
        !report.entries[7].actor_org_pinned,
        "the sender's organization is not pinned here"
    );
    assert_eq!(report.entries[7].actor_name, "県 送信担当");
    let pref_report = flows::audit(&pref.admin.client, pref.record(), None, None, &|_| false)
        .await
        .expect("prefecture trail verifies");
    let pa: Vec<Action> = pref_report
        .entries
        .iter()
        .map(|e| e.statement.action)
        .collect();
    assert_eq!(pa, vec![RegisterAdmin, PublishRevocations, Approve, Send]);
    let anchor = report.anchor.clone().expect("anchor");

    // Tampering with the database directly is detected.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", ts.db_path().display()))
        .await
        .expect("open db");
    for sql in [
        "DROP TRIGGER audit_no_update",
        "DROP TRIGGER audit_no_delete",
    ] {
        sqlx::query(sql).execute(&pool).await.expect("drop trigger");
    }
    let org = city.id();
    let original = trail(&pool, &org).await;
    assert_eq!(original.len(), 14);

    // An edited entry (hashes left alone).
    let mut rows = original.clone();
    let n = rows[2].1.len();
    rows[2].1[n - 100] ^= 1;
    replace_trail(&pool, &org, &rows).await;
    let (seq, why) = failure_seq(verify_city(&city, None).await);
    assert_eq!(seq, 3, "{why}");
    // An edited entry with the whole chain recomputed: the actor's signature catches it.
    rechain(&mut rows);
    replace_trail(&pool, &org, &rows).await;
    let (seq, why) = failure_seq(verify_city(&city, None).await);
    assert_eq!((seq, why.contains("signature")), (3, true), "{why}");
    // A removed entry.
    let mut rows = original.clone();
    rows.remove(3);
    replace_trail(&pool, &org, &rows).await;
    let (seq, why) = failure_seq(verify_city(&city, None).await);
    assert_eq!(seq, 5, "{why}");
    // Two entries swapped.
    let mut rows = original.clone();
    let (a, b) = (rows[3].clone(), rows[4].clone());
    rows[3] = (4, b.1, b.2, b.3, b.4);
    rows[4] = (5, a.1, a.2, a.3, a.4);
    replace_trail(&pool, &org, &rows).await;
    let (seq, why) = failure_seq(verify_city(&city, None).await);
    assert_eq!(seq, 4, "{why}");
    // A removed entry with renumbering and a recomputed chain: only the anchor of an earlier
    // verification can tell (which is why clients keep it).
    let mut rows = original.clone();
    rows.remove(8);
    rechain(&mut rows);
    replace_trail(&pool, &org, &rows).await;
    verify_city(&city, None)
        .await
        .expect("a consistent rewritten trail, without an anchor");
    let (seq, why) = failure_seq(verify_city(&city, Some(&anchor)).await);
    assert_eq!(seq, 14, "{why}");
    // Restored: verifies again, against the anchor too.
    replace_trail(&pool, &org, &original).await;
    verify_city(&city, Some(&anchor)).await.expect("restored");
    pool.close().await;

    // Nothing in the database or the blob directory reveals a key or a plaintext.
    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, o) in [("prefecture", &pref), ("city", &city)] {
        needles.push((
            format!("{name} organization key"),
            o.key.signing_key().to_secret_bytes().to_vec(),
        ));
    }
    for (name, m) in [
        ("prefecture admin", &pref.admin),
        ("city admin", &city.admin),
        ("sender", &sender),
        ("representative", &rep),
        ("x", &x),
        ("y", &y),
        ("w", &w),
        ("z", &z),
    ] {
        needles.push((
            format!("{name} encryption key"),
            m.key.encryption.to_secret_bytes().to_vec(),
        ));
        needles.push((
            format!("{name} signing key"),
            m.key.signing.to_secret_bytes().to_vec(),
        ));
    }
    for (i, b) in bodies.iter().enumerate() {
        needles.push((format!("body {i}"), b.clone()));
        needles.push((
            format!("body {i} (first line)"),
            b[..b.iter().position(|c| *c == b'\n').expect("line")].to_vec(),
        ));
        needles.push((
            format!("body {i} (a middle slice)"),
            b[b.len() / 2..b.len() / 2 + 24].to_vec(),
        ));
        needles.push((
            format!("part name {i}"),
            format!("{}.csv", districts[i].to_lowercase()).into_bytes(),
        ));
        needles.push((
            format!("label {i}"),
            format!("district={}", districts[i]).into_bytes(),
        ));
    }
    needles.push(("title".into(), title.as_bytes().to_vec()));
    needles.push(("category".into(), category.as_bytes().to_vec()));
    let files = files_under(ts.dir.path());
    assert!(
        files.iter().any(|f| f.starts_with(ts.blob_dir())),
        "bodies are stored"
    );
    assert!(files.iter().any(|f| f.ends_with("soshiki.sqlite")));
    // Positive control: the scan does see what the server legitimately stores.
    let public = sender.key.certificate.to_bytes();
    assert!(
        files
            .iter()
            .any(|f| contains(&std::fs::read(f).expect("read"), &public)),
        "the sender's certificate is stored somewhere"
    );
    for f in &files {
        let hay = std::fs::read(f).expect("read");
        for (what, needle) in &needles {
            assert!(!contains(&hay, needle), "{what} found in {}", f.display());
        }
    }
    ts.server.shutdown().await.expect("shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omachi_p256() {
    omachi::<P256>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn omachi_ristretto255() {
    omachi::<Ristretto255>().await;
}
