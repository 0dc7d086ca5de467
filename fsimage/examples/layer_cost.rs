//! Prints the size of the qcow2 layer written by a 1-byte change to a large file in a
//! large image (used by ./bench). Usage: layer_cost [FILE_MIB]

use std::path::Path;

use fsimage::{Qcow2Device, Vfs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: u64 = std::env::args().nth(1).map_or(Ok(256), |a| a.parse())?;
    let dir = tempfile::tempdir()?;
    let image_size = (mib * 2 + 256) << 20;
    // The bottom layer: a fresh ext4 with one big file of non-zero bytes.
    let bottom = dir.path().join("bottom.qcow2");
    let vfs = Vfs::mkfs(
        Box::new(Qcow2Device::create(&bottom, image_size, None)?),
        "bench",
    )?;
    let ino = vfs.create(vfs.root(), b"big", 0o644)?;
    let chunk: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8 + 1).collect();
    for i in 0..mib {
        let mut at = 0;
        while at < chunk.len() {
            at += vfs.write(ino, (i << 20) + at as u64, &chunk[at..])?;
        }
    }
    vfs.into_device()?.flush()?;
    // The overlay: change one byte in the middle of the file.
    let top = dir.path().join("top.qcow2");
    let dev = Qcow2Device::create(&top, image_size, Some("bottom.qcow2"))?;
    let vfs = Vfs::open(Box::new(dev), Path::new("top.qcow2"), true)?;
    let ino = vfs.lookup(vfs.root(), b"big")?;
    vfs.write(ino, (mib << 20) / 2 + 12345, b"!")?;
    vfs.into_device()?.flush()?;
    let layer = std::fs::metadata(&top)?.len();
    let base = std::fs::metadata(&bottom)?.len();
    println!(
        "layer written by a 1-byte change in a {mib} MiB file ({} MiB bottom layer): {} KiB",
        base >> 20,
        layer / 1024
    );
    Ok(())
}
