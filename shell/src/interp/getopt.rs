//! Builtins' option letters as bash's `internal_getopt` reads them: words that start
//! with `-` up to `--` or the first operand, letters bundled (`-rn1`), and a letter
//! that takes a value taking the rest of its word or else the next word.

/// One option: its letter and, for letters that take one, its value.
pub(crate) type Opt = (char, Option<String>);

/// The options of `args`, one at a time (so a builtin reports the first bad one
/// first, as bash does); then [`Getopt::operands`].
pub(crate) struct Getopt<'a> {
    args: &'a [String],
    /// Letters that take a value.
    with_value: &'static str,
    /// The next word to read.
    i: usize,
    /// The letters of the word being read, and how many were taken.
    letters: Vec<char>,
    j: usize,
    done: bool,
}

impl<'a> Getopt<'a> {
    /// Reads `args`; the letters in `with_value` take a value.
    pub(crate) fn new(args: &'a [String], with_value: &'static str) -> Getopt<'a> {
        Getopt {
            args,
            with_value,
            i: 0,
            letters: Vec::new(),
            j: 0,
            done: false,
        }
    }

    /// The words after the options (meaningful once the options are read).
    pub(crate) fn operands(&self) -> &'a [String] {
        &self.args[self.i..]
    }
}

impl Iterator for Getopt<'_> {
    /// An option, or `Err(letter)` for a letter whose value is missing.
    type Item = Result<Opt, char>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.j >= self.letters.len() {
            let a = self.args.get(self.i)?;
            if a == "--" {
                self.i += 1;
                self.done = true;
                return None;
            }
            let Some(letters) = a.strip_prefix('-').filter(|l| !l.is_empty()) else {
                self.done = true;
                return None;
            };
            self.i += 1;
            self.letters = letters.chars().collect();
            self.j = 0;
        }
        let c = self.letters[self.j];
        self.j += 1;
        if !self.with_value.contains(c) {
            return Some(Ok((c, None)));
        }
        let v = if self.j < self.letters.len() {
            let v: String = self.letters[self.j..].iter().collect();
            self.j = self.letters.len();
            v
        } else if let Some(v) = self.args.get(self.i) {
            self.i += 1;
            v.clone()
        } else {
            self.done = true;
            return Some(Err(c));
        };
        Some(Ok((c, Some(v))))
    }
}

#[cfg(test)]
mod tests {
    use super::Getopt;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn bundles_values_and_the_end_of_options() {
        let args = words("-rn1 -d x -- -a name");
        let mut g = Getopt::new(&args, "dn");
        let opts: Vec<_> = g.by_ref().collect();
        assert_eq!(
            opts,
            vec![
                Ok(('r', None)),
                Ok(('n', Some("1".into()))),
                Ok(('d', Some("x".into())))
            ]
        );
        assert_eq!(g.operands(), &words("-a name")[..]);
        let args = words("-t a -");
        let mut g = Getopt::new(&args, "");
        assert_eq!(g.by_ref().collect::<Vec<_>>(), vec![Ok(('t', None))]);
        assert_eq!(g.operands(), &words("a -")[..]);
        let args = words("-u");
        assert_eq!(Getopt::new(&args, "u").collect::<Vec<_>>(), vec![Err('u')]);
    }
}
