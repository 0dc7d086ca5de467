//! Running the AST: lists, and-or lists, pipelines, simple and compound commands.

use std::sync::Arc;

use brush_parser::ast::{self, CommandPrefixOrSuffixItem as Item};
use wsh_runtime::io::pipe;

use super::expand::Fail;
use super::{ExecResult, Fds, Flow, Shell};

/// Whether `name` is handled by [`Shell::interp_builtin`].
fn is_interp_builtin(name: &str) -> bool {
    super::commands::INTERP_BUILTINS.contains(&name)
}

/// Whether `name` is a builtin of any kind (what `builtin` and `type` accept).
pub(crate) fn is_builtin_name(name: &str) -> bool {
    is_interp_builtin(name)
        || builtins::lookup(name).is_some()
        || matches!(name, "exec" | "command" | "builtin")
}

/// Turns an expansion/redirection failure into a command status or unwinding.
pub(crate) fn fail(f: Fail) -> ExecResult {
    match f {
        Fail::Status(s) => Ok(s),
        Fail::Flow(f) => Err(f),
    }
}

/// Runs `f` in a subshell context: `exit` only ends it.
pub(crate) fn sub_status(r: ExecResult) -> i32 {
    match r {
        Ok(s) | Err(Flow::Exit(s) | Flow::Return(s) | Flow::Abort(s)) => s,
        Err(Flow::Break(_) | Flow::Continue(_)) => 0,
    }
}

impl Shell {
    /// Runs a list (`a; b & c`), returning the last status. Every nesting level of the
    /// interpreter passes here, so this is where its stack grows (see depth.rs).
    pub(crate) fn run_list(&mut self, list: &ast::CompoundList, fds: &Fds) -> ExecResult {
        super::depth::nested(|| self.run_list_here(list, fds))
    }

    fn run_list_here(&mut self, list: &ast::CompoundList, fds: &Fds) -> ExecResult {
        let mut status = 0;
        // After an `exec REDIRS` in this list, the rest of it uses the new fd table.
        let mut seen_gen = self.exec_gen;
        let mut adopted: Option<Fds> = None;
        for ast::CompoundListItem(ao, sep) in &list.0 {
            let fds = adopted.as_ref().unwrap_or(fds);
            status = match sep {
                ast::SeparatorOperator::Async => self.spawn_background(ao, fds)?,
                ast::SeparatorOperator::Sequence => self.run_and_or(ao, fds)?,
            };
            self.status = status;
            if self.exec_gen != seen_gen {
                seen_gen = self.exec_gen;
                adopted = self.exec_fds.clone();
            }
        }
        Ok(status)
    }

    pub(crate) fn run_and_or(&mut self, ao: &ast::AndOrList, fds: &Fds) -> ExecResult {
        self.check_killed()?;
        let mut status = self.run_pipeline(&ao.first, fds)?;
        self.status = status;
        let mut last_ran = (&ao.first, ao.additional.is_empty());
        for (i, next) in ao.additional.iter().enumerate() {
            let (run, p) = match next {
                ast::AndOr::And(p) => (status == 0, p),
                ast::AndOr::Or(p) => (status != 0, p),
            };
            if run {
                status = self.run_pipeline(p, fds)?;
                self.status = status;
                last_ran = (p, i + 1 == ao.additional.len());
            }
        }
        // `set -e`: only the last pipeline of an and-or list, not negated, outside conditions.
        let (p, is_last) = last_ran;
        if status != 0 && self.cond_depth == 0 && is_last && !p.bang {
            self.run_err_trap(fds)?;
            if self.options.errexit {
                return Err(Flow::Exit(status));
            }
        }
        Ok(status)
    }

    /// Runs a pipeline; every stage of a multi-stage pipeline runs concurrently on
    /// its own thread with a copy of the shell (like bash's subshells). When a
    /// stage cannot start (the container's `pids` limit), the ones started finish
    /// with their output unread and the pipeline fails as a refused fork does.
    pub(crate) fn run_pipeline(&mut self, p: &ast::Pipeline, fds: &Fds) -> ExecResult {
        // `set -e` does not act inside a negated pipeline (nor in what it calls).
        if p.bang {
            self.cond_depth += 1;
            let r = self.run_pipeline_here(p, fds);
            self.cond_depth -= 1;
            return r;
        }
        self.run_pipeline_here(p, fds)
    }

    fn run_pipeline_here(&mut self, p: &ast::Pipeline, fds: &Fds) -> ExecResult {
        let status = if p.seq.is_empty() {
            // `!` or `time` alone: an empty pipeline succeeds (and `!` then negates it).
            self.pipestatus = vec![0];
            0
        } else if p.seq.len() == 1 {
            let s = self.run_command(&p.seq[0], fds)?;
            self.pipestatus = vec![s];
            s
        } else if self.job_control.is_some() {
            // The REPL's pipeline runs as a job, so that Ctrl-Z can stop all of it.
            return self.run_pipeline_as_job(p, fds);
        } else {
            let n = p.seq.len();
            let sys = self.sys.clone();
            let started = std::thread::scope(|scope| {
                let mut threads = Vec::with_capacity(n);
                let mut next_in = None;
                for (i, cmd) in p.seq.iter().enumerate() {
                    let mut f = fds.clone();
                    if let Some(r) = next_in.take() {
                        f.set(0, r);
                    }
                    if i + 1 < n {
                        let (r, w) = pipe();
                        f.set(1, w);
                        next_in = Some(r);
                    }
                    let mut sub = self.subshell();
                    // The stage owns its ends of the pipes: they close when it ends
                    // (or at once, with the closure, when it cannot start).
                    let stage = sys.pid_slot().and_then(|slot| {
                        slot.spawn_scoped(scope, "wsh stage", move || {
                            sub_status(sub.run_command(cmd, &f))
                        })
                    });
                    match stage {
                        Ok(t) => threads.push(t),
                        Err(e) => {
                            drop(next_in);
                            for t in threads {
                                let _ = t.join();
                            }
                            return Err(e);
                        }
                    }
                }
                let statuses: Vec<i32> =
                    threads.into_iter().map(|t| t.join().unwrap_or(1)).collect();
                Ok(statuses)
            });
            let statuses = started.map_err(|e| super::jobs::fork_failed(e, fds))?;
            let last = statuses[n - 1];
            // `set -o pipefail`: the last (rightmost) non-zero status wins.
            let status = if self.options.pipefail {
                statuses
                    .iter()
                    .rev()
                    .find(|s| **s != 0)
                    .copied()
                    .unwrap_or(0)
            } else {
                last
            };
            self.pipestatus = statuses;
            status
        };
        Ok(if p.bang {
            i32::from(status == 0)
        } else {
            status
        })
    }

    pub(crate) fn run_command(&mut self, cmd: &ast::Command, fds: &Fds) -> ExecResult {
        match cmd {
            ast::Command::Simple(s) => self.run_simple(s, fds),
            ast::Command::Compound(c, redirs) => {
                let list: Vec<&ast::IoRedirect> = redirs.iter().flat_map(|r| r.0.iter()).collect();
                let fds = match self.apply_redirects(&list, fds) {
                    Ok(f) => f,
                    Err(e) => return fail(e),
                };
                self.run_compound(c, &fds)
            }
            ast::Command::Function(def) => {
                if self.readonly_funcs.contains(&def.fname.value) {
                    fds.error(&format!("{}: readonly function", def.fname.value));
                    return Ok(1);
                }
                self.functions
                    .insert(def.fname.value.clone(), Arc::new(def.body.clone()));
                let file = self.current_file();
                self.func_sources.insert(def.fname.value.clone(), file);
                Ok(0)
            }
            ast::Command::ExtendedTest(t, redirs) => {
                let list: Vec<&ast::IoRedirect> = redirs.iter().flat_map(|r| r.0.iter()).collect();
                let fds = match self.apply_redirects(&list, fds) {
                    Ok(f) => f,
                    Err(e) => return fail(e),
                };
                self.set_line(t.loc.start.line);
                match self.extended_test(&t.expr, &fds) {
                    Ok(true) => Ok(0),
                    Ok(false) => Ok(1),
                    Err(e) => fail(e),
                }
            }
        }
    }

    pub(crate) fn run_compound(&mut self, c: &ast::CompoundCommand, fds: &Fds) -> ExecResult {
        use ast::CompoundCommand as C;
        match c {
            C::BraceGroup(b) => self.run_list(&b.list, fds),
            C::Subshell(s) => {
                let mut sub = self.subshell();
                sub.status = sub_status(sub.run_list(&s.list, fds));
                Ok(sub.run_exit_trap(fds))
            }
            C::IfClause(i) => {
                if self.condition(&i.condition, fds)? == 0 {
                    return self.run_list(&i.then, fds);
                }
                for e in i.elses.iter().flatten() {
                    match &e.condition {
                        Some(cond) if self.condition(cond, fds)? != 0 => continue,
                        _ => return self.run_list(&e.body, fds),
                    }
                }
                Ok(0)
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                let until = matches!(c, C::UntilClause(_));
                let mut status = 0;
                loop {
                    // break/continue in the condition act on this loop, as in bash.
                    self.loop_depth += 1;
                    let cond = self.condition(&w.0, fds);
                    self.loop_depth -= 1;
                    let cond = match cond {
                        Ok(c) => c,
                        Err(Flow::Break(n)) if n > 1 => return Err(Flow::Break(n - 1)),
                        Err(Flow::Break(_)) => break,
                        Err(Flow::Continue(n)) if n > 1 => return Err(Flow::Continue(n - 1)),
                        // bash: `while continue` re-tests forever, `until continue` ends.
                        Err(Flow::Continue(_)) if until => break,
                        Err(Flow::Continue(_)) => continue,
                        Err(other) => return Err(other),
                    };
                    if (cond == 0) == until {
                        break;
                    }
                    match self.loop_body(&w.1.list, fds)? {
                        (s, false) => status = s,
                        (s, true) => {
                            status = s;
                            break;
                        }
                    }
                }
                Ok(status)
            }
            C::ForClause(f) => {
                let values = match &f.values {
                    None => self.positional.clone(),
                    Some(words) => {
                        let ws: Vec<&str> = words.iter().map(|w| w.value.as_str()).collect();
                        match self.expand_fields(&ws, fds) {
                            Ok(v) => v,
                            Err(e) => return fail(e),
                        }
                    }
                };
                let mut status = 0;
                for v in values {
                    if !self.traps.is_empty() && !self.in_trap {
                        let words: Vec<String> = match &f.values {
                            Some(ws) => ws.iter().map(|w| w.value.clone()).collect(),
                            None => vec!["\"$@\"".to_string()],
                        };
                        self.bash_command =
                            format!("for {} in {}", f.variable_name, words.join(" "));
                        self.debug_trap(fds)?;
                    }
                    // A reference as the loop variable is pointed at each word in turn.
                    if let Some(r) = self.vars.get_mut(&f.variable_name).filter(|r| r.nameref) {
                        if r.readonly {
                            fds.error(&format!("{}: readonly variable", f.variable_name));
                            return Ok(1);
                        }
                        r.value = Some(v);
                    } else if let Err(e) = self.set(&f.variable_name, v) {
                        fds.error(&e);
                        return Ok(1);
                    }
                    let (s, stop) = self.loop_body(&f.body.list, fds)?;
                    status = s;
                    if stop {
                        break;
                    }
                }
                Ok(status)
            }
            C::CaseClause(cc) => self.run_case(cc, fds),
            C::Arithmetic(a) => {
                self.set_line(a.loc.start.line);
                self.arith_command(&a.expr.value, fds).or_else(fail)
            }
            C::ArithmeticForClause(f) => {
                // A missing (or empty) expression counts as true (non-zero).
                let eval = |sh: &mut Shell, e: &Option<ast::UnexpandedArithmeticExpr>| match e {
                    Some(e) if !e.value.trim().is_empty() => sh.arith_command(&e.value, fds),
                    _ => Ok(0),
                };
                if let Err(e) = eval(self, &f.initializer) {
                    return fail(e);
                }
                let mut status = 0;
                loop {
                    match eval(self, &f.condition) {
                        Ok(0) => {}
                        Ok(_) => break,
                        Err(e) => return fail(e),
                    }
                    let (s, stop) = self.loop_body(&f.body.list, fds)?;
                    status = s;
                    if stop {
                        break;
                    }
                    if let Err(e) = eval(self, &f.updater) {
                        return fail(e);
                    }
                }
                Ok(status)
            }
            C::Coprocess(c) => self.run_coproc(c, fds),
        }
    }

    /// `$FUNCNEST` when set to a positive number, else [`super::depth::DEFAULT_FUNCNEST`].
    pub(crate) fn funcnest(&self) -> u32 {
        self.get("FUNCNEST")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(super::depth::DEFAULT_FUNCNEST)
    }

    /// Runs a loop body; returns (status, whether to leave the loop). A loop that has
    /// used up the CPU-time cap (`--timeout`) stops the shell as SIGXCPU would.
    fn loop_body(&mut self, body: &ast::CompoundList, fds: &Fds) -> Result<(i32, bool), Flow> {
        if let Some(cap) = self.sys.cpu_time_limit()
            && super::depth::cpu_exhausted(cap)
        {
            fds.error(&format!("CPU time limit exceeded ({}s)", cap.as_secs_f64()));
            return Err(Flow::Exit(128 + libc::SIGXCPU));
        }
        self.loop_depth += 1;
        let r = self.run_list(body, fds);
        self.loop_depth -= 1;
        match r {
            Ok(s) => Ok((s, false)),
            Err(Flow::Break(n)) if n > 1 => Err(Flow::Break(n - 1)),
            // The loops a Ctrl-Z left end with the stopped job's status.
            Err(Flow::Break(_)) if std::mem::take(&mut self.stopped_break) => {
                Ok((128 + libc::SIGTSTP, true))
            }
            Err(Flow::Break(_)) => Ok((0, true)),
            Err(Flow::Continue(n)) if n > 1 => Err(Flow::Continue(n - 1)),
            Err(Flow::Continue(_)) => Ok((0, false)),
            Err(other) => Err(other),
        }
    }

    /// Runs an if/while condition, where `set -e` is suspended.
    fn condition(&mut self, list: &ast::CompoundList, fds: &Fds) -> ExecResult {
        self.cond_depth += 1;
        let r = self.run_list(list, fds);
        self.cond_depth -= 1;
        r
    }

    fn run_case(&mut self, cc: &ast::CaseClauseCommand, fds: &Fds) -> ExecResult {
        let word = match self.expand_string(&cc.value.value, fds) {
            Ok(w) => w.chars().collect::<Vec<char>>(),
            Err(e) => return fail(e),
        };
        let mut status = 0;
        let mut fall_through = false;
        for item in &cc.cases {
            let mut hit = fall_through;
            if !hit {
                for p in &item.patterns {
                    let pat = match self.expand_pattern(&p.value, fds) {
                        Ok(p) => p,
                        Err(e) => return fail(e),
                    };
                    if self.pattern_matches(&pat, &word) {
                        hit = true;
                        break;
                    }
                }
            }
            if !hit {
                continue;
            }
            status = match &item.cmd {
                Some(list) => self.run_list(list, fds)?,
                None => 0,
            };
            match item.post_action {
                ast::CaseItemPostAction::ExitCase => return Ok(status),
                ast::CaseItemPostAction::UnconditionallyExecuteNextCaseItem => fall_through = true,
                ast::CaseItemPostAction::ContinueEvaluatingCases => fall_through = false,
            }
        }
        Ok(status)
    }

    fn run_simple(&mut self, cmd: &ast::SimpleCommand, fds: &Fds) -> ExecResult {
        if let Some(r) = self.try_alias(cmd, fds) {
            return r;
        }
        if self.job_control.is_some() {
            // What a stopped job is listed as, if this runs a program that gets stopped.
            // brush prints a dup as `2>& 1`; bash lists it as typed, `2>&1`.
            self.job_text = cmd.to_string().replace(">& ", ">&").replace("<& ", "<&");
        }
        let mut assigns: Vec<&ast::Assignment> = Vec::new();
        let mut words: Vec<std::borrow::Cow<str>> = Vec::new();
        // `<(list)` words add their pipes to the command's fd table.
        let mut own_fds: Option<Fds> = None;
        let mut redirs: Vec<&ast::IoRedirect> = Vec::new();
        let prefix = cmd.prefix.iter().flat_map(|p| p.0.iter());
        let suffix = cmd.suffix.iter().flat_map(|s| s.0.iter());
        for item in prefix {
            match item {
                Item::IoRedirect(r) => redirs.push(r),
                Item::AssignmentWord(a, _) => assigns.push(a),
                Item::Word(w) => words.push(w.value.as_str().into()),
                Item::ProcessSubstitution(k, list) => {
                    let f = own_fds.get_or_insert_with(|| fds.clone());
                    match self.process_subst_word(k, list, f) {
                        Ok(w) => words.push(w.into()),
                        Err(e) => return fail(e),
                    }
                }
            }
        }
        if let Some(w) = &cmd.word_or_name {
            words.push(w.value.as_str().into());
            if let Some(loc) = &w.loc {
                self.set_line(loc.start.line);
            }
        } else if let Some(a) = assigns.first() {
            self.set_line(a.loc.start.line);
        }
        if !self.traps.is_empty() && !self.in_trap {
            self.bash_command = cmd.to_string();
            if self.debug_trap(fds)? {
                return Ok(self.status);
            }
        }
        self.pending_arrays.clear();
        let declaring = cmd.word_or_name.as_ref().is_some_and(|w| {
            matches!(
                w.value.as_str(),
                "declare" | "typeset" | "local" | "export" | "readonly"
            ) && !self.disabled.contains(w.value.as_str())
        });
        // The words already expanded whole (a declaration's assignments).
        let mut whole = std::collections::BTreeSet::new();
        for item in suffix {
            match item {
                Item::IoRedirect(r) => redirs.push(r),
                Item::AssignmentWord(a, w) => {
                    // `declare a=(x "y z")`: expand the elements here, with the other words.
                    if let (
                        ast::AssignmentValue::Array(elems),
                        ast::AssignmentName::VariableName(n),
                    ) = (&a.value, &a.name)
                    {
                        match self.array_items(elems, &fds.clone()) {
                            Ok(items) => self.pending_arrays.push((n.clone(), items)),
                            Err(e) => return fail(e),
                        }
                    }
                    // After a declaration builtin's name an assignment's value is one
                    // field, as in an assignment (`export P=$v`, `local x=~/a:~/b`).
                    if let (ast::AssignmentValue::Scalar(v), true) = (&a.value, declaring) {
                        let name = match &a.name {
                            ast::AssignmentName::VariableName(n) => self.expand_string(n, fds),
                            ast::AssignmentName::ArrayElementName(n, i) => {
                                self.expand_string(&format!("{n}[{i}]"), fds)
                            }
                        };
                        let value = name.and_then(|n| {
                            let op = if a.append { "+=" } else { "=" };
                            Ok(format!("{n}{op}{}", self.expand_assigned(&v.value, fds)?))
                        });
                        match value {
                            Ok(v) => {
                                words.push(v.into());
                                whole.insert(words.len() - 1);
                            }
                            Err(e) => return fail(e),
                        }
                        continue;
                    }
                    // After the command name an assignment is just a word (`export A=1`).
                    words.push(w.value.as_str().into())
                }
                Item::Word(w) => words.push(w.value.as_str().into()),
                Item::ProcessSubstitution(k, list) => {
                    let f = own_fds.get_or_insert_with(|| fds.clone());
                    match self.process_subst_word(k, list, f) {
                        Ok(w) => words.push(w.into()),
                        Err(e) => return fail(e),
                    }
                }
            }
        }

        let fds = own_fds.as_ref().unwrap_or(fds);
        let words: Vec<&str> = words.iter().map(|w| w.as_ref()).collect();
        self.last_subst = None;
        let argv = if whole.is_empty() {
            self.expand_fields(&words, fds)
        } else {
            self.expand_fields_except(&words, &whole, fds)
        };
        let argv = match argv {
            Ok(v) => v,
            Err(e) => return fail(e),
        };
        let fds = match self.apply_redirects(&redirs, fds) {
            Ok(f) => f,
            Err(e) => return fail(e),
        };
        if argv.is_empty() {
            // Assignments only: they stay in the shell, and run in order (`a=1 b=$a`).
            for a in &assigns {
                if let Err(e) = self.assign_in_place(a, &fds) {
                    return fail(e);
                }
            }
            self.set_last_arg(String::new());
            return Ok(self.last_subst.unwrap_or(0));
        }
        let mut values = Vec::with_capacity(assigns.len());
        for a in &assigns {
            match self.assignment_value(a, &fds) {
                Ok(v) => values.push(v),
                Err(e) => return fail(e),
            }
        }

        if self.options.xtrace {
            let line: Vec<String> = values
                .iter()
                .map(|(k, v)| format!("{k}={}", super::xtrace::quote(v)))
                .chain(argv.iter().map(|a| super::xtrace::quote(a)))
                .collect();
            let _ = self
                .trace_handle(&fds)
                .write_all(format!("+ {}\n", line.join(" ")).as_bytes());
        }

        let last = argv.last().cloned().unwrap_or_default();
        let r = self.dispatch(argv, values, fds, true);
        self.set_last_arg(last);
        r
    }

    /// `$_`: the last argument of the previous simple command.
    fn set_last_arg(&mut self, last: String) {
        let v = self.vars.entry("_".to_string()).or_default();
        if !v.readonly && v.array.is_none() {
            v.value = Some(last);
        }
    }

    /// Runs an expanded command: builtin, function (unless `functions` is false, as
    /// under `command`) or program.
    pub(crate) fn dispatch(
        &mut self,
        argv: Vec<String>,
        values: Vec<(String, String)>,
        fds: Fds,
        functions: bool,
    ) -> ExecResult {
        let name = argv[0].as_str();
        match name {
            "exec" if argv.len() == 1 => {
                // `exec REDIRS`: the redirections stay for the rest of the shell.
                self.exec_fds = Some(fds);
                self.exec_gen += 1;
                return Ok(0);
            }
            "exec" => {
                let s = sub_status(self.dispatch(argv[1..].to_vec(), values, fds, false));
                return Err(Flow::Exit(s));
            }
            // `command [-pvV] [--] NAME ARGS` (a function named `command` comes first).
            "command" if !(functions && self.functions.contains_key("command")) => {
                let mut i = 1;
                let mut describe: Option<bool> = None;
                while let Some(a) = argv.get(i) {
                    match a.as_str() {
                        "--" => {
                            i += 1;
                            break;
                        }
                        "-v" => describe = Some(false),
                        "-V" => describe = Some(true),
                        "-p" | "-pv" | "-vp" | "-pV" | "-Vp" => {
                            if a.contains('v') {
                                describe = Some(false);
                            } else if a.contains('V') {
                                describe = Some(true);
                            }
                        }
                        _ => break,
                    }
                    i += 1;
                }
                if let Some(verbose) = describe {
                    return Ok(self.command_v(&argv[i..], verbose, &fds));
                }
                if i >= argv.len() {
                    return Ok(0);
                }
                return self.dispatch(argv[i..].to_vec(), values, fds, false);
            }
            // `builtin NAME`: the builtin even when a function hides it.
            "builtin" if !(functions && self.functions.contains_key("builtin")) => {
                let Some(target) = argv.get(1) else {
                    return Ok(0);
                };
                if !self.builtin_enabled(target) {
                    fds.error(&format!("builtin: {target}: not a shell builtin"));
                    return Ok(1);
                }
                return self.dispatch(argv[1..].to_vec(), values, fds, false);
            }
            _ => {}
        }
        // A function or builtin is no program to take a background job's pid (see
        // `Shell::exec_as`); dropping it tells the job's starter not to wait.
        if self.exec_as.is_some()
            && ((functions && self.functions.contains_key(name))
                || is_interp_builtin(name)
                || builtins::lookup(name).is_some())
        {
            self.exec_as = None;
        }
        // Functions come first, as in bash (`cd() { builtin cd "$@"; }` wraps cd).
        if let Some(body) = self.functions.get(name).cloned().filter(|_| functions) {
            return self.with_temp_vars(values, |sh| sh.call_function(&body, &argv, &fds));
        }
        if self.disabled.contains(name) {
            return self.run_external(argv, values, fds);
        }
        if is_interp_builtin(name) {
            return self
                .with_temp_vars(values, |sh| sh.interp_builtin(&argv, &fds).unwrap_or(Ok(0)));
        }
        if let Some(b) = builtins::lookup(name) {
            let run = |sh: &mut Shell| {
                let mut io = builtins::Stdio {
                    stdin: fds.handle(0),
                    stdout: fds.handle(1),
                    stderr: fds.handle(2),
                    name: name.to_string(),
                };
                let status = b.run(sh, &argv, &mut io);
                match sh.exit_request.take() {
                    Some(s) => Err(Flow::Exit(s)),
                    None => Ok(status),
                }
            };
            if b.is_special() {
                for (k, v) in values {
                    if let Err(e) = self.set(&k, v) {
                        fds.error(&e);
                        return Ok(1);
                    }
                }
                return run(self);
            }
            return self.with_temp_vars(values, run);
        }
        self.run_external(argv, values, fds)
    }

    /// Runs `f` with `values` assigned (and exported) only for its duration.
    fn with_temp_vars(
        &mut self,
        values: Vec<(String, String)>,
        f: impl FnOnce(&mut Shell) -> ExecResult,
    ) -> ExecResult {
        let saved: Vec<(String, Option<super::Var>)> = values
            .iter()
            .map(|(k, _)| (k.clone(), self.vars.get(k).cloned()))
            .collect();
        for (k, v) in values {
            let var = self.vars.entry(k).or_default();
            var.value = Some(v);
            var.exported = true;
        }
        let r = f(self);
        for (k, old) in saved {
            match old {
                Some(v) => self.vars.insert(k, v),
                None => self.vars.remove(&k),
            };
        }
        r
    }

    /// Records the line of the command being run (`$LINENO`): `line` of the text
    /// being run, which starts at `line_base`. The commands a trap's text runs
    /// directly keep the line of the command that set it off.
    pub(crate) fn set_line(&mut self, line: usize) {
        if self.lineno_hold != Some(self.call_stack.len()) {
            self.lineno = line + self.line_base;
        }
    }
}
