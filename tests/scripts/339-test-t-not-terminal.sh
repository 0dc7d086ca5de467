[ -t 0 ] && echo "stdin tty" || echo "stdin not a tty"
echo x | { [ -t 0 ] && echo tty || echo "pipe not tty"; }
[ -t 1 ] > out.txt && echo tty || echo "file not tty"
