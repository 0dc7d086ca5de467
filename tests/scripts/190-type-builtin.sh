type -t echo_fn 2>/dev/null || echo "none"
echo_fn() { :; }
type -t echo_fn
type -t cd
type -t if
type -t ls
