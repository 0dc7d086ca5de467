# a function hides a builtin of the same name; `builtin` and `command` reach past it
echo() { builtin echo "wrapped: $*"; }
echo hi
cd() { builtin cd "$@" && builtin echo "now in $PWD"; }
cd /
set() { builtin echo "set fn: $#"; }
set a b
type -t set echo cd printf
unset -f set echo cd
echo plain
true() { return 3; }
true; echo "true fn: $?"
command true; echo "command true: $?"
builtin true; echo "builtin true: $?"
builtin ls 2>/dev/null; echo "builtin of a program: $?"
builtin; echo "builtin alone: $?"
printf() { command printf "[%s]\n" "$@"; }
printf a b
