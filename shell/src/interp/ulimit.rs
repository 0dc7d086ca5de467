//! `ulimit`: the caps wsh itself enforces on the programs it runs (open files, CPU
//! time, memory, processes: the runtime's limits) and, for the rest, the limits of
//! the wsh process, which runs every program. Only wsh's own caps could change what
//! a program meets: `-n` can be lowered (and raised back up to the runtime's cap)
//! for the programs this shell starts; any other limit can be "set" only to the
//! value it has, otherwise `ulimit` says it cannot modify it.

use super::{Fds, Shell};

/// One resource: its option letter, description, unit (and the divisor to it).
struct Resource {
    opt: char,
    desc: &'static str,
    unit: Option<&'static str>,
    scale: u64,
    kind: Kind,
}

/// Where a resource's value comes from.
#[derive(Clone, Copy)]
enum Kind {
    /// The wsh process's `getrlimit` resource.
    Host(libc::__rlimit_resource_t),
    /// Descriptors one program may have open (the runtime's cap).
    OpenFiles,
    /// CPU seconds one program may use (the runtime's cap).
    CpuTime,
    /// Linear memory of one program, in bytes (the runtime's cap).
    Memory,
    /// Programs and threads a container may have alive (the runtime's cap).
    Processes,
    /// The pipe buffer size bash reports: PIPE_BUF.
    Pipe,
}

/// bash's table, in the order `ulimit -a` lists it.
const RESOURCES: &[Resource] = &[
    res(
        'R',
        "real-time non-blocking time",
        Some("microseconds"),
        1,
        Kind::Host(libc::RLIMIT_RTTIME),
    ),
    res(
        'c',
        "core file size",
        Some("blocks"),
        1024,
        Kind::Host(libc::RLIMIT_CORE),
    ),
    res(
        'd',
        "data seg size",
        Some("kbytes"),
        1024,
        Kind::Host(libc::RLIMIT_DATA),
    ),
    res(
        'e',
        "scheduling priority",
        None,
        1,
        Kind::Host(libc::RLIMIT_NICE),
    ),
    res(
        'f',
        "file size",
        Some("blocks"),
        1024,
        Kind::Host(libc::RLIMIT_FSIZE),
    ),
    res(
        'i',
        "pending signals",
        None,
        1,
        Kind::Host(libc::RLIMIT_SIGPENDING),
    ),
    res(
        'l',
        "max locked memory",
        Some("kbytes"),
        1024,
        Kind::Host(libc::RLIMIT_MEMLOCK),
    ),
    res(
        'm',
        "max memory size",
        Some("kbytes"),
        1024,
        Kind::Host(libc::RLIMIT_RSS),
    ),
    res('n', "open files", None, 1, Kind::OpenFiles),
    res('p', "pipe size", Some("512 bytes"), 512, Kind::Pipe),
    res(
        'q',
        "POSIX message queues",
        Some("bytes"),
        1,
        Kind::Host(libc::RLIMIT_MSGQUEUE),
    ),
    res(
        'r',
        "real-time priority",
        None,
        1,
        Kind::Host(libc::RLIMIT_RTPRIO),
    ),
    res(
        's',
        "stack size",
        Some("kbytes"),
        1024,
        Kind::Host(libc::RLIMIT_STACK),
    ),
    res('t', "cpu time", Some("seconds"), 1, Kind::CpuTime),
    res('u', "max user processes", None, 1, Kind::Processes),
    res('v', "virtual memory", Some("kbytes"), 1024, Kind::Memory),
    res('x', "file locks", None, 1, Kind::Host(libc::RLIMIT_LOCKS)),
];

const fn res(
    opt: char,
    desc: &'static str,
    unit: Option<&'static str>,
    scale: u64,
    kind: Kind,
) -> Resource {
    Resource {
        opt,
        desc,
        unit,
        scale,
        kind,
    }
}

impl Shell {
    /// The (soft, hard) limit of `r` in bytes/units before scaling; `None`: unlimited.
    fn limit_of(&self, r: &Resource) -> (Option<u64>, Option<u64>) {
        let caps = self.sys.limits();
        let both = |v: Option<u64>| (v, v);
        match r.kind {
            Kind::Host(res) => {
                let mut l = libc::rlimit {
                    rlim_cur: 0,
                    rlim_max: 0,
                };
                // SAFETY: getrlimit fills the struct it is given; no other memory is touched.
                if unsafe { libc::getrlimit(res, &mut l) } != 0 {
                    return (None, None);
                }
                let v = |x: libc::rlim_t| (x != libc::RLIM_INFINITY).then_some(x);
                (v(l.rlim_cur), v(l.rlim_max))
            }
            Kind::Pipe => both(Some(libc::PIPE_BUF as u64)),
            Kind::OpenFiles => match self.nofile {
                Some((soft, hard)) => (Some(u64::from(soft)), Some(u64::from(hard))),
                None => both(caps.map(|c| u64::from(c.open_files))),
            },
            Kind::CpuTime => both(caps.and_then(|c| c.cpu_time).map(|t| t.as_secs())),
            Kind::Memory => both(caps.map(|c| c.memory as u64)),
            Kind::Processes => both(caps.and_then(|c| c.pids).map(|p| p as u64)),
        }
    }

    /// `ulimit [-SHa] [-RcdefilmnpqrstuvxT] [LIMIT]`.
    pub(crate) fn ulimit_builtin(&mut self, args: &[String], fds: &Fds) -> i32 {
        let (mut hard, mut soft, mut all) = (false, false, false);
        let mut picked: Vec<&Resource> = Vec::new();
        let mut value: Option<&str> = None;
        for a in args {
            match a.strip_prefix('-') {
                Some(flags) if !flags.is_empty() && value.is_none() => {
                    for c in flags.chars() {
                        match c {
                            'H' => hard = true,
                            'S' => soft = true,
                            'a' => all = true,
                            _ => {
                                match RESOURCES.iter().find(|r| r.opt == c) {
                                    Some(r) => picked.push(r),
                                    None => {
                                        fds.error(&format!("ulimit: -{c}: invalid option"));
                                        fds.error("ulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]");
                                        return 2;
                                    }
                                }
                            }
                        }
                    }
                }
                _ if value.is_none() => value = Some(a),
                _ => {
                    fds.error("ulimit: too many arguments");
                    return 2;
                }
            }
        }
        let show = |v: Option<u64>, r: &Resource| match v {
            None => "unlimited".to_string(),
            Some(v) => (v / r.scale).to_string(),
        };
        let pick = |(s, h): (Option<u64>, Option<u64>)| if hard && !soft { h } else { s };
        let mut out = String::new();
        if all {
            for r in RESOURCES {
                let unit = match r.unit {
                    Some(u) => format!("({u}, -{}) ", r.opt),
                    None => format!("(-{}) ", r.opt),
                };
                let v = show(pick(self.limit_of(r)), r);
                out.push_str(&format!("{:<20} {unit:>20}{v}\n", r.desc));
            }
            return i32::from(fds.handle(1).write_all(out.as_bytes()).is_err());
        }
        if picked.is_empty() {
            picked.push(&RESOURCES[4]);
        }
        if let Some(v) = value {
            let mut status = 0;
            for r in &picked {
                let (cur_s, cur_h) = self.limit_of(r);
                let wanted = match v {
                    "unlimited" => None,
                    "hard" => cur_h,
                    "soft" => cur_s,
                    _ => match v.parse::<u64>() {
                        Ok(n) => Some(n.saturating_mul(r.scale)),
                        Err(_) => {
                            fds.error(&format!("ulimit: {v}: invalid number"));
                            return 1;
                        }
                    },
                };
                if matches!(r.kind, Kind::OpenFiles)
                    && let Some(cap) = cur_h
                    && let Some(n) = wanted.filter(|n| *n <= cap)
                {
                    // Within the hard limit: -S sets the soft one, -H the hard one
                    // (the soft one never above it), neither both.
                    let n = n as u32;
                    let (s, h) = (cur_s.unwrap_or(cap) as u32, cap as u32);
                    self.nofile = Some(match (soft, hard) {
                        (true, false) => (n, h),
                        (false, true) => (s.min(n), n),
                        _ => (n, n),
                    });
                    continue;
                }
                let same_soft = hard && !soft || cur_s == wanted;
                let same_hard = !hard && soft || cur_h == wanted;
                if !(same_soft && same_hard) {
                    fds.error(&format!(
                        "ulimit: {}: cannot modify limit: Operation not permitted",
                        r.desc
                    ));
                    status = 1;
                }
            }
            return status;
        }
        for r in &picked {
            let v = show(pick(self.limit_of(r)), r);
            if picked.len() > 1 {
                let unit = match r.unit {
                    Some(u) => format!("({u}, -{}) ", r.opt),
                    None => format!("(-{}) ", r.opt),
                };
                out.push_str(&format!("{:<20} {unit:>20}{v}\n", r.desc));
            } else {
                out.push_str(&format!("{v}\n"));
            }
        }
        i32::from(fds.handle(1).write_all(out.as_bytes()).is_err())
    }
}
