echo() { printf 'wrapped:%s\n' "$*"; }
echo hi
command echo plain
unset -f echo
command -v cd
command -v nosuchcmd || echo "not found $?"
