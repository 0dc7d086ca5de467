//! Bounds on nesting and CPU time, so that deep or endless input ends with a clear
//! error instead of a stack overflow (which aborts the whole process) or a shell
//! that spins past `--timeout`.
//!
//! - Parsing runs on a stack sized for the text: every nesting level of brush-parser
//!   costs up to ~18 KiB of stack (measured: a `$(` level), and the number of opening
//!   sequences in the text bounds the nesting from above. Text with more openers than
//!   [`MAX_OPENERS`] is refused as a syntax error.
//! - The interpreter's recursion (lists within compound commands within functions)
//!   moves to fresh heap-allocated stack segments as it deepens ([`stacker`]), and
//!   function calls nest at most `$FUNCNEST` deep ([`DEFAULT_FUNCNEST`] when unset).
//! - Loops of builtins check the thread's CPU time against the runtime's cap.

use std::cell::Cell;
use std::time::Duration;

use brush_parser::Token;

/// The most opening sequences (`(`, `{`, `` ` ``, `if`, `do`, `case`, `[[`) one parse
/// may see: bash's parser gives up near 10,000 nested levels; this bounds the stack a
/// parse may reserve (~2.4 GiB of address space, committed only as it is used).
pub(crate) const MAX_OPENERS: usize = 100_000;

/// The deepest nesting of compound commands a script may have: bash's parser stops
/// between 3,000 and 10,000, and an AST this deep is still dropped safely on a small stack.
pub(crate) const MAX_NESTING: usize = 5_000;

/// Stack one nesting level of the parser may use (measured ~18 KiB, with a margin).
const PARSE_STACK_PER_LEVEL: usize = 24 << 10;
/// Stack any parse needs besides its nesting.
const PARSE_STACK_BASE: usize = 1 << 20;

/// Function calls nest at most this deep when `$FUNCNEST` is unset: bash itself dies of
/// a stack overflow near 8,000 levels on an 8 MiB stack; this keeps the interpreter's
/// memory for a runaway recursion to a few hundred MiB.
pub(crate) const DEFAULT_FUNCNEST: u32 = 5_000;

/// The interpreter switches to a new stack segment when less than this is left: the
/// frames between two nesting levels (run_list ... run_compound) stay well below it.
const RED_ZONE: usize = 1 << 20;
/// Size of each new stack segment.
const SEGMENT: usize = 16 << 20;

/// An upper bound on the nesting depth of shell text: every level starts with one of
/// these sequences somewhere in it (quoted ones are counted too, so it only errs high).
pub(crate) fn openers(text: &str) -> usize {
    let b = text.as_bytes();
    let mut n = 0;
    let mut word_start = true;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'(' | b'{' | b'`' => n += 1,
            b'[' if b.get(i + 1) == Some(&b'[') && word_start => n += 1,
            b'i' | b'd' | b'c' if word_start => {
                let rest = &b[i..];
                let kw = [&b"if"[..], b"do", b"case"]
                    .iter()
                    .find(|k| rest.starts_with(k))
                    .map(|k| k.len());
                if let Some(len) = kw
                    && rest
                        .get(len)
                        .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'_')
                {
                    n += 1;
                }
            }
            _ => {}
        }
        word_start = !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
    }
    n
}

/// The deepest nesting of compound commands in `tokens`: reserved words and operators
/// that open and close them, each kind counted on its own (a `case` pattern's `)` closes
/// nothing, so a stray closer never drives a count below zero).
fn structural_depth(tokens: &[Token]) -> usize {
    const PAIRS: [(&str, &str); 6] = [
        ("(", ")"),
        ("{", "}"),
        ("if", "fi"),
        ("do", "done"),
        ("case", "esac"),
        ("[[", "]]"),
    ];
    let mut open = [0usize; PAIRS.len()];
    let mut deepest = 0;
    for t in tokens {
        let s = t.to_str();
        for (k, (o, c)) in PAIRS.iter().enumerate() {
            if s == *o || (*o == "(" && s == "((") {
                open[k] += 1;
            } else if s == *c || (*c == ")" && s == "))") {
                open[k] = open[k].saturating_sub(1);
            }
        }
        deepest = deepest.max(open.iter().sum());
    }
    deepest
}

/// Runs `parse` on a stack deep enough for `text`, or says why the text is refused:
/// compound commands nested deeper than [`MAX_NESTING`] (bash's parser gives up there
/// too), or more than [`MAX_OPENERS`] opening sequences.
pub(crate) fn with_parse_stack<R>(text: &str, parse: impl FnOnce() -> R) -> Result<R, String> {
    let levels = openers(text);
    if levels > MAX_OPENERS {
        return Err(format!(
            "syntax error: the text nests too deeply to parse safely ({levels} opening \
             brackets and keywords; at most {MAX_OPENERS})"
        ));
    }
    let need = PARSE_STACK_BASE + levels * PARSE_STACK_PER_LEVEL;
    stacker::maybe_grow(need, need, || {
        // Nesting is at most the opener count, so most text needs no look at its tokens.
        // Tokenizing nests as deep as the text's `$(`, hence on this stack.
        if levels > MAX_NESTING
            && let Ok(tokens) = brush_parser::tokenize_str(text)
        {
            let depth = structural_depth(&tokens);
            if depth > MAX_NESTING {
                return Err(format!(
                    "syntax error: nested {depth} levels deep (at most {MAX_NESTING})"
                ));
            }
        }
        Ok(parse())
    })
}

/// Runs one level of the interpreter's recursion, on a new stack segment when the
/// current one runs low.
pub(crate) fn nested<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}

thread_local! {
    /// The thread's CPU time when its current CPU budget started.
    static CPU_START: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    /// Loop iterations until the next look at the clock.
    static TICKS: Cell<u32> = const { Cell::new(0) };
}

/// How many loop iterations pass between two looks at the CPU clock (a system call).
const TICKS_PER_CHECK: u32 = 256;

/// Starts a fresh CPU budget for this thread (the REPL does, once per line).
pub fn restart_cpu_clock() {
    CPU_START.with(|s| s.set(wsh_runtime::thread_cpu_time()));
}

/// Whether this thread has used more than `cap` of CPU time since its budget started
/// (checked every [`TICKS_PER_CHECK`] calls, so cheap enough for every loop iteration).
pub(crate) fn cpu_exhausted(cap: Duration) -> bool {
    let due = TICKS.with(|t| {
        let n = t.get().wrapping_add(1);
        t.set(n);
        n.is_multiple_of(TICKS_PER_CHECK)
    });
    due && wsh_runtime::thread_cpu_time().saturating_sub(CPU_START.with(Cell::get)) > cap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openers_bound_nesting_from_above() {
        assert_eq!(openers("echo hi"), 0);
        assert_eq!(openers("if true; then { (echo $(date)); }; fi"), 4);
        assert_eq!(openers("for i in 1; do case x in x) ;; esac; done"), 2);
        // Words that merely start like keywords do not count.
        assert_eq!(openers("ifconfig; done_x; cases"), 0);
        assert_eq!(openers("[[ -n x ]] && echo a[[b"), 1);
    }

    #[test]
    fn structural_depth_counts_each_kind_and_ignores_stray_closers() {
        let depth = |t: &str| structural_depth(&brush_parser::tokenize_str(t).unwrap());
        assert_eq!(depth("echo hi"), 0);
        assert_eq!(depth("{ ( if true; then echo; fi ); }"), 3);
        assert_eq!(depth("case x in a) ;; b) ;; esac"), 1);
        assert_eq!(depth("while true; do { echo; }; done"), 2);
        let deep = format!("{}echo{}", "{ ".repeat(50), "; }".repeat(50));
        assert_eq!(depth(&deep), 50);
    }
}
