# kill -l: the signal table, names of numbers and exit statuses, numbers of names
kill -l
kill -l 9; kill -l KILL; kill -l SIGTERM; kill -l 130; kill -l 2 15 HUP
kill -l 0; echo "status $?"
kill -l 65 2>/dev/null; echo "bad number: $?"
kill -l FOO 2>/dev/null; echo "bad name: $?"
kill -L 64
