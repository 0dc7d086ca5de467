//! `wsh save` and `wsh load`: images to and from OCI / `docker save` archives.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;

/// `wsh save IMAGE [-o FILE]`.
#[derive(clap::Args, Debug)]
pub struct SaveArgs {
    /// Write to FILE (default: stdout, which must not be a terminal).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// NAME[:TAG] or image id.
    image: String,
}

/// `wsh load [-i FILE] [-t NAME[:TAG]]`.
#[derive(clap::Args, Debug)]
pub struct LoadArgs {
    /// Read FILE (default: stdin).
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: Option<PathBuf>,
    /// Name the image NAME[:TAG] (needed when the archive names none).
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    tag: Option<String>,
    /// Print only the image ids.
    #[arg(short = 'q', long)]
    quiet: bool,
}

/// Writes an image as an OCI image-layout archive (that `docker load` also takes).
pub fn save(args: &SaveArgs) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    let report = match &args.output {
        Some(file) => {
            let mut report = None;
            images::write_atomic(file, |tmp| {
                let mut f = std::io::BufWriter::new(
                    std::fs::File::create(tmp)
                        .with_context(|| format!("cannot write {}", file.display()))?,
                );
                report = Some(images::save(&store, &args.image, &mut f)?);
                f.flush()
                    .with_context(|| format!("cannot write {}", file.display()))
            })?;
            report.expect("set by a successful save")
        }
        None => {
            let stdout = std::io::stdout();
            if stdout.is_terminal() {
                anyhow::bail!(
                    "save: refusing to write an archive to a terminal; use -o FILE or redirect stdout"
                );
            }
            let mut out = std::io::BufWriter::new(stdout.lock());
            let r = images::save(&store, &args.image, &mut out)?;
            out.flush().context("cannot write the archive")?;
            r
        }
    };
    if !report.skipped.is_empty() {
        eprintln!(
            "wsh: save: {} device node(s) or socket(s) left out: {}",
            report.skipped.len(),
            report.skipped.join(" ")
        );
    }
    Ok(0)
}

/// Reads an OCI or `docker save` archive into the store.
pub fn load(args: &LoadArgs) -> anyhow::Result<i32> {
    let store = images::open_store()?;
    // The archive is read by offset, several times: stdin is spooled to a file first.
    let spooled;
    let path = match &args.input {
        Some(p) => p.clone(),
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                anyhow::bail!("load: no archive: use -i FILE or redirect stdin");
            }
            let mut tmp = tempfile::NamedTempFile::new().context("cannot spool stdin")?;
            std::io::copy(&mut stdin.lock(), tmp.as_file_mut()).context("cannot read stdin")?;
            spooled = tmp;
            spooled.path().to_path_buf()
        }
    };
    for r in images::load(&store, &path, args.tag.as_deref())? {
        if args.quiet {
            println!("{}", r.id);
        } else {
            println!("Loaded image: {} ({})", r.name, &r.id[..12]);
        }
        if r.elf > 0 {
            eprintln!(
                "wsh: loaded {}: contains native (ELF) programs ({} files, e.g. {}), which wsh cannot run; use its files with COPY --from=",
                r.name,
                r.elf,
                r.elf_example.as_deref().unwrap_or("?")
            );
        }
        if !r.skipped.is_empty() {
            eprintln!(
                "wsh: load: {}: {} device node(s), fifo(s) or socket(s) left out: {}",
                r.name,
                r.skipped.len(),
                r.skipped.join(" ")
            );
        }
    }
    Ok(0)
}
