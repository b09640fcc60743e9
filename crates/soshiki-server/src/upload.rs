//! Uploads: the pending state between `POST /v1/envelopes` and `PUT /v1/uploads/{id}`, kept in
//! the blob store (so that any server process behind a load balancer can take the `PUT`) and
//! claimed by an upload record in the store (`soshiki_store::UploadRow`): the record expires
//! [`START_TTL`] after the `POST` unless a `PUT` starts, which renews it for [`RUN_TTL`] and
//! names the fresh body blob it writes. The orphan collector keeps exactly the blobs that live
//! records and committed envelopes claim, whatever their age; and the stream
//! adaptor that hashes each part's body while it is written and checks every signed digest
//! **before** the last byte is handed to the blob store.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use soshiki_proto::B64;
use soshiki_store::{BlobStore, ByteStream, StoreError};

use crate::error::{ApiError, ApiResult};

/// How long a pending upload waits for its `PUT` (seconds).
pub const START_TTL: i64 = 3600;
/// How long a `PUT`, once started, may take to commit (seconds): a slower upload is refused at
/// commit (410 `upload-expired`) rather than ever committing a collected blob.
pub const RUN_TTL: i64 = 24 * 3600;

/// What the `PUT` needs to know about an upload.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingUpload {
    /// Suite wire value.
    pub suite: u16,
    /// The sender (who must make the `PUT`).
    pub actor_cert: String,
    /// Envelope id.
    pub envelope_id: String,
    /// Sender's organization.
    pub sender_org: String,
    /// Recipient organization.
    pub recipient_org: String,
    /// Recipient certificate.
    pub recipient_cert: String,
    /// The sender's signed `send` statement.
    pub statement: B64,
    /// Exact length of the bodies.
    pub bodies_len: u64,
    /// Per part, in order: body length and signed digest (hex).
    pub parts: Vec<(u64, String)>,
    /// Length of the header stored after the JSON.
    pub header_len: u64,
}

/// Blob key of a pending upload.
pub fn pending_key(upload_id: &str) -> String {
    format!("upload-{upload_id}")
}

/// A pending upload's record: `u32(json length) ‖ json ‖ header`.
pub fn encode(p: &PendingUpload, header: &[u8]) -> ApiResult<Vec<u8>> {
    let json = serde_json::to_vec(p).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut buf = Vec::with_capacity(4 + json.len() + header.len());
    buf.extend_from_slice(&(json.len() as u32).to_be_bytes());
    buf.extend_from_slice(&json);
    buf.extend_from_slice(header);
    Ok(buf)
}

/// Store a pending upload's record ([`encode`]).
pub async fn save(blobs: &dyn BlobStore, upload_id: &str, buf: Vec<u8>) -> ApiResult<()> {
    let len = buf.len() as u64;
    let stream: ByteStream = Box::pin(futures::stream::once(async move { Ok(Bytes::from(buf)) }));
    blobs.put(&pending_key(upload_id), len, stream).await?;
    Ok(())
}

async fn read_range(
    blobs: &dyn BlobStore,
    key: &str,
    offset: u64,
    len: u64,
) -> Result<Vec<u8>, StoreError> {
    let mut s = blobs.get_range(key, offset, len).await?;
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 26));
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.map_err(|e| StoreError::Backend(e.to_string()))?);
    }
    Ok(out)
}

/// Load a pending upload and its header.
pub async fn load(blobs: &dyn BlobStore, upload_id: &str) -> ApiResult<(PendingUpload, Vec<u8>)> {
    let key = pending_key(upload_id);
    let not_found = |e: StoreError| match e {
        StoreError::NotFound(_) => ApiError::NotFound(
            "unknown or finished upload: create it again with POST /v1/envelopes".into(),
        ),
        other => other.into(),
    };
    let head = read_range(blobs, &key, 0, 4).await.map_err(not_found)?;
    let json_len = u32::from_be_bytes(
        head.as_slice()
            .try_into()
            .map_err(|_| ApiError::Internal("pending upload record".into()))?,
    );
    let json = read_range(blobs, &key, 4, json_len as u64)
        .await
        .map_err(not_found)?;
    let p: PendingUpload = serde_json::from_slice(&json)
        .map_err(|e| ApiError::Internal(format!("pending upload: {e}")))?;
    let header = read_range(blobs, &key, 4 + json_len as u64, p.header_len)
        .await
        .map_err(not_found)?;
    Ok((p, header))
}

/// Why an upload's bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// More bytes than announced.
    TooLong(u64),
    /// Fewer bytes than announced.
    TooShort(u64, u64),
    /// A part's body does not match the sender's signed digest.
    Digest(u32),
    /// The request body could not be read (the client went away, or sent a broken body).
    Read(String),
}

impl Fault {
    /// A message for the client.
    pub fn message(&self) -> String {
        match self {
            Fault::TooLong(n) => format!("the body is longer than the announced {n} bytes"),
            Fault::TooShort(got, n) => {
                format!("the body ended after {got} of the announced {n} bytes")
            }
            Fault::Digest(i) => {
                format!("the body of part {i} does not match the sender's signed digest")
            }
            Fault::Read(e) => format!("the upload was interrupted: {e}"),
        }
    }
}

/// Hashes the bodies part by part.
struct Checker {
    parts: Vec<(u64, [u8; 32])>,
    index: usize,
    in_part: u64,
    hasher: Sha256,
    total: u64,
    expected: u64,
}

impl Checker {
    fn feed(&mut self, mut data: &[u8]) -> Result<(), Fault> {
        self.total += data.len() as u64;
        if self.total > self.expected {
            return Err(Fault::TooLong(self.expected));
        }
        while !data.is_empty() {
            let (len, digest) = self.parts[self.index];
            let take = (len - self.in_part).min(data.len() as u64) as usize;
            self.hasher.update(&data[..take]);
            self.in_part += take as u64;
            data = &data[take..];
            if self.in_part == len {
                let d: [u8; 32] = self.hasher.finalize_reset().into();
                if d != digest {
                    return Err(Fault::Digest(self.index as u32));
                }
                self.index += 1;
                self.in_part = 0;
            }
        }
        Ok(())
    }

    fn finish(&self) -> Result<(), Fault> {
        if self.total < self.expected {
            Err(Fault::TooShort(self.total, self.expected))
        } else {
            Ok(())
        }
    }
}

/// Wrap the request body: every chunk is hashed before it is passed on; the chunk that
/// completes a part is passed on only if the part's digest matches, and the stream fails (so
/// the blob store keeps nothing) on any mismatch, excess or shortfall. The first fault is
/// recorded in `fault`.
pub fn checked_stream<E: std::fmt::Display + Send + 'static>(
    body: impl Stream<Item = Result<Bytes, E>> + Send + 'static,
    parts: Vec<(u64, [u8; 32])>,
    expected: u64,
    fault: Arc<Mutex<Option<Fault>>>,
) -> ByteStream {
    let checker = Checker {
        parts,
        index: 0,
        in_part: 0,
        hasher: Sha256::new(),
        total: 0,
        expected,
    };
    let record = move |f: Fault, slot: &Arc<Mutex<Option<Fault>>>| {
        let msg = f.message();
        if let Ok(mut g) = slot.lock() {
            g.get_or_insert(f);
        }
        std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
    };
    let s = futures::stream::unfold(
        (Box::pin(body), checker, fault, false),
        move |(mut body, mut checker, fault, done)| async move {
            if done {
                return None;
            }
            match body.next().await {
                Some(Ok(chunk)) => match checker.feed(&chunk) {
                    Ok(()) => Some((Ok(chunk), (body, checker, fault, false))),
                    Err(f) => {
                        let e = record(f, &fault);
                        Some((Err(e), (body, checker, fault, true)))
                    }
                },
                Some(Err(e)) => {
                    let e = record(Fault::Read(e.to_string()), &fault);
                    Some((Err(e), (body, checker, fault, true)))
                }
                None => match checker.finish() {
                    Ok(()) => None,
                    Err(f) => {
                        let e = record(f, &fault);
                        Some((Err(e), (body, checker, fault, true)))
                    }
                },
            }
        },
    );
    Box::pin(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(
        chunks: Vec<&'static [u8]>,
        parts: Vec<(u64, [u8; 32])>,
        expected: u64,
    ) -> (Vec<u8>, Option<Fault>, bool) {
        let fault = Arc::new(Mutex::new(None));
        let body = futures::stream::iter(
            chunks
                .into_iter()
                .map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c))),
        );
        let mut s = checked_stream(body, parts, expected, fault.clone());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("rt");
        let (out, failed) = rt.block_on(async move {
            let mut out = Vec::new();
            let mut failed = false;
            while let Some(c) = s.next().await {
                match c {
                    Ok(b) => out.extend_from_slice(&b),
                    Err(_) => failed = true,
                }
            }
            (out, failed)
        });
        let f = fault.lock().expect("lock").clone();
        (out, f, failed)
    }

    fn d(b: &[u8]) -> [u8; 32] {
        Sha256::digest(b).into()
    }

    #[test]
    fn checks_each_part_across_chunk_boundaries() {
        let parts = vec![(5, d(b"hello")), (6, d(b" world"))];
        let (out, f, failed) = run(vec![b"hel", b"lo wo", b"rld"], parts.clone(), 11);
        assert_eq!(out, b"hello world");
        assert_eq!(f, None);
        assert!(!failed);
        // The last chunk, which completes a bad part, is never passed on.
        let (out, f, failed) = run(vec![b"hel", b"lo wo", b"rlD"], parts.clone(), 11);
        assert_eq!(out, b"hello wo");
        assert_eq!(f, Some(Fault::Digest(1)));
        assert!(failed);
        let (_, f, _) = run(vec![b"hello", b" world", b"!"], parts.clone(), 11);
        assert_eq!(f, Some(Fault::TooLong(11)));
        let (_, f, failed) = run(vec![b"hello", b" wor"], parts, 11);
        assert_eq!(f, Some(Fault::TooShort(9, 11)));
        assert!(failed);
    }
}
