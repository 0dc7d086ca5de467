printf '%q\n' "a b" 'x$y' plain
