//! `wsh mount`: a real FUSE mount of an image, judged by `diff -r` and `stat` against the
//! source tree, unmounted by `fusermount3 -u` or SIGINT; `--rw` writes land in the image
//! (raw file: replaced at unmount, judged by e2fsck and debugfs; store image: a new image).
//! Where FUSE is unusable (no /dev/fuse, no fusermount3), each test prints SKIPPED.

mod common;

use common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

macro_rules! need_fuse {
    ($name:expr) => {
        if let Some(why) = fuse_unusable() {
            println!("SKIPPED {}: FUSE unusable here ({why})", $name);
            eprintln!("SKIPPED {}: FUSE unusable here ({why})", $name);
            return;
        }
    };
}

/// A running `wsh mount`.
struct Mounted {
    child: Child,
    dir: PathBuf,
}

impl Mounted {
    fn start(image: &str, dir: &Path, rw: bool) -> Mounted {
        let mut c = wsh_cmd(wsh_home());
        c.arg("mount").arg(image).arg(dir);
        if rw {
            c.arg("--rw");
        }
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for("the mount to appear", || {
            if let Ok(Some(st)) = child.try_wait() {
                let out = child.wait_with_output_ref();
                panic!("wsh mount exited early ({st}): {out}");
            }
            is_mounted(dir)
        });
        Mounted {
            child,
            dir: dir.to_path_buf(),
        }
    }

    /// Unmounts with fusermount3 and returns wsh's stdout once it exits 0.
    fn unmount(self) -> String {
        let st = Command::new("fusermount3")
            .arg("-u")
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(st.success(), "fusermount3 -u");
        self.wait()
    }

    /// Waits for wsh to exit 0 and the mount to be gone; returns its stdout.
    fn wait(self) -> String {
        let out = self.child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "wsh mount: {:?}\n{}",
            out.status,
            text(&out.stderr)
        );
        assert!(!is_mounted(&self.dir), "still mounted after wsh exited");
        text(&out.stdout)
    }
}

trait OutputRef {
    fn wait_with_output_ref(&mut self) -> String;
}

impl OutputRef for Child {
    fn wait_with_output_ref(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(e) = self.stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

/// A host tree with modes, owners, times, symlinks (short and long), a hard link, a
/// sparse file, an empty file and a few MiB of data.
fn make_source(src: &Path) {
    let sh = format!(
        r#"set -e
cd {}
mkdir -p sub/deeper empty
printf 'hello\n' > a
chmod 640 a
ln a hard
ln -s a short
ln -s "$(printf 'x%.0s' $(seq 300))" long
head -c 3000000 /dev/urandom > sub/big
chown 1234:567 sub/big
chmod 4755 sub/big
: > sub/deeper/emptyfile
truncate -s 5M sub/sparse
printf end >> sub/sparse
chmod 700 sub/deeper
touch -h -d '2001-02-03 04:05:06' a short sub/deeper/emptyfile
touch -d '1999-12-31 23:59:59' sub/deeper empty sub
"#,
        src.display()
    );
    let out = bash_in(src, &sh);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `stat` lines for every path under `dir` (sizes of directories differ between file
/// systems, so directories list mode, owner and mtime only).
fn stat_lines(dir: &Path) -> String {
    let out = bash_in(
        dir,
        "{ find . -mindepth 1 -path ./lost+found -prune -o ! -type d -exec stat -c '%n %F %a %u %g %s %Y %h' {} + ; \
           find . -mindepth 1 -path ./lost+found -prune -o -type d -print0 | xargs -0 stat -c '%n %F %a %u %g %Y' ; } | sort",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

fn diff_r(a: &Path, b: &Path) {
    let out = host(
        "diff",
        &[
            "-r",
            "--no-dereference",
            "-x",
            "lost+found",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "diff -r:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn setup(t: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let src = t.join("src");
    let mnt = t.join("mnt");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::create_dir_all(&mnt).unwrap();
    make_source(&src);
    let img = t.join("img.ext4");
    let out = mkfs_from_dir(&src, &img, "64M");
    assert!(out.status.success(), "{}", text(&out.stderr));
    (src, mnt, img)
}

#[test]
fn read_only_mount_matches_source() {
    need_fuse!("read_only_mount_matches_source");
    let t = tempfile::tempdir().unwrap();
    let (src, mnt, img) = setup(t.path());
    let before = std::fs::read(&img).unwrap();
    let m = Mounted::start(img.to_str().unwrap(), &mnt, false);
    diff_r(&src, &mnt);
    let lines = stat_lines(&src);
    assert!(
        lines.contains("./sub/big regular file 4755 1234 567 3000000 ")
            && lines.contains("./hard regular file 640 0 0 6 ")
            && lines.contains("./long symbolic link 777 0 0 300 ")
            && lines.contains("./sub/deeper directory 700 0 0 "),
        "{lines}"
    );
    assert_eq!(lines, stat_lines(&mnt));
    assert_eq!(
        std::fs::read_link(mnt.join("long"))
            .unwrap()
            .as_os_str()
            .len(),
        300
    );
    // Read-only: writes are refused.
    let e = std::fs::write(mnt.join("new"), b"x").unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::EROFS));
    let out = bash_in(&mnt, "df -B4096 . | tail -1");
    assert!(text(&out.stdout).contains("wsh"), "{}", text(&out.stdout));
    m.unmount();
    assert!(
        std::fs::read(&img).unwrap() == before,
        "read-only mount changed the image"
    );
}

#[test]
fn sigint_unmounts_cleanly() {
    need_fuse!("sigint_unmounts_cleanly");
    let t = tempfile::tempdir().unwrap();
    let (_src, mnt, img) = setup(t.path());
    let m = Mounted::start(img.to_str().unwrap(), &mnt, false);
    assert_eq!(std::fs::read(mnt.join("a")).unwrap(), b"hello\n");
    // SAFETY: plain syscall on our own child's pid.
    assert_eq!(unsafe { libc::kill(m.child.id() as i32, libc::SIGINT) }, 0);
    m.wait();
}

#[test]
fn rw_mount_writes_into_the_file() {
    need_fuse!("rw_mount_writes_into_the_file");
    let t = tempfile::tempdir().unwrap();
    let (_src, mnt, img) = setup(t.path());
    let m = Mounted::start(img.to_str().unwrap(), &mnt, true);
    let out = bash_in(
        &mnt,
        "set -e; printf 'through fuse\\n' > new; mkdir -p d/e; mv a d/e/a2; chmod 600 d/e/a2; \
         ln -s d/e/a2 sl; rm hard; truncate -s 100 sub/big; rmdir empty; \
         touch -d '2010-01-01 00:00:00' new; ln new new2; chown 42:43 new; \
         dd if=/dev/zero of=sub/zeros bs=1M count=3 status=none; \
         cat d/e/a2 new; stat -c '%a %u %g %h %s' new d/e/a2 sub/big; stat -c %Y new d/e/a2",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expect = format!(
        "hello\nthrough fuse\n644 42 43 2 13\n600 0 0 1 6\n4755 1234 567 1 100\n{}\n{}\n",
        epoch_of("2010-01-01 00:00:00"),
        epoch_of("2001-02-03 04:05:06"),
    );
    assert_eq!(text(&out.stdout), expect);
    m.unmount();
    // The changes are in the image, which e2fsck calls clean.
    let fsck = host("e2fsck", &["-fn", img.to_str().unwrap()]);
    assert!(
        fsck.status.success(),
        "{}{}",
        text(&fsck.stdout),
        text(&fsck.stderr)
    );
    let dbg = |cmd: &str| text(&host("debugfs", &["-R", cmd, img.to_str().unwrap()]).stdout);
    assert_eq!(dbg("cat /new"), "through fuse\n");
    assert_eq!(dbg("cat /d/e/a2"), "hello\n");
    let st = dbg("stat /new");
    assert!(st.contains("User:    42   Group:    43"), "{st}");
    assert!(st.contains("Links: 2"), "{st}");
    assert!(dbg("ls /").contains("sl") && !dbg("ls /").contains("hard"));
    assert!(dbg("stat /sub/big").contains("Size: 100"));
}

/// `date +%s` of a local time, as `touch -d` reads it (same environment as bash_in).
fn epoch_of(when: &str) -> String {
    let out = bash_in(Path::new("/"), &format!("date -d '{when}' +%s"));
    text(&out.stdout).trim().to_string()
}

#[test]
fn rw_mount_of_a_store_image_seals_a_new_image() {
    need_fuse!("rw_mount_of_a_store_image_seals_a_new_image");
    let t = tempfile::tempdir().unwrap();
    let (src, mnt, _img) = setup(t.path());
    let name = format!("mnt-test-{}", std::process::id());
    let out = wsh_cmd(wsh_home())
        .args(["import"])
        .arg(&src)
        .arg(&name)
        .output()
        .unwrap();
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    // Read-only first: the store image shows the source tree.
    let m = Mounted::start(&name, &mnt, false);
    diff_r(&src, &mnt);
    m.unmount();
    let m = Mounted::start(&name, &mnt, true);
    std::fs::write(mnt.join("added"), b"new layer\n").unwrap();
    std::fs::set_permissions(mnt.join("added"), std::fs::Permissions::from_mode(0o751)).unwrap();
    std::fs::remove_file(mnt.join("hard")).unwrap();
    let id = m.unmount().trim().to_string();
    assert!(!id.is_empty(), "no image id printed");
    // The new image has the change; the old one does not.
    let exported = t.path().join("new.ext4");
    let out = wsh_cmd(wsh_home())
        .arg("export")
        .arg(&id)
        .arg(&exported)
        .output()
        .unwrap();
    assert!(out.status.success(), "export: {}", text(&out.stderr));
    let fsck = host("e2fsck", &["-fn", exported.to_str().unwrap()]);
    assert!(fsck.status.success(), "{}", text(&fsck.stdout));
    let dbg = |cmd: &str| text(&host("debugfs", &["-R", cmd, exported.to_str().unwrap()]).stdout);
    assert_eq!(dbg("cat /added"), "new layer\n");
    assert!(dbg("stat /added").contains("Mode:  0751"));
    assert!(!dbg("ls /").contains("hard"));
    let m = Mounted::start(&name, &mnt, false);
    assert!(!mnt.join("added").exists());
    assert!(mnt.join("hard").exists());
    m.unmount();
    let _ = wsh_cmd(wsh_home()).arg("rmi").arg(&id).output();
    let _ = wsh_cmd(wsh_home()).arg("rmi").arg(&name).output();
}
