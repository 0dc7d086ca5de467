//! qcow2 layers (through the `imago` crate): a block device over a qcow2 file and
//! its chain of backing files. Writes land in the top file only, in 4 KiB clusters,
//! so a 1-byte change costs one data cluster plus the metadata that maps it.

use std::io;
use std::path::{Path, PathBuf};

use imago::file::File;
use imago::qcow2::Qcow2;
use imago::{
    DenyImplicitOpenGate, FormatAccess, FormatCreateBuilder, FormatDriverBuilder, Mapping, Storage,
    StorageCreateOptions, StorageOpenOptions,
};

use crate::device::{BlockDevice, CHUNK, HostSpace};
use crate::error::{Error, Result};

/// Cluster size of every layer wsh writes: one ext4 block, so copy-on-write never
/// copies more than the block that changed.
pub const CLUSTER_SIZE: usize = CHUNK;

/// Longest backing chain accepted (guards against a cycle of backing files).
const MAX_CHAIN: usize = 1024;

/// Backing chains at least this long are read through a flattened copy when the
/// caller keeps one (see [`Qcow2Device::open_flat`]): opening a layer loads its
/// whole L1 table (64 KiB for a 16 GiB image), and every read of a block the
/// upper layers do not hold walks the chain, so start-up grew with depth.
pub const FLATTEN_DEPTH: usize = 8;

/// A qcow2 file (plus its backing chain) used as a block device.
pub struct Qcow2Device {
    image: FormatAccess<File>,
    path: PathBuf,
    size: u64,
    writable: bool,
    space: HostSpace,
}

fn corrupt(path: &Path, msg: impl Into<String>) -> Error {
    Error::BadLayer {
        path: path.to_path_buf(),
        msg: msg.into(),
    }
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether the file starts with the qcow2 magic (`QFI\xfb`).
pub fn is_qcow2(path: &Path) -> Result<bool> {
    use std::io::Read;
    let mut magic = [0u8; 4];
    let mut f = std::fs::File::open(path).map_err(io_err(path))?;
    match f.read_exact(&mut magic) {
        Ok(()) => Ok(&magic == b"QFI\xfb"),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Opens one qcow2 file and, recursively, its backing files (each read-only), so that
/// an error names the very file that is missing or damaged.
fn open_chain(
    path: &Path,
    writable: bool,
    depth: usize,
    flat: Option<&Path>,
) -> Result<Qcow2<File>> {
    if depth > MAX_CHAIN {
        return Err(corrupt(path, "backing chain too long (a cycle?)"));
    }
    if !is_qcow2(path)? {
        return Err(corrupt(path, "not a qcow2 file"));
    }
    let file = File::open(StorageOpenOptions::new().filename(path).write(writable))
        .map_err(io_err(path))?;
    let mut q = Qcow2::<File>::builder(file)
        .write(writable)
        .backing(None)
        .open(DenyImplicitOpenGate::default())
        .map_err(|e| corrupt(path, e.to_string()))?;
    if q.requires_external_data_file() {
        return Err(corrupt(path, "external data files are not supported"));
    }
    if let Some(name) = q.implicit_backing_file().cloned() {
        if let Some(fmt) = q.implicit_backing_format()
            && fmt != "qcow2"
        {
            return Err(corrupt(
                path,
                format!("backing file {name} has format {fmt}, only qcow2 is supported"),
            ));
        }
        // Relative names are relative to the layer's own directory (as in qemu).
        let dir = path.parent().unwrap_or(Path::new("."));
        let parent = dir.join(&name);
        if !parent.exists() {
            return Err(corrupt(
                path,
                format!("backing file {} is missing", parent.display()),
            ));
        }
        let lower = match flat {
            Some(dir) => open_lower(&parent, dir, depth + 1)?,
            None => open_chain(&parent, false, depth + 1, None)?,
        };
        q.set_backing(Some(FormatAccess::new(lower)));
    }
    Ok(q)
}

/// The name of the backing file `path`'s header names, if any: read from the
/// header's fields alone, without loading the layer's tables.
fn backing_name(path: &Path) -> Result<Option<String>> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(path).map_err(io_err(path))?;
    let mut head = [0u8; 20];
    f.read_exact_at(&mut head, 0).map_err(io_err(path))?;
    if &head[..4] != b"QFI\xfb" {
        return Err(corrupt(path, "not a qcow2 file"));
    }
    let offset = u64::from_be_bytes(head[8..16].try_into().expect("8 bytes"));
    let len = u32::from_be_bytes(head[16..20].try_into().expect("4 bytes"));
    if offset == 0 || len == 0 {
        return Ok(None);
    }
    if len > 1023 {
        return Err(corrupt(path, "backing file name too long"));
    }
    let mut name = vec![0u8; len as usize];
    f.read_exact_at(&mut name, offset).map_err(io_err(path))?;
    String::from_utf8(name)
        .map(Some)
        .map_err(|_| corrupt(path, "backing file name is not UTF-8"))
}

/// How many files the chain from `path` down holds, counting at most `max`.
fn chain_len(path: &Path, max: usize) -> Result<usize> {
    let mut len = 1;
    let mut cur = path.to_path_buf();
    while len < max {
        let Some(name) = backing_name(&cur)? else {
            break;
        };
        cur = cur.parent().unwrap_or(Path::new(".")).join(name);
        len += 1;
    }
    Ok(len)
}

/// Opens the read-only chain from `path` down: through its flattened copy in `dir`
/// when the chain is at least [`FLATTEN_DEPTH`] long (making the copy the first
/// time), else as it is. Layers never change once sealed and a layer's name (its
/// digest) covers the names of those below, so the copy of a name stays right.
/// A copy that cannot be made (a full disk) leaves the chain as it is.
fn open_lower(path: &Path, dir: &Path, depth: usize) -> Result<Qcow2<File>> {
    if chain_len(path, FLATTEN_DEPTH)? < FLATTEN_DEPTH {
        return open_chain(path, false, depth, None);
    }
    let Some(name) = path.file_name() else {
        return open_chain(path, false, depth, None);
    };
    let copy = dir.join(name);
    if !copy.exists() && flatten(path, &copy).is_err() {
        return open_chain(path, false, depth, None);
    }
    open_chain(&copy, false, depth, None)
}

/// Writes the contents of the chain from `src` down into a new single qcow2 file at
/// `dst` (through a temporary file renamed into place, so a reader never sees half).
fn flatten(src: &Path, dst: &Path) -> Result<()> {
    let dir = dst.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let mut from = Qcow2Device::open(src, false)?;
    let tmp = tempfile::Builder::new()
        .prefix(".flat-")
        .tempfile_in(dir)
        .map_err(io_err(dir))?
        .into_temp_path();
    // Qcow2Device::create wants to make the file itself.
    std::fs::remove_file(&tmp).map_err(io_err(&tmp))?;
    let mut to = Qcow2Device::create(&tmp, from.size, None)?;
    let mut buf = vec![0u8; 256 * CHUNK];
    let mut at = 0;
    while at < from.size {
        let holes = from.zero_extent(at, from.size - at).map_err(io_err(src))?;
        if holes > 0 {
            at += holes;
            continue;
        }
        let n = (from.size - at).min(buf.len() as u64) as usize;
        from.read_at(at, &mut buf[..n]).map_err(io_err(src))?;
        to.write_at(at, &buf[..n]).map_err(io_err(&tmp))?;
        at += n as u64;
    }
    to.sync_all()?;
    drop(to);
    tmp.persist(dst).map_err(|e| io_err(dst)(e.error))?;
    Ok(())
}

impl Qcow2Device {
    /// Opens the qcow2 file at `path` and its backing chain; with `writable`, writes go
    /// into `path` (never into a backing file).
    pub fn open(path: &Path, writable: bool) -> Result<Qcow2Device> {
        Self::open_flat(path, writable, None)
    }

    /// [`Qcow2Device::open`], reading a backing chain of [`FLATTEN_DEPTH`] files or
    /// more through a flattened copy kept in `flat` (made there the first time).
    pub fn open_flat(path: &Path, writable: bool, flat: Option<&Path>) -> Result<Qcow2Device> {
        let q = open_chain(path, writable, 0, flat)?;
        let image = FormatAccess::new(q);
        let size = image.size();
        Ok(Qcow2Device {
            image,
            space: HostSpace::new(path),
            path: path.to_path_buf(),
            size,
            writable,
        })
    }

    /// Creates a new qcow2 file of `size` bytes at `path` (which must not exist), with
    /// 4 KiB clusters and, if given, the backing file `backing` (a qcow2 path relative
    /// to `path`'s directory, written into the header as is), and opens it for writing.
    pub fn create(path: &Path, size: u64, backing: Option<&str>) -> Result<Qcow2Device> {
        Self::create_flat(path, size, backing, None)
    }

    /// [`Qcow2Device::create`], reading a deep backing chain through a flattened
    /// copy kept in `flat` (see [`Qcow2Device::open_flat`]).
    pub fn create_flat(
        path: &Path,
        size: u64,
        backing: Option<&str>,
        flat: Option<&Path>,
    ) -> Result<Qcow2Device> {
        let lower = match backing {
            Some(name) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                let parent = dir.join(name);
                let lower = match flat {
                    Some(flat) => open_lower(&parent, flat, 1)?,
                    None => open_chain(&parent, false, 1, None)?,
                };
                let lower = FormatAccess::new(lower);
                // The new layer is a view of the backing file: sizes must match.
                if lower.size() != size {
                    return Err(corrupt(
                        path,
                        format!("size {size} differs from backing file's {}", lower.size()),
                    ));
                }
                Some(lower)
            }
            None => None,
        };
        let file = File::create_open(
            StorageCreateOptions::new()
                .filename(path)
                .size(0)
                .overwrite(false),
        )
        .map_err(io_err(path))?;
        let mut builder = Qcow2::<File>::create_builder(file)
            .size(size)
            .cluster_size(CLUSTER_SIZE);
        if let Some(name) = backing {
            builder = builder.backing(name.to_string(), "qcow2".to_string());
        }
        let q = builder
            .create_open(DenyImplicitOpenGate::default(), |img| {
                Ok(Qcow2::<File>::builder(img).write(true).backing(lower))
            })
            .map_err(io_err(path))?;
        let image = FormatAccess::new(q);
        image.flush().map_err(io_err(path))?;
        Ok(Qcow2Device {
            image,
            space: HostSpace::new(path),
            path: path.to_path_buf(),
            size,
            writable: true,
        })
    }

    /// Writes one run of `data` (which starts at device offset `base`): zeros as
    /// zero clusters (freeing what the top file held there), anything else as data.
    fn write_run(
        &mut self,
        (at, len, zeros): (u64, usize, bool),
        data: &[u8],
        base: u64,
    ) -> io::Result<()> {
        let from = (at - base) as usize;
        let bytes = &data[from..from + len];
        if zeros {
            // A file without zero clusters (qcow2 v2) takes the zeros as data.
            self.image
                .discard_to_zero(at, len as u64)
                .or_else(|_| self.image.write(bytes, at))
        } else {
            self.image.write(bytes, at)
        }
    }

    /// The host path of the top file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes all metadata back and makes the top file durable (before sealing it).
    pub fn sync_all(&mut self) -> Result<()> {
        if self.writable {
            self.image.flush().map_err(io_err(&self.path))?;
            self.image.sync().map_err(io_err(&self.path))?;
        }
        Ok(())
    }
}

impl BlockDevice for Qcow2Device {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.image.read(buf, offset)
    }

    fn write_at(&mut self, offset: u64, data: &[u8]) -> io::Result<()> {
        if !self.writable {
            return Err(io::Error::from_raw_os_error(libc::EROFS));
        }
        self.space.wrote(data.len());
        // Whole clusters of zeros become qcow2 zero clusters (no data on the host), so
        // a container's large file of zeros, or a fresh file system's zeroed tables,
        // costs host disk in proportion to the data that is not zero.
        let cs = CLUSTER_SIZE as u64;
        let head = (offset.next_multiple_of(cs) - offset).min(data.len() as u64) as usize;
        let (first, rest) = data.split_at(head);
        if !first.is_empty() {
            self.image.write(first, offset)?;
        }
        let mut at = offset + head as u64;
        let mut pending: Option<(u64, usize, bool)> = None; // (offset, length, zeros)
        for chunk in rest.chunks(CLUSTER_SIZE) {
            let zero = chunk.len() == CLUSTER_SIZE && chunk.iter().all(|&b| b == 0);
            pending = match pending {
                Some((o, len, z)) if z == zero => Some((o, len + chunk.len(), z)),
                Some(run) => {
                    self.write_run(run, rest, offset + head as u64)?;
                    Some((at, chunk.len(), zero))
                }
                None => Some((at, chunk.len(), zero)),
            };
            at += chunk.len() as u64;
        }
        if let Some(run) = pending {
            self.write_run(run, rest, offset + head as u64)?;
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.writable {
            self.image.flush()?;
            self.image.sync()?;
        }
        Ok(())
    }

    fn host_space_low(&mut self) -> bool {
        self.space.low()
    }

    fn zero_extent(&mut self, offset: u64, max: u64) -> io::Result<u64> {
        let mut done = 0;
        while done < max {
            match self.image.get_mapping(offset + done, max - done)? {
                (Mapping::Zero { .. }, len) if len > 0 => done += len,
                _ => break,
            }
        }
        Ok(done.min(max))
    }
}

/// Copies the raw image file `src` onto the start of `dev` (a fresh layer), writing
/// only the 4 KiB blocks that are not all zero, then flushes `dev`. `src` is only read.
pub fn copy_raw(src: &Path, dev: &mut dyn BlockDevice) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(src).map_err(io_err(src))?;
    let size = file.metadata().map_err(io_err(src))?.len();
    if size > dev.size() {
        return Err(Error::Corrupt {
            path: src.to_path_buf(),
            msg: format!("{size} bytes do not fit a device of {}", dev.size()),
        });
    }
    let mut buf = vec![0u8; 256 * CHUNK];
    let mut pos = 0u64;
    while pos < size {
        let n = (size - pos).min(buf.len() as u64) as usize;
        file.read_exact_at(&mut buf[..n], pos)
            .map_err(io_err(src))?;
        for (i, chunk) in buf[..n].chunks(CHUNK).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                dev.write_at(pos + (i * CHUNK) as u64, chunk)
                    .map_err(io_err(src))?;
            }
        }
        pos += n as u64;
    }
    dev.flush().map_err(io_err(src))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `qemu-img check` passes on every file of `files`.
    fn qemu_img_check(files: &[&Path]) {
        for f in files {
            let out = std::process::Command::new("qemu-img")
                .arg("check")
                .arg(f)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }

    #[test]
    fn overlay_reads_through_and_writes_only_the_top() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base.qcow2");
        let mut b = Qcow2Device::create(&base, 1 << 30, None).unwrap();
        b.write_at(4096 * 100, &[7u8; 8192]).unwrap();
        b.sync_all().unwrap();
        drop(b);
        let top = dir.path().join("top.qcow2");
        let mut t = Qcow2Device::create(&top, 1 << 30, Some("base.qcow2")).unwrap();
        let mut buf = [0u8; 4];
        t.read_at(4096 * 100 + 10, &mut buf).unwrap();
        assert_eq!(buf, [7; 4]);
        t.write_at(4096 * 100 + 11, &[42]).unwrap();
        t.sync_all().unwrap();
        drop(t);
        let mut t = Qcow2Device::open(&top, false).unwrap();
        t.read_at(4096 * 100 + 10, &mut buf).unwrap();
        assert_eq!(buf, [7, 42, 7, 7]);
        let mut b = Qcow2Device::open(&base, false).unwrap();
        b.read_at(4096 * 100 + 10, &mut buf).unwrap();
        assert_eq!(buf, [7; 4]);
        // One changed byte: a header, tables and one 4 KiB data cluster.
        let len = std::fs::metadata(&top).unwrap().len();
        assert!(len <= 64 * 1024, "1-byte change made a {len}-byte layer");
        assert!(
            t.write_at(0, &[1]).is_err(),
            "read-only layer accepted a write"
        );
        // Holes are known down the chain: the data at block 100 ends the first one.
        assert_eq!(t.zero_extent(0, 1 << 30).unwrap(), 4096 * 100);
        assert_eq!(t.zero_extent(4096 * 100, 4096).unwrap(), 0);
        qemu_img_check(&[&base, &top]);
    }

    /// A chain of `FLATTEN_DEPTH + 2` layers, each writing its own cluster and
    /// overwriting one of the layer below, read through its flattened copy: every
    /// byte as through the chain, the holes still holes, the copy a sound qcow2
    /// file, made once and then reused.
    #[test]
    fn deep_chains_read_the_same_through_their_flattened_copy() {
        let dir = tempfile::tempdir().unwrap();
        let flat = dir.path().join("flat");
        let size = 64 << 20;
        let layers = FLATTEN_DEPTH + 2;
        let mut below: Option<String> = None;
        for i in 0..layers {
            let name = format!("l{i}.qcow2");
            let path = dir.path().join(&name);
            let mut d = Qcow2Device::create(&path, size, below.as_deref()).unwrap();
            d.write_at(4096 * (10 + 2 * i as u64), &[i as u8 + 1; 4096])
                .unwrap();
            if i > 0 {
                d.write_at(4096 * (10 + 2 * (i as u64 - 1)) + 7, &[0xee])
                    .unwrap();
            }
            d.sync_all().unwrap();
            below = Some(name);
        }
        let top = dir.path().join("top.qcow2");
        let reads = |d: &mut Qcow2Device| {
            let mut all = vec![0u8; 4096 * (12 + 2 * layers)];
            d.read_at(0, &mut all).unwrap();
            (all, d.zero_extent(0, size).unwrap())
        };
        let mut chain = Qcow2Device::create(&top, size, below.as_deref()).unwrap();
        let expected = reads(&mut chain);
        drop(chain);
        std::fs::remove_file(&top).unwrap();
        assert_eq!(expected.1, 4096 * 10);

        let mut via_copy =
            Qcow2Device::create_flat(&top, size, below.as_deref(), Some(&flat)).unwrap();
        assert_eq!(reads(&mut via_copy), expected);
        let copy = flat.join(below.as_deref().unwrap());
        assert!(copy.exists(), "no flattened copy was made");
        // Writes still go to the top file only.
        via_copy.write_at(0, &[9]).unwrap();
        via_copy.sync_all().unwrap();
        drop(via_copy);
        let made = std::fs::metadata(&copy).unwrap().modified().unwrap();
        let mut reopened = Qcow2Device::open_flat(&top, false, Some(&flat)).unwrap();
        let (mut again, _) = reads(&mut reopened);
        assert_eq!(again[0], 9);
        again[0] = 0;
        assert_eq!(again, expected.0);
        assert_eq!(std::fs::metadata(&copy).unwrap().modified().unwrap(), made);
        let mut plain = Qcow2Device::open(&top, false).unwrap();
        assert_eq!(reads(&mut plain).0[0], 9);
        qemu_img_check(&[&copy, &top]);
        // A shallow chain is opened as it is, with no copy.
        let shallow = tempfile::tempdir().unwrap();
        let f = shallow.path().join("f");
        drop(Qcow2Device::create(&dir.path().join("s.qcow2"), size, Some("l0.qcow2")).unwrap());
        drop(Qcow2Device::open_flat(&dir.path().join("s.qcow2"), false, Some(&f)).unwrap());
        assert!(!f.exists());
    }

    #[test]
    fn missing_backing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("base.qcow2");
        drop(Qcow2Device::create(&base, 1 << 20, None).unwrap());
        let top = dir.path().join("top.qcow2");
        drop(Qcow2Device::create(&top, 1 << 20, Some("base.qcow2")).unwrap());
        std::fs::remove_file(&base).unwrap();
        let err = Qcow2Device::open(&top, false).err().unwrap().to_string();
        assert!(
            err.contains("top.qcow2") && err.contains("base.qcow2"),
            "{err}"
        );
    }

    #[test]
    fn whole_clusters_of_zeros_take_no_data_on_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("z.qcow2");
        let mut d = Qcow2Device::create(&p, 1 << 30, None).unwrap();
        // Data, then zeros over part of it; an unaligned write mixing both.
        d.write_at(0, &[7u8; 3 * 4096]).unwrap();
        d.write_at(4096, &[0u8; 4096]).unwrap();
        d.write_at(1 << 20, &vec![0u8; 64 << 20]).unwrap();
        let mut mixed = vec![0u8; 5 * 4096];
        mixed[..100].fill(9);
        mixed[5 * 4096 - 1] = 9;
        d.write_at(100 << 20 | 2048, &mixed).unwrap();
        d.sync_all().unwrap();
        let mut buf = vec![1u8; 3 * 4096];
        d.read_at(0, &mut buf).unwrap();
        assert!(buf[..4096].iter().all(|&b| b == 7));
        assert!(buf[4096..8192].iter().all(|&b| b == 0));
        assert!(buf[8192..].iter().all(|&b| b == 7));
        let mut big = vec![1u8; 64 << 20];
        d.read_at(1 << 20, &mut big).unwrap();
        assert!(big.iter().all(|&b| b == 0));
        let mut back = vec![1u8; 5 * 4096];
        d.read_at(100 << 20 | 2048, &mut back).unwrap();
        assert!(back == mixed);
        // 64 MiB of zeros cost metadata only (a few KiB of tables), not data.
        let len = std::fs::metadata(&p).unwrap().len();
        assert!(len < 1 << 20, "the layer is {len} bytes");
    }

    #[test]
    fn junk_is_refused_with_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.qcow2");
        std::fs::write(&junk, b"QFI\xfbnot really a qcow2 header").unwrap();
        let err = Qcow2Device::open(&junk, false).err().unwrap().to_string();
        assert!(err.contains("junk.qcow2"), "{err}");
        std::fs::write(&junk, vec![0u8; 65536]).unwrap();
        let err = Qcow2Device::open(&junk, false).err().unwrap().to_string();
        assert!(err.contains("not a qcow2"), "{err}");
    }

    #[test]
    fn reopened_layer_keeps_its_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.qcow2");
        let mut d = Qcow2Device::create(&p, 1 << 30, None).unwrap();
        d.write_at(0, &[1u8; 4096]).unwrap();
        d.sync_all().unwrap();
        drop(d);
        let mut d = Qcow2Device::open(&p, true).unwrap();
        d.write_at(4096 * 1000, &[2u8; 8192]).unwrap();
        d.write_at(1 << 29, &[3u8; 4096]).unwrap();
        d.sync_all().unwrap();
        drop(d);
        qemu_img_check(&[&p]);
        let mut d = Qcow2Device::open(&p, false).unwrap();
        let mut b = [0u8; 1];
        d.read_at(4096 * 1001, &mut b).unwrap();
        assert_eq!(b, [2]);
        d.read_at(0, &mut b).unwrap();
        assert_eq!(b, [1]);
    }
}
