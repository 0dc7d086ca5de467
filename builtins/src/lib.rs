//! wsh's in-process commands (cd, pwd, export, exit, true, false, ...).
//!
//! A builtin sees the shell only through [`ShellState`], which the interpreter
//! implements; it never touches the image or the runtime directly, so builtins stay
//! testable with a fake state and the interpreter stays free to change its internals.

mod cd;
mod print;
mod simple;
mod vars;

use wsh_runtime::Handle;

/// The part of the shell a builtin may read and change.
pub trait ShellState {
    /// The logical working directory (absolute, no `.`/`..` components).
    fn cwd(&self) -> String;
    /// Checks that `abs_path` names a directory in the image (following symlinks);
    /// `Err` carries the strerror-style reason ("No such file or directory").
    fn check_dir(&self, abs_path: &str) -> Result<(), String>;
    /// Makes `abs_path` (already checked) the working directory and updates `PWD`.
    fn set_cwd(&mut self, abs_path: &str);
    /// A shell variable's value, `None` when unset.
    fn var(&self, name: &str) -> Option<String>;
    /// Sets a shell variable; `Err` (a message) when it is read-only.
    fn set_var(&mut self, name: &str, value: &str) -> Result<(), String>;
    /// Removes a variable; `Err` (a message) when it is read-only.
    fn unset_var(&mut self, name: &str) -> Result<(), String>;
    /// Marks a variable (set or not) for export to commands.
    fn export_var(&mut self, name: &str);
    /// The exported variables that have a value, sorted by name.
    fn exported(&self) -> Vec<(String, String)>;
    /// The status of the last command (`$?`).
    fn last_status(&self) -> i32;
    /// Asks the shell to exit with `status` once the builtin returns.
    fn request_exit(&mut self, status: i32);
}

/// The standard streams of one builtin invocation (after redirections).
pub struct Stdio {
    pub stdin: Handle,
    pub stdout: Handle,
    pub stderr: Handle,
    /// The builtin's name as typed, for its write-error messages.
    pub name: String,
}

impl Stdio {
    /// Writes `text` to stdout; a failed write is status 1, reported as bash does
    /// (`echo: write error: No space left on device`) unless the reader is gone.
    pub fn out(&self, text: &str) -> Result<(), i32> {
        self.out_bytes(text.as_bytes())
    }

    /// [`Stdio::out`] for bytes that need not be UTF-8 (`printf '\351'`).
    pub fn out_bytes(&self, data: &[u8]) -> Result<(), i32> {
        self.stdout.write_all(data).map_err(|e| {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                // io::Error says "... (os error 28)"; bash prints strerror alone.
                let why = e.to_string();
                let why = why.split(" (os error").next().unwrap_or_default();
                self.err(&format!("{}: write error: {why}", self.name));
            }
            1
        })
    }

    /// Writes `wsh: MSG` and a newline to stderr, as bash formats builtin errors.
    pub fn err(&self, msg: &str) {
        let _ = self.stderr.write_all(format!("wsh: {msg}\n").as_bytes());
    }
}

/// A command run inside the shell process.
pub trait Builtin: Sync {
    /// Runs with `args` (args[0] is the name as typed) and returns the exit status.
    fn run(&self, sh: &mut dyn ShellState, args: &[String], io: &mut Stdio) -> i32;
    /// POSIX "special" builtins: assignments before them persist, and some errors are fatal.
    fn is_special(&self) -> bool {
        false
    }
}

/// The builtin called `name`, if there is one.
pub fn lookup(name: &str) -> Option<&'static dyn Builtin> {
    Some(match name {
        "cd" => &cd::Cd,
        "pwd" => &cd::Pwd,
        "export" => &vars::Export,
        "unset" => &vars::Unset,
        "exit" => &simple::Exit,
        "true" => &simple::True,
        "false" => &simple::False,
        ":" => &simple::Colon,
        "echo" => &print::Echo,
        "printf" => &print::Printf,
        _ => return None,
    })
}

/// Whether `name` is a valid shell variable name.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests;
