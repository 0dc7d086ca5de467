//! Finding the compiled module of a program: by inode in the image (and, across
//! processes, through an index by image identity), by identity on a host mount,
//! else by reading, hashing and compiling it.

use std::path::{Path, PathBuf};

use wasmtime::InstancePre;

use crate::wasi::{self, Guest};
use crate::{Runtime, SpawnError, engine, io, mounts};

/// What must be unchanged for a module file to be the same module.
#[derive(Hash, PartialEq, Eq)]
pub(crate) struct ModuleKey {
    ino: fsimage::Ino,
    size: u64,
    mtime: (i64, u32),
    ctime: (i64, u32),
}

impl Runtime {
    /// Makes sure the module at `program` is compiled and cached; returns whether it had to compile.
    pub fn prepare(&self, program: &str) -> Result<bool, SpawnError> {
        self.module(program).map(|(_, compiled)| compiled)
    }

    pub(crate) fn module(&self, program: &str) -> Result<(InstancePre<Guest>, bool), SpawnError> {
        use fsimage::{Errno, FileType};
        // A program below a `-v` mount (`wsh run -v $PWD:/src base /src/app.wasm`) is
        // read from the host directory, within the mount as every guest access is.
        if let Some((mount, rel)) = self.mounts().route(b"/", program.as_bytes()) {
            return self.host_module(program, &mount, &rel);
        }
        let vfs = &self.inner.vfs;
        let creds = self.credentials();
        let not_found = || SpawnError::NotFound(program.to_string());
        let denied = || SpawnError::NotExecutable(program.into(), "Permission denied".into());
        let ino = wasi::access::resolve(vfs, &creds, vfs.root(), program.as_bytes(), true)
            .map_err(|e| match e.errno() {
                Errno::NoEnt | Errno::NotDir => not_found(),
                Errno::Acces => denied(),
                _ => SpawnError::Other(format!("{program}: {e}")),
            })?;
        let st = vfs
            .stat(ino)
            .map_err(|e| SpawnError::Other(format!("{program}: {e}")))?;
        match st.kind {
            FileType::Regular => {}
            FileType::Directory => {
                return Err(SpawnError::NotExecutable(
                    program.into(),
                    "Is a directory".into(),
                ));
            }
            _ => return Err(denied()),
        }
        // execve(2): an execute bit for the caller (root: for anyone), as bash's 126.
        if creds.check(&st, wasi::access::EXEC).is_err() {
            return Err(denied());
        }
        let key = ModuleKey {
            ino,
            size: st.size,
            mtime: (st.mtime.sec, st.mtime.nsec),
            ctime: (st.ctime.sec, st.ctime.nsec),
        };
        if let Some(pre) = self.inner.by_inode.lock().unwrap().get(&key) {
            return Ok((pre.clone(), false));
        }
        let index = self.index_path(&key);
        if let Some(pre) = index.as_deref().and_then(|p| self.indexed_module(p)) {
            self.inner.by_inode.lock().unwrap().insert(key, pre.clone());
            return Ok((pre, false));
        }
        let mut bytes = vec![0u8; st.size as usize];
        let mut at = 0;
        while at < bytes.len() {
            let n = vfs
                .read(ino, at as u64, &mut bytes[at..])
                .map_err(|e| SpawnError::Other(format!("{program}: {e}")))?;
            if n == 0 {
                bytes.truncate(at);
                break;
            }
            at += n;
        }
        let (pre, compiled, digest) = self.compile(program, &bytes)?;
        if let Some(index) = index {
            // Only a hint for later processes: failing to write it costs speed, not correctness.
            let _ = write_index(&index, &digest);
        }
        self.inner.by_inode.lock().unwrap().insert(key, pre.clone());
        Ok((pre, compiled))
    }

    /// [`Runtime::module`] for a program in a host mount: the same checks on the
    /// host file, found in the compiled cache by its contents' digest.
    fn host_module(
        &self,
        program: &str,
        mount: &mounts::Mount,
        rel: &[u8],
    ) -> Result<(InstancePre<Guest>, bool), SpawnError> {
        use fsimage::{Errno, FileType};
        let failed = |e: Errno| match e {
            Errno::NoEnt | Errno::NotDir => SpawnError::NotFound(program.to_string()),
            Errno::Acces | Errno::Perm => {
                SpawnError::NotExecutable(program.into(), "Permission denied".into())
            }
            Errno::IsDir => SpawnError::NotExecutable(program.into(), "Is a directory".into()),
            e => SpawnError::Other(format!(
                "{program}: {}",
                std::io::Error::from_raw_os_error(e.raw())
            )),
        };
        let st = mount.stat(rel, true).map_err(failed)?;
        match st.kind {
            FileType::Regular => {}
            FileType::Directory => return Err(failed(Errno::IsDir)),
            _ => return Err(failed(Errno::Acces)),
        }
        if self.credentials().check(&st, wasi::access::EXEC).is_err() {
            return Err(failed(Errno::Acces));
        }
        let opts = io::OpenOptions {
            read: true,
            ..Default::default()
        };
        let mounts::Opened::File(file) = mount.open(rel, opts, true, false, 0).map_err(failed)?
        else {
            return Err(failed(Errno::IsDir));
        };
        let identity = file.identity();
        if let Some(pre) =
            identity.and_then(|k| self.inner.by_host_file.lock().unwrap().get(&k).cloned())
        {
            return Ok((pre, false));
        }
        let mut bytes = Vec::with_capacity(st.size as usize);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => bytes.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SpawnError::Other(format!("{program}: {e}"))),
            }
        }
        let (pre, compiled, _) = self.compile(program, &bytes)?;
        // Known only if the file did not change while it was read.
        if let Some(k) = identity.filter(|k| file.identity().as_ref() == Some(k)) {
            self.inner
                .by_host_file
                .lock()
                .unwrap()
                .insert(k, pre.clone());
        }
        Ok((pre, compiled))
    }

    /// Compiles (or finds in the cache) the module whose file holds `bytes`.
    fn compile(
        &self,
        program: &str,
        bytes: &[u8],
    ) -> Result<(InstancePre<Guest>, bool, [u8; 32]), SpawnError> {
        // A component (WASI preview 2) has the wasm magic with layer 1 after its version.
        if bytes.starts_with(b"\0asm") && bytes.get(6..8) == Some(&[1, 0]) {
            return Err(SpawnError::NotExecutable(
                program.into(),
                "a WebAssembly component (WASI preview 2): wsh runs core modules \
                 (wasm32-wasip1) only; build for wasm32-wasip1"
                    .into(),
            ));
        }
        // A core wasm module: magic + version 1. Anything else is not runnable here.
        if !bytes.starts_with(b"\0asm\x01\0\0\0") {
            return Err(SpawnError::NotExecutable(
                program.into(),
                "cannot execute binary file: Exec format error".into(),
            ));
        }
        engine::shared()
            .and_then(|s| s.instance_pre(program, bytes, &self.inner.cache_dir, false))
            .map_err(|e| {
                let why = format!("{e}");
                let why = if why.contains("threads must be enabled") {
                    "the module uses threads (a shared memory: wasm32-wasip1-threads), \
                     which wsh does not support: build it for wasm32-wasip1 without threads"
                        .to_string()
                } else {
                    format!("invalid module: {why}")
                };
                SpawnError::NotExecutable(program.into(), why)
            })
    }

    /// Names the image this runtime's file system was opened from (an image id). Then
    /// a module file still as the image has it (same inode, size, mtime and ctime) is
    /// found in the compiled cache by that identity, without reading and hashing its
    /// bytes: the start-up cost of a fresh wsh process. A guest cannot forge a match:
    /// any change to the file sets its ctime to the host's current time.
    pub fn set_image_identity(&self, id: &str) {
        let _ = self.inner.identity.set(id.to_string());
    }

    fn index_path(&self, key: &ModuleKey) -> Option<PathBuf> {
        let id = self.inner.identity.get()?;
        let text = format!(
            "{id}\n{}\n{}\n{}.{}\n{}.{}",
            key.ino, key.size, key.mtime.0, key.mtime.1, key.ctime.0, key.ctime.1
        );
        let name = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()));
        Some(self.inner.cache_dir.join("index").join(name))
    }

    fn indexed_module(&self, index: &Path) -> Option<InstancePre<Guest>> {
        let text = std::fs::read_to_string(index).ok()?;
        let digest: [u8; 32] = hex::decode(text.trim()).ok()?.try_into().ok()?;
        engine::shared()
            .ok()?
            .cached_instance_pre(&digest, &self.inner.cache_dir)
    }
}

/// Records which module digest an index entry names (atomically: temp file + rename).
fn write_index(path: &Path, digest: &[u8; 32]) -> std::io::Result<()> {
    let dir = path.parent().expect("index path has a parent");
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(tmp.path(), hex::encode(digest))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
