# FUNCNAME, BASH_LINENO, BASH_SOURCE (a script file adds `main`), caller; type -t/-a/-p/-P
outer() { inner; }
inner() {
  echo "${FUNCNAME[*]} | ${BASH_LINENO[*]} | ${#BASH_SOURCE[@]}"
  caller 0 | cut -d' ' -f1-2
  caller 1 | cut -d' ' -f1-2
  caller 2 || echo "no frame 2"
}
outer
echo "top: ${#FUNCNAME[@]}"
caller || echo "caller at top fails"
f() { :; }
type -t f echo if ls nosuchcmd; echo "status $?"
type -p echo; type -P ls | grep -c /ls
type -f f 2>/dev/null || echo "no function with -f"
type -a true | head -1
