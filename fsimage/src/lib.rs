//! ext4 images for wsh: block devices, copy-on-write overlays and the Vfs
//! every guest shares, built on e2fsprogs' libext2fs through a small C shim.

mod check;
mod device;
mod error;
mod ffi;
mod inner;
mod path;
mod qcow2;
mod types;
mod vfs;

pub use check::{Problem, check};
pub use device::{BlockDevice, FileDevice, MemOverlay, export_raw};
pub use error::{Errno, Error, Result};
pub use qcow2::{CLUSTER_SIZE, Qcow2Device, copy_raw, is_qcow2};
pub use types::{DirEntry, FileType, Ino, SetTime, Stat, Timestamp};
pub use vfs::Vfs;
