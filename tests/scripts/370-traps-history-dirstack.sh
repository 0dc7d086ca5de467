# trap -p names, DEBUG/RETURN traps, $_ , history/fc under set -o history, pushd/popd.
trap 'echo int' INT
trap 'echo usr1' USR1
trap -p
( trap -p INT )
kill -USR1 $$
trap - INT USR1
f() { echo "in f"; }
trap 'echo "debug: $BASH_COMMAND"' DEBUG
f
echo plain
trap - DEBUG
echo last arg here
echo "$_"
x=$(printf 'a\0b'); echo "${#x}"
set -o history
: first
: second
fc -l
fc -ln -1
history 2
set +o history
cd /
pushd /usr >/dev/null
dirs
popd
dirs -v
shopt -s extglob
for f in abc.txt def.md; do [[ $f == @(*.txt|*.sh) ]] && echo "match $f"; done
case x.md in !(*.txt)) echo "not txt";; esac
set -e
g() { false; }
! g
echo "after negated"
echo "sub: $(false; echo ok)"
