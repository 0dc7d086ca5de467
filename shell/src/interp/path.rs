//! Finding programs: PATH lookup inside the image (never on the host).

use super::Shell;
use super::sys::Kind;

/// Where a command name leads.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// An absolute image path of a regular file.
    Found(String),
    /// Nothing on PATH (or no such file for a name with '/').
    NotFound,
    /// A path with '/' that names a directory.
    IsDir(String),
}

impl Shell {
    /// Resolves `name` as bash does: a name with '/' is a path (relative to the cwd);
    /// otherwise the first regular file `DIR/name` over $PATH (empty entry = cwd).
    pub(crate) fn find_program(&self, name: &str) -> Lookup {
        if name.contains('/') {
            let abs = absolute(&self.cwd, name);
            return match self.sys.kind(&self.cwd, name) {
                Ok(Kind::Directory) => Lookup::IsDir(abs),
                // A non-regular file is still handed to the runtime, which says why it cannot run.
                Ok(_) => Lookup::Found(abs),
                Err(_) => Lookup::NotFound,
            };
        }
        let path = self.get("PATH").unwrap_or(super::DEFAULT_PATH).to_string();
        for dir in path.split(':') {
            let dir = if dir.is_empty() {
                self.cwd.as_str()
            } else {
                dir
            };
            let candidate = absolute(&self.cwd, &format!("{dir}/{name}"));
            if let Ok(Kind::Regular) = self.sys.kind("/", &candidate) {
                return Lookup::Found(candidate);
            }
        }
        Lookup::NotFound
    }
}

impl Shell {
    /// Every regular file `DIR/name` over $PATH, in order (`type -a`).
    pub(crate) fn find_all_programs(&self, name: &str) -> Vec<String> {
        if name.contains('/') {
            return match self.find_program(name) {
                Lookup::Found(p) => vec![p],
                _ => Vec::new(),
            };
        }
        let path = self.get("PATH").unwrap_or(super::DEFAULT_PATH).to_string();
        path.split(':')
            .map(|dir| {
                if dir.is_empty() {
                    self.cwd.as_str()
                } else {
                    dir
                }
            })
            .map(|dir| absolute(&self.cwd, &format!("{dir}/{name}")))
            .filter(|c| matches!(self.sys.kind("/", c), Ok(Kind::Regular)))
            .collect()
    }
}

/// `path` made absolute against `cwd`, textually (`.`/`..` kept for the Vfs to walk).
pub fn absolute(cwd: &str, path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else if cwd.ends_with('/') {
        format!("{cwd}{path}")
    } else {
        format!("{cwd}/{path}")
    }
}
