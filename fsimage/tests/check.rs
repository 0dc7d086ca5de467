//! fsimage::check against e2fsck -fn: clean images pass both; images damaged the
//! common ways (with debugfs -w, or a flipped byte) fail both.

mod common;

use common::*;
use fsimage::{FileDevice, Problem, Vfs, check};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What `e2fsck -fn` says: true when it exits 0.
fn e2fsck_clean(img: &Path) -> bool {
    let out = Command::new(E2FSCK).arg("-fn").arg(img).output().unwrap();
    out.status.success()
}

fn run_check(img: &Path) -> Vec<Problem> {
    check(Box::new(FileDevice::open(img, false).unwrap())).unwrap()
}

/// Both judges agree the image is clean.
fn both_clean(img: &Path) {
    assert!(e2fsck_clean(img), "e2fsck finds {} damaged", img.display());
    let p = run_check(img);
    assert!(
        p.is_empty(),
        "check finds problems in a clean image: {p:#?}"
    );
}

/// Both judges agree the image is damaged; `place` must appear in a problem.
fn both_damaged(img: &Path, place: &str) -> Vec<Problem> {
    assert!(!e2fsck_clean(img), "e2fsck finds {} clean", img.display());
    let p = run_check(img);
    assert!(
        p.iter().any(|p| p.place.contains(place)),
        "check misses the damage at {place}: {p:#?}"
    );
    p
}

/// A host tree with what images hold: nested dirs, a big file (extent tree with an
/// index block), a sparse file, symlinks fast and slow, hard links, a 1000-entry
/// (htree) directory.
fn host_tree(root: &Path) {
    std::fs::create_dir_all(root.join("d/sub/deeper")).unwrap();
    std::fs::write(root.join("d/file"), b"hello\n").unwrap();
    std::fs::write(root.join("d/sub/deeper/x"), vec![1u8; 10_000]).unwrap();
    // Alternating data and holes: many extents, so the tree needs a leaf block.
    let f = std::fs::File::create(root.join("d/big")).unwrap();
    for i in 0..400u64 {
        use std::os::unix::fs::FileExt;
        f.write_all_at(&[i as u8; 4096], i * 8192).unwrap();
    }
    std::fs::File::create(root.join("sparse"))
        .unwrap()
        .set_len(50 << 20)
        .unwrap();
    std::os::unix::fs::symlink("file", root.join("d/fast")).unwrap();
    std::os::unix::fs::symlink("s".repeat(300), root.join("d/slow")).unwrap();
    std::fs::hard_link(root.join("d/file"), root.join("hard")).unwrap();
    std::fs::create_dir(root.join("many")).unwrap();
    for i in 0..1000 {
        std::fs::write(root.join(format!("many/entry-{i:05}")), b"").unwrap();
    }
}

/// A clean host-made image of `host_tree` (fresh copy per call).
fn host_image(dir: &Path, name: &str, opts: &[&str]) -> PathBuf {
    let src = dir.join("tree");
    if !src.exists() {
        host_tree(&src);
    }
    let img = dir.join(name);
    let out = Command::new(MKFS)
        .args(["-q", "-F"])
        .args(opts)
        .arg("-d")
        .arg(&src)
        .arg(&img)
        .arg("64M")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    img
}

/// `debugfs -w -R CMD` (damage on purpose).
fn debugfs_w(img: &Path, cmd: &str) {
    let out = Command::new(DEBUGFS)
        .args(["-w", "-R", cmd])
        .arg(img)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "debugfs {cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Flips every bit of the byte at `off`.
fn flip(img: &Path, off: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(img)
        .unwrap();
    let mut b = [0u8];
    f.read_exact_at(&mut b, off).unwrap();
    f.write_all_at(&[!b[0]], off).unwrap();
}

/// The block size, from the superblock.
fn block_size(img: &Path) -> u64 {
    let b = std::fs::read(img).unwrap();
    1024 << u32::from_le_bytes(b[1024 + 24..1024 + 28].try_into().unwrap())
}

/// Where the group descriptors start (the block after the superblock's).
fn gdt_offset(img: &Path) -> u64 {
    match block_size(img) {
        1024 => 2048,
        bs => bs,
    }
}

/// The first data block of `path` in the image.
fn first_block(img: &Path, path: &str) -> u64 {
    let out = String::from_utf8_lossy(&debugfs(img, &format!("blocks {path}"))).into_owned();
    out.split_whitespace().next().unwrap().parse().unwrap()
}

/// A block the block bitmap has free (from `ffb`).
fn free_block(img: &Path) -> u64 {
    let out = String::from_utf8_lossy(&debugfs(img, "ffb 1 20000")).into_owned();
    out.split_whitespace().last().unwrap().parse().unwrap()
}

#[test]
fn clean_images_pass() {
    let t = tempfile::tempdir().unwrap();
    // mkfs.ext4's defaults (metadata_csum, journal), ext2 (indirect blocks, no checksums),
    // ext3, and 1 KiB blocks.
    for (name, opts) in [
        ("ext4", &["-b", "4096"][..]),
        ("small", &[][..]),
        ("ext2", &["-t", "ext2"][..]),
        ("ext3", &["-t", "ext3"][..]),
        ("nocsum", &["-O", "^metadata_csum"][..]),
    ] {
        let img = host_image(t.path(), name, opts);
        both_clean(&img);
    }
    // An image wsh writes: Vfs::mkfs, files, links, renames, deletions.
    let img = t.path().join("wsh.ext4");
    let vfs = Vfs::mkfs(Box::new(FileDevice::create(&img, 32 << 20).unwrap()), "w").unwrap();
    let r = vfs.root();
    let d = vfs.mkdir(r, b"dir", 0o755).unwrap();
    for i in 0..500 {
        let f = vfs.create(d, format!("f{i}").as_bytes(), 0o644).unwrap();
        vfs.write(f, 0, &vec![i as u8; (i * 37) % 20_000]).unwrap();
    }
    for i in (0..500).step_by(3) {
        vfs.unlink(d, format!("f{i}").as_bytes()).unwrap();
    }
    let f1 = vfs.lookup(d, b"f1").unwrap();
    vfs.link(f1, r, b"hard").unwrap();
    vfs.symlink(r, b"ln", b"dir/f1").unwrap();
    vfs.rename(d, b"f2", r, b"moved").unwrap();
    vfs.mkdir(d, b"sub", 0o700).unwrap();
    drop(vfs);
    both_clean(&img);
}

#[test]
fn cleared_inode_named_by_a_directory() {
    let t = tempfile::tempdir().unwrap();
    let img = host_image(t.path(), "clri.ext4", &[]);
    debugfs_w(&img, "clri /d/fast");
    let p = both_damaged(&img, "/d/fast");
    assert!(p.iter().any(|p| p.what.contains("no links")), "{p:#?}");
}

#[test]
fn entry_pointing_at_a_free_inode() {
    let t = tempfile::tempdir().unwrap();
    let img = host_image(t.path(), "freei.ext4", &[]);
    debugfs_w(&img, "freei /d/sub/deeper/x");
    let p = both_damaged(&img, "/d/sub/deeper/x");
    assert!(
        p.iter()
            .any(|p| p.what.contains("free in the inode bitmap")),
        "{p:#?}"
    );
}

#[test]
fn corrupt_directory_block() {
    let t = tempfile::tempdir().unwrap();
    for (name, opts) in [("csum", &[][..]), ("ext2", &["-t", "ext2"][..])] {
        let img = host_image(t.path(), &format!("dirblk-{name}.ext4"), opts);
        let bs = block_size(&img);
        let blk = first_block(&img, "/d/sub");
        // The rec_len of "." (bytes 4-5): breaks the block's structure (and checksum).
        flip(&img, blk * bs + 5);
        both_damaged(&img, "/d/sub");
    }
}

#[test]
fn block_pointer_outside_the_file_system() {
    let t = tempfile::tempdir().unwrap();
    // Extents: i_block[5] is the first extent's start (low 32 bits).
    let img = host_image(t.path(), "extent.ext4", &[]);
    debugfs_w(&img, "sif /d/sub/deeper/x block[5] 0x7ffffff0");
    let p = both_damaged(&img, "/d/sub/deeper/x");
    assert!(p.iter().any(|p| p.what.contains("outside")), "{p:#?}");
    // Indirect blocks (ext2): the first direct pointer.
    let img = host_image(t.path(), "ind.ext4", &["-t", "ext2"]);
    debugfs_w(&img, "sif /d/sub/deeper/x block[0] 0x7ffffff0");
    both_damaged(&img, "/d/sub/deeper/x");
}

#[test]
fn block_pointer_at_a_free_block() {
    let t = tempfile::tempdir().unwrap();
    let img = host_image(t.path(), "freeblk.ext4", &[]);
    let free = free_block(&img);
    debugfs_w(&img, &format!("sif /d/sub/deeper/x block[5] {free}"));
    let p = both_damaged(&img, "/d/sub/deeper/x");
    assert!(
        p.iter()
            .any(|p| p.what.contains("free in the block bitmap")),
        "{p:#?}"
    );
}

#[test]
fn wrong_link_counts() {
    let t = tempfile::tempdir().unwrap();
    let img = host_image(t.path(), "links.ext4", &[]);
    // /d/file is also /hard; the walk meets it as /hard first.
    debugfs_w(&img, "sif /d/file links_count 1");
    both_damaged(&img, "/hard");
    let img = host_image(t.path(), "ln.ext4", &[]);
    // A name added without counting it.
    debugfs_w(&img, "ln /d/sub/deeper/x /d/alias");
    // Reported at whichever of its two names the walk meets first.
    let p = both_damaged(&img, "/d/");
    assert!(
        p.iter().any(|p| p.what.contains("link count 1, 2 names")),
        "{p:#?}"
    );
}

#[test]
fn directory_with_two_names() {
    let t = tempfile::tempdir().unwrap();
    let img = host_image(t.path(), "dirlink.ext4", &[]);
    debugfs_w(&img, "ln /d/sub /again");
    let p = both_damaged(&img, "/again");
    assert!(p.iter().any(|p| p.what.contains("second name")), "{p:#?}");
}

#[test]
fn flipped_superblock_and_group_descriptor_bytes() {
    let t = tempfile::tempdir().unwrap();
    // s_free_inodes_count, in the primary superblock (offset 1024).
    let img = host_image(t.path(), "sb.ext4", &[]);
    flip(&img, 1024 + 16);
    both_damaged(&img, "superblock");
    // Group 0's bg_free_inodes_count: its checksum no longer matches.
    let img = host_image(t.path(), "gd.ext4", &[]);
    flip(&img, gdt_offset(&img) + 0x0e);
    both_damaged(&img, "group 0");
    // Group 0's inode table location, with no checksum to notice: e2fsck -n falls back
    // to the backup descriptors and calls the image clean, but it cannot be opened as it
    // is (Vfs::open refuses it too), so the check refuses it.
    let img = host_image(t.path(), "gdloc.ext4", &["-O", "^metadata_csum"]);
    flip(&img, gdt_offset(&img) + 8);
    let p = run_check(&img);
    assert_eq!(p.len(), 1, "{p:#?}");
    assert_eq!(p[0].place, "group descriptors");
    assert!(
        Vfs::open(
            Box::new(FileDevice::open(&img, false).unwrap()),
            &img,
            false
        )
        .is_err()
    );
}

#[test]
fn truncated_and_garbage_images_are_problems_not_errors() {
    let t = tempfile::tempdir().unwrap();
    let img = host_image(t.path(), "trunc.ext4", &[]);
    let f = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
    f.set_len(8 << 20).unwrap();
    drop(f);
    assert!(!run_check(&img).is_empty());
    let junk = t.path().join("junk");
    std::fs::write(&junk, vec![0x5a; 1 << 20]).unwrap();
    assert_eq!(run_check(&junk)[0].place, "superblock");
}

/// A small xorshift generator: the same byte positions on every run.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Flips per seed image.
const FLIPS: usize = 40;

#[test]
fn random_metadata_flips_never_false_alarm() {
    // Single-byte flips in the superblock, descriptors, group 0's inode table and the
    // directory blocks: check must never panic, and must never call damage what
    // e2fsck -fn calls clean (it may miss damage e2fsck finds: unattached inodes,
    // htree order, bitmap totals).
    let t = tempfile::tempdir().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let (mut agree, mut missed) = (0, 0);
    for (name, opts) in [
        ("csum", &["-b", "4096"][..]),
        ("nocsum", &["-O", "^metadata_csum"][..]),
    ] {
        let seed = host_image(t.path(), &format!("seed-{name}.ext4"), opts);
        let bytes = std::fs::read(&seed).unwrap();
        let bs = block_size(&seed);
        let gdt = gdt_offset(&seed);
        let itable = u32::from_le_bytes(
            bytes[gdt as usize + 8..gdt as usize + 12]
                .try_into()
                .unwrap(),
        ) as u64
            * bs;
        let mut regions = vec![(1024u64, 1024u64), (gdt, 256), (itable, 64 * 256)];
        for d in ["/", "/d", "/d/sub", "/many"] {
            for b in
                String::from_utf8_lossy(&debugfs(&seed, &format!("blocks {d}"))).split_whitespace()
            {
                regions.push((b.parse::<u64>().unwrap() * bs, bs));
            }
        }
        let img = t.path().join(format!("flip-{name}.ext4"));
        for _ in 0..FLIPS {
            std::fs::write(&img, &bytes).unwrap();
            let (start, len) = regions[(next(&mut state) % regions.len() as u64) as usize];
            let off = start + next(&mut state) % len;
            flip(&img, off);
            let problems = run_check(&img);
            let fsck = e2fsck_clean(&img);
            // Bad primary descriptors: e2fsck -n reads the backups; wsh cannot open it.
            let primary_gdt = problems.len() == 1 && problems[0].place == "group descriptors";
            assert!(
                !fsck || problems.is_empty() || primary_gdt,
                "{name}: byte {off} flipped: e2fsck says clean, check says {problems:#?}"
            );
            if fsck == problems.is_empty() {
                agree += 1;
            } else if !fsck {
                missed += 1;
                if std::env::var_os("CHECK_SHOW_MISSES").is_some() {
                    let out = Command::new(E2FSCK).arg("-fn").arg(&img).output().unwrap();
                    eprintln!(
                        "{name} byte {off}:\n{}",
                        String::from_utf8_lossy(&out.stdout)
                    );
                }
            }
        }
    }
    eprintln!(
        "{agree} of {} flips judged alike; {missed} found by e2fsck only",
        2 * FLIPS
    );
}
