f() { echo f; }
unset -f f
type -t f || echo "f gone"
