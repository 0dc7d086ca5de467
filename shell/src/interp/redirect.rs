//! The fd table and redirections. Every command runs with an [`Fds`] (fd number →
//! open file description); redirections make a modified copy, so `3>&1`, `<>`,
//! here-documents and `exec` redirections all fit the same model.

use std::collections::BTreeMap;

use brush_parser::ast::{IoFileRedirectKind as K, IoFileRedirectTarget as T, IoRedirect};
use wsh_runtime::Handle;
use wsh_runtime::io::{OpenOptions, pipe};

use super::Shell;
use super::expand::{ExpResult, Fail};

/// A table of open file descriptors.
#[derive(Clone)]
pub struct Fds {
    map: BTreeMap<i32, Handle>,
}

impl Fds {
    /// A table with just fd 0, 1 and 2.
    pub fn standard(stdin: Handle, stdout: Handle, stderr: Handle) -> Fds {
        Fds {
            map: BTreeMap::from([(0, stdin), (1, stdout), (2, stderr)]),
        }
    }

    /// The handle at `fd`, if open.
    pub fn get(&self, fd: i32) -> Option<&Handle> {
        self.map.get(&fd)
    }

    /// Points `fd` at `h` (the previous description is released).
    pub fn set(&mut self, fd: i32, h: Handle) {
        self.map.insert(fd, h);
    }

    /// The open descriptors past stdio, which a program inherits.
    pub fn extra(&self) -> Vec<(u32, Handle)> {
        self.map
            .range(3..)
            .map(|(n, h)| (*n as u32, h.clone()))
            .collect()
    }

    /// Closes `fd`.
    pub fn close(&mut self, fd: i32) {
        self.map.remove(&fd);
    }

    /// The handle at `fd`, or `Null` when closed (what a guest's fd 0-2 gets).
    pub fn handle(&self, fd: i32) -> Handle {
        self.map.get(&fd).cloned().unwrap_or(Handle::Null)
    }

    /// Reports `wsh: MSG` on this table's stderr.
    pub fn error(&self, msg: &str) {
        let _ = self.handle(2).write_all(format!("wsh: {msg}\n").as_bytes());
    }
}

/// The descriptor `/dev/stdin`, `/dev/stdout`, `/dev/stderr` and `/dev/fd/N` name:
/// they name the current fd table, not a file in the image.
pub(crate) fn dev_fd(path: &str) -> Option<i32> {
    match path {
        "/dev/stdin" => Some(0),
        "/dev/stdout" => Some(1),
        "/dev/stderr" => Some(2),
        _ => path.strip_prefix("/dev/fd/").and_then(|n| n.parse().ok()),
    }
}

impl Shell {
    /// A pipe whose read end yields `data` (here-documents, here-strings). A thread
    /// (counted against the container's `pids` limit) feeds it so bodies larger
    /// than the pipe buffer cannot deadlock the shell.
    fn data_pipe(&self, data: String, orig: &Fds) -> ExpResult<Handle> {
        let (r, w) = pipe();
        if data.len() <= wsh_runtime::io::PIPE_CAPACITY {
            let _ = w.write_all(data.as_bytes());
        } else {
            let fed = self.sys.pid_slot().and_then(|slot| {
                slot.spawn("wsh heredoc", move || {
                    let _ = w.write_all(data.as_bytes());
                })
            });
            fed.map_err(|e| Fail::Flow(super::jobs::fork_failed(e, orig)))?;
        }
        Ok(r)
    }

    /// Applies `redirs` in order to a copy of `fds`. Errors are reported on the
    /// original stderr and make the command fail with status 1 (it is not run).
    pub(crate) fn apply_redirects(&mut self, redirs: &[&IoRedirect], fds: &Fds) -> ExpResult<Fds> {
        let mut new = fds.clone();
        for r in redirs {
            self.apply_one(r, &mut new, fds)?;
        }
        Ok(new)
    }

    fn apply_one(&mut self, r: &IoRedirect, new: &mut Fds, orig: &Fds) -> ExpResult<()> {
        match r {
            IoRedirect::File(fd, kind, target) => {
                let default_fd = if matches!(kind, K::Read | K::ReadAndWrite | K::DuplicateInput) {
                    0
                } else {
                    1
                };
                let fd = fd.unwrap_or(default_fd);
                match target {
                    T::Filename(w) => {
                        let path = self.redirect_target(&w.value, orig)?;
                        if let Some(doc) =
                            super::heredoc_fix::lookup(&path).filter(|_| matches!(kind, K::Read))
                        {
                            // A here-document lifted out by the tokenizer workaround.
                            let mut body = if doc.expand {
                                self.expand_heredoc(&doc.body, orig)?
                            } else {
                                doc.body.clone()
                            };
                            if doc.strip_tabs {
                                body = body
                                    .lines()
                                    .map(|l| format!("{}\n", l.trim_start_matches('\t')))
                                    .collect();
                            }
                            new.set(fd, self.data_pipe(body, orig)?);
                            return Ok(());
                        }
                        let h = self.open_for(kind, &path, new, orig)?;
                        new.set(fd, h);
                    }
                    T::Fd(src) => self.dup_fd(*src, fd, new, orig)?,
                    T::Duplicate(w) => {
                        let word = self.redirect_target(&w.value, orig)?;
                        if word == "-" {
                            new.close(fd);
                        } else if let Ok(src) =
                            word.strip_suffix('-').unwrap_or(&word).parse::<i32>()
                        {
                            // `N>&M-` moves M to N.
                            self.dup_fd(src, fd, new, orig)?;
                            if word.ends_with('-') {
                                new.close(src);
                            }
                        } else if matches!(kind, K::DuplicateOutput) && r_fd_is_default(r) {
                            // `>&file` is `&>file`.
                            let h = self.open_for(&K::Write, &word, new, orig)?;
                            new.set(1, h.clone());
                            new.set(2, h);
                        } else {
                            orig.error(&format!("{word}: ambiguous redirect"));
                            return Err(Fail::Status(1));
                        }
                    }
                    T::ProcessSubstitution(k, list) => {
                        let h = self.process_subst(k, list, orig)?;
                        new.set(fd, h);
                    }
                }
            }
            IoRedirect::OutputAndError(w, append) => {
                let path = self.redirect_target(&w.value, orig)?;
                let kind = if *append { K::Append } else { K::Write };
                let h = self.open_for(&kind, &path, new, orig)?;
                new.set(1, h.clone());
                new.set(2, h);
            }
            IoRedirect::HereString(fd, w) => {
                let mut s = self.expand_string(&w.value, orig)?;
                s.push('\n');
                new.set(fd.unwrap_or(0), self.data_pipe(s, orig)?);
            }
            IoRedirect::HereDocument(fd, doc) => {
                let mut body = if doc.requires_expansion {
                    self.expand_heredoc(&doc.doc.value, orig)?
                } else {
                    doc.doc.value.clone()
                };
                if doc.remove_tabs {
                    body = body
                        .lines()
                        .map(|l| format!("{}\n", l.trim_start_matches('\t')))
                        .collect();
                }
                new.set(fd.unwrap_or(0), self.data_pipe(body, orig)?);
            }
        }
        Ok(())
    }

    /// Expands a redirection target; more than one field is an error, like bash.
    fn redirect_target(&mut self, raw: &str, orig: &Fds) -> ExpResult<String> {
        let fields = self.expand_fields(&[raw], orig)?;
        match fields.as_slice() {
            [one] => Ok(one.clone()),
            _ => {
                orig.error(&format!("{raw}: ambiguous redirect"));
                Err(Fail::Status(1))
            }
        }
    }

    fn dup_fd(&self, src: i32, dst: i32, new: &mut Fds, orig: &Fds) -> ExpResult<()> {
        match new.get(src).cloned() {
            Some(h) => {
                new.set(dst, h);
                Ok(())
            }
            None => {
                orig.error(&format!("{src}: Bad file descriptor"));
                Err(Fail::Status(1))
            }
        }
    }

    /// Opens `path` in the image for a redirection of `kind`.
    fn open_for(&self, kind: &K, path: &str, cur: &Fds, orig: &Fds) -> ExpResult<Handle> {
        if let Some(fd) = dev_fd(path) {
            return cur.get(fd).cloned().ok_or_else(|| {
                orig.error(&format!("{path}: Bad file descriptor"));
                Fail::Status(1)
            });
        }
        let opts = match kind {
            K::Read | K::DuplicateInput => OpenOptions {
                read: true,
                ..Default::default()
            },
            K::Write | K::Clobber | K::DuplicateOutput => OpenOptions {
                write: true,
                create: true,
                truncate: true,
                ..Default::default()
            },
            K::Append => OpenOptions {
                write: true,
                create: true,
                append: true,
                ..Default::default()
            },
            K::ReadAndWrite => OpenOptions {
                read: true,
                write: true,
                create: true,
                ..Default::default()
            },
        };
        if path.is_empty() {
            orig.error(": No such file or directory");
            return Err(Fail::Status(1));
        }
        // `set -C`: `>` refuses to truncate an existing regular file (`>|` may).
        if matches!(kind, K::Write | K::DuplicateOutput)
            && self.options.others.contains("noclobber")
            && matches!(
                self.sys.kind(&self.cwd, path),
                Ok(super::sys::Kind::Regular)
            )
        {
            orig.error(&format!("{path}: cannot overwrite existing file"));
            return Err(Fail::Status(1));
        }
        self.sys
            .open_masked(&self.cwd, path, opts, self.umask)
            .map_err(|e| {
                orig.error(&format!("{path}: {}", e.0));
                Fail::Status(1)
            })
    }
}

/// Whether the redirection had no explicit fd (`>&word`, not `2>&word`).
fn r_fd_is_default(r: &IoRedirect) -> bool {
    matches!(r, IoRedirect::File(None, ..))
}
