//! Per-guest resource caps: linear memory (a store limiter) and CPU time (checked
//! at each epoch tick of the engine's ticker thread, see engine.rs).

use std::time::Duration;

/// The largest linear memory one guest may have by default.
pub const DEFAULT_MEMORY: usize = 2 << 30;

/// CPU time one guest may use by default: long enough for real work, short
/// enough that a runaway loop does not spin forever.
pub const DEFAULT_CPU_TIME: Duration = Duration::from_secs(600);

/// Caps applied to each guest instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory (and table) size, in bytes.
    pub memory: usize,
    /// CPU time a guest's thread may use before it is stopped; `None` for no cap.
    pub cpu_time: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            memory: DEFAULT_MEMORY,
            cpu_time: Some(DEFAULT_CPU_TIME),
        }
    }
}

/// The caps every [`crate::Runtime`] made from now on starts with.
static DEFAULTS: std::sync::Mutex<Limits> = std::sync::Mutex::new(Limits {
    memory: DEFAULT_MEMORY,
    cpu_time: Some(DEFAULT_CPU_TIME),
});

/// Sets the caps of runtimes created from now on (the CLI's `--memory`/`--timeout`).
pub fn set_default_limits(limits: Limits) {
    *DEFAULTS.lock().unwrap_or_else(|e| e.into_inner()) = limits;
}

/// The caps new runtimes start with.
pub fn default_limits() -> Limits {
    *DEFAULTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// A guest tried to grow its memory past the cap.
#[derive(Debug)]
pub struct MemoryLimitExceeded {
    /// The cap, in bytes.
    pub limit: usize,
    /// The size it asked for, in bytes.
    pub wanted: usize,
}

impl std::fmt::Display for MemoryLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "memory limit exceeded: asked for {} of memory, the limit is {}",
            human(self.wanted as u64),
            human(self.limit as u64)
        )
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

/// The store limiter: refuses growth past the cap with a trap that names it,
/// so the guest stops with a clear message rather than a failed allocation.
pub struct Limiter {
    memory: usize,
}

impl Limiter {
    /// A limiter allowing `memory` bytes of linear memory.
    pub fn new(memory: usize) -> Limiter {
        Limiter { memory }
    }
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                limit: self.memory,
                wanted: desired,
            }));
        }
        Ok(true)
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
