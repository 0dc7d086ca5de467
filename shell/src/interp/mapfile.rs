//! `mapfile` / `readarray`: lines of input into an indexed array.

use super::getopt::Getopt;
use super::{Fds, Shell};

impl Shell {
    /// `mapfile [-d DELIM] [-n COUNT] [-O ORIGIN] [-s SKIP] [-t] [-u FD] [ARRAY]`
    /// (`-C`/`-c` callbacks are accepted and not run).
    pub(crate) fn mapfile_builtin(&mut self, cmd: &str, args: &[String], fds: &Fds) -> i32 {
        let mut delim = b'\n';
        let (mut count, mut origin, mut skip, mut trim) = (0usize, None::<i64>, 0usize, false);
        let mut input = fds.handle(0);
        let mut opts = Getopt::new(args, "dnOsuCc");
        for opt in opts.by_ref() {
            let (c, v) = match opt {
                Ok((c, Some(v))) => (c, v),
                Ok(('t', None)) => {
                    trim = true;
                    continue;
                }
                Ok((c, None)) => {
                    fds.error(&format!("{cmd}: -{c}: invalid option"));
                    return 2;
                }
                Err(c) => {
                    fds.error(&format!("{cmd}: -{c}: option requires an argument"));
                    return 2;
                }
            };
            let number = |v: &str| -> Option<usize> { v.parse().ok() };
            match c {
                'd' => delim = v.bytes().next().unwrap_or(0),
                'n' | 's' | 'O' | 'c' => {
                    let Some(n) = number(&v) else {
                        fds.error(&format!("{cmd}: {v}: invalid number"));
                        return 1;
                    };
                    match c {
                        'n' => count = n,
                        's' => skip = n,
                        'O' => origin = Some(n as i64),
                        _ => {}
                    }
                }
                'u' => match v.parse::<i32>().ok().and_then(|n| fds.get(n)) {
                    Some(h) => input = h.clone(),
                    None => {
                        fds.error(&format!(
                            "{cmd}: {v}: invalid file descriptor specification"
                        ));
                        return 1;
                    }
                },
                _ => {}
            }
        }
        let name = opts.operands().first().map_or("MAPFILE", String::as_str);
        if !builtins::is_name(name) {
            fds.error(&format!("{cmd}: `{name}': not a valid identifier"));
            return 1;
        }
        if self.is_assoc(name) {
            fds.error(&format!("{cmd}: {name}: not an indexed array"));
            return 1;
        }
        // Byte by byte, so that with -n what follows stays for the next reader.
        let mut lines: Vec<String> = Vec::new();
        let mut cur = Vec::new();
        let mut seen = 0usize;
        let mut b = [0u8; 1];
        loop {
            if count > 0 && lines.len() >= count {
                break;
            }
            let got = matches!(input.read(&mut b), Ok(1));
            if got && b[0] != delim {
                cur.push(b[0]);
                continue;
            }
            if !got && cur.is_empty() {
                break;
            }
            if got && !trim {
                cur.push(delim);
            }
            let line = String::from_utf8_lossy(&std::mem::take(&mut cur)).into_owned();
            seen += 1;
            if seen > skip {
                lines.push(line);
            }
            if !got {
                break;
            }
        }
        let start = match origin {
            Some(o) => o,
            None => {
                // Without -O the array is emptied first.
                self.vars.remove(name);
                0
            }
        };
        for (k, line) in lines.into_iter().enumerate() {
            if let Err(e) = self.set_element(name, &(start + k as i64).to_string(), line) {
                fds.error(&format!("{cmd}: {e}"));
                return 1;
            }
        }
        if !self.vars.contains_key(name) {
            let _ = self.assign_array(name, Vec::new(), false);
        }
        0
    }
}
