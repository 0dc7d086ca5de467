//! What highlighting and completion know about the shell and its image: the
//! working directory, PATH and functions as of the last command, and the image's
//! files (read through the Vfs, never the host).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use wsh_runtime::Runtime;
use wsh_runtime::mounts::Mounts;

use fsimage::{FileType, Vfs};

use crate::interp::Shell;

/// The builtins and reserved words of the language (bash's, which wsh implements).
pub const BUILTINS: &[&str] = &[
    ".", ":", "[", "alias", "bg", "break", "cd", "command", "continue", "declare", "disown",
    "echo", "eval", "exec", "exit", "export", "false", "fg", "getopts", "hash", "help", "history",
    "jobs", "kill", "local", "printf", "pwd", "read", "readonly", "return", "set", "shift",
    "shopt", "source", "test", "times", "trap", "true", "type", "typeset", "umask", "unalias",
    "unset", "wait",
];

/// Words that open, continue or close compound commands.
pub const KEYWORDS: &[&str] = &[
    "if", "then", "elif", "else", "fi", "for", "in", "do", "done", "while", "until", "case",
    "esac", "function", "select", "time", "{", "}", "!", "[[", "]]",
];

/// The shell's state the line editor looks at, copied after each command.
#[derive(Debug, Clone, Default)]
struct View {
    cwd: String,
    path: String,
    home: String,
    functions: Vec<String>,
    variables: Vec<String>,
}

/// Shared between the REPL loop (which refreshes it) and the editor's hooks.
pub struct Context {
    /// Runs a program's `--help` for its options (see `options.rs`).
    pub rt: Runtime,
    /// Options found in each program's `--help`, by path.
    pub options: Mutex<HashMap<String, Vec<String>>>,
    vfs: Arc<Vfs>,
    /// Host directories of `wsh run -v`, completed like the rest of the tree.
    mounts: Arc<Mounts>,
    view: Mutex<View>,
}

impl Context {
    /// A context over the container's runtime, file system and host mounts.
    pub fn new(rt: &Runtime) -> Context {
        Context {
            rt: rt.clone(),
            options: Mutex::default(),
            vfs: rt.vfs().clone(),
            mounts: rt.mounts(),
            view: Mutex::new(View::default()),
        }
    }

    /// Takes the current cwd, PATH, HOME and function names from `shell`.
    pub fn refresh(&self, shell: &Shell) {
        let mut functions: Vec<String> = shell.functions.keys().cloned().collect();
        functions.sort();
        let mut variables: Vec<String> = shell.vars.keys().cloned().collect();
        variables.sort();
        *self.view.lock().unwrap() = View {
            variables,
            cwd: shell.cwd().to_string(),
            path: shell.get("PATH").unwrap_or_default().to_string(),
            home: shell.get("HOME").unwrap_or_default().to_string(),
            functions,
        };
    }

    fn view(&self) -> View {
        self.view.lock().unwrap().clone()
    }

    /// The shell's working directory.
    pub fn cwd(&self) -> String {
        self.view().cwd
    }

    /// `$HOME`, for `~` in paths.
    pub fn home(&self) -> String {
        self.view().home
    }

    /// The names of the shell's variables, sorted.
    pub fn variables(&self) -> Vec<String> {
        self.view().variables
    }

    /// The image path of the program `name` runs (a PATH lookup), if it is one.
    pub fn find_program(&self, name: &str) -> Option<String> {
        let view = self.view();
        if name.contains('/') {
            let p = absolute(&view.cwd, name);
            return (self.kind(&p) == Some(FileType::Regular)).then_some(p);
        }
        view.path.split(':').find_map(|dir| {
            let dir = if dir.is_empty() {
                view.cwd.as_str()
            } else {
                dir
            };
            let p = absolute(&view.cwd, &format!("{dir}/{name}"));
            (self.kind(&p) == Some(FileType::Regular)).then_some(p)
        })
    }

    /// The shell's PATH as of the last command.
    pub fn path(&self) -> String {
        self.view().path
    }

    /// Whether `name` would run something: a builtin, function, or program in the image.
    pub fn is_command(&self, name: &str) -> bool {
        if name.is_empty() {
            return false;
        }
        if BUILTINS.contains(&name) || builtins::lookup(name).is_some() {
            return true;
        }
        let view = self.view();
        if name.contains('/') {
            return self.kind(&absolute(&view.cwd, name)) == Some(FileType::Regular);
        }
        if view.functions.iter().any(|f| f == name) {
            return true;
        }
        view.path.split(':').any(|dir| {
            let dir = if dir.is_empty() {
                view.cwd.as_str()
            } else {
                dir
            };
            self.kind(&absolute(&view.cwd, &format!("{dir}/{name}"))) == Some(FileType::Regular)
        })
    }

    /// Every command name: builtins, functions, applets and the files in PATH's directories.
    pub fn command_names(&self) -> BTreeSet<String> {
        let view = self.view();
        let mut names: BTreeSet<String> = BUILTINS.iter().map(|s| s.to_string()).collect();
        names.extend(view.functions.iter().cloned());
        names.extend(images::base::applets().map(str::to_string));
        for dir in view.path.split(':') {
            let dir = if dir.is_empty() {
                view.cwd.as_str()
            } else {
                dir
            };
            for (name, kind) in self.list(&absolute(&view.cwd, dir)) {
                if kind != FileType::Directory {
                    names.insert(name);
                }
            }
        }
        names
    }

    /// The entries of the image directory `dir` (absolute), with their kinds after
    /// following symlinks; empty if it is not a readable directory.
    pub fn list(&self, dir: &str) -> Vec<(String, FileType)> {
        if let Some((m, rel)) = self.mounts.route(b"/", dir.as_bytes()) {
            let Ok(entries) = m.read_dir(&rel) else {
                return Vec::new();
            };
            return entries
                .into_iter()
                .filter(|e| e.name != b"." && e.name != b"..")
                .map(|e| {
                    let name = String::from_utf8_lossy(&e.name).into_owned();
                    let kind = match e.kind {
                        FileType::Symlink => {
                            let mut path = rel.clone();
                            if !path.is_empty() && !path.ends_with(b"/") {
                                path.push(b'/');
                            }
                            path.extend_from_slice(&e.name);
                            m.stat(&path, true).map_or(FileType::Symlink, |st| st.kind)
                        }
                        k => k,
                    };
                    (name, kind)
                })
                .collect();
        }
        let vfs = &self.vfs;
        let Ok(ino) = vfs.resolve(vfs.root(), dir.as_bytes(), true) else {
            return Vec::new();
        };
        let Ok(entries) = vfs.readdir(ino) else {
            return Vec::new();
        };
        entries
            .into_iter()
            .filter(|e| e.name != b"." && e.name != b"..")
            .map(|e| {
                let kind = match e.kind {
                    FileType::Symlink => vfs
                        .resolve(ino, &e.name, true)
                        .and_then(|i| vfs.stat(i))
                        .map(|st| st.kind)
                        .unwrap_or(FileType::Symlink),
                    k => k,
                };
                (String::from_utf8_lossy(&e.name).into_owned(), kind)
            })
            .collect()
    }

    /// The kind of the file at absolute image path `path`, following symlinks.
    fn kind(&self, path: &str) -> Option<FileType> {
        if let Some((m, rel)) = self.mounts.route(b"/", path.as_bytes()) {
            return m.stat(&rel, true).ok().map(|st| st.kind);
        }
        let vfs = &self.vfs;
        let ino = vfs.resolve(vfs.root(), path.as_bytes(), true).ok()?;
        vfs.stat(ino).ok().map(|st| st.kind)
    }
}

/// `path` made absolute against `cwd`, textually (the Vfs walks `.` and `..`).
pub fn absolute(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{}/{path}", cwd.trim_end_matches('/'))
    }
}
