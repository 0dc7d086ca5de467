//! Compiles the shim in csrc/ (shim.c, dir.c, data.c, io_manager.c, check.c, punch.c)
//! against libext2fs (installing libext2fs-dev on a fresh root CI machine, since the
//! README promises a plain `cargo build`).

use std::path::Path;
use std::process::Command;

const HEADER: &str = "/usr/include/ext2fs/ext2fs.h";

fn main() {
    println!("cargo:rerun-if-changed=csrc");
    println!("cargo:rerun-if-changed=build.rs");
    if !Path::new(HEADER).exists() {
        try_install();
    }
    if !Path::new(HEADER).exists() {
        panic!(
            "fsimage needs the libext2fs headers ({HEADER}); install the Debian/Ubuntu \
             package `libext2fs-dev` (e.g. `sudo apt-get install -y libext2fs-dev`)"
        );
    }
    cc::Build::new()
        .file("csrc/shim.c")
        .file("csrc/dir.c")
        .file("csrc/data.c")
        .file("csrc/io_manager.c")
        .file("csrc/check.c")
        .file("csrc/punch.c")
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Werror=implicit-function-declaration")
        .compile("fsimage_shim");
    println!("cargo:rustc-link-lib=ext2fs");
    println!("cargo:rustc-link-lib=com_err");
}

/// Runs apt-get only as root and only when apt-get exists: never prompts.
fn try_install() {
    // SAFETY: geteuid has no preconditions; avoids a libc build-dependency.
    unsafe extern "C" {
        fn geteuid() -> u32;
    }
    let root = unsafe { geteuid() } == 0;
    let apt = Path::new("/usr/bin/apt-get").exists();
    if !(root && apt) {
        return;
    }
    eprintln!("fsimage: {HEADER} missing, installing libext2fs-dev with apt-get");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "libext2fs-dev"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !install() {
        let _ = Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status();
        install();
    }
}
