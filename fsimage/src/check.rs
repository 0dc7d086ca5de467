//! A read-only consistency check of an ext4 image (for `wsh import`): what libext2fs
//! can verify without repairing anything, with the path of every problem.

use crate::device::BlockDevice;
use crate::error::Result;
use crate::ffi;
use crate::inner::{Inner, kind_of_ftype, kind_of_mode};
use crate::path::ROOT;
use crate::types::{FileType, Ino};
use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::fmt;

/// Problems kept before the check gives up on a hopeless image.
const MAX_PROBLEMS: usize = 200;

/// One inconsistency found by `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: a path in the image ("/etc/passwd"), or a structure ("superblock", "group 3").
    pub place: String,
    /// What is wrong there.
    pub what: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.what)
    }
}

/// Checks the ext4 file system on `dev` without writing to it, and returns what is
/// wrong (empty: nothing found). It verifies the superblock (and its checksum), the group
/// descriptors (`ext2fs_check_desc`, and their checksums with metadata_csum), reads both
/// bitmaps (checksums verified), checks the reserved inodes (journal, resize inode:
/// checksum and block map), and walks every directory reachable from the root: each
/// directory block (structure and checksum), each entry (name, file type, "." and "..",
/// no second name for a directory) and each inode it names (in range, marked in use,
/// checksum, linked, block map and xattr block inside the file system and marked in use,
/// i_blocks), and finally every link count against the names found. In-use inodes that
/// no directory reaches, and htree ordering, are not checked (e2fsck's passes 1 and 4).
/// `Err` only when the host cannot read the device; a damaged image gives problems.
pub fn check(dev: Box<dyn BlockDevice>) -> Result<Vec<Problem>> {
    let size = dev.size();
    let mut problems = Problems::default();
    if size < 2048 {
        problems.add("superblock", format!("image of {size} bytes has none"));
        return Ok(problems.list);
    }
    let mut inner = Inner::new(dev, false);
    let mut fs = std::ptr::null_mut();
    // SAFETY: the device slot outlives fs (both live in Inner); read-only open.
    let rc = unsafe { ffi::shim_open(inner.dev_ptr(), 0, &mut fs) };
    if rc != 0 {
        problems.add_error(rc, "superblock");
        return Ok(problems.list);
    }
    inner.fs = fs;
    // SAFETY: fs open.
    let claimed = unsafe { ffi::shim_fs_bytes(fs) };
    if claimed > size {
        problems.add(
            "superblock",
            format!("file system needs {claimed} bytes, image has {size}"),
        );
        return Ok(problems.list);
    }
    // SAFETY: fs open. The walk below tests inodes and blocks against the bitmaps.
    let rc = unsafe { ffi::shim_load_bitmaps(fs) };
    if rc != 0 {
        problems.add_error(rc, "bitmaps");
        return Ok(problems.list);
    }
    unsafe extern "C" fn group_cb(ctx: *mut c_void, group: u32, msg: *const c_char) {
        // SAFETY: ctx is the Problems below; msg is a NUL-terminated string.
        let p = unsafe { &mut *(ctx as *mut Problems) };
        let msg = unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned();
        p.add(&format!("group {group}"), msg);
    }
    // SAFETY: the callback only touches `problems`, which outlives the call.
    unsafe { ffi::shim_check_groups(fs, group_cb, &mut problems as *mut _ as *mut c_void) };
    unsafe extern "C" fn reserved_cb(ctx: *mut c_void, msg: *const c_char) {
        // SAFETY: ctx is the Problems below; msg is a NUL-terminated string.
        let p = unsafe { &mut *(ctx as *mut Problems) };
        let msg = unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned();
        p.add("reserved inodes", msg);
    }
    // SAFETY: as above.
    unsafe { ffi::shim_check_reserved(fs, reserved_cb, &mut problems as *mut _ as *mut c_void) };
    Walk {
        inner: &inner,
        problems: &mut problems,
        refs: HashMap::new(),
        links: HashMap::new(),
        dirs: HashSet::new(),
        unusable: HashSet::new(),
    }
    .run();
    Ok(problems.list)
}

/// The problems found so far, capped at MAX_PROBLEMS.
#[derive(Default)]
struct Problems {
    list: Vec<Problem>,
    full: bool,
}

impl Problems {
    /// libext2fs error `rc` as a problem of the group descriptors if it names them,
    /// else of `place`.
    fn add_error(&mut self, rc: ffi::Errcode, place: &str) {
        let msg = ffi::strerror(rc);
        let place = if msg.contains("descriptor") {
            "group descriptors"
        } else {
            place
        };
        self.add(place, msg);
    }

    fn add(&mut self, place: &str, what: String) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                place: place.to_string(),
                what,
            });
        } else if !self.full {
            self.full = true;
            self.list.push(Problem {
                place: "image".into(),
                what: format!("more than {MAX_PROBLEMS} problems; stopped looking"),
            });
        }
    }
}

/// The directory walk: names found per inode, and each inode's link count and path.
struct Walk<'a> {
    inner: &'a Inner,
    problems: &'a mut Problems,
    /// Names (entries, "." and ".." included) that point at each inode.
    refs: HashMap<Ino, u32>,
    /// Link count and a path of every inode checked.
    links: HashMap<Ino, (u32, bool, String)>,
    /// Directories already entered (a second name for one is corruption).
    dirs: HashSet<Ino>,
    /// Inodes found unusable (reported once, however many names they have).
    unusable: HashSet<Ino>,
}

/// The raw entries of one directory: (name, inode, EXT2_FT_* code).
type RawEntries = Vec<(Vec<u8>, Ino, c_int)>;

impl Walk<'_> {
    fn run(&mut self) {
        let Some((mode, _)) = self.inode(ROOT, "/") else {
            return;
        };
        if kind_of_mode(mode) != Some(FileType::Directory) {
            self.problems.add("/", "the root is not a directory".into());
            return;
        }
        self.dirs.insert(ROOT);
        let mut todo = vec![(ROOT, ROOT, String::from("/"))];
        while let Some((dir, parent, path)) = todo.pop() {
            if self.problems.full {
                return;
            }
            self.directory(dir, parent, &path, &mut todo);
        }
        self.link_counts();
    }

    /// Checks inode `ino` (reached as `path`): Some((mode, links)) if it can be used.
    fn inode(&mut self, ino: Ino, path: &str) -> Option<(u32, u32)> {
        unsafe extern "C" fn cb(ctx: *mut c_void, msg: *const c_char) {
            // SAFETY: ctx is the Vec below; msg is a NUL-terminated string.
            let v = unsafe { &mut *(ctx as *mut Vec<String>) };
            v.push(
                unsafe { CStr::from_ptr(msg) }
                    .to_string_lossy()
                    .into_owned(),
            );
        }
        let mut msgs: Vec<String> = Vec::new();
        let (mut mode, mut links) = (0, 0);
        // SAFETY: fs open; the callback only touches `msgs`; out-pointers valid.
        let unusable = unsafe {
            ffi::shim_check_inode(
                self.inner.fs,
                ino,
                cb,
                &mut msgs as *mut _ as *mut c_void,
                &mut mode,
                &mut links,
            )
        };
        for m in msgs {
            self.problems.add(path, m);
        }
        if unusable != 0 {
            self.unusable.insert(ino);
            return None;
        }
        let is_dir = kind_of_mode(mode) == Some(FileType::Directory);
        self.links.insert(ino, (links, is_dir, path.to_string()));
        Some((mode, links))
    }

    /// Reads directory `dir` (at `path`, entered from `parent`) and checks its entries;
    /// subdirectories seen for the first time go on `todo`.
    fn directory(&mut self, dir: Ino, parent: Ino, path: &str, todo: &mut Vec<(Ino, Ino, String)>) {
        unsafe extern "C" fn cb(
            ctx: *mut c_void,
            name: *const c_char,
            len: c_int,
            ino: u32,
            ft: c_int,
        ) -> c_int {
            // SAFETY: ctx is the Vec below; name holds len bytes.
            let out = unsafe { &mut *(ctx as *mut RawEntries) };
            let name = unsafe { std::slice::from_raw_parts(name as *const u8, len as usize) };
            out.push((name.to_vec(), ino, ft));
            0
        }
        let mut raw: RawEntries = Vec::new();
        // SAFETY: the callback only touches `raw`, which outlives the call.
        let rc =
            unsafe { ffi::shim_readdir(self.inner.fs, dir, cb, &mut raw as *mut _ as *mut c_void) };
        if rc != 0 {
            self.problems
                .add(path, format!("directory unreadable: {}", ffi::strerror(rc)));
        }
        let (mut dot, mut dotdot) = (false, false);
        for (name, ino, ft) in raw {
            let child = child_path(path, &name);
            *self.refs.entry(ino).or_insert(0) += 1;
            match name.as_slice() {
                b"." => {
                    dot = true;
                    if ino != dir {
                        self.problems
                            .add(path, format!("\".\" points at inode {ino}, not {dir}"));
                    }
                    continue;
                }
                b".." => {
                    dotdot = true;
                    if ino != parent {
                        self.problems.add(
                            path,
                            format!("\"..\" points at inode {ino}, not the parent {parent}"),
                        );
                    }
                    continue;
                }
                _ => {}
            }
            if name.contains(&b'/') || name.contains(&0) {
                self.problems
                    .add(&child, "entry name contains '/' or NUL".into());
            }
            if self.unusable.contains(&ino) {
                continue;
            }
            let mode = if self.links.contains_key(&ino) {
                // Seen before under another name (a hard link): checked once.
                match self.inner.raw_stat(ino) {
                    Ok(st) => st.mode,
                    Err(_) => continue,
                }
            } else {
                match self.inode(ino, &child) {
                    Some((mode, _)) => mode,
                    None => continue,
                }
            };
            let kind = kind_of_mode(mode);
            if ft > 7 {
                self.problems
                    .add(&child, format!("entry has an unknown file type code {ft}"));
            }
            if let Some(k) = kind_of_ftype(ft)
                && Some(k) != kind
            {
                self.problems
                    .add(&child, format!("entry says {k:?}, inode {ino} is {kind:?}"));
            }
            if kind == Some(FileType::Directory) {
                if !self.dirs.insert(ino) {
                    self.problems
                        .add(&child, format!("second name for directory inode {ino}"));
                } else {
                    todo.push((ino, dir, child));
                }
            }
        }
        if rc == 0 && !(dot && dotdot) {
            self.problems
                .add(path, "directory lacks \".\" or \"..\"".into());
        }
    }

    /// Every checked inode's link count against the names that point at it.
    fn link_counts(&mut self) {
        let mut bad: Vec<(Ino, String, u32, u32)> = Vec::new();
        for (ino, (links, is_dir, path)) in &self.links {
            let found = self.refs.get(ino).copied().unwrap_or(0);
            // dir_nlink: a directory with too many subdirectories counts 1.
            let overflow = *is_dir && *links == 1 && found >= 65000;
            if *links != found && !overflow {
                bad.push((*ino, path.clone(), *links, found));
            }
        }
        bad.sort();
        for (ino, path, links, found) in bad {
            self.problems.add(
                &path,
                format!("inode {ino} has link count {links}, {found} names point at it"),
            );
        }
    }
}

/// `dir`/`name` for messages.
fn child_path(dir: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}
