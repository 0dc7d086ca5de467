# sh and bash run scripts, -c lines and stdin in a fresh shell (exported vars only)
printf 'echo "hi from $0 with $# args: $*"\nexit 3\n' > s.sh
sh s.sh a b; echo "status $?"
bash s.sh; echo "status $?"
sh -c 'echo "in -c: $0 $1"; exit 4' name one; echo "status $?"
X=plain; export Y=exported
sh -c 'echo "X=${X-unset} Y=$Y"'
f() { echo func; }
sh -c 'f 2>/dev/null || echo "no functions"'
echo 'echo from stdin' | sh
sh -e -c 'false; echo not reached'; echo "status $?"
bash -c 'cd /; pwd'; pwd | grep -c /
bash no_such_script.sh 2>/dev/null; echo "missing: $?"
Z=prefix sh -c 'echo "Z=$Z"'; echo "after: ${Z-unset}"
