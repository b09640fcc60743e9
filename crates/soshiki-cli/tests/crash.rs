//! Crash safety of the embedded server (issue 3, "Storage and deployment"): a delivery becomes
//! visible only after its body is durably written and its database transaction commits.
//!
//! The real `soshiki serve` binary runs on a fresh data directory (SQLite and local body files)
//! and is killed with SIGKILL, many times, while sends of multi-MiB envelopes are uploading and
//! while forwards, recalls and opens are in flight; then it is restarted on the same directory.
//! After every restart:
//! - every operation the client got a success answer for is there, as answered (store and API);
//! - nothing is half-visible: every envelope's body file exists with its full length, every
//!   delivery in every inbox downloads completely, verifies and decrypts to exactly what was
//!   sent (plaintexts are derived from the part names, so unacknowledged but committed sends
//!   are checked too), and the inboxes the API shows are exactly the store's rows;
//! - no forward is half-applied: a delivery is `forwarded` exactly when its live children cover
//!   all its parts, children never overlap, a recalled delivery has no capsules left.
//!
//! Orphan collection: the server's maintenance task runs once when it starts and deletes blobs
//! that neither an envelope nor a live upload record claims (temporary files of interrupted
//! writes older than an hour likewise). Before each restart the test lets the time pass: it
//! ages every file in the blob directory by two hours and expires every upload record, so the
//! restarted binary collects under live traffic; at the end
//! it checks, after one quiet restart, that the blob directory holds exactly the bodies of the
//! committed envelopes.

mod support;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rand_core::{OsRng, RngCore};
use soshiki_client::flows::{self, OutgoingPart, PartData, SendOptions};
use soshiki_client::proto::json::{DeliveryInfo, NewDelivery};
use soshiki_client::ClientError;
use soshiki_core::cert::{Roles, VerifiedCertificate};
use soshiki_core::envelope::PartInfo;
use soshiki_store::DeliveryStatus;
use support::*;

/// Kill-and-restart rounds.
const ROUNDS: usize = 20;
/// Sends started per round.
const SENDS_PER_ROUND: usize = 3;
/// Largest part (a send has one or two parts: at most 8 MiB of bodies).
const MAX_PART: usize = 4 << 20;
/// Smallest part.
const MIN_PART: usize = 256 << 10;

fn rand_below(n: u64) -> u64 {
    OsRng.next_u64() % n.max(1)
}

#[derive(Clone, Debug)]
struct AckedSend {
    envelope: String,
    delivery: String,
    parts: Vec<(u64, usize)>,
}

#[derive(Clone, Debug)]
struct AckedForward {
    parent: String,
    children: Vec<NewDelivery>,
}

#[derive(Debug)]
enum Done {
    Sent(AckedSend),
    Forwarded(AckedForward),
    Recalled(String),
    Opened(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Send,
    Forward,
    Recall,
    Open,
}

/// What the client saw of one operation.
type Outcome = (Kind, Result<Done, String>);

/// Whether a client error is the connection to the killed server failing.
fn is_cut(e: &ClientError) -> bool {
    matches!(e, ClientError::Transport(_) | ClientError::Io(_))
}

#[derive(Debug, Default)]
struct Tally {
    rounds: usize,
    kills_during_upload: usize,
    started: HashMap<Kind, usize>,
    acked: HashMap<Kind, usize>,
    cut: HashMap<Kind, usize>,
    in_flight_at_kill: usize,
    committed_unacked_sends: usize,
    downloads_verified: usize,
    bytes_verified: u64,
    acked_checked: usize,
    orphans_collected_live: usize,
}

/// The organizations and members of the test.
struct World {
    sender_org: Org,
    city: Org,
    sender: Member,
    /// Representative and forwarder; also a reader, so that the test can download and check
    /// every first delivery.
    rep: Member,
    readers: Vec<Member>,
    rep_cert: VerifiedCertificate<S>,
}

impl World {
    fn holders(&self) -> Vec<&Member> {
        let mut v = vec![&self.rep];
        v.extend(self.readers.iter());
        v
    }

    fn member(&self, cert: &str) -> &Member {
        self.holders()
            .into_iter()
            .find(|m| m.id() == cert)
            .unwrap_or_else(|| panic!("unknown holder {cert}"))
    }

    fn reconnect(&mut self, url: &str) {
        for m in [
            &mut self.sender,
            &mut self.rep,
            &mut self.sender_org.admin,
            &mut self.city.admin,
        ] {
            m.reconnect(url);
        }
        for m in &mut self.readers {
            m.reconnect(url);
        }
    }
}

/// What the test knows the server must still hold.
#[derive(Default)]
struct Ledger {
    sends: Vec<AckedSend>,
    forwards: Vec<AckedForward>,
    recalls: Vec<String>,
    opens: Vec<String>,
    /// Deliveries downloaded, verified and decrypted once.
    verified: HashSet<String>,
}

// ---------------------------------------------------------------------------------------------
// Operations

fn spawn_send(
    w: &World,
    upload_started: Arc<AtomicBool>,
    pending: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<Outcome> {
    let client = w.sender.client.clone();
    let key = flows::copy_member_key(&w.sender.key).expect("key copy");
    let to = w.rep_cert.clone();
    let n_parts = 1 + rand_below(2) as usize;
    let specs: Vec<(u64, usize)> = (0..n_parts)
        .map(|_| {
            let len = MIN_PART + rand_below((MAX_PART - MIN_PART) as u64) as usize;
            (OsRng.next_u64(), len)
        })
        .collect();
    tokio::spawn(async move {
        let parts: Vec<OutgoingPart> = specs
            .iter()
            .map(|(seed, len)| OutgoingPart {
                info: PartInfo {
                    name: part_name(*seed, *len),
                    labels: vec![],
                },
                data: PartData::Bytes(part_bytes(*seed, *len)),
            })
            .collect();
        let total: usize = specs.iter().map(|s| s.1).sum();
        let flag = upload_started.clone();
        let progress: soshiki_client::Progress = Arc::new(move |n| {
            // Bodies are slightly longer than the plaintext; any progress short of the end
            // means bytes are on the wire.
            if n > 0 && (n as usize) < total {
                flag.store(true, Ordering::SeqCst);
            }
        });
        let opts = SendOptions {
            title: "crash test".into(),
            category: "test".into(),
            chunk_size: 64 * 1024,
            temp_dir: None,
        };
        let r = flows::send(&client, &key, &to, &opts, parts, Some(progress)).await;
        pending.fetch_sub(1, Ordering::SeqCst);
        let r = match r {
            Ok(c) => Ok(Done::Sent(AckedSend {
                envelope: c.envelope_id,
                delivery: c.delivery_id,
                parts: specs,
            })),
            Err(e) if is_cut(&e) => Err(format!("cut: {e}")),
            Err(e) => Err(format!("UNEXPECTED: {e}")),
        };
        (Kind::Send, r)
    })
}

fn spawn_forward(
    w: &World,
    parent: &DeliveryInfo,
    pending: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<Outcome> {
    let client = w.rep.client.clone();
    let key = flows::copy_member_key(&w.rep.key).expect("key copy");
    let parts = parent.forwardable_parts.clone();
    let first = rand_below(w.readers.len() as u64) as usize;
    // One part per reader when there are two; a single part to a random reader.
    let plan: Vec<(String, Vec<u32>)> = parts
        .iter()
        .enumerate()
        .map(|(i, p)| (w.readers[(first + i) % w.readers.len()].id(), vec![*p]))
        .collect();
    let id = parent.id.clone();
    tokio::spawn(async move {
        let r = flows::forward(&client, &key, &id, &plan).await;
        pending.fetch_sub(1, Ordering::SeqCst);
        let r = match r {
            Ok(res) => Ok(Done::Forwarded(AckedForward {
                parent: id,
                children: res.deliveries,
            })),
            Err(e) if is_cut(&e) => Err(format!("cut: {e}")),
            Err(e) => Err(format!("UNEXPECTED: forward {id}: {e}")),
        };
        (Kind::Forward, r)
    })
}

fn spawn_recall(
    w: &World,
    child: &DeliveryInfo,
    pending: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<Outcome> {
    let client = w.rep.client.clone();
    let key = flows::copy_member_key(&w.rep.key).expect("key copy");
    let id = child.id.clone();
    tokio::spawn(async move {
        let r = flows::recall(&client, &key, &id).await;
        pending.fetch_sub(1, Ordering::SeqCst);
        let r = match r {
            Ok(info) if info.status == "recalled" => Ok(Done::Recalled(id)),
            Ok(info) => Err(format!(
                "UNEXPECTED: recall of {id} answered status {}",
                info.status
            )),
            Err(e) if is_cut(&e) => Err(format!("cut: {e}")),
            Err(e) => Err(format!("UNEXPECTED: recall {id}: {e}")),
        };
        (Kind::Recall, r)
    })
}

fn spawn_open(
    reader: &Member,
    child: &DeliveryInfo,
    pending: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<Outcome> {
    let client = reader.client.clone();
    let key = flows::copy_member_key(&reader.key).expect("key copy");
    let id = child.id.clone();
    tokio::spawn(async move {
        let dir = tempfile::tempdir().expect("tmp");
        let r = flows::open(&client, &key, &id, dir.path(), None).await;
        pending.fetch_sub(1, Ordering::SeqCst);
        let r = match r {
            Ok(opened) => {
                let mut bad = None;
                for p in &opened.parts {
                    let data = std::fs::read(&p.path).expect("opened part");
                    let ok = parse_part_name(&p.info.name)
                        .is_some_and(|(seed, len)| data == part_bytes(seed, len));
                    if !ok {
                        bad = Some(format!(
                            "UNEXPECTED: opened part {} of {id} differs from what was sent",
                            p.index
                        ));
                    }
                }
                match bad {
                    Some(b) => Err(b),
                    None => Ok(Done::Opened(id)),
                }
            }
            Err(e) if is_cut(&e) => Err(format!("cut: {e}")),
            Err(e) => Err(format!("UNEXPECTED: open {id}: {e}")),
        };
        (Kind::Open, r)
    })
}

// ---------------------------------------------------------------------------------------------
// Checks

fn sqlite_url(data: &Path) -> String {
    format!("sqlite://{}", data.join("soshiki.sqlite").display())
}

/// Names of the files in the blob directory.
fn blob_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("blob directory")
        .map(|e| {
            e.expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .collect()
}

/// Move every file's modification time two hours back: the hour after which the collector
/// considers an unreferenced blob (or a temporary file) abandoned has passed.
fn age_blob_files(dir: &Path) {
    let then = SystemTime::now() - Duration::from_secs(2 * 3600);
    for name in blob_files(dir) {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(&name))
            .expect("open blob file");
        f.set_modified(then).expect("set mtime");
    }
}

/// Let the uploads' lifetimes pass (the server is down): orphan collection decides from the
/// upload records, never from file times, so "an hour later" means the records expired.
async fn expire_upload_records(data: &Path) {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(data.join("soshiki.sqlite"))
        .connect()
        .await
        .expect("open the server's database");
    sqlx::query("UPDATE uploads SET expires = 0")
        .execute(&mut conn)
        .await
        .expect("expire upload records");
}

/// What the store holds, checked for consistency while the server is down.
struct StoreView {
    /// Blob keys of committed envelopes.
    referenced: BTreeSet<String>,
    /// Delivery ids by holder.
    by_holder: HashMap<String, BTreeSet<String>>,
    /// Every delivery's status and parts.
    statuses: HashMap<String, (DeliveryStatus, Vec<u32>, Option<String>, String)>,
    envelopes: usize,
}

async fn check_store(data: &Path, w: &World, ledger: &Ledger) -> StoreView {
    let store = soshiki_store::open_store(&sqlite_url(data))
        .await
        .expect("open the server's database");
    let blob_dir = data.join("blobs");
    let rep_id = w.rep.id();
    let sender_id = w.sender.id();
    let firsts = store
        .inbox(
            &rep_id,
            None,
            soshiki_store::PageRequest::first(soshiki_store::MAX_PAGE),
        )
        .await
        .map(|p| p.items)
        .expect("rep inbox");
    let referenced: BTreeSet<String> = store
        .referenced_blob_keys()
        .await
        .expect("referenced keys")
        .into_iter()
        .collect();
    let mut envelopes = BTreeSet::new();
    let mut view = StoreView {
        referenced: referenced.clone(),
        by_holder: HashMap::new(),
        statuses: HashMap::new(),
        envelopes: 0,
    };
    for f in firsts.iter().filter(|d| d.parent.is_none()) {
        envelopes.insert(f.envelope_id.clone());
    }
    let mut keys_seen = BTreeSet::new();
    for env_id in &envelopes {
        let env = store.envelope(env_id).await.expect("envelope row");
        assert!(!env.body_removed, "envelope {env_id}: body removed");
        assert_eq!(env.sender_cert, sender_id);
        keys_seen.insert(env.blob_key.clone());
        // The body is there, whole, before anything made it visible.
        let meta = std::fs::metadata(blob_dir.join(&env.blob_key)).unwrap_or_else(|e| {
            panic!(
                "envelope {env_id} is committed but its body {} is missing: {e}",
                env.blob_key
            )
        });
        assert_eq!(
            meta.len(),
            env.bodies_len,
            "envelope {env_id}: body file of {} bytes, {} committed",
            meta.len(),
            env.bodies_len
        );
        let all = store.deliveries_of(env_id).await.expect("deliveries");
        let roots: Vec<_> = all.iter().filter(|d| d.parent.is_none()).collect();
        assert_eq!(roots.len(), 1, "envelope {env_id}: one first delivery");
        assert_eq!(roots[0].holder_cert, rep_id);
        for d in &all {
            view.by_holder
                .entry(d.holder_cert.clone())
                .or_default()
                .insert(d.id.clone());
            view.statuses.insert(
                d.id.clone(),
                (
                    d.status,
                    d.parts.clone(),
                    d.parent.clone(),
                    d.holder_cert.clone(),
                ),
            );
            if let Some(p) = &d.parent {
                assert!(
                    all.iter().any(|x| &x.id == p),
                    "delivery {} names a parent {p} that does not exist",
                    d.id
                );
            }
            assert_eq!(
                d.header.is_empty(),
                d.status == DeliveryStatus::Recalled,
                "delivery {}: status {:?} with a header of {} bytes",
                d.id,
                d.status,
                d.header.len()
            );
            let live: Vec<_> = all
                .iter()
                .filter(|c| c.parent.as_deref() == Some(d.id.as_str()))
                .filter(|c| c.status != DeliveryStatus::Recalled)
                .collect();
            let mut taken: Vec<u32> = live.iter().flat_map(|c| c.parts.clone()).collect();
            let n = taken.len();
            taken.sort_unstable();
            taken.dedup();
            assert_eq!(
                n,
                taken.len(),
                "delivery {}: a part is held by two live children",
                d.id
            );
            assert!(
                taken.iter().all(|p| d.parts.contains(p)),
                "delivery {}: a child holds a part its parent does not",
                d.id
            );
            let all_taken = d.parts.iter().all(|p| taken.contains(p));
            match d.status {
                DeliveryStatus::Forwarded => assert!(
                    all_taken,
                    "half-applied forward: delivery {} is forwarded but its live children hold \
                     only parts {taken:?} of {:?}",
                    d.id, d.parts
                ),
                DeliveryStatus::Delivered => assert!(
                    !all_taken,
                    "half-applied forward: delivery {} is still delivered although its live \
                     children hold all its parts {:?}",
                    d.id, d.parts
                ),
                DeliveryStatus::Opened | DeliveryStatus::Recalled | DeliveryStatus::Expired => {
                    assert!(
                        live.is_empty(),
                        "delivery {} ({:?}) has live children",
                        d.id,
                        d.status
                    )
                }
            }
        }
    }
    view.envelopes = envelopes.len();
    assert_eq!(
        keys_seen, referenced,
        "the envelopes reachable from the representative's inbox are not all the committed ones"
    );
    // Nothing acknowledged is lost.
    for s in &ledger.sends {
        let env = store
            .envelope(&s.envelope)
            .await
            .unwrap_or_else(|e| panic!("acknowledged send {} lost: {e}", s.envelope));
        let total: u64 = s.parts.iter().map(|p| p.1 as u64).sum();
        assert!(env.bodies_len >= total, "envelope {}: bodies", s.envelope);
        let d = store
            .delivery(&s.delivery)
            .await
            .unwrap_or_else(|e| panic!("acknowledged delivery {} lost: {e}", s.delivery));
        assert_eq!(d.envelope_id, s.envelope);
        assert_eq!(d.parts.len(), s.parts.len());
    }
    for f in &ledger.forwards {
        let (status, _, _, _) = view
            .statuses
            .get(&f.parent)
            .unwrap_or_else(|| panic!("forwarded parent {} lost", f.parent));
        assert_ne!(*status, DeliveryStatus::Recalled);
        for c in &f.children {
            let (_, parts, parent, holder) = view
                .statuses
                .get(&c.id)
                .unwrap_or_else(|| panic!("acknowledged forward {} -> {} lost", f.parent, c.id));
            assert_eq!(parent.as_deref(), Some(f.parent.as_str()));
            assert_eq!(holder, &c.holder_cert);
            assert_eq!(parts, &c.parts);
        }
    }
    for r in &ledger.recalls {
        assert_eq!(
            view.statuses.get(r).map(|s| s.0),
            Some(DeliveryStatus::Recalled),
            "acknowledged recall of {r}"
        );
    }
    for o in &ledger.opens {
        assert_eq!(
            view.statuses.get(o).map(|s| s.0),
            Some(DeliveryStatus::Opened),
            "acknowledged open of {o}"
        );
    }
    view
}

/// Through the restarted server: every inbox is exactly the store's, every acknowledged change
/// shows, and every delivery not checked before downloads, verifies and decrypts to what was
/// sent. Returns every holder's inbox.
async fn check_api(
    w: &World,
    view: &StoreView,
    ledger: &mut Ledger,
    tally: &mut Tally,
    spare_for_recall: bool,
) -> HashMap<String, Vec<DeliveryInfo>> {
    let mut inboxes = HashMap::new();
    for m in w.holders() {
        let inbox = m.client.inbox(None).await.expect("inbox");
        let ids: BTreeSet<String> = inbox.iter().map(|d| d.id.clone()).collect();
        let empty = BTreeSet::new();
        assert_eq!(
            &ids,
            view.by_holder.get(&m.id()).unwrap_or(&empty),
            "{}: the inbox differs from the committed deliveries",
            m.name
        );
        inboxes.insert(m.id(), inbox);
    }
    assert!(w.sender.client.inbox(None).await.expect("inbox").is_empty());
    let find = |id: &str| -> &DeliveryInfo {
        inboxes
            .values()
            .flatten()
            .find(|d| d.id == id)
            .unwrap_or_else(|| panic!("delivery {id} is not in any inbox"))
    };
    for s in &ledger.sends {
        let d = find(&s.delivery);
        assert_eq!(d.envelope_id, s.envelope);
        assert!(d.body_available);
        tally.acked_checked += 1;
    }
    for f in &ledger.forwards {
        for c in &f.children {
            let d = find(&c.id);
            assert_eq!(d.parent.as_deref(), Some(f.parent.as_str()));
            assert_eq!(d.parts, c.parts);
            tally.acked_checked += 1;
        }
    }
    for r in &ledger.recalls {
        assert_eq!(find(r).status, "recalled");
        tally.acked_checked += 1;
    }
    for o in &ledger.opens {
        assert_eq!(find(o).status, "opened");
        tally.acked_checked += 1;
    }
    let acked_parts: HashMap<&str, &Vec<(u64, usize)>> = ledger
        .sends
        .iter()
        .map(|s| (s.delivery.as_str(), &s.parts))
        .collect();
    for (holder, inbox) in &inboxes {
        let m = w.member(holder);
        for d in inbox {
            if ledger.verified.contains(&d.id)
                || !matches!(d.status.as_str(), "delivered" | "opened")
            {
                continue;
            }
            // A download makes a delivery unrecallable (the server records it): during the
            // rounds, half of the readers' undownloaded deliveries are left for the next
            // round's recall; the final check verifies whatever is left.
            if spare_for_recall
                && d.parent.is_some()
                && d.status == "delivered"
                && d.downloaded.is_none()
                && rand_below(2) == 0
            {
                continue;
            }
            let got = download_and_decrypt(&m.client, &m.key, &d.id)
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "delivery {} held by {} is visible but broken: {e}",
                        d.id, m.name
                    )
                });
            assert_eq!(got.envelope_id, d.envelope_id);
            let indices: Vec<u32> = got.parts.iter().map(|p| p.0).collect();
            // A holder downloads only the parts it still holds (not forwarded onward).
            let away: Vec<u32> = d
                .forwards
                .iter()
                .filter(|f| f.status != "recalled")
                .flat_map(|f| f.parts.iter().copied())
                .collect();
            let held: Vec<u32> = d
                .parts
                .iter()
                .copied()
                .filter(|p| !away.contains(p))
                .collect();
            assert_eq!(indices, held, "delivery {}: parts", d.id);
            check_generated(&got).unwrap_or_else(|e| panic!("delivery {}: {e}", d.id));
            if let Some(spec) = acked_parts.get(d.id.as_str()) {
                let names: Vec<String> = got.parts.iter().map(|p| p.1.clone()).collect();
                let want: Vec<String> = held
                    .iter()
                    .map(|i| {
                        let (s, l) = spec[*i as usize];
                        part_name(s, l)
                    })
                    .collect();
                assert_eq!(names, want, "delivery {}: not the parts sent", d.id);
            }
            tally.downloads_verified += 1;
            tally.bytes_verified += got.parts.iter().map(|p| p.2.len() as u64).sum::<u64>();
            ledger.verified.insert(d.id.clone());
        }
    }
    inboxes
}

// ---------------------------------------------------------------------------------------------

async fn setup(url: &str) -> World {
    let sender_org = create_org(url, "Crash Prefecture").await;
    let city = create_org(url, "Crash City").await;
    let sender = enroll(url, &sender_org, "Sender", Roles::READER).await;
    let rep = enroll(
        url,
        &city,
        "Reception",
        Roles::REPRESENTATIVE
            .union(Roles::FORWARDER)
            .union(Roles::READER),
    )
    .await;
    let readers = vec![
        enroll(url, &city, "Officer A", Roles::READER).await,
        enroll(url, &city, "Officer B", Roles::READER).await,
    ];
    let city_record = flows::fetch_organization::<S>(&sender.client, &city.id())
        .await
        .expect("fetch city");
    assert_eq!(city_record.fingerprint(), city.record().fingerprint());
    let rep_cert = flows::representative(&sender.client, &city_record)
        .await
        .expect("representative");
    World {
        sender_org,
        city,
        sender,
        rep,
        readers,
        rep_cert,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_uploads_and_forwards_loses_nothing_and_shows_nothing_half_done() {
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("tmp");
    let data: PathBuf = tmp.path().join("data");
    let blob_dir = data.join("blobs");
    let mut server = Server::spawn(&data, free_port(), &[]);
    server.wait_ready().await;
    let url = server.url();
    let mut w = setup(&url).await;
    let mut ledger = Ledger::default();
    let mut tally = Tally::default();
    let mut inboxes: HashMap<String, Vec<DeliveryInfo>> = HashMap::new();
    // Unreferenced files aged before the last restart, to see the running server collect them.
    let mut aged_orphans: BTreeSet<String> = BTreeSet::new();

    for round in 0..ROUNDS {
        let upload_started = Arc::new(AtomicBool::new(false));
        let pending = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..SENDS_PER_ROUND {
            pending.fetch_add(1, Ordering::SeqCst);
            tasks.push(spawn_send(&w, upload_started.clone(), pending.clone()));
        }
        // Forwards of delivered first deliveries (already verified), recalls and opens of
        // children in the readers' inboxes; never two operations on one delivery.
        let rep_inbox = inboxes.get(&w.rep.id()).cloned().unwrap_or_default();
        let forwardable: Vec<&DeliveryInfo> = rep_inbox
            .iter()
            .filter(|d| d.status == "delivered" && !d.forwardable_parts.is_empty())
            .collect();
        let mut forwarding = HashSet::new();
        for d in forwardable.iter().take(2) {
            pending.fetch_add(1, Ordering::SeqCst);
            tasks.push(spawn_forward(&w, d, pending.clone()));
            forwarding.insert(d.id.clone());
        }
        // A recall racing a forward of the same parent is a concurrency question, not a crash
        // one: keep them apart here.
        let mut children: Vec<(usize, DeliveryInfo)> = Vec::new();
        for (i, r) in w.readers.iter().enumerate() {
            for d in inboxes.get(&r.id()).into_iter().flatten() {
                let parent_busy = d.parent.as_ref().is_some_and(|p| forwarding.contains(p));
                if d.status == "delivered" && !parent_busy {
                    children.push((i, d.clone()));
                }
            }
        }
        // Only a delivery never downloaded can be recalled (not one the checks downloaded, nor
        // one an open killed in an earlier round downloaded without marking it opened).
        let recallable: Vec<usize> = (0..children.len())
            .filter(|i| {
                let d = &children[*i].1;
                d.downloaded.is_none() && !ledger.verified.contains(&d.id)
            })
            .collect();
        if !recallable.is_empty() {
            let pick = recallable[rand_below(recallable.len() as u64) as usize];
            let (_, c) = children.swap_remove(pick);
            pending.fetch_add(1, Ordering::SeqCst);
            tasks.push(spawn_recall(&w, &c, pending.clone()));
        }
        if !children.is_empty() {
            let (i, c) = children.swap_remove(rand_below(children.len() as u64) as usize);
            pending.fetch_add(1, Ordering::SeqCst);
            tasks.push(spawn_open(&w.readers[i], &c, pending.clone()));
        }
        let n_tasks = tasks.len();

        // The kill: half the rounds while an upload's bytes are on the wire, the others at a
        // random moment (header upload, commit, forward, recall, open).
        let mode = rand_below(4);
        if mode < 2 {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !upload_started.load(Ordering::SeqCst)
                && pending.load(Ordering::SeqCst) > 0
                && Instant::now() < deadline
            {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_millis(rand_below(60))).await;
        } else {
            let max = if mode == 2 { 300 } else { 1500 };
            tokio::time::sleep(Duration::from_millis(rand_below(max))).await;
        }
        let in_flight = pending.load(Ordering::SeqCst);
        let uploading = upload_started.load(Ordering::SeqCst) && in_flight > 0;
        server.kill();
        tally.in_flight_at_kill += in_flight;
        tally.kills_during_upload += usize::from(uploading);

        let mut unexpected = Vec::new();
        for t in tasks {
            let (kind, r) = t.await.expect("operation task");
            *tally.started.entry(kind).or_default() += 1;
            match r {
                Ok(done) => {
                    *tally.acked.entry(kind).or_default() += 1;
                    match done {
                        Done::Sent(s) => ledger.sends.push(s),
                        Done::Forwarded(f) => ledger.forwards.push(f),
                        Done::Recalled(id) => ledger.recalls.push(id),
                        Done::Opened(id) => ledger.opens.push(id),
                    }
                }
                Err(e) if e.starts_with("cut:") => *tally.cut.entry(kind).or_default() += 1,
                Err(e) => unexpected.push(e),
            }
        }
        assert!(
            unexpected.is_empty(),
            "round {round}: operations failed other than by the kill: {unexpected:?}\n{}",
            server.log_text()
        );

        // Server down: the committed state must be consistent and hold every acknowledged
        // change.
        let view = check_store(&data, &w, &ledger).await;
        let files = blob_files(&blob_dir);
        tally.orphans_collected_live += aged_orphans.difference(&files).count();
        aged_orphans = files
            .iter()
            .filter(|f| !view.referenced.contains(*f))
            .cloned()
            .collect();
        let acked_sends: HashSet<&str> = ledger.sends.iter().map(|s| s.envelope.as_str()).collect();
        tally.committed_unacked_sends = view.envelopes - acked_sends.len();
        age_blob_files(&blob_dir);
        expire_upload_records(&data).await;

        // Restart on the same directory and address; its first maintenance pass now collects
        // the aged orphans while the checks and the next round run.
        server.restart();
        server.wait_ready().await;
        w.reconnect(&url);
        inboxes = check_api(&w, &view, &mut ledger, &mut tally, true).await;
        tally.rounds += 1;
        eprintln!(
            "round {round}: {n_tasks} operations, {in_flight} in flight at the kill{}, \
             {} envelopes committed, {} blob files ({} unreferenced)",
            if uploading {
                " (upload on the wire)"
            } else {
                ""
            },
            view.envelopes,
            files.len(),
            aged_orphans.len()
        );
    }

    // Orphan collection, quietly: one more send killed while its bytes are on the wire (so
    // that there is something to collect), age everything, restart, and the blob directory
    // must become exactly the committed envelopes' bodies.
    let mut attempts = 0;
    let (view, before) = loop {
        attempts += 1;
        let upload_started = Arc::new(AtomicBool::new(false));
        let pending = Arc::new(AtomicUsize::new(1));
        let task = spawn_send(&w, upload_started.clone(), pending.clone());
        while !upload_started.load(Ordering::SeqCst) && pending.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        server.kill();
        if let (_, Ok(Done::Sent(s))) = task.await.expect("send task") {
            ledger.sends.push(s);
        }
        let view = check_store(&data, &w, &ledger).await;
        let before = blob_files(&blob_dir);
        if before.iter().any(|f| !view.referenced.contains(f)) || attempts == 5 {
            break (view, before);
        }
        server.restart();
        server.wait_ready().await;
        w.reconnect(&url);
    };
    let temps = before.iter().filter(|f| f.starts_with(".tmp-")).count();
    let pending_uploads = before.iter().filter(|f| f.starts_with("upload-")).count();
    let unreferenced: Vec<&String> = before
        .iter()
        .filter(|f| !view.referenced.contains(*f))
        .collect();
    assert!(
        view.referenced.iter().all(|k| before.contains(k)),
        "a committed body is missing"
    );
    assert!(
        !unreferenced.is_empty(),
        "{attempts} sends killed during their upload left nothing to collect"
    );
    age_blob_files(&blob_dir);
    expire_upload_records(&data).await;
    server.restart();
    server.wait_ready().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut after = blob_files(&blob_dir);
    while after != view.referenced && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = blob_files(&blob_dir);
    }
    let left: Vec<&String> = after.difference(&view.referenced).collect();
    assert!(
        left.is_empty(),
        "after the restart's maintenance pass, the blob directory still holds files no committed \
         envelope references: {left:?}\n{}",
        server.log_text()
    );
    assert_eq!(after, view.referenced);
    eprintln!(
        "orphan collection: {} files before ({} referenced bodies, {} unreferenced: {} temporary \
         files, {} pending-upload records, {} bodies without envelope), {} after; {} collected \
         by the restarted servers under traffic during the rounds",
        before.len(),
        view.referenced.len(),
        unreferenced.len(),
        temps,
        pending_uploads,
        unreferenced.len() - temps - pending_uploads,
        after.len(),
        tally.orphans_collected_live
    );

    // Collection removed nothing that is needed: every acknowledged, still-readable delivery
    // downloads and decrypts again; the audit trails (written in the same transactions) verify.
    w.reconnect(&url);
    ledger.verified.clear();
    let mut again = Tally::default();
    check_api(&w, &view, &mut ledger, &mut again, false).await;
    for org in [&w.sender_org, &w.city] {
        let report = flows::audit(&org.admin.client, org.record(), None, None, &|_| false)
            .await
            .unwrap_or_else(|e| panic!("audit trail of {}: {e}", org.record().name));
        assert!(!report.entries.is_empty());
    }
    server.kill();

    let get = |m: &HashMap<Kind, usize>, k| m.get(&k).copied().unwrap_or(0);
    eprintln!(
        "crash test: {} rounds in {:.1} s; {} kills with an upload on the wire; {} operations in \
         flight at the kills; sends {} started / {} acknowledged / {} cut ({} committed without \
         an answer); forwards {}/{}/{}; recalls {}/{}/{}; opens {}/{}/{}; {} acknowledged results \
         checked after restarts; {} deliveries downloaded and decrypted ({} MiB), {} again after \
         orphan collection",
        tally.rounds,
        started.elapsed().as_secs_f64(),
        tally.kills_during_upload,
        tally.in_flight_at_kill,
        get(&tally.started, Kind::Send),
        get(&tally.acked, Kind::Send),
        get(&tally.cut, Kind::Send),
        tally.committed_unacked_sends,
        get(&tally.started, Kind::Forward),
        get(&tally.acked, Kind::Forward),
        get(&tally.cut, Kind::Forward),
        get(&tally.started, Kind::Recall),
        get(&tally.acked, Kind::Recall),
        get(&tally.cut, Kind::Recall),
        get(&tally.started, Kind::Open),
        get(&tally.acked, Kind::Open),
        get(&tally.cut, Kind::Open),
        tally.acked_checked,
        tally.downloads_verified,
        tally.bytes_verified >> 20,
        again.downloads_verified,
    );
    // The test must actually have interrupted work, not only killed idle servers.
    assert!(tally.in_flight_at_kill > 0 && get(&tally.cut, Kind::Send) > 0);
    assert!(get(&tally.acked, Kind::Forward) > 0 && get(&tally.acked, Kind::Send) > 0);
}
