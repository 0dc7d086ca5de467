//! OCI interop: `wsh save` writes an image as an OCI image-layout archive (with a
//! `docker save` style `manifest.json` beside it), `wsh load` reads such archives and
//! `docker save` archives made by other tools back into the store.
//!
//! A wsh layer is a qcow2 overlay of an ext4 image; an OCI layer is a tar of the
//! changes against its parent. Saving compares each layer's tree with its parent's
//! (`diff.rs`); loading replays each tar, whiteouts first, on a new overlay (`apply.rs`).

mod apply;
pub mod cp;
mod diff;
mod load;
mod save;

use std::io::{Read, Write};

use sha2::{Digest, Sha256};

pub use load::{LoadReport, load};
pub use save::{SaveReport, save};

/// The annotation OCI image layouts name an image by.
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Wraps a writer, hashing and counting what passes through.
struct HashWriter<W> {
    inner: W,
    hash: Sha256,
    len: u64,
}

impl<W: Write> HashWriter<W> {
    fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hash: Sha256::new(),
            len: 0,
        }
    }

    /// The sha256 (hex) and length of everything written, and the inner writer.
    fn finish(self) -> (String, u64, W) {
        (hex::encode(self.hash.finalize()), self.len, self.inner)
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Wraps a reader, hashing and counting what is read through it.
struct HashReader<R> {
    inner: R,
    hash: Sha256,
    len: u64,
}

impl<R: Read> HashReader<R> {
    fn new(inner: R) -> Self {
        HashReader {
            inner,
            hash: Sha256::new(),
            len: 0,
        }
    }

    /// Reads what is left, then gives the sha256 (hex) and length of it all.
    fn finish(mut self) -> std::io::Result<(String, u64)> {
        std::io::copy(&mut self, &mut std::io::sink())?;
        Ok((hex::encode(self.hash.finalize()), self.len))
    }
}

impl<R: Read> Read for HashReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

/// Seconds since the epoch as RFC 3339 (what OCI's `created` fields hold).
fn rfc3339(secs: u64) -> String {
    chrono::DateTime::from_timestamp(secs as i64, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An RFC 3339 time as seconds since the epoch (0 if absent or unreadable).
fn parse_rfc3339(s: Option<&String>) -> u64 {
    s.and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .map_or(0, |t| t.timestamp().max(0) as u64)
}

/// sha256 of `data`, in hex.
fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
