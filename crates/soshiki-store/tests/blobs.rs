//! The `BlobStore` contract: one suite, run against every backend.
//!
//! Local files always (a fresh directory per test); S3-compatible storage when
//! `SOSHIKI_TEST_S3_URL` is set (`s3://bucket?endpoint=…&access_key=…&secret_key=…`; a fresh
//! prefix per test). With `SOSHIKI_REQUIRE_SERVICES=1` a missing URL fails.

mod common;

use std::pin::Pin;
use std::process::Command;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use soshiki_store::{open_blobs, BlobStore, ByteStream, StoreError};

// ---------------------------------------------------------------------------------------------
// backends

struct Blobs {
    store: Box<dyn BlobStore>,
    url: String,
    /// The directory of a local store (to look for leftovers).
    dir: Option<tempfile::TempDir>,
}

async fn local_blobs() -> Blobs {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("file://{}", dir.path().join("blobs").display());
    Blobs {
        store: open_blobs(&url).await.expect("open local blobs"),
        url,
        dir: Some(dir),
    }
}

/// The S3 URL with a fresh prefix (`s3://bucket/prefix?…`).
fn s3_url(test: &str) -> Option<String> {
    let base = common::service_url("SOSHIKI_TEST_S3_URL", test)?;
    let mut u = url::Url::parse(&base).expect("SOSHIKI_TEST_S3_URL is a URL");
    let prefix = common::unique_name("t").replace('_', "-");
    u.set_path(&format!("/{prefix}"));
    Some(u.to_string())
}

async fn s3_blobs(test: &str) -> Option<Blobs> {
    let url = s3_url(test)?;
    Some(Blobs {
        store: open_blobs(&url).await.expect("open S3 blobs"),
        url,
        dir: None,
    })
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod local {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&super::local_blobs().await).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(b) = super::s3_blobs(concat!("s3::", stringify!($name))).await {
                        super::$name(&b).await;
                    }
                }
            )*
        }
    };
}

suite!(
    put_get_range_delete_list,
    invalid_keys_are_refused,
    failed_put_leaves_nothing,
    failed_put_of_large_blob_leaves_nothing,
    failed_put_keeps_the_previous_blob,
    cancelled_put_leaves_nothing,
    large_blob_streams_in_constant_memory,
);

// ---------------------------------------------------------------------------------------------
// helpers

/// Deterministic pseudo-random content: byte `i` of a blob with `seed`.
fn content(seed: u64, offset: u64, len: usize) -> Vec<u8> {
    (offset..offset + len as u64)
        .map(|i| {
            let x = (i ^ seed.rotate_left(17)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (x >> 56) as u8
        })
        .collect()
}

/// A stream of `len` bytes of [`content`] in `chunk`-sized pieces, produced lazily.
fn source(seed: u64, len: u64, chunk: usize) -> ByteStream {
    Box::pin(futures::stream::unfold(0u64, move |at| async move {
        if at >= len {
            return None;
        }
        let n = chunk.min((len - at) as usize);
        Some((Ok(Bytes::from(content(seed, at, n))), at + n as u64))
    }))
}

/// `len` bytes, then an I/O error.
fn failing_source(seed: u64, good: u64, chunk: usize) -> ByteStream {
    Box::pin(
        source(seed, good, chunk).chain(futures::stream::once(async {
            Err(std::io::Error::other("client went away"))
        })),
    )
}

async fn read_all(mut s: ByteStream) -> Result<Vec<u8>, std::io::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out)
}

async fn get(b: &dyn BlobStore, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
    let s = b.get_range(key, offset, len).await?;
    read_all(s)
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))
}

async fn keys(b: &dyn BlobStore) -> Vec<String> {
    b.list()
        .await
        .expect("list")
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Files in the local store's directory whose names are not keys (temporary leftovers).
fn leftovers(b: &Blobs) -> Vec<String> {
    let Some(dir) = &b.dir else { return Vec::new() };
    std::fs::read_dir(dir.path().join("blobs"))
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// behaviours

async fn put_get_range_delete_list(b: &Blobs) {
    let s = &*b.store;
    assert!(keys(s).await.is_empty());
    let len = 300_000u64;
    s.put("0a1b2c", len, source(1, len, 7_000))
        .await
        .expect("put");
    s.put("empty", 0, source(2, 0, 1)).await.expect("put empty");
    s.put("small-1", 5, source(3, 5, 2))
        .await
        .expect("put small");

    assert_eq!(
        get(s, "0a1b2c", 0, len).await.expect("whole"),
        content(1, 0, len as usize)
    );
    assert_eq!(
        get(s, "0a1b2c", 12_345, 100_000).await.expect("range"),
        content(1, 12_345, 100_000)
    );
    assert_eq!(
        get(s, "0a1b2c", len - 1, 1).await.expect("last byte"),
        content(1, len - 1, 1)
    );
    assert_eq!(
        get(s, "0a1b2c", len, 0)
            .await
            .expect("empty range at the end"),
        b""
    );
    assert_eq!(get(s, "empty", 0, 0).await.expect("empty blob"), b"");
    assert_eq!(
        get(s, "small-1", 1, 3).await.expect("small"),
        content(3, 1, 3)
    );
    assert!(
        matches!(
            get(s, "0a1b2c", len - 10, 11).await,
            Err(StoreError::NotFound(_))
        ),
        "past the end"
    );
    assert!(
        matches!(
            get(s, "0a1b2c", len + 5, 1).await,
            Err(StoreError::NotFound(_))
        ),
        "after the end"
    );
    assert!(
        matches!(
            get(s, "0a1b2c", u64::MAX, 2).await,
            Err(StoreError::NotFound(_))
        ),
        "overflow"
    );
    assert!(matches!(
        get(s, "missing", 0, 1).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        get(s, "missing", 0, 0).await,
        Err(StoreError::NotFound(_))
    ));

    let listed = s.list().await.expect("list");
    assert_eq!(
        listed.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["0a1b2c", "empty", "small-1"]
    );
    for (k, t) in &listed {
        assert!(
            (now() - 600..=now() + 600).contains(t),
            "{k}: modification time {t} is now"
        );
    }

    // Overwrite.
    s.put("small-1", 4, source(9, 4, 4))
        .await
        .expect("overwrite");
    assert_eq!(
        get(s, "small-1", 0, 4).await.expect("new content"),
        content(9, 0, 4)
    );

    s.delete("0a1b2c").await.expect("delete");
    assert!(matches!(
        get(s, "0a1b2c", 0, 1).await,
        Err(StoreError::NotFound(_))
    ));
    s.delete("0a1b2c").await.expect("delete is idempotent");
    s.delete("never-was")
        .await
        .expect("delete of a missing key");
    assert_eq!(keys(s).await, ["empty", "small-1"]);
    assert!(leftovers(b).is_empty());
}

async fn invalid_keys_are_refused(b: &Blobs) {
    let s = &*b.store;
    let long = "a".repeat(soshiki_store::MAX_BLOB_KEY_LEN + 1);
    for key in [
        "",
        "../escape",
        "a/b",
        "..",
        ".hidden",
        "-option",
        "UPPER",
        "a b",
        "ключ",
        "a\0b",
        "a.b",
        long.as_str(),
    ] {
        assert!(s.put(key, 1, source(1, 1, 1)).await.is_err(), "put {key:?}");
        assert!(s.get_range(key, 0, 0).await.is_err(), "get {key:?}");
        assert!(s.delete(key).await.is_err(), "delete {key:?}");
    }
    let longest = "b".repeat(soshiki_store::MAX_BLOB_KEY_LEN);
    s.put(&longest, 1, source(1, 1, 1))
        .await
        .expect("the longest key");
    assert_eq!(keys(s).await, [longest]);
    if let Some(dir) = &b.dir {
        assert!(!dir.path().join("escape").exists());
    }
}

async fn failed_put_leaves_nothing(b: &Blobs) {
    let s = &*b.store;
    // The stream fails after some bytes.
    assert!(s
        .put("k1", 100_000, failing_source(1, 50_000, 10_000))
        .await
        .is_err());
    // It ends early.
    assert!(s
        .put("k2", 100_000, source(1, 99_999, 10_000))
        .await
        .is_err());
    // It carries more than announced.
    assert!(s
        .put("k3", 100_000, source(1, 100_001, 10_000))
        .await
        .is_err());
    for k in ["k1", "k2", "k3"] {
        assert!(
            matches!(get(s, k, 0, 0).await, Err(StoreError::NotFound(_))),
            "{k} is not visible"
        );
    }
    assert!(keys(s).await.is_empty());
    assert!(
        leftovers(b).is_empty(),
        "no temporary file left: {:?}",
        leftovers(b)
    );
}

async fn failed_put_of_large_blob_leaves_nothing(b: &Blobs) {
    // Past the single-request size: the S3 store is in a multipart upload when this fails.
    let s = &*b.store;
    let len = 24 << 20;
    assert!(s
        .put("big1", len, failing_source(2, 20 << 20, 1 << 20))
        .await
        .is_err());
    assert!(s
        .put("big2", len, source(2, len - 1, 1 << 20))
        .await
        .is_err());
    assert!(s
        .put("big3", len, source(2, len + 1, 1 << 20))
        .await
        .is_err());
    for k in ["big1", "big2", "big3"] {
        assert!(
            matches!(get(s, k, 0, 1).await, Err(StoreError::NotFound(_))),
            "{k} is not visible"
        );
    }
    assert!(keys(s).await.is_empty());
    assert!(leftovers(b).is_empty());
}

async fn failed_put_keeps_the_previous_blob(b: &Blobs) {
    let s = &*b.store;
    s.put("kept", 1000, source(5, 1000, 100))
        .await
        .expect("put");
    assert!(s
        .put("kept", 2000, failing_source(6, 1500, 100))
        .await
        .is_err());
    assert_eq!(
        get(s, "kept", 0, 1000).await.expect("still there"),
        content(5, 0, 1000)
    );
    assert_eq!(keys(s).await, ["kept"]);
}

/// A stream that yields `first` and then never ends; `started` fires when it is pending.
struct Stalled {
    first: Option<Bytes>,
    started: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Stream for Stalled {
    type Item = std::io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(b) = self.first.take() {
            return Poll::Ready(Some(Ok(b)));
        }
        if let Some(tx) = self.started.take() {
            let _ = tx.send(());
        }
        Poll::Pending
    }
}

async fn cancelled_put_leaves_nothing(b: &Blobs) {
    // The server drops the put when the client disconnects.
    let s = &*b.store;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let stalled = Stalled {
        first: Some(Bytes::from(content(7, 0, 64 * 1024))),
        started: Some(tx),
    };
    let put = s.put("cancelled", 1 << 20, Box::pin(stalled));
    tokio::select! {
        r = put => panic!("the put cannot finish: {r:?}"),
        _ = rx => {}
    }
    assert!(matches!(
        get(s, "cancelled", 0, 0).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(keys(s).await.is_empty());
    assert!(
        leftovers(b).is_empty(),
        "the temporary file went with the put: {:?}",
        leftovers(b)
    );
}

/// Size of the large blob.
const LARGE: u64 = 96 << 20;
/// How much the peak resident memory may grow while putting and reading it back.
const LARGE_MEMORY_BUDGET_KIB: u64 = 48 << 10;

async fn large_blob_streams_in_constant_memory(b: &Blobs) {
    // Run in a child process, whose peak resident memory is its own.
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new(exe)
        .args([
            "large_blob_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SOSHIKI_LARGE_BLOB_URL", &b.url)
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    const TAG: &str = "LARGE_BLOB_MEMORY_GROWTH_KIB=";
    let at = stdout
        .find(TAG)
        .unwrap_or_else(|| panic!("the child did not run the test:\n{stdout}\n{stderr}"));
    let growth: u64 = stdout[at + TAG.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("number");
    eprintln!(
        "{}: peak memory grew {growth} KiB for a {} MiB blob",
        b.url.split('?').next().unwrap_or(""),
        LARGE >> 20
    );
}

/// Peak and current resident memory of this process, KiB (Linux).
fn memory_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmHWM:")?, field("VmRSS:")?))
}

/// The body of `large_blob_streams_in_constant_memory`, in its own process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by large_blob_streams_in_constant_memory in a child process"]
async fn large_blob_child() {
    let Ok(url) = std::env::var("SOSHIKI_LARGE_BLOB_URL") else {
        return;
    };
    let s = open_blobs(&url).await.expect("open");
    let before = memory_kib();

    let chunk = 256 * 1024;
    s.put("large", LARGE, source(11, LARGE, chunk))
        .await
        .expect("put large blob");

    // Read it back whole, hashing as it streams, and compare with the source's hash.
    let mut expected = Sha256::new();
    let mut src = source(11, LARGE, chunk);
    while let Some(c) = src.next().await {
        expected.update(c.expect("source"));
    }
    let mut got = Sha256::new();
    let mut n = 0u64;
    let mut stream = s.get_range("large", 0, LARGE).await.expect("get");
    while let Some(c) = stream.next().await {
        let c = c.expect("read");
        n += c.len() as u64;
        got.update(&c);
    }
    assert_eq!(n, LARGE);
    assert_eq!(got.finalize(), expected.finalize(), "content");
    let mid = LARGE / 2 - 1000;
    assert_eq!(
        get(&*s, "large", mid, 5000).await.expect("range"),
        content(11, mid, 5000)
    );
    s.delete("large").await.expect("delete");

    if let (Some((_, rss_before)), Some((peak, _))) = (before, memory_kib()) {
        let growth = peak.saturating_sub(rss_before);
        println!("LARGE_BLOB_MEMORY_GROWTH_KIB={growth}");
        assert!(
            growth < LARGE_MEMORY_BUDGET_KIB,
            "peak memory grew {growth} KiB for a {} KiB blob: not streaming",
            LARGE >> 10
        );
    } else {
        eprintln!("no /proc/self/status: memory not measured");
        println!("LARGE_BLOB_MEMORY_GROWTH_KIB=0");
    }
}
