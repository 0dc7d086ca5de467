//! `help`: the builtins' usage lines (`help` lists them all, `help NAME` or a
//! prefix shows the matching ones with a short description, `help -s NAME` only
//! the usage line), in bash's layout.

use super::Fds;

/// Each builtin wsh implements: name, usage line, what it does (wsh's own words).
const TOPICS: &[(&str, &str, &str)] = &[
    (
        ".",
        ". FILENAME [ARGUMENTS]",
        "Run the commands of FILENAME in the current shell.",
    ),
    (":", ":", "Do nothing, successfully."),
    (
        "[",
        "[ ARG... ]",
        "Evaluate a conditional expression; the last argument must be `]'.",
    ),
    (
        "alias",
        "alias [NAME[=VALUE] ...]",
        "Define or list aliases.",
    ),
    (
        "bg",
        "bg [JOB_SPEC ...]",
        "Let stopped jobs go on in the background.",
    ),
    (
        "break",
        "break [N]",
        "Leave N enclosing for, while or until loops.",
    ),
    (
        "builtin",
        "builtin SHELL-BUILTIN [ARG ...]",
        "Run a shell builtin, bypassing functions.",
    ),
    (
        "caller",
        "caller [EXPR]",
        "Print the line and file of the current function call.",
    ),
    (
        "cd",
        "cd [-L|-P] [DIR]",
        "Change the working directory (to $HOME by default).",
    ),
    (
        "command",
        "command [-pVv] COMMAND [ARG ...]",
        "Run a command, bypassing functions.",
    ),
    (
        "continue",
        "continue [N]",
        "Go on with the next iteration of the Nth enclosing loop.",
    ),
    (
        "declare",
        "declare [-aAfFgilnprtux] [NAME[=VALUE] ...]",
        "Set variable values and attributes.",
    ),
    (
        "disown",
        "disown [-h] [-ar] [JOBSPEC ... | PID ...]",
        "Remove jobs from the job table.",
    ),
    (
        "echo",
        "echo [-neE] [ARG ...]",
        "Write the arguments to standard output.",
    ),
    (
        "eval",
        "eval [ARG ...]",
        "Run the arguments as a shell command.",
    ),
    (
        "exec",
        "exec [COMMAND [ARG ...]] [REDIRECTION ...]",
        "Replace the shell with COMMAND, or apply redirections to the shell.",
    ),
    (
        "exit",
        "exit [N]",
        "Exit the shell with status N (the last status by default).",
    ),
    (
        "export",
        "export [-fn] [-p] [NAME[=VALUE] ...]",
        "Mark variables to be passed to programs.",
    ),
    ("false", "false", "Return an unsuccessful result."),
    (
        "fg",
        "fg [JOB_SPEC]",
        "Move a job to the foreground (the current job by default).",
    ),
    (
        "getopts",
        "getopts OPTSTRING NAME [ARG ...]",
        "Parse option arguments.",
    ),
    (
        "hash",
        "hash [-r] [-p PATHNAME] [NAME ...]",
        "Remember or list program locations.",
    ),
    (
        "help",
        "help [-s] [PATTERN ...]",
        "Show information about builtin commands.",
    ),
    (
        "history",
        "history [-c] [N]",
        "List (or clear) the lines typed in this session.",
    ),
    (
        "jobs",
        "jobs [-lnprs] [JOBSPEC ...]",
        "List the jobs and their status.",
    ),
    (
        "kill",
        "kill [-s SIGSPEC | -n SIGNUM | -SIGSPEC] PID | JOBSPEC ... or kill -l [SIGSPEC]",
        "Send a signal to a job.",
    ),
    (
        "let",
        "let ARG [ARG ...]",
        "Evaluate arithmetic expressions.",
    ),
    (
        "local",
        "local [OPTION] NAME[=VALUE] ...",
        "Define variables local to a function.",
    ),
    (
        "mapfile",
        "mapfile [-d DELIM] [-n COUNT] [-O ORIGIN] [-s COUNT] [-t] [-u FD] [ARRAY]",
        "Read lines from standard input into an array.",
    ),
    (
        "printf",
        "printf [-v VAR] FORMAT [ARGUMENTS]",
        "Format and print the arguments.",
    ),
    (
        "pwd",
        "pwd [-LP]",
        "Print the name of the working directory.",
    ),
    (
        "read",
        "read [-ers] [-a ARRAY] [-d DELIM] [-n NCHARS] [-N NCHARS] [-p PROMPT] [-t TIMEOUT] [-u FD] [NAME ...]",
        "Read a line from standard input and split it into fields.",
    ),
    (
        "readarray",
        "readarray [-d DELIM] [-n COUNT] [-O ORIGIN] [-s COUNT] [-t] [-u FD] [ARRAY]",
        "Read lines into an array (the same as mapfile).",
    ),
    (
        "readonly",
        "readonly [-aAf] [NAME[=VALUE] ...] or readonly -p",
        "Mark variables as unchangeable.",
    ),
    (
        "return",
        "return [N]",
        "Return from a function or sourced file with status N.",
    ),
    (
        "set",
        "set [-abefhkmnptuvxBCEHPT] [-o OPTION-NAME] [--] [ARG ...]",
        "Set shell options and positional parameters.",
    ),
    (
        "shift",
        "shift [N]",
        "Shift the positional parameters left by N.",
    ),
    (
        "shopt",
        "shopt [-pqsu] [-o] [OPTNAME ...]",
        "Set and unset shell options.",
    ),
    (
        "source",
        "source FILENAME [ARGUMENTS]",
        "Run the commands of FILENAME in the current shell.",
    ),
    ("test", "test [EXPR]", "Evaluate a conditional expression."),
    (
        "times",
        "times",
        "Print the accumulated user and system times.",
    ),
    (
        "trap",
        "trap [-lp] [[ARG] SIGNAL_SPEC ...]",
        "Run commands when the shell receives signals or other conditions.",
    ),
    ("true", "true", "Return a successful result."),
    (
        "type",
        "type [-afptP] NAME [NAME ...]",
        "Tell how each NAME would be interpreted as a command.",
    ),
    (
        "typeset",
        "typeset [-aAfFgilnrtux] NAME[=VALUE] ...",
        "Set variable values and attributes (the same as declare).",
    ),
    (
        "umask",
        "umask [-p] [-S] [MODE]",
        "Set or show the file-creation mask.",
    ),
    (
        "unalias",
        "unalias [-a] NAME [NAME ...]",
        "Remove alias definitions.",
    ),
    (
        "unset",
        "unset [-f] [-v] [-n] [NAME ...]",
        "Unset variables and functions.",
    ),
    (
        "wait",
        "wait [ID ...]",
        "Wait for jobs to end and return their status.",
    ),
];

/// `help [-s] [PATTERN...]`.
pub(crate) fn help_builtin(args: &[String], fds: &Fds) -> i32 {
    let mut short = false;
    let mut patterns = Vec::new();
    for a in args {
        match a.as_str() {
            "-s" => short = true,
            "-d" | "-m" => {}
            "--" => {}
            _ => patterns.push(a.as_str()),
        }
    }
    let mut out = String::new();
    if patterns.is_empty() {
        out.push_str(&listing());
    }
    let mut st = 0;
    for p in patterns {
        // An exact name, or else every name it starts (bash matches prefixes too).
        let exact: Vec<_> = TOPICS.iter().filter(|t| t.0 == p).collect();
        let hits = if exact.is_empty() {
            TOPICS.iter().filter(|t| t.0.starts_with(p)).collect()
        } else {
            exact
        };
        if hits.is_empty() {
            fds.error(&format!(
                "help: no help topics match `{p}'.  Try `help help' or `man -k {p}' or `info {p}'."
            ));
            st = 1;
        }
        for (name, usage, what) in hits {
            if short {
                out.push_str(&format!("{name}: {usage}\n"));
            } else {
                out.push_str(&format!("{name}: {usage}\n    {what}\n"));
            }
        }
    }
    if fds.handle(1).write_all(out.as_bytes()).is_err() {
        return 1;
    }
    st
}

/// The usage lines of all builtins in two columns, after bash's header.
fn listing() -> String {
    let mut out = format!(
        "wsh, version {}: a bash-compatible shell.\n\
         These shell commands are defined internally.  Type `help' to see this list.\n\
         Type `help name' to find out more about the function `name'.\n\n",
        env!("CARGO_PKG_VERSION")
    );
    let half = TOPICS.len().div_ceil(2);
    const WIDTH: usize = 38;
    for (i, topic) in TOPICS[..half].iter().enumerate() {
        let left = clip(topic.1, WIDTH);
        match TOPICS.get(i + half) {
            Some(r) => out.push_str(&format!("{left:<WIDTH$} {}\n", clip(r.1, WIDTH))),
            None => out.push_str(&format!("{left}\n")),
        }
    }
    out
}

/// `text` cut to `width` characters, ending in `>` when cut (as bash's list does).
fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push('>');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::TOPICS;

    #[test]
    fn every_topic_is_a_builtin_and_sorted() {
        for (name, usage, _) in TOPICS {
            assert!(
                crate::interp::exec::is_builtin_name(name),
                "help names {name}, which is not a builtin"
            );
            assert!(usage.starts_with(name), "{name}: {usage}");
        }
        let names: Vec<&str> = TOPICS.iter().map(|t| t.0).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    }
}
