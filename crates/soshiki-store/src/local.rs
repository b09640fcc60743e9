//! [`LocalBlobs`]: envelope bodies as files in one directory (the embedded default).
//!
//! `put` writes to a temporary file in the same directory, fsyncs it, renames it to the key and
//! fsyncs the directory: a key names either nothing or the whole, durable blob, even after a
//! crash. Temporary files are named `.tmp-…` (never a valid key); those left by a crashed or
//! cancelled writer are removed by [`LocalBlobs::open`] and [`BlobStore::list`] once they have
//! not been written to for [`STALE_TEMP`].

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use crate::{validate_key, BlobStore, ByteStream, Result, StoreError, Timestamp};

/// Read chunk size for [`BlobStore::get_range`].
const READ_CHUNK: usize = 256 * 1024;

/// A temporary file untouched for this long belongs to a writer that is gone.
pub(crate) const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Prefix of temporary files (a key never starts with a dot).
const TEMP_PREFIX: &str = ".tmp-";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Blobs as files in a directory.
#[derive(Debug, Clone)]
pub struct LocalBlobs {
    dir: PathBuf,
}

fn io_err(what: &str) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |e| crate::counters::blob_error(format!("{what}: {e}"))
}

impl LocalBlobs {
    /// Use `dir` (created if missing) and remove stale temporary files.
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(io_err("create blob directory"))?;
        let blobs = LocalBlobs { dir };
        blobs.scan().await?;
        Ok(blobs)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        validate_key(key)?;
        Ok(self.dir.join(key))
    }

    /// Every key with its modification time; removes stale temporary files on the way.
    async fn scan(&self) -> Result<Vec<(String, Timestamp)>> {
        let mut out = Vec::new();
        let mut rd = tokio::fs::read_dir(&self.dir)
            .await
            .map_err(io_err("list blob directory"))?;
        while let Some(entry) = rd
            .next_entry()
            .await
            .map_err(io_err("list blob directory"))?
        {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let meta = match entry.metadata().await {
                Ok(m) => m,
                // Renamed or removed meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err("blob metadata")(e)),
            };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(UNIX_EPOCH);
            if name.starts_with(TEMP_PREFIX) {
                let age = SystemTime::now()
                    .duration_since(modified)
                    .unwrap_or(Duration::ZERO);
                if age >= STALE_TEMP {
                    match tokio::fs::remove_file(entry.path()).await {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(io_err("remove stale temporary blob")(e)),
                    }
                }
                continue;
            }
            if validate_key(&name).is_err() {
                continue;
            }
            let secs = modified
                .duration_since(UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
                .unwrap_or(0);
            out.push((name, secs));
        }
        out.sort();
        Ok(out)
    }

    async fn sync_dir(&self) -> Result<()> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all())
            .await
            .map_err(|e| crate::counters::blob_error(format!("sync blob directory: {e}")))?
            .map_err(io_err("sync blob directory"))
    }
}

/// Removes the temporary file unless disarmed (also when the `put` future is dropped).
struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put(&self, key: &str, len: u64, mut data: ByteStream) -> Result<()> {
        let dest = self.path(key)?;
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let tmp = self.dir.join(format!(
            "{TEMP_PREFIX}{key}-{}-{}-{nanos}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut guard = TempGuard(Some(tmp.clone()));
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .await
            .map_err(io_err("create temporary blob"))?;
        let mut written: u64 = 0;
        while let Some(chunk) = data.next().await {
            let chunk = chunk.map_err(io_err("blob source"))?;
            written += chunk.len() as u64;
            if written > len {
                return Err(crate::counters::blob_error(format!(
                    "blob {key}: more than the announced {len} bytes"
                )));
            }
            file.write_all(&chunk).await.map_err(io_err("write blob"))?;
        }
        if written != len {
            return Err(crate::counters::blob_error(format!(
                "blob {key}: {written} bytes, expected {len}"
            )));
        }
        file.flush().await.map_err(io_err("write blob"))?;
        file.sync_all().await.map_err(io_err("sync blob"))?;
        drop(file);
        tokio::fs::rename(&tmp, &dest)
            .await
            .map_err(io_err("rename blob"))?;
        guard.0 = None;
        self.sync_dir().await
    }

    async fn get_range(&self, key: &str, offset: u64, len: u64) -> Result<ByteStream> {
        let path = self.path(key)?;
        let mut file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(format!("blob {key}")))
            }
            Err(e) => return Err(io_err("open blob")(e)),
        };
        let size = file
            .metadata()
            .await
            .map_err(io_err("blob metadata"))?
            .len();
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(StoreError::NotFound(format!(
                "blob {key}: range {offset}+{len} beyond its {size} bytes"
            )));
        }
        file.seek(SeekFrom::Start(offset))
            .await
            .map_err(io_err("seek blob"))?;
        let stream = futures::stream::try_unfold((file, len), |(mut file, left)| async move {
            if left == 0 {
                return Ok(None);
            }
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(READ_CHUNK);
            let mut buf = BytesMut::zeroed(want);
            let mut filled = 0;
            while filled < want {
                let n = file.read(&mut buf[filled..]).await?;
                if n == 0 {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "blob shorter than expected",
                    ));
                }
                filled += n;
            }
            let chunk: Bytes = buf.freeze();
            Ok(Some((chunk, (file, left - want as u64))))
        });
        Ok(Box::pin(stream))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => self.sync_dir().await,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err("delete blob")(e)),
        }
    }

    async fn list(&self) -> Result<Vec<(String, Timestamp)>> {
        self.scan().await
    }

    fn local_file(&self, key: &str) -> Option<PathBuf> {
        self.path(key).ok()
    }

    async fn ping(&self) -> Result<()> {
        let meta = tokio::fs::metadata(&self.dir)
            .await
            .map_err(io_err("blob directory"))?;
        if meta.is_dir() {
            Ok(())
        } else {
            Err(crate::counters::blob_error(format!(
                "blob directory {} is not a directory",
                self.dir.display()
            )))
        }
    }
}
