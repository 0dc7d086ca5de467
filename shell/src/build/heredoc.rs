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
    fn heredoc_delimiters_in_order() {
        assert_eq!(heredoc_names("COPY <<a <<-\"b c\" /x/"), vec!["a", "b c"]);
    }
}
