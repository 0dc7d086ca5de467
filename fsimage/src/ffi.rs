//! Hand-written declarations of csrc/shim.c, and the callbacks through which
//! its io_manager reaches a Rust `BlockDevice`.

use crate::device::BlockDevice;
use std::ffi::{CStr, c_char, c_int, c_long, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Opaque `ext2_filsys` (a pointer to libext2fs' struct_ext2_filsys).
pub type Fs = *mut c_void;

/// libext2fs error code (`errcode_t`).
pub type Errcode = c_long;

/// Mirror of `struct shim_stat` in shim.c.
#[repr(C)]
#[derive(Default, Debug, Clone, Copy)]
pub struct ShimStat {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    pub blocks: u64,
    pub atime: i64,
    pub mtime: i64,
    pub ctime: i64,
    pub atime_ns: u32,
    pub mtime_ns: u32,
    pub ctime_ns: u32,
    pub flags: u32,
}

/// Directory-entry callback; returns non-zero to stop the walk.
pub type DirentCb = unsafe extern "C" fn(
    ctx: *mut c_void,
    name: *const c_char,
    len: c_int,
    ino: u32,
    ftype: c_int,
) -> c_int;

/// Bits of `which` for `shim_set_times`.
pub const T_ATIME: c_int = 1;
/// See `T_ATIME`.
pub const T_MTIME: c_int = 2;
/// See `T_ATIME`.
pub const T_CTIME: c_int = 4;

/// Problem callback of csrc/check.c: one message per call.
pub type ReportCb = unsafe extern "C" fn(ctx: *mut c_void, msg: *const c_char);

/// Group problem callback of csrc/check.c.
pub type GroupCb = unsafe extern "C" fn(ctx: *mut c_void, group: u32, msg: *const c_char);

unsafe extern "C" {
    pub fn shim_check_groups(fs: Fs, cb: GroupCb, ctx: *mut c_void);
    pub fn shim_check_reserved(fs: Fs, cb: ReportCb, ctx: *mut c_void);
    pub fn shim_check_inode(
        fs: Fs,
        ino: u32,
        cb: ReportCb,
        ctx: *mut c_void,
        mode: *mut u32,
        links: *mut u32,
    ) -> c_int;
    pub fn shim_strerror(code: Errcode) -> *const c_char;
    pub fn shim_errno(code: Errcode) -> c_int;
    pub fn shim_open(dev: *mut c_void, writable: c_int, out: *mut Fs) -> Errcode;
    pub fn shim_mkfs(
        dev: *mut c_void,
        blocks: u64,
        inodes: u32,
        label: *const c_char,
        uuid: *const u8,
        hash_seed: *const u8,
        now: u32,
        out: *mut Fs,
    ) -> Errcode;
    pub fn shim_load_bitmaps(fs: Fs) -> Errcode;
    pub fn shim_fs_bytes(fs: Fs) -> u64;
    pub fn shim_space(fs: Fs, total: *mut u64, avail: *mut u64);
    pub fn shim_flush(fs: Fs) -> Errcode;
    pub fn shim_close(fs: Fs) -> Errcode;
    pub fn shim_stat(fs: Fs, ino: u32, st: *mut ShimStat) -> Errcode;
    pub fn shim_set_times(
        fs: Fs,
        ino: u32,
        which: c_int,
        a: i64,
        an: u32,
        m: i64,
        mn: u32,
        c: i64,
        cn: u32,
    ) -> Errcode;
    pub fn shim_set_attr(
        fs: Fs,
        ino: u32,
        perm: i64,
        uid: i64,
        gid: i64,
        c: i64,
        cn: u32,
    ) -> Errcode;
    pub fn shim_add_links(
        fs: Fs,
        ino: u32,
        delta: c_int,
        c: i64,
        cn: u32,
        out: *mut u32,
    ) -> Errcode;
    pub fn shim_free_inode(fs: Fs, ino: u32, now: u32) -> Errcode;
    pub fn shim_lookup(fs: Fs, dir: u32, name: *const c_char, len: c_int, ino: *mut u32)
    -> Errcode;
    pub fn shim_readdir(fs: Fs, dir: u32, cb: DirentCb, ctx: *mut c_void) -> Errcode;
    pub fn shim_replace_entry(
        fs: Fs,
        dir: u32,
        name: *const c_char,
        len: c_int,
        ino: u32,
        ftype: c_int,
    ) -> Errcode;
    pub fn shim_ftype_of_mode(mode: u32) -> c_int;
    pub fn shim_link(fs: Fs, dir: u32, name: *const c_char, ino: u32, ftype: c_int) -> Errcode;
    pub fn shim_unlink(fs: Fs, dir: u32, name: *const c_char, ino: u32) -> Errcode;
    pub fn shim_create(
        fs: Fs,
        dir: u32,
        name: *const c_char,
        perm: u32,
        s: i64,
        ns: u32,
        out: *mut u32,
    ) -> Errcode;
    pub fn shim_mkfifo(
        fs: Fs,
        dir: u32,
        name: *const c_char,
        perm: u32,
        s: i64,
        ns: u32,
        out: *mut u32,
    ) -> Errcode;
    pub fn shim_mkdir(
        fs: Fs,
        dir: u32,
        name: *const c_char,
        perm: u32,
        s: i64,
        ns: u32,
        out: *mut u32,
    ) -> Errcode;
    pub fn shim_symlink(
        fs: Fs,
        dir: u32,
        name: *const c_char,
        target: *const c_char,
        s: i64,
        ns: u32,
        out: *mut u32,
    ) -> Errcode;
    pub fn shim_read(
        fs: Fs,
        ino: u32,
        off: u64,
        buf: *mut c_void,
        len: u32,
        got: *mut u32,
    ) -> Errcode;
    pub fn shim_write(
        fs: Fs,
        ino: u32,
        off: u64,
        buf: *const c_void,
        len: u32,
        s: i64,
        ns: u32,
        done: *mut u32,
    ) -> Errcode;
    pub fn shim_truncate(fs: Fs, ino: u32, size: u64, s: i64, ns: u32) -> Errcode;
    pub fn shim_set_orphans(fs: Fs, inos: *const u32, n: u32) -> Errcode;
    pub fn shim_release_orphans(fs: Fs, now: u32) -> Errcode;
    pub fn shim_readlink(fs: Fs, ino: u32, buf: *mut c_char, cap: u32, len: *mut u32) -> Errcode;
}

/// Text of a libext2fs error code (for Error::Corrupt messages).
pub fn strerror(code: Errcode) -> String {
    // SAFETY: shim_strerror returns a static NUL-terminated string (or NULL).
    unsafe {
        let p = shim_strerror(code);
        if p.is_null() {
            format!("error {code}")
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// The device slot the io_manager points at: a thin pointer to a fat Box.
pub type DevSlot = Box<dyn BlockDevice>;

fn io_errno(e: &std::io::Error) -> c_int {
    match e.raw_os_error() {
        Some(n) if n > 0 => n,
        _ => libc::EIO,
    }
}

/// Runs `f` on the device behind `dev`, turning errors and panics into an errno.
fn with_dev(
    dev: *mut c_void,
    f: impl FnOnce(&mut dyn BlockDevice) -> std::io::Result<()>,
) -> c_int {
    if dev.is_null() {
        return libc::EINVAL;
    }
    // A panic must never unwind into C.
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `dev` is the `*mut DevSlot` handed to shim_open/shim_mkfs by
        // the Vfs, which keeps it alive and exclusively used under its mutex.
        let slot = unsafe { &mut *(dev as *mut DevSlot) };
        f(slot.as_mut())
    }));
    match r {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => io_errno(&e),
        Err(_) => libc::EIO,
    }
}

/// io_manager read callback.
#[unsafe(no_mangle)]
pub extern "C" fn wsh_dev_read(dev: *mut c_void, off: u64, buf: *mut u8, len: usize) -> c_int {
    if len == 0 {
        return 0;
    }
    with_dev(dev, |d| {
        // SAFETY: libext2fs passes a buffer of at least `len` bytes.
        let b = unsafe { std::slice::from_raw_parts_mut(buf, len) };
        d.read_at(off, b)
    })
}

/// io_manager write callback.
#[unsafe(no_mangle)]
pub extern "C" fn wsh_dev_write(dev: *mut c_void, off: u64, buf: *const u8, len: usize) -> c_int {
    if len == 0 {
        return 0;
    }
    with_dev(dev, |d| {
        // SAFETY: libext2fs passes a buffer of at least `len` bytes.
        let b = unsafe { std::slice::from_raw_parts(buf, len) };
        d.write_at(off, b)
    })
}

/// io_manager flush callback.
#[unsafe(no_mangle)]
pub extern "C" fn wsh_dev_flush(dev: *mut c_void) -> c_int {
    with_dev(dev, |d| d.flush())
}
