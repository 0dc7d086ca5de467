//! The image store end to end: qcow2 layers judged by `qemu-img`, exports judged by
//! `e2fsck`, `debugfs` and the kernel, imports of host trees, crashes and bad input.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{host, mkfs_from_dir, text, wsh_args, wsh_cmd, wsh_home};

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn layers_dir(home: &Path) -> PathBuf {
    home.join("data").join("layers")
}

/// Every file in the store's layers directory passes `qemu-img check` and its backing
/// chain is readable by `qemu-img info --backing-chain`.
fn check_all_layers(home: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(layers_dir(home)).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".qcow2") || name.starts_with("rw-") {
            continue; // a container's overlay may be in use by a concurrent test
        }
        let ps = p.to_str().unwrap();
        let check = host("qemu-img", &["check", "-f", "qcow2", ps]);
        if !check.status.success() && !p.exists() {
            continue; // pruned by a concurrent test's rmi between listing and checking
        }
        assert!(
            check.status.success(),
            "qemu-img check {name}:\n{}{}",
            text(&check.stdout),
            text(&check.stderr)
        );
        let info = host("qemu-img", &["info", "--backing-chain", ps]);
        if !info.status.success() && !p.exists() {
            continue;
        }
        assert!(
            info.status.success(),
            "qemu-img info {name}:\n{}",
            text(&info.stderr)
        );
        assert!(
            text(&info.stdout).contains("cluster_size: 4096"),
            "{}",
            text(&info.stdout)
        );
        n += 1;
    }
    n
}

/// `e2fsck -fn` must find nothing to fix.
fn fsck_clean(img: &Path) {
    let out = host("e2fsck", &["-fn", img.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "e2fsck -fn {}:\n{}{}",
        img.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn debugfs(img: &Path, req: &str) -> String {
    let out = host("debugfs", &["-R", req, img.to_str().unwrap()]);
    text(&out.stdout)
}

/// A host tree with the things an image must keep: modes (setuid too), symlinks short
/// and long, a hard link, an empty file, a sparse file, nested and private directories.
fn make_tree(root: &Path) {
    let w = |p: &str, data: &[u8], mode: u32| {
        let path = root.join(p);
        std::fs::write(&path, data).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    std::fs::create_dir_all(root.join("etc/conf.d")).unwrap();
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("private")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    w("etc/hosts", b"127.0.0.1 localhost\n", 0o644);
    w("etc/conf.d/x.conf", b"a=1\n", 0o600);
    w("usr/bin/tool", b"#!/bin/sh\necho tool\n", 0o755);
    w("usr/bin/suid", b"pretend binary", 0o4755);
    w("empty-file", b"", 0o640);
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 253) as u8).collect();
    w("big.bin", &big, 0o644);
    // Sparse: data, a 1 MiB hole, data.
    let f = std::fs::File::create(root.join("sparse")).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"start", 0).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"end", (1 << 20) + 4096).unwrap();
    drop(f);
    std::fs::set_permissions(root.join("private"), std::fs::Permissions::from_mode(0o700)).unwrap();
    symlink("hosts", root.join("etc/hosts.link")).unwrap();
    symlink("/usr/bin/tool", root.join("abs-link")).unwrap();
    let long = format!(
        "{}/target-that-is-longer-than-sixty-characters",
        "d".repeat(60)
    );
    symlink(&long, root.join("long-link")).unwrap();
    std::fs::hard_link(root.join("big.bin"), root.join("usr/big-hardlink")).unwrap();
}

/// Imports `dir` as `name` and exports it to `out`.
fn import_export(dir: &Path, name: &str, out: &Path) {
    ok(
        &wsh_args(&["import", dir.to_str().unwrap(), name]),
        "wsh import",
    );
    ok(
        &wsh_args(&["export", name, out.to_str().unwrap()]),
        "wsh export",
    );
}

#[test]
fn exported_base_is_clean_ext4_with_the_userland() {
    let tmp = tempfile::tempdir().unwrap();
    let img = tmp.path().join("base.img");
    ok(
        &wsh_args(&["export", "base", img.to_str().unwrap()]),
        "wsh export base",
    );
    fsck_clean(&img);
    // Merged /usr: the userland is in /usr/bin, /bin links there.
    let ls = debugfs(&img, "ls -l /usr/bin");
    assert!(ls.contains("coreutils") && ls.contains("cat"), "{ls}");
    let bin = debugfs(&img, "stat /bin");
    assert!(
        bin.contains("Type: symlink") && bin.contains("usr/bin"),
        "{bin}"
    );
    assert!(check_all_layers(wsh_home()) >= 1);
}

#[test]
fn imported_tree_exports_with_modes_and_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("tree");
    make_tree(&src);
    let img = tmp.path().join("tree.img");
    import_export(&src, "test-tree:v1", &img);
    fsck_clean(&img);
    let stat = |p: &str| debugfs(&img, &format!("stat {p}"));
    assert!(
        stat("/usr/bin/suid").contains("Mode:  04755"),
        "{}",
        stat("/usr/bin/suid")
    );
    assert!(
        stat("/private").contains("Mode:  0700"),
        "{}",
        stat("/private")
    );
    assert!(stat("/etc/conf.d/x.conf").contains("Mode:  0600"));
    let long = stat("/long-link");
    assert!(
        long.contains("Type: symlink") && long.contains("Size: 104"),
        "{long}"
    );
    let short = stat("/etc/hosts.link");
    assert!(short.contains("Fast link dest: \"hosts\""), "{short}");
    assert!(debugfs(&img, "cat /etc/hosts").contains("127.0.0.1 localhost"));
    assert!(
        stat("/usr/big-hardlink").contains("Links: 2"),
        "{}",
        stat("/usr/big-hardlink")
    );
    let tool_uid = std::fs::metadata(src.join("usr/bin/tool")).unwrap().uid();
    assert!(
        stat("/usr/bin/tool").contains(&format!("User: {tool_uid:>5}")),
        "{}",
        stat("/usr/bin/tool")
    );
    check_all_layers(wsh_home());
    // The image is listed, inspectable and has a history.
    let images = text(&wsh_args(&["images"]).stdout);
    assert!(
        images.contains("test-tree") && images.contains("v1"),
        "{images}"
    );
    let inspect = wsh_args(&["inspect", "test-tree:v1"]);
    ok(&inspect, "wsh inspect");
    let v = text(&inspect.stdout);
    assert!(
        v.contains("\"layers\"") && v.contains("test-tree:v1"),
        "{v}"
    );
    let hist = text(&wsh_args(&["history", "test-tree:v1"]).stdout);
    assert!(hist.contains("wsh import"), "{hist}");
}

#[test]
fn kernel_mounts_the_export_and_it_matches_the_source() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("tree");
    make_tree(&src);
    let img = tmp.path().join("tree.img");
    import_export(&src, "test-mount", &img);
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let m = Command::new("mount")
        .args(["-o", "loop,ro"])
        .arg(&img)
        .arg(&mnt)
        .output();
    match m {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            println!(
                "skipped: cannot loop-mount here: {}",
                text(&o.stderr).trim()
            );
            return;
        }
        Err(e) => {
            println!("skipped: no mount: {e}");
            return;
        }
    }
    let diff = Command::new("diff")
        .args(["-r", "--no-dereference", "-x", "lost+found"])
        .arg(&src)
        .arg(&mnt)
        .output()
        .unwrap();
    // Modes, owners, link targets and sizes as the kernel sees them.
    let listing = |root: &Path| {
        let out = Command::new("find")
            .arg(".")
            .args([
                "-not",
                "-name",
                "lost+found",
                "-printf",
                "%p %M %U %G %s %l %n\\n",
            ])
            .current_dir(root)
            .output()
            .unwrap();
        let mut lines: Vec<String> = text(&out.stdout)
            .lines()
            .filter(|l| !l.starts_with(". "))
            .map(String::from)
            .collect();
        lines.sort();
        lines
    };
    let (a, b) = (listing(&src), listing(&mnt));
    let _ = Command::new("umount").arg(&mnt).status();
    assert!(
        diff.status.success(),
        "diff -r:\n{}{}",
        text(&diff.stdout),
        text(&diff.stderr)
    );
    assert_eq!(a, b, "find listings differ");
}

/// An image e2fsck judges damaged is refused at import, naming the problem, and the
/// store gains nothing (no tag, no layer).
#[test]
fn import_refuses_an_image_e2fsck_finds_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("dir")).unwrap();
    std::fs::write(src.join("dir/file"), b"data\n").unwrap();
    let img = tmp.path().join("bad.img");
    ok(&mkfs_from_dir(&src, &img, "16M"), "mkfs.ext4");
    // Clear the inode a directory entry names (as a crash or a bad disk would).
    let clri = host(
        "debugfs",
        &["-w", "-R", "clri /dir/file", img.to_str().unwrap()],
    );
    ok(&clri, "debugfs clri");
    let fsck = host("e2fsck", &["-fn", img.to_str().unwrap()]);
    assert_ne!(fsck.status.code(), Some(0), "e2fsck must judge it damaged");
    // A store of its own: other tests add layers to the shared one meanwhile.
    let home = tmp.path().join("home");
    let out = wsh_cmd(&home)
        .args(["import", img.to_str().unwrap(), "test-damaged"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("damaged") && err.contains("/dir/file"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(home.join("data/layers"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "the failed import left {left:?}");
    assert!(
        !home.join("data/tags.json").exists()
            || !std::fs::read_to_string(home.join("data/tags.json"))
                .unwrap()
                .contains("test-damaged")
    );
}

#[test]
fn import_of_an_ext4_image_copies_it_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("hello"), b"hello from mkfs\n").unwrap();
    let img = tmp.path().join("made.img");
    let mk = mkfs_from_dir(&src, &img, "64M");
    ok(&mk, "mkfs.ext4");
    let before = std::fs::read(&img).unwrap();
    ok(
        &wsh_args(&["import", img.to_str().unwrap(), "test-mkfs"]),
        "wsh import FILE.img",
    );
    assert!(
        std::fs::read(&img).unwrap() == before,
        "import wrote to its source"
    );
    let out = tmp.path().join("out.img");
    ok(
        &wsh_args(&["export", "test-mkfs", out.to_str().unwrap()]),
        "wsh export",
    );
    fsck_clean(&out);
    assert!(debugfs(&out, "cat /hello").contains("hello from mkfs"));
    check_all_layers(wsh_home());
}

#[test]
fn bad_inputs_are_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let tags_before = std::fs::read(wsh_home().join("data/tags.json")).ok();
    let junk = tmp.path().join("junk.img");
    std::fs::write(&junk, b"this is not an ext4 image at all\n".repeat(1000)).unwrap();
    let zeroed = tmp.path().join("zeroed.img");
    std::fs::write(&zeroed, vec![0u8; 1 << 20]).unwrap();
    // A real image cut short.
    let src = tmp.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let truncated = tmp.path().join("truncated.img");
    ok(
        &host(
            "mkfs.ext4",
            &["-q", "-F", truncated.to_str().unwrap(), "32M"],
        ),
        "mkfs.ext4",
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&truncated)
        .unwrap()
        .set_len(1 << 20)
        .unwrap();
    for f in [&junk, &zeroed, &truncated] {
        let before = std::fs::read(f).unwrap();
        let out = wsh_args(&["import", f.to_str().unwrap(), "test-bad"]);
        assert!(!out.status.success(), "{} was accepted", f.display());
        let err = text(&out.stderr);
        assert!(
            err.contains(f.file_name().unwrap().to_str().unwrap()),
            "error does not name the file: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            std::fs::read(f).unwrap(),
            before,
            "{} was written",
            f.display()
        );
    }
    let missing = wsh_args(&["import", "/nonexistent/dir", "test-bad"]);
    assert!(!missing.status.success() && text(&missing.stderr).contains("/nonexistent/dir"));
    let bad_name = wsh_args(&["import", tmp.path().to_str().unwrap(), "Bad Name"]);
    assert!(!bad_name.status.success() && text(&bad_name.stderr).contains("invalid image name"));
    let no_image = wsh_args(&[
        "export",
        "no-such-image",
        tmp.path().join("x.img").to_str().unwrap(),
    ]);
    assert!(!no_image.status.success() && text(&no_image.stderr).contains("no such image"));
    assert!(!text(&wsh_args(&["images"]).stdout).contains("test-bad"));
    // Other tests may have tagged images meanwhile; none of ours may appear.
    if let (Some(before), Ok(after)) = (
        tags_before,
        std::fs::read(wsh_home().join("data/tags.json")),
    ) {
        assert!(!text(&after).contains("test-bad") || text(&before).contains("test-bad"));
    }
}

/// The store of a private WSH_HOME, opened through the library.
fn store_at(home: &Path) -> images::Store {
    let dirs = images::Dirs {
        data: home.join("data"),
        cache: home.join("cache"),
    };
    images::Store::open(&dirs).unwrap()
}

/// Commits, on top of `image`, a layer that writes `byte` at `offset` of file `/name`,
/// tagged `tag` (what `wsh run` + commit will do); returns the new top layer's path.
fn stack_layer(home: &Path, image: &str, name: &str, offset: u64, byte: u8, tag: &str) -> PathBuf {
    use fsimage::Vfs;
    let store = store_at(home);
    let (id, _) = store.resolve(image).unwrap();
    let lock = store.lock().unwrap();
    let (rec, dev) = store.create_container(&lock, Some(&id), 0).unwrap();
    drop(lock);
    let vfs = Vfs::open(Box::new(dev), Path::new("overlay"), true).unwrap();
    let ino = vfs.lookup(vfs.root(), name.as_bytes()).unwrap();
    vfs.write(ino, offset, &[byte]).unwrap();
    vfs.into_device().unwrap().flush().unwrap();
    let lock = store.lock().unwrap();
    let new_id = store
        .commit(&lock, &rec, 0, &format!("write {name}"), |_| {})
        .unwrap();
    store.tag(&lock, tag, &new_id).unwrap();
    let (_, config) = store.resolve(tag).unwrap();
    store.layer_path(config.top_layer().unwrap())
}

#[test]
fn missing_backing_file_is_an_error_naming_it() {
    // A private store, so removing a layer cannot disturb other tests.
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let src = tmp.path().join("tree");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"x").unwrap();
    let run = |args: &[&str]| wsh_cmd(&home).args(args).output().unwrap();
    ok(&run(&["import", src.to_str().unwrap(), "one"]), "import");
    stack_layer(&home, "one", "f", 0, b'y', "two");
    let (_, one) = store_at(&home).resolve("one").unwrap();
    let bottom = store_at(&home).layer_path(one.top_layer().unwrap());
    let bname = bottom.file_name().unwrap().to_str().unwrap().to_string();
    std::fs::remove_file(&bottom).unwrap();
    let out = run(&["export", "two", tmp.path().join("o.img").to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&bname) && err.contains("missing"),
        "error does not name the missing layer: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        !tmp.path().join("o.img").exists(),
        "a failed export left a file"
    );
}

/// A named way to damage a layer file's bytes.
type Damage = (&'static str, fn(&mut Vec<u8>));

#[test]
fn damaged_layers_are_refused_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let src = tmp.path().join("tree");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"x").unwrap();
    let run = |args: &[&str]| wsh_cmd(&home).args(args).output().unwrap();
    ok(&run(&["import", src.to_str().unwrap(), "one"]), "import");
    let (_, one) = store_at(&home).resolve("one").unwrap();
    let layer = store_at(&home).layer_path(one.top_layer().unwrap());
    let good = std::fs::read(&layer).unwrap();
    let damages: [Damage; 3] = [
        ("truncated", |b| b.truncate(b.len() / 2)),
        ("zeroed", |b| b.iter_mut().for_each(|x| *x = 0)),
        ("bit-flipped", |b| b[40] ^= 0x10),
    ];
    for (what, damage) in damages {
        let mut bad = good.clone();
        damage(&mut bad);
        std::fs::write(&layer, &bad).unwrap();
        let out = run(&["export", "one", tmp.path().join("o.img").to_str().unwrap()]);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{what} layer was exported");
        assert!(
            err.contains(layer.file_name().unwrap().to_str().unwrap()),
            "{what}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            std::fs::read(&layer).unwrap(),
            bad,
            "{what} layer was written to"
        );
        ok(&run(&["images"]), "wsh images with a damaged layer");
        if what == "truncated" {
            // Starting a container checks sizes (hashing is for export and mount).
            let store = store_at(&home);
            let (id, _) = store.resolve("one").unwrap();
            let lock = store.lock().unwrap();
            let err = store
                .create_container(&lock, Some(&id), 0)
                .err()
                .expect("container of a truncated layer");
            assert!(format!("{err:#}").contains("damaged layer"), "{err:#}");
        }
    }
}

#[test]
fn rmi_removes_unreferenced_layers_and_tag_shares_them() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("tree");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("f"), b"rmi test").unwrap();
    ok(
        &wsh_args(&["import", src.to_str().unwrap(), "test-rmi:a"]),
        "import",
    );
    ok(&wsh_args(&["tag", "test-rmi:a", "test-rmi:b"]), "tag");
    let inspect = text(&wsh_args(&["inspect", "test-rmi:b"]).stdout);
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let layer = v["layers"][0].as_str().unwrap().to_string();
    let file = layers_dir(wsh_home()).join(format!("{layer}.qcow2"));
    assert!(file.exists());
    ok(&wsh_args(&["rmi", "test-rmi:a"]), "rmi a");
    assert!(
        file.exists(),
        "a layer still tagged as test-rmi:b was removed"
    );
    let out = wsh_args(&["rmi", "test-rmi:b"]);
    ok(&out, "rmi b");
    assert!(!file.exists(), "an unreferenced layer was kept");
    assert!(text(&out.stdout).contains(&layer));
    assert!(!text(&wsh_args(&["images"]).stdout).contains("test-rmi"));
}

#[test]
fn one_byte_change_makes_a_small_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("tree");
    std::fs::create_dir(&src).unwrap();
    let big: Vec<u8> = (0..64u32 << 20).map(|i| (i % 251) as u8 + 1).collect();
    std::fs::write(src.join("big"), &big).unwrap();
    let home = tmp.path().join("home");
    ok(
        &wsh_cmd(&home)
            .args(["import", src.to_str().unwrap(), "big"])
            .output()
            .unwrap(),
        "import",
    );
    let top = stack_layer(&home, "big", "big", 40 << 20, b'!', "big:changed");
    let kib = std::fs::metadata(&top).unwrap().len() / 1024;
    println!("layer written by a 1-byte change in a 64 MiB file: {kib} KiB");
    assert!(kib <= 128, "a 1-byte change wrote a {kib} KiB layer");
    check_all_layers(&home);
    // The change is in the new image and not in the old one.
    let dumped = tmp.path().join("big.out");
    for (image, changed) in [("big:changed", true), ("big", false)] {
        let img = tmp.path().join("e.img");
        ok(
            &wsh_cmd(&home)
                .args(["export", image, img.to_str().unwrap()])
                .output()
                .unwrap(),
            "export",
        );
        fsck_clean(&img);
        debugfs(&img, &format!("dump /big {}", dumped.display()));
        let got = std::fs::read(&dumped).unwrap();
        assert_eq!(got.len(), big.len());
        assert_eq!(got[40 << 20] == b'!', changed, "{image}");
        assert_eq!(got[..40 << 20], big[..40 << 20]);
        std::fs::remove_file(&dumped).unwrap();
    }
}

#[test]
fn sigkill_during_imports_leaves_a_consistent_store() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let src = tmp.path().join("tree");
    make_tree(&src);
    let run = |args: &[&str]| wsh_cmd(&home).args(args).output().unwrap();
    ok(
        &run(&["import", src.to_str().unwrap(), "keep"]),
        "first import",
    );
    let listed = |out: &Output| -> Vec<String> {
        let mut v: Vec<String> = text(&out.stdout)
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .collect();
        v.sort();
        v
    };
    let before = listed(&run(&["images"]));
    // Kill imports at different moments: early, midway, late.
    for (i, delay_ms) in [5u64, 40, 120, 300, 700].into_iter().enumerate() {
        let mut child = wsh_cmd(&home)
            .args(["import", src.to_str().unwrap(), &format!("crash{i}")])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        // SAFETY: plain syscall on our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let _ = child.wait();
        let now = run(&["images"]);
        ok(&now, "wsh images after SIGKILL");
        let after = listed(&now);
        for b in &before {
            assert!(after.contains(b), "{b} vanished after a crash: {after:?}");
        }
        check_all_layers(&home);
    }
    // Whatever is listed is whole: it exports to a clean file system.
    for line in listed(&run(&["images"])) {
        let name: Vec<&str> = line.split(' ').collect();
        let img = tmp.path().join("e.img");
        ok(
            &run(&[
                "export",
                &format!("{}:{}", name[0], name[1]),
                img.to_str().unwrap(),
            ]),
            "export after crash",
        );
        fsck_clean(&img);
    }
    let survived = listed(&run(&["images"]))
        .iter()
        .filter(|l| l.starts_with("crash"))
        .count();
    println!("{survived} of 5 killed imports had finished");
    // A later rmi prunes what the killed processes left behind.
    ok(&run(&["rmi", "keep"]), "rmi");
    check_all_layers(&home);
    let leftovers: Vec<_> = std::fs::read_dir(layers_dir(&home))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with("rw-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "overlays of dead processes kept: {leftovers:?}"
    );
}

#[test]
fn throwaway_container_leaves_no_overlay() {
    let out = common::wsh("echo hi > /tmp/x && cat /tmp/x");
    ok(&out, "wsh -c");
    assert_eq!(text(&out.stdout), "hi\n");
    // Our own container is gone (others' may be running concurrently: none of them is ours).
    let pid_files: Vec<_> = std::fs::read_dir(wsh_home().join("data/containers"))
        .unwrap()
        .filter_map(|e| std::fs::read(e.unwrap().path()).ok())
        .collect();
    for rec in pid_files {
        let v: serde_json::Value = serde_json::from_slice(&rec).unwrap();
        let pid = v["pid"].as_u64().unwrap() as i32;
        // SAFETY: signal 0 only checks for existence.
        assert!(
            unsafe { libc::kill(pid, 0) } == 0,
            "record of a finished process left: {v}"
        );
    }
}

/// An image of more layers than `fsimage::FLATTEN_DEPTH` runs through one flattened
/// copy of its chain: the files of every layer read as written, the copy is a sound
/// qcow2 file made once. The copy goes with its layer (`images::prune` tests that).
#[test]
fn deep_images_run_through_a_flattened_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let steps: String = (1..=10)
        .map(|i| format!("RUN echo layer {i} > /deep{i} && rm -f /deep{}\n", i - 2))
        .collect();
    std::fs::write(tmp.path().join("Balenafile"), format!("FROM base\n{steps}")).unwrap();
    ok(
        &wsh_args(&[
            "build",
            "-q",
            "-t",
            "test-deep",
            tmp.path().to_str().unwrap(),
        ]),
        "build",
    );
    let v: serde_json::Value =
        serde_json::from_str(&text(&wsh_args(&["inspect", "test-deep"]).stdout)).unwrap();
    let top = v["layers"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    let copy = wsh_home()
        .join("data")
        .join("flat")
        .join(format!("{top}.qcow2"));
    let out = wsh_args(&[
        "run",
        "test-deep",
        "sh",
        "-c",
        "cat /deep9 /deep10; ls / | grep -c deep",
    ]);
    ok(&out, "run");
    assert_eq!(text(&out.stdout), "layer 9\nlayer 10\n2\n");
    assert!(copy.exists(), "no flattened copy of the 11-layer chain");
    let check = host("qemu-img", &["check", copy.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stdout));
    let made = std::fs::metadata(&copy).unwrap().modified().unwrap();
    ok(&wsh_args(&["run", "test-deep", "true"]), "second run");
    assert_eq!(
        std::fs::metadata(&copy).unwrap().modified().unwrap(),
        made,
        "copy remade"
    );
    ok(&wsh_args(&["rmi", "test-deep"]), "rmi");
}
