//! Fuzz target over image opening and directory/inode parsing (bounded, part of `cargo test`):
//! mutate bytes of small valid images — superblock, group descriptors, inode table,
//! directory blocks — then open read-only, walk the tree, stat, read and readlink
//! everything. Any error is fine; a panic, an abort or a hang is not.
//!
//! Two seeds: one made by `Vfs::mkfs` (metadata_csum: most damage is caught by
//! checksums) and one by `mkfs.ext4 -O ^metadata_csum,^has_journal` (nothing checks the
//! bytes, so libext2fs' parsers see the damage itself).
//! More cases: `FUZZ_CASES=5000 cargo test -p fsimage --test fuzz_images`; with
//! `FUZZ_DUMP=FILE` each case's image is written there first (a crash leaves it behind).

mod common;

use common::*;
use fsimage::{BlockDevice, FileDevice, FileType, Ino, Vfs};
use proptest::prelude::*;
use std::collections::HashSet;
use std::io;
use std::path::Path;
use std::sync::OnceLock;

/// An image held in memory (the mutated bytes are never written anywhere).
struct MemDevice(Vec<u8>);

impl BlockDevice for MemDevice {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let end = offset
            .checked_add(buf.len() as u64)
            .filter(|&e| e <= self.0.len() as u64)
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        buf.copy_from_slice(&self.0[offset as usize..end as usize]);
        Ok(())
    }
    fn write_at(&mut self, _offset: u64, _data: &[u8]) -> io::Result<()> {
        Err(io::Error::from_raw_os_error(libc::EROFS))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A seed image and the byte ranges worth mutating.
struct Seed {
    bytes: Vec<u8>,
    regions: Vec<(usize, usize)>,
}

fn le32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// Superblock, first group descriptors, group 0's inode table and the directory blocks.
fn find_regions(img: &Path, bytes: &[u8], dirs: &[&str]) -> Vec<(usize, usize)> {
    let sb = 1024;
    let bs = 1024 << le32(bytes, sb + 24);
    let ipg = le32(bytes, sb + 40);
    let isz = u16::from_le_bytes([bytes[sb + 88], bytes[sb + 89]]) as usize;
    let gdt = if bs == 1024 { 2048 } else { bs };
    let itable = le32(bytes, gdt + 8) * bs;
    let mut r = vec![
        (sb, sb + 1024),
        (gdt, gdt + 256),
        (itable, (itable + ipg * isz).min(bytes.len())),
    ];
    for d in dirs {
        let out = debugfs(img, &format!("blocks {d}"));
        for b in String::from_utf8_lossy(&out).split_whitespace() {
            let b: usize = b.parse().unwrap();
            r.push((b * bs, b * bs + bs));
        }
    }
    r
}

fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let t = tempfile::tempdir().unwrap();
        let mut out = Vec::new();

        // Seed 1: our own mkfs, with every kind of inode.
        let img = t.path().join("wsh.ext4");
        let v = Vfs::mkfs(Box::new(FileDevice::create(&img, 2 << 20).unwrap()), "fz").unwrap();
        let r = v.root();
        let d = v.mkdir(r, b"d", 0o755).unwrap();
        for i in 0..60 {
            let f = v.create(d, format!("file-{i}").as_bytes(), 0o644).unwrap();
            v.write(f, (i * 1000) as u64, b"data").unwrap();
        }
        v.symlink(r, b"fast", b"d/file-1").unwrap();
        v.symlink(r, b"slow", "x/".repeat(100).as_bytes()).unwrap();
        let f = v.create(r, b"sparse", 0o600).unwrap();
        v.write(f, 300_000, &[7u8; 9000]).unwrap();
        let f = v.create(r, b"ext", 0o600).unwrap();
        for k in 0..8u64 {
            // Discontiguous extents: every other block.
            v.write(f, k * 8192, &[k as u8; 4096]).unwrap();
        }
        drop(v);
        fsck_clean(&img);
        let bytes = std::fs::read(&img).unwrap();
        let regions = find_regions(&img, &bytes, &["/", "/d"]);
        out.push(Seed { bytes, regions });

        // Seed 2: the host's mkfs without checksums.
        let src = t.path().join("src");
        std::fs::create_dir_all(src.join("d/e")).unwrap();
        for i in 0..40 {
            std::fs::write(src.join(format!("d/f{i}")), format!("{i}\n")).unwrap();
        }
        std::fs::write(src.join("big"), vec![3u8; 100_000]).unwrap();
        std::os::unix::fs::symlink("d/f1", src.join("s")).unwrap();
        std::os::unix::fs::symlink("y".repeat(200), src.join("long")).unwrap();
        let img = t.path().join("host.ext4");
        let st = std::process::Command::new(MKFS)
            .args(["-q", "-F", "-b", "4096", "-N", "128"])
            .args(["-O", "^metadata_csum,^has_journal", "-d"])
            .arg(&src)
            .arg(&img)
            .arg("1M")
            .status()
            .unwrap();
        assert!(st.success());
        let bytes = std::fs::read(&img).unwrap();
        let regions = find_regions(&img, &bytes, &["/", "/d", "/d/e"]);
        out.push(Seed { bytes, regions });
        out
    })
}

/// Walks everything reachable, touching every parser; errors are expected and ignored.
fn walk(v: &Vfs) {
    let mut seen = HashSet::new();
    let mut stack: Vec<Ino> = vec![v.root()];
    let mut buf = vec![0u8; 1 << 16];
    let mut budget = 2000;
    while let Some(dir) = stack.pop() {
        // A damaged image can make a directory its own descendant.
        if !seen.insert(dir) {
            continue;
        }
        let Ok(entries) = v.readdir(dir) else {
            continue;
        };
        for e in entries {
            budget -= 1;
            if budget == 0 {
                return;
            }
            let _ = v.lookup(dir, &e.name);
            let Ok(st) = v.stat(e.ino) else { continue };
            match st.kind {
                FileType::Directory if e.name != b"." && e.name != b".." => stack.push(e.ino),
                FileType::Regular => {
                    // The start, the end and a middle: enough to walk the extent tree.
                    for off in [0, st.size / 2, st.size.saturating_sub(100)] {
                        let _ = v.read(e.ino, off, &mut buf);
                    }
                }
                FileType::Symlink => {
                    let _ = v.readlink(e.ino);
                    let _ = v.resolve(dir, &e.name, true);
                }
                _ => {}
            }
        }
    }
    let _ = v.resolve(v.root(), b"d/e/../file-1", true);
    let _ = v.space();
}

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte inside region `region % regions.len()` at `pos % len`.
    Flip { region: usize, pos: usize, xor: u8 },
    /// Overwrite a little-endian u32 with an interesting value.
    Word { region: usize, pos: usize, val: u32 },
    /// Anywhere in the image.
    Anywhere { pos: usize, val: u8 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let interesting = prop::sample::select(vec![
        0,
        1,
        2,
        0x7f,
        0xff,
        0xffff,
        0x8000_0000,
        0xffff_ffff,
        4096,
        65536,
    ]);
    prop_oneof![
        6 => (any::<usize>(), any::<usize>(), 1u8..).prop_map(|(region, pos, xor)| {
            Mutation::Flip { region, pos, xor }
        }),
        3 => (any::<usize>(), any::<usize>(), interesting)
            .prop_map(|(region, pos, val)| Mutation::Word { region, pos, val }),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(pos, val)| Mutation::Anywhere { pos, val }),
    ]
}

fn apply(seed: &Seed, muts: &[Mutation], cut: Option<usize>) -> Vec<u8> {
    let mut b = seed.bytes.clone();
    let pick = |region: usize, pos: usize, width: usize| {
        let (s, e) = seed.regions[region % seed.regions.len()];
        s + pos % (e - s).saturating_sub(width - 1).max(1)
    };
    for m in muts {
        match *m {
            Mutation::Flip { region, pos, xor } => b[pick(region, pos, 1)] ^= xor,
            Mutation::Word { region, pos, val } => {
                let at = pick(region, pos & !3, 4);
                b[at..at + 4].copy_from_slice(&val.to_le_bytes());
            }
            Mutation::Anywhere { pos, val } => {
                let n = b.len();
                b[pos % n] = val;
            }
        }
    }
    if let Some(c) = cut {
        b.truncate(c % b.len());
    }
    b
}

fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

/// Runs the cases; returns how many damaged images still opened (and were walked).
#[test]
fn damaged_images_never_panic() {
    use proptest::test_runner::{Config, TestRunner};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let opened = AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        max_shrink_iters: 500,
        // A failure prints the case; there is no source file to store it next to.
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        0usize..2,
        prop::collection::vec(mutation(), 1..12),
        prop::option::weighted(0.05, any::<usize>()),
    );
    let result = runner.run(&strategy, |(which, muts, cut)| {
        let bytes = apply(&seeds()[which], &muts, cut);
        if let Some(path) = std::env::var_os("FUZZ_DUMP") {
            // To reproduce a crash in C (no unwinding, so no shrinking): the last image tried.
            std::fs::write(path, &bytes).unwrap();
        }
        if let Ok(v) = Vfs::open(Box::new(MemDevice(bytes)), Path::new("<fuzzed>"), false) {
            opened.fetch_add(1, Ordering::Relaxed);
            walk(&v);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let n = opened.into_inner();
    eprintln!("{n} of {} damaged images opened and were walked", cases());
    // Most mutations must get past opening, or the walk would never see damage.
    assert!(n * 4 >= cases() as usize, "only {n} opened");
}

/// Writes to a damaged image opened read-write over an in-memory overlay (as `wsh mount
/// --rw` or a container would): every call may fail, none may panic or abort.
#[test]
fn writes_to_damaged_images_never_panic() {
    use fsimage::MemOverlay;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config {
        cases: cases() / 2,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (0usize..2, prop::collection::vec(mutation(), 1..8));
    let result = runner.run(&strategy, |(which, muts)| {
        let bytes = apply(&seeds()[which], &muts, None);
        if let Some(path) = std::env::var_os("FUZZ_DUMP") {
            std::fs::write(path, &bytes).unwrap();
        }
        let dev = MemOverlay::new(Box::new(MemDevice(bytes)));
        let Ok(v) = Vfs::open(Box::new(dev), Path::new("<fuzzed>"), true) else {
            return Ok(());
        };
        let r = v.root();
        if let Ok(f) = v.create(r, b"new-file", 0o644) {
            let _ = v.write(f, 0, &[1u8; 20_000]);
            let _ = v.write(f, 1 << 20, b"far");
            let _ = v.truncate(f, 5000);
        }
        let _ = v.mkdir(r, b"new-dir", 0o755);
        let _ = v.symlink(r, b"new-link", "t/".repeat(40).as_bytes());
        if let Ok(d) = v.lookup(r, b"d") {
            let _ = v.rename(d, b"file-1", r, b"moved");
            let _ = v.rename(d, b"f1", r, b"moved");
            let _ = v.unlink(d, b"file-2");
            let _ = v.unlink(d, b"f2");
            let _ = v.rmdir(d, b"e");
        }
        let _ = v.unlink(r, b"sparse");
        let _ = v.unlink(r, b"big");
        let _ = v.sync();
        walk(&v);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The unmutated seeds open and walk cleanly (so the fuzz cases start from valid images).
#[test]
fn seeds_are_valid() {
    for s in seeds() {
        let v = Vfs::open(
            Box::new(MemDevice(s.bytes.clone())),
            Path::new("<seed>"),
            false,
        )
        .unwrap();
        let d = v.lookup(v.root(), b"d").unwrap();
        assert!(v.readdir(d).unwrap().len() > 40);
        walk(&v);
    }
}

/// Found by the fuzz target: a wrong s_first_data_block puts the group descriptors on
/// zeroed blocks, and libext2fs' bitmap reader then frees an invalid pointer (abort).
/// The shim now validates the descriptors (ext2fs_check_desc) before reading bitmaps.
#[test]
fn bad_first_data_block_is_an_error_not_an_abort() {
    for v in [170u8, 1, 255] {
        let mut b = seeds()[1].bytes.clone();
        b[1024 + 20] = v; // s_first_data_block, low byte
        let r = Vfs::open(Box::new(MemDevice(b)), Path::new("<bad>"), false);
        if let Ok(v) = r {
            walk(&v);
        }
    }
}
