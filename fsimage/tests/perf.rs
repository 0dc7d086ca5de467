//! Throughput numbers (ignored by default):
//! `cargo test -p fsimage --release --test perf -- --ignored --nocapture`

use fsimage::{FileDevice, Vfs};
use std::time::Instant;

#[test]
#[ignore]
fn throughput() {
    let t = tempfile::tempdir().unwrap();
    let img = t.path().join("perf.ext4");
    let t0 = Instant::now();
    let vfs = Vfs::mkfs(Box::new(FileDevice::create(&img, 256 << 20).unwrap()), "p").unwrap();
    println!("mkfs 256 MiB: {:?}", t0.elapsed());
    let small = t.path().join("small.ext4");
    let t0 = Instant::now();
    drop(Vfs::mkfs(Box::new(FileDevice::create(&small, 64 << 20).unwrap()), "s").unwrap());
    println!("mkfs 64 MiB: {:?}", t0.elapsed());

    let total = 64usize << 20;
    let chunk: Vec<u8> = (0..65536u32).map(|i| (i * 31) as u8).collect();
    let f = vfs.create(vfs.root(), b"big", 0o644).unwrap();
    let t0 = Instant::now();
    for k in 0..total / chunk.len() {
        vfs.write(f, (k * chunk.len()) as u64, &chunk).unwrap();
    }
    vfs.sync().unwrap();
    let w = t0.elapsed();
    let mut buf = vec![0u8; 65536];
    let t0 = Instant::now();
    for k in 0..total / chunk.len() {
        assert_eq!(
            vfs.read(f, (k * chunk.len()) as u64, &mut buf).unwrap(),
            65536
        );
    }
    let r = t0.elapsed();
    let mb = (total >> 20) as f64;
    println!(
        "Vfs write 64 MiB/64 KiB chunks: {:.0} MB/s, read: {:.0} MB/s",
        mb / w.as_secs_f64(),
        mb / r.as_secs_f64()
    );

    use std::io::{Read, Write};
    let host = t.path().join("host.bin");
    let t0 = Instant::now();
    let mut hf = std::fs::File::create(&host).unwrap();
    for _ in 0..total / chunk.len() {
        hf.write_all(&chunk).unwrap();
    }
    hf.sync_data().unwrap();
    let w = t0.elapsed();
    let t0 = Instant::now();
    let mut hf = std::fs::File::open(&host).unwrap();
    for _ in 0..total / chunk.len() {
        hf.read_exact(&mut buf).unwrap();
    }
    let r = t0.elapsed();
    println!(
        "host std::fs write: {:.0} MB/s, read: {:.0} MB/s",
        mb / w.as_secs_f64(),
        mb / r.as_secs_f64()
    );
}
