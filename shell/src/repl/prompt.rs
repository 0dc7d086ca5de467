//! The prompt: the image, the working directory (`~` for $HOME) and, after a
//! failure, the last status.

use std::borrow::Cow;

use nu_ansi_term::{Color, Style};
use reedline::{Prompt, PromptEditMode, PromptHistorySearch, PromptHistorySearchStatus};

/// What ends the prompt (also the completion menu's marker, so the line keeps its look).
pub const PROMPT_INDICATOR: &str = " $ ";

/// The prompt for one line, built from the shell's state before it is read.
pub struct ShellPrompt {
    /// The container's image name.
    pub image: String,
    /// The shell's working directory.
    pub cwd: String,
    /// `$HOME`, shown as `~`.
    pub home: String,
    /// The last command's status (shown only when non-zero).
    pub status: i32,
    /// `$PS1` as expanded for this line: replaces the look above when set.
    pub ps1: Option<String>,
    /// `$PS2` as expanded: the continuation lines' prompt (`> ` by default).
    pub ps2: Option<String>,
}

impl ShellPrompt {
    /// The directory as bash's `\w` shows it.
    fn short_cwd(&self) -> String {
        let home = self.home.trim_end_matches('/');
        if !home.is_empty() && (self.cwd == home || self.cwd.starts_with(&format!("{home}/"))) {
            format!("~{}", &self.cwd[home.len()..])
        } else {
            self.cwd.clone()
        }
    }
}

impl Prompt for ShellPrompt {
    fn render_prompt_left(&self) -> Cow<'_, str> {
        if let Some(ps1) = &self.ps1 {
            return Cow::Borrowed(ps1);
        }
        let mut s = format!(
            "{} {}",
            Style::new().fg(Color::Cyan).bold().paint(&self.image),
            Style::new().fg(Color::Blue).bold().paint(self.short_cwd())
        );
        if self.status != 0 {
            s.push_str(&format!(
                " {}",
                Color::Red.bold().paint(format!("[{}]", self.status))
            ));
        }
        Cow::Owned(s)
    }

    fn render_prompt_right(&self) -> Cow<'_, str> {
        Cow::Borrowed("")
    }

    fn render_prompt_indicator(&self, _mode: PromptEditMode) -> Cow<'_, str> {
        if self.ps1.is_some() {
            return Cow::Borrowed("");
        }
        Cow::Borrowed(PROMPT_INDICATOR)
    }

    fn render_prompt_multiline_indicator(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.ps2.as_deref().unwrap_or("> "))
    }

    fn render_prompt_history_search_indicator(&self, search: PromptHistorySearch) -> Cow<'_, str> {
        let failing = match search.status {
            PromptHistorySearchStatus::Passing => "",
            PromptHistorySearchStatus::Failing => "failing ",
        };
        Cow::Owned(format!("({failing}reverse-i-search)`{}': ", search.term))
    }
}

#[cfg(test)]
mod tests {
    use super::ShellPrompt;
    use reedline::Prompt;

    fn plain(p: &ShellPrompt) -> String {
        let s = p.render_prompt_left().into_owned();
        // Strip SGR sequences to compare the visible text.
        let mut out = String::new();
        let mut it = s.chars();
        while let Some(c) = it.next() {
            if c == '\x1b' {
                for d in it.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn shows_image_cwd_and_failed_status() {
        let mut p = ShellPrompt {
            image: "base".into(),
            cwd: "/root/src".into(),
            home: "/root".into(),
            status: 0,
            ps1: None,
            ps2: None,
        };
        assert_eq!(plain(&p), "base ~/src");
        p.status = 130;
        p.cwd = "/rootless".into();
        assert_eq!(plain(&p), "base /rootless [130]");
    }
}
