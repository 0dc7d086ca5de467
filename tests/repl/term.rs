//! The terminal the REPL tests drive: tmux runs `wsh` in a pane, the test types
//! with send-keys and reads the screen with capture-pane, polling (never fixed
//! sleeps) with a bounded wait for each expected screen.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common;

/// How long one expected screen may take to appear (debug builds, 2 busy cores).
pub const WAIT: Duration = Duration::from_secs(60);

/// A WSH_HOME of its own (own history file) sharing the built image and module
/// cache of the test binary's common home.
pub fn private_home(name: &str) -> PathBuf {
    let shared = common::wsh_home();
    // Build the base image and compile the userland once, outside any terminal.
    static WARM: std::sync::Once = std::sync::Once::new();
    WARM.call_once(|| {
        let out = common::wsh("true");
        assert!(
            out.status.success(),
            "wsh -c true failed: {}",
            common::text(&out.stderr)
        );
    });
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("repl-{name}"));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join("data")).unwrap();
    std::os::unix::fs::symlink(shared.join("data/images"), home.join("data/images")).unwrap();
    std::os::unix::fs::symlink(shared.join("cache"), home.join("cache")).unwrap();
    home
}

/// One tmux server (own socket) with one pane running wsh.
pub struct Term {
    socket: PathBuf,
    /// The WSH_HOME it runs with.
    pub home: PathBuf,
}

impl Term {
    /// Starts `wsh` (no arguments) in an 100x30 terminal, and waits for its prompt.
    pub fn start(home: &Path) -> Term {
        Term::start_with(home, &[])
    }

    /// Starts `wsh ARGS...` in an 100x30 terminal, and waits for its first prompt.
    pub fn start_with(home: &Path, args: &[&str]) -> Term {
        let mut cmd = format!(
            "env -i WSH_HOME='{}' TERM=xterm-256color PATH=/usr/bin:/bin '{}'",
            home.display(),
            env!("CARGO_BIN_EXE_wsh")
        );
        for a in args {
            cmd.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
        }
        Term::launch(home, cmd)
    }

    /// Starts the host's interactive bash with wsh's prompt text (`base / $ `),
    /// for scenarios that must look the same in both shells.
    pub fn start_bash(home: &Path) -> Term {
        Term::launch(
            home,
            "env -i TERM=xterm-256color PATH=/usr/bin:/bin HOME=/root PS1='base / $ ' \
             bash --norc --noprofile -i"
                .into(),
        )
    }

    /// Runs the shell command `cmd` in a new 100x30 terminal and waits for a prompt.
    fn launch(home: &Path, mut cmd: String) -> Term {
        // A new server each time: a restart must not race the old server's exit.
        static STARTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let socket = home.join(format!("tmux-{n}.sock"));
        let conf = home.join("tmux.conf");
        // Keep the pane after wsh exits, so its last screen can still be read.
        std::fs::write(
            &conf,
            "set -g remain-on-exit on\nset -g history-limit 5000\n",
        )
        .unwrap();
        let t = Term {
            socket,
            home: home.to_path_buf(),
        };
        // tmux runs this through sh: record wsh's exit status where a test can read it
        // (tmux's own #{pane_dead_status} is sometimes never filled in under load).
        let _ = std::fs::remove_file(home.join("exit-status"));
        cmd.push_str(&format!(
            "; echo $? > '{}'",
            home.join("exit-status").display()
        ));
        t.tmux(&[
            "-f",
            conf.to_str().unwrap(),
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "100",
            "-y",
            "30",
            &cmd,
        ]);
        let started = Instant::now();
        t.wait_for("the first prompt", |s| prompt_lines(s) >= 1);
        eprintln!("first prompt after {:?}", started.elapsed());
        t
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            common::text(&out.stderr)
        );
        common::text(&out.stdout)
    }

    /// The pane's text, scrollback included, without colors.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-S", "-", "-t", "t"])
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "t", "-l", text]);
    }

    /// Presses keys by tmux name (Enter, C-c, Up, Tab, C-d).
    pub fn key(&self, key: &str) {
        self.tmux(&["send-keys", "-t", "t", key]);
    }

    /// Types a line and presses Enter.
    pub fn line(&self, text: &str) {
        self.type_text(text);
        self.key("Enter");
    }

    /// Polls the screen until `ok` holds; panics with the screen after [`WAIT`].
    pub fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(WAIT, what, ok)
            .unwrap_or_else(|s| panic!("timed out waiting for {what}; screen:\n{s}"))
    }

    /// Polls the screen until `ok` holds or `limit` passes (then returns the last screen as Err).
    pub fn wait_for_within(
        &self,
        limit: Duration,
        _what: &str,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        self.poll(limit, Self::screen, ok)
    }

    /// The visible screen only: a full-screen program (pager, editor) draws on the
    /// alternate screen, and the scrollback keeps older frames.
    pub fn visible(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    /// [`Term::wait_for`] on the visible screen only.
    pub fn wait_visible(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        self.poll(WAIT, Self::visible, ok).unwrap_or_else(|s| {
            panic!(
                "timed out waiting for {what}; screen:
{s}"
            )
        })
    }

    /// Captures with `capture` until `ok` holds or `limit` passes (the last capture as Err).
    fn poll(
        &self,
        limit: Duration,
        capture: fn(&Term) -> String,
        ok: impl Fn(&str) -> bool,
    ) -> Result<String, String> {
        let start = Instant::now();
        loop {
            let s = capture(self);
            if ok(&s) {
                return Ok(s);
            }
            if start.elapsed() > limit {
                return Err(s);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pid of the shell in the pane (the child of tmux's `sh -c`).
    pub fn wsh_pid(&self) -> u32 {
        let sh = self.tmux(&["display-message", "-p", "-t", "t", "#{pane_pid}"]);
        let children =
            std::fs::read_to_string(format!("/proc/{}/task/{}/children", sh.trim(), sh.trim()))
                .unwrap_or_default();
        children
            .split_whitespace()
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no child of the pane's shell {sh}"))
    }

    /// Whether the pane's process has ended.
    pub fn dead(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "t", "#{pane_dead}"])
            .trim()
            == "1"
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
        let _ = &self.home;
    }
}

/// Lines that are a bare prompt (`base DIR $` with nothing typed, maybe `[N]`).
pub fn prompt_lines(screen: &str) -> usize {
    screen.lines().filter(|l| is_prompt(l.trim_end())).count()
}

pub fn is_prompt(line: &str) -> bool {
    line.starts_with("base ") && line.ends_with(" $")
}

/// Whether the last non-blank line of `screen` is a bare prompt (a full-screen
/// program has ended and the REPL waits for input).
pub fn ends_at_prompt(screen: &str) -> bool {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| is_prompt(l.trim_end()))
}

/// Whether some screen line is exactly `text` (so the echoed command line does not count).
pub fn has_line(screen: &str, text: &str) -> bool {
    screen.lines().any(|l| l.trim_end() == text)
}
