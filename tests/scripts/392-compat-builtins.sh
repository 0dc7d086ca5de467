# read -a drops a trailing empty field, -N fills one element, -n does not count a
# line continuation; unset of negative indices and of a function named `[`;
# enable -n/enable; printf %g and %.0d; BASH_ARGV/BASH_ARGC; return outside a function.
echo -n "hi|there|you|" | (IFS='|' read -a R; declare -p R)
printf "a b c" | { read -N 5 -a arr; declare -p arr; }
printf 'ab\\\nc' | { read -n 3 v; echo "v=$v"; }
a=(a b c d e); unset 'a[-1]'; unset 'a[-2]'; declare -p a
function [() { :; }; unset [; echo "unset: $?"; type -t [
enable -n echo; type -t echo; enable echo; type -t echo
enable -s | head -3
printf '%g %g %G %g %.3g|%.0d|\n' 0.0000001 123456 1000000 1234567 3.14159 0
dir=$(mktemp -d)
echo 'echo "${#BASH_ARGV[@]} ${BASH_ARGV[0]##*/} ${BASH_ARGC[*]}"' > "$dir/argv.sh"
. "$dir/argv.sh"
. "$dir/argv.sh" p q
shopt -s extdebug; h() { echo "${BASH_ARGC[*]} / ${BASH_ARGV[*]}"; }; h x y z; shopt -u extdebug
rm -r "$dir"
ulimit -c; ulimit -f
kill -l EXIT
getopts "abc" opt -abc; OPTIND=0; getopts "abc" opt -abc; echo "after reset: $opt"
declare -A m; mapfile -t m < <(printf 'a\nb\n'); echo "mapfile into assoc: $?"
k() { echo original; }; readonly -f k; k() { echo redefined; }; k; unset -f k; k
return 3
echo "after return: $?"
