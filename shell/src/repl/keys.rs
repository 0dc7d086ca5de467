//! The key map: Emacs keys, where Enter after a Ctrl-R search runs the line
//! found, as bash does (reedline only puts it in the buffer).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use reedline::Keybindings;
use reedline::{EditMode, Emacs, PromptEditMode, ReedlineEvent, ReedlineRawEvent};

/// Emacs keys that watch for the end of a history search.
pub struct ShellKeys {
    inner: Emacs,
    /// A Ctrl-R search is on.
    searching: bool,
    /// Raised when Enter ends a search: the editor's break signal, so that
    /// `read_line` returns the line found right after reedline puts it in the buffer.
    accept: Arc<AtomicBool>,
}

impl ShellKeys {
    /// The keys of `bindings`; `accept` is the editor's break signal.
    pub fn new(bindings: Keybindings, accept: Arc<AtomicBool>) -> ShellKeys {
        ShellKeys {
            inner: Emacs::new(bindings),
            searching: false,
            accept,
        }
    }
}

impl EditMode for ShellKeys {
    fn parse_event(&mut self, event: ReedlineRawEvent) -> ReedlineEvent {
        let ev = self.inner.parse_event(event);
        match &ev {
            ReedlineEvent::SearchHistory => self.searching = true,
            ReedlineEvent::Enter | ReedlineEvent::Submit | ReedlineEvent::SubmitOrNewline
                if self.searching =>
            {
                self.searching = false;
                self.accept.store(true, Ordering::SeqCst);
            }
            // What else ends reedline's search mode.
            ReedlineEvent::Esc
            | ReedlineEvent::CtrlC
            | ReedlineEvent::CtrlD
            | ReedlineEvent::ExecuteHostCommand(_) => self.searching = false,
            _ => {}
        }
        ev
    }

    fn edit_mode(&self) -> PromptEditMode {
        self.inner.edit_mode()
    }
}
