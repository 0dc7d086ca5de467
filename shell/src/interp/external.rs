//! Starting programs: the file PATH lookup found, run by the runtime, or (when it
//! is not a module) as a script (see `scripts.rs`).

use std::collections::BTreeMap;

use wsh_runtime::{Command, Handle, SpawnError};

use super::path::Lookup;
use super::{ExecResult, Fds, Shell};

impl Shell {
    /// Starts a program from the image and waits for it.
    pub(crate) fn run_external(
        &mut self,
        argv: Vec<String>,
        values: Vec<(String, String)>,
        fds: Fds,
    ) -> ExecResult {
        self.run_program_file(argv, values, fds, 0)
    }

    /// Starts the program `argv[0]` names; `depth` counts the `#!` interpreters
    /// already followed to get here.
    pub(crate) fn run_program_file(
        &mut self,
        argv: Vec<String>,
        values: Vec<(String, String)>,
        fds: Fds,
        depth: usize,
    ) -> ExecResult {
        let name = argv[0].clone();
        // Taken whatever runs: a script or `sh` run in-process is no program of its own.
        let exec_as = self.exec_as.take();
        let program = match self.find_program(&name) {
            Lookup::Found(p) => {
                self.remember_program(&name, &p);
                p
            }
            // `/bin/sh`, `/bin/bash` (Docker's shell form, a Balenafile SHELL) missing
            // from the image: this interpreter runs them, as it does `sh` below.
            Lookup::NotFound
                if name.starts_with('/')
                    && matches!(name.rsplit('/').next(), Some("sh" | "bash")) =>
            {
                return Ok(self.sh_builtin(&argv, values, &fds));
            }
            Lookup::NotFound if name.contains('/') => {
                fds.error(&format!("{name}: No such file or directory"));
                return Ok(127);
            }
            // No shell binary on the image: `sh`/`bash` scripts run with this interpreter.
            Lookup::NotFound if matches!(name.as_str(), "sh" | "bash") => {
                return Ok(self.sh_builtin(&argv, values, &fds));
            }
            Lookup::NotFound => {
                fds.error(&format!("{name}: command not found"));
                return Ok(127);
            }
            Lookup::IsDir(_) => {
                fds.error(&format!("{name}: Is a directory"));
                return Ok(126);
            }
        };
        let mut env: BTreeMap<String, String> = self.environment().into_iter().collect();
        // Kept for a script: the runtime refuses what is not a module.
        let script_args = (argv.clone(), values.clone(), program.clone());
        env.extend(values);
        // An exported PWD is the real directory (as bash keeps it); an unexported one stays out.
        if env.contains_key("PWD") {
            env.insert("PWD".into(), self.cwd.clone());
        }
        // The text a stopped job is listed with (as typed, less the words' quoting).
        let cmd_args: Vec<String> = if self.job_control.is_some() {
            argv[1..].to_vec()
        } else {
            Vec::new()
        };
        let cmd = Command {
            program,
            argv,
            env: env.into_iter().collect(),
            cwd: self.cwd.clone(),
            stdin: fds.handle(0),
            stdout: fds.handle(1),
            stderr: fds.handle(2),
            extra_fds: fds.extra(),
            open_files: self.nofile.map(|(soft, _)| soft),
            pid: None,
            ppid: self.proc_pid,
        };
        let (cmd, started) = match exec_as {
            Some((pid, ppid, started)) => (
                Command {
                    pid: Some(pid),
                    ppid,
                    ..cmd
                },
                Some(started),
            ),
            None => (cmd, None),
        };
        let spawned = self.sys.spawn_with_umask(cmd, self.umask);
        drop(started);
        match spawned {
            Ok(job) => {
                // Release our copies of the handles first so readers see EOF when the job ends.
                match self.kill_signal.clone() {
                    Some(sig) => {
                        // A background job's program: Ctrl-C at the prompt is not for it.
                        if let Some(c) = job.control() {
                            c.shield();
                        }
                        drop(fds);
                        self.wait_killable(job, &sig)
                    }
                    None if self.job_control.is_some() => {
                        let typed = std::mem::take(&mut self.job_text);
                        let text = if typed.trim().is_empty() {
                            std::iter::once(name.as_str())
                                .chain(cmd_args.iter().map(String::as_str))
                                .collect::<Vec<_>>()
                                .join(" ")
                        } else {
                            typed.trim().to_string()
                        };
                        // The job's notice is the shell's: on the terminal, whatever
                        // the command's own stderr is.
                        let notice = Fds::standard(Handle::Null, Handle::Null, Handle::HostStderr);
                        drop(fds);
                        self.wait_foreground(job, text, &notice)
                    }
                    None => {
                        drop(fds);
                        Ok(job.wait())
                    }
                }
            }
            Err(e @ (SpawnError::NotFound(_) | SpawnError::NotExecutable(..))) => {
                let (argv, values, program) = script_args;
                // Not a module, or on a host mount the runtime does not load from.
                let refused = matches!(&e, SpawnError::NotFound(_))
                    || matches!(&e, SpawnError::NotExecutable(_, why) if why.contains("Exec format"));
                if refused
                    && let Some(status) = self.run_as_script(&program, &argv, values, &fds, depth)
                {
                    return status;
                }
                match e {
                    SpawnError::NotExecutable(_, why) => {
                        fds.error(&format!("{name}: {why}"));
                        Ok(126)
                    }
                    _ => {
                        fds.error(&format!("{name}: No such file or directory"));
                        Ok(127)
                    }
                }
            }
            Err(SpawnError::Fork(e)) => Err(super::jobs::fork_failed(e, &fds)),
            Err(SpawnError::Other(why)) => {
                fds.error(&format!("{name}: {why}"));
                Ok(126)
            }
        }
    }
}
