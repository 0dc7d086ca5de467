//! Property test: random sequences of file operations applied through the Vfs and to a host
//! temp dir in the same order must succeed or fail alike, leave equal trees (names, types,
//! content, modes, link targets, link counts) and an image `e2fsck -fn` calls clean — also
//! across layer boundaries (sync, reopen through a copy-on-write layer, continue).

mod common;

use common::*;
use fsimage::{
    BlockDevice, Errno, FileDevice, FileType, Ino, MemOverlay, Qcow2Device, Vfs, export_raw,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const IMG_SIZE: u64 = 16 << 20;

/// A path of one or two components from a small pool, so operations collide often.
#[derive(Debug, Clone)]
struct P(Vec<&'static str>);

impl P {
    fn text(&self) -> String {
        self.0.join("/")
    }
}

#[derive(Debug, Clone)]
enum Op {
    Create(P, u32),
    Write(P, u64, usize, u8),
    Truncate(P, u64),
    Mkdir(P, u32),
    Rename(P, P),
    Unlink(P),
    Rmdir(P),
    Symlink(&'static str, P),
    Link(P, P),
    Chmod(P, u32),
}

fn path() -> impl Strategy<Value = P> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..=2).prop_map(P)
}

/// Owner-writable modes only, so the host answers alike whether or not we run as root.
fn mode() -> impl Strategy<Value = u32> {
    prop::sample::select(vec![0o644, 0o600, 0o755, 0o700, 0o640, 0o777, 0o4755])
}

fn op() -> impl Strategy<Value = Op> {
    // Relative targets only: ".." or "/..." would leave the temp dir on the host.
    let target = prop::sample::select(vec!["a", "b", "a/b", "c/a", "nowhere"]);
    prop_oneof![
        3 => (path(), mode()).prop_map(|(p, m)| Op::Create(p, m)),
        4 => (path(), 0u64..20_000, 0usize..6000, any::<u8>())
            .prop_map(|(p, o, n, b)| Op::Write(p, o, n, b)),
        1 => (path(), 0u64..30_000).prop_map(|(p, s)| Op::Truncate(p, s)),
        3 => (path(), mode()).prop_map(|(p, m)| Op::Mkdir(p, m)),
        2 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => path().prop_map(Op::Unlink),
        1 => path().prop_map(Op::Rmdir),
        1 => (target, path()).prop_map(|(t, p)| Op::Symlink(t, p)),
        1 => (path(), path()).prop_map(|(a, b)| Op::Link(a, b)),
        1 => (path(), mode()).prop_map(|(p, m)| Op::Chmod(p, m)),
    ]
}

/// Applies `op` under the host directory `root`; Err is the errno.
fn host_apply(root: &Path, op: &Op) -> Result<(), i32> {
    use std::fs;
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    let p = |x: &P| root.join(x.text());
    let e = |e: std::io::Error| e.raw_os_error().unwrap_or(libc::EIO);
    match op {
        Op::Create(x, m) => {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(*m)
                .open(p(x))
                .map_err(e)?;
            // The umask must not make the two differ.
            fs::set_permissions(p(x), fs::Permissions::from_mode(*m)).map_err(e)
        }
        Op::Write(x, off, n, b) => {
            let f = fs::OpenOptions::new().write(true).open(p(x)).map_err(e)?;
            f.write_all_at(&vec![*b; *n], *off).map_err(e)
        }
        Op::Truncate(x, s) => {
            let f = fs::OpenOptions::new().write(true).open(p(x)).map_err(e)?;
            f.set_len(*s).map_err(e)
        }
        Op::Mkdir(x, m) => {
            fs::create_dir(p(x)).map_err(e)?;
            fs::set_permissions(p(x), fs::Permissions::from_mode(*m)).map_err(e)
        }
        Op::Rename(a, b) => fs::rename(p(a), p(b)).map_err(e),
        Op::Unlink(x) => fs::remove_file(p(x)).map_err(e),
        Op::Rmdir(x) => fs::remove_dir(p(x)).map_err(e),
        Op::Symlink(t, x) => std::os::unix::fs::symlink(t, p(x)).map_err(e),
        Op::Link(a, b) => fs::hard_link(p(a), p(b)).map_err(e),
        Op::Chmod(x, m) => fs::set_permissions(p(x), fs::Permissions::from_mode(*m)).map_err(e),
    }
}

/// Applies `op` through the Vfs with the same path rules (symlinks followed in the last
/// component exactly where the host call follows them).
fn vfs_apply(v: &Vfs, op: &Op) -> Result<(), Errno> {
    let r = v.root();
    let parent = |x: &P| v.resolve_parent(r, x.text().as_bytes());
    let target = |x: &P, follow: bool| v.resolve(r, x.text().as_bytes(), follow);
    let res: fsimage::Result<()> = (|| match op {
        Op::Create(x, m) => {
            let (d, n) = parent(x)?;
            v.create(d, &n, *m).map(drop)
        }
        Op::Write(x, off, n, b) => {
            let ino = target(x, true)?;
            v.write(ino, *off, &vec![*b; *n]).map(drop)
        }
        Op::Truncate(x, s) => v.truncate(target(x, true)?, *s),
        Op::Mkdir(x, m) => {
            let (d, n) = parent(x)?;
            v.mkdir(d, &n, *m).map(drop)
        }
        Op::Rename(a, b) => {
            let (da, na) = parent(a)?;
            let (db, nb) = parent(b)?;
            v.rename(da, &na, db, &nb)
        }
        Op::Unlink(x) => {
            let (d, n) = parent(x)?;
            v.unlink(d, &n)
        }
        Op::Rmdir(x) => {
            let (d, n) = parent(x)?;
            v.rmdir(d, &n)
        }
        Op::Symlink(t, x) => {
            let (d, n) = parent(x)?;
            v.symlink(d, &n, t.as_bytes()).map(drop)
        }
        Op::Link(a, b) => {
            let ino = target(a, false)?;
            let (d, n) = parent(b)?;
            v.link(ino, d, &n)
        }
        Op::Chmod(x, m) => v.set_mode(target(x, true)?, *m),
    })();
    res.map_err(|e| e.errno())
}

/// What is compared for each path (content as length + FNV-1a hash, for short messages).
#[derive(Debug, PartialEq, Eq)]
enum Node {
    File {
        mode: u32,
        nlink: u32,
        len: usize,
        fnv: u64,
    },
    Dir {
        mode: u32,
    },
    Link {
        target: Vec<u8>,
    },
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn host_tree(dir: &Path, prefix: &str, out: &mut BTreeMap<String, Node>) {
    for ent in std::fs::read_dir(dir).unwrap() {
        let ent = ent.unwrap();
        let name = format!("{prefix}{}", ent.file_name().to_string_lossy());
        let md = std::fs::symlink_metadata(ent.path()).unwrap();
        let mode = md.mode() & 0o7777;
        let node = if md.file_type().is_symlink() {
            let t = std::fs::read_link(ent.path()).unwrap();
            Node::Link {
                target: t.into_os_string().into_encoded_bytes(),
            }
        } else if md.is_dir() {
            host_tree(&ent.path(), &format!("{name}/"), out);
            Node::Dir { mode }
        } else {
            let data = std::fs::read(ent.path()).unwrap();
            Node::File {
                mode,
                nlink: md.nlink() as u32,
                len: data.len(),
                fnv: fnv(&data),
            }
        };
        out.insert(name, node);
    }
}

fn vfs_tree(v: &Vfs, dir: Ino, prefix: &str, out: &mut BTreeMap<String, Node>) {
    for e in v.readdir(dir).unwrap() {
        if e.name == b"." || e.name == b".." || (dir == v.root() && e.name == b"lost+found") {
            continue;
        }
        let name = format!("{prefix}{}", String::from_utf8_lossy(&e.name));
        let st = v.stat(e.ino).unwrap();
        assert_eq!(st.kind, e.kind, "entry type of {name}");
        let node = match st.kind {
            FileType::Symlink => Node::Link {
                target: v.readlink(e.ino).unwrap(),
            },
            FileType::Directory => {
                vfs_tree(v, e.ino, &format!("{name}/"), out);
                Node::Dir { mode: st.mode }
            }
            _ => {
                let mut data = vec![0u8; st.size as usize];
                assert_eq!(v.read(e.ino, 0, &mut data).unwrap(), data.len());
                Node::File {
                    mode: st.mode,
                    nlink: st.nlink,
                    len: data.len(),
                    fnv: fnv(&data),
                }
            }
        };
        out.insert(name, node);
    }
}

fn compare(v: &Vfs, host: &Path, when: &str) {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    host_tree(host, "", &mut a);
    vfs_tree(v, v.root(), "", &mut b);
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "names {when}"
    );
    for (k, hv) in &a {
        assert_eq!(Some(hv), b.get(k), "{k} {when}");
    }
}

fn apply_all(v: &Vfs, host: &Path, ops: &[Op]) {
    for (i, op) in ops.iter().enumerate() {
        let h = host_apply(host, op);
        let w = vfs_apply(v, op);
        assert_eq!(
            h.is_ok(),
            w.is_ok(),
            "op #{i} {op:?}: host {h:?}, vfs {w:?}"
        );
    }
}

/// Exports the device's content to a raw file and checks it with e2fsck.
fn fsck_device(dev: &mut dyn BlockDevice, out: &Path) {
    export_raw(dev, out).unwrap();
    fsck_clean(out);
}

/// Phase 1 on a raw image, phase 2 on an in-memory overlay over it (the raw file must stay
/// as phase 1 left it), phase 3 on a qcow2 layer whose backing file holds phases 1+2.
fn run_case(ops: &[Op]) {
    let t = tempfile::tempdir().unwrap();
    let host = t.path().join("host");
    std::fs::create_dir(&host).unwrap();
    let img = t.path().join("raw.ext4");
    let third = ops.len() / 3;
    let (p1, rest) = ops.split_at(third);
    let (p2, p3) = rest.split_at(third);

    let v = Vfs::mkfs(Box::new(FileDevice::create(&img, IMG_SIZE).unwrap()), "p").unwrap();
    apply_all(&v, &host, p1);
    compare(&v, &host, "after phase 1");
    drop(v.into_device().unwrap());
    fsck_clean(&img);
    let before = std::fs::read(&img).unwrap();

    let lower = FileDevice::open(&img, false).unwrap();
    let v = Vfs::open(Box::new(MemOverlay::new(Box::new(lower))), &img, true).unwrap();
    compare(&v, &host, "reopened over an overlay");
    apply_all(&v, &host, p2);
    compare(&v, &host, "after phase 2");
    let mut dev = v.into_device().unwrap();
    assert!(
        std::fs::read(&img).unwrap() == before,
        "overlay wrote to its lower file"
    );

    // Seal phases 1+2 as a qcow2 base layer, continue in a qcow2 layer on top of it.
    let base = t.path().join("base.qcow2");
    let mut q = Qcow2Device::create(&base, IMG_SIZE, None).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    for off in (0..IMG_SIZE).step_by(buf.len()) {
        dev.read_at(off, &mut buf).unwrap();
        if buf.iter().any(|&b| b != 0) {
            q.write_at(off, &buf).unwrap();
        }
    }
    q.flush().unwrap();
    drop(q);
    let top = t.path().join("top.qcow2");
    let q = Qcow2Device::create(&top, IMG_SIZE, Some("base.qcow2")).unwrap();
    let v = Vfs::open(Box::new(q), &top, true).unwrap();
    compare(&v, &host, "reopened on a qcow2 layer");
    apply_all(&v, &host, p3);
    compare(&v, &host, "after phase 3");
    let mut dev = v.into_device().unwrap();
    fsck_device(dev.as_mut(), &t.path().join("final.ext4"));
    drop(dev);
    for layer in [&base, &top] {
        qemu_img_check(layer);
    }
}

/// `qemu-img check` must find the layer clean (where qemu-img is installed).
fn qemu_img_check(layer: &Path) {
    let Ok(out) = std::process::Command::new("qemu-img")
        .args(["check", "-q", "-f", "qcow2"])
        .arg(layer)
        .output()
    else {
        eprintln!("qemu-img is not installed: layer check skipped");
        return;
    };
    assert!(
        out.status.success(),
        "qemu-img check {}: {}{}",
        layer.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        max_shrink_iters: 200,
        ..ProptestConfig::default()
    })]

    #[test]
    fn ops_match_the_host(ops in prop::collection::vec(op(), 10..60)) {
        run_case(&ops);
    }
}

/// A fixed sequence that exercises every operation at least once (fails loudly if the
/// generator above ever stops reaching them).
#[test]
fn every_operation_once() {
    let p = |s: &'static str| P(s.split('/').collect());
    run_case(&[
        Op::Mkdir(p("a"), 0o755),
        Op::Create(p("a/b"), 0o644),
        Op::Write(p("a/b"), 5000, 3000, 7),
        Op::Link(p("a/b"), p("b")),
        Op::Symlink("a/b", p("c")),
        Op::Write(p("c"), 0, 10, 1),
        Op::Truncate(p("b"), 6000),
        Op::Chmod(p("c"), 0o600),
        Op::Rename(p("a"), p("c/a")),
        Op::Rename(p("b"), p("a/c")),
        Op::Unlink(p("c")),
        Op::Mkdir(p("c"), 0o700),
        Op::Rmdir(p("c")),
        Op::Rmdir(p("a")),
        Op::Unlink(p("a/b")),
    ]);
}
