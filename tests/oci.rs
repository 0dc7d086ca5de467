//! `wsh save` / `wsh load` against the reference OCI tools: skopeo reads what wsh
//! saves, umoci unpacks it to the same files; images made by umoci and skopeo load in
//! wsh with their files intact; save -> load keeps everything; damaged archives are
//! refused before the store changes. Every image is exported and judged by e2fsck.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bash_in, host, text, wsh_args, wsh_cmd, wsh_home};
use fsimage::{FileDevice, FileType, Ino, Vfs};
use sha2::{Digest, Sha256};

fn ok(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\n{}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn wsh_in(home: &Path, args: &[&str]) -> Output {
    wsh_cmd(home).args(args).output().expect("wsh runs")
}

fn tool(name: &str, args: &[&str]) -> Output {
    Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} is not installed ({e}): apt-get install skopeo umoci"))
}

fn is_root() -> bool {
    // SAFETY: no arguments.
    unsafe { libc::geteuid() == 0 }
}

/// One file of a tree, as both sides must agree on it.
#[derive(Debug, PartialEq, Eq, Clone)]
struct Node {
    kind: char,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: (i64, u32),
    /// sha256 of a file's content, or a symlink's target.
    data: String,
    /// For a file with several names: the first of them (by path order).
    link: Option<String>,
}

type Tree = BTreeMap<String, Node>;

/// Builds an image from `balenafile` (no context files), tagged `tag`.
fn build(tag: &str, balenafile: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Balenafile"), balenafile).unwrap();
    ok(
        wsh_args(&["build", "-t", tag, dir.path().to_str().unwrap()]),
        "wsh build",
    );
}

/// The files of image `name` in `home`'s store: exported to a raw ext4 image that
/// e2fsck -fn must find clean, then read back through fsimage.
fn image_tree(home: &Path, name: &str) -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("img.raw");
    ok(
        wsh_in(home, &["export", name, raw.to_str().unwrap()]),
        "wsh export",
    );
    let fsck = host("e2fsck", &["-fn", raw.to_str().unwrap()]);
    assert!(
        fsck.status.success(),
        "e2fsck -fn on {name}:\n{}{}",
        text(&fsck.stdout),
        text(&fsck.stderr)
    );
    let vfs = Vfs::open(
        Box::new(FileDevice::open(&raw, false).unwrap()),
        &raw,
        false,
    )
    .unwrap();
    let mut tree = Tree::new();
    let mut links = BTreeMap::new();
    walk_image(&vfs, vfs.root(), "", &mut tree, &mut links);
    tree
}

fn walk_image(vfs: &Vfs, dir: Ino, path: &str, tree: &mut Tree, links: &mut BTreeMap<Ino, String>) {
    let mut entries = vfs.readdir(dir).unwrap();
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    for e in entries {
        let name = String::from_utf8(e.name.clone()).unwrap();
        if name == "." || name == ".." || (path.is_empty() && name == "lost+found") {
            continue;
        }
        let p = format!("{path}/{name}");
        let st = vfs.stat(e.ino).unwrap();
        let (kind, data) = match st.kind {
            FileType::Directory => ('d', String::new()),
            FileType::Symlink => ('l', text(&vfs.readlink(e.ino).unwrap())),
            FileType::Regular => {
                let mut buf = vec![0; st.size as usize];
                let mut at = 0;
                while at < buf.len() {
                    at += vfs.read(e.ino, at as u64, &mut buf[at..]).unwrap();
                }
                ('f', hex::encode(Sha256::digest(&buf)))
            }
            other => panic!("{p}: unexpected {other:?}"),
        };
        let link = (kind == 'f' && st.nlink > 1)
            .then(|| links.entry(e.ino).or_insert_with(|| p.clone()).clone());
        tree.insert(
            p.clone(),
            Node {
                kind,
                mode: st.mode,
                uid: st.uid,
                gid: st.gid,
                mtime: (st.mtime.sec, st.mtime.nsec),
                data,
                link,
            },
        );
        if kind == 'd' {
            walk_image(vfs, e.ino, &p, tree, links);
        }
    }
}

/// The files under host directory `root`, described as `image_tree` does.
fn host_tree(root: &Path) -> Tree {
    fn walk(root: &Path, rel: &str, tree: &mut Tree, links: &mut BTreeMap<(u64, u64), String>) {
        let mut entries: Vec<_> = std::fs::read_dir(root.join(rel.trim_start_matches('/')))
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = format!("{rel}/{}", e.file_name().to_str().unwrap());
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            let ft = m.file_type();
            let (kind, data) = if ft.is_dir() {
                ('d', String::new())
            } else if ft.is_symlink() {
                (
                    'l',
                    std::fs::read_link(e.path())
                        .unwrap()
                        .to_str()
                        .unwrap()
                        .to_string(),
                )
            } else {
                (
                    'f',
                    hex::encode(Sha256::digest(std::fs::read(e.path()).unwrap())),
                )
            };
            let link = (kind == 'f' && m.nlink() > 1).then(|| {
                links
                    .entry((m.dev(), m.ino()))
                    .or_insert_with(|| p.clone())
                    .clone()
            });
            tree.insert(
                p.clone(),
                Node {
                    kind,
                    mode: m.mode() & 0o7777,
                    uid: m.uid(),
                    gid: m.gid(),
                    mtime: (m.mtime(), m.mtime_nsec() as u32),
                    data,
                    link,
                },
            );
            if kind == 'd' {
                walk(root, &p, tree, links);
            }
        }
    }
    let mut tree = Tree::new();
    walk(root, "", &mut tree, &mut BTreeMap::new());
    tree
}

/// The differences between two trees (empty when equal), after `adjust` has been
/// applied to every node of both (to drop what a side cannot keep).
fn differences(a: &Tree, b: &Tree, adjust: impl Fn(&str, &mut Node)) -> Vec<String> {
    let fix = |t: &Tree| -> Tree {
        t.iter()
            .map(|(p, n)| {
                let mut n = n.clone();
                adjust(p, &mut n);
                (p.clone(), n)
            })
            .collect()
    };
    let (a, b) = (fix(a), fix(b));
    let mut out = Vec::new();
    for (p, n) in &a {
        match b.get(p) {
            None => out.push(format!("{p}: only on the left ({n:?})")),
            Some(m) if m != n => out.push(format!("{p}:\n  left  {n:?}\n  right {m:?}")),
            _ => {}
        }
    }
    for p in b.keys().filter(|p| !a.contains_key(*p)) {
        out.push(format!("{p}: only on the right ({:?})", b[p]));
    }
    out
}

const TEST_IMAGE: &str = r#"FROM base
RUN mkdir -p /app/sub /app/dir2 && echo hello > /app/a.txt && chown 1234:5678 /app/a.txt && chmod 4750 /app/a.txt && ln /app/a.txt /app/hard && ln -s a.txt /app/link && ln -s /no/such/long/target/for/a/dangling/link /app/dangling && echo gone > /app/gone && echo x > /app/dir2/f && printf 'bin\0ary' > /app/bin && touch -d @1500000000 /app/sub/old
RUN rm /app/gone && rm -r /app/dir2 && echo changed > /app/sub/new && chmod 600 /app/bin && touch -d @1600000000 /app/sub
ENV FOO=bar
WORKDIR /app
LABEL org.example.k=v
EXPOSE 8080/tcp
ENTRYPOINT ["cat"]
CMD ["/app/a.txt"]
"#;

/// The test image, built once per test binary.
fn test_image() -> &'static str {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| build("oci-test:1", TEST_IMAGE));
    "oci-test:1"
}

fn save(image: &str, dir: &Path) -> PathBuf {
    let file = dir.join("image.tar");
    ok(
        wsh_args(&["save", image, "-o", file.to_str().unwrap()]),
        "wsh save",
    );
    file
}

#[test]
fn skopeo_inspects_a_saved_image() {
    let dir = tempfile::tempdir().unwrap();
    let file = save(test_image(), dir.path());
    let src = format!("oci-archive:{}", file.display());
    let out = ok(tool("skopeo", &["inspect", &src]), "skopeo inspect");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["Env"].as_array().unwrap().iter().any(|e| e == "FOO=bar"),
        "{v}"
    );
    assert_eq!(v["Labels"]["org.example.k"], "v", "{v}");
    // base's layer and the two RUNs.
    let (_, config) = inspect(test_image());
    assert_eq!(
        v["Layers"].as_array().unwrap().len(),
        config["layers"].as_array().unwrap().len(),
        "{v}"
    );
    let out = ok(
        tool("skopeo", &["inspect", "--config", &src]),
        "skopeo inspect --config",
    );
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["config"]["Cmd"], serde_json::json!(["/app/a.txt"]), "{c}");
    assert_eq!(c["config"]["Entrypoint"], serde_json::json!(["cat"]), "{c}");
    assert_eq!(c["config"]["WorkingDir"], "/app", "{c}");
    assert!(c["config"]["ExposedPorts"]["8080/tcp"].is_object(), "{c}");
    assert_eq!(
        c["rootfs"]["diff_ids"].as_array().unwrap().len(),
        v["Layers"].as_array().unwrap().len()
    );
    // The docker-save side of the same archive names the same blobs.
    let list = tar_member(&file, "manifest.json");
    let m: serde_json::Value = serde_json::from_slice(&list).unwrap();
    assert_eq!(m[0]["RepoTags"], serde_json::json!(["oci-test:1"]));
    assert_eq!(
        m[0]["Layers"].as_array().unwrap().len(),
        v["Layers"].as_array().unwrap().len()
    );
}

fn inspect(image: &str) -> (String, serde_json::Value) {
    let out = ok(wsh_args(&["inspect", image]), "wsh inspect");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (image.to_string(), v)
}

/// The bytes of member `name` of a tar file.
fn tar_member(file: &Path, name: &str) -> Vec<u8> {
    let out = ok(
        tool("tar", &["-xOf", file.to_str().unwrap(), name]),
        "tar -xO",
    );
    out.stdout
}

/// What `docker load` needs of a saved archive (docker has no daemon here): its
/// `manifest.json` names a config and layer tars present in the archive, whose sha256
/// are the config's `rootfs.diff_ids` in order (docker load checks exactly that), and
/// skopeo's `docker-archive:` transport, which reads the archive as docker's own `save`
/// output, finds the same image as its `oci-archive:` transport and copies it whole.
#[test]
fn a_saved_archive_reads_as_a_docker_save_archive() {
    let dir = tempfile::tempdir().unwrap();
    let file = save(test_image(), dir.path());
    let list: serde_json::Value =
        serde_json::from_slice(&tar_member(&file, "manifest.json")).unwrap();
    let entry = &list.as_array().expect("a list")[0];
    let config: serde_json::Value =
        serde_json::from_slice(&tar_member(&file, entry["Config"].as_str().unwrap())).unwrap();
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap();
    let layers = entry["Layers"].as_array().unwrap();
    assert_eq!(layers.len(), diff_ids.len());
    for (layer, diff_id) in layers.iter().zip(diff_ids) {
        let blob = dir.path().join("layer.tar");
        std::fs::write(&blob, tar_member(&file, layer.as_str().unwrap())).unwrap();
        let sum = ok(tool("sha256sum", &[blob.to_str().unwrap()]), "sha256sum");
        let sum = text(&sum.stdout);
        assert_eq!(
            format!("sha256:{}", sum.split_whitespace().next().unwrap()),
            diff_id.as_str().unwrap()
        );
    }
    let docker = format!("docker-archive:{}", file.display());
    let oci = format!("oci-archive:{}", file.display());
    let as_docker: serde_json::Value =
        serde_json::from_slice(&ok(tool("skopeo", &["inspect", &docker]), "skopeo inspect").stdout)
            .unwrap();
    let as_oci: serde_json::Value =
        serde_json::from_slice(&ok(tool("skopeo", &["inspect", &oci]), "skopeo inspect").stdout)
            .unwrap();
    assert_eq!(as_docker["Layers"], as_oci["Layers"]);
    assert_eq!(as_docker["Env"], as_oci["Env"]);
    assert_eq!(as_docker["Labels"]["org.example.k"], "v", "{as_docker}");
    let layout = dir.path().join("layout");
    ok(
        tool(
            "skopeo",
            &["copy", &docker, &format!("oci:{}:copy", layout.display())],
        ),
        "skopeo copy docker-archive: to oci:",
    );
    // And the other way: skopeo's own docker-archive of it loads back into wsh.
    let theirs = dir.path().join("theirs.tar");
    ok(
        tool(
            "skopeo",
            &[
                "copy",
                &oci,
                &format!("docker-archive:{}:oci-test:theirs", theirs.display()),
            ],
        ),
        "skopeo copy oci-archive: to docker-archive:",
    );
    ok(
        wsh_args(&["load", "-i", theirs.to_str().unwrap()]),
        "wsh load of skopeo's docker-archive",
    );
    let out = ok(wsh_args(&["run", "oci-test:theirs"]), "wsh run");
    assert_eq!(
        text(&out.stdout),
        text(&ok(wsh_args(&["run", test_image()]), "wsh run").stdout)
    );
    ok(wsh_args(&["rmi", "oci-test:theirs"]), "wsh rmi");
}

/// umoci's unpack of a saved image (copied to an OCI layout by skopeo) has the files
/// of the wsh image: same types, modes, owners, mtimes, contents, symlinks, hard links.
#[test]
fn umoci_unpacks_a_saved_image_to_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = save(test_image(), dir.path());
    let layout = dir.path().join("layout");
    ok(
        tool(
            "skopeo",
            &[
                "copy",
                &format!("oci-archive:{}", file.display()),
                &format!("oci:{}:t", layout.display()),
            ],
        ),
        "skopeo copy",
    );
    let bundle = dir.path().join("bundle");
    let image = format!("{}:t", layout.display());
    let mut args = vec!["unpack", "--image", &image, bundle.to_str().unwrap()];
    if !is_root() {
        args.insert(1, "--rootless");
    }
    ok(tool("umoci", &args), "umoci unpack");
    let theirs = host_tree(&bundle.join("rootfs"));
    let ours = image_tree(wsh_home(), test_image());
    assert!(ours.contains_key("/app/a.txt") && !ours.contains_key("/app/gone"));
    let diffs = differences(&ours, &theirs, |_, n| {
        if !is_root() {
            // Rootless, every file is the caller's.
            (n.uid, n.gid) = (0, 0);
        }
    });
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    assert_eq!(theirs["/app/a.txt"].mode, 0o4750);
    assert_eq!(theirs["/app/hard"].link.as_deref(), Some("/app/a.txt"));
    assert_eq!(theirs["/app/sub/old"].mtime, (1500000000, 0));
}

/// save -> load gives an image with the same files (times to the nanosecond) and the
/// same config, usable by a build; the deletion in the upper layer stays deleted.
#[test]
fn save_then_load_keeps_files_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = save(test_image(), dir.path());
    let out = ok(
        wsh_args(&["load", "-i", file.to_str().unwrap(), "-t", "oci-back:2"]),
        "wsh load",
    );
    assert!(
        text(&out.stdout).contains("oci-back:2"),
        "{}",
        text(&out.stdout)
    );
    let diffs = differences(
        &image_tree(wsh_home(), test_image()),
        &image_tree(wsh_home(), "oci-back:2"),
        |_, _| {},
    );
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let (_, a) = inspect(test_image());
    let (_, b) = inspect("oci-back:2");
    for k in [
        "env",
        "cmd",
        "entrypoint",
        "workdir",
        "labels",
        "exposed_ports",
        "user",
    ] {
        assert_eq!(a[k], b[k], "{k}");
    }
    assert_eq!(
        a["layers"].as_array().unwrap().len(),
        b["layers"].as_array().unwrap().len()
    );
    // Its command runs, and the image is a good FROM.
    let out = ok(wsh_args(&["run", "oci-back:2"]), "wsh run");
    assert_eq!(text(&out.stdout), "hello\n");
    build(
        "oci-from:1",
        "FROM oci-back:2\nRUN cat /app/sub/new /app/hard > /app/both\n",
    );
    let out = ok(wsh_args(&["run", "oci-from:1", "/app/both"]), "wsh run");
    assert_eq!(text(&out.stdout), "changed\nhello\n");
    // From stdin.
    let out = wsh_cmd(wsh_home())
        .args(["load", "-t", "oci-stdin:1"])
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    let out = ok(out, "wsh load < FILE");
    assert!(
        text(&out.stdout).contains("oci-stdin:1"),
        "{}",
        text(&out.stdout)
    );
}

/// A host tree for umoci to pack: modes, owners, whole-second times, a hard link,
/// symlinks, nested directories, and one native program.
fn make_tree(root: &Path) {
    let script = r#"
set -e
mkdir -p etc/deep/er usr/bin var/empty
printf 'root:x:0:0::/root:/bin/sh\n' > etc/passwd
printf 'a\nb\n' > etc/deep/er/file
chmod 640 etc/deep/er/file
ln etc/passwd etc/passwd.hard
ln -s ../etc/passwd usr/passwd-link
cp /bin/true usr/bin/true
echo doomed > etc/doomed
chmod 2755 usr/bin
"#;
    ok(bash_in(root, script), "make tree");
    if is_root() {
        ok(
            bash_in(
                root,
                "chown 42:43 etc/deep/er/file && chown -h 7:8 usr/passwd-link",
            ),
            "chown",
        );
    }
    ok(
        bash_in(
            root,
            "find . -mindepth 1 -exec touch -h -d @1400000000 {} +",
        ),
        "touch",
    );
}

/// An OCI layout made by umoci (two layers: the tree, then a deletion made by
/// `umoci repack`, i.e. a whiteout) and the docker-archive skopeo makes of it both load
/// in wsh with the tree's files; the native program is reported.
#[test]
fn images_made_by_umoci_and_skopeo_load() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    make_tree(&src);
    let layout = dir.path().join("layout");
    let l = layout.to_str().unwrap();
    let rootless: &[&str] = if is_root() { &[] } else { &["--rootless"] };
    ok(tool("umoci", &["init", "--layout", l]), "umoci init");
    ok(
        tool("umoci", &["new", "--image", &format!("{l}:v1")]),
        "umoci new",
    );
    let mut insert = vec!["insert"];
    insert.extend(rootless);
    let img = format!("{l}:v1");
    insert.extend(["--image", &img, src.to_str().unwrap(), "/"]);
    ok(tool("umoci", &insert), "umoci insert");
    // A second layer that deletes a file: unpack, remove, repack.
    let bundle = dir.path().join("bundle");
    let mut unpack = vec!["unpack"];
    unpack.extend(rootless);
    unpack.extend(["--image", &img, bundle.to_str().unwrap()]);
    ok(tool("umoci", &unpack), "umoci unpack");
    std::fs::remove_file(bundle.join("rootfs/etc/doomed")).unwrap();
    std::fs::remove_file(src.join("etc/doomed")).unwrap();
    ok(
        tool(
            "umoci",
            &["repack", "--image", &img, bundle.to_str().unwrap()],
        ),
        "umoci repack",
    );
    ok(
        tool(
            "umoci",
            &[
                "config",
                "--image",
                &img,
                "--config.env",
                "UM=1",
                "--config.cmd",
                "/usr/bin/true",
            ],
        ),
        "umoci config",
    );

    // The layout as a tar, as `skopeo copy ... oci-archive:` or `tar` would make it.
    let oci_tar = dir.path().join("umoci.tar");
    ok(
        tool("tar", &["-C", l, "-cf", oci_tar.to_str().unwrap(), "."]),
        "tar",
    );
    // umoci names the image by its tag only: wsh asks for a name.
    let out = wsh_args(&["load", "-i", oci_tar.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("wsh load -t"),
        "{}",
        text(&out.stderr)
    );
    let out = ok(
        wsh_args(&[
            "load",
            "-i",
            oci_tar.to_str().unwrap(),
            "-t",
            "from-umoci:v1",
        ]),
        "wsh load (umoci)",
    );
    assert!(
        text(&out.stderr).contains("contains native (ELF) programs"),
        "{}",
        text(&out.stderr)
    );
    let want = host_tree(&src);
    let theirs = image_tree(wsh_home(), "from-umoci:v1");
    let diffs = differences(&want, &theirs, |p, n| {
        if !is_root() {
            (n.uid, n.gid) = (0, 0);
        }
        // umoci repack records the unpacked directory whose file was removed, with
        // the time of that removal.
        if p == "/etc" {
            n.mtime = (0, 0);
        }
    });
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
    let (_, c) = inspect("from-umoci:v1");
    assert!(
        c["env"].as_array().unwrap().iter().any(|e| e == "UM=1"),
        "{c}"
    );

    // skopeo's docker-archive of it (gzip-less layers, docker's manifest.json).
    let docker_tar = dir.path().join("docker.tar");
    ok(
        tool(
            "skopeo",
            &[
                "copy",
                &format!("oci:{l}:v1"),
                &format!(
                    "docker-archive:{}:example.org/team/tool:2",
                    docker_tar.display()
                ),
            ],
        ),
        "skopeo copy to docker-archive",
    );
    let out = ok(
        wsh_args(&["load", "-i", docker_tar.to_str().unwrap()]),
        "wsh load (docker-archive)",
    );
    assert!(
        text(&out.stdout).contains("example.org/team/tool:2"),
        "{}",
        text(&out.stdout)
    );
    let again = image_tree(wsh_home(), "example.org/team/tool:2");
    assert!(differences(&theirs, &again, |_, _| {}).is_empty());

    // Its files are usable from a build.
    build(
        "oci-copy-from:1",
        "FROM base\nCOPY --from=example.org/team/tool:2 /etc/deep/er/file /got\nRUN cat /got\n",
    );
    let out = ok(
        wsh_args(&["run", "oci-copy-from:1", "cat", "/got"]),
        "wsh run",
    );
    assert_eq!(text(&out.stdout), "a\nb\n");
}

/// A truncated archive and one with a damaged layer are refused with a clear error,
/// and the store (its own, here) is exactly as before.
#[test]
fn damaged_archives_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = save(test_image(), dir.path());
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    // Without -t: the name the archive carries.
    let out = ok(
        wsh_in(&home, &["load", "-i", file.to_str().unwrap()]),
        "wsh load",
    );
    assert!(
        text(&out.stdout).contains("oci-test:1"),
        "{}",
        text(&out.stdout)
    );
    let snapshot = |home: &Path| -> Vec<(String, u64)> {
        let mut v = Vec::new();
        for sub in ["layers", "images", "containers"] {
            for e in std::fs::read_dir(home.join("data").join(sub)).unwrap() {
                let e = e.unwrap();
                v.push((
                    format!("{sub}/{}", e.file_name().to_str().unwrap()),
                    e.metadata().unwrap().len(),
                ));
            }
        }
        v.push(("tags".into(), 0));
        v.sort();
        v
    };
    let before = snapshot(&home);
    let tags = std::fs::read(home.join("data/tags.json")).unwrap();

    let bytes = std::fs::read(&file).unwrap();
    let truncated = dir.path().join("truncated.tar");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let out = wsh_in(
        &home,
        &["load", "-i", truncated.to_str().unwrap(), "-t", "bad:1"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("truncated") || err.contains("damaged"),
        "{err}"
    );

    // A flipped byte in the middle of the largest member (a layer).
    let mut flipped = bytes.clone();
    let mid = bytes.len() / 2;
    flipped[mid] ^= 0x55;
    let damaged = dir.path().join("damaged.tar");
    std::fs::write(&damaged, &flipped).unwrap();
    let out = wsh_in(
        &home,
        &["load", "-i", damaged.to_str().unwrap(), "-t", "bad:2"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("does not match") || err.contains("damaged"),
        "{err}"
    );

    let out = wsh_in(&home, &["load", "-i", "/etc/passwd"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("/etc/passwd"),
        "{}",
        text(&out.stderr)
    );

    assert_eq!(snapshot(&home), before);
    assert_eq!(std::fs::read(home.join("data/tags.json")).unwrap(), tags);
    // The image loaded first is whole.
    assert!(!image_tree(&home, "oci-test:1").is_empty());
}
