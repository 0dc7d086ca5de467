//! Balenafile text → stages and steps. The Dockerfile grammar (comments, `\`
//! continuations, `# escape=`, exec vs shell form, heredocs) is parsed by the
//! `parse-dockerfile` crate; this module turns its tree into [`Balenafile`], with
//! the line of every instruction for `FILE:LINE:` errors.

use parse_dockerfile as pd;

use super::BuildError;
use super::heredoc::{buildkit_continuations, heredoc_names, hoist_heredocs};

/// A parsed Balenafile.
#[derive(Debug)]
pub struct Balenafile {
    /// The escape character (`# escape=`; `\` by default).
    pub escape: char,
    /// `ARG`s before the first `FROM` (visible to FROM lines only, unless redeclared).
    pub global_args: Vec<Step>,
    /// The stages in order.
    pub stages: Vec<StageDef>,
}

/// One `FROM` and the instructions up to the next.
#[derive(Debug)]
pub struct StageDef {
    /// The FROM line.
    pub line: usize,
    /// The FROM instruction's text.
    pub text: String,
    /// The base image reference, before substitution (`base`, `scratch`, a stage name).
    pub image: String,
    /// `AS name`, lowercased as Docker does.
    pub name: Option<String>,
    /// The instructions after FROM.
    pub steps: Vec<Step>,
}

/// One instruction.
#[derive(Debug)]
pub struct Step {
    /// Line of the instruction keyword (1-based).
    pub line: usize,
    /// The instruction's text as written (continuations and heredoc bodies included),
    /// used in the cache key and the image history.
    pub text: String,
    /// What it does.
    pub instr: Instr,
    /// RUN's `--mount=` values as written (substituted when the step runs); empty
    /// for other instructions.
    pub mounts: Vec<String>,
}

/// Exec form (JSON array) or shell form of RUN, CMD, ENTRYPOINT, HEALTHCHECK.
#[derive(Debug, Clone, PartialEq)]
pub enum CmdForm {
    /// `["prog", "arg"]`: no shell, no substitution.
    Exec(Vec<String>),
    /// Shell text (continuations removed, heredocs included), run by the shell.
    Shell(String),
}

/// A COPY/ADD source.
#[derive(Debug, Clone)]
pub enum Source {
    /// A path or glob relative to the context (or to the `--from` stage's root).
    Path(String),
    /// A heredoc: the file named `name` with `body` (expanded unless the delimiter was quoted).
    HereDoc {
        /// The delimiter word, which names the file when the destination is a directory.
        name: String,
        /// The content.
        body: String,
        /// Whether `$VAR` in the body is substituted.
        expand: bool,
    },
}

/// COPY and ADD.
#[derive(Debug, Clone)]
pub struct CopyArgs {
    /// ADD (archives are extracted) rather than COPY.
    pub add: bool,
    /// The sources, before substitution.
    pub srcs: Vec<Source>,
    /// The destination, before substitution.
    pub dest: String,
    /// `--from=STAGE|IMAGE`.
    pub from: Option<String>,
    /// `--chown=USER[:GROUP]` (numeric ids).
    pub chown: Option<String>,
    /// `--chmod=OCTAL`.
    pub chmod: Option<String>,
}

/// The instructions wsh knows.
#[derive(Debug, Clone)]
pub enum Instr {
    /// RUN.
    Run(CmdForm),
    /// COPY or ADD.
    Copy(CopyArgs),
    /// ENV arguments (unprocessed).
    Env(String),
    /// ARG arguments (unprocessed).
    Arg(String),
    /// WORKDIR path.
    Workdir(String),
    /// USER name.
    User(String),
    /// LABEL arguments (unprocessed).
    Label(String),
    /// EXPOSE ports.
    Expose(Vec<String>),
    /// CMD.
    Cmd(CmdForm),
    /// ENTRYPOINT.
    Entrypoint(CmdForm),
    /// VOLUME paths.
    Volume(Vec<String>),
    /// STOPSIGNAL.
    Stopsignal(String),
    /// HEALTHCHECK: None for `NONE`, else the options and the command.
    Healthcheck(Option<(Vec<(String, String)>, CmdForm)>),
    /// MAINTAINER (deprecated; recorded as the `maintainer` label, as Docker does).
    Maintainer(String),
    /// SHELL: the shell of later shell-form RUN, CMD and ENTRYPOINT (JSON form only).
    Shell(Vec<String>),
    /// ONBUILD: the trigger instruction's text (validated here, run by child builds).
    Onbuild(String),
}

impl Instr {
    /// The instruction keyword.
    pub fn keyword(&self) -> &'static str {
        match self {
            Instr::Run(_) => "RUN",
            Instr::Copy(c) if c.add => "ADD",
            Instr::Copy(_) => "COPY",
            Instr::Env(_) => "ENV",
            Instr::Arg(_) => "ARG",
            Instr::Workdir(_) => "WORKDIR",
            Instr::User(_) => "USER",
            Instr::Label(_) => "LABEL",
            Instr::Expose(_) => "EXPOSE",
            Instr::Cmd(_) => "CMD",
            Instr::Entrypoint(_) => "ENTRYPOINT",
            Instr::Volume(_) => "VOLUME",
            Instr::Stopsignal(_) => "STOPSIGNAL",
            Instr::Healthcheck(_) => "HEALTHCHECK",
            Instr::Maintainer(_) => "MAINTAINER",
            Instr::Shell(_) => "SHELL",
            Instr::Onbuild(_) => "ONBUILD",
        }
    }
}

/// 1-based line of byte offset `pos`.
fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The text of line `line` (1-based), trimmed.
pub fn line_text(text: &str, line: usize) -> String {
    text.lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .trim()
        .to_string()
}

fn keyword_start(i: &pd::Instruction<'_>) -> Option<usize> {
    use pd::Instruction as I;
    Some(match i {
        I::Add(x) => x.add.span.start,
        I::Arg(x) => x.arg.span.start,
        I::Cmd(x) => x.cmd.span.start,
        I::Copy(x) => x.copy.span.start,
        I::Entrypoint(x) => x.entrypoint.span.start,
        I::Env(x) => x.env.span.start,
        I::Expose(x) => x.expose.span.start,
        I::From(x) => x.from.span.start,
        I::Healthcheck(x) => x.healthcheck.span.start,
        I::Label(x) => x.label.span.start,
        I::Maintainer(x) => x.maintainer.span.start,
        I::Onbuild(x) => x.onbuild.span.start,
        I::Run(x) => x.run.span.start,
        I::Shell(x) => x.shell.span.start,
        I::Stopsignal(x) => x.stopsignal.span.start,
        I::User(x) => x.user.span.start,
        I::Volume(x) => x.volume.span.start,
        I::Workdir(x) => x.workdir.span.start,
        _ => return None,
    })
}

/// Removes `escape`+newline continuations and the comment lines inside them, as
/// Docker does before handing shell-form text to the shell.
pub fn join_continuations(raw: &str, escape: char) -> String {
    let mut out = String::new();
    let mut lines = raw.split('\n').peekable();
    let mut first = true;
    while let Some(line) = lines.next() {
        let l = line.strip_suffix('\r').unwrap_or(line);
        if !first && l.trim_start().starts_with('#') {
            continue;
        }
        first = false;
        match l.strip_suffix(escape) {
            Some(body) if lines.peek().is_some() => out.push_str(body),
            _ => {
                out.push_str(l);
                if lines.peek().is_some() {
                    out.push('\n');
                }
            }
        }
    }
    out
}

/// Parses `text` (from the file `file`, the name used in errors).
pub fn parse(file: &str, orig: &str) -> Result<Balenafile, BuildError> {
    let continued = buildkit_continuations(orig);
    let (hoisted_text, marks) = hoist_heredocs(&continued);
    let text = hoisted_text.as_str();
    let d = pd::parse(text).map_err(|e| {
        let text = orig;
        let mut line = e.line().clamp(1, text.lines().count().max(1));
        let msg = format!("{e:#}");
        // An unterminated heredoc is found at the end of the file; name the line that opened it.
        if msg.contains("here-document")
            && let Some(open) = (1..=line)
                .rev()
                .find(|&l| line_text(text, l).contains("<<"))
        {
            line = open;
        }
        let mut msg = msg;
        // parse-dockerfile reads heredocs only right after RUN; `RUN cmd <<EOF` leaves
        // the body to be read as instructions. Say so instead of just "unknown".
        let late_heredoc = regex::Regex::new(r"(?i)^\s*RUN\s+[^<\s].*<<").expect("a valid regex");
        if msg.starts_with("unknown instruction") && (1..line).any(|l| late_heredoc.is_match(&line_text(text, l))) {
            msg.push_str(" (a heredoc after a command, `RUN cmd <<EOF`, is not supported: write `RUN <<EOF` with the command inside)");
        }
        BuildError::new(file, line, msg, line_text(text, line))
    })?;
    let escape = d
        .parser_directives
        .escape
        .as_ref()
        .map_or('\\', |p| p.value.value);
    let starts: Vec<usize> = d.instructions.iter().filter_map(keyword_start).collect();
    let region = |start: usize| -> String {
        let end = starts
            .iter()
            .copied()
            .find(|&s| s > start)
            .unwrap_or(text.len());
        // Without the markers hoist_heredocs added.
        let mut region = String::new();
        let mut at = start;
        for &(off, len) in marks.iter().filter(|(o, _)| (start..end).contains(o)) {
            region.push_str(&text[at..off]);
            at = off + len;
        }
        region.push_str(&text[at..end]);
        // Drop the comment and blank lines between this instruction and the next.
        let lines: Vec<&str> = region.lines().collect();
        let keep = lines.len()
            - lines
                .iter()
                .rev()
                .take_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
                .count();
        lines[..keep.max(1)].join("\n")
    };
    let err = |start: usize, msg: String| {
        let line = line_of(text, start);
        BuildError::new(file, line, msg, line_text(orig, line))
    };
    let mut bf = Balenafile {
        escape,
        global_args: Vec::new(),
        stages: Vec::new(),
    };
    for ins in &d.instructions {
        let Some(start) = keyword_start(ins) else {
            return Err(err(0, "unsupported instruction".into()));
        };
        let line = line_of(text, start);
        let step_text = region(start);
        if let pd::Instruction::From(f) = ins {
            if let Some(flag) = f.options.first() {
                return Err(err(
                    start,
                    format!("FROM --{} is not supported", flag.name.value),
                ));
            }
            bf.stages.push(StageDef {
                line,
                text: step_text,
                image: f.image.value.to_string(),
                name: f.as_.as_ref().map(|(_, n)| n.value.to_lowercase()),
                steps: Vec::new(),
            });
            continue;
        }
        let instr = convert(ins, text, &marks, escape, &step_text).map_err(|m| err(start, m))?;
        let mounts = match ins {
            pd::Instruction::Run(r) => run_flags(&r.options).map_err(|m| err(start, m))?,
            _ => Vec::new(),
        };
        let step = Step {
            line,
            text: step_text,
            instr,
            mounts,
        };
        match bf.stages.last_mut() {
            Some(stage) => stage.steps.push(step),
            None if matches!(step.instr, Instr::Arg(_)) => bf.global_args.push(step),
            None => {
                return Err(err(
                    start,
                    format!("{} before the first FROM", step.instr.keyword()),
                ));
            }
        }
    }
    Ok(bf)
}

fn command(c: &pd::Command<'_>, escape: char) -> Result<CmdForm, String> {
    match c {
        pd::Command::Exec(v) => Ok(CmdForm::Exec(
            v.value.iter().map(|s| s.value.to_string()).collect(),
        )),
        pd::Command::Shell(s) => {
            let text = join_continuations(s.value, escape);
            // BuildKit: a JSON array with anything but strings in it is an error, not
            // shell text (`CMD [ "a", [ "b" ] ]`).
            if let Ok(serde_json::Value::Array(items)) =
                serde_json::from_str::<serde_json::Value>(text.trim())
                && items.iter().any(|v| !v.is_string())
            {
                return Err(
                    "when using JSON array syntax, arrays must be comprised of strings only".into(),
                );
            }
            Ok(CmdForm::Shell(text))
        }
        // The enum is non_exhaustive: a form a newer parser adds is refused, not guessed.
        _ => Err("unsupported command form".into()),
    }
}

/// RUN's flags (only those wsh implements; Docker's others are errors, not ignored):
/// the `--mount` values (each checked now, unless it holds a variable
/// known only when the step runs); `--network`, `--security` and others are errors.
fn run_flags(flags: &[pd::Flag<'_>]) -> Result<Vec<String>, String> {
    let mut mounts = Vec::new();
    for f in flags {
        match (&*f.name.value, &f.value) {
            ("mount", Some(v)) => {
                let v = v.value.to_string();
                if !v.contains('$') {
                    super::mount_spec::parse_spec(&v, &|s| Ok(s.to_string()))?;
                }
                mounts.push(v);
            }
            ("mount", None) => {
                return Err("RUN --mount needs a value (--mount=type=...,target=DIR)".into());
            }
            ("network", _) => {
                return Err("RUN --network is not supported (wsh builds have no network)".into());
            }
            (n, _) => return Err(format!("RUN --{n} is not supported")),
        }
    }
    Ok(mounts)
}

fn convert(
    ins: &pd::Instruction<'_>,
    text: &str,
    marks: &[(usize, usize)],
    escape: char,
    step_text: &str,
) -> Result<Instr, String> {
    use pd::Instruction as I;
    let s = |u: &pd::UnescapedString<'_>| u.value.to_string();
    Ok(match ins {
        I::Run(r) => {
            run_flags(&r.options)?;
            let form = match (&r.arguments, r.here_docs.first()) {
                (pd::Command::Shell(line), Some(doc)) => {
                    // parse-dockerfile's arguments start after the first heredoc token.
                    // Nothing after it: the body is the script. Otherwise our shell gets
                    // the command line and the heredoc exactly as written (it reads
                    // heredocs itself), without the marker hoist_heredocs added.
                    let body_end = doc.span.end.min(text.len()).max(line.span.end);
                    if line.value.trim().is_empty() {
                        CmdForm::Shell(doc.value.to_string())
                    } else {
                        let from =
                            match marks.iter().find(|(o, len)| o + len - 1 == line.span.start) {
                                Some((o, len)) => o + len,
                                None => text[..line.span.start]
                                    .rfind("<<")
                                    .unwrap_or(line.span.start),
                            };
                        let delim = heredoc_names(&text[from..line.span.end])
                            .into_iter()
                            .next()
                            .unwrap_or_default();
                        CmdForm::Shell(format!("{}{delim}\n", &text[from..body_end]))
                    }
                }
                (c, _) => command(c, escape)?,
            };
            Instr::Run(form)
        }
        I::Copy(c) => {
            let mut args = CopyArgs {
                add: false,
                srcs: Vec::new(),
                dest: s(&c.dest),
                from: None,
                chown: None,
                chmod: None,
            };
            for f in &c.options {
                let v = f.value.as_ref().map(|v| v.value.to_string());
                match (&*f.name.value, v) {
                    ("from", Some(v)) => args.from = Some(v),
                    ("chown", Some(v)) => args.chown = Some(v),
                    ("chmod", Some(v)) => args.chmod = Some(v),
                    (n, _) => return Err(format!("COPY --{n} is not supported")),
                }
            }
            args.srcs = sources(&c.src, step_text)?;
            Instr::Copy(args)
        }
        I::Add(a) => {
            let mut args = CopyArgs {
                add: true,
                srcs: Vec::new(),
                dest: s(&a.dest),
                from: None,
                chown: None,
                chmod: None,
            };
            for f in &a.options {
                let v = f.value.as_ref().map(|v| v.value.to_string());
                match (&*f.name.value, v) {
                    ("chown", Some(v)) => args.chown = Some(v),
                    ("chmod", Some(v)) => args.chmod = Some(v),
                    (n, _) => return Err(format!("ADD --{n} is not supported")),
                }
            }
            args.srcs = sources(&a.src, step_text)?;
            Instr::Copy(args)
        }
        I::Env(e) => Instr::Env(s(&e.arguments)),
        I::Arg(a) => Instr::Arg(s(&a.arguments)),
        I::Workdir(w) => Instr::Workdir(s(&w.arguments)),
        I::User(u) => Instr::User(s(&u.arguments)),
        I::Label(l) => Instr::Label(s(&l.arguments)),
        I::Expose(e) => Instr::Expose(e.arguments.iter().map(s).collect()),
        I::Cmd(c) => Instr::Cmd(command(&c.arguments, escape)?),
        I::Entrypoint(e) => Instr::Entrypoint(command(&e.arguments, escape)?),
        I::Volume(v) => Instr::Volume(match &v.arguments {
            pd::JsonOrStringArray::Json(a) => a.value.iter().map(s).collect(),
            pd::JsonOrStringArray::String(a) => a.iter().map(s).collect(),
        }),
        I::Stopsignal(x) => Instr::Stopsignal(s(&x.arguments)),
        I::Healthcheck(h) => match &h.arguments {
            pd::HealthcheckArguments::None { .. } => Instr::Healthcheck(None),
            pd::HealthcheckArguments::Cmd { arguments, .. } => {
                let mut opts = Vec::new();
                for f in &h.options {
                    let name = f.name.value.to_string();
                    if !matches!(
                        &*name,
                        "interval" | "timeout" | "start-period" | "start-interval" | "retries"
                    ) {
                        return Err(format!("HEALTHCHECK --{name} is not a health check option"));
                    }
                    opts.push((
                        name,
                        f.value
                            .as_ref()
                            .map(|v| v.value.to_string())
                            .unwrap_or_default(),
                    ));
                }
                Instr::Healthcheck(Some((opts, command(arguments, escape)?)))
            }
            _ => return Err("unsupported HEALTHCHECK form".into()),
        },
        I::Maintainer(m) => Instr::Maintainer(s(&m.name)),
        I::Shell(sh) => Instr::Shell(sh.arguments.iter().map(s).collect()),
        I::Onbuild(o) => {
            // Docker's limitations and messages.
            match &*o.instruction {
                I::Onbuild(_) => {
                    return Err("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed".into());
                }
                I::From(_) => return Err("FROM isn't allowed as an ONBUILD trigger".into()),
                I::Maintainer(_) => {
                    return Err("MAINTAINER isn't allowed as an ONBUILD trigger".into());
                }
                _ => {}
            }
            let trigger = trigger_text(step_text, escape);
            // Checked now, so a bad trigger is this file's error, not a child build's.
            convert(&o.instruction, text, marks, escape, &trigger)?;
            Instr::Onbuild(trigger)
        }
        _ => return Err("unsupported instruction".into()),
    })
}

/// The instruction after `ONBUILD` as Docker records it: one line (continuations
/// joined) unless it carries a heredoc, whose body is kept as written.
fn trigger_text(step_text: &str, escape: char) -> String {
    let t = step_text.trim_start();
    let rest = t.get("ONBUILD".len()..).unwrap_or("").trim_start();
    if heredoc_names(rest.lines().next().unwrap_or("")).is_empty() {
        join_continuations(rest, escape).trim().to_string()
    } else {
        rest.to_string()
    }
}

/// Parses an ONBUILD trigger (from a base image's config) as one instruction, run by a
/// child build: errors are placed at `line` (that build's FROM) of `file`.
pub fn parse_trigger(file: &str, line: usize, trigger: &str) -> Result<Step, BuildError> {
    let at_from = |msg: String| BuildError::new(file, line, msg, format!("ONBUILD {trigger}"));
    let bf = parse(file, &format!("FROM scratch\n{trigger}\n"))
        .map_err(|e| at_from(format!("ONBUILD trigger: {}", e.msg)))?;
    let mut steps = bf.stages.into_iter().flat_map(|s| s.steps);
    match (steps.next(), steps.next()) {
        (Some(mut step), None) if !matches!(step.instr, Instr::Onbuild(_)) => {
            step.line = line;
            step.text = format!("ONBUILD {}", step.text);
            Ok(step)
        }
        _ => Err(at_from("ONBUILD trigger: not one instruction".to_string())),
    }
}

fn sources(src: &[pd::Source<'_>], step_text: &str) -> Result<Vec<Source>, String> {
    let mut names = heredoc_names(step_text.lines().next().unwrap_or("")).into_iter();
    src.iter()
        .map(|x| match x {
            pd::Source::Path(p) => Ok(Source::Path(p.value.to_string())),
            pd::Source::HereDoc(h) => Ok(Source::HereDoc {
                name: names.next().unwrap_or_default(),
                body: h.value.to_string(),
                expand: h.expand,
            }),
            _ => Err("unsupported source form".to_string()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_and_inner_comments_are_removed() {
        assert_eq!(
            join_continuations("echo a \\\n  # note\n  b", '\\'),
            "echo a   b"
        );
        assert_eq!(join_continuations("echo a `\n b", '`'), "echo a  b");
    }

    #[test]
    fn stages_global_args_and_forms() {
        let bf = parse("B", "ARG V=1\nFROM base AS One\nRUN echo $V\nCMD [\"a\", \"b\"]\nFROM one\nRUN <<EOF\necho hi\nEOF\n").unwrap();
        assert_eq!(bf.global_args.len(), 1);
        assert_eq!(bf.stages.len(), 2);
        assert_eq!(bf.stages[0].name.as_deref(), Some("one"));
        assert!(
            matches!(&bf.stages[0].steps[0].instr, Instr::Run(CmdForm::Shell(s)) if s == "echo $V")
        );
        assert!(
            matches!(&bf.stages[0].steps[1].instr, Instr::Cmd(CmdForm::Exec(v)) if v == &["a", "b"])
        );
        assert!(
            matches!(&bf.stages[1].steps[0].instr, Instr::Run(CmdForm::Shell(s)) if s.trim() == "echo hi")
        );
        assert_eq!(bf.stages[1].steps[0].line, 6);
    }

    #[test]
    fn errors_name_file_line_and_text() {
        let e = parse("my.bf", "FROM base\nBOGUS x\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "my.bf:2: unknown instruction 'BOGUS' (in: BOGUS x)"
        );
        let e = parse("B", "RUN true\n").unwrap_err();
        assert!(e.to_string().starts_with("B:1: "), "{e}");
        let e = parse("B", "FROM base\nRUN cat <<A <<B\na\nA\nb\nB\n").unwrap_err();
        assert!(e.to_string().contains("`RUN <<EOF`"), "{e}");
        let e = parse("B", "FROM base\nSHELL /bin/bash -c\n").unwrap_err();
        assert!(e.to_string().starts_with("B:2: "), "{e}");
        assert!(e.to_string().contains("JSON"), "{e}");
    }

    #[test]
    fn shell_takes_a_json_array() {
        let bf = parse(
            "B",
            "FROM base\nSHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n",
        )
        .unwrap();
        assert!(
            matches!(&bf.stages[0].steps[0].instr, Instr::Shell(v) if v == &["/bin/bash", "-o", "pipefail", "-c"])
        );
        assert!(parse("B", "FROM base\nSHELL []\n").is_err());
    }

    #[test]
    fn onbuild_records_the_trigger_and_refuses_dockers_exceptions() {
        let bf = parse(
            "B",
            "FROM base\nONBUILD RUN echo a \\\n  b\nONBUILD copy x /y\n",
        )
        .unwrap();
        let steps = &bf.stages[0].steps;
        assert!(
            matches!(&steps[0].instr, Instr::Onbuild(t) if t == "RUN echo a   b"),
            "{steps:?}"
        );
        assert!(matches!(&steps[1].instr, Instr::Onbuild(t) if t == "copy x /y"));
        for (bad, want) in [
            ("ONBUILD ONBUILD RUN x", "ONBUILD"),
            (
                "ONBUILD FROM base",
                "FROM isn't allowed as an ONBUILD trigger",
            ),
            (
                "ONBUILD MAINTAINER me",
                "MAINTAINER isn't allowed as an ONBUILD trigger",
            ),
            (
                "ONBUILD COPY --bogus=1 a b",
                "COPY --bogus is not supported",
            ),
        ] {
            let e = parse("B", &format!("FROM base\n{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("B:2: ") && e.contains(want), "{bad}: {e}");
        }
        let t = parse_trigger("B", 7, "RUN echo hi").unwrap();
        assert_eq!((t.line, t.text.as_str()), (7, "ONBUILD RUN echo hi"));
        let e = parse_trigger("B", 7, "BOGUS x").unwrap_err().to_string();
        assert!(
            e.starts_with("B:7: ONBUILD trigger: unknown instruction"),
            "{e}"
        );
    }

    #[test]
    fn run_mount_flags_are_kept_and_others_refused() {
        let bf = parse(
            "B",
            "FROM base\nRUN --mount=type=cache,target=/c --mount=target=/s make\nRUN true\n",
        )
        .unwrap();
        let steps = &bf.stages[0].steps;
        assert_eq!(steps[0].mounts, ["type=cache,target=/c", "target=/s"]);
        assert!(matches!(&steps[0].instr, Instr::Run(CmdForm::Shell(s)) if s == "make"));
        assert!(steps[1].mounts.is_empty());
        let t = parse_trigger("B", 3, "RUN --mount=type=tmpfs,target=/t true").unwrap();
        assert_eq!(t.mounts, ["type=tmpfs,target=/t"]);
        for (bad, want) in [
            ("RUN --network=none true", "RUN --network is not supported"),
            ("RUN --mount true", "RUN --mount needs a value"),
            (
                "RUN --mount=type=secret,id=x true",
                "RUN --mount=type=secret is not supported",
            ),
        ] {
            let e = parse("B", &format!("FROM base\n{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("B:2: ") && e.contains(want), "{bad}: {e}");
        }
    }

    #[test]
    fn escape_directive_changes_continuations() {
        let bf = parse("B", "# escape=`\nFROM base\nRUN echo a `\n b\n").unwrap();
        assert_eq!(bf.escape, '`');
        assert!(
            matches!(&bf.stages[0].steps[0].instr, Instr::Run(CmdForm::Shell(s)) if s == "echo a  b")
        );
    }

    #[test]
    fn heredoc_after_a_command_is_kept_for_the_shell() {
        let bf = parse(
            "B",
            "FROM base\nRUN cat <<EOF > /f\nbody $X\nEOF\nRUN echo $((1<<2))\n",
        )
        .unwrap();
        let steps = &bf.stages[0].steps;
        assert!(
            matches!(&steps[0].instr, Instr::Run(CmdForm::Shell(s)) if s == "cat <<EOF > /f\nbody $X\nEOF\n"),
            "{:?}",
            steps[0]
        );
        assert_eq!(steps[0].text, "RUN cat <<EOF > /f\nbody $X\nEOF");
        assert_eq!(steps[1].line, 5);
        assert!(matches!(&steps[1].instr, Instr::Run(CmdForm::Shell(s)) if s == "echo $((1<<2))"));
    }
}
