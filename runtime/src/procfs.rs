//! A minimal `/proc` for guests and the interpreter's redirections: the files scripts
//! read to size themselves (`/proc/cpuinfo`, `/proc/meminfo`, `/proc/uptime`,
//! `/proc/loadavg`), synthesized at open from the container's own facts — the CPUs
//! wsh may use, the container's memory cap and use, how long the container has run,
//! how many programs it has — never read from the host's `/proc`. Each open gets a
//! read-only snapshot (an anonymous memory file), as Linux generates the text per open.
//! `/proc/PID/{cmdline,comm,stat,status}` describe the container's running programs
//! (`proctable`); `/proc/self/...` is the caller's own (resolved by the broker).
//! Listing `/proc` shows a directory per live program; each resolves, for stat and
//! listing, to the image's placeholder [`PID_DIR`].

use std::io::{self, Seek, Write};

use crate::Runtime;
use crate::io::Handle;
use crate::mounts::HostFile;

/// The files of the synthesized `/proc`.
const FILES: [&str; 4] = ["cpuinfo", "meminfo", "uptime", "loadavg"];

/// The image's placeholder directory that stands for every live `/proc/PID` (the base
/// image makes it, holding a placeholder for each of [`PID_FILES`]).
pub const PID_DIR: &[u8] = b"/proc/.pid";

/// The files of a `/proc/PID` directory.
pub const PID_FILES: [&str; 4] = ["cmdline", "comm", "stat", "status"];

/// The names of the files in `/proc` (the base image has placeholders for them).
pub fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().copied()
}

/// Whether the absolute, normalized guest path `path` is one of the synthesized files.
pub fn is_proc_file(path: &[u8]) -> bool {
    path.strip_prefix(b"/proc/")
        .is_some_and(|n| FILES.iter().any(|f| f.as_bytes() == n))
}

impl Runtime {
    /// Where in the image to resolve `path` from the guest directory `dir` when it
    /// lies in a live program's `/proc/PID` (`/proc/self` being `caller`): the same
    /// place under [`PID_DIR`], absolute. None for any other path (decided without
    /// normalizing when neither names `proc`: every path call asks).
    pub fn proc_pid_path(&self, dir: &[u8], path: &[u8], caller: Option<u32>) -> Option<Vec<u8>> {
        if !dir.starts_with(b"/proc") && !path.windows(4).any(|w| w == b"proc") {
            return None;
        }
        let abs = crate::mounts::normalize(dir, path);
        let rest = abs.strip_prefix(b"/proc/")?;
        let cut = rest.iter().position(|&b| b == b'/').unwrap_or(rest.len());
        let (name, tail) = rest.split_at(cut);
        let pid = if name == b"self" {
            caller?
        } else if !name.is_empty() && name.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(name).ok()?.parse().ok()?
        } else {
            return None;
        };
        self.process(pid)?;
        Some([PID_DIR, tail].concat())
    }

    /// What a listing of `/proc` shows beyond the image's files: a directory named by
    /// each live program's pid, in order.
    pub fn proc_pid_names(&self) -> Vec<String> {
        let mut pids: Vec<u32> = self.processes().iter().map(|p| p.pid).collect();
        pids.sort_unstable();
        pids.iter().map(u32::to_string).collect()
    }

    /// A listing of the image's `/proc` as guests and the shell see it: the
    /// placeholder [`PID_DIR`] hidden, a directory per live program added.
    pub fn proc_listing(&self, mut entries: Vec<fsimage::DirEntry>) -> Vec<fsimage::DirEntry> {
        let hidden = &PID_DIR[b"/proc/".len()..];
        let stand_in = entries.iter().find(|e| e.name == hidden).map(|e| e.ino);
        entries.retain(|e| e.name != hidden);
        if let Some(ino) = stand_in {
            entries.extend(
                self.proc_pid_names()
                    .into_iter()
                    .map(|n| fsimage::DirEntry {
                        name: n.into_bytes(),
                        ino,
                        kind: fsimage::FileType::Directory,
                    }),
            );
        }
        entries
    }

    /// The text of the synthesized `/proc` file at the absolute, normalized guest
    /// path `path`, if it names one.
    pub fn proc_text(&self, path: &[u8]) -> Option<String> {
        let name = std::str::from_utf8(path.strip_prefix(b"/proc/")?).ok()?;
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let text = match name {
            "cpuinfo" => (0..cpus)
                .map(|i| {
                    format!(
                        "processor\t: {i}\nvendor_id\t: wsh\nmodel name\t: WebAssembly (wasmtime)\n\
                         physical id\t: 0\nsiblings\t: {cpus}\ncore id\t\t: {i}\ncpu cores\t: {cpus}\n\n"
                    )
                })
                .collect(),
            "meminfo" => {
                let limits = self.limits();
                let total = limits.container_memory.unwrap_or(limits.memory) as u64 / 1024;
                let free = total.saturating_sub(self.memory_in_use() as u64 / 1024);
                [
                    ("MemTotal", total),
                    ("MemFree", free),
                    ("MemAvailable", free),
                    ("Buffers", 0),
                    ("Cached", 0),
                    ("SwapCached", 0),
                    ("SwapTotal", 0),
                    ("SwapFree", 0),
                ]
                .iter()
                .map(|(k, v)| format!("{:<16}{v:>8} kB\n", format!("{k}:")))
                .collect()
            }
            "uptime" => {
                let up = self.uptime().as_secs_f64();
                format!("{up:.2} {:.2}\n", up * cpus as f64)
            }
            "loadavg" => format!("0.00 0.00 0.00 1/{} 1\n", self.live_pids().max(1)),
            _ => return self.process_text(name),
        };
        Some(text)
    }

    /// Opens the synthesized `/proc` file at `path` (absolute, normalized): `None` when
    /// `path` names none; EACCES for writing (they are read-only, mode 0444).
    pub fn open_proc(&self, path: &[u8], write: bool) -> Option<Result<Handle, fsimage::Errno>> {
        let text = self.proc_text(path)?;
        if write {
            return Some(Err(fsimage::Errno::Acces));
        }
        Some(
            snapshot(text.as_bytes())
                .map_err(|e| fsimage::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))),
        )
    }
}

/// Clock ticks per second in `/proc/PID/stat` (Linux's USER_HZ).
pub const TICKS: u64 = 100;

/// The bytes of a page in `/proc/PID/stat`'s rss.
const PAGE: usize = 4096;

impl Runtime {
    /// The text of `/proc/PID/{cmdline,comm,stat,status}` (`name` is what follows
    /// `/proc/`), as Linux lays them out, from the process table.
    fn process_text(&self, name: &str) -> Option<String> {
        let (pid, file) = name.split_once('/')?;
        let p = self.process(pid.parse().ok()?)?;
        let ticks = |d: std::time::Duration| d.as_millis() as u64 * TICKS / 1000;
        let comm: String = p
            .argv
            .first()
            .map(|a| a.rsplit('/').next().unwrap_or(a))
            .unwrap_or("")
            .chars()
            .take(15)
            .collect();
        let state_name = match p.state {
            'T' => "T (stopped)",
            'S' => "S (sleeping)",
            _ => "R (running)",
        };
        let kb = p.memory / 1024;
        Some(match file {
            "cmdline" => p.argv.iter().map(|a| format!("{a}\0")).collect(),
            "comm" => format!("{comm}\n"),
            // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt
            // majflt cmajflt utime stime cutime cstime priority nice num_threads
            // itrealvalue starttime vsize rss, then 28 fields wsh has no value for.
            "stat" => format!(
                "{} ({comm}) {} {} {} {} 0 -1 0 0 0 0 0 {} 0 0 0 20 0 1 0 {} {} {}{}\n",
                p.pid,
                p.state,
                p.ppid,
                p.pid,
                p.pid,
                ticks(p.cpu),
                ticks(p.start),
                p.memory,
                p.memory.div_ceil(PAGE),
                " 0".repeat(28),
            ),
            "status" => format!(
                "Name:\t{comm}\nState:\t{state_name}\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t{ppid}\n\
                 Uid:\t{u}\t{u}\t{u}\t{u}\nGid:\t{g}\t{g}\t{g}\t{g}\n\
                 VmSize:\t{kb:8} kB\nVmRSS:\t{kb:8} kB\nThreads:\t1\n",
                pid = p.pid,
                ppid = p.ppid,
                u = p.uid,
                g = p.gid,
            ),
            _ => return None,
        })
    }
}

/// A read-only open file holding `data`, at offset 0, backed by anonymous memory.
fn snapshot(data: &[u8]) -> io::Result<Handle> {
    let fd = rustix::fs::memfd_create("wsh-proc", rustix::fs::MemfdFlags::CLOEXEC)?;
    let mut file = std::fs::File::from(fd);
    file.write_all(data)?;
    file.rewind()?;
    Ok(Handle::HostFile(std::sync::Arc::new(HostFile::read_only(
        file,
    ))))
}
