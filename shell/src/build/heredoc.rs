//! Heredocs the `parse-dockerfile` crate does not find by itself: the delimiters on an
//! instruction's first line, and `RUN cmd <<EOF` (a heredoc after a command), which is
//! rewritten so the crate collects its body.

/// `RUN cmd <<EOF` becomes `RUN <<EOF cmd <<EOF`: parse-dockerfile reads a heredoc
/// only right after RUN, and this way it collects the body (no line is added, so line
/// numbers stay). `parse::convert` removes the marker again. Returns the text and the
/// (offset, length) of every marker. Only a single heredoc whose terminator line
/// exists is hoisted, so `$((1<<2))` or a quoted `<<` stay as they are.
pub(super) fn hoist_heredocs(text: &str) -> (String, Vec<(usize, usize)>) {
    let run = regex::Regex::new(r"(?i)^(\s*RUN\s+(?:--\S+\s+)*)(.*)$").expect("a valid regex");
    let token =
        regex::Regex::new(r#"<<-?(?:"[^"]+"|'[^']+'|[A-Za-z0-9_.-]+)"#).expect("a valid regex");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let bare = |l: &str| l.trim_end_matches(['\n', '\r']).to_string();
    let mut out = String::with_capacity(text.len() + 16);
    let mut marks = Vec::new();
    let mut pending: std::collections::VecDeque<String> = Default::default();
    for (i, line) in lines.iter().enumerate() {
        let b = bare(line);
        if let Some(d) = pending.front() {
            if b.trim_start_matches('\t') == d {
                pending.pop_front();
            }
            out.push_str(line);
            continue;
        }
        let names = heredoc_names(&b);
        if let Some(c) = run.captures(&b)
            && let rest = c.get(2).map_or("", |m| m.as_str())
            && !rest.starts_with("<<")
            && !rest.starts_with('[')
            && names.len() == 1
            && lines[i + 1..]
                .iter()
                .any(|l| bare(l).trim_start_matches('\t') == names[0])
            && let Some(tok) = token.find(rest)
        {
            let prefix = c.get(1).map_or(0, |m| m.len());
            out.push_str(&line[..prefix]);
            marks.push((out.len(), tok.as_str().len() + 1));
            out.push_str(tok.as_str());
            out.push(' ');
            out.push_str(&line[prefix..]);
            pending.extend(names);
            continue;
        }
        // Bodies of the heredocs the parser reads itself are not instructions either.
        let kw = b.split_whitespace().next().unwrap_or("").to_uppercase();
        if matches!(kw.as_str(), "RUN" | "COPY" | "ADD") {
            pending.extend(names.into_iter().filter(|n| {
                lines[i + 1..]
                    .iter()
                    .any(|l| bare(l).trim_start_matches('\t') == *n)
            }));
        }
        out.push_str(line);
    }
    (out, marks)
}

/// BuildKit's line continuations, which parse-dockerfile reads otherwise: an escape
/// followed only by spaces or tabs still continues the line (`RUN a \␠␠`), and an
/// escape on the last instruction line of the file ends it (the instruction runs with
/// what came before). Heredoc bodies are left as written; lines are neither added nor
/// removed, so line numbers stay.
pub(super) fn buildkit_continuations(text: &str) -> String {
    let directive = regex::Regex::new(r"(?i)^#\s*escape\s*=\s*(\S)\s*$").expect("a valid regex");
    let escape = text
        .lines()
        .take_while(|l| l.trim_start().starts_with('#'))
        .find_map(|l| directive.captures(l.trim()))
        .and_then(|c| c[1].chars().next())
        .unwrap_or('\\');
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let bare = |l: &str| l.trim_end_matches(['\n', '\r']).to_string();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut pending: std::collections::VecDeque<String> = Default::default();
    // The last line that is an instruction's (not a heredoc body's, blank or comment).
    let mut last_code = None;
    for (i, line) in lines.iter().enumerate() {
        let b = bare(line);
        if let Some(d) = pending.front() {
            if b.trim_start_matches('\t') == d {
                pending.pop_front();
            }
            out.push(line.to_string());
            continue;
        }
        let kw = b.split_whitespace().next().unwrap_or("").to_uppercase();
        if matches!(kw.as_str(), "RUN" | "COPY" | "ADD") {
            pending.extend(heredoc_names(&b).into_iter().filter(|n| {
                lines[i + 1..]
                    .iter()
                    .any(|l| bare(l).trim_start_matches('\t') == *n)
            }));
        }
        let trimmed = b.trim_end_matches([' ', '\t']);
        let is_code = !b.trim().is_empty() && !b.trim_start().starts_with('#');
        if is_code {
            last_code = Some(out.len());
        }
        if is_code && trimmed.len() < b.len() && trimmed.ends_with(escape) {
            out.push(format!("{trimmed}{}", &line[b.len()..]));
        } else {
            out.push(line.to_string());
        }
    }
    if let Some(i) = last_code
        && pending.is_empty()
    {
        let b = bare(&out[i]);
        if let Some(body) = b.strip_suffix(escape) {
            out[i] = format!("{body}{}", &out[i][b.len()..]);
        }
    }
    out.concat()
}

/// Heredoc delimiters on an instruction's first line, in order.
pub(super) fn heredoc_names(first_line: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"<<-?(?:"([^"]+)"|'([^']+)'|([A-Za-z0-9_.-]+))"#)
        .expect("a valid regex");
    re.captures_iter(first_line)
        .filter_map(|c| {
            c.get(1)
                .or(c.get(2))
                .or(c.get(3))
                .map(|m| m.as_str().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuations_as_buildkit_reads_them() {
        assert_eq!(
            buildkit_continuations("RUN echo a  \\  \n  b\n"),
            "RUN echo a  \\\n  b\n"
        );
        assert_eq!(buildkit_continuations("RUN echo a \\\n"), "RUN echo a \n");
        assert_eq!(
            buildkit_continuations("RUN echo a \\\n# c\n\n"),
            "RUN echo a \n# c\n\n"
        );
        // Heredoc bodies stay as written.
        let doc = "RUN <<EOF\necho a \\  \nEOF\n";
        assert_eq!(buildkit_continuations(doc), doc);
    }

    #[test]
    fn heredoc_delimiters_in_order() {
        assert_eq!(heredoc_names("COPY <<a <<-\"b c\" /x/"), vec!["a", "b c"]);
    }
}
