//! The shell-language interpreter: text → brush-parser AST → execution.
//!
//! [`Shell`] holds all interpreter state (variables with attributes, functions,
//! positional parameters, options, cwd) and is `Clone`: a subshell, a pipeline
//! stage or a command substitution runs on a copy, so nothing it changes leaks back.
//! Programs are started through [`sys::System`]; the runtime never calls back in here.

mod arith;
mod assign;
mod commands;
mod complete;
mod cond;
mod control;
mod coproc;
mod declare;
mod depth;
mod dirstack;
mod enable;
mod exec;
mod expand;
mod external;
#[cfg(test)]
mod fork_tests;
mod getopt;
mod glob;
mod help;
mod heredoc_fix;
mod history;
mod jobctl;
mod jobs;
mod mapfile;
mod param;
mod path;
mod prompt;
use wsh_pattern as pattern;
mod callstack;
mod options;
mod proc_builtins;
mod procsub;
mod redirect;
mod scripts;
mod subst;
pub mod sys;
pub use prompt::PromptInfo;
#[cfg(test)]
mod tests;
mod transform;
mod trap;
pub use trap::record_ignored_signals;
mod ulimit;
mod vars;
mod xtrace;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use brush_parser::ast;
pub use depth::restart_cpu_clock;
use wsh_runtime::Handle;

pub use redirect::Fds;
pub use sys::{ImageSystem, System};

/// Initial PATH inside the image.
pub const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// A shell variable and its attributes.
#[derive(Clone, Debug, Default)]
pub struct Var {
    /// `None` for a variable declared (e.g. `export X`) but never assigned.
    pub value: Option<String>,
    pub exported: bool,
    pub readonly: bool,
    /// `declare -i`: assignments are evaluated arithmetically.
    pub integer: bool,
    /// `declare -n`: the value names another variable, which every use reaches.
    pub nameref: bool,
    /// `declare -l` / `-u`: assigned values are lowercased / uppercased.
    pub lower: bool,
    pub upper: bool,
    /// `declare -c`: assigned values get their first letter uppercased, the rest lowercased.
    pub capcase: bool,
    /// `declare -a NAME` (or `-A`) that was never assigned: it lists without `=()`.
    pub declared: bool,
    /// `declare -t`: recorded (bash gives traced functions the DEBUG and RETURN traps).
    pub trace: bool,
    /// The elements when the variable is an array (then `value` is None).
    pub array: Option<vars::Array>,
}

/// `set -o` style options (only the ones the interpreter consults so far).
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `set -e`.
    pub errexit: bool,
    /// `set -u`.
    pub nounset: bool,
    /// `set -x`.
    pub xtrace: bool,
    /// `set -o pipefail`.
    pub pipefail: bool,
    /// The other `set -o` options that are on (most are recorded only).
    pub others: std::collections::BTreeSet<&'static str>,
}

/// Why execution unwinds past the normal flow of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// `exit N` (or a fatal error): leave the shell or the current subshell.
    Exit(i32),
    /// `return N` from a function.
    Return(i32),
    /// `break N`.
    Break(u32),
    /// `continue N`.
    Continue(u32),
    /// An expansion error (bad arithmetic) abandons the rest of the complete command.
    Abort(i32),
}

/// Result of running something: its status, or unwinding.
pub type ExecResult = Result<i32, Flow>;

/// All interpreter state. Cloning it makes a subshell.
#[derive(Clone)]
pub struct Shell {
    pub(crate) sys: Arc<dyn System>,
    pub(crate) vars: HashMap<String, Var>,
    pub(crate) functions: HashMap<String, Arc<ast::FunctionBody>>,
    /// `$0`.
    pub(crate) arg0: String,
    /// `$1`...
    pub(crate) positional: Vec<String>,
    /// `$?`.
    pub(crate) status: i32,
    pub(crate) options: Options,
    /// Logical working directory (absolute, normalized).
    pub(crate) cwd: String,
    /// Set by the `exit` builtin; checked right after each builtin returns.
    pub(crate) exit_request: Option<i32>,
    /// How many loops enclose the current command (for break/continue).
    pub(crate) loop_depth: u32,
    /// How many function calls are active (for return).
    pub(crate) func_depth: u32,
    /// > 0 while running an if/while/until condition (where `set -e` does not apply).
    pub(crate) cond_depth: u32,
    /// Status of the last command substitution of the command being expanded
    /// (an assignment-only command takes it as its status).
    pub(crate) last_subst: Option<i32>,
    /// One frame per running function: the variables its `local`s shadow.
    pub(crate) locals: Vec<Vec<(String, Option<Var>)>>,
    /// Array values of `declare a=(...)` words, expanded with the command line.
    pub(crate) pending_arrays: Vec<(String, vars::ArrayItems)>,
    /// `$LINENO`: the line of the complete command being run.
    pub(crate) lineno: usize,
    /// `$PIPESTATUS`.
    pub(crate) pipestatus: Vec<i32>,
    /// State of the `$RANDOM` generator.
    pub(crate) random: u32,
    /// `$!`: the id of the last background job.
    pub(crate) last_bg: Option<u32>,
    /// The pid programs this shell starts name as their parent (`ps`'s PPID): the
    /// wsh process's, or a background job's.
    pub(crate) proc_pid: u32,
    /// The pid and parent pid the next program takes: a background job whose only
    /// command is a program runs it as the job's own pid, as bash execs it. The
    /// sender is dropped once the program has started (the job's starter waits
    /// for that, so the program is in `ps` when `cmd &` returns, as after fork).
    pub(crate) exec_as: Option<(u32, u32, std::sync::mpsc::Sender<()>)>,
    /// Background jobs of this shell.
    pub(crate) jobs: jobs::JobTable,
    /// In a subshell: the jobs of the shell it came from, which `jobs` and `kill`
    /// see until it starts jobs of its own (`kill $(jobs -p)`, as in bash).
    pub(crate) parent_jobs: Option<jobs::JobTable>,
    /// The element a per-element `${a[@]op}` expansion is working on.
    pub(crate) elem_override: Option<String>,
    /// The fd table set by the last `exec REDIRS`, and a counter of such changes.
    pub(crate) exec_fds: Option<Fds>,
    pub(crate) exec_gen: u64,
    /// `trap` commands by condition name (EXIT, ERR, INT...).
    pub(crate) traps: BTreeMap<String, String>,
    /// Set while a trap runs (an ERR trap does not trigger itself).
    pub(crate) in_trap: bool,
    /// `alias` definitions, and the ones being expanded (no recursion).
    pub(crate) aliases: BTreeMap<String, String>,
    pub(crate) alias_active: Vec<String>,
    /// `getopts`: (OPTIND it last set, position inside that argument's flag group).
    pub(crate) getopts_pos: (usize, usize),
    /// `shopt -s` options that are on.
    pub(crate) shopts: std::collections::BTreeSet<String>,
    /// `umask`: the file-creation mask handed to spawned programs.
    pub(crate) umask: u32,
    /// `ulimit -n` (soft, hard) when lowered below the runtime's cap.
    pub(crate) nofile: Option<(u32, u32)>,
    /// A Ctrl-Z stopped the foreground job inside loops, which are being left.
    pub(crate) stopped_break: bool,
    /// Functions `readonly -f` froze.
    pub(crate) readonly_funcs: std::collections::BTreeSet<String>,
    /// Builtins `enable -n` turned off.
    pub(crate) disabled: std::collections::BTreeSet<String>,
    /// `hash`: remembered program paths by name, with their hit counts.
    pub(crate) hashed: BTreeMap<String, (u32, String)>,
    /// Lines entered interactively, oldest first (the `history` builtin; empty in scripts,
    /// where bash keeps no history either).
    pub(crate) history: Vec<String>,
    /// In a background job: the signal number `kill` sent it (0 while none).
    pub(crate) kill_signal: Option<Arc<std::sync::atomic::AtomicI32>>,
    /// Set by the REPL on Ctrl-C: the running command line stops at the next command.
    pub(crate) interrupt: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// The REPL's top-level shell only: raised on Ctrl-Z, which stops the program
    /// being waited for (see `jobctl.rs`).
    pub(crate) job_control: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// With job control: the simple command being run, as a stopped job shows it.
    pub(crate) job_text: String,
    /// In a job that can be stopped (`cmd &`, a foreground pipeline): raised while
    /// it is stopped; its programs are paused and its shell waits between commands.
    pub(crate) hold: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// The running functions, innermost last (`FUNCNAME`, `BASH_LINENO`, `caller`).
    pub(crate) call_stack: Vec<callstack::Frame>,
    /// Where the text being run comes from: a script path (which adds bash's `main`
    /// frame), or `main` (stdin) / `environment` (`-c`), as bash names them.
    pub(crate) source: callstack::Source,
    /// What the line numbers of the text being run add to (`eval`, `$(...)`).
    pub(crate) line_base: usize,
    /// While a trap's text runs: the call depth whose commands keep `$LINENO`.
    pub(crate) lineno_hold: Option<usize>,
    /// `pushd`/`popd`: the directory stack below the working directory, nearest first.
    pub(crate) dir_stack: Vec<String>,
    /// How many history entries `history -a` has written.
    pub(crate) history_appended: usize,
    /// `$BASH_SUBSHELL`: how many subshells deep this copy runs.
    pub(crate) subshell_depth: u32,
    /// The file `source` is reading (innermost), if any.
    pub(crate) sourcing: Option<String>,
    /// The source each function was defined in (`BASH_SOURCE`).
    pub(crate) func_sources: HashMap<String, String>,
    /// Running `<(...)`/`>(...)` lists, drained when a run ends.
    pub(crate) procsubs: procsub::ProcSubs,
    /// `$BASH_COMMAND`: the simple command being run (kept while traps are set).
    pub(crate) bash_command: String,
    /// A subshell's copy of its parent's traps: `trap -p` shows them until the
    /// subshell sets a trap of its own (bash does the same), but they do not run.
    pub(crate) shown_traps: BTreeMap<String, String>,
    /// `complete` specifications by command name.
    pub(crate) completions: complete::CompSpecs,
}

/// A syntax error, formatted for the user ("syntax error at line L col C", or
/// "syntax error: unterminated ..." for tokenizer errors).
#[derive(Debug)]
pub struct SyntaxError(pub String);

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // brush's parser errors already start with "syntax error"; its tokenizer's do not.
        if self.0.starts_with("syntax error") {
            f.write_str(&self.0)
        } else {
            write!(f, "syntax error: {}", self.0)
        }
    }
}

impl std::error::Error for SyntaxError {}

impl Shell {
    /// A shell with the clean initial environment, over `sys`.
    ///
    /// The host environment is deliberately NOT imported (guests must not see host
    /// secrets). The initial exported variables are: PATH=/usr/local/bin:/usr/bin:/bin,
    /// HOME=/root, PWD=/, USER=root, LOGNAME=root, SHELL=/bin/wsh, LANG=C.UTF-8, and
    /// TERM copied from the host only if set there (so terminal programs render).
    pub fn new(sys: Arc<dyn System>) -> Shell {
        let mut sh = Shell {
            sys,
            vars: HashMap::new(),
            functions: HashMap::new(),
            arg0: "wsh".into(),
            positional: Vec::new(),
            status: 0,
            options: Options {
                others: options::SET_DEFAULTS.iter().copied().collect(),
                ..Options::default()
            },
            cwd: "/".into(),
            exit_request: None,
            loop_depth: 0,
            func_depth: 0,
            cond_depth: 0,
            last_subst: None,
            locals: Vec::new(),
            pending_arrays: Vec::new(),
            lineno: 0,
            pipestatus: Vec::new(),
            random: std::process::id().wrapping_mul(2654435761),
            shopts: options::shopt_defaults(),
            last_bg: None,
            proc_pid: std::process::id(),
            exec_as: None,
            traps: BTreeMap::new(),
            in_trap: false,
            getopts_pos: (0, 1),
            aliases: BTreeMap::new(),
            alias_active: Vec::new(),
            exec_fds: None,
            exec_gen: 0,
            elem_override: None,
            jobs: Default::default(),
            parent_jobs: None,
            umask: proc_builtins::DEFAULT_UMASK,
            nofile: None,
            disabled: Default::default(),
            stopped_break: false,
            readonly_funcs: Default::default(),
            hashed: BTreeMap::new(),
            history: Vec::new(),
            kill_signal: None,
            interrupt: None,
            job_control: None,
            job_text: String::new(),
            hold: None,
            call_stack: Vec::new(),
            source: callstack::Source::Stdin,
            func_sources: HashMap::new(),
            sourcing: None,
            subshell_depth: 0,
            history_appended: 0,
            dir_stack: Vec::new(),
            line_base: 0,
            lineno_hold: None,
            procsubs: Default::default(),
            completions: Default::default(),
            bash_command: String::new(),
            shown_traps: BTreeMap::new(),
        };
        let term = std::env::var("TERM").ok();
        let initial = [
            ("PATH", Some(DEFAULT_PATH.to_string())),
            ("HOME", Some("/root".into())),
            ("PWD", Some("/".into())),
            ("USER", Some("root".into())),
            ("LOGNAME", Some("root".into())),
            ("SHELL", Some("/bin/wsh".into())),
            ("LANG", Some("C.UTF-8".into())),
            ("TERM", term),
        ];
        for (k, v) in initial {
            if let Some(v) = v {
                sh.vars.insert(
                    k.into(),
                    Var {
                        value: Some(v),
                        exported: true,
                        ..Var::default()
                    },
                );
            }
        }
        // Not exported, like bash's own defaults.
        for (k, v) in [
            ("IFS", " \t\n"),
            ("OPTERR", "1"),
            ("OPTIND", "1"),
            ("BASH_VERSION", "5.2.0(1)-release"),
            ("OSTYPE", "linux-gnu"),
            ("HOSTTYPE", "x86_64"),
            ("MACHTYPE", "x86_64-pc-linux-gnu"),
            // Where completion splits words (readline's default).
            ("COMP_WORDBREAKS", " \t\n\"'@><=;|&(:"),
        ] {
            sh.vars.insert(
                k.into(),
                Var {
                    value: Some(v.into()),
                    ..Var::default()
                },
            );
        }
        sh.vars.insert(
            "BASH_VERSINFO".into(),
            Var {
                readonly: true,
                array: Some(vars::Array::Indexed(
                    ["5", "2", "0", "1", "release", "x86_64-pc-linux-gnu"]
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (i as i64, v.to_string()))
                        .collect(),
                )),
                ..Var::default()
            },
        );
        // The bash release whose language wsh follows (scripts test it).
        sh.vars.insert(
            "BASH_VERSION".into(),
            Var {
                value: Some(format!("{}(1)-release", prompt::BASH_RELEASE)),
                ..Var::default()
            },
        );
        sh
    }

    /// A copy for a subshell (pipeline stage, `( )`, command substitution).
    pub(crate) fn subshell(&self) -> Shell {
        let mut sub = self.clone();
        sub.subshell_depth += 1;
        sub.exit_request = None;
        sub.parent_jobs = Some(self.visible_jobs());
        sub.jobs = Default::default();
        sub.job_control = None;
        sub.exec_as = None;
        // bash: break/continue in a subshell do not reach the loops around it.
        sub.loop_depth = 0;
        // A subshell starts with no traps, except ignored conditions stay ignored.
        if sub.shown_traps.is_empty() {
            sub.shown_traps = sub.traps.clone();
        }
        // Under `set -T` the DEBUG and RETURN traps are inherited too.
        let functrace = sub.options.others.contains("functrace");
        sub.traps
            .retain(|k, v| v.is_empty() || (functrace && matches!(k.as_str(), "DEBUG" | "RETURN")));
        sub
    }

    /// Sets `$0` and the positional parameters.
    pub fn set_args(&mut self, arg0: String, args: Vec<String>) {
        self.arg0 = arg0;
        self.positional = args;
    }

    /// Records that the text run next is the script file `path` (for `BASH_SOURCE`).
    pub fn set_script_source(&mut self, path: &str) {
        self.source = callstack::Source::Script(path.to_string());
    }

    /// Records that the text run next came with `-c`.
    pub fn set_command_source(&mut self) {
        self.source = callstack::Source::Command;
    }

    /// The status of the last command.
    pub fn status(&self) -> i32 {
        self.status
    }

    /// The logical working directory.
    pub fn cwd(&self) -> &str {
        &self.cwd
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        let target = self.ref_target(name);
        if let Some((n, key)) = element_ref(&target) {
            if matches!(key, "@" | "*") {
                // A reference to `a[@]` reads every element; see `param_values`.
                let v = self.vars.get(n)?;
                return match &v.array {
                    Some(a) => a.get("0").map(String::as_str),
                    None => v.value.as_deref(),
                };
            }
            let v = self.vars.get(n)?.array.as_ref()?;
            return v.get(key).map(String::as_str);
        }
        let v = self.vars.get(target.as_str())?;
        match &v.array {
            // An array's scalar value is its element 0.
            Some(a) => a.get("0").map(String::as_str),
            None => v.value.as_deref(),
        }
    }

    /// Sets a variable; fails on a read-only one.
    pub fn set(&mut self, name: &str, value: String) -> Result<(), String> {
        let target = self.ref_target(name);
        if target.is_empty() {
            return Err(format!("{name}: circular name reference"));
        }
        if let Some((n, key)) = element_ref(&target) {
            let (n, key) = (n.to_string(), key.to_string());
            return self.set_element(&n, &key, value);
        }
        let name = target.as_str();
        let allexport = self.options.others.contains("allexport");
        let v = self.vars.entry(name.to_string()).or_default();
        v.exported |= allexport;
        if v.readonly {
            return Err(format!("{name}: readonly variable"));
        }
        let value = v.cased(value);
        match &mut v.array {
            Some(vars::Array::Indexed(m)) => {
                m.insert(0, value);
            }
            Some(vars::Array::Assoc(m)) => {
                m.insert("0".into(), value);
            }
            None => v.value = Some(value),
        }
        Ok(())
    }

    /// The environment handed to a program: exported variables with values, sorted.
    pub fn environment(&self) -> Vec<(String, String)> {
        let env: BTreeMap<_, _> = self
            .vars
            .iter()
            .filter(|(_, v)| v.exported)
            .filter_map(|(k, v)| Some((k.clone(), v.value.clone()?)))
            .collect();
        env.into_iter().collect()
    }

    /// Parses `text` into a program.
    pub fn parse(text: &str) -> Result<ast::Program, SyntaxError> {
        let opts = parser_options();
        let text = heredoc_fix::rewrite(text);
        depth::with_parse_stack(&text, || {
            let mut parser =
                brush_parser::Parser::new(std::io::Cursor::new(text.as_bytes()), &opts);
            parser
                .parse_program()
                .map_err(|e| SyntaxError(e.to_string()))
        })
        .map_err(SyntaxError)?
    }

    /// Parses and runs `text` with the given standard streams; returns the final status.
    /// A syntax error is reported on `fds`' stderr and gives status 2. `exit` ends the
    /// run early: check [`Shell::exited`].
    pub fn run_text(&mut self, text: &str, fds: &Fds) -> i32 {
        self.run_text_inner(text, fds);
        let status = self.run_exit_trap(fds);
        self.wait_all_jobs();
        self.drain_process_substs();
        status
    }

    fn run_text_inner(&mut self, text: &str, fds: &Fds) -> i32 {
        match Shell::parse(text) {
            Ok(prog) => self.run_program(&prog, fds),
            Err(e) => {
                // Like bash, run the complete commands before the error first.
                if let Some(prefix) = runnable_prefix(text, &e) {
                    self.run_program(&prefix, fds);
                    if self.exit_request.is_some() {
                        return self.status;
                    }
                }
                fds.error(&e.to_string());
                self.status = 2;
                2
            }
        }
    }

    /// Runs a parsed program; returns the final status.
    pub fn run_program(&mut self, prog: &ast::Program, fds: &Fds) -> i32 {
        let start_gen = self.exec_gen;
        for cmd in &prog.complete_commands {
            // `set -n`: read the rest, run nothing (and nothing can turn it off again).
            if self.options.others.contains("noexec") {
                continue;
            }
            if self.options.others.contains("history") {
                self.record_history(&cmd.to_string());
            }
            let cur = self.exec_fds.clone().filter(|_| self.exec_gen != start_gen);
            let fds = cur.as_ref().unwrap_or(fds);
            match self.run_list(cmd, fds) {
                Ok(s) => self.status = s,
                Err(Flow::Exit(s)) => {
                    self.status = s;
                    self.exit_request = Some(s);
                    return s;
                }
                // break/continue/return outside their construct: bash ignores them at top level.
                Err(Flow::Return(s) | Flow::Abort(s)) => self.status = s,
                Err(Flow::Break(_) | Flow::Continue(_)) => {}
            }
        }
        self.status
    }

    /// Whether `exit` ran (the caller should stop reading more input).
    pub fn exited(&self) -> Option<i32> {
        self.exit_request
    }
}

/// `NAME[KEY]` (a nameref's target naming an element) as (NAME, KEY).
pub(crate) fn element_ref(name: &str) -> Option<(&str, &str)> {
    let (n, rest) = name.split_once('[')?;
    Some((n, rest.strip_suffix(']')?))
}

impl Var {
    /// `value` as the `-l`/`-u` attributes make it.
    pub(crate) fn cased(&self, value: String) -> String {
        if self.upper {
            value.to_uppercase()
        } else if self.capcase {
            let mut c = value.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => value,
            }
        } else if self.lower {
            value.to_lowercase()
        } else {
            value
        }
    }
}

/// The longest run of whole lines before a syntax error that parses on its own.
fn runnable_prefix(text: &str, e: &SyntaxError) -> Option<ast::Program> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    // "... line L col C": the error's line; at end of input, the whole text.
    let err_line =
        e.0.split("line ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(lines.len() + 1);
    let limit = err_line.saturating_sub(1).min(lines.len());
    (1..=limit)
        .rev()
        .find_map(|k| Shell::parse(&lines[..k].concat()).ok())
}

/// The parser options wsh uses everywhere (bash mode, extglob on).
pub(crate) fn parser_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions::default()
}

/// The standard streams of the host process, as the top-level fd table.
pub fn host_fds() -> Fds {
    Fds::standard(Handle::HostStdin, Handle::HostStdout, Handle::HostStderr)
}

/// An fd table whose every stream is /dev/null (for expansions whose errors are
/// not reported, like a subscript evaluated while testing a parameter).
pub(crate) fn host_null_fds() -> Fds {
    Fds::standard(Handle::Null, Handle::Null, Handle::Null)
}

/// The builtins see the shell through this (see the `builtins` crate).
impl builtins::ShellState for Shell {
    fn cwd(&self) -> String {
        self.cwd.clone()
    }
    fn check_dir(&self, abs_path: &str) -> Result<(), String> {
        match self.sys.kind("/", abs_path) {
            Ok(sys::Kind::Directory) => {
                // chdir(2) needs search permission on the directory itself.
                let creds = self.sys.credentials();
                if creds.is_root() {
                    return Ok(());
                }
                match self.sys.stat("/", abs_path) {
                    Ok(m) if creds.permits(m.mode, m.uid, m.gid, true, 1) => Ok(()),
                    Ok(_) => Err("Permission denied".into()),
                    Err(e) => Err(e.0),
                }
            }
            Ok(_) => Err("Not a directory".into()),
            Err(e) => Err(e.0),
        }
    }
    fn set_cwd(&mut self, abs_path: &str) {
        self.cwd = abs_path.to_string();
        let _ = self.set("PWD", abs_path.to_string());
    }
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }
    fn set_var(&mut self, name: &str, value: &str) -> Result<(), String> {
        self.set(name, value.to_string())
    }
    fn unset_var(&mut self, name: &str) -> Result<(), String> {
        if self.vars.get(name).is_some_and(|v| v.readonly) {
            return Err(format!("unset: {name}: cannot unset: readonly variable"));
        }
        self.vars.remove(name);
        Ok(())
    }
    fn export_var(&mut self, name: &str) {
        self.vars.entry(name.to_string()).or_default().exported = true;
    }
    fn exported(&self) -> Vec<(String, String)> {
        self.environment()
    }
    fn last_status(&self) -> i32 {
        self.status
    }
    fn request_exit(&mut self, status: i32) {
        self.exit_request = Some(status);
    }
}
