//! The interactive shell (REPL) over reedline, and the line-by-line reader used
//! when stdin is not a terminal.
//!
//! Both keep one [`Shell`] for the whole session, so `cd` and variables persist
//! from one command to the next, and run in one throwaway container.

mod complete;
mod context;
mod highlight;
mod keys;
mod menu;
mod options;
mod prompt;
mod session;
mod validate;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use reedline::{
    ColumnarMenu, EditCommand, FileBackedHistory, HistoryItem, KeyCode, KeyModifiers, MenuBuilder,
    Reedline, ReedlineEvent, ReedlineMenu, Signal, default_emacs_keybindings,
};
use wsh_runtime::Runtime;

use crate::interp::{ImageSystem, PromptInfo, Shell, host_fds};
use images::Container;
use images::Dirs;
use prompt::PROMPT_INDICATOR;
pub use validate::{Completeness, completeness};

/// The image a plain `wsh` runs in (the only one so far).
const DEFAULT_IMAGE: &str = "base";

/// How many history entries are kept.
const HISTORY_SIZE: usize = 10_000;

/// Runs the interactive shell on the terminal until `exit` or Ctrl-D; returns the
/// last status. With `save_image`, the container's file system is written there at the end.
pub fn interactive(save_image: Option<&Path>) -> anyhow::Result<i32> {
    let container = Container::throwaway()?;
    let status = {
        let shell = Shell::new(ImageSystem::new(container.runtime().clone()));
        interactive_in(container.runtime(), shell, DEFAULT_IMAGE)?
    };
    container.finish(save_image)?;
    Ok(status)
}

/// Runs the interactive shell on the terminal with an existing `shell` (its
/// variables, cwd) over the container runtime `rt`, until `exit` or Ctrl-D; the
/// prompt names `image`. Returns the last status; the caller owns the container
/// (`wsh run -it` uses this with the image's env and workdir already set).
pub fn interactive_in(rt: &Runtime, mut shell: Shell, image: &str) -> anyhow::Result<i32> {
    let interrupts = InterruptForwarder::start(rt.clone())?;
    // Builtins and shell loops see Ctrl-C too, not only guests.
    shell.set_interrupt_flag(interrupts.state.fired.clone());
    // Ctrl-Z stops the program the shell waits for.
    shell.enable_job_control(interrupts.state.stop.clone());
    session::init_variables(&mut shell, HISTORY_SIZE);
    let ctx = Arc::new(context::Context::new(rt));
    ctx.refresh(&shell);
    // Raised by the keys when Enter ends a Ctrl-R search (the line found runs).
    let accept = Arc::new(AtomicBool::new(false));
    let mut history_size = session::history_size(&shell, HISTORY_SIZE);
    let mut editor = new_editor(&ctx, &accept, history_size)?;
    let mut commands = 1;
    // `exit` was refused once because of stopped jobs (a second one goes through).
    let mut warned = false;
    let status = loop {
        shell.notify_jobs(&host_fds());
        if let Some(pc) = shell.get("PROMPT_COMMAND").map(str::to_string)
            && !pc.trim().is_empty()
        {
            interrupts.begin();
            shell.run_interactive(&format!("{pc}\n"), &host_fds());
            interrupts.end();
        }
        session::set_terminal_size(&mut shell);
        // HISTSIZE changed: the editor keeps that many lines from now on.
        let wanted = session::history_size(&shell, HISTORY_SIZE);
        if wanted != history_size {
            let _ = editor.sync_history();
            history_size = wanted;
            editor = new_editor(&ctx, &accept, history_size)?;
        }
        let info = PromptInfo {
            history_number: shell.history.len() + 1,
            command_number: commands,
        };
        let ps1 = shell.get("PS1").map(str::to_string);
        let ps2 = shell.get("PS2").map(str::to_string);
        let prompt = prompt::ShellPrompt {
            image: image.into(),
            cwd: shell.cwd().to_string(),
            home: shell.get("HOME").unwrap_or_default().to_string(),
            status: shell.status(),
            ps1: ps1.map(|t| shell.expand_prompt(&t, &info)),
            ps2: ps2.map(|t| shell.expand_prompt(&t, &info)),
        };
        let text = match editor
            .read_line(&prompt)
            .context("cannot read from the terminal")?
        {
            Signal::Success(text) => text,
            // Enter ended a Ctrl-R search: reedline left the line found in the buffer.
            Signal::ExternalBreak(text) => {
                editor.run_edit_commands(&[EditCommand::Clear]);
                println!();
                if !text.trim().is_empty() {
                    let _ = editor
                        .history_mut()
                        .save(HistoryItem::from_command_line(text.clone()));
                }
                text
            }
            Signal::CtrlC => continue,
            Signal::CtrlD => {
                if stopped_jobs_warning(&mut shell, &mut warned) {
                    continue;
                }
                println!("exit");
                break shell.status();
            }
            _ => continue,
        };
        if text.trim().is_empty() {
            continue;
        }
        // Saved at once, so a crash or a kill keeps what was typed.
        let _ = editor.sync_history();
        shell.add_history(&text);
        session::after_history_add(&mut shell, history_size);
        interrupts.begin();
        // Each line gets the whole --timeout for the interpreter's own loops.
        crate::interp::restart_cpu_clock();
        // With its newline, as typed: a heredoc's last line and a syntax
        // error's position ("line 1 col 11" rather than "end of input") need it.
        shell.run_interactive(&format!("{text}\n"), &host_fds());
        commands += 1;
        if interrupts.end() {
            // The terminal echoed ^C; start the prompt on a fresh line, as bash does.
            println!();
            shell.run_signal_trap("INT", &host_fds());
        }
        ctx.refresh(&shell);
        if let Some(s) = shell.exited() {
            if stopped_jobs_warning(&mut shell, &mut warned) {
                continue;
            }
            break s;
        }
        warned = false;
    };
    let _ = editor.sync_history();
    drop(editor);
    drop(ctx);
    let status = {
        let exit_status = shell.end_session(&host_fds());
        if shell.exited().is_some() {
            exit_status
        } else {
            status
        }
    };
    drop(shell);
    interrupts.stop();
    Ok(status)
}

/// Refuses the first attempt to leave while jobs are stopped, as bash does:
/// returns whether it did (and prints why).
fn stopped_jobs_warning(shell: &mut Shell, warned: &mut bool) -> bool {
    if *warned || !shell.has_stopped_jobs() {
        return false;
    }
    eprintln!("There are stopped jobs.");
    shell.exit_request = None;
    *warned = true;
    true
}

/// The line editor: history file (`history_size` lines), multi-line validation,
/// highlighting, Tab completion, and Enter after Ctrl-R raising `accept`.
fn new_editor(
    ctx: &Arc<context::Context>,
    accept: &Arc<AtomicBool>,
    history_size: usize,
) -> anyhow::Result<Reedline> {
    let history_file = Dirs::locate()?.data.join("history.txt");
    let history = FileBackedHistory::with_file(history_size.max(1), history_file.clone())
        .with_context(|| format!("cannot open the history file {}", history_file.display()))?;
    let mut keys = default_emacs_keybindings();
    keys.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu("completion".into()),
            ReedlineEvent::MenuNext,
        ]),
    );
    Ok(Reedline::create()
        .with_history(Box::new(history))
        .with_validator(Box::new(validate::ShellValidator))
        .with_highlighter(Box::new(highlight::ShellHighlighter { ctx: ctx.clone() }))
        .with_completer(Box::new(complete::ShellCompleter { ctx: ctx.clone() }))
        .with_quick_completions(true)
        .with_partial_completions(true)
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(menu::QuietMenu(
            ColumnarMenu::default()
                .with_name("completion")
                .with_marker(PROMPT_INDICATOR),
        ))))
        .with_break_signal(accept.clone())
        .with_edit_mode(Box::new(keys::ShellKeys::new(keys, accept.clone()))))
}

/// Turns SIGINT (Ctrl-C while a command runs; the editor sees Ctrl-C as a key)
/// into [`Runtime::interrupt_all`], which stops every foreground guest with status 130.
struct InterruptForwarder {
    handle: signal_hook::iterator::Handle,
    thread: std::thread::JoinHandle<()>,
    state: Arc<InterruptState>,
}

/// Shared between the REPL loop and the signal thread.
#[derive(Default)]
struct InterruptState {
    /// A command line is running.
    running: AtomicBool,
    /// Ctrl-C was pressed while it ran (shared with the shell, which stops at the
    /// next command when it is set).
    fired: Arc<AtomicBool>,
    /// Ctrl-Z was pressed while it ran (shared with the shell, which stops the
    /// program it waits for).
    stop: Arc<AtomicBool>,
}

/// How often guests are stopped again after a Ctrl-C, until the command line ends.
const REINTERRUPT: std::time::Duration = std::time::Duration::from_millis(10);

impl InterruptForwarder {
    fn start(rt: Runtime) -> anyhow::Result<InterruptForwarder> {
        // Handling SIGTSTP also keeps the terminal's Ctrl-Z from stopping wsh itself.
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGINT,
            signal_hook::consts::SIGTSTP,
        ])
        .context("cannot install the Ctrl-C handler")?;
        let handle = signals.handle();
        let state = Arc::new(InterruptState::default());
        let shared = state.clone();
        let thread = std::thread::Builder::new()
            .name("wsh-sigint".into())
            .spawn(move || {
                for signal in signals.forever() {
                    if signal == signal_hook::consts::SIGTSTP {
                        if shared.running.load(Ordering::SeqCst) {
                            shared.stop.store(true, Ordering::SeqCst);
                        }
                        continue;
                    }
                    shared.fired.store(true, Ordering::SeqCst);
                    // Not once but until the command line ends: a guest that starts
                    // after the press (the next stage or command being spawned right
                    // then) must stop too, as the whole foreground job would in bash.
                    while shared.running.load(Ordering::SeqCst) {
                        rt.interrupt_all();
                        std::thread::sleep(REINTERRUPT);
                    }
                }
            })
            .context("cannot start the Ctrl-C thread")?;
        Ok(InterruptForwarder {
            handle,
            thread,
            state,
        })
    }

    /// A command line starts: forget earlier presses.
    fn begin(&self) {
        self.state.fired.store(false, Ordering::SeqCst);
        self.state.stop.store(false, Ordering::SeqCst);
        self.state.running.store(true, Ordering::SeqCst);
    }

    /// The command line ended; returns whether Ctrl-C was pressed while it ran, and
    /// lowers the flag so that an INT trap's own commands can run.
    fn end(&self) -> bool {
        self.state.running.store(false, Ordering::SeqCst);
        self.state.fired.swap(false, Ordering::SeqCst)
    }

    /// Uninstalls the handler and lets go of the runtime.
    fn stop(self) {
        self.state.running.store(false, Ordering::SeqCst);
        self.handle.close();
        let _ = self.thread.join();
    }
}

/// Runs commands from a non-terminal stdin as bash does: each complete command as
/// soon as its last line arrives, reading no further than that line (so programs
/// that read stdin get the rest). A syntax error stops with status 2.
pub fn non_interactive(
    arg0: String,
    args: Vec<String>,
    save_image: Option<&Path>,
) -> anyhow::Result<i32> {
    let container = Container::throwaway()?;
    let status = {
        let mut shell = Shell::new(ImageSystem::new(container.runtime().clone()));
        shell.set_args(arg0, args);
        let mut pending = String::new();
        loop {
            let line = read_stdin_line().context("cannot read stdin")?;
            let at_eof = line.is_none();
            if let Some(line) = line {
                pending.push_str(&line);
                let text = pending.strip_suffix('\n').unwrap_or(&pending);
                if completeness(text) == Completeness::Incomplete {
                    continue;
                }
            }
            if !pending.trim().is_empty() {
                if !pending.ends_with('\n') {
                    pending.push('\n');
                }
                match Shell::parse(&pending) {
                    Ok(program) => {
                        shell.run_program(&program, &host_fds());
                    }
                    Err(e) => {
                        eprintln!("wsh: {e}");
                        break 2;
                    }
                }
                pending.clear();
                if let Some(s) = shell.exited() {
                    break s;
                }
            }
            if at_eof {
                break shell.status();
            }
        }
    };
    container.finish(save_image)?;
    Ok(status)
}

/// One line of fd 0 with its newline (without it at EOF); None at EOF. Reads a
/// byte at a time, as bash does on a pipe, so nothing past the line is consumed.
fn read_stdin_line() -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    loop {
        let mut byte = 0u8;
        // SAFETY: reads at most one byte into a valid one-byte buffer.
        let n = unsafe { libc::read(0, (&raw mut byte).cast(), 1) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if n == 0 {
            break;
        }
        line.push(byte);
        if byte == b'\n' {
            break;
        }
    }
    Ok((!line.is_empty()).then(|| String::from_utf8_lossy(&line).into_owned()))
}
