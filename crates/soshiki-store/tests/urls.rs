//! Backend selection from URLs, and what error messages may show.

use soshiki_store::{open_blobs, open_store, S3Blobs, StoreError};

#[tokio::test]
async fn store_urls() {
    for url in [
        "mysql://localhost/db",
        "",
        "/var/lib/soshiki/db.sqlite",
        "redis://x",
    ] {
        assert!(
            matches!(open_store(url).await, Err(StoreError::Url(_))),
            "{url:?}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/a/../db.sqlite?mode=rwc", dir.path().display());
    std::fs::create_dir(dir.path().join("a")).expect("mkdir");
    open_store(&url).await.expect("sqlite URL with mode=rwc");
    assert!(dir.path().join("db.sqlite").exists());
    // Opening again finds the migrations applied.
    open_store(&url).await.expect("reopen");
    // mode=rw does not create.
    let missing = format!("sqlite://{}/missing.sqlite?mode=rw", dir.path().display());
    assert!(open_store(&missing).await.is_err());
    assert!(!dir.path().join("missing.sqlite").exists());
    // In memory is refused: the guarantees need a file.
    for url in ["sqlite::memory:", "sqlite://?mode=memory"] {
        assert!(
            matches!(open_store(url).await, Err(StoreError::Url(_))),
            "{url:?}"
        );
    }
}

#[tokio::test]
async fn blob_urls() {
    for url in [
        "ftp://host/dir",
        "",
        "http://127.0.0.1:9000/bucket",
        "s3://",
        "file://relative",
    ] {
        assert!(
            matches!(open_blobs(url).await, Err(StoreError::Url(_))),
            "{url:?}"
        );
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("plain");
    open_blobs(&plain.display().to_string())
        .await
        .expect("plain path");
    assert!(plain.is_dir(), "created");
    let url = format!("file://{}", dir.path().join("viaurl").display());
    open_blobs(&url).await.expect("file URL");
    assert!(dir.path().join("viaurl").is_dir());
}

#[test]
fn s3_urls_keep_secrets_out_of_errors() {
    let err =
        S3Blobs::open("s3://bucket?endpoint=http://127.0.0.1:9&secret_key=hunter2&colour=red")
            .expect_err("unknown parameter");
    let text = err.to_string();
    assert!(text.contains("colour"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "the secret stays out of messages: {text}"
    );
    S3Blobs::open("s3://bucket/some/prefix?endpoint=http://127.0.0.1:9&access_key=a&secret_key=b&region=eu-west-1")
        .expect("a valid URL (no request is made)");
}
