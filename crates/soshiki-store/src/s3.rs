//! [`S3Blobs`]: envelope bodies in an S3-compatible bucket (for several server processes).
//!
//! Small blobs are sent in one request; larger ones as a multipart upload of [`PART_SIZE`]
//! parts with at most [`PARTS_IN_FLIGHT`] uploading at once, so memory stays bounded whatever
//! the blob's size. The object appears only when the upload completes; a failed upload is
//! aborted. An upload cut off by a crash stays an incomplete multipart upload, which is never
//! visible as an object (configure the bucket's lifecycle rule
//! `AbortIncompleteMultipartUpload` to reclaim its space).

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};

use crate::{validate_key, BlobStore, ByteStream, Result, StoreError, Timestamp};

/// Blobs up to this size go in a single request.
const SINGLE_PUT_MAX: u64 = 8 * 1024 * 1024;

/// Multipart part size (S3 needs at least 5 MiB for every part but the last).
pub(crate) const PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts uploading concurrently.
pub(crate) const PARTS_IN_FLIGHT: usize = 2;

/// Blobs in an S3-compatible bucket.
#[derive(Debug, Clone)]
pub struct S3Blobs {
    store: Arc<AmazonS3>,
    prefix: String,
}

fn s3_err(what: String) -> impl Fn(object_store::Error) -> StoreError {
    move |e| match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound(what.clone()),
        e => crate::counters::blob_error(format!("{what}: {e}")),
    }
}

impl S3Blobs {
    /// Open `s3://bucket[/prefix][?endpoint=URL&access_key=…&secret_key=…&region=…&token=…]`.
    /// Missing settings come from the environment (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`, …); the region defaults to
    /// `us-east-1`. An `http://` endpoint is allowed (a server on loopback) and addressed in
    /// path style.
    pub fn open(url: &str) -> Result<Self> {
        let bad = |why: &str| StoreError::Url(format!("{}: {why}", redact(url)));
        let u = url::Url::parse(url).map_err(|e| bad(&e.to_string()))?;
        if u.scheme() != "s3" {
            return Err(bad("expected s3://bucket"));
        }
        let bucket = u
            .host_str()
            .filter(|b| !b.is_empty())
            .ok_or_else(|| bad("no bucket"))?;
        let prefix = u.path().trim_matches('/').to_owned();
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        let mut region_set = std::env::var_os("AWS_REGION").is_some()
            || std::env::var_os("AWS_DEFAULT_REGION").is_some();
        for (k, v) in u.query_pairs() {
            let v = v.into_owned();
            b = match &*k {
                "endpoint" => {
                    let http = v.starts_with("http://");
                    b.with_endpoint(v).with_allow_http(http)
                }
                "access_key" | "access_key_id" => b.with_access_key_id(v),
                "secret_key" | "secret_access_key" => b.with_secret_access_key(v),
                "token" | "session_token" => b.with_token(v),
                "region" => {
                    region_set = true;
                    b.with_region(v)
                }
                other => return Err(bad(&format!("unknown parameter {other:?}"))),
            };
        }
        if !region_set {
            b = b.with_region("us-east-1");
        }
        let store = b
            .build()
            .map_err(|e| StoreError::Url(format!("{}: {e}", redact(url))))?;
        Ok(S3Blobs {
            store: Arc::new(store),
            prefix,
        })
    }

    fn path(&self, key: &str) -> Result<Path> {
        validate_key(key)?;
        Ok(if self.prefix.is_empty() {
            Path::from(key)
        } else {
            Path::from(format!("{}/{key}", self.prefix))
        })
    }

    /// Stream `data` into a multipart upload, checking its length.
    async fn feed(
        w: &mut WriteMultipart,
        key: &str,
        len: u64,
        first: Vec<Bytes>,
        mut data: ByteStream,
    ) -> Result<()> {
        let mut written: u64 = 0;
        for chunk in first {
            written += chunk.len() as u64;
            w.wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(s3_err(format!("upload blob {key}")))?;
            w.put(chunk);
        }
        while let Some(chunk) = data.next().await {
            let chunk =
                chunk.map_err(|e| crate::counters::blob_error(format!("blob source: {e}")))?;
            written += chunk.len() as u64;
            if written > len {
                return Err(crate::counters::blob_error(format!(
                    "blob {key}: more than the announced {len} bytes"
                )));
            }
            w.wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(s3_err(format!("upload blob {key}")))?;
            w.put(chunk);
        }
        if written != len {
            return Err(crate::counters::blob_error(format!(
                "blob {key}: {written} bytes, expected {len}"
            )));
        }
        Ok(())
    }
}

/// A URL without its secret key, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let hidden = matches!(
                        &*k,
                        "secret_key" | "secret_access_key" | "token" | "session_token"
                    );
                    (
                        k.into_owned(),
                        if hidden {
                            "***".to_owned()
                        } else {
                            v.into_owned()
                        },
                    )
                })
                .collect();
            if !pairs.is_empty() {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, key: &str, len: u64, mut data: ByteStream) -> Result<()> {
        let path = self.path(key)?;
        // Buffer up to SINGLE_PUT_MAX: a small blob goes in one request.
        let mut first = Vec::new();
        let mut buffered: u64 = 0;
        let mut ended = false;
        while buffered <= SINGLE_PUT_MAX {
            match data.next().await {
                None => {
                    ended = true;
                    break;
                }
                Some(chunk) => {
                    let chunk = chunk
                        .map_err(|e| crate::counters::blob_error(format!("blob source: {e}")))?;
                    buffered += chunk.len() as u64;
                    if buffered > len {
                        return Err(crate::counters::blob_error(format!(
                            "blob {key}: more than the announced {len} bytes"
                        )));
                    }
                    first.push(chunk);
                }
            }
        }
        if ended {
            if buffered != len {
                return Err(crate::counters::blob_error(format!(
                    "blob {key}: {buffered} bytes, expected {len}"
                )));
            }
            self.store
                .put(&path, PutPayload::from_iter(first))
                .await
                .map_err(s3_err(format!("put blob {key}")))?;
            return Ok(());
        }
        let upload = self
            .store
            .put_multipart(&path)
            .await
            .map_err(s3_err(format!("start upload of blob {key}")))?;
        let mut w = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match Self::feed(&mut w, key, len, first, data).await {
            Ok(()) => {
                w.finish()
                    .await
                    .map_err(s3_err(format!("complete upload of blob {key}")))?;
                Ok(())
            }
            Err(e) => {
                // Nothing becomes visible; the parts already sent are discarded.
                let _ = w.abort().await;
                Err(e)
            }
        }
    }

    async fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<ByteStream> {
        let path = self.path(key)?;
        let beyond = |size: u64| {
            StoreError::NotFound(format!(
                "blob {key}: range {offset}+{len} beyond its {size} bytes"
            ))
        };
        let end = offset.checked_add(len).ok_or_else(|| beyond(u64::MAX))?;
        if len == 0 {
            let meta = self
                .store
                .head(&path)
                .await
                .map_err(s3_err(format!("blob {key}")))?;
            if offset > meta.size {
                return Err(beyond(meta.size));
            }
            return Ok(Box::pin(futures::stream::empty()));
        }
        let opts = GetOptions::new().with_range(Some(offset..end));
        let got = match self.store.get_opts(&path, opts).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::NotFound(format!("blob {key}")))
            }
            Err(e) => {
                // Tell a range past the end from a failure.
                return match self.store.head(&path).await {
                    Ok(meta) if end > meta.size => Err(beyond(meta.size)),
                    _ => Err(crate::counters::blob_error(format!("get blob {key}: {e}"))),
                };
            }
        };
        if got.range != (offset..end) {
            return Err(beyond(got.meta.size));
        }
        let key = key.to_owned();
        Ok(Box::pin(got.into_stream().map_err(move |e| {
            std::io::Error::other(format!("read blob {key}: {e}"))
        })))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(crate::counters::blob_error(format!(
                "delete blob {key}: {e}"
            ))),
        }
    }

    async fn list(&self) -> Result<Vec<(String, Timestamp)>> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let metas: Vec<_> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(s3_err("list blobs".to_owned()))?;
        let mut out = Vec::with_capacity(metas.len());
        for m in metas {
            let Some(name) = m.location.filename() else {
                continue;
            };
            // Only direct children of the prefix that are valid keys.
            if self.path(name).ok().as_ref() != Some(&m.location) {
                continue;
            }
            out.push((name.to_owned(), m.last_modified.timestamp()));
        }
        out.sort();
        Ok(out)
    }

    async fn ping(&self) -> Result<()> {
        // A HEAD of a key that is never written: "not found" proves the bucket answers.
        let probe = self.path("readiness-probe")?;
        match self.store.head(&probe).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(crate::counters::blob_error(format!("S3 readiness: {e}"))),
        }
    }
}
