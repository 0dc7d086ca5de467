f() { echo "$# ${1:-none}"; }
f
f ""
