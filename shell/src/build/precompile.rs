//! Compiling the WebAssembly programs a COPY or ADD brings into an image while the
//! image is built, so that the first `wsh run` of them starts at once (a big module
//! takes minutes to compile). Programs are executable files with the wasm magic; the
//! compiled forms go to the same cache `wsh run` reads.

use std::path::Path;
use std::time::Instant;

use fsimage::{FileType, Ino, Vfs};

use super::output::Progress;

/// A module found in the new layer: its path in the image and its bytes.
pub(super) struct Found {
    path: String,
    bytes: Vec<u8>,
}

/// At most this many bytes of modules are held for compiling after one step.
const MAX_TOTAL: usize = 2 << 30;

/// The executable core modules at or under `dest` in `vfs` (symlinks not followed).
pub(super) fn modules_at(vfs: &Vfs, dest: &str) -> Vec<Found> {
    let mut found = Vec::new();
    let mut total = 0;
    if let Ok(ino) = vfs.resolve(vfs.root(), dest.as_bytes(), true) {
        let dest = if dest == "/" {
            ""
        } else {
            dest.trim_end_matches('/')
        };
        walk(vfs, ino, dest, &mut found, &mut total);
    }
    found
}

fn walk(vfs: &Vfs, ino: Ino, path: &str, found: &mut Vec<Found>, total: &mut usize) {
    let Ok(st) = vfs.stat(ino) else { return };
    match st.kind {
        FileType::Directory => {
            for e in vfs.readdir(ino).unwrap_or_default() {
                if e.name == b"." || e.name == b".." {
                    continue;
                }
                let child = format!("{path}/{}", String::from_utf8_lossy(&e.name));
                walk(vfs, e.ino, &child, found, total);
            }
        }
        FileType::Regular if st.mode & 0o111 != 0 && *total + st.size as usize <= MAX_TOTAL => {
            let mut magic = [0u8; 8];
            if vfs.read(ino, 0, &mut magic).ok() != Some(8) || &magic != b"\0asm\x01\0\0\0" {
                return;
            }
            let mut bytes = vec![0u8; st.size as usize];
            let mut at = 0;
            while at < bytes.len() {
                match vfs.read(ino, at as u64, &mut bytes[at..]) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => at += n,
                }
            }
            *total += bytes.len();
            found.push(Found {
                path: path.to_string(),
                bytes,
            });
        }
        _ => {}
    }
}

/// Compiles `modules` into the cache in `cache_dir`, saying on stderr which ones took
/// over a second (name, size, time). A module that does not compile is not the step's
/// failure (Docker copies any file): it gets a warning, and `run` will say the same.
pub(super) fn compile(modules: Vec<Found>, cache_dir: &Path, progress: &Progress) {
    for m in modules {
        let size = format!("{:.1} MB", m.bytes.len() as f64 / 1e6);
        progress.detail(&format!("compiling {} ({size})", m.path));
        let t = Instant::now();
        match wsh_runtime::precompile(&m.path, &m.bytes, cache_dir) {
            Ok(true) if t.elapsed().as_secs_f64() > 1.0 => progress.line(&format!(
                "    compiled {} ({size}) in {:.1}s",
                m.path,
                t.elapsed().as_secs_f64()
            )),
            Ok(_) => {}
            Err(e) => progress.line(&format!(
                "    warning: {} will not run: invalid module: {e:#}",
                m.path
            )),
        }
    }
}
