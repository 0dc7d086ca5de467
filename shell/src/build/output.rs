//! BuildKit-like progress: `[3/9] RUN ...`, `CACHED`, step times. On a terminal a
//! spinner (indicatif) runs while a step without output of its own works; otherwise
//! plain lines. Progress goes to stderr, as Docker's does; RUN output passes through.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// The progress display of one build.
pub struct Progress {
    /// `-q`: no progress lines, no RUN output.
    pub quiet: bool,
    tty: bool,
    spinner: Option<ProgressBar>,
    started: Option<(String, Instant)>,
    build_start: Instant,
}

/// The first line of an instruction, shortened for display.
pub fn short(text: &str) -> String {
    let first = text.lines().next().unwrap_or("").trim();
    let mut s: String = first.chars().take(100).collect();
    if s.len() < first.len() || text.lines().nth(1).is_some() {
        s.push_str(" ...");
    }
    s
}

impl Progress {
    /// A display for this process's stderr.
    pub fn new() -> Progress {
        Progress {
            quiet: false,
            tty: std::io::stderr().is_terminal(),
            spinner: None,
            started: None,
            build_start: Instant::now(),
        }
    }

    /// A step found in the cache.
    pub fn cached(&mut self, label: &str, text: &str) {
        if self.quiet {
            return;
        }
        eprintln!("{label} CACHED {}", short(text));
    }

    /// A step with no work of its own (ARG).
    pub fn note(&mut self, label: &str, text: &str) {
        if self.quiet {
            return;
        }
        eprintln!("{label} {}", short(text));
    }

    /// A step starts; `quiet` steps (no output of their own) get a spinner on a terminal.
    pub fn start(&mut self, label: &str, text: &str, quiet: bool) {
        if self.quiet {
            return;
        }
        let line = format!("{label} {}", short(text));
        if self.tty && quiet {
            let pb = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
                pb.set_style(style);
            }
            pb.set_message(line.clone());
            pb.enable_steady_tick(Duration::from_millis(100));
            self.spinner = Some(pb);
        } else {
            eprintln!("{line}");
        }
        self.started = Some((line, Instant::now()));
    }

    /// Says what the running step is doing now (`what`), beside its spinner on a
    /// terminal; nothing otherwise (see [`Progress::line`]).
    pub fn detail(&self, what: &str) {
        if let (Some(pb), Some((line, _))) = (&self.spinner, &self.started) {
            pb.set_message(format!("{line}: {what}"));
        }
    }

    /// A line of the running step's own (above its spinner on a terminal).
    pub fn line(&self, text: &str) {
        match &self.spinner {
            Some(pb) => pb.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// The running step ended (successfully or not).
    pub fn done(&mut self, ok: bool) {
        let Some((line, t)) = self.started.take() else {
            return;
        };
        if let Some(pb) = self.spinner.take() {
            pb.finish_and_clear();
            eprintln!("{line}");
        }
        let secs = t.elapsed().as_secs_f64();
        eprintln!(
            "{} {} {secs:.2}s",
            label_of(&line),
            if ok { "DONE" } else { "ERROR" }
        );
    }

    /// The whole build finished.
    pub fn finished(&self, id: &str, tags: &[String]) {
        if self.quiet {
            return;
        }
        eprintln!(
            "=> built {} in {:.2}s",
            &id[..12.min(id.len())],
            self.build_start.elapsed().as_secs_f64()
        );
        for t in tags {
            eprintln!("=> naming to {t}");
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}

fn label_of(line: &str) -> &str {
    match line.find(']') {
        Some(i) => &line[..=i],
        None => line,
    }
}
