//! Resource caps. Per guest: linear memory (a store limiter), CPU time (checked at
//! each epoch tick of the engine's ticker thread, see engine.rs) and open
//! descriptors. Per container (one [`crate::Runtime`]): the sum of all its guests'
//! linear memories, and how many programs and interpreter threads may live at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The largest linear memory one guest may have by default.
pub const DEFAULT_MEMORY: usize = 2 << 30;

/// The memory all guests of one container may have together by default: two
/// programs at the per-program cap (a `sort | uniq` of big data), not three. A
/// fixed figure, so a build behaves the same on every host (`--memory` changes it).
pub const DEFAULT_CONTAINER_MEMORY: usize = 4 << 30;

/// Programs and interpreter threads one container may have alive by default (a
/// `pids` cgroup limit, Docker's `--pids-limit`). Far above what scripts use at
/// once, far below what the host gives one process: each thread costs about four
/// memory mappings (stack, guard, signal stack, its guard) and Linux allows 65530
/// per process, so 4096 leaves the rest for wasmtime's instances.
pub const DEFAULT_PIDS: usize = 4096;

/// Descriptors one guest may have open by default: Linux's default soft
/// RLIMIT_NOFILE (and Docker's since 25.0), so what runs there runs here, and a
/// program leaking descriptors fails early with EMFILE rather than eating memory.
pub const DEFAULT_OPEN_FILES: u32 = 1024;

/// CPU time one guest may use by default: long enough for real work, short
/// enough that a runaway loop does not spin forever.
pub const DEFAULT_CPU_TIME: Duration = Duration::from_secs(600);

/// Caps applied to each guest instance and to the container as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory (and table) size of one guest, in bytes.
    pub memory: usize,
    /// CPU time a guest's thread may use before it is stopped; `None` for no cap.
    pub cpu_time: Option<Duration>,
    /// Largest sum of the linear memories of all guests of the container, in
    /// bytes (Docker's `--memory`); `None` for no cap.
    pub container_memory: Option<usize>,
    /// How many guests and interpreter threads (pipeline stages, background jobs,
    /// command substitutions) the container may have alive at once (Docker's
    /// `--pids-limit`); more fail with EAGAIN. `None` for no cap of wsh's own.
    pub pids: Option<usize>,
    /// How many descriptors one guest may have open (RLIMIT_NOFILE); opening
    /// more fails with EMFILE.
    pub open_files: u32,
    /// Bytes the container's file system may hold in use (Docker's `--storage-opt
    /// size`); more file data fails with ENOSPC. `None`: the image's own size, and
    /// the host's disk keeps a reserve in any case.
    pub disk: Option<u64>,
}

impl Limits {
    /// The built-in defaults (a `const` so the process-wide defaults can start as them).
    pub const DEFAULT: Limits = Limits {
        memory: DEFAULT_MEMORY,
        cpu_time: Some(DEFAULT_CPU_TIME),
        container_memory: Some(DEFAULT_CONTAINER_MEMORY),
        pids: Some(DEFAULT_PIDS),
        open_files: DEFAULT_OPEN_FILES,
        disk: None,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// The caps every [`crate::Runtime`] made from now on starts with.
static DEFAULTS: std::sync::Mutex<Limits> = std::sync::Mutex::new(Limits::DEFAULT);

/// Sets the caps of runtimes created from now on (the CLI's `--memory`/`--timeout`).
pub fn set_default_limits(limits: Limits) {
    *DEFAULTS.lock().unwrap_or_else(|e| e.into_inner()) = limits;
}

/// The caps new runtimes start with.
pub fn default_limits() -> Limits {
    *DEFAULTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A guest tried to grow its memory past its own cap or its container's.
#[derive(Debug)]
pub struct MemoryLimitExceeded {
    /// The cap, in bytes.
    pub limit: usize,
    /// The size it asked for, in bytes (for the container's cap: the container's
    /// total had the growth been allowed).
    pub wanted: usize,
    /// Whether the cap is the container's (all its guests together).
    pub container: bool,
}

impl std::fmt::Display for MemoryLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (wanted, limit) = (human(self.wanted as u64), human(self.limit as u64));
        if self.container {
            write!(
                f,
                "memory limit exceeded: the container's programs together would use {wanted}, \
                 the container's limit is {limit}"
            )
        } else {
            write!(
                f,
                "memory limit exceeded: asked for {wanted} of memory, the limit is {limit}"
            )
        }
    }
}

impl std::error::Error for MemoryLimitExceeded {}

/// A guest used up its CPU time.
#[derive(Debug)]
pub struct CpuLimitExceeded(pub Duration);

impl std::fmt::Display for CpuLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CPU time limit exceeded ({}s)", self.0.as_secs_f64())
    }
}

impl std::error::Error for CpuLimitExceeded {}

/// Bytes as the largest whole binary unit, for messages.
fn human(n: u64) -> String {
    const UNITS: [&str; 4] = ["GiB", "MiB", "KiB", "bytes"];
    for (i, unit) in UNITS.iter().enumerate() {
        let scale = 1u64 << (10 * (3 - i));
        if n >= scale && n.is_multiple_of(scale) || i == 3 {
            return format!("{} {unit}", n / scale);
        }
    }
    unreachable!("the last unit always matches")
}

/// The store limiter: refuses growth past the guest's cap or its container's with
/// a trap that names it, so the guest stops with a clear message (as the OOM
/// killer would) rather than a failed allocation.
pub struct Limiter {
    memory: usize,
    container_cap: Option<usize>,
    /// Bytes of linear memory all guests of the container have now (shared).
    container_used: Arc<AtomicUsize>,
    /// What this guest added to `container_used`, given back when it is dropped.
    counted: usize,
    /// The last growth counted, taken back if wasmtime then fails to grow.
    last_grant: usize,
    /// Where this guest's size is published (its process table entry), if anywhere.
    size: Option<Arc<AtomicUsize>>,
}

impl Limiter {
    /// A limiter allowing `memory` bytes of linear memory to this guest and
    /// `container_cap` to all guests counted in `container_used` together.
    pub fn new(
        memory: usize,
        container_cap: Option<usize>,
        container_used: Arc<AtomicUsize>,
    ) -> Limiter {
        Limiter {
            memory,
            container_cap,
            container_used,
            counted: 0,
            last_grant: 0,
            size: None,
        }
    }

    /// Keeps `size` set to this guest's bytes of linear memory (for `ps`).
    pub fn share_size(&mut self, size: Arc<AtomicUsize>) {
        size.store(self.counted, Ordering::Relaxed);
        self.size = Some(size);
    }

    fn publish(&self) {
        if let Some(s) = &self.size {
            s.store(self.counted, Ordering::Relaxed);
        }
    }

    /// Gives this guest's share of the container's memory back now: it has ended,
    /// and its memory is only waiting to be torn down.
    pub fn release(&mut self) {
        self.container_used
            .fetch_sub(std::mem::take(&mut self.counted), Ordering::SeqCst);
    }
}

impl Drop for Limiter {
    fn drop(&mut self) {
        // The store (and its memories) goes with the guest: so does its share.
        self.container_used
            .fetch_sub(self.counted, Ordering::SeqCst);
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.last_grant = 0;
        if desired > self.memory {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.memory,
                wanted: desired,
                container: false,
            }));
        }
        // Called for the initial size too (current 0): every byte is counted.
        let grow = desired.saturating_sub(current);
        let cap = self.container_cap.unwrap_or(usize::MAX);
        let counted =
            self.container_used
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |used| {
                    used.checked_add(grow).filter(|total| *total <= cap)
                });
        if let Err(used) = counted {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: cap,
                wanted: used.saturating_add(grow),
                container: true,
            }));
        }
        self.counted += grow;
        self.last_grant = grow;
        self.publish();
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // Allowed here but refused by wasmtime (the memory's declared maximum): the
        // guest sees memory.grow return -1, and the container gets the bytes back.
        // wasmtime also reports growth past what the memory type can address
        // without asking `memory_growing` first; then there is nothing to give back.
        if !error.to_string().contains("memory type's limits") {
            self.container_used
                .fetch_sub(self.last_grant, Ordering::SeqCst);
            self.counted = self.counted.saturating_sub(self.last_grant);
            self.publish();
        }
        self.last_grant = 0;
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; a million is far past any real program.
        Ok(desired <= 1_000_000)
    }
}

/// CPU time used so far by the calling thread (each guest runs on its own thread).
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; the clock id is a constant Linux knows.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Parses a size like `512M`, `2G`, `65536` or `64KiB` (binary units) into bytes.
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits);
    let n: usize = num.parse().ok()?;
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return None,
    };
    n.checked_mul(1usize << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("65536"), Some(65536));
        assert_eq!(parse_size("64K"), Some(64 << 10));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("2GiB"), Some(2 << 30));
        assert_eq!(parse_size("1mb"), Some(1 << 20));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("12Q"), None);
    }

    #[test]
    fn sizes_print_in_whole_units() {
        assert_eq!(human(2 << 30), "2 GiB");
        assert_eq!(human(65 << 20), "65 MiB");
        assert_eq!(human(1000), "1000 bytes");
    }
}
